//! What a request reports as it runs: its phases as [`TraceEvent`]s (to a
//! [`Trace`] callback and as `tracing` events, from one place: [`emit`]),
//! and the [`Timings`] every response carries.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::conn::{CloseReason, ExchangeError};

/// A callback for trace events; see [`Trace`].
pub type TraceCallback = dyn Fn(&TraceEvent) + Send + Sync;

/// Receives the phases of a request as they happen (Go's httptrace).
///
/// Attach it as a request extension. Events of a dial go to the trace of the
/// request that started it; with dial racing, that request may already have
/// taken another connection, so they can come after its `GotConnection`.
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

/// A phase of a request, reported to a [`Trace`] and logged with `tracing`
/// (target `roundtrip::trace`: the byte events at trace level, the rest at
/// debug), in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// No idle connection was ready: the request waits in the pool's queue
    /// for its own dial, a connection another request gives back, or (at
    /// `max_conns_per_host`) a free slot. [`GotConnection`](Self::GotConnection)
    /// ends the wait.
    PoolWait {
        /// Requests for the same host queued ahead of this one.
        queued_ahead: usize,
    },
    /// A dial starts resolving `host` (not for an IP literal).
    DnsStart {
        /// The host name.
        host: String,
    },
    /// Resolution ended.
    DnsDone {
        /// The addresses found, in the order they will be tried.
        addrs: Vec<SocketAddr>,
        /// Why it failed, if it did.
        error: Option<io::ErrorKind>,
    },
    /// A TCP connect to one address starts (happy eyeballs may race several).
    ConnectStart {
        /// The address.
        addr: SocketAddr,
    },
    /// A TCP connect ended.
    ConnectDone {
        /// The address.
        addr: SocketAddr,
        /// Why it failed, if it did; a losing attempt cancelled by a
        /// winner reports nothing.
        error: Option<io::ErrorKind>,
    },
    /// A TLS handshake starts (with a proxy, then with the origin).
    TlsHandshakeStart,
    /// A TLS handshake ended.
    TlsHandshakeDone {
        /// Whether it succeeded; the request's error says why not.
        ok: bool,
    },
    /// A connection was obtained.
    GotConnection {
        /// It had served requests before.
        reused: bool,
        /// How long it sat idle, if it came from the idle pool.
        idle_for: Option<Duration>,
        /// How long the request waited for it (a dial, or a hand-off).
        waited: Duration,
        /// The address it is connected to (TCP only).
        peer: Option<SocketAddr>,
    },
    /// The request head as queued for the socket, byte for byte: the request
    /// line, every field the client wrote (the framing field it chose
    /// included) and the empty line. Built only when observed; reported
    /// before [`HeadWritten`](Self::HeadWritten), once per attempt.
    RequestHeadBytes(Bytes),
    /// The request head was handed to the socket.
    HeadWritten,
    /// The whole request, body included, was handed to the socket (Go's
    /// `WroteRequest`). May come after the response head when the server
    /// answers first.
    RequestWritten,
    /// `100 Continue` arrived; the body follows.
    Continue,
    /// An informational response other than 100 arrived (103 Early Hints...).
    Informational {
        /// Its status.
        status: http::StatusCode,
    },
    /// The first byte of a response (informational or final) arrived.
    FirstByte,
    /// A response head as received, byte for byte: each informational one
    /// and the final one (the status line, the fields as the server spelled
    /// them, the empty line). Shares the bytes the client parsed.
    ResponseHeadBytes(Bytes),
    /// The final response head arrived.
    ResponseHead {
        /// Its status.
        status: http::StatusCode,
    },
    /// A redirect is followed: `location` is requested next.
    Redirect {
        /// The redirect's status.
        status: http::StatusCode,
        /// The URL requested next.
        location: http::Uri,
    },
    /// The attempt failed on a reused connection and is sent again on
    /// another.
    Retry {
        /// How the attempt failed.
        error: ExchangeError,
    },
    /// The response body was read to its end.
    BodyDone,
    /// The request's connection will not be reused: reported when the
    /// request knows it (a failed attempt, the end of the body).
    ConnectionClosed {
        /// Why.
        reason: CloseReason,
    },
}

