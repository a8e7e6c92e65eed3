//! One HTTP/1.1 client connection as a Sans-IO state machine.
//!
//! A [`Connection`] owns the protocol state, the read buffer and the outgoing
//! queue of one connection, and nothing else: no socket, no clock, no task.
//! One exchange at a time (no pipelining). The behaviour is Go 1.23's
//! Transport (docs/go-transport.md: REUSE, RETRY, EXPECT, INFO, CANCEL and
//! TIMEOUT rules) where RFC 9110/9112 leave a choice;
//! the rules are listed in `state.rs` and `exchange.rs`.

mod config;
mod error;
mod event;
mod exchange;
pub mod retry;
mod state;
mod timers;

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;

pub use config::ConnectionConfig;
pub use error::{CloseReason, Direction, ExchangeError, ExchangeErrorKind, TimeoutKind};
pub use event::{BodyAllowed, BodyChunk, Event, ExchangeId};

use exchange::{Exchange, Recv};
use state::{Phase, Shared};

use crate::proto::{BodyLength, Decoded, RequestHead, UsageError, encode_request_head_with_fields};

thread_local! {
    /// An empty event queue with its allocation, left by the last connection
    /// of this thread that went idle, for the next one that sends a request.
    /// Kept by every idle connection, the queue would cost each about 400
    /// bytes; made anew per exchange, an allocation and its growth.
    static SPARE_EVENTS: Cell<VecDeque<Event>> = const { Cell::new(VecDeque::new()) };
}

/// A spare event queue of more events than this is freed instead of kept:
/// one exchange rarely queues more than four at a time.
const SPARE_EVENTS_MAX: usize = 8;

/// One HTTP/1.1 client connection, driven by its caller.
///
/// # Driving it
/// - Commands (verbs): [`send_request`](Self::send_request),
///   [`send_data`](Self::send_data), [`finish`](Self::finish),
///   [`read_body`](Self::read_body), [`cancel`](Self::cancel), [`close`](Self::close).
/// - Inputs (`handle_*`): bytes read ([`handle_read`](Self::handle_read)), EOF,
///   an I/O error, and the clock ([`handle_timeout`](Self::handle_timeout)).
/// - Outputs (`poll_*`): after **every** command or input, drain in this order:
///   [`poll_transmit`](Self::poll_transmit) (write what it yields, `advance` by
///   what the socket took, repeat until `None` or the socket would block), then
///   [`poll_timeout`](Self::poll_timeout) (sleep until it, then call
///   `handle_timeout`), then [`poll_event`](Self::poll_event) until `None`.
/// - Read from the socket only while [`wants_read`](Self::wants_read).
///
/// Time is always an argument (`now`), never read here; pass a monotonic
/// `Instant` that never goes backwards. Spurious or early `handle_timeout`
/// calls do nothing.
///
/// # Guarantees
/// - Every exchange ends with exactly one of `Finished` or `Failed`, unless it
///   was cancelled. `Closed` is always the last event.
/// - After `Closed`, commands return [`UsageError::Closed`] and polls drain
///   to nothing; the socket must be closed.
/// - A connection is [reusable](Self::is_reusable) only when both sides of the
///   last exchange completed and nothing about its state is in doubt.
pub struct Connection {
    shared: Shared,
    phase: Phase,
    head_buf: BytesMut,
    next_id: u64,
    completed: u64,
    eof: bool,
    /// The last exchange's response had a body of at least
    /// `max_buffered_body` bytes: the next head is read in place too, as
    /// its body likely arrives in the same reads (`read_in_place_hint`).
    /// Here, not in `Shared`, where it would take a word of every idle
    /// connection: this struct has the padding for it.
    large_bodies: bool,
    close_reason: Option<CloseReason>,
    /// The last exchange's outcome, so `read_body` answers after it ended.
    last: Option<(ExchangeId, Result<(), ExchangeError>)>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("reusable", &self.is_reusable())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A new, idle connection.
    pub fn new(config: ConnectionConfig) -> Self {
        Self::with_shared_config(Arc::new(config))
    }

    /// A new, idle connection with settings shared with others: each holds
    /// a pointer, not a copy (an idle connection's bytes count, with
    /// thousands pooled).
    pub fn with_shared_config(config: Arc<ConnectionConfig>) -> Self {
        Self {
            shared: Shared {
                config,
                rx: BytesMut::new(),
                tx: Default::default(),
                timers: Default::default(),
                events: Default::default(),
            },
            phase: Phase::Idle,
            head_buf: BytesMut::new(),
            next_id: 0,
            completed: 0,
            eof: false,
            large_bodies: false,
            close_reason: None,
            last: None,
        }
    }

