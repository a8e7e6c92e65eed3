//! One request, from `Client::request` to the response head: checkout, the
//! exchange driven by this future itself (no task, no channel), and retries
//! by the pure classifier in `conn::retry`.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use http::header::{CONNECTION, PROXY_AUTHORIZATION, UPGRADE};
use http::uri::Scheme;
use http::{HeaderValue, Method, Request, Response, Uri};

use super::body::Body;
use super::connect::Target;
use super::engine::{Engine, with_deadline};
use super::error::{BoxError, Error, Timeout};
use super::io::{InPoll, Timer};
use super::leased::Leased;
use super::options::Options;
use super::redirect::{self, Redirects};
use super::runtime::Runtime;
use super::trace::{Mark, Timings, TraceEvent};
use super::upgrade::Pending;
use super::upload::Upload;
use crate::conn::retry::classify;
use crate::conn::{BodyAllowed, CloseReason, Event, ExchangeError};
use crate::pool::Lease;
use crate::proto::{BodyKind, RequestHead, ResponseHead, TargetForm};

/// How an attempt ended without a response.
enum Failure {
    /// The exchange failed; a retry may help.
    Exchange(ExchangeError),
    /// Anything else: final.
    Final(Error),
}

/// Builds the request future. Validation runs here, before the future exists,
/// and the future is `attempts` itself: awaiting it from another `async fn`
/// would reserve its state twice, and this future is moved several times.
pub(crate) fn send<R, B>(
    engine: Arc<Engine<R>>,
    request: Request<B>,
) -> impl Future<Output = Result<Response<Body<R>>, Error>> + Send + 'static
where
    R: Runtime,
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let mut options = Options::take(&mut parts.extensions);
    let start = engine.runtime.now();
    // A timeout too long for an `Instant` (`Duration::MAX`) is no deadline.
    let deadline = options.timeout.or(engine.config.total_timeout).and_then(|t| start.checked_add(t));
    let connect = parts.method == Method::CONNECT;
    // A request that asks to switch protocols keeps its `Connection:
    // upgrade` (a server ignores `Upgrade` not named there); the pool never
    // reuses its connection either way.
    if engine.config.disable_keep_alives && !connect && !parts.headers.contains_key(UPGRADE) {
        parts.headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    // A range of a compressed body cannot be decoded alone (golang/go#8923):
    // a ranged request asks for the identity coding instead of the client's.
    #[cfg(feature = "gzip")]
    if engine.config.decompression.is_some()
        && parts.headers.contains_key(http::header::RANGE)
        && !parts.headers.contains_key(http::header::ACCEPT_ENCODING)
    {
        parts.headers.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    }
    let mut head = RequestHead {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        target_form: TargetForm::Origin,
    };
    let target = route(&engine, &mut head);
    let span = tracing::debug_span!(
        target: "roundtrip",
        "request",
        method = %head.method,
        host = target.as_ref().map_or("", |t| t.host()),
        attempt = tracing::field::Empty,
    );
    options.span = (!span.is_none()).then(|| Box::new(span));
    let upload = Upload::new(body, engine.config.retry_buffer);
    attempts(engine, target, head, upload, options, start, deadline)
}

/// Where `head` goes, with the request-target form and proxy credentials
/// that route asks for.
#[inline]
pub(super) fn route<R: Runtime>(engine: &Engine<R>, head: &mut RequestHead) -> Result<Target, Error> {
    let connect = head.method == Method::CONNECT;
    let target = match (head.uri.scheme(), head.uri.authority()) {
        (Some(scheme), Some(authority)) if *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS => {
            engine.target(scheme, authority)
        }
        // `CONNECT host:port` (hyper's form): over the route an `http://`
        // URL to `host:port` would take (its HTTP proxy, through its SOCKS
        // proxy, or direct). The port is required (RFC 9112 §3.2.3).
        (None, Some(authority)) if connect && authority.port().is_some() => {
            engine.target(&Scheme::HTTP, authority)
        }
        (None, Some(_)) if connect => return Err(Error::invalid_request_message("CONNECT needs host:port")),
        _ => return Err(Error::invalid_request_message("the URI needs an http or https scheme and a host")),
    };
    // CONNECT names its target in authority form (RFC 9112 §3.2.3), to a
    // proxy or not. A request forwarded by an HTTP proxy names its origin in
    // absolute form (§3.2.2) and carries the proxy's credentials, which a
    // tunneled or direct request never does.
    head.target_form = if connect {
        TargetForm::Authority
    } else if target.is_forwarded() {
        TargetForm::Absolute
    } else {
        TargetForm::Origin
    };
    if target.is_forwarded()
        && let Some(auth) = target.proxy().and_then(|p| p.basic_auth())
    {
        head.headers.insert(PROXY_AUTHORIZATION, auth.clone());
    }
    Ok(target)
}

