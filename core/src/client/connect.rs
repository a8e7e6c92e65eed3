//! Opening connections: TCP with happy eyeballs over every resolved address
//! (RFC 8305, the Sans-IO [`HappyEyeballs`] driven here), a Unix socket, or a
//! user's [`Connect`].

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use http::uri::{Authority, Scheme};

use super::runtime::{Io, Runtime, Sleep};
use super::trace::{DialReport, TraceEvent};
use crate::pool::{AttemptId, DialAction, HappyEyeballs};
use crate::proxy::Proxy;

/// A boxed connect future.
pub type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<Box<dyn Io>>> + Send>>;

/// Where a connection goes: the pool key of the requests it will serve.
///
/// The origin's scheme and authority (equal ignoring ASCII case), and the
/// proxy on the way with its credentials (docs/security.md G8). An `http`
/// target forwarded by an HTTP proxy is keyed by the proxy alone: one pool
/// of connections to the proxy serves every origin behind it, as in Go.
#[derive(Clone, Debug)]
pub struct Target {
    scheme: Scheme,
    authority: Authority,
    proxy: Option<Arc<Proxy>>,
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        // The same spelling first (nearly always): a memcmp, where
        // `Authority`'s own comparison folds case byte by byte (hot path).
        self.scheme == other.scheme
            && self.proxy == other.proxy
            && (self.is_forwarded()
                || self.authority.as_str() == other.authority.as_str()
                || self.authority == other.authority)
    }
}

impl Eq for Target {}

/// Hashes the lowercase authority in one write when it is already lowercase
/// (nearly always): `Authority`'s own `Hash` feeds the hasher a byte at a
/// time, which cost more than the rest of a pool checkout (hot path).
impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.scheme.hash(state);
        if let Some(proxy) = &self.proxy {
            proxy.authority().as_str().hash(state);
            if self.is_forwarded() {
                return;
            }
        }
        let authority = self.authority.as_str().as_bytes();
        if authority.iter().any(u8::is_ascii_uppercase) {
            authority.iter().for_each(|b| state.write_u8(b.to_ascii_lowercase()));
        } else {
            state.write(authority);
        }
    }
}

impl Target {
    pub(crate) fn new(scheme: Scheme, authority: Authority) -> Self {
        Self { scheme, authority, proxy: None }
    }

    pub(crate) fn with_proxy(mut self, proxy: Option<Arc<Proxy>>) -> Self {
        self.proxy = proxy;
        self
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The host, without brackets around an IPv6 literal.
    pub fn host(&self) -> &str {
        self.host_and_port().0
    }

    /// The port, or the scheme's default.
    pub fn port(&self) -> u16 {
        self.host_and_port().1
    }

    /// [`host`](Self::host) and [`port`](Self::port) from one look at the authority.
    pub(crate) fn host_and_port(&self) -> (&str, u16) {
        let (host, port) = crate::proto::split_authority(self.authority.as_str()).unwrap_or(("", None));
        let port = port.or_else(|| crate::proto::default_port(Some(self.scheme.as_str()))).unwrap_or(80);
        (host.trim_start_matches('[').trim_end_matches(']'), port)
    }

    /// The proxy the connection goes through, if any. A [`Connect`] is then
    /// asked for a connection to the proxy, and the engine opens the tunnel
    /// and the TLS session to the origin over it.
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_deref()
    }

    /// Whether requests are forwarded by an HTTP proxy (an `http` target
    /// through an `http`/`https` proxy): sent to it in absolute form over
    /// a connection to the proxy itself, no tunnel.
    pub fn is_forwarded(&self) -> bool {
        // The proxy first: most targets have none (hot path).
        self.proxy.as_ref().is_some_and(|p| p.kind().is_http()) && self.scheme == Scheme::HTTP
    }

    /// `host:port`, brackets around an IPv6 literal, the port always given:
    /// what a tunnel asks for.
    pub(crate) fn host_port(&self) -> String {
        let (host, port) = self.host_and_port();
        if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
    }

    /// The first hop when going through `proxy`: the proxy itself.
    pub(crate) fn proxy_hop(proxy: &Proxy) -> Self {
        Self::new(proxy.scheme(), proxy.authority().clone())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.proxy {
            Some(proxy) if self.is_forwarded() => write!(f, "http://* via {proxy}"),
            Some(proxy) => write!(f, "{}://{} via {proxy}", self.scheme, self.authority),
            None => write!(f, "{}://{}", self.scheme, self.authority),
        }
    }
}

/// Opens connections for a client. Implement it to add TLS, tunnels or any
/// transport; the engine pools whatever it returns per [`Target`].
pub trait Connect: Send + Sync + 'static {
    /// Opens a connection to `target`. Timeouts are applied by the caller.
    fn connect(&self, target: &Target) -> ConnectFuture;
}

