//! Hot path of the pool: checkout of an idle connection + release back to the idle list,
//! with 1, 100 and 10,000 keys (one idle connection each, visited round robin).
//! Target (docs/bench.md "Micro"): under 100 ns per pair.
//!
//! Two key types: `u32` (the pool's own cost) and `Arc<str>` host names (hashing a
//! string and an atomic clone per checkout, closer to what the engine passes).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use roundtrip_core::pool::{Checkout, Pool, PoolAction, PoolConfig};

const SIZES: [usize; 3] = [1, 100, 10_000];

/// A pool holding one idle connection per key.
fn pool_with_idle<K: Clone + Eq + std::hash::Hash>(keys: &[K], now: Instant) -> Pool<K> {
    let config = PoolConfig::default().with_max_idle(keys.len());
    let mut pool = Pool::new(config);
    for key in keys {
        let Checkout::Waiting(_) = pool.checkout(now, key.clone()) else { unreachable!("empty pool") };
        let Some(PoolAction::StartDial { dial, .. }) = pool.poll_action() else { unreachable!("a dial") };
        pool.dial_succeeded(now, dial).expect("a known dial");
        let Some(PoolAction::Deliver { lease, .. }) = pool.poll_action() else { unreachable!("a delivery") };
        pool.release(now, lease, true);
    }
    assert_eq!(pool.stats().idle, keys.len());
    pool
}

fn bench_keys<K: Clone + Eq + std::hash::Hash>(c: &mut Criterion, name: &str, make: impl Fn(usize) -> K) {
    let mut group = c.benchmark_group(format!("pool_checkout_release/{name}"));
    for size in SIZES {
        let keys: Vec<K> = (0..size).map(&make).collect();
        let t0 = Instant::now();
        let mut pool = pool_with_idle(&keys, t0);
        // A fixed `now` a little later: the connections are idle, not expired.
        let now = t0 + Duration::from_millis(1);
        let mut next = 0;
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                let key = keys[next].clone();
                next = if next + 1 == keys.len() { 0 } else { next + 1 };
                let Checkout::Ready(lease) = pool.checkout(now, black_box(key)) else {
                    unreachable!("an idle connection per key")
                };
                pool.release(now, black_box(lease), true);
            });
        });
        assert!(pool.poll_action().is_none());
    }
    group.finish();
}

fn checkout_release(c: &mut Criterion) {
    bench_keys(c, "u32", |i| u32::try_from(i).expect("small"));
    bench_keys(c, "arc_str", |i| Arc::<str>::from(format!("host-{i}.example.com:443")));
}

criterion_group!(benches, checkout_release);
criterion_main!(benches);
