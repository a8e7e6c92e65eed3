//! docs/bench.md S6, approximately: open N connections at once (N concurrent GETs,
//! so none can reuse another's), let them idle in the pool, and report the
//! client's VmRSS growth and live heap bytes per idle connection.
//!
//!     cargo run --release -p roundtrip-conformance --example idle_memory -- http://127.0.0.1:PORT/small 5000
//!     ... -- URL N smol     # on roundtrip-smol
//!
//! The last line of its output is one JSON object (bench/compare.py reads it).
//!
//! The URL should be a server that keeps connections open (nginx with a high
//! `worker_connections`); raise `ulimit -n` above N.

use std::time::Duration;

/// Counts live heap bytes, to tell what idle connections hold from what the
/// allocator keeps after the burst of concurrent requests.
#[global_allocator]
static ALLOCATOR: roundtrip_conformance::heap::Counting = roundtrip_conformance::heap::Counting;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let url: http::Uri = args.next().expect("URL").parse().expect("a URI");
    let n: usize = args.next().map_or(2000, |n| n.parse().expect("a count"));
    match args.next().as_deref() {
        None | Some("tokio") => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
            runtime.block_on(measure(roundtrip_tokio::Client::builder(), url, n, "tokio"));
        }
        Some("smol") => smol::block_on(measure(roundtrip_smol::Client::builder(), url, n, "smol")),
        Some(other) => panic!("unknown runtime {other:?}: tokio or smol"),
    }
}

async fn measure<R: roundtrip_core::client::Runtime>(
    builder: roundtrip_core::client::ClientBuilder<R>,
    url: http::Uri,
    n: usize,
    name: &str,
) {
    let client = builder.max_idle_per_host(n).max_idle(n).build();
    let pause = |ms| async_io::Timer::after(Duration::from_millis(ms));
    // Warm up allocator and runtime with one connection.
    client.get(url.clone()).await.expect("request").into_body().bytes(1 << 20).await.expect("body");
    client.close_idle();
    pause(100).await;
    let (before, live_before) = (rss_kib(), roundtrip_conformance::heap::live());
    // Polled together in this task: spawned tasks would add their own
    // memory to the measurement.
    let requests: Vec<_> = (0..n)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(url).await?.into_body().bytes(1 << 20).await.map(drop) }
        })
        .collect();
    let failed = roundtrip_conformance::sync::join_all(requests).await.iter().filter(|r| r.is_err()).count();
    pause(1000).await;
    let (after, live_after) = (rss_kib(), roundtrip_conformance::heap::live());
    let idle = client.pool_stats().idle;
    let per = |kib: f64| kib / idle.max(1) as f64;
    let rss = per(after.saturating_sub(before) as f64);
    let heap = per(live_after.saturating_sub(live_before) as f64 / 1024.0);
    println!(
        "{n} requests ({failed} failed), {idle} idle connections: VmRSS {before} -> {after} KiB \
         ({rss:.2} KiB per idle connection); live heap {heap:.2} KiB per idle connection"
    );
    println!(
        "{{\"runtime\":\"{name}\",\"requests\":{n},\"failed\":{failed},\"idle\":{idle},\"rss_kib_per_conn\":{rss:.3},\"heap_kib_per_conn\":{heap:.3}}}"
    );
    // Exit with the pool still full, so a heap profiler's end-of-run
    // snapshot (`valgrind --tool=dhat`) shows what idle connections hold.
    std::process::exit(0);
}
