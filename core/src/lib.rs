//! roundtrip-core: the Sans-IO heart of roundtrip, an HTTP/1.1 client transport.
//!
//! Three pure layers, each a state machine that never does I/O, never reads a
//! clock, never sleeps, spawns or locks:
//!
//! - [`proto`]: the wire format. Request heads encoded and validated, response
//!   heads parsed with httparse (zero-copy), body framing as RFC 9112 §6.3, the
//!   length, chunked and close-delimited codecs.
//! - [`conn`]: one client connection ([`conn::Connection`]): keep-alive and
//!   reuse, `Expect: 100-continue`, 1xx, early responses, cancellation, timers.
//! - [`pool`]: Go's connection-pool policy over keys, ids and `Instant`s
//!   ([`pool::Pool`]), plus happy-eyeballs address racing.
//!
//! # The run loop
//! Every machine follows one discipline: time is an argument (`now`), inputs
//! are `handle_*` calls, commands are verbs, and after **every** call the
//! driver drains `poll_transmit`, then `poll_timeout`, then `poll_event` (or
//! `poll_action`). Nothing happens between calls.
//!
//! # A GET and an `Expect: 100-continue` POST, through bytes only
//! ```
//! use std::time::Instant;
//! use bytes::{Buf, Bytes};
//! use http::{Method, Uri};
//! use roundtrip_core::conn::{BodyChunk, Connection, ConnectionConfig, Event};
//! use roundtrip_core::proto::{BodyLength, RequestHead};
//!
//! // Writes everything the connection queued, as a socket taking it all would.
//! fn written(conn: &mut Connection, now: Instant) -> Vec<u8> {
//!     let mut wire = Vec::new();
//!     while let Some(mut tx) = conn.poll_transmit(now) {
//!         let n = tx.chunk().len();
//!         wire.extend_from_slice(tx.chunk());
//!         tx.advance(n);
//!     }
//!     wire
//! }
//!
//! let now = Instant::now();
//! let mut conn = Connection::new(ConnectionConfig::default());
//!
//! // GET: the head goes out, the response comes in, the body is pulled.
//! let get = RequestHead::new(Method::GET, Uri::from_static("http://example.com/hello"));
//! let id = conn.send_request(&get, BodyLength::Empty)?;
//! assert_eq!(written(&mut conn, now), b"GET /hello HTTP/1.1\r\nhost: example.com\r\n\r\n");
//! conn.handle_read(now, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
//! assert!(matches!(conn.poll_event(), Some(Event::HeadSent { .. })));
//! assert!(matches!(conn.poll_event(), Some(Event::RequestSent { .. })));
//! let Some(Event::Response { head, .. }) = conn.poll_event() else { unreachable!() };
//! assert_eq!(head.status(), 200);
//! // A body of known length ends with its last bytes: the connection is
//! // free again before the reader asks for more.
//! assert_eq!(conn.read_body(now, id, 1024)?, BodyChunk::Last(Bytes::from_static(b"hello")));
//! assert!(matches!(conn.poll_event(), Some(Event::Finished { .. })));
//! assert_eq!(conn.read_body(now, id, 1024)?, BodyChunk::End);
//! assert!(conn.is_reusable());
//!
//! // POST with Expect: 100-continue: the body waits for the server's go-ahead.
//! let mut post = RequestHead::new(Method::POST, Uri::from_static("http://example.com/upload"));
//! post.headers.insert("expect", "100-continue".parse()?);
//! let id = conn.send_request(&post, BodyLength::Known(4))?;
//! conn.send_data(id, Bytes::from_static(b"data"))?;
//! conn.finish(id, None)?;
//! assert_eq!(
//!     written(&mut conn, now),
//!     b"POST /upload HTTP/1.1\r\nhost: example.com\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n",
//! );
//! conn.handle_read(now, b"HTTP/1.1 100 Continue\r\n\r\n");
//! assert_eq!(written(&mut conn, now), b"data");
//! conn.handle_read(now, b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
//! let events: Vec<Event> = std::iter::from_fn(|| conn.poll_event()).collect();
//! assert!(matches!(events.last(), Some(Event::Finished { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
pub mod conn;
pub mod pool;
pub mod proto;
pub mod proxy;

/// The rustls this crate's TLS layer is built on, for the
/// `rustls::ClientConfig` that `ClientBuilder::tls_config` takes.
#[cfg(feature = "rustls")]
pub use rustls;
