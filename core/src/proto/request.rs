//! Request head encoding (RFC 9112 §3), validated before a byte is produced.
//!
//! Layout on the wire: request line, `host`, the caller's fields in map order,
//! then the framing field we derive from the body, then the empty line.
//!
//! What reaches the wire is checked here, whatever the `http` types promise
//! (their unchecked constructors skip the checks in release builds), because a
//! header-injection bug is worth a few nanoseconds:
//! - the method is a token (RFC 9110 §9.1);
//! - the request-target's path and query are percent-encoded where RFC 3986
//!   does not allow a byte (see `TARGET_BYTES`), and the target as written is
//!   non-empty visible ASCII, origin-form starting with `/` (RFC 9112 §3.2);
//! - `Host` is `host[:port]` (RFC 9110 §7.2);
//! - every name is a token and every value is VCHAR, obs-text, SP or HTAB: no
//!   control byte but HTAB, as Go's `httpguts.ValidHeaderFieldValue` (RFC 9110 §5.5).

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderName, Method, Uri};

use super::chars::{is_token, is_valid_field_value, list_contains, list_elements, parse_content_length};
use super::error::UsageError;

/// Which request-target form to write (RFC 9112 §3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`, the form for origin servers (RFC 9112 §3.2.1). A URI path of
    /// exactly `*` is written as the asterisk-form for `OPTIONS` (§3.2.4).
    #[default]
    Origin,
    /// `http://host:port/path?query`, the form for forward proxies (RFC 9112 §3.2.2).
    Absolute,
    /// `host:port`, the form for `CONNECT` (RFC 9112 §3.2.3).
    Authority,
}

/// What the caller knows about the request body before sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLength {
    /// No body at all.
    Empty,
    /// Exactly this many bytes will follow.
    Known(u64),
    /// A stream of unknown length: sent chunked unless the caller set `content-length`.
    Unknown,
}

/// How the request body is delimited on the wire, as decided by [`encode_request_head`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestFraming {
    /// No body follows the head.
    Empty,
    /// `content-length: n`; exactly `n` bytes follow.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
}

/// A request head to encode. Borrowed by [`encode_request_head`], so a caller can
/// keep it to replay the request on another connection.
#[derive(Clone, Debug)]
pub struct RequestHead {
    /// The method; written verbatim.
    pub method: Method,
    /// The target URI; its authority supplies `host` unless `headers` has one.
    pub uri: Uri,
    /// Fields written in map order after `host`.
    pub headers: HeaderMap,
    /// The request-target form.
    pub target_form: TargetForm,
}

impl RequestHead {
    /// A head for `method` and `uri` with no fields, in origin-form.
    pub fn new(method: Method, uri: Uri) -> Self {
        Self { method, uri, headers: HeaderMap::new(), target_form: TargetForm::Origin }
    }
}

/// Facts about an encoded head that the connection needs for the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodedHead {
    /// How the body is framed.
    pub framing: RequestFraming,
    /// The request carries `Expect: 100-continue` and a body (RFC 9110 §10.1.1).
    /// Never true without content: the expectation is not written then.
    pub expect_continue: bool,
    /// The request carries `Connection: close` (RFC 9112 §9.6).
    pub close: bool,
    /// The request asks for a protocol upgrade (`Upgrade` field, RFC 9110 §7.8).
    pub upgrade: bool,
}

/// Encodes `head` into `dst` for a body of `body` length.
///
/// On error `dst` is left as it was: nothing of a rejected request is ever
/// produced. The framing field is derived from `body` (RFC 9112 §6):
/// `content-length` for a known length, `transfer-encoding: chunked` for an
/// unknown one, nothing for an empty body except `content-length: 0` for the
/// methods that define a meaning for content (RFC 9110 §8.6 SHOULD; Go does the
/// same for POST, PUT and PATCH). Caller-set framing fields are kept when they
/// agree with `body` and rejected with [`UsageError::FramingConflict`] when not.
///
/// A request without content (an empty body, or a length of zero) goes out
/// without the caller's `100-continue` expectation: a client MUST NOT generate
/// one there (RFC 9110 §10.1.1), and there is no body to wait with.
pub fn encode_request_head(
    head: &RequestHead,
    body: BodyLength,
    dst: &mut BytesMut,
) -> Result<EncodedHead, UsageError> {
    encode_request_head_with_fields(head, &DefaultFields::default(), body, dst)
}

