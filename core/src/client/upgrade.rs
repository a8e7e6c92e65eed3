//! The connection after `101 Switching Protocols` or a `2xx` to `CONNECT`: no
//! longer HTTP, so it leaves the pool and goes to the caller whole, with the
//! bytes the server sent after its head (RFC 9110 §7.8, §9.3.6).

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};

use super::runtime::Io;

/// A connection that switched protocols, from
/// [`Body::upgrade`](super::Body::upgrade) or [`upgrade`]: an [`Io`] that first gives the
/// bytes the client had already read past the response head, then reads the
/// socket (or the TLS session over it).
///
/// The pool has let go of it: it no longer counts toward
/// `max_conns_per_host`, and dropping it closes it. Its [`read`](Self::read),
/// [`write_all`](Self::write_all) and [`shutdown`](Self::shutdown) work on
/// every runtime; the adapters' `TokioIo` and `SmolIo` wrap it in their
/// runtime's I/O traits for protocol crates that want those.
pub struct Upgraded {
    io: Box<dyn Io>,
    read_ahead: Bytes,
}

impl Upgraded {
    pub(crate) fn new(io: Box<dyn Io>, read_ahead: Bytes) -> Self {
        Self { io, read_ahead }
    }

    /// The stream and the bytes already read from it, which come before
    /// anything the stream will give.
    pub fn into_parts(self) -> (Box<dyn Io>, Bytes) {
        (self.io, self.read_ahead)
    }

    /// Reads into `buf`: `Ok(0)` is the end of the stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes all of `buf` and flushes it.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        super::runtime::write_all(&mut *self.io, buf).await
    }

    /// Shuts down the write side (a TLS stream sends `close_notify` first).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.io.poll_shutdown(cx)).await
    }
}

impl Io for Upgraded {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if self.read_ahead.is_empty() {
            return self.io.poll_read(cx, buf);
        }
        let n = buf.len().min(self.read_ahead.len());
        buf[..n].copy_from_slice(&self.read_ahead[..n]);
        self.read_ahead.advance(n);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_flush(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_shutdown(cx)
    }
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded").field("read_ahead", &self.read_ahead.len()).finish_non_exhaustive()
    }
}

/// The connection of a response that switched protocols, taken from the
/// response's extensions: the same as [`Body::upgrade`](super::Body::upgrade),
/// but for any body type, so it still works after middleware (tower-http's
/// decompression, `map_response_body`) replaced the body. `None` if the
/// response did not switch or the connection was taken already.
pub fn upgrade<B>(response: &mut http::Response<B>) -> Option<Upgraded> {
    response.extensions().get::<Pending>()?.take()
}

/// Where a switched connection waits, shared by the response's extensions
/// and its body: whichever asks first takes it.
#[derive(Clone)]
pub(crate) struct Pending(Arc<Mutex<Option<Upgraded>>>);

impl Pending {
    pub(crate) fn new(upgraded: Upgraded) -> Self {
        Self(Arc::new(Mutex::new(Some(upgraded))))
    }

    pub(crate) fn take(&self) -> Option<Upgraded> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}
