//! Ctrl-C ends a run as `--duration`'s deadline does: no new requests, the
//! ones in flight cancelled and counted apart, and the summary so far
//! printed. A second Ctrl-C exits at once.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};

use async_signal::{Signal, Signals};
use atomic_waker::AtomicWaker;
use futures_lite::StreamExt;

/// Shared by the signal thread and the workers.
pub(crate) struct Interrupt {
    raised: AtomicBool,
    /// One per worker: the task to wake when the run is interrupted.
    wakers: Box<[AtomicWaker]>,
}

impl Interrupt {
    /// Watches for SIGINT on a thread of its own, for `workers` workers.
    /// Without signal support (or if it cannot be set up) Ctrl-C keeps its
    /// default action.
    pub(crate) fn watch(workers: usize) -> Arc<Self> {
        let interrupt = Arc::new(Self {
            raised: AtomicBool::new(false),
            wakers: (0..workers).map(|_| AtomicWaker::new()).collect(),
        });
        if let Ok(mut signals) = Signals::new([Signal::Int]) {
            let watched = interrupt.clone();
            let _ = std::thread::Builder::new().name("load-ctrl-c".into()).spawn(move || {
                futures_lite::future::block_on(async {
                    if signals.next().await.is_some() {
                        watched.raised.store(true, Ordering::SeqCst);
                        watched.wakers.iter().for_each(AtomicWaker::wake);
                    }
                    if signals.next().await.is_some() {
                        std::process::exit(130);
                    }
                });
            });
        }
        interrupt
    }

    /// Whether Ctrl-C was pressed.
    pub(crate) fn raised(&self) -> bool {
        self.raised.load(Ordering::Relaxed)
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
