//! One connection in the engine: a socket and its [`Connection`], and the loop
//! step that moves bytes between them. The request future and the response
//! body both drive a connection with [`Conn::drive`]; no task sits between
//! them and the socket.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};

#[cfg(feature = "rustls")]
use super::tls::TlsInfo;

use super::runtime::{Io, Runtime, Sleep};
use super::trace::DialTimes;
use super::upgrade::Upgraded;
use crate::conn::{Connection, Direction};

/// Bytes read per `read` call. Reads land in a per-thread scratch buffer and are
/// copied into the connection's read buffer, so an idle connection holds no
/// read buffer of its own.
const READ_CHUNK: usize = 64 * 1024;

/// A body rest worth reading in place (no copy): below it, the scratch
/// buffer's copy costs less than growing the connection's buffer.
const IN_PLACE_MIN: usize = 16 * 1024;

/// Slices handed to one `write_vectored`: a head, and chunk framing around
/// body pieces, rarely needs more.
const MAX_SLICES: usize = 32;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// What one poll of a task has already asked of its connection's socket.
/// Once a read returned `Pending`, the task is registered for readability
/// until it is polled again; reading once more in the same poll (after the
/// events of a write, say) would only repeat that: a readiness check and a
/// waker registration on Tokio, an `EAGAIN` read on smol. Made fresh for
/// each poll, never kept across one.
#[derive(Default)]
pub(crate) struct InPoll {
    read_pending: bool,
}

/// A freshly opened connection, and what its dial learned for its responses.
pub(crate) struct Dialed {
    pub(crate) io: Box<dyn Io>,
    /// What the TLS handshake with the origin negotiated.
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<TlsInfo>>,
    pub(crate) info: ConnInfo,
}

impl Dialed {
    /// A connection with no TLS to the origin.
    pub(crate) fn plain(io: Box<dyn Io>) -> Self {
        Self {
            io,
            #[cfg(feature = "rustls")]
            tls: None,
            info: ConnInfo { dial_times: DialTimes::default(), peer: None, span: None },
        }
    }
}

/// What a connection's dial learned, for its requests' reports. Boxed in
/// [`Conn`], which moves with every request while this is read rarely.
pub(crate) struct ConnInfo {
    /// How long the dial's phases took, for the first response's `Timings`.
    pub(crate) dial_times: DialTimes,
    /// The address connected to, over TCP.
    pub(crate) peer: Option<SocketAddr>,
    /// The connection's `tracing` span, if a subscriber wanted it when the
    /// connection was opened (boxed: 8 bytes of every idle connection, not 40).
    pub(crate) span: Option<Box<tracing::Span>>,
}

/// A socket and the protocol state of the connection over it.
///
/// The protocol state is boxed once per connection, so handing a connection
/// between the pool, a request and its body moves a few words, not the state.
pub(crate) struct Conn {
    io: Box<dyn Io>,
    pub(crate) proto: Box<Connection>,
    flush_pending: bool,
    /// The transport cannot read into the connection's buffer
    /// ([`Io::poll_read_buf`] said `None`): every read goes through the scratch buffer.
    copies_reads: bool,
    /// The transport's last error, kept whole: the connection state machine
    /// takes only its kind, and a TLS alert or a bad record mid-body should
    /// reach the caller as what it is.
    io_error: Option<io::Error>,
    /// Given to each response, as Go's `Response.TLS`.
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<TlsInfo>>,
    pub(crate) info: Box<ConnInfo>,
}

impl Conn {
    pub(crate) fn new(dialed: Dialed, proto: Connection) -> Self {
        Self {
            io: dialed.io,
            proto: Box::new(proto),
            flush_pending: false,
            copies_reads: false,
            io_error: None,
            #[cfg(feature = "rustls")]
            tls: dialed.tls,
            info: Box::new(dialed.info),
        }
    }

    /// The connection's `tracing` span, if it has one.
    pub(crate) fn span(&self) -> Option<&tracing::Span> {
        self.info.span.as_deref()
    }

    /// One pass: write what is queued, read if the connection wants bytes
    /// (and no read of this poll already returned `Pending`), fire due
    /// timers. Returns whether anything changed. When it returns false, the
    /// task is registered for every event that could change it.
    pub(crate) fn drive<R: Runtime>(
        &mut self,
        cx: &mut Context<'_>,
        now: Instant,
        runtime: &R,
        timer: &mut Timer<R>,
        in_poll: &mut InPoll,
    ) -> bool {
        let mut progress = self.poll_write(cx, now);
        if !in_poll.read_pending {
            match self.poll_read(cx, now) {
                Poll::Ready(changed) => progress |= changed,
                Poll::Pending => in_poll.read_pending = true,
            }
        }
        if timer.poll(cx, runtime, self.proto.poll_timeout()).is_ready() {
            self.proto.handle_timeout(runtime.now());
            progress = true;
        }
        progress
    }

