//! The simulated network: a connection is a pair of in-memory byte queues.
//! The client's end is an [`Io`] that reads in short pieces, returns spurious
//! `Pending`, and writes into a queue of bounded size; the server's end belongs
//! to a simulated server task ([`super::server`]). A server may close, half
//! close, or reset its end.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::BytesMut;
use roundtrip_core::client::Io;

use super::executor::{Kind, SimRuntime, sleep};

/// The simulated hosts: `h0.sim` to `h{HOSTS-1}.sim`, at 127.0.1.1 and up.
pub(crate) const HOSTS: usize = 3;

/// The port of `https://` URLs: a connection to it speaks TLS (`tls.rs`).
pub(crate) const HTTPS_PORT: u16 = 443;

/// The index (1-based, as the address's last byte) of a simulated host name.
pub(crate) fn host_index(host: &str) -> Option<u8> {
    let n: usize = host.strip_prefix('h')?.strip_suffix(".sim")?.parse().ok()?;
    (n < HOSTS).then_some(n as u8 + 1)
}

/// The network's odds and what it has seen.
#[derive(Debug, Default)]
pub(crate) struct Network {
    /// The client's `max_conns_per_host`.
    pub(crate) max_per_host: usize,
    /// Odds in 1/1000 that a connect fails, and that it never completes.
    pub(crate) refuse: u64,
    pub(crate) hang: u64,
    /// Whether a server may stall (never answer).
    pub(crate) stalls: bool,
    /// Odds in 1/1000 that a read returns `Pending` for no reason.
    pub(crate) spurious_pending: u64,
    /// Client sockets open now, per host.
    pub(crate) open: [usize; HOSTS],
    /// Connections made, in all, and over TLS.
    pub(crate) opened: u64,
    pub(crate) opened_tls: u64,
    /// Broken rules, as found: the run fails on the first.
    pub(crate) violations: Vec<String>,
    /// Requests whose close-delimited body ended without TLS `close_notify`:
    /// none may end with a response (RFC 8446 §6.1).
    pub(crate) truncated: Vec<u64>,
}

#[derive(Default)]
struct Queues {
    /// Client to server, bounded by `up_capacity`.
    up: VecDeque<u8>,
    up_capacity: usize,
    /// Server to client, unbounded, as the server wrote it: a read stops at
    /// the end of a write as often as not, as TCP's often does.
    down: VecDeque<Vec<u8>>,
    /// The client shut its write side, or dropped its socket.
    client_wrote_eof: bool,
    client_gone: bool,
    /// The server closed its socket (reads see EOF, writes vanish), or reset it.
    server_closed: bool,
    reset: bool,
    client_reader: Option<Waker>,
    client_writer: Option<Waker>,
    server_reader: Option<Waker>,
}

/// One simulated connection.
pub(crate) struct Pipe(Mutex<Queues>);

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Opens a connection to `addr` after a virtual delay, or fails or hangs as
/// the network's odds say; starts the host's server on the other end.
pub(crate) async fn connect(runtime: SimRuntime, addr: SocketAddr) -> io::Result<Box<dyn Io>> {
    let shared = &runtime.shared;
    let host = match addr.ip() {
        std::net::IpAddr::V4(ip) => usize::from(ip.octets()[3]) - 1,
        std::net::IpAddr::V6(_) => unreachable!("the simulation resolves to IPv4"),
    };
    let (refuse, hang) = {
        let state = shared.lock();
        (state.net.refuse, state.net.hang)
    };
    sleep(&runtime, Duration::from_micros(shared.below(2_000))).await;
    if shared.chance(hang) {
        sleep(&runtime, Duration::from_secs(3600)).await;
    }
    if shared.chance(refuse) {
        return Err(io::ErrorKind::ConnectionRefused.into());
    }
    let capacity = [16, 512, 4096, 65536][shared.below(4) as usize];
    let pipe = Arc::new(Pipe(Mutex::new(Queues { up_capacity: capacity, ..Queues::default() })));
    {
        let mut state = shared.lock();
        let net = &mut state.net;
        net.open[host] += 1;
        net.opened += 1;
        net.opened_tls += u64::from(addr.port() == HTTPS_PORT);
        if net.open[host] > net.max_per_host {
            let open = net.open[host];
            let max = net.max_per_host;
            net.violations
                .push(format!("h{host}.sim has {open} connections open, max_conns_per_host is {max}"));
        }
    }
    let server = ServerEnd {
        pipe: pipe.clone(),
        #[cfg(not(fuzzing))]
        tls: (addr.port() == HTTPS_PORT).then(|| Mutex::new(super::tls::Session::new(runtime.clone(), host))),
    };
    runtime.spawn_kind(Kind::Server, Box::pin(super::server::serve(runtime.clone(), server, host)));
    let in_place = shared.chance(500);
    Ok(Box::new(ClientIo { pipe, runtime: runtime.clone(), host, in_place }))
}

