//! Request bodies for the common cases: all bytes at hand ([`Full`]) or none
//! ([`Empty`]). Any other `http_body::Body` works too.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A body whose bytes are all known up front; sent with `content-length` and
/// replayable on retry without copying.
#[derive(Clone, Debug, Default)]
pub struct Full {
    data: Option<Bytes>,
}

impl Full {
    /// A body of `data`.
    pub fn new(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        Self { data: (!data.is_empty()).then_some(data) }
    }
}

impl Body for Full {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

macro_rules! full_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Full {
            fn from(data: $t) -> Self {
                Full::new(data)
            }
        }
    )*};
}

full_from!(Bytes, Vec<u8>, String, &'static [u8], &'static str);

/// A body with no bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Empty;

impl Body for Empty {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(0)
    }
}
