//! Response body decoders: length, chunked and close-delimited, over the read buffer.
//!
//! Every decoder works on the connection's `BytesMut` and returns body data as
//! `Bytes` split off its front: no copy from the read buffer to the caller.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use super::chunked::ChunkedDecoder;
use super::error::ProtocolError;
use super::framing::BodyKind;

/// Limits on the non-data parts of a chunked body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    /// Maximum bytes of one chunk-size line, extensions included (default 1 KiB).
    pub max_chunk_line: usize,
    /// Maximum non-data bytes beyond 16 per chunk plus twice the data, summed over
    /// the body (default 16 KiB; Go's CVE-2023-39326 rule).
    pub max_chunk_overhead: u64,
    /// Maximum bytes of the trailer section (default 16 KiB).
    pub max_trailer_bytes: usize,
    /// Maximum trailer fields (default 100).
    pub max_trailers: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_chunk_line: 1024,
            max_chunk_overhead: 16 * 1024,
            max_trailer_bytes: 16 * 1024,
            max_trailers: 100,
        }
    }
}

/// One step of body decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes, at most the `max` asked for, never empty.
    Data(Bytes),
    /// The trailer fields of a chunked body; [`Decoded::End`] follows.
    Trailers(HeaderMap),
    /// The body is complete; every later call returns `End` again.
    End,
    /// More bytes are needed.
    NeedMore,
}

/// Decodes one response body of a known [`BodyKind`].
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Length { remaining: u64 },
    Chunked(ChunkedDecoder),
    CloseDelimited,
    Done,
}

impl BodyDecoder {
    /// A decoder for a body framed as `kind`.
    pub fn new(kind: BodyKind, limits: BodyLimits) -> Self {
        let kind = match kind {
            BodyKind::Empty | BodyKind::Length(0) => Kind::Done,
            BodyKind::Length(n) => Kind::Length { remaining: n },
            BodyKind::Chunked => Kind::Chunked(ChunkedDecoder::new(limits)),
            BodyKind::CloseDelimited => Kind::CloseDelimited,
        };
        Self { kind }
    }

    /// Decodes from the front of `buf`, returning at most `max` (> 0) data bytes.
    ///
    /// Consumed framing bytes are removed from `buf`; bytes after the end of the
    /// body are left in it. Call again after `Data` or `Trailers`; after
    /// `NeedMore`, call again once `buf` has grown.
    pub fn decode(&mut self, buf: &mut BytesMut, max: usize) -> Result<Decoded, ProtocolError> {
        let max = max.max(1);
        match &mut self.kind {
            Kind::Done => Ok(Decoded::End),
            Kind::Length { remaining } => {
                if buf.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                let n = (*remaining).min(buf.len() as u64).min(max as u64) as usize;
                *remaining -= n as u64;
                if *remaining == 0 {
                    self.kind = Kind::Done;
                }
                Ok(Decoded::Data(buf.split_to(n).freeze()))
            }
            Kind::CloseDelimited => {
                if buf.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                let n = buf.len().min(max);
                Ok(Decoded::Data(buf.split_to(n).freeze()))
            }
            Kind::Chunked(chunked) => {
                let decoded = chunked.decode(buf, max)?;
                // Data can end the body too: the rest was buffered behind it.
                if chunked.is_end() {
                    self.kind = Kind::Done;
                }
                Ok(decoded)
            }
        }
    }

    /// The connection reached EOF: `End` for a close-delimited body (or one that
    /// was already complete), otherwise [`ProtocolError::IncompleteBody`].
    /// Call only after `decode` returned `NeedMore` on everything buffered.
    pub fn decode_eof(&mut self) -> Result<Decoded, ProtocolError> {
        match self.kind {
            Kind::Done | Kind::CloseDelimited => {
                self.kind = Kind::Done;
                Ok(Decoded::End)
            }
            Kind::Length { .. } | Kind::Chunked(_) => Err(ProtocolError::IncompleteBody),
        }
    }

    /// True once the body has ended.
    pub fn is_done(&self) -> bool {
        matches!(self.kind, Kind::Done)
    }

    /// Bytes still to come when that is known: the rest of a `Length` body, or 0
    /// when done. `None` for chunked and close-delimited bodies.
    pub fn remaining(&self) -> Option<u64> {
        match self.kind {
            Kind::Length { remaining } => Some(remaining),
            Kind::Done => Some(0),
            Kind::Chunked(_) | Kind::CloseDelimited => None,
        }
    }
}
