//! The engine's test list over real loopback sockets, generic over the
//! runtime: each adapter runs all of it through [`engine_tests!`](crate::engine_tests).
//! Connection counts are asserted on the server side.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body::Frame;
use roundtrip_core::client::{
    Client, ClientBuilder, Connect, ConnectFuture, Full, OnInformational, Runtime, Target, Trace, TraceEvent,
};

use crate::server::Server;
use crate::sync::{Rng, Signal, eventually, join_all, until, yield_now};
use crate::watchdog::watch;

fn builder<R: Runtime + Default>() -> ClientBuilder<R> {
    ClientBuilder::with_runtime(R::default())
}

/// A request body that yields `chunks` one frame at a time, with an unknown length.
#[derive(Debug)]
pub struct Chunks(pub Vec<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let next = (!self.0.is_empty()).then(|| self.0.remove(0));
        Poll::Ready(next.map(|data| Ok(Frame::data(data))))
    }
}

/// A request body that never ends, one `chunk` at a time.
#[derive(Debug)]
pub struct Endless(pub Bytes);

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Poll::Ready(Some(Ok(Frame::data(self.0.clone()))))
    }
}

pub async fn get_with_content_length<R: Runtime + Default>() {
    let server = Server::ok(b"hello");
    let client = Client::<R>::new();
    watch(&client);
    let response = client.get(server.url("/a?b=c")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-length"], "5");
    assert_eq!(response.into_body().bytes(1024).await.unwrap(), "hello");
}

pub async fn chunked_response_with_trailers<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 11\r\n\r\n")
    });
    let client = Client::<R>::new();
    watch(&client);
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    let mut data = Vec::new();
    let mut trailers = None;
    while let Some(frame) =
        std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await
    {
        match frame.unwrap().into_data() {
            Ok(bytes) => data.extend_from_slice(&bytes),
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    assert_eq!(data, b"hello world");
    assert_eq!(trailers.unwrap()["x-sum"], "11");
}

pub async fn post_with_length_echoed_chunked<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        while let Some(request) = conn.read_request()? {
            assert!(!request.chunked);
            assert_eq!(request.header("content-length"), Some("11"));
            let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            out.extend_from_slice(format!("{:x}\r\n", request.body.len()).as_bytes());
            out.extend_from_slice(&request.body);
            out.extend_from_slice(b"\r\n0\r\n\r\n");
            conn.write(&out)?;
        }
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    let response = client.post(server.url("/echo")).body("hello world").await.unwrap();
    assert_eq!(response.into_body().bytes(1024).await.unwrap(), "hello world");
}

pub async fn streamed_body_is_sent_chunked<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        while let Some(request) = conn.read_request()? {
            assert!(request.chunked, "a body of unknown length goes chunked");
            conn.respond(&request.body)?;
        }
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    let body =
        Chunks(vec![Bytes::from_static(b"one "), Bytes::from_static(b"two "), Bytes::from_static(b"three")]);
    let request = Request::post(server.url("/")).body(body).unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.into_body().bytes(1024).await.unwrap(), "one two three");
}

pub async fn sequential_requests_reuse_one_connection<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = Client::<R>::new();
    watch(&client);
    for _ in 0..5 {
        let body = client.get(server.url("/")).await.unwrap().into_body();
        assert_eq!(body.bytes(16).await.unwrap(), "ok");
    }
    assert_eq!(server.accepted(), 1);
    let stats = client.pool_stats();
    assert_eq!((stats.idle, stats.active, stats.counts.reuses), (1, 0, 4));
}

pub async fn bodyless_response_returns_the_connection_before_the_caller_sees_it<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        while conn.read_request()?.is_some() {
            conn.write(b"HTTP/1.1 204 No Content\r\n\r\n")?;
        }
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    let response = client.get(server.url("/")).await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(client.pool_stats().idle, 1, "pooled before the response was returned (Go #13633)");
    client.get(server.url("/")).await.unwrap();
    assert_eq!(server.accepted(), 1);
}

