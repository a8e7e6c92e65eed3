//! A checked-out connection owned by one request, then by its response body.
//! Dropping it is cancellation: the connection's cancel rules decide whether
//! it goes back to the pool, settles first, or closes.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::engine::Engine;
use super::io::{Conn, Timer};
use super::runtime::Runtime;
use super::upload::Upload;
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

    /// Gives the connection back once the response was read to its end. If the
    /// request is not fully written yet (the response came early), the rest is
    /// written in the background for a short grace period, as Go waits for its
    /// write loop before reusing (`wroteRequest`, #7569); then it is pooled or closed.
    pub(crate) fn release(mut self, cx: &mut Context<'_>, mut upload: Option<Box<Upload>>) {
        let Some((lease, mut conn)) = self.held.take() else { return };
        let mut timer = Timer::default();
        if let (Some(upload), Some(id)) = (upload.as_mut(), self.exchange) {
            let _ = upload.pump(cx, &mut conn, id);
        }
        conn.drive(cx, self.engine.runtime.now(), &self.engine.runtime, &mut timer);
        settle(&self.engine, lease, conn, self.exchange.zip(upload));
    }
}

impl<R: Runtime> Leased<R> {
    /// [`release`](Self::release) without a task context: settles in the
    /// background if anything is left to write.
    pub(crate) fn release_later(mut self, upload: Option<Box<Upload>>) {
        if let Some((lease, conn)) = self.held.take() {
            settle(&self.engine, lease, conn, self.exchange.zip(upload));
        }
    }
}

impl<R: Runtime> Drop for Leased<R> {
    fn drop(&mut self) {
        let Some((lease, mut conn)) = self.held.take() else { return };
        if let Some(id) = self.exchange {
            conn.proto.cancel(id);
        }
        settle(&self.engine, lease, conn, None);
    }
}

/// Pools or closes a connection whose exchange is over; one still finishing
/// (a drain after a cancel, the tail of an upload) gets a background task
/// that drives it within the client's `drain_timeout` first.
fn settle<R: Runtime>(
    engine: &Arc<Engine<R>>,
    lease: Lease,
    mut conn: Conn,
    upload: Option<(ExchangeId, Box<Upload>)>,
) {
    if conn.proto.is_reusable() || conn.proto.is_closed() {
        engine.release(lease, conn);
        return;
    }
    let engine2 = engine.clone();
    engine.runtime.spawn(async move {
        let engine = engine2;
        let deadline = engine.runtime.now() + engine.config.drain_timeout;
        let (mut conn_timer, mut deadline_timer) = (Timer::default(), Timer::<R>::default());
        let mut upload = upload;
        poll_fn(|cx| {
            loop {
                if conn.proto.is_reusable() || conn.proto.is_closed() {
                    return Poll::Ready(());
                }
                let mut progress = false;
                if let Some((id, upload)) = upload.as_mut() {
                    progress |= upload.pump(cx, &mut conn, *id).unwrap_or(true);
                }
                progress |= conn.drive(cx, engine.runtime.now(), &engine.runtime, &mut conn_timer);
                while conn.proto.poll_event().is_some() {
                    progress = true;
                }
                if progress {
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