/// The client's end of a connection.
struct ClientIo {
    pipe: Arc<Pipe>,
    runtime: SimRuntime,
    host: usize,
    /// Reads the rest of a large body into the engine's buffer
    /// (`Io::poll_read_buf`), as Tokio's and smol's TCP do; otherwise
    /// through a slice, as TLS and custom transports do. Half the
    /// connections each way, so the simulation takes both paths.
    in_place: bool,
}

impl ClientIo {
    /// Reads what is queued, in a piece of random size; `None` when nothing is.
    fn read_now(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        let piece = 1 + self.runtime.shared.below(buf.len().max(1) as u64) as usize;
        let full = self.runtime.shared.chance(500);
        let coalesce = self.runtime.shared.chance(500);
        let mut queues = self.pipe.lock();
        if queues.reset {
            return Some(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if queues.down.is_empty() {
            return queues.server_closed.then_some(Ok(0));
        }
        let mut want = if full { buf.len() } else { piece }.min(buf.len());
        let mut n = 0;
        while want > 0 {
            let Some(segment) = queues.down.front_mut() else { break };
            let take = want.min(segment.len());
            buf[n..n + take].copy_from_slice(&segment[..take]);
            segment.drain(..take);
            n += take;
            want -= take;
            if segment.is_empty() {
                queues.down.pop_front();
                if !coalesce {
                    break;
                }
            }
        }
        Some(Ok(n))
    }
}

impl Io for ClientIo {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let spurious = self.runtime.shared.lock().net.spurious_pending;
        if self.runtime.shared.chance(spurious) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let Some(read) = self.read_now(buf) {
            return Poll::Ready(read);
        }
        self.pipe.lock().client_reader = Some(cx.waker().clone());
        // A server step between the check and the registration is impossible:
        // one thread, and the server runs only when this task yields.
        Poll::Pending
    }

    fn try_read(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.read_now(buf).map_or(Poll::Pending, Poll::Ready)
    }

    /// As `poll_read`, into `buf`'s end: zeroed room for `max` bytes, cut
    /// back to what was read. `None` for no room, where `Ok(0)` would read
    /// as the end of the stream (the engine never asks for none).
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        if !self.in_place || max == 0 {
            return None;
        }
        let start = buf.len();
        buf.resize(start + max, 0);
        let read = self.poll_read(cx, &mut buf[start..]);
        buf.truncate(start + if let Poll::Ready(Ok(n)) = read { n } else { 0 });
        Some(read)
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|buf| buf.len()).sum();
        let piece = 1 + self.runtime.shared.below(total.max(1) as u64) as usize;
        let full = self.runtime.shared.chance(500);
        let mut queues = self.pipe.lock();
        if queues.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if queues.client_wrote_eof {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if queues.server_closed {
            // As TCP: a write to a closed peer is taken, and lost.
            return Poll::Ready(Ok(total));
        }
        let room = queues.up_capacity.saturating_sub(queues.up.len());
        if room == 0 && total > 0 {
            queues.client_writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = if full { total } else { piece }.min(room).min(total);
        let mut left = n;
        for buf in bufs {
            let take = left.min(buf.len());
            queues.up.extend(&buf[..take]);
            left -= take;
            if left == 0 {
                break;
            }
        }
        let reader = queues.server_reader.take();
        drop(queues);
        wake(reader);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut queues = self.pipe.lock();
        queues.client_wrote_eof = true;
        let reader = queues.server_reader.take();
        drop(queues);
        wake(reader);
        Poll::Ready(Ok(()))
    }
}

impl Drop for ClientIo {
    fn drop(&mut self) {
        let mut queues = self.pipe.lock();
        queues.client_wrote_eof = true;
        queues.client_gone = true;
        let reader = queues.server_reader.take();
        drop(queues);
        wake(reader);
        self.runtime.shared.lock().net.open[self.host] -= 1;
    }
}

/// The server's end of a connection: plain bytes, or TLS on an https host.
pub(crate) struct ServerEnd {
    pipe: Arc<Pipe>,
    #[cfg(not(fuzzing))]
    tls: Option<Mutex<super::tls::Session>>,
}

impl ServerEnd {
    /// Appends what the client sent to `buf` (the plaintext, over TLS);
    /// `false` at the client's EOF (or `close_notify`), and after records
    /// that break TLS, which are a violation.
    pub(crate) async fn read(&self, buf: &mut Vec<u8>) -> bool {
        std::future::poll_fn(|cx| {
            loop {
                let mut queues = self.pipe.lock();
                if !queues.up.is_empty() {
                    let bytes: Vec<u8> = queues.up.drain(..).collect();
                    let writer = queues.client_writer.take();
                    drop(queues);
                    wake(writer);
                    match self.receive(bytes, buf) {
                        Ok(true) => return Poll::Ready(true),
                        Ok(false) => continue,
                        Err(()) => return Poll::Ready(false),
                    }
                }
                if queues.client_wrote_eof || queues.reset || queues.server_closed {
                    return Poll::Ready(false);
                }
                queues.server_reader = Some(cx.waker().clone());
                return Poll::Pending;
            }
        })
        .await
    }

