//! Failures: every `ExchangeError` carries whether request bytes were written,
//! response bytes received and the connection reused, so retries need no
//! guessing; and the pure retry classifier (Go's `TestTransportShouldRetryRequest`).

mod support;

use http::{HeaderMap, HeaderValue, Method};
use roundtrip_core::conn::retry::{RetryDecision, classify};
use roundtrip_core::conn::{Direction, ExchangeError, ExchangeErrorKind};
use roundtrip_core::proto::{BodyLength, ProtocolError, UsageError};
use support::conn::Script;

#[test]
fn eof_before_any_response_byte_is_connection_closed() {
    let mut s = Script::default();
    s.complete_one();
    s.awaiting_head();
    s.eof();
    assert_eq!(
        s.events(),
        ["Failed ConnectionClosed written=true received=false reused=true", "Closed PeerClosed"]
    );
}

#[test]
fn eof_inside_the_head_is_an_incomplete_head() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-le").eof();
    assert_eq!(
        s.events(),
        ["Failed Protocol(IncompleteHead) written=true received=true reused=false", "Closed ProtocolError"]
    );
}

#[test]
fn eof_inside_the_body_is_an_incomplete_body_security_c16() {
    let mut s = Script::default();
    s.receiving_body(10);
    s.read(b"abc").eof();
    assert_eq!(s.body(), (b"abc".to_vec(), "Err Protocol(IncompleteBody)".into()), "buffered bytes first");
    assert_eq!(
        s.events(),
        ["Failed Protocol(IncompleteBody) written=true received=true reused=false", "Closed ProtocolError"]
    );
}

#[test]
fn malformed_body_fails_from_read_body() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n");
    s.events();
    assert_eq!(s.body(), (Vec::new(), "Err Protocol(ChunkSizeInvalid)".into()));
    assert!(s.conn.is_closed());
}

#[test]
fn read_error_fails_the_exchange() {
    let mut s = Script::default();
    s.awaiting_head();
    s.conn.handle_io_error(s.now, Direction::Read, std::io::ErrorKind::ConnectionReset);
    assert_eq!(
        s.events(),
        [
            "Failed Io { direction: Read, kind: ConnectionReset } written=true received=false reused=false",
            "Closed IoError"
        ]
    );
}

#[test]
fn body_longer_than_declared_fails_and_closes_security_g5() {
    let mut s = Script::default();
    s.send(Method::POST, &[], BodyLength::Known(3));
    s.events();
    let id = s.id();
    assert_eq!(
        s.conn.send_data(id, bytes::Bytes::from_static(b"four")),
        Err(UsageError::BodyLongerThanDeclared { declared: 3 })
    );
    assert_eq!(
        s.events(),
        [
            "Failed Usage(BodyLongerThanDeclared { declared: 3 }) written=false received=false reused=false",
            "Closed RequestBodyInvalid"
        ]
    );
}

#[test]
fn body_shorter_than_declared_fails_and_closes_security_g4() {
    let mut s = Script::default();
    s.send(Method::POST, &[], BodyLength::Known(10));
    s.data(b"hello");
    s.flush();
    s.events();
    assert!(s.conn.finish(s.id(), None).is_err());
    assert_eq!(s.events().last().map(String::as_str), Some("Closed RequestBodyInvalid"));
}

#[test]
fn write_error_after_the_response_began_keeps_reading_it() {
    let mut s = Script::default();
    s.send(Method::POST, &[], BodyLength::Known(5));
    s.flush();
    s.read(b"HTTP/1.1 2");
    s.conn.handle_io_error(s.now, Direction::Write, std::io::ErrorKind::BrokenPipe);
    s.eof();
    assert_eq!(
        s.events()[2..],
        [
            "RequestBodyRejected",
            "Failed Protocol(IncompleteHead) written=true received=true reused=false",
            "Closed ProtocolError"
        ]
    );
}

fn error(kind: ExchangeErrorKind, written: bool, received: bool, reused: bool) -> ExchangeError {
    ExchangeError {
        kind,
        request_bytes_written: written,
        response_bytes_received: received,
        connection_reused: reused,
    }
}

#[test]
fn retry_classifier_table_go_should_retry_request() {
    use RetryDecision::*;
    let eof = ExchangeErrorKind::ConnectionClosed;
    let reset =
        ExchangeErrorKind::Io { direction: Direction::Read, kind: std::io::ErrorKind::ConnectionReset };
    let none = HeaderMap::new();
    let mut keyed = HeaderMap::new();
    keyed.insert("idempotency-key", HeaderValue::from_static("k1"));
    let rows = [
        (
            "fresh connection never",
            Method::GET,
            &none,
            true,
            error(eof.clone(), false, false, false),
            FreshConnection,
        ),
        (
            "GET, EOF, written, reused",
            Method::GET,
            &none,
            true,
            error(eof.clone(), true, false, true),
            RetryReplayable,
        ),
        (
            "GET after response bytes",
            Method::GET,
            &none,
            true,
            error(eof.clone(), true, true, true),
            ResponseStarted,
        ),
        (
            "POST nothing written",
            Method::POST,
            &none,
            true,
            error(eof.clone(), false, false, true),
            RetryNothingWritten,
        ),
        ("POST written", Method::POST, &none, true, error(reset.clone(), true, false, true), NotReplayable),
        (
            "POST with Idempotency-Key",
            Method::POST,
            &keyed,
            true,
            error(eof.clone(), true, false, true),
            RetryReplayable,
        ),
        (
            "PUT written: not by method, as in Go",
            Method::PUT,
            &none,
            true,
            error(eof.clone(), true, false, true),
            NotReplayable,
        ),
        (
            "body cannot be replayed",
            Method::GET,
            &none,
            false,
            error(eof.clone(), false, false, true),
            NotReplayable,
        ),
        (
            "timeout is not the connection going away",
            Method::GET,
            &none,
            true,
            error(
                ExchangeErrorKind::Timeout(roundtrip_core::conn::TimeoutKind::ResponseHead),
                true,
                false,
                true,
            ),
            NotRetryableError,
        ),
        (
            "unsolicited bytes before writing",
            Method::POST,
            &none,
            true,
            error(ExchangeErrorKind::Protocol(ProtocolError::UnsolicitedData), false, false, true),
            RetryNothingWritten,
        ),
        (
            "a protocol error is final",
            Method::GET,
            &none,
            true,
            error(ExchangeErrorKind::Protocol(ProtocolError::Version), true, true, true),
            ResponseStarted,
        ),
    ];
    for (what, method, headers, replayable, err, expected) in rows {
        assert_eq!(classify(&method, headers, replayable, &err), expected, "{what}");
    }
}
