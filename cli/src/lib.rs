//! What the `fetch` and `load` tools share: their TLS options and header arguments.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod header;
pub mod tls;
