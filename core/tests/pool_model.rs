//! Model-based property test of `Pool`: random operation sequences over 1-4 keys and
//! random limits. After every step:
//! - a plain reference model (Vecs and loops, no cleverness) agrees on every output:
//!   the checkout result, every action in order, lease facts, `poll_timeout`, counts;
//! - `check_invariants` holds (count = dialing + active + idle <= max, no underflow, ...);
//! - no waiter has two outcomes, deliveries per key are FIFO, every dial is answered once;
//! - after `handle_timeout(now)`, `poll_timeout()` is `None` or later than `now`.
//!
//! At the end every dial succeeds and every lease comes back until nothing moves: every
//! waiter must have had its outcome by then (no waiter is stranded).

mod pool_support;

use std::collections::HashMap;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::{Duration, Instant};

use pool_support::{at, ms};
use proptest::prelude::*;
use roundtrip_core::pool::{
    Checkout, ConnId, DialId, EvictReason, Lease, Pool, PoolAction, PoolConfig, WaitFailure, WaiterId,
};

// ---------------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------------

/// Lease facts: was reused, idle for, requests served.
type Facts = (bool, Option<Duration>, u64);

#[derive(Clone, Debug, PartialEq, Eq)]
enum ModelAct {
    StartDial(usize, u8),
    Deliver(usize, usize, Facts),
    Fail(usize, ModelCause),
    Close(usize, EvictReason),
    CancelDial(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ModelCause {
    Dial(usize),
    Timeout,
}

struct ModelWaiter {
    key: u8,
    since: Instant,
    live: bool,
    dial: Option<usize>,
    in_slot_queue: bool,
}

struct ModelDial {
    key: u8,
    owner: Option<usize>,
    pending: bool,
    cancelled: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ModelConnState {
    Active,
    /// Idle since, and a sequence number for LRU order.
    Idle(Instant, u64),
    Gone,
}

struct ModelConn {
    key: u8,
    state: ModelConnState,
    dialed_at: Instant,
    served: u64,
    /// Still in the pool's lifetime order (only with a lifetime limit).
    age_tracked: bool,
}

struct Model {
    config: PoolConfig,
    waiters: Vec<ModelWaiter>,
    dials: Vec<ModelDial>,
    conns: Vec<ModelConn>,
    idle_seq: u64,
    closing_idle: bool,
    acts: Vec<ModelAct>,
}

fn reached(start: Instant, limit: Option<Duration>, now: Instant) -> bool {
    limit.is_some_and(|l| start + l <= now)
}

impl Model {
    fn new(config: PoolConfig) -> Self {
        Self {
            config,
            waiters: vec![],
            dials: vec![],
            conns: vec![],
            idle_seq: 0,
            closing_idle: false,
            acts: vec![],
        }
    }

    fn count(&self, key: u8) -> usize {
        let conns = self.conns.iter().filter(|c| c.key == key && c.state != ModelConnState::Gone).count();
        conns + self.dials.iter().filter(|d| d.key == key && d.pending).count()
    }

    fn idle_of(&self, key: u8) -> Vec<usize> {
        (0..self.conns.len())
            .filter(|&c| self.conns[c].key == key && matches!(self.conns[c].state, ModelConnState::Idle(..)))
            .collect()
    }

    fn idle_by_seq(&self) -> Vec<usize> {
        let mut idle: Vec<(u64, usize)> = (0..self.conns.len())
            .filter_map(|c| match self.conns[c].state {
                ModelConnState::Idle(_, seq) => Some((seq, c)),
                _ => None,
            })
            .collect();
        idle.sort();
        idle.into_iter().map(|(_, c)| c).collect()
    }

    fn oldest_waiter(&self, key: u8) -> Option<usize> {
        (0..self.waiters.len()).find(|&w| self.waiters[w].live && self.waiters[w].key == key)
    }

    fn checkout(&mut self, now: Instant, key: u8) -> Result<(usize, Facts), usize> {
        self.closing_idle = false;
        loop {
            let idle = self.idle_of(key);
            let Some(&newest) = idle.iter().max_by_key(|&&c| match self.conns[c].state {
                ModelConnState::Idle(_, seq) => seq,
                _ => 0,
            }) else {
                break;
            };
            let ModelConnState::Idle(since, _) = self.conns[newest].state else { unreachable!() };
            self.conns[newest].state = ModelConnState::Active;
            if reached(since, self.config.idle_timeout, now) {
                self.close(newest, Some(EvictReason::IdleTimeout));
            } else if reached(self.conns[newest].dialed_at, self.config.max_conn_lifetime, now) {
                self.close(newest, Some(EvictReason::Lifetime));
            } else {
                let served = self.conns[newest].served;
                return Ok((newest, (served > 0, Some(now - since), served)));
            }
        }
        let waiter = self.waiters.len();
        self.waiters.push(ModelWaiter { key, since: now, live: true, dial: None, in_slot_queue: false });
        if self.config.max_conns_per_host.is_none_or(|max| self.count(key) < max.get()) {
            self.start_dial(key, waiter);
        } else {
            self.waiters[waiter].in_slot_queue = true;
        }
        Err(waiter)
    }

    fn start_dial(&mut self, key: u8, owner: usize) {
        let dial = self.dials.len();
        self.dials.push(ModelDial { key, owner: Some(owner), pending: true, cancelled: false });
        self.waiters[owner].dial = Some(dial);
        self.acts.push(ModelAct::StartDial(dial, key));
    }

    fn free_slot(&mut self, key: u8) {
        let next = (0..self.waiters.len())
            .find(|&w| self.waiters[w].live && self.waiters[w].key == key && self.waiters[w].in_slot_queue);
        if let Some(next) = next {
            self.waiters[next].in_slot_queue = false;
            self.start_dial(key, next);
        }
    }

    fn end_waiter(&mut self, waiter: usize) {
        let w = &mut self.waiters[waiter];
        w.live = false;
        w.in_slot_queue = false;
        if let Some(dial) = w.dial.take() {
            self.dials[dial].owner = None;
        }
    }

    fn deliver(&mut self, waiter: usize, conn: usize) {
        self.end_waiter(waiter);
        let served = self.conns[conn].served;
        self.acts.push(ModelAct::Deliver(waiter, conn, (served > 0, None, served)));
    }

    fn fail(&mut self, waiter: usize, cause: ModelCause) {
        self.end_waiter(waiter);
        self.acts.push(ModelAct::Fail(waiter, cause));
    }

    fn close(&mut self, conn: usize, reason: Option<EvictReason>) {
        self.conns[conn].state = ModelConnState::Gone;
        self.conns[conn].age_tracked = false;
        if let Some(reason) = reason {
            self.acts.push(ModelAct::Close(conn, reason));
        }
        self.free_slot(self.conns[conn].key);
    }

    fn park_or_close(&mut self, now: Instant, conn: usize) {
        let key = self.conns[conn].key;
        if self.closing_idle {
            self.close(conn, Some(EvictReason::CloseIdle));
        } else if self.idle_of(key).len() >= self.config.max_idle_per_host {
            self.close(conn, Some(EvictReason::TooManyIdleForHost));
        } else {
            self.idle_seq += 1;
            self.conns[conn].state = ModelConnState::Idle(now, self.idle_seq);
            let all_idle = self.idle_by_seq();
            if all_idle.len() > self.config.max_idle {
                self.close(all_idle[0], Some(EvictReason::TooManyIdle));
            }
        }
    }

    fn dial_ok(&mut self, now: Instant, dial: usize) -> usize {
        self.dials[dial].pending = false;
        let key = self.dials[dial].key;
        let conn = self.conns.len();
        self.conns.push(ModelConn {
            key,
            state: ModelConnState::Active,
            dialed_at: now,
            served: 0,
            age_tracked: self.config.max_conn_lifetime.is_some(),
        });
        let owner = self.dials[dial].owner.take();
        if let Some(owner) = owner {
            self.waiters[owner].dial = None;
        }
        match self.oldest_waiter(key) {
            Some(oldest) => {
                if let Some(owner) = owner
                    && owner != oldest
                {
                    // The owner inherits the oldest waiter's claim.
                    match self.waiters[oldest].dial.take() {
                        Some(inherited) => {
                            self.dials[inherited].owner = Some(owner);
                            self.waiters[owner].dial = Some(inherited);
                        }
                        None => {
                            self.waiters[oldest].in_slot_queue = false;
                            self.waiters[owner].in_slot_queue = true;
                        }
                    }
                }
                self.deliver(oldest, conn);
            }
            None => self.park_or_close(now, conn),
        }
        conn
    }

    fn dial_err(&mut self, dial: usize) {
        self.dials[dial].pending = false;
        if let Some(owner) = self.dials[dial].owner.take() {
            self.waiters[owner].dial = None;
            self.fail(owner, ModelCause::Dial(dial));
        }
        self.free_slot(self.dials[dial].key);
    }

    fn release(&mut self, now: Instant, conn: usize, reusable: bool) {
        self.conns[conn].served += 1;
        let key = self.conns[conn].key;
        if !reusable {
            self.close(conn, None);
        } else if self.config.max_requests_per_conn.is_some_and(|m| self.conns[conn].served >= m.get()) {
            self.close(conn, Some(EvictReason::MaxRequests));
        } else if reached(self.conns[conn].dialed_at, self.config.max_conn_lifetime, now) {
            self.close(conn, Some(EvictReason::Lifetime));
        } else if let Some(oldest) = self.oldest_waiter(key) {
            self.deliver(oldest, conn);
        } else {
            self.park_or_close(now, conn);
        }
    }

    fn cancel(&mut self, waiter: usize) {
        if self.waiters[waiter].live {
            self.end_waiter(waiter);
        }
    }

    fn conn_closed(&mut self, conn: usize) {
        if matches!(self.conns[conn].state, ModelConnState::Idle(..)) {
            self.close(conn, None);
        }
    }

    fn close_idle(&mut self) {
        self.closing_idle = true;
        for conn in self.idle_by_seq() {
            self.close(conn, Some(EvictReason::CloseIdle));
        }
        for dial in 0..self.dials.len() {
            let d = &mut self.dials[dial];
            if d.pending && d.owner.is_none() && !d.cancelled {
                d.cancelled = true;
                self.acts.push(ModelAct::CancelDial(dial));
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        for waiter in 0..self.waiters.len() {
            if self.waiters[waiter].live && reached(self.waiters[waiter].since, self.config.wait_timeout, now)
            {
                self.fail(waiter, ModelCause::Timeout);
            }
        }
        for conn in self.idle_by_seq() {
            let ModelConnState::Idle(since, _) = self.conns[conn].state else { unreachable!() };
            if reached(since, self.config.idle_timeout, now) {
                self.close(conn, Some(EvictReason::IdleTimeout));
            }
        }
        for conn in 0..self.conns.len() {
            let c = &self.conns[conn];
            if c.age_tracked && reached(c.dialed_at, self.config.max_conn_lifetime, now) {
                if matches!(c.state, ModelConnState::Idle(..)) {
                    self.close(conn, Some(EvictReason::Lifetime));
                } else {
                    self.conns[conn].age_tracked = false;
                }
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let waiters =
            self.waiters.iter().filter(|w| w.live).filter_map(|w| Some(w.since + self.config.wait_timeout?));
        let idle = self.conns.iter().filter_map(|c| match c.state {
            ModelConnState::Idle(since, _) => Some(since + self.config.idle_timeout?),
            _ => None,
        });
        let ages = self
            .conns
            .iter()
            .filter(|c| c.age_tracked)
            .filter_map(|c| Some(c.dialed_at + self.config.max_conn_lifetime?));
        waiters.chain(idle).chain(ages).min()
    }

    /// (conns, dialing, active, idle, waiting, waiting_for_slot) of `key`.
    fn key_counts(&self, key: u8) -> (usize, usize, usize, usize, usize, usize) {
        let dialing = self.dials.iter().filter(|d| d.key == key && d.pending).count();
        let active = self.conns.iter().filter(|c| c.key == key && c.state == ModelConnState::Active).count();
        let idle = self.idle_of(key).len();
        let waiting = self.waiters.iter().filter(|w| w.live && w.key == key).count();
        let for_slot = self.waiters.iter().filter(|w| w.live && w.key == key && w.in_slot_queue).count();
        (dialing + active + idle, dialing, active, idle, waiting, for_slot)
    }
}

// ---------------------------------------------------------------------------------------
// Operations and the harness that runs pool and model side by side
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Checkout(u8),
    /// Cancel one of all waiters ever made (stale ones included).
    Cancel(usize),
    DialOk(usize),
    DialErr(usize),
    Release(usize, bool),
    /// `conn_closed` on one of all connections ever made (leased and stale included).
    ConnClosed(usize),
    CloseIdle,
    Advance(u64),
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..keys).prop_map(Op::Checkout),
        1 => any::<usize>().prop_map(Op::Cancel),
        3 => any::<usize>().prop_map(Op::DialOk),
        1 => any::<usize>().prop_map(Op::DialErr),
        3 => (any::<usize>(), prop::bool::weighted(0.8)).prop_map(|(i, r)| Op::Release(i, r)),
        1 => any::<usize>().prop_map(Op::ConnClosed),
        1 => Just(Op::CloseIdle),
        2 => (0u64..400).prop_map(Op::Advance),
    ]
}

fn config() -> impl Strategy<Value = PoolConfig> {
    (
        prop::option::of(1usize..4),
        0usize..4,
        0usize..7,
        prop::option::of(50u64..500),
        prop::option::of(1u64..4),
        prop::option::of(100u64..1000),
        prop::option::of(50u64..500),
    )
        .prop_map(|(max_conns, idle_per_host, idle, idle_timeout, requests, lifetime, wait)| {
            PoolConfig::default()
                .with_max_conns_per_host(max_conns.and_then(NonZeroUsize::new))
                .with_max_idle_per_host(idle_per_host)
                .with_max_idle(idle)
                .with_idle_timeout(idle_timeout.map(ms))
                .with_max_requests_per_conn(requests.and_then(NonZeroU64::new))
                .with_max_conn_lifetime(lifetime.map(ms))
                .with_wait_timeout(wait.map(ms))
        })
}

/// One id space bound to the model's: pool id <-> model index, both ways.
struct Bind<T> {
    to_model: HashMap<T, usize>,
    to_pool: HashMap<usize, T>,
}

impl<T: Copy + Eq + std::hash::Hash + std::fmt::Debug> Bind<T> {
    fn new() -> Self {
        Self { to_model: HashMap::new(), to_pool: HashMap::new() }
    }

    fn check(&mut self, id: T, model: usize) {
        match (self.to_model.get(&id), self.to_pool.get(&model)) {
            (None, None) => {
                self.to_model.insert(id, model);
                self.to_pool.insert(model, id);
            }
            (Some(&m), Some(&p)) if m == model && p == id => {}
            other => panic!("id {id:?} / model {model} bound inconsistently: {other:?}"),
        }
    }
}

struct Run {
    pool: Pool<u8>,
    model: Model,
    now: Instant,
    keys: u8,
    waiters: Bind<WaiterId>,
    dials: Bind<DialId>,
    conns: Bind<ConnId>,
    /// Leases held by the test, by model connection.
    leases: Vec<(usize, Lease)>,
    /// Outcomes seen, by model waiter.
    outcomes: HashMap<usize, usize>,
}

impl Run {
    fn new(config: PoolConfig, keys: u8) -> Self {
        Self {
            pool: Pool::new(config.clone()),
            model: Model::new(config),
            now: at(0),
            keys,
            waiters: Bind::new(),
            dials: Bind::new(),
            conns: Bind::new(),
            leases: vec![],
            outcomes: HashMap::new(),
        }
    }

    fn pending_dials(&self) -> Vec<usize> {
        (0..self.model.dials.len()).filter(|&d| self.model.dials[d].pending).collect()
    }

    fn step(&mut self, op: &Op) {
        let now = self.now;
        match *op {
            Op::Checkout(key) => {
                let expected = self.model.checkout(now, key);
                match (self.pool.checkout(now, key), expected) {
                    (Checkout::Ready(lease), Ok((conn, facts))) => {
                        self.conns.check(lease.conn(), conn);
                        assert_eq!(facts_of(&lease), facts);
                        self.leases.push((conn, lease));
                    }
                    (Checkout::Waiting(waiter), Err(model)) => self.waiters.check(waiter, model),
                    (got, want) => panic!("checkout: pool {got:?}, model {want:?}"),
                }
            }
            Op::Cancel(i) => {
                if self.model.waiters.is_empty() {
                    return;
                }
                let model = i % self.model.waiters.len();
                self.model.cancel(model);
                self.pool.cancel_waiter(now, self.waiters.to_pool[&model]);
            }
            Op::DialOk(i) | Op::DialErr(i) => {
                let pending = self.pending_dials();
                if pending.is_empty() {
                    return;
                }
                let model = pending[i % pending.len()];
                let dial = self.dials.to_pool[&model];
                if matches!(op, Op::DialOk(_)) {
                    let conn_model = self.model.dial_ok(now, model);
                    let conn = self.pool.dial_succeeded(now, dial).expect("a pending dial is known");
                    self.conns.check(conn, conn_model);
                } else {
                    self.model.dial_err(model);
                    self.pool.dial_failed(now, dial);
                }
            }
            Op::Release(i, reusable) => {
                if self.leases.is_empty() {
                    return;
                }
                let (conn, lease) = self.leases.swap_remove(i % self.leases.len());
                self.model.release(now, conn, reusable);
                self.pool.release(now, lease, reusable);
            }
            Op::ConnClosed(i) => {
                if self.model.conns.is_empty() {
                    return;
                }
                let model = i % self.model.conns.len();
                self.model.conn_closed(model);
                self.pool.conn_closed(now, self.conns.to_pool[&model]);
            }
            Op::CloseIdle => {
                self.model.close_idle();
                self.pool.close_idle(now);
            }
            Op::Advance(by) => {
                self.now += ms(by);
                self.model.handle_timeout(self.now);
                self.pool.handle_timeout(self.now);
            }
        }
        self.compare_actions();
        self.check_state();
        if let Op::Advance(_) = op {
            let next = self.pool.poll_timeout();
            assert!(next.is_none_or(|t| t > self.now), "handle_timeout left {next:?} due");
        }
    }

    /// Drains the pool's actions and compares them, in order, with the model's.
    fn compare_actions(&mut self) {
        let expected = std::mem::take(&mut self.model.acts);
        let mut got = Vec::new();
        while let Some(action) = self.pool.poll_action() {
            got.push(action);
        }
        assert_eq!(got.len(), expected.len(), "actions: pool {got:?}, model {expected:?}");
        for (action, want) in got.into_iter().zip(expected) {
            match (action, want) {
                (PoolAction::StartDial { dial, key }, ModelAct::StartDial(d, k)) => {
                    assert_eq!(key, k);
                    self.dials.check(dial, d);
                }
                (PoolAction::Deliver { waiter, lease }, ModelAct::Deliver(w, c, facts)) => {
                    self.waiters.check(waiter, w);
                    self.conns.check(lease.conn(), c);
                    assert_eq!(facts_of(&lease), facts);
                    let key = self.model.waiters[w].key;
                    let older_live =
                        (0..w).any(|o| self.model.waiters[o].live && self.model.waiters[o].key == key);
                    assert!(!older_live, "delivery out of FIFO order");
                    self.note_outcome(w);
                    self.leases.push((c, lease));
                }
                (PoolAction::Fail { waiter, cause }, ModelAct::Fail(w, want)) => {
                    self.waiters.check(waiter, w);
                    match (cause, want) {
                        (WaitFailure::Dial(dial), ModelCause::Dial(d)) => self.dials.check(dial, d),
                        (WaitFailure::Timeout, ModelCause::Timeout) => {}
                        other => panic!("fail cause: {other:?}"),
                    }
                    self.note_outcome(w);
                }
                (PoolAction::Close { conn, reason }, ModelAct::Close(c, r)) => {
                    self.conns.check(conn, c);
                    assert_eq!(reason, r);
                }
                (PoolAction::CancelDial { dial }, ModelAct::CancelDial(d)) => self.dials.check(dial, d),
                (got, want) => panic!("action: pool {got:?}, model {want:?}"),
            }
        }
    }

    fn note_outcome(&mut self, waiter: usize) {
        let count = self.outcomes.entry(waiter).or_default();
        *count += 1;
        assert_eq!(*count, 1, "waiter {waiter} got a second outcome");
    }

    fn check_state(&self) {
        if let Err(broken) = self.pool.check_invariants() {
            panic!("pool invariant broken: {broken}");
        }
        assert_eq!(self.pool.poll_timeout(), self.model.poll_timeout(), "poll_timeout");
        let mut totals = (0, 0, 0, 0);
        for key in 0..self.keys {
            let want = self.model.key_counts(key);
            if let Some(max) = self.pool.config().max_conns_per_host {
                assert!(want.0 <= max.get(), "key {key} over its limit");
            }
            let got = self
                .pool
                .key_stats(&key)
                .map(|s| (s.conns, s.dialing, s.active, s.idle, s.waiting, s.waiting_for_slot));
            assert_eq!(got.unwrap_or_default(), want, "counts of key {key}");
            totals = (totals.0 + want.1, totals.1 + want.2, totals.2 + want.3, totals.3 + want.4);
        }
        let stats = self.pool.stats();
        assert_eq!((stats.dialing, stats.active, stats.idle, stats.waiting), totals);
    }

    /// Lets every dial succeed and every lease come back until nothing moves; nobody may
    /// be left waiting.
    fn settle(&mut self) {
        loop {
            if !self.pending_dials().is_empty() {
                self.step(&Op::DialOk(0));
                continue;
            }
            if self.leases.is_empty() {
                break;
            }
            self.step(&Op::Release(0, true));
        }
        let stats = self.pool.stats();
        assert_eq!((stats.waiting, stats.dialing, stats.active), (0, 0, 0));
        let live = self.model.waiters.iter().filter(|w| w.live).count();
        assert_eq!(live, 0);
    }
}

fn facts_of(lease: &Lease) -> Facts {
    (lease.was_reused(), lease.idle_for(), lease.requests_served())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn pool_agrees_with_reference_model(
        config in config(),
        (keys, ops) in (1u8..=4).prop_flat_map(|keys| (Just(keys), prop::collection::vec(op(keys), 1..150))),
    ) {
        let mut run = Run::new(config, keys);
        for op in &ops {
            run.step(op);
        }
        run.settle();
    }
}
