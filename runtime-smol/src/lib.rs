//! roundtrip on smol: an HTTP/1.1 client with a Go-grade connection pool, on
//! the async-io reactor (smol's and async-std's) and any executor.
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
//! # smol::block_on(async {
//! let client = roundtrip_smol::Client::new();
//! let response = client.get(url).await?;
//! println!("{}", response.status());
//! print!("{}", response.into_body().text(1 << 20).await?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Your executor
//! By default the client's background tasks (dials, the reading out of
//! cancelled bodies, the idle reaper) run on a small executor of this
//! crate's own, on one thread. To run them on an executor of yours, give
//! the client an `Arc<async_executor::Executor>` (smol's `Executor` is the
//! same type) when you build it, and keep the executor running while the
//! client is in use (its dials are tasks there). When your requests run on
//! that executor too, on one thread, a new connection no longer goes to the
//! default executor's thread and back: in the `load` tool's `Connection:
//! close` benchmark (a dial per request) that took 37% off the CPU time:
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
//! use std::sync::Arc;
//!
//! let executor = Arc::new(smol::Executor::new());
//! let runtime = roundtrip_smol::Smol(executor.clone());
//! let client = roundtrip_core::client::ClientBuilder::with_runtime(runtime).build();
//! smol::block_on(executor.run(async {
//!     let response = client.get(url).await?;
//!     print!("{}", response.into_body().text(1 << 20).await?);
//!     Ok::<(), roundtrip_smol::Error>(())
//! }))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # async-std
//! async-std is discontinued upstream, but it runs on the same async-io reactor,
//! so this crate works under it as is: drive requests with
//! `async_std::task::block_on` or inside its tasks. To run the client's
//! background tasks on async-std's executor too, give it a [`Spawn`]:
//!
//! ```
//! #[derive(Clone, Copy, Default)]
//! struct AsyncStd;
//!
//! impl roundtrip_smol::Spawn for AsyncStd {
//!     fn spawn<F>(&self, future: F)
//!     where
//!         F: std::future::Future<Output = ()> + Send + 'static,
//!     {
//!         async_std::task::spawn(future);
//!     }
//! }
//!
//! let client = roundtrip_core::client::Client::<roundtrip_smol::Smol<AsyncStd>>::new();
//! # drop(client);
//! ```
//! The test suite runs the whole engine test list both ways.
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
//! Everything HTTP lives in `roundtrip-core`; this crate only provides the
//! runtime ([`Smol`]) and its sockets ([`SmolIo`]).
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
//! let client = roundtrip_smol::Client::builder()
//!     .proxy(roundtrip_smol::Proxy::parse("http://user:secret@proxy.internal:3128")?)
//!     .build();
//! let response = client.get("http://example.com/").await?;
//! # Ok(()) }
//! ```
// One `unsafe` line, in `tcp.rs`, with its reason; none anywhere else.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod io;
mod runtime;
mod tcp;

/// The executor crate [`Spawn`] is implemented for (smol re-exports the
/// same `Executor`), so a program names the version this crate uses.
pub use async_executor;
pub use io::SmolIo;
pub use runtime::{GlobalExecutor, Smol, SmolSleep, Spawn};

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

/// An HTTP/1.1 client on smol: async-io, spawning on [`GlobalExecutor`]
/// (`roundtrip_core::client::Client<Smol<S>>` spawns with `S`).
pub type Client = roundtrip_core::client::Client<Smol>;
/// Builds a [`Client`].
pub type ClientBuilder = roundtrip_core::client::ClientBuilder<Smol>;
/// A response body on smol.
pub type Body = roundtrip_core::client::Body<Smol>;
/// A [`Client`] handle that does not keep the pool alive.
pub type WeakClient = roundtrip_core::client::WeakClient<Smol>;
