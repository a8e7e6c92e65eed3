//! Pool rules 4 and 5 (limits) and `close_idle`. Time is `T0 + ms(n)`.

mod pool_support;

use std::num::{NonZeroU64, NonZeroUsize};

use pool_support::{Act, Harness, ms};
use roundtrip_core::pool::{EvictReason, KeyStats, PoolConfig, WaitFailure};

fn max_conns(n: usize) -> PoolConfig {
    PoolConfig::default().with_max_conns_per_host(NonZeroUsize::new(n))
}

fn counts(h: &Harness, key: &'static str) -> Option<(usize, usize, usize, usize, usize, usize)> {
    h.pool
        .key_stats(&key)
        .map(|s: KeyStats| (s.conns, s.dialing, s.active, s.idle, s.waiting, s.waiting_for_slot))
}

/// Rule 4 (Go `queueForDial`): `max_conns_per_host` counts dialing, active and idle
/// connections; the waiter that finds the key full queues for a slot, other keys are
/// unaffected.
#[test]
fn rule4_max_conns_per_host_counts_dialing_active_and_idle() {
    let mut h = Harness::new(max_conns(2));
    let idle = h.idle_conn(0, "a");
    assert_eq!(counts(&h, "a"), Some((1, 0, 0, 1, 0, 0)));
    assert_eq!(h.ready(10, "a"), idle);
    let _dialing = h.waiting(20, "a");
    let _dial = h.started_dial();
    let _queued = h.waiting(30, "a");
    assert_eq!(h.actions(), []);
    // conns, dialing, active, idle, waiting, waiting_for_slot
    assert_eq!(counts(&h, "a"), Some((2, 1, 1, 0, 2, 1)));

    let _other = h.waiting(40, "b");
    assert!(matches!(h.actions()[..], [Act::StartDial(_, "b")]));
}

/// Rule 4 (Go `decConnsPerHost`): waiters beyond the limit get slots in FIFO order; a
/// failed dial hands its slot to the next one.
#[test]
fn rule4_slot_waiters_are_served_in_order() {
    let mut h = Harness::new(max_conns(1));
    let conn = h.fresh_conn(0, "a");
    let first = h.waiting(10, "a");
    let second = h.waiting(20, "a");
    let third = h.waiting(30, "a");

    h.release(40, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(first, conn)]);
    h.release(50, conn, false);
    let second_dial = h.started_dial();
    h.dial_err(60, second_dial);
    let acts = h.actions();
    assert_eq!(acts[0], Act::Fail(second, WaitFailure::Dial(second_dial)));
    let [Act::StartDial(third_dial, "a")] = acts[1..] else { panic!("{acts:?}") };
    let next = h.dial_ok(70, third_dial);
    assert_eq!(h.actions(), [Act::Deliver(third, next)]);
    assert_eq!(counts(&h, "a"), Some((1, 0, 1, 0, 0, 0)));
}

/// Rule 4 (Go: a waiter in `connsPerHostWait` is also in `idleConnWait`): a slot-waiter
/// served by a hand-off leaves the slot queue, so a freed slot skips it.
#[test]
fn rule4_slot_waiter_served_by_hand_off_is_skipped() {
    let mut h = Harness::new(max_conns(1));
    let conn = h.fresh_conn(0, "a");
    let first = h.waiting(10, "a");
    let second = h.waiting(20, "a");
    h.release(30, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(first, conn)]);
    assert_eq!(counts(&h, "a"), Some((1, 0, 1, 0, 1, 1)));

    h.release(40, conn, false);
    let dial = h.started_dial();
    let next = h.dial_ok(50, dial);
    assert_eq!(h.actions(), [Act::Deliver(second, next)]);
}

/// Rule 4: the count drops when nobody waits for the slot, and the key is forgotten at
/// zero; it never underflows (the invariant check runs after every step).
#[test]
fn rule4_freed_slot_without_slot_waiters_lowers_the_count() {
    let mut h = Harness::new(max_conns(2));
    let a = h.fresh_conn(0, "a");
    let b = h.fresh_conn(0, "a");
    h.release(10, a, false);
    assert_eq!(counts(&h, "a"), Some((1, 0, 1, 0, 0, 0)));
    h.release(20, b, false);
    assert_eq!(counts(&h, "a"), None);
    assert_eq!(h.pool.stats().keys, 0);
}

/// Rule 5 (Go `tryPutIdleConn`, `errTooManyIdleHost`): past `max_idle_per_host` the
/// newcomer is closed.
#[test]
fn rule5_max_idle_per_host_closes_the_newcomer() {
    let mut h = Harness::new(PoolConfig::default().with_max_idle_per_host(1));
    let kept = h.fresh_conn(0, "a");
    let extra = h.fresh_conn(0, "a");
    h.release(10, kept, true);
    h.release(20, extra, true);
    assert_eq!(h.actions(), [Act::Close(extra, EvictReason::TooManyIdleForHost)]);
    assert_eq!(h.ready(30, "a"), kept);
}

