//! Malformed responses and the exact typed error each must produce, whole, byte
//! by byte, split at every index and with trailing bytes. Vectors from
//! docs/security.md (ids in brackets) and the advisories named there.

mod support;

use http::Method;
use roundtrip_core::proto::{BodyLimits, HeadLimits, ProtocolError as E};
use support::wire::{Limits, check};

struct Row {
    /// What the row tests and where the rule comes from.
    what: &'static str,
    method: Method,
    input: Vec<u8>,
    error: E,
}

fn row(what: &'static str, input: &[u8], error: E) -> Row {
    Row { what, method: Method::GET, input: input.to_vec(), error }
}

fn chunked(body: &[u8]) -> Vec<u8> {
    [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".as_slice(), body].concat()
}

fn rows() -> Vec<Row> {
    let mut rows = vec![
        // Status line, RFC 9112 §4 and RFC 9110 §15.
        row("four-digit status [A3]", b"HTTP/1.1 2000 OK\r\n\r\n", E::Status),
        row("two-digit status [A5]", b"HTTP/1.1 20 OK\r\n\r\n", E::Status),
        row("one-digit status [A5]", b"HTTP/1.1 1 OK\r\n\r\n", E::Status),
        row("letter in status [A5]", b"HTTP/1.1 2O0 OK\r\n\r\n", E::Status),
        row("status below 100 [A4]", b"HTTP/1.1 099 X\r\n\r\n", E::Status),
        row("status 001 [A4]", b"HTTP/1.1 001 OK\r\n\r\n", E::Status),
        row(
            "status above 599, RFC 9110 §15 [A6]",
            b"HTTP/1.1 600 Weird\r\nContent-Length: 0\r\n\r\n",
            E::Status,
        ),
        row("HTTP/2.0 status line [A7]", b"HTTP/2.0 200 OK\r\n\r\n", E::Version),
        row("HTTP/3.0 [A7]", b"HTTP/3.0 200 OK\r\n\r\n", E::Version),
        row("HTTP/0.9 [A7]", b"HTTP/0.9 200 OK\r\n\r\n", E::Version),
        row("HTTP/1.10, RFC 9112 §2.3 one digit [A7]", b"HTTP/1.10 200 OK\r\n\r\n", E::Version),
        row("HTTP/1.a [A7]", b"HTTP/1.a 200 OK\r\n\r\n", E::Version),
        row("HTTP/1.2 and a tab [A7]", b"HTTP/1.2\t200 OK\r\n\r\n", E::Version),
        row("HTTP/1.2 with a two-digit status [A5]", b"HTTP/1.2 20 OK\r\n\r\n", E::Status),
        row("HTTP/01.1 [A7]", b"HTTP/01.1 200 OK\r\n\r\n", E::Version),
        row("misspelled protocol [A7]", b"HTEP/1.1 200 OK\r\n\r\n", E::Version),
        row("tab after version [A7]", b"HTTP/1.1\t200 OK\r\n\r\n", E::Version),
        row("HTTP/0.9 style reply [A8]", b"hello world\r\n\r\n", E::Version),
        row("bare CR after status line [A9]", b"HTTP/1.1 200 OK\rX-A: b\r\n\r\n", E::Status),
        // Fields, RFC 9112 §5 and RFC 9110 §5.
        row(
            "space before colon, RFC 9112 §5.1 [B1]",
            b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
            E::HeaderName,
        ),
        row(
            "whitespace before the first field [B2]",
            b"HTTP/1.1 200 OK\r\n\tContent-Length: 5\r\n\r\nhello",
            E::HeaderName,
        ),
        row(
            "a fold right after the status line, RFC 9112 §2.2 [B2]",
            b"HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 0\r\n\r\n",
            E::HeaderName,
        ),
        row(
            "folded content-length reads 5 5, RFC 9112 §5.2 [B3]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 5\r\n\r\nhello",
            E::ContentLengthInvalid,
        ),
        row(
            "folded transfer-encoding reads chunked gzip [B3]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n gzip\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "NUL on a continuation line [B3, B4]",
            b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\x00\r\nContent-Length: 0\r\n\r\n",
            E::HeaderValue,
        ),
        row(
            "bad name after a continuation line [B3, B10]",
            b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nX B: c\r\nContent-Length: 0\r\n\r\n",
            E::HeaderName,
        ),
        row(
            "NUL in a value, RFC 9110 §5.5 [B4]",
            b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
            E::HeaderValue,
        ),
        row(
            "bare CR in a value [B5]",
            b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
            E::HeaderValue,
        ),
        row(
            "CR without LF before the end [B7]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rX\r\n\r\n",
            E::NewLine,
        ),
        row("field without colon [B8]", b"HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello", E::HeaderName),
        row("empty field name [B9]", b"HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n", E::HeaderName),
        row(
            "space inside a name [B10]",
            b"HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 0\r\n\r\n",
            E::HeaderName,
        ),
        row(
            "DEL inside a name [B10]",
            b"HTTP/1.1 200 OK\r\nX\x7fA: b\r\nContent-Length: 0\r\n\r\n",
            E::HeaderName,
        ),
        row(
            "lone colon line [B15]",
            b"HTTP/1.1 200 OK\r\nX-A: a\r\n:\r\nContent-Length: 0\r\n\r\n",
            E::HeaderName,
        ),
        row(
            "vertical tab in transfer-encoding [C10]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\x0b\r\n\r\n",
            E::HeaderValue,
        ),
        // Framing, RFC 9110 §8.6 and RFC 9112 §6.
        row(
            "two different content-lengths [C1]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            E::ContentLengthConflict,
        ),
        row(
            "content-length list that differs [C1]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
            E::ContentLengthConflict,
        ),
        row(
            "signed content-length, RUSTSEC-2021-0078 [C3]",
            b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
            E::ContentLengthInvalid,
        ),
        row(
            "negative content-length [C4]",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            E::ContentLengthInvalid,
        ),
        row(
            "hex content-length [C4]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
            E::ContentLengthInvalid,
        ),
        row(
            "content-length 2^64 [C5]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
            E::ContentLengthInvalid,
        ),
        row(
            "empty content-length, Go #61679 [B14]",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            E::ContentLengthInvalid,
        ),
        row(
            "invalid content-length on a 204, Go #65505",
            b"HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n",
            E::ContentLengthInvalid,
        ),
        row(
            "gzip, chunked, RFC 9112 §6.1 [C12]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "chunked, identity [C12]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "identity alone [C12]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "chunked twice in one field [C11]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "chunked in two fields [C11]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "chunkedchunked [C10]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedchunked\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "nbsp around chunked [C10]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \xa0chunked\xa0\r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "empty transfer-encoding",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
            E::TransferEncodingUnsupported,
        ),
        row(
            "transfer-encoding in HTTP/1.0, RFC 9112 §6.1 [C14]",
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            E::TransferEncodingInHttp10,
        ),
        // Chunked, RFC 9112 §7.1.
        row("17 hex digits [D1]", &chunked(b"10000000000000000\r\n"), E::ChunkSizeTooLong),
        row("17 zero digits [D18]", &chunked(b"00000000000000000\r\n\r\n"), E::ChunkSizeTooLong),
        row(
            "overflowing size, RUSTSEC-2021-0079 [D2]",
            &chunked(b"f0000000000000003\r\nabc\r\n0\r\n\r\n"),
            E::ChunkSizeTooLong,
        ),
        row("0x prefix [D4]", &chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), E::ChunkSizeInvalid),
        row("plus sign [D4]", &chunked(b"+5\r\nhello\r\n0\r\n\r\n"), E::ChunkSizeInvalid),
        row("minus zero [D4]", &chunked(b"-0\r\n\r\n"), E::ChunkSizeInvalid),
        row("underscore in size [D4]", &chunked(b"5_0\r\nhello\r\n0\r\n\r\n"), E::ChunkSizeInvalid),
        row("leading space [D4]", &chunked(b" 5\r\nhello\r\n0\r\n\r\n"), E::ChunkSizeInvalid),
        row("no size digits, Go #64517 [D5]", &chunked(b"\r\n\r\n"), E::ChunkSizeInvalid),
        row("digit after whitespace [D13]", &chunked(b"1 A\r\nZ\r\n0\r\n\r\n"), E::ChunkSizeInvalid),
        row("last chunk missing its 0 [D6]", &chunked(b"1\r\nZ\r\n\r\n"), E::ChunkSizeInvalid),
        row(
            "missing CRLF after data, h11 CVE-2025-43859 [D7]",
            &chunked(b"5\r\nhelloXX0\r\n\r\n"),
            E::ChunkFraming,
        ),
        row(
            "bare LF after size, Go CVE-2025-22871 [D8]",
            &chunked(b"5\nhello\r\n0\r\n\r\n"),
            E::ChunkFraming,
        ),
        row("bare LF in extension [D9]", &chunked(b"5;ext\nhello\r\n0\r\n\r\n"), E::ChunkFraming),
        row("bare CR after size [D10]", &chunked(b"5\r\rhello\r\n0\r\n\r\n"), E::ChunkFraming),
        row("bare CR in extension [D10]", &chunked(b"5;a\rb\r\nhello\r\n0\r\n\r\n"), E::ChunkFraming),
        row("NUL in extension [D11]", &chunked(b"5;\x00ext\r\nhello\r\n0\r\n\r\n"), E::ChunkFraming),
        row("trailer starting with whitespace [E4]", &chunked(b"0\r\n X: a\r\n b\r\n\r\n"), E::HeaderName),
        row("trailer fold with a bare LF [E4]", &chunked(b"0\r\nX: a\n b\r\n\r\n"), E::NewLine),
        row("trailer with bare LF [E4]", &chunked(b"0\r\nX: a\n\n"), E::NewLine),
        row("NUL in a trailer value [E4]", &chunked(b"0\r\nX:\x00\r\n\r\n"), E::HeaderValue),
        // Truncation.
        row("EOF inside the head", b"HTTP/1.1 200 OK\r\nContent-Le", E::IncompleteHead),
        row(
            "EOF before the length body ends [C16]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            E::IncompleteBody,
        ),
        row("EOF inside chunk data [D16]", &chunked(b"5\r\nhel"), E::IncompleteBody),
        row("EOF after a chunk, before the last [D16]", &chunked(b"5\r\nhello\r\n"), E::IncompleteBody),
        row("EOF inside trailers [E5]", &chunked(b"0\r\nX-T: v\r\n"), E::IncompleteBody),
        row(
            "huge length, then EOF [C7]",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc",
            E::IncompleteBody,
        ),
        row("huge chunk, then EOF [D3]", &chunked(b"ffffffffffffffff\r\nabc"), E::IncompleteBody),
    ];
    // Limits.
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for _ in 0..101 {
        many.extend_from_slice(b"X-N: v\r\n");
    }
    many.extend_from_slice(b"\r\n");
    rows.push(row("101 fields [B12, B13]", &many, E::TooManyHeaders { limit: 100 }));
    let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
    while endless.len() <= 64 * 1024 {
        endless.extend_from_slice(b"X-A: aaaaaaaaaa\r\n");
    }
    rows.push(row(
        "endless small fields hit the count first [H1, B13]",
        &endless,
        E::TooManyHeaders { limit: 100 },
    ));
    let mut large = b"HTTP/1.1 200 OK\r\n".to_vec();
    while large.len() <= 64 * 1024 {
        large.extend_from_slice(b"X-A: ");
        large.extend(std::iter::repeat_n(b'a', 4000));
        large.extend_from_slice(b"\r\n");
    }
    rows.push(row("head over 64 KiB [H1]", &large, E::HeadTooLarge { limit: 64 * 1024 }));
    let mut value = b"HTTP/1.1 200 OK\r\nX-A: ".to_vec();
    value.resize(70 * 1024, b'a');
    rows.push(row("one endless value [H2]", &value, E::HeadTooLarge { limit: 64 * 1024 }));
    let mut ext = b"1;".to_vec();
    ext.resize(4096, b'a');
    ext.extend_from_slice(b"\r\nX\r\n0\r\n\r\n");
    rows.push(row("endless chunk extension [D14]", &chunked(&ext), E::ChunkExtensionTooLong));
    let mut overhead = Vec::new();
    for _ in 0..200 {
        overhead.extend_from_slice(b"1;");
        overhead.extend(std::iter::repeat_n(b'a', 200));
        overhead.extend_from_slice(b"\r\nX\r\n");
    }
    overhead.extend_from_slice(b"0\r\n\r\n");
    rows.push(row("cumulative extensions, Go CVE-2023-39326 [D15]", &chunked(&overhead), E::ChunkOverhead));
    let mut trailers = b"0\r\n".to_vec();
    while trailers.len() <= 20 * 1024 {
        trailers.extend_from_slice(b"X-T: v\r\n");
    }
    trailers.extend_from_slice(b"\r\n");
    rows.push(row(
        "trailers over 16 KiB [E1]",
        &chunked(&trailers),
        E::TrailersTooLarge { limit: 16 * 1024 },
    ));
    rows
}

