//! roundtrip on tokio (the engine lands with the client issue).
#![forbid(unsafe_code)]
