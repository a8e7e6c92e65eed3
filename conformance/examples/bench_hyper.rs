//! Reference client for the comparison: hyper-util's legacy pooled client on
//! Tokio, speaking the harness contract (see `common/args.rs`).
//! `--threads 1` (default) is the multi-thread runtime with one worker, as in
//! docs/bench.md; `--threads 0` is the current-thread runtime.

#[path = "common/args.rs"]
mod args;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

fn main() {
    let args = args::BenchArgs::parse();
    let runtime = if args.threads == 0 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
    }
    .expect("tokio runtime");
    runtime.block_on(async {
        let client =
            Client::builder(TokioExecutor::new()).pool_max_idle_per_host(args.connections).build_http();
        let uri: http::Uri = args.url.parse().expect("url");
        let body = Bytes::from(vec![b'x'; args.body_bytes]);
        let remaining = Arc::new(AtomicU64::new(args.requests));
        let started = Instant::now();
        let workers: Vec<_> = (0..args.connections)
            .map(|_| {
                let (client, uri, body, remaining) =
                    (client.clone(), uri.clone(), body.clone(), remaining.clone());
                let (method, close) = (args.method.clone(), args.close);
                tokio::spawn(async move {
                    let (mut errors, mut bytes) = (0u64, 0u64);
                    while remaining
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        let mut request = http::Request::builder().method(method.as_str()).uri(uri.clone());
                        if close {
                            request = request.header("connection", "close");
                        }
                        let request = request.body(Full::new(body.clone())).expect("request");
                        match client.request(request).await {
                            Ok(response) => match response.into_body().collect().await {
                                Ok(collected) => bytes += collected.to_bytes().len() as u64,
                                Err(_) => errors += 1,
                            },
                            Err(_) => errors += 1,
                        }
                    }
                    (errors, bytes)
                })
            })
            .collect();
        let (errors, bytes) =
            args::sum(workers.into_iter().map(|w| async { w.await.expect("worker") })).await;
        args::BenchArgs::report("hyper-util", args.requests, errors, started.elapsed(), bytes);
    });
}