/// [`encode_request_head`], also writing each of `defaults` whose name the
/// request does not set (a client's `User-Agent`, say), after the request's
/// own fields. Checks and encodes `defaults` on every call: a caller that
/// sends many requests keeps a [`DefaultFields`] and calls
/// [`encode_request_head_with_fields`].
pub fn encode_request_head_with_defaults(
    head: &RequestHead,
    defaults: &HeaderMap,
    body: BodyLength,
    dst: &mut BytesMut,
) -> Result<EncodedHead, UsageError> {
    encode_request_head_with_fields(head, &DefaultFields::new(defaults)?, body, dst)
}

/// [`encode_request_head`], also writing each of `defaults` whose name the
/// request does not set, after the request's own fields: a lookup and a copy
/// per field, as they were checked and encoded once.
pub fn encode_request_head_with_fields(
    head: &RequestHead,
    defaults: &DefaultFields,
    body: BodyLength,
    dst: &mut BytesMut,
) -> Result<EncodedHead, UsageError> {
    let start = dst.len();
    let result = encode_into(head, defaults, body, dst);
    if result.is_err() {
        dst.truncate(start);
    }
    result
}

/// Fields written on every request that does not set them (a client's
/// `User-Agent` and `Accept-Encoding`), checked and encoded once (RFC 9110
/// §5.5, security.md J1-J3), so that each request pays a lookup and a copy
/// per field instead of a check of every byte. Cheap to clone: connections
/// of one client share it.
#[derive(Clone, Debug, Default)]
pub struct DefaultFields(Option<Arc<EncodedFields>>);

#[derive(Debug)]
struct EncodedFields {
    /// `name: value\r\n` lines, back to back.
    lines: Bytes,
    /// Each field's name and its line in `lines`.
    plain: Vec<(HeaderName, Range<usize>)>,
    /// Fields that bear on framing, reuse or `Host`, written through the full
    /// check with the request's own so they are accounted for.
    checked: HeaderMap,
}

impl DefaultFields {
    /// Checks and encodes `fields`: names must be tokens and values VCHAR,
    /// obs-text, SP or HTAB.
    pub fn new(fields: &HeaderMap) -> Result<Self, UsageError> {
        if fields.is_empty() {
            return Ok(Self(None));
        }
        let mut lines = BytesMut::new();
        let (mut plain, mut checked) = (Vec::new(), HeaderMap::new());
        for (name, value) in fields {
            if !is_token(name.as_str().as_bytes()) {
                return Err(UsageError::InvalidHeaderName);
            }
            if !is_valid_field_value(value.as_bytes()) {
                return Err(UsageError::InvalidHeaderValue { name: name.clone() });
            }
            if [&HOST, &CONTENT_LENGTH, &TRANSFER_ENCODING, &CONNECTION, &EXPECT, &UPGRADE].contains(&name) {
                checked.append(name.clone(), value.clone());
                continue;
            }
            let start = lines.len();
            lines.put_slice(name.as_str().as_bytes());
            lines.put_slice(b": ");
            lines.put_slice(value.as_bytes());
            lines.put_slice(b"\r\n");
            plain.push((name.clone(), start..lines.len()));
        }
        Ok(Self(Some(Arc::new(EncodedFields { lines: lines.freeze(), plain, checked }))))
    }

    /// No fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// The same fields, in the same order.
impl PartialEq for DefaultFields {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || (a.lines == b.lines && a.checked == b.checked),
            _ => false,
        }
    }
}

impl Eq for DefaultFields {}

