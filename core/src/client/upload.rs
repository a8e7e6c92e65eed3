//! The request body as the engine sends it: any `http_body::Body`, type-erased,
//! with the frames already sent kept (up to a cap) so a retry can replay them.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::HeaderMap;
use http_body::{Body, Frame};

use super::error::{BoxError, Error};
use super::io::Conn;
use crate::conn::ExchangeId;
use crate::proto::BodyLength;

/// A request body with its data as `Bytes` (zero-copy for `Bytes` bodies).
trait ErasedBody: Send {
    fn poll_bytes(self: Pin<&mut Self>, cx: &mut Context<'_>)
    -> Poll<Option<Result<Frame<Bytes>, BoxError>>>;
}

impl<B> ErasedBody for B
where
    B: Body + Send,
    B::Error: Into<BoxError>,
{
    fn poll_bytes(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.poll_frame(cx).map(|frame| {
            frame.map(|frame| {
                frame.map(|f| f.map_data(|mut data| data.copy_to_bytes(data.remaining()))).map_err(Into::into)
            })
        })
    }
}

/// Queued bytes beyond which the body is not polled until the socket drains.
const MAX_QUEUED: usize = 64 * 1024;

pub(crate) struct Upload {
    body: Option<Pin<Box<dyn ErasedBody>>>,
    length: BodyLength,
    /// Data frames sent so far, while they fit in `cap` bytes.
    sent: Vec<Bytes>,
    sent_bytes: usize,
    /// Boxed: trailers are rare, and this struct lives in every request future.
    trailers: Option<Box<HeaderMap>>,
    /// The body returned its end.
    ended: bool,
    /// `sent` holds every frame sent, so the body can be produced again.
    replayable: bool,
    cap: usize,
    /// Next frame of `sent` to send again after a rewind.
    cursor: usize,
    /// The connection has the whole body (finished) or refused it.
    done: bool,
}

impl Upload {
    pub(crate) fn new<B>(body: B, cap: usize) -> Self
    where
        B: Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let hint = body.size_hint();
        let (body, length) = if body.is_end_stream() {
            (None, BodyLength::Empty)
        } else {
            let length = hint.exact().map_or(BodyLength::Unknown, BodyLength::Known);
            (Some(Box::pin(body) as Pin<Box<dyn ErasedBody>>), length)
        };
        Self {
            ended: body.is_none(),
            body,
            length,
            sent: Vec::new(),
            sent_bytes: 0,
            trailers: None,
            replayable: true,
            cap,
            cursor: 0,
            done: false,
        }
    }

    pub(crate) fn length(&self) -> BodyLength {
        self.length
    }

    pub(crate) fn is_replayable(&self) -> bool {
        self.replayable
    }

    /// Starts over for another attempt; false if the body cannot be replayed.
    pub(crate) fn rewind(&mut self) -> bool {
        self.cursor = 0;
        self.done = false;
        self.replayable
    }

    /// The connection will not take more of the body.
    pub(crate) fn stop(&mut self) {
        self.done = true;
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done || self.length == BodyLength::Empty
    }

    /// Moves body frames to the connection while it has room. Returns whether
    /// anything moved; an error means the body failed and the exchange with it.
    pub(crate) fn pump(
        &mut self,
        cx: &mut Context<'_>,
        conn: &mut Conn,
        id: ExchangeId,
    ) -> Result<bool, Error> {
        let mut progress = false;
        while !self.is_done() && conn.proto.pending_write() < MAX_QUEUED {
            let frame = match self.next_frame(cx) {
                Poll::Ready(frame) => frame?,
                Poll::Pending => break,
            };
            progress = true;
            let sent = match frame {
                Some(data) => conn.proto.send_data(id, data),
                None => {
                    self.done = true;
                    conn.proto.finish(id, self.trailers.as_deref())
                }
            };
            if let Err(e) = sent {
                // A late frame after the server refused the body is dropped; any
                // other refusal already failed the exchange, which reports it.
                tracing::trace!(error = %e, "request body frame not sent");
                self.done = true;
            }
        }
        Ok(progress)
    }

    /// The next data frame, or `None` at the end (trailers kept in `self.trailers`).
    fn next_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        loop {
            if let Some(data) = self.sent.get(self.cursor) {
                self.cursor += 1;
                return Poll::Ready(Ok(Some(data.clone())));
            }
            let Some(body) = self.body.as_mut().filter(|_| !self.ended) else { return Poll::Ready(Ok(None)) };
            let frame = match body.as_mut().poll_bytes(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.ended = true;
                    return Poll::Ready(Ok(None));
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(Error::request_body(e))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            match frame.into_data() {
                Ok(data) if data.is_empty() => continue,
                Ok(data) => {
                    self.record(&data);
                    return Poll::Ready(Ok(Some(data)));
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        self.trailers = Some(Box::new(trailers));
                    }
                }
            }
        }
    }

    fn record(&mut self, data: &Bytes) {
        if !self.replayable {
            return;
        }
        self.sent_bytes += data.len();
        if self.sent_bytes > self.cap {
            self.replayable = false;
            self.sent = Vec::new();
        } else {
            self.sent.push(data.clone());
        }
        self.cursor = self.sent.len();
    }
}
