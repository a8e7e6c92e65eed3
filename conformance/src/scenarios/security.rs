//! docs/security.md vectors a client can see over a socket: framing
//! (CL/TE), chunked, trailers, interim responses, reuse and desync, exhaustion,
//! and user-supplied request parts (rejected before any byte is sent).

use http::Method;

use super::OK_HELLO;
use crate::scenario::{Area, Fail, Outcome, Req, ReqBody, Scenario, Step};
use crate::scenarios;

fn reply(source: &'static str, response: &'static [u8], outcome: Outcome) -> Scenario {
    Scenario::reply(Area::Security, source, response, outcome)
}

fn bad(source: &'static str, response: &'static [u8]) -> Scenario {
    reply(source, response, Outcome::Fails(Fail::Protocol))
}

fn bad_body(source: &'static str, response: &'static [u8]) -> Scenario {
    reply(source, response, Outcome::BodyFails(200, Fail::Protocol))
}

/// A request the client must refuse to send: nothing reaches the server.
fn refused(source: &'static str, request: Req) -> Scenario {
    Scenario::new(
        Area::Security,
        source,
        vec![Step::Read, Step::Send(OK_HELLO)],
        request,
        Outcome::Fails(Fail::Request),
    )
    .never_received(b"HTTP/1.1")
}

fn huge_head() -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    while head.len() < 80 * 1024 {
        head.extend_from_slice(b"x-a: ");
        head.extend(std::iter::repeat_n(b'a', 4000));
        head.extend_from_slice(b"\r\n");
    }
    head
}

fn many_fields() -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for _ in 0..101 {
        head.extend_from_slice(b"x-n: v\r\n");
    }
    head.extend_from_slice(b"content-length: 0\r\n\r\n");
    head
}

