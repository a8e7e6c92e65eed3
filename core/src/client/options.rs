//! Per-request options, set as `http::Request` extensions, and the trace
//! events a request reports.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Extensions;

/// A deadline for this request, replacing the client's `total_timeout`: from
/// the call to the end of the response body, pool wait included. A request
/// that gives up while queued for a connection is never sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestTimeout(pub Duration);

impl RequestTimeout {
    /// A deadline `timeout` after the call (the builder's `.timeout()` sets it).
    pub fn new(timeout: Duration) -> Self {
        Self(timeout)
    }
}

/// A callback for informational responses; see [`OnInformational`].
pub type InformationalCallback = dyn Fn(&http::Response<()>) + Send + Sync;

/// A callback for trace events; see [`Trace`].
pub type TraceCallback = dyn Fn(&TraceEvent) + Send + Sync;

/// Called with each informational (1xx) response other than 100, such as
/// `103 Early Hints`, before the final response.
#[derive(Clone)]
pub struct OnInformational(pub Arc<InformationalCallback>);

impl OnInformational {
    /// Calls `callback` with each informational response.
    pub fn new(callback: impl Fn(&http::Response<()>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(callback))
    }
}

impl std::fmt::Debug for OnInformational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnInformational(..)")
    }
}

/// Receives the phases of a request as they happen (Go's httptrace).
#[derive(Clone)]
pub struct Trace(pub Arc<TraceCallback>);

impl Trace {
    /// Calls `callback` with each phase of the request:
    /// `client.get(url).extension(Trace::new(|event| eprintln!("{event:?}")))`.
    pub fn new(callback: impl Fn(&TraceEvent) + Send + Sync + 'static) -> Self {
        Self(Arc::new(callback))
    }
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trace(..)")
    }
}

/// A phase of a request, reported to a [`Trace`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// A connection was obtained.
    GotConnection {
        /// It had served requests before.
        reused: bool,
        /// How long it sat idle, if it came from the idle pool.
        idle_for: Option<Duration>,
        /// How long the request waited for it (a dial, or a hand-off).
        waited: Duration,
    },
    /// The request head was handed to the socket.
    HeadWritten,
    /// `100 Continue` arrived; the body follows.
    Continue,
    /// The first byte of a response (informational or final) arrived.
    FirstByte,
    /// The final response head arrived.
    ResponseHead,
    /// The request head as queued for the socket, byte for byte: the request
    /// line, every field the client wrote (the framing field it chose
    /// included) and the empty line. Built only for a [`Trace`]; reported
    /// before [`HeadWritten`](Self::HeadWritten), once per attempt.
    RequestHeadBytes(Bytes),
    /// A response head as received, byte for byte: each informational one
    /// and the final one (the status line, the fields as the server spelled
    /// them, the empty line). Shares the bytes the client parsed.
    ResponseHeadBytes(Bytes),
    /// A redirect is followed: `location` is requested next.
    Redirect {
        /// The redirect's status.
        status: http::StatusCode,
        /// The URL requested next.
        location: http::Uri,
    },
    /// The attempt failed on a reused connection and is sent again.
    Retry,
    /// The response body was read to its end.
    BodyDone,
}

/// The options found in a request's extensions.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) timeout: Option<Duration>,
    pub(crate) on_informational: Option<OnInformational>,
    pub(crate) trace: Option<Trace>,
}

impl Options {
    /// Takes the options out of `extensions`; allocation-free when there are none.
    pub(crate) fn take(extensions: &mut Extensions) -> Self {
        if extensions.is_empty() {
            return Self::default();
        }
        Self {
            timeout: extensions.remove::<RequestTimeout>().map(|t| t.0),
            on_informational: extensions.remove(),
            trace: extensions.remove(),
        }
    }

    #[inline]
    pub(crate) fn trace(&self, event: TraceEvent) {
        if let Some(trace) = &self.trace {
            (trace.0)(&event);
        }
    }

    /// [`trace`](Self::trace) for an event that costs something to build:
    /// built only when a trace is attached.
    #[inline]
    pub(crate) fn trace_with(&self, event: impl FnOnce() -> TraceEvent) {
        if let Some(trace) = &self.trace {
            (trace.0)(&event());
        }
    }
}
