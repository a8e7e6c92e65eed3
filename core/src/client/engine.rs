//! The engine behind a `Client`: the [`Pool`] policy under one lock, the
//! parked connections and waiting requests it refers to by id, dial tasks,
//! and the reaper that expires idle connections.
//!
//! The lock is held for O(1) work and never across an `.await`. Spawned tasks
//! exist only for work that outlives a request: dials (a dial whose request
//! left still feeds the pool, Go 1.23), draining after a cancel, and one
//! reaper per client while connections idle.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::config::ClientConfig;
use super::connect::{Connector, Target};
use super::error::{Error, Timeout};
use super::io::{Conn, Timer};
use super::runtime::{Io, Runtime};
use crate::conn::Connection;
use crate::pool::{Checkout, DialId, Lease, Pool, PoolAction, PoolStats, WaitFailure, WaiterId};

pub(crate) struct Engine<R: Runtime> {
    pub(crate) runtime: R,
    pub(crate) config: ClientConfig,
    connector: Connector,
    state: Mutex<State>,
}

struct State {
    pool: Pool<Target>,
    /// Idle connections, and connections on their way to a waiter, by `ConnId::index`.
    parked: Vec<Option<Conn>>,
    /// Requests waiting for a connection. Keyed by the whole id, not its index:
    /// the pool reuses a served waiter's index while the outcome still waits
    /// here for its request to collect it.
    waiters: HashMap<WaiterId, Waiter>,
    /// The error of a failed dial until its waiter collects it, by `DialId::index`.
    dial_errors: Vec<Option<(DialId, Error)>>,
    reaper: Reaper,
}

enum Waiter {
    Waiting(Option<Waker>),
    Served(Lease, Conn),
    Failed(Error),
}

#[derive(Default)]
struct Reaper {
    running: bool,
    deadline: Option<Instant>,
    waker: Option<Waker>,
}

/// A connection checked out for one request.
pub(crate) struct CheckedOut {
    pub(crate) lease: Lease,
    pub(crate) conn: Conn,
    /// How long the request waited for it (zero for an idle connection).
    pub(crate) waited: Duration,
}

fn put<T>(slots: &mut Vec<Option<T>>, index: usize, value: T) {
    if index >= slots.len() {
        slots.resize_with(index + 1, || None);
    }
    slots[index] = Some(value);
}

fn take<T>(slots: &mut [Option<T>], index: usize) -> Option<T> {
    slots.get_mut(index).and_then(Option::take)
}

