//! roundtrip on Tokio: an HTTP/1.1 client with a Go-grade connection pool.
//!
//! ```
//! # use std::io::{Read, Write};
//! # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! # let url = format!("http://{}/", listener.local_addr()?);
//! # std::thread::spawn(move || {
//! #     let (mut socket, _) = listener.accept().unwrap();
//! #     let _ = socket.read(&mut [0; 1024]);
//! #     socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n").unwrap();
//! # });
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let client = roundtrip_tokio::Client::new();
//! let response = client.get(url).await?;
//! println!("{}", response.status());
//! print!("{}", response.into_body().text(1 << 20).await?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A POST, and a body streamed from a channel of chunks:
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use roundtrip_tokio::{Client, Full};
//!
//! let client = Client::builder()
//!     .max_conns_per_host(Some(16))
//!     .response_head_timeout(Some(Duration::from_secs(10)))
//!     .build();
//! let response = client.post("http://127.0.0.1:8080/upload").body("hello").await?;
//! assert!(response.status().is_success());
//!
//! // Any `http_body::Body` streams; this one yields three chunks, sent chunked.
//! struct Chunks(Vec<&'static str>);
//! impl http_body::Body for Chunks {
//!     type Data = bytes::Bytes;
//!     type Error = std::convert::Infallible;
//!     fn poll_frame(
//!         mut self: std::pin::Pin<&mut Self>,
//!         _: &mut std::task::Context<'_>,
//!     ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
//!         let next = (!self.0.is_empty()).then(|| self.0.remove(0));
//!         std::task::Poll::Ready(next.map(|s| Ok(http_body::Frame::data(bytes::Bytes::from(s)))))
//!     }
//! }
//! let request = http::Request::post("http://127.0.0.1:8080/upload").body(Chunks(vec!["a", "b", "c"]))?;
//! let response = client.request(request).await?;
//! let _ = response.into_body().bytes(1 << 20).await?;
//! # let _ = Full::from("unused");
//! # Ok(())
//! # }
//! ```
//!
//! # https
//! The `rustls` feature adds TLS for `https://` URLs: rustls in
//! `roundtrip-core` over this crate's sockets, with aws-lc-rs's crypto and
//! the operating system's certificate verifier (feature `webpki-roots` for
//! Mozilla's roots instead, where the system has none). `ClientBuilder::tls_config` takes a
//! `rustls::ClientConfig` for anything else (your roots, client
//! certificates, key logging). TLS failures are connect errors;
//! `Error::tls_error` says what went wrong.
//!
//! # Proxies
//! By default a client takes its proxies from the environment, as curl and
//! Go do: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (and their
//! lower-case forms; loopback hosts always connect directly). `http://`,
//! `https://` (TLS to the proxy), `socks5://` and `socks5h://` proxies work,
//! with credentials in the URL. `http://` requests are forwarded to an HTTP
//! proxy; `https://` ones go through a `CONNECT` tunnel with TLS to the
//! origin inside it. A refused tunnel is a connect error whose
//! `Error::proxy_error` holds the proxy's status and fields.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let client = roundtrip_tokio::Client::builder()
//!     .proxy(roundtrip_tokio::Proxy::parse("http://user:secret@proxy.internal:3128")?)
//!     .build();
//! let response = client.get("http://example.com/").await?;
//! # Ok(()) }
//! ```
//!
//! Everything HTTP lives in `roundtrip-core`; this crate only provides the
//! runtime ([`Tokio`]) and its sockets ([`TokioIo`]). It works on the
//! current-thread and the multi-thread runtime; create clients inside one.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod io;
mod runtime;

pub use io::TokioIo;
pub use runtime::{Tokio, TokioSleep};

#[cfg(feature = "gzip")]
pub use roundtrip_core::client::DecompressionLimit;
/// Which redirects a client follows ([`redirect::Policy`]), and where a
/// response came from ([`redirect::Redirects`]).
pub use roundtrip_core::client::redirect;
pub use roundtrip_core::client::{
    BoxError, Connect, ConnectFuture, Counts, Empty, Error, Evictions, Full, Io, KeyStats, OnInformational,
    PoolStats, RequestTimeout, Target, Timeout, Timings, Trace, TraceEvent, Upgraded, WaitHistogram,
    dial_tcp, upgrade,
};
#[cfg(feature = "rustls")]
pub use roundtrip_core::client::{TlsError, TlsErrorKind, TlsInfo};
pub use roundtrip_core::proxy::{NoProxy, Proxies, Proxy, ProxyError, ProxyErrorKind, ProxyKind};

/// An HTTP/1.1 client on Tokio.
pub type Client = roundtrip_core::client::Client<Tokio>;
/// Builds a [`Client`].
pub type ClientBuilder = roundtrip_core::client::ClientBuilder<Tokio>;
/// A response body on Tokio.
pub type Body = roundtrip_core::client::Body<Tokio>;
/// A [`Client`] handle that does not keep the pool alive.
pub type WeakClient = roundtrip_core::client::WeakClient<Tokio>;