/// Reports `event` to `trace` and to `tracing`, logged inside the request's
/// and the connection's spans when given; builds it only if either listens.
/// With neither, this is a `None` check and one load of `tracing`'s level
/// filter: inlined, so the event is never built.
#[inline(always)]
pub(crate) fn emit(
    trace: Option<&Trace>,
    request: Option<&tracing::Span>,
    conn: Option<&tracing::Span>,
    event: impl FnOnce() -> TraceEvent,
) {
    let logged = logged();
    if trace.is_none() && !logged {
        return;
    }
    let event = event();
    if logged {
        log(&event, request, conn);
    }
    if let Some(trace) = trace {
        (trace.0)(&event);
    }
}

/// Whether `tracing` wants the trace events (one load of its level filter
/// when it does not).
#[inline(always)]
pub(crate) fn logged() -> bool {
    tracing::level_enabled!(tracing::Level::DEBUG)
        && tracing::enabled!(target: "roundtrip::trace", tracing::Level::DEBUG)
}

#[cold]
fn log(event: &TraceEvent, request: Option<&tracing::Span>, conn: Option<&tracing::Span>) {
    let _request = request.map(tracing::Span::enter);
    let _conn = conn.map(tracing::Span::enter);
    match event {
        TraceEvent::RequestHeadBytes(bytes) | TraceEvent::ResponseHeadBytes(bytes) => {
            tracing::trace!(target: "roundtrip::trace", head = ?bytes);
        }
        event => tracing::debug!(target: "roundtrip::trace", ?event),
    }
}

/// When the phases of a request happened, like curl's `-w` times: an
/// extension of every response.
///
/// The times count from [`start`](Self::start), the call that sent the
/// request (after redirects, the call for the last hop). The dial's phases
/// are given for a connection opened for this request (`None` on a reused
/// one). The response's timings end with its head; the body's end is the
/// caller's to time (`start().elapsed()` once it is read). A point in the
/// exchange is the time of the poll that saw it, so it can be early by the
/// one system call that made it happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    start: Instant,
    /// Time spent on the redirects before this hop.
    redirects: Duration,
    /// Each [`Mark`], as the instant it happened (the subtraction is left to
    /// the reader: the hot path only copies an `Instant`).
    marks: [Instant; 4],
    dial: DialTimes,
}

impl Timings {
    /// When the request (or the last hop of a redirect chain) started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Time spent on the redirects before this hop.
    pub fn redirects(&self) -> Duration {
        self.redirects
    }

    /// Until the request had its connection: zero for an idle one; for a
    /// new one, its dial's phases are in here.
    pub fn got_connection(&self) -> Duration {
        self.since_start(Mark::GotConnection)
    }

    /// Resolving the host, on a new connection to a name.
    pub fn dns(&self) -> Option<Duration> {
        self.dial.0[0].get()
    }

    /// The TCP connect that won (to the proxy, when there is one), on a new
    /// connection.
    pub fn connect(&self) -> Option<Duration> {
        self.dial.0[1].get()
    }

    /// The TLS handshake, on a new connection over TLS.
    pub fn tls(&self) -> Option<Duration> {
        self.dial.0[2].get()
    }

    /// Until the request head was handed to the socket.
    pub fn head_written(&self) -> Duration {
        self.since_start(Mark::HeadWritten)
    }

    /// Until the first response byte (of a 1xx, if one came).
    pub fn first_byte(&self) -> Duration {
        self.since_start(Mark::FirstByte)
    }

    /// Until the final response head was read.
    pub fn response_head(&self) -> Duration {
        self.since_start(Mark::ResponseHead)
    }

    fn since_start(&self, mark: Mark) -> Duration {
        self.marks[mark as usize].saturating_duration_since(self.start)
    }

