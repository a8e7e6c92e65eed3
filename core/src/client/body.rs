//! The response body: streams from its connection with back-pressure and gives
//! the connection back to the pool at its end. Dropping it early cancels.
//!
//! Its helpers: [`Body::frame`] and [`Body::chunk`] read a piece at a time,
//! [`Body::discard`] reads to the end for the connection's sake, and
//! [`Body::bytes`], [`Body::text`] and [`Body::text_in`] collect under a
//! limit, `text_in` in the charset a `Content-Type` names.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::HeaderValue;

#[cfg(feature = "gzip")]
use super::decode::{Decoder, Out};
use http_body::{Frame, SizeHint};

use super::error::{Error, Timeout};
use super::io::{InPoll, Timer};
use super::leased::Leased;
use super::options::Options;
use super::runtime::Runtime;
use super::trace::TraceEvent;
use super::upgrade::{Pending, Upgraded};
use super::upload::Upload;
use crate::conn::{BodyChunk, Event, ExchangeId};
use crate::proto::BodyKind;

/// A response body. Implements [`http_body::Body`]; [`frame`](Self::frame) and
/// [`chunk`](Self::chunk) read it a piece at a time, [`bytes`](Self::bytes) and
/// [`text`](Self::text) collect it under a size limit, and
/// [`discard`](Self::discard) reads it to the end without keeping it.
///
/// It owns its connection while streaming: read it to the end (or drop it) so
/// the connection can serve another request. Dropping it early closes the
/// connection unless the client's `drain_on_cancel` allows reading out the rest.
///
/// ```no_run
/// # use roundtrip_core::client::{Body, Error, Runtime};
/// # async fn f<R: Runtime>(response: http::Response<Body<R>>) -> Result<(), Error> {
/// let mut body = response.into_body();
/// while let Some(chunk) = body.chunk().await? {
///     println!("{} bytes", chunk.len());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a response body holds its connection until read or dropped"]
pub struct Body<R: Runtime> {
    streaming: Option<Streaming<R>>,
    /// The connection after a protocol switch, until [`Body::upgrade`] (or
    /// [`upgrade`](super::upgrade) on the response) takes it.
    switched: Option<Pending>,
}

/// [`Streaming::remaining`] of a body whose length is not known.
const UNKNOWN_LENGTH: u64 = u64::MAX;

struct Streaming<R: Runtime> {
    leased: Leased<R>,
    id: ExchangeId,
    /// The rest of a request body still being sent (full duplex); boxed, as it
    /// is rare and the body is moved around with every response.
    upload: Option<Box<Upload>>,
    options: Options,
    /// Bytes left of a body of known length, or [`UNKNOWN_LENGTH`] (chunked,
    /// close-delimited): not an `Option`, which would take a word more of
    /// every response (a length of `u64::MAX` is as good as unknown).
    remaining: u64,
    /// The connection gave the body's last bytes ([`BodyChunk::Last`]): the
    /// exchange is over, and the connection goes back with them.
    ended: bool,
    deadline: Option<Instant>,
    timer: Timer<R>,
    deadline_timer: Timer<R>,
    /// Decodes a compressed body the client asked for; boxed, as most
    /// bodies are not.
    #[cfg(feature = "gzip")]
    decoder: Option<Box<Decoder>>,
}

