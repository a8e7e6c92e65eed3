//! Per-request options, set as `http::Request` extensions.

use std::sync::Arc;
use std::time::Duration;

use http::Extensions;

use super::io::Conn;
use super::trace::{Trace, TraceEvent, emit, logged};

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

/// The options found in a request's extensions.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) timeout: Option<Duration>,
    pub(crate) on_informational: Option<OnInformational>,
    pub(crate) trace: Option<Trace>,
    /// The request's `tracing` span, when a subscriber wants it; boxed, as
    /// the options move with the request and its body.
    pub(crate) span: Option<Box<tracing::Span>>,
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
            span: None,
        }
    }

    /// Whether anyone hears this request's events: a caller's work that only
    /// feeds an event (a pool lookup) is skipped otherwise.
    #[inline(always)]
    pub(crate) fn observed(&self) -> bool {
        self.trace.is_some() || logged()
    }

    /// Reports an event of the request (built only when observed).
    #[inline(always)]
    pub(crate) fn trace(&self, event: impl FnOnce() -> TraceEvent) {
        emit(self.trace.as_ref(), self.span.as_deref(), None, event);
    }

    /// Reports that `conn` closed, if it did, with the reason.
    pub(crate) fn trace_closed(&self, conn: &Conn) {
        if let Some(reason) = conn.proto.close_reason() {
            self.trace_on(conn.span(), || TraceEvent::ConnectionClosed { reason });
        }
    }

    /// [`trace`](Self::trace) for an event on a connection, logged in its span too.
    #[inline(always)]
    pub(crate) fn trace_on(&self, conn: Option<&tracing::Span>, event: impl FnOnce() -> TraceEvent) {
        emit(self.trace.as_ref(), self.span.as_deref(), conn, event);
    }
}
