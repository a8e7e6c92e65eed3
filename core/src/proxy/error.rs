//! The errors of proxy settings and proxy handshakes.

use std::error::Error as StdError;
use std::fmt;

use http::{HeaderMap, StatusCode};

/// A proxy URL or setting that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidProxy {
    reason: &'static str,
}

impl InvalidProxy {
    pub(crate) fn new(reason: &'static str) -> Self {
        Self { reason }
    }
}

impl fmt::Display for InvalidProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid proxy: {}", self.reason)
    }
}

impl StdError for InvalidProxy {}

/// How a proxy handshake failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyErrorKind {
    /// The proxy answered `CONNECT` with a status other than 2xx;
    /// [`ProxyError::status_code`] and [`ProxyError::headers`] hold its answer.
    /// 407 means it wants (other) credentials.
    Status,
    /// The SOCKS5 proxy accepted none of the authentication methods offered,
    /// or refused the username and password.
    SocksAuth,
    /// The SOCKS5 proxy refused the connection; [`ProxyError::socks_reply`]
    /// holds its reply code (RFC 1928 §6).
    SocksRefused,
    /// The proxy's answer broke its protocol: malformed, too large, or with
    /// bytes after its end.
    Protocol,
    /// The proxy closed the connection before the handshake finished.
    Closed,
}

/// A proxy handshake failure, with what the proxy said.
#[derive(Clone, Debug)]
pub struct ProxyError {
    kind: ProxyErrorKind,
    status: Option<StatusCode>,
    headers: Option<Box<HeaderMap>>,
    socks_reply: Option<u8>,
    detail: Option<&'static str>,
}

impl ProxyError {
    pub(crate) fn new(kind: ProxyErrorKind) -> Self {
        Self { kind, status: None, headers: None, socks_reply: None, detail: None }
    }

    pub(crate) fn protocol(detail: &'static str) -> Self {
        Self { detail: Some(detail), ..Self::new(ProxyErrorKind::Protocol) }
    }

    pub(crate) fn status(status: StatusCode, headers: HeaderMap) -> Self {
        Self { status: Some(status), headers: Some(Box::new(headers)), ..Self::new(ProxyErrorKind::Status) }
    }

    pub(crate) fn socks_refused(reply: u8) -> Self {
        Self { socks_reply: Some(reply), ..Self::new(ProxyErrorKind::SocksRefused) }
    }

    /// Which kind of failure.
    pub fn kind(&self) -> ProxyErrorKind {
        self.kind
    }

    /// The status of a refused `CONNECT`.
    pub fn status_code(&self) -> Option<StatusCode> {
        self.status
    }

    /// The header fields of a refused `CONNECT` (`Proxy-Authenticate` after a 407).
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.headers.as_deref()
    }

    /// The reply code of a refusing SOCKS5 proxy.
    pub fn socks_reply(&self) -> Option<u8> {
        self.socks_reply
    }

    /// As an `io::Error` for a connect future, from which
    /// `client::Error::proxy_error` finds it again.
    #[cfg(feature = "client")]
    pub(crate) fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::ConnectionRefused, self)
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ProxyErrorKind::Status => match self.status {
                Some(StatusCode::PROXY_AUTHENTICATION_REQUIRED) => {
                    f.write_str("the proxy wants authentication (407) for CONNECT")
                }
                Some(status) => write!(f, "the proxy refused CONNECT with {status}"),
                None => f.write_str("the proxy refused CONNECT"),
            },
            ProxyErrorKind::SocksAuth => f.write_str("the SOCKS5 proxy refused authentication"),
            ProxyErrorKind::SocksRefused => {
                let reason = match self.socks_reply {
                    Some(1) => "general failure",
                    Some(2) => "not allowed by its rules",
                    Some(3) => "network unreachable",
                    Some(4) => "host unreachable",
                    Some(5) => "connection refused",
                    Some(6) => "TTL expired",
                    Some(7) => "command not supported",
                    Some(8) => "address type not supported",
                    _ => "unknown reply",
                };
                write!(f, "the SOCKS5 proxy could not connect: {reason}")
            }
            ProxyErrorKind::Protocol => {
                write!(f, "the proxy broke its protocol: {}", self.detail.unwrap_or("malformed answer"))
            }
            ProxyErrorKind::Closed => f.write_str("the proxy closed the connection during its handshake"),
        }
    }
}

impl StdError for ProxyError {}
