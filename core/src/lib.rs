//! roundtrip-core: the Sans-IO heart of roundtrip.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod conn;
pub mod pool;
pub mod proto;
