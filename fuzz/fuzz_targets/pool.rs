//! Fuzz target `pool`: long random operation sequences against `Pool` (the op language of
//! `core/tests/pool_model.rs`). After every step: `check_invariants`, every waiter has at
//! most one outcome, deliveries per key are FIFO, a ready checkout never jumps a waiter,
//! every dial is answered once (stale answers are ignored), counts match what the
//! harness holds and never exceed the per-key limit, and after `handle_timeout(now)`
//! nothing is due at or before `now`. At the end every dial succeeds and every lease
//! comes back until nothing moves: nobody may be left waiting.
#![no_main]

use std::collections::HashSet;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use roundtrip_core::pool::{Checkout, ConnId, DialId, Lease, Pool, PoolAction, PoolConfig, WaiterId};

#[derive(Arbitrary, Debug)]
struct Limits {
    /// 0 = unlimited.
    max_conns_per_host: u8,
    max_idle_per_host: u8,
    max_idle: u8,
    idle_timeout_ms: Option<u16>,
    /// 0 = unlimited.
    max_requests_per_conn: u8,
    max_conn_lifetime_ms: Option<u16>,
    wait_timeout_ms: Option<u16>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Checkout(u8),
    Cancel(u16),
    DialOk(u16),
    DialErr(u16),
    /// Report again a dial already answered: must be ignored.
    StaleDial(u16, bool),
    Release(u16, bool),
    ConnClosed(u16),
    CloseIdle,
    Advance(u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    limits: Limits,
    ops: Vec<Op>,
}

struct Run {
    pool: Pool<u8>,
    now: Instant,
    max_conns: Option<usize>,
    /// Every waiter ever made, with its key, in checkout order.
    waiters: Vec<(WaiterId, u8)>,
    outcomes: HashSet<WaiterId>,
    cancelled: HashSet<WaiterId>,
    pending: Vec<DialId>,
    answered: Vec<DialId>,
    leases: Vec<Lease>,
    conns: Vec<ConnId>,
}

impl Run {
    fn live(&self, waiter: WaiterId) -> bool {
        !self.outcomes.contains(&waiter) && !self.cancelled.contains(&waiter)
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Checkout(key) => {
                let key = key % 4;
                match self.pool.checkout(self.now, key) {
                    Checkout::Ready(lease) => {
                        let jumped = self.waiters.iter().any(|&(w, k)| k == key && self.live(w));
                        assert!(!jumped, "a ready checkout jumped a waiter");
                        self.leases.push(lease);
                    }
                    Checkout::Waiting(waiter) => {
                        assert!(self.waiters.iter().all(|&(w, _)| w != waiter), "waiter id reused");
                        self.waiters.push((waiter, key));
                    }
                }
            }
            Op::Cancel(i) => {
                if let Some(&(waiter, _)) = pick(&self.waiters, i) {
                    if self.live(waiter) {
                        self.cancelled.insert(waiter);
                    }
                    self.pool.cancel_waiter(self.now, waiter);
                }
            }
            Op::DialOk(i) | Op::DialErr(i) => {
                if self.pending.is_empty() {
                    return;
                }
                let dial = self.pending.swap_remove(usize::from(i) % self.pending.len());
                self.answered.push(dial);
                if matches!(op, Op::DialOk(_)) {
                    let conn = self.pool.dial_succeeded(self.now, dial).expect("a pending dial is known");
                    assert!(!self.conns.contains(&conn), "connection id reused");
                    self.conns.push(conn);
                } else {
                    self.pool.dial_failed(self.now, dial);
                }
            }
            Op::StaleDial(i, ok) => {
                if let Some(&dial) = pick(&self.answered, i) {
                    if ok {
                        assert_eq!(self.pool.dial_succeeded(self.now, dial), None);
                    } else {
                        self.pool.dial_failed(self.now, dial);
                    }
                }
            }
            Op::Release(i, reusable) => {
                if !self.leases.is_empty() {
                    let lease = self.leases.swap_remove(usize::from(i) % self.leases.len());
                    self.pool.release(self.now, lease, reusable);
                }
            }
            Op::ConnClosed(i) => {
                if let Some(&conn) = pick(&self.conns, i) {
                    self.pool.conn_closed(self.now, conn);
                }
            }
            Op::CloseIdle => self.pool.close_idle(self.now),
            Op::Advance(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.pool.handle_timeout(self.now);
            }
        }
        self.drain();
        self.check();
        if let Op::Advance(_) = op {
            let next = self.pool.poll_timeout();
            assert!(next.is_none_or(|t| t > self.now), "handle_timeout left {next:?} due");
        }
    }

