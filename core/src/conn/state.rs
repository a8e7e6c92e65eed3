//! The connection's phases and the only place they change.
//!
//! ```text
//!            send_request                 Finished, keep-alive
//!   Idle ──────────────────▶ Active ───────────────────────────▶ Idle
//!    │  ▲                    │   │ cancel: drain_on_cancel fits
//!    │  └────── drained ── Draining ◀┘
//!    │                       │
//!    └─ EOF / bytes / close ─┴─ Failed, close reason, cancel, switch ──▶ Closed
//! ```
//!
//! Rules, in the order they are checked:
//! 1. `Closed` is final: commands fail with `UsageError::Closed`, inputs are
//!    ignored, polls drain what was queued before it and then nothing.
//! 2. While `Idle`, EOF closes with `PeerClosedIdle`; any byte closes with
//!    `UnsolicitedTimeout` (a `408`) or `UnsolicitedData`.
//! 3. An exchange ends in `Finished` when both sides completed, then the
//!    connection is `Idle` unless a close reason was recorded (either side's
//!    `Connection: close`, HTTP/1.0 without keep-alive, a close-delimited body,
//!    TE with CL, unsolicited bytes, a write error, EOF).
//! 4. An exchange that fails emits `Failed` then `Closed`.
//! 5. A cancelled exchange leaves no trace if none of its bytes was written and
//!    none received; otherwise the connection closes, or reads out a rest of
//!    the body of known length that is already buffered or within
//!    `drain_on_cancel`, and becomes `Idle`.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::BytesMut;

use super::Connection;
use super::config::ConnectionConfig;
use super::error::{CloseReason, Direction, ExchangeError, ExchangeErrorKind};
use super::event::Event;
use super::exchange::{Exchange, Recv, Send, Step};
use super::timers::TimerTable;
use crate::proto::{Decoded, Outgoing, ProtocolError};

/// What every part of the connection works on.
pub(crate) struct Shared {
    /// Shared with the client's other connections: 8 bytes of every idle
    /// connection, not 136.
    pub(crate) config: Arc<ConnectionConfig>,
    pub(crate) rx: BytesMut,
    pub(crate) tx: Outgoing,
    pub(crate) timers: TimerTable,
    pub(crate) events: VecDeque<Event>,
}

pub(crate) enum Phase {
    Idle,
    Active(Exchange),
    /// Reading the rest of a cancelled exchange's body to reuse the connection.
    Draining(Exchange),
    Closed,
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Active(_) => "active",
            Phase::Draining(_) => "draining",
            Phase::Closed => "closed",
        }
    }
}

impl Connection {
    /// Applies what an exchange asked for.
    pub(crate) fn apply(&mut self, step: Step) {
        match step {
            Step::Continue => {}
            Step::Finish => self.finish_exchange(),
            Step::Fail(kind) => self.fail(kind),
            Step::Switch => self.close_with(CloseReason::ProtocolSwitch),
        }
    }

    fn set_phase(&mut self, phase: Phase) -> Phase {
        tracing::trace!(from = self.phase.name(), to = phase.name(), "connection phase");
        std::mem::replace(&mut self.phase, phase)
    }

    /// Hot path, as is `finish_exchange`: the phase is written in place, not
    /// swapped, so the exchange is not copied in and out once more.
    pub(crate) fn begin(&mut self, exchange: Exchange) {
        tracing::trace!(from = self.phase.name(), to = "active", "connection phase");
        self.phase = Phase::Active(exchange);
    }

    fn finish_exchange(&mut self) {
        let Phase::Active(ex) = &self.phase else { return };
        let (id, large_body, close) = (ex.id, ex.large_body, ex.close);
        tracing::trace!(from = "active", to = "idle", "connection phase");
        self.phase = Phase::Idle;
        self.shared.events.push_back(Event::Finished { id });
        self.last = Some((id, Ok(())));
        self.completed += 1;
        self.large_bodies = large_body;
        self.shared.timers.clear();
        if let Some(reason) = close {
            self.close_with(reason);
        } else if self.eof {
            self.close_with(CloseReason::PeerClosed);
        }
    }

    pub(crate) fn fail(&mut self, kind: ExchangeErrorKind) {
        let reason = match &kind {
            ExchangeErrorKind::Protocol(_) => CloseReason::ProtocolError,
            ExchangeErrorKind::Timeout(_) => CloseReason::Timeout,
            ExchangeErrorKind::Io { .. } => CloseReason::IoError,
            ExchangeErrorKind::ConnectionClosed => CloseReason::PeerClosed,
            ExchangeErrorKind::Usage(_) => CloseReason::RequestBodyInvalid,
        };
        if let Phase::Active(ex) = &self.phase {
            let error = ExchangeError {
                kind,
                request_bytes_written: self.shared.tx.written() > ex.start,
                response_bytes_received: ex.response_started,
                connection_reused: self.completed > 0,
            };
            tracing::debug!(%error, "exchange failed");
            self.shared.events.push_back(Event::Failed { id: ex.id, error: error.clone() });
            self.last = Some((ex.id, Err(error)));
        }
        self.close_with(reason);
    }

    pub(crate) fn close_with(&mut self, reason: CloseReason) {
        if self.close_reason.is_some() {
            return;
        }
        self.set_phase(Phase::Closed);
        tracing::debug!(%reason, "connection closed");
        self.close_reason = Some(reason);
        self.shared.tx.clear();
        self.shared.timers.clear();
        if reason != CloseReason::ProtocolSwitch {
            self.shared.rx = BytesMut::new();
        }
        self.shared.events.push_back(Event::Closed { reason });
    }

