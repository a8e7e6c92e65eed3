//! Proxies, Sans-IO: which proxy a request goes through ([`Proxies`], from
//! the client's settings or the environment with curl's `NO_PROXY` rules),
//! and the handshakes that open a path through one, as byte-in, byte-out
//! state machines: an HTTP `CONNECT` tunnel ([`ConnectTunnel`]) and SOCKS5
//! ([`Socks5`]). The client engine runs them over whatever transport it
//! dialed; a custom driver can run them over anything.
//!
//! Routes, as Go's Transport takes them (docs/go-transport.md PROXY-1):
//! - `http://` targets through an `http`/`https` proxy are forwarded: the
//!   request goes to the proxy in absolute form, and one pool of connections
//!   serves every origin behind that proxy.
//! - `https://` targets through an `http`/`https` proxy go through a
//!   `CONNECT` tunnel, then TLS to the origin.
//! - Every target through a `socks5`/`socks5h` proxy is tunneled.

mod env;
mod error;
mod socks;
mod tunnel;

use std::fmt;
use std::str::FromStr;

use http::HeaderMap;
use http::header::HeaderValue;
use http::uri::{Authority, Scheme, Uri};

#[cfg(feature = "client")]
pub(crate) use env::is_domain_or_subdomain;
pub use env::{NoProxy, Proxies};
pub use error::{InvalidProxy, ProxyError, ProxyErrorKind};
pub use socks::{Socks5, SocksTarget};
pub use tunnel::ConnectTunnel;

/// A proxy handshake as a state machine: the driver writes what
/// [`poll_transmit`](Self::poll_transmit) hands out, feeds what it reads to
/// [`handle_read`](Self::handle_read), and stops when
/// [`is_done`](Self::is_done). The transport then carries the tunneled
/// connection. Both handshakes refuse bytes past their end: nothing the
/// origin could have said yet may hide behind a proxy's answer.
///
/// ```
/// use roundtrip_core::proxy::{ConnectTunnel, Handshake, Proxy};
///
/// let proxy = Proxy::parse("http://proxy.example:3128")?;
/// let mut tunnel = ConnectTunnel::new("example.com:443", &proxy, 64 * 1024, 100)?;
/// let request = tunnel.poll_transmit().unwrap();
/// assert!(request.starts_with(b"CONNECT example.com:443 HTTP/1.1\r\n"));
/// tunnel.handle_read(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
/// assert!(tunnel.is_done());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Handshake {
    /// The next bytes to send, if any.
    fn poll_transmit(&mut self) -> Option<Vec<u8>>;
    /// Takes bytes read from the proxy.
    fn handle_read(&mut self, input: &[u8]) -> Result<(), ProxyError>;
    /// Whether the path is open.
    fn is_done(&self) -> bool;
    /// The proxy closed the connection before the handshake finished.
    fn handle_eof(&mut self) -> ProxyError;
}

/// What a proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyKind {
    /// An HTTP proxy over plain TCP (`http://`).
    Http,
    /// An HTTP proxy over TLS (`https://`): TLS to the proxy, then as `Http`.
    Https,
    /// SOCKS5 with the host resolved locally (`socks5://`).
    Socks5,
    /// SOCKS5 with the host name sent to the proxy to resolve (`socks5h://`).
    Socks5h,
}

impl ProxyKind {
    /// Whether this proxy speaks HTTP (forwarding and `CONNECT`).
    pub fn is_http(self) -> bool {
        matches!(self, ProxyKind::Http | ProxyKind::Https)
    }

    fn default_port(self) -> u16 {
        match self {
            ProxyKind::Http => 80,
            ProxyKind::Https => 443,
            ProxyKind::Socks5 | ProxyKind::Socks5h => 1080,
        }
    }
}

/// One proxy: its kind, address and credentials, parsed from a URL such as
/// `http://user:pass@proxy.example:3128` or `socks5h://127.0.0.1:1080`. A URL
/// without a scheme is an HTTP proxy, as in Go and curl.
///
/// Credentials are percent-decoded. For an HTTP proxy they become a Basic
/// `Proxy-Authorization` sent only to the proxy (on forwarded requests and on
/// `CONNECT`), never to an origin; for SOCKS5 they are the username/password
/// of RFC 1929. Two proxies are equal only if their credentials are too, so
/// connections opened with one set are never handed to requests of another.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    /// `host:port`, the port always explicit, no userinfo.
    authority: Authority,
    credentials: Option<Credentials>,
    connect_headers: HeaderMap,
}

