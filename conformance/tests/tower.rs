//! The client as a `tower_service::Service` on every runtime: tower's and
//! tower-http's layers stack over it, and the stack sends real requests.

use http::header::{HeaderName, HeaderValue, USER_AGENT};
use http::{Request, StatusCode};
use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{ClientBuilder, Full, Runtime};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::set_header::{SetRequestHeaderLayer, SetResponseHeaderLayer};

/// A concurrency limit (tower), a request header and a response header
/// (tower-http) over the client: the server sees the layered request, the
/// caller the layered response, and three calls share one connection.
async fn tower_http_layers_stack_over_the_client<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        while let Some(request) = conn.read_request()? {
            assert_eq!(request.header("user-agent"), Some("layered/1"), "the request layer ran");
            conn.respond(b"ok")?;
        }
        Ok(())
    });
    let client = ClientBuilder::with_runtime(R::default()).no_proxy().build();
    watchdog::watch(&client);
    let stack = ServiceBuilder::new()
        .concurrency_limit(1)
        .layer(SetRequestHeaderLayer::overriding(USER_AGENT, HeaderValue::from_static("layered/1")))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-layer"),
            HeaderValue::from_static("seen"),
        ))
        .service(client.clone());
    for _ in 0..3 {
        let request = Request::get(server.url("/")).body(Full::new("")).unwrap();
        let response = stack.clone().oneshot(request).await.expect("a response through the stack");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-layer"], "seen", "the response layer ran");
        assert_eq!(response.into_body().text(64).await.unwrap(), "ok");
    }
    assert_eq!(server.accepted(), 1, "the calls reused one pooled connection");
}

roundtrip_conformance::on_every_runtime!(tower_http_layers_stack_over_the_client);
