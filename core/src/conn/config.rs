//! Settings of one connection.

use std::time::Duration;

use crate::proto::{BodyLimits, DefaultFields, HeadLimits};

/// Limits and timeouts of a [`super::Connection`]. `Default` gives the values
/// documented on each field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// Response head limits: 64 KiB and 100 fields.
    pub head_limits: HeadLimits,
    /// Chunked framing limits: 1 KiB size lines, 16 KiB overhead, 16 KiB trailers.
    pub body_limits: BodyLimits,
    /// Total bytes of informational (1xx) heads one exchange may receive before
    /// its final response: 64 KiB. A byte budget rather than a count (Go 1.24,
    /// #65035), so 103 Early Hints work and a flood of them does not.
    pub max_informational_bytes: usize,
    /// How long to hold a body sent with `Expect: 100-continue` before sending it
    /// anyway: 1 s (Go's DefaultTransport). Zero sends it at once.
    pub expect_continue_timeout: Duration,
    /// Time allowed for the final response head once the request is written.
    /// None by default (Go's ResponseHeaderTimeout).
    pub response_head_timeout: Option<Duration>,
    /// Time allowed between response body bytes while the reader wants them.
    /// None by default.
    pub body_read_idle_timeout: Option<Duration>,
    /// Undelivered body bytes held before the connection stops reading (back-pressure): 64 KiB.
    pub max_buffered_body: usize,
    /// After a cancel mid-response, read and discard the rest of a body of known
    /// length up to this many bytes, so the connection can be reused. None (close
    /// at once, as Go does) by default.
    pub drain_on_cancel: Option<u64>,
    /// Fields written on every request that does not set them (e.g.
    /// `User-Agent`), checked once: `DefaultFields::new(&map)`. None by
    /// default.
    pub default_fields: DefaultFields,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            head_limits: HeadLimits::default(),
            body_limits: BodyLimits::default(),
            max_informational_bytes: 64 * 1024,
            expect_continue_timeout: Duration::from_secs(1),
            response_head_timeout: None,
            body_read_idle_timeout: None,
            max_buffered_body: 64 * 1024,
            drain_on_cancel: None,
            default_fields: DefaultFields::default(),
        }
    }
}
