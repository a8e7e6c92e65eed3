//! `Runtime` on async-io: its reactor and timers (shared with async-std),
//! `async-net` sockets, and a spawner of the user's choice.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use roundtrip_core::client::{Io, Runtime, Sleep};

use crate::io::SmolIo;

/// Where the client spawns its background tasks (dials, drains, the reaper).
pub trait Spawn: Clone + Default + Send + Sync + 'static {
    /// Runs `future` to completion in the background.
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;
}

/// Spawns on smol's global executor (`smol::spawn`).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalExecutor;

impl Spawn for GlobalExecutor {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        smol::spawn(future).detach();
    }
}

/// The async-io runtime, spawning with `S`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol<S = GlobalExecutor>(pub S);

/// An async-io timer.
#[derive(Debug)]
pub struct SmolSleep(async_io::Timer);

impl Future for SmolSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

impl Sleep for SmolSleep {
    fn reset(&mut self, deadline: Instant) {
        self.0.set_at(deadline);
    }
}

impl<S: Spawn> Runtime for Smol<S> {
    type Sleep = SmolSleep;

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future);
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> SmolSleep {
        SmolSleep(async_io::Timer::at(deadline))
    }

    async fn resolve(&self, host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        async_net::resolve((host.as_str(), port)).await
    }

    async fn connect_tcp(&self, addr: SocketAddr) -> io::Result<Box<dyn Io>> {
        let stream = async_net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Box::new(SmolIo(stream)))
    }

    async fn connect_unix(&self, path: PathBuf) -> io::Result<Box<dyn Io>> {
        #[cfg(unix)]
        {
            Ok(Box::new(SmolIo(async_net::unix::UnixStream::connect(path).await?)))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            Err(io::Error::new(io::ErrorKind::Unsupported, "Unix sockets need a Unix system"))
        }
    }
}
