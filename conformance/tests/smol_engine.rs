//! The shared engine test list on smol, and on async-std's executor (which
//! shares smol's async-io reactor and timers).

use std::future::Future;

/// Spawns the client's background tasks on async-std.
#[derive(Clone, Copy, Default)]
struct AsyncStd;

impl roundtrip_smol::Spawn for AsyncStd {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        async_std::task::spawn(future);
    }
}

fn smol_block_on<F: Future>(future: F) -> F::Output {
    smol::block_on(future)
}

fn async_std_block_on<F: Future>(future: F) -> F::Output {
    async_std::task::block_on(future)
}

mod smol_runtime {
    roundtrip_conformance::engine_tests!(roundtrip_smol::Smol, super::smol_block_on);
}

mod async_std_runtime {
    roundtrip_conformance::engine_tests!(roundtrip_smol::Smol<super::AsyncStd>, super::async_std_block_on);
}

/// A client on an executor the program owns and runs (no global executor):
/// the dial is a background task, so the response arriving proves the
/// client spawned on this executor. Two requests: the second reuses the
/// pooled connection.
#[test]
fn a_user_executor_runs_the_background_tasks() {
    use std::sync::Arc;

    roundtrip_conformance::watchdog::run("a_user_executor_runs_the_background_tasks", || {
        let server = roundtrip_conformance::server::Server::ok(b"hello");
        let executor = Arc::new(async_executor::Executor::new());
        let runtime = roundtrip_smol::Smol(executor.clone());
        let client = roundtrip_core::client::ClientBuilder::with_runtime(runtime).build();
        async_io::block_on(executor.run(async {
            for _ in 0..2 {
                let response = client.get(server.url("/")).await.expect("a response");
                assert_eq!(response.into_body().text(1024).await.expect("the body"), "hello");
            }
        }));
        assert_eq!(server.accepted(), 1, "the second request reused the connection");
        assert!(!executor.is_empty(), "the idle connection's reaper waits on the user's executor");
    });
}
