//! The everyday way to make a request: `client.get(url)` and its siblings
//! give a [`RequestBuilder`]; fields, a query, credentials, a timeout and a
//! body go on it; `.send()` (or `.await` on the builder) sends it. It only
//! builds an `http::Request`, so nothing is hidden from `Client::request`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{HeaderMap, Method, Request, Response, Uri};

use super::Client;
use super::body::Body;
use super::error::{BoxError, Error};
use super::full::Full;
use super::options::RequestTimeout;
use super::runtime::Runtime;

/// A request being put together; see [`Client::get`]. Errors in what is
/// given (a URL or a field that does not parse) are kept and returned by
/// [`send`](Self::send), so calls chain without `?` at every step.
///
/// ```no_run
/// # async fn f<R: roundtrip_core::client::Runtime + Default>() -> Result<(), roundtrip_core::client::Error> {
/// # let client = roundtrip_core::client::Client::<R>::new();
/// use std::time::Duration;
/// let response = client
///     .post("https://api.example.com/items")
///     .query([("dry_run", "true")])
///     .header("content-type", "text/plain")
///     .bearer_auth("secret-token")
///     .timeout(Duration::from_secs(5))
///     .body("an item")
///     .send()
///     .await?;
/// let text = response.into_body().text(1 << 20).await?;
/// # Ok(()) }
/// ```
#[must_use = "a request is sent by .send() or .await"]
pub struct RequestBuilder<R: Runtime> {
    client: Client<R>,
    request: Result<Request<Full>, Error>,
}

impl<R: Runtime> RequestBuilder<R> {
    pub(super) fn new<U>(client: Client<R>, method: Method, url: U) -> Self
    where
        U: TryInto<Uri, Error: Into<http::Error>>,
    {
        let request = url.try_into().map_err(|e| Error::invalid_request_source(e.into())).map(|uri| {
            let mut request = Request::new(Full::default());
            *request.method_mut() = method;
            *request.uri_mut() = uri;
            request
        });
        Self { client, request }
    }

    fn with(mut self, f: impl FnOnce(&mut Request<Full>) -> Result<(), Error>) -> Self {
        if let Ok(request) = &mut self.request
            && let Err(error) = f(request)
        {
            self.request = Err(error);
        }
        self
    }

    /// Adds a header field (after any of the same name). Names and values
    /// are checked here: no CR, LF or NUL gets through.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName, Error: Into<http::Error>>,
        V: TryInto<HeaderValue, Error: Into<http::Error>>,
    {
        self.with(|request| {
            let name = name.try_into().map_err(|e| Error::invalid_request_source(e.into()))?;
            let value = value.try_into().map_err(|e| Error::invalid_request_source(e.into()))?;
            request.headers_mut().append(name, value);
            Ok(())
        })
    }