/// A body of known length gives the connection back with its last bytes,
/// so a caller that holds the body after reading it (or drops it without
/// polling for the end) leaves the connection reusable (as Go's body, which
/// returns its last bytes with `io.EOF`). RFC 9112 §6.3: the length says
/// where the message ends.
pub async fn the_last_bytes_of_a_body_return_the_connection<R: Runtime + Default>() {
    use http_body::Body as _;
    let server = Server::ok(b"ok");
    let client = Client::<R>::new();
    watch(&client);
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    assert!(!body.is_end_stream());
    let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
    let data = frame.expect("a frame").expect("no error").into_data().expect("data");
    assert_eq!(data, "ok");
    assert!(body.is_end_stream(), "ended with its last bytes");
    assert_eq!(
        (client.pool_stats().idle, client.pool_stats().active),
        (1, 0),
        "pooled while the body is held"
    );
    client.get(server.url("/")).await.unwrap();
    assert_eq!(server.accepted(), 1);
    let end = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
    assert!(end.is_none(), "the end, after the last bytes");

    // Chunked, with the last chunk in the same write as the data (RFC 9112
    // §7.1): the data is known to be the last.
    let server = Server::start(|conn| {
        while conn.read_request()?.is_some() {
            conn.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")?;
        }
        Ok(())
    });
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
    assert_eq!(frame.expect("a frame").expect("no error").into_data().expect("data"), "ok");
    assert!(body.is_end_stream(), "the last chunk came with the data");
    client.get(server.url("/")).await.unwrap();
    assert_eq!(server.accepted(), 1);
}

pub async fn one_connection_per_host_serves_ten_concurrent_requests<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = builder::<R>().max_conns_per_host(Some(1)).build();
    watch(&client);
    let requests = (0..10).map(|_| {
        let client = client.clone();
        let url = server.url("/");
        async move { client.get(url).await.unwrap().into_body().bytes(16).await.unwrap() }
    });
    let bodies = join_all(requests.collect()).await;
    assert!(bodies.iter().all(|b| b == "ok"));
    assert_eq!(server.accepted(), 1);
}

/// The server answers the first request, then reads the next and closes
/// without answering: the stale keep-alive race, made deterministic.
pub fn closes_after_first_response() -> Server {
    Server::start(|conn| {
        if conn.index > 0 {
            while conn.read_request()?.is_some() {
                conn.respond(b"fresh")?;
            }
            return Ok(());
        }
        conn.read_request()?;
        conn.respond(b"first")?;
        conn.read_request()?;
        Ok(())
    })
}

pub async fn stale_connection_get_is_retried<R: Runtime + Default>() {
    let server = closes_after_first_response();
    let client = Client::<R>::new();
    watch(&client);
    assert_eq!(client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap(), "first");
    let body = client.get(server.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "fresh", "retried on a new connection");
    assert_eq!(server.accepted(), 2);
}

pub async fn stale_connection_post_that_was_written_is_not_retried<R: Runtime + Default>() {
    let server = closes_after_first_response();
    let client = Client::<R>::new();
    watch(&client);
    client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap();
    let error = client.post(server.url("/")).body("payload").await.unwrap_err();
    assert!(error.is_closed(), "{error}");
    assert!(!error.is_retryable(), "the POST reached the server");
    assert_eq!(server.accepted(), 1);
}

pub async fn idempotency_key_makes_a_post_replayable<R: Runtime + Default>() {
    let server = closes_after_first_response();
    let client = Client::<R>::new();
    watch(&client);
    client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap();
    let request =
        Request::post(server.url("/")).header("idempotency-key", "k1").body(Full::from("payload")).unwrap();
    let body = client.request(request).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "fresh");
}

pub async fn expect_continue_sends_the_body_after_100<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        let request = conn.read_head()?.unwrap();
        assert_eq!(request.header("expect"), Some("100-continue"));
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        let body = conn.read_exact_body(5)?;
        conn.respond(&body)
    });
    let client = Client::<R>::new();
    watch(&client);
    let request =
        Request::put(server.url("/")).header("expect", "100-continue").body(Full::from("hello")).unwrap();
    let body = client.request(request).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "hello");
}

pub async fn expect_continue_rejected_with_close_never_sends_the_body<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 417 Expectation Failed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")?;
        assert!(conn.expect_eof()?, "no body bytes follow");
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    let request =
        Request::put(server.url("/")).header("expect", "100-continue").body(Full::from("hello")).unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), 417);
    assert!(!server.received().ends_with(b"hello"));
}