    /// Starts an exchange: encodes and queues the request head (with the
    /// config's `default_fields` the request does not set).
    ///
    /// `body` says how much body follows. With a body, send it with
    /// [`send_data`](Self::send_data) and [`finish`](Self::finish) once
    /// [`Event::BodyAllowed`] arrived (immediately, unless the request has
    /// `Expect: 100-continue`). Fails without side effects if the head is
    /// invalid or another exchange is in flight.
    pub fn send_request(&mut self, head: &RequestHead, body: BodyLength) -> Result<ExchangeId, UsageError> {
        match self.phase {
            Phase::Idle => {}
            Phase::Closed => return Err(UsageError::Closed),
            Phase::Active(_) | Phase::Draining(_) => return Err(UsageError::Busy),
        }
        let encoded = encode_request_head_with_fields(
            head,
            &self.shared.config.default_fields,
            body,
            &mut self.head_buf,
        )?;
        let id = ExchangeId(self.next_id);
        self.next_id += 1;
        if self.shared.events.capacity() == 0 {
            // Swapped, not taken: nothing to drop on either side.
            let _ = SPARE_EVENTS.try_with(|spare| spare.swap(Cell::from_mut(&mut self.shared.events)));
        }
        let bytes = self.head_buf.split().freeze();
        let exchange = Exchange::start(&mut self.shared, id, &head.method, encoded, bytes);
        tracing::trace!(?id, method = %head.method, "request queued");
        self.begin(exchange);
        Ok(id)
    }

    /// Queues body bytes (never copied). A body longer than its declared length
    /// fails the exchange; after [`Event::RequestBodyRejected`] or `finish`, the
    /// bytes are refused with [`UsageError::BodyNotExpected`].
    pub fn send_data(&mut self, id: ExchangeId, data: Bytes) -> Result<(), UsageError> {
        let result = active(&mut self.phase, id)?.send_data(&mut self.shared, data);
        self.usage_result(result)
    }

    /// Ends the request body, with trailers for a chunked body. A body shorter
    /// than its declared length fails the exchange.
    pub fn finish(&mut self, id: ExchangeId, trailers: Option<&HeaderMap>) -> Result<(), UsageError> {
        let result = active(&mut self.phase, id)?.finish(&mut self.shared, trailers);
        self.usage_result(result)
    }

    /// Takes up to `max` bytes of response body, split off the read buffer.
    ///
    /// Call after [`Event::Response`]. `Pending` means nothing is buffered: read
    /// the socket, and wait for [`Event::BodyReadable`]. A body ends with its
    /// last bytes ([`BodyChunk::Last`]) when they are known to be the last,
    /// else with `End`. After the exchange ended this still answers `End` or
    /// its error. `now` restarts the
    /// body-idle timer when reading frees buffer space.
    pub fn read_body(
        &mut self,
        now: Instant,
        id: ExchangeId,
        max: usize,
    ) -> Result<BodyChunk, ExchangeError> {
        let usage = |e| ExchangeError {
            kind: ExchangeErrorKind::Usage(e),
            request_bytes_written: false,
            response_bytes_received: false,
            connection_reused: false,
        };
        let Phase::Active(ex) = &mut self.phase else {
            return self.last_outcome(id).ok_or_else(|| usage(UsageError::UnknownExchange))?;
        };
        if ex.id != id {
            return self.last_outcome(id).ok_or_else(|| usage(UsageError::UnknownExchange))?;
        }
        let decoder = match &mut ex.recv {
            Recv::Head(_) => return Ok(BodyChunk::Pending),
            Recv::Done => return Ok(BodyChunk::End),
            Recv::Body(decoder) => decoder,
        };
        let decoded = match decoder.decode(&mut self.shared.rx, max) {
            Ok(Decoded::NeedMore) if self.eof => decoder.decode_eof(),
            other => other,
        };
        match decoded {
            // The body-idle timer runs only while the reader waits for bytes: a
            // reader busy with what it got is not a stalled server.
            Ok(Decoded::Data(data)) if decoder.is_done() => {
                self.on_body_end();
                Ok(BodyChunk::Last(data))
            }
            Ok(Decoded::Data(data)) => {
                self.shared.timers.stop(timers::Timer::BodyReadIdle);
                Ok(BodyChunk::Data(data))
            }
            Ok(Decoded::Trailers(trailers)) => {
                self.shared.timers.stop(timers::Timer::BodyReadIdle);
                Ok(BodyChunk::Trailers(trailers))
            }
            Ok(Decoded::End) => {
                self.on_body_end();
                Ok(BodyChunk::End)
            }
            Ok(Decoded::NeedMore) => {
                ex.reader_waiting = true;
                if let Some(timeout) = self.shared.config.body_read_idle_timeout
                    && self.shared.timers.get(timers::Timer::BodyReadIdle).is_none()
                {
                    self.shared.timers.start(timers::Timer::BodyReadIdle, now, timeout);
                }
                Ok(BodyChunk::Pending)
            }
            Err(e) => {
                self.fail(ExchangeErrorKind::Protocol(e));
                self.last_outcome(id).unwrap_or(Ok(BodyChunk::End))
            }
        }
    }