impl<R: Runtime> Body<R> {
    #[inline]
    pub(crate) fn new(
        mut leased: Leased<R>,
        kind: BodyKind,
        upload: Upload,
        options: Options,
        deadline: Option<Instant>,
        #[cfg(feature = "gzip")] decoder: Option<Box<Decoder>>,
    ) -> Self {
        if kind == BodyKind::Empty {
            // Bodyless responses give the connection back before the caller sees
            // the response, so its next request finds it idle (Go #13633).
            if let Some(conn) = leased.conn() {
                while let Some(event) = conn.proto.poll_event() {
                    if let Event::RequestSent { .. } = event {
                        options.trace_on(conn.span(), || TraceEvent::RequestWritten);
                    }
                }
            }
            options.trace(|| TraceEvent::BodyDone);
            if let Some(conn) = leased.conn() {
                options.trace_closed(conn);
            }
            leased.release_later((!upload.is_done()).then(|| Box::new(upload)));
            return Self { streaming: None, switched: None };
        }
        let remaining = match kind {
            BodyKind::Empty => 0,
            BodyKind::Length(n) => n,
            BodyKind::Chunked | BodyKind::CloseDelimited => UNKNOWN_LENGTH,
        };
        // A decoded body's length is known only at its end.
        #[cfg(feature = "gzip")]
        let remaining = if decoder.is_some() { UNKNOWN_LENGTH } else { remaining };
        let Some(id) = leased.exchange() else { return Self { streaming: None, switched: None } };
        let (timer, deadline_timer) = (Timer::default(), Timer::default());
        Self {
            streaming: Some(Streaming {
                leased,
                id,
                upload: (!upload.is_done()).then(|| Box::new(upload)),
                options,
                remaining,
                ended: false,
                deadline,
                timer,
                deadline_timer,
                #[cfg(feature = "gzip")]
                decoder,
            }),
            switched: None,
        }
    }

    /// The empty body of a response that switched protocols, holding the
    /// connection for [`upgrade`](Self::upgrade).
    pub(crate) fn switched(pending: Pending) -> Self {
        Self { streaming: None, switched: Some(pending) }
    }

