//! TCP on async-io with the readiness bookkeeping async-io leaves to its
//! caller, so a keep-alive request costs the system calls it needs and no
//! more (docs/bench.md, syscalls per request).
//!
//! async-io's `Async::poll_read` tries the read first and, on `EAGAIN`,
//! re-arms the socket in epoll (one-shot): a read that finds nothing costs
//! two calls, and an armed socket makes the reactor thread wake when the
//! next response lands even if the task has read it already. Here a read is
//! tried only when bytes may be there (right after a write, or once the
//! reactor said so), and the socket is armed only when the task is about to
//! wait for it.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::task::{Context, Poll, ready};

use async_io::Async;
#[cfg(unix)]
use bytes::BytesMut;
use roundtrip_core::client::Io;

/// A TCP connection for the engine.
pub(crate) struct TcpIo {
    stream: Async<TcpStream>,
    /// Bytes may be waiting: try the read. Set by a write (an answer may be
    /// there already: the peer is often faster than a trip through the
    /// reactor) and by the reactor's event; cleared by a read that came
    /// back short or empty-handed.
    maybe_readable: bool,
}

impl TcpIo {
    pub(crate) async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = Async::<TcpStream>::connect(addr).await?;
        stream.get_ref().set_nodelay(true)?;
        Ok(Self { stream, maybe_readable: true })
    }
}

impl TcpIo {
    /// Runs `read` while bytes may be there, and waits for the reactor to
    /// say so when they may not: the readiness loop of both reads below.
    fn poll_reading(
        &mut self,
        cx: &mut Context<'_>,
        mut read: impl FnMut(&mut Self) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        loop {
            if self.maybe_readable
                && let Poll::Ready(result) = read(self)
            {
                return Poll::Ready(result);
            }
            ready!(self.stream.poll_readable(cx))?;
            self.maybe_readable = true;
        }
    }

    /// What one non-blocking read of at most `asked` bytes says about the
    /// socket: a short read emptied its buffer, `EAGAIN` found it empty.
    fn settle_read(&mut self, result: io::Result<usize>, asked: usize) -> Poll<io::Result<usize>> {
        match result {
            Ok(n) => {
                self.maybe_readable = n == asked && n > 0;
                Poll::Ready(Ok(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.maybe_readable = false;
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl Io for TcpIo {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_reading(cx, |io| io.try_read(buf))
    }

    /// One non-blocking read, and no arming: also what the engine's check
    /// of an idle connection costs here, one system call.
    fn try_read(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let result = self.stream.get_ref().read(buf);
        self.settle_read(result, buf.len())
    }

    /// Reads into the connection's buffer as `poll_read` reads into a slice,
    /// so a large body reaches the caller without a copy through the
    /// engine's scratch buffer (Tokio's adapter gets the same from
    /// tokio-util). rustix's `read` takes the buffer's uninitialized spare
    /// capacity; what it filled is then appended, the one `unsafe` line of
    /// this crate.
    #[cfg(unix)]
    #[allow(unsafe_code, reason = "appending the bytes read(2) wrote to a BytesMut takes set_len")]
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        let max = max.min(buf.capacity() - buf.len());
        if max == 0 {
            // A read of nothing would look like the end of the stream.
            return None;
        }
        Some(self.poll_reading(cx, |io| {
            let read = rustix::io::read(io.stream.get_ref(), &mut buf.spare_capacity_mut()[..max]);
            let result = read.map(|(filled, _)| filled.len()).map_err(io::Error::from);
            if let Ok(n) = result {
                // SAFETY: read(2) initialized the first `n` bytes of the
                // spare capacity: rustix hands them back as `filled`.
                unsafe { buf.set_len(buf.len() + n) };
            }
            io.settle_read(result, max)
        }))
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        loop {
            match self.stream.get_ref().write_vectored(bufs) {
                Ok(n) => {
                    self.maybe_readable = true;
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            ready!(self.stream.poll_writable(cx))?;
        }
    }

    fn poll_flush(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.get_ref().shutdown(Shutdown::Write))
    }
}
