//! `https` through the built-in dialer and the TLS layer in core, on Tokio
//! (both flavours) and smol, against loopback servers with a fresh PKI.

use std::time::Duration;

use roundtrip_conformance::server::{Server, ServerConn, Transport};
use roundtrip_conformance::sync::Signal;
use roundtrip_conformance::tls::Pki;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{
    Client, ClientBuilder, Runtime, Timeout, Timings, TlsErrorKind, TlsInfo, Trace, TraceEvent,
};

/// A handler for servers whose handshake the client must refuse: the
/// server's own failure to read is expected.
fn refuses_quietly(conn: &mut ServerConn) -> std::io::Result<()> {
    let _ = conn.read_head();
    Ok(())
}

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

fn client<R: Runtime + Default>(pki: &Pki) -> Client<R> {
    let client = ClientBuilder::with_runtime(R::default()).tls_config(pki.client_config()).build();
    watchdog::watch(&client);
    client
}

/// A TLS server answering every request on a connection with `HELLO`.
fn keep_alive(pki: &Pki) -> Server {
    Server::start_tls(pki.server_config(&[]), |conn| {
        while conn.read_head()?.is_some() {
            conn.write(HELLO)?;
        }
        Ok(())
    })
}

/// Keep-alive over TLS: two requests, one connection, one handshake.
async fn get_reuses_one_tls_connection<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = keep_alive(&pki);
    let client = client::<R>(&pki);
    for _ in 0..2 {
        let response = client.get(server.url_at("localhost", "/")).await.unwrap();
        // What the handshake negotiated rides on every response (Go's Response.TLS).
        let tls = response.extensions().get::<std::sync::Arc<TlsInfo>>().expect("TLS info");
        assert_eq!(tls.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
        assert_eq!(tls.peer_certificates().len(), 2, "leaf and CA, as the server sent them");
        assert_eq!(tls.alpn_protocol(), None, "this server does not do ALPN");
        assert_eq!(response.into_body().bytes(64).await.unwrap(), "hello");
    }
    assert_eq!(server.accepted(), 1);
    assert_eq!(client.pool_stats().counts.reuses, 1);
}

/// A new connection over TLS reports its name lookup, connect and handshake
/// to the request's trace, in that order, and their durations in `Timings`;
/// the next request on it reports none of them (docs/observability.md).
async fn tls_phases_are_traced_and_timed<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = keep_alive(&pki);
    let client = client::<R>(&pki);
    for fresh in [true, false] {
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = events.clone();
        let trace = Trace::new(move |event| {
            let name = match event {
                TraceEvent::DnsStart { .. } => "dns start",
                TraceEvent::DnsDone { error: None, .. } => "dns done",
                TraceEvent::ConnectStart { .. } => "connect start",
                TraceEvent::ConnectDone { error: None, .. } => "connect done",
                TraceEvent::TlsHandshakeStart => "tls start",
                TraceEvent::TlsHandshakeDone { ok: true } => "tls done",
                TraceEvent::GotConnection { .. } => "got connection",
                _ => return,
            };
            log.lock().unwrap().push(name);
        });
        let response = client.get(server.url_at("localhost", "/")).extension(trace).await.unwrap();
        let timings = *response.extensions().get::<Timings>().unwrap();
        response.into_body().bytes(64).await.unwrap();
        let events = events.lock().unwrap().clone();
        // localhost may resolve to ::1 first, which refuses: only the
        // attempt that connected is kept here.
        let dial = ["dns start", "dns done", "connect start", "connect done", "tls start", "tls done"];
        if fresh {
            let expected: Vec<&str> = dial.iter().copied().chain(["got connection"]).collect();
            let mut seen = events.clone();
            seen.dedup();
            assert_eq!(seen, expected);
            assert!(
                timings.dns().is_some() && timings.connect().is_some() && timings.tls().is_some(),
                "{timings:?}"
            );
        } else {
            assert_eq!(events, ["got connection"]);
            assert_eq!((timings.dns(), timings.connect(), timings.tls()), (None, None, None));
        }
    }
}

