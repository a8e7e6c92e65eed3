//! Pool rules 1 and 3: which connection a checkout gets, and where a released or new
//! connection goes. Time is `T0 + ms(n)`.

mod pool_support;

use pool_support::{Act, Harness, at, ms};
use roundtrip_core::pool::{EvictReason, PoolConfig};

/// Rule 1 (Go `queueForIdleConn`): the idle list is a stack, the newest idle connection
/// is reused first.
#[test]
fn rule1_idle_reuse_is_most_recently_used_first() {
    let mut h = Harness::new(PoolConfig::default());
    let older = h.fresh_conn(0, "a");
    let newer = h.fresh_conn(0, "a");
    h.release(10, older, true);
    h.release(20, newer, true);

    assert_eq!(h.ready(30, "a"), newer);
    assert_eq!(h.ready(30, "a"), older);
    assert_eq!(h.actions(), []);
}

/// Rule 1 (Go `queueForIdleConn` dropping stale entries): an expired entry met on the
/// way down the stack is closed and skipped; the first good one is used.
#[test]
fn rule1_expired_idle_entries_are_skipped_and_closed() {
    let config =
        PoolConfig::default().with_idle_timeout(Some(ms(1000))).with_max_conn_lifetime(Some(ms(3000)));
    let mut h = Harness::new(config);
    let old = h.fresh_conn(0, "a"); // lifetime ends at 3000
    let good = h.fresh_conn(2000, "a"); // lifetime ends at 5000
    h.release(2500, good, true); // idle until 3500
    h.release(2600, old, true); // on top of the stack

    assert_eq!(h.ready(3000, "a"), good);
    assert_eq!(h.actions(), [Act::Close(old, EvictReason::Lifetime)]);
    assert_eq!(h.lease(good).idle_for(), Some(ms(500)));
}

/// Rule 1: when every idle entry expired, all are closed and the checkout waits and
/// dials instead.
#[test]
fn rule1_checkout_dials_when_every_idle_entry_expired() {
    let mut h = Harness::new(PoolConfig::default().with_idle_timeout(Some(ms(1000))));
    let first = h.fresh_conn(0, "a");
    let second = h.fresh_conn(0, "a");
    h.release(0, first, true);
    h.release(100, second, true);

    let waiter = h.waiting(1100, "a");
    let acts = h.actions();
    assert_eq!(
        acts[..2],
        [Act::Close(second, EvictReason::IdleTimeout), Act::Close(first, EvictReason::IdleTimeout)]
    );
    assert!(matches!(acts[2..], [Act::StartDial(_, "a")]), "{acts:?}");
    let stats = h.pool.key_stats(&"a").expect("the key is in use");
    assert_eq!((stats.conns, stats.idle, stats.dialing, stats.waiting), (1, 0, 1, 1));
    h.cancel(1100, waiter);
}

/// Lease facts (Go `GotConnInfo`): reused, idle time, requests served.
#[test]
fn lease_reports_reuse_and_idle_time() {
    let mut h = Harness::new(PoolConfig::default());
    let conn = h.fresh_conn(0, "a");
    let fresh = h.lease(conn);
    assert_eq!((fresh.was_reused(), fresh.idle_for(), fresh.requests_served()), (false, None, 0));

    h.release(10, conn, true);
    assert_eq!(h.ready(40, "a"), conn);
    let reused = h.lease(conn);
    assert_eq!((reused.was_reused(), reused.idle_for(), reused.requests_served()), (true, Some(ms(30)), 1));

    let waiter = h.waiting(50, "a");
    let _dial = h.started_dial();
    h.release(60, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(waiter, conn)]);
    let handed = h.lease(conn);
    assert_eq!((handed.was_reused(), handed.idle_for(), handed.requests_served()), (true, None, 2));
    assert_eq!(h.pool.stats().counts.reuses, 2);
}

