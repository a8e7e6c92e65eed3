//! A request waiting in the pool's queue for a connection (its own dial's,
//! or one another request hands back), within the pool-wait timeout.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::engine::{CheckedOut, Engine, Waiter, put};
use super::error::Error;
use super::io::Timer;
use super::runtime::Runtime;
use crate::pool::WaiterId;

/// Dropping it leaves the queue; a connection delivered meanwhile goes back
/// to the pool unused.
pub(super) struct WaitForConn<R: Runtime> {
    engine: Arc<Engine<R>>,
    waiter: Option<WaiterId>,
    since: Instant,
    timer: Timer<R>,
}

impl<R: Runtime> WaitForConn<R> {
    pub(super) fn new(engine: Arc<Engine<R>>, waiter: WaiterId, since: Instant) -> Self {
        Self { engine, waiter: Some(waiter), since, timer: Timer::default() }
    }
}

impl<R: Runtime> Future for WaitForConn<R> {
    type Output = Result<CheckedOut, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(waiter) = this.waiter else { return Poll::Pending };
        loop {
            let mut st = this.engine.state();
            let old = match st.waiters.remove(&waiter) {
                Some(Waiter::Served(lease, conn)) => {
                    drop(st);
                    this.waiter = None;
                    let at = this.engine.runtime.now();
                    let waited = at.saturating_duration_since(this.since);
                    return Poll::Ready(Ok(CheckedOut { lease, conn, waited, at }));
                }
                Some(Waiter::Failed(error)) => {
                    drop(st);
                    this.waiter = None;
                    return Poll::Ready(Err(error));
                }
                Some(Waiter::Waiting(old)) => old,
                None => None,
            };
            st.waiters.insert(waiter, Waiter::Waiting(Some(cx.waker().clone())));
            drop(st);
            // Dropped after the lock: a task's last waker may own futures that lock.
            drop(old);
            let deadline = this.engine.config.pool.wait_timeout.and_then(|t| this.since.checked_add(t));
            if this.timer.poll(cx, &this.engine.runtime, deadline).is_pending() {
                return Poll::Pending;
            }
            // The pool decides who timed out, and delivers the failure.
            let mut st = this.engine.lock();
            let now = st.now;
            st.pool.handle_timeout(now);
        }
    }
}

impl<R: Runtime> Drop for WaitForConn<R> {
    fn drop(&mut self) {
        let Some(waiter) = self.waiter else { return };
        let mut st = self.engine.lock();
        let now = st.now;
        let rest = match st.waiters.remove(&waiter) {
            Some(Waiter::Served(lease, conn)) => {
                put(&mut st.parked, lease.conn().index(), conn);
                st.pool.release_unused(now, lease);
                None
            }
            Some(Waiter::Waiting(waker)) => {
                st.pool.cancel_waiter(now, waiter);
                Some(Waiter::Waiting(waker))
            }
            rest => rest,
        };
        // A waker or an error is dropped after the lock, like everything else.
        drop(st);
        drop(rest);
    }
}