pub async fn response_head_timeout<R: Runtime + Default>() {
    let answered = Signal::new();
    let gate = answered.clone();
    let server = Server::start(move |conn| {
        conn.read_request()?;
        while !gate.is_set() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    });
    let client = builder::<R>().response_head_timeout(Some(Duration::from_millis(100))).build();
    watch(&client);
    let error = client.get(server.url("/")).await.unwrap_err();
    answered.set();
    assert_eq!(error.timeout_kind(), Some(roundtrip_core::client::Timeout::ResponseHead), "{error}");
    assert_eq!(client.pool_stats().active, 0);
}

pub async fn connect_error_is_typed<R: Runtime + Default>() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::<R>::new();
    watch(&client);
    let error = client.get(format!("http://127.0.0.1:{port}/")).await.unwrap_err();
    assert!(error.is_connect() && error.is_retryable(), "{error}");
}

pub async fn informational_responses_are_observable<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n")?;
        conn.respond(b"done")
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let callback = OnInformational(Arc::new(move |r: &http::Response<()>| {
        log.lock().unwrap().push((r.status().as_u16(), r.headers()["link"].to_str().unwrap().to_owned()));
    }));
    let client = Client::<R>::new();
    watch(&client);
    let mut request = Request::get(server.url("/")).body(Full::default()).unwrap();
    request.extensions_mut().insert(callback);
    client.request(request).await.unwrap().into_body().bytes(16).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), [(103, "</s.css>; rel=preload".to_owned())]);
}

pub async fn trace_reports_the_phases<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let client = Client::<R>::new();
    watch(&client);
    for _ in 0..2 {
        let mut request = Request::get(server.url("/")).body(Full::default()).unwrap();
        let log = log.clone();
        request
            .extensions_mut()
            .insert(Trace(Arc::new(move |e: &TraceEvent| log.lock().unwrap().push(e.clone()))));
        client.request(request).await.unwrap().into_body().bytes(16).await.unwrap();
    }
    let events = events.lock().unwrap();
    let reused: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::GotConnection { reused, .. } => Some(*reused),
            _ => None,
        })
        .collect();
    assert_eq!(reused, [false, true]);
    assert!(events.contains(&TraceEvent::HeadWritten) && events.contains(&TraceEvent::BodyDone));
}

/// A connector that waits for `gate` before connecting over TCP.
struct GatedConnector<R> {
    runtime: R,
    gate: Signal,
    started: Signal,
}

impl<R: Runtime> Connect for GatedConnector<R> {
    fn connect(&self, target: &Target) -> ConnectFuture {
        let (runtime, gate, started) = (self.runtime.clone(), self.gate.clone(), self.started.clone());
        let addr = format!("{}:{}", target.host(), target.port()).parse().unwrap();
        Box::pin(async move {
            started.set();
            gate.wait().await;
            runtime.connect_tcp(addr).await
        })
    }
}

pub async fn cancel_while_dialing_keeps_the_dial_for_the_pool<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let (gate, started) = (Signal::new(), Signal::new());
    let connector = GatedConnector { runtime: R::default(), gate: gate.clone(), started: started.clone() };
    // One connection per host: the next request cannot dial, so only the
    // orphaned dial can serve it.
    let client = builder::<R>().connector(connector).max_conns_per_host(Some(1)).build();
    watch(&client);
    let pending = until(Box::pin(client.get(server.url("/")).send()), &started).await;
    drop(pending.expect_err("the dial is gated"));
    assert_eq!(client.pool_stats().waiting, 0);
    assert_eq!(client.pool_stats().dialing, 1, "the dial outlives its request (Go 1.23)");
    gate.set();
    let body = client.get(server.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "ok");
    assert_eq!(server.accepted(), 1, "the orphaned dial served the next request");
}

