//! `Pool<K>`: Go's HTTP/1.1 connection-pool policy as a pure data structure.
//!
//! The pool sees keys, ids and `now`: never a socket, a channel, a task, a lock or a
//! clock. The engine keeps sockets and wakers in its own tables, indexed by the ids the
//! pool hands out. The contract is Go 1.23's `Transport`; rule N below is POOL-N of
//! docs/go-transport.md, and the Go function each rule mirrors is named in brackets.
//!
//! # Rules
//! 1. **Idle reuse is most recently used first.** `checkout` takes the key's newest idle
//!    connection; idle entries found expired (`idle_timeout`, `max_conn_lifetime`) on the
//!    way are closed and skipped. (Go `queueForIdleConn`)
//! 2. **Dial racing.** A checkout that finds no idle connection becomes a waiter that queues
//!    for an idle connection *and* for a dial at once; whichever connection comes first
//!    serves it. A dial whose waiter was served or left is not cancelled: it completes and
//!    feeds the next waiter or the idle list (Go 1.23, golang/go#59017).
//!    (Go `getConn`, `queueForDial`, `dialConnFor`)
//! 3. **Hand-off before idle.** A released reusable connection or a new one goes to the
//!    oldest live waiter of its key; only when nobody waits does it become idle.
//!    (Go `tryPutIdleConn`, `tryDeliver`)
//! 4. **Per-key cap.** `max_conns_per_host` counts dialing + active + idle connections. A
//!    waiter that finds the key full queues FIFO for a dial slot; a closed connection or a
//!    failed dial hands its slot straight to the first slot-waiter (which starts its dial,
//!    the count unchanged), else the count drops. (Go `queueForDial`, `decConnsPerHost`)
//! 5. **Idle limits.** Idle insertion closes the newcomer past `max_idle_per_host` and the
//!    least recently used idle connection of any key past `max_idle`; idle connections
//!    expire after `idle_timeout` through `poll_timeout`/`handle_timeout`. A connection
//!    past `max_requests_per_conn` or `max_conn_lifetime` is closed instead of reused.
//!    (Go `tryPutIdleConn`, `closeConnIfStillIdle`)
//! 6. **Wait timeout.** With `wait_timeout` set, a waiter that waited that long fails
//!    with [`WaitFailure::Timeout`]. (Go has no such limit; users ask for one.)
//! 7. **A failed dial fails one waiter**: the waiter that depends on it, if still waiting.
//!    Otherwise its slot goes to the next slot-waiter, which starts a dial. Everybody
//!    else keeps waiting. (Go `dialConnFor`)
//! 8. **Exactly one outcome per waiter**: [`PoolAction::Deliver`] or [`PoolAction::Fail`],
//!    or nothing once cancelled. (Go `wantConn.tryDeliver`, `wantConn.cancel`)
//!
//! # Invariants (checked by `check_invariants` in the tests and the fuzz target)
//! - Per key, `conns == dialing + active + idle <= max_conns_per_host`; no count underflows.
//! - A key with idle connections has no waiters (hand-off comes first).
//! - Every live waiter has exactly one way to a new connection: a dial it owns, or a place
//!   in its key's slot queue. Waiters that own a dial are all older than the ones queued
//!   for a slot, so a connection handed to the oldest waiter can always pass that waiter's
//!   claim on to the one it was dialed for.
//! - After `handle_timeout(now)`, `poll_timeout()` is `None` or later than `now`.
//!
//! # Driving it
//! Call `checkout` per request. Drain [`Pool::poll_action`] after every call and act on
//! each action (start or cancel a connect task, wake a waiter, close a socket). Report
//! every started dial exactly once, with `dial_succeeded` or `dial_failed`. Give every
//! lease back with `release`. Arm a timer for [`Pool::poll_timeout`] and call
//! `handle_timeout` when it fires. `now` must never go backwards.
//!
//! # Where we choose differently from Go, and why
//! - **Strict FIFO hand-off.** Go gives a dialed connection to the waiter it was dialed
//!   for, even when an older waiter exists. We give every connection to the oldest
//!   waiter, so waiting time is first come, first served. The waiter the dial was for
//!   then takes over the served waiter's claim (its own dial, or its place in the slot
//!   queue), so nobody is left without a way to a connection. "The waiter a dial is for"
//!   in rule 7 follows that transfer.
//! - **Eager unlinking.** Every queue is an intrusive list, so a cancelled or served
//!   waiter leaves all its queues at once in O(1), where Go trims dead entries lazily
//!   from the fronts (`cleanFrontNotWaiting`). Same order, and a queue never holds more
//!   than its live waiters.
//! - **`close_idle` works like Go's `CloseIdleConnections`:** it closes every idle
//!   connection, cancels the dials no waiter owns, and until the next `checkout`
//!   connections that would become idle are closed instead (hand-off to a waiter still
//!   happens). Leased connections are untouched.
//! - A dial reported after [`PoolAction::CancelDial`] is handled like any other: a
//!   success still serves a waiter or goes idle (or is closed while `close_idle` lasts).
//! - A zero `max_idle` or `max_idle_per_host` keeps no idle connection (Go reads zero as
//!   "default").
//! - `conn_closed` on a leased connection is ignored: its holder ends it with
//!   `release(now, lease, false)`.
//!
//! # Cost
//! `checkout` from the idle list and `release` to a waiter or the idle list are O(1), one
//! hash lookup (checkout only) and no allocation once the pool has seen its peak number
//! of keys, connections and waiters (hot path: see `benches/pool.rs`). Keys with nothing
//! counted and nobody waiting are forgotten and their slots recycled.

