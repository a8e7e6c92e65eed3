//! What the `fetch` and `load` tools share: their TLS options.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod tls;
