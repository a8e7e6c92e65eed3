//! A deadline for every engine and conformance test. A test that is still
//! running when it passes is a hang: the watchdog prints the test's name and
//! the pool state of every client the test registered with [`watch`], then
//! ends the test process with a failure, so a run never stalls in silence.
//!
//! The deadline is real time on a thread of its own, not a runtime timer: a
//! deadlocked runtime, or a paused Tokio clock, must not be able to stop it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use roundtrip_core::client::{Client, Runtime};

/// How long one test may run. Tests finish in milliseconds; this is far above
/// the slowest on a loaded 2-core machine, and far below CI's patience.
pub const LIMIT: Duration = Duration::from_secs(60);

type Dump = Box<dyn Fn() -> String + Send>;

/// The pool-state dumps of the clients each running test registered, by test.
static CLIENTS: Mutex<Option<HashMap<u64, Vec<Dump>>>> = Mutex::new(None);
static NEXT_TEST: Mutex<u64> = Mutex::new(0);

thread_local! {
    /// The test running on this thread, for [`watch`].
    static CURRENT: RefCell<Option<u64>> = const { RefCell::new(None) };
}

fn clients() -> std::sync::MutexGuard<'static, Option<HashMap<u64, Vec<Dump>>>> {
    CLIENTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the test `name` (its body is `test`) under the [`LIMIT`].
pub fn run<T>(name: &str, test: impl FnOnce() -> T) -> T {
    let id = {
        let mut next = NEXT_TEST.lock().unwrap_or_else(PoisonError::into_inner);
        *next += 1;
        *next
    };
    let (done, finished) = mpsc::channel::<()>();
    let name = name.to_owned();
    let watcher = thread::Builder::new()
        .name(format!("watchdog {name}"))
        .spawn(move || {
            if finished.recv_timeout(LIMIT) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            let mut report = format!("\nwatchdog: test `{name}` still running after {LIMIT:?}: a hang\n");
            match clients().as_ref().and_then(|all| all.get(&id)) {
                Some(dumps) if !dumps.is_empty() => {
                    for (i, dump) in dumps.iter().enumerate() {
                        report.push_str(&format!("  client {i}: {}\n", dump()));
                    }
                }
                _ => report.push_str("  (the test registered no client)\n"),
            }
            let _ = std::io::stderr().write_all(report.as_bytes());
            std::process::exit(101);
        })
        .expect("spawn the watchdog thread");
    /// Ends the watch and forgets the test's clients, also when it panics.
    struct Finish(u64, Option<mpsc::Sender<()>>);
    impl Drop for Finish {
        fn drop(&mut self) {
            CURRENT.with_borrow_mut(|current| *current = None);
            let dumps = clients().as_mut().and_then(|all| all.remove(&self.0));
            // The clients drop here, outside the registry's lock.
            drop(dumps);
            drop(self.1.take());
        }
    }
    CURRENT.with_borrow_mut(|current| *current = Some(id));
    let finish = Finish(id, Some(done));
    let output = test();
    drop(finish);
    let _ = watcher.join();
    output
}

/// Registers `client` so that a hang of the running test prints its pool
/// state. It is kept alive until the test ends. Outside [`run`], does nothing.
pub fn watch<R: Runtime>(client: &Client<R>) {
    let Some(id) = CURRENT.with_borrow(|current| *current) else { return };
    let client = client.clone();
    let dump: Dump = Box::new(move || format!("{:?}", client.pool_stats()));
    clients().get_or_insert_with(HashMap::new).entry(id).or_default().push(dump);
}
