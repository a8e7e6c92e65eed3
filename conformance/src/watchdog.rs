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
    run_for(name, LIMIT, test)
}

/// [`run`] with a limit of its own, for a test that runs a whole table.
pub fn run_for<T>(name: &str, limit: Duration, test: impl FnOnce() -> T) -> T {
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
            if finished.recv_timeout(limit) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            let report = format!("\nwatchdog: test `{name}` still running after {limit:?}: a hang\n");
            let _ = std::io::stderr().write_all(report.as_bytes());
            // Reading a pool takes its lock, which a deadlocked test may hold:
            // the dump gets a thread and a few seconds of its own.
            let (dumped, dump_done) = mpsc::channel();
            thread::spawn(move || {
                let mut report = String::new();
                match clients().as_ref().and_then(|all| all.get(&id)) {
                    Some(dumps) if !dumps.is_empty() => {
                        for (i, dump) in dumps.iter().enumerate() {
                            report.push_str(&format!("  client {i}: {}\n", dump()));
                        }
                    }
                    _ => report.push_str("  (the test registered no client)\n"),
                }
                let _ = dumped.send(report);
            });
            let dump = dump_done.recv_timeout(Duration::from_secs(5)).unwrap_or_else(|_| {
                "  the pool state could not be read: its lock is held (a deadlock)\n".to_owned()
            });
            let _ = std::io::stderr().write_all(dump.as_bytes());
            std::process::exit(101);
        })
        .expect("spawn the watchdog thread");
    /// Ends the watch and forgets the test's clients, also when it panics.
    struct Finish(u64, Option<mpsc::Sender<()>>);
    impl Drop for Finish {
        fn drop(&mut self) {
            CURRENT.with_borrow_mut(|current| *current = None);
            clients().as_mut().and_then(|all| all.remove(&self.0));
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

/// Runs the body of the current `#[test]` under the [`LIMIT`], named after
/// the test (libtest names each test's thread after it).
pub fn test<T>(body: impl FnOnce() -> T) -> T {
    let name = thread::current().name().unwrap_or("a test").to_owned();
    run(&name, body)
}

/// Registers `client` so that a hang of the running test prints its pool
/// state. Holds it weakly: the test still decides when it drops. Outside
/// [`run`], does nothing.
pub fn watch<R: Runtime>(client: &Client<R>) {
    let Some(id) = CURRENT.with_borrow(|current| *current) else { return };
    let client = client.downgrade();
    let dump: Dump = Box::new(move || match client.upgrade() {
        Some(client) => format!("{:?}", client.pool_stats()),
        None => "dropped".to_owned(),
    });
    clients().get_or_insert_with(HashMap::new).entry(id).or_default().push(dump);
}
