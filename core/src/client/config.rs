//! Client settings and their builder.

use std::num::{NonZeroU64, NonZeroUsize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue, USER_AGENT};

use super::Client;
use super::connect::{Connect, Connector};
use super::redirect::Policy;
use super::runtime::Runtime;
use crate::conn::ConnectionConfig;
use crate::pool::PoolConfig;
use crate::proto::DefaultFields;
use crate::proxy::{Proxies, Proxy};

/// Everything a [`Client`] is configured with.
#[derive(Clone, Debug)]
pub(crate) struct ClientConfig {
    pub(crate) pool: PoolConfig,
    pub(crate) conn: Arc<ConnectionConfig>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) max_retries: u32,
    pub(crate) retry_buffer: usize,
    pub(crate) disable_keep_alives: bool,
    pub(crate) happy_eyeballs_delay: Duration,
    pub(crate) drain_timeout: Duration,
    pub(crate) proxies: Proxies,
    pub(crate) redirect: Policy,
    /// Fields every request gets unless it sets them; checked and encoded
    /// into `conn.default_fields` by `build`.
    pub(crate) default_headers: HeaderMap,
    /// Decode the codings the client offers itself, within these limits;
    /// `None` offers none.
    #[cfg(feature = "gzip")]
    pub(crate) decompression: Option<super::decode::Limits>,
    /// The configuration given with `tls_config`; `None` means the default.
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    /// `danger_accept_invalid_certificates`, applied to whichever
    /// configuration is in place at the first `https` dial.
    #[cfg(feature = "rustls")]
    pub(crate) accept_invalid_certificates: bool,
    /// What [`tls`](Self::tls) settled on, once asked.
    #[cfg(feature = "rustls")]
    tls_settled: std::sync::OnceLock<Option<Arc<rustls::ClientConfig>>>,
    #[cfg(feature = "rustls")]
    pub(crate) tls_handshake_timeout: Option<Duration>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        let conn = Arc::new(ConnectionConfig::default());
        let mut default_headers = HeaderMap::new();
        let user_agent = HeaderValue::from_static(concat!("roundtrip/", env!("CARGO_PKG_VERSION")));
        default_headers.insert(USER_AGENT, user_agent);
        #[cfg(feature = "gzip")]
        default_headers
            .insert(http::header::ACCEPT_ENCODING, HeaderValue::from_static(super::decode::ACCEPT_ENCODING));
        Self {
            pool: PoolConfig::default(),
            conn,
            connect_timeout: Some(Duration::from_secs(30)),
            total_timeout: None,
            max_retries: 8,
            retry_buffer: 64 * 1024,
            disable_keep_alives: false,
            happy_eyeballs_delay: crate::pool::HappyEyeballs::DEFAULT_ATTEMPT_DELAY,
            drain_timeout: Duration::from_millis(100),
            proxies: Proxies::from_env(),
            redirect: Policy::default(),
            default_headers,
            #[cfg(feature = "gzip")]
            decompression: Some(super::decode::Limits::default()),
            #[cfg(feature = "rustls")]
            tls: None,
            #[cfg(feature = "rustls")]
            accept_invalid_certificates: false,
            #[cfg(feature = "rustls")]
            tls_settled: std::sync::OnceLock::new(),
            #[cfg(feature = "rustls")]
            tls_handshake_timeout: Some(Duration::from_secs(10)),
        }
    }
}

#[cfg(feature = "rustls")]
impl ClientConfig {
    /// The configuration for `https` targets over the built-in dialer (`None`
    /// refuses them): the one given, or the default, settled at the first
    /// `https` dial. Loading the system's roots costs milliseconds of CPU
    /// that a client only ever sending `http` should not pay.
    pub(crate) fn tls(&self) -> Option<Arc<rustls::ClientConfig>> {
        let settle = || {
            let tls = self.tls.clone().or_else(default_tls);
            if self.accept_invalid_certificates {
                return tls.as_deref().map(super::tls::accepting_any_certificate);
            }
            tls
        };
        self.tls_settled.get_or_init(settle).clone()
    }
}

