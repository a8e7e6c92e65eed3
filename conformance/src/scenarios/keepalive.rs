//! Connection reuse: RFC 9112 §9.3 and §9.6, Go's reuse rules
//! (docs/go-transport.md REUSE-1) and idle-connection death (IDLE-1).
//! Connection counts are asserted on the server side.

use http::Method;

use super::{OK_EMPTY, OK_HELLO};
use crate::scenario::{Area, Outcome, Req, Scenario, Step};
use crate::scenarios;

const HELLO: Outcome = Outcome::Response(200, b"hello");

/// Two GETs; the server answers the first with `first` on one connection and
/// any later request on any connection with `hello`.
fn twice(
    source: &'static str,
    first: &'static [u8],
    first_body: &'static [u8],
    connections: usize,
) -> Scenario {
    Scenario::new(
        Area::Keepalive,
        source,
        vec![Step::Read, Step::Send(first), Step::Read, Step::Send(OK_HELLO)],
        Req::get("/"),
        Outcome::Response(200, first_body),
    )
    .scripts(vec![
        vec![
            Step::Read,
            Step::Send(first),
            Step::Read,
            Step::Send(OK_HELLO),
            Step::Read,
            Step::Send(OK_HELLO),
        ],
        vec![Step::Read, Step::Send(OK_HELLO), Step::Read, Step::Send(OK_HELLO)],
    ])
    .then(Req::get("/"), HELLO)
    .connections(connections)
}

scenarios! {
    sequential_requests_share_a_connection => twice("Go TestTransportKeepAlives", OK_HELLO, b"hello", 1)
        .then(Req::get("/"), HELLO);
    chunked_response_then_reuse => twice("Go TestTransportReadToEndReusesConn", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", b"ok", 1);
    empty_body_then_reuse => twice("Go TestTransportReuseConnEmptyResponseBody", OK_EMPTY, b"", 1);
    no_content_then_reuse => Scenario::new(Area::Keepalive, "Go TestChunkedNoContent", vec![], Req::get("/"), Outcome::Response(204, b""))
        .scripts(vec![vec![Step::Read, Step::Send(b"HTTP/1.1 204 No Content\r\n\r\n"), Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(1);
    head_then_reuse => Scenario::new(Area::Keepalive, "Go TestTransportHeadResponses", vec![], Req::method(Method::HEAD, "/"), Outcome::Response(200, b""))
        .scripts(vec![vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"), Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(1);
    server_connection_close => twice("RFC 9112 §9.6; Go TestTransportConnectionCloseOnResponse", b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok", b"ok", 2);
    server_connection_close_token_list => twice("RFC 9110 §7.6.1 (case-insensitive list)", b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\ncontent-length: 2\r\n\r\nok", b"ok", 2);
    request_connection_close => Scenario::new(Area::Keepalive, "Go TestTransportConnectionCloseOnRequest", vec![], Req::get("/").header("connection", "close"), HELLO)
        .scripts(vec![vec![Step::Expect(|r| r.header("connection") == Some("close")), Step::Send(OK_HELLO), Step::ExpectEof], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(2);
    http10_without_keep_alive => twice("RFC 9112 §9.3", b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", b"ok", 2);
    http19_keeps_alive_as_1_1 => twice("RFC 9110 §6.2 (a higher 1.x minor is processed as 1.1)", b"HTTP/1.9 200 OK\r\ncontent-length: 2\r\n\r\nok", b"ok", 1);
    http10_with_keep_alive => twice("RFC 9112 §9.3 (HTTP/1.0 keep-alive)", b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok", b"ok", 1);
    close_delimited_is_not_reused => Scenario::new(Area::Keepalive, "RFC 9112 §6.3 item 8", vec![], Req::get("/"), Outcome::Response(200, b"body"))
        .scripts(vec![vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\n\r\nbody"), Step::Close], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(2);
    te_with_cl_is_not_reused => twice("RFC 9112 §6.3 item 3 (ought to be handled as an error)", b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", b"ok", 2);
    disable_keep_alives_sends_close => Scenario::new(Area::Keepalive, "Go TestTransportConnectionCloseOnRequestDisableKeepAlive", vec![], Req::get("/"), HELLO)
        .scripts(vec![vec![Step::Expect(|r| r.header("connection") == Some("close")), Step::Send(OK_HELLO), Step::ExpectEof]])
        .then(Req::get("/"), HELLO)
        .settings(|s| s.disable_keep_alives = true)
        .connections(2);
    [engine_only] server_closes_idle_connection => Scenario::new(Area::Keepalive, "Go TestTransportServerClosingUnexpectedly", vec![], Req::get("/"), HELLO)
        .scripts(vec![vec![Step::Read, Step::Send(OK_HELLO), Step::Close], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO);
    [engine_only] unsolicited_408_on_idle_connection => Scenario::new(Area::Keepalive, "Go TestTransportIgnores408; docs/security.md G1", vec![], Req::get("/"), HELLO)
        .scripts(vec![vec![Step::Read, Step::Send(OK_HELLO), Step::Sleep(10), Step::Send(b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n"), Step::Close], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/").after(100), HELLO);
    extra_bytes_after_response_close_it => Scenario::new(Area::Keepalive, "docs/security.md C17 (hyper client_pipeline_responses_extra)", vec![], Req::get("/"), HELLO)
        .scripts(vec![vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(2);
    head_response_with_body_bytes_closes => Scenario::new(Area::Keepalive, "docs/security.md C19", vec![], Req::method(Method::HEAD, "/"), Outcome::Response(200, b""))
        .scripts(vec![vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(2);
}
