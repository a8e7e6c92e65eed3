//! Pool rules 2, 7 and 8: dial racing, dial failures and the one outcome of each waiter.
//! Time is `T0 + ms(n)`.

mod pool_support;

use std::num::NonZeroUsize;

use pool_support::{Act, Harness, at};
use roundtrip_core::pool::{PoolConfig, WaitFailure};

fn one_conn_per_host() -> PoolConfig {
    PoolConfig::default().with_max_conns_per_host(NonZeroUsize::new(1))
}

/// Rule 2 (Go `getConn`: `queueForIdleConn` and `queueForDial`): a waiter waits for an
/// idle connection and a dial at once; the released connection wins here, and the dial
/// still completes and goes idle (Go 1.23, golang/go#59017).
#[test]
fn rule2_waiter_races_idle_connection_and_dial() {
    let mut h = Harness::new(PoolConfig::default());
    let conn = h.fresh_conn(0, "a");
    let waiter = h.waiting(10, "a");
    let dial = h.started_dial();

    h.release(20, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(waiter, conn)]);
    let late = h.dial_ok(30, dial);
    assert_eq!(h.actions(), [], "the late connection goes idle, nobody is failed");
    let stats = h.pool.key_stats(&"a").expect("key in use");
    assert_eq!((stats.conns, stats.active, stats.idle, stats.dialing), (2, 1, 1, 0));
    assert_eq!(h.ready(40, "a"), late);
}

/// Rule 2 (Go 1.23 `dialConnFor` -> `putOrCloseIdleConn`): the dial of a waiter that left
/// is not cancelled; its connection serves the next waiter.
#[test]
fn rule2_dial_of_cancelled_waiter_feeds_next_waiter() {
    let mut h = Harness::new(PoolConfig::default());
    let gone = h.waiting(0, "a");
    let orphan = h.started_dial();
    h.cancel(5, gone);
    assert_eq!(h.actions(), [], "no CancelDial: the dial goes on");
    let next = h.waiting(10, "a");
    let own = h.started_dial();

    let conn = h.dial_ok(20, orphan);
    assert_eq!(h.actions(), [Act::Deliver(next, conn)]);
    let spare = h.dial_ok(30, own);
    assert_eq!(h.actions(), []);
    assert_eq!(h.ready(40, "a"), spare);
}

/// Rule 7 (Go `dialConnFor` error path): a failed dial fails its own waiter only.
#[test]
fn rule7_dial_failure_fails_only_its_waiter() {
    let mut h = Harness::new(PoolConfig::default());
    let first = h.waiting(0, "a");
    let first_dial = h.started_dial();
    let second = h.waiting(10, "a");
    let second_dial = h.started_dial();

    h.dial_err(20, first_dial);
    assert_eq!(h.actions(), [Act::Fail(first, WaitFailure::Dial(first_dial))]);
    assert_eq!(h.pool.key_stats(&"a").map(|s| (s.waiting, s.dialing, s.conns)), Some((1, 1, 1)));
    let conn = h.dial_ok(30, second_dial);
    assert_eq!(h.actions(), [Act::Deliver(second, conn)]);
    assert_eq!(h.pool.stats().counts.dial_failures, 1);
}

/// Rule 7 (Go `decConnsPerHost`): when the waiter of a failed dial already left, nobody is
/// failed and the slot goes to the next waiter queued for one, which starts a dial.
#[test]
fn rule7_dial_failure_after_its_waiter_left_starts_next_waiters_dial() {
    let mut h = Harness::new(one_conn_per_host());
    let gone = h.waiting(0, "a");
    let dial = h.started_dial();
    let next = h.waiting(10, "a");
    assert_eq!(h.actions(), [], "the key is full");
    h.cancel(15, gone);

    h.dial_err(20, dial);
    let retry = h.started_dial();
    assert_eq!(h.pool.key_stats(&"a").map(|s| (s.conns, s.dialing, s.waiting_for_slot)), Some((1, 1, 0)));
    let conn = h.dial_ok(30, retry);
    assert_eq!(h.actions(), [Act::Deliver(next, conn)]);
}