fn encode_into(
    head: &RequestHead,
    defaults: &DefaultFields,
    body: BodyLength,
    dst: &mut BytesMut,
) -> Result<EncodedHead, UsageError> {
    let method = head.method.as_str().as_bytes();
    if !is_token(method) {
        return Err(UsageError::InvalidMethod);
    }
    dst.reserve(256);
    dst.put_slice(method);
    dst.put_u8(b' ');
    write_target(head, dst)?;
    dst.put_slice(b" HTTP/1.1\r\nhost: ");
    write_host(head, dst)?;
    dst.put_slice(b"\r\n");

    let fields_start = dst.len();
    let mut facts = FieldFacts::default();
    for (name, value) in &head.headers {
        write_field(name, value.as_bytes(), &mut facts, dst)?;
    }
    if let Some(defaults) = &defaults.0 {
        for (name, value) in &defaults.checked {
            if !head.headers.contains_key(name) {
                write_field(name, value.as_bytes(), &mut facts, dst)?;
            }
        }
        for (name, line) in &defaults.plain {
            if !head.headers.contains_key(name) {
                dst.put_slice(&defaults.lines[line.clone()]);
            }
        }
    }

    let framing = facts.framing(&head.method, body)?;
    let has_content = !matches!(framing, RequestFraming::Empty | RequestFraming::Length(0));
    if facts.expect_continue && !has_content {
        drop_continue_expectation(dst, fields_start);
    }
    match framing {
        RequestFraming::Length(n) => {
            dst.put_slice(b"content-length: ");
            let mut digits = [0u8; 20];
            dst.put_slice(format_decimal(n, &mut digits));
            dst.put_slice(b"\r\n");
        }
        RequestFraming::Chunked => dst.put_slice(b"transfer-encoding: chunked\r\n"),
        RequestFraming::Empty => {}
    }
    dst.put_slice(b"\r\n");
    Ok(EncodedHead {
        framing,
        expect_continue: facts.expect_continue && has_content,
        close: facts.close,
        upgrade: facts.upgrade,
    })
}

/// Validates one field and writes it, unless it is `host` or a framing field
/// (those are written once, by us).
fn write_field(
    name: &HeaderName,
    value: &[u8],
    facts: &mut FieldFacts,
    dst: &mut BytesMut,
) -> Result<(), UsageError> {
    if !is_token(name.as_str().as_bytes()) {
        return Err(UsageError::InvalidHeaderName);
    }
    if !is_valid_field_value(value) {
        return Err(UsageError::InvalidHeaderValue { name: name.clone() });
    }
    if *name == HOST || !facts.observe(name, value)? {
        return Ok(());
    }
    dst.put_slice(name.as_str().as_bytes());
    dst.put_slice(b": ");
    dst.put_slice(value);
    dst.put_slice(b"\r\n");
    Ok(())
}

/// RFC 9110 §10.1.1: "A client MUST NOT generate a 100-continue expectation in
/// a request that does not include content." Rewrites the fields written since
/// `from` without it: an `expect` field keeps its other expectations, if any, and
/// is left out otherwise. Only such a request pays for the copy.
fn drop_continue_expectation(dst: &mut BytesMut, from: usize) {
    let fields = dst[from..].to_vec();
    dst.truncate(from);
    // We wrote every line as `name: value\r\n`, names lowercase, values without
    // CR or LF.
    for line in fields.split_inclusive(|&b| b == b'\n') {
        let Some(value) = line.strip_prefix(b"expect: ") else {
            dst.put_slice(line);
            continue;
        };
        let value = &value[..value.len() - 2];
        let mut kept = list_elements(value).filter(|e| !e.eq_ignore_ascii_case(b"100-continue"));
        if let Some(first) = kept.next() {
            dst.put_slice(b"expect: ");
            dst.put_slice(first);
            for other in kept {
                dst.put_slice(b", ");
                dst.put_slice(other);
            }
            dst.put_slice(b"\r\n");
        }
    }
}

/// What the caller's own fields say about framing and connection management.
#[derive(Default)]
struct FieldFacts {
    content_length: Option<u64>,
    chunked: bool,
    expect_continue: bool,
    close: bool,
    upgrade: bool,
}

impl FieldFacts {
    /// Records the facts of one field; returns whether to write it as is
    /// (framing fields are written once, by us).
    fn observe(&mut self, name: &HeaderName, value: &[u8]) -> Result<bool, UsageError> {
        if *name == CONTENT_LENGTH {
            let n = parse_content_length(value.trim_ascii()).ok_or(UsageError::FramingConflict)?;
            if self.content_length.is_some_and(|m| m != n) {
                return Err(UsageError::FramingConflict);
            }
            self.content_length = Some(n);
            return Ok(false);
        }
        if *name == TRANSFER_ENCODING {
            for coding in list_elements(value) {
                if !coding.eq_ignore_ascii_case(b"chunked") || self.chunked {
                    return Err(UsageError::UnsupportedTransferEncoding);
                }
                self.chunked = true;
            }
            return Ok(false);
        }
        if *name == CONNECTION {
            self.close |= list_contains(value, b"close");
        } else if *name == EXPECT {
            self.expect_continue |= list_contains(value, b"100-continue");
        } else if *name == UPGRADE {
            self.upgrade = true;
        }
        Ok(true)
    }

