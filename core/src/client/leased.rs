//! A checked-out connection owned by one request, then by its response body.
//! Dropping it is cancellation: the connection's cancel rules decide whether
//! it goes back to the pool, drains first, or closes.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use super::engine::Engine;
use super::io::{Conn, Timer};
use super::runtime::Runtime;
use crate::conn::ExchangeId;
use crate::pool::Lease;

pub(crate) struct Leased<R: Runtime> {
    engine: Arc<Engine<R>>,
    held: Option<(Lease, Conn)>,
    exchange: Option<ExchangeId>,
}

impl<R: Runtime> Leased<R> {
    pub(crate) fn new(engine: Arc<Engine<R>>, lease: Lease, conn: Conn) -> Self {
        Self { engine, held: Some((lease, conn)), exchange: None }
    }

    pub(crate) fn engine(&self) -> &Arc<Engine<R>> {
        &self.engine
    }

    /// The connection; `None` only after `release`, which consumes `self`.
    pub(crate) fn conn(&mut self) -> Option<&mut Conn> {
        self.held.as_mut().map(|(_, conn)| conn)
    }

    pub(crate) fn exchange(&self) -> Option<ExchangeId> {
        self.exchange
    }

    pub(crate) fn set_exchange(&mut self, id: ExchangeId) {
        self.exchange = Some(id);
    }

    /// Gives the connection back after its exchange ended (or failed).
    pub(crate) fn release(mut self) {
        if let Some((lease, conn)) = self.held.take() {
            self.engine.release(lease, conn);
        }
    }
}

impl<R: Runtime> Drop for Leased<R> {
    fn drop(&mut self) {
        let Some((lease, mut conn)) = self.held.take() else { return };
        if let Some(id) = self.exchange {
            conn.proto.cancel(id);
        }
        let draining = !conn.proto.is_reusable() && !conn.proto.is_closed();
        if !draining {
            self.engine.release(lease, conn);
            return;
        }
        // drain_on_cancel: read out the small rest of the body in the
        // background, within `drain_timeout`, then pool or close.
        let engine = self.engine.clone();
        self.engine.runtime.spawn(async move {
            let deadline = engine.runtime.now() + engine.config.drain_timeout;
            let (mut conn_timer, mut deadline_timer) = (Timer::default(), Timer::<R>::default());
            poll_fn(|cx| {
                loop {
                    if conn.proto.is_reusable() || conn.proto.is_closed() {
                        return Poll::Ready(());
                    }
                    if conn.drive(cx, &engine.runtime, &mut conn_timer) {
                        continue;
                    }
                    if deadline_timer.poll(cx, &engine.runtime, Some(deadline)).is_ready() {
                        conn.proto.close();
                        return Poll::Ready(());
                    }
                    return Poll::Pending;
                }
            })
            .await;
            engine.release(lease, conn);
        });
    }
}