impl<R: Runtime> Engine<R> {
    pub(crate) fn new(runtime: R, config: ClientConfig, connector: Connector) -> Self {
        let state = State {
            pool: Pool::new(config.pool.clone()),
            parked: Vec::new(),
            waiters: HashMap::new(),
            dial_errors: Vec::new(),
            reaper: Reaper::default(),
        };
        Self { runtime, config, connector, state: Mutex::new(state) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the pool's
        // state is still consistent at every await point.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection to `target`: an idle one that passes a probe, or the first
    /// that a release or a dial offers this request (dial racing).
    pub(crate) async fn checkout(self: &Arc<Self>, target: &Target) -> Result<CheckedOut, Error> {
        loop {
            let now = self.runtime.now();
            let (checkout, conn) = {
                let mut st = self.lock();
                let checkout = st.pool.checkout(now, target.clone());
                let conn = match &checkout {
                    Checkout::Ready(lease) => take(&mut st.parked, lease.conn().index()),
                    Checkout::Waiting(waiter) => {
                        st.waiters.insert(*waiter, Waiter::Waiting(None));
                        None
                    }
                };
                self.process(&mut st);
                (checkout, conn)
            };
            match (checkout, conn) {
                (Checkout::Ready(lease), Some(mut conn)) => {
                    if conn.probe(now) {
                        return Ok(CheckedOut { lease, conn, waited: Duration::ZERO });
                    }
                    tracing::debug!(%target, "idle connection found dead before reuse");
                    self.release(lease, conn);
                }
                (Checkout::Ready(lease), None) => self.forget(lease),
                (Checkout::Waiting(waiter), _) => {
                    let wait = WaitForConn {
                        engine: self.clone(),
                        waiter: Some(waiter),
                        since: now,
                        timer: Timer::default(),
                    };
                    return wait.await;
                }
            }
        }
    }

    /// Gives a connection back: pooled if it may be reused, closed otherwise.
    pub(crate) fn release(self: &Arc<Self>, lease: Lease, mut conn: Conn) {
        let now = self.runtime.now();
        let reusable = conn.proto.is_reusable() && !self.config.disable_keep_alives;
        let closed = {
            let mut st = self.lock();
            let closed = if reusable {
                conn.park();
                put(&mut st.parked, lease.conn().index(), conn);
                None
            } else {
                Some(conn)
            };
            st.pool.release(now, lease, reusable);
            self.process(&mut st);
            closed
        };
        drop(closed);
    }

    /// A lease whose connection is gone.
    fn forget(self: &Arc<Self>, lease: Lease) {
        let now = self.runtime.now();
        let mut st = self.lock();
        st.pool.release(now, lease, false);
        self.process(&mut st);
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.lock().pool.stats()
    }

    pub(crate) fn close_idle(self: &Arc<Self>) {
        let now = self.runtime.now();
        let mut st = self.lock();
        st.pool.close_idle(now);
        self.process(&mut st);
    }

    /// Carries out what the pool decided. Called after every pool call, under the lock.
    fn process(self: &Arc<Self>, st: &mut State) {
        while let Some(action) = st.pool.poll_action() {
            match action {
                PoolAction::StartDial { dial, key } => self.spawn_dial(dial, key),
                PoolAction::Deliver { waiter, lease } => {
                    let conn = take(&mut st.parked, lease.conn().index());
                    match (conn, st.waiters.remove(&waiter)) {
                        (Some(conn), Some(Waiter::Waiting(waker))) => {
                            st.waiters.insert(waiter, Waiter::Served(lease, conn));
                            waker.into_iter().for_each(Waker::wake);
                        }
                        (Some(conn), _) => {
                            put(&mut st.parked, lease.conn().index(), conn);
                            st.pool.release(self.runtime.now(), lease, true);
                        }
                        (None, _) => st.pool.release(self.runtime.now(), lease, false),
                    }
                }
                PoolAction::Fail { waiter, cause } => {
                    let error = match cause {
                        WaitFailure::Dial(dial) => match take(&mut st.dial_errors, dial.index()) {
                            Some((id, error)) if id == dial => error,
                            _ => Error::connect(std::io::Error::other("connect failed")),
                        },
                        WaitFailure::Timeout => Error::timeout(Timeout::PoolWait, false),
                    };
                    if let Some(Waiter::Waiting(waker)) = st.waiters.remove(&waiter) {
                        st.waiters.insert(waiter, Waiter::Failed(error));
                        waker.into_iter().for_each(Waker::wake);
                    }
                }
                PoolAction::Close { conn, reason } => {
                    tracing::debug!(?reason, "closing idle connection");
                    drop(take(&mut st.parked, conn.index()));
                }
                // A dial nobody needs finishes on its own, within the connect
                // timeout, and is then pooled or closed by the pool's rules.
                PoolAction::CancelDial { .. } => {}
            }
        }
        self.schedule_reaper(st);
    }

    fn spawn_dial(self: &Arc<Self>, dial: DialId, target: Target) {
        let engine = self.clone();
        // A runtime may drop the task unfinished (shutting down, or none to
        // spawn on): the pool must still hear that this dial ended.
        let on_drop = self.clone();
        let abandoned = Unfinished::new(move || {
            let error = io::Error::other("the runtime dropped the dial task");
            on_drop.dial_done(dial, Err(Error::connect(error)));
        });
        self.runtime.spawn(async move {
            let result = engine.open(&target).await;
            if let Err(error) = &result {
                tracing::debug!(%target, %error, "dial failed");
            }
            abandoned.disarm();
            engine.dial_done(dial, result);
        });
    }

    /// Tells the pool how a dial ended and hands its connection or error on.
    fn dial_done(self: &Arc<Self>, dial: DialId, result: Result<Box<dyn Io>, Error>) {
        let now = self.runtime.now();
        let mut st = self.lock();
        match result {
            Ok(io) => {
                if let Some(conn) = st.pool.dial_succeeded(now, dial) {
                    let proto = Connection::new(self.config.conn.clone());
                    put(&mut st.parked, conn.index(), Conn::new(io, proto));
                }
            }
            Err(error) => {
                put(&mut st.dial_errors, dial.index(), (dial, error));
                st.pool.dial_failed(now, dial);
            }
        }
        self.process(&mut st);
    }

    /// Opens a connection within the connect timeout.
    async fn open(&self, target: &Target) -> Result<Box<dyn Io>, Error> {
        let connect = pin!(self.connector.connect(&self.runtime, target, self.config.happy_eyeballs_delay));
        let deadline = self.config.connect_timeout.and_then(|t| self.runtime.now().checked_add(t));
        match with_deadline(&self.runtime, deadline, connect).await {
            Some(result) => result.map_err(Error::connect),
            None => Err(Error::timeout(Timeout::Connect, false)),
        }
    }

    /// Makes sure a reaper will call the pool's `handle_timeout` at its next deadline.
    fn schedule_reaper(self: &Arc<Self>, st: &mut State) {
        // Nothing to expire now: a sleeping reaper finds that out at its
        // deadline (or when the client drops). Ending it here would respawn one
        // per request as connections go in and out of the idle list.
        let Some(next) = st.pool.poll_timeout() else { return };
        if !st.reaper.running {
            st.reaper.running = true;
            st.reaper.deadline = Some(next);
            let engine = Arc::downgrade(self);
            // Dropped unfinished: let the next idle connection start a new reaper.
            let on_drop = engine.clone();
            let abandoned = Unfinished::new(move || {
                if let Some(engine) = on_drop.upgrade() {
                    engine.lock().reaper = Reaper::default();
                }
            });
            self.runtime.spawn(async move {
                reap(&engine).await;
                abandoned.disarm();
            });
        } else if st.reaper.deadline.is_none_or(|d| next < d) {
            st.reaper.deadline = Some(next);
            st.reaper.waker.take().into_iter().for_each(Waker::wake);
        }
    }
}

impl<R: Runtime> Drop for Engine<R> {
    /// Wakes a sleeping reaper so it sees the client is gone and ends now,
    /// rather than at its next deadline.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.reaper.waker.take().into_iter().for_each(Waker::wake);
    }
}

/// Expires idle connections while there are any. Holds only a weak reference,
/// so a dropped client closes its pool.
async fn reap<R: Runtime>(engine: &Weak<Engine<R>>) {
    let mut timer = Timer::default();
    loop {
        let due = poll_fn(|cx| {
            let Some(engine) = engine.upgrade() else { return Poll::Ready(false) };
            let mut st = engine.lock();
            let Some(deadline) = st.reaper.deadline else {
                st.reaper.running = false;
                return Poll::Ready(false);
            };
            st.reaper.waker = Some(cx.waker().clone());
            drop(st);
            timer.poll(cx, &engine.runtime, Some(deadline)).map(|()| true)
        })
        .await;
        let Some(engine) = engine.upgrade().filter(|_| due) else { return };
        let now = engine.runtime.now();
        let mut st = engine.lock();
        st.pool.handle_timeout(now);
        st.reaper.deadline = st.pool.poll_timeout();
        engine.process(&mut st);
        if st.reaper.deadline.is_none() {
            st.reaper.running = false;
            return;
        }
    }
}

/// Runs its cleanup when dropped before [`disarm`](Self::disarm): for the
/// spawned tasks that hold pool state, which a runtime may drop unfinished
/// (at shutdown, or when there is no runtime to spawn on).
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

/// A request waiting for a connection; dropping it leaves the queue, and a
/// connection delivered meanwhile goes back to the pool.
struct WaitForConn<R: Runtime> {
    engine: Arc<Engine<R>>,
    waiter: Option<WaiterId>,
    since: Instant,
    timer: Timer<R>,
}

impl<R: Runtime> Future for WaitForConn<R> {
    type Output = Result<CheckedOut, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(waiter) = this.waiter else { return Poll::Pending };
        loop {
            let mut st = this.engine.lock();
            match st.waiters.remove(&waiter) {
                Some(Waiter::Served(lease, conn)) => {
                    this.waiter = None;
                    let waited = this.engine.runtime.now().saturating_duration_since(this.since);
                    return Poll::Ready(Ok(CheckedOut { lease, conn, waited }));
                }
                Some(Waiter::Failed(error)) => {
                    this.waiter = None;
                    return Poll::Ready(Err(error));
                }
                Some(Waiter::Waiting(_)) | None => {
                    st.waiters.insert(waiter, Waiter::Waiting(Some(cx.waker().clone())));
                }
            }
            drop(st);
            let deadline = this.engine.config.pool.wait_timeout.and_then(|t| this.since.checked_add(t));
            if this.timer.poll(cx, &this.engine.runtime, deadline).is_pending() {
                return Poll::Pending;
            }
            // The pool decides who timed out, and delivers the failure.
            let now = this.engine.runtime.now();
            let mut st = this.engine.lock();
            st.pool.handle_timeout(now);
            this.engine.process(&mut st);
        }
    }
}

impl<R: Runtime> Drop for WaitForConn<R> {
    fn drop(&mut self) {
        let Some(waiter) = self.waiter else { return };
        let now = self.engine.runtime.now();
        let mut st = self.engine.lock();
        match st.waiters.remove(&waiter) {
            Some(Waiter::Waiting(_)) => st.pool.cancel_waiter(now, waiter),
            Some(Waiter::Served(lease, conn)) => {
                put(&mut st.parked, lease.conn().index(), conn);
                st.pool.release(now, lease, true);
            }
            Some(Waiter::Failed(_)) | None => {}
        }
        self.engine.process(&mut st);
    }
}

/// Runs `future` until `deadline`; `None` when the deadline came first. The
/// future comes pinned by the caller, so its state is not copied in here.
pub(crate) async fn with_deadline<R: Runtime, F: Future>(
    runtime: &R,
    deadline: Option<Instant>,
    mut future: Pin<&mut F>,
) -> Option<F::Output> {
    let mut timer = Timer::default();
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        timer.poll(cx, runtime, deadline).map(|()| None)
    })
    .await
}
