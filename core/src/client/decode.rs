//! Transparent decompression of response bodies (feature `gzip`), as Go's
//! Transport does it (docs/go-transport.md DECODE-1): only when the client
//! itself offered the codings, decoded while the body streams, under limits
//! that stop decompression bombs (docs/security.md I1).
//!
//! flate2 decodes; this module feeds it the framed body's chunks as they
//! arrive and takes its output a bounded piece at a time, so memory stays
//! at one read buffer whatever the ratio.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read};

use bytes::{Buf, Bytes};
use flate2::bufread::{MultiGzDecoder, ZlibDecoder};

use super::error::Error;

/// Decoded bytes handed out per frame.
const PIECE: usize = 32 * 1024;

/// Below this many decoded bytes the ratio limit does not apply: small
/// bodies of repeated bytes compress far better than any real bomb needs.
const RATIO_FLOOR: u64 = 1 << 20;

/// The codings this build decodes, as `Accept-Encoding` offers them.
#[cfg(not(any(feature = "brotli", feature = "zstd")))]
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate";
#[cfg(all(feature = "brotli", not(feature = "zstd")))]
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate, br";
#[cfg(all(not(feature = "brotli"), feature = "zstd"))]
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate, zstd";
#[cfg(all(feature = "brotli", feature = "zstd"))]
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// The largest zstd window accepted, as a power of two: 8 MiB, what RFC
/// 9659 §3 asks HTTP decoders to support. A frame that wants more is refused
/// instead of allocating what its header demands (security.md I4).
#[cfg(feature = "zstd")]
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Input buffered by the brotli reader.
#[cfg(feature = "brotli")]
const BROTLI_BUFFER: usize = 4096;

/// Limits on what a compressed body may decode to: [`ClientBuilder::decompression_limits`](super::ClientBuilder::decompression_limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Decoded bytes per body, at most.
    pub(crate) max_bytes: Option<u64>,
    /// Decoded bytes per compressed byte, at most, once past 1 MiB.
    pub(crate) max_ratio: Option<u64>,
}

impl Default for Limits {
    /// No absolute cap, and at most 100 decoded bytes per compressed byte
    /// past the first MiB: far above what text and JSON reach (5-20x), far
    /// below what a bomb needs (about 1000x for gzip).
    fn default() -> Self {
        Self { max_bytes: None, max_ratio: Some(100) }
    }
}

/// The decoded body was past a decompression limit: the response was
/// refused as a likely decompression bomb. The source of an error that
/// [`Error::is_decode`] recognises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecompressionLimit {
    decoded: u64,
    compressed: u64,
}

impl fmt::Display for DecompressionLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the body decompressed past its limit ({} bytes from {} compressed)",
            self.decoded, self.compressed
        )
    }
}

impl std::error::Error for DecompressionLimit {}

/// A content coding this build decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    /// HTTP's `deflate` is the zlib format (RFC 9110 §8.4.1.2).
    Deflate,
    /// `br` (RFC 7932).
    #[cfg(feature = "brotli")]
    Brotli,
    /// `zstd` (RFC 8878, in HTTP RFC 9659).
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Coding {
    /// The coding a `Content-Encoding` value names, if it is exactly one
    /// this build decodes (Go decodes only a lone `gzip`).
    pub(crate) fn of(value: &[u8]) -> Option<Self> {
        let value = value.trim_ascii();
        if value.eq_ignore_ascii_case(b"gzip") || value.eq_ignore_ascii_case(b"x-gzip") {
            Some(Self::Gzip)
        } else if value.eq_ignore_ascii_case(b"deflate") {
            Some(Self::Deflate)
        } else {
            Self::optional(value)
        }
    }

    /// The codings behind features.
    #[allow(unused_variables, reason = "without brotli and zstd there is nothing to match")]
    fn optional(value: &[u8]) -> Option<Self> {
        #[cfg(feature = "brotli")]
        if value.eq_ignore_ascii_case(b"br") {
            return Some(Self::Brotli);
        }
        #[cfg(feature = "zstd")]
        if value.eq_ignore_ascii_case(b"zstd") {
            return Some(Self::Zstd);
        }
        None
    }
}

/// What [`Decoder::next`] found.
pub(crate) enum Out {
    /// Decoded bytes.
    Data(Bytes),
    /// More compressed bytes are needed.
    NeedInput,
    /// The compressed stream ended.
    Done,
}

/// A streaming decoder over chunks pushed as they arrive.
pub(crate) struct Decoder {
    inner: Inner,
    /// flate2 writes here; each piece is copied out as `Bytes`.
    scratch: Box<[u8]>,
    limits: Limits,
    compressed: u64,
    decoded: u64,
    done: bool,
    /// Trailers that came before all the output was taken, given after it.
    pub(crate) trailers: Option<http::HeaderMap>,
}