/// The request until its response, within the total `deadline`, following
/// redirects as the client's policy says. A plain function around an `async
/// move` block, not an `async fn`: an `async fn`'s state keeps its arguments
/// twice (as passed, then as the body's locals), which grew this future,
/// moved several times per request, by 456 bytes. Redirects, rare, run in a
/// boxed future of their own.
#[allow(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice")]
fn attempts<R: Runtime>(
    engine: Arc<Engine<R>>,
    target: Result<Target, Error>,
    head: RequestHead,
    mut upload: Upload,
    options: Options,
    start: Instant,
    deadline: Option<Instant>,
) -> impl Future<Output = Result<Response<Body<R>>, Error>> + Send + 'static {
    async move {
        let target = match target {
            Ok(ref target) => target,
            Err(error) => return Err(error),
        };
        // The answer lives in this block only, so the future does not keep
        // room for it beside the redirect's.
        let redirect = {
            // `hop`'s body, written out: one generator less on the hot path.
            let answer = {
                let tries = pin!(tries(&engine, target, &head, &mut upload, &options, start));
                match deadline {
                    None => tries.await?,
                    Some(_) => with_deadline(&engine.runtime, deadline, tries)
                        .await
                        .unwrap_or_else(|| Err(Error::timeout(Timeout::Total, true)))?,
                }
            };
            if !(answer.response.status().is_redirection() && engine.config.redirect.follows_any()) {
                return respond(&head, answer, upload, options, deadline, Vec::new());
            }
            redirect::follow_boxed(engine, head, upload, options, deadline, answer)
        };
        redirect.await
    }
}

/// One request to its response head within `deadline`: checkout, exchange,
/// retries (a redirect's next hop; `attempts` has the same inline).
pub(super) async fn hop<R: Runtime>(
    engine: &Arc<Engine<R>>,
    target: &Target,
    head: &RequestHead,
    upload: &mut Upload,
    options: &Options,
    deadline: Option<Instant>,
) -> Result<Answer<R>, Error> {
    let start = engine.runtime.now();
    let tries = pin!(tries(engine, target, head, upload, options, start));
    match deadline {
        None => tries.await,
        Some(_) => with_deadline(&engine.runtime, deadline, tries)
            .await
            .unwrap_or_else(|| Err(Error::timeout(Timeout::Total, true))),
    }
}

/// A final response head, with the connection it came on.
pub(super) struct Answer<R: Runtime> {
    pub(super) leased: Leased<R>,
    pub(super) response: ResponseHead,
    pub(super) kind: BodyKind,
    pub(super) timings: Timings,
}

