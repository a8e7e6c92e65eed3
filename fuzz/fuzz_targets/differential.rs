//! The head parser and the body framing against a reference: a response is
//! generated from the fuzzer's input (status line, fields, a framing, a body,
//! perhaps one flaw from a list), written out by the rules of RFC 9112, and
//! parsed whole and cut at arbitrary points. The generator knows what the
//! parse must give: the status, reason and fields as written, the body and
//! trailers, where the message ends, and for a flawed message, an error. Any
//! difference is a finding (docs/security.md, R5 in RELIABILITY.md).
#![no_main]

#[path = "common/split.rs"]
mod split;

use arbitrary::Arbitrary;
use bytes::BytesMut;
use http::Method;
use libfuzzer_sys::fuzz_target;
use roundtrip_core::proto::{
    BodyDecoder, BodyLimits, Decoded, HeadLimits, HeadParser, ProtocolError, response_framing,
};

/// Field names the generator uses, in mixed case; none that frames a message.
const NAMES: [&str; 8] =
    ["x-a", "Server", "DATE", "content-type", "X-Long-Field-Name-0123456789", "set-cookie", "Via", "trailer"];
/// Trailer names: no field a recipient must not take from a trailer.
const TRAILER_NAMES: [&str; 3] = ["x-checksum", "X-Sum", "x-t"];

#[derive(Arbitrary, Debug)]
struct Field {
    name: u8,
    value: Vec<u8>,
    /// Optional whitespace around the value, which the parse drops.
    ows: u8,
}

#[derive(Arbitrary, Debug)]
enum Framing {
    /// `Content-Length`, once, twice, or as a list of equal values.
    Length { repeat: u8 },
    /// Chunks of the given sizes (the last one takes the rest), with
    /// extensions, hex case and leading zeros, then trailers.
    Chunked { sizes: Vec<u8>, extensions: Vec<u8>, upper: bool, zeros: u8, trailers: Vec<Field> },
    /// Until the connection closes.
    Close,
}

/// One flaw that makes the message invalid, or a conflict the parse flags.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Flaw {
    /// Chunked with a Content-Length too: read as chunked, not reusable.
    LengthAndChunked,
    /// Two different Content-Length values.
    ConflictingLengths,
    /// A Content-Length that is not digits.
    BadLength(u8),
    /// A coding after `chunked`: an error, Go's choice (RFC 9112 §6.3 would
    /// read such a response until the connection closes).
    ChunkedThenGzip,
    /// A chunk size that is not hex.
    BadChunkSize,
    /// Chunk data not followed by CRLF.
    MissingChunkCrlf,
    /// A NUL in a field value.
    NulInValue,
    /// Whitespace between a field name and its colon.
    SpaceBeforeColon,
    /// The message cut short at this point (from its end), then EOF.
    Truncated(u16),
}

#[derive(Arbitrary, Debug)]
struct Message {
    http10: bool,
    status: u16,
    reason: Vec<u8>,
    head_request: bool,
    fields: Vec<Field>,
    framing: Framing,
    body: Vec<u8>,
    flaw: Option<Flaw>,
    after: Vec<u8>,
    cuts: Vec<u16>,
}

/// What a parse gives, or must give.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    status: u16,
    reason: Vec<u8>,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    conflict: bool,
    body: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
    left: usize,
}

/// A field value of field-content characters (RFC 9110 §5.5): visible ASCII,
/// obs-text, and spaces and tabs inside.
fn field_value(raw: &[u8]) -> Vec<u8> {
    let mut value: Vec<u8> = raw
        .iter()
        .take(200)
        .map(|&b| match b {
            0x21..=0x7E | 0x80..=0xFF | b' ' | b'\t' => b,
            _ => b'a' + b % 26,
        })
        .collect();
    while value.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        value.remove(0);
    }
    while value.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
        value.pop();
    }
    value
}

fn ows(n: u8) -> &'static str {
    ["", " ", "\t", "  ", " \t "][usize::from(n % 5)]
}

