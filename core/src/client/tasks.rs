//! The tasks the engine spawns, for work that outlives a request: dials (a
//! dial whose request left still feeds the pool, Go 1.23) and one reaper per
//! client while connections idle. (Settling a connection after its exchange
//! is in `leased`.)
//!
//! A runtime may drop a task unfinished: at shutdown, or inside `spawn` when
//! there is no runtime to run it. Each task therefore carries a cleanup,
//! built before it is spawned, that tells the pool what became of it.

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use super::connect::Target;
use super::engine::{Engine, Reaper};
use super::error::Error;
use super::io::Timer;
use super::runtime::Runtime;
use super::trace::{DialReport, Trace};
use crate::pool::DialId;

/// A task the pool's actions call for, started once the lock is released.
pub(super) enum Task {
    /// `trace`: the request's that started it, which hears its phases.
    Dial {
        dial: DialId,
        target: Target,
        abort: Arc<Abort>,
        trace: Option<Trace>,
    },
    Reaper,
}

/// Starting one task: spawning it on the runtime.
type Spawn = Box<dyn FnOnce()>;

thread_local! {
    /// Spawns queued while this thread is already starting tasks. A runtime
    /// that drops a task inside `spawn` runs its cleanup there, which may
    /// start more tasks (a failed dial frees a slot for the next waiter):
    /// queued and started in a loop, not by recursion as deep as the queue.
    static STARTING: RefCell<Option<Vec<Spawn>>> = const { RefCell::new(None) };
}

/// Starts `tasks`. Called with the engine's lock released.
pub(super) fn start<R: Runtime>(engine: &Arc<Engine<R>>, tasks: Vec<Task>) {
    if tasks.is_empty() {
        return;
    }
    let mut spawns: Vec<Spawn> = Vec::with_capacity(tasks.len());
    for task in tasks {
        let engine = engine.clone();
        spawns.push(match task {
            Task::Dial { dial, target, abort, trace } => {
                Box::new(move || spawn_dial(&engine, dial, target, abort, trace))
            }
            Task::Reaper => Box::new(move || spawn_reaper(&engine)),
        });
    }
    let nested = STARTING.with_borrow_mut(|queue| match queue {
        Some(queue) => {
            queue.append(&mut spawns);
            true
        }
        None => {
            *queue = Some(Vec::new());
            false
        }
    });
    if nested {
        return;
    }
    /// Ends this thread's queue even if a spawn panics.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            STARTING.with_borrow_mut(|queue| *queue = None);
        }
    }
    let _done = Done;
    let mut next = spawns;
    while !next.is_empty() {
        next.into_iter().for_each(|spawn| spawn());
        next = STARTING.with_borrow_mut(|queue| queue.as_mut().map(std::mem::take).unwrap_or_default());
    }
}

fn spawn_dial<R: Runtime>(
    engine: &Arc<Engine<R>>,
    dial: DialId,
    target: Target,
    abort: Arc<Abort>,
    trace: Option<Trace>,
) {
    let on_drop = engine.clone();
    let abandoned = Unfinished::new(move || {
        let error = std::io::Error::other(
            "no runtime ran the dial task (none is running here, or it is shutting down)",
        );
        on_drop.dial_done(dial, Err(Error::connect(error)));
    });
    let engine = engine.clone();
    let span = tracing::debug_span!(target: "roundtrip", "dial", %target);
    engine.runtime.clone().spawn(tracing::Instrument::instrument(
        async move {
            let mut report = DialReport::new(trace);
            let result = {
                let mut open = pin!(engine.open(&target, &mut report));
                poll_fn(|cx| match abort.poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(Error::canceled(false))),
                    Poll::Pending => open.as_mut().poll(cx),
                })
                .await
            };
            let result = result.map(|mut dialed| {
                let info = &mut dialed.info;
                (info.dial_times, info.peer) = (report.times, report.peer);
                // Made here, not under the pool's lock: a subscriber runs code.
                let span = tracing::debug_span!(
                    target: "roundtrip", parent: None, "connection", dial = dial.index(), peer = ?info.peer
                );
                info.span = (!span.is_none()).then(|| Box::new(span));
                dialed
            });
            if let Err(error) = &result {
                tracing::debug!(%target, %error, "dial failed");
            }
            abandoned.disarm();
            engine.dial_done(dial, result);
        },
        span,
    ));
}

fn spawn_reaper<R: Runtime>(engine: &Arc<Engine<R>>) {
    let weak = Arc::downgrade(engine);
    // Dropped unfinished: let the next idle connection start a new reaper.
    // This cleanup makes no pool call, so it starts nothing itself.
    let on_drop = weak.clone();
    let abandoned = Unfinished::new(move || {
        if let Some(engine) = on_drop.upgrade() {
            engine.state().reaper = Reaper::default();
        }
    });
    engine.runtime.spawn(async move {
        reap(&weak).await;
        abandoned.disarm();
    });
}

/// Expires idle connections while there are any. Holds only a weak reference,
/// so a dropped client closes its pool.
async fn reap<R: Runtime>(engine: &Weak<Engine<R>>) {
    let mut timer = Timer::default();
    loop {
        let due = poll_fn(|cx| {
            let Some(engine) = engine.upgrade() else { return Poll::Ready(false) };
            let mut st = engine.state();
            let Some(deadline) = st.reaper.deadline else {
                st.reaper.running = false;
                return Poll::Ready(false);
            };
            // The old waker is dropped after the lock: dropping a task's last
            // waker may drop the task, and with it futures that lock again.
            let old = st.reaper.waker.replace(cx.waker().clone());
            drop(st);
            drop(old);
            timer.poll(cx, &engine.runtime, Some(deadline)).map(|()| true)
        })
        .await;
        let Some(engine) = engine.upgrade().filter(|_| due) else { return };
        let mut st = engine.lock();
        let now = st.now;
        st.pool.handle_timeout(now);
        st.reaper.deadline = st.pool.poll_timeout();
        st.process();
        if st.reaper.deadline.is_none() {
            st.reaper.running = false;
            return;
        }
    }
}

/// The switch that aborts a dial no request waits for any more.
#[derive(Default)]
pub(super) struct Abort {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Abort {
    pub(super) fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        let waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner).take();
        waker.into_iter().for_each(Waker::wake);
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        // Fired between the check and the registration: seen now.
        if self.fired.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
    }
}

/// Runs its cleanup when dropped before [`disarm`](Self::disarm).
pub(crate) struct Unfinished<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Unfinished<F> {
    pub(crate) fn new(cleanup: F) -> Self {
        Self(Some(cleanup))
    }

    /// The task finished: nothing to clean up.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl<F: FnOnce()> Drop for Unfinished<F> {
    fn drop(&mut self) {
        if let Some(cleanup) = self.0.take() {
            cleanup();
        }
    }
}
