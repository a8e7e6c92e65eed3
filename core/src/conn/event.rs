//! What a [`super::Connection`] tells its driver, and what a body read returns.

use bytes::Bytes;
use http::HeaderMap;

use super::error::{CloseReason, ExchangeError};
use crate::proto::{BodyKind, ResponseHead};

/// Identifies one request/response exchange on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExchangeId(pub(crate) u64);

/// Why the request body may now be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyAllowed {
    /// The request has no `Expect: 100-continue`.
    NoExpectation,
    /// The server sent `100 Continue`.
    Continue,
    /// `expect_continue_timeout` passed without an answer (RFC 9110 §10.1.1).
    ExpectTimeout,
    /// A final response came first and the connection stays open, so the body
    /// is sent to keep the connection in sync (Go 1.23, #67555).
    FinalResponse,
}

/// An output of the connection, drained with [`super::Connection::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Every byte of the request head has been handed to the socket.
    HeadSent {
        /// The exchange.
        id: ExchangeId,
    },
    /// Every byte of the request, head and body, has been handed to the socket.
    RequestSent {
        /// The exchange.
        id: ExchangeId,
    },
    /// The request body may be sent now with `send_data` and `finish`.
    BodyAllowed {
        /// The exchange.
        id: ExchangeId,
        /// Why now.
        reason: BodyAllowed,
    },
    /// An informational (1xx) response other than 100 and 101, e.g. 103.
    Informational {
        /// The exchange.
        id: ExchangeId,
        /// The interim head.
        head: ResponseHead,
    },
    /// The final response head (status >= 200, or 101).
    Response {
        /// The exchange.
        id: ExchangeId,
        /// The head.
        head: ResponseHead,
        /// How its body is delimited; read it with `read_body`.
        body: BodyKind,
    },
    /// New body bytes (or the end) can be read after a `read_body` returned `Pending`.
    BodyReadable {
        /// The exchange.
        id: ExchangeId,
    },
    /// The server answered before the body was sent and will not take it: stop
    /// producing it (RFC 9112 §9.5). The connection closes after the response.
    RequestBodyRejected {
        /// The exchange.
        id: ExchangeId,
    },
    /// Request written and response read: the exchange is over. Check
    /// [`super::Connection::is_reusable`] or wait for `Closed`.
    Finished {
        /// The exchange.
        id: ExchangeId,
    },
    /// The exchange failed; a `Closed` event follows.
    Failed {
        /// The exchange.
        id: ExchangeId,
        /// Why, with the facts for a retry decision.
        error: ExchangeError,
    },
    /// The connection is closed: the driver must close the socket. Last event.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// One result of [`super::Connection::read_body`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyChunk {
    /// Body bytes, split off the read buffer without copying.
    Data(Bytes),
    /// A body's last bytes: the response is complete with them, as if `End`
    /// had followed (every later call answers `End`), so the connection can
    /// go back to the pool before the reader asks again (Go's body returns
    /// its last bytes with `io.EOF` for the same reason). A body of known
    /// length always ends so; a chunked one when its last chunk and empty
    /// trailer section were already read behind them; otherwise (trailers,
    /// a close-delimited body) the body ends with `End`.
    Last(Bytes),
    /// The trailer fields of a chunked body; `End` follows.
    Trailers(HeaderMap),
    /// The body is complete.
    End,
    /// Nothing buffered: read from the socket; `BodyReadable` announces progress.
    Pending,
}
