//! Response head parsing (RFC 9112 §4-5) on httparse, zero-copy and incremental.
//!
//! The head is parsed in place in the caller's read buffer and then split off it
//! as one `Bytes`; a [`ResponseHead`] keeps that `Bytes` and the offsets of its
//! fields, and header values handed out later are slices of it, never copies.
//! A `HeaderMap` is built only when asked for ([`ResponseHead::header_map`]):
//! hashing every name costs more than parsing the head (see `benches/proto.rs`),
//! and the framing decision does not need it.
//!
//! Incremental: the first attempt runs httparse on what has arrived. If the head
//! is incomplete, later calls only scan the newly arrived bytes for the empty
//! line that ends the head, and httparse runs again once it is there. A head fed
//! one byte at a time costs one parse plus one linear scan, not a parse per byte.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};

use super::error::ProtocolError;

/// Limits applied while parsing a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Maximum bytes of status line and fields, including the final empty line.
    pub max_head_bytes: usize,
    /// Maximum number of field lines.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    /// 64 KiB and 100 fields (research/security.md §2.0).
    fn default() -> Self {
        Self { max_head_bytes: 64 * 1024, max_headers: 100 }
    }
}

/// Field lines parsed into a stack array up to this many; beyond it (a caller
/// raised `max_headers`) the slots come from the heap.
const STACK_FIELDS: usize = 100;

/// A parsed response head: status, version and fields over the received bytes.
#[derive(Clone, Debug)]
pub struct ResponseHead {
    version: Version,
    status: StatusCode,
    raw: Bytes,
    reason: Range<u32>,
    fields: Vec<FieldSpan>,
    /// Which [`FramingField`]s occur, one bit each.
    framing_fields: u8,
}

/// The fields that decide framing and connection reuse. They are recognised
/// while parsing, so the framing decision need not compare every name again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FramingField {
    ContentLength = 1,
    TransferEncoding = 2,
    Connection = 4,
}

impl FramingField {
    fn of(name: &[u8]) -> Option<FramingField> {
        let (kind, expected): (_, &[u8]) = match name.len() {
            14 => (FramingField::ContentLength, b"content-length"),
            17 => (FramingField::TransferEncoding, b"transfer-encoding"),
            10 => (FramingField::Connection, b"connection"),
            _ => return None,
        };
        name.eq_ignore_ascii_case(expected).then_some(kind)
    }
}

/// Two heads are equal when they were received as the same bytes.
impl PartialEq for ResponseHead {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for ResponseHead {}

/// Where one field line's name and value sit in `ResponseHead::raw`.
#[derive(Clone, Copy, Debug)]
struct FieldSpan {
    name: (u32, u32),
    value: (u32, u32),
    framing: Option<FramingField>,
}

impl ResponseHead {
    /// The protocol version: HTTP/1.0 or HTTP/1.1.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The status code, in 100..=599.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase as received (may be empty; RFC 9112 §4 says to ignore it).
    pub fn reason(&self) -> &[u8] {
        &self.raw[self.reason.start as usize..self.reason.end as usize]
    }

    /// The head exactly as received, status line to empty line.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// Number of field lines.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the head has no field lines.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Field lines in received order as `(name, value)`; names as sent (any case).
    pub fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields.iter().map(|f| (self.slice(f.name), self.slice(f.value)))
    }

    /// Values of every field named `name` (ASCII case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields().filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v)
    }

    /// The first value of the field named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v)
    }

    /// Values of the framing field `kind`, in order.
    pub(crate) fn framing_values(&self, kind: FramingField) -> impl Iterator<Item = &[u8]> + '_ {
        let present = self.framing_fields & kind as u8 != 0;
        let fields = if present { &self.fields[..] } else { &[] };
        fields.iter().filter(move |f| f.framing == Some(kind)).map(|f| self.slice(f.value))
    }

    /// Builds the fields as a `HeaderMap` whose values share this head's bytes.
    ///
    /// Fails only if a name accepted by httparse is rejected by `http` (they use
    /// the same token grammar, which a test pins), never with a panic.
    pub fn header_map(&self) -> Result<HeaderMap, ProtocolError> {
        let mut map = HeaderMap::with_capacity(self.fields.len());
        for f in &self.fields {
            let name = HeaderName::from_bytes(self.slice(f.name)).map_err(|_| ProtocolError::HeaderName)?;
            let value = self.raw.slice(f.value.0 as usize..(f.value.0 + f.value.1) as usize);
            let value = HeaderValue::from_maybe_shared(value).map_err(|_| ProtocolError::HeaderValue)?;
            map.append(name, value);
        }
        Ok(map)
    }

    /// Turns the head into an `http::Response` around `body`.
    pub fn into_response<B>(self, body: B) -> Result<http::Response<B>, ProtocolError> {
        let headers = self.header_map()?;
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status;
        *response.version_mut() = self.version;
        *response.headers_mut() = headers;
        Ok(response)
    }

    fn slice(&self, (start, len): (u32, u32)) -> &[u8] {
        &self.raw[start as usize..(start + len) as usize]
    }
}

/// Parses one response head at a time from the front of a read buffer.
#[derive(Clone, Debug)]
pub struct HeadParser {
    limits: HeadLimits,
    /// Bytes already known not to contain the end of the head; `None` until the
    /// first attempt.
    scanned: Option<usize>,
}

impl HeadParser {
    /// A parser enforcing `limits`.
    pub fn new(limits: HeadLimits) -> Self {
        Self { limits, scanned: None }
    }

