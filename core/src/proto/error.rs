//! Errors of the wire format, typed by who is at fault.
//!
//! [`ProtocolError`]: the server sent bytes that are not valid HTTP/1.1; the
//! connection must be closed, never guessed at. [`UsageError`]: the caller asked
//! for something that cannot be put on the wire; nothing was written.

use std::fmt;

use http::HeaderName;

/// The peer violated HTTP/1.1 (RFC 9110, RFC 9112). Always fatal for the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The status line is malformed (RFC 9112 §4).
    StatusLine,
    /// The HTTP version is not `HTTP/1.0` or `HTTP/1.1` (RFC 9112 §2.3).
    Version,
    /// The status code is outside 100..=599 (RFC 9110 §15).
    Status,
    /// A field name is empty, not a token, or followed by whitespace before the
    /// colon (RFC 9112 §5.1); or the first field line starts with whitespace
    /// (RFC 9112 §2.2), which no obs-fold can explain.
    HeaderName,
    /// A field value contains a control byte such as NUL or a bare CR (RFC 9110 §5.5).
    HeaderValue,
    /// A line ending is not CRLF (or a bare LF where one is tolerated).
    NewLine,
    /// More field lines than the configured limit.
    TooManyHeaders {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The response head (status line and fields) exceeds the configured limit.
    HeadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The informational (1xx) responses of one exchange exceed their byte budget.
    InformationalTooLarge {
        /// The budget in bytes.
        limit: usize,
    },
    /// A `Content-Length` value is not a non-negative decimal integer (RFC 9110 §8.6).
    ContentLengthInvalid,
    /// Several `Content-Length` values differ (RFC 9110 §8.6).
    ContentLengthConflict,
    /// `Transfer-Encoding` is not exactly one `chunked` coding (RFC 9112 §6.1).
    TransferEncodingUnsupported,
    /// `Transfer-Encoding` in an HTTP/1.0 message: faulty framing (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// A chunk-size is missing or not hexadecimal (RFC 9112 §7.1).
    ChunkSizeInvalid,
    /// A chunk-size has more than 16 hex digits.
    ChunkSizeTooLong,
    /// A chunk-size line with its extensions exceeds the per-line limit.
    ChunkExtensionTooLong,
    /// Too many non-data bytes (extensions, tiny chunks) for the data carried
    /// (the CVE-2023-39326 guard).
    ChunkOverhead,
    /// A byte other than CRLF where a chunk's line ends or its data ends (RFC 9112 §7.1).
    ChunkFraming,
    /// The trailer section exceeds its byte limit.
    TrailersTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The connection ended inside a response head.
    IncompleteHead,
    /// The connection ended before the body was complete.
    IncompleteBody,
    /// Bytes arrived that belong to no request (after a complete response, or
    /// while the connection was idle).
    UnsolicitedData,
    /// `101 Switching Protocols` to a request that did not ask for an upgrade
    /// (RFC 9110 §15.2.2).
    UnexpectedUpgrade,
    /// `101` or a `2xx` to `CONNECT` before the whole request was sent: the
    /// rest would reach the new protocol as its first bytes (RFC 9110 §7.8),
    /// so the connection is not handed over.
    SwitchBeforeRequestSent,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StatusLine => f.write_str("malformed status line"),
            Self::Version => f.write_str("unsupported HTTP version"),
            Self::Status => f.write_str("status code out of range"),
            Self::HeaderName => f.write_str("invalid header name"),
            Self::HeaderValue => f.write_str("invalid header value"),
            Self::NewLine => f.write_str("invalid line ending"),
            Self::TooManyHeaders { limit } => write!(f, "more than {limit} header fields"),
            Self::HeadTooLarge { limit } => write!(f, "response head larger than {limit} bytes"),
            Self::InformationalTooLarge { limit } => {
                write!(f, "informational responses larger than {limit} bytes")
            }
            Self::ContentLengthInvalid => f.write_str("invalid content-length"),
            Self::ContentLengthConflict => f.write_str("conflicting content-length values"),
            Self::TransferEncodingUnsupported => f.write_str("unsupported transfer-encoding"),
            Self::TransferEncodingInHttp10 => f.write_str("transfer-encoding in an HTTP/1.0 response"),
            Self::ChunkSizeInvalid => f.write_str("invalid chunk size"),
            Self::ChunkSizeTooLong => f.write_str("chunk size longer than 16 hex digits"),
            Self::ChunkExtensionTooLong => f.write_str("chunk extension too long"),
            Self::ChunkOverhead => f.write_str("chunked encoding contains too much non-data"),
            Self::ChunkFraming => f.write_str("malformed chunked encoding"),
            Self::TrailersTooLarge { limit } => write!(f, "trailers larger than {limit} bytes"),
            Self::IncompleteHead => f.write_str("connection closed inside the response head"),
            Self::IncompleteBody => f.write_str("connection closed before the body was complete"),
            Self::UnsolicitedData => f.write_str("unsolicited data from the server"),
            Self::UnexpectedUpgrade => f.write_str("101 response to a request without upgrade"),
            Self::SwitchBeforeRequestSent => {
                f.write_str("the server switched protocols before the request was sent")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// The caller asked for something that cannot be sent or done; nothing was written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// The method is not a token (RFC 9110 §9.1).
    InvalidMethod,
    /// The request target does not fit the requested form, or is not visible
    /// ASCII once its path and query are percent-encoded (RFC 9112 §3.2).
    InvalidTarget,
    /// Neither the URI nor a `Host` field names a host (RFC 9112 §3.2).
    MissingHost,
    /// The `Host` value is not `host[:port]`, e.g. it contains `/`, `@`,
    /// whitespace or a control byte (RFC 9110 §7.2, CVE-2023-29406).
    InvalidHost,
    /// A field name is not a token (RFC 9110 §5.1).
    InvalidHeaderName,
    /// A field value contains a control byte other than HTAB (CR, LF, NUL...) or
    /// DEL (RFC 9110 §5.5). The value is not echoed.
    InvalidHeaderValue {
        /// The field whose value was rejected.
        name: HeaderName,
    },
    /// Caller-set `Content-Length` or `Transfer-Encoding` contradicts the body.
    FramingConflict,
    /// A `Transfer-Encoding` other than `chunked` was requested.
    UnsupportedTransferEncoding,
    /// Trailers were given for a body that is not sent chunked (RFC 9112 §7.1.2).
    TrailersWithoutChunked,
    /// The body produced more bytes than its declared length.
    BodyLongerThanDeclared {
        /// The declared `Content-Length`.
        declared: u64,
    },
    /// The body ended before its declared length.
    BodyShorterThanDeclared {
        /// The declared `Content-Length`.
        declared: u64,
        /// The bytes actually sent.
        sent: u64,
    },
    /// A request was sent while another exchange is in flight (no pipelining).
    Busy,
    /// The exchange id is not the current exchange of this connection.
    UnknownExchange,
    /// Body data for a request whose body is empty or already finished.
    BodyNotExpected,
    /// The connection is closed; nothing more can be sent on it.
    Closed,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidMethod => f.write_str("invalid method"),
            Self::InvalidTarget => f.write_str("invalid request target"),
            Self::MissingHost => f.write_str("request has no host"),
            Self::InvalidHost => f.write_str("invalid host"),
            Self::InvalidHeaderName => f.write_str("invalid header name"),
            Self::InvalidHeaderValue { name } => write!(f, "invalid value for header {name}"),
            Self::FramingConflict => f.write_str("content-length or transfer-encoding contradicts the body"),
            Self::UnsupportedTransferEncoding => f.write_str("unsupported transfer-encoding"),
            Self::TrailersWithoutChunked => f.write_str("trailers need a chunked body"),
            Self::BodyLongerThanDeclared { declared } => {
                write!(f, "body longer than its content-length {declared}")
            }
            Self::BodyShorterThanDeclared { declared, sent } => {
                write!(f, "body of {sent} bytes shorter than its content-length {declared}")
            }
            Self::Busy => f.write_str("connection busy with another exchange"),
            Self::UnknownExchange => f.write_str("unknown exchange"),
            Self::BodyNotExpected => f.write_str("request body not expected"),
            Self::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for UsageError {}
