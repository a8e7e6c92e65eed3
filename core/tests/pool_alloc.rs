//! Cost rule: once warmed up, the reuse path (checkout from the idle list, release to the
//! idle list or to a waiter) does not allocate. Counted with a global allocator that only
//! counts on the thread that turned it on; this file holds one test so nothing else runs
//! in the process meanwhile.

mod alloc_support;

use std::time::{Duration, Instant};

use roundtrip_core::pool::{Checkout, Pool, PoolAction, PoolConfig};

/// One round over every key: take its idle connection and give it back; with `dial_new`,
/// a second checkout waits and dials meanwhile, gets the first connection by hand-off and
/// closes it, and the new connection goes idle. Exercises the idle hit, the waiter, the
/// dial, the hand-off, the close and the park, with the pool's size unchanged.
fn round(pool: &mut Pool<u32>, now: Instant, keys: u32, dial_new: bool) {
    for key in 0..keys {
        let Checkout::Ready(first) = pool.checkout(now, key) else { panic!("an idle connection") };
        if dial_new {
            let Checkout::Waiting(_) = pool.checkout(now, key) else { panic!("a waiter") };
            let Some(PoolAction::StartDial { dial, .. }) = pool.poll_action() else { panic!("a dial") };
            pool.release(now, first, true);
            let Some(PoolAction::Deliver { lease, .. }) = pool.poll_action() else { panic!("a hand-off") };
            pool.dial_succeeded(now, dial).expect("a known dial");
            pool.release(now, lease, false);
        } else {
            pool.release(now, first, true);
        }
    }
}

#[test]
fn reuse_path_does_not_allocate_after_warm_up() {
    let t0 = Instant::now();
    let keys = 100;
    let mut pool = Pool::new(PoolConfig::default().with_max_idle(10 * keys as usize));
    for key in 0..keys {
        let Checkout::Waiting(_) = pool.checkout(t0, key) else { panic!("a waiter") };
        let Some(PoolAction::StartDial { dial, .. }) = pool.poll_action() else { panic!("a dial") };
        pool.dial_succeeded(t0, dial).expect("a known dial");
        let Some(PoolAction::Deliver { lease, .. }) = pool.poll_action() else { panic!("a delivery") };
        pool.release(t0, lease, true);
    }
    // Warm-up: the waiter, dial and action storage reach their peak once.
    round(&mut pool, t0, keys, true);
    for _ in 0..3 {
        round(&mut pool, t0, keys, false);
    }
    let now = t0 + Duration::from_millis(1);

    let allocated = alloc_support::allocations(|| {
        for i in 0..100 {
            round(&mut pool, now, keys, i % 10 == 0);
        }
    });
    assert_eq!(allocated, 0, "allocations on the reuse path");
    pool.check_invariants().expect("invariants hold");
}
