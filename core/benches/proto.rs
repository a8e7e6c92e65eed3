//! Wire-format micro benchmarks (docs/bench.md "Micro"): response head parsing against
//! raw httparse on the same bytes, and chunked decoding throughput.
//!
//! Run: `cargo bench -p roundtrip-core --bench proto`

use std::hint::black_box;
use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderValue, Method, Uri};
use roundtrip_core::proto::{
    BodyDecoder, BodyEncoder, BodyKind, BodyLength, BodyLimits, Decoded, HeadLimits, HeadParser, Outgoing,
    RequestFraming, RequestHead, encode_request_head, response_framing,
};

/// A realistic 10-field response head, as nginx sends it plus a few common fields.
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 00:50:25 GMT\r\n\
Content-Type: text/html; charset=utf-8\r\nContent-Length: 100\r\nLast-Modified: Sat, 21 Nov 2026 10:00:00 GMT\r\n\
Connection: keep-alive\r\nETag: \"6740f0a0-64\"\r\nAccept-Ranges: bytes\r\nCache-Control: max-age=3600\r\n\
X-Request-Id: 5f2b8c1e-3d4a-4b6f-9e21-7a8c9d0e1f23\r\n\r\n";

fn head_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("head_parse");
    group.bench_function("httparse_raw", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 100];
            let mut response = httparse::Response::new(&mut headers);
            black_box(response.parse(black_box(HEAD)).unwrap());
        })
    });
    group.bench_function("httparse_raw_uninit", |b| {
        b.iter(|| {
            let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; 100];
            let mut response = httparse::Response::new(&mut []);
            let config = httparse::ParserConfig::default();
            black_box(
                config
                    .parse_response_with_uninit_headers(&mut response, black_box(HEAD), &mut headers)
                    .unwrap(),
            );
        })
    });
    // The read buffer is refilled outside the timed part only by cloning a
    // `BytesMut` the size of the head; `split_to` then detaches the head from it.
    let template = BytesMut::from(HEAD);
    group.bench_function("roundtrip_parse", |b| {
        let mut parser = HeadParser::new(HeadLimits::default());
        b.iter_batched_ref(
            || template.clone(),
            |buf| black_box(parser.parse(buf).unwrap().unwrap()),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("roundtrip_parse_and_framing", |b| {
        let mut parser = HeadParser::new(HeadLimits::default());
        b.iter_batched_ref(
            || template.clone(),
            |buf| {
                let head = parser.parse(buf).unwrap().unwrap();
                black_box(response_framing(&Method::GET, &head).unwrap());
                head
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("roundtrip_parse_into_header_map", |b| {
        let mut parser = HeadParser::new(HeadLimits::default());
        b.iter_batched_ref(
            || template.clone(),
            |buf| black_box(parser.parse(buf).unwrap().unwrap().header_map().unwrap()),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn chunked_decode(c: &mut Criterion) {
    const TOTAL: usize = 1 << 20;
    const CHUNK: usize = 16 * 1024;
    let mut out = Outgoing::new();
    let mut encoder = BodyEncoder::new(RequestFraming::Chunked);
    let data = Bytes::from(vec![b'x'; CHUNK]);
    for _ in 0..TOTAL / CHUNK {
        encoder.encode(data.clone(), &mut out).unwrap();
    }
    encoder.finish(None, &mut out).unwrap();
    let mut wire = BytesMut::new();
    while out.has_remaining() {
        let n = out.chunk().len();
        wire.extend_from_slice(out.chunk());
        out.advance(n);
    }
    let mut group = c.benchmark_group("chunked_decode");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.bench_function("1MiB_in_16KiB_chunks", |b| {
        b.iter_batched_ref(
            || wire.clone(),
            |buf| {
                let mut decoder = BodyDecoder::new(BodyKind::Chunked, BodyLimits::default());
                let mut n = 0;
                loop {
                    match decoder.decode(buf, usize::MAX).unwrap() {
                        Decoded::Data(d) => n += d.len(),
                        Decoded::End => break,
                        other => panic!("{other:?}"),
                    }
                }
                assert_eq!(n, TOTAL);
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn request_encode(c: &mut Criterion) {
    let mut head = RequestHead::new(Method::GET, Uri::from_static("http://127.0.0.1:8080/small"));
    head.headers.insert("user-agent", HeaderValue::from_static("roundtrip/0.1"));
    head.headers.insert("accept", HeaderValue::from_static("*/*"));
    let mut dst = BytesMut::with_capacity(4096);
    c.bench_function("request_head_encode", |b| {
        b.iter(|| {
            dst.clear();
            black_box(encode_request_head(black_box(&head), BodyLength::Empty, &mut dst).unwrap());
        })
    });
}

/// A head of about `size` bytes: a status line and 76-byte fields.
fn big_head(size: usize) -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    while head.len() < size - 100 {
        head.extend_from_slice(
            b"x-filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Linear parsing (RELIABILITY.md R7): a 64 KiB head (just under the limit)
/// in one read, and fed one byte per read; and a 32 KiB head fed the same
/// way, for the cost's growth with the size. The parser resumes its search
/// for the end where the last read stopped, so a trickle costs a constant
/// per read and nothing that grows with what came before.
fn head_trickle(c: &mut Criterion) {
    let limits = HeadLimits { max_headers: 10_000, ..HeadLimits::default() };
    let mut group = c.benchmark_group("head_trickle");
    let head = big_head(64 * 1024);
    group.bench_function("64k_one_read", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&head[..]);
            black_box(HeadParser::new(limits).parse(&mut buf).unwrap().unwrap());
        })
    });
    for (name, size) in [("32k_one_byte_per_read", 32 * 1024), ("64k_one_byte_per_read", 64 * 1024)] {
        let head = big_head(size);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut parser = HeadParser::new(limits);
                let mut buf = BytesMut::with_capacity(head.len());
                for &byte in &head[..head.len() - 1] {
                    buf.extend_from_slice(&[byte]);
                    assert!(parser.parse(&mut buf).unwrap().is_none());
                }
                buf.extend_from_slice(&head[head.len() - 1..]);
                black_box(parser.parse(&mut buf).unwrap().unwrap());
            })
        });
    }
    // The least any incremental parser does per read: append the byte and
    // look for the blank line from where the last look stopped. What a read
    // costs beyond this is the parser's own.
    group.bench_function("64k_one_byte_per_read_floor", |b| {
        b.iter(|| {
            let mut buf = BytesMut::with_capacity(head.len());
            let mut from = 0;
            for &byte in &head[..] {
                buf.extend_from_slice(&[byte]);
                if let Some(at) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
                    return black_box(from + at);
                }
                from = buf.len().saturating_sub(3);
            }
            unreachable!("the head ends with a blank line")
        })
    });
    group.finish();
}

criterion_group!(benches, head_parse, chunked_decode, request_encode, head_trickle);
criterion_main!(benches);