/// Writes `message`; returns the bytes and what the parse must give.
fn generate(message: &Message) -> (Vec<u8>, Result<Parsed, ()>) {
    let status = 200 + message.status % 400;
    let bodyless = message.head_request || status == 204 || status == 304;
    let reason: Vec<u8> = field_value(&message.reason);
    let mut wire = format!("HTTP/1.{} {status} ", if message.http10 { 0 } else { 1 }).into_bytes();
    wire.extend_from_slice(&reason);
    wire.extend_from_slice(b"\r\n");
    let mut fields = Vec::new();
    for (i, field) in message.fields.iter().take(32).enumerate() {
        let name = NAMES[usize::from(field.name) % NAMES.len()];
        let value = field_value(&field.value);
        let mut value_wire = value.clone();
        if i == 0 && matches!(message.flaw, Some(Flaw::NulInValue)) {
            value_wire.push(0);
            value_wire.extend_from_slice(b"x");
        }
        let colon = if i == 0 && matches!(message.flaw, Some(Flaw::SpaceBeforeColon)) { " :" } else { ":" };
        wire.extend_from_slice(format!("{name}{colon}{}", ows(field.ows)).as_bytes());
        wire.extend_from_slice(&value_wire);
        wire.extend_from_slice(format!("{}\r\n", ows(field.ows / 5)).as_bytes());
        fields.push((name.as_bytes().to_vec(), value));
    }
    let invalid_head =
        matches!(message.flaw, Some(Flaw::NulInValue | Flaw::SpaceBeforeColon)) && !fields.is_empty();

    let body = &message.body;
    let mut framing_fields: Vec<(&str, String)> = Vec::new();
    let mut body_wire = Vec::new();
    let mut trailers = Vec::new();
    let mut conflict = false;
    let mut invalid = invalid_head;
    let mut expected_body = if bodyless { Vec::new() } else { body.clone() };
    let mut close_delimited = false;
    match &message.framing {
        Framing::Length { repeat } => {
            let n = body.len();
            match repeat % 3 {
                0 => framing_fields.push(("Content-Length", n.to_string())),
                1 => {
                    framing_fields.push(("content-length", n.to_string()));
                    framing_fields.push(("CONTENT-LENGTH", n.to_string()));
                }
                _ => framing_fields.push(("content-length", format!("{n}, {n}"))),
            }
            match message.flaw {
                Some(Flaw::ConflictingLengths) => {
                    framing_fields.push(("content-length", (n + 1).to_string()));
                    invalid = true;
                }
                Some(Flaw::BadLength(kind)) => {
                    let bad =
                        ["+5", "-1", "0x10", "", "1 2", "99999999999999999999999"][usize::from(kind % 6)];
                    framing_fields.push(("content-length", bad.to_owned()));
                    invalid = true;
                }
                _ => {}
            }
            if !bodyless {
                body_wire.extend_from_slice(body);
            }
        }
        Framing::Chunked { sizes, extensions, upper, zeros, trailers: trailer_fields } => {
            let coding =
                if matches!(message.flaw, Some(Flaw::ChunkedThenGzip)) { "chunked, gzip" } else { "chunked" };
            framing_fields.push(("Transfer-Encoding", coding.to_owned()));
            // A bodyless response's Transfer-Encoding frames nothing: it is
            // not checked, and conflicts with nothing (Content-Length is
            // checked everywhere, as Go does).
            if matches!(message.flaw, Some(Flaw::ChunkedThenGzip)) && !bodyless {
                invalid = true;
            }
            if matches!(message.flaw, Some(Flaw::LengthAndChunked)) {
                framing_fields.push(("Content-Length", body.len().to_string()));
                conflict = !bodyless;
            }
            if message.http10 && !bodyless {
                invalid = true;
            }
            if !bodyless {
                let mut rest = &body[..];
                let mut index = 0;
                while !rest.is_empty() {
                    let size = sizes.get(index).map_or(rest.len(), |&s| 1 + usize::from(s)).min(rest.len());
                    let mut line = "0".repeat(usize::from(zeros % 4));
                    line.push_str(&if *upper { format!("{size:X}") } else { format!("{size:x}") });
                    if index == 0 && matches!(message.flaw, Some(Flaw::BadChunkSize)) {
                        line = format!("g{line}");
                        invalid = true;
                    }
                    match extensions.get(index).map(|e| e % 3) {
                        Some(1) => line.push_str(";ext"),
                        Some(2) => line.push_str(";name=value"),
                        _ => {}
                    }
                    body_wire.extend_from_slice(line.as_bytes());
                    body_wire.extend_from_slice(b"\r\n");
                    body_wire.extend_from_slice(&rest[..size]);
                    if index == 0 && matches!(message.flaw, Some(Flaw::MissingChunkCrlf)) {
                        body_wire.extend_from_slice(b"XY");
                        invalid = true;
                    } else {
                        body_wire.extend_from_slice(b"\r\n");
                    }
                    rest = &rest[size..];
                    index += 1;
                }
                body_wire.extend_from_slice(b"0\r\n");
                for field in trailer_fields.iter().take(8) {
                    let name = TRAILER_NAMES[usize::from(field.name) % TRAILER_NAMES.len()];
                    let value = field_value(&field.value);
                    body_wire.extend_from_slice(format!("{name}:{}", ows(field.ows)).as_bytes());
                    body_wire.extend_from_slice(&value);
                    body_wire.extend_from_slice(b"\r\n");
                    trailers.push((name.to_ascii_lowercase(), value));
                }
                body_wire.extend_from_slice(b"\r\n");
            }
        }
        Framing::Close => {
            close_delimited = !bodyless;
            if !bodyless {
                body_wire.extend_from_slice(body);
                expected_body.extend_from_slice(&message.after);
            }
        }
    }
    if bodyless {
        trailers.clear();
    }
    for (name, value) in &framing_fields {
        wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        fields.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
    }
    wire.extend_from_slice(b"\r\n");
    let head_len = wire.len();
    wire.extend_from_slice(&body_wire);
    let message_len = wire.len();
    wire.extend_from_slice(&message.after);

    if let Some(Flaw::Truncated(back)) = message.flaw {
        let cut = usize::from(back) % message_len.max(1) + 1;
        wire.truncate(message_len - cut.min(message_len));
        // A head cut short is an error, and so is a body that had a length;
        // a close-delimited body simply ends.
        if wire.len() < head_len || !close_delimited {
            return (wire, Err(()));
        }
        let kept = wire.len() - head_len;
        expected_body.truncate(kept);
        return (
            wire,
            if invalid {
                Err(())
            } else {
                Ok(Parsed { status, reason, fields, conflict, body: expected_body, trailers, left: 0 })
            },
        );
    }
    if invalid {
        return (wire, Err(()));
    }
    let left = if close_delimited { 0 } else { message.after.len() };
    trailers.sort();
    (wire, Ok(Parsed { status, reason, fields, conflict, body: expected_body, trailers, left }))
}

