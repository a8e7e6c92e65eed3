//! Every state change of the pool happens here; `mod.rs` only routes its public methods
//! to these steps. Actions are queued, and logged, in one place: `emit`.

use std::hash::Hash;
use std::time::{Duration, Instant};

use super::entries::{Conn, ConnState, Dial, KeyState, Waiter};
use super::stats::Counts;
use super::{
    Checkout, ConnId, DialId, EvictReason, Lease, Pool, PoolAction, WaitFailure, WaiterId, deadline,
};

/// How a lease comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Returned {
    /// After a request, reusable.
    Served,
    /// Never used (its waiter left), reusable.
    Unused,
    /// The engine closed it.
    Closed,
}

impl<K: Clone + Eq + Hash> Pool<K> {
    /// No idle connection for `key`: queue a waiter for an idle connection and for a dial
    /// (Go `queueForIdleConn` then `queueForDial`).
    pub(super) fn enqueue(&mut self, now: Instant, key: K) -> Checkout {
        let slot = self.key_slot(&key);
        let (index, generation) =
            self.waiters.insert(Waiter { key: slot, since: now, dial: None, links: Default::default() });
        let state = &mut self.key_states[slot as usize];
        state.waiting.push_back(&mut self.waiters, index);
        if self.config.wait_timeout.is_some() {
            self.by_deadline.push_back(&mut self.waiters, index);
        }
        let has_room = self.config.max_conns_per_host.is_none_or(|max| state.conns < max.get());
        if has_room {
            state.conns += 1;
            self.start_dial(slot, index, key);
        } else {
            state.dial_wait.push_back(&mut self.waiters, index);
            tracing::debug!(waiter = index, "pool: key at its connection limit, waiting for a slot");
        }
        Checkout::Waiting(WaiterId { index, generation })
    }

    /// The slot of `key`, taking a recycled one (or a new one) for a new key.
    fn key_slot(&mut self, key: &K) -> u32 {
        if let Some(slot) = self.slot_of(key) {
            return slot;
        }
        let slot = self.free_keys.pop().unwrap_or_else(|| {
            self.key_states.push(KeyState::vacant());
            u32::try_from(self.key_states.len() - 1).expect("fewer than 2^32 keys")
        });
        self.key_states[slot as usize].key = Some(key.clone());
        self.keys.insert(key.clone(), slot);
        slot
    }

    /// Recycles the key's slot once nothing is counted and nobody waits (Go deletes its
    /// per-key map entries at zero; `TestIdleConnChannelLeak`).
    pub(super) fn forget_key_if_unused(&mut self, slot: u32) {
        let state = &mut self.key_states[slot as usize];
        if !state.is_unused() {
            return;
        }
        if let Some(key) = state.key.take() {
            state.counts = Counts::default();
            self.keys.remove(&key);
            self.free_keys.push(slot);
        }
    }

    /// Counts an event in total and for the key in `slot`.
    pub(super) fn count(&mut self, slot: u32, add: impl Fn(&mut Counts)) {
        add(&mut self.counters);
        add(&mut self.key_states[slot as usize].counts);
    }

    /// Starts a dial for `owner`, whose key slot already counts it.
    fn start_dial(&mut self, slot: u32, owner: u32, key: K) {
        let (index, generation) = self.dials.insert(Dial {
            key: slot,
            owner: Some(owner),
            cancelled: false,
            link: Default::default(),
        });
        self.started.push_back(&mut self.dials, index);
        self.waiters[owner].dial = Some(index);
        self.key_states[slot as usize].dialing += 1;
        self.count(slot, |c| c.dials += 1);
        let dial = DialId { index, generation };
        self.emit(PoolAction::StartDial { dial, key });
    }

    /// A slot of the key was freed (a connection closed or a dial failed): it goes to the
    /// first waiter queued for one, which starts a dial with the count unchanged; else
    /// the count drops (Go `decConnsPerHost`).
    fn free_slot(&mut self, slot: u32) {
        let state = &mut self.key_states[slot as usize];
        if let Some(next) = state.dial_wait.front()
            && let Some(key) = state.key.clone()
        {
            state.dial_wait.remove(&mut self.waiters, next);
            self.start_dial(slot, next, key);
            return;
        }
        match state.conns.checked_sub(1) {
            Some(conns) => state.conns = conns,
            None => {
                // Go panics here; we log and stay at zero.
                debug_assert!(false, "connection count underflow for key slot {slot}");
                tracing::error!(slot, "pool: connection count underflow, ignored");
            }
        }
    }