/// A dial whose request left pools its connection unused; if the server
/// closes it meanwhile, the next request finds that out by the idle probe,
/// before writing, and dials again (an unused connection's failure is not
/// retried, so writing to it would fail the request).
pub async fn an_unused_idle_connection_is_probed_before_its_first_request<R: Runtime + Default>() {
    let closed = Signal::new();
    let closed_by_server = closed.clone();
    let server = Server::start(move |conn| {
        if conn.index == 0 {
            conn.shutdown_write()?;
            closed_by_server.set();
            return conn.discard_until_eof();
        }
        while conn.read_request()?.is_some() {
            conn.respond(b"ok")?;
        }
        Ok(())
    });
    let (gate, started) = (Signal::new(), Signal::new());
    let connector = GatedConnector { runtime: R::default(), gate: gate.clone(), started: started.clone() };
    let client = builder::<R>().connector(connector).max_conns_per_host(Some(1)).max_retries(0).build();
    watch(&client);
    let pending = until(Box::pin(client.get(server.url("/")).send()), &started).await;
    drop(pending.expect_err("the dial is gated"));
    gate.set();
    eventually(&R::default(), "the orphaned dial pools its connection", || client.pool_stats().idle == 1)
        .await;
    eventually(&R::default(), "the server closes it", || closed.is_set()).await;
    let body = client.get(server.url("/")).await.expect("a new connection serves it").into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "ok");
    assert_eq!(server.accepted(), 2, "the closed one was dropped, not used");
}

/// Go 1.23 CloseIdleConnections: a dial no request waits for is aborted.
pub async fn close_idle_aborts_a_dial_nobody_waits_for<R: Runtime + Default>() {
    let (gate, started) = (Signal::new(), Signal::new());
    let connector = GatedConnector { runtime: R::default(), gate, started: started.clone() };
    let client = builder::<R>().connector(connector).max_conns_per_host(Some(1)).build();
    watch(&client);
    let pending = until(Box::pin(client.get("http://127.0.0.1:9/").send()), &started).await;
    drop(pending.expect_err("the dial is gated"));
    assert_eq!(client.pool_stats().dialing, 1);
    client.close_idle();
    eventually(&R::default(), "the aborted dial reports", || client.pool_stats().dialing == 0).await;
    let stats = client.pool_stats();
    assert_eq!((stats.dialing, stats.counts.dial_failures), (0, 1), "the dial was aborted and reported");
}

