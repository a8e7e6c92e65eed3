//! Redirects on every runtime, each rule of the default policy (Go's
//! `http.Client`, docs/go-transport.md "Redirects") on its own, against
//! scripted servers that answer by path.

use std::sync::mpsc;

use http::StatusCode;
use roundtrip_conformance::server::{ReceivedRequest, Server};
use roundtrip_conformance::tls::Pki;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::redirect::{Policy, Redirects};
use roundtrip_core::client::{Client, ClientBuilder, Full, Runtime, Trace, TraceEvent};

fn client<R: Runtime + Default>(policy: Option<Policy>) -> Client<R> {
    let mut builder = ClientBuilder::with_runtime(R::default()).no_proxy();
    if let Some(policy) = policy {
        builder = builder.redirect(policy);
    }
    let client = builder.build();
    watchdog::watch(&client);
    client
}

/// A keep-alive server answering each request with `answer(request)`, and
/// handing every request it got to the test.
fn routes(
    answer: impl Fn(&ReceivedRequest) -> String + Send + Sync + 'static,
) -> (Server, mpsc::Receiver<ReceivedRequest>) {
    let (seen, received) = mpsc::channel();
    let seen = std::sync::Mutex::new(seen);
    let server = Server::start(move |conn| {
        while let Some(request) = conn.read_request()? {
            let response = answer(&request);
            let _ = seen.lock().unwrap().send(request);
            conn.write(response.as_bytes())?;
        }
        Ok(())
    });
    (server, received)
}

fn redirect(status: u16, location: &str) -> String {
    format!("HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 5\r\n\r\nmoved")
}

fn ok(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len())
}

/// REDIRECT-1, REDIRECT-6: each redirect status is followed to the end; the hops share the pooled
/// connection (the redirect's own body is read out), the response says
/// every URL it took, and the trace reports each hop.
async fn every_redirect_status_is_followed_on_one_connection<R: Runtime + Default>() {
    let (server, _) = routes(|request| match request.target.as_str() {
        "/301" => redirect(301, "/302"),
        "/302" => redirect(302, "/303"),
        "/303" => redirect(303, "/307"),
        "/307" => redirect(307, "/308"),
        "/308" => redirect(308, "/end"),
        _ => ok("the end"),
    });
    let client = client::<R>(None);
    let hops = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = hops.clone();
    let trace = Trace::new(move |event| {
        if let TraceEvent::Redirect { status, location } = event {
            seen.lock().unwrap().push((status.as_u16(), location.path().to_owned()));
        }
    });
    let response = client.get(server.url("/301")).extension(trace).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let urls = response.extensions().get::<Redirects>().expect("the hops").clone();
    let paths: Vec<&str> = urls.urls().iter().map(|u| u.path()).collect();
    assert_eq!(paths, ["/301", "/302", "/303", "/307", "/308", "/end"]);
    assert_eq!(urls.final_url().path(), "/end");
    assert_eq!(response.into_body().text(64).await.unwrap(), "the end");
    assert_eq!(server.accepted(), 1, "every hop reused the connection");
    let traced = hops.lock().unwrap().clone();
    assert_eq!(traced.len(), 5);
    assert_eq!(traced[0], (301, "/302".to_owned()));
}

/// REDIRECT-2: 301, 302 and 303 turn a POST into a GET without its body or its body's
/// fields; HEAD stays HEAD (Go's redirectBehavior).
async fn see_other_turns_post_into_get_without_body<R: Runtime + Default>() {
    for status in [301, 302, 303] {
        let (server, received) = routes(move |request| match request.target.as_str() {
            "/form" => redirect(status, "/result"),
            _ => ok("done"),
        });
        let client = client::<R>(None);
        let response = client
            .post(server.url("/form"))
            .header("content-type", "text/plain")
            .body(Full::new("the form"))
            .await
            .unwrap();
        assert_eq!(response.into_body().text(64).await.unwrap(), "done");
        let first = received.recv().unwrap();
        assert_eq!((first.method.as_str(), first.body.as_slice()), ("POST", &b"the form"[..]));
        let second = received.recv().unwrap();
        assert_eq!((second.method.as_str(), second.target.as_str()), ("GET", "/result"), "{status}");
        assert!(second.body.is_empty(), "{status}: no body");
        assert_eq!(second.header("content-type"), None, "{status}: no body field");
        assert_eq!(second.header("content-length"), None, "{status}: no body field");

        let head = client.head(server.url("/form")).await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        let _ = received.recv().unwrap();
        assert_eq!(received.recv().unwrap().method, "HEAD", "{status}: HEAD stays HEAD");
    }
}