/// Rule 7 with strict FIFO: when a dial's connection served an older waiter, the waiter it
/// was dialed for inherits the older waiter's dial, so that dial's failure fails it.
#[test]
fn rule7_failed_dial_fails_the_waiter_that_inherited_it() {
    let mut h = Harness::new(PoolConfig::default());
    let first = h.waiting(0, "a");
    let first_dial = h.started_dial();
    let second = h.waiting(10, "a");
    let second_dial = h.started_dial();

    let conn = h.dial_ok(20, second_dial);
    assert_eq!(h.actions(), [Act::Deliver(first, conn)]);
    h.dial_err(30, first_dial);
    assert_eq!(h.actions(), [Act::Fail(second, WaitFailure::Dial(first_dial))]);
    assert_eq!(h.pool.stats().waiting, 0);
}

/// Rule 8 (Go `wantConn.tryDeliver`): the first outcome wins; a waiter served by a hand-off
/// is not failed when its own dial fails later, and cancelling it then is a no-op.
#[test]
fn rule8_each_waiter_gets_exactly_one_outcome() {
    let mut h = Harness::new(PoolConfig::default().with_wait_timeout(Some(pool_support::ms(100))));
    let conn = h.fresh_conn(0, "a");
    let waiter = h.waiting(10, "a");
    let dial = h.started_dial();
    h.release(20, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(waiter, conn)]);

    h.dial_err(30, dial);
    h.cancel(40, waiter);
    h.timeout(500);
    assert_eq!(h.actions(), []);
    assert_eq!(h.pool.stats().counts.wait_timeouts, 0);
}

/// Rule 8 (Go `cleanFrontNotWaiting`): cancelled waiters leave every queue, so repeated
/// cancels do not grow them, and the next live waiter is served first.
#[test]
fn rule8_cancelled_waiters_are_trimmed_and_queues_do_not_grow() {
    let mut h = Harness::new(one_conn_per_host());
    let conn = h.fresh_conn(0, "a");
    let mut ids = Vec::new();
    for t in 1..=1000 {
        let waiter = h.waiting(t, "a");
        h.cancel(t, waiter);
        ids.push(waiter);
    }
    let stats = h.pool.key_stats(&"a").expect("key in use");
    assert_eq!((stats.waiting, stats.waiting_for_slot), (0, 0));
    assert!(ids.iter().all(|w| w.index() == ids[0].index()), "the waiter slot is reused");

    let live = h.waiting(2000, "a");
    h.release(2001, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(live, conn)]);
    h.cancel(2002, live);
    assert_eq!(h.actions(), [], "a cancel after the outcome is a no-op");
    h.release(2003, conn, true);
    assert_eq!(h.pool.key_stats(&"a").map(|s| s.idle), Some(1));
}

/// Rule 8: cancelling dial owners leaves their dials running, unowned; each still
/// completes and is parked within the idle limits.
#[test]
fn rule8_cancelled_dial_owners_leave_dials_that_still_complete() {
    let mut h = Harness::new(PoolConfig::default().with_max_idle_per_host(2));
    let mut dials = Vec::new();
    for t in 0..3 {
        let waiter = h.waiting(t, "a");
        dials.push(h.started_dial());
        h.cancel(t, waiter);
    }
    let conns: Vec<_> = dials.iter().map(|&d| h.dial_ok(10, d)).collect();
    assert_eq!(h.actions(), [Act::Close(conns[2], roundtrip_core::pool::EvictReason::TooManyIdleForHost)]);
    assert_eq!(h.pool.stats().idle, 2);
}

/// Unknown and stale ids are ignored, never a panic.
#[test]
fn stale_ids_are_ignored() {
    let mut h = Harness::new(PoolConfig::default());
    let waiter = h.waiting(0, "a");
    let dial = h.started_dial();
    let conn = h.dial_ok(10, dial);
    assert_eq!(h.actions(), [Act::Deliver(waiter, conn)]);

    assert_eq!(h.pool.dial_succeeded(at(20), dial), None);
    h.pool.dial_failed(at(20), dial);
    h.pool.cancel_waiter(at(20), waiter);
    h.check();
    assert_eq!(h.actions(), []);
    let stats = h.pool.stats();
    assert_eq!((stats.active, stats.dialing, stats.waiting, stats.counts.dial_failures), (1, 0, 0, 0));
}