pub async fn cancel_while_queued_for_a_connection<R: Runtime + Default>() {
    let release = Signal::new();
    let (gate, busy) = (release.clone(), Signal::new());
    let entered = busy.clone();
    let server = Server::start(move |conn| {
        while conn.read_request()?.is_some() {
            entered.set();
            while !gate.is_set() {
                std::thread::sleep(Duration::from_millis(2));
            }
            conn.respond(b"ok")?;
        }
        Ok(())
    });
    let client = builder::<R>().max_conns_per_host(Some(1)).build();
    watch(&client);
    let first =
        until(Box::pin(client.get(server.url("/")).send()), &busy).await.expect_err("first is in flight");
    let queued = {
        let mut queued = Box::pin(client.get(server.url("/")).send());
        std::future::poll_fn(|cx| {
            let _ = queued.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        queued
    };
    assert_eq!(client.pool_stats().waiting, 1);
    drop(queued);
    assert_eq!(client.pool_stats().waiting, 0);
    release.set();
    first.await.unwrap().into_body().bytes(16).await.unwrap();
    client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap();
    assert_eq!(server.accepted(), 1);
}

pub async fn cancel_while_writing_the_body<R: Runtime + Default>() {
    let reading = Signal::new();
    let started = reading.clone();
    let server = Server::start(move |conn| {
        if conn.index == 0 {
            conn.read_head()?;
            started.set();
            // Never reads the body: the client's writes block.
            std::thread::sleep(Duration::from_secs(5));
            return Ok(());
        }
        while conn.read_request()?.is_some() {
            conn.respond(b"ok")?;
        }
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    let request = Request::post(server.url("/")).body(Endless(Bytes::from(vec![b'x'; 64 * 1024]))).unwrap();
    drop(until(Box::pin(client.request(request)), &reading).await.expect_err("upload in progress"));
    assert_eq!(client.pool_stats().active, 0);
    client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap();
    assert_eq!(server.accepted(), 2, "the half-written connection was closed");
}

pub async fn cancel_while_awaiting_the_head<R: Runtime + Default>() {
    let received = Signal::new();
    let got = received.clone();
    let server = Server::start(move |conn| {
        if conn.index == 0 {
            conn.read_request()?;
            got.set();
            conn.expect_eof()?;
            return Ok(());
        }
        while conn.read_request()?.is_some() {
            conn.respond(b"ok")?;
        }
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    drop(until(Box::pin(client.get(server.url("/")).send()), &received).await.expect_err("no head yet"));
    assert_eq!(client.pool_stats().active, 0);
    client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap();
    assert_eq!(server.accepted(), 2);
}

/// Serves `HTTP/1.1 200` with a 10-byte body of which only 4 bytes come at
/// first; the rest after `rest` is set.
fn partial_body_server(rest: Signal) -> Server {
    Server::start(move |conn| {
        while conn.read_request()?.is_some() {
            if conn.index == 0 && !rest.is_set() {
                conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhell")?;
                while !rest.is_set() {
                    std::thread::sleep(Duration::from_millis(2));
                }
                conn.write(b"o worl")?;
                continue;
            }
            conn.respond(b"ok")?;
        }
        Ok(())
    })
}

pub async fn cancel_mid_body_closes_the_connection<R: Runtime + Default>() {
    let rest = Signal::new();
    let server = partial_body_server(rest.clone());
    let client = Client::<R>::new();
    watch(&client);
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    let frame = std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await;
    assert_eq!(frame.unwrap().unwrap().into_data().unwrap(), "hell");
    drop(body);
    rest.set();
    assert_eq!(client.pool_stats().active, 0);
    client.get(server.url("/")).await.unwrap().into_body().bytes(16).await.unwrap();
    assert_eq!(server.accepted(), 2);
}

pub async fn cancel_mid_body_drains_a_small_rest_and_reuses<R: Runtime + Default>() {
    let rest = Signal::new();
    let server = partial_body_server(rest.clone());
    let client = builder::<R>().drain_on_cancel(Some(1024)).build();
    watch(&client);
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await.unwrap().unwrap();
    drop(body);
    rest.set();
    // The drain runs in the background; the next request either finds the
    // drained connection or waits for it (a dial would show as a 2nd accept).
    let client2 = client.clone();
    let url = server.url("/");
    let next = async move { client2.get(url).await.unwrap().into_body().bytes(16).await.unwrap() };
    assert_eq!(next.await, "ok");
    assert!(server.accepted() <= 2);
}

pub async fn random_cancellations_leave_the_pool_consistent<R: Runtime + Default>() {
    let server = Server::ok(b"0123456789abcdef");
    let client = builder::<R>().max_conns_per_host(Some(4)).build();
    watch(&client);
    let completed = Arc::new(AtomicUsize::new(0));
    let mut rng = Rng::new(0x5eed);
    for round in 0..50 {
        let requests: Vec<_> = (0..20)
            .map(|_| {
                let (client, url, completed) = (client.clone(), server.url("/"), completed.clone());
                let polls = rng.below(6);
                let drop_body = rng.below(3) == 0;
                Box::pin(async move {
                    let mut request = Box::pin(async move {
                        let response = client.get(url).await?;
                        if drop_body {
                            return Ok(());
                        }
                        response.into_body().bytes(64).await.map(|_| ())
                    });
                    // Poll `polls` times then give up, or run to completion.
                    for _ in 0..polls {
                        let step = std::future::poll_fn(|cx| Poll::Ready(request.as_mut().poll(cx))).await;
                        if step.is_ready() {
                            completed.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        yield_now().await;
                    }
                    if polls == 0 && request.await.is_ok() {
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                }) as Pin<Box<dyn Future<Output = ()> + Send>>
            })
            .collect();
        join_all(requests).await;
        let stats = client.pool_stats();
        assert_eq!((stats.active, stats.waiting), (0, 0), "round {round}: {stats:?}");
    }
    assert!(completed.load(Ordering::Relaxed) > 0);
    assert!(server.accepted() <= 4 + client.pool_stats().counts.dials as usize);
    let body = client.get(server.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "0123456789abcdef");
}

pub async fn unix_socket_target<R: Runtime + Default>() {
    #[cfg(unix)]
    {
        let dir = std::env::temp_dir().join(format!(
            "roundtrip-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s.sock");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            assert!(seen.starts_with(b"GET /info HTTP/1.1\r\nhost: localhost\r\n"));
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nunix").unwrap();
        });
        let client = builder::<R>().unix_socket(&path).build();
        watch(&client);
        let body = client.get("http://localhost/info").await.unwrap().into_body();
        assert_eq!(body.bytes(16).await.unwrap(), "unix");
        let _ = std::fs::remove_file(&path);
    }
}

pub async fn method_and_headers_reach_the_server<R: Runtime + Default>() {
    let seen = Arc::new(Mutex::new(None));
    let log = seen.clone();
    let server = Server::start(move |conn| {
        let request = conn.read_request()?.unwrap();
        *log.lock().unwrap() = Some(request);
        conn.respond(b"")
    });
    let client = Client::<R>::new();
    watch(&client);
    let request = Request::builder()
        .method(Method::DELETE)
        .uri(server.url("/item/7?force=1"))
        .header("x-custom", "yes")
        .body(Full::default())
        .unwrap();
    client.request(request).await.unwrap();
    let request = seen.lock().unwrap().take().unwrap();
    assert_eq!((request.method.as_str(), request.target.as_str()), ("DELETE", "/item/7?force=1"));
    assert_eq!(request.header("host"), Some(server.addr().to_string().as_str()));
    assert_eq!(request.header("x-custom"), Some("yes"));
    assert!(request.header("user-agent").is_some_and(|ua| ua.starts_with("roundtrip/")));
}

/// A request body: `first`, then an error (again on every poll) once `fail` is set.
struct FailsLater {
    first: Option<Bytes>,
    fail: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl http_body::Body for FailsLater {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if let Some(fail) = self.fail.as_mut() {
            std::task::ready!(fail.as_mut().poll(cx));
            self.fail = None;
        }
        Poll::Ready(Some(Err(io::Error::other("the body failed"))))
    }
}

pub async fn request_body_error_after_the_response_closes_the_connection<R: Runtime + Default>() {
    let (closed, seen) = (Signal::new(), Arc::new(Mutex::new(Vec::new())));
    let (on_close, log) = (closed.clone(), seen.clone());
    let server = Server::start(move |conn| {
        conn.read_head()?;
        conn.respond(b"ok")?;
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(conn.stream(), &mut rest);
        *log.lock().unwrap() = rest;
        on_close.set();
        Ok(())
    });
    let client = Client::<R>::new();
    watch(&client);
    let fail = Signal::new();
    let signal = fail.clone();
    let body = FailsLater {
        first: Some(Bytes::from_static(b"part")),
        fail: Some(Box::pin(async move { signal.wait().await })),
    };
    let response = client.request(Request::post(server.url("/")).body(body).unwrap()).await.unwrap();
    assert_eq!(response.into_body().bytes(16).await.unwrap(), "ok", "an early response, keep-alive");
    fail.set();
    closed.wait().await;
    let rest = seen.lock().unwrap().clone();
    assert!(!rest.windows(5).any(|w| w == b"0\r\n\r\n"), "a failed body must not look complete: {rest:?}");
    assert_eq!((client.pool_stats().active, client.pool_stats().idle), (0, 0));
}

pub async fn total_timeout_bounds_a_body_that_never_pauses<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")?;
        let chunk = [b"4000\r\n".as_slice(), &[b'x'; 0x4000], b"\r\n"].concat();
        // Bounded (1 GiB) so a client that never times out fails instead of hanging.
        for _ in 0..(1 << 16) {
            conn.write(&chunk)?;
        }
        conn.write(b"0\r\n\r\n")
    });
    let client = builder::<R>().total_timeout(Some(Duration::from_millis(50))).build();
    watch(&client);
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    let error = loop {
        match std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await {
            Some(Ok(_)) => {}
            Some(Err(error)) => break error,
            None => panic!("the body ended before the total deadline"),
        }
    };
    assert_eq!(error.timeout_kind(), Some(roundtrip_core::client::Timeout::Total), "{error}");
    drop(body);
    assert_eq!(
        (client.pool_stats().active, client.pool_stats().idle),
        (0, 0),
        "a timed-out connection is closed"
    );
}

pub async fn timeouts_too_long_for_an_instant_mean_no_limit<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = builder::<R>()
        .connect_timeout(Some(Duration::MAX))
        .pool_wait_timeout(Some(Duration::MAX))
        .response_head_timeout(Some(Duration::MAX))
        .body_read_idle_timeout(Some(Duration::MAX))
        .total_timeout(Some(Duration::MAX))
        .expect_continue_timeout(None)
        .idle_timeout(Some(Duration::MAX))
        .build();
    watch(&client);
    let mut request = Request::get(server.url("/")).body(Full::default()).unwrap();
    request.extensions_mut().insert(roundtrip_core::client::RequestTimeout(Duration::MAX));
    let body = client.request(request).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "ok");
}

/// Counts the bytes a wrapped transport carried.
struct Counted(Box<dyn roundtrip_core::client::Io>, Arc<AtomicUsize>);

impl roundtrip_core::client::Io for Counted {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let read = self.0.poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = read {
            self.1.fetch_add(n, Ordering::Relaxed);
        }
        read
    }
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored(cx, bufs)
    }
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_flush(cx)
    }
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_shutdown(cx)
    }
}

