//! The outgoing byte queue: encoded heads, chunk framing and the caller's body
//! `Bytes`, chained without copying the body, for vectored writes.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes};

/// Framing pieces (a chunk-size line with the CRLF that ends the previous chunk)
/// are at most this long and stored inline, so framing a chunk never allocates.
const INLINE: usize = 24;

/// Bytes waiting to be written, as a `bytes::Buf`.
///
/// An adapter writes it with `chunks_vectored` + `write_vectored`, then calls
/// `advance(n)` with what the socket took.
#[derive(Debug, Default)]
pub struct Outgoing {
    segments: VecDeque<Segment>,
    remaining: usize,
    /// Bytes advanced past since creation.
    written: u64,
    /// Bytes ever queued since creation.
    queued: u64,
}

#[derive(Debug)]
enum Segment {
    Shared(Bytes),
    Inline { bytes: [u8; INLINE], start: u8, end: u8 },
}

impl Segment {
    fn as_slice(&self) -> &[u8] {
        match self {
            Segment::Shared(b) => b,
            Segment::Inline { bytes, start, end } => &bytes[*start as usize..*end as usize],
        }
    }
}

impl Outgoing {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `bytes` (not copied). Empty `Bytes` are skipped.
    pub fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.remaining += bytes.len();
        self.queued += bytes.len() as u64;
        self.segments.push_back(Segment::Shared(bytes));
    }

    /// Queues a short framing piece by copying it inline; longer pieces are
    /// copied into a new `Bytes`.
    pub fn push_framing(&mut self, piece: &[u8]) {
        if piece.len() > INLINE {
            self.push(Bytes::copy_from_slice(piece));
            return;
        }
        if piece.is_empty() {
            return;
        }
        let mut bytes = [0u8; INLINE];
        bytes[..piece.len()].copy_from_slice(piece);
        self.remaining += piece.len();
        self.queued += piece.len() as u64;
        self.segments.push_back(Segment::Inline { bytes, start: 0, end: piece.len() as u8 });
    }

    /// Moves everything queued in `other` to the end of this queue.
    pub fn append(&mut self, other: Outgoing) {
        self.remaining += other.remaining;
        self.queued += other.remaining as u64;
        self.segments.extend(other.segments);
    }

    /// Total bytes taken by the socket (advanced past) since creation.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Total bytes ever queued since creation; `written() == queued()` when empty.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// Releases the queue's memory beyond a few entries when it is empty.
    pub fn shrink(&mut self) {
        if self.segments.is_empty() && self.segments.capacity() > 8 {
            self.segments = VecDeque::new();
        }
    }

    /// Drops everything not yet written.
    pub fn clear(&mut self) {
        self.queued -= self.remaining as u64;
        self.segments.clear();
        self.remaining = 0;
    }
}

impl Buf for Outgoing {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.segments.front().map_or(&[], Segment::as_slice)
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advance past the end of Outgoing");
        self.remaining -= cnt;
        self.written += cnt as u64;
        while cnt > 0 {
            let Some(front) = self.segments.front_mut() else { break };
            let len = front.as_slice().len();
            if cnt >= len {
                self.segments.pop_front();
                cnt -= len;
                continue;
            }
            match front {
                Segment::Shared(b) => b.advance(cnt),
                Segment::Inline { start, .. } => *start += cnt as u8,
            }
            cnt = 0;
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, segment) in dst.iter_mut().zip(&self.segments) {
            *slot = IoSlice::new(segment.as_slice());
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_chains_without_copying_and_advances_across_segments() {
        let body = Bytes::from_static(b"hello");
        let mut out = Outgoing::new();
        out.push_framing(b"5\r\n");
        out.push(body.clone());
        out.push_framing(b"\r\n");
        assert_eq!(out.remaining(), 10);
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(out.chunks_vectored(&mut slices), 3);
        assert_eq!(slices[1].as_ptr(), body.as_ptr(), "body bytes are not copied");
        out.advance(4);
        assert_eq!(out.chunk(), b"ello");
        out.advance(5);
        assert_eq!(out.chunk(), b"\n");
        assert_eq!((out.written(), out.queued()), (9, 10));
        out.clear();
        assert_eq!((out.remaining(), out.written(), out.queued()), (0, 9, 9));
    }
}