    /// The dial reported success: count the connection, then hand it to the oldest
    /// waiter or park it. `None` if the dial is unknown.
    pub(super) fn finish_dial(&mut self, now: Instant, dial: DialId) -> Option<ConnId> {
        let index = self.dials.resolve(dial.index, dial.generation)?;
        self.started.remove(&mut self.dials, index);
        let dial = self.dials.remove(index)?;
        let state = &mut self.key_states[dial.key as usize];
        state.dialing -= 1;
        state.active += 1;
        let (conn, generation) = self.conns.insert(Conn {
            key: dial.key,
            state: ConnState::Active,
            dialed_at: now,
            requests_served: 0,
            links: Default::default(),
        });
        if self.config.max_conn_lifetime.is_some() {
            self.by_age.push_back(&mut self.conns, conn);
        }
        if let Some(owner) = dial.owner {
            self.waiters[owner].dial = None;
        }
        match self.key_states[dial.key as usize].waiting.front() {
            Some(oldest) => {
                // Strict FIFO: the oldest waiter gets it. If that is not the waiter the
                // dial was for, that waiter inherits the oldest one's claim.
                if let Some(owner) = dial.owner
                    && owner != oldest
                {
                    self.inherit_claim(owner, oldest);
                }
                self.deliver(now, oldest, conn, None);
            }
            // Go 1.23 `dialConnFor` -> `putOrCloseIdleConn`: an orphaned dial feeds the
            // idle list.
            None => self.park_or_close(now, conn),
        }
        Some(ConnId { index: conn, generation })
    }

    /// `heir` lost the dial it owned to `from`, an older waiter about to be served: `heir`
    /// takes over `from`'s dial or `from`'s place in the slot queue.
    fn inherit_claim(&mut self, heir: u32, from: u32) {
        match self.waiters[from].dial.take() {
            Some(dial) => {
                self.dials[dial].owner = Some(heir);
                self.waiters[heir].dial = Some(dial);
            }
            None => {
                let slot = self.waiters[from].key as usize;
                self.key_states[slot].dial_wait.replace(&mut self.waiters, from, heir);
            }
        }
    }

    /// The dial reported failure: fail the waiter that owns it, then pass its slot on
    /// (Go `dialConnFor` error path). `false` if the dial is unknown.
    pub(super) fn fail_dial(&mut self, dial: DialId) -> bool {
        let Some(index) = self.dials.resolve(dial.index, dial.generation) else {
            return false;
        };
        self.started.remove(&mut self.dials, index);
        let Some(record) = self.dials.remove(index) else {
            return false;
        };
        self.count(record.key, |c| c.dial_failures += 1);
        self.key_states[record.key as usize].dialing -= 1;
        if let Some(owner) = record.owner {
            self.waiters[owner].dial = None;
            self.fail(owner, WaitFailure::Dial(dial));
        }
        self.free_slot(record.key);
        self.forget_key_if_unused(record.key);
        true
    }

    /// A lease came back (Go `tryPutIdleConn`, after the persistConn checks).
    pub(super) fn put_back(&mut self, now: Instant, conn: u32, returned: Returned) {
        let record = &mut self.conns[conn];
        if record.state != ConnState::Active {
            tracing::debug!(conn, "pool: release of an idle connection, ignored");
            return;
        }
        let reusable = returned != Returned::Closed;
        if returned != Returned::Unused {
            record.requests_served += 1;
        }
        let served_out =
            self.config.max_requests_per_conn.is_some_and(|max| record.requests_served >= max.get());
        let too_old = reached(record.dialed_at, self.config.max_conn_lifetime, now);
        let slot = record.key as usize;
        if !reusable {
            self.close_conn(conn, None);
        } else if served_out {
            self.close_conn(conn, Some(EvictReason::MaxRequests));
        } else if too_old {
            self.close_conn(conn, Some(EvictReason::Lifetime));
        } else if let Some(oldest) = self.key_states[slot].waiting.front() {
            self.deliver(now, oldest, conn, None);
        } else {
            self.park_or_close(now, conn);
        }
    }

