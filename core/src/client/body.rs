//! The response body: streams from its connection with back-pressure and gives
//! the connection back to the pool at its end. Dropping it early cancels.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};

use super::error::{Error, Timeout};
use super::io::Timer;
use super::leased::Leased;
use super::options::{Options, TraceEvent};
use super::runtime::Runtime;
use super::upload::Upload;
use crate::conn::{BodyChunk, Event, ExchangeId};
use crate::proto::BodyKind;

/// A response body. Implements [`http_body::Body`]; [`bytes`](Self::bytes) and
/// [`text`](Self::text) collect it under a size limit.
///
/// It owns its connection while streaming: read it to the end (or drop it) so
/// the connection can serve another request. Dropping it early closes the
/// connection unless the client's `drain_on_cancel` allows reading out the rest.
#[must_use = "a response body holds its connection until read or dropped"]
pub struct Body<R: Runtime> {
    streaming: Option<Streaming<R>>,
}

struct Streaming<R: Runtime> {
    leased: Leased<R>,
    id: ExchangeId,
    /// The rest of a request body still being sent (full duplex); boxed, as it
    /// is rare and the body is moved around with every response.
    upload: Option<Box<Upload>>,
    options: Options,
    remaining: Option<u64>,
    deadline: Option<Instant>,
    timer: Timer<R>,
    deadline_timer: Timer<R>,
}

impl<R: Runtime> Body<R> {
    pub(crate) fn new(
        mut leased: Leased<R>,
        kind: BodyKind,
        upload: Upload,
        options: Options,
        deadline: Option<Instant>,
    ) -> Self {
        if kind == BodyKind::Empty {
            // Bodyless responses give the connection back before the caller sees
            // the response, so its next request finds it idle (Go #13633).
            if let Some(conn) = leased.conn() {
                while conn.proto.poll_event().is_some() {}
            }
            leased.release_later((!upload.is_done()).then(|| Box::new(upload)));
            return Self { streaming: None };
        }
        let remaining = match kind {
            BodyKind::Empty => Some(0),
            BodyKind::Length(n) => Some(n),
            BodyKind::Chunked | BodyKind::CloseDelimited => None,
        };
        let Some(id) = leased.exchange() else { return Self { streaming: None } };
        let (timer, deadline_timer) = (Timer::default(), Timer::default());
        Self {
            streaming: Some(Streaming {
                leased,
                id,
                upload: (!upload.is_done()).then(|| Box::new(upload)),
                options,
                remaining,
                deadline,
                timer,
                deadline_timer,
            }),
        }
    }

    /// Collects the body, failing once it passes `limit` bytes. A body that
    /// arrives as one piece is returned without copying.
    pub async fn bytes(mut self, limit: usize) -> Result<Bytes, Error> {
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut total = 0usize;
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
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

    /// Collects the body as UTF-8 text, failing past `limit` bytes.
    pub async fn text(self, limit: usize) -> Result<String, Error> {
        let bytes = self.bytes(limit).await?;
        String::from_utf8(bytes.into()).map_err(Error::decode)
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let Some(s) = self.streaming.as_mut() else { return Poll::Ready(None) };
        let result = s.poll_next(cx);
        match &result {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(remaining)) = (frame.data_ref(), s.remaining.as_mut()) {
                    *remaining = remaining.saturating_sub(data.len() as u64);
                }
            }
            Poll::Ready(None) => {
                if let Some(s) = self.streaming.take() {
                    s.options.trace(TraceEvent::BodyDone);
                    s.leased.release(cx, s.upload);
                }
            }
            Poll::Ready(Some(Err(_))) => self.streaming = None,
            Poll::Pending => {}
        }
        result
    }
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

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let runtime = self.leased.engine().runtime.clone();
        let Some(conn) = self.leased.conn() else { return Poll::Ready(Some(Err(Error::canceled(true)))) };
        let id = self.id;
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
                Ok(BodyChunk::Trailers(trailers)) => return Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                Ok(BodyChunk::End) => return Poll::Ready(None),
                Ok(BodyChunk::Pending) => {}
                Err(e) => return Poll::Ready(Some(Err(Error::exchange(e, conn.take_io_error())))),
            }
            progress |= conn.drive(cx, now, &runtime, &mut self.timer);
            while let Some(event) = conn.proto.poll_event() {
                progress = true;
                if let (Event::RequestBodyRejected { .. }, Some(upload)) = (event, self.upload.as_mut()) {
                    upload.stop();
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
            Some(Some(n)) => SizeHint::with_exact(n),
            Some(None) => SizeHint::default(),
        }
    }
}

impl<R: Runtime> std::fmt::Debug for Body<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").field("streaming", &self.streaming.is_some()).finish()
    }
}