    /// Sets every field of `headers`, replacing fields of the same names.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.with(|request| {
            let mut last = None;
            for (name, value) in headers {
                let name = name.or_else(|| last.clone()).expect("a HeaderMap's first entry has a name");
                request.headers_mut().insert(&name, value);
                last = Some(name);
            }
            Ok(())
        })
    }

    /// Appends `key=value` pairs to the URL's query, form-encoded
    /// (`application/x-www-form-urlencoded`: space as `+`, the rest of what
    /// is not unreserved as `%XX`).
    pub fn query<K: AsRef<str>, V: AsRef<str>>(self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.with(|request| {
            let uri = request.uri();
            let mut target = uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
            let mut separator = if uri.query().is_some_and(|q| !q.is_empty()) { '&' } else { '?' };
            if target.ends_with('?') {
                separator = '\0';
            }
            for (key, value) in pairs {
                if separator != '\0' {
                    target.push(separator);
                }
                separator = '&';
                form_encode(key.as_ref(), &mut target);
                target.push('=');
                form_encode(value.as_ref(), &mut target);
            }
            let mut parts = uri.clone().into_parts();
            parts.path_and_query =
                Some(PathAndQuery::try_from(target).map_err(Error::invalid_request_source)?);
            *request.uri_mut() = Uri::from_parts(parts).map_err(Error::invalid_request_source)?;
            Ok(())
        })
    }

    /// `Authorization: Bearer <token>`, marked sensitive (never logged).
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.authorization(format!("Bearer {token}"))
    }

    /// `Authorization: Basic ...` (RFC 7617) from a username and an optional
    /// password, marked sensitive.
    pub fn basic_auth(self, username: impl fmt::Display, password: Option<impl fmt::Display>) -> Self {
        let credentials = match password {
            Some(password) => format!("{username}:{password}"),
            None => format!("{username}:"),
        };
        self.authorization(format!("Basic {}", crate::proxy::base64(credentials.as_bytes())))
    }

    fn authorization(self, value: String) -> Self {
        self.with(|request| {
            let mut value = HeaderValue::try_from(value).map_err(Error::invalid_request_source)?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// A deadline for this request, from the call to the end of its body
    /// (replaces the client's `total_timeout` for it).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.extension(RequestTimeout(timeout))
    }

    /// The body: `&'static str`, `String`, `Vec<u8>`, `Bytes` ... sent with
    /// its length. For a streaming body, build an `http::Request` and use
    /// [`Client::request`].
    pub fn body(self, body: impl Into<Full>) -> Self {
        let body = body.into();
        self.with(|request| {
            *request.body_mut() = body;
            Ok(())
        })
    }

    /// Puts `extension` on the request: a [`Trace`](super::Trace), an
    /// [`OnInformational`](super::OnInformational), anything a layer reads.
    pub fn extension<T: Clone + Send + Sync + 'static>(self, extension: T) -> Self {
        self.with(|request| {
            request.extensions_mut().insert(extension);
            Ok(())
        })
    }

    /// Edits the request in place; an error fails it (returned by `send`).
    /// For what the methods above do not cover, and for layers that add
    /// methods of their own (JSON bodies in the `roundtrip` crate).
    pub fn with_request(self, edit: impl FnOnce(&mut Request<Full>) -> Result<(), BoxError>) -> Self {
        self.with(|request| edit(request).map_err(Error::invalid_request_source))
    }

    /// The request as built, or the first error in what was given.
    pub fn build(self) -> Result<Request<Full>, Error> {
        self.request
    }

    /// Sends the request; the future resolves once the response head arrived.
    pub fn send(self) -> ResponseFuture<R> {
        match self.request {
            Ok(request) => ResponseFuture::new(self.client.request(request)),
            Err(error) => ResponseFuture::new(std::future::ready(Err(error))),
        }
    }
}

impl<R: Runtime> IntoFuture for RequestBuilder<R> {
    type Output = Result<Response<Body<R>>, Error>;
    type IntoFuture = ResponseFuture<R>;

    /// `client.get(url).await` sends at once.
    fn into_future(self) -> ResponseFuture<R> {
        self.send()
    }
}

impl<R: Runtime> fmt::Debug for RequestBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.request {
            Ok(request) => f
                .debug_struct("RequestBuilder")
                .field("method", request.method())
                .field("uri", request.uri())
                .field("headers", request.headers())
                .finish_non_exhaustive(),
            Err(error) => f.debug_struct("RequestBuilder").field("error", error).finish_non_exhaustive(),
        }
    }
}

/// The future of a sent [`RequestBuilder`]: a nameable type, `Send` and
/// `'static`, to store in a struct or return from a trait. It boxes the
/// request's state once; [`Client::request`] gives the unboxed future.
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture<R: Runtime> {
    #[allow(clippy::type_complexity, reason = "the one place this type is spelled")]
    inner: Pin<Box<dyn Future<Output = Result<Response<Body<R>>, Error>> + Send>>,
}

impl<R: Runtime> ResponseFuture<R> {
    pub(crate) fn new(
        future: impl Future<Output = Result<Response<Body<R>>, Error>> + Send + 'static,
    ) -> Self {
        Self { inner: Box::pin(future) }
    }
}

impl<R: Runtime> Future for ResponseFuture<R> {
    type Output = Result<Response<Body<R>>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<R: Runtime> fmt::Debug for ResponseFuture<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture(..)")
    }
}

/// `application/x-www-form-urlencoded` byte serializer (the URL Standard's):
/// unreserved bytes as they are, space as `+`, everything else `%XX`.
fn form_encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_follows_the_url_standard() {
        let mut out = String::new();
        form_encode("a b&c=d/é*~", &mut out);
        assert_eq!(out, "a+b%26c%3Dd%2F%C3%A9*%7E");
    }
}
