//! roundtrip: an HTTP/1.1 client with Go's connection pool, built Sans-IO.
//!
//! The protocol and the pool are pure state machines in `roundtrip-core`; this
//! crate picks the runtime (feature `tokio`, the default, or `smol`, which
//! also serves async-std and any async-executor), TLS (`rustls`), JSON
//! (`json`), decompression (`gzip`, default) and tower (`tower`), and gives the
//! everyday API. Requests are `http::Request`s and responses
//! `http::Response`s, so nothing is hidden: the builder below only builds one.
//!
//! # A GET
//! ```
//! # fn server() -> String {
//! #     use std::io::{Read, Write};
//! #     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! #     let url = format!("http://{}/", listener.local_addr().unwrap());
//! #     std::thread::spawn(move || {
//! #         let (mut socket, _) = listener.accept().unwrap();
//! #         let _ = socket.read(&mut [0; 1024]);
//! #         socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n").unwrap();
//! #     });
//! #     url
//! # }
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), roundtrip::Error> {
//! #   let url = server();
//!     let client = roundtrip::Client::new();
//!     let response = client.get(url).await?;
//!     println!("{}", response.status());
//!     print!("{}", response.into_body().text(1 << 20).await?);
//!     Ok(())
//! }
//! ```
//!
//! The same on smol (feature `smol`; with `tokio` off it is `roundtrip::Client`):
//! ```
//! # fn server() -> String {
//! #     use std::io::{Read, Write};
//! #     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! #     let url = format!("http://{}/", listener.local_addr().unwrap());
//! #     std::thread::spawn(move || {
//! #         let (mut socket, _) = listener.accept().unwrap();
//! #         let _ = socket.read(&mut [0; 1024]);
//! #         socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n").unwrap();
//! #     });
//! #     url
//! # }
//! # #[cfg(not(feature = "smol"))] fn main() {}
//! # #[cfg(feature = "smol")]
//! fn main() -> Result<(), roundtrip::Error> {
//! #   let url = server();
//!     let client = roundtrip::smol::Client::new();
//!     smol::block_on(async {
//!         let response = client.get(url).await?;
//!         print!("{}", response.into_body().text(1 << 20).await?);
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # A POST with JSON, fields, a timeout
//! With the `json` feature and the [prelude]:
//! ```no_run
//! # #[cfg(feature = "json")]
//! # async fn f() -> Result<(), roundtrip::Error> {
//! use std::time::Duration;
//! use roundtrip::prelude::*;
//!
//! #[derive(serde::Serialize)]
//! struct Item<'a> { name: &'a str }
//! #[derive(serde::Deserialize)]
//! struct Created { id: u64 }
//!
//! let client = roundtrip::Client::new();
//! let created: Created = client
//!     .post("https://api.example.com/items")
//!     .bearer_auth("token")
//!     .json(&Item { name: "spoon" })
//!     .timeout(Duration::from_secs(10))
//!     .send()
//!     .await?
//!     .json(1 << 20)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Settings
//! [`Client::builder`] sets the pool (per-host limits with a FIFO queue,
//! idle limits and timeouts, as Go's Transport has them), timeouts (connect,
//! TLS handshake, response head, body idle, total), retries of requests that
//! die on a stale pooled connection, `Expect: 100-continue`, TLS and proxies:
//! ```no_run
//! use std::time::Duration;
//! let client = roundtrip::Client::builder()
//!     .max_conns_per_host(Some(32))
//!     .connect_timeout(Some(Duration::from_secs(5)))
//!     .response_head_timeout(Some(Duration::from_secs(30)))
//!     .build();
//! ```
//!
//! # Streaming
//! A response [`Body`] streams (it is an `http_body::Body`; `chunk()` reads
//! the next piece) and gives its connection back to the pool at its end. A
//! request body is any `http_body::Body`, sent chunked when its length is
//! unknown: build an `http::Request` and call [`Client::request`].
//!
//! # TLS and proxies
//! With `rustls`, `https://` works over either runtime (rustls in
//! roundtrip-core, aws-lc-rs, the system's verifier); `ClientBuilder::tls_config`
//! takes a `rustls::ClientConfig` (`roundtrip::rustls` is the same rustls) for custom roots or client certificates,
//! and every response of a TLS connection carries a `TlsInfo`. Proxies come
//! from `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (as curl and
//! Go read them), or from `ClientBuilder::proxy` with a [`Proxy`]: `http`,
//! `https`, `socks5` and `socks5h`.
//!
//! # Redirects
//! Followed by default with Go's `http.Client` rules: up to 10 hops, 301-303
//! turn into a GET without the body, 307 and 308 resend it, credentials stay
//! with their host, and https never leads to http unless allowed. A response
//! reached through redirects carries [`redirect::Redirects`] (every URL, the
//! final one last).
//! ```no_run
//! use roundtrip::redirect::Policy;
//! let client = roundtrip::Client::builder().redirect(Policy::limited(3)).build();
//! let curl_like = roundtrip::Client::builder().redirect(Policy::none()).build();
//! ```
//!
//! # Compressed bodies
//! With the `gzip` feature (on by default) the client offers
//! `Accept-Encoding: gzip, deflate` when you set none, and decodes those
//! bodies while they stream; `Content-Encoding` and `Content-Length` are then
//! removed from the response; features `brotli` and `zstd` add those
//! codings. A bomb fails with a decode error
//! (`ClientBuilder::decompression_limits`); `disable_compression()` turns it off.
//!
//! # Upgrades and tunnels
//! A `101 Switching Protocols` (to a request with `Upgrade`, a WebSocket
//! handshake say) or a `2xx` to `CONNECT` hands the connection over:
//! [`Body::upgrade`](client::Body::upgrade) gives an [`Upgraded`] with the
//! bytes already read behind the head, out of the pool. It reads and writes
//! on any runtime; `roundtrip::tokio::TokioIo(upgraded)` and
//! `roundtrip::smol::SmolIo(upgraded)` make it a Tokio or futures-io stream.
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let client = roundtrip::Client::new();
//! let response = client
//!     .get("http://127.0.0.1:8080/chat")
//!     .header("connection", "upgrade")
//!     .header("upgrade", "websocket")
//!     .header("sec-websocket-version", "13")
//!     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
//!     .send()
//!     .await?;
//! let mut io = response.into_body().upgrade().ok_or("the server did not switch")?;
//! io.write_all(&[0x81, 0x80, 0, 0, 0, 0]).await?; // an empty text frame
//! # Ok(()) }
//! ```
//!
//! # tower
//! With the `tower` feature the client is a `tower_service::Service` for
//! `http::Request`s, so tower and tower-http middleware stack over it.
//!
//! # Tracing a request, custom I/O
//! A [`Trace`] extension (`.extension(Trace(...))` on the builder) reports
//! each phase: connection obtained (reused or not, how long it idled or
//! waited), head written, first byte, response head, retries, body done.
//! A [`Connect`] of your own opens connections over any transport (an
//! in-memory pipe, a TLS library of your choice) and can wrap the built-in
//! dial ([`dial_tcp`]); `roundtrip-core` drives a connection with no
//! runtime at all, bytes in and bytes out.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(any(feature = "tokio", feature = "smol")))]
compile_error!("roundtrip needs a runtime: enable the `tokio` (default) or the `smol` feature");

#[cfg(feature = "json")]
mod json;
mod response;

pub use bytes;
pub use http;
pub use http_body;
/// The client generic over its runtime (`client::Client<R>`), for code that
/// runs on either, or on a runtime of its own.
pub use roundtrip_core::client;
#[cfg(feature = "gzip")]
pub use roundtrip_core::client::DecompressionLimit;
/// Which redirects a client follows ([`redirect::Policy`]), and where a
/// response came from ([`redirect::Redirects`]).
pub use roundtrip_core::client::redirect;
pub use roundtrip_core::client::{
    BoxError, Connect, ConnectFuture, Counts, Empty, Error, Evictions, Full, Io, KeyStats, OnInformational,
    PoolStats, RequestTimeout, Runtime, Target, Timeout, Timings, Trace, TraceEvent, Upgraded, WaitHistogram,
    dial_tcp, upgrade,
};
#[cfg(any(feature = "rustls", feature = "webpki-roots"))]
pub use roundtrip_core::client::{TlsError, TlsErrorKind, TlsInfo};
pub use roundtrip_core::proxy::{NoProxy, Proxies, Proxy, ProxyError, ProxyErrorKind, ProxyKind};
#[cfg(any(feature = "rustls", feature = "webpki-roots"))]
pub use roundtrip_core::rustls;
#[cfg(feature = "smol")]
pub use roundtrip_smol as smol;
#[cfg(feature = "tokio")]
pub use roundtrip_tokio as tokio;

#[cfg(feature = "json")]
pub use json::RequestBuilderExt;
pub use response::ResponseExt;

/// The runtime [`Client`] runs on: Tokio with the `tokio` feature, else smol.
#[cfg(feature = "tokio")]
pub type DefaultRuntime = roundtrip_tokio::Tokio;
/// The runtime [`Client`] runs on: Tokio with the `tokio` feature, else smol.
#[cfg(all(feature = "smol", not(feature = "tokio")))]
pub type DefaultRuntime = roundtrip_smol::Smol;

/// An HTTP/1.1 client with a connection pool on the [`DefaultRuntime`];
/// cheap to clone (clones share the pool). `Client::new()` for the defaults,
/// [`Client::builder`] for settings. The other runtime's is
/// `roundtrip::smol::Client` (or `roundtrip::tokio::Client`); code generic
/// over the runtime uses `roundtrip_core::client::Client<R>`.
pub type Client = roundtrip_core::client::Client<DefaultRuntime>;
/// Builds a [`Client`].
pub type ClientBuilder = roundtrip_core::client::ClientBuilder<DefaultRuntime>;
/// A request being put together by `client.get(url)` and its siblings.
pub type RequestBuilder = roundtrip_core::client::RequestBuilder<DefaultRuntime>;
/// The future of a sent request: named, `Send`, `'static`.
pub type ResponseFuture = roundtrip_core::client::ResponseFuture<DefaultRuntime>;
/// A response body: streams, and returns its connection to the pool at its end.
pub type Body = roundtrip_core::client::Body<DefaultRuntime>;
/// A response: an `http::Response` with a streaming [`Body`].
pub type Response = http::Response<Body>;

/// The extension traits, for `use roundtrip::prelude::*;`: `response.text()`
/// and, with `json`, `.json()` on requests and responses.
pub mod prelude {
    #[cfg(feature = "json")]
    pub use crate::json::RequestBuilderExt as _;
    pub use crate::response::ResponseExt as _;
}
