//! Response head parsing: RFC 9112 §4 (status line) and §5 (fields).

mod support;

use bytes::BytesMut;
use http::{Method, StatusCode, Version};
use roundtrip_core::proto::{BodyKind, HeadLimits, HeadParser, ProtocolError};
use support::wire::{Limits, check, ok};

const NGINX: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 00:50:25 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-Empty:\r\n\r\nhello";

#[test]
fn parses_status_version_reason_and_fields_rfc9112_4() {
    let mut buf = BytesMut::from(NGINX);
    let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.version(), Version::HTTP_11);
    assert_eq!(head.reason(), b"OK");
    assert_eq!(head.len(), 6);
    assert_eq!(head.get("content-type"), Some(&b"text/plain"[..]));
    assert_eq!(head.get("X-EMPTY"), Some(&b""[..]));
    assert_eq!(&buf[..], b"hello", "the body stays in the buffer");
}

#[test]
fn header_values_share_the_read_buffer() {
    let mut buf = BytesMut::from(NGINX);
    let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
    let raw = head.as_bytes().as_ptr_range();
    let map = head.header_map().unwrap();
    let server = map.get("server").unwrap().as_bytes();
    assert!(raw.contains(&server.as_ptr()), "value is a slice of the head, not a copy");
    assert_eq!(server, b"nginx/1.22.1");
    let response = head.into_response(()).unwrap();
    assert_eq!(response.headers().len(), 6);
    assert_eq!(response.status(), 200);
}

#[test]
fn status_line_without_reason_is_accepted_rfc9112_4() {
    check(
        &Method::GET,
        b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        Limits::default(),
        &ok(200, BodyKind::Empty, b""),
    );
    check(
        &Method::GET,
        b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
        Limits::default(),
        &ok(404, BodyKind::Empty, b""),
    );
}

#[test]
fn bare_lf_line_endings_in_the_head_are_tolerated_rfc9112_2_2() {
    check(
        &Method::GET,
        b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
        Limits::default(),
        &ok(200, BodyKind::Length(5), b"hello"),
    );
}

#[test]
fn http10_response_is_accepted() {
    check(
        &Method::GET,
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        Limits::default(),
        &ok(200, BodyKind::Length(2), b"hi"),
    );
}

#[test]
fn obs_text_in_values_is_kept_as_bytes_rfc9110_5_5() {
    let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nX-A: \xff\xfe\r\n\r\n"[..]);
    let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
    assert_eq!(head.header_map().unwrap()["x-a"].as_bytes(), b"\xff\xfe");
}

#[test]
fn partial_head_waits_for_more() {
    let mut parser = HeadParser::new(HeadLimits::default());
    let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nServer: x\r\n"[..]);
    assert!(parser.parse(&mut buf).unwrap().is_none());
    buf.extend_from_slice(b"\r\n");
    assert!(parser.parse(&mut buf).unwrap().is_some());
    assert!(buf.is_empty());
}

#[test]
fn head_of_exactly_the_limit_is_accepted_and_one_more_byte_is_not() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let at_limit =
        Limits { head: HeadLimits { max_head_bytes: head.len(), max_headers: 100 }, ..Limits::default() };
    check(&Method::GET, head, at_limit, &ok(200, BodyKind::Empty, b""));
    let below =
        Limits { head: HeadLimits { max_head_bytes: head.len() - 1, max_headers: 100 }, ..Limits::default() };
    check(&Method::GET, head, below, &Err(ProtocolError::HeadTooLarge { limit: head.len() - 1 }));
}

#[test]
fn many_headers_beyond_the_stack_slots_work_when_configured() {
    let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..150 {
        input.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    input.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let mut buf = BytesMut::from(&input[..]);
    let limits = HeadLimits { max_head_bytes: 64 * 1024, max_headers: 200 };
    let head = HeadParser::new(limits).parse(&mut buf).unwrap().unwrap();
    assert_eq!(head.len(), 151);
}

/// Every name httparse accepts must be accepted by `http::HeaderName`, so that
/// `ResponseHead::header_map` cannot fail on a parsed head.
#[test]
fn httparse_and_http_agree_on_field_name_bytes() {
    for b in 0u8..=255 {
        let input = [b"HTTP/1.1 200 OK\r\nx".as_slice(), &[b], b": v\r\n\r\n"].concat();
        let mut buf = BytesMut::from(&input[..]);
        if let Ok(Some(head)) = HeadParser::new(HeadLimits::default()).parse(&mut buf) {
            assert!(head.header_map().is_ok(), "byte {b:#x} accepted by httparse, rejected by http");
        }
    }
}

#[test]
fn leading_blank_lines_before_the_status_line_are_skipped() {
    check(
        &Method::GET,
        b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        Limits::default(),
        &ok(200, BodyKind::Empty, b""),
    );
}
