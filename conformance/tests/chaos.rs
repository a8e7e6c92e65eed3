//! Chaos over real sockets (conformance/src/chaos.rs): 200,000 requests per
//! runtime against a loopback server that resets and closes connections at
//! random, 10 % of them cancelled. Afterwards, with the pool closed: no
//! connection or engine task left, descriptors back to their baseline, and
//! the live heap within 1 MiB of it. `CHAOS_REQUESTS=n` sends n requests per
//! runtime instead (docs/reliability.md: a million).

use std::time::Duration;

use roundtrip_conformance::chaos::{self, ChaosServer, CountingRuntime};
use roundtrip_conformance::heap;
use roundtrip_conformance::sync::eventually;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Client, Runtime};

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

fn requests() -> u64 {
    std::env::var("CHAOS_REQUESTS").map_or(200_000, |n| n.parse().expect("CHAOS_REQUESTS=n"))
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Closes the pool and waits until the client, the server and the engine's
/// tasks have let go of every connection.
async fn quiesce<R: Runtime>(
    client: &Client<CountingRuntime<R>>,
    runtime: &CountingRuntime<R>,
    server: &ChaosServer,
) {
    client.close_idle();
    eventually(runtime, "the pool to empty", || {
        let stats = client.pool_stats();
        stats.idle + stats.active + stats.dialing + stats.waiting == 0
    })
    .await;
    eventually(runtime, "the engine's tasks to end", || runtime.live_tasks() == 0).await;
    eventually(runtime, "the server's connections to close", || server.open() == 0).await;
}

/// The run on one runtime, inside `block_on`.
async fn chaos_on<R: Runtime>(runtime: R) {
    let runtime = CountingRuntime::new(runtime);
    let server = ChaosServer::start(7);
    let client = chaos::client(runtime.clone());
    watchdog::watch(&client);
    // A warm-up fills the per-thread caches and the runtime's own tables.
    chaos::run(&client, &server, 2_000, 32, 1).await;
    quiesce(&client, &runtime, &server).await;
    let (descriptors, heap) = (open_descriptors(), heap::live());

    let n = requests();
    let tally = chaos::run(&client, &server, n, 64, 2).await;
    quiesce(&client, &runtime, &server).await;
    eprintln!("{n} requests: {tally:?}, {} connections accepted", server.accepted());
    assert_eq!(tally.responses + tally.errors + tally.canceled, n, "every request ends once");
    assert!(tally.responses > n / 2, "most requests get their response");
    assert!(tally.errors > 0 && tally.canceled > 0, "the faults and cancellations happened");
    eventually(&runtime, "the descriptors to return to their baseline", || open_descriptors() <= descriptors)
        .await;
    let grown = heap::live() - heap;
    eprintln!("heap: {grown} bytes more than after the warm-up");
    assert!(grown <= 1 << 20, "the live heap grew by {grown} bytes over the run");
}

/// One test runs every runtime in turn: the descriptor and heap counts are
/// the process's, so nothing else may run beside them.
#[test]
fn chaos_gives_everything_back() {
    watchdog::run_for("chaos", Duration::from_secs(1800), || {
        let multi =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        multi.block_on(chaos_on(roundtrip_tokio::Tokio));
        drop(multi);
        let current = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        current.block_on(chaos_on(roundtrip_tokio::Tokio));
        drop(current);
        smol::block_on(chaos_on(roundtrip_smol::Smol::<roundtrip_smol::GlobalExecutor>::default()));
    });
}
