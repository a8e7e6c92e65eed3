//! Tokio-specific engine checks: no task outlives the client, and timeouts under a
//! paused clock (`tokio::time::pause`).

use std::time::Duration;

use roundtrip_conformance::engine::random_cancellations_leave_the_pool_consistent;
use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_tokio::{Client, RequestTimeout, Timeout, Tokio};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_thousand_randomly_cancelled_requests_leak_no_task() {
    watchdog::test(|| {
        runtime().block_on(async {
            random_cancellations_leave_the_pool_consistent::<Tokio>().await;
            let metrics = tokio::runtime::Handle::current().metrics();
            for _ in 0..10_000 {
                if metrics.num_alive_tasks() == 0 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            assert_eq!(
                metrics.num_alive_tasks(),
                0,
                "dials, drains and the reaper all ended with the client"
            );
        });
    });
}

#[test]
fn pool_wait_timeout_under_a_paused_clock() {
    watchdog::test(|| {
        runtime().block_on(async {
            let server = Server::start(|conn| {
                conn.read_request()?;
                conn.expect_eof()?;
                Ok(())
            });
            let client = Client::builder()
                .max_conns_per_host(Some(1))
                .connect_timeout(None)
                .pool_wait_timeout(Some(Duration::from_secs(5)))
                .build();
            let hold = tokio::spawn(client.get(server.url("/")).send());
            while client.pool_stats().active == 0 {
                tokio::task::yield_now().await;
            }
            tokio::time::pause();
            let error = client.get(server.url("/")).await.unwrap_err();
            assert!(error.is_pool_timeout(), "{error}");
            assert_eq!(client.pool_stats().waiting, 0);
            hold.abort();
        });
    });
}

#[test]
fn request_timeout_covers_a_stalled_body() {
    watchdog::test(|| {
        runtime().block_on(async {
            let server = Server::start(|conn| {
                conn.read_request()?;
                conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")?;
                conn.expect_eof()?;
                Ok(())
            });
            let client = Client::builder().connect_timeout(None).build();
            let mut request = http::Request::get(server.url("/")).body(roundtrip_tokio::Empty).unwrap();
            request.extensions_mut().insert(RequestTimeout(Duration::from_secs(30)));
            let response = client.request(request).await.unwrap();
            tokio::time::pause();
            let error = response.into_body().bytes(1024).await.unwrap_err();
            assert_eq!(error.timeout_kind(), Some(Timeout::Total), "{error}");
            assert_eq!(client.pool_stats().active, 0);
        });
    });
}
