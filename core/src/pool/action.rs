//! What the pool hands out: ids, leases, checkout results and actions for the engine.

use std::time::Duration;

macro_rules! pool_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Ids carry a generation: once the thing they name is gone, the id goes stale and
        /// the pool ignores it, even after its slot is reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            pub(crate) index: u32,
            pub(crate) generation: u32,
        }

        impl $name {
            /// A small dense index, reused once the thing this id names is gone; the engine
            /// can keep its own per-id state in a `Vec` indexed by it.
            #[must_use]
            pub fn index(self) -> usize {
                self.index as usize
            }
        }
    };
}

pool_id!(
    /// A checkout that is waiting for a connection ([`Checkout::Waiting`]).
    WaiterId
);
pool_id!(
    /// A dial the engine was asked to start ([`PoolAction::StartDial`]).
    DialId
);
pool_id!(
    /// A connection the pool counts, from its successful dial until it is gone.
    ConnId
);

/// The result of [`Pool::checkout`](super::Pool::checkout).
#[derive(Debug, PartialEq, Eq)]
pub enum Checkout {
    /// An idle connection was free: use it now.
    Ready(Lease),
    /// No idle connection: the waiter will get exactly one outcome from
    /// [`Pool::poll_action`](super::Pool::poll_action), [`PoolAction::Deliver`] or
    /// [`PoolAction::Fail`], unless it is cancelled first.
    Waiting(WaiterId),
}

/// The right to use one connection for one request.
///
/// Give it back with [`Pool::release`](super::Pool::release) exactly once, when the
/// exchange is over (with `reusable = false` if the connection is closed). The connection
/// counts against its key's limit until then.
#[must_use = "a lease must be given back with Pool::release, or the connection leaks its slot"]
#[derive(Debug, PartialEq, Eq)]
pub struct Lease {
    pub(crate) conn: ConnId,
    pub(crate) requests_served: u64,
    pub(crate) idle_for: Option<Duration>,
}

impl Lease {
    /// The leased connection.
    #[must_use]
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// Whether the connection served a request before this one. A failure on a reused
    /// connection is what makes a request retryable (docs/go-transport.md RETRY-1).
    #[must_use]
    pub fn was_reused(&self) -> bool {
        self.requests_served > 0
    }

    /// How long the connection sat idle, if it was taken from the idle list (Go's
    /// `GotConnInfo.IdleTime`); `None` for a fresh dial or a direct hand-off.
    #[must_use]
    pub fn idle_for(&self) -> Option<Duration> {
        self.idle_for
    }

    /// How many leases on this connection were released before this one.
    #[must_use]
    pub fn requests_served(&self) -> u64 {
        self.requests_served
    }
}

/// Why a waiter got no connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitFailure {
    /// The dial started for this waiter failed; the engine holds that dial's error.
    Dial(DialId),
    /// The waiter waited longer than [`PoolConfig::wait_timeout`](super::PoolConfig::wait_timeout).
    Timeout,
}

/// Why the pool closed a connection it was not asked to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvictReason {
    /// Idle longer than `idle_timeout`.
    IdleTimeout,
    /// Released or dialed while its key already held `max_idle_per_host` idle connections.
    TooManyIdleForHost,
    /// The least recently used idle connection, closed to stay within `max_idle`.
    TooManyIdle,
    /// Older than `max_conn_lifetime`.
    Lifetime,
    /// Served `max_requests_per_conn` requests.
    MaxRequests,
    /// Closed by [`Pool::close_idle`](super::Pool::close_idle), or released while its
    /// effect lasts.
    CloseIdle,
}

/// Work for the engine, drained with [`Pool::poll_action`](super::Pool::poll_action).
#[derive(Debug, PartialEq, Eq)]
pub enum PoolAction<K> {
    /// Connect to `key`, then report the result exactly once with
    /// [`Pool::dial_succeeded`](super::Pool::dial_succeeded) or
    /// [`Pool::dial_failed`](super::Pool::dial_failed), even if the waiter it was for is
    /// gone (the connection then feeds the next waiter or the idle list).
    StartDial {
        /// The dial to report on.
        dial: DialId,
        /// Where to connect.
        key: K,
    },
    /// Wake `waiter` with `lease`. If the waiter is gone by then, give the lease back with
    /// `release(now, lease, true)`.
    Deliver {
        /// The waiter served.
        waiter: WaiterId,
        /// Its connection.
        lease: Lease,
    },
    /// Wake `waiter` with an error; it gets nothing else.
    Fail {
        /// The waiter failed.
        waiter: WaiterId,
        /// Why.
        cause: WaitFailure,
    },
    /// Close the connection's socket and forget it: the pool no longer counts it and its
    /// id is stale.
    Close {
        /// The connection, idle or just released.
        conn: ConnId,
        /// Why.
        reason: EvictReason,
    },
    /// Abort the connect task of `dial` (no waiter needs it any more). The engine still
    /// reports how the dial ended, normally with `dial_failed`.
    CancelDial {
        /// The dial to abort.
        dial: DialId,
    },
}
