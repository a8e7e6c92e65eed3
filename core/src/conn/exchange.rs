//! One request/response exchange: the send side, the receive side, and the
//! rules that couple them. Each method returns a [`Step`] that the connection
//! applies in `state.rs`, its one transition site.
//!
//! ```text
//! send: Holding ──100 / expect timer / final+keep-alive──▶ Streaming ──finish──▶ Done
//!          └───────────────final+close / write error──────────────────────────▶ Stopped
//! recv: Head ──1xx (budgeted, 100 releases the body)──▶ Head
//!          └──final head──▶ Body ──end──▶ Done        (101, CONNECT 2xx: switch)
//! ```
//! The exchange is finished when recv is `Done` and send is `Done` with every
//! byte written, or `Stopped`. It leaves the connection reusable only if no
//! close reason was recorded on the way.

use std::io;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};

use super::error::{CloseReason, ExchangeErrorKind};
use super::event::{BodyAllowed, Event, ExchangeId};
use super::state::Shared;
use super::timers::Timer;
use crate::proto::{
    BodyDecoder, BodyEncoder, BodyKind, EncodedHead, HeadParser, Outgoing, ProtocolError, RequestFraming,
    ResponseHead, UsageError,
};

/// What the connection must do after an exchange-level change.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing more.
    Continue,
    /// Both sides are complete: end the exchange.
    Finish,
    /// The exchange failed.
    Fail(ExchangeErrorKind),
    /// The connection now speaks another protocol (101, CONNECT 2xx).
    Switch,
}

pub(crate) enum Send {
    /// `Expect: 100-continue`: body bytes are framed into `held` until allowed.
    Holding { encoder: BodyEncoder, held: Outgoing, finished: bool },
    /// The body may be sent; `send_data` frames straight onto the socket queue.
    Streaming(BodyEncoder),
    /// The body is complete and queued; written once `tx.written() >= request_end`.
    Done,
    /// No more body will be sent: the server turned it down, or a write failed.
    Stopped,
}

pub(crate) enum Recv {
    Head(HeadParser),
    Body(BodyDecoder),
    Done,
}

pub(crate) struct Exchange {
    pub(crate) id: ExchangeId,
    method: Method,
    upgrade_requested: bool,
    /// `tx.queued()` before the head: any byte past it is this exchange's.
    pub(crate) start: u64,
    head_end: u64,
    request_end: Option<u64>,
    head_sent: bool,
    pub(crate) request_written: bool,
    pub(crate) response_started: bool,
    informational_bytes: usize,
    pub(crate) send: Send,
    pub(crate) recv: Recv,
    /// Why the connection cannot be reused after this exchange, once known.
    pub(crate) close: Option<CloseReason>,
    /// `read_body` returned `Pending`: announce the next progress.
    pub(crate) reader_waiting: bool,
    /// The final response's body is at least `max_buffered_body` long.
    pub(crate) large_body: bool,
}

impl Exchange {
    /// Queues the encoded head on `shared.tx` and sets up both sides.
    pub(crate) fn start(
        shared: &mut Shared,
        id: ExchangeId,
        method: &Method,
        encoded: EncodedHead,
        head: Bytes,
    ) -> Exchange {
        let start = shared.tx.queued();
        shared.tx.push(head);
        let head_end = shared.tx.queued();
        let encoder = BodyEncoder::new(encoded.framing);
        let (send, request_end) = match encoded.framing {
            RequestFraming::Empty | RequestFraming::Length(0) => (Send::Done, Some(head_end)),
            _ if encoded.expect_continue && !shared.config.expect_continue_timeout.is_zero() => {
                (Send::Holding { encoder, held: Outgoing::new(), finished: false }, None)
            }
            _ => {
                shared.events.push_back(Event::BodyAllowed { id, reason: BodyAllowed::NoExpectation });
                (Send::Streaming(encoder), None)
            }
        };
        Exchange {
            id,
            method: method.clone(),
            upgrade_requested: encoded.upgrade,
            start,
            head_end,
            request_end,
            head_sent: false,
            request_written: false,
            response_started: false,
            informational_bytes: 0,
            send,
            recv: Recv::Head(HeadParser::new(shared.config.head_limits)),
            close: encoded.close.then_some(CloseReason::ClientRequestedClose),
            reader_waiting: false,
            large_body: false,
        }
    }

    // ----- send side -----

    pub(crate) fn send_data(&mut self, shared: &mut Shared, data: Bytes) -> Result<(), UsageError> {
        match &mut self.send {
            Send::Holding { encoder, held, finished: false } => encoder.encode(data, held),
            Send::Streaming(encoder) => encoder.encode(data, &mut shared.tx),
            _ => Err(UsageError::BodyNotExpected),
        }
    }

