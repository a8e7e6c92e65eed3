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
//!
//! obs-fold (RFC 9112 §5.2): a user agent MUST replace each fold with SP before
//! interpreting a value. httparse first runs rejecting folds, so a head without
//! one costs nothing extra; only when it fails on a line that starts with
//! whitespace does it run again accepting folds, and the folds of that head are
//! replaced in place (`unfold_head`). Whitespace before the first field stays
//! an error (RFC 9112 §2.2): there is no field for it to continue.
//!
//! A head that repeats the thread's last one but in some values (the same
//! server's next response) is not parsed again: see `ShapeCache::rematch`.
//!
//! A higher minor version (RFC 9110 §2.5, §6.2): a response `HTTP/1.2` to
//! `HTTP/1.9` SHOULD be processed as HTTP/1.1. httparse knows only 1.0 and 1.1,
//! so when it rejects the version of such a status line, the digit is read as
//! `1` for a second parse and put back afterwards: the head stays as received,
//! its version is HTTP/1.1, and 1.0 and 1.1 heads pay nothing for it.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};

use super::chars::{has_obs_fold, is_valid_field_value, unfold_in_place};
use super::error::ProtocolError;
use super::framing::{Framing, response_framing, server_keeps_alive};

/// Limits applied while parsing a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Maximum bytes of status line and fields, including the final empty line.
    pub max_head_bytes: usize,
    /// Maximum number of field lines.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    /// 64 KiB and 100 fields (docs/security.md L1, L2).
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
    /// Shared with the template a repeated head was matched against: a
    /// repeat then costs no allocation.
    fields: Arc<[FieldSpan]>,
    /// Which [`FramingField`]s occur, one bit each.
    framing_fields: u8,
    /// A `Content-Length` or `Transfer-Encoding` line was continued with obs-fold.
    framing_folded: bool,
    /// Parsed by httparse as received, in one pass: `raw` holds the wire
    /// bytes, so the head can serve as the thread's template (`ShapeCache`).
    plain: bool,
    /// The number of the template whose head this one repeats, when it was
    /// matched against it in place of a parse ([`ShapeCache::rematch`]).
    /// Numbers are unique in the process: a head parsed on one thread and
    /// mapped on another never takes that thread's template for its own.
    matched: Option<u64>,
}

/// The fields that decide framing and connection reuse. They are recognised
/// while parsing, so the framing decision need not compare every name again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FramingField {
    ContentLength = 1,
    TransferEncoding = 2,
    Connection = 4,
    /// Not framing, but looked up for every response that may be decoded.
    ContentEncoding = 8,
}

