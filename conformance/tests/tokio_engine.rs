//! The shared engine test list on Tokio, on both runtime flavours.

use std::future::Future;

fn current_thread<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

fn multi_thread<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

mod current {
    roundtrip_conformance::engine_tests!(roundtrip_tokio::Tokio, super::current_thread);
}

mod multi {
    roundtrip_conformance::engine_tests!(roundtrip_tokio::Tokio, super::multi_thread);
}