fn extension_flood() -> Vec<u8> {
    let mut body = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..200 {
        body.extend_from_slice(b"1;");
        body.extend(std::iter::repeat_n(b'e', 200));
        body.extend_from_slice(b"\r\nX\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

fn trailer_flood_bytes() -> Vec<u8> {
    let mut body = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n".to_vec();
    while body.len() < 24 * 1024 {
        body.extend_from_slice(b"x-t: v\r\n");
    }
    body.extend_from_slice(b"\r\n");
    body
}

scenarios! {
    conflicting_content_lengths => bad("RFC 9110 §8.6; docs/security.md C1", b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!");
    conflicting_length_list => bad("docs/security.md C1", b"HTTP/1.1 200 OK\r\ncontent-length: 5, 6\r\n\r\nhello!");
    signed_content_length => bad("RUSTSEC-2021-0078; docs/security.md C3", b"HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello");
    hex_content_length => bad("docs/security.md C4", b"HTTP/1.1 200 OK\r\ncontent-length: 0x5\r\n\r\nhello");
    overflowing_content_length => bad("docs/security.md C5", b"HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551616\r\n\r\n");
    empty_content_length => bad("Go #61679; docs/security.md B14", b"HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\n");
    invalid_length_on_204 => bad("Go #65505", b"HTTP/1.1 204 No Content\r\ncontent-length: x\r\n\r\n");
    // RFC 9112 §6.3 item 3 allows reading a non-chunked-final coding until
    // close (hyper does); Go rejects it, and so do we. Either passes.
    gzip_chunked_coding => reply("RFC 9112 §6.1, §6.3 item 3; docs/security.md C12", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n", Outcome::either(Outcome::Fails(Fail::Protocol), Outcome::Response(200, b"")));
    identity_coding => bad("docs/security.md C12", b"HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\n\r\nhello");
    chunked_twice => bad("docs/security.md C11", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, chunked\r\n\r\n");
    chunked_in_two_fields => bad("docs/security.md C11", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n");
    chunkedchunked => bad("docs/security.md C10 (Go CVE-2022-1705)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunkedchunked\r\n\r\n");
    vertical_tab_in_coding => bad("docs/security.md C10", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\x0b\r\n\r\n");
    te_in_http10 => bad("RFC 9112 §6.1; docs/security.md C14", b"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    empty_list_element_before_chunked => reply("RFC 9110 §5.6.1; docs/security.md C13", b"HTTP/1.1 200 OK\r\ntransfer-encoding: ,chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Outcome::Response(200, b"hello"));
    chunk_size_17_digits => bad_body("docs/security.md D1", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10000000000000000\r\n");
    chunk_size_overflow => bad_body("RUSTSEC-2021-0079; docs/security.md D2", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nf0000000000000003\r\nabc\r\n0\r\n\r\n");
    chunk_size_0x => bad_body("docs/security.md D4 (HTTP Garden)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n");
    chunk_size_minus_zero => bad_body("docs/security.md D4 (bandit PR#631)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-0\r\n\r\n");
    chunk_size_missing => bad_body("Go #64517; docs/security.md D5", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\r\n\r\n");
    last_chunk_missing => bad_body("docs/security.md D6 (hyper 1.4.1)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nZ\r\n\r\n");
    chunk_data_without_crlf => bad_body("h11 CVE-2025-43859; docs/security.md D7", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n");
    chunk_size_bare_lf => bad_body("Go CVE-2025-22871; docs/security.md D8", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n");
    chunk_extension_bare_lf => bad_body("docs/security.md D9", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext\nhello\r\n0\r\n\r\n");
    chunk_extension_nul => bad_body("docs/security.md D11", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;\x00e\r\nhello\r\n0\r\n\r\n");
    chunk_extension_flood => Scenario::new(Area::Security, "Go CVE-2023-39326; docs/security.md D15", vec![Step::Read, Step::SendOwned(extension_flood())], Req::get("/"), Outcome::BodyFails(200, Fail::Protocol));
    trailer_flood => Scenario::new(Area::Security, "docs/security.md E1", vec![Step::Read, Step::SendOwned(trailer_flood_bytes())], Req::get("/"), Outcome::BodyFails(200, Fail::Protocol));
    trailer_obs_fold => reply("RFC 9112 §5.2 (replaced with SP); docs/security.md E4", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx: a\r\n b\r\n\r\n", Outcome::Response(200, b"hello"));
    folded_content_length => bad("RFC 9112 §5.2 (unfolded, 5 5 is invalid); docs/security.md B3", b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n 5\r\n\r\nhello");
    // Read unfolded as chunked; a parser that does not unfold may frame it
    // otherwise, so the connection is not reused.
    folded_transfer_encoding_not_reused => Scenario::reply(Area::Security, "RFC 9112 §5.2, §6.3 item 3; docs/security.md B3", b"HTTP/1.1 200 OK\r\ntransfer-encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Outcome::Response(200, b"hello"))
        .then(Req::get("/"), Outcome::Response(200, b"hello"))
        .connections(2);
    trailers_do_not_change_framing => reply("docs/security.md E3 (hyper pathological trailers)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ncontent-length: 99\r\nconnection: close\r\n\r\n", Outcome::Response(200, b"hello"));
    head_over_64_kib => Scenario::new(Area::Security, "curl CVE-2023-38039; docs/security.md H1", vec![Step::Read, Step::SendOwned(huge_head())], Req::get("/"), Outcome::Fails(Fail::Protocol));
    more_than_100_fields => Scenario::new(Area::Security, "docs/security.md B12", vec![Step::Read, Step::SendOwned(many_fields())], Req::get("/"), Outcome::Fails(Fail::Protocol));
    configured_head_limit => Scenario::reply(Area::Security, "docs/security.md L1, L2 (limits are configurable)", OK_HELLO, Outcome::Fails(Fail::Protocol))
        .settings(|s| s.max_response_head = Some((16, 100)));
    huge_length_then_eof => Scenario::new(Area::Security, "docs/security.md C7 (no reserve by CL)", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 9223372036854775807\r\n\r\nabc"), Step::Close], Req::get("/"), Outcome::BodyFails(200, Fail::Protocol));
    huge_chunk_then_eof => Scenario::new(Area::Security, "RUSTSEC-2026-0181; docs/security.md D3", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\nabc"), Step::Close], Req::get("/"), Outcome::BodyFails(200, Fail::Protocol));
    response_before_request_is_read => Scenario::new(Area::Security, "docs/security.md G9 (pre-emptive server data)", vec![Step::Send(OK_HELLO), Step::Read], Req::get("/"), Outcome::Response(200, b"hello"));
    host_with_slash_refused => refused("CVE-2023-29406; RFC 9110 §7.2", Req::get("/").header("host", "evil.com/path"));
    host_with_at_refused => refused("RFC 9110 §4.2.4 (no userinfo)", Req::get("/").header("host", "user@evil.com"));
    host_with_space_refused => refused("CVE-2023-29406", Req::get("/").header("host", "a b"));
    two_hosts_refused => refused("RFC 9112 §3.2 (exactly one Host)", Req::get("/").header("host", "a").header("host", "b"));
    content_length_contradicting_body_refused => refused("docs/security.md G4/G5 (ERR user)", Req::post("/", b"hello").header("content-length", "9"));
    unsupported_request_coding_refused => refused("docs/security.md J16 (only chunked)", Req::method(Method::POST, "/").header("transfer-encoding", "gzip").body(ReqBody::Chunks(vec![b"a"])));
}