    pub(crate) fn finish(
        &mut self,
        shared: &mut Shared,
        trailers: Option<&HeaderMap>,
    ) -> Result<(), UsageError> {
        match &mut self.send {
            Send::Holding { encoder, held, finished } if !*finished => {
                encoder.finish(trailers, held)?;
                *finished = true;
            }
            Send::Streaming(encoder) => {
                encoder.finish(trailers, &mut shared.tx)?;
                self.request_end = Some(shared.tx.queued());
                self.send = Send::Done;
            }
            _ => return Err(UsageError::BodyNotExpected),
        }
        Ok(())
    }

    /// Releases a held body (`Expect: 100-continue` answered or timed out).
    fn allow_body(&mut self, shared: &mut Shared, reason: BodyAllowed) {
        let Send::Holding { encoder, held, finished } = std::mem::replace(&mut self.send, Send::Stopped)
        else {
            return;
        };
        shared.timers.stop(Timer::ExpectContinue);
        shared.tx.append(held);
        if finished {
            self.request_end = Some(shared.tx.queued());
            self.send = Send::Done;
        } else {
            self.send = Send::Streaming(encoder);
        }
        shared.events.push_back(Event::BodyAllowed { id: self.id, reason });
    }

    /// Stops the upload: nothing more of the body goes out (RFC 9112 §9.5).
    fn stop_body(&mut self, shared: &mut Shared) {
        if matches!(self.send, Send::Done) && self.request_written || matches!(self.send, Send::Stopped) {
            return;
        }
        shared.timers.stop(Timer::ExpectContinue);
        shared.tx.clear();
        self.send = Send::Stopped;
        shared.events.push_back(Event::RequestBodyRejected { id: self.id });
    }

    /// Whether `written` bytes out passes a mark [`on_written`](Self::on_written)
    /// has not seen: most calls pass none, and cost only this.
    #[inline]
    pub(crate) fn passes_mark(&self, written: u64) -> bool {
        self.passes_head_end(written) || self.passes_request_end(written)
    }

    #[inline]
    fn passes_head_end(&self, written: u64) -> bool {
        !self.head_sent && written >= self.head_end
    }

    #[inline]
    fn passes_request_end(&self, written: u64) -> bool {
        !self.request_written && self.request_end.is_some_and(|end| written >= end)
    }

    /// The socket took more bytes: report the head, start the timers that run
    /// from "written".
    pub(crate) fn on_written(&mut self, shared: &mut Shared, now: Instant) -> Step {
        let written = shared.tx.written();
        if self.passes_head_end(written) {
            self.head_sent = true;
            shared.events.push_back(Event::HeadSent { id: self.id });
            if matches!(self.send, Send::Holding { .. }) {
                shared.timers.start(Timer::ExpectContinue, now, shared.config.expect_continue_timeout);
            }
        }
        if self.passes_request_end(written) {
            self.request_written = true;
            shared.events.push_back(Event::RequestSent { id: self.id });
            if let (Recv::Head(_), Some(timeout)) = (&self.recv, shared.config.response_head_timeout) {
                shared.timers.start(Timer::ResponseHead, now, timeout);
            }
            return self.finish_if_complete();
        }
        Step::Continue
    }

    /// A write failed. With the response already under way, keep reading it and
    /// close afterwards (Go prefers the response over the write error, #11745);
    /// before that, the exchange fails.
    pub(crate) fn on_write_error(&mut self, shared: &mut Shared, kind: io::ErrorKind) -> Step {
        self.close.get_or_insert(CloseReason::IoError);
        if matches!(self.recv, Recv::Head(_)) && !self.response_started {
            return Step::Fail(ExchangeErrorKind::Io { direction: super::Direction::Write, kind });
        }
        self.stop_body(shared);
        self.finish_if_complete()
    }

    pub(crate) fn on_expect_timeout(&mut self, shared: &mut Shared) {
        self.allow_body(shared, BodyAllowed::ExpectTimeout);
    }

    // ----- receive side -----

    /// Parses response heads from the read buffer while in the head phase.
    pub(crate) fn on_input(&mut self, shared: &mut Shared) -> Step {
        if !matches!(self.recv, Recv::Done) {
            self.response_started = true;
        }
        loop {
            let head = match &mut self.recv {
                Recv::Head(parser) => match parser.parse(&mut shared.rx) {
                    Ok(Some(head)) => head,
                    Ok(None) => return Step::Continue,
                    Err(e) => return Step::Fail(ExchangeErrorKind::Protocol(e)),
                },
                Recv::Body(_) => {
                    // The server is not idle. The timer starts again if the
                    // reader finds these bytes are not yet body data.
                    shared.timers.stop(Timer::BodyReadIdle);
                    self.announce_body(shared);
                    return Step::Continue;
                }
                Recv::Done => {
                    // Bytes after a complete response belong to no request.
                    self.close.get_or_insert(CloseReason::UnsolicitedData);
                    shared.rx.clear();
                    return Step::Continue;
                }
            };
            if head.status().is_informational() && head.status() != StatusCode::SWITCHING_PROTOCOLS {
                self.informational_bytes += head.as_bytes().len();
                let limit = shared.config.max_informational_bytes;
                if self.informational_bytes > limit {
                    return Step::Fail(ExchangeErrorKind::Protocol(ProtocolError::InformationalTooLarge {
                        limit,
                    }));
                }
                if head.status() == StatusCode::CONTINUE {
                    self.allow_body(shared, BodyAllowed::Continue);
                } else {
                    shared.events.push_back(Event::Informational { id: self.id, head });
                }
                continue;
            }
            return self.on_final_head(shared, head);
        }
    }