/// An IP literal works when the certificate names the address (no SNI is
/// sent for it, RFC 6066 §3).
async fn ip_literal_host<R: Runtime + Default>() {
    let pki = Pki::new(&["127.0.0.1"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        conn.read_head()?;
        conn.write(HELLO)
    });
    let body = client::<R>(&pki).get(server.url_at("127.0.0.1", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
}

async fn untrusted_certificate_is_a_certificate_error<R: Runtime + Default>() {
    let (pki, other) = (Pki::new(&["localhost"]), Pki::new(&["localhost"]));
    let server = Server::start_tls(pki.server_config(&[]), refuses_quietly);
    let error = client::<R>(&other).get(server.url_at("localhost", "/")).await.unwrap_err();
    assert!(error.is_connect() && error.is_tls(), "{error:?}");
    assert_eq!(error.tls_error().map(|e| e.kind()), Some(TlsErrorKind::Certificate), "{error:?}");
}

/// `danger_accept_invalid_certificates` (a tool's `--insecure`): an
/// unknown CA and a wrong name are accepted.
async fn danger_accept_invalid_certificates_accepts_anything<R: Runtime + Default>() {
    let (pki, other) = (Pki::new(&["example.test"]), Pki::new(&["localhost"]));
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        conn.read_head()?;
        conn.write(HELLO)
    });
    let client = ClientBuilder::with_runtime(R::default())
        .tls_config(other.client_config())
        .danger_accept_invalid_certificates()
        .build();
    let body = client.get(server.url_at("localhost", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
}

/// The same over the default configuration, settled at the first `https`
/// dial rather than at `build`.
async fn danger_accept_invalid_certificates_applies_to_the_default<R: Runtime + Default>() {
    let pki = Pki::new(&["example.test"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        conn.read_head()?;
        conn.write(HELLO)
    });
    let client = ClientBuilder::with_runtime(R::default()).danger_accept_invalid_certificates().build();
    let body = client.get(server.url_at("localhost", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
}

/// The default configuration verifies with the system's trust store, which
/// knows nothing of a test CA.
async fn default_verifier_rejects_a_private_ca<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[]), refuses_quietly);
    let client = Client::<R>::new();
    let error = client.get(server.url_at("localhost", "/")).await.unwrap_err();
    assert_eq!(error.tls_error().map(|e| e.kind()), Some(TlsErrorKind::Certificate), "{error:?}");
}

async fn certificate_for_another_name_is_a_name_error<R: Runtime + Default>() {
    let pki = Pki::new(&["example.test"]);
    let server = Server::start_tls(pki.server_config(&[]), refuses_quietly);
    let error = client::<R>(&pki).get(server.url_at("localhost", "/")).await.unwrap_err();
    assert_eq!(error.tls_error().map(|e| e.kind()), Some(TlsErrorKind::Name), "{error:?}");
}

/// A server that speaks only h2 refuses our `http/1.1` offer (RFC 7301 §3.2).
async fn server_without_http1_is_an_alpn_error<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[b"h2"]), refuses_quietly);
    let error = client::<R>(&pki).get(server.url_at("localhost", "/")).await.unwrap_err();
    assert_eq!(error.tls_error().map(|e| e.kind()), Some(TlsErrorKind::Alpn), "{error:?}");
}

/// A server that accepts and never speaks TLS: the handshake timeout fires.
async fn silent_server_is_a_handshake_timeout<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url: http::Uri =
        format!("https://localhost:{}/", listener.local_addr().unwrap().port()).parse().unwrap();
    let client = ClientBuilder::with_runtime(R::default())
        .tls_config(pki.client_config())
        .tls_handshake_timeout(Some(Duration::from_millis(100)))
        .build();
    let error = client.get(url).await.unwrap_err();
    assert_eq!(error.timeout_kind(), Some(Timeout::TlsHandshake), "{error:?}");
    assert!(error.is_connect());
    drop(listener);
}

/// A close-delimited body ends well only with `close_notify`; a bare close
/// could be a truncation (RFC 8446 §6.1).
async fn close_delimited_body_needs_close_notify<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let head = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it";
    let notified = Server::start_tls(pki.server_config(&[]), move |conn| {
        conn.read_head()?;
        conn.write(head)?;
        conn.close_notify()
    });
    let client = client::<R>(&pki);
    let body = client.get(notified.url_at("localhost", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "all of it");

    let truncated = Server::start_tls(pki.server_config(&[]), move |conn| {
        conn.read_head()?;
        conn.write(head)?;
        conn.close_without_notify();
        Ok(())
    });
    let body = client.get(truncated.url_at("localhost", "/")).await.unwrap().into_body();
    let error = body.bytes(64).await.expect_err("a close without close_notify is not the end");
    assert!(!error.is_timeout(), "{error:?}");
}

