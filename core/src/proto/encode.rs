//! Request body encoders: length-checked and chunked, onto an [`Outgoing`] queue.

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;

use super::chars::{is_token, is_valid_field_value};
use super::error::UsageError;
use super::outgoing::Outgoing;
use super::request::RequestFraming;

/// Frames one request body as it is produced.
#[derive(Clone, Debug)]
pub struct BodyEncoder {
    kind: Kind,
    sent: u64,
    finished: bool,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Empty,
    Length(u64),
    /// `pending_crlf`: the previous chunk's data still needs its CRLF, which is
    /// written together with the next size line.
    Chunked {
        pending_crlf: bool,
    },
}

impl BodyEncoder {
    /// An encoder for the framing chosen by [`super::encode_request_head`].
    pub fn new(framing: RequestFraming) -> Self {
        let kind = match framing {
            RequestFraming::Empty => Kind::Empty,
            RequestFraming::Length(n) => Kind::Length(n),
            RequestFraming::Chunked => Kind::Chunked { pending_crlf: false },
        };
        Self { kind, sent: 0, finished: false }
    }

    /// Queues `data` with its framing. Never copies `data`.
    ///
    /// A length body refuses bytes beyond its declared length before queueing
    /// any of them. Empty `data` is a no-op (an empty chunk would end the body).
    pub fn encode(&mut self, data: Bytes, out: &mut Outgoing) -> Result<(), UsageError> {
        if self.finished {
            return Err(UsageError::BodyNotExpected);
        }
        if data.is_empty() {
            return Ok(());
        }
        match &mut self.kind {
            Kind::Empty => return Err(UsageError::BodyNotExpected),
            Kind::Length(declared) => {
                if self.sent + data.len() as u64 > *declared {
                    return Err(UsageError::BodyLongerThanDeclared { declared: *declared });
                }
            }
            Kind::Chunked { pending_crlf } => {
                let mut line = [0u8; 20];
                let len = size_line(*pending_crlf, data.len() as u64, &mut line);
                out.push_framing(&line[..len]);
                *pending_crlf = true;
            }
        }
        self.sent += data.len() as u64;
        out.push(data);
        Ok(())
    }

    /// Ends the body: checks a length body is complete, or writes the last chunk
    /// and `trailers` (validated like header fields; RFC 9112 §7.1.2).
    pub fn finish(&mut self, trailers: Option<&HeaderMap>, out: &mut Outgoing) -> Result<(), UsageError> {
        if self.finished {
            return Err(UsageError::BodyNotExpected);
        }
        let trailers = trailers.filter(|t| !t.is_empty());
        match self.kind {
            Kind::Chunked { pending_crlf } => {
                let block = trailers.map(encode_trailers).transpose()?;
                out.push_framing(if pending_crlf { b"\r\n0\r\n" } else { b"0\r\n" });
                if let Some(block) = block {
                    out.push(block);
                }
                out.push_framing(b"\r\n");
            }
            _ if trailers.is_some() => return Err(UsageError::TrailersWithoutChunked),
            Kind::Length(declared) if self.sent != declared => {
                return Err(UsageError::BodyShorterThanDeclared { declared, sent: self.sent });
            }
            Kind::Length(_) | Kind::Empty => {}
        }
        self.finished = true;
        Ok(())
    }

    /// Body bytes accepted so far (framing excluded).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// True once [`finish`](Self::finish) succeeded.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Writes `[CRLF] hex-size CRLF` into `line`; returns its length (at most 20).
fn size_line(crlf_first: bool, size: u64, line: &mut [u8; 20]) -> usize {
    let mut len = 0;
    if crlf_first {
        line[..2].copy_from_slice(b"\r\n");
        len = 2;
    }
    let digits = (64 - size.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        let nibble = (size >> ((digits - 1 - i) * 4)) & 0xf;
        line[len + i] = b"0123456789abcdef"[nibble as usize];
    }
    len += digits;
    line[len..len + 2].copy_from_slice(b"\r\n");
    len + 2
}

fn encode_trailers(trailers: &HeaderMap) -> Result<Bytes, UsageError> {
    let mut block = BytesMut::new();
    for (name, value) in trailers {
        if !is_token(name.as_str().as_bytes()) {
            return Err(UsageError::InvalidHeaderName);
        }
        if !is_valid_field_value(value.as_bytes()) {
            return Err(UsageError::InvalidHeaderValue { name: name.clone() });
        }
        block.put_slice(name.as_str().as_bytes());
        block.put_slice(b": ");
        block.put_slice(value.as_bytes());
        block.put_slice(b"\r\n");
    }
    Ok(block.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_lines_are_lowercase_hex_with_pending_crlf() {
        let mut line = [0u8; 20];
        let n = size_line(false, 0x4000, &mut line);
        assert_eq!(&line[..n], b"4000\r\n");
        let n = size_line(true, u64::MAX, &mut line);
        assert_eq!(&line[..n], b"\r\nffffffffffffffff\r\n");
        let n = size_line(false, 1, &mut line);
        assert_eq!(&line[..n], b"1\r\n");
    }
}
