//! Chunked coding round trip (RFC 9112 §7.1): whatever the encoder frames, the
//! decoder gives back, however the bytes are split.

mod support;

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use roundtrip_core::proto::{BodyEncoder, Outgoing, RequestFraming};
use support::wire::{Limits, decode_pieces};

fn encode(chunks: &[Vec<u8>], trailers: &HeaderMap) -> Vec<u8> {
    let mut out = Outgoing::new();
    let mut encoder = BodyEncoder::new(RequestFraming::Chunked);
    for chunk in chunks {
        encoder.encode(Bytes::from(chunk.clone()), &mut out).unwrap();
    }
    encoder.finish(Some(trailers), &mut out).unwrap();
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    while out.has_remaining() {
        let n = out.chunk().len();
        wire.extend_from_slice(out.chunk());
        out.advance(n);
    }
    wire
}

fn trailer_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("x-[a-z0-9-]{1,12}", "[ -~]{0,20}"), 0..4)
}

proptest! {
    #[test]
    fn chunked_round_trip_at_arbitrary_splits(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..12),
        trailers in trailer_strategy(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        max in 1usize..512,
    ) {
        let mut map = HeaderMap::new();
        for (name, value) in &trailers {
            let value = value.trim();
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        let wire = encode(&chunks, &map);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&wire[last..p]);
            last = p;
        }
        pieces.push(&wire[last..]);
        let decoded = decode_pieces(&Method::GET, &pieces, Limits::default(), max).unwrap();
        prop_assert_eq!(decoded.body, chunks.concat());
        let expected: Vec<(String, Vec<u8>)> =
            map.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect();
        prop_assert_eq!(decoded.trailers, expected);
        prop_assert!(decoded.leftover.is_empty());
        prop_assert!(decoded.ended_by_framing);
    }
}