    /// Timings of a request started at `start`, filled in as it runs.
    pub(crate) fn new(start: Instant) -> Self {
        Self { start, redirects: Duration::ZERO, marks: [start; 4], dial: DialTimes::default() }
    }

    /// Records that `mark` happened at `at`.
    #[inline]
    pub(crate) fn set(&mut self, mark: Mark, at: Instant) {
        self.marks[mark as usize] = at;
    }

    /// The phases of the dial that opened the request's connection.
    pub(crate) fn dialed(&mut self, dial: DialTimes) {
        self.dial = dial;
    }

    /// This hop started `redirects` after the first.
    pub(crate) fn after_redirects(&mut self, redirects: Duration) {
        self.redirects = redirects;
    }
}

/// A point in a request that its [`Timings`] report.
#[derive(Clone, Copy)]
pub(crate) enum Mark {
    GotConnection,
    HeadWritten,
    FirstByte,
    ResponseHead,
}

/// A duration in whole microseconds, `u32::MAX` for none: how a connection
/// keeps its dial's times until its first response (12 bytes for three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Micros(u32);

impl Micros {
    const NONE: Self = Self(u32::MAX);

    fn new(d: Duration) -> Self {
        let micros = d.as_secs().saturating_mul(1_000_000).saturating_add(u64::from(d.subsec_micros()));
        Self(u32::try_from(micros).unwrap_or(u32::MAX - 1))
    }

    fn get(self) -> Option<Duration> {
        (self != Self::NONE).then(|| Duration::from_micros(u64::from(self.0)))
    }
}

/// Dial phase times (DNS, connect, TLS) as kept in a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DialTimes([Micros; 3]);

impl Default for DialTimes {
    fn default() -> Self {
        Self([Micros::NONE; 3])
    }
}

/// What one dial reports: its events to the trace of the request that
/// started it, and the times and peer it keeps for its connection.
#[derive(Default)]
pub(crate) struct DialReport {
    trace: Option<Trace>,
    pub(crate) times: DialTimes,
    pub(crate) peer: Option<SocketAddr>,
    /// When the phase under way started.
    started: [Option<Instant>; 3],
}

impl DialReport {
    pub(crate) fn new(trace: Option<Trace>) -> Self {
        Self { trace, ..Self::default() }
    }

    /// Reports `event`, which happened at `now`, and times its phase.
    pub(crate) fn emit(&mut self, now: Instant, event: TraceEvent) {
        let phase = match &event {
            TraceEvent::DnsStart { .. } | TraceEvent::DnsDone { .. } => 0,
            TraceEvent::ConnectStart { .. } | TraceEvent::ConnectDone { .. } => 1,
            _ => 2,
        };
        match &event {
            TraceEvent::DnsStart { .. } | TraceEvent::TlsHandshakeStart => self.started[phase] = Some(now),
            // Racing attempts: the phase runs from the first start to the winner.
            TraceEvent::ConnectStart { .. } => {
                self.started[phase].get_or_insert(now);
            }
            TraceEvent::ConnectDone { addr, error: None } => self.peer = Some(*addr),
            _ => {}
        }
        let done = matches!(
            event,
            TraceEvent::DnsDone { error: None, .. }
                | TraceEvent::ConnectDone { error: None, .. }
                | TraceEvent::TlsHandshakeDone { ok: true }
        );
        if done && let Some(start) = self.started[phase].take() {
            self.times.0[phase] = Micros::new(now.saturating_duration_since(start));
        }
        // Dial events are logged in the dial task's own span.
        emit(self.trace.as_ref(), None, None, || event);
    }

    /// The whole transport took `elapsed` from a connector that reports no
    /// phases of its own (a Unix socket, a user's `Connect`): that is the connect.
    pub(crate) fn connected(&mut self, elapsed: Duration) {
        if self.times.0[1].get().is_none() {
            self.times.0[1] = Micros::new(elapsed);
        }
    }
}
