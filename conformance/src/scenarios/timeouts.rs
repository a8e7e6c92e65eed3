//! Timeouts over real sockets, each its own typed error; a timed-out
//! connection is never reused (Go #23399). Real short timers (the server
//! sleeps far longer), no timing asserts.

use std::time::Duration;

use super::OK_HELLO;
use crate::scenario::{Area, Fail, Outcome, Req, Scenario, Step};
use crate::scenarios;

const HELLO: Outcome = Outcome::Response(200, b"hello");

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

scenarios! {
    response_head_timeout => Scenario::new(Area::Timeouts, "Go TestTransportResponseHeaderTimeout", vec![Step::Read, Step::Sleep(2000)], Req::get("/"), Outcome::Fails(Fail::Timeout))
        .settings(|s| s.response_head_timeout = ms(100));
    response_head_timeout_not_hit => Scenario::new(Area::Timeouts, "Go TestTransportResponseHeaderTimeout (fast handler)", vec![Step::Read, Step::Send(OK_HELLO)], Req::get("/"), HELLO)
        .settings(|s| s.response_head_timeout = ms(2000));
    slow_informational_does_not_extend_head_timeout => Scenario::new(Area::Timeouts, "Go: ResponseHeaderTimeout covers 1xx", vec![Step::Read, Step::Send(b"HTTP/1.1 103 Early Hints\r\n\r\n"), Step::Sleep(2000)], Req::get("/"), Outcome::Fails(Fail::Timeout))
        .settings(|s| s.response_head_timeout = ms(100));
    slowloris_head_hits_the_head_timeout => Scenario::new(Area::Timeouts, "docs/security.md H3", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\n"), Step::Sleep(300), Step::Send(b"x-a: b\r\n"), Step::Sleep(2000)], Req::get("/"), Outcome::Fails(Fail::Timeout))
        .settings(|s| s.response_head_timeout = ms(100));
    body_read_idle_timeout => Scenario::new(Area::Timeouts, "docs/security.md H7; Go #26941 (no such timeout in Go)", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"), Step::Sleep(2000)], Req::get("/"), Outcome::BodyFails(200, Fail::Timeout))
        .settings(|s| s.body_read_idle_timeout = ms(100));
    body_read_idle_not_hit_by_steady_body => Scenario::new(Area::Timeouts, "docs/security.md H5", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"), Step::Dribble(b"hello")], Req::get("/"), HELLO)
        .settings(|s| s.body_read_idle_timeout = ms(1000));
    timed_out_connection_is_not_reused => Scenario::new(Area::Timeouts, "Go TestClientTimeoutKillsConn_BeforeHeaders (#23399)", vec![], Req::get("/"), Outcome::Fails(Fail::Timeout))
        .scripts(vec![vec![Step::Read, Step::Sleep(500), Step::Send(OK_HELLO)], vec![Step::Read, Step::Send(OK_HELLO)]])
        .then(Req::get("/"), HELLO)
        .settings(|s| s.response_head_timeout = ms(100))
        .connections(2);
    expect_timeout_sends_body => Scenario::new(Area::Timeouts, "RFC 9110 §10.1.1 (client MAY send after a wait)", vec![Step::ReadHead, Step::ReadBody(4), Step::Send(OK_HELLO)], Req::method(http::Method::PUT, "/").header("expect", "100-continue").body(crate::scenario::ReqBody::Bytes(b"data")), HELLO)
        .settings(|s| s.expect_continue_timeout = ms(30));
}
