//! The engine behind a `Client`: the [`Pool`] policy under one lock, and the
//! parked connections and waiting requests it refers to by id.
//!
//! The lock is held for O(1) work and never across an `.await`. Time is read
//! under it, so the pool sees its calls' times in order even across threads.
//! Tasks the pool's actions call for (dials, the reaper) start only after the
//! lock is released; see [`tasks`](super::tasks).

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Deref, DerefMut};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::config::ClientConfig;
use super::connect::{Connector, Target};
use super::error::{Error, Timeout};
use super::io::{Conn, Dialed, Timer};
use super::options::Options;
use super::runtime::{Io, Runtime};
use super::tasks::{self, Abort, Task};
use super::trace::{DialReport, Trace, TraceEvent};
use super::wait::WaitForConn;
use crate::conn::Connection;
use crate::pool::{Checkout, DialId, KeyStats, Lease, Pool, PoolAction, PoolStats, WaitFailure, WaiterId};

pub(crate) struct Engine<R: Runtime> {
    pub(crate) runtime: R,
    pub(crate) config: ClientConfig,
    connector: Connector,
    state: Mutex<State>,
}

pub(super) struct State {
    pub(super) pool: Pool<Target>,
    /// Idle connections, and connections on their way to a waiter, by `ConnId::index`.
    pub(super) parked: Vec<Option<Conn>>,
    /// Requests waiting for a connection. Keyed by the whole id, not its index:
    /// the pool reuses a served waiter's index while the outcome still waits
    /// here for its request to collect it.
    pub(super) waiters: HashMap<WaiterId, Waiter, BuildHasherDefault<IdHasher>>,
    /// The error of a failed dial until its waiter collects it, by `DialId::index`.
    dial_errors: Vec<Option<(DialId, Error)>>,
    /// The abort switch of each running dial, by `DialId::index`.
    dials: Vec<Option<(DialId, Arc<Abort>)>>,
    pub(super) reaper: Reaper,
    /// The trace of the request whose checkout is under way, for a dial it
    /// starts; cleared before the lock is released.
    dial_trace: Option<Trace>,
}

/// Hashes the pool's ids (two `u32`s) with a multiply per word, as rustc's
/// FxHash does. SipHash, the default, cost about 200 instructions per insert
/// or remove, and a request that waits for a dial makes five. Ids are made by
/// the pool, not by peers, so there is no flooding to resist here.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.write_u64(u64::from(b)));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        // The golden ratio's odd multiplier spreads the bits upwards, where
        // hashbrown takes its control bytes from.
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) enum Waiter {
    Waiting(Option<Waker>),
    Served(Lease, Conn),
    Failed(Error),
}

#[derive(Default)]
pub(super) struct Reaper {
    pub(super) running: bool,
    pub(super) deadline: Option<Instant>,
    pub(super) waker: Option<Waker>,
}

/// A connection checked out for one request.
pub(crate) struct CheckedOut {
    pub(crate) lease: Lease,
    pub(crate) conn: Conn,
    /// How long the request waited for it (zero for an idle connection).
    pub(crate) waited: Duration,
    /// When it was handed over.
    pub(crate) at: Instant,
}

pub(super) fn put<T>(slots: &mut Vec<Option<T>>, index: usize, value: T) {
    if index >= slots.len() {
        slots.resize_with(index + 1, || None);
    }
    slots[index] = Some(value);
}

fn take<T>(slots: &mut [Option<T>], index: usize) -> Option<T> {
    slots.get_mut(index).and_then(Option::take)
}

/// The state under the lock, with the time read under it. Dropping it carries
/// out the pool's pending actions, releases the lock, and only then does what
/// those actions call for: wake requests, close sockets, start tasks. Under
/// the lock nothing runs but bookkeeping: a waker may run code of its own, a
/// closing socket may block, and a runtime may drop a task inside `spawn` (none
/// running, or shutting down), whose cleanup locks again.
pub(super) struct Locked<'a, R: Runtime> {
    engine: &'a Arc<Engine<R>>,
    guard: Option<MutexGuard<'a, State>>,
    pub(super) now: Instant,
    after: After,
}

