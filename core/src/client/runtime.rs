//! What an adapter provides: a [`Runtime`] (spawn, clock, timers, sockets) and
//! byte streams as [`Io`]. Everything else, every HTTP decision included, is
//! in this crate.

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;

/// A connected byte stream: TCP, a Unix socket, TLS over either, or anything a
/// custom connector produces.
///
/// The methods follow `AsyncRead`/`AsyncWrite`: `Pending` registers the
/// task's waker, `Ok(0)` from a read is EOF.
pub trait Io: Send + 'static {
    /// Reads into `buf`.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Writes from `bufs`, in order; returns how many bytes were taken.
    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>>;
    /// Flushes buffered writes, if the stream buffers.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Shuts down the write side.
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Reads what is there now, without waiting and without asking to be
    /// woken: `Pending` when nothing is. The engine checks an idle connection
    /// with it before reusing it. The default polls with a no-op waker, which
    /// costs nothing on a runtime that tracks readiness (Tokio); a stream
    /// whose `poll_read` would arm a reactor on the way should override it
    /// with a plain non-blocking read.
    fn try_read(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read(&mut Context::from_waker(std::task::Waker::noop()), buf)
    }

    /// Reads at most `max` bytes into `buf`'s spare capacity, appending them,
    /// as `poll_read` does otherwise: a large body then reaches the caller
    /// with no copy through a buffer of the engine's. `None` (the default)
    /// when the stream cannot; the engine then uses `poll_read`.
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        let _ = (cx, buf, max);
        None
    }
}

impl Io for Box<dyn Io> {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        (**self).poll_read(cx, buf)
    }
    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        (**self).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (**self).poll_flush(cx)
    }
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        (**self).poll_shutdown(cx)
    }
    fn try_read(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        (**self).try_read(buf)
    }
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        (**self).poll_read_buf(cx, buf, max)
    }
}

/// A timer future that can be moved to another deadline without reallocating.
/// `Unpin`, so the engine can keep it inline (box a runtime's `!Unpin` timer).
pub trait Sleep: Future<Output = ()> + Send + Unpin + 'static {
    /// Makes the timer fire at `deadline` instead.
    fn reset(&mut self, deadline: Instant);
}

/// The services of an async runtime the engine needs.
///
/// `now` must be the clock `sleep_until` measures (so tests that pause or
/// advance the runtime's clock control every timeout).
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The runtime's timer.
    type Sleep: Sleep;

    /// Runs `future` to completion in the background.
    ///
    /// An implementation may instead drop the future, inside this call or
    /// later, unpolled or half-run: when there is no runtime to run it (a
    /// response body dropped on a plain thread) or the runtime is shutting
    /// down. The engine survives that: every task it spawns carries a cleanup
    /// that tells the pool what became of it, and the engine never holds its
    /// lock while calling `spawn`. It must not panic, since it can be reached
    /// from a `Drop`.
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The current time.
    fn now(&self) -> Instant;

    /// A timer firing at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;

    /// Resolves `host` to socket addresses with `port`.
    fn resolve(&self, host: String, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;

    /// Opens a TCP connection to `addr`, with `TCP_NODELAY` set.
    fn connect_tcp(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Box<dyn Io>>> + Send;

    /// Opens a Unix domain socket connection to `path`.
    fn connect_unix(&self, path: PathBuf) -> impl Future<Output = io::Result<Box<dyn Io>>> + Send;
}

/// Writes all of `bytes` to `io` and flushes: for the few places that write
/// outside a connection's loop (proxy handshakes, upgraded connections).
pub(crate) async fn write_all(io: &mut (impl Io + ?Sized), mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = std::future::poll_fn(|cx| io.poll_write_vectored(cx, &[IoSlice::new(bytes)])).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
    }
    std::future::poll_fn(|cx| io.poll_flush(cx)).await
}