/// The response for the caller: its body streams from the connection, or
/// holds it after a protocol switch; `urls` are the URLs requested when
/// redirects were followed (more than one), for a [`Redirects`] extension.
/// Inlined: its arguments are large and it runs once per request.
#[inline(always)]
#[allow(clippy::too_many_arguments, reason = "the request's state, moved here whole")]
pub(super) fn respond<R: Runtime>(
    #[cfg_attr(not(feature = "gzip"), allow(unused_variables, reason = "decoding reads the request"))]
    request: &RequestHead,
    answer: Answer<R>,
    upload: Upload,
    options: Options,
    deadline: Option<Instant>,
    urls: Vec<Uri>,
) -> Result<Response<Body<R>>, Error> {
    let Answer { mut leased, response, kind, timings } = answer;
    #[cfg(feature = "rustls")]
    let tls = leased.conn().and_then(|conn| conn.tls.clone());
    let switched =
        leased.conn().is_some_and(|conn| conn.proto.close_reason() == Some(CloseReason::ProtocolSwitch));
    let mut pending = None;
    #[cfg(feature = "gzip")]
    let decoder = decoder_for(&leased.engine().config, request, &response, kind);
    #[cfg(feature = "gzip")]
    let decoding = decoder.is_some();
    let body = if switched && let Some(upgraded) = leased.take_upgraded() {
        Body::switched(pending.insert(Pending::new(upgraded)).clone())
    } else {
        Body::new(
            leased,
            kind,
            upload,
            options,
            deadline,
            #[cfg(feature = "gzip")]
            decoder,
        )
    };
    let mut response = response.into_response(body).map_err(|e| Error::protocol(e, true))?;
    response.extensions_mut().insert(timings);
    // The body is no longer what these described (Go drops both too).
    #[cfg(feature = "gzip")]
    if decoding {
        response.headers_mut().remove(http::header::CONTENT_ENCODING);
        response.headers_mut().remove(http::header::CONTENT_LENGTH);
    }
    #[cfg(feature = "rustls")]
    if let Some(tls) = tls {
        response.extensions_mut().insert(tls);
    }
    if let Some(pending) = pending {
        response.extensions_mut().insert(pending);
    }
    if urls.len() > 1 {
        response.extensions_mut().insert(Redirects(urls));
    }
    Ok(response)
}

/// Checkout and exchange, again on a fresh connection while the retry rules allow.
async fn tries<R: Runtime>(
    engine: &Arc<Engine<R>>,
    target: &Target,
    head: &RequestHead,
    upload: &mut Upload,
    options: &Options,
    start: Instant,
) -> Result<Answer<R>, Error> {
    let mut retries = 0;
    loop {
        if let Some(span) = &options.span {
            span.record("attempt", retries + 1);
        }
        // The checkout's result is taken apart in this block, so the future
        // keeps no room for it during the exchange.
        let (mut leased, mut timings, reused, waited) = {
            let checked = engine.checkout(target, options).await?;
            let reused = checked.lease.was_reused();
            let mut timings = Timings::new(start);
            timings.set(Mark::GotConnection, checked.at);
            // The dial's phases belong to the request its dial handed the
            // connection to; one that idled unused first is not this dial's.
            if !reused && checked.lease.idle_for().is_none() {
                timings.dialed(checked.conn.info.dial_times);
            }
            // Held before the callback runs, so a panicking callback still frees the slot.
            (Leased::new(engine.clone(), checked.lease, checked.conn), timings, reused, checked.waited)
        };
        options.trace(|| TraceEvent::GotConnection {
            reused,
            idle_for: leased.lease().and_then(Lease::idle_for),
            waited,
            peer: leased.info().and_then(|info| info.peer),
        });
        match exchange(&mut leased, head, upload, options, &mut timings).await {
            Ok((response, kind)) => {
                options.trace(|| TraceEvent::ResponseHead { status: response.status() });
                return Ok(Answer { leased, response, kind, timings });
            }
            Err(Failure::Final(error)) => return Err(error),
            Err(Failure::Exchange(error)) => {
                let mut io = None;
                if let Some(conn) = leased.conn() {
                    io = conn.take_io_error();
                    options.trace_closed(conn);
                }
                let decision = classify(&head.method, &head.headers, upload.is_replayable(), &error);
                tracing::debug!(%error, ?decision, "request attempt failed");
                if decision.should_retry() && retries < engine.config.max_retries && upload.rewind() {
                    retries += 1;
                    if let Some(lease) = leased.lease() {
                        engine.record_retry(lease);
                    }
                    drop(leased);
                    options.trace(|| TraceEvent::Retry { error });
                    continue;
                }
                drop(leased);
                return Err(Error::exchange(error, io));
            }
        }
    }
}

