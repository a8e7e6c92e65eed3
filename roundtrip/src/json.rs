//! JSON and form bodies for the request builder (feature `json`).

use http::HeaderValue;
use http::header::CONTENT_TYPE;
use roundtrip_core::client::{Full, RequestBuilder, Runtime};
use serde::Serialize;

/// `.json(&value)` and `.form(&value)` on a [`RequestBuilder`]. In the
/// [prelude](crate::prelude).
pub trait RequestBuilderExt: Sized {
    /// The body: `value` serialized as JSON, with `Content-Type:
    /// application/json` unless one was set. A value that does not serialize
    /// fails the request.
    fn json<T: Serialize + ?Sized>(self, value: &T) -> Self;

    /// The body: `value` form-encoded (`application/x-www-form-urlencoded`,
    /// the content type unless one was set). A value that does not encode
    /// fails the request.
    fn form<T: Serialize + ?Sized>(self, value: &T) -> Self;
}

impl<R: Runtime> RequestBuilderExt for RequestBuilder<R> {
    fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value);
        self.with_request(|request| {
            *request.body_mut() = Full::new(body?);
            let content_type = HeaderValue::from_static("application/json");
            request.headers_mut().entry(CONTENT_TYPE).or_insert(content_type);
            Ok(())
        })
    }

    fn form<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_urlencoded::to_string(value);
        self.with_request(|request| {
            *request.body_mut() = Full::new(body?);
            let content_type = HeaderValue::from_static("application/x-www-form-urlencoded");
            request.headers_mut().entry(CONTENT_TYPE).or_insert(content_type);
            Ok(())
        })
    }
}
