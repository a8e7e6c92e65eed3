//! How long a response body is, and whether the connection outlives it.
//!
//! [`response_framing`] is RFC 9112 §6.3 for responses, one numbered step at a
//! time, first match wins. Where the RFC leaves a choice we take Go's (1.23):
//! `Transfer-Encoding` must be exactly one `chunked` coding, an invalid
//! `Content-Length` is rejected even where it would be ignored, and TE with CL
//! is read as chunked but the connection is not reused. A CL or TE continued
//! with obs-fold is read unfolded (RFC 9112 §5.2), and the connection is not
//! reused either.

use http::{Method, StatusCode, Version};

use super::chars::{list_elements, parse_content_length};
use super::error::ProtocolError;
use super::response::{FramingField, ResponseHead};

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body: HEAD, 1xx, 204, 304, a 2xx to CONNECT, or `content-length: 0`.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    CloseDelimited,
}

/// The framing decision for one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    /// How the body is delimited.
    pub body: BodyKind,
    /// Another parser may have framed this response differently, so the
    /// connection must not be reused after it: both `Transfer-Encoding` and
    /// `Content-Length` were present, and the body is read as chunked (RFC 9112
    /// §6.3 item 3: such a message "ought to be handled as an error"); or one of
    /// them was continued with obs-fold and is read unfolded (§5.2), which a
    /// parser that does not unfold reads otherwise.
    pub length_conflict: bool,
}

/// Decides the body framing of `head`, the response to a `method` request.
pub fn response_framing(method: &Method, head: &ResponseHead) -> Result<Framing, ProtocolError> {
    let status = head.status();
    // Content-Length is validated wherever it appears (Go 1.23, #65505), except on
    // 1xx, which never have a body and whose fields we do not act on.
    let content_length = if status.is_informational() { None } else { content_length(head)? };
    let folded = head.framing_folded();
    let plain = |body| Ok(Framing { body, length_conflict: folded });

    // 1. HEAD, 1xx, 204 and 304 end at the empty line after the fields.
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return plain(BodyKind::Empty);
    }
    // 2. A 2xx to CONNECT turns the connection into a tunnel; CL and TE are ignored.
    if *method == Method::CONNECT && status.is_success() {
        return plain(BodyKind::Empty);
    }
    // 3. Transfer-Encoding overrides Content-Length; only `chunked`, exactly once,
    //    is accepted, and never in HTTP/1.0 (§6.1: faulty framing).
    if is_chunked(head)? {
        if head.version() == Version::HTTP_10 {
            return Err(ProtocolError::TransferEncodingInHttp10);
        }
        return Ok(Framing { body: BodyKind::Chunked, length_conflict: content_length.is_some() || folded });
    }
    // 4-5. A valid Content-Length gives the length; invalid ones were rejected above.
    if let Some(n) = content_length {
        return plain(if n == 0 { BodyKind::Empty } else { BodyKind::Length(n) });
    }
    // 7. Otherwise the body runs until the server closes the connection.
    plain(BodyKind::CloseDelimited)
}

/// All `Content-Length` values, from every field line and comma list, must be
/// digits and identical (RFC 9110 §8.6).
fn content_length(head: &ResponseHead) -> Result<Option<u64>, ProtocolError> {
    let mut length = None;
    for value in head.framing_values(FramingField::ContentLength) {
        let mut any = false;
        for item in value.split(|&b| b == b',') {
            let n = parse_content_length(item.trim_ascii()).ok_or(ProtocolError::ContentLengthInvalid)?;
            if length.is_some_and(|m| m != n) {
                return Err(ProtocolError::ContentLengthConflict);
            }
            length = Some(n);
            any = true;
        }
        if !any {
            return Err(ProtocolError::ContentLengthInvalid);
        }
    }
    Ok(length)
}

/// True when the codings are exactly one `chunked`, false when there is no
/// `Transfer-Encoding`; an error for anything else, including an empty list.
fn is_chunked(head: &ResponseHead) -> Result<bool, ProtocolError> {
    let mut codings = 0usize;
    let mut present = false;
    for value in head.framing_values(FramingField::TransferEncoding) {
        present = true;
        for coding in list_elements(value) {
            if !coding.eq_ignore_ascii_case(b"chunked") {
                return Err(ProtocolError::TransferEncodingUnsupported);
            }
            codings += 1;
        }
    }
    match (present, codings) {
        (false, _) => Ok(false),
        (true, 1) => Ok(true),
        _ => Err(ProtocolError::TransferEncodingUnsupported),
    }
}

/// Whether the server lets the connection persist after this response
/// (RFC 9112 §9.3): not with `Connection: close`; HTTP/1.1 by default; HTTP/1.0
/// only with `Connection: keep-alive`.
pub fn server_keeps_alive(head: &ResponseHead) -> bool {
    let mut keep_alive = false;
    for value in head.framing_values(FramingField::Connection) {
        // The usual values, whole, before splitting the list (hot path).
        if value.eq_ignore_ascii_case(b"keep-alive") {
            keep_alive = true;
            continue;
        }
        for option in list_elements(value) {
            if option.eq_ignore_ascii_case(b"close") {
                return false;
            }
            keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    head.version() == Version::HTTP_11 || keep_alive
}