    /// The connection, if the response switched protocols: a `101` to a
    /// request with `Upgrade`, or a `2xx` to `CONNECT`. As Go gives it as
    /// the body, and hyper with `upgrade::on`. `None` for any other
    /// response, whose body is then dropped, or if
    /// [`upgrade`](super::upgrade) on the response took it first.
    ///
    /// ```no_run
    /// # use roundtrip_core::client::{Body, Client, Error, Runtime};
    /// # async fn f<R: Runtime>(client: Client<R>) -> Result<(), Box<dyn std::error::Error>> {
    /// let response = client
    ///     .get("http://127.0.0.1:8080/chat")
    ///     .header("connection", "upgrade")
    ///     .header("upgrade", "websocket")
    ///     .send()
    ///     .await?;
    /// if let Some(mut io) = response.into_body().upgrade() {
    ///     io.write_all(b"now speaking another protocol").await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn upgrade(self) -> Option<Upgraded> {
        self.switched?.take()
    }

    /// The next frame: data, or the trailers at the end of a chunked body;
    /// `None` once the body has ended (or failed). The connection goes back
    /// to the pool as the end is read.
    ///
    /// The same as polling [`http_body::Body::poll_frame`], without the
    /// `poll_fn` and `Pin` around it.
    ///
    /// ```no_run
    /// # use roundtrip_core::client::{Body, Error, Runtime};
    /// # async fn f<R: Runtime>(mut body: Body<R>) -> Result<(), Error> {
    /// while let Some(frame) = body.frame().await {
    ///     match frame?.into_data() {
    ///         Ok(data) => println!("{} bytes", data.len()),
    ///         Err(frame) => println!("trailers: {:?}", frame.trailers_ref()),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn frame(&mut self) -> impl Future<Output = Option<Result<Frame<Bytes>, Error>>> + Send + '_ {
        poll_fn(|cx| self.poll_next(cx))
    }

    /// The next chunk of data, as it arrived (no copy); `None` once the body
    /// has ended. Trailers are skipped: read them with [`frame`](Self::frame).
    /// See the example on [`Body`].
    ///
    /// One future over the body's poll, not an `async` layer over
    /// [`frame`](Self::frame): a loop of `chunk()` calls is the hot path of
    /// every streaming reader.
    pub fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, Error>> + Send + '_ {
        poll_fn(|cx| {
            loop {
                match std::task::ready!(self.poll_next(cx)) {
                    None => return Poll::Ready(Ok(None)),
                    Some(Err(error)) => return Poll::Ready(Err(error)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Poll::Ready(Ok(Some(data)));
                        }
                    }
                }
            }
        })
    }

    /// Reads the body to its end and drops each chunk as it comes, so the
    /// connection goes back to the pool for the next request. For a caller
    /// that wants the connection reused but not the body (a `HEAD`-like use of
    /// a `GET`, a status check, an error response): dropping the body instead
    /// closes its connection (unless the client's `drain_on_cancel` allows a
    /// short read-out), and the next request pays for a new one.
    ///
    /// It reads all there is, however long: drop the body instead when it may
    /// be large or endless (the total timeout, if any, still applies). Fails
    /// as the body does; the connection is then not reused.
    ///
    /// ```no_run
    /// # use roundtrip_core::client::{Body, Error, Runtime};
    /// # async fn f<R: Runtime>(response: http::Response<Body<R>>) -> Result<(), Error> {
    /// if !response.status().is_success() {
    ///     response.into_body().discard().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn discard(mut self) -> Result<(), Error> {
        while let Some(frame) = self.frame().await {
            frame?;
        }
        Ok(())
    }

    /// Collects the body, failing once it passes `limit` bytes. A body that
    /// arrives as one piece is returned without copying.
    pub async fn bytes(mut self, limit: usize) -> Result<Bytes, Error> {
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut total = 0usize;
        while let Some(frame) = self.frame().await {
            let Ok(data) = frame?.into_data() else { continue };
            total += data.len();
            if total > limit {
                return Err(Error::body_too_large(limit));
            }
            match first.take() {
                None if rest.is_empty() => first = Some(data),
                previous => {
                    if let Some(previous) = previous {
                        rest.extend_from_slice(&previous);
                    }
                    rest.extend_from_slice(&data);
                }
            }
        }
        Ok(first.unwrap_or_else(|| rest.freeze()))
    }

    /// Collects the body as UTF-8 text, failing past `limit` bytes; bytes
    /// that are not UTF-8 are a decode error. A response without a body
    /// gives `""`. For the charset the response names, use
    /// [`text_in`](Self::text_in) with its `Content-Type` (the `roundtrip`
    /// crate's `response.text(limit)` does).
    ///
    /// ```no_run
    /// # use roundtrip_core::client::{Body, Error, Runtime};
    /// # async fn f<R: Runtime>(response: http::Response<Body<R>>) -> Result<(), Error> {
    /// let text = response.into_body().text(1 << 20).await?;
    /// # Ok(()) }
    /// ```
    pub async fn text(self, limit: usize) -> Result<String, Error> {
        self.text_in(None, limit).await
    }

    /// Collects the body as text in the charset `content_type` names (the
    /// response's `Content-Type`), failing past `limit` bytes of the body as
    /// received. The charset is the `charset` parameter:
    /// - none, `utf-8` or `us-ascii` (ASCII is a subset): UTF-8, and bytes that
    ///   are not UTF-8 are a decode error;
    /// - `iso-8859-1` and its aliases (`latin1`, `l1`, ...): each byte is the
    ///   code point of the same value;
    /// - any other, `windows-1252` included (it differs from ISO-8859-1 in
    ///   `0x80..=0x9F`): a decode error naming the charset, before any of the
    ///   body is read. Read such a body with [`bytes`](Self::bytes) and decode
    ///   it with an encoding crate.
    ///
    /// The charset is found here, when asked for, not for every response:
    /// the hot path pays nothing for it.
    ///
    /// ```no_run
    /// # use roundtrip_core::client::{Body, Error, Runtime};
    /// # async fn f<R: Runtime>(response: http::Response<Body<R>>) -> Result<(), Error> {
    /// let content_type = response.headers().get(http::header::CONTENT_TYPE).cloned();
    /// let text = response.into_body().text_in(content_type.as_ref(), 1 << 20).await?;
    /// # Ok(()) }
    /// ```
    pub async fn text_in(self, content_type: Option<&HeaderValue>, limit: usize) -> Result<String, Error> {
        if self.streaming.is_none() {
            return Ok(String::new());
        }
        let latin1 = match content_type.map_or(Charset::Utf8, |v| Charset::of_content_type(v.as_bytes())) {
            Charset::Unsupported(name) => {
                let message = format!("charset {name} is not supported; read the bytes with bytes()");
                return Err(Error::decode(message));
            }
            charset => charset == Charset::Latin1,
        };
        let bytes = self.bytes(limit).await?;
        if latin1 && !bytes.is_ascii() {
            return Ok(bytes.iter().map(|&b| char::from(b)).collect());
        }
        String::from_utf8(bytes.into()).map_err(Error::decode)
    }

    /// The body is over: the connection goes back to the pool (or on to
    /// finish an upload).
    fn finish(&mut self, cx: &mut Context<'_>) {
        if let Some(mut s) = self.streaming.take() {
            s.options.trace(|| TraceEvent::BodyDone);
            if let Some(conn) = s.leased.conn() {
                s.options.trace_closed(conn);
            }
            s.leased.release(cx, s.upload);
        }
    }

    #[inline]
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let Some(s) = self.streaming.as_mut() else { return Poll::Ready(None) };
        #[cfg(feature = "gzip")]
        let result = if s.decoder.is_some() { s.poll_decoded(cx) } else { s.poll_next(cx) };
        #[cfg(not(feature = "gzip"))]
        let result = s.poll_next(cx);
        match &result {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && s.remaining != UNKNOWN_LENGTH
                {
                    s.remaining = s.remaining.saturating_sub(data.len() as u64);
                }
                // The last bytes of a plain body end it here, not at the
                // next poll: the connection is back in the pool even if
                // the caller never asks again. A compressed body ends when
                // its decoder has given everything.
                #[cfg(feature = "gzip")]
                let ended = s.ended && s.decoder.is_none();
                #[cfg(not(feature = "gzip"))]
                let ended = s.ended;
                if ended {
                    self.finish(cx);
                }
            }
            Poll::Ready(None) => self.finish(cx),
            Poll::Ready(Some(Err(_))) => self.streaming = None,
            Poll::Pending => {}
        }
        result
    }
}