    fn on_final_head(&mut self, shared: &mut Shared, head: ResponseHead) -> Step {
        shared.timers.stop(Timer::ResponseHead);
        let status = head.status();
        let switching = status == StatusCode::SWITCHING_PROTOCOLS
            || (self.method == Method::CONNECT && status.is_success());
        if status == StatusCode::SWITCHING_PROTOCOLS && !self.upgrade_requested {
            return Step::Fail(ExchangeErrorKind::Protocol(ProtocolError::UnexpectedUpgrade));
        }
        if switching {
            // The request must be complete on the wire first; what is left
            // of it would otherwise open the new protocol.
            if !(matches!(self.send, Send::Done) && self.request_written) {
                return Step::Fail(ExchangeErrorKind::Protocol(ProtocolError::SwitchBeforeRequestSent));
            }
            self.stop_body(shared);
            shared.events.push_back(Event::Response { id: self.id, head, body: BodyKind::Empty });
            return Step::Switch;
        }
        let (framing, keeps_alive) = match head.framing_and_keep_alive(&self.method) {
            Ok(known) => known,
            Err(e) => return Step::Fail(ExchangeErrorKind::Protocol(e)),
        };
        if self.close.is_none() {
            self.close = if !keeps_alive {
                Some(if head.version() == Version::HTTP_10 {
                    CloseReason::Http10NoKeepAlive
                } else {
                    CloseReason::ServerRequestedClose
                })
            } else if framing.body == BodyKind::CloseDelimited {
                Some(CloseReason::CloseDelimitedBody)
            } else if framing.length_conflict {
                Some(CloseReason::LengthConflict)
            } else {
                None
            };
        }
        // A final response while the body is held or still streaming: Go 1.23
        // sends the body if the connection stays open, so both ends stay in
        // sync; if it closes, the server will not read it (RFC 9112 §9.5).
        match (&self.send, self.close.is_some()) {
            (Send::Holding { .. }, false) => self.allow_body(shared, BodyAllowed::FinalResponse),
            (Send::Holding { .. } | Send::Streaming(_) | Send::Done, true) => self.stop_body(shared),
            _ => {}
        }
        self.large_body =
            matches!(framing.body, BodyKind::Length(n) if n >= shared.config.max_buffered_body as u64);
        shared.events.push_back(Event::Response { id: self.id, head, body: framing.body });
        if framing.body == BodyKind::Empty {
            return self.on_response_complete(shared);
        }
        self.recv = Recv::Body(BodyDecoder::new(framing.body, shared.config.body_limits));
        Step::Continue
    }

    /// Tells a waiting reader that `read_body` can make progress.
    pub(crate) fn announce_body(&mut self, shared: &mut Shared) {
        if self.reader_waiting {
            self.reader_waiting = false;
            shared.events.push_back(Event::BodyReadable { id: self.id });
        }
    }

    /// The response has been read to its end.
    pub(crate) fn on_response_complete(&mut self, shared: &mut Shared) -> Step {
        self.recv = Recv::Done;
        shared.timers.stop(Timer::BodyReadIdle);
        if !shared.rx.is_empty() {
            // More bytes than the response: unsolicited (docs/security.md C17).
            self.close.get_or_insert(CloseReason::UnsolicitedData);
            shared.rx.clear();
        }
        self.finish_if_complete()
    }

    fn finish_if_complete(&self) -> Step {
        let sent = match self.send {
            Send::Done => self.request_written,
            Send::Stopped => true,
            Send::Holding { .. } | Send::Streaming(_) => false,
        };
        if sent && matches!(self.recv, Recv::Done) { Step::Finish } else { Step::Continue }
    }

    /// Bytes still to read of a body of known length, for drain-on-cancel.
    pub(crate) fn known_remaining(&self) -> Option<u64> {
        match &self.recv {
            Recv::Body(decoder) => decoder.remaining(),
            Recv::Done => Some(0),
            Recv::Head(_) => None,
        }
    }
}