    /// Hot path: one `writev` per call in the common case.
    fn poll_write(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut progress = false;
        while let Some(mut tx) = self.proto.poll_transmit(now) {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let n = tx.chunks_vectored(&mut slices);
            match self.io.poll_write_vectored(cx, &slices[..n]) {
                Poll::Ready(Ok(0)) => {
                    drop(tx);
                    self.proto.handle_io_error(now, Direction::Write, io::ErrorKind::WriteZero);
                    return true;
                }
                Poll::Ready(Ok(written)) => {
                    tx.advance(written);
                    self.flush_pending = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    drop(tx);
                    self.proto.handle_io_error(now, Direction::Write, e.kind());
                    self.io_error = Some(e);
                    return true;
                }
                Poll::Pending => return progress,
            }
        }
        if self.flush_pending {
            match self.io.poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flush_pending = false,
                Poll::Ready(Err(e)) => {
                    self.flush_pending = false;
                    self.proto.handle_io_error(now, Direction::Write, e.kind());
                    self.io_error = Some(e);
                    return true;
                }
                Poll::Pending => {}
            }
        }
        progress
    }

    /// Hot path: a read only when the connection wants bytes; the runtime's
    /// readiness tracking keeps it from costing a syscall that would block.
    /// An idle connection is not read here: no task waits on it, and the
    /// check before its next use ([`probe`](Self::probe)) sees what came
    /// meanwhile (a runtime without readiness tracking would pay a read and
    /// an epoll re-arm per request for nothing).
    /// `Ready(changed)` unless the transport's read returned `Pending`.
    fn poll_read(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<bool> {
        if self.proto.is_reusable() {
            return Poll::Ready(false);
        }
        self.read(cx, now)
    }

    /// One read into the connection, if it wants bytes: the rest of a large
    /// body straight into the connection's buffer when the transport can,
    /// anything else through the thread's scratch buffer.
    fn read(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<bool> {
        if !self.proto.wants_read() {
            return Poll::Ready(false);
        }
        let hint = self.proto.read_in_place_hint();
        if hint >= IN_PLACE_MIN && !self.copies_reads {
            let buf = self.proto.receive_buffer();
            // Fill what is spare before growing: a chunk the caller still
            // holds pins the memory before it, so growing on every read would
            // pin a fresh buffer per chunk. At most IN_PLACE_MIN of each
            // buffer goes unused this way.
            if buf.capacity() - buf.len() < IN_PLACE_MIN {
                buf.reserve(hint);
            }
            let max = hint.min(buf.capacity() - buf.len());
            if let Some(result) = self.io.poll_read_buf(cx, buf, max) {
                return match result {
                    Poll::Ready(Ok(0)) => {
                        self.proto.handle_eof(now);
                        Poll::Ready(true)
                    }
                    Poll::Ready(Ok(_)) => {
                        self.proto.handle_read_in_place(now);
                        Poll::Ready(true)
                    }
                    other => self.absorb(now, other, &[]),
                };
            }
            // This transport reads through a slice: not asked again.
            self.copies_reads = true;
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let result = self.io.poll_read(cx, &mut scratch);
            self.absorb(now, result, &scratch)
        })
    }

    /// Hands a read's outcome to the connection: `Ready(true)`, or
    /// `Pending` as the read returned it.
    fn absorb(&mut self, now: Instant, result: Poll<io::Result<usize>>, scratch: &[u8]) -> Poll<bool> {
        match result {
            Poll::Ready(Ok(0)) => self.proto.handle_eof(now),
            Poll::Ready(Ok(n)) => self.proto.handle_read(now, &scratch[..n]),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => {
                self.proto.handle_io_error(now, Direction::Read, e.kind());
                self.io_error = Some(e);
            }
            Poll::Pending => return Poll::Pending,
        }
        Poll::Ready(true)
    }

    /// Checks a parked connection before reuse with one read that must not
    /// block ([`Io::try_read`]): EOF, an error or unsolicited bytes make it
    /// unusable. Costs no syscall when the runtime knows the socket has
    /// nothing to read.
    pub(crate) fn probe(&mut self, now: Instant) -> bool {
        if self.proto.wants_read() {
            SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let result = self.io.try_read(&mut scratch);
                let _ = self.absorb(now, result, &scratch);
            });
        }
        self.proto.is_reusable()
    }

    /// The transport error behind a failed exchange, taken once.
    pub(crate) fn take_io_error(&mut self) -> Option<io::Error> {
        self.io_error.take()
    }

    /// A copy of the bytes queued for the socket and not yet written, for a
    /// trace; nothing is consumed.
    pub(crate) fn queued(&mut self, now: Instant) -> Bytes {
        let Some(tx) = self.proto.poll_transmit(now) else { return Bytes::new() };
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let n = tx.chunks_vectored(&mut slices);
        let mut queued = BytesMut::with_capacity(tx.remaining());
        slices[..n].iter().for_each(|slice| queued.extend_from_slice(slice));
        queued.freeze()
    }

    /// After a protocol switch: the stream, and the bytes read past the
    /// final head, which belong to the new protocol.
    pub(crate) fn into_upgraded(mut self) -> Upgraded {
        let read_ahead = self.proto.take_remaining();
        Upgraded::new(self.io, read_ahead)
    }

    /// Frees what an idle connection does not need.
    pub(crate) fn park(&mut self) {
        while self.proto.poll_event().is_some() {}
        self.proto.shrink_buffers();
    }
}

/// A lazily created timer for the deadlines a future waits on.
pub(crate) struct Timer<R: Runtime> {
    sleep: Option<R::Sleep>,
    armed: Option<Instant>,
}

impl<R: Runtime> Default for Timer<R> {
    fn default() -> Self {
        Self { sleep: None, armed: None }
    }
}

impl<R: Runtime> Timer<R> {
    /// Ready once `deadline` has passed; `None` never fires (and allocates nothing).
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, runtime: &R, deadline: Option<Instant>) -> Poll<()> {
        let Some(deadline) = deadline else {
            self.armed = None;
            return Poll::Pending;
        };
        let sleep = self.sleep.get_or_insert_with(|| runtime.sleep_until(deadline));
        if self.armed != Some(deadline) {
            sleep.reset(deadline);
            self.armed = Some(deadline);
        }
        let ready = Pin::new(sleep).poll(cx);
        if ready.is_ready() {
            self.armed = None;
        }
        ready
    }
}
