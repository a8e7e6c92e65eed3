//! Cancellation by dropping the response body (hyper "cancel safety"; Go
//! closes, #3672; docs/go-transport.md CANCEL-2). Whether the connection was
//! kept shows in the server's connection count.

use super::OK_HELLO;
use crate::scenario::{Area, Outcome, Req, Scenario, Step};
use crate::scenarios;

const HELLO: Outcome = Outcome::Response(200, b"hello");

fn drop_then_get(source: &'static str, first: Vec<Step>, connections: usize) -> Scenario {
    Scenario::new(Area::Cancel, source, vec![], Req::get("/"), Outcome::Dropped(200))
        .scripts(vec![first, vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(connections)
}

scenarios! {
    drop_unread_body_closes => drop_then_get("Go TestTransportCloseResponseBody", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nabc"), Step::ExpectEof], 2);
    drop_fully_buffered_body_reuses => drop_then_get("Go #22954: Go closes even when the rest is buffered; we read it out", vec![Step::Read, Step::Send(OK_HELLO), Step::Read, Step::Send(OK_HELLO)], 1);
    drop_with_drain_reuses => drop_then_get("drain_on_cancel (docs/go-transport.md CANCEL-2); one connection per host, so the next request waits for the drain", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"), Step::Sleep(10), Step::Send(b"defghij"), Step::Read, Step::Send(OK_HELLO)], 1)
        .settings(|s| {
            s.drain_on_cancel = Some(1024);
            s.max_conns_per_host = Some(1);
        });
    drop_with_drain_over_limit_closes => drop_then_get("drain_on_cancel limit (docs/security.md G2)", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nabc"), Step::ExpectEof], 2)
        .settings(|s| s.drain_on_cancel = Some(1024));
    drop_chunked_body_closes => drop_then_get("docs/security.md G2 (unknown rest is never drained)", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n"), Step::ExpectEof], 2)
        .settings(|s| s.drain_on_cancel = Some(1024));
    drop_close_delimited_closes => drop_then_get("RFC 9112 §6.3 item 8", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\n\r\nstream"), Step::ExpectEof], 2);
    drop_empty_body_reuses => drop_then_get("Go #13633", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), Step::Read, Step::Send(OK_HELLO)], 1);
    drop_no_content_reuses => Scenario::new(Area::Cancel, "RFC 9112 §6.3 item 1", vec![], Req::get("/"), Outcome::Dropped(204))
        .scripts(vec![vec![Step::Read, Step::Send(b"HTTP/1.1 204 No Content\r\n\r\n"), Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .connections(1);
}