enum Inner {
    Gzip(MultiGzDecoder<Feed>),
    Deflate(ZlibDecoder<Feed>),
    /// Boxed: its state is several times the others'.
    #[cfg(feature = "brotli")]
    Brotli(Box<brotli_decompressor::Decompressor<Feed>>),
    #[cfg(feature = "zstd")]
    Zstd(zstd::stream::read::Decoder<'static, Feed>),
}

impl Decoder {
    /// A decoder for `coding`; fails only if zstd cannot set itself up.
    pub(crate) fn new(coding: Coding, limits: Limits) -> Result<Self, Error> {
        let feed = Feed { chunks: VecDeque::new(), ended: false };
        let inner = match coding {
            Coding::Gzip => Inner::Gzip(MultiGzDecoder::new(feed)),
            Coding::Deflate => Inner::Deflate(ZlibDecoder::new(feed)),
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                Inner::Brotli(Box::new(brotli_decompressor::Decompressor::new(feed, BROTLI_BUFFER)))
            }
            #[cfg(feature = "zstd")]
            Coding::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::with_buffer(feed).map_err(Error::decode)?;
                decoder.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(Error::decode)?;
                Inner::Zstd(decoder)
            }
        };
        Ok(Self {
            inner,
            scratch: vec![0; PIECE].into_boxed_slice(),
            limits,
            compressed: 0,
            decoded: 0,
            done: false,
            trailers: None,
        })
    }

    fn feed(&mut self) -> &mut Feed {
        match &mut self.inner {
            Inner::Gzip(d) => d.get_mut(),
            Inner::Deflate(d) => d.get_mut(),
            #[cfg(feature = "brotli")]
            Inner::Brotli(d) => d.get_mut(),
            #[cfg(feature = "zstd")]
            Inner::Zstd(d) => d.get_mut(),
        }
    }

    /// Compressed bytes, in order.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        self.compressed += chunk.len() as u64;
        if !chunk.is_empty() {
            self.feed().chunks.push_back(chunk);
        }
    }

    /// No more compressed bytes will come.
    pub(crate) fn end(&mut self) {
        self.feed().ended = true;
    }

    /// The next piece of decoded bytes, at most [`PIECE`].
    pub(crate) fn next(&mut self) -> Result<Out, Error> {
        if self.done {
            return Ok(Out::Done);
        }
        let read = match &mut self.inner {
            Inner::Gzip(d) => d.read(&mut self.scratch),
            Inner::Deflate(d) => d.read(&mut self.scratch),
            #[cfg(feature = "brotli")]
            Inner::Brotli(d) => d.read(&mut self.scratch),
            #[cfg(feature = "zstd")]
            Inner::Zstd(d) => d.read(&mut self.scratch),
        };
        match read {
            Ok(0) => {
                self.done = true;
                Ok(Out::Done)
            }
            Ok(n) => {
                self.decoded += n as u64;
                self.check()?;
                Ok(Out::Data(Bytes::copy_from_slice(&self.scratch[..n])))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Out::NeedInput),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(Error::decode("the compressed body ended early"))
            }
            Err(e) => Err(Error::decode(e)),
        }
    }

    fn check(&self) -> Result<(), Error> {
        let over_cap = self.limits.max_bytes.is_some_and(|max| self.decoded > max);
        let over_ratio = self.decoded > RATIO_FLOOR
            && self
                .limits
                .max_ratio
                .is_some_and(|ratio| self.decoded > self.compressed.saturating_mul(ratio));
        if over_cap || over_ratio {
            return Err(Error::decode(DecompressionLimit {
                decoded: self.decoded,
                compressed: self.compressed,
            }));
        }
        Ok(())
    }
}

