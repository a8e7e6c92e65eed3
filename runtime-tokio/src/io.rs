//! `Io` for any Tokio stream, and Tokio's I/O traits for any `Io` (an
//! upgraded connection, say).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, BytesMut};
use roundtrip_core::client::Io;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A Tokio stream (`TcpStream`, `UnixStream`, a TLS stream ...) as an [`Io`],
/// for custom connectors; and the other way, an [`Io`] as a Tokio stream,
/// for crates that speak another protocol over an
/// [`Upgraded`](roundtrip_core::client::Upgraded) connection.
#[derive(Debug)]
pub struct TokioIo<T>(pub T);

impl<T> Io for TokioIo<T>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        Pin::new(&mut self.0).poll_read(cx, &mut buf).map_ok(|()| buf.filled().len())
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    /// Tokio reads into uninitialised spare capacity (tokio-util's
    /// `poll_read_buf`): a large body is never copied on its way in.
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        let mut limited = buf.limit(max);
        Some(tokio_util::io::poll_read_buf(Pin::new(&mut self.0), cx, &mut limited))
    }
}

/// The client's own TCP connections: a [`TokioIo`] but for the check of an
/// idle connection before reuse, which asks Tokio's readiness first
/// (`TcpStream::try_read`): no system call when nothing was signalled, and
/// no waker swapped in and out (the default polls with a no-op one).
#[derive(Debug)]
pub(crate) struct Tcp(pub(crate) TokioIo<tokio::net::TcpStream>);

impl Io for Tcp {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Io::poll_read(&mut self.0, cx, buf)
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Io::poll_write_vectored(&mut self.0, cx, bufs)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Io::poll_flush(&mut self.0, cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Io::poll_shutdown(&mut self.0, cx)
    }

    fn try_read(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self.0.0.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
            result => Poll::Ready(result),
        }
    }

    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        Io::poll_read_buf(&mut self.0, cx, buf, max)
    }
}

impl<T: Io + Unpin> AsyncRead for TokioIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = std::task::ready!(self.get_mut().0.poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<T: Io + Unpin> AsyncWrite for TokioIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_shutdown(cx)
    }
}
