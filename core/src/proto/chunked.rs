//! The chunked transfer coding (RFC 9112 §7.1), decoded one byte of framing at a time.
//!
//! ```text
//! chunk      = Size [SizeWs] [";" Extension] CR LF  Data  CR LF
//! last-chunk = "0"  [SizeWs] [";" Extension] CR LF  trailer-section CR LF
//! ```
//!
//! Rules and limits, each a typed error:
//! - chunk-size: 1 to 16 hex digits (Go's limit; 17 digits fail even when the
//!   value fits), no sign, no `0x`, whitespace allowed only after the digits;
//! - a size line, extensions included, is at most `max_chunk_line` bytes; the
//!   extensions are skipped, not interpreted, and may not hold controls;
//! - non-data bytes are budgeted as Go does since CVE-2023-39326: each chunk may
//!   carry 16 bytes plus twice its data of overhead for free, and the excess
//!   summed over the body may not pass `max_chunk_overhead`;
//! - chunk data must be followed by CRLF;
//! - bare-LF policy: every line of the chunked framing, trailers included, must
//!   end in CRLF. A bare LF, tolerated in the response head (RFC 9112 §2.2), is
//!   an error here: a parser that accepts it disagrees with one that does not,
//!   which is how bodies get smuggled (Go CVE-2025-22871);
//! - the trailer section is at most `max_trailer_bytes` and `max_trailers` fields,
//!   parsed with the same field grammar as the head, and delivered apart from the
//!   head's fields (RFC 9110 §6.5.1); an obs-fold is replaced with one SP before
//!   parsing, as in the head (RFC 9112 §5.2), and whitespace before the first
//!   trailer field stays an error.

