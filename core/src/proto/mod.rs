//! The HTTP/1.1 wire format, strict and zero-copy; no state beyond one message.
//!
//! - [`encode_request_head`]: a validated request head into one buffer.
//! - [`HeadParser`]: response heads from the read buffer, as [`ResponseHead`].
//! - [`response_framing`]: RFC 9112 §6.3, deciding the [`BodyKind`].
//! - [`BodyDecoder`]: length, chunked and close-delimited bodies as `Bytes`
//!   split off the read buffer.
//! - [`BodyEncoder`] and [`Outgoing`]: request bodies framed around the
//!   caller's `Bytes` for vectored writes.

mod chars;
mod chunked;
mod decode;
mod encode;
mod error;
mod framing;
mod outgoing;
mod request;
mod response;

pub use chunked::ChunkedDecoder;
pub use decode::{BodyDecoder, BodyLimits, Decoded};
pub use encode::BodyEncoder;
pub use error::{ProtocolError, UsageError};
pub use framing::{BodyKind, Framing, response_framing, server_keeps_alive};
pub use outgoing::Outgoing;
pub use request::{
    BodyLength, DefaultFields, EncodedHead, RequestFraming, RequestHead, TargetForm, encode_request_head,
    encode_request_head_with_defaults, encode_request_head_with_fields,
};
pub use response::{HeadLimits, HeadParser, ResponseHead};

#[cfg(feature = "client")]
pub(crate) use request::default_port;
pub(crate) use request::split_authority;