/// The default TLS configuration, built once per process: with a crypto
/// provider feature, the system's verifier (`platform-verifier`) or Mozilla's
/// roots (`webpki-roots`); otherwise none (https then needs
/// [`ClientBuilder::tls_config`]).
#[cfg(feature = "rustls")]
fn default_tls() -> Option<Arc<rustls::ClientConfig>> {
    #[cfg(any(feature = "platform-verifier", feature = "webpki-roots"))]
    {
        static DEFAULT: std::sync::OnceLock<Option<Arc<rustls::ClientConfig>>> = std::sync::OnceLock::new();
        DEFAULT.get_or_init(super::tls::default_config).clone()
    }
    #[cfg(not(any(feature = "platform-verifier", feature = "webpki-roots")))]
    None
}

/// A `max_idle_per_host` above the total `max_idle` would silently not take
/// effect: raise the total when it was left at its default, else say so.
fn reconcile_idle_limits(pool: &mut PoolConfig, max_idle_set: bool) {
    if pool.max_idle_per_host > pool.max_idle {
        if max_idle_set {
            tracing::warn!(
                max_idle = pool.max_idle,
                max_idle_per_host = pool.max_idle_per_host,
                "max_idle caps max_idle_per_host"
            );
        } else {
            pool.max_idle = pool.max_idle_per_host;
        }
    }
}

/// Builds a [`Client`]. Every setting has a default that works; see each
/// method. One meaning throughout: a count limit of `None` is no limit and
/// `Some(n)` at most `n` (idle counts, which have finite defaults, take a
/// plain number, 0 for none); a timeout of `None` waits forever.
#[must_use]
pub struct ClientBuilder<R: Runtime> {
    runtime: R,
    config: ClientConfig,
    connector: Connector,
    /// Whether `max_idle` was chosen, not left at its default.
    max_idle_set: bool,
}

impl<R: Runtime> std::fmt::Debug for ClientBuilder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<R: Runtime> ClientBuilder<R> {
    /// A builder with default settings on `runtime`.
    pub fn with_runtime(runtime: R) -> Self {
        Self { runtime, config: ClientConfig::default(), connector: Connector::Tcp, max_idle_set: false }
    }

    /// Connections per host, counting those being dialed, in use and idle;
    /// requests beyond it wait in FIFO order. `None`, the default, is no
    /// limit (Go's MaxConnsPerHost). A limit is at least 1: `Some(0)` would
    /// leave the host unreachable, so it is taken as 1, with a warning.
    pub fn max_conns_per_host(mut self, max: Option<usize>) -> Self {
        self.config.pool.max_conns_per_host = max.map(|n| {
            NonZeroUsize::new(n).unwrap_or_else(|| {
                tracing::warn!("max_conns_per_host(Some(0)) would never connect; using 1");
                NonZeroUsize::MIN
            })
        });
        self
    }

    /// Idle connections kept per host: 32 by default (Go keeps 2, which causes
    /// connection churn under bursts, golang/go#13801); 0 keeps none. When it
    /// is above [`max_idle`](Self::max_idle) and that was left at its
    /// default, `max_idle` is raised to match, so the setting takes effect.
    pub fn max_idle_per_host(mut self, max: usize) -> Self {
        self.config.pool.max_idle_per_host = max;
        self
    }

    /// Idle connections kept across hosts, least recently used evicted: 256;
    /// 0 keeps none.
    pub fn max_idle(mut self, max: usize) -> Self {
        self.config.pool.max_idle = max;
        self.max_idle_set = true;
        self
    }