use bytes::{Buf, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::chars::{has_obs_fold, unfold_in_place};
use super::decode::{BodyLimits, Decoded};
use super::error::ProtocolError;

/// Decoder state for one chunked body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    limits: BodyLimits,
    /// Size of the chunk being read (while in `Size`..`SizeLf`) or bytes of its
    /// data still to come (in `Data`).
    size: u64,
    digits: u8,
    /// Bytes of the current size line so far.
    line: usize,
    /// Non-data bytes beyond the free allowance, summed over the body.
    overhead: u64,
    /// Trailer bytes already scanned for the end of the section.
    trailer_scanned: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size,
    SizeWs,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailers,
    End,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new(limits: BodyLimits) -> Self {
        Self { state: State::Size, limits, size: 0, digits: 0, line: 0, overhead: 0, trailer_scanned: 0 }
    }

    /// Decodes from the front of `buf`; see [`super::BodyDecoder::decode`].
    pub fn decode(&mut self, buf: &mut BytesMut, max: usize) -> Result<Decoded, ProtocolError> {
        loop {
            match self.state {
                State::Data => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let n = self.size.min(buf.len() as u64).min(max as u64) as usize;
                    self.size -= n as u64;
                    let data = buf.split_to(n).freeze();
                    if self.size == 0 {
                        self.state = State::DataCr;
                        self.read_ahead(buf);
                    }
                    return Ok(Decoded::Data(data));
                }
                State::Trailers => return self.decode_trailers(buf),
                State::End => return Ok(Decoded::End),
                _ => {
                    let mut used = 0;
                    while used < buf.len() && self.in_framing() {
                        self.step(buf[used])?;
                        used += 1;
                    }
                    buf.advance(used);
                    if self.in_framing() {
                        return Ok(Decoded::NeedMore);
                    }
                }
            }
        }
    }

    /// True once the body is complete (the last chunk and its trailer
    /// section were consumed).
    pub fn is_end(&self) -> bool {
        self.state == State::End
    }

    /// After a chunk's data, consumes the framing that is already buffered
    /// behind it: the CRLF and the next size line, and, when that is the
    /// last chunk with no trailers, the empty line that ends the body. The
    /// data just taken is then known to be the last, and the connection can
    /// be reused before the caller reads again (Go's chunked reader reads the
    /// next chunk header when it is buffered, for the same reason). A framing
    /// error here consumes nothing: the next call meets it again and fails.
    fn read_ahead(&mut self, buf: &mut BytesMut) {
        let mut ahead = self.clone();
        let mut used = 0;
        while used < buf.len() && ahead.in_framing() {
            if ahead.step(buf[used]).is_err() {
                return;
            }
            used += 1;
        }
        *self = ahead;
        if self.state == State::Trailers && buf[used..].starts_with(b"\r\n") {
            self.state = State::End;
            used += 2;
        }
        buf.advance(used);
    }

    fn in_framing(&self) -> bool {
        !matches!(self.state, State::Data | State::Trailers | State::End)
    }

    /// Consumes one framing byte.
    fn step(&mut self, b: u8) -> Result<(), ProtocolError> {
        if matches!(self.state, State::Size | State::SizeWs | State::Extension | State::SizeLf) {
            self.line += 1;
            if self.line > self.limits.max_chunk_line {
                return Err(ProtocolError::ChunkExtensionTooLong);
            }
        }
        self.state = match (self.state, b) {
            (State::Size, _) if b.is_ascii_hexdigit() => {
                self.digits += 1;
                if self.digits > 16 {
                    return Err(ProtocolError::ChunkSizeTooLong);
                }
                let digit = (b as char).to_digit(16).unwrap_or_default();
                self.size =
                    self.size.checked_mul(16).ok_or(ProtocolError::ChunkSizeTooLong)? | u64::from(digit);
                State::Size
            }
            (State::Size, _) if self.digits == 0 => return Err(ProtocolError::ChunkSizeInvalid),
            (State::Size | State::SizeWs, b' ' | b'\t') => State::SizeWs,
            (State::Size | State::SizeWs, b';') => State::Extension,
            (State::Size | State::SizeWs | State::Extension, b'\r') => State::SizeLf,
            (State::Size | State::SizeWs, b'\n') => return Err(ProtocolError::ChunkFraming),
            (State::Size | State::SizeWs, _) => return Err(ProtocolError::ChunkSizeInvalid),
            (State::Extension, b'\t') => State::Extension,
            (State::Extension, _) if b < b' ' || b == 0x7f => return Err(ProtocolError::ChunkFraming),
            (State::Extension, _) => State::Extension,
            (State::SizeLf, b'\n') => self.end_size_line()?,
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => {
                self.size = 0;
                self.digits = 0;
                self.line = 0;
                State::Size
            }
            (State::SizeLf | State::DataCr | State::DataLf, _) => return Err(ProtocolError::ChunkFraming),
            (State::Data | State::Trailers | State::End, _) => self.state,
        };
        Ok(())
    }

    /// The size line is complete: charge its overhead and pick the next state.
    fn end_size_line(&mut self) -> Result<State, ProtocolError> {
        // The line itself plus the CRLF that will follow the data, less the free
        // allowance of 16 bytes and twice the data (Go, CVE-2023-39326).
        let cost = self.line as u64 + 2;
        let allowance = self.size.saturating_mul(2).saturating_add(16);
        self.overhead = (self.overhead + cost).saturating_sub(allowance);
        if self.overhead > self.limits.max_chunk_overhead {
            return Err(ProtocolError::ChunkOverhead);
        }
        Ok(if self.size == 0 { State::Trailers } else { State::Data })
    }

    /// Reads the trailer section once it has fully arrived.
    ///
    /// Looks only at the first `max_trailer_bytes` and only at new bytes on each
    /// call, so the verdict does not depend on how the bytes were split.
    fn decode_trailers(&mut self, buf: &mut BytesMut) -> Result<Decoded, ProtocolError> {
        let max = self.limits.max_trailer_bytes;
        let window = &buf[..buf.len().min(max)];
        let from = self.trailer_scanned.saturating_sub(3);
        let end = if window.starts_with(b"\r\n") {
            Some(2)
        } else {
            window[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|i| from + i + 4)
        };
        check_crlf(&window[..end.unwrap_or(window.len())], self.trailer_scanned.saturating_sub(1))?;
        let Some(end) = end else {
            if buf.len() > max {
                return Err(ProtocolError::TrailersTooLarge { limit: max });
            }
            self.trailer_scanned = buf.len();
            return Ok(Decoded::NeedMore);
        };
        self.state = State::End;
        if end == 2 {
            buf.advance(2);
            return Ok(Decoded::End);
        }
        let mut block = buf.split_to(end);
        // Every break was checked to be CRLF above; a fold is one followed by
        // SP or HTAB. Unfolded in place: the block only gets shorter.
        if has_obs_fold(&block) {
            let unfolded = unfold_in_place(&mut block);
            block.truncate(unfolded);
        }
        parse_trailers(&block.freeze(), self.limits.max_trailers).map(Decoded::Trailers)
    }
}

/// From `from` on, every LF must follow a CR and every CR precede an LF (a CR
/// at the very end may still get its LF).
fn check_crlf(bytes: &[u8], from: usize) -> Result<(), ProtocolError> {
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        let ok = match b {
            b'\n' => i > 0 && bytes[i - 1] == b'\r',
            b'\r' => bytes.get(i + 1).is_none_or(|&next| next == b'\n'),
            _ => true,
        };
        if !ok {
            return Err(ProtocolError::NewLine);
        }
    }
    Ok(())
}

fn parse_trailers(block: &bytes::Bytes, max: usize) -> Result<HeaderMap, ProtocolError> {
    // Trailers are rare: a heap array of slots is fine here.
    let mut slots = vec![httparse::EMPTY_HEADER; max];
    let parsed = match httparse::parse_headers(block, &mut slots) {
        Ok(httparse::Status::Complete((_, fields))) => fields,
        Ok(httparse::Status::Partial) => return Err(ProtocolError::NewLine),
        Err(httparse::Error::TooManyHeaders) => return Err(ProtocolError::TooManyHeaders { limit: max }),
        Err(httparse::Error::HeaderValue) => return Err(ProtocolError::HeaderValue),
        Err(_) => return Err(ProtocolError::HeaderName),
    };
    let mut map = HeaderMap::with_capacity(parsed.len());
    for field in parsed.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| ProtocolError::HeaderName)?;
        let value = HeaderValue::from_maybe_shared(block.slice_ref(field.value))
            .map_err(|_| ProtocolError::HeaderValue)?;
        map.append(name, value);
    }
    Ok(map)
}
