//! A checked-out connection owned by one request, then by its response body.
//! Dropping it is cancellation: the connection's cancel rules decide whether
//! it goes back to the pool, settles first, or closes.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::engine::Engine;
use super::io::{Conn, ConnInfo, InPoll, Timer};
use super::runtime::Runtime;
use super::upgrade::Upgraded;
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

    /// The lease; `None` only after `release`.
    pub(crate) fn lease(&self) -> Option<&Lease> {
        self.held.as_ref().map(|(lease, _)| lease)
    }

    /// What the connection's dial learned; `None` only after `release`.
    pub(crate) fn info(&self) -> Option<&ConnInfo> {
        self.held.as_ref().map(|(_, conn)| &*conn.info)
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
        if let (Some(upload), Some(id)) = (upload.as_mut(), self.exchange)
            && upload.pump(cx, &mut conn, id).is_err()
        {
            // The request body failed after the response: the server must
            // not take what was sent for the whole body.
            conn.proto.close();
        }
        conn.drive(cx, self.engine.runtime.now(), &self.engine.runtime, &mut timer, &mut InPoll::default());
        settle(&self.engine, lease, conn, self.exchange.zip(upload));
    }
}

impl<R: Runtime> Leased<R> {
    /// Hands the connection over after a protocol switch (101, a 2xx to
    /// `CONNECT`): it is no longer HTTP, so its pool slot is freed.
    pub(crate) fn take_upgraded(&mut self) -> Option<Upgraded> {
        let (lease, conn) = self.held.take()?;
        self.engine.forget(lease);
        Some(conn.into_upgraded())
    }

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
    conn: Conn,
    upload: Option<(ExchangeId, Box<Upload>)>,
) {
    if conn.proto.is_reusable() || conn.proto.is_closed() {
        engine.release(lease, conn);
        return;
    }
    // A runtime may drop the task unfinished (shutting down, or none to spawn
    // on): the connection then closes and its slot is freed.
    let mut held = Settling { engine: engine.clone(), held: Some((lease, conn)) };
    engine.runtime.spawn(async move {
        let engine = held.engine.clone();
        let Some((_, conn)) = held.held.as_mut() else { return };
        let deadline = engine.runtime.now().checked_add(engine.config.drain_timeout);
        let (mut conn_timer, mut deadline_timer) = (Timer::default(), Timer::<R>::default());
        let mut upload = upload;
        poll_fn(|cx| {
            let mut in_poll = InPoll::default();
            loop {
                if conn.proto.is_reusable() || conn.proto.is_closed() {
                    return Poll::Ready(());
                }
                // Checked on every pass: a peer that keeps the bytes moving
                // must not stretch the grace period.
                let now = engine.runtime.now();
                if deadline.is_some_and(|d| now >= d) {
                    conn.proto.close();
                    return Poll::Ready(());
                }
                let mut progress = false;
                if let Some((id, upload)) = upload.as_mut() {
                    match upload.pump(cx, conn, *id) {
                        Ok(moved) => progress |= moved,
                        Err(_) => {
                            conn.proto.close();
                            return Poll::Ready(());
                        }
                    }
                }
                progress |= conn.drive(cx, now, &engine.runtime, &mut conn_timer, &mut in_poll);
                while conn.proto.poll_event().is_some() {
                    progress = true;
                }
                if progress {
                    continue;
                }
                if deadline_timer.poll(cx, &engine.runtime, deadline).is_ready() {
                    conn.proto.close();
                    return Poll::Ready(());
                }
                return Poll::Pending;
            }
        })
        .await;
        if let Some((lease, conn)) = held.held.take() {
            engine.release(lease, conn);
        }
    });
}

/// The connection a settle task holds, given back closed if the task is
/// dropped before it finishes.
struct Settling<R: Runtime> {
    engine: Arc<Engine<R>>,
    held: Option<(Lease, Conn)>,
}

impl<R: Runtime> Drop for Settling<R> {
    fn drop(&mut self) {
        if let Some((lease, mut conn)) = self.held.take() {
            conn.proto.close();
            self.engine.release(lease, conn);
        }
    }
}
