//! Ctrl-C ends a run as `--duration`'s deadline does: no new requests, the
//! ones in flight cancelled and counted apart, and the summary so far
//! printed. A second Ctrl-C exits at once.
//!
//! The signal is awaited on the run's own runtime (Tokio's signal driver, or
//! async-signal on smol's reactor), not on a thread: a second thread would
//! make every syscall and allocation of a `-c 1` run take glibc's
//! multi-threaded path, about 150 instructions per request.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};

use atomic_waker::AtomicWaker;

/// Shared by the signal task and the workers.
pub(crate) struct Interrupt {
    raised: AtomicBool,
    /// One per worker: the task to wake when the run is interrupted.
    wakers: Box<[AtomicWaker]>,
}

impl Interrupt {
    pub(crate) fn new(workers: usize) -> Arc<Self> {
        Arc::new(Self {
            raised: AtomicBool::new(false),
            wakers: (0..workers).map(|_| AtomicWaker::new()).collect(),
        })
    }

    /// Whether Ctrl-C was pressed.
    pub(crate) fn raised(&self) -> bool {
        self.raised.load(Ordering::Relaxed)
    }

    /// Ctrl-C: stops the run the first time, exits the second.
    pub(crate) fn raise(&self) {
        if self.raised.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        self.wakers.iter().for_each(AtomicWaker::wake);
    }

    /// Runs `future` for worker `worker`; `None` if Ctrl-C came first.
    pub(crate) async fn or_cancel<F: Future>(&self, worker: usize, future: F) -> Option<F::Output> {
        let mut future = pin!(future);
        let mut registered: Option<Waker> = None;
        poll_fn(|cx| {
            // Registered again only when the task's waker changes, so a poll
            // costs a comparison, not two atomic swaps.
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                self.wakers[worker].register(cx.waker());
                registered = Some(cx.waker().clone());
            }
            if self.raised() {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

/// Watches for Ctrl-C on the current Tokio runtime. The handler is in place
/// when this returns; without one (no signal support) Ctrl-C keeps its
/// default action.
pub(crate) fn watch_on_tokio(interrupt: Arc<Interrupt>) {
    #[cfg(unix)]
    if let Ok(mut signals) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        tokio::spawn(async move {
            while signals.recv().await.is_some() {
                interrupt.raise();
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            interrupt.raise();
        }
    });
}

/// Watches for Ctrl-C on smol's reactor (async-signal), in a task on
/// `executor`, the handler in place when this returns.
pub(crate) fn watch_on_smol(executor: &smol::Executor<'static>, interrupt: Arc<Interrupt>) {
    use futures_lite::StreamExt;
    if let Ok(mut signals) = async_signal::Signals::new([async_signal::Signal::Int]) {
        executor
            .spawn(async move {
                while signals.next().await.is_some() {
                    interrupt.raise();
                }
            })
            .detach();
    }
}
