//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub(crate) mod conn;
pub(crate) mod wire;