/// Rule 3 (Go `tryPutIdleConn` hand-off): a released connection goes to the oldest
/// waiter and never enters the idle list while anyone waits.
#[test]
fn rule3_released_connection_goes_to_oldest_waiter_before_idle() {
    let config = PoolConfig::default().with_max_conns_per_host(std::num::NonZeroUsize::new(1));
    let mut h = Harness::new(config);
    let conn = h.fresh_conn(0, "a");
    let first = h.waiting(10, "a");
    let second = h.waiting(20, "a");
    assert_eq!(h.actions(), [], "the key is full: both wait for a slot");

    h.release(30, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(first, conn)]);
    assert_eq!(h.pool.key_stats(&"a").map(|s| s.idle), Some(0));
    h.release(40, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(second, conn)]);
    h.release(50, conn, true);
    assert_eq!(h.actions(), []);
    assert_eq!(h.pool.key_stats(&"a").map(|s| s.idle), Some(1));
    let stats = h.pool.stats();
    // Three waits: the first checkout waited 0 ms for its dial.
    assert_eq!((stats.counts.waits, stats.counts.total_wait_time), (3, ms(20) + ms(20)));
}

/// Rule 3, strict FIFO: a new connection goes to the oldest waiter of its key even when
/// it was dialed for a younger one (Go serves the dial's own waiter first; we do not).
#[test]
fn rule3_dialed_connection_goes_to_oldest_waiter() {
    let mut h = Harness::new(PoolConfig::default());
    let first = h.waiting(0, "a");
    let first_dial = h.started_dial();
    let second = h.waiting(10, "a");
    let second_dial = h.started_dial();

    let conn = h.dial_ok(20, second_dial);
    assert_eq!(h.actions(), [Act::Deliver(first, conn)]);
    let other = h.dial_ok(30, first_dial);
    assert_eq!(h.actions(), [Act::Deliver(second, other)]);
}

/// `release(.., false)`: the engine closed the connection; its slot is freed and goes to
/// the next waiter for a slot (Go `decConnsPerHost`), with no `Close` action.
#[test]
fn released_unreusable_connection_frees_its_slot() {
    let config = PoolConfig::default().with_max_conns_per_host(std::num::NonZeroUsize::new(1));
    let mut h = Harness::new(config);
    let conn = h.fresh_conn(0, "a");
    let waiter = h.waiting(10, "a");
    h.release(20, conn, false);
    let dial = h.started_dial();
    let next = h.dial_ok(30, dial);
    assert_eq!(h.actions(), [Act::Deliver(waiter, next)]);

    h.release(40, next, false);
    assert_eq!(h.actions(), []);
    assert_eq!(h.pool.key_stats(&"a"), None, "nothing left: the key is forgotten");
}

/// Go `removeIdleConn`: an idle connection found dead is forgotten without a `Close`.
#[test]
fn conn_closed_forgets_an_idle_connection() {
    let mut h = Harness::new(PoolConfig::default());
    let conn = h.idle_conn(0, "a");
    h.pool.conn_closed(at(10), conn);
    h.check();
    assert_eq!(h.actions(), []);
    assert_eq!(h.pool.stats().idle, 0);
    assert_eq!(h.pool.key_stats(&"a"), None);
    assert_eq!(h.pool.poll_timeout(), None);
}

/// `conn_closed` ignores leased connections (their holder releases them) and stale ids.
#[test]
fn conn_closed_ignores_leased_and_stale_connections() {
    let mut h = Harness::new(PoolConfig::default());
    let conn = h.fresh_conn(0, "a");
    h.pool.conn_closed(at(10), conn);
    h.check();
    assert_eq!(h.pool.stats().active, 1);
    h.release(20, conn, false);
    h.pool.conn_closed(at(30), conn);
    h.check();
    assert_eq!(h.actions(), []);

    // The slot of the old connection is reused; the old id stays stale.
    let next = h.idle_conn(40, "a");
    assert_eq!(next.index(), conn.index());
    assert_ne!(next, conn);
    h.pool.conn_closed(at(50), conn);
    assert_eq!(h.pool.stats().idle, 1);
}
