//! Runs a response through head parsing, framing and body decoding, and checks
//! that the outcome does not depend on how the bytes were split (h11's `tr`,
//! hyper's split-at-every-index cases).

use bytes::BytesMut;
use http::Method;
use roundtrip_core::proto::{
    BodyDecoder, BodyKind, BodyLimits, Decoded, Framing, HeadLimits, HeadParser, ProtocolError,
    response_framing,
};

/// What a well-formed response decoded to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decoded1 {
    pub status: u16,
    pub framing: Framing,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, Vec<u8>)>,
    /// Bytes after the end of the message, still in the read buffer.
    pub leftover: Vec<u8>,
    /// The message ended by its framing, before EOF was seen.
    pub ended_by_framing: bool,
}

/// Limits used by [`decode_pieces`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    pub head: HeadLimits,
    pub body: BodyLimits,
}

/// Feeds `pieces` one read at a time, then EOF, taking body data `max` bytes at a time.
pub(crate) fn decode_pieces(
    method: &Method,
    pieces: &[&[u8]],
    limits: Limits,
    max: usize,
) -> Result<Decoded1, ProtocolError> {
    let mut buf = BytesMut::new();
    let mut parser = HeadParser::new(limits.head);
    let mut state: Option<(u16, Framing, BodyDecoder)> = None;
    let mut body = Vec::new();
    let mut trailers = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        if state.is_none()
            && let Some(head) = parser.parse(&mut buf)?
        {
            let framing = response_framing(method, &head)?;
            state = Some((head.status().as_u16(), framing, BodyDecoder::new(framing.body, limits.body)));
        }
        if let Some((status, framing, decoder)) = &mut state
            && drain(decoder, &mut buf, max, &mut body, &mut trailers)?
        {
            return Ok(Decoded1 {
                status: *status,
                framing: *framing,
                body,
                trailers,
                leftover: buf.to_vec(),
                ended_by_framing: true,
            });
        }
    }
    let (status, framing, mut decoder) = match state {
        Some(state) => state,
        None => {
            let head = parser.parse_eof(&mut buf)?;
            let framing = response_framing(method, &head)?;
            (head.status().as_u16(), framing, BodyDecoder::new(framing.body, limits.body))
        }
    };
    if !drain(&mut decoder, &mut buf, max, &mut body, &mut trailers)? {
        assert_eq!(decoder.decode_eof()?, Decoded::End);
    }
    Ok(Decoded1 { status, framing, body, trailers, leftover: buf.to_vec(), ended_by_framing: false })
}

/// Decodes what is buffered; true when the body ended.
fn drain(
    decoder: &mut BodyDecoder,
    buf: &mut BytesMut,
    max: usize,
    body: &mut Vec<u8>,
    trailers: &mut Vec<(String, Vec<u8>)>,
) -> Result<bool, ProtocolError> {
    loop {
        match decoder.decode(buf, max)? {
            Decoded::Data(data) => {
                assert!(!data.is_empty() && data.len() <= max, "data within 1..=max");
                body.extend_from_slice(&data);
            }
            Decoded::Trailers(map) => {
                trailers.extend(map.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())));
            }
            Decoded::End => return Ok(true),
            Decoded::NeedMore => return Ok(false),
        }
    }
}

/// Checks `input` decodes to `expected` whole, byte by byte, split at every
/// index, with small body reads, and (when the message ends by its framing or
/// fails before EOF) with trailing bytes that must stay unconsumed.
pub(crate) fn check(
    method: &Method,
    input: &[u8],
    limits: Limits,
    expected: &Result<Decoded1, ProtocolError>,
) {
    let whole = decode_pieces(method, &[input], limits, usize::MAX);
    assert_eq!(&whole, expected, "whole input {:?}", String::from_utf8_lossy(input));

    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(&decode_pieces(method, &bytes, limits, usize::MAX), expected, "byte by byte");

    for k in 0..=input.len() {
        let split = decode_pieces(method, &[&input[..k], &input[k..]], limits, usize::MAX);
        assert_eq!(&split, expected, "split at {k}");
    }
    assert_eq!(&decode_pieces(method, &[input], limits, 3), expected, "3-byte body reads");

    let trailing = match expected {
        Ok(ok) => ok.ended_by_framing && ok.framing.body != BodyKind::CloseDelimited,
        Err(e) => !matches!(
            e,
            ProtocolError::IncompleteHead
                | ProtocolError::IncompleteBody
                | ProtocolError::HeadTooLarge { .. }
        ),
    };
    if trailing {
        let mut extended = input.to_vec();
        extended.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let expected = expected.clone().map(|mut ok| {
            ok.leftover.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
            ok
        });
        assert_eq!(decode_pieces(method, &[&extended], limits, usize::MAX), expected, "with trailing bytes");
    }
}

/// Shorthand: a well-formed response's expected outcome.
pub(crate) fn ok(status: u16, body: BodyKind, content: &[u8]) -> Result<Decoded1, ProtocolError> {
    Ok(Decoded1 {
        status,
        framing: Framing { body, length_conflict: false },
        body: content.to_vec(),
        trailers: Vec::new(),
        leftover: Vec::new(),
        ended_by_framing: body != BodyKind::CloseDelimited,
    })
}
