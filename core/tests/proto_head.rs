//! Response head parsing: RFC 9112 §4 (status line) and §5 (fields).

mod support;

use bytes::BytesMut;
use http::{Method, StatusCode, Version};
use roundtrip_core::proto::{
    BodyKind, HeadLimits, HeadParser, ProtocolError, ResponseHead, server_keeps_alive,
};
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

/// RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). One with
/// obs-text is kept as received (httparse gives it as empty: not UTF-8).
/// Found by the differential fuzz target.
#[test]
fn reason_with_obs_text_is_kept_as_received_rfc9112_4() {
    for (wire, reason) in [
        (&b"HTTP/1.1 404 Nicht gefunden \xfc\r\n\r\n"[..], &b"Nicht gefunden \xfc"[..]),
        (b"HTTP/1.1 200 \xff\xfe\r\n\r\n", b"\xff\xfe"),
        (b"HTTP/1.1 200 \r\n\r\n", b""),
        (b"HTTP/1.1 200\r\n\r\n", b""),
        (b"\r\n\r\nHTTP/1.1 500 Fehler \xe4\r\n\r\n", b"Fehler \xe4"),
        (b"HTTP/1.3 200 \xe4\r\n\r\n", b"\xe4"),
    ] {
        let mut buf = BytesMut::from(wire);
        let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
        assert_eq!(head.reason(), reason, "{:?}", String::from_utf8_lossy(wire));
    }
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

/// Names are remembered by position per thread: a repeated name reuses the
/// last one, a different or differently spelled one is its own.
#[test]
fn field_names_follow_each_head_not_the_last_one() {
    let names = |input: &[u8]| {
        let map = parse_whole(input).0.header_map().unwrap();
        map.keys().map(|k| k.as_str().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(names(b"HTTP/1.1 200 OK\r\nServer: a\r\nX-One: 1\r\n\r\n"), ["server", "x-one"]);
    assert_eq!(names(b"HTTP/1.1 200 OK\r\nServer: a\r\nX-One: 1\r\n\r\n"), ["server", "x-one"]);
    assert_eq!(names(b"HTTP/1.1 200 OK\r\nX-One: 1\r\nSERVER: a\r\n\r\n"), ["x-one", "server"]);
    assert_eq!(names(b"HTTP/1.1 200 OK\r\nX-Onf: 1\r\n\r\n"), ["x-onf"]);
}

/// A head with the same names as the last one is built from a copy of the
/// last map's names: every value must still be its own head's, in order, and
/// a head of another shape (fewer fields, a repeated name, another name at
/// one position) must get its own names.
#[test]
fn a_head_shaped_like_the_last_one_gets_its_own_values() {
    let fields = |input: &[u8]| {
        let (head, _) = parse_whole(input);
        let map = head.header_map().unwrap();
        assert_eq!(map.len(), head.len(), "one value per field line");
        map.iter().map(|(k, v)| format!("{k}={}", v.to_str().unwrap())).collect::<Vec<_>>()
    };
    let a = b"HTTP/1.1 200 OK\r\nServer: a\r\nDate: 1\r\nContent-Length: 0\r\n\r\n";
    let b = b"HTTP/1.1 200 OK\r\nServer: b\r\nDate: 2\r\nContent-Length: 10\r\n\r\n";
    let want_a = ["server=a", "date=1", "content-length=0"];
    assert_eq!(fields(a), want_a);
    assert_eq!(fields(b), ["server=b", "date=2", "content-length=10"]);
    assert_eq!(fields(a), want_a);
    assert_eq!(fields(b"HTTP/1.1 200 OK\r\nServer: c\r\nDate: 3\r\n\r\n"), ["server=c", "date=3"]);
    assert_eq!(fields(a), want_a);
    assert_eq!(
        fields(b"HTTP/1.1 200 OK\r\nServer: d\r\nDate: 4\r\nX-Other: 5\r\n\r\n"),
        ["server=d", "date=4", "x-other=5"]
    );
    assert_eq!(fields(a), want_a);
    let repeated = b"HTTP/1.1 200 OK\r\nSet-Cookie: 1\r\nServer: e\r\nSet-Cookie: 2\r\n\r\n";
    assert_eq!(fields(repeated), ["set-cookie=1", "set-cookie=2", "server=e"]);
    assert_eq!(fields(repeated), ["set-cookie=1", "set-cookie=2", "server=e"]);
    assert_eq!(fields(a), want_a);
    assert_eq!(fields(b"HTTP/1.1 204 No Content\r\n\r\n"), Vec::<String>::new());
    assert_eq!(fields(a), want_a);
    // The same head again: every value is the template's copy.
    assert_eq!(fields(a), want_a);
    // A value too long to be copied into the template comes whole all the same.
    let long = "x".repeat(200);
    let head = format!("HTTP/1.1 200 OK\r\nServer: {long}\r\nDate: 1\r\n\r\n");
    let want = [format!("server={long}"), "date=1".to_string()];
    assert_eq!(fields(head.as_bytes()), want);
    assert_eq!(fields(head.as_bytes()), want);
    assert_eq!(fields(b"HTTP/1.1 200 OK\r\nServer: y\r\nDate: 1\r\n\r\n"), ["server=y", "date=1"]);
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

fn parse_whole(input: &[u8]) -> (ResponseHead, BytesMut) {
    let mut buf = BytesMut::from(input);
    let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
    (head, buf)
}

#[test]
fn obs_fold_is_replaced_with_sp_before_the_value_is_read_rfc9112_5_2() {
    let cases: [(&[u8], &[u8]); 7] = [
        (b"X-A: a\r\n b", b"a b"),
        (b"X-A: a  \r\n\t  b\r\n c", b"a b c"),
        (b"X-A: a\n b", b"a b"),
        (b"X-A:\r\n b", b"b"),
        (b"X-A: a\r\n \r\n b", b"a b"),
        (b"X-A: a\r\n ", b"a"),
        (b"X-A:\r\n \t", b""),
    ];
    for (line, value) in cases {
        let input = [b"HTTP/1.1 200 OK\r\nX-B: 1\r\n", line, b"\r\nContent-Length: 5\r\n\r\nhello"].concat();
        let what = String::from_utf8_lossy(line);
        check(&Method::GET, &input, Limits::default(), &ok(200, BodyKind::Length(5), b"hello"));
        let (head, buf) = parse_whole(&input);
        assert_eq!(head.get("x-a"), Some(value), "{what}");
        assert_eq!(head.header_map().unwrap()["x-a"].as_bytes(), value, "{what}");
        assert_eq!(head.get("x-b"), Some(&b"1"[..]));
        assert_eq!(head.len(), 3);
        assert_eq!(&buf[..], b"hello");
        // Replaced in place: the head keeps its received length and no fold.
        assert_eq!(head.as_bytes().len(), input.len() - 5, "{what}");
        assert!(!head.as_bytes().windows(2).any(|w| w[0] == b'\n' && matches!(w[1], b' ' | b'\t')));
    }
}

#[test]
fn a_head_is_unfolded_in_place_never_copied() {
    for input in [NGINX, b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello"] {
        let mut buf = BytesMut::from(input);
        let start = buf.as_ptr();
        let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
        assert_eq!(head.as_bytes().as_ptr(), start, "the head is the front of the read buffer");
    }
}

#[test]
fn a_folded_response_head_over_the_limit_counts_its_received_bytes() {
    let head = b"HTTP/1.1 200 OK\r\nX-A: a\r\n                b\r\nContent-Length: 0\r\n\r\n";
    let limits =
        |max| Limits { head: HeadLimits { max_head_bytes: max, max_headers: 100 }, ..Limits::default() };
    check(&Method::GET, head, limits(head.len()), &ok(200, BodyKind::Empty, b""));
    let below = head.len() - 1;
    check(&Method::GET, head, limits(below), &Err(ProtocolError::HeadTooLarge { limit: below }));
}

#[test]
fn folded_framing_fields_are_read_unfolded_and_forbid_reuse_rfc9112_5_2() {
    let not_reused = |body, content: &[u8]| {
        let mut expected = ok(200, body, content);
        if let Ok(decoded) = &mut expected {
            decoded.framing.length_conflict = true;
        }
        expected
    };
    check(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhello",
        Limits::default(),
        &not_reused(BodyKind::Length(5), b"hello"),
    );
    check(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Limits::default(),
        &not_reused(BodyKind::Chunked, b"hello"),
    );
    // A fold in another field leaves the connection reusable.
    check(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello",
        Limits::default(),
        &ok(200, BodyKind::Length(5), b"hello"),
    );
}

#[test]
fn obs_fold_in_trailers_is_replaced_with_sp_rfc9112_5_2() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: a\r\n b\r\nX-U: c\r\n\r\n";
    let mut expected = ok(200, BodyKind::Chunked, b"hello");
    if let Ok(decoded) = &mut expected {
        decoded.trailers = vec![("x-t".into(), b"a b".to_vec()), ("x-u".into(), b"c".to_vec())];
    }
    check(&Method::GET, input, Limits::default(), &expected);
}

#[test]
fn higher_http1_minor_versions_are_processed_as_1_1_rfc9110_6_2() {
    for version in ["HTTP/1.2", "HTTP/1.9"] {
        for status_line in [format!("{version} 200 OK\r\n"), format!("\r\n{version} 200 OK\r\n")] {
            let input = format!("{status_line}Content-Length: 5\r\n\r\nhello");
            check(&Method::GET, input.as_bytes(), Limits::default(), &ok(200, BodyKind::Length(5), b"hello"));
            let mut buf = BytesMut::from(input.as_bytes());
            let start = buf.as_ptr();
            let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
            assert_eq!(head.version(), Version::HTTP_11, "{input:?}");
            assert!(head.as_bytes().starts_with(status_line.as_bytes()), "kept as received");
            assert_eq!(head.as_bytes().as_ptr(), start, "not copied");
            // HTTP/1.1 semantics: persistent by default, chunked allowed.
            assert!(server_keeps_alive(&head));
        }
        let chunked = format!("{version} 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
        check(&Method::GET, chunked.as_bytes(), Limits::default(), &ok(200, BodyKind::Chunked, b"ok"));
        let folded = format!("{version} 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n");
        check(&Method::GET, folded.as_bytes(), Limits::default(), &ok(200, BodyKind::Empty, b""));
    }
}
