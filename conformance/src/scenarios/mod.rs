//! The scenario table, one module per area. Each scenario names its source:
//! an RFC section, a Go or hyper test, or a vector of research/security.md §2.

pub mod cancel;
pub mod errors;
pub mod expect_continue;
pub mod framing;
pub mod informational;
pub mod keepalive;
pub mod pool;
pub mod retry;
pub mod security;
pub mod timeouts;

use crate::scenario::Scenario;

/// Every scenario of every area.
pub fn all() -> Vec<Scenario> {
    [
        framing::ALL,
        keepalive::ALL,
        pool::ALL,
        expect_continue::ALL,
        informational::ALL,
        retry::ALL,
        cancel::ALL,
        timeouts::ALL,
        errors::ALL,
        security::ALL,
    ]
    .iter()
    .flat_map(|area| area.iter().map(|make| make()))
    .collect()
}

/// `200 OK` with `content-length: 5` and `hello`.
pub const OK_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
/// `200 OK` with an empty body.
pub const OK_EMPTY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
