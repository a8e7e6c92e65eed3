//! Pool rules 5 (expiry) and 6 (wait timeout), driven by `poll_timeout` and
//! `handle_timeout`. Each deadline gets a boundary pair: nothing 1 ns before, fires at it.

mod pool_support;

use std::num::NonZeroUsize;
use std::time::Duration;

use pool_support::{Act, Harness, at, ms};
use roundtrip_core::pool::{EvictReason, PoolConfig, WaitFailure};

const NS: Duration = Duration::from_nanos(1);

/// Rule 5 (Go `IdleConnTimeout`, `closeConnIfStillIdle`): an idle connection expires
/// exactly `idle_timeout` after it went idle.
#[test]
fn rule5_idle_timeout_fires_at_the_deadline() {
    let mut h = Harness::new(PoolConfig::default().with_idle_timeout(Some(ms(1000))));
    let conn = h.idle_conn(0, "a");
    assert_eq!(h.pool.poll_timeout(), Some(at(1000)));

    h.pool.handle_timeout(at(1000) - NS);
    assert_eq!(h.actions(), []);
    h.pool.handle_timeout(at(1000));
    h.check();
    assert_eq!(h.actions(), [Act::Close(conn, EvictReason::IdleTimeout)]);
    assert_eq!(h.pool.poll_timeout(), None);
    assert_eq!(h.pool.key_stats(&"a"), None);
    assert_eq!(h.pool.stats().counts.evictions.expired(), 1);
}

/// Rule 5: idle expiry follows idle order across keys; reuse restarts the clock.
#[test]
fn rule5_idle_timeout_follows_idle_order_and_restarts_on_reuse() {
    let mut h = Harness::new(PoolConfig::default().with_idle_timeout(Some(ms(1000))));
    let a = h.idle_conn(0, "a");
    let b = h.idle_conn(500, "b");
    assert_eq!(h.ready(800, "a"), a);
    h.release(900, a, true);
    assert_eq!(h.pool.poll_timeout(), Some(at(1500)));
    h.timeout(1500);
    assert_eq!(h.actions(), [Act::Close(b, EvictReason::IdleTimeout)]);
    assert_eq!(h.pool.poll_timeout(), Some(at(1900)));
}

/// Rule 5: `max_conn_lifetime` closes an idle connection through `handle_timeout`; a
/// leased one past its lifetime does not keep `poll_timeout` in the past, and is closed
/// when released.
#[test]
fn rule5_max_conn_lifetime_expires_through_handle_timeout() {
    let config = PoolConfig::default().with_idle_timeout(None).with_max_conn_lifetime(Some(ms(1000)));
    let mut h = Harness::new(config);
    let idle = h.idle_conn(0, "a");
    let leased = h.fresh_conn(200, "b");
    assert_eq!(h.pool.poll_timeout(), Some(at(1000)));

    h.pool.handle_timeout(at(1000) - NS);
    assert_eq!(h.actions(), []);
    h.timeout(1000);
    assert_eq!(h.actions(), [Act::Close(idle, EvictReason::Lifetime)]);
    assert_eq!(h.pool.poll_timeout(), Some(at(1200)));
    h.timeout(1200);
    assert_eq!(h.actions(), []);
    assert_eq!(h.pool.poll_timeout(), None);
    h.release(1300, leased, true);
    assert_eq!(h.actions(), [Act::Close(leased, EvictReason::Lifetime)]);
}

/// Rule 6 (no Go equivalent): a waiter that waited `wait_timeout` fails with `Timeout`;
/// its dial goes on and feeds the pool.
#[test]
fn rule6_wait_timeout_fails_the_waiter() {
    let mut h = Harness::new(PoolConfig::default().with_wait_timeout(Some(ms(500))));
    let waiter = h.waiting(100, "a");
    let dial = h.started_dial();
    assert_eq!(h.pool.poll_timeout(), Some(at(600)));

    h.pool.handle_timeout(at(600) - NS);
    assert_eq!(h.actions(), []);
    h.timeout(600);
    assert_eq!(h.actions(), [Act::Fail(waiter, WaitFailure::Timeout)]);
    assert_eq!(h.pool.stats().counts.wait_timeouts, 1);
    let conn = h.dial_ok(700, dial);
    assert_eq!(h.actions(), []);
    assert_eq!(h.ready(800, "a"), conn);
}

/// Rule 6: a waiter queued for a slot times out too, in checkout order, and leaves the
/// slot queue, so the next freed slot skips it.
#[test]
fn rule6_wait_timeout_applies_to_slot_waiters_in_order() {
    let config =
        PoolConfig::default().with_max_conns_per_host(NonZeroUsize::new(1)).with_wait_timeout(Some(ms(500)));
    let mut h = Harness::new(config);
    let conn = h.fresh_conn(0, "a");
    let first = h.waiting(100, "a");
    let second = h.waiting(200, "a");
    let third = h.waiting(900, "a");
    h.timeout(700);
    assert_eq!(
        h.actions(),
        [Act::Fail(first, WaitFailure::Timeout), Act::Fail(second, WaitFailure::Timeout)]
    );
    assert_eq!(h.pool.poll_timeout(), Some(at(1400)));
    h.release(1000, conn, true);
    assert_eq!(h.actions(), [Act::Deliver(third, conn)]);
    assert_eq!(h.pool.poll_timeout(), None, "no waiter left, nothing idle");
}

/// `handle_timeout` is idempotent, and after it `poll_timeout` is never in the past.
#[test]
fn handle_timeout_is_idempotent() {
    let config = PoolConfig::default().with_idle_timeout(Some(ms(100))).with_wait_timeout(Some(ms(100)));
    let mut h = Harness::new(config);
    let conn = h.idle_conn(0, "a");
    let _waiter = h.waiting(50, "b");
    let _dial = h.started_dial();
    h.timeout(150);
    assert_eq!(h.actions().len(), 2);
    h.timeout(150);
    h.timeout(120);
    assert_eq!(h.actions(), []);
    assert!(h.pool.poll_timeout().is_none_or(|t| t > at(150)));
    assert_eq!(h.pool.stats().idle, 0, "{conn:?} expired");
}
