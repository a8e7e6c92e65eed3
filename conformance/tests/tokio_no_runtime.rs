//! Work the client spawns when no Tokio runtime can run it: a body dropped on
//! a plain thread, a dial whose runtime shut down. Neither may panic, and the
//! pool must end up as if the task had finished.

use std::future::Future;
use std::pin::Pin;

use roundtrip_conformance::server::Server;
use roundtrip_conformance::sync::{Signal, until};
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Connect, ConnectFuture, Target};
use roundtrip_tokio::{Client, ClientBuilder, Tokio};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_body_dropped_outside_any_runtime_frees_its_connection() {
    watchdog::test(|| {
        let rest = Signal::new();
        let gate = rest.clone();
        let server = Server::start(move |conn| {
            conn.read_request()?;
            conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhell")?;
            while !gate.is_set() {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            conn.write(b"o worl")
        });
        let runtime = runtime();
        // drain_on_cancel: dropping the body mid-way leaves a drain to run in a task.
        let client = runtime.block_on(async { Client::builder().drain_on_cancel(Some(1024)).build() });
        let body = runtime.block_on(async {
            let mut body = client.get(server.url("/")).await.unwrap().into_body();
            std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx))
                .await
                .unwrap()
                .unwrap();
            body
        });
        std::thread::spawn(move || drop(body))
            .join()
            .expect("dropping a body off the runtime must not panic");
        rest.set();
        let stats = client.pool_stats();
        assert_eq!((stats.active, stats.idle), (0, 0), "the drain could not run, so the connection closed");
    });
}

/// Connects never; says when it was asked.
struct Stalls(Signal);

impl Connect for Stalls {
    fn connect(&self, _: &Target) -> ConnectFuture {
        self.0.set();
        Box::pin(std::future::pending())
    }
}

#[test]
fn a_dial_dropped_with_its_runtime_is_reported_to_the_pool() {
    watchdog::test(|| {
        let started = Signal::new();
        let client = ClientBuilder::with_runtime(Tokio).connector(Stalls(started.clone())).build();
        let first = runtime();
        first.block_on(async {
            let request: Pin<Box<dyn Future<Output = _>>> =
                Box::pin(client.get("http://127.0.0.1:9/").send());
            drop(until(request, &started).await.expect_err("the dial never completes"));
        });
        assert_eq!(client.pool_stats().dialing, 1, "the dial outlives its request");
        drop(first);
        let stats = client.pool_stats();
        assert_eq!((stats.dialing, stats.counts.dial_failures), (0, 1));
    });
}

/// Runs `f` on a plain thread and fails if it has not returned within 10 s
/// (a deadlock), instead of hanging the test run.
fn on_plain_thread(f: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    finished.recv_timeout(std::time::Duration::from_secs(10)).expect("finished, not deadlocked");
}

#[test]
fn the_first_idle_connection_released_outside_any_runtime_does_not_deadlock() {
    watchdog::test(|| {
        let server = Server::ok(b"0123456789");
        let runtime = runtime();
        let client = runtime.block_on(async { Client::new() });
        // The whole body arrives with the head; dropping it unread reads out the
        // buffered rest, pools the connection and asks for a reaper, which cannot
        // be spawned here.
        let body = runtime.block_on(async { client.get(server.url("/")).await.unwrap().into_body() });
        on_plain_thread(move || drop(body));
        assert_eq!(client.pool_stats().idle, 1);
        let again = runtime
            .block_on(async { client.get(server.url("/")).await.unwrap().into_body().bytes(16).await });
        assert_eq!(again.unwrap(), "0123456789");
        assert_eq!(server.accepted(), 1, "the pooled connection served the next request");
    });
}

#[test]
fn a_runtime_shut_down_with_a_dial_and_a_queued_request_does_not_deadlock() {
    watchdog::test(|| {
        let started = Signal::new();
        let client = ClientBuilder::with_runtime(Tokio)
            .connector(Stalls(started.clone()))
            .max_conns_per_host(Some(1))
            .build();
        let first = runtime();
        first.block_on(async {
            for _ in 0..2 {
                let client = client.clone();
                tokio::spawn(async move { client.get("http://127.0.0.1:9/").await });
            }
            started.wait().await;
            for _ in 0..10_000 {
                if client.pool_stats().waiting == 2 {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        assert_eq!((client.pool_stats().dialing, client.pool_stats().waiting), (1, 2));
        on_plain_thread(move || drop(first));
        let stats = client.pool_stats();
        assert_eq!((stats.dialing, stats.waiting, stats.active), (0, 0, 0));
    });
}

/// A Tokio client polled where no Tokio runtime runs (here under smol's
/// `block_on`) cannot dial: the request fails at once with a connect error
/// that says why, instead of waiting forever for a task nobody runs.
#[test]
fn a_request_polled_outside_any_tokio_runtime_fails_with_a_clear_error() {
    watchdog::test(|| {
        let server = Server::ok(b"ok");
        let client = Client::new();
        let error = smol::block_on(client.get(server.url("/")).send()).expect_err("no runtime to dial on");
        assert!(error.is_connect(), "{error:?}");
        let chain = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        assert!(chain.contains("no runtime ran the dial task"), "{chain}");
        assert_eq!(server.accepted(), 0);
    });
}
