//! Response body framing, RFC 9112 §6.3, as a table of rows (after hyper's
//! `test_decoder_response` and h11's `_body_framing`).

mod support;

use http::Method;
use roundtrip_core::proto::{BodyKind, Framing, ProtocolError};
use support::wire::{Decoded1, Limits, check};

struct Row {
    what: &'static str,
    method: Method,
    input: &'static [u8],
    body: BodyKind,
    content: &'static [u8],
    length_conflict: bool,
}

const fn row(
    what: &'static str,
    method: Method,
    input: &'static [u8],
    body: BodyKind,
    content: &'static [u8],
) -> Row {
    Row { what, method, input, body, content, length_conflict: false }
}

fn rows() -> Vec<Row> {
    use BodyKind::*;
    vec![
        // Step 1: HEAD, 1xx, 204, 304 have no body, whatever the fields say.
        row("HEAD with content-length [C18]", Method::HEAD, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", Empty, b""),
        row("HEAD with chunked", Method::HEAD, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Empty, b""),
        row("204 with content-length [C20]", Method::GET, b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", Empty, b""),
        row("304 with chunked [C21]", Method::GET, b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", Empty, b""),
        row("1xx with content-length is ignored [F4]", Method::GET, b"HTTP/1.1 103 Early Hints\r\nContent-Length: x\r\n\r\n", Empty, b""),
        // Step 2: a 2xx to CONNECT is a tunnel.
        row("CONNECT 200 ignores framing [F12]", Method::CONNECT, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", Empty, b""),
        // Step 3: chunked.
        row("chunked body", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Chunked, b"hello"),
        row("chunked, any case", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\na\r\n0\r\n\r\n", Chunked, b"a"),
        row("empty list element before chunked [C13]", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", Chunked, b""),
        row("chunked with extensions and BWS [D12, D13]", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x;y\"\r\nhello\r\n5   \r\nworld\r\n1 ;x\r\n!\r\n0\r\n\r\n", Chunked, b"helloworld!"),
        row("chunked, uppercase hex", Method::GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", Chunked, b"0123456789"),
        // Steps 4-5: content-length.
        row("content-length", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", Length(5), b"hello"),
        row("content-length 0", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Empty, b""),
        row("leading zeros [C6]", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 010\r\n\r\n0123456789", Length(10), b"0123456789"),
        row("identical repeated values [C2]", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", Length(5), b"hello"),
        row("identical list values [C2]", Method::GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", Length(5), b"hello"),
        row("POST response with length", Method::POST, b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", Length(2), b"ok"),
        row("HTTP/1.0 with length", Method::GET, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", Length(2), b"ok"),
        // Step 7: read until close.
        row("no length, no chunked [C15]", Method::GET, b"HTTP/1.1 200 OK\r\n\r\nbody until close", CloseDelimited, b"body until close"),
        row("HTTP/1.0 without length", Method::GET, b"HTTP/1.0 200 OK\r\n\r\nold", CloseDelimited, b"old"),
        row("empty close-delimited body", Method::GET, b"HTTP/1.1 200 OK\r\n\r\n", CloseDelimited, b""),
    ]
}

#[test]
fn framing_table_rfc9112_6_3() {
    for r in rows() {
        let expected = Ok(Decoded1 {
            status: std::str::from_utf8(&r.input[9..12]).unwrap().parse().unwrap(),
            framing: Framing { body: r.body, length_conflict: r.length_conflict },
            body: r.content.to_vec(),
            trailers: Vec::new(),
            leftover: Vec::new(),
            ended_by_framing: r.body != BodyKind::CloseDelimited,
        });
        let result = std::panic::catch_unwind(|| check(&r.method, r.input, Limits::default(), &expected));
        assert!(result.is_ok(), "row failed: {}", r.what);
    }
}

#[test]
fn transfer_encoding_overrides_content_length_and_forbids_reuse_rfc9112_6_3_item_3() {
    for input in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n5\r\nhello\r\n0\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ] {
        let expected = Ok(Decoded1 {
            status: 200,
            framing: Framing { body: BodyKind::Chunked, length_conflict: true },
            body: b"hello".to_vec(),
            trailers: Vec::new(),
            leftover: Vec::new(),
            ended_by_framing: true,
        });
        check(&Method::GET, input, Limits::default(), &expected);
    }
}

#[test]
fn trailers_are_delivered_apart_from_the_body_rfc9112_7_1_2() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\nContent-Length: 5\r\n\r\n";
    let expected = Ok(Decoded1 {
        status: 200,
        framing: Framing { body: BodyKind::Chunked, length_conflict: false },
        body: b"hello".to_vec(),
        trailers: vec![("x-checksum".into(), b"abc".to_vec()), ("content-length".into(), b"5".to_vec())],
        leftover: Vec::new(),
        ended_by_framing: true,
    });
    check(&Method::GET, input, Limits::default(), &expected);
}

#[test]
fn bytes_after_a_complete_message_stay_in_the_buffer() {
    let input =
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let result = support::wire::decode_pieces(&Method::GET, &[input], Limits::default(), usize::MAX).unwrap();
    assert_eq!(result.body, b"abc");
    assert_eq!(result.leftover, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let _ = ProtocolError::UnsolicitedData; // the connection turns these into UnsolicitedData
}
