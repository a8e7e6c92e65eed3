//! Reading a whole response in one call: `response.text(limit)` instead of
//! `response.into_body().text(limit)`, and JSON with the `json` feature.

use std::future::Future;

use roundtrip_core::client::{Body, Error, Runtime};

/// Collects a response's body under a size limit. In the [prelude](crate::prelude).
pub trait ResponseExt {
    /// The body's bytes; fails once it passes `limit` bytes.
    fn bytes(self, limit: usize) -> impl Future<Output = Result<bytes::Bytes, Error>> + Send;

    /// The body as text in the charset its `Content-Type` names (UTF-8 when
    /// it names none); fails once it passes `limit` bytes.
    fn text(self, limit: usize) -> impl Future<Output = Result<String, Error>> + Send;

    /// The body parsed as JSON into `T`; fails once it passes `limit` bytes,
    /// and with an error for which `is_decode` holds when it is not `T`.
    #[cfg(feature = "json")]
    fn json<T: serde::de::DeserializeOwned>(
        self,
        limit: usize,
    ) -> impl Future<Output = Result<T, Error>> + Send;
}

impl<R: Runtime> ResponseExt for http::Response<Body<R>> {
    fn bytes(self, limit: usize) -> impl Future<Output = Result<bytes::Bytes, Error>> + Send {
        self.into_body().bytes(limit)
    }

    fn text(self, limit: usize) -> impl Future<Output = Result<String, Error>> + Send {
        let content_type = self.headers().get(http::header::CONTENT_TYPE).cloned();
        async move { self.into_body().text_in(content_type.as_ref(), limit).await }
    }

    #[cfg(feature = "json")]
    fn json<T: serde::de::DeserializeOwned>(
        self,
        limit: usize,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        let body = self.into_body();
        async move {
            let bytes = body.bytes(limit).await?;
            serde_json::from_slice(&bytes).map_err(Error::decode)
        }
    }
}
