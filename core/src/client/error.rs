//! The one error type users see: opaque, with predicates and a `source()` chain.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use crate::conn::{Direction, ExchangeError, ExchangeErrorKind, TimeoutKind};
use crate::proto::{ProtocolError, UsageError};

/// A boxed error from a user's body or connector.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Which timeout fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timeout {
    /// Opening the connection took too long.
    Connect,
    /// The TLS handshake took too long (it also counts toward `Connect`).
    TlsHandshake,
    /// The request waited too long for a connection from the pool.
    PoolWait,
    /// The response head did not arrive in time after the request was written.
    ResponseHead,
    /// No response body bytes arrived for too long.
    BodyReadIdle,
    /// The whole request, body reading included, ran past its deadline.
    Total,
}

/// Why a request failed.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    /// Some byte of the request may have reached the server.
    sent: bool,
    source: Option<BoxError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Connect,
    Timeout(Timeout),
    Canceled,
    Protocol,
    Io,
    ConnectionClosed,
    RequestBody,
    InvalidRequest,
    BodyTooLarge,
    Decode,
    Redirect,
}

impl Error {
    fn new(kind: Kind, sent: bool, source: Option<BoxError>) -> Self {
        Self { inner: Box::new(Inner { kind, sent, source }) }
    }

    pub(crate) fn connect(source: io::Error) -> Self {
        Self::new(Kind::Connect, false, Some(source.into()))
    }

    /// Names the proxy in a failure to reach it ("connection refused" alone
    /// would blame the origin). Typed sources (TLS) are left as they are.
    pub(crate) fn reaching(mut self, proxy: &crate::proxy::Proxy) -> Self {
        if let Some(io) = self.inner.source.as_deref().and_then(|s| s.downcast_ref::<io::Error>())
            && io.get_ref().is_none()
        {
            let wrapped = io::Error::new(io.kind(), format!("cannot reach the proxy {proxy}: {io}"));
            self.inner.source = Some(wrapped.into());
        }
        self
    }

    pub(crate) fn timeout(which: Timeout, sent: bool) -> Self {
        Self::new(Kind::Timeout(which), sent, None)
    }

    pub(crate) fn invalid_request(source: UsageError) -> Self {
        Self::new(Kind::InvalidRequest, false, Some(source.into()))
    }

    pub(crate) fn invalid_request_source(source: impl Into<BoxError>) -> Self {
        Self::new(Kind::InvalidRequest, false, Some(source.into()))
    }

    pub(crate) fn invalid_request_message(message: &'static str) -> Self {
        Self::new(Kind::InvalidRequest, false, Some(message.into()))
    }

    pub(crate) fn request_body(source: BoxError) -> Self {
        Self::new(Kind::RequestBody, true, Some(source))
    }

    pub(crate) fn body_too_large(limit: usize) -> Self {
        Self::new(Kind::BodyTooLarge, true, Some(format!("body longer than {limit} bytes").into()))
    }

    /// A response body that arrived whole but could not be decoded, for
    /// layers that decode one (JSON, a charset, a compression): the error
    /// [`is_decode`](Self::is_decode) says.
    pub fn decode(source: impl Into<BoxError>) -> Self {
        Self::new(Kind::Decode, true, Some(source.into()))
    }

    /// A redirect the client would not follow: too many, a loop, a
    /// downgrade to http, a `Location` that is no http URL, or the policy's
    /// own error.
    pub(crate) fn redirect(source: impl Into<BoxError>) -> Self {
        Self::new(Kind::Redirect, true, Some(source.into()))
    }

    pub(crate) fn io(direction: Direction, kind: io::ErrorKind, sent: bool) -> Self {
        let source = io::Error::new(
            kind,
            format!("{} failed", if direction == Direction::Read { "read" } else { "write" }),
        );
        Self::new(Kind::Io, sent, Some(source.into()))
    }

    /// Maps a connection's account of a failed exchange; `io` is the
    /// transport's error behind an I/O failure, when the driver kept it.
    pub(crate) fn exchange(error: ExchangeError, io: Option<io::Error>) -> Self {
        let sent = error.request_bytes_written;
        match error.kind {
            ExchangeErrorKind::Io { kind, .. } if io.as_ref().is_some_and(|e| e.kind() == kind) => {
                Self::new(Kind::Io, sent, io.map(Into::into))
            }
            ExchangeErrorKind::Protocol(e) => Self::protocol(e, sent),
            ExchangeErrorKind::Timeout(TimeoutKind::ResponseHead) => {
                Self::timeout(Timeout::ResponseHead, sent)
            }
            ExchangeErrorKind::Timeout(TimeoutKind::BodyReadIdle) => {
                Self::timeout(Timeout::BodyReadIdle, sent)
            }
            ExchangeErrorKind::Io { direction, kind } => Self::io(direction, kind, sent),
            ExchangeErrorKind::ConnectionClosed => Self::new(Kind::ConnectionClosed, sent, None),
            ExchangeErrorKind::Usage(e) => Self::new(Kind::InvalidRequest, sent, Some(e.into())),
        }
    }

