//! Work the client spawns when no Tokio runtime can run it: a body dropped on
//! a plain thread, a dial whose runtime shut down. Neither may panic, and the
//! pool must end up as if the task had finished.

use std::future::Future;
use std::pin::Pin;

use roundtrip_conformance::server::Server;
use roundtrip_conformance::sync::{Signal, until};
use roundtrip_core::client::{Connect, ConnectFuture, Target};
use roundtrip_tokio::{Client, ClientBuilder, Tokio};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_body_dropped_outside_any_runtime_frees_its_connection() {
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
    std::thread::spawn(move || drop(body)).join().expect("dropping a body off the runtime must not panic");
    rest.set();
    let stats = client.pool_stats();
    assert_eq!((stats.active, stats.idle), (0, 0), "the drain could not run, so the connection closed");
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
    let started = Signal::new();
    let client = ClientBuilder::with_runtime(Tokio).connector(Stalls(started.clone())).build();
    let first = runtime();
    first.block_on(async {
        let request: Pin<Box<dyn Future<Output = _>>> =
            Box::pin(client.get("http://127.0.0.1:9/".parse().unwrap()));
        drop(until(request, &started).await.expect_err("the dial never completes"));
    });
    assert_eq!(client.pool_stats().dialing, 1, "the dial outlives its request");
    drop(first);
    let stats = client.pool_stats();
    assert_eq!((stats.dialing, stats.dial_failures), (0, 1));
}
