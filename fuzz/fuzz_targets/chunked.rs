//! Chunked decoding: the same bytes decode to the same body, trailers and error
//! whole and at arbitrary split points and read sizes.
#![no_main]

#[path = "common/split.rs"]
mod split;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use roundtrip_core::proto::{BodyDecoder, BodyKind, BodyLimits, Decoded, ProtocolError};

fuzz_target!(|input: (Vec<u16>, u8, &[u8])| {
    let (cuts, max, data) = input;
    let whole = decode(&[data], usize::MAX);
    let pieces = split::pieces(data, &cuts);
    assert_eq!(whole, decode(&pieces, usize::from(max).max(1)));
});

type Outcome = Result<(Vec<u8>, Vec<(String, Vec<u8>)>, usize), ProtocolError>;

fn decode(pieces: &[&[u8]], max: usize) -> Outcome {
    let limits = BodyLimits { max_chunk_line: 64, max_chunk_overhead: 256, max_trailer_bytes: 256, max_trailers: 8 };
    let mut decoder = BodyDecoder::new(BodyKind::Chunked, limits);
    let mut buf = BytesMut::new();
    let (mut body, mut trailers) = (Vec::new(), Vec::new());
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        let later: usize = pieces[i + 1..].iter().map(|p| p.len()).sum();
        loop {
            let before = buf.len();
            match decoder.decode(&mut buf, max)? {
                Decoded::Data(d) => {
                    assert!(!d.is_empty() && d.len() <= max);
                    body.extend_from_slice(&d);
                }
                Decoded::Trailers(t) => trailers.extend(t.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))),
                Decoded::End => return Ok((body, trailers, buf.len() + later)),
                Decoded::NeedMore => break,
            }
            assert!(buf.len() <= before);
        }
    }
    decoder.decode_eof()?;
    Ok((body, trailers, buf.len()))
}