mod action;
mod config;
mod dial;
mod entries;
mod invariants;
mod list;
mod slab;
mod stats;
mod transitions;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::Hash;
use std::time::{Duration, Instant};
use transitions::Returned;

pub use action::{Checkout, ConnId, DialId, EvictReason, Lease, PoolAction, WaitFailure, WaiterId};
pub use config::PoolConfig;
pub use dial::{AllAttemptsFailed, AttemptId, DialAction, HappyEyeballs};
pub use stats::{Counts, Evictions, KeyStats, PoolStats, WaitHistogram};

use entries::{Conn, ConnList, ConnState, Dial, KeyState, Started, Waiter, WaiterList};
use list::IndexList;
use slab::Slab;

/// Go's connection-pool policy over keys `K` (scheme, host, port, proxy); see the
/// module doc for its rules.
///
/// Inputs are verbs (`checkout`, `release`, ...) and `handle_timeout`; outputs are drained
/// with `poll_action` and `poll_timeout`. Every input takes `now` first; nothing here
/// reads a clock. Unknown or stale ids are ignored (logged at debug level), never a panic.
///
/// One request's round trip, as the engine drives it (`now` comes from its runtime):
///
/// ```
/// use std::time::Instant;
/// use roundtrip_core::pool::{Checkout, Pool, PoolAction, PoolConfig};
///
/// let mut pool = Pool::new(PoolConfig::default());
/// let now = Instant::now();
/// // No idle connection yet: the request waits, and the pool asks for a dial.
/// let Checkout::Waiting(waiter) = pool.checkout(now, "example.com:443") else { unreachable!() };
/// let Some(PoolAction::StartDial { dial, key }) = pool.poll_action() else { unreachable!() };
/// assert_eq!(key, "example.com:443");
/// // The engine runs the dial in a task, which reports back.
/// let conn = pool.dial_succeeded(now, dial).expect("a dial the pool started");
/// // The new connection goes to the oldest waiter of its key: ours.
/// let Some(PoolAction::Deliver { waiter: served, lease }) = pool.poll_action() else { unreachable!() };
/// assert_eq!((served, lease.conn()), (waiter, conn));
/// // ... the request runs on `conn`; then the connection goes back, idle.
/// pool.release(now, lease, true);
/// assert_eq!(pool.stats().idle, 1);
/// // The next checkout of the key reuses it at once.
/// let Checkout::Ready(lease) = pool.checkout(now, "example.com:443") else { unreachable!() };
/// assert!(lease.was_reused());
/// pool.release(now, lease, true);
/// ```
pub struct Pool<K: Clone + Eq + Hash> {
    config: PoolConfig,
    /// Key -> slot in `key_states`; holds only keys in use.
    keys: HashMap<K, u32>,
    /// The slot the last lookup found: checked before hashing, as most
    /// clients talk to one host at a time (see `slot_of`).
    last_slot: u32,
    key_states: Vec<KeyState<K>>,
    /// Slots of `key_states` free for the next new key.
    free_keys: Vec<u32>,
    conns: Slab<Conn>,
    waiters: Slab<Waiter>,
    dials: Slab<Dial>,
    /// Idle connections of all keys, least recently used first.
    lru: IndexList<ConnList>,
    /// Connections in dial order, only with `max_conn_lifetime` set.
    by_age: IndexList<ConnList>,
    /// Waiters in checkout order, only with `wait_timeout` set.
    by_deadline: IndexList<WaiterList>,
    /// Dials in start order.
    started: IndexList<Started>,
    /// `close_idle` was called and no checkout came since (Go `closeIdle`).
    closing_idle: bool,
    actions: VecDeque<PoolAction<K>>,
    /// Cumulative counts across keys; the live ones are read off the lists by `stats()`.
    counters: Counts,
}