    fn drain(&mut self) {
        while let Some(action) = self.pool.poll_action() {
            match action {
                PoolAction::StartDial { dial, key } => {
                    assert!(key < 4);
                    assert!(
                        !self.pending.contains(&dial) && !self.answered.contains(&dial),
                        "dial id reused"
                    );
                    self.pending.push(dial);
                }
                PoolAction::Deliver { waiter, lease } => {
                    let key = self.outcome(waiter);
                    let oldest = self.waiters.iter().find(|&&(w, k)| k == key && self.live(w));
                    assert_eq!(oldest.map(|&(w, _)| w), Some(waiter), "delivery out of FIFO order");
                    self.outcomes.insert(waiter);
                    self.leases.push(lease);
                }
                PoolAction::Fail { waiter, .. } => {
                    self.outcome(waiter);
                    self.outcomes.insert(waiter);
                }
                PoolAction::Close { conn, .. } => {
                    assert!(self.conns.contains(&conn), "close of an unknown connection");
                    assert!(self.leases.iter().all(|l| l.conn() != conn), "close of a leased connection");
                }
                PoolAction::CancelDial { dial } => {
                    assert!(self.pending.contains(&dial), "cancel of a finished dial")
                }
            }
        }
    }

    /// The key of a waiter about to get an outcome; it must be live.
    fn outcome(&self, waiter: WaiterId) -> u8 {
        assert!(!self.outcomes.contains(&waiter), "a second outcome for {waiter:?}");
        assert!(!self.cancelled.contains(&waiter), "an outcome after cancel for {waiter:?}");
        self.waiters.iter().find(|&&(w, _)| w == waiter).expect("a known waiter").1
    }

    fn check(&self) {
        if let Err(broken) = self.pool.check_invariants() {
            panic!("pool invariant broken: {broken}");
        }
        let stats = self.pool.stats();
        let live = self.waiters.iter().filter(|&&(w, _)| self.live(w)).count();
        assert_eq!(
            (stats.active, stats.dialing, stats.waiting),
            (self.leases.len(), self.pending.len(), live)
        );
        for key in 0..4 {
            let conns = self.pool.key_stats(&key).map_or(0, |s| s.conns);
            assert!(self.max_conns.is_none_or(|max| conns <= max), "key {key} over its limit");
        }
    }

    fn settle(&mut self) {
        loop {
            if !self.pending.is_empty() {
                self.step(&Op::DialOk(0));
            } else if !self.leases.is_empty() {
                self.step(&Op::Release(0, true));
            } else {
                break;
            }
        }
        assert_eq!(self.pool.stats().waiting, 0, "a waiter was stranded");
    }
}

fn pick<T>(items: &[T], i: u16) -> Option<&T> {
    (!items.is_empty()).then(|| &items[usize::from(i) % items.len()])
}

fn config(limits: &Limits) -> PoolConfig {
    let ms = |v: Option<u16>| v.map(|v| Duration::from_millis(u64::from(v)));
    PoolConfig::default()
        .with_max_conns_per_host(NonZeroUsize::new(usize::from(limits.max_conns_per_host % 8)))
        .with_max_idle_per_host(usize::from(limits.max_idle_per_host % 8))
        .with_max_idle(usize::from(limits.max_idle % 16))
        .with_idle_timeout(ms(limits.idle_timeout_ms))
        .with_max_requests_per_conn(NonZeroU64::new(u64::from(limits.max_requests_per_conn % 8)))
        .with_max_conn_lifetime(ms(limits.max_conn_lifetime_ms))
        .with_wait_timeout(ms(limits.wait_timeout_ms))
}

fuzz_target!(|input: Input| {
    let config = config(&input.limits);
    let mut run = Run {
        max_conns: config.max_conns_per_host.map(NonZeroUsize::get),
        pool: Pool::new(config),
        now: Instant::now(),
        waiters: Vec::new(),
        outcomes: HashSet::new(),
        cancelled: HashSet::new(),
        pending: Vec::new(),
        answered: Vec::new(),
        leases: Vec::new(),
        conns: Vec::new(),
    };
    for op in &input.ops {
        run.step(op);
    }
    run.settle();
});