/// What the locked section decided, carried out once the lock is released.
///
/// Hot path: most sections decide nothing, or hand one connection to one
/// waiter, or close one connection; those cases stay inline. Anything more
/// goes to a box allocated only when needed.
#[derive(Default)]
pub(super) struct After {
    wake: Option<Waker>,
    close: Option<Conn>,
    more: Option<Box<More>>,
}

#[derive(Default)]
struct More {
    tasks: Vec<Task>,
    wake: Vec<Waker>,
    close: Vec<Conn>,
    abort: Vec<Arc<Abort>>,
}

impl After {
    fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    fn wake(&mut self, waker: Waker) {
        match self.wake {
            None => self.wake = Some(waker),
            Some(_) => self.more().wake.push(waker),
        }
    }

    fn close(&mut self, conn: Conn) {
        match self.close {
            None => self.close = Some(conn),
            Some(_) => self.more().close.push(conn),
        }
    }

    fn run<R: Runtime>(self, engine: &Arc<Engine<R>>) {
        drop(self.close);
        let Some(more) = self.more else {
            self.wake.into_iter().for_each(Waker::wake);
            return;
        };
        let More { tasks, wake, close, abort } = *more;
        drop(close);
        abort.iter().for_each(|abort| abort.fire());
        self.wake.into_iter().chain(wake).for_each(Waker::wake);
        tasks::start(engine, tasks);
    }
}

impl<R: Runtime> Locked<'_, R> {
    /// Carries out the pool's actions now, rather than when dropped.
    pub(super) fn process(&mut self) {
        if let Some(st) = self.guard.as_mut() {
            self.engine.process(st, self.now, &mut self.after);
        }
    }

    /// Drops the lock and runs `first` before anything the locked section
    /// started: a report that must come before a task's own reports.
    fn unlock_then(mut self, first: impl FnOnce()) {
        self.process();
        // Not the last reference (its request holds one): no code runs here.
        self.dial_trace = None;
        drop(self.guard.take());
        first();
        std::mem::take(&mut self.after).run(self.engine);
    }
}

impl<R: Runtime> Deref for Locked<'_, R> {
    type Target = State;

    fn deref(&self) -> &State {
        self.guard.as_deref().expect("held until dropped")
    }
}

impl<R: Runtime> DerefMut for Locked<'_, R> {
    fn deref_mut(&mut self) -> &mut State {
        self.guard.as_deref_mut().expect("held until dropped")
    }
}

impl<R: Runtime> Drop for Locked<'_, R> {
    fn drop(&mut self) {
        self.process();
        drop(self.guard.take());
        std::mem::take(&mut self.after).run(self.engine);
    }
}

impl<R: Runtime> Engine<R> {
    pub(crate) fn new(runtime: R, config: ClientConfig, connector: Connector) -> Self {
        let state = State {
            pool: Pool::new(config.pool.clone()),
            parked: Vec::new(),
            waiters: HashMap::default(),
            dial_errors: Vec::new(),
            dials: Vec::new(),
            reaper: Reaper::default(),
            dial_trace: None,
        };
        Self { runtime, config, connector, state: Mutex::new(state) }
    }