    /// Bytes were appended to the read buffer.
    pub(crate) fn on_input(&mut self) {
        let step = match &mut self.phase {
            Phase::Idle => {
                let reason = if is_408(&self.shared.rx) {
                    CloseReason::UnsolicitedTimeout
                } else {
                    CloseReason::UnsolicitedData
                };
                return self.close_with(reason);
            }
            // Bytes before any of the request was written answer no request.
            Phase::Active(ex) if self.shared.tx.written() == ex.start => {
                Step::Fail(ExchangeErrorKind::Protocol(ProtocolError::UnsolicitedData))
            }
            Phase::Active(ex) => ex.on_input(&mut self.shared),
            Phase::Draining(_) => return self.drain(),
            Phase::Closed => return,
        };
        self.apply(step);
    }

    /// Progress of the socket writes (see `poll_transmit`). Hot path: called
    /// around every write, it does work only when a mark is passed.
    #[inline]
    pub(crate) fn on_written(&mut self, now: std::time::Instant) {
        if let Phase::Active(ex) = &self.phase
            && ex.passes_mark(self.shared.tx.written())
        {
            self.passed_mark(now);
        }
    }

    /// Kept out of line, so that `on_written` inlines into the write loop.
    #[inline(never)]
    fn passed_mark(&mut self, now: std::time::Instant) {
        if let Phase::Active(ex) = &mut self.phase {
            let step = ex.on_written(&mut self.shared, now);
            self.apply(step);
        }
    }

    pub(crate) fn on_eof(&mut self) {
        self.eof = true;
        let step = match &mut self.phase {
            Phase::Idle => return self.close_with(CloseReason::PeerClosedIdle),
            Phase::Draining(_) => return self.close_with(CloseReason::PeerClosed),
            Phase::Closed => return,
            Phase::Active(ex) => match &mut ex.recv {
                Recv::Head(_) if !ex.response_started => Step::Fail(ExchangeErrorKind::ConnectionClosed),
                Recv::Head(parser) => match parser.parse_eof(&mut self.shared.rx) {
                    Err(e) => Step::Fail(ExchangeErrorKind::Protocol(e)),
                    Ok(_) => Step::Fail(ExchangeErrorKind::Protocol(ProtocolError::IncompleteHead)),
                },
                Recv::Body(_) => {
                    ex.announce_body(&mut self.shared);
                    Step::Continue
                }
                Recv::Done => {
                    ex.close.get_or_insert(CloseReason::PeerClosed);
                    Step::Continue
                }
            },
        };
        self.apply(step);
    }

    pub(crate) fn on_io_error(&mut self, direction: Direction, kind: std::io::ErrorKind) {
        let step = match (&mut self.phase, direction) {
            (Phase::Closed, _) => return,
            (Phase::Idle | Phase::Draining(_), _) => return self.close_with(CloseReason::IoError),
            (Phase::Active(_), Direction::Read) => Step::Fail(ExchangeErrorKind::Io { direction, kind }),
            (Phase::Active(ex), Direction::Write) => ex.on_write_error(&mut self.shared, kind),
        };
        self.apply(step);
    }

    pub(crate) fn on_cancel(&mut self, id: super::ExchangeId) {
        let Phase::Active(ex) = &self.phase else { return };
        if ex.id != id {
            return;
        }
        if self.shared.tx.written() == ex.start && !ex.response_started {
            // Nothing of it reached the wire: the connection is as it was.
            self.shared.tx.clear();
            self.shared.timers.clear();
            self.set_phase(Phase::Idle);
            return;
        }
        // The rest of the body can be read out when its length is known and
        // either already buffered (free: Go closes here, #22954) or within
        // `drain_on_cancel`.
        let written = matches!(ex.send, Send::Done) && ex.request_written;
        let buffered = self.shared.rx.len() as u64;
        let drainable = written
            && ex.close.is_none()
            && ex.known_remaining().is_some_and(|rest| {
                rest <= buffered || self.shared.config.drain_on_cancel.is_some_and(|limit| rest <= limit)
            });
        if !drainable {
            return self.close_with(CloseReason::Canceled);
        }
        if let Phase::Active(ex) = self.set_phase(Phase::Idle) {
            self.set_phase(Phase::Draining(ex));
        }
        self.drain();
    }

    /// Reads and discards a cancelled exchange's body; `Idle` when it ends.
    fn drain(&mut self) {
        let Phase::Draining(ex) = &mut self.phase else { return };
        let done = match &mut ex.recv {
            Recv::Body(decoder) => loop {
                match decoder.decode(&mut self.shared.rx, usize::MAX) {
                    Ok(Decoded::Data(_) | Decoded::Trailers(_)) => {}
                    Ok(Decoded::End) => break true,
                    Ok(Decoded::NeedMore) => break false,
                    Err(_) => return self.close_with(CloseReason::ProtocolError),
                }
            },
            Recv::Done => true,
            Recv::Head(_) => false,
        };
        if !done {
            return;
        }
        if !self.shared.rx.is_empty() {
            return self.close_with(CloseReason::UnsolicitedData);
        }
        self.completed += 1;
        self.shared.timers.clear();
        self.set_phase(Phase::Idle);
    }

    /// The result of `read_body` once the body reached its end.
    pub(crate) fn on_body_end(&mut self) {
        if let Phase::Active(ex) = &mut self.phase {
            let step = ex.on_response_complete(&mut self.shared);
            self.apply(step);
        }
    }
}

/// Go's `is408Message`: an idle connection's farewell `HTTP/1.x 408`.
fn is_408(buf: &[u8]) -> bool {
    buf.len() >= 12 && buf.starts_with(b"HTTP/1.") && &buf[8..12] == b" 408"
}