    /// Takes bytes from the client: whether they gave `buf` anything.
    /// `Err` at the end of the session (a `close_notify`, or a violation).
    fn receive(&self, bytes: Vec<u8>, buf: &mut Vec<u8>) -> Result<bool, ()> {
        #[cfg(not(fuzzing))]
        if let Some(tls) = &self.tls {
            let before = buf.len();
            let received =
                tls.lock().unwrap_or_else(PoisonError::into_inner).receive(&bytes, buf).ok_or(())?;
            self.send(received.reply);
            if buf.len() > before {
                return Ok(true);
            }
            return if received.closed { Err(()) } else { Ok(false) };
        }
        buf.extend(bytes);
        Ok(true)
    }

    /// Queues `bytes` for the client, whole (sealed, over TLS).
    pub(crate) fn write(&self, bytes: &[u8]) {
        #[cfg(not(fuzzing))]
        if let Some(tls) = &self.tls {
            return self.send(tls.lock().unwrap_or_else(PoisonError::into_inner).seal(bytes));
        }
        self.send(bytes.to_vec());
    }

    fn send(&self, bytes: Vec<u8>) {
        let mut queues = self.pipe.lock();
        if queues.server_closed || queues.reset || queues.client_gone {
            return;
        }
        if !bytes.is_empty() {
            queues.down.push_back(bytes);
        }
        let reader = queues.client_reader.take();
        drop(queues);
        wake(reader);
    }

    /// Whether this connection's server closes without `close_notify`: TLS,
    /// with the seed's choice to drop it.
    pub(crate) fn drops_notify(&self) -> bool {
        #[cfg(not(fuzzing))]
        if let Some(tls) = &self.tls {
            return tls.lock().unwrap_or_else(PoisonError::into_inner).drops_notify;
        }
        false
    }

    /// Closes the socket: the client reads the rest, then EOF. Over TLS,
    /// after a `close_notify`, unless this connection drops it.
    pub(crate) fn close(&self) {
        #[cfg(not(fuzzing))]
        if let Some(tls) = &self.tls {
            let mut tls = tls.lock().unwrap_or_else(PoisonError::into_inner);
            if !tls.drops_notify {
                let alert = tls.close_notify();
                drop(tls);
                self.send(alert);
            }
        }
        self.finish(false);
    }

    /// Resets the connection: the client's next read or write fails, and
    /// what was queued for it is lost.
    pub(crate) fn reset(&self) {
        self.finish(true);
    }

    fn finish(&self, reset: bool) {
        let mut queues = self.pipe.lock();
        queues.server_closed = true;
        if reset {
            queues.reset = true;
            queues.down.clear();
        }
        let reader = queues.client_reader.take();
        let writer = queues.client_writer.take();
        drop(queues);
        wake(reader);
        wake(writer);
    }
}

impl Drop for ServerEnd {
    fn drop(&mut self) {
        self.close();
    }
}
