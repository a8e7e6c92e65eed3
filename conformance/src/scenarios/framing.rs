//! Message framing: RFC 9112 §6 and §7, as the client sees it over a socket.

use http::Method;

use super::OK_HELLO;
use crate::scenario::{Area, Fail, Outcome, Req, ReqBody, Scenario, Step};
use crate::scenarios;

fn reply(source: &'static str, response: &'static [u8], outcome: Outcome) -> Scenario {
    Scenario::reply(Area::Framing, source, response, outcome)
}

fn ok(body: &'static [u8]) -> Outcome {
    Outcome::Response(200, body)
}

scenarios! {
    content_length_body => reply("RFC 9112 §6.3 item 6", OK_HELLO, ok(b"hello"));
    content_length_zero => reply("RFC 9112 §6.3 item 6", b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", ok(b""));
    content_length_leading_zeros => reply("docs/security.md C6", b"HTTP/1.1 200 OK\r\ncontent-length: 005\r\n\r\nhello", ok(b"hello"));
    content_length_repeated_identical => reply("RFC 9110 §8.6; docs/security.md C2", b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\nhello", ok(b"hello"));
    content_length_list_identical => reply("RFC 9110 §8.6; docs/security.md C2", b"HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhello", ok(b"hello"));
    chunked_body => reply("RFC 9112 §7.1", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", ok(b"hello world"));
    chunked_uppercase_coding => reply("RFC 9112 §7 (codings are case-insensitive)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", ok(b"hello"));
    chunked_with_extensions => reply("RFC 9112 §7.1.1; docs/security.md D12", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;name=\"v;x\"\r\nhello\r\n0\r\n\r\n", ok(b"hello"));
    chunked_size_whitespace => reply("docs/security.md D13 (hyper accepts BWS)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5  \r\nhello\r\n0\r\n\r\n", ok(b"hello"));
    chunked_with_trailers => reply("RFC 9112 §7.1.2", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n", ok(b"hello"));
    chunked_hex_upper => reply("RFC 9112 §7.1 (HEXDIG)", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", ok(b"0123456789"));
    chunked_in_tiny_pieces => Scenario::new(Area::Framing, "hyper decode.rs split cases", vec![Step::Read, Step::Dribble(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")], Req::get("/"), ok(b"abc"));
    head_dribbled_byte_by_byte => Scenario::new(Area::Framing, "docs/security.md H4 (linear parsing)", vec![Step::Read, Step::Dribble(OK_HELLO)], Req::get("/"), ok(b"hello"));
    // RFC 9112 §6.3 item 3: TE overrides CL, and such a message "ought to be
    // handled as an error": reading it as chunked (Go, hyper, us) or failing
    // are both conforming.
    te_overrides_cl => reply("RFC 9112 §6.3 item 3; docs/security.md C8", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 100\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Outcome::either(ok(b"hello"), Outcome::Fails(Fail::Protocol)));
    cl_before_te => reply("docs/security.md C9 (hyper#4123)", b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", ok(b"hello"));
    close_delimited_body => Scenario::new(Area::Framing, "RFC 9112 §6.3 item 8; docs/security.md C15", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\n\r\nuntil close"), Step::Close], Req::get("/"), ok(b"until close"));
    http10_close_delimited => Scenario::new(Area::Framing, "RFC 9112 §6.3 item 8", vec![Step::Read, Step::Send(b"HTTP/1.0 200 OK\r\n\r\nold style"), Step::Close], Req::get("/"), ok(b"old style"));
    head_response_ignores_length => Scenario::new(Area::Framing, "RFC 9112 §6.3 item 1; docs/security.md C18", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")], Req::method(Method::HEAD, "/"), ok(b""));
    head_response_ignores_chunked => Scenario::new(Area::Framing, "Go TestTransportHeadChunkedResponse", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")], Req::method(Method::HEAD, "/"), ok(b""));
    no_content_has_no_body => reply("RFC 9112 §6.3 item 1; Go TestChunkedNoContent", b"HTTP/1.1 204 No Content\r\n\r\n", Outcome::Response(204, b""));
    not_modified_chunked_has_no_body => reply("docs/security.md C21; Go TestNoBodyOnChunked304Response", b"HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n", Outcome::Response(304, b""));
    request_body_with_length => Scenario::new(Area::Framing, "RFC 9110 §8.6", vec![Step::Expect(|r| r.header("content-length") == Some("5") && r.body == b"hello"), Step::Send(OK_HELLO)], Req::post("/", b"hello"), ok(b"hello"));
    request_body_chunked => Scenario::new(Area::Framing, "RFC 9112 §7.1; Go TestH12_RequestContentLength_Unknown", vec![Step::Expect(|r| r.chunked && r.body == b"abcdef"), Step::Send(OK_HELLO)], Req::method(Method::PUT, "/").body(ReqBody::Chunks(vec![b"abc", b"def"])), ok(b"hello"));
    empty_post_sends_zero_length => Scenario::new(Area::Framing, "RFC 9110 §8.6 (SHOULD send content-length); Go outgoingLength", vec![Step::Expect(|r| r.header("content-length") == Some("0")), Step::Send(OK_HELLO)], Req::method(Method::POST, "/"), ok(b"hello"));
    get_sends_no_framing => Scenario::new(Area::Framing, "Go TestH12_RequestContentLength_Known_Zero", vec![Step::Expect(|r| r.header("content-length").is_none() && r.header("transfer-encoding").is_none()), Step::Send(OK_HELLO)], Req::get("/"), ok(b"hello"));
    host_header_from_uri => Scenario::new(Area::Framing, "RFC 9110 §7.2", vec![Step::Expect(|r| r.header("host").is_some_and(|h| h.starts_with("127.0.0.1:"))), Step::Send(OK_HELLO)], Req::get("/"), ok(b"hello"));
    query_in_target => Scenario::new(Area::Framing, "RFC 9112 §3.2.1 (origin-form)", vec![Step::Expect(|r| r.target == "/p?q=1&r"), Step::Send(OK_HELLO)], Req::get("/p?q=1&r"), ok(b"hello"));
    // RFC 9112 §3.2 with RFC 3986 §2.1: `http::Uri` takes raw UTF-8 and some
    // ASCII no URI path or query allows; they go out percent-encoded.
    utf8_target_is_percent_encoded => Scenario::new(Area::Framing, "RFC 9112 §3.2; RFC 3986 §2.1", vec![Step::Expect(|r| r.target == "/caf%C3%A9?q=%C3%A9"), Step::Send(OK_HELLO)], Req::get("/caf\u{e9}?q=\u{e9}"), ok(b"hello"))
        .never_received("caf\u{e9}".as_bytes());
    unsafe_ascii_in_target_is_percent_encoded => Scenario::new(Area::Framing, "RFC 3986 §3.3, §3.4; docs/security.md J5", vec![Step::Expect(|r| r.target == "/a%22b%7Bc%7D%7Cd%5Ce%5Ef%5Bg%5D?x=%60%5E%7C"), Step::Send(OK_HELLO)], Req::get("/a\"b{c}|d\\e^f[g]?x=`^|"), ok(b"hello"));
    large_body_in_one_piece => Scenario::new(Area::Framing, "docs/security.md H6 (streaming memory bounded)", vec![Step::Read, Step::SendOwned(large_response())], Req::get("/"), ok(LARGE));
    truncated_length_body => Scenario::new(Area::Framing, "docs/security.md C16", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"), Step::Close], Req::get("/"), Outcome::BodyFails(200, Fail::Protocol));
    truncated_chunked_body => Scenario::new(Area::Framing, "docs/security.md D16", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel"), Step::Close], Req::get("/"), Outcome::BodyFails(200, Fail::Protocol));
}

const LARGE: &[u8] = &[b'z'; 300_000];

fn large_response() -> Vec<u8> {
    let mut response = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", LARGE.len()).into_bytes();
    response.extend_from_slice(LARGE);
    response
}