/// REDIRECT-2: 307 and 308 keep the method and send the body again.
async fn temporary_and_permanent_redirects_keep_method_and_body<R: Runtime + Default>() {
    for status in [307, 308] {
        let (server, received) = routes(move |request| match request.target.as_str() {
            "/upload" => redirect(status, "/moved-upload"),
            _ => ok("stored"),
        });
        let client = client::<R>(None);
        let response = client.put(server.url("/upload")).body(Full::new("payload")).await.unwrap();
        assert_eq!(response.into_body().text(64).await.unwrap(), "stored");
        let _ = received.recv().unwrap();
        let again = received.recv().unwrap();
        assert_eq!((again.method.as_str(), again.target.as_str()), ("PUT", "/moved-upload"), "{status}");
        assert_eq!(again.body, b"payload", "{status}: the body again");
    }
}

/// REDIRECT-2: a 307 whose body cannot be sent again (larger than the replay buffer) is
/// the response, as Go returns it without `GetBody`.
async fn a_body_that_cannot_be_replayed_stops_at_the_307<R: Runtime + Default>() {
    let (server, _) = routes(|request| match request.target.as_str() {
        "/upload" => redirect(307, "/elsewhere"),
        _ => ok("unexpected"),
    });
    let client = ClientBuilder::with_runtime(R::default()).no_proxy().retry_buffer(4).build();
    watchdog::watch(&client);
    let response = client.post(server.url("/upload")).body(Full::new("longer than four")).await.unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert!(response.extensions().get::<Redirects>().is_none());
}

/// REDIRECT-1, security.md K3: more hops than the policy allows, and a
/// loop, are redirect errors.
async fn too_many_hops_and_loops_fail<R: Runtime + Default>() {
    let (server, _) = routes(|request| {
        let n: u32 = request.target.trim_start_matches('/').parse().unwrap_or(0);
        match request.target.as_str() {
            "/loop-a" => redirect(302, "/loop-b"),
            "/loop-b" => redirect(302, "/loop-a"),
            _ => redirect(302, &format!("/{}", n + 1)),
        }
    });
    let error = client::<R>(None).get(server.url("/0")).await.expect_err("an endless chain");
    assert!(error.is_redirect(), "{error:?}");
    assert!(error.to_string().contains("stopped after 10 redirects"), "{error}");

    let error = client::<R>(Some(Policy::limited(2))).get(server.url("/0")).await.expect_err("past 2");
    assert!(error.to_string().contains("stopped after 2 redirects"), "{error}");

    let error = client::<R>(None).get(server.url("/loop-a")).await.expect_err("a loop");
    assert!(error.is_redirect() && error.to_string().contains("loop"), "{error}");
}

/// REDIRECT-3, REDIRECT-5, security.md K1: `Authorization` and `Cookie` go to the host they were meant for, not to
/// another one; a redirect to the same host keeps them.
async fn credentials_stay_with_their_host<R: Runtime + Default>() {
    let (other, to_other) = routes(|_| ok("other"));
    let other_url = other.url_at("localhost", "/landing").to_string();
    let (server, to_first) = routes(move |request| match request.target.as_str() {
        "/away" => redirect(302, &other_url),
        "/here" => redirect(302, "/landing"),
        _ => ok("same"),
    });
    let client = client::<R>(None);
    for path in ["/away", "/here"] {
        let response = client
            .get(server.url(path))
            .bearer_auth("secret")
            .header("cookie", "session=1")
            .header("x-custom", "kept")
            .await
            .unwrap();
        response.into_body().discard().await.unwrap();
    }
    let _ = to_first.recv().unwrap();
    let away = to_other.recv().unwrap();
    assert_eq!(away.header("authorization"), None, "not to another host");
    assert_eq!(away.header("cookie"), None, "not to another host");
    assert_eq!(away.header("x-custom"), Some("kept"));
    assert_eq!(away.header("host"), Some(format!("localhost:{}", other.addr().port()).as_str()));
    assert!(away.header("referer").is_some_and(|r| r.ends_with("/away")), "{away:?}");
    let _ = to_first.recv().unwrap();
    let here = to_first.recv().unwrap();
    assert_eq!(here.header("authorization"), Some("Bearer secret"), "same host");
    assert_eq!(here.header("cookie"), Some("session=1"), "same host");
}

