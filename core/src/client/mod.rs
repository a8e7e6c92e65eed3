//! The client engine: a `Client` over any async runtime, built on the pure
//! layers of this crate and two small traits an adapter implements
//! ([`Runtime`], [`Io`]). It names no runtime crate.
//!
//! # The hot path
//! A request checks a connection out of the pool and its own future drives
//! that connection: it writes the head and body and reads the response head;
//! the response [`Body`] then owns the connection and gives it back to the pool
//! at its end. No task and no channel per request. Only dials (which outlive
//! the request that started them, as in Go 1.23), draining after a cancel, and
//! one reaper of idle connections per client run as tasks.
//!
//! Adapters: `roundtrip-tokio` and `roundtrip-smol` (which also runs under
//! async-std). Their crate docs show the client in use.

mod body;
mod config;
mod connect;
#[cfg(feature = "gzip")]
mod decode;
mod engine;
mod error;
mod full;
mod io;
mod leased;
mod options;
pub mod redirect;
mod request;
mod request_builder;
mod runtime;
#[cfg(feature = "tower")]
mod service;
mod tasks;
#[cfg(feature = "rustls")]
mod tls;
mod trace;
mod tunnel;
mod upgrade;
mod upload;
mod wait;

use std::future::Future;
use std::sync::Arc;

use http::{Method, Request, Response, Uri};

pub use body::Body;
pub use config::ClientBuilder;
pub use connect::{Connect, ConnectFuture, Target, dial_tcp};
#[cfg(feature = "gzip")]
pub use decode::DecompressionLimit;
pub use error::{BoxError, Error, Timeout};
pub use full::{Empty, Full};
pub use options::{InformationalCallback, OnInformational, RequestTimeout};
pub use request_builder::{RequestBuilder, ResponseFuture};
pub use runtime::{Io, Runtime, Sleep};
#[cfg(feature = "rustls")]
pub use tls::{TlsError, TlsErrorKind, TlsInfo};
pub use trace::{Timings, Trace, TraceCallback, TraceEvent};
pub use upgrade::{Upgraded, upgrade};

pub use crate::pool::{Counts, Evictions, KeyStats, PoolStats, WaitHistogram};

use config::ClientConfig;
use connect::Connector;
use engine::Engine;

/// An HTTP/1.1 client with a connection pool. Cheap to clone; clones share
/// the pool.
pub struct Client<R: Runtime> {
    engine: Arc<Engine<R>>,
}

impl<R: Runtime> std::fmt::Debug for Client<R> {
    /// Shows the pool's counts, which is what tells one client from another.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("pool", &self.pool_stats()).finish_non_exhaustive()
    }
}

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Self { engine: self.engine.clone() }
    }
}

impl<R: Runtime + Default> Client<R> {
    /// A client with default settings.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a client with custom settings.
    pub fn builder() -> ClientBuilder<R> {
        ClientBuilder::with_runtime(R::default())
    }
}

impl<R: Runtime + Default> Default for Client<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Runtime> Client<R> {
    pub(crate) fn from_parts(runtime: R, config: ClientConfig, connector: Connector) -> Self {
        Self { engine: Arc::new(Engine::new(runtime, config, connector)) }
    }

