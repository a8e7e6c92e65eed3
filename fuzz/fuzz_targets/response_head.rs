//! Response head parsing on arbitrary bytes: never panics, consumes at most the
//! input, and agrees with itself when the input is split in two. The
//! `HeaderMap` built from a head holds exactly its fields, whatever heads the
//! thread built maps from before (its name and template cache). The input is
//! parsed once more with one byte changed, right after it became the thread's
//! template: a repeat taken without httparse is parsed again and compared in
//! this build (debug assertions), and its map checked as any other.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use roundtrip_core::proto::{HeadLimits, HeadParser};

fuzz_target!(|input: (u16, &[u8])| {
    let (cut, data) = input;
    let limits = HeadLimits { max_head_bytes: 4096, max_headers: 16 };
    let whole = parse(limits, &[data]);
    let cut = usize::from(cut) % (data.len() + 1);
    let split = parse(limits, &[&data[..cut], &data[cut..]]);
    assert_eq!(whole, split);
    if let Some(byte) = data.get(cut) {
        let mut changed = data.to_vec();
        changed[cut] = byte ^ (input.0 >> 8) as u8;
        let _ = parse(limits, &[&changed]);
    }
});

/// The head's length, or the error.
fn parse(limits: HeadLimits, pieces: &[&[u8]]) -> Result<usize, roundtrip_core::proto::ProtocolError> {
    let mut parser = HeadParser::new(limits);
    let mut buf = BytesMut::new();
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    for piece in pieces {
        buf.extend_from_slice(piece);
        match parser.parse(&mut buf) {
            Ok(Some(head)) => {
                assert!(head.as_bytes().len() <= total);
                check_map(&head);
                return Ok(head.as_bytes().len());
            }
            Ok(None) => {}
            Err(e) => return Err(e),
        }
    }
    parser.parse_eof(&mut buf).map(|head| head.as_bytes().len())
}

/// The map's values by name, in the order `HeaderMap` iterates (names in order
/// of first appearance, each name's values in order), equal the fields'.
fn check_map(head: &roundtrip_core::proto::ResponseHead) {
    let map = head.header_map().expect("a parsed head's fields fit a HeaderMap");
    let mut expected: Vec<(String, Vec<&[u8]>)> = Vec::new();
    for (name, value) in head.fields() {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        match expected.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => expected.push((name, vec![value])),
        }
    }
    let actual: Vec<(String, Vec<&[u8]>)> = map
        .keys()
        .map(|name| (name.as_str().to_owned(), map.get_all(name).iter().map(|v| v.as_bytes()).collect()))
        .collect();
    assert_eq!(actual, expected);
}
