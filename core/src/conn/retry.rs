//! When a failed request may be sent again on a new connection: Go 1.23's
//! `shouldRetryRequest` and `isReplayable`, as one pure function over the facts
//! an [`ExchangeError`] carries. Conditions 1-4 below are RETRY-1 to RETRY-4 of
//! docs/go-transport.md.
//!
//! A retry needs all of:
//! 1. the connection was reused: a fresh connection that fails says something
//!    about the request or the server, and retrying it could loop forever;
//! 2. no byte of any response arrived: after that the server has acted;
//! 3. the failure is the connection going away (EOF, reset, a write or read
//!    error, or unsolicited bytes from a server closing it), not a timeout, a
//!    protocol error or a bad request;
//! 4. and either nothing of the request was written (any method: the server
//!    saw nothing), or the request is replayable: an idempotent method or an
//!    `Idempotency-Key` / `X-Idempotency-Key` field, with a body that can be
//!    produced again.
//!
//! Idempotent here means GET, HEAD, OPTIONS and TRACE, as in Go. RFC 9110
//! §9.2.2 also counts PUT and DELETE, and allows retrying them; Go does not,
//! and neither do we: a PUT that raced a server close may have been applied.

use http::{HeaderMap, Method};

use super::error::{ExchangeError, ExchangeErrorKind};
use crate::proto::ProtocolError;

/// The verdict of [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Retry: no byte of the request reached the socket.
    RetryNothingWritten,
    /// Retry: the request is replayable and no response byte arrived.
    RetryReplayable,
    /// Do not retry: the connection was fresh.
    FreshConnection,
    /// Do not retry: the server had started to respond.
    ResponseStarted,
    /// Do not retry: the failure was not the connection going away.
    NotRetryableError,
    /// Do not retry: the request may have been acted on and cannot be replayed.
    NotReplayable,
}

impl RetryDecision {
    /// True for the two retry verdicts.
    pub fn should_retry(self) -> bool {
        matches!(self, Self::RetryNothingWritten | Self::RetryReplayable)
    }
}

/// Decides whether the request that failed with `error` may be retried.
///
/// `body_replayable`: the body is empty, or can be produced again from the start.
pub fn classify(
    method: &Method,
    headers: &HeaderMap,
    body_replayable: bool,
    error: &ExchangeError,
) -> RetryDecision {
    if !error.connection_reused {
        return RetryDecision::FreshConnection;
    }
    if error.response_bytes_received {
        return RetryDecision::ResponseStarted;
    }
    let going_away = matches!(
        error.kind,
        ExchangeErrorKind::ConnectionClosed
            | ExchangeErrorKind::Io { .. }
            | ExchangeErrorKind::Protocol(ProtocolError::UnsolicitedData)
    );
    if !going_away {
        return RetryDecision::NotRetryableError;
    }
    if !body_replayable {
        return RetryDecision::NotReplayable;
    }
    if !error.request_bytes_written {
        return RetryDecision::RetryNothingWritten;
    }
    let idempotent = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
        || headers.contains_key("idempotency-key")
        || headers.contains_key("x-idempotency-key");
    if idempotent { RetryDecision::RetryReplayable } else { RetryDecision::NotReplayable }
}