/// A connector that wraps the built-in dial (DNS, happy eyeballs) in a
/// transport of its own.
struct Wrapping<R>(R, Arc<AtomicUsize>);

impl<R: Runtime> Connect for Wrapping<R> {
    fn connect(&self, target: &Target) -> ConnectFuture {
        let (runtime, target, read) = (self.0.clone(), target.clone(), self.1.clone());
        Box::pin(async move {
            let delay = roundtrip_core::pool::HappyEyeballs::DEFAULT_ATTEMPT_DELAY;
            let io = roundtrip_core::client::dial_tcp(&runtime, &target, delay).await?;
            Ok(Box::new(Counted(io, read)) as Box<dyn roundtrip_core::client::Io>)
        })
    }
}

/// A user connector gets the built-in dial and returns its own transport;
/// `localhost` is resolved by the runtime.
pub async fn a_custom_connector_wraps_the_built_in_dial<R: Runtime + Default>() {
    let server = Server::ok(b"hello");
    let read = Arc::new(AtomicUsize::new(0));
    let client = builder::<R>().connector(Wrapping(R::default(), read.clone())).build();
    watch(&client);
    let url = format!("http://localhost:{}/", server.addr().port());
    let body = client.get(url).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
    assert!(read.load(Ordering::Relaxed) > 5, "the response came through the wrapper");
}