/// Rule 5 (Go `tryPutIdleConn` with `MaxIdleConns`): past `max_idle` the least recently
/// used idle connection of any key is closed.
#[test]
fn rule5_max_idle_evicts_least_recently_used_across_keys() {
    let mut h = Harness::new(PoolConfig::default().with_max_idle(2));
    let a = h.idle_conn(0, "a");
    let _b = h.idle_conn(10, "b");
    let c = h.fresh_conn(20, "c");
    h.release(30, c, true);
    assert_eq!(h.actions(), [Act::Close(a, EvictReason::TooManyIdle)]);
    assert_eq!(counts(&h, "a"), None, "key a is forgotten");
    assert_eq!(h.pool.stats().idle, 2);
    assert_eq!(h.pool.stats().counts.evictions.total(), 1);
}

/// Rule 5: a connection that served `max_requests_per_conn` requests is closed on
/// release, and its slot goes to a waiter.
#[test]
fn rule5_max_requests_per_conn_closes_on_release() {
    let config = max_conns(1).with_max_requests_per_conn(NonZeroU64::new(2));
    let mut h = Harness::new(config);
    let conn = h.idle_conn(0, "a");
    assert_eq!(h.ready(10, "a"), conn);
    let waiter = h.waiting(20, "a");
    h.release(30, conn, true);
    let acts = h.actions();
    assert_eq!(acts[0], Act::Close(conn, EvictReason::MaxRequests));
    let [Act::StartDial(dial, "a")] = acts[1..] else { panic!("{acts:?}") };
    let next = h.dial_ok(40, dial);
    assert_eq!(h.actions(), [Act::Deliver(waiter, next)]);
}

/// Rule 5: a connection handed back unused (its waiter left before collecting it)
/// has served no request: with `max_requests_per_conn = 1` it goes to the next
/// waiter instead of being closed, and that waiter does not see it as reused.
#[test]
fn rule5_a_connection_returned_unused_has_served_no_request() {
    let config = max_conns(1).with_max_requests_per_conn(NonZeroU64::new(1));
    let mut h = Harness::new(config);
    let conn = h.fresh_conn(0, "a");
    let next = h.waiting(10, "a");
    h.release_unused(20, conn);
    assert_eq!(h.actions(), [Act::Deliver(next, conn)]);
    assert!(!h.lease(conn).was_reused());
    assert_eq!(h.pool.stats().counts.reuses, 0);
}

/// Rule 5: a connection past `max_conn_lifetime` is closed when released, not reused,
/// even with a waiter at hand.
#[test]
fn rule5_max_conn_lifetime_closes_on_release() {
    let config = max_conns(1).with_max_conn_lifetime(Some(ms(1000)));
    let mut h = Harness::new(config);
    let conn = h.fresh_conn(0, "a");
    let waiter = h.waiting(500, "a");
    h.release(1000, conn, true);
    let acts = h.actions();
    assert_eq!(acts[0], Act::Close(conn, EvictReason::Lifetime));
    let [Act::StartDial(dial, "a")] = acts[1..] else { panic!("{acts:?}") };
    let next = h.dial_ok(1010, dial);
    assert_eq!(h.actions(), [Act::Deliver(waiter, next)]);
    assert_eq!(h.pool.stats().counts.evictions.expired(), 1);
}

/// Go 1.23 `CloseIdleConnections`: closes idle connections, cancels the dials no waiter
/// owns (once), and leaves leased connections and owned dials alone.
#[test]
fn close_idle_closes_idle_connections_and_cancels_orphaned_dials() {
    let mut h = Harness::new(PoolConfig::default());
    let idle = h.idle_conn(0, "a");
    let leased = h.fresh_conn(0, "b");
    let gone = h.waiting(10, "c");
    let orphan = h.started_dial();
    h.cancel(10, gone);
    let _owner = h.waiting(20, "d");
    let _owned = h.started_dial();

    h.pool.close_idle(pool_support::at(30));
    h.check();
    assert_eq!(h.actions(), [Act::Close(idle, EvictReason::CloseIdle), Act::CancelDial(orphan)]);
    h.pool.close_idle(pool_support::at(31));
    assert_eq!(h.actions(), [], "each dial is cancelled once");
    h.dial_err(40, orphan);
    assert_eq!(h.actions(), []);
    assert!(h.holds(leased));
    assert_eq!(h.pool.stats().dialing, 1);
}

/// Go `closeIdle` flag: until the next checkout, a connection that would go idle is
/// closed instead, but a hand-off to a waiter still happens.
#[test]
fn close_idle_lasts_until_the_next_checkout() {
    let mut h = Harness::new(max_conns(1));
    let conn = h.fresh_conn(0, "a");
    let other = h.fresh_conn(0, "b");
    let waiter = h.waiting(10, "a");
    h.pool.close_idle(pool_support::at(20));
    h.release(30, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(waiter, conn)]);
    h.release(40, conn, true);
    assert_eq!(h.actions(), [Act::Close(conn, EvictReason::CloseIdle)]);

    let _unrelated = h.waiting(50, "c");
    let _dial = h.started_dial();
    h.release(60, other, true);
    assert_eq!(h.actions(), [], "the checkout ended close_idle's effect");
    assert_eq!(counts(&h, "b"), Some((1, 0, 0, 1, 0, 0)));
}
