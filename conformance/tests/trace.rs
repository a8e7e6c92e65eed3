//! What a request reports, on every runtime: the exact sequence of trace
//! events for each path through the engine (docs/observability.md), the
//! `Timings` of every response and the pool's counts per host. (The
//! `tracing` spans are in trace_spans.rs.)

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use http::{Request, StatusCode};
use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{
    Client, ClientBuilder, Full, Runtime, Timings, Trace, TraceEvent, redirect::Policy,
};

fn client<R: Runtime + Default>(builder: impl FnOnce(ClientBuilder<R>) -> ClientBuilder<R>) -> Client<R> {
    let client = builder(ClientBuilder::with_runtime(R::default()).no_proxy()).build();
    watchdog::watch(&client);
    client
}

/// A trace that keeps each event as a short line: what happened, without
/// the times and addresses that change from run to run.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn trace(&self) -> Trace {
        let log = self.0.clone();
        Trace::new(move |event| log.lock().unwrap().push(line(event)))
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn line(event: &TraceEvent) -> String {
    match event {
        TraceEvent::PoolWait { queued_ahead } => format!("pool wait, {queued_ahead} ahead"),
        TraceEvent::ConnectStart { .. } => "connect start".into(),
        TraceEvent::ConnectDone { error, .. } => format!("connect done {error:?}"),
        TraceEvent::GotConnection { reused, peer, .. } => {
            assert!(peer.is_some_and(|p| p.ip().is_loopback()), "a TCP connection knows its peer");
            format!("got connection, reused {reused}")
        }
        TraceEvent::RequestHeadBytes(_) => "request head bytes".into(),
        TraceEvent::HeadWritten => "head written".into(),
        TraceEvent::RequestWritten => "request written".into(),
        TraceEvent::Continue => "100 continue".into(),
        TraceEvent::Informational { status } => format!("informational {}", status.as_u16()),
        TraceEvent::FirstByte => "first byte".into(),
        TraceEvent::ResponseHeadBytes(_) => "response head bytes".into(),
        TraceEvent::ResponseHead { status } => format!("response head {}", status.as_u16()),
        TraceEvent::Redirect { status, location } => {
            format!("redirect {} to {}", status.as_u16(), location.path())
        }
        TraceEvent::Retry { error } => format!("retry after {:?}", error.kind),
        TraceEvent::BodyDone => "body done".into(),
        TraceEvent::ConnectionClosed { reason } => format!("connection closed: {reason:?}"),
        other => format!("{other:?}"),
    }
}

/// GET `path` with `recorder`'s trace; reads the body to its end.
async fn get<R: Runtime>(client: &Client<R>, server: &Server, path: &str, recorder: &Recorder) -> Timings {
    let response = client.get(server.url(path)).extension(recorder.trace()).await.unwrap();
    let timings = *response.extensions().get::<Timings>().expect("every response has its timings");
    response.into_body().bytes(1 << 20).await.unwrap();
    timings
}

const NEW: [&str; 4] =
    ["pool wait, 0 ahead", "connect start", "connect done None", "got connection, reused false"];
const SENT: [&str; 3] = ["request head bytes", "head written", "request written"];
const ANSWERED: [&str; 4] = ["first byte", "response head bytes", "response head 200", "body done"];

fn seq(parts: &[&[&str]]) -> Vec<String> {
    parts.iter().flat_map(|p| p.iter().map(|s| s.to_string())).collect()
}