/// The compressed chunks not yet decoded, read by flate2: `WouldBlock` when
/// it has read all there is so far, EOF once the body ended.
struct Feed {
    chunks: VecDeque<Bytes>,
    ended: bool,
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Feed {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.chunks.front() {
            Some(chunk) => Ok(chunk),
            None if self.ended => Ok(&[]),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn consume(&mut self, amount: usize) {
        if let Some(chunk) = self.chunks.front_mut() {
            chunk.advance(amount.min(chunk.len()));
            if chunk.is_empty() {
                self.chunks.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Decodes `compressed` pushed in pieces of `split` bytes.
    fn decode(coding: Coding, compressed: &[u8], split: usize, limits: Limits) -> Result<Vec<u8>, Error> {
        let mut decoder = Decoder::new(coding, limits)?;
        let mut out = Vec::new();
        let mut chunks = compressed.chunks(split.max(1));
        loop {
            match decoder.next()? {
                Out::Data(data) => out.extend_from_slice(&data),
                Out::Done => return Ok(out),
                Out::NeedInput => match chunks.next() {
                    Some(chunk) => decoder.push(Bytes::copy_from_slice(chunk)),
                    None => decoder.end(),
                },
            }
        }
    }

    /// Every split of the input decodes to the same bytes (a gzip header
    /// split anywhere included).
    #[test]
    fn gzip_decodes_whatever_the_split() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let compressed = gzip(&data);
        for split in [1, 2, 3, 7, 10, 11, 64, 4096, compressed.len()] {
            assert_eq!(
                decode(Coding::Gzip, &compressed, split, Limits::default()).unwrap(),
                data,
                "split {split}"
            );
        }
    }

    #[test]
    fn deflate_is_the_zlib_format() {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"hello deflate").unwrap();
        let compressed = encoder.finish().unwrap();
        assert_eq!(decode(Coding::Deflate, &compressed, 3, Limits::default()).unwrap(), b"hello deflate");
    }

    /// Concatenated gzip members are one body (RFC 1952 §2.2, as Go reads them).
    #[test]
    fn gzip_members_are_concatenated() {
        let compressed = [gzip(b"one "), gzip(b"two")].concat();
        assert_eq!(decode(Coding::Gzip, &compressed, 5, Limits::default()).unwrap(), b"one two");
    }

    #[test]
    fn truncated_and_corrupt_streams_are_decode_errors() {
        let compressed = gzip(&[7u8; 10_000]);
        let truncated = decode(Coding::Gzip, &compressed[..compressed.len() - 6], 100, Limits::default());
        assert!(truncated.is_err_and(|e| e.is_decode()));
        let mut corrupt = compressed.clone();
        corrupt[20] ^= 0xff;
        let corrupt = decode(Coding::Gzip, &corrupt, 100, Limits::default());
        assert!(corrupt.is_err_and(|e| e.is_decode()));
        assert!(decode(Coding::Gzip, b"not gzip at all", 4, Limits::default()).is_err());
    }

    /// A bomb (10 MiB of zeros, about 10 KiB compressed) stops at the ratio
    /// limit, and at an absolute cap, before it is decoded whole.
    #[test]
    fn bombs_stop_at_the_limits() {
        let compressed = gzip(&vec![0u8; 10 << 20]);
        assert!(compressed.len() < 64 << 10);
        let error = decode(Coding::Gzip, &compressed, 4096, Limits::default()).unwrap_err();
        assert!(error.is_decode(), "{error}");
        let limit = std::error::Error::source(&error).and_then(|s| s.downcast_ref::<DecompressionLimit>());
        assert!(limit.is_some_and(|l| l.decoded <= (2 << 20)), "{error:?}");

        let capped = Limits { max_bytes: Some(1000), max_ratio: None };
        assert!(decode(Coding::Gzip, &gzip(&[1u8; 5000]), 64, capped).is_err());
        let unlimited = Limits { max_bytes: None, max_ratio: None };
        assert_eq!(decode(Coding::Gzip, &compressed, 4096, unlimited).unwrap().len(), 10 << 20);
    }

    /// br and zstd, split anywhere, as gzip.
    #[cfg(feature = "brotli")]
    #[test]
    fn brotli_decodes_whatever_the_split() {
        let data: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut compressed = Vec::new();
        // A low quality: the default (11) takes seconds in a debug build.
        let params = brotli::enc::BrotliEncoderParams { quality: 4, ..Default::default() };
        brotli::BrotliCompress(&mut &data[..], &mut compressed, &params).unwrap();
        for split in [1, 3, 64, 4096, compressed.len()] {
            assert_eq!(
                decode(Coding::Brotli, &compressed, split, Limits::default()).unwrap(),
                data,
                "split {split}"
            );
        }
        let truncated = decode(Coding::Brotli, &compressed[..compressed.len() / 2], 100, Limits::default());
        assert!(truncated.is_err_and(|e| e.is_decode()));
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_decodes_whatever_the_split() {
        let data: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let compressed = zstd::stream::encode_all(&data[..], 3).unwrap();
        for split in [1, 3, 64, 4096, compressed.len()] {
            assert_eq!(
                decode(Coding::Zstd, &compressed, split, Limits::default()).unwrap(),
                data,
                "split {split}"
            );
        }
        let truncated = decode(Coding::Zstd, &compressed[..compressed.len() / 2], 100, Limits::default());
        assert!(truncated.is_err_and(|e| e.is_decode()));
    }

    /// security.md I4: a zstd frame that asks for a window past 8 MiB is
    /// refused, not allocated.
    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_windows_past_8_mib_are_refused() {
        let mut encoder = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        encoder.set_parameter(zstd::zstd_safe::CParameter::WindowLog(27)).unwrap();
        encoder.include_contentsize(false).unwrap();
        std::io::Write::write_all(&mut encoder, &vec![1u8; 1 << 20]).unwrap();
        let compressed = encoder.finish().unwrap();
        let refused = decode(Coding::Zstd, &compressed, 4096, Limits::default());
        assert!(refused.is_err_and(|e| e.is_decode()));
    }

    #[test]
    fn content_encoding_names_one_coding() {
        assert_eq!(Coding::of(b"gzip"), Some(Coding::Gzip));
        assert_eq!(Coding::of(b" GZIP "), Some(Coding::Gzip));
        assert_eq!(Coding::of(b"x-gzip"), Some(Coding::Gzip));
        assert_eq!(Coding::of(b"deflate"), Some(Coding::Deflate));
        assert_eq!(Coding::of(b"gzip, gzip"), None);
        assert_eq!(Coding::of(b"br").is_some(), cfg!(feature = "brotli"));
        assert_eq!(Coding::of(b"zstd").is_some(), cfg!(feature = "zstd"));
        assert_eq!(Coding::of(b"compress"), None);
        assert_eq!(Coding::of(b"identity"), None);
    }
}