    fn framing(&self, method: &Method, body: BodyLength) -> Result<RequestFraming, UsageError> {
        match (self.content_length, self.chunked, body) {
            (Some(_), true, _) => Err(UsageError::FramingConflict),
            (None, true, BodyLength::Empty) => Err(UsageError::FramingConflict),
            (None, true, _) => Ok(RequestFraming::Chunked),
            (Some(n), false, BodyLength::Known(m)) if n != m => Err(UsageError::FramingConflict),
            (Some(n), false, BodyLength::Empty) if n != 0 => Err(UsageError::FramingConflict),
            // The caller vouches for the length of a stream; the encoder holds it to it.
            (Some(n), false, _) => Ok(RequestFraming::Length(n)),
            (None, false, BodyLength::Unknown) => Ok(RequestFraming::Chunked),
            (None, false, BodyLength::Known(n)) if n > 0 => Ok(RequestFraming::Length(n)),
            (None, false, _) if defines_content(method) => Ok(RequestFraming::Length(0)),
            (None, false, _) => Ok(RequestFraming::Empty),
        }
    }
}

/// Methods whose content has a defined meaning, for which an empty body is sent
/// as `content-length: 0` (RFC 9110 §8.6).
fn defines_content(method: &Method) -> bool {
    *method == Method::POST || *method == Method::PUT || *method == Method::PATCH
}

fn write_target(head: &RequestHead, dst: &mut BytesMut) -> Result<(), UsageError> {
    let uri = &head.uri;
    let start = dst.len();
    // What was not written by `put_path`, which leaves only visible ASCII.
    let unencoded = match head.target_form {
        TargetForm::Origin => {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let path = if path.is_empty() { "/" } else { path };
            if path == "*" && head.method != Method::OPTIONS {
                return Err(UsageError::InvalidTarget);
            }
            if !path.starts_with('/') && path != "*" {
                return Err(UsageError::InvalidTarget);
            }
            put_path(path.as_bytes(), dst);
            start..start
        }
        TargetForm::Absolute => {
            let (scheme, authority) = match (uri.scheme_str(), uri.authority()) {
                (Some(scheme), Some(authority)) => (scheme, authority.as_str()),
                _ => return Err(UsageError::InvalidTarget),
            };
            let (host, port) = split_authority(authority).ok_or(UsageError::InvalidTarget)?;
            dst.put_slice(scheme.as_bytes());
            dst.put_slice(b"://");
            write_host_port(host, port, dst);
            let authority_end = dst.len();
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            put_path(if path.is_empty() { b"/" } else { path.as_bytes() }, dst);
            start..authority_end
        }
        TargetForm::Authority => {
            let authority = uri.authority().ok_or(UsageError::InvalidTarget)?;
            let (host, port) = split_authority(authority.as_str()).ok_or(UsageError::InvalidTarget)?;
            let port = port.or_else(|| default_port(uri.scheme_str())).ok_or(UsageError::InvalidTarget)?;
            write_host_port(host, Some(port), dst);
            start..dst.len()
        }
    };
    // `Uri` rejects these already; checked again because a target is spliced
    // into the request line verbatim.
    if dst.len() == start || dst[unencoded].iter().any(|&b| !b.is_ascii_graphic()) {
        return Err(UsageError::InvalidTarget);
    }
    Ok(())
}

/// Writes a path and query, percent-encoding each byte not in [`TARGET_BYTES`]
/// (RFC 3986 §2.1, uppercase hex). Nothing to encode, the common case, is one
/// scan and one copy.
fn put_path(path: &[u8], dst: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = path;
    while let Some(i) = rest.iter().position(|&b| !TARGET_BYTES[b as usize]) {
        let b = rest[i];
        dst.put_slice(&rest[..i]);
        dst.put_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        rest = &rest[i + 1..];
    }
    dst.put_slice(rest);
}

