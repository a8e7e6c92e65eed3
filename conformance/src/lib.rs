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
#![forbid(unsafe_code)]
#![allow(missing_docs)]

pub mod daemon;
pub mod engine;
pub mod faults;
pub mod scenario;
pub mod scenarios;
pub mod server;
pub mod socks;
pub mod sync;
#[cfg(test)]
mod targets;
pub mod tls;
pub mod watchdog;
