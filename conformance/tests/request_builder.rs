//! The everyday request API (`client.get(url)` and its siblings, the
//! request builder, the named response future) over real sockets, on every
//! runtime.

use std::time::Duration;

use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Client, ResponseFuture, Runtime, Timeout, Trace};

fn client<R: Runtime + Default>() -> Client<R> {
    let client = Client::new();
    watchdog::watch(&client);
    client
}

/// A server that answers one request with "ok" and hands back what it got.
fn recording() -> (Server, std::sync::mpsc::Receiver<roundtrip_conformance::server::ReceivedRequest>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = Server::start(move |conn| {
        while let Some(request) = conn.read_request()? {
            tx.lock().unwrap().send(request).unwrap();
            conn.respond(b"ok")?;
        }
        Ok(())
    });
    (server, rx)
}

/// String URLs, and everything the builder puts on a request, as the server
/// received it.
async fn the_builder_sends_what_it_was_given<R: Runtime + Default>() {
    let (server, received) = recording();
    let client = client::<R>();
    let url = format!("http://127.0.0.1:{}/items?x=1", server.addr().port());
    let response = client
        .post(url.as_str())
        .query([("q", "a b&c"), ("n", "é")])
        .header("x-one", "1")
        .header("x-one", "2")
        .bearer_auth("tok")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.into_body().text(64).await.unwrap(), "ok");
    let request = received.recv().unwrap();
    assert_eq!((request.method.as_str(), request.target.as_str()), ("POST", "/items?x=1&q=a+b%26c&n=%C3%A9"));
    let ones: Vec<_> =
        request.headers.iter().filter(|(n, _)| n == "x-one").map(|(_, v)| v.as_str()).collect();
    assert_eq!(ones, ["1", "2"]);
    assert_eq!(request.header("authorization"), Some("Bearer tok"));
    assert_eq!(request.header("content-length"), Some("7"));
    assert_eq!(request.body, b"payload");

    // A plain GET awaited as it is: no body, no content-length.
    client.get(server.url("/")).await.unwrap().into_body().bytes(64).await.unwrap();
    let request = received.recv().unwrap();
    assert_eq!(request.header("content-length"), None);

    // RFC 7617: base64("user:pa ss").
    client.delete(server.url("/")).basic_auth("user", Some("pa ss")).await.unwrap();
    assert_eq!(received.recv().unwrap().header("authorization"), Some("Basic dXNlcjpwYSBzcw=="));
}

/// What does not parse fails the request before a byte is sent, with an
/// invalid-request error that says what.
async fn bad_input_fails_without_sending<R: Runtime + Default>() {
    let server = Server::ok(b"never");
    let client = client::<R>();
    let error = client.get("not a url").await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    assert!(error.to_string().contains("invalid uri"), "{error}");
    let error = client.get(server.url("/")).header("x-bad", "a\r\nb: c").await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    let error = client.get(server.url("/")).header("bad name", "v").await.unwrap_err();
    assert!(error.is_request(), "{error:?}");
    assert_eq!(server.accepted(), 0);
}

/// `.timeout` bounds the whole request.
async fn the_builder_timeout_applies<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.expect_eof()?;
        Ok(())
    });
    let error = client::<R>().get(server.url("/")).timeout(Duration::from_millis(50)).await.unwrap_err();
    assert_eq!(error.timeout_kind(), Some(Timeout::Total), "{error:?}");
}

/// The future outlives the client handle that made it and has a name, so it
/// goes into a struct or comes out of a `move` closure (edition 2024
/// capture rules).
async fn response_futures_are_static_and_nameable<R: Runtime + Default>() {
    struct Pending<R: Runtime> {
        future: ResponseFuture<R>,
    }
    let server = Server::ok(b"hi");
    let url = server.url("/");
    let make = {
        let client = client::<R>();
        move || client.get(url.clone()).send()
    };
    let pending = Pending { future: make() };
    drop(make);
    let response = pending.future.await.unwrap();
    assert_eq!(response.into_body().bytes(64).await.unwrap(), "hi");

    // `Client::request`'s unboxed future is 'static too.
    let client = client::<R>();
    let future =
        client.request(http::Request::get(server.url("/")).body(roundtrip_core::client::Empty).unwrap());
    drop(client);
    assert_eq!(future.await.unwrap().into_body().bytes(64).await.unwrap(), "hi");
}

/// Extensions have constructors (`Trace::new`), and a limit of `Some(0)`
/// connections per host is taken as 1, not as "no limit".
async fn extensions_and_limits_mean_what_they_say<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client =
        roundtrip_core::client::ClientBuilder::with_runtime(R::default()).max_conns_per_host(Some(0)).build();
    watchdog::watch(&client);
    let events = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = events.clone();
    let trace = Trace::new(move |_| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    // Each reads its body to the end, so the one connection goes round.
    let first = async { client.get(server.url("/")).extension(trace).await?.into_body().bytes(64).await };
    let second = async {
        client.get(server.url("/")).timeout(Duration::from_secs(30)).await?.into_body().bytes(64).await
    };
    let (first, second) = futures_lite_join(first, second).await;
    assert_eq!((first.unwrap(), second.unwrap()), ("ok".into(), "ok".into()));
    assert_eq!(server.accepted(), 1, "one connection per host, the second request waited for it");
    assert!(events.load(std::sync::atomic::Ordering::Relaxed) >= 4, "the trace saw the phases");
}

/// Both futures polled together until both are done.
async fn futures_lite_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            ra = std::task::ready!(a.as_mut().poll(cx)).into();
        }
        if rb.is_none()
            && let std::task::Poll::Ready(out) = b.as_mut().poll(cx)
        {
            rb = Some(out);
        }
        if ra.is_some() && rb.is_some() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

/// Every type a user holds prints with `{:?}`, saying what tells one from
/// another (the pool's counts, the limits), never a secret.
async fn everything_a_user_holds_is_debug<R: Runtime + Default>() {
    use roundtrip_core::client::{ClientBuilder, OnInformational, RequestTimeout};
    let server = Server::ok(b"hi");
    let builder = ClientBuilder::with_runtime(R::default()).max_conns_per_host(Some(3));
    assert!(format!("{builder:?}").contains("ClientBuilder"), "{builder:?}");
    let client = builder.build();
    let response = client.get(server.url("/")).await.unwrap();
    for (shown, name) in [
        (format!("{client:?}"), "Client"),
        (format!("{:?}", client.get(server.url("/"))), "RequestBuilder"),
        (format!("{:?}", client.get(server.url("/")).send()), "ResponseFuture"),
        (format!("{response:?}"), "Body"),
        (format!("{:?}", client.downgrade()), "WeakClient"),
        (format!("{:?}", Trace::new(|_| {})), "Trace"),
        (format!("{:?}", OnInformational::new(|_| {})), "OnInformational"),
        (format!("{:?}", RequestTimeout::new(Duration::from_secs(1))), "RequestTimeout"),
        (format!("{:?}", roundtrip_core::conn::Connection::new(Default::default())), "Connection"),
    ] {
        assert!(shown.contains(name), "{name}: {shown}");
    }
    assert!(format!("{client:?}").contains("active: 1"), "the pool's counts: {client:?}");
}

roundtrip_conformance::on_every_runtime!(
    everything_a_user_holds_is_debug,
    extensions_and_limits_mean_what_they_say,
    the_builder_sends_what_it_was_given,
    bad_input_fails_without_sending,
    the_builder_timeout_applies,
    response_futures_are_static_and_nameable,
);
