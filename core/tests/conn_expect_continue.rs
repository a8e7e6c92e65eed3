//! `Expect: 100-continue` (RFC 9110 §10.1.1), with Go 1.23's rule for a final
//! status that comes first (docs/go-transport.md EXPECT-3, cf501e05, #67555).

mod support;

use std::time::Duration;

use http::Method;
use roundtrip_core::proto::BodyLength;
use support::conn::{Script, ms};

const HEAD: &str = "PUT / HTTP/1.1\r\nhost: example.com\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n";

#[test]
fn body_is_held_until_100_continue() {
    let mut s = Script::default();
    s.send(Method::PUT, &[("expect", "100-continue")], BodyLength::Known(5));
    assert_eq!(s.events(), Vec::<String>::new(), "no BodyAllowed yet");
    s.data(b"hello");
    s.finish();
    assert_eq!(s.flush_text(), HEAD, "only the head goes out");
    assert_eq!(s.events(), ["HeadSent"]);
    s.read(b"HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(s.events(), ["BodyAllowed Continue"]);
    assert_eq!(s.flush_text(), "hello");
    s.read(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.events(), ["RequestSent", "Response 201 Empty", "Finished"]);
    assert!(s.conn.is_reusable());
}

#[test]
fn expect_timeout_sends_the_body_at_the_deadline_and_not_before() {
    let mut s = Script::default();
    s.awaiting_continue(b"hello");
    s.data(b"hello");
    s.finish();
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + Duration::from_secs(1)));
    s.at(Duration::from_secs(1) - Duration::from_nanos(1)).timeout();
    assert_eq!(s.events(), Vec::<String>::new());
    assert_eq!(s.flush(), b"");
    s.at(Duration::from_secs(1)).timeout();
    assert_eq!(s.events(), ["BodyAllowed ExpectTimeout"]);
    assert_eq!(s.flush_text(), "hello");
}

#[test]
fn expect_timer_starts_when_the_head_is_written() {
    let mut s = Script::default();
    s.send(Method::PUT, &[("expect", "100-continue")], BodyLength::Known(5));
    assert_eq!(s.conn.poll_timeout(), None);
    s.at(ms(300)).flush();
    assert_eq!(s.conn.poll_timeout(), Some(s.t0 + ms(1300)));
}

#[test]
fn final_status_without_close_still_gets_the_body_go_1_23() {
    for status in ["200 OK", "500 Internal Server Error", "417 Expectation Failed"] {
        let mut s = Script::default();
        s.awaiting_continue(b"hello");
        s.read(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").as_bytes());
        assert_eq!(s.events()[0], "BodyAllowed FinalResponse", "{status}");
        s.data(b"hello");
        s.finish();
        assert_eq!(s.flush_text(), "hello", "the server expects the body or a close; it gets the body");
        assert_eq!(s.events(), ["RequestSent", "Finished"]);
        assert!(s.conn.is_reusable(), "{status}");
    }
}

#[test]
fn final_status_with_close_rejects_the_body_security_f8() {
    let mut s = Script::default();
    s.awaiting_continue(b"hello");
    s.data(b"hello");
    s.read(b"HTTP/1.1 417 Expectation Failed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(
        s.events(),
        ["RequestBodyRejected", "Response 417 Empty", "Finished", "Closed ServerRequestedClose"]
    );
    assert_eq!(s.flush(), b"", "the held body never reaches the wire");
}

#[test]
fn final_status_when_the_request_asked_to_close_rejects_the_body() {
    let mut s = Script::default();
    s.send(Method::PUT, &[("expect", "100-continue"), ("connection", "close")], BodyLength::Known(5));
    s.flush();
    s.events();
    s.read(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(
        s.events(),
        ["RequestBodyRejected", "Response 401 Empty", "Finished", "Closed ClientRequestedClose"]
    );
}

#[test]
fn zero_expect_timeout_sends_the_body_at_once() {
    let mut s = Script::with(|c| c.expect_continue_timeout = Duration::ZERO);
    s.send(Method::PUT, &[("expect", "100-continue")], BodyLength::Known(5));
    assert_eq!(s.events(), ["BodyAllowed NoExpectation"]);
}

#[test]
fn expect_without_a_body_waits_for_nothing() {
    let mut s = Script::default();
    s.send(Method::GET, &[("expect", "100-continue")], BodyLength::Empty);
    s.flush();
    assert_eq!(s.conn.poll_timeout(), None);
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.events(), ["HeadSent", "RequestSent", "Response 200 Empty", "Finished"]);
}

#[test]
fn body_sent_after_100_then_early_final_response_is_fine() {
    let mut s = Script::default();
    s.awaiting_continue(b"hello");
    s.read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.events(), ["BodyAllowed Continue", "Response 200 Empty"]);
    s.data(b"hello");
    s.finish();
    assert_eq!(s.flush_text(), "hello");
    assert_eq!(s.events(), ["RequestSent", "Finished"]);
}

#[test]
fn empty_body_drops_the_expectation_and_holds_nothing_rfc9110_10_1_1() {
    for body in [BodyLength::Empty, BodyLength::Known(0)] {
        let mut s = Script::default();
        s.send(Method::POST, &[("expect", "100-continue")], body);
        assert_eq!(s.events(), Vec::<String>::new(), "no body to allow");
        assert_eq!(s.flush_text(), "POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(s.conn.poll_timeout(), None, "no expect timer");
        s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(s.events(), ["HeadSent", "RequestSent", "Response 200 Empty", "Finished"]);
        assert!(s.conn.is_reusable());
    }
}
