//! Response head parsing on arbitrary bytes: never panics, consumes at most the
//! input, and agrees with itself when the input is split in two.
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
                assert!(head.header_map().is_ok());
                return Ok(head.as_bytes().len());
            }
            Ok(None) => {}
            Err(e) => return Err(e),
        }
    }
    parser.parse_eof(&mut buf).map(|head| head.as_bytes().len())
}
