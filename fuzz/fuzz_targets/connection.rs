//! Arbitrary sequences of commands, reads, EOFs, errors, timeouts and cancels
//! against one `Connection`. Invariants: no panic; at most one terminal event
//! (`Finished` or `Failed`) per exchange; nothing after `Closed`; after
//! `handle_timeout(now)` the next deadline is never at or before `now`.
#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::{Buf, Bytes};
use http::{HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use roundtrip_core::conn::{Connection, ConnectionConfig, Direction, Event, ExchangeId};
use roundtrip_core::proto::{BodyLength, RequestHead};

#[derive(Arbitrary, Debug)]
enum Op {
    Send { method: u8, expect: bool, close: bool, body: u8 },
    Data(u8),
    Finish,
    Read(Vec<u8>),
    ReadCanned { which: u8, cut: u8 },
    Eof,
    IoError(bool),
    Advance(u16),
    Cancel,
    ReadBody(u8),
    Flush(u8),
    Close,
}

const CANNED: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx: y\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nuntil close",
    b"HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\nraw",
    b"HTTP/1.1 408 Request Timeout\r\n\r\n",
    b"HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n",
];

fuzz_target!(|input: (u8, Vec<Op>)| {
    let (drain, ops) = input;
    let mut config = ConnectionConfig::default();
    config.response_head_timeout = Some(Duration::from_millis(300));
    config.body_read_idle_timeout = Some(Duration::from_millis(200));
    config.max_buffered_body = 64;
    config.drain_on_cancel = (drain % 2 == 1).then_some(u64::from(drain));
    let mut conn = Connection::new(config);
    let t0 = Instant::now();
    let mut now = t0;
    let mut id: Option<ExchangeId> = None;
    let mut terminal: HashSet<ExchangeId> = HashSet::new();
    let mut closed = false;
    for op in ops.into_iter().take(256) {
        match op {
            Op::Send { method, expect, close, body } => {
                let method = [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::CONNECT][usize::from(method) % 5].clone();
                let mut head = RequestHead::new(method, Uri::from_static("http://example.com/x"));
                if expect {
                    head.headers.insert("expect", HeaderValue::from_static("100-continue"));
                }
                if close {
                    head.headers.insert("connection", HeaderValue::from_static("close"));
                }
                if body % 7 == 0 {
                    head.headers.insert("upgrade", HeaderValue::from_static("x"));
                }
                let length = match body % 3 {
                    0 => BodyLength::Empty,
                    1 => BodyLength::Known(u64::from(body)),
                    _ => BodyLength::Unknown,
                };
                if let Ok(new) = conn.send_request(&head, length) {
                    id = Some(new);
                }
            }
            Op::Data(n) => {
                if let Some(id) = id {
                    let _ = conn.send_data(id, Bytes::from(vec![b'x'; usize::from(n)]));
                }
            }
            Op::Finish => {
                if let Some(id) = id {
                    let _ = conn.finish(id, None);
                }
            }
            Op::Read(bytes) => conn.handle_read(now, &bytes),
            Op::ReadCanned { which, cut } => {
                let bytes = CANNED[usize::from(which) % CANNED.len()];
                let cut = usize::from(cut) % (bytes.len() + 1);
                conn.handle_read(now, &bytes[..cut]);
                conn.handle_read(now, &bytes[cut..]);
            }
            Op::Eof => conn.handle_eof(now),
            Op::IoError(write) => {
                let direction = if write { Direction::Write } else { Direction::Read };
                conn.handle_io_error(now, direction, std::io::ErrorKind::ConnectionReset);
            }
            Op::Advance(ms) => {
                now += Duration::from_millis(u64::from(ms));
                conn.handle_timeout(now);
                assert!(conn.poll_timeout().is_none_or(|d| d > now), "deadline in the past after handle_timeout");
            }
            Op::Cancel => {
                if let Some(id) = id {
                    conn.cancel(id);
                }
            }
            Op::ReadBody(max) => {
                if let Some(id) = id {
                    let _ = conn.read_body(now, id, usize::from(max));
                }
            }
            Op::Flush(limit) => {
                let mut budget = usize::from(limit);
                while budget > 0 {
                    let Some(mut tx) = conn.poll_transmit(now) else { break };
                    let n = tx.chunk().len().min(budget);
                    assert!(n > 0, "a transmit is never empty");
                    tx.advance(n);
                    budget -= n;
                }
            }
            Op::Close => conn.close(),
        }
        while let Some(event) = conn.poll_event() {
            assert!(!closed, "event after Closed: {event:?}");
            match event {
                Event::Finished { id } | Event::Failed { id, .. } => {
                    assert!(terminal.insert(id), "two terminal events for {id:?}");
                }
                Event::Closed { .. } => closed = true,
                _ => {}
            }
        }
        assert_eq!(closed, conn.is_closed());
        if closed {
            assert!(conn.poll_transmit(now).is_none());
            assert!(conn.poll_timeout().is_none());
        }
    }
});