    /// Makes an active connection idle, within the idle limits (Go `tryPutIdleConn`).
    fn park_or_close(&mut self, now: Instant, conn: u32) {
        let slot = self.conns[conn].key as usize;
        if self.closing_idle {
            self.close_conn(conn, Some(EvictReason::CloseIdle));
            return;
        }
        if self.key_states[slot].idle.len() >= self.config.max_idle_per_host {
            self.close_conn(conn, Some(EvictReason::TooManyIdleForHost));
            return;
        }
        let state = &mut self.key_states[slot];
        state.active -= 1;
        self.conns[conn].state = ConnState::Idle { since: now };
        state.idle.push_back(&mut self.conns, conn);
        self.lru.push_back(&mut self.conns, conn);
        tracing::trace!(conn, "pool: connection idle");
        if self.lru.len() > self.config.max_idle
            && let Some(oldest) = self.lru.front()
        {
            self.close_conn(oldest, Some(EvictReason::TooManyIdle));
        }
    }

    /// Takes an idle connection off the idle lists and marks it active; returns when it
    /// became idle.
    pub(super) fn unpark(&mut self, conn: u32) -> Instant {
        let record = &mut self.conns[conn];
        let ConnState::Idle { since } = record.state else {
            debug_assert!(false, "unpark of an active connection");
            return record.dialed_at;
        };
        record.state = ConnState::Active;
        let state = &mut self.key_states[record.key as usize];
        state.active += 1;
        state.idle.remove(&mut self.conns, conn);
        self.lru.remove(&mut self.conns, conn);
        since
    }

    /// Why an idle connection taken at `now`, idle for `idle_for`, must not be reused.
    pub(super) fn idle_expiry(&self, now: Instant, conn: u32, idle_for: Duration) -> Option<EvictReason> {
        if self.config.idle_timeout.is_some_and(|timeout| idle_for >= timeout) {
            Some(EvictReason::IdleTimeout)
        } else if reached(self.conns[conn].dialed_at, self.config.max_conn_lifetime, now) {
            Some(EvictReason::Lifetime)
        } else {
            None
        }
    }

    /// A lease on an active connection.
    pub(super) fn lease(&mut self, conn: u32, idle_for: Option<Duration>) -> Lease {
        let requests_served = self.conns[conn].requests_served;
        if requests_served > 0 {
            self.count(self.conns[conn].key, |c| c.reuses += 1);
        }
        Lease {
            conn: ConnId { index: conn, generation: self.conns.generation(conn) },
            requests_served,
            idle_for,
        }
    }

    /// Forgets a connection, emits `Close` if the pool decided it (`reason`), and frees
    /// its slot. May forget the key.
    pub(super) fn close_conn(&mut self, conn: u32, reason: Option<EvictReason>) {
        let generation = self.conns.generation(conn);
        let (slot, conn_state) = (self.conns[conn].key, self.conns[conn].state);
        let state = &mut self.key_states[slot as usize];
        match conn_state {
            ConnState::Active => state.active -= 1,
            ConnState::Idle { .. } => {
                state.idle.remove(&mut self.conns, conn);
                self.lru.remove(&mut self.conns, conn);
            }
        }
        self.by_age.remove(&mut self.conns, conn);
        self.conns.remove(conn);
        if let Some(reason) = reason {
            self.count(slot, |c| c.evicted(reason));
            let conn = ConnId { index: conn, generation };
            self.emit(PoolAction::Close { conn, reason });
        } else {
            tracing::debug!(conn, "pool: connection gone");
        }
        self.free_slot(slot);
        self.forget_key_if_unused(slot);
    }

    /// Serves `waiter` with `conn` (Go `tryDeliver` succeeding).
    fn deliver(&mut self, now: Instant, waiter: u32, conn: u32, idle_for: Option<Duration>) {
        let generation = self.waiters.generation(waiter);
        let (since, slot) = (self.waiters[waiter].since, self.waiters[waiter].key);
        self.remove_waiter(waiter);
        self.count(slot, |c| c.waited(now.saturating_duration_since(since)));
        let lease = self.lease(conn, idle_for);
        let waiter = WaiterId { index: waiter, generation };
        self.emit(PoolAction::Deliver { waiter, lease });
    }