    /// Abandons an exchange. If none of its bytes was written or received, the
    /// connection stays as it was; otherwise it closes (HTTP/1.1 cannot abort a
    /// message), unless `drain_on_cancel` allows reading out the rest of the
    /// body, after which it becomes reusable. No event is emitted for `id`.
    pub fn cancel(&mut self, id: ExchangeId) {
        self.on_cancel(id);
    }

    /// Closes the connection now: `Closed { reason: LocalClose }`.
    pub fn close(&mut self) {
        self.close_with(CloseReason::LocalClose);
    }

    /// `data` was read from the socket. Like every input it takes the time,
    /// though arriving bytes only stop timers today (the body-idle timer
    /// starts when the reader waits, in `read_body`).
    pub fn handle_read(&mut self, _now: Instant, data: &[u8]) {
        if data.is_empty() || self.close_reason.is_some() {
            return;
        }
        self.shared.rx.extend_from_slice(data);
        self.on_input();
    }

    /// How many bytes one read may append straight to
    /// [`receive_buffer`](Self::receive_buffer), within `max_buffered_body`:
    /// the rest of a body of known length still to arrive; or, for a head
    /// after a body of at least `max_buffered_body` on this connection, as
    /// much as fits, since its body likely comes in the same read. 0 when a
    /// read into a buffer of the driver's, given to
    /// [`handle_read`](Self::handle_read), fits better (other heads, chunked
    /// and close-delimited bodies) or when the connection wants no bytes.
    pub fn read_in_place_hint(&self) -> usize {
        let Phase::Active(ex) = &self.phase else { return 0 };
        if self.eof || self.close_reason.is_some() {
            return 0;
        }
        let expected = match &ex.recv {
            Recv::Body(decoder) => decoder.remaining().unwrap_or(0),
            Recv::Head(_) if self.large_bodies => u64::MAX,
            _ => return 0,
        };
        let buffered = self.shared.rx.len();
        let coming = expected.saturating_sub(buffered as u64);
        let room = self.shared.config.max_buffered_body.saturating_sub(buffered);
        usize::try_from(coming).unwrap_or(usize::MAX).min(room)
    }