/// The charset [`Body::text`] decodes with. Two words (a one-byte enum would
/// take one, with its padding) so that the error can name an unsupported
/// charset; that name, rare, is boxed twice to keep its pointer thin.
#[derive(Debug, PartialEq, Eq)]
enum Charset {
    /// No charset, `utf-8` or `us-ascii`.
    Utf8,
    /// `iso-8859-1` and its aliases: each byte is a code point.
    Latin1,
    /// Any other, named as received (unquoted, for the error message).
    Unsupported(Box<Box<str>>),
}

impl Charset {
    /// The `charset` parameter of a `Content-Type` value (RFC 9110 §8.3.1),
    /// its name and value compared ASCII case-insensitively. A value without
    /// one (or with an empty one) is UTF-8. Allocates only for an unsupported
    /// charset.
    fn of_content_type(value: &[u8]) -> Self {
        let Some(start) = value.iter().position(|&b| b == b';') else { return Self::Utf8 };
        let mut rest = &value[start..];
        // Each pass starts at a `;` and takes one parameter.
        while let [b';', after @ ..] = rest {
            let after = after.trim_ascii_start();
            let name_end = after.iter().position(|&b| b == b'=' || b == b';').unwrap_or(after.len());
            let (name, after) = after.split_at(name_end);
            let Some(after) = after.strip_prefix(b"=") else {
                rest = after;
                continue;
            };
            let after = after.trim_ascii_start();
            let (raw, quoted, after) = match after {
                [b'"', inner @ ..] => {
                    let (inner, after) = split_quoted(inner);
                    (inner, true, after)
                }
                _ => {
                    let end = after.iter().position(|&b| b == b';').unwrap_or(after.len());
                    let (token, after) = after.split_at(end);
                    (token.trim_ascii_end(), false, after)
                }
            };
            if name.trim_ascii_end().eq_ignore_ascii_case(b"charset") {
                return Self::named(raw, quoted);
            }
            rest = after;
        }
        Self::Utf8
    }

    /// The charset named by `raw` (the inside of a quoted-string when
    /// `quoted`, with its backslash escapes still in).
    fn named(raw: &[u8], quoted: bool) -> Self {
        const UTF8: &[&str] = &["utf-8", "utf8", "us-ascii", "ascii"];
        const LATIN1: &[&str] = &[
            "iso-8859-1",
            "iso8859-1",
            "iso_8859-1",
            "iso_8859-1:1987",
            "latin1",
            "l1",
            "iso-ir-100",
            "ibm819",
            "cp819",
            "csisolatin1",
        ];
        let unescaped = || unescape(raw, quoted);
        let is = |label: &&str| unescaped().map(|b| b.to_ascii_lowercase()).eq(label.bytes());
        if raw.is_empty() || UTF8.iter().any(is) {
            Self::Utf8
        } else if LATIN1.iter().any(is) {
            Self::Latin1
        } else {
            let name: Vec<u8> = unescaped().collect();
            Self::Unsupported(Box::new(String::from_utf8_lossy(&name).into()))
        }
    }
}

