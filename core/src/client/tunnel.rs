//! Opening a path through a proxy: the Sans-IO handshakes of
//! [`crate::proxy`] ([`ConnectTunnel`], [`Socks5`]) run over a dialed
//! connection to the proxy.

use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, SocketAddr};

use super::connect::Target;
use super::runtime::{Io, Runtime, write_all};
use crate::proto::HeadLimits;
use crate::proxy::{ConnectTunnel, Handshake, Proxy, ProxyKind, Socks5, SocksTarget};

/// Runs the handshake `proxy` needs to reach `target` over `io`, the
/// connection to the proxy, and returns it as the connection to `target`.
pub(super) async fn open<R: Runtime>(
    runtime: &R,
    mut io: Box<dyn Io>,
    target: &Target,
    proxy: &Proxy,
    limits: &HeadLimits,
) -> io::Result<Box<dyn Io>> {
    let invalid = |e| io::Error::new(io::ErrorKind::InvalidInput, e);
    match proxy.kind() {
        ProxyKind::Socks5 | ProxyKind::Socks5h => {
            let socks_target = if proxy.kind() == ProxyKind::Socks5h {
                SocksTarget::Domain(target.host().to_owned(), target.port())
            } else {
                SocksTarget::Addr(resolve(runtime, target).await?)
            };
            let mut socks = Socks5::new(socks_target, proxy.socks_credentials()).map_err(invalid)?;
            run(&mut *io, &mut socks).await?;
        }
        _ => {
            let limits = (limits.max_head_bytes, limits.max_headers);
            let mut tunnel =
                ConnectTunnel::new(&target.host_port(), proxy, limits.0, limits.1).map_err(invalid)?;
            run(&mut *io, &mut tunnel).await?;
        }
    }
    Ok(io)
}

/// `socks5://` resolves locally: the first address of the host, as curl
/// does (the proxy, not us, connects, so there is no racing to do).
async fn resolve<R: Runtime>(runtime: &R, target: &Target) -> io::Result<SocketAddr> {
    if let Ok(ip) = target.host().parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, target.port()));
    }
    let addrs = runtime.resolve(target.host().to_owned(), target.port()).await?;
    addrs.into_iter().next().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host has no address"))
}

/// Moves bytes between `io` and `handshake` until it is done.
async fn run(io: &mut dyn Io, handshake: &mut impl Handshake) -> io::Result<()> {
    let mut buf = vec![0; 4096];
    loop {
        while let Some(bytes) = handshake.poll_transmit() {
            write_all(io, &bytes).await?;
        }
        if handshake.is_done() {
            return Ok(());
        }
        let n = poll_fn(|cx| io.poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Err(handshake.handle_eof().into_io());
        }
        handshake.handle_read(&buf[..n]).map_err(|e| e.into_io())?;
    }
}
