//! Fault injection: an [`Io`] that returns short reads and writes, `Pending`
//! at random points, and an error or EOF after some calls, with seeded
//! randomness so every failure can be replayed.

use std::io::{self, IoSlice};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use roundtrip_core::client::{Connect, ConnectFuture, Io, Runtime, Target};

use crate::sync::Rng;

/// Wraps an [`Io`] and misbehaves, deterministically for a seed.
#[allow(missing_debug_implementations, reason = "the wrapped Io is not Debug")]
pub struct FaultyIo {
    inner: Box<dyn Io>,
    rng: Rng,
    calls: u64,
    /// After this many calls every operation fails (or reads EOF).
    fail_after: Option<u64>,
    eof_instead: bool,
}

impl FaultyIo {
    pub fn new(inner: Box<dyn Io>, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        // One connection in four dies after a few dozen calls.
        let fail_after = (rng.below(4) == 0).then(|| 5 + rng.below(60));
        let eof_instead = rng.below(2) == 0;
        Self { inner, rng, calls: 0, fail_after, eof_instead }
    }

    /// The fault for this call, if any: `Some(Pending)` or `Some(Ready(error))`.
    fn fault(&mut self, cx: &mut Context<'_>) -> Option<Poll<io::Result<usize>>> {
        self.calls += 1;
        if self.fail_after.is_some_and(|n| self.calls > n) {
            return Some(Poll::Ready(if self.eof_instead {
                Ok(0)
            } else {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "injected fault"))
            }));
        }
        if self.rng.below(4) == 0 {
            // Spurious Pending, with a wake so nothing hangs.
            cx.waker().wake_by_ref();
            return Some(Poll::Pending);
        }
        None
    }

    /// A short length in `1..=len`.
    fn short(&mut self, len: usize) -> usize {
        if len <= 1 || self.rng.below(2) == 0 { len } else { 1 + self.rng.below(len as u64) as usize }
    }
}

impl Io for FaultyIo {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if let Some(fault) = self.fault(cx) {
            return fault;
        }
        let n = self.short(buf.len());
        self.inner.poll_read(cx, &mut buf[..n])
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if let Some(fault) = self.fault(cx) {
            return fault
                .map(|r| r.and_then(|n| if n == 0 { Err(io::ErrorKind::BrokenPipe.into()) } else { Ok(n) }));
        }
        let Some(first) = bufs.iter().find(|b| !b.is_empty()) else {
            return self.inner.poll_write_vectored(cx, bufs);
        };
        let n = self.short(first.len());
        self.inner.poll_write_vectored(cx, &[IoSlice::new(&first[..n])])
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_flush(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_shutdown(cx)
    }
}

/// Opens TCP connections through the runtime and wraps each in a [`FaultyIo`].
#[derive(Debug)]
pub struct FaultyConnector<R> {
    seed: u64,
    next: Arc<AtomicU64>,
    _runtime: PhantomData<fn() -> R>,
}

impl<R> FaultyConnector<R> {
    pub fn new(seed: u64) -> Self {
        Self { seed, next: Arc::new(AtomicU64::new(0)), _runtime: PhantomData }
    }
}

impl<R: Runtime + Default> Connect for FaultyConnector<R> {
    fn connect(&self, target: &Target) -> ConnectFuture {
        let seed = self.seed.wrapping_mul(1_000_003).wrapping_add(self.next.fetch_add(1, Ordering::Relaxed));
        let addr: Result<SocketAddr, _> = format!("{}:{}", target.host(), target.port()).parse();
        Box::pin(async move {
            let addr = addr.map_err(io::Error::other)?;
            let io = R::default().connect_tcp(addr).await?;
            Ok(Box::new(FaultyIo::new(io, seed)) as Box<dyn Io>)
        })
    }
}
