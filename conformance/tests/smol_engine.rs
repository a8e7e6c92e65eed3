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
