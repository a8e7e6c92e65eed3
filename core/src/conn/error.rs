//! Why an exchange failed ([`ExchangeError`]) and why a connection closed
//! ([`CloseReason`], which is not an error).

use std::fmt;
use std::io;

use crate::proto::{ProtocolError, UsageError};

/// Which way bytes were moving when an I/O error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Reading from the socket.
    Read,
    /// Writing to the socket.
    Write,
}

/// Which of the connection's timers fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// The final response head did not arrive in time after the request was written.
    ResponseHead,
    /// No response body bytes arrived for too long while the reader wanted them.
    BodyReadIdle,
}

/// What went wrong, by who is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExchangeErrorKind {
    /// The server broke HTTP/1.1.
    Protocol(ProtocolError),
    /// A timer fired.
    Timeout(TimeoutKind),
    /// The socket failed.
    Io {
        /// Reading or writing.
        direction: Direction,
        /// The error's kind (an `io::Error` is not `Clone`).
        kind: io::ErrorKind,
    },
    /// The server closed the connection before any byte of the response.
    ConnectionClosed,
    /// The caller broke the request (e.g. a body shorter than its length).
    Usage(UsageError),
}

/// Why one exchange failed, with the facts a retry decision needs
/// (see [`crate::conn::retry::classify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeError {
    /// What went wrong.
    pub kind: ExchangeErrorKind,
    /// At least one byte of this request was handed to the socket.
    pub request_bytes_written: bool,
    /// At least one byte of a response (1xx included) arrived for this request.
    pub response_bytes_received: bool,
    /// The connection had completed an exchange before this one.
    pub connection_reused: bool,
}

impl ExchangeError {
    /// True when a timer caused the failure.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ExchangeErrorKind::Timeout(_))
    }
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExchangeErrorKind::Protocol(e) => write!(f, "protocol error: {e}"),
            ExchangeErrorKind::Timeout(TimeoutKind::ResponseHead) => {
                f.write_str("timed out waiting for the response head")
            }
            ExchangeErrorKind::Timeout(TimeoutKind::BodyReadIdle) => {
                f.write_str("timed out waiting for response body bytes")
            }
            ExchangeErrorKind::Io { direction: Direction::Read, kind } => write!(f, "read failed: {kind}"),
            ExchangeErrorKind::Io { direction: Direction::Write, kind } => write!(f, "write failed: {kind}"),
            ExchangeErrorKind::ConnectionClosed => f.write_str("connection closed before the response began"),
            ExchangeErrorKind::Usage(e) => write!(f, "invalid request: {e}"),
        }
    }
}

impl std::error::Error for ExchangeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ExchangeErrorKind::Protocol(e) => Some(e),
            ExchangeErrorKind::Usage(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a connection is closing. A normal outcome as often as not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The request said `Connection: close` (RFC 9112 §9.6).
    ClientRequestedClose,
    /// The response said `Connection: close`.
    ServerRequestedClose,
    /// An HTTP/1.0 response without `Connection: keep-alive` (RFC 9112 §9.3).
    Http10NoKeepAlive,
    /// The body was delimited by the close itself (RFC 9112 §6.3 item 8).
    CloseDelimitedBody,
    /// The response had both `Transfer-Encoding` and `Content-Length`.
    LengthConflict,
    /// `101 Switching Protocols` or a 2xx to CONNECT: the bytes now belong to
    /// another protocol; see [`super::Connection::take_remaining`].
    ProtocolSwitch,
    /// The caller cancelled an exchange whose bytes had reached the wire.
    Canceled,
    /// The server closed the connection while it was idle.
    PeerClosedIdle,
    /// The server closed the connection during an exchange.
    PeerClosed,
    /// An idle connection received `408 Request Timeout`, the server's notice
    /// that it is closing (Go ignores it the same way, #32310).
    UnsolicitedTimeout,
    /// Bytes arrived that belong to no request.
    UnsolicitedData,
    /// The server broke the protocol.
    ProtocolError,
    /// A timer fired during an exchange.
    Timeout,
    /// The socket failed.
    IoError,
    /// The request body could not be completed as declared.
    RequestBodyInvalid,
    /// [`super::Connection::close`] was called.
    LocalClose,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::ClientRequestedClose => "request asked to close",
            Self::ServerRequestedClose => "response asked to close",
            Self::Http10NoKeepAlive => "HTTP/1.0 without keep-alive",
            Self::CloseDelimitedBody => "body delimited by close",
            Self::LengthConflict => "transfer-encoding with content-length",
            Self::ProtocolSwitch => "protocol switched",
            Self::Canceled => "exchange cancelled",
            Self::PeerClosedIdle => "server closed idle connection",
            Self::PeerClosed => "server closed connection",
            Self::UnsolicitedTimeout => "server sent 408 on an idle connection",
            Self::UnsolicitedData => "unsolicited data from server",
            Self::ProtocolError => "protocol error",
            Self::Timeout => "timeout",
            Self::IoError => "i/o error",
            Self::RequestBodyInvalid => "request body invalid",
            Self::LocalClose => "closed locally",
        };
        f.write_str(text)
    }
}
