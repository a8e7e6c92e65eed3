//! roundtrip on smol (the engine lands with the client issue).
#![forbid(unsafe_code)]
