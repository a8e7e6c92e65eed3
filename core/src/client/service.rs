//! The client as a `tower_service::Service`, so tower and tower-http
//! middleware (timeouts, retries, limits, headers, tracing) stack over it.

use std::task::{Context, Poll};

use http::{Request, Response};

use super::{Body, BoxError, Client, Error, ResponseFuture, Runtime};

/// Always ready: the pool queues what it cannot serve at once (within
/// `max_conns_per_host` and the pool timeout), so back-pressure is the
/// response future's wait, not `poll_ready`.
///
/// ```
/// # use roundtrip_core::client::{Client, Full, Runtime};
/// # async fn f<R: Runtime>(client: Client<R>) -> Result<(), roundtrip_core::client::Error> {
/// use tower_service::Service;
///
/// let mut service = client.clone();
/// let request = http::Request::get("http://127.0.0.1:8080/").body(Full::new("")).unwrap();
/// let response = service.call(request).await?;
/// # Ok(()) }
/// ```
impl<R, B> tower_service::Service<Request<B>> for Client<R>
where
    R: Runtime,
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body<R>>;
    type Error = Error;
    type Future = ResponseFuture<R>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture<R> {
        ResponseFuture::new(self.request(request))
    }
}