#[derive(Clone, PartialEq, Eq)]
struct Credentials {
    username: String,
    password: String,
    /// `Basic base64(username:password)`, marked sensitive.
    basic: HeaderValue,
}

impl Proxy {
    /// Parses a proxy URL: `http`, `https`, `socks5` or `socks5h`, with
    /// optional percent-encoded `user:password@`, a host and an optional
    /// port (80, 443 or 1080 by default). A path, query or fragment is
    /// refused rather than ignored: it would mean the URL is not what its
    /// writer thinks.
    pub fn parse(url: &str) -> Result<Self, InvalidProxy> {
        let url = url.trim();
        let with_scheme;
        let url = if url.contains("://") {
            url
        } else {
            with_scheme = format!("http://{url}");
            &with_scheme
        };
        let uri = Uri::from_str(url).map_err(|_| InvalidProxy::new("not a URL"))?;
        let kind = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => ProxyKind::Http,
            Some("https") => ProxyKind::Https,
            Some("socks5") => ProxyKind::Socks5,
            Some("socks5h") => ProxyKind::Socks5h,
            _ => return Err(InvalidProxy::new("the scheme must be http, https, socks5 or socks5h")),
        };
        if uri.path_and_query().is_some_and(|p| !matches!(p.as_str(), "" | "/")) {
            return Err(InvalidProxy::new("a proxy URL has no path or query"));
        }
        let authority = uri.authority().ok_or_else(|| InvalidProxy::new("no host"))?.as_str();
        let (userinfo, host_port) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = crate::proto::split_authority(host_port)
            .ok_or_else(|| InvalidProxy::new("not a valid host and port"))?;
        if host.is_empty() || host == "[]" {
            return Err(InvalidProxy::new("no host"));
        }
        let port = port.unwrap_or_else(|| kind.default_port());
        let authority = Authority::from_str(&format!("{host}:{port}"))
            .map_err(|_| InvalidProxy::new("not a valid host and port"))?;
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                Some(Credentials::new(percent_decode(user)?, percent_decode(pass)?, kind)?)
            }
        };
        Ok(Self { kind, authority, credentials, connect_headers: HeaderMap::new() })
    }

    /// Sets the username and password (not percent-encoded), replacing any
    /// from the URL.
    pub fn with_credentials(mut self, username: &str, password: &str) -> Result<Self, InvalidProxy> {
        self.credentials = Some(Credentials::new(username.to_owned(), password.to_owned(), self.kind)?);
        Ok(self)
    }

    /// Extra fields sent on every `CONNECT` to this proxy (Go's
    /// `ProxyConnectHeader`), such as a custom authentication scheme. They
    /// are sent only to the proxy. A `Proxy-Authorization` here replaces the
    /// Basic one made from the credentials.
    pub fn with_connect_headers(mut self, headers: HeaderMap) -> Self {
        self.connect_headers = headers;
        self
    }

    /// What the proxy speaks.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's `host:port`, the port always explicit.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The proxy's host, without brackets around an IPv6 literal.
    pub fn host(&self) -> &str {
        self.authority.host().trim_start_matches('[').trim_end_matches(']')
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.authority.port_u16().unwrap_or_else(|| self.kind.default_port())
    }

    /// The scheme of the first hop: `https` for an HTTPS proxy, else `http`.
    pub fn scheme(&self) -> Scheme {
        if self.kind == ProxyKind::Https { Scheme::HTTPS } else { Scheme::HTTP }
    }

    /// The username, if the proxy has credentials.
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.username.as_str())
    }

    /// The Basic `Proxy-Authorization` value for an HTTP proxy with
    /// credentials (marked sensitive, so it is never logged or compressed).
    pub fn basic_auth(&self) -> Option<&HeaderValue> {
        self.credentials.as_ref().map(|c| &c.basic)
    }

    /// The extra `CONNECT` fields.
    pub fn connect_headers(&self) -> &HeaderMap {
        &self.connect_headers
    }

    #[cfg(feature = "client")]
    pub(crate) fn socks_credentials(&self) -> Option<(&str, &str)> {
        self.credentials.as_ref().map(|c| (c.username.as_str(), c.password.as_str()))
    }
}

