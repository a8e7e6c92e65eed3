//! Cost rule: once warmed up, the reuse path (checkout from the idle list, release to the
//! idle list or to a waiter) does not allocate. Counted with a global allocator that only
//! counts on the thread that turned it on; this file holds one test so nothing else runs
//! in the process meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use roundtrip_core::pool::{Checkout, Pool, PoolAction, PoolConfig};

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call unchanged to the system allocator; it only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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

    COUNTING.with(|on| on.set(true));
    for i in 0..100 {
        round(&mut pool, now, keys, i % 10 == 0);
    }
    COUNTING.with(|on| on.set(false));
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0, "allocations on the reuse path");
    pool.check_invariants().expect("invariants hold");
}
