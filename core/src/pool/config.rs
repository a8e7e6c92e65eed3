//! `PoolConfig`: the pool's limits and timeouts.

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

/// Limits and timeouts of a [`Pool`](super::Pool).
///
/// Build it from [`PoolConfig::default()`] and the `with_*` setters (or assign the public
/// fields). A limit of `0` on an idle count means "keep no idle connection" (Go treats
/// zero as "use the default"; we do not, a zero should mean zero).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Most connections per key, counting dialing, active and idle ones together
    /// (Go `MaxConnsPerHost`). `None`, the default, is unlimited. Checkouts beyond it
    /// wait in a FIFO queue for a dial slot.
    pub max_conns_per_host: Option<NonZeroUsize>,
    /// Most idle connections kept per key; a connection that would exceed it is closed
    /// (Go `MaxIdleConnsPerHost`). Default 32, not Go's 2, which closes connections a busy
    /// client needs a moment later.
    pub max_idle_per_host: usize,
    /// Most idle connections kept across all keys; past it the least recently used idle
    /// connection of any key is closed (Go `MaxIdleConns`). Default 256.
    pub max_idle: usize,
    /// How long a connection may sit idle before it is closed (Go `IdleConnTimeout`).
    /// Default 90 s; `None` keeps idle connections until another limit closes them.
    pub idle_timeout: Option<Duration>,
    /// A connection that has served this many requests is closed when released instead
    /// of being reused. Default `None` (no limit).
    pub max_requests_per_conn: Option<NonZeroU64>,
    /// A connection older than this, measured from its successful dial, is not reused:
    /// closed when released, or closed while idle. Default `None` (no limit).
    pub max_conn_lifetime: Option<Duration>,
    /// How long a checkout may wait for a connection before it fails with
    /// [`WaitFailure::Timeout`](super::WaitFailure::Timeout). Go has no such limit; default
    /// `None`.
    pub wait_timeout: Option<Duration>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_conns_per_host: None,
            max_idle_per_host: 32,
            max_idle: 256,
            idle_timeout: Some(Duration::from_secs(90)),
            max_requests_per_conn: None,
            max_conn_lifetime: None,
            wait_timeout: None,
        }
    }
}

impl PoolConfig {
    /// Sets [`max_conns_per_host`](Self::max_conns_per_host).
    #[must_use]
    pub fn with_max_conns_per_host(mut self, limit: Option<NonZeroUsize>) -> Self {
        self.max_conns_per_host = limit;
        self
    }

    /// Sets [`max_idle_per_host`](Self::max_idle_per_host).
    #[must_use]
    pub fn with_max_idle_per_host(mut self, limit: usize) -> Self {
        self.max_idle_per_host = limit;
        self
    }

    /// Sets [`max_idle`](Self::max_idle).
    #[must_use]
    pub fn with_max_idle(mut self, limit: usize) -> Self {
        self.max_idle = limit;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`max_requests_per_conn`](Self::max_requests_per_conn).
    #[must_use]
    pub fn with_max_requests_per_conn(mut self, limit: Option<NonZeroU64>) -> Self {
        self.max_requests_per_conn = limit;
        self
    }

    /// Sets [`max_conn_lifetime`](Self::max_conn_lifetime).
    #[must_use]
    pub fn with_max_conn_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_conn_lifetime = lifetime;
        self
    }

    /// Sets [`wait_timeout`](Self::wait_timeout).
    #[must_use]
    pub fn with_wait_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.wait_timeout = timeout;
        self
    }
}
