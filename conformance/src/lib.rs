//! roundtrip's conformance suite: a scripted loopback server and test lists
//! that run unchanged on every runtime adapter.
//!
//! - [`server`]: the std-thread HTTP/1.1 server the tests script.
//! - [`engine`]: the client engine's tests, generic over the runtime; each
//!   adapter instantiates them with [`engine_tests!`].
//! - [`sync`]: runtime-neutral async helpers for tests.
#![forbid(unsafe_code)]
#![allow(missing_docs)]

pub mod engine;
pub mod server;
pub mod sync;
