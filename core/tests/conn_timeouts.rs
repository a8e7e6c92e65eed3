//! Timers: each deadline checked one nanosecond before and at the deadline
//! (neqo's idle tests). A fired timer fails the exchange and closes; the
//! connection is never reused after a timeout (Go #23399).

mod support;

use std::time::Duration;

use http::Method;
use roundtrip_core::proto::BodyLength;
use support::conn::{Script, ms};

const NS: Duration = Duration::from_nanos(1);

#[test]
fn response_head_timeout_starts_when_the_request_is_written() {
    let mut s = Script::with(|c| c.response_head_timeout = Some(ms(500)));
    s.send(Method::POST, &[], BodyLength::Known(5));
    s.at(ms(100)).flush();
    assert_eq!(s.conn.poll_timeout(), None, "the body is not written yet");
    s.data(b"hello");
    s.finish();
    s.at(ms(200)).flush();
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(700)));
    s.events();
    s.at(ms(700) - NS).timeout();
    assert_eq!(s.events(), Vec::<String>::new());
    s.at(ms(700)).timeout();
    assert_eq!(
        s.events(),
        ["Failed Timeout(ResponseHead) written=true received=false reused=false", "Closed Timeout"]
    );
}

#[test]
fn response_head_timeout_covers_informational_responses() {
    let mut s = Script::with(|c| c.response_head_timeout = Some(ms(500)));
    s.awaiting_head();
    s.at(ms(400)).read(b"HTTP/1.1 103 Early Hints\r\n\r\n");
    s.events();
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(500)), "a 1xx does not restart it");
    s.at(ms(450)).read(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.conn.poll_timeout(), None, "stopped by the final head");
}

#[test]
fn body_read_idle_timer_runs_only_while_the_reader_waits() {
    let mut s = Script::with(|c| c.body_read_idle_timeout = Some(ms(100)));
    s.receiving_body(10);
    assert_eq!(s.conn.poll_timeout(), None, "nobody is reading yet");
    let (body, state) = s.at(ms(50)).body();
    assert_eq!((body.as_slice(), state.as_str()), (&b""[..], "Pending"));
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(150)));
    s.at(ms(80)).read(b"hello");
    assert_eq!(s.conn.poll_timeout(), None, "bytes arrived");
    assert_eq!(s.events(), ["BodyReadable"]);
    let (body, state) = s.body();
    assert_eq!((body.as_slice(), state.as_str()), (&b"hello"[..], "Pending"));
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(180)), "waiting again");
    s.at(ms(180) - NS).timeout();
    assert_eq!(s.events(), Vec::<String>::new());
    s.at(ms(180)).timeout();
    assert_eq!(
        s.events(),
        ["Failed Timeout(BodyReadIdle) written=true received=true reused=false", "Closed Timeout"]
    );
    let (_, outcome) = s.body();
    assert_eq!(outcome, "Err Timeout(BodyReadIdle)");
}

#[test]
fn body_read_idle_timer_does_not_run_for_a_busy_reader() {
    let mut s = Script::with(|c| {
        c.body_read_idle_timeout = Some(ms(100));
        c.max_buffered_body = 4;
    });
    s.receiving_body(10);
    s.body();
    s.at(ms(10)).read(b"hello");
    assert!(!s.conn.wants_read(), "5 bytes held > 4");
    assert_eq!(s.conn.poll_timeout(), None, "a slow reader is not a slow server");
    s.at(ms(500));
    let (body, _) = s.body();
    assert_eq!(body, b"hello");
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(600)), "started when the reader waited again");
}

#[test]
fn body_read_idle_timer_restarts_on_chunk_framing_without_data() {
    let mut s = Script::with(|c| c.body_read_idle_timeout = Some(ms(100)));
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    s.events();
    s.body();
    s.at(ms(90)).read(b"5\r\n");
    let (body, state) = s.body();
    assert_eq!((body.as_slice(), state.as_str()), (&b""[..], "Pending"));
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(190)), "a size line is a sign of life");
}

#[test]
fn timeouts_too_long_for_an_instant_never_fire_instead_of_panicking() {
    let mut s = Script::with(|c| {
        c.response_head_timeout = Some(Duration::MAX);
        c.body_read_idle_timeout = Some(Duration::MAX);
        c.expect_continue_timeout = Duration::MAX;
    });
    s.receiving_body(10);
    s.body();
    assert_eq!(s.conn.poll_timeout(), None);
    let mut s = Script::with(|c| c.expect_continue_timeout = Duration::MAX);
    s.awaiting_continue(b"abc");
    assert_eq!(s.conn.poll_timeout(), None);
}

#[test]
fn handle_timeout_is_idempotent_and_deadlines_never_lie_in_the_past() {
    let mut s = Script::with(|c| c.response_head_timeout = Some(ms(500)));
    s.awaiting_head();
    s.at(ms(499)).timeout().timeout();
    assert_eq!(s.events(), Vec::<String>::new());
    assert!(s.conn.poll_timeout().is_none_or(|d| d > s.now));
    s.at(ms(900)).timeout().timeout();
    assert_eq!(s.events().len(), 2, "Failed and Closed, once");
    assert_eq!(s.conn.poll_timeout(), None);
}

#[test]
fn no_timer_runs_while_idle() {
    let mut s = Script::with(|c| {
        c.response_head_timeout = Some(ms(5));
        c.body_read_idle_timeout = Some(ms(5));
    });
    s.complete_one();
    assert_eq!(s.conn.poll_timeout(), None);
}