    /// Parses a head from the front of `buf`.
    ///
    /// `Ok(Some(head))`: the head's bytes were split off `buf`; whatever follows
    /// (body, next response) stays in `buf`. `Ok(None)`: more bytes are needed;
    /// call again, with the same buffer grown at the end. After an error the
    /// parser and buffer are in an unspecified state and the connection must close.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<ResponseHead>, ProtocolError> {
        let max = self.limits.max_head_bytes;
        if let Some(scanned) = self.scanned
            && buf.len() <= max
            && find_head_end(buf, scanned.saturating_sub(2)).is_none()
        {
            self.scanned = Some(buf.len());
            return Ok(None);
        }
        // First attempt, the end of the head is in sight, or the limit is passed.
        match self.parse_now(buf)? {
            Some(head) => {
                self.scanned = None;
                Ok(Some(head))
            }
            None if buf.len() > max => Err(ProtocolError::HeadTooLarge { limit: max }),
            None => {
                self.scanned = Some(buf.len());
                Ok(None)
            }
        }
    }

    /// The connection ended: parses what `buf` holds one last time, so a
    /// malformed head reports the same error however it was split, and an
    /// incomplete one reports [`ProtocolError::IncompleteHead`].
    pub fn parse_eof(&mut self, buf: &mut BytesMut) -> Result<ResponseHead, ProtocolError> {
        self.scanned = None;
        self.parse_now(buf)?.ok_or(ProtocolError::IncompleteHead)
    }

    /// Runs httparse over at most `max_head_bytes`, so the same bytes give the
    /// same verdict whether they arrived at once or in pieces.
    fn parse_now(&mut self, buf: &mut BytesMut) -> Result<Option<ResponseHead>, ProtocolError> {
        let window = &buf[..buf.len().min(self.limits.max_head_bytes)];
        let max = self.limits.max_headers;
        let parsed = if max <= STACK_FIELDS {
            let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_FIELDS];
            parse_with_slots(window, &mut slots[..max], self.limits)?
        } else {
            let mut slots = Vec::with_capacity(max);
            slots.resize_with(max, MaybeUninit::uninit);
            parse_with_slots(window, &mut slots, self.limits)?
        };
        Ok(parsed.map(|(len, mut head)| {
            head.raw = buf.split_to(len).freeze();
            head
        }))
    }
}

/// Parses the head at the front of `buf`; returns its length and the head with
/// offsets into `buf` (its `raw` still empty).
fn parse_with_slots<'b>(
    buf: &'b [u8],
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
    limits: HeadLimits,
) -> Result<Option<(usize, ResponseHead)>, ProtocolError> {
    let mut response = httparse::Response::new(&mut []);
    let parsed =
        httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut response, buf, slots);
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(map_error(e, buf, limits)),
    };
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => return Err(ProtocolError::Version),
    };
    let code = response.code.ok_or(ProtocolError::StatusLine)?;
    // RFC 9110 §15: values outside 100..=599 are invalid.
    if !(100..=599).contains(&code) {
        return Err(ProtocolError::Status);
    }
    let status = StatusCode::from_u16(code).map_err(|_| ProtocolError::Status)?;
    let base = buf.as_ptr() as usize;
    let offset = |s: &[u8]| (s.as_ptr() as usize).wrapping_sub(base) as u32;
    let reason = response.reason.map_or(0..0, |r| {
        let start = if r.is_empty() { 0 } else { offset(r.as_bytes()) };
        start..start + r.len() as u32
    });
    let mut framing_fields = 0;
    let fields = response
        .headers
        .iter()
        .map(|h| {
            let framing = FramingField::of(h.name.as_bytes());
            framing_fields |= framing.map_or(0, |k| k as u8);
            FieldSpan {
                name: (offset(h.name.as_bytes()), h.name.len() as u32),
                value: (if h.value.is_empty() { 0 } else { offset(h.value) }, h.value.len() as u32),
                framing,
            }
        })
        .collect();
    Ok(Some((len, ResponseHead { version, status, raw: Bytes::new(), reason, fields, framing_fields })))
}

/// Finds the end of a head (the index after `\n\n` or `\n\r\n`) at or after `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        let nl = i + buf[i..].iter().position(|&b| b == b'\n')?;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

fn map_error(error: httparse::Error, buf: &[u8], limits: HeadLimits) -> ProtocolError {
    match error {
        httparse::Error::Version => ProtocolError::Version,
        httparse::Error::Status => ProtocolError::Status,
        httparse::Error::Token => ProtocolError::StatusLine,
        httparse::Error::NewLine => ProtocolError::NewLine,
        httparse::Error::HeaderValue => ProtocolError::HeaderValue,
        httparse::Error::TooManyHeaders => ProtocolError::TooManyHeaders { limit: limits.max_headers },
        httparse::Error::HeaderName if has_obs_fold(buf) => ProtocolError::ObsFold,
        httparse::Error::HeaderName => ProtocolError::HeaderName,
    }
}

/// True when httparse failed because a field line was continued with obs-fold
/// (RFC 9112 §5.2): a line after the first field line starts with whitespace,
/// and everything before it parses. Only consulted to name an error.
fn has_obs_fold(buf: &[u8]) -> bool {
    let Some(status_end) = buf.iter().position(|&b| b == b'\n') else { return false };
    let fold = (status_end + 2..buf.len()).find(|&i| buf[i - 1] == b'\n' && matches!(buf[i], b' ' | b'\t'));
    let Some(fold) = fold else { return false };
    let mut slots = [httparse::EMPTY_HEADER; STACK_FIELDS];
    matches!(httparse::Response::new(&mut slots).parse(&buf[..fold]), Ok(httparse::Status::Partial))
}
