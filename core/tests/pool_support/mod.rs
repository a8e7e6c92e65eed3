//! Shared helpers for the pool scenario tests: a fake clock (`at(ms)` = `T0 + ms`) and a
//! `Harness` that keeps the leases the pool hands out, so tests speak in ids and compare
//! whole action sequences with `assert_eq!`.
// Each test crate uses a subset of these helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use roundtrip_core::pool::{
    Checkout, ConnId, DialId, EvictReason, Lease, Pool, PoolAction, PoolConfig, WaitFailure, WaiterId,
};

/// The test epoch; every instant is `T0 + ms(n)`.
pub(crate) static T0: LazyLock<Instant> = LazyLock::new(Instant::now);

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) fn at(n: u64) -> Instant {
    *T0 + ms(n)
}

pub(crate) type Key = &'static str;

/// A `PoolAction` with the lease replaced by its connection id, so sequences compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    StartDial(DialId, Key),
    Deliver(WaiterId, ConnId),
    Fail(WaiterId, WaitFailure),
    Close(ConnId, EvictReason),
    CancelDial(DialId),
}

pub(crate) struct Harness {
    pub pool: Pool<Key>,
    leases: HashMap<ConnId, Lease>,
}

impl Harness {
    pub(crate) fn new(config: PoolConfig) -> Self {
        Self { pool: Pool::new(config), leases: HashMap::new() }
    }

    /// `Ok(conn)` for a ready lease (kept), `Err(waiter)` for a waiter.
    pub(crate) fn checkout(&mut self, t: u64, key: Key) -> Result<ConnId, WaiterId> {
        let result = match self.pool.checkout(at(t), key) {
            Checkout::Ready(lease) => Ok(self.keep(lease)),
            Checkout::Waiting(waiter) => Err(waiter),
        };
        self.check();
        result
    }

    pub(crate) fn ready(&mut self, t: u64, key: Key) -> ConnId {
        self.checkout(t, key).expect("an idle connection")
    }

    pub(crate) fn waiting(&mut self, t: u64, key: Key) -> WaiterId {
        self.checkout(t, key).expect_err("no idle connection")
    }

    pub(crate) fn release(&mut self, t: u64, conn: ConnId, reusable: bool) {
        let lease = self.leases.remove(&conn).expect("a lease held for this connection");
        self.pool.release(at(t), lease, reusable);
        self.check();
    }

    /// Gives back a lease its waiter never used.
    pub(crate) fn release_unused(&mut self, t: u64, conn: ConnId) {
        let lease = self.leases.remove(&conn).expect("a lease held for this connection");
        self.pool.release_unused(at(t), lease);
        self.check();
    }

    pub(crate) fn dial_ok(&mut self, t: u64, dial: DialId) -> ConnId {
        let conn = self.pool.dial_succeeded(at(t), dial).expect("a known dial");
        self.check();
        conn
    }

    pub(crate) fn dial_err(&mut self, t: u64, dial: DialId) {
        self.pool.dial_failed(at(t), dial);
        self.check();
    }

    pub(crate) fn cancel(&mut self, t: u64, waiter: WaiterId) {
        self.pool.cancel_waiter(at(t), waiter);
        self.check();
    }

    pub(crate) fn timeout(&mut self, t: u64) {
        self.pool.handle_timeout(at(t));
        self.check();
    }

    pub(crate) fn lease(&self, conn: ConnId) -> &Lease {
        &self.leases[&conn]
    }

    pub(crate) fn holds(&self, conn: ConnId) -> bool {
        self.leases.contains_key(&conn)
    }

    /// Drains the pool's actions; leases of `Deliver` are kept for `release`.
    pub(crate) fn actions(&mut self) -> Vec<Act> {
        let mut acts = Vec::new();
        while let Some(action) = self.pool.poll_action() {
            acts.push(match action {
                PoolAction::StartDial { dial, key } => Act::StartDial(dial, key),
                PoolAction::Deliver { waiter, lease } => Act::Deliver(waiter, self.keep(lease)),
                PoolAction::Fail { waiter, cause } => Act::Fail(waiter, cause),
                PoolAction::Close { conn, reason } => Act::Close(conn, reason),
                PoolAction::CancelDial { dial } => Act::CancelDial(dial),
            });
        }
        acts
    }

    /// The dial the only pending action starts.
    pub(crate) fn started_dial(&mut self) -> DialId {
        match self.actions().as_slice() {
            [Act::StartDial(dial, _)] => *dial,
            other => panic!("expected one StartDial, got {other:?}"),
        }
    }

    /// Checks out `key`, dials, and returns the delivered connection, still leased.
    pub(crate) fn fresh_conn(&mut self, t: u64, key: Key) -> ConnId {
        let waiter = self.waiting(t, key);
        let dial = self.started_dial();
        let conn = self.dial_ok(t, dial);
        assert_eq!(self.actions(), [Act::Deliver(waiter, conn)]);
        conn
    }

    /// A new connection to `key`, used once and now idle since `t`.
    pub(crate) fn idle_conn(&mut self, t: u64, key: Key) -> ConnId {
        let conn = self.fresh_conn(t, key);
        self.release(t, conn, true);
        assert_eq!(self.actions(), []);
        conn
    }

    pub(crate) fn check(&self) {
        if let Err(broken) = self.pool.check_invariants() {
            panic!("pool invariant broken: {broken}");
        }
    }

    fn keep(&mut self, lease: Lease) -> ConnId {
        let conn = lease.conn();
        assert!(self.leases.insert(conn, lease).is_none(), "connection leased twice");
        conn
    }
}