/// REDIRECT-4, security.md K2: an https page redirecting to http fails
/// unless the policy allows it;
/// when allowed, no credential crosses.
async fn https_to_http_is_refused_unless_allowed<R: Runtime + Default>() {
    let (plain, to_plain) = routes(|_| ok("plain"));
    let plain_url = plain.url("/x").to_string();
    let pki = Pki::new(&["localhost"]);
    let secure = Server::start_tls(pki.server_config(&[]), move |conn| {
        while conn.read_request()?.is_some() {
            conn.write(redirect(302, &plain_url).as_bytes())?;
        }
        Ok(())
    });
    let url = secure.url_at("localhost", "/");
    let builder = || ClientBuilder::with_runtime(R::default()).no_proxy().tls_config(pki.client_config());
    let refused = builder().build();
    let error = refused.get(url.clone()).await.expect_err("a downgrade");
    assert!(error.is_redirect() && error.to_string().contains("https to http"), "{error}");
    assert_eq!(plain.accepted(), 0);

    let allowed = builder().redirect(Policy::default().allow_https_downgrade()).build();
    let response = allowed.get(url).bearer_auth("secret").await.unwrap();
    assert_eq!(response.into_body().text(64).await.unwrap(), "plain");
    let request = to_plain.recv().unwrap();
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("referer"), None, "no referer from https to http");
}

/// A redirect with a large body of its own: at most 2 KiB is read to keep
/// the connection, so this one is closed and the next hop dials
/// (REDIRECT-6, security.md K6).
async fn a_long_redirect_body_closes_its_connection<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        while let Some(request) = conn.read_request()? {
            if request.target == "/big" {
                // Longer than the client reads at once: it stops reading and
                // closes, so this write may fail.
                let body = vec![b'x'; 1 << 20];
                let head = format!(
                    "HTTP/1.1 302 Found\r\nlocation: /small\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = conn.write(&[head.as_bytes(), &body].concat());
                return Ok(());
            }
            conn.write(ok("small").as_bytes())?;
        }
        Ok(())
    });
    let client = client::<R>(None);
    let response = client.get(server.url("/big")).await.unwrap();
    assert_eq!(response.into_body().text(64).await.unwrap(), "small");
    assert_eq!(server.accepted(), 2, "the long redirect's connection was not kept");
}

/// REDIRECT-1, REDIRECT-5: `Policy::none()` returns the 3xx; a custom
/// policy stops or fails; a 3xx
/// without `Location` is the response; relative and scheme-relative
/// locations resolve against the URL that answered.
async fn policies_and_locations<R: Runtime + Default>() {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let known = port.clone();
    let (server, received) = routes(move |request| match request.target.as_str() {
        "/no-location" => "HTTP/1.1 302 Found\r\ncontent-length: 0\r\n\r\n".into(),
        "/dir/relative" => redirect(301, "next?q=1#fragment"),
        "/dir/next?q=1" => ok("relative"),
        "/scheme-relative" => redirect(301, &format!("//localhost:{}/dir/next?q=1", known.get().unwrap())),
        _ => redirect(302, "/dir/next?q=1"),
    });
    port.set(server.addr().port()).unwrap();
    let none = client::<R>(Some(Policy::none())).get(server.url("/start")).await.unwrap();
    assert_eq!(none.status(), StatusCode::FOUND);
    assert_eq!(none.headers()["location"], "/dir/next?q=1");

    let stop = client::<R>(Some(Policy::custom(|attempt| attempt.stop())));
    assert_eq!(stop.get(server.url("/start")).await.unwrap().status(), StatusCode::FOUND);
    let fail = client::<R>(Some(Policy::custom(|attempt| attempt.error("no thanks"))));
    let error = fail.get(server.url("/start")).await.expect_err("the policy's error");
    assert!(error.is_redirect() && error.to_string().contains("no thanks"), "{error}");

    let client = client::<R>(None);
    let bare = client.get(server.url("/no-location")).await.unwrap();
    assert_eq!(bare.status(), StatusCode::FOUND, "no Location, no redirect");
    bare.into_body().discard().await.unwrap();
    let relative = client.get(server.url("/dir/relative")).await.unwrap();
    assert_eq!(relative.into_body().text(64).await.unwrap(), "relative");
    let scheme_relative = client.get(server.url("/scheme-relative")).await.unwrap();
    let urls = scheme_relative.extensions().get::<Redirects>().unwrap().clone();
    assert_eq!(
        urls.final_url().to_string(),
        format!("http://localhost:{}/dir/next?q=1", server.addr().port())
    );
    assert_eq!(scheme_relative.into_body().text(64).await.unwrap(), "relative");
    let hosts: Vec<String> =
        received.try_iter().filter_map(|r| r.header("host").map(str::to_owned)).collect();
    assert!(hosts.last().is_some_and(|h| h.starts_with("localhost:")), "{hosts:?}");
}

roundtrip_conformance::on_every_runtime!(
    every_redirect_status_is_followed_on_one_connection,
    see_other_turns_post_into_get_without_body,
    temporary_and_permanent_redirects_keep_method_and_body,
    a_body_that_cannot_be_replayed_stops_at_the_307,
    too_many_hops_and_loops_fail,
    credentials_stay_with_their_host,
    https_to_http_is_refused_unless_allowed,
    policies_and_locations,
    a_long_redirect_body_closes_its_connection,
);