async fn a_fresh_then_a_reused_connection<R: Runtime + Default>() {
    let server = Server::ok(b"hello");
    let client = client::<R>(|b| b);
    let recorder = Recorder::default();
    let fresh = get(&client, &server, "/", &recorder).await;
    assert_eq!(recorder.take(), seq(&[&NEW, &SENT, &ANSWERED]));
    let reused = get(&client, &server, "/", &recorder).await;
    assert_eq!(recorder.take(), seq(&[&["got connection, reused true"], &SENT, &ANSWERED]));
    // The dial's phases belong to the request that opened the connection.
    assert!(fresh.connect().is_some() && fresh.dns().is_none() && fresh.tls().is_none(), "{fresh:?}");
    assert!(reused.connect().is_none() && reused.dns().is_none(), "{reused:?}");
    for t in [fresh, reused] {
        assert!(t.got_connection() <= t.head_written(), "{t:?}");
        assert!(t.head_written() <= t.first_byte() && t.first_byte() <= t.response_head(), "{t:?}");
    }
}

async fn a_stale_connection_is_closed_then_retried<R: Runtime + Default>() {
    let server = roundtrip_conformance::engine::closes_after_first_response();
    let client = client::<R>(|b| b);
    let recorder = Recorder::default();
    get(&client, &server, "/", &recorder).await;
    recorder.take();
    get(&client, &server, "/", &recorder).await;
    let failed = [
        "got connection, reused true",
        "request head bytes",
        "head written",
        "request written",
        "connection closed: PeerClosed",
        "retry after ConnectionClosed",
    ];
    assert_eq!(recorder.take(), seq(&[&failed, &NEW, &SENT, &ANSWERED]));
    let stats = client.pool_stats().counts;
    assert_eq!((stats.retries, stats.dials, stats.reuses), (1, 2, 1));
}

async fn expect_continue_reports_the_100<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        let body = conn.read_exact_body(5)?;
        conn.respond(&body)
    });
    let client = client::<R>(|b| b);
    let recorder = Recorder::default();
    let request = Request::put(server.url("/"))
        .header("expect", "100-continue")
        .extension(recorder.trace())
        .body(Full::from("hello"))
        .unwrap();
    client.request(request).await.unwrap().into_body().bytes(16).await.unwrap();
    let sent = ["request head bytes", "head written", "100 continue", "request written"];
    assert_eq!(recorder.take(), seq(&[&NEW, &sent, &ANSWERED]));
}

async fn early_hints_then_the_response<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n")?;
        conn.respond(b"done")
    });
    let client = client::<R>(|b| b);
    let recorder = Recorder::default();
    get(&client, &server, "/", &recorder).await;
    let answered = [
        "first byte",
        "informational 103",
        "response head bytes",
        "response head bytes",
        "response head 200",
        "body done",
    ];
    assert_eq!(recorder.take(), seq(&[&NEW, &SENT, &answered]));
}