/// The bytes of a parameter value: a quoted-string's quoted-pairs (`\x`)
/// give `x`.
fn unescape(raw: &[u8], quoted: bool) -> impl Iterator<Item = u8> + '_ {
    let mut bytes = raw.iter().copied();
    std::iter::from_fn(move || match bytes.next()? {
        b'\\' if quoted => bytes.next(),
        b => Some(b),
    })
}

/// Splits after a quoted-string's opening quote: its inside (escapes kept)
/// and what follows the closing quote. An unclosed one runs to the end.
fn split_quoted(value: &[u8]) -> (&[u8], &[u8]) {
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'"' => return (&value[..i], &value[i + 1..]),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    (value, &[])
}

impl<R: Runtime> Streaming<R> {
    /// The total deadline passed: the connection closes (a timed-out
    /// connection is never reused, even if the rest could be drained).
    fn timed_out(&mut self) -> Error {
        if let Some(conn) = self.leased.conn() {
            conn.proto.close();
        }
        Error::timeout(Timeout::Total, true)
    }

    /// Inlined into both of its callers (the plain and the decoded body):
    /// it is the body's hot loop.
    #[inline(always)]
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let runtime = self.leased.engine().runtime.clone();
        let Some(conn) = self.leased.conn() else { return Poll::Ready(Some(Err(Error::canceled(true)))) };
        let id = self.id;
        let mut in_poll = InPoll::default();
        loop {
            // Checked on every pass, not only when idle: a fast endless body
            // must not outrun the total deadline.
            let now = runtime.now();
            if self.deadline.is_some_and(|d| now >= d) {
                return Poll::Ready(Some(Err(self.timed_out())));
            }
            let mut progress = false;
            if let Some(upload) = self.upload.as_mut().filter(|u| !u.is_done()) {
                match upload.pump(cx, conn, id) {
                    Ok(moved) => progress |= moved,
                    Err(e) => return Poll::Ready(Some(Err(e))),
                }
            }
            match conn.proto.read_body(now, id, usize::MAX) {
                Ok(BodyChunk::Data(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Ok(BodyChunk::Last(data)) => {
                    self.ended = true;
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Ok(BodyChunk::Trailers(trailers)) => return Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                Ok(BodyChunk::End) => return Poll::Ready(None),
                Ok(BodyChunk::Pending) => {}
                Err(e) => return Poll::Ready(Some(Err(Error::exchange(e, conn.take_io_error())))),
            }
            progress |= conn.drive(cx, now, &runtime, &mut self.timer, &mut in_poll);
            while let Some(event) = conn.proto.poll_event() {
                progress = true;
                match (event, self.upload.as_mut()) {
                    (Event::RequestBodyRejected { .. }, Some(upload)) => upload.stop(),
                    (Event::RequestSent { .. }, _) => {
                        self.options.trace_on(conn.span(), || TraceEvent::RequestWritten)
                    }
                    _ => {}
                }
            }
            if progress {
                continue;
            }
            if self.deadline_timer.poll(cx, &runtime, self.deadline).is_ready() {
                return Poll::Ready(Some(Err(self.timed_out())));
            }
            return Poll::Pending;
        }
    }
}

#[cfg(feature = "gzip")]
impl<R: Runtime> Streaming<R> {
    /// The next frame of a compressed body, decoded: the framed body is read
    /// only when the decoder has given all it can, so a bomb never gets
    /// ahead of the reader. Ends once both the compressed stream and the
    /// framed body have; a decode error closes the connection (the body is
    /// then dropped unread).
    fn poll_decoded(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else { return self.poll_next(cx) };
            match decoder.next() {
                Ok(Out::Data(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Ok(Out::NeedInput) => {
                    let next = std::task::ready!(self.poll_next(cx));
                    let Some(decoder) = self.decoder.as_mut() else { continue };
                    match next {
                        Some(Ok(frame)) => match frame.into_data() {
                            Ok(data) => decoder.push(data),
                            Err(frame) => {
                                decoder.trailers = frame.into_trailers().ok();
                                decoder.end();
                            }
                        },
                        Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                        None => decoder.end(),
                    }
                }
                // The compressed stream is whole: what is left of the framed
                // body (trailers, or bytes past the stream, dropped) is read
                // to its end so the connection can be reused.
                Ok(Out::Done) => {
                    if let Some(trailers) = self.decoder.as_mut().and_then(|d| d.trailers.take()) {
                        return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                    }
                    match std::task::ready!(self.poll_next(cx)) {
                        None => return Poll::Ready(None),
                        Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                        Some(Ok(frame)) if frame.is_trailers() => return Poll::Ready(Some(Ok(frame))),
                        Some(Ok(_)) => {}
                    }
                }
                Err(e) => {
                    if let Some(conn) = self.leased.conn() {
                        conn.proto.close();
                    }
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl<R: Runtime> http_body::Body for Body<R> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.poll_next(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.streaming.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.streaming.as_ref().map(|s| s.remaining) {
            None => SizeHint::with_exact(0),
            Some(UNKNOWN_LENGTH) => SizeHint::default(),
            Some(n) => SizeHint::with_exact(n),
        }
    }
}

impl<R: Runtime> std::fmt::Debug for Body<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("streaming", &self.streaming.is_some())
            .field("switched", &self.switched.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Charset;

    fn of(value: &str) -> Charset {
        Charset::of_content_type(value.as_bytes())
    }

    fn unsupported(name: &str) -> Charset {
        Charset::Unsupported(Box::new(name.into()))
    }

    #[test]
    fn charset_of_content_type() {
        assert_eq!(of("text/plain"), Charset::Utf8);
        assert_eq!(of("text/plain;"), Charset::Utf8);
        assert_eq!(of("text/plain; charset=utf-8"), Charset::Utf8);
        assert_eq!(of("text/plain;charset=UTF-8"), Charset::Utf8);
        assert_eq!(of(r#"text/plain; charset="UTF-8""#), Charset::Utf8);
        assert_eq!(of("text/plain; charset=US-ASCII"), Charset::Utf8);
        assert_eq!(of("text/plain; charset="), Charset::Utf8);
        assert_eq!(of(r#"text/plain; charset="""#), Charset::Utf8);
        assert_eq!(of("text/html; CHARSET=ISO-8859-1"), Charset::Latin1);
        assert_eq!(of("text/html; charset = latin1 ; format=flowed"), Charset::Latin1);
        assert_eq!(of("text/html; charset=l1"), Charset::Latin1);
        assert_eq!(of(r#"text/html; charset="iso\-8859-1""#), Charset::Latin1);
        assert_eq!(of("text/html; charset=windows-1252"), unsupported("windows-1252"));
        assert_eq!(of("text/html; charset=Shift_JIS"), unsupported("Shift_JIS"));
        assert_eq!(of(r#"text/html; charset="shift_jis""#), unsupported("shift_jis"));
    }

    /// Only the `charset` parameter counts: a quoted `;` or `charset=` in
    /// another parameter's value is not one, and the first one wins.
    #[test]
    fn charset_is_a_parameter_of_its_own() {
        assert_eq!(of(r#"text/plain; title="a; charset=latin1"; charset=utf-8"#), Charset::Utf8);
        assert_eq!(of(r#"text/plain; title="a \" ; charset=latin1""#), Charset::Utf8);
        assert_eq!(of("text/plain; xcharset=latin1"), Charset::Utf8);
        assert_eq!(of("text/plain; flag; charset=latin1"), Charset::Latin1);
        assert_eq!(of("text/plain; charset=latin1; charset=utf-8"), Charset::Latin1);
        assert_eq!(of("text/plain; charset=\"latin1"), Charset::Latin1, "an unclosed quote runs to the end");
    }
}