fuzz_target!(|message: Message| {
    let (wire, expected) = generate(&message);
    let method = if message.head_request { Method::HEAD } else { Method::GET };
    let whole = parse(&method, &[&wire]);
    let pieces = split::pieces(&wire, &message.cuts);
    let split = parse(&method, &pieces);
    match &expected {
        Ok(expected) => {
            assert_eq!(
                whole.as_ref().ok(),
                Some(expected),
                "whole: {whole:?}\nwire: {:?}",
                String::from_utf8_lossy(&wire)
            );
            assert_eq!(
                split.as_ref().ok(),
                Some(expected),
                "split: {split:?}\nwire: {:?}",
                String::from_utf8_lossy(&wire)
            );
        }
        Err(()) => {
            assert!(
                whole.is_err(),
                "accepted a flawed message: {whole:?}\nwire: {:?}",
                String::from_utf8_lossy(&wire)
            );
            assert!(split.is_err(), "accepted a flawed message cut up: {split:?}");
        }
    }
});

/// Our parse of `pieces`, then EOF.
fn parse(method: &Method, pieces: &[&[u8]]) -> Result<Parsed, ProtocolError> {
    let mut parser = HeadParser::new(HeadLimits::default());
    let mut buf = BytesMut::new();
    let mut state: Option<(Parsed, BodyDecoder)> = None;
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        let later: usize = pieces[i + 1..].iter().map(|p| p.len()).sum();
        if state.is_none()
            && let Some(head) = parser.parse(&mut buf)?
        {
            state = Some(start(method, &head)?);
        }
        if let Some((parsed, decoder)) = &mut state
            && drain(parsed, decoder, &mut buf)?
        {
            let (mut parsed, _) = state.take().expect("state");
            parsed.left = buf.len() + later;
            parsed.trailers.sort();
            return Ok(parsed);
        }
    }
    let (mut parsed, mut decoder) = match state {
        Some(state) => state,
        None => start(method, &parser.parse_eof(&mut buf)?)?,
    };
    if !drain(&mut parsed, &mut decoder, &mut buf)? {
        decoder.decode_eof()?;
    }
    parsed.left = buf.len();
    parsed.trailers.sort();
    Ok(parsed)
}

fn start(
    method: &Method,
    head: &roundtrip_core::proto::ResponseHead,
) -> Result<(Parsed, BodyDecoder), ProtocolError> {
    let framing = response_framing(method, head)?;
    let parsed = Parsed {
        status: head.status().as_u16(),
        reason: head.reason().to_vec(),
        fields: head.fields().map(|(n, v)| (n.to_vec(), v.to_vec())).collect(),
        conflict: framing.length_conflict,
        body: Vec::new(),
        trailers: Vec::new(),
        left: 0,
    };
    let limits = BodyLimits { max_chunk_overhead: u64::MAX, ..BodyLimits::default() };
    Ok((parsed, BodyDecoder::new(framing.body, limits)))
}

/// Decodes what `buf` holds; true at the body's end.
fn drain(parsed: &mut Parsed, decoder: &mut BodyDecoder, buf: &mut BytesMut) -> Result<bool, ProtocolError> {
    loop {
        match decoder.decode(buf, 7)? {
            Decoded::Data(data) => parsed.body.extend_from_slice(&data),
            Decoded::Trailers(map) => parsed.trailers.extend(
                map.iter().map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec())),
            ),
            Decoded::End => return Ok(true),
            Decoded::NeedMore => return Ok(false),
        }
    }
}
