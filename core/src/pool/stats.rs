//! Counts for observability (`Client::pool_stats()`): live ones read off the
//! pool's lists, cumulative ones kept in total and per key.

use std::time::Duration;

use super::EvictReason;

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
    /// What happened since the pool was created.
    pub counts: Counts,
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
    /// What happened since the key was last unused. A key with no connection
    /// and no waiter is forgotten (as Go deletes its per-host entries), so a
    /// client that talks to many hosts does not grow; its counts then restart.
    pub counts: Counts,
}

/// Cumulative counts, in total or for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Dials started.
    pub dials: u64,
    /// Dials reported failed.
    pub dial_failures: u64,
    /// Leases handed out for a connection that had served a request before.
    pub reuses: u64,
    /// Connections the pool closed, by reason.
    pub evictions: Evictions,
    /// Requests sent again after their reused connection failed
    /// (counted by the client with [`Pool::record_retry`](super::Pool::record_retry)).
    pub retries: u64,
    /// Waiters that got a connection.
    pub waits: u64,
    /// Time those waiters spent waiting, summed.
    pub total_wait_time: Duration,
    /// How long those waiters waited.
    pub wait_histogram: WaitHistogram,
    /// Waiters failed by `wait_timeout`.
    pub wait_timeouts: u64,
}

impl Counts {
    pub(super) fn evicted(&mut self, reason: EvictReason) {
        let e = &mut self.evictions;
        *match reason {
            EvictReason::IdleTimeout => &mut e.idle_timeout,
            EvictReason::Lifetime => &mut e.lifetime,
            EvictReason::TooManyIdleForHost => &mut e.max_idle_per_host,
            EvictReason::TooManyIdle => &mut e.max_idle,
            EvictReason::MaxRequests => &mut e.max_requests,
            EvictReason::CloseIdle => &mut e.close_idle,
        } += 1;
    }

    pub(super) fn waited(&mut self, wait: Duration) {
        self.waits += 1;
        self.total_wait_time += wait;
        self.wait_histogram.record(wait);
    }
}

/// Connections the pool closed, one count per [`EvictReason`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Evictions {
    /// Idle longer than `idle_timeout`.
    pub idle_timeout: u64,
    /// Older than `max_conn_lifetime`.
    pub lifetime: u64,
    /// Over `max_idle_per_host`.
    pub max_idle_per_host: u64,
    /// The least recently used, over `max_idle`.
    pub max_idle: u64,
    /// Served `max_requests_per_conn` requests.
    pub max_requests: u64,
    /// Closed by `close_idle`.
    pub close_idle: u64,
}

impl Evictions {
    /// All of them.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.idle_timeout
            + self.lifetime
            + self.max_idle_per_host
            + self.max_idle
            + self.max_requests
            + self.close_idle
    }

    /// Those closed because time passed (`idle_timeout`, `max_conn_lifetime`)
    /// rather than to respect a limit.
    #[must_use]
    pub fn expired(&self) -> u64 {
        self.idle_timeout + self.lifetime
    }
}

/// Pool waits by duration in power-of-two buckets from 50 µs: fixed size,
/// no allocation, cheap to record under the pool's lock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitHistogram {
    counts: [u64; WaitHistogram::BUCKETS],
}

impl WaitHistogram {
    const BUCKETS: usize = 24;
    const FIRST: Duration = Duration::from_micros(50);

    fn record(&mut self, wait: Duration) {
        // Bucket i holds waits up to FIRST * 2^i; the last one, anything longer.
        let units = wait.as_nanos().div_ceil(Self::FIRST.as_nanos()).max(1);
        let bucket = (u128::BITS - (units - 1).leading_zeros()) as usize;
        self.counts[bucket.min(Self::BUCKETS - 1)] += 1;
    }

    /// Each bucket's upper bound and count, shortest first; the last bound is
    /// `Duration::MAX`.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.counts.iter().enumerate().map(|(i, &count)| {
            let bound = if i == Self::BUCKETS - 1 { Duration::MAX } else { Self::FIRST * (1u32 << i) };
            (bound, count)
        })
    }

    /// The upper bound of the bucket that holds the `q` quantile (0.0 to
    /// 1.0) of the waits: at most twice the true value. `None` with no waits.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return None;
        }
        // The rank of the quantile, 1-based: the smallest count that covers it.
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        self.buckets()
            .find(|&(_, count)| {
                seen += count;
                seen >= rank
            })
            .map(|(bound, _)| bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_land_in_power_of_two_buckets() {
        let mut h = WaitHistogram::default();
        for us in [0, 50, 51, 100, 101, 3_000_000_000] {
            h.record(Duration::from_micros(us));
        }
        let counts: Vec<(Duration, u64)> = h.buckets().filter(|&(_, c)| c > 0).collect();
        assert_eq!(
            counts,
            [
                (Duration::from_micros(50), 2),
                (Duration::from_micros(100), 2),
                (Duration::from_micros(200), 1),
                (Duration::MAX, 1)
            ]
        );
        assert_eq!(h.quantile(0.5), Some(Duration::from_micros(100)));
        assert_eq!(h.quantile(1.0), Some(Duration::MAX));
        assert_eq!(WaitHistogram::default().quantile(0.5), None);
    }
}
