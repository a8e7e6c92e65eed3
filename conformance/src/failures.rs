//! What the scripted servers' connection threads report. A script that
//! panics (a failed assertion) or returns an error fails the test that owns
//! the server; an error that only says the client went away (reset, broken
//! pipe, EOF mid-read) does not: tests cancel on purpose.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

/// The failures of one server's connections, shared with their threads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Failures(Arc<Mutex<Vec<String>>>);

impl Failures {
    /// Runs one connection's script and keeps its failure, if any, as `label`.
    pub(crate) fn run(&self, label: &str, script: impl FnOnce() -> io::Result<()>) {
        let failure = match panic::catch_unwind(AssertUnwindSafe(script)) {
            Ok(Ok(())) => return,
            Ok(Err(error)) if client_left(&error) => return,
            Ok(Err(error)) => format!("{label}: handler failed: {error}"),
            Err(panic) => format!("{label}: handler panicked: {}", panic_message(&*panic)),
        };
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(failure);
    }

    /// Panics with every failure so far, naming `server`.
    pub(crate) fn check(&self, server: &str) {
        let failures = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        assert!(failures.is_empty(), "the {server} failed:\n  {}", failures.join("\n  "));
    }
}

/// Whether `error` only means that the client closed or reset the connection.
fn client_left(error: &io::Error) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(error.kind(), BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("?")
}