impl<K: Clone + Eq + Hash> Pool<K> {
    /// An empty pool.
    #[must_use]
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            keys: HashMap::new(),
            last_slot: 0,
            key_states: Vec::new(),
            free_keys: Vec::new(),
            conns: Slab::new(),
            waiters: Slab::new(),
            dials: Slab::new(),
            lru: IndexList::new(ConnList::Lru),
            by_age: IndexList::new(ConnList::Age),
            by_deadline: IndexList::new(WaiterList::Deadline),
            started: IndexList::new(Started),
            closing_idle: false,
            actions: VecDeque::new(),
            counters: Counts::default(),
        }
    }

    /// The configuration the pool was built with.
    #[must_use]
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Asks for a connection to `key` (Go `getConn`).
    ///
    /// Returns [`Checkout::Ready`] with the key's most recently used idle connection
    /// (expired ones met on the way are closed: drain `poll_action`). Otherwise returns
    /// [`Checkout::Waiting`]: the waiter queues for an idle connection and, at the same
    /// time, either a [`PoolAction::StartDial`] is queued for it or, at
    /// `max_conns_per_host`, it queues for a dial slot. It then gets exactly one
    /// `Deliver` or `Fail`, unless [`cancel_waiter`](Self::cancel_waiter) comes first.
    ///
    /// Also ends the effect of a previous [`close_idle`](Self::close_idle).
    pub fn checkout(&mut self, now: Instant, key: K) -> Checkout {
        self.closing_idle = false;
        // Hot path: one lookup, pop the newest idle connection, no allocation. The
        // lookup repeats only after an expired connection was closed, which may have
        // forgotten the key.
        while let Some(slot) = self.slot_of(&key) {
            let Some(conn) = self.key_states[slot as usize].idle.back() else {
                break;
            };
            let idle_for = now.saturating_duration_since(self.unpark(conn));
            if let Some(reason) = self.idle_expiry(now, conn, idle_for) {
                self.close_conn(conn, Some(reason));
                continue;
            }
            let lease = self.lease(conn, Some(idle_for));
            tracing::trace!(conn = ?lease.conn, "pool: idle connection reused");
            return Checkout::Ready(lease);
        }
        self.enqueue(now, key)
    }

    /// The slot of `key` if it is in use. The slot of the last lookup is
    /// tried first, by comparing its key: hashing the key (SipHash, as the
    /// keys come from URLs a server may choose) cost a quarter of a
    /// keep-alive checkout. A slot forgotten or given to another key holds
    /// another key or none, so the comparison alone keeps this right.
    fn slot_of(&mut self, key: &K) -> Option<u32> {
        if let Some(state) = self.key_states.get(self.last_slot as usize)
            && state.key.as_ref() == Some(key)
        {
            return Some(self.last_slot);
        }
        let slot = *self.keys.get(key)?;
        self.last_slot = slot;
        Some(slot)
    }

    /// The waiter's request gave up (Go `wantConn.cancel`). It gets no outcome; a dial
    /// started for it goes on and feeds the pool. A no-op if the waiter already has an
    /// outcome: a `Deliver` already drained must then be answered with
    /// `release(now, lease, true)`.
    pub fn cancel_waiter(&mut self, _now: Instant, waiter: WaiterId) {
        let Some(index) = self.waiters.resolve(waiter.index, waiter.generation) else {
            tracing::debug!(?waiter, "pool: cancel of a waiter with an outcome, ignored");
            return;
        };
        let slot = self.remove_waiter(index);
        self.forget_key_if_unused(slot);
    }

    /// The dial `dial` connected. The new connection is counted (it already held its
    /// slot) and goes to the oldest waiter of its key, else to the idle list: drain
    /// `poll_action`. Returns its id, or `None` (and does nothing) if `dial` is unknown or
    /// was already reported.
    pub fn dial_succeeded(&mut self, now: Instant, dial: DialId) -> Option<ConnId> {
        let Some(conn) = self.finish_dial(now, dial) else {
            tracing::debug!(?dial, "pool: success of an unknown dial, ignored");
            return None;
        };
        Some(conn)
    }

    /// The dial `dial` failed. The waiter it was for, if still waiting, gets
    /// `Fail { cause: WaitFailure::Dial(dial) }`; the engine looks up the error it stored
    /// for that dial. The slot goes to the next waiter queued for one, else is freed.
    pub fn dial_failed(&mut self, _now: Instant, dial: DialId) {
        if !self.fail_dial(dial) {
            tracing::debug!(?dial, "pool: failure of an unknown dial, ignored");
        }
    }

    /// Gives a leased connection back when its exchange is over.
    ///
    /// `reusable = false` means the engine closed it: it is forgotten and its slot freed.
    /// Otherwise it is closed if it reached `max_requests_per_conn` or
    /// `max_conn_lifetime`, else handed to the oldest waiter of its key, else made idle
    /// within the idle limits. Drain `poll_action` for the `Deliver` or `Close` that
    /// may follow.
    pub fn release(&mut self, now: Instant, lease: Lease, reusable: bool) {
        let Some(conn) = self.conns.resolve(lease.conn.index, lease.conn.generation) else {
            tracing::debug!(conn = ?lease.conn, "pool: release of an unknown connection, ignored");
            return;
        };
        self.put_back(now, conn, if reusable { Returned::Served } else { Returned::Closed });
    }

    /// Gives back a lease no request used: its waiter left after the
    /// connection was handed to it. Like `release(now, lease, true)`, but it
    /// does not count as a request served (so `max_requests_per_conn` and
    /// `was_reused` see the truth).
    pub fn release_unused(&mut self, now: Instant, lease: Lease) {
        let Some(conn) = self.conns.resolve(lease.conn.index, lease.conn.generation) else {
            tracing::debug!(conn = ?lease.conn, "pool: release of an unknown connection, ignored");
            return;
        };
        self.put_back(now, conn, Returned::Unused);
    }

    /// An idle connection died (the engine's probe saw EOF, an error or unsolicited bytes;
    /// Go `removeIdleConn`). It is forgotten and its slot freed; no `Close` follows, the
    /// engine already knows. A no-op for unknown ids and for leased connections (release
    /// those with `reusable = false`).
    pub fn conn_closed(&mut self, _now: Instant, conn: ConnId) {
        let Some(index) = self.conns.resolve(conn.index, conn.generation) else {
            tracing::debug!(?conn, "pool: close of an unknown connection, ignored");
            return;
        };
        if self.conns[index].state == ConnState::Active {
            tracing::debug!(?conn, "pool: conn_closed on a leased connection, ignored");
            return;
        }
        self.close_conn(index, None);
    }

    /// Closes every idle connection and cancels the dials no waiter owns (Go 1.23
    /// `CloseIdleConnections`). Leased connections are untouched, but until the next
    /// `checkout` a connection that would become idle is closed instead. Drain
    /// `poll_action` for the `Close` and `CancelDial` actions.
    pub fn close_idle(&mut self, _now: Instant) {
        self.closing_idle = true;
        while let Some(conn) = self.lru.front() {
            self.close_conn(conn, Some(EvictReason::CloseIdle));
        }
        self.cancel_orphaned_dials();
    }

    /// Fails the waiters past `wait_timeout` (oldest first), then closes idle connections
    /// past `idle_timeout` (least recently used first) and past `max_conn_lifetime` (oldest
    /// first). Idempotent: early or repeated calls do nothing more.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_waiters(now);
        self.expire_idle(now);
    }

    /// The earliest instant at which `handle_timeout` has work: a waiter's wait timeout,
    /// an idle connection's idle timeout or a connection's lifetime. `None` if nothing is
    /// due, ever. Call again after every input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let waiter =
            self.by_deadline.front().and_then(|w| deadline(self.waiters[w].since, self.config.wait_timeout));
        let idle = self.lru.front().and_then(|c| match self.conns[c].state {
            ConnState::Idle { since } => deadline(since, self.config.idle_timeout),
            ConnState::Active => None,
        });
        let age = self
            .by_age
            .front()
            .and_then(|c| deadline(self.conns[c].dialed_at, self.config.max_conn_lifetime));
        [waiter, idle, age].into_iter().flatten().min()
    }

    /// The next action for the engine, oldest first; `None` when there is nothing to do.
    /// Drain it after every input.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<PoolAction<K>> {
        self.actions.pop_front()
    }

    /// Counts across all keys: live ones now, cumulative ones since `new`.
    #[must_use]
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            idle: self.lru.len(),
            active: self.conns.len() - self.lru.len(),
            dialing: self.dials.len(),
            waiting: self.waiters.len(),
            keys: self.keys.len(),
            counts: self.counters,
        }
    }

    /// Counts for `key`, or `None` if the pool holds nothing for it.
    #[must_use]
    pub fn key_stats(&self, key: &K) -> Option<KeyStats> {
        Some(self.stats_of(*self.keys.get(key)?))
    }

    fn stats_of(&self, slot: u32) -> KeyStats {
        let state = &self.key_states[slot as usize];
        KeyStats {
            conns: state.conns,
            idle: state.idle.len(),
            active: state.active,
            dialing: state.dialing,
            waiting: state.waiting.len(),
            waiting_for_slot: state.dial_wait.len(),
            counts: state.counts,
        }
    }

    /// Counts for every key the pool holds anything for.
    pub fn all_key_stats(&self) -> impl Iterator<Item = (&K, KeyStats)> + '_ {
        self.keys.iter().map(|(key, &slot)| (key, self.stats_of(slot)))
    }

    /// Counts a request sent again after its connection (`lease`) failed;
    /// call before the lease is released, while the key is still known.
    pub fn record_retry(&mut self, lease: &Lease) {
        if let Some(index) = self.conns.resolve(lease.conn().index, lease.conn().generation) {
            self.count(self.conns[index].key, |c| c.retries += 1);
        }
    }
}

impl<K: Clone + Eq + Hash> fmt::Debug for Pool<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// `start + limit`, or `None` without a limit or past the end of time.
fn deadline(start: Instant, limit: Option<Duration>) -> Option<Instant> {
    start.checked_add(limit?)
}
