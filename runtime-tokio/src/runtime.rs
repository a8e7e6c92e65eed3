//! `Runtime` on Tokio: `tokio::spawn`, `tokio::time` (so `time::pause()` tests
//! control every timeout), `tokio::net` sockets.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use roundtrip_core::client::{Io, Runtime, Sleep};

use crate::io::{Tcp, TokioIo};

/// The Tokio runtime the client runs on: the one current when it spawns.
/// Create clients inside a Tokio runtime (current-thread or multi-thread).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

/// A Tokio timer, boxed because `tokio::time::Sleep` is not `Unpin`.
#[derive(Debug)]
pub struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Sleep for TokioSleep {
    fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }
}

impl Runtime for Tokio {
    type Sleep = TokioSleep;

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Spawning can be reached from a `Drop` (a body dropped on a plain
        // thread, or after its runtime shut down), where `tokio::spawn` would
        // panic. Without a runtime the task is dropped; its cleanup closes the
        // connection and frees its pool slot, and a request that needed it (a
        // dial) fails with a connect error that says no runtime ran it.
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(future)),
            Err(error) => tracing::warn!(%error, "no Tokio runtime to spawn on; dropping the task"),
        }
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(&self, deadline: Instant) -> TokioSleep {
        TokioSleep(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    async fn resolve(&self, host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }

    async fn connect_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn Io>> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Box::new(Tcp(TokioIo(stream))))
    }

    async fn connect_unix(&self, path: PathBuf) -> io::Result<Box<dyn Io>> {
        #[cfg(unix)]
        {
            Ok(Box::new(TokioIo(tokio::net::UnixStream::connect(path).await?)))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            Err(io::Error::new(io::ErrorKind::Unsupported, "Unix sockets need a Unix system"))
        }
    }
}