async fn a_queued_request_reports_its_place<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = client::<R>(|b| b.max_conns_per_host(Some(1)));
    // The first request holds the only connection until its body is read.
    let first = client.get(server.url("/")).await.unwrap();
    let (second, third) = (Recorder::default(), Recorder::default());
    let mut queued = Vec::new();
    for recorder in [&second, &third] {
        let mut request = Box::pin(client.get(server.url("/")).extension(recorder.trace()).send());
        // Polled once, in order: each joins the queue behind the one before.
        std::future::poll_fn(|cx| {
            let _ = request.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        queued.push(request);
    }
    assert_eq!(client.pool_stats().waiting, 2);
    first.into_body().bytes(16).await.unwrap();
    for request in queued {
        request.await.unwrap().into_body().bytes(16).await.unwrap();
    }
    let served = seq(&[&["got connection, reused true"], &SENT, &ANSWERED]);
    assert_eq!(
        second.take(),
        seq(&[&["pool wait, 0 ahead"], &served.iter().map(String::as_str).collect::<Vec<_>>()])
    );
    assert_eq!(
        third.take(),
        seq(&[&["pool wait, 1 ahead"], &served.iter().map(String::as_str).collect::<Vec<_>>()])
    );
    // Three waits in all: the first request's, for its dial, and these two.
    let counts = client.pool_stats().counts;
    assert_eq!((counts.waits, counts.reuses, counts.dials), (3, 2, 1));
    assert_eq!(counts.wait_histogram.buckets().map(|(_, n)| n).sum::<u64>(), 3);
    let hosts = client.pool_stats_by_host();
    assert_eq!(hosts.len(), 1, "one host");
    assert_eq!((hosts[0].0.port(), hosts[0].1.idle, hosts[0].1.counts), (server.addr().port(), 1, counts));
}

async fn a_redirect_chain<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        while let Some(request) = conn.read_request()? {
            let head = match request.target.as_str() {
                "/a" => "HTTP/1.1 302 Found\r\nlocation: /b\r\ncontent-length: 0\r\n\r\n".to_owned(),
                "/b" => "HTTP/1.1 301 Moved\r\nlocation: /c\r\ncontent-length: 0\r\n\r\n".to_owned(),
                _ => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_owned(),
            };
            conn.write(head.as_bytes())?;
        }
        Ok(())
    });
    let client = client::<R>(|b| b.redirect(Policy::limited(5)));
    let recorder = Recorder::default();
    let timings = get(&client, &server, "/a", &recorder).await;
    let hop = |status: &'static str, to: &'static str| -> Vec<String> {
        seq(&[&SENT, &["first byte", "response head bytes"], &[status, to, "body done"]])
    };
    let reused = ["got connection, reused true"];
    let mut expected = seq(&[&NEW]);
    expected.extend(hop("response head 302", "redirect 302 to /b"));
    expected.extend(seq(&[&reused]));
    expected.extend(hop("response head 301", "redirect 301 to /c"));
    expected.extend(seq(&[&reused, &SENT, &ANSWERED]));
    assert_eq!(recorder.take(), expected);
    assert!(timings.redirects() > std::time::Duration::ZERO, "two hops came before the last");
    assert_eq!(server.accepted(), 1);
}

async fn a_decompressed_body<R: Runtime + Default>() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&b"compressible ".repeat(1000)).unwrap();
    let gzipped = encoder.finish().unwrap();
    let server = Server::start(move |conn| {
        while conn.read_request()?.is_some() {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                gzipped.len()
            );
            conn.write(&[head.as_bytes(), &gzipped].concat())?;
        }
        Ok(())
    });
    let client = client::<R>(|b| b);
    let recorder = Recorder::default();
    let response = client.get(server.url("/")).extension(recorder.trace()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(response.into_body().bytes(1 << 20).await.unwrap().len(), 13_000);
    assert_eq!(recorder.take(), seq(&[&NEW, &SENT, &ANSWERED]));
    get(&client, &server, "/", &recorder).await;
    assert_eq!(
        recorder.take()[0],
        "got connection, reused true",
        "decoded to its end, the connection was reused"
    );
}

/// A trace callback that panics while its request is queued takes the
/// request down, not the pool: the waiter leaves the queue, and the
/// connection its dial opens serves the next request (one per host here).
async fn a_panicking_trace_leaves_the_pool_whole<R: Runtime + Default>() {
    let server = Server::ok(b"ok");
    let client = client::<R>(|b| b.max_conns_per_host(Some(1)));
    let panics = Trace::new(|event| {
        if let TraceEvent::PoolWait { .. } = event {
            panic!("a trace callback that panics");
        }
    });
    let mut request = Box::pin(client.get(server.url("/")).extension(panics).send());
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = request.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    }));
    assert!(polled.is_err(), "the callback's panic reached the caller");
    drop(request);
    assert_eq!(client.pool_stats().waiting, 0, "the waiter left the queue");
    let response = client.get(server.url("/")).await.unwrap();
    assert_eq!(response.into_body().bytes(16).await.unwrap(), "ok");
}

roundtrip_conformance::on_every_runtime!(
    a_panicking_trace_leaves_the_pool_whole,
    a_fresh_then_a_reused_connection,
    a_stale_connection_is_closed_then_retried,
    expect_continue_reports_the_100,
    early_hints_then_the_response,
    a_queued_request_reports_its_place,
    a_redirect_chain,
    a_decompressed_body,
);