#[test]
fn malformed_responses_fail_with_their_typed_error() {
    let rows = rows();
    assert!(rows.len() >= 30);
    let mut failed = Vec::new();
    for row in rows {
        // Large inputs are checked whole and byte by byte; split-at-every-index on
        // 64 KiB would be quadratic.
        if row.input.len() > 4096 {
            let pieces: Vec<&[u8]> = row.input.chunks(1).collect();
            let limits = Limits::default();
            assert_eq!(
                support::wire::decode_pieces(&row.method, &[&row.input], limits, usize::MAX),
                Err(row.error),
                "{}",
                row.what
            );
            assert_eq!(
                support::wire::decode_pieces(&row.method, &pieces, limits, usize::MAX),
                Err(row.error),
                "{} byte by byte",
                row.what
            );
            continue;
        }
        let result =
            std::panic::catch_unwind(|| check(&row.method, &row.input, Limits::default(), &Err(row.error)));
        if result.is_err() {
            failed.push(row.what);
        }
    }
    assert!(failed.is_empty(), "rows failed: {failed:#?}");
}

#[test]
fn trailer_field_count_is_limited() {
    let mut trailers = b"0\r\n".to_vec();
    for _ in 0..5 {
        trailers.extend_from_slice(b"a:b\r\n");
    }
    trailers.extend_from_slice(b"\r\n");
    let limits =
        Limits { head: HeadLimits::default(), body: BodyLimits { max_trailers: 4, ..BodyLimits::default() } };
    check(&Method::GET, &chunked(&trailers), limits, &Err(E::TooManyHeaders { limit: 4 }));
}
