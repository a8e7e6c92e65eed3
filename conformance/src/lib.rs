//! roundtrip's conformance suite: a scripted loopback server and tables of
//! scenarios that run unchanged on every runtime adapter and on the bare core.
//!
//! - [`server`]: the std-thread HTTP/1.1 server the scenarios script.
//! - [`scenario`] and [`scenarios`](mod@scenarios): the table, as data, one module per area;
//!   `cargo test -p roundtrip-conformance` runs each scenario on Tokio
//!   (current-thread and multi-thread), smol, and `core` (the Sans-IO
//!   `Connection` over a blocking std socket).
//! - [`faults`]: an `Io` wrapper that injects short reads and writes,
//!   spurious `Pending`, errors and EOF, with seeded randomness.
//! - [`engine`]: the client engine's own test list, generic over the runtime;
//!   each adapter instantiates it with [`engine_tests!`].
//! - [`sync`]: runtime-neutral async helpers for tests.
// Unsafe code only in `heap`, the counting allocator (its module allows it).
#![deny(unsafe_code)]
#![allow(missing_docs)]

pub mod chaos;
pub mod daemon;
pub mod engine;
mod failures;
pub mod faults;
pub mod heap;
pub mod scenario;
pub mod scenarios;
pub mod server;
pub mod sim;
pub mod socks;
pub mod sync;
#[cfg(test)]
mod targets;
pub mod tls;
pub mod watchdog;

/// Declares one `#[test]` per async test function and runtime: Tokio's
/// current-thread and multi-thread (2 workers) runtimes and smol, each under
/// the watchdog. The functions are generic over the runtime
/// (`async fn name<R: Runtime + Default>()`). For test files of this crate,
/// which have the adapters as dev-dependencies.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),* $(,)?) => {
        mod tokio_current_thread {
            $(#[test] fn $name() {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                $crate::watchdog::test(|| runtime.block_on(super::$name::<roundtrip_tokio::Tokio>()));
            })*
        }
        mod tokio_multi_thread {
            $(#[test] fn $name() {
                let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                $crate::watchdog::test(|| runtime.block_on(super::$name::<roundtrip_tokio::Tokio>()));
            })*
        }
        mod smol {
            $(#[test] fn $name() {
                $crate::watchdog::test(|| ::smol::block_on(super::$name::<roundtrip_smol::Smol>()));
            })*
        }
    };
}