/// The bytes a path and query are written with as they are: RFC 3986's
/// `pchar` (unreserved, sub-delims, `:` and `@`, §3.3), `/` and `?` (§3.4), and
/// `%`, taken as the start of a pct-encoded triplet the caller wrote (a URI is
/// not encoded twice). Everything else is percent-encoded: controls, SP, DEL,
/// bytes above 0x7E (raw UTF-8, RFC 9112 §3.2 allows none), and `"` `#` `<` `>`
/// `[` `\` `]` `^` `` ` `` `{` `|` `}`, which RFC 3986 allows in no path or query
/// (`http::Uri` lets some of them and UTF-8 through; Go encodes them in paths;
/// `[` and `]` Go leaves as they are, we follow the RFC).
static TARGET_BYTES: [bool; 256] = alphanumeric_and(b"-._~!$&'()*+,;=:@/?%");

/// A byte table: ASCII letters and digits, and `extra`.
const fn alphanumeric_and(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = (i as u8).is_ascii_alphanumeric();
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        table[extra[j] as usize] = true;
        j += 1;
    }
    table
}

fn write_host(head: &RequestHead, dst: &mut BytesMut) -> Result<(), UsageError> {
    let mut hosts = head.headers.get_all(HOST).iter();
    if let Some(value) = hosts.next() {
        if hosts.next().is_some() || !is_valid_host(value.as_bytes()) {
            return Err(UsageError::InvalidHost);
        }
        dst.put_slice(value.as_bytes());
        return Ok(());
    }
    let authority = head.uri.authority().ok_or(UsageError::MissingHost)?.as_str();
    let scheme = head.uri.scheme_str().unwrap_or("");
    let repeated = LAST_HOST.try_with(|last| {
        let last = last.borrow();
        let same = !authority.is_empty()
            && last.authority.get() == authority.as_bytes()
            && last.scheme.get() == scheme.as_bytes();
        if same {
            dst.put_slice(last.value.get());
        }
        same
    });
    if repeated == Ok(true) {
        return Ok(());
    }
    let start = dst.len();
    write_host_of(authority, scheme, dst)?;
    let _ = LAST_HOST.try_with(|last| last.borrow_mut().keep(scheme, authority, &dst[start..]));
    Ok(())
}

thread_local! {
    /// The `Host` value this thread wrote last and the URI parts it came
    /// from: most requests go where the last one went, so the authority is
    /// split and checked once per change, not per request. Inline, so that
    /// encoding never allocates.
    static LAST_HOST: RefCell<LastHost> = const {
        RefCell::new(LastHost { scheme: Inline::new(), authority: Inline::new(), value: Inline::new() })
    };
}

/// See [`LAST_HOST`]. A longer scheme or authority is not kept (its value
/// is never longer than its authority).
struct LastHost {
    scheme: Inline<16>,
    authority: Inline<255>,
    value: Inline<255>,
}

impl LastHost {
    fn keep(&mut self, scheme: &str, authority: &str, value: &[u8]) {
        let fits = scheme.len() <= 16 && authority.len() <= 255 && value.len() <= 255;
        let (scheme, authority, value) =
            if fits { (scheme.as_bytes(), authority.as_bytes(), value) } else { (&[][..], &[][..], &[][..]) };
        self.scheme.set(scheme);
        self.authority.set(authority);
        self.value.set(value);
    }
}

