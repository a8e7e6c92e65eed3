//! Cancellation (hyper's "cancel safety"; Go closes, docs/go-transport.md
//! CANCEL-1, CANCEL-2): an HTTP/1.1 message cannot be aborted, so a cancelled exchange whose
//! bytes reached the wire closes the connection, unless the rest of a body of
//! known length is small enough to drain.

mod support;

use http::Method;
use roundtrip_core::proto::BodyLength;
use support::conn::Script;

#[test]
fn cancel_before_any_byte_is_written_keeps_the_connection() {
    let mut s = Script::default();
    s.complete_one();
    let id = s.send(Method::GET, &[], BodyLength::Empty);
    s.conn.cancel(id);
    assert_eq!(s.flush(), b"", "the queued head is dropped");
    assert_eq!(s.events(), Vec::<String>::new(), "no event for a cancelled exchange");
    assert!(s.conn.is_reusable());
    s.complete_one();
}

#[test]
fn cancel_after_the_head_was_written_closes() {
    let mut s = Script::default();
    s.awaiting_head();
    s.conn.cancel(s.id());
    assert_eq!(s.events(), ["Closed Canceled"]);
}

#[test]
fn cancel_after_a_partial_head_write_closes() {
    let mut s = Script::default();
    s.send(Method::GET, &[], BodyLength::Empty);
    s.flush_at_most(1);
    s.conn.cancel(s.id());
    assert_eq!(s.events(), ["Closed Canceled"]);
}

#[test]
fn cancel_mid_body_closes_by_default_go_3672() {
    let mut s = Script::default();
    s.receiving_body(10);
    s.read(b"hello");
    s.conn.cancel(s.id());
    assert_eq!(s.events(), ["Closed Canceled"]);
}

#[test]
fn cancel_mid_body_drains_a_small_known_rest_and_reuses() {
    let mut s = Script::with(|c| c.drain_on_cancel = Some(16));
    s.receiving_body(10);
    s.read(b"hel");
    s.conn.cancel(s.id());
    assert_eq!(s.events(), Vec::<String>::new());
    assert!(!s.conn.is_reusable(), "draining");
    assert!(s.conn.wants_read());
    s.read(b"lowor");
    assert!(!s.conn.is_reusable());
    s.read(b"ld");
    assert!(s.conn.is_reusable(), "drained");
    assert_eq!(s.conn.exchanges_completed(), 1);
    s.complete_one();
}

#[test]
fn cancel_mid_body_with_a_rest_over_the_limit_closes() {
    let mut s = Script::with(|c| c.drain_on_cancel = Some(4));
    s.receiving_body(10);
    s.read(b"hello");
    s.conn.cancel(s.id());
    assert_eq!(s.events(), ["Closed Canceled"], "5 bytes left > 4");
}

#[test]
fn cancel_with_an_unknown_rest_closes_even_with_drain() {
    let mut s = Script::with(|c| c.drain_on_cancel = Some(1 << 20));
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
    s.conn.cancel(s.id());
    assert_eq!(s.events(), ["Response 200 Chunked", "Closed Canceled"]);
}

#[test]
fn cancel_before_the_response_head_closes_even_with_drain() {
    let mut s = Script::with(|c| c.drain_on_cancel = Some(1 << 20));
    s.awaiting_head();
    s.conn.cancel(s.id());
    assert_eq!(s.events(), ["Closed Canceled"]);
}

#[test]
fn draining_into_extra_bytes_closes() {
    let mut s = Script::with(|c| c.drain_on_cancel = Some(16));
    s.receiving_body(4);
    s.conn.cancel(s.id());
    s.read(b"abcdX");
    assert_eq!(s.events(), ["Closed UnsolicitedData"]);
}

#[test]
fn cancel_of_another_id_is_a_no_op() {
    let mut s = Script::default();
    s.complete_one();
    let old = s.id();
    s.awaiting_head();
    s.conn.cancel(old);
    assert_eq!(s.events(), Vec::<String>::new());
    assert!(!s.conn.is_closed());
}

#[test]
fn cancel_with_the_rest_already_buffered_reads_it_out_go_22954() {
    let mut s = Script::default();
    s.receiving_body(5);
    s.read(b"hello");
    s.conn.cancel(s.id());
    assert_eq!(s.events(), Vec::<String>::new(), "no drain_on_cancel needed for bytes already here");
    assert!(s.conn.is_reusable());
    assert_eq!(s.conn.exchanges_completed(), 1);
}