/// A length-framed body cut short is an error whether or not TLS ended well.
async fn close_mid_body_is_an_error<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhell")
    });
    let body = client::<R>(&pki).get(server.url_at("localhost", "/")).await.unwrap().into_body();
    assert!(body.bytes(64).await.is_err());
}

/// A forged record mid-body (it fails authentication, RFC 8446 §5.2): the
/// body fails with the TLS error itself, not a bare "read failed".
async fn bad_record_mid_body_is_a_tls_error<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhell")?;
        let Transport::Tls(tls) = conn.stream() else { unreachable!("a TLS server") };
        // An application-data record header, then 32 bytes no key made.
        let forged = [&[0x17, 0x03, 0x03, 0x00, 0x20][..], &[0xAB; 32]].concat();
        std::io::Write::write_all(&mut tls.sock, &forged)?;
        conn.close_without_notify();
        Ok(())
    });
    // The forged record may arrive with the head or after it.
    let error = match client::<R>(&pki).get(server.url_at("localhost", "/")).await {
        Ok(response) => response.into_body().bytes(64).await.expect_err("a forged record"),
        Err(error) => error,
    };
    assert_eq!(error.tls_error().map(|e| e.kind()), Some(TlsErrorKind::Protocol), "{error:?}");
}

/// A server that closes an idle pooled connection with `close_notify`: the
/// probe before reuse sees it and the next request dials afresh.
async fn close_notify_on_an_idle_connection_is_seen_before_reuse<R: Runtime + Default>() {
    get_after_idle_close::<R>(true).await;
}

/// The same with a bare close, as many servers close idle connections: the
/// probe sees the error (no `close_notify`) and drops the connection, or, if
/// the close races the next request, the read fails and the request is
/// retried (a reused connection going away, docs/go-transport.md RETRY-3);
/// either way the caller gets its response.
async fn bare_close_on_an_idle_connection_costs_the_caller_nothing<R: Runtime + Default>() {
    get_after_idle_close::<R>(false).await;
}

/// One request, the server closes the connection (with `close_notify` or
/// without), and a second request gets its response on a new connection.
async fn get_after_idle_close<R: Runtime + Default>(notify: bool) {
    let pki = Pki::new(&["localhost"]);
    let closed = Signal::new();
    let said = closed.clone();
    let server = Server::start_tls(pki.server_config(&[]), move |conn| {
        if conn.read_head()?.is_some() {
            conn.write(HELLO)?;
        }
        if notify {
            conn.close_notify()?;
        } else {
            conn.close_without_notify();
        }
        said.set();
        Ok(())
    });
    let client = client::<R>(&pki);
    let body = client.get(server.url_at("localhost", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
    closed.wait().await;
    let body = client.get(server.url_at("localhost", "/")).await.expect("a fresh connection").into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
    assert_eq!(server.accepted(), 2);
}

/// `http` and `https` to the same host and port are different pool keys.
async fn http_and_https_never_share_a_connection<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        // The plaintext request fails the server's handshake: expected here.
        while let Ok(Some(_)) = conn.read_head() {
            conn.write(HELLO)?;
        }
        Ok(())
    });
    let client = client::<R>(&pki);
    let body = client.get(server.url_at("localhost", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
    let plain: http::Uri =
        server.url_at("localhost", "/").to_string().replacen("https", "http", 1).parse().unwrap();
    assert!(client.get(plain).await.is_err(), "plaintext to a TLS server must fail");
    assert_eq!(server.accepted(), 2);
}

roundtrip_conformance::on_every_runtime!(
    tls_phases_are_traced_and_timed,
    get_reuses_one_tls_connection,
    ip_literal_host,
    untrusted_certificate_is_a_certificate_error,
    danger_accept_invalid_certificates_accepts_anything,
    danger_accept_invalid_certificates_applies_to_the_default,
    default_verifier_rejects_a_private_ca,
    certificate_for_another_name_is_a_name_error,
    server_without_http1_is_an_alpn_error,
    silent_server_is_a_handshake_timeout,
    close_delimited_body_needs_close_notify,
    close_mid_body_is_an_error,
    bad_record_mid_body_is_a_tls_error,
    close_notify_on_an_idle_connection_is_seen_before_reuse,
    bare_close_on_an_idle_connection_costs_the_caller_nothing,
    http_and_https_never_share_a_connection,
);
