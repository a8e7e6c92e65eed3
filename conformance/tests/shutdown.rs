//! Runtimes shut down with the client's work in flight: a request awaiting
//! its head, a body being drained after a cancel, a dial and a queued request
//! behind it, and the reaper of an idle connection. On both Tokio flavours,
//! smol and async-std (an executor of our own that we drop, since neither has
//! a shutdown of its own), the shutdown must finish and leave the pool as if
//! every task had ended: nothing active, dialing or waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use roundtrip_conformance::server::Server;
use roundtrip_conformance::sync::{Signal, eventually};
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Client, ClientBuilder, Connect, ConnectFuture, Runtime, Target};

/// Connects never; says when it was asked.
struct Stalls(Signal);

impl Connect for Stalls {
    fn connect(&self, _: &Target) -> ConnectFuture {
        self.0.set();
        Box::pin(std::future::pending())
    }
}

/// The two clients whose work is in flight, and the servers they talk to.
struct InFlight<R: Runtime> {
    served: Client<R>,
    stalled: Client<R>,
    _servers: (Server, Server, Server),
    release: Signal,
}

/// Starts every kind of background work on `runtime`, then returns with it
/// still running.
async fn start_work<R: Runtime>(runtime: R) -> InFlight<R> {
    let release = Signal::new();
    let (rest, silent_until) = (release.clone(), release.clone());
    // Sends half a body, then the rest only when released.
    let partial = Server::start(move |conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhell")?;
        while !rest.is_set() {
            std::thread::sleep(Duration::from_millis(2));
        }
        conn.discard_until_eof()
    });
    // Reads a request and never answers.
    let silent = Server::start(move |conn| {
        conn.read_request()?;
        while !silent_until.is_set() {
            std::thread::sleep(Duration::from_millis(2));
        }
        conn.discard_until_eof()
    });
    let ok = Server::ok(b"ok");

    let served = ClientBuilder::with_runtime(runtime.clone()).drain_on_cancel(Some(1024)).build();
    watchdog::watch(&served);
    // An idle connection: the reaper runs.
    let body = served.get(ok.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "ok");
    // A body dropped mid-way with a small known rest: a drain task runs.
    let mut body = served.get(partial.url("/")).await.unwrap().into_body();
    std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await.unwrap().unwrap();
    drop(body);
    // A request awaiting its head, in a task of the runtime.
    let awaiting = served.get(silent.url("/"));
    runtime.spawn(async move {
        let _ = awaiting.await;
    });

    let started = Signal::new();
    let stalled = ClientBuilder::with_runtime(runtime.clone())
        .connector(Stalls(started.clone()))
        .max_conns_per_host(Some(1))
        .build();
    watchdog::watch(&stalled);
    for _ in 0..2 {
        let request = stalled.get("http://127.0.0.1:9/");
        runtime.spawn(async move {
            let _ = request.await;
        });
    }
    started.wait().await;
    eventually(&runtime, "both requests queue behind the dial", || stalled.pool_stats().waiting == 2).await;
    eventually(&runtime, "the awaiting request holds its connection", || served.pool_stats().active == 2)
        .await;
    InFlight { served, stalled, _servers: (partial, silent, ok), release }
}

/// After the shutdown: no task is left to finish anything, so the pool must
/// already be settled.
fn check_settled<R: Runtime>(work: InFlight<R>) {
    work.release.set();
    let (served, stalled) = (work.served.pool_stats(), work.stalled.pool_stats());
    assert_eq!((served.active, served.dialing, served.waiting), (0, 0, 0), "served: {served:?}");
    assert_eq!((stalled.active, stalled.dialing, stalled.waiting), (0, 0, 0), "stalled: {stalled:?}");
    // The dropped dial is reported failed; the slot it frees may start a
    // dial for the next waiter, dropped in turn while the runtime closes.
    assert!(stalled.counts.dial_failures >= 1, "the dropped dial was reported: {stalled:?}");
}

fn tokio_shutdown(runtime: tokio::runtime::Runtime) {
    let work = runtime.block_on(start_work(roundtrip_tokio::Tokio));
    drop(runtime);
    check_settled(work);
}

#[test]
fn tokio_current_thread_shuts_down_with_work_in_flight() {
    watchdog::run("tokio_current_thread_shuts_down_with_work_in_flight", || {
        tokio_shutdown(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
    });
}

#[test]
fn tokio_multi_thread_shuts_down_with_work_in_flight() {
    watchdog::run("tokio_multi_thread_shuts_down_with_work_in_flight", || {
        tokio_shutdown(
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
        );
    });
}

/// Spawns on an executor the test owns and drops; once it is gone, tasks
/// are dropped inline.
#[derive(Clone, Default)]
struct Owned(Option<Weak<smol::Executor<'static>>>);

impl roundtrip_smol::Spawn for Owned {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Some(executor) = self.0.as_ref().and_then(Weak::upgrade) {
            smol::Executor::spawn(&executor, future).detach();
        }
    }
}

fn executor_shutdown(block_on: fn(Pin<Box<dyn Future<Output = ()> + '_>>)) {
    let executor = Arc::new(smol::Executor::new());
    let runtime = roundtrip_smol::Smol(Owned(Some(Arc::downgrade(&executor))));
    let mut work = None;
    block_on(Box::pin(executor.run(async { work = Some(start_work(runtime).await) })));
    drop(executor);
    check_settled(work.expect("the work started"));
}

#[test]
fn smol_executor_dropped_with_work_in_flight() {
    watchdog::run("smol_executor_dropped_with_work_in_flight", || executor_shutdown(|f| smol::block_on(f)));
}

#[test]
fn async_std_executor_dropped_with_work_in_flight() {
    watchdog::run("async_std_executor_dropped_with_work_in_flight", || {
        executor_shutdown(|f| async_std::task::block_on(f))
    });
}