    /// How long an idle connection is kept: 90 s; `None` keeps it until the
    /// server closes it.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.pool.idle_timeout = timeout;
        self
    }

    /// Closes a connection after it served this many requests. `None`, the
    /// default, is no limit; `Some(0)` is taken as 1, with a warning.
    pub fn max_requests_per_conn(mut self, max: Option<u64>) -> Self {
        self.config.pool.max_requests_per_conn = max.map(|n| {
            NonZeroU64::new(n).unwrap_or_else(|| {
                tracing::warn!("max_requests_per_conn(Some(0)) would never send; using 1");
                NonZeroU64::MIN
            })
        });
        self
    }

    /// Closes a connection this long after it was opened, so DNS changes are
    /// picked up (golang/go#23427). Unlimited by default.
    pub fn max_conn_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.config.pool.max_conn_lifetime = lifetime;
        self
    }

    /// How long a request may wait for a connection when the per-host limit is
    /// reached. Unlimited by default.
    pub fn pool_wait_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.pool.wait_timeout = timeout;
        self
    }

    /// How long to open a connection (resolution and TCP): 30 s.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How long to wait for the response head once the request is written.
    /// None by default (Go's ResponseHeaderTimeout).
    pub fn response_head_timeout(mut self, timeout: Option<Duration>) -> Self {
        Arc::make_mut(&mut self.config.conn).response_head_timeout = timeout;
        self
    }

    /// How long the response body may go without bytes while the caller
    /// waits for them (a caller busy with a chunk is not a stalled server).
    /// None by default.
    pub fn body_read_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        Arc::make_mut(&mut self.config.conn).body_read_idle_timeout = timeout;
        self
    }

    /// A deadline for each whole request, from the call to the end of the
    /// response body, pool wait included (Go's Client.Timeout). None by default.
    pub fn total_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.total_timeout = timeout;
        self
    }

    /// How long to hold a body sent with `Expect: 100-continue` for the
    /// server's answer: 1 s. `None` waits for the answer however long it
    /// takes; `Some(Duration::ZERO)` sends the body at once (Go's 0).
    pub fn expect_continue_timeout(mut self, timeout: Option<Duration>) -> Self {
        Arc::make_mut(&mut self.config.conn).expect_continue_timeout = timeout.unwrap_or(Duration::MAX);
        self
    }

    /// After a response body is dropped unread, read and discard up to this
    /// many remaining bytes (of a known length, within 100 ms) to reuse the
    /// connection instead of closing it. Off by default, as in Go.
    pub fn drain_on_cancel(mut self, max_bytes: Option<u64>) -> Self {
        Arc::make_mut(&mut self.config.conn).drain_on_cancel = max_bytes;
        self
    }

    /// Automatic resends of a request whose pooled connection failed under it
    /// before any response byte, when nothing was sent or the request is
    /// replayable (see `conn::retry`). Go resends as long as the failed
    /// connection came from the pool, which after a server restart means one
    /// resend per stale connection; this caps that: 8. Zero disables retries.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.config.max_retries = retries;
        self
    }

    /// Request body bytes kept while sending so the request can be replayed on
    /// retry: 64 KiB. Larger bodies are not retried once sent.
    pub fn retry_buffer(mut self, bytes: usize) -> Self {
        self.config.retry_buffer = bytes;
        self
    }

    /// A header added to every request that does not set it.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.config.default_headers.insert(name, value);
        self
    }

    /// The `User-Agent` sent when the request has none: `roundtrip/<version>`.
    /// `None` sends none.
    pub fn user_agent(mut self, value: Option<HeaderValue>) -> Self {
        match value {
            Some(value) => self.config.default_headers.insert(USER_AGENT, value),
            None => self.config.default_headers.remove(USER_AGENT),
        };
        self
    }

    /// Sends `Connection: close` on every request and never pools a connection
    /// (Go's DisableKeepAlives).
    pub fn disable_keep_alives(mut self, disable: bool) -> Self {
        self.config.disable_keep_alives = disable;
        self
    }

    /// Limits on response heads: total bytes (64 KiB) and fields (100).
    pub fn max_response_head(mut self, bytes: usize, fields: usize) -> Self {
        Arc::make_mut(&mut self.config.conn).head_limits.max_head_bytes = bytes;
        Arc::make_mut(&mut self.config.conn).head_limits.max_headers = fields;
        self
    }

    /// Delay before racing the next address of a host (RFC 8305): 250 ms.
    pub fn happy_eyeballs_delay(mut self, delay: Duration) -> Self {
        self.config.happy_eyeballs_delay = delay;
        self
    }

    /// Connects every request to the Unix domain socket at `path` (the URI
    /// still gives `Host` and the pool key).
    pub fn unix_socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.connector = Connector::Unix(path.into());
        self
    }

    /// Opens connections with `connector`: TLS, a proxy tunnel, an in-memory
    /// transport, anything that yields an [`Io`](super::Io).
    pub fn connector(mut self, connector: impl Connect) -> Self {
        self.connector = Connector::Custom(Arc::new(connector));
        self
    }

    /// Sends every request through `proxy`, whatever its host (Go's
    /// `ProxyURL`). Replaces the proxies taken from the environment.
    ///
    /// ```
    /// # fn f<R: roundtrip_core::client::Runtime>(builder: roundtrip_core::client::ClientBuilder<R>) -> Result<(), Box<dyn std::error::Error>> {
    /// use roundtrip_core::proxy::Proxy;
    /// let client = builder.proxy(Proxy::parse("http://user:secret@proxy.internal:3128")?).build();
    /// # Ok(()) }
    /// ```
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.config.proxies = Proxies::all(proxy);
        self
    }

    /// The proxies to use, per scheme, and the hosts that bypass them.
    /// By default they come from the environment when the builder is made
    /// ([`Proxies::from_env`]: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, as curl and Go read them).
    pub fn proxies(mut self, proxies: Proxies) -> Self {
        self.config.proxies = proxies;
        self
    }

    /// Stops offering and decoding compressed bodies: no `Accept-Encoding`
    /// is added, and bodies arrive as the server sent them (Go's
    /// `DisableCompression`).
    #[cfg(feature = "gzip")]
    pub fn disable_compression(mut self) -> Self {
        self.config.decompression = None;
        self.config.default_headers.remove(http::header::ACCEPT_ENCODING);
        self
    }

    /// Limits on what a compressed body may decode to, against
    /// decompression bombs: `max_bytes` decoded bytes per body (default
    /// none) and `max_ratio` decoded bytes per compressed byte once past
    /// 1 MiB (default 100). Past either, reading the body fails with an
    /// error that [`Error::is_decode`](super::Error::is_decode) recognises,
    /// its source a [`DecompressionLimit`](super::DecompressionLimit).
    #[cfg(feature = "gzip")]
    pub fn decompression_limits(mut self, max_bytes: Option<u64>, max_ratio: Option<u64>) -> Self {
        if let Some(limits) = self.config.decompression.as_mut() {
            *limits = super::decode::Limits { max_bytes, max_ratio };
        }
        self
    }

    /// Which redirects to follow: by default up to 10, by Go's rules (see
    /// [`redirect`](super::redirect)); `Policy::none()` returns every 3xx.
    pub fn redirect(mut self, policy: Policy) -> Self {
        self.config.redirect = policy;
        self
    }

    /// Connects straight to every host, ignoring the environment's proxies.
    pub fn no_proxy(mut self) -> Self {
        self.config.proxies = Proxies::none();
        self
    }

    /// The TLS configuration for `https` targets: custom roots, client
    /// certificates, key logging, another crypto provider. ALPN is set to
    /// `http/1.1` whatever `config` offers; sessions resume across the
    /// client's connections through the config's session store.
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.config.tls = Some(super::tls::for_http1(&config));
        self
    }

    /// Turns certificate verification off: any certificate, for any name,
    /// from any issuer, expired or not, is accepted. `https` then stops
    /// nothing but a passive eavesdropper. For a tool's `--insecure` and for
    /// tests; the name says so wherever it is called. Applies to the
    /// default configuration or the one given to
    /// [`tls_config`](Self::tls_config), in either order; handshake
    /// signatures are still checked.
    #[cfg(feature = "rustls")]
    pub fn danger_accept_invalid_certificates(mut self) -> Self {
        tracing::warn!("TLS certificate verification is off for this client");
        self.config.accept_invalid_certificates = true;
        self
    }

    /// How long a TLS handshake may take (Go's TLSHandshakeTimeout, 10 s by
    /// default). It also counts toward the connect timeout.
    #[cfg(feature = "rustls")]
    pub fn tls_handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.tls_handshake_timeout = timeout;
        self
    }

    /// The client.
    pub fn build(mut self) -> Client<R> {
        reconcile_idle_limits(&mut self.config.pool, self.max_idle_set);
        // `HeaderName` and `HeaderValue` cannot hold what the check refuses,
        // so this keeps every field; a refused one would be left out, loudly.
        Arc::make_mut(&mut self.config.conn).default_fields =
            DefaultFields::new(&self.config.default_headers).unwrap_or_else(|error| {
                tracing::warn!(%error, "default fields left out");
                DefaultFields::default()
            });
        Client::from_parts(self.runtime, self.config, self.connector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A per-host idle limit above the default total raises the total; an
    /// explicit total is kept (and warned about).
    #[test]
    fn idle_limits_are_reconciled() {
        let mut pool = PoolConfig { max_idle_per_host: 1000, ..PoolConfig::default() };
        reconcile_idle_limits(&mut pool, false);
        assert_eq!(pool.max_idle, 1000);
        let mut pool = PoolConfig { max_idle_per_host: 1000, max_idle: 10, ..PoolConfig::default() };
        reconcile_idle_limits(&mut pool, true);
        assert_eq!(pool.max_idle, 10);
        let mut pool = PoolConfig::default();
        reconcile_idle_limits(&mut pool, false);
        assert_eq!(pool.max_idle, PoolConfig::default().max_idle);
    }
}
