//! Arbitrary bytes through head parsing, framing and body decoding at arbitrary
//! split points: no panic, never more consumed than given, whole and split agree.
#![no_main]

#[path = "common/split.rs"]
mod split;

use bytes::BytesMut;
use http::Method;
use libfuzzer_sys::fuzz_target;
use roundtrip_core::proto::{
    BodyDecoder, BodyLimits, Decoded, HeadLimits, HeadParser, ProtocolError, response_framing,
};

fuzz_target!(|input: (bool, Vec<u16>, &[u8])| {
    let (head_request, cuts, data) = input;
    let method = if head_request { Method::HEAD } else { Method::GET };
    let whole = run(&method, &[data]);
    let pieces = split::pieces(data, &cuts);
    assert_eq!(whole, run(&method, &pieces));
});

/// (status, body, bytes left) or the error.
type Outcome = Result<(u16, Vec<u8>, usize), ProtocolError>;

fn run(method: &Method, pieces: &[&[u8]]) -> Outcome {
    let head_limits = HeadLimits { max_head_bytes: 2048, max_headers: 16 };
    let body_limits = BodyLimits { max_chunk_line: 64, max_chunk_overhead: 256, max_trailer_bytes: 256, max_trailers: 8 };
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    let mut parser = HeadParser::new(head_limits);
    let mut buf = BytesMut::new();
    let mut state: Option<(u16, BodyDecoder)> = None;
    let mut body = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        let later: usize = pieces[i + 1..].iter().map(|p| p.len()).sum();
        if state.is_none() {
            if let Some(head) = parser.parse(&mut buf)? {
                let framing = response_framing(method, &head)?;
                state = Some((head.status().as_u16(), BodyDecoder::new(framing.body, body_limits)));
            }
        }
        if let Some((status, decoder)) = &mut state {
            loop {
                match decoder.decode(&mut buf, 7)? {
                    Decoded::Data(d) => body.extend_from_slice(&d),
                    Decoded::Trailers(_) => {}
                    Decoded::End => return Ok((*status, body, buf.len() + later)),
                    Decoded::NeedMore => break,
                }
            }
        }
        assert!(body.len() <= total);
    }
    let (status, mut decoder) = match state {
        Some(s) => s,
        None => {
            let head = parser.parse_eof(&mut buf)?;
            let framing = response_framing(method, &head)?;
            (head.status().as_u16(), BodyDecoder::new(framing.body, body_limits))
        }
    };
    loop {
        match decoder.decode(&mut buf, 7)? {
            Decoded::Data(d) => body.extend_from_slice(&d),
            Decoded::Trailers(_) => {}
            Decoded::End => return Ok((status, body, buf.len())),
            Decoded::NeedMore => break,
        }
    }
    decoder.decode_eof()?;
    Ok((status, body, buf.len()))
}