    pub(crate) fn protocol(source: ProtocolError, sent: bool) -> Self {
        Self::new(Kind::Protocol, sent, Some(source.into()))
    }

    pub(crate) fn canceled(sent: bool) -> Self {
        Self::new(Kind::Canceled, sent, None)
    }

    /// A timeout fired; see [`timeout_kind`](Self::timeout_kind) for which.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout(_))
    }

    /// Which timeout fired, if one did.
    pub fn timeout_kind(&self) -> Option<Timeout> {
        match self.inner.kind {
            Kind::Timeout(which) => Some(which),
            _ => None,
        }
    }

    /// The connection could not be opened (resolution, refusal, connect timeout).
    pub fn is_connect(&self) -> bool {
        matches!(self.inner.kind, Kind::Connect | Kind::Timeout(Timeout::Connect | Timeout::TlsHandshake))
    }

    /// The TLS handshake or session failed; [`tls_error`](Self::tls_error)
    /// says how.
    #[cfg(feature = "rustls")]
    pub fn is_tls(&self) -> bool {
        self.tls_error().is_some()
    }

    /// The TLS failure behind this error, if there is one.
    #[cfg(feature = "rustls")]
    pub fn tls_error(&self) -> Option<&super::TlsError> {
        let source = self.inner.source.as_deref()?;
        let io = source.downcast_ref::<io::Error>()?;
        io.get_ref()?.downcast_ref::<super::TlsError>()
    }

    /// The proxy handshake failure behind this error, if there is one: a
    /// refused `CONNECT` (with the proxy's status and fields), a SOCKS5
    /// refusal, a proxy that broke its protocol or closed.
    pub fn proxy_error(&self) -> Option<&crate::proxy::ProxyError> {
        let source = self.inner.source.as_deref()?;
        let io = source.downcast_ref::<io::Error>()?;
        io.get_ref()?.downcast_ref::<crate::proxy::ProxyError>()
    }

    /// The request was abandoned locally before it completed.
    pub fn is_canceled(&self) -> bool {
        self.inner.kind == Kind::Canceled
    }

    /// The server broke HTTP/1.1.
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == Kind::Protocol
    }

    /// The connection failed or closed during the exchange.
    pub fn is_closed(&self) -> bool {
        matches!(self.inner.kind, Kind::Io | Kind::ConnectionClosed)
    }

    /// The request waited too long for a connection from the pool.
    pub fn is_pool_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout(Timeout::PoolWait)
    }

    /// The request (or its body) was invalid and nothing was sent.
    pub fn is_request(&self) -> bool {
        matches!(self.inner.kind, Kind::InvalidRequest | Kind::RequestBody)
    }

    /// A response body could not be decoded (see [`decode`](Self::decode)).
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// A redirect was refused: more than the policy allows, a loop, an
    /// `https` page sending to `http`, a `Location` that is not an http URL,
    /// or the policy's own error (the source says which).
    pub fn is_redirect(&self) -> bool {
        self.inner.kind == Kind::Redirect
    }

    /// A body collected with a limit was longer than the limit.
    pub fn is_body_too_large(&self) -> bool {
        self.inner.kind == Kind::BodyTooLarge
    }

    /// True when no byte of the request reached the server, so sending it again
    /// cannot repeat its effect (any method).
    pub fn is_retryable(&self) -> bool {
        !self.inner.sent
            && !matches!(
                self.inner.kind,
                Kind::InvalidRequest | Kind::RequestBody | Kind::BodyTooLarge | Kind::Decode | Kind::Redirect
            )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind).field("sent", &self.inner.sent);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.inner.kind {
            Kind::Connect => "connect failed",
            Kind::Timeout(Timeout::Connect) => "connect timed out",
            Kind::Timeout(Timeout::TlsHandshake) => "TLS handshake timed out",
            Kind::Timeout(Timeout::PoolWait) => "timed out waiting for a pooled connection",
            Kind::Timeout(Timeout::ResponseHead) => "timed out waiting for the response head",
            Kind::Timeout(Timeout::BodyReadIdle) => "timed out waiting for response body bytes",
            Kind::Timeout(Timeout::Total) => "request timed out",
            Kind::Canceled => "request canceled",
            Kind::Protocol => "server broke HTTP/1.1",
            Kind::Io => "connection failed",
            Kind::ConnectionClosed => "connection closed before the response",
            Kind::RequestBody => "request body failed",
            Kind::InvalidRequest => "invalid request",
            Kind::BodyTooLarge => "response body too large",
            Kind::Decode => "response body could not be decoded",
            Kind::Redirect => "redirect not followed",
        };
        match &self.inner.source {
            Some(source) => write!(f, "{what}: {source}"),
            None => f.write_str(what),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}
