//! Counts for observability (`Client::pool_stats()`).

use std::time::Duration;

/// Totals across all keys, from [`Pool::stats`](super::Pool::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections in the idle lists now.
    pub idle: usize,
    /// Connections leased out now.
    pub active: usize,
    /// Dials started and not yet reported.
    pub dialing: usize,
    /// Checkouts waiting now.
    pub waiting: usize,
    /// Distinct keys with anything counted or waiting.
    pub keys: usize,
    /// Dials started, ever.
    pub dials: u64,
    /// Dials reported failed, ever.
    pub dial_failures: u64,
    /// Leases handed out for a connection that had served a request before.
    pub reuses: u64,
    /// Idle or released connections closed to respect a limit (per-host or total idle,
    /// requests per connection) or by `close_idle`.
    pub evictions: u64,
    /// Connections closed because `idle_timeout` or `max_conn_lifetime` passed.
    pub expiries: u64,
    /// Waiters that got a connection.
    pub waits: u64,
    /// Time those waiters spent waiting, summed.
    pub total_wait_time: Duration,
    /// Waiters failed by `wait_timeout`.
    pub wait_timeouts: u64,
}

/// Counts for one key, from [`Pool::key_stats`](super::Pool::key_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStats {
    /// Connections counted against `max_conns_per_host`: dialing + active + idle.
    pub conns: usize,
    /// Idle connections.
    pub idle: usize,
    /// Leased connections.
    pub active: usize,
    /// Dials in flight.
    pub dialing: usize,
    /// Checkouts waiting.
    pub waiting: usize,
    /// Of those, the ones queued for a dial slot (`max_conns_per_host` reached).
    pub waiting_for_slot: usize,
}
