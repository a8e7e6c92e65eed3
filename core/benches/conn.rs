//! One complete small GET through `Connection` (docs/bench.md "Micro": under 1 µs):
//! encode the request, hand it to a pretend socket, parse a 10-field response
//! with a 100-byte body, read the body, finish.
//!
//! Run: `cargo bench -p roundtrip-core --bench conn`

use std::hint::black_box;
use std::time::Instant;

use bytes::Buf;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Method, Uri};
use roundtrip_core::conn::{BodyChunk, Connection, ConnectionConfig, Event};
use roundtrip_core::proto::{BodyLength, RequestHead};

fn response() -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 00:50:25 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 100\r\nLast-Modified: Sat, 21 Nov 2026 10:00:00 GMT\r\n\
Connection: keep-alive\r\nETag: \"6740f0a0-64\"\r\nAccept-Ranges: bytes\r\nCache-Control: max-age=3600\r\n\
X-Request-Id: 5f2b8c1e-3d4a-4b6f-9e21-7a8c9d0e1f23\r\n\r\n"
        .to_vec();
    r.extend_from_slice(&[b'x'; 100]);
    r
}

fn exchange(c: &mut Criterion) {
    let response = response();
    let mut head = RequestHead::new(Method::GET, Uri::from_static("http://127.0.0.1:8080/small"));
    head.headers.insert("user-agent", HeaderValue::from_static("roundtrip/0.1"));
    let mut conn = Connection::new(ConnectionConfig::default());
    let now = Instant::now();
    c.bench_function("connection_get_exchange", |b| {
        b.iter(|| {
            let id = conn.send_request(&head, BodyLength::Empty).unwrap();
            while let Some(mut tx) = conn.poll_transmit(now) {
                let n = tx.remaining();
                black_box(tx.chunk());
                tx.advance(n);
            }
            conn.handle_read(now, &response);
            let mut body = 0;
            while let Some(event) = conn.poll_event() {
                if let Event::Response { head, .. } = event {
                    black_box(head);
                }
            }
            loop {
                match conn.read_body(now, id, usize::MAX).unwrap() {
                    BodyChunk::Data(d) | BodyChunk::Last(d) => body += d.len(),
                    BodyChunk::End => break,
                    other => panic!("{other:?}"),
                }
            }
            while conn.poll_event().is_some() {}
            assert_eq!(body, 100);
            assert!(conn.is_reusable());
        })
    });
}

criterion_group!(benches, exchange);
criterion_main!(benches);
