//! `Runtime` on async-io: its reactor and timers (shared with smol and
//! async-std), `async-net` sockets, and the executor of the user's choice.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use async_executor::Executor;
use roundtrip_core::client::{Io, Runtime, Sleep};

use crate::io::SmolIo;
use crate::tcp::TcpIo;

/// Where the client spawns its background tasks (dials, drains, the reaper).
///
/// Implemented for [`GlobalExecutor`] (the default), for an executor the
/// program runs itself (`Arc<async_executor::Executor>`, or a `&'static`
/// one; the program must keep running it, or dials never start), and for
/// anything else with a spawn function (async-std's, say).
pub trait Spawn: Clone + Send + Sync + 'static {
    /// Runs `future` to completion in the background. May drop it instead
    /// when there is nothing left to run it (see [`Runtime::spawn`]); must
    /// not panic.
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;
}

/// Spawns on an executor of the crate's own, run by one background thread
/// (`roundtrip-smol`) started on first use, as `smol::spawn` does for smol's:
/// the client works under any `block_on` without the program running an
/// executor for it.
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalExecutor;

impl Spawn for GlobalExecutor {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Without a thread to run it (the system refused one) the task is
        // dropped, which the engine survives.
        if let Some(executor) = global() {
            executor.spawn(future).detach();
        }
    }
}

/// The global executor, once a thread runs it; `None` if no thread could be
/// started (tried again on the next spawn).
fn global() -> Option<&'static Executor<'static>> {
    static EXECUTOR: Executor<'static> = Executor::new();
    static RUNNING: AtomicBool = AtomicBool::new(false);
    static STARTING: Mutex<()> = Mutex::new(());
    if RUNNING.load(Ordering::Acquire) {
        return Some(&EXECUTOR);
    }
    let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if !RUNNING.load(Ordering::Acquire) {
        // `futures_lite`'s block_on parks the thread; async-io's would also
        // compete to drive the reactor with the program's own threads, and
        // the extra cross-thread wake-ups cost 13% in S2 on smol (bench/).
        let thread = std::thread::Builder::new()
            .name("roundtrip-smol".into())
            .spawn(|| futures_lite::future::block_on(EXECUTOR.run(std::future::pending::<()>())));
        match thread {
            Ok(_) => RUNNING.store(true, Ordering::Release),
            Err(error) => {
                tracing::error!(%error, "roundtrip-smol: cannot start the executor thread");
                return None;
            }
        }
    }
    Some(&EXECUTOR)
}

impl Spawn for Arc<Executor<'static>> {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Executor::spawn(self, future).detach();
    }
}

impl Spawn for &'static Executor<'static> {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Executor::spawn(self, future).detach();
    }
}

/// The async-io runtime, spawning with `S`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol<S = GlobalExecutor>(pub S);

/// An async-io timer.
#[derive(Debug)]
pub struct SmolSleep(async_io::Timer);

impl Future for SmolSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl Sleep for SmolSleep {
    fn reset(&mut self, deadline: Instant) {
        self.0.set_at(deadline);
    }
}

impl<S: Spawn> Runtime for Smol<S> {
    type Sleep = SmolSleep;

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future);
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> SmolSleep {
        SmolSleep(async_io::Timer::at(deadline))
    }

    async fn resolve(&self, host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        async_net::resolve((host.as_str(), port)).await
    }

    async fn connect_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn Io>> {
        Ok(Box::new(TcpIo::connect(addr).await?))
    }

    async fn connect_unix(&self, path: PathBuf) -> io::Result<Box<dyn Io>> {
        #[cfg(unix)]
        {
            Ok(Box::new(SmolIo(async_net::unix::UnixStream::connect(path).await?)))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            Err(io::Error::new(io::ErrorKind::Unsupported, "Unix sockets need a Unix system"))
        }
    }
}
