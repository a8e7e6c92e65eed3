//! Cost rule: a pool with 10,000 keys and 100,000 idle connections works, and keys that
//! hold nothing are forgotten (Go `TestIdleConnChannelLeak`).

mod pool_support;

use std::collections::VecDeque;
use std::time::Duration;

use pool_support::{T0, ms};
use roundtrip_core::pool::{Checkout, EvictReason, Pool, PoolAction, PoolConfig};

const KEYS: u32 = 10_000;
const PER_KEY: usize = 10;

/// Fills every key with `PER_KEY` idle connections through the public API, one wave of
/// checkouts, dials and releases per key.
fn filled_pool() -> Pool<u32> {
    let config = PoolConfig::default().with_max_idle(KEYS as usize * PER_KEY).with_max_idle_per_host(PER_KEY);
    let mut pool = Pool::new(config);
    let mut dials = Vec::with_capacity(PER_KEY);
    let mut leases = VecDeque::with_capacity(PER_KEY);
    for key in 0..KEYS {
        for _ in 0..PER_KEY {
            assert!(matches!(pool.checkout(*T0, key), Checkout::Waiting(_)));
            let Some(PoolAction::StartDial { dial, .. }) = pool.poll_action() else { panic!("a dial") };
            dials.push(dial);
        }
        for dial in dials.drain(..) {
            pool.dial_succeeded(*T0, dial).expect("known dial");
            let Some(PoolAction::Deliver { lease, .. }) = pool.poll_action() else { panic!("a delivery") };
            leases.push_back(lease);
        }
        for lease in leases.drain(..) {
            pool.release(*T0, lease, true);
        }
    }
    assert_eq!(pool.poll_action(), None);
    pool
}

#[test]
fn ten_thousand_keys_and_a_hundred_thousand_idle_connections() {
    let mut pool = filled_pool();
    let stats = pool.stats();
    assert_eq!((stats.keys, stats.idle, stats.active, stats.counts.dials), (10_000, 100_000, 0, 100_000));
    assert_eq!(pool.key_stats(&1234).map(|s| (s.conns, s.idle)), Some((10, 10)));
    pool.check_invariants().expect("invariants hold");

    let later = *T0 + ms(10);
    let Checkout::Ready(lease) = pool.checkout(later, 4321) else { panic!("an idle connection") };
    assert_eq!(lease.idle_for(), Some(ms(10)));
    pool.release(later, lease, true);
    let Checkout::Waiting(_) = pool.checkout(later, KEYS) else { panic!("a new key waits") };
    assert!(matches!(pool.poll_action(), Some(PoolAction::StartDial { key: KEYS, .. })));
    assert_eq!(pool.poll_timeout(), Some(*T0 + Duration::from_secs(90)));

    pool.handle_timeout(*T0 + Duration::from_secs(90));
    let mut closed = 0;
    while let Some(action) = pool.poll_action() {
        assert!(matches!(action, PoolAction::Close { reason: EvictReason::IdleTimeout, .. }));
        closed += 1;
    }
    assert_eq!(closed, 99_999, "all but the one reused at +10 ms");
    pool.handle_timeout(later + Duration::from_secs(90));
    assert!(matches!(pool.poll_action(), Some(PoolAction::Close { .. })));
    let stats = pool.stats();
    assert_eq!((stats.keys, stats.idle, stats.dialing, stats.waiting), (1, 0, 1, 1));
    pool.check_invariants().expect("invariants hold");
}

/// Go `TestIdleConnChannelLeak`: talking to many distinct hosts once leaves no per-key
/// state behind, whatever ended each key's last connection or waiter.
#[test]
fn many_distinct_hosts_leave_no_key_state_behind() {
    let mut pool = Pool::new(PoolConfig::default().with_max_idle(0));
    for host in 0..3000u32 {
        let key = format!("host-{host}.example:443");
        let Checkout::Waiting(waiter) = pool.checkout(*T0, key) else { panic!("a new key waits") };
        let Some(PoolAction::StartDial { dial, .. }) = pool.poll_action() else { panic!("a dial") };
        match host % 3 {
            0 => pool.dial_failed(*T0, dial),
            1 => {
                pool.cancel_waiter(*T0, waiter);
                pool.dial_failed(*T0, dial);
            }
            _ => {
                pool.dial_succeeded(*T0, dial).expect("known dial");
                let Some(PoolAction::Deliver { lease, .. }) = pool.poll_action() else {
                    panic!("a delivery")
                };
                pool.release(*T0, lease, true); // max_idle 0: closed at once
            }
        }
        while pool.poll_action().is_some() {}
    }
    let stats = pool.stats();
    assert_eq!((stats.keys, stats.idle, stats.active, stats.dialing, stats.waiting), (0, 0, 0, 0, 0));
    pool.check_invariants().expect("invariants hold");
}