    /// Sends `request` and returns the response once its head arrived; read
    /// the body from the response. The future may be dropped at any point:
    /// that cancels the request (see the crate docs on cancellation).
    pub fn request<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<Body<R>>, Error>> + Send + 'static + use<R, B>
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        request::send(self.engine.clone(), request)
    }

    /// `GET url`: a [`RequestBuilder`] to add to, send, or `.await` as is.
    /// `url` is a `&str`, a `String` or a `Uri`; one that does not parse
    /// fails the request with an invalid-request error.
    ///
    /// ```no_run
    /// # async fn f<R: roundtrip_core::client::Runtime + Default>() -> Result<(), roundtrip_core::client::Error> {
    /// let client = roundtrip_core::client::Client::<R>::new();
    /// let response = client.get("http://127.0.0.1:8080/").await?;
    /// # Ok(()) }
    /// ```
    pub fn get<U: TryInto<Uri, Error: Into<http::Error>>>(&self, url: U) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), Method::GET, url)
    }

    /// `HEAD url`; see [`get`](Self::get).
    pub fn head<U: TryInto<Uri, Error: Into<http::Error>>>(&self, url: U) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), Method::HEAD, url)
    }

    /// `POST url`; give the body with [`RequestBuilder::body`].
    pub fn post<U: TryInto<Uri, Error: Into<http::Error>>>(&self, url: U) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), Method::POST, url)
    }

    /// `PUT url`; give the body with [`RequestBuilder::body`].
    pub fn put<U: TryInto<Uri, Error: Into<http::Error>>>(&self, url: U) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), Method::PUT, url)
    }

    /// `PATCH url`; give the body with [`RequestBuilder::body`].
    pub fn patch<U: TryInto<Uri, Error: Into<http::Error>>>(&self, url: U) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), Method::PATCH, url)
    }

    /// `DELETE url`; see [`get`](Self::get).
    pub fn delete<U: TryInto<Uri, Error: Into<http::Error>>>(&self, url: U) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), Method::DELETE, url)
    }

    /// A request with any method; see [`get`](Self::get).
    pub fn method<U: TryInto<Uri, Error: Into<http::Error>>>(
        &self,
        method: Method,
        url: U,
    ) -> RequestBuilder<R> {
        RequestBuilder::new(self.clone(), method, url)
    }

    /// Counts of idle, active, dialing and waiting connections now, and of
    /// what happened since the client was built (dials, reuses, evictions by
    /// reason, retries, pool waits with their histogram), across all hosts.
    pub fn pool_stats(&self) -> PoolStats {
        self.engine.stats()
    }

    /// [`pool_stats`](Self::pool_stats) for each host (each pool key: scheme,
    /// host, port and proxy) the pool holds a connection or a waiter for.
    /// A host's counts start when it was last unused (see [`KeyStats::counts`]).
    pub fn pool_stats_by_host(&self) -> Vec<(Target, KeyStats)> {
        self.engine.host_stats()
    }

    /// Recounts the pool's state from scratch and compares it with its
    /// running counts; `Err` names the first rule broken. For the simulation
    /// and fuzz tests: it walks the whole pool under the lock.
    #[doc(hidden)]
    pub fn check_pool_invariants(&self) -> Result<(), String> {
        self.engine.check_invariants()
    }

    /// Closes every idle connection (Go's CloseIdleConnections); connections in
    /// use are not touched.
    pub fn close_idle(&self) {
        self.engine.close_idle();
    }

    /// A handle that does not keep the client alive, for observers such as a
    /// metrics reporter: once every `Client` clone is dropped, the pool closes
    /// and [`WeakClient::upgrade`] returns `None`. (A background task of the
    /// client may hold it for the length of one poll, so "once" can be a
    /// moment after the last drop.)
    pub fn downgrade(&self) -> WeakClient<R> {
        WeakClient { engine: Arc::downgrade(&self.engine) }
    }
}

/// A [`Client`] that does not keep its pool alive; see [`Client::downgrade`].
pub struct WeakClient<R: Runtime> {
    engine: std::sync::Weak<Engine<R>>,
}

impl<R: Runtime> WeakClient<R> {
    /// The client, if any clone of it is still alive.
    pub fn upgrade(&self) -> Option<Client<R>> {
        self.engine.upgrade().map(|engine| Client { engine })
    }
}

impl<R: Runtime> Clone for WeakClient<R> {
    fn clone(&self) -> Self {
        Self { engine: self.engine.clone() }
    }
}

impl<R: Runtime> std::fmt::Debug for WeakClient<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeakClient").field("alive", &(self.engine.strong_count() > 0)).finish()
    }
}