/// Sends the request on `leased` and drives it until the final response head.
async fn exchange<R: Runtime>(
    leased: &mut Leased<R>,
    head: &RequestHead,
    upload: &mut Upload,
    options: &Options,
    timings: &mut Timings,
) -> Result<(ResponseHead, BodyKind), Failure> {
    let runtime = leased.engine().runtime.clone();
    let conn = leased.conn().ok_or_else(|| Failure::Final(Error::canceled(false)))?;
    let id = conn
        .proto
        .send_request(head, upload.length())
        .map_err(|e| Failure::Final(Error::invalid_request(e)))?;
    options.trace(|| TraceEvent::RequestHeadBytes(conn.queued(runtime.now())));
    leased.set_exchange(id);
    let mut timer = Timer::default();
    let mut body_allowed = false;
    let mut first_byte = false;
    poll_fn(|cx| {
        let Some(conn) = leased.conn() else {
            return Poll::Ready(Err(Failure::Final(Error::canceled(false))));
        };
        let now = runtime.now();
        let mut in_poll = InPoll::default();
        loop {
            // Events first, so a body allowed at once goes out with its head
            // in one write. Handling them needs no second pass: only the pump
            // and the I/O below can produce more.
            while let Some(event) = conn.proto.poll_event() {
                match event {
                    Event::HeadSent { .. } => {
                        timings.set(Mark::HeadWritten, now);
                        options.trace_on(conn.span(), || TraceEvent::HeadWritten);
                    }
                    Event::RequestSent { .. } => options.trace_on(conn.span(), || TraceEvent::RequestWritten),
                    Event::BodyAllowed { reason, .. } => {
                        body_allowed = true;
                        if reason == BodyAllowed::Continue {
                            options.trace_on(conn.span(), || TraceEvent::Continue);
                        }
                    }
                    Event::Informational { head, .. } => {
                        if !std::mem::replace(&mut first_byte, true) {
                            timings.set(Mark::FirstByte, now);
                            options.trace_on(conn.span(), || TraceEvent::FirstByte);
                        }
                        options.trace_on(conn.span(), || TraceEvent::Informational { status: head.status() });
                        options
                            .trace_on(conn.span(), || TraceEvent::ResponseHeadBytes(head.as_bytes().clone()));
                        if let (Some(callback), Ok(response)) =
                            (&options.on_informational, head.into_response(()))
                        {
                            (callback.0)(&response);
                        }
                    }
                    Event::Response { head, body, .. } => {
                        timings.set(Mark::ResponseHead, now);
                        if !first_byte {
                            timings.set(Mark::FirstByte, now);
                            options.trace_on(conn.span(), || TraceEvent::FirstByte);
                        }
                        options
                            .trace_on(conn.span(), || TraceEvent::ResponseHeadBytes(head.as_bytes().clone()));
                        // A body released by this response (Go 1.23: the final
                        // status came first and the connection stays open) goes
                        // out now, so the connection is likely reusable by the
                        // time the caller has the response.
                        if body_allowed && !upload.is_done() {
                            upload.pump(cx, conn, id).map_err(Failure::Final)?;
                            conn.drive(cx, now, &runtime, &mut timer, &mut in_poll);
                        }
                        return Poll::Ready(Ok((head, body)));
                    }
                    Event::RequestBodyRejected { .. } => upload.stop(),
                    Event::Failed { error, .. } => return Poll::Ready(Err(Failure::Exchange(error))),
                    _ => {}
                }
            }
            let mut progress = body_allowed && upload.pump(cx, conn, id).map_err(Failure::Final)?;
            progress |= conn.drive(cx, now, &runtime, &mut timer, &mut in_poll);
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// A decoder for `response` when the client itself offered its coding (the
/// caller set no `Accept-Encoding`) and there is a body to decode.
#[cfg(feature = "gzip")]
#[inline]
fn decoder_for(
    config: &super::config::ClientConfig,
    request: &RequestHead,
    response: &ResponseHead,
    kind: BodyKind,
) -> Option<Box<super::decode::Decoder>> {
    let limits = config.decompression?;
    let coding = super::decode::Coding::of(response.content_encoding()?)?;
    if kind == BodyKind::Empty || request.headers.contains_key(http::header::ACCEPT_ENCODING) {
        return None;
    }
    // zstd's set-up cannot fail with these settings; if it did, the body
    // would come as sent, with its Content-Encoding.
    super::decode::Decoder::new(coding, limits).ok().map(Box::new)
}