/// A weak handle sees the pool while the client lives and lets it go after.
pub async fn a_weak_client_does_not_keep_the_pool_alive<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = Client::<R>::new();
    watch(&client);
    let body = client.get(server.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(16).await.unwrap(), "ok");
    let weak = client.downgrade();
    assert_eq!(weak.upgrade().map(|c| c.pool_stats().idle), Some(1));
    drop(client);
    // A background task (the reaper) may hold the engine for the length of
    // one poll on another thread: the pool goes soon after, not at once.
    eventually(&R::default(), "the pool goes with the last client", || weak.upgrade().is_none()).await;
}

/// `R`, except that `spawn` drops every future inline, as a runtime that is
/// shutting down (or absent) may.
#[derive(Clone, Default)]
struct DropsTasks<R>(R);

impl<R: Runtime> Runtime for DropsTasks<R> {
    type Sleep = R::Sleep;

    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        drop(future);
    }
    fn now(&self) -> std::time::Instant {
        self.0.now()
    }
    fn sleep_until(&self, deadline: std::time::Instant) -> R::Sleep {
        self.0.sleep_until(deadline)
    }
    fn resolve(
        &self,
        host: String,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<std::net::SocketAddr>>> + Send {
        self.0.resolve(host, port)
    }
    fn connect_tcp(
        &self,
        addr: std::net::SocketAddr,
    ) -> impl Future<Output = io::Result<Box<dyn roundtrip_core::client::Io>>> + Send {
        self.0.connect_tcp(addr)
    }
    fn connect_unix(
        &self,
        path: std::path::PathBuf,
    ) -> impl Future<Output = io::Result<Box<dyn roundtrip_core::client::Io>>> + Send {
        self.0.connect_unix(path)
    }
}

/// Every dial is a task, so on a runtime that drops tasks each request fails
/// as a connect error, at once; queued requests too, and the pool ends empty.
pub async fn a_runtime_that_drops_every_task_fails_requests_cleanly<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = ClientBuilder::with_runtime(DropsTasks(R::default())).max_conns_per_host(Some(1)).build();
    watch(&client);
    let requests = (0..3).map(|_| client.get(server.url("/")).send()).collect();
    for outcome in join_all(requests).await {
        let error = outcome.expect_err("no dial can run");
        assert!(error.is_connect(), "{error:?}");
    }
    let stats = client.pool_stats();
    assert_eq!((stats.active, stats.dialing, stats.waiting, stats.idle), (0, 0, 0, 0), "{stats:?}");
    assert_eq!(server.accepted(), 0);
}

include!(concat!(env!("OUT_DIR"), "/engine_tests.rs"));