impl FramingField {
    fn of(name: &[u8]) -> Option<FramingField> {
        let (kind, expected): (_, &[u8]) = match name.len() {
            14 => (FramingField::ContentLength, b"content-length"),
            17 => (FramingField::TransferEncoding, b"transfer-encoding"),
            10 => (FramingField::Connection, b"connection"),
            16 => (FramingField::ContentEncoding, b"content-encoding"),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldSpan {
    name: (u32, u32),
    value: (u32, u32),
    framing: Option<FramingField>,
}

impl FieldSpan {
    fn value_end(&self) -> usize {
        (self.value.0 + self.value.1) as usize
    }
}

impl ResponseHead {
    /// The protocol version: HTTP/1.0 or HTTP/1.1. A higher HTTP/1.x minor
    /// version is processed as HTTP/1.1 (RFC 9110 §6.2), and reported as such.
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

    /// The head as received, status line to empty line. One exception: each
    /// obs-fold was replaced with SP in place (RFC 9112 §5.2), so a folded head
    /// still has its received length but no longer its line breaks.
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

    /// The `Content-Encoding` value, if exactly one such field came; found
    /// without a scan when there is none.
    #[cfg(feature = "gzip")]
    pub(crate) fn content_encoding(&self) -> Option<&[u8]> {
        let mut values = self.framing_values(FramingField::ContentEncoding);
        let first = values.next()?;
        values.next().is_none().then_some(first)
    }

    /// A `Content-Length` or `Transfer-Encoding` field was folded (obs-fold): its
    /// value is read unfolded, but a parser that does not unfold may have framed
    /// the message differently.
    pub(crate) fn framing_folded(&self) -> bool {
        self.framing_folded
    }

    /// Builds the fields as a `HeaderMap` whose values share this head's bytes.
    ///
    /// Fails only if a name accepted by httparse is rejected by `http` (they use
    /// the same token grammar, which a test pins), never with a panic.
    pub fn header_map(&self) -> Result<HeaderMap, ProtocolError> {
        // Without the thread's cache (its thread-locals being torn down),
        // a cache of this call's own.
        match SHAPES.try_with(|shapes| self.header_map_with(&mut shapes.borrow_mut())) {
            Ok(result) => result,
            Err(_) => self.header_map_with(&mut ShapeCache::new()),
        }
    }

    fn header_map_with(&self, cache: &mut ShapeCache) -> Result<HeaderMap, ProtocolError> {
        if let Some(template) = &cache.template
            && self.matched == Some(template.number)
        {
            // The template's head byte for byte: its map, but the stand-ins.
            let mut map = template.map.clone();
            if template.stand_ins != 0 {
                for ((slot, field), i) in map.values_mut().zip(self.fields.iter()).zip(0..) {
                    if template.stand_ins & (1 << i) != 0 {
                        *slot = self.value(field)?;
                    }
                }
            }
            return Ok(map);
        }
        if let Some(mut map) = cache.same_shape(self) {
            // The template's values are in field order: its names are distinct.
            // A value as the template has it is kept, unchecked and not sliced.
            for (slot, field) in map.values_mut().zip(self.fields.iter()) {
                if slot.as_bytes() != self.slice(field.value) {
                    *slot = self.value(field)?;
                }
            }
            return Ok(map);
        }
        cache.template = None;
        let mut map = HeaderMap::with_capacity(self.fields.len());
        for (i, f) in self.fields.iter().enumerate() {
            map.append(cache.name(i, self.slice(f.name))?, self.value(f)?);
        }
        cache.remember(self, &map);
        Ok(map)
    }

    fn value(&self, field: &FieldSpan) -> Result<HeaderValue, ProtocolError> {
        let (start, len) = field.value;
        let value = self.raw.slice(start as usize..(start + len) as usize);
        HeaderValue::from_maybe_shared(value).map_err(|_| ProtocolError::HeaderValue)
    }

    /// [`response_framing`] and [`server_keeps_alive`] of this head, the
    /// response to a `method` request. A head that repeats the thread's
    /// template takes them from it; the first such head works them out and
    /// leaves them there.
    pub(crate) fn framing_and_keep_alive(&self, method: &Method) -> Result<(Framing, bool), ProtocolError> {
        // The method matters to the framing only for these two.
        let any = *method != Method::HEAD && *method != Method::CONNECT;
        let number = self.matched.filter(|_| any);
        let known = number.and_then(|n| SHAPES.try_with(|shapes| shapes.borrow().known(n)).ok().flatten());
        if let Some(known) = known {
            debug_assert_eq!(
                Ok(known),
                response_framing(method, self).map(|f| (f, server_keeps_alive(self))),
                "the template's verdicts hold for the head that repeats it"
            );
            return Ok(known);
        }
        let known = (response_framing(method, self)?, server_keeps_alive(self));
        if let Some(number) = number {
            let _ = SHAPES.try_with(|shapes| shapes.borrow_mut().learn(number, known));
        }
        Ok(known)
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

    /// What httparse gave for both heads is the same (their bytes aside).
    fn same_parse(&self, other: &ResponseHead) -> bool {
        (self.version, self.status, &self.reason, &self.fields, self.framing_fields)
            == (other.version, other.status, &other.reason, &other.fields, other.framing_fields)
    }
}

thread_local! {
    /// The field names of the last heads this thread built maps for, by
    /// position, and the last such head and its map as a template.
    static SHAPES: RefCell<ShapeCache> = const { RefCell::new(ShapeCache::new()) };
}

/// Numbers templates across threads (see [`ResponseHead::matched`]).
static TEMPLATES: AtomicU64 = AtomicU64::new(0);

/// Field names as received, by their position in the head, with the
/// `HeaderName` each became, and the last head they all came in, with its map.
///
/// A server sends the same fields in the same order on every response, most
/// with the same values. So `HeaderName::from_bytes` (lowercasing, a search
/// among the standard names) runs once per name and position, not per
/// response; and when every name of a head is the one remembered at its
/// position, the map is a clone of a template with those names and the values
/// of the head it was made from, and only the values that differ are
/// overwritten. That skips hashing and placing each name, which cost more than
/// the rest of building the map, and checking the bytes of every value (S1 in
/// docs/bench.md).
///
/// The template also keeps that head's bytes. A head that repeats them but in
/// some values is taken without httparse ([`rematch`](Self::rematch)), and its
/// map is the template's with those values replaced.
struct ShapeCache {
    names: Vec<(Box<[u8]>, HeaderName)>,
    /// Dropped before `names` changes.
    template: Option<Template>,
}

/// The last head whose names were all remembered and distinct, and its map.
struct Template {
    /// Unique in the process, and renewed when the head changes, so a head
    /// matched against it knows it again (see [`ResponseHead::matched`]).
    number: u64,
    /// The map of the head, with each value it had (a copy, so no
    /// connection's buffer is held) or, past [`ShapeCache::LONGEST_VALUE`],
    /// an empty stand-in. Its values are in field order: its names are distinct.
    map: HeaderMap,
    /// The fields whose value in `map` is a stand-in, one bit each.
    stand_ins: u32,
    /// The head's bytes and its parse (bytes left empty), when it was parsed
    /// as received (`plain`) and is at most [`ShapeCache::LONGEST_HEAD`] long.
    head: Option<(Box<[u8]>, ResponseHead)>,
    /// The framing of its head and whether the server keeps the connection
    /// alive, for any method but HEAD and CONNECT, once a head that repeats
    /// it worked them out: once per template, not per response. Cleared when
    /// a framing field's value changes.
    known: Option<(Framing, bool)>,
}

impl ShapeCache {
    /// Positions remembered: a head's usual fields, not a flood of them. At
    /// most 32, one bit each in [`Template::stand_ins`].
    const POSITIONS: usize = 32;
    /// Longer names are not kept: a hostile server must not pin its longest
    /// names in every thread.
    const LONGEST: usize = 64;
    /// Longer values are not kept in the template, for the same reason.
    const LONGEST_VALUE: usize = 128;
    /// Longer heads are not kept for matching, for the same reason.
    const LONGEST_HEAD: usize = 1024;

    const fn new() -> Self {
        Self { names: Vec::new(), template: None }
    }

    /// The head at the front of `window` when it is the template's head with
    /// some values changed, as httparse would parse it; `None` to parse it.
    ///
    /// Its bytes must equal the template head's everywhere but inside values,
    /// and each changed value must hold only bytes httparse accepts in a value
    /// (no CR, LF or other control but HTAB) and neither start nor end with
    /// whitespace. Then every line break, name, colon and the whitespace
    /// around each value sit where httparse found them in the template, so
    /// it would find the same status line and the same fields at the same
    /// places: the template's parse, which the limits allowed (checked again
    /// here: another connection's may be tighter).
    ///
    /// The template takes the changed values, so the next head that repeats
    /// them (the next response in the same second, for a `Date`) matches it
    /// whole; it gets a new number, since a head matched before no longer
    /// describes its differences from it.
    fn rematch(&mut self, window: &[u8], limits: HeadLimits) -> Option<(usize, ResponseHead)> {
        let template = self.template.as_mut()?;
        let (bytes, head) = template.head.as_mut()?;
        let received = window.get(..bytes.len())?;
        if head.fields.len() > limits.max_headers {
            return None;
        }
        let changed = changed_values(bytes, received, &head.fields)?;
        if changed != 0 {
            for ((slot, field), i) in template.map.values_mut().zip(head.fields.iter()).zip(0..) {
                if changed & (1 << i) != 0 {
                    let span = field.value.0 as usize..field.value_end();
                    bytes[span.clone()].copy_from_slice(&received[span.clone()]);
                    // `changed_values` checked the value as `http` does; were
                    // it refused all the same, each head would bring its own.
                    if template.stand_ins & (1 << i) == 0 {
                        match HeaderValue::from_bytes(&received[span]) {
                            Ok(value) => *slot = value,
                            Err(_) => template.stand_ins |= 1 << i,
                        }
                    }
                }
            }
            template.number = TEMPLATES.fetch_add(1, Ordering::Relaxed);
            if head.fields.iter().zip(0..).any(|(f, i)| changed & (1 << i) != 0 && f.framing.is_some()) {
                template.known = None;
            }
        }
        Some((bytes.len(), ResponseHead { matched: Some(template.number), ..head.clone() }))
    }

    /// The framing verdicts of the template numbered `number`, if a head
    /// that repeats it worked them out.
    fn known(&self, number: u64) -> Option<(Framing, bool)> {
        self.template.as_ref().filter(|t| t.number == number)?.known
    }

    /// Keeps the framing verdicts of the template numbered `number`, worked
    /// out by a head that repeats it.
    fn learn(&mut self, number: u64, known: (Framing, bool)) {
        if let Some(template) = &mut self.template
            && template.number == number
        {
            template.known = Some(known);
        }
    }

    /// A copy of the template's map when `head`'s names are the template's.
    fn same_shape(&self, head: &ResponseHead) -> Option<HeaderMap> {
        let template = self.template.as_ref()?;
        (head.fields.len() == template.map.len() && self.remembers(head)).then(|| template.map.clone())
    }

    /// Every field's name of `head` is the one remembered at its position.
    fn remembers(&self, head: &ResponseHead) -> bool {
        head.fields.len() <= self.names.len()
            && head.fields.iter().zip(&self.names).all(|(f, (bytes, _))| **bytes == *head.slice(f.name))
    }

    /// Keeps `map`, just built for `head`, as the template when all its names
    /// are remembered and none repeats (so its values are in field order).
    fn remember(&mut self, head: &ResponseHead, map: &HeaderMap) {
        if map.keys_len() == map.len() && self.remembers(head) {
            let mut template = map.clone();
            let mut stand_ins = 0;
            for (value, i) in template.values_mut().zip(0..) {
                let kept = (value.len() <= Self::LONGEST_VALUE)
                    .then(|| HeaderValue::from_bytes(value.as_bytes()).ok())
                    .flatten();
                if kept.is_none() {
                    stand_ins |= 1 << i;
                }
                *value = kept.unwrap_or(HeaderValue::from_static(""));
            }
            let head = (head.plain && head.raw.len() <= Self::LONGEST_HEAD).then(|| {
                let parse = ResponseHead { raw: Bytes::new(), matched: None, ..head.clone() };
                (Box::from(&head.raw[..]), parse)
            });
            let number = TEMPLATES.fetch_add(1, Ordering::Relaxed);
            self.template = Some(Template { number, map: template, stand_ins, head, known: None });
        }
    }

    fn name(&mut self, position: usize, raw: &[u8]) -> Result<HeaderName, ProtocolError> {
        if let Some((bytes, name)) = self.names.get(position)
            && **bytes == *raw
        {
            return Ok(name.clone());
        }
        let name = HeaderName::from_bytes(raw).map_err(|_| ProtocolError::HeaderName)?;
        if raw.len() > Self::LONGEST {
            return Ok(name);
        }
        let entry = (Box::from(raw), name.clone());
        if position < self.names.len() {
            self.names[position] = entry;
        } else if position == self.names.len() && position < Self::POSITIONS {
            self.names.push(entry);
        }
        Ok(name)
    }
}

/// Which of `fields` (spans in `template`) hold the bytes where `received`
/// differs from `template`, one bit each; `None` when a byte outside every
/// value differs, or a changed value is one httparse would not give as it
/// stands (see [`ShapeCache::rematch`]). Compares eight bytes at a time.
fn changed_values(template: &[u8], received: &[u8], fields: &[FieldSpan]) -> Option<u32> {
    // The usual case: a server's `Date` changes once a second.
    if template == received {
        return Some(0);
    }
    let mut changed = 0u32;
    // The first field whose value does not end before the difference.
    let mut next = 0;
    let mut locate = |at: usize| -> Option<()> {
        while fields.get(next)?.value_end() <= at {
            next += 1;
        }
        (fields[next].value.0 as usize <= at).then(|| changed |= 1 << next)
    };
    let whole = template.len() / 8 * 8;
    for (at, (a, b)) in
        (0..).step_by(8).zip(template[..whole].chunks_exact(8).zip(received[..whole].chunks_exact(8)))
    {
        let differ = u64::from_le_bytes(a.try_into().ok()?) ^ u64::from_le_bytes(b.try_into().ok()?);
        if differ != 0 {
            for i in 0..8 {
                if differ >> (8 * i) & 0xff != 0 {
                    locate(at + i)?;
                }
            }
        }
    }
    for at in whole..template.len() {
        if template[at] != received[at] {
            locate(at)?;
        }
    }
    let mut rest = changed;
    while rest != 0 {
        let field = &fields[rest.trailing_zeros() as usize];
        rest &= rest - 1;
        let value = &received[field.value.0 as usize..field.value_end()];
        let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
        if edge(value.first()) || edge(value.last()) || !is_valid_field_value(value) {
            return None;
        }
    }
    Some(changed)
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
        let window = buf.len().min(self.limits.max_head_bytes);
        if let Ok(Some((len, head))) =
            SHAPES.try_with(|shapes| shapes.borrow_mut().rematch(&buf[..window], self.limits))
        {
            debug_assert!(
                self.parse_window(&buf[..window], false).is_ok_and(
                    |parsed| parsed.is_some_and(|(l, parsed)| l == len && parsed.same_parse(&head))
                ),
                "a rematched head parses as httparse parses it"
            );
            return Ok(Some(ResponseHead { raw: buf.split_to(len).freeze(), ..head }));
        }
        let parsed = match self.parse_window(&buf[..window], false) {
            Ok(parsed) => parsed.map(|(len, head)| (len, ResponseHead { plain: true, ..head })),
            Err(error) => self.parse_unusual(buf, window, error)?,
        };
        Ok(parsed.map(|(len, mut head)| {
            head.raw = buf.split_to(len).freeze();
            head
        }))
    }

    /// The heads httparse rejects as they are, and we do not: a higher HTTP/1.x
    /// minor version, obs-fold, or both. Rare, so kept off the common path.
    #[cold]
    fn parse_unusual(
        &self,
        buf: &mut BytesMut,
        window: usize,
        mut error: ProtocolError,
    ) -> Result<Parsed, ProtocolError> {
        // The minor digit, while it reads `1`, and the digit received there.
        let mut version = None;
        if error == ProtocolError::Version {
            let at = higher_minor_version(&buf[..window]).ok_or(ProtocolError::Version)?;
            let digit = std::mem::replace(&mut buf[at], b'1');
            error = match self.parse_window(&buf[..window], false) {
                Ok(parsed) => {
                    buf[at] = digit;
                    return Ok(parsed);
                }
                Err(error) => error,
            };
            version = Some((at, digit));
        }
        // httparse reports a continuation line as a bad field name. Folding
        // changes nothing else, so a head that fails again fails for good.
        let parsed = if error == ProtocolError::HeaderName {
            self.parse_window(&buf[..window], true)
        } else {
            Err(error)
        };
        if let Some((at, digit)) = version {
            buf[at] = digit;
        }
        let mut parsed = parsed?;
        if let Some((len, head)) = &mut parsed {
            unfold_head(&mut buf[..*len], head);
        }
        Ok(parsed)
    }

    fn parse_window(&self, window: &[u8], obs_fold: bool) -> Result<Parsed, ProtocolError> {
        let max = self.limits.max_headers;
        if max <= STACK_FIELDS {
            let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_FIELDS];
            parse_with_slots(window, &mut slots[..max], self.limits, obs_fold)
        } else {
            let mut slots = Vec::with_capacity(max);
            slots.resize_with(max, MaybeUninit::uninit);
            parse_with_slots(window, &mut slots, self.limits, obs_fold)
        }
    }
}

/// Replaces the obs-folds of a parsed head with SP, in place (RFC 9112 §5.2).
///
/// Inside a value each fold, with the whitespace around it, becomes one SP (as
/// Go's textproto joins continuation lines) and the bytes this frees at the
/// value's end become SP too, outside the value; a fold outside a value (before
/// it starts, after it ends) becomes SP. The head keeps its received length, so
/// the limits and the informational budget count wire bytes, and it still parses
/// to the same fields.
///
/// Framing fields are unfolded and then interpreted like any other value:
/// `Content-Length: 5\r\n 5` reads `5 5` and is rejected, a folded
/// `Transfer-Encoding: \r\n chunked` reads `chunked`. Since a parser that does not
/// unfold may frame such a response differently, the head records it and the
/// connection is not reused afterwards (see `response_framing`).
fn unfold_head(bytes: &mut [u8], head: &mut ResponseHead) {
    let fields = Arc::make_mut(&mut head.fields);
    for k in 0..fields.len() {
        let line_start = fields[k].name.0 as usize;
        let line_end = fields.get(k + 1).map_or(bytes.len(), |next| next.name.0 as usize);
        // The break that ends the line, and the empty line after the last
        // field, are followed by what comes next; they are no folds.
        if !has_obs_fold(&bytes[line_start..line_end - 1]) {
            continue;
        }
        let field = &mut fields[k];
        head.framing_folded |=
            matches!(field.framing, Some(FramingField::ContentLength | FramingField::TransferEncoding));
        let (start, len) = (field.value.0 as usize, field.value.1 as usize);
        let value = &mut bytes[start..start + len];
        let unfolded = unfold_in_place(value);
        value[unfolded..].fill(b' ');
        field.value.1 = unfolded as u32;
        for i in line_start..line_end - 1 {
            if bytes[i] == b'\n' && matches!(bytes[i + 1], b' ' | b'\t') {
                bytes[i] = b' ';
                if bytes[i - 1] == b'\r' {
                    bytes[i - 1] = b' ';
                }
            }
        }
    }
}

/// A complete head's length and the head with offsets into the parsed bytes
/// (its `raw` still empty), or `None` when more bytes are needed.
type Parsed = Option<(usize, ResponseHead)>;

/// Parses the head at the front of `buf`.
fn parse_with_slots<'b>(
    buf: &'b [u8],
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
    limits: HeadLimits,
    obs_fold: bool,
) -> Result<Parsed, ProtocolError> {
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .allow_obsolete_multiline_headers_in_responses(obs_fold)
        .parse_response_with_uninit_headers(&mut response, buf, slots);
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(map_error(e, limits)),
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
    let reason = match response.reason {
        Some(r) if !r.is_empty() => {
            let start = offset(r.as_bytes());
            start..start + r.len() as u32
        }
        // httparse gives an empty reason for one with obs-text (not UTF-8):
        // taken from the status line (after any empty lines httparse skips),
        // past `HTTP/1.x NNN `, as received.
        _ => {
            let head = &buf[..len];
            let start = head.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
            let line = head[start..].iter().position(|&b| b == b'\n').map_or(start, |n| start + n);
            let end = if line > start && head[line - 1] == b'\r' { line - 1 } else { line };
            if end > start + 13 { (start + 13) as u32..end as u32 } else { 0..0 }
        }
    };
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
    let head = ResponseHead {
        version,
        status,
        raw: Bytes::new(),
        reason,
        fields,
        framing_fields,
        framing_folded: false,
        plain: false,
        matched: None,
    };
    Ok(Some((len, head)))
}

/// Where the minor digit sits when `buf` starts with an `HTTP/1.x` status line
/// and `x` is 2 to 9 (RFC 9110 §6.2: process as HTTP/1.1). One digit only: the
/// version grammar is `DIGIT "." DIGIT` (RFC 9112 §2.3), so `HTTP/1.10`, like
/// `HTTP/2.0` or `HTTP/0.9`, stays an error.
fn higher_minor_version(buf: &[u8]) -> Option<usize> {
    // httparse skips empty lines before the status line.
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let at = start + b"HTTP/1.".len();
    (buf[start..].starts_with(b"HTTP/1.") && matches!(buf.get(at), Some(b'2'..=b'9'))).then_some(at)
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

fn map_error(error: httparse::Error, limits: HeadLimits) -> ProtocolError {
    match error {
        httparse::Error::Version => ProtocolError::Version,
        httparse::Error::Status => ProtocolError::Status,
        httparse::Error::Token => ProtocolError::StatusLine,
        httparse::Error::NewLine => ProtocolError::NewLine,
        httparse::Error::HeaderValue => ProtocolError::HeaderValue,
        httparse::Error::TooManyHeaders => ProtocolError::TooManyHeaders { limit: limits.max_headers },
        httparse::Error::HeaderName => ProtocolError::HeaderName,
    }
}
