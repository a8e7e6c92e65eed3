//! Full duplex: the response may arrive while the request body is still being
//! sent; the exchange is reusable only if both sides complete (Go's
//! `wroteRequest`, #7569) and the upload stops when the server will not read
//! it (RFC 9112 §9.5).

mod support;

use http::Method;
use roundtrip_core::conn::Direction;
use roundtrip_core::proto::BodyLength;
use support::conn::Script;

fn uploading() -> Script {
    let mut s = Script::default();
    s.send(Method::POST, &[], BodyLength::Known(10));
    s.data(b"hello");
    s.flush();
    s.events();
    s
}

#[test]
fn response_during_upload_is_delivered_and_upload_continues() {
    let mut s = uploading();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    assert_eq!(s.events(), ["Response 200 Length(2)"]);
    assert_eq!(s.body(), (b"ok".to_vec(), "End".into()));
    assert_eq!(s.events(), Vec::<String>::new(), "not finished: the request is not complete");
    assert!(!s.conn.is_reusable());
    s.data(b"world");
    s.finish();
    assert_eq!(s.flush_text(), "world");
    assert_eq!(s.events(), ["RequestSent", "Finished"]);
    assert!(s.conn.is_reusable());
}

#[test]
fn finished_waits_until_the_last_byte_is_written() {
    let mut s = uploading();
    s.data(b"world");
    s.finish();
    s.read(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(s.events(), ["Response 204 Empty"]);
    assert_eq!(s.flush_at_most(3), b"wor");
    assert_eq!(s.events(), Vec::<String>::new());
    s.flush();
    assert_eq!(s.events(), ["RequestSent", "Finished"]);
}

#[test]
fn early_response_that_closes_stops_the_upload_rfc9112_9_5() {
    let mut s = uploading();
    s.data(b"wor");
    s.read(b"HTTP/1.1 413 Content Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(
        s.events(),
        ["RequestBodyRejected", "Response 413 Empty", "Finished", "Closed ServerRequestedClose"]
    );
    assert_eq!(s.flush(), b"", "queued body bytes are dropped");
}

#[test]
fn write_error_after_the_response_head_keeps_the_response_go_11745() {
    let mut s = uploading();
    s.read(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\n\r\n");
    s.events();
    s.conn.handle_io_error(s.now, Direction::Write, std::io::ErrorKind::BrokenPipe);
    assert_eq!(s.events(), ["RequestBodyRejected"]);
    s.read(b"bad");
    assert_eq!(s.body(), (b"bad".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished", "Closed IoError"]);
}

#[test]
fn write_error_before_any_response_fails_the_exchange() {
    let mut s = uploading();
    s.conn.handle_io_error(s.now, Direction::Write, std::io::ErrorKind::ConnectionReset);
    assert_eq!(
        s.events(),
        [
            "Failed Io { direction: Write, kind: ConnectionReset } written=true received=false reused=false",
            "Closed IoError"
        ]
    );
}
