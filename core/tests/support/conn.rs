//! A scenario builder for `Connection` tests: a fake clock, exact wire bytes,
//! and events summarised as short strings so whole sequences compare at once.

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http::{HeaderValue, Method, Uri};
use roundtrip_core::conn::{BodyChunk, Connection, ConnectionConfig, Event, ExchangeId};
use roundtrip_core::proto::{BodyLength, RequestHead};

/// A connection with a clock at `t0 + offset`.
pub(crate) struct Script {
    pub conn: Connection,
    pub t0: Instant,
    pub now: Instant,
    pub id: Option<ExchangeId>,
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

impl Script {
    pub(crate) fn new(config: ConnectionConfig) -> Self {
        let t0 = Instant::now();
        Self { conn: Connection::new(config), t0, now: t0, id: None }
    }

    /// A script whose config is the default changed by `change`.
    pub(crate) fn with(change: impl FnOnce(&mut ConnectionConfig)) -> Self {
        let mut config = ConnectionConfig::default();
        change(&mut config);
        Self::new(config)
    }

    pub(crate) fn default() -> Self {
        Self::new(ConnectionConfig::default())
    }

    /// Moves the clock to `t0 + offset`.
    pub(crate) fn at(&mut self, offset: Duration) -> &mut Self {
        self.now = self.t0 + offset;
        self
    }

    pub(crate) fn id(&self) -> ExchangeId {
        self.id.expect("no request sent")
    }

    /// Queues a request; `headers` are `(name, value)` pairs.
    pub(crate) fn send(&mut self, method: Method, headers: &[(&str, &str)], body: BodyLength) -> ExchangeId {
        let mut head = RequestHead::new(method, Uri::from_static("http://example.com/"));
        for (name, value) in headers {
            head.headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let id = self.conn.send_request(&head, body).unwrap();
        self.id = Some(id);
        id
    }

    /// Writes everything queued, as a socket that takes it all would.
    pub(crate) fn flush(&mut self) -> Vec<u8> {
        self.flush_at_most(usize::MAX)
    }

    /// Writes at most `limit` bytes.
    pub(crate) fn flush_at_most(&mut self, limit: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        while wire.len() < limit {
            let Some(mut tx) = self.conn.poll_transmit(self.now) else { break };
            let n = tx.chunk().len().min(limit - wire.len());
            wire.extend_from_slice(&tx.chunk()[..n]);
            tx.advance(n);
        }
        wire
    }

    pub(crate) fn flush_text(&mut self) -> String {
        String::from_utf8(self.flush()).unwrap()
    }

    pub(crate) fn read(&mut self, bytes: &[u8]) -> &mut Self {
        self.conn.handle_read(self.now, bytes);
        self
    }

    pub(crate) fn eof(&mut self) -> &mut Self {
        self.conn.handle_eof(self.now);
        self
    }

    pub(crate) fn timeout(&mut self) -> &mut Self {
        self.conn.handle_timeout(self.now);
        self
    }

    pub(crate) fn data(&mut self, bytes: &'static [u8]) {
        self.conn.send_data(self.id(), Bytes::from_static(bytes)).unwrap();
    }

    pub(crate) fn finish(&mut self) {
        self.conn.finish(self.id(), None).unwrap();
    }

    /// Drains the events, summarised.
    pub(crate) fn events(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.conn.poll_event()).map(|e| summary(&e)).collect()
    }

    /// Reads the body until `End`, `Pending` or an error; summarised.
    pub(crate) fn body(&mut self) -> (Vec<u8>, String) {
        let mut body = Vec::new();
        loop {
            match self.conn.read_body(self.now, self.id(), usize::MAX) {
                Ok(BodyChunk::Data(d) | BodyChunk::Last(d)) => body.extend_from_slice(&d),
                Ok(BodyChunk::Trailers(t)) => {
                    body.extend_from_slice(format!("<{} trailers>", t.len()).as_bytes())
                }
                Ok(BodyChunk::End) => return (body, "End".into()),
                Ok(BodyChunk::Pending) => return (body, "Pending".into()),
                Err(e) => return (body, format!("Err {:?}", e.kind)),
            }
        }
    }

    // ----- fast-forwards to the state a test starts in -----

    /// A GET written, waiting for the response head.
    pub(crate) fn awaiting_head(&mut self) -> &mut Self {
        self.send(Method::GET, &[], BodyLength::Empty);
        self.flush();
        self.events();
        self
    }

    /// A GET answered with a head announcing `content-length: len`, no body yet.
    pub(crate) fn receiving_body(&mut self, len: usize) -> &mut Self {
        self.awaiting_head();
        self.read(format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n").as_bytes());
        self.events();
        self
    }

    /// A PUT with `Expect: 100-continue` whose head was written.
    pub(crate) fn awaiting_continue(&mut self, body: &'static [u8]) -> &mut Self {
        self.send(Method::PUT, &[("expect", "100-continue")], BodyLength::Known(body.len() as u64));
        self.flush();
        self.events();
        self
    }

    /// One complete GET with a 2-byte body; the connection is idle after it.
    pub(crate) fn complete_one(&mut self) -> &mut Self {
        self.awaiting_head();
        self.read(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        self.events();
        assert_eq!(self.body(), (b"ok".to_vec(), "End".into()));
        self.events();
        assert!(self.conn.is_reusable());
        self
    }
}

/// A one-line description of an event.
pub(crate) fn summary(event: &Event) -> String {
    match event {
        Event::HeadSent { .. } => "HeadSent".into(),
        Event::RequestSent { .. } => "RequestSent".into(),
        Event::BodyAllowed { reason, .. } => format!("BodyAllowed {reason:?}"),
        Event::Informational { head, .. } => format!("Informational {}", head.status().as_u16()),
        Event::Response { head, body, .. } => format!("Response {} {body:?}", head.status().as_u16()),
        Event::BodyReadable { .. } => "BodyReadable".into(),
        Event::RequestBodyRejected { .. } => "RequestBodyRejected".into(),
        Event::Finished { .. } => "Finished".into(),
        Event::Failed { error, .. } => format!(
            "Failed {:?} written={} received={} reused={}",
            error.kind, error.request_bytes_written, error.response_bytes_received, error.connection_reused
        ),
        Event::Closed { reason } => format!("Closed {reason:?}"),
        other => format!("{other:?}"),
    }
}