/// How a client opens connections.
#[derive(Clone)]
pub(crate) enum Connector {
    Tcp,
    Unix(PathBuf),
    Custom(Arc<dyn Connect>),
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Connector::Tcp => f.write_str("Tcp"),
            Connector::Unix(path) => f.debug_tuple("Unix").field(path).finish(),
            Connector::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Connector {
    /// Whether connections come from the built-in TCP dialer (which TLS is
    /// layered on for `https`).
    pub(crate) fn is_built_in_tcp(&self) -> bool {
        matches!(self, Connector::Tcp)
    }

    /// Whether requests may go through a proxy: not over a Unix socket,
    /// which names the peer itself.
    pub(crate) fn uses_proxies(&self) -> bool {
        !matches!(self, Connector::Unix(_))
    }

    /// Opens the transport to `target`, reporting its phases to `report`.
    pub(crate) async fn connect<R: Runtime>(
        &self,
        runtime: &R,
        target: &Target,
        attempt_delay: Duration,
        report: &mut DialReport,
    ) -> io::Result<Box<dyn Io>> {
        let start = runtime.now();
        let io = match self {
            Connector::Tcp if *target.scheme() != Scheme::HTTP && !cfg!(feature = "rustls") => {
                Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "https needs the rustls feature, or a connector of your own",
                ))
            }
            Connector::Tcp => dial_tcp_reported(runtime, target, attempt_delay, report).await,
            Connector::Unix(path) => runtime.connect_unix(path.clone()).await,
            Connector::Custom(connect) => connect.connect(target).await,
        }?;
        report.connected(runtime.now().saturating_duration_since(start));
        Ok(io)
    }
}

/// Opens a TCP connection to `target` as the built-in dialer does: resolves
/// the host (an IP literal as it is), then races its addresses with happy
/// eyeballs (RFC 8305), starting the next attempt after `attempt_delay`
/// ([`HappyEyeballs::DEFAULT_ATTEMPT_DELAY`] by default) or as soon as one
/// fails. `TCP_NODELAY` is set by the runtime.
///
/// A [`Connect`] of your own calls it to wrap the built-in dial (a TLS
/// library of your choice, a recording or fault-injecting transport) with no
/// DNS or racing code of its own:
///
/// ```
/// use roundtrip_core::client::{Connect, ConnectFuture, Runtime, Target, dial_tcp};
/// use roundtrip_core::pool::HappyEyeballs;
///
/// struct Wrapped<R>(R);
///
/// impl<R: Runtime> Connect for Wrapped<R> {
///     fn connect(&self, target: &Target) -> ConnectFuture {
///         let (runtime, target) = (self.0.clone(), target.clone());
///         Box::pin(async move {
///             let io = dial_tcp(&runtime, &target, HappyEyeballs::DEFAULT_ATTEMPT_DELAY).await?;
///             // ... wrap `io` here (TLS, logging) and return the wrapper.
///             Ok(io)
///         })
///     }
/// }
/// ```
pub async fn dial_tcp<R: Runtime>(
    runtime: &R,
    target: &Target,
    attempt_delay: Duration,
) -> io::Result<Box<dyn Io>> {
    dial_tcp_reported(runtime, target, attempt_delay, &mut DialReport::default()).await
}

/// [`dial_tcp`], reporting DNS and each connect attempt to `report`.
async fn dial_tcp_reported<R: Runtime>(
    runtime: &R,
    target: &Target,
    attempt_delay: Duration,
    report: &mut DialReport,
) -> io::Result<Box<dyn Io>> {
    let (host, port) = target.host_and_port();
    let addrs = match host.parse::<IpAddr>() {
        Ok(ip) => return connect_one(runtime, SocketAddr::new(ip, port), report).await,
        Err(_) => {
            let host = host.to_owned();
            report.emit(runtime.now(), TraceEvent::DnsStart { host: host.clone() });
            let resolved = runtime.resolve(host, port).await;
            let (addrs, error) = match &resolved {
                Ok(addrs) => (addrs.clone(), None),
                Err(e) => (Vec::new(), Some(e.kind())),
            };
            report.emit(runtime.now(), TraceEvent::DnsDone { addrs, error });
            resolved?
        }
    };
    match addrs[..] {
        [addr] => connect_one(runtime, addr, report).await,
        _ => race(runtime, addrs, attempt_delay, report).await,
    }
}

/// One address, so nothing to race: what [`race`] would do with it, without
/// its queue, its attempt list and the boxed attempt (five allocations per
/// dial, a quarter of a new connection's transient memory).
async fn connect_one<R: Runtime>(
    runtime: &R,
    addr: SocketAddr,
    report: &mut DialReport,
) -> io::Result<Box<dyn Io>> {
    report.emit(runtime.now(), TraceEvent::ConnectStart { addr });
    let result = runtime.connect_tcp(addr).await;
    let error = result.as_ref().err().map(io::Error::kind);
    report.emit(runtime.now(), TraceEvent::ConnectDone { addr, error });
    result
}