    /// Ends `waiter` with an error.
    fn fail(&mut self, waiter: u32, cause: WaitFailure) {
        let generation = self.waiters.generation(waiter);
        self.remove_waiter(waiter);
        let waiter = WaiterId { index: waiter, generation };
        self.emit(PoolAction::Fail { waiter, cause });
    }

    /// Unlinks a waiter from every queue; a dial it owned carries on without an owner.
    /// Returns its key slot (not forgotten here: the caller decides when).
    pub(super) fn remove_waiter(&mut self, waiter: u32) -> u32 {
        let slot = self.waiters[waiter].key;
        let state = &mut self.key_states[slot as usize];
        state.waiting.remove(&mut self.waiters, waiter);
        state.dial_wait.remove(&mut self.waiters, waiter);
        self.by_deadline.remove(&mut self.waiters, waiter);
        if let Some(record) = self.waiters.remove(waiter)
            && let Some(dial) = record.dial
        {
            self.dials[dial].owner = None;
        }
        slot
    }

    /// Go 1.23 `CloseIdleConnections`: cancels, in start order, the dials no waiter owns
    /// (each at most once).
    pub(super) fn cancel_orphaned_dials(&mut self) {
        let mut next = self.started.front();
        while let Some(index) = next {
            next = self.started.next(&self.dials, index);
            let dial = &mut self.dials[index];
            if dial.owner.is_none() && !dial.cancelled {
                dial.cancelled = true;
                let dial = DialId { index, generation: self.dials.generation(index) };
                self.emit(PoolAction::CancelDial { dial });
            }
        }
    }

    /// Fails the waiters past `wait_timeout`, oldest first.
    pub(super) fn expire_waiters(&mut self, now: Instant) {
        while let Some(waiter) = self.by_deadline.front() {
            if !reached(self.waiters[waiter].since, self.config.wait_timeout, now) {
                break;
            }
            let slot = self.waiters[waiter].key;
            self.count(slot, |c| c.wait_timeouts += 1);
            self.fail(waiter, WaitFailure::Timeout);
            self.forget_key_if_unused(slot);
        }
    }

    /// Closes idle connections past `idle_timeout` (LRU order is idle-since order), then
    /// those past `max_conn_lifetime` (dial order); a leased one past its lifetime just
    /// leaves the age order, `put_back` closes it.
    pub(super) fn expire_idle(&mut self, now: Instant) {
        while let Some(conn) = self.lru.front() {
            let ConnState::Idle { since } = self.conns[conn].state else {
                break;
            };
            if !reached(since, self.config.idle_timeout, now) {
                break;
            }
            self.close_conn(conn, Some(EvictReason::IdleTimeout));
        }
        while let Some(conn) = self.by_age.front() {
            if !reached(self.conns[conn].dialed_at, self.config.max_conn_lifetime, now) {
                break;
            }
            match self.conns[conn].state {
                ConnState::Idle { .. } => self.close_conn(conn, Some(EvictReason::Lifetime)),
                ConnState::Active => self.by_age.remove(&mut self.conns, conn),
            }
        }
    }

    /// Queues an action for the engine; the one place pool decisions are logged.
    fn emit(&mut self, action: PoolAction<K>) {
        match &action {
            PoolAction::StartDial { dial, .. } => tracing::debug!(?dial, "pool: start dial"),
            PoolAction::Deliver { waiter, lease } => {
                tracing::debug!(?waiter, conn = ?lease.conn, "pool: deliver");
            }
            PoolAction::Fail { waiter, cause } => tracing::debug!(?waiter, ?cause, "pool: fail"),
            PoolAction::Close { conn, reason } => tracing::debug!(?conn, ?reason, "pool: close"),
            PoolAction::CancelDial { dial } => tracing::debug!(?dial, "pool: cancel dial"),
        }
        self.actions.push_back(action);
    }
}

/// Whether `start + limit <= now` (a limit that overflows `Instant` is never reached).
fn reached(start: Instant, limit: Option<Duration>, now: Instant) -> bool {
    deadline(start, limit).is_some_and(|at| at <= now)
}
