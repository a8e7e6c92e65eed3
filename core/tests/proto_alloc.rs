//! Cost rule of the wire format: handling rare input (obs-fold, a higher HTTP/1.x
//! minor version, bytes to percent-encode) costs the common case nothing: no
//! allocation and no copy that a plain head does not have. Counted with a global
//! allocator that only counts on the thread that turned it on; this file holds
//! one test so nothing else runs in the process meanwhile.

mod alloc_support;

use alloc_support::allocations;

use bytes::BytesMut;
use http::{HeaderValue, Method, Uri};
use roundtrip_core::proto::{BodyLength, HeadLimits, HeadParser, RequestHead, encode_request_head};

/// Allocations of parsing `input` from a read buffer that holds it, and whether
/// the head is the front of that buffer (not a copy).
fn parse(input: &[u8]) -> (usize, bool) {
    let mut buf = BytesMut::with_capacity(1024);
    buf.extend_from_slice(input);
    let start = buf.as_ptr();
    let mut in_place = false;
    let n = allocations(|| {
        let head = HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap();
        in_place = head.as_bytes().as_ptr() == start;
    });
    (n, in_place)
}

#[test]
fn rare_input_rules_cost_the_common_case_nothing() {
    // Request heads are encoded into the caller's buffer: no allocation, with
    // or without a target to percent-encode (RFC 9112 §3.2).
    let mut dst = BytesMut::with_capacity(4096);
    for uri in ["http://example.com/a/b?q=1", "http://example.com/caf\u{e9}?q=\u{e9}"] {
        let mut head = RequestHead::new(Method::POST, uri.parse::<Uri>().unwrap());
        head.headers.insert("user-agent", HeaderValue::from_static("roundtrip"));
        head.headers.insert("accept", HeaderValue::from_static("*/*"));
        dst.clear();
        let n = allocations(|| {
            encode_request_head(&head, BodyLength::Known(5), &mut dst).unwrap();
        });
        assert_eq!(n, 0, "{uri}");
    }

    // Response heads are parsed in place: a head of a higher minor version
    // (RFC 9110 §6.2) or with obs-fold (RFC 9112 §5.2) costs what a plain one
    // does, and none is copied.
    let plain = parse(b"HTTP/1.1 200 OK\r\nX-A: a b\r\nContent-Length: 0\r\n\r\n");
    assert!(plain.1);
    for input in [
        &b"HTTP/1.2 200 OK\r\nX-A: a b\r\nContent-Length: 0\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.9 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
    ] {
        assert_eq!(parse(input), plain, "{:?}", String::from_utf8_lossy(input));
    }
}