/// Connects to the first address that answers, starting the next attempt
/// after `attempt_delay` or as soon as one fails (RFC 8305 §5).
async fn race<'a, R: Runtime>(
    runtime: &'a R,
    addrs: Vec<SocketAddr>,
    attempt_delay: Duration,
    report: &mut DialReport,
) -> io::Result<Box<dyn Io>> {
    type Attempt<'a> =
        (AttemptId, SocketAddr, Pin<Box<dyn Future<Output = io::Result<Box<dyn Io>>> + Send + 'a>>);
    let mut eyeballs = HappyEyeballs::new(runtime.now(), addrs, attempt_delay);
    let mut attempts: Vec<Attempt<'a>> = Vec::new();
    let mut sleep: Option<R::Sleep> = None;
    let mut last_error = None;
    poll_fn(|cx| {
        loop {
            while let Some(action) = eyeballs.poll_action() {
                match action {
                    DialAction::Connect { attempt, addr } => {
                        report.emit(runtime.now(), TraceEvent::ConnectStart { addr });
                        attempts.push((attempt, addr, Box::pin(runtime.connect_tcp(addr))));
                    }
                    DialAction::Cancel { attempt } => attempts.retain(|(id, ..)| *id != attempt),
                }
            }
            if let Some(Err(_)) = eyeballs.outcome() {
                return Poll::Ready(Err(last_error.take().unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "no address to connect to")
                })));
            }
            let now = runtime.now();
            let mut progress = false;
            let mut i = 0;
            while i < attempts.len() {
                let (id, addr, fut) = &mut attempts[i];
                match fut.as_mut().poll(cx) {
                    Poll::Ready(Ok(io)) => {
                        eyeballs.attempt_succeeded(now, *id);
                        report.emit(runtime.now(), TraceEvent::ConnectDone { addr: *addr, error: None });
                        return Poll::Ready(Ok(io));
                    }
                    Poll::Ready(Err(e)) => {
                        eyeballs.attempt_failed(now, *id);
                        report.emit(now, TraceEvent::ConnectDone { addr: *addr, error: Some(e.kind()) });
                        last_error = Some(e);
                        drop(attempts.swap_remove(i));
                        progress = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            if progress {
                continue;
            }
            let Some(deadline) = eyeballs.poll_timeout() else { return Poll::Pending };
            let timer = sleep.get_or_insert_with(|| runtime.sleep_until(deadline));
            timer.reset(deadline);
            match Pin::new(timer).poll(cx) {
                Poll::Ready(()) => eyeballs.handle_timeout(runtime.now()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, RandomState};

    use super::*;

    fn target(url: &str, proxy: Option<&str>) -> Target {
        let uri: http::Uri = url.parse().unwrap();
        let proxy = proxy.map(|p| Arc::new(Proxy::parse(p).unwrap()));
        Target::new(uri.scheme().unwrap().clone(), uri.authority().unwrap().clone()).with_proxy(proxy)
    }

    /// docs/security.md G8, docs/go-transport.md POOL-10.
    #[test]
    fn pool_key_includes_scheme_and_proxy_credentials() {
        let hasher = RandomState::new();
        let same = |a: &Target, b: &Target| {
            let equal = a == b;
            if equal {
                assert_eq!(hasher.hash_one(a), hasher.hash_one(b), "{a} and {b} are equal: same hash");
            }
            equal
        };
        let proxy = Some("http://u:p@proxy:3128");
        assert!(same(&target("http://a.test", None), &target("http://A.TEST", None)));
        assert!(!same(&target("http://a.test", None), &target("https://a.test", None)));
        assert!(!same(&target("http://a.test", None), &target("http://a.test", proxy)));
        // Forwarded: one pool per proxy, whatever the origin.
        assert!(same(&target("http://a.test", proxy), &target("http://b.test:81", proxy)));
        assert!(target("http://a.test", proxy).is_forwarded());
        // Tunneled: one pool per origin and proxy.
        assert!(!same(&target("https://a.test", proxy), &target("https://b.test", proxy)));
        assert!(!same(
            &target("http://a.test", Some("socks5://proxy")),
            &target("http://b.test", Some("socks5://proxy"))
        ));
        // Other credentials, another pool.
        assert!(!same(
            &target("http://a.test", proxy),
            &target("http://a.test", Some("http://u:q@proxy:3128"))
        ));
        assert!(!same(
            &target("https://a.test", proxy),
            &target("https://a.test", Some("http://proxy:3128"))
        ));
    }

    #[test]
    fn tunnel_target_is_host_and_port_with_brackets() {
        assert_eq!(target("https://a.test", None).host_port(), "a.test:443");
        assert_eq!(target("http://[::1]:8080", None).host_port(), "[::1]:8080");
        assert_eq!(
            target("https://a.test", Some("http://u:p@proxy")).to_string(),
            "https://a.test via http://proxy:80"
        );
    }
}