/// At most `N` (<= 255) bytes, inline.
struct Inline<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> Inline<N> {
    const fn new() -> Self {
        Self { len: 0, bytes: [0; N] }
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// `bytes` must fit.
    fn set(&mut self, bytes: &[u8]) {
        let len = bytes.len().min(N);
        self.bytes[..len].copy_from_slice(&bytes[..len]);
        self.len = len as u8;
    }
}

/// The `Host` value of a URI's `authority` under `scheme`, written to `dst`.
fn write_host_of(authority: &str, scheme: &str, dst: &mut BytesMut) -> Result<(), UsageError> {
    let (host, port) = split_authority(authority).ok_or(UsageError::InvalidHost)?;
    // RFC 9110 §7.2: the port is omitted when it is the scheme's default.
    let port = port.filter(|&p| Some(p) != default_port(Some(scheme)));
    if !is_valid_host(host.as_bytes()) {
        return Err(UsageError::InvalidHost);
    }
    // A kept port spelled without leading zeros: `host:port` as the URI has
    // it, past any userinfo, is the value (hot path: no digits to format).
    let host_port = &authority[host.as_ptr() as usize - authority.as_ptr() as usize..];
    match port {
        Some(port)
            if host_port.len() == host.len() + 1 + port.checked_ilog10().map_or(1, |d| d as usize + 1) =>
        {
            dst.put_slice(host_port.as_bytes());
        }
        port => write_host_port(host, port, dst),
    }
    Ok(())
}

fn write_host_port(host: &str, port: Option<u16>, dst: &mut BytesMut) {
    dst.put_slice(host.as_bytes());
    if let Some(port) = port {
        let mut digits = [0u8; 20];
        dst.put_u8(b':');
        dst.put_slice(format_decimal(u64::from(port), &mut digits));
    }
}

/// Splits an authority into host (IPv6 literals keep their brackets) and port,
/// dropping userinfo: a sender must not generate it in a target or `Host`
/// (RFC 9110 §4.2.4). Works on bytes: this runs for every request.
pub(crate) fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    let bytes = authority.as_bytes();
    let start = bytes.iter().rposition(|&b| b == b'@').map_or(0, |at| at + 1);
    let host_port = &bytes[start..];
    let host_end = if host_port.first() == Some(&b'[') {
        host_port.iter().position(|&b| b == b']')? + 1
    } else {
        host_port.iter().position(|&b| b == b':').unwrap_or(host_port.len())
    };
    if host_end == 0 {
        return None;
    }
    let port = match &host_port[host_end..] {
        [] | [b':'] => None,
        [b':', digits @ ..] if digits.len() <= 5 => {
            let n = digits
                .iter()
                .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))?;
            Some(u16::try_from(n).ok()?)
        }
        _ => return None,
    };
    Some((&authority[start..start + host_end], port))
}

/// The default port of `scheme`: 80 for http, 443 for https.
pub(crate) fn default_port(scheme: Option<&str>) -> Option<u16> {
    match scheme {
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        _ => None,
    }
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2): rejects what could redirect or
/// split the request: `/`, `@`, whitespace, controls, and anything a URI host
/// cannot hold (CVE-2023-29406, where a CRLF in Host injected fields).
fn is_valid_host(host: &[u8]) -> bool {
    !host.is_empty() && host.iter().all(|&b| HOST_BYTES[b as usize])
}

/// unreserved, sub-delims, `%` (pct-encoding), `:` and brackets (RFC 3986 §3.2.2).
static HOST_BYTES: [bool; 256] = alphanumeric_and(b"-._~!$&'()*+,;=%:[]");

/// Formats `n` in decimal into `buf` without allocating; returns the digits.
pub(crate) fn format_decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `http` will not build these values, even unchecked in a debug build; the
    /// head writer refuses them on its own (Go's ValidHeaderFieldValue rule).
    #[test]
    fn field_values_with_controls_or_del_are_refused_rfc9110_5_5_security_j2() {
        let name = HeaderName::from_static("x-a");
        for b in (0..b' ').filter(|&b| b != b'\t').chain([0x7f]) {
            let mut dst = BytesMut::new();
            let result = write_field(&name, &[b'a', b, b'b'], &mut FieldFacts::default(), &mut dst);
            assert_eq!(result, Err(UsageError::InvalidHeaderValue { name: name.clone() }), "{b:#x}");
            assert!(dst.is_empty(), "nothing written");
        }
        let mut dst = BytesMut::new();
        write_field(&name, b"\ta b\x80\xff~", &mut FieldFacts::default(), &mut dst).unwrap();
        assert_eq!(&dst[..], b"x-a: \ta b\x80\xff~\r\n");
    }

    #[test]
    fn each_path_byte_is_written_as_is_or_percent_encoded_rfc3986_2_1() {
        let rfc3986 = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
        for b in 0..=255u8 {
            let mut dst = BytesMut::new();
            put_path(&[b'/', b, b'x'], &mut dst);
            let expected = if rfc3986(b) { vec![b'/', b, b'x'] } else { format!("/%{b:02X}x").into_bytes() };
            assert_eq!(&dst[..], &expected[..], "{b:#x}");
            assert!(dst.iter().all(u8::is_ascii_graphic));
        }
    }
}