impl FromStr for Proxy {
    type Err = InvalidProxy;

    fn from_str(url: &str) -> Result<Self, InvalidProxy> {
        Self::parse(url)
    }
}

/// Never shows the password.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("authority", &self.authority)
            .field("username", &self.username())
            .field("connect_headers", &self.connect_headers.len())
            .finish()
    }
}

/// The URL without credentials.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Https => "https",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        };
        write!(f, "{scheme}://{}", self.authority)
    }
}

impl Credentials {
    fn new(username: String, password: String, kind: ProxyKind) -> Result<Self, InvalidProxy> {
        // RFC 1929 §2: one length byte each.
        if !kind.is_http() && (username.is_empty() || username.len() > 255 || password.len() > 255) {
            return Err(InvalidProxy::new(
                "SOCKS5 credentials are 1 to 255 bytes of username, up to 255 of password",
            ));
        }
        let mut raw = Vec::with_capacity(username.len() + 1 + password.len());
        raw.extend_from_slice(username.as_bytes());
        raw.push(b':');
        raw.extend_from_slice(password.as_bytes());
        let mut basic = HeaderValue::try_from(format!("Basic {}", base64(&raw)))
            .map_err(|_| InvalidProxy::new("credentials too long"))?;
        basic.set_sensitive(true);
        Ok(Self { username, password, basic })
    }
}

/// Decodes `%XX` escapes (RFC 3986 §2.1); the result must be UTF-8.
fn percent_decode(s: &str) -> Result<String, InvalidProxy> {
    let bad = || InvalidProxy::new("bad percent-encoding in the credentials");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Standard base64 with padding (RFC 4648 §4), for Basic credentials.
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_test_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
    }

    #[test]
    fn parses_kinds_ports_and_credentials() {
        let p = Proxy::parse("http://user%40corp:p%3Ass@proxy.example:3128").unwrap();
        assert_eq!(p.kind(), ProxyKind::Http);
        assert_eq!(p.authority().as_str(), "proxy.example:3128");
        assert_eq!(p.username(), Some("user@corp"));
        // base64("user@corp:p:ss")
        assert_eq!(p.basic_auth().unwrap(), "Basic dXNlckBjb3JwOnA6c3M=");
        assert!(p.basic_auth().unwrap().is_sensitive());
        assert_eq!(p.to_string(), "http://proxy.example:3128");
        assert!(!format!("{p:?}").contains("p:ss"));

        let p = Proxy::parse("proxy.example").unwrap();
        assert_eq!((p.kind(), p.port()), (ProxyKind::Http, 80));
        let p = Proxy::parse("HTTPS://[::1]").unwrap();
        assert_eq!((p.kind(), p.host(), p.port()), (ProxyKind::Https, "::1", 443));
        let p = Proxy::parse("socks5h://u:p@127.0.0.1").unwrap();
        assert_eq!((p.kind(), p.port(), p.socks_credentials()), (ProxyKind::Socks5h, 1080, Some(("u", "p"))));
        assert_eq!(Proxy::parse("socks5://h:1").unwrap().kind(), ProxyKind::Socks5);
    }

    #[test]
    fn refuses_what_is_not_a_proxy_url() {
        for url in [
            "",
            "ftp://proxy",
            "http://",
            "http://proxy/path",
            "http://proxy?q",
            "http://proxy:99999",
            "http://u%zz@proxy",
            "http://u%ff@proxy",
            "socks5://:p@proxy",
            "http://pro xy",
        ] {
            assert!(Proxy::parse(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn credentials_are_part_of_equality() {
        let a = Proxy::parse("http://a:1@p:1").unwrap();
        let b = Proxy::parse("http://a:2@p:1").unwrap();
        assert_ne!(a, b);
        assert_eq!(a, Proxy::parse("http://a:1@p:1").unwrap());
        assert_ne!(Proxy::parse("http://p:1").unwrap(), Proxy::parse("socks5://p:1").unwrap());
    }
}