    /// The state, for work that makes no pool call (and so starts no task).
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the pool's
        // state is still consistent at every await point.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state for pool calls; see [`Locked`].
    pub(super) fn lock(self: &Arc<Self>) -> Locked<'_, R> {
        let guard = self.state();
        let now = self.runtime.now();
        Locked { engine: self, guard: Some(guard), now, after: After::default() }
    }

    /// A connection to `target`: an idle one that passes a probe, or the first
    /// that a release or a dial offers this request (dial racing). A dial it
    /// starts reports to the request's trace.
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        target: &Target,
        options: &Options,
    ) -> Result<CheckedOut, Error> {
        loop {
            let mut checked = match self.checkout_step(target, options) {
                Ok((lease, Some(conn), at)) => CheckedOut { lease, conn, waited: Duration::ZERO, at },
                Ok((lease, None, _)) => {
                    self.forget(lease);
                    continue;
                }
                Err(wait) => wait.await?,
            };
            // A connection that idled, or that a release handed straight to
            // this waiter after a request, is probed first: bytes right behind
            // the last response (or an EOF while it idled) make it unfit, and
            // would otherwise be read as this request's response. Only a fresh
            // dial handed over is taken as it is.
            let fresh = !checked.lease.was_reused() && checked.lease.idle_for().is_none();
            if fresh || checked.conn.probe(checked.at) {
                return Ok(checked);
            }
            tracing::debug!(%target, "pooled connection found unfit before reuse");
            self.release(checked.lease, checked.conn);
        }
    }

    /// One pool checkout: the idle connection it offers (`None` if its slot
    /// lost it), or the wait for the waiter it queued, reported as waiting.
    #[allow(clippy::type_complexity, reason = "a private step of checkout")]
    fn checkout_step(
        self: &Arc<Self>,
        target: &Target,
        options: &Options,
    ) -> Result<(Lease, Option<Conn>, Instant), WaitForConn<R>> {
        // Asked before the lock: a subscriber's filter is code of theirs.
        let observed = options.observed();
        let mut st = self.lock();
        let now = st.now;
        match st.pool.checkout(now, target.clone()) {
            Checkout::Ready(lease) => {
                let conn = take(&mut st.parked, lease.conn().index());
                Ok((lease, conn, now))
            }
            Checkout::Waiting(waiter) => {
                st.waiters.insert(waiter, Waiter::Waiting(None));
                st.dial_trace = options.trace.clone();
                let queued_ahead = if observed {
                    st.pool.key_stats(target).map_or(0, |s| s.waiting.saturating_sub(1))
                } else {
                    0
                };
                // Made before the trace runs: if the callback panics, dropping
                // it takes the waiter out of the queue.
                let wait = WaitForConn::new(self.clone(), waiter, now);
                // Reported before the dial it may start reports anything.
                st.unlock_then(|| options.trace(|| TraceEvent::PoolWait { queued_ahead }));
                Err(wait)
            }
        }
    }

    /// Gives a connection back: pooled if it may be reused, closed otherwise.
    pub(crate) fn release(self: &Arc<Self>, lease: Lease, mut conn: Conn) {
        let reusable = conn.proto.is_reusable() && !self.config.disable_keep_alives;
        if reusable {
            conn.park();
        }
        let mut st = self.lock();
        let now = st.now;
        if reusable {
            put(&mut st.parked, lease.conn().index(), conn);
        } else {
            st.after.close(conn);
        }
        st.pool.release(now, lease, reusable);
    }

    /// A lease whose connection is gone.
    pub(crate) fn forget(self: &Arc<Self>, lease: Lease) {
        let mut st = self.lock();
        let now = st.now;
        st.pool.release(now, lease, false);
    }

    pub(crate) fn stats(&self) -> PoolStats {
        self.state().pool.stats()
    }

    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        self.state().pool.check_invariants()
    }

    pub(crate) fn host_stats(&self) -> Vec<(Target, KeyStats)> {
        let st = self.state();
        st.pool.all_key_stats().map(|(target, stats)| (target.clone(), stats)).collect()
    }

    /// Counts a retry for the host of `lease`, before the lease is given back.
    pub(crate) fn record_retry(&self, lease: &Lease) {
        self.state().pool.record_retry(lease);
    }

    pub(crate) fn close_idle(self: &Arc<Self>) {
        let mut st = self.lock();
        let now = st.now;
        st.pool.close_idle(now);
        // Nothing left to expire: the sleeping reaper ends now, not at its
        // old deadline, so a client whose pool is closed holds no task.
        if st.pool.poll_timeout().is_none() {
            st.reaper.deadline = None;
            if let Some(waker) = st.reaper.waker.take() {
                st.after.wake(waker);
            }
        }
    }

    /// Carries out what the pool decided, collecting the tasks to start once
    /// the lock is released. Called after every pool call, under the lock.
    fn process(self: &Arc<Self>, st: &mut State, now: Instant, after: &mut After) {
        while let Some(action) = st.pool.poll_action() {
            match action {
                PoolAction::StartDial { dial, key } => {
                    let abort = Arc::new(Abort::default());
                    put(&mut st.dials, dial.index(), (dial, abort.clone()));
                    let trace = st.dial_trace.take();
                    after.more().tasks.push(Task::Dial { dial, target: key, abort, trace });
                }
                PoolAction::Deliver { waiter, lease } => {
                    let conn = take(&mut st.parked, lease.conn().index());
                    match (conn, st.waiters.remove(&waiter)) {
                        (Some(conn), Some(Waiter::Waiting(waker))) => {
                            st.waiters.insert(waiter, Waiter::Served(lease, conn));
                            waker.into_iter().for_each(|waker| after.wake(waker));
                        }
                        (Some(conn), _) => {
                            put(&mut st.parked, lease.conn().index(), conn);
                            st.pool.release_unused(now, lease);
                        }
                        (None, _) => st.pool.release(now, lease, false),
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
                        waker.into_iter().for_each(|waker| after.wake(waker));
                    }
                }
                PoolAction::Close { conn, reason } => {
                    tracing::debug!(?reason, "closing idle connection");
                    if let Some(conn) = take(&mut st.parked, conn.index()) {
                        after.close(conn);
                    }
                }
                // Go 1.23: a dial no request waits for any more is aborted
                // (CloseIdleConnections); its task then reports it failed.
                PoolAction::CancelDial { dial } => {
                    if let Some(Some((id, abort))) = st.dials.get(dial.index())
                        && *id == dial
                    {
                        after.more().abort.push(abort.clone());
                    }
                }
            }
        }
        schedule_reaper(st, after);
    }

    /// Tells the pool how a dial ended and hands its connection or error on.
    pub(super) fn dial_done(self: &Arc<Self>, dial: DialId, result: Result<Dialed, Error>) {
        let mut st = self.lock();
        let now = st.now;
        if st.dials.get(dial.index()).is_some_and(|d| d.as_ref().is_some_and(|(id, _)| *id == dial)) {
            take(&mut st.dials, dial.index());
        }
        match result {
            Ok(dialed) => {
                let conn = Conn::new(dialed, Connection::with_shared_config(self.config.conn.clone()));
                match st.pool.dial_succeeded(now, dial) {
                    Some(id) => put(&mut st.parked, id.index(), conn),
                    // A stale or repeated dial: the socket closes after the lock.
                    None => st.after.close(conn),
                }
            }
            Err(error) => {
                put(&mut st.dial_errors, dial.index(), (dial, error));
                st.pool.dial_failed(now, dial);
                st.process();
                // No waiter took the error: do not keep it.
                if st
                    .dial_errors
                    .get(dial.index())
                    .is_some_and(|e| e.as_ref().is_some_and(|(id, _)| *id == dial))
                {
                    take(&mut st.dial_errors, dial.index());
                }
            }
        }
    }

    /// Opens a connection within the connect timeout, reporting its phases
    /// to `report`.
    pub(super) async fn open(&self, target: &Target, report: &mut DialReport) -> Result<Dialed, Error> {
        let dial = pin!(self.dial(target, report));
        let deadline = self.config.connect_timeout.and_then(|t| self.runtime.now().checked_add(t));
        match with_deadline(&self.runtime, deadline, dial).await {
            Some(result) => result,
            None => Err(Error::timeout(Timeout::Connect, false)),
        }
    }

    /// The pool key of a request to `scheme://authority`, with the proxy the
    /// client's settings pick for it. Hot path: one check when no proxy is set.
    pub(super) fn target(&self, scheme: &http::uri::Scheme, authority: &http::uri::Authority) -> Target {
        let target = Target::new(scheme.clone(), authority.clone());
        if self.config.proxies.is_empty() || !self.connector.uses_proxies() {
            return target;
        }
        let (host, port) = target.host_and_port();
        let proxy = self.config.proxies.select(scheme, host, port).cloned();
        target.with_proxy(proxy)
    }

    /// The connection to `target`: straight to it, or through its proxy
    /// (forwarded, or a tunnel with TLS to the origin over it).
    async fn dial(&self, target: &Target, report: &mut DialReport) -> Result<Dialed, Error> {
        let Some(proxy) = target.proxy() else { return self.dial_hop(target, report).await };
        // What the hop to the proxy negotiated is not the origin's.
        let hop = self.dial_hop(&Target::proxy_hop(proxy), report).await.map_err(|e| e.reaching(proxy))?;
        if target.is_forwarded() {
            return Ok(Dialed::plain(hop.io));
        }
        let limits = &self.config.conn.head_limits;
        let io = super::tunnel::open(&self.runtime, hop.io, target, proxy, limits)
            .await
            .map_err(Error::connect)?;
        if *target.scheme() == http::uri::Scheme::HTTPS {
            Box::pin(self.tls(io, target, report)).await
        } else {
            Ok(Dialed::plain(io))
        }
    }

    /// The transport to one hop, then TLS over it for an `https` hop of the
    /// built-in dialer (a custom connector's `Io` is used as it comes).
    ///
    /// The handshake's future is boxed, here and in [`dial`](Self::dial):
    /// inline, its 1.3 KiB would be part of every dial task, plain ones too,
    /// and a burst of new connections would hold that much each until
    /// they are made; one allocation is nothing beside a handshake.
    async fn dial_hop(&self, hop: &Target, report: &mut DialReport) -> Result<Dialed, Error> {
        let io = self
            .connector
            .connect(&self.runtime, hop, self.config.happy_eyeballs_delay, report)
            .await
            .map_err(Error::connect)?;
        if self.connector.is_built_in_tcp() && *hop.scheme() == http::uri::Scheme::HTTPS {
            return Box::pin(self.tls(io, hop, report)).await;
        }
        Ok(Dialed::plain(io))
    }

    /// A TLS session with `target`'s host over `io`, within the handshake timeout.
    #[cfg(feature = "rustls")]
    async fn tls(&self, io: Box<dyn Io>, target: &Target, report: &mut DialReport) -> Result<Dialed, Error> {
        let Some(config) = self.config.tls() else {
            return Err(Error::connect(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "https needs a TLS configuration: enable the platform-verifier or webpki-roots feature, or call tls_config",
            )));
        };
        let handshake = pin!(super::tls::handshake(io, config, target.host()));
        let start = self.runtime.now();
        report.emit(start, TraceEvent::TlsHandshakeStart);
        let deadline = self.config.tls_handshake_timeout.and_then(|t| start.checked_add(t));
        let result = with_deadline(&self.runtime, deadline, handshake).await;
        let ok = matches!(result, Some(Ok(_)));
        report.emit(self.runtime.now(), TraceEvent::TlsHandshakeDone { ok });
        match result {
            Some(Ok(session)) => {
                let tls = Some(Arc::new(session.info()));
                let mut dialed = Dialed::plain(Box::new(session));
                dialed.tls = tls;
                Ok(dialed)
            }
            Some(Err(error)) => Err(Error::connect(error)),
            None => Err(Error::timeout(Timeout::TlsHandshake, false)),
        }
    }

    #[cfg(not(feature = "rustls"))]
    async fn tls(
        &self,
        _io: Box<dyn Io>,
        _target: &Target,
        _report: &mut DialReport,
    ) -> Result<Dialed, Error> {
        Err(Error::connect(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "https needs the rustls feature, or a connector of your own",
        )))
    }
}

/// Makes sure a reaper will call the pool's `handle_timeout` at its next deadline.
fn schedule_reaper(st: &mut State, after: &mut After) {
    // Nothing to expire now: a sleeping reaper finds that out at its
    // deadline (or when the client drops). Ending it here would respawn one
    // per request as connections go in and out of the idle list.
    let Some(next) = st.pool.poll_timeout() else { return };
    if !st.reaper.running {
        st.reaper.running = true;
        st.reaper.deadline = Some(next);
        after.more().tasks.push(Task::Reaper);
    } else if st.reaper.deadline.is_none_or(|d| next < d) {
        st.reaper.deadline = Some(next);
        st.reaper.waker.take().into_iter().for_each(|waker| after.wake(waker));
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