    /// The receive buffer, for a driver whose transport can read into spare
    /// capacity: it appends at most [`read_in_place_hint`](Self::read_in_place_hint)
    /// bytes, never touches what is there, then calls
    /// [`handle_read_in_place`](Self::handle_read_in_place). Body bytes then
    /// reach the caller without a copy.
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        &mut self.shared.rx
    }

    /// The driver appended bytes to [`receive_buffer`](Self::receive_buffer):
    /// they are taken as [`handle_read`](Self::handle_read) takes its own.
    pub fn handle_read_in_place(&mut self, _now: Instant) {
        debug_assert!(
            self.shared.rx.len() <= self.shared.config.max_buffered_body,
            "more appended than read_in_place_hint allowed"
        );
        if self.close_reason.is_none() {
            self.on_input();
        }
    }

    /// The socket reported EOF (the peer closed its sending side).
    pub fn handle_eof(&mut self, _now: Instant) {
        if self.close_reason.is_none() {
            self.on_eof();
        }
    }

    /// A read or write on the socket failed with `kind`.
    pub fn handle_io_error(&mut self, _now: Instant, direction: Direction, kind: std::io::ErrorKind) {
        self.on_io_error(direction, kind);
    }

    /// The clock reached `now`: fires the timers that are due. Idempotent.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.shared.timers.expire(now) {
            match (timer, &mut self.phase) {
                (timers::Timer::ExpectContinue, Phase::Active(ex)) => ex.on_expect_timeout(&mut self.shared),
                (timers::Timer::ResponseHead, Phase::Active(_)) => {
                    self.fail(ExchangeErrorKind::Timeout(TimeoutKind::ResponseHead))
                }
                (timers::Timer::BodyReadIdle, Phase::Active(_)) => {
                    self.fail(ExchangeErrorKind::Timeout(TimeoutKind::BodyReadIdle))
                }
                (timers::Timer::BodyReadIdle, Phase::Draining(_)) => self.close_with(CloseReason::Timeout),
                _ => {}
            }
        }
    }

    /// Bytes to write, as a [`Transmit`] (`bytes::Buf`): write its chunks
    /// (vectored), then `advance` by what the socket took. `now` times the
    /// timers that start once bytes are written. Also call it when there is
    /// nothing to write: it records progress made by `finish` and `advance`.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit<'_>> {
        self.on_written(now);
        if self.shared.tx.has_remaining() { Some(Transmit { conn: self, now }) } else { None }
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.shared.timers.next()
    }

    /// The next event, in the order they happened.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.shared.events.pop_front()
    }

    /// True when the socket should be read: not closed, no EOF yet, and not
    /// holding `max_buffered_body` undelivered body bytes (back-pressure).
    pub fn wants_read(&self) -> bool {
        if self.eof {
            return false;
        }
        match &self.phase {
            Phase::Closed => false,
            Phase::Active(ex) if matches!(ex.recv, Recv::Body(_)) => {
                self.shared.rx.len() < self.shared.config.max_buffered_body
            }
            _ => true,
        }
    }

    /// Bytes queued for the socket and not yet written: a producer of request
    /// body data should wait while this is large.
    pub fn pending_write(&self) -> usize {
        self.shared.tx.remaining()
    }

    /// True when idle and fit for another request.
    pub fn is_reusable(&self) -> bool {
        matches!(self.phase, Phase::Idle) && !self.eof
    }

    /// True once `Closed` was emitted.
    pub fn is_closed(&self) -> bool {
        self.close_reason.is_some()
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// Exchanges completed on this connection.
    pub fn exchanges_completed(&self) -> u64 {
        self.completed
    }

    /// Frees memory an idle connection does not need: read and head buffers
    /// that grew past 1 KiB (small ones are kept, so a steady stream of small
    /// exchanges does not reallocate them) and the event queue (events are
    /// transient; its allocation, about 400 bytes, is left to the next
    /// connection of this thread to send a request). Call while idle, e.g.
    /// when pooling: an idle connection then holds about 2 KiB
    /// (`conformance/examples/idle_memory.rs`).
    pub fn shrink_buffers(&mut self) {
        const KEEP: usize = 1024;
        if self.shared.rx.is_empty() && self.shared.rx.capacity() > KEEP {
            self.shared.rx = BytesMut::new();
        }
        if self.head_buf.capacity() > KEEP {
            self.head_buf = BytesMut::new();
        }
        self.shared.tx.shrink();
        let events = &mut self.shared.events;
        if events.is_empty() && events.capacity() > 0 {
            // The thread keeps one spare queue: this one, if it is small,
            // and whichever queue comes back from the swap is freed.
            if events.capacity() <= SPARE_EVENTS_MAX {
                let _ = SPARE_EVENTS.try_with(|spare| spare.swap(Cell::from_mut(events)));
            }
            if events.capacity() > 0 {
                *events = VecDeque::new();
            }
        }
    }

    /// After `Closed { reason: ProtocolSwitch }`: the bytes received after the
    /// final head, which belong to the new protocol. Empty otherwise.
    pub fn take_remaining(&mut self) -> Bytes {
        if self.close_reason == Some(CloseReason::ProtocolSwitch) {
            self.shared.rx.split().freeze()
        } else {
            Bytes::new()
        }
    }

    /// A broken request body fails the exchange; a late one is only refused.
    fn usage_result(&mut self, result: Result<(), UsageError>) -> Result<(), UsageError> {
        if let Err(e) = &result
            && *e != UsageError::BodyNotExpected
        {
            self.fail(ExchangeErrorKind::Usage(e.clone()));
        }
        result
    }

    fn last_outcome(&self, id: ExchangeId) -> Option<Result<BodyChunk, ExchangeError>> {
        match &self.last {
            Some((last, outcome)) if *last == id => Some(outcome.clone().map(|()| BodyChunk::End)),
            _ => None,
        }
    }
}

/// The exchange `id`, if it is the one in flight.
fn active(phase: &mut Phase, id: ExchangeId) -> Result<&mut Exchange, UsageError> {
    match phase {
        Phase::Active(ex) if ex.id == id => Ok(ex),
        Phase::Closed => Err(UsageError::Closed),
        _ => Err(UsageError::UnknownExchange),
    }
}

/// The bytes a [`Connection`] wants written, borrowed until dropped.
///
/// `advance(n)` after the socket took `n` bytes; it records the progress at
/// the `now` given to [`Connection::poll_transmit`].
#[must_use]
#[derive(Debug)]
pub struct Transmit<'a> {
    conn: &'a mut Connection,
    now: Instant,
}

impl Buf for Transmit<'_> {
    fn remaining(&self) -> usize {
        self.conn.shared.tx.remaining()
    }

    fn chunk(&self) -> &[u8] {
        self.conn.shared.tx.chunk()
    }

    fn chunks_vectored<'b>(&'b self, dst: &mut [IoSlice<'b>]) -> usize {
        self.conn.shared.tx.chunks_vectored(dst)
    }

    fn advance(&mut self, cnt: usize) {
        self.conn.shared.tx.advance(cnt);
        self.conn.on_written(self.now);
    }
}
