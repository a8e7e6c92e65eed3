//! Proxies over real sockets, on Tokio (both flavours) and smol: a scripted
//! HTTP proxy for forwarding, `CONNECT` and its failures, an HTTPS proxy,
//! and a real squid (conformance::squid).

use std::sync::{Arc, Mutex};

use roundtrip_conformance::daemon::Daemon;
use roundtrip_conformance::server::{ReceivedRequest, Server};
use roundtrip_conformance::socks::{SocksAddr, SocksBehavior, SocksServer};
use roundtrip_conformance::tls::Pki;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Client, ClientBuilder, Runtime};
use roundtrip_core::proxy::{NoProxy, Proxies, Proxy, ProxyErrorKind};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

/// `Basic base64("user:pw")`.
const USER_PW: &str = "Basic dXNlcjpwdw==";

fn build<R: Runtime + Default>(builder: ClientBuilder<R>) -> Client<R> {
    let client = builder.build();
    watchdog::watch(&client);
    client
}

/// A TLS origin on loopback answering every request with "hello".
fn tls_origin(pki: &Pki) -> Server {
    Server::start_tls(pki.server_config(&[]), |conn| {
        while conn.read_head()?.is_some() {
            conn.write(HELLO)?;
        }
        Ok(())
    })
}

/// A scripted proxy that opens every `CONNECT` to `origin` (whatever name
/// it asks for) and records the requests it got.
fn connect_proxy(origin: std::net::SocketAddr, seen: Arc<Mutex<Vec<ReceivedRequest>>>) -> Server {
    Server::start(move |conn| {
        let Some(request) = conn.read_head()? else { return Ok(()) };
        let connect = request.method == "CONNECT";
        seen.lock().unwrap().push(request);
        if !connect {
            return conn.write(b"HTTP/1.1 405 Not Allowed\r\ncontent-length: 0\r\n\r\n");
        }
        conn.write(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        conn.relay(origin)
    })
}

fn proxy_at(server: &Server, userinfo: &str) -> Proxy {
    Proxy::parse(&format!("http://{userinfo}{}", server.addr())).unwrap()
}

/// RFC 9112 §3.2.2: through an HTTP proxy an `http` request names its
/// origin in absolute form and carries the proxy's credentials; one pool of
/// connections to the proxy serves every origin (Go's connectMethodKey).
async fn http_is_forwarded_in_absolute_form_on_one_connection<R: Runtime + Default>() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let proxy = Server::start(move |conn| {
        while let Some(request) = conn.read_head()? {
            log.lock().unwrap().push(request);
            conn.write(HELLO)?;
        }
        Ok(())
    });
    let client = build(ClientBuilder::with_runtime(R::default()).proxy(proxy_at(&proxy, "user:pw@")));
    for url in ["http://origin.test:8080/a?b=c", "http://other.test/"] {
        let body = client.get(url).await.unwrap().into_body();
        assert_eq!(body.bytes(64).await.unwrap(), "hello");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].target, "http://origin.test:8080/a?b=c");
    assert_eq!(seen[0].header("host"), Some("origin.test:8080"));
    assert_eq!(seen[0].header("proxy-authorization"), Some(USER_PW));
    assert_eq!(seen[1].target, "http://other.test/");
    assert_eq!(proxy.accepted(), 1, "both origins share the connection to the proxy");
    assert_eq!(client.pool_stats().counts.reuses, 1);
}

/// RFC 9110 §9.3.6: an `https` target goes through a `CONNECT` tunnel in
/// authority form, then TLS to the origin; the proxy's credentials go on
/// the `CONNECT` only, never inside the tunnel.
async fn https_goes_through_a_connect_tunnel<R: Runtime + Default>() {
    let pki = Pki::new(&["origin.test"]);
    let origin = tls_origin(&pki);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let proxy = connect_proxy(origin.addr(), seen.clone());
    let client = build(
        ClientBuilder::with_runtime(R::default())
            .tls_config(pki.client_config())
            .proxy(proxy_at(&proxy, "user:pw@")),
    );
    for _ in 0..2 {
        let body = client.get(origin.url_at("origin.test", "/")).await.unwrap().into_body();
        assert_eq!(body.bytes(64).await.unwrap(), "hello");
    }
    let connect = seen.lock().unwrap()[0].clone();
    let authority = format!("origin.test:{}", origin.addr().port());
    assert_eq!((connect.method.as_str(), connect.target.as_str()), ("CONNECT", authority.as_str()));
    assert_eq!(connect.header("host"), Some(authority.as_str()));
    assert_eq!(connect.header("proxy-authorization"), Some(USER_PW));
    assert_eq!((proxy.accepted(), origin.accepted()), (1, 1), "the tunnel is reused");
    let inside = String::from_utf8_lossy(&origin.received()).into_owned();
    assert!(inside.is_empty() || !inside.contains("proxy-authorization"));
}

/// A refused `CONNECT` is a typed error with the proxy's status and
/// fields; its body is never read as tunnel data (docs/security.md F11).
async fn refused_connect_is_a_typed_error_with_status_and_fields<R: Runtime + Default>() {
    let proxy = Server::start(|conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"corp\"\r\ncontent-length: 12\r\n\r\nHTTP/1.1 200")
    });
    let client = build(ClientBuilder::with_runtime(R::default()).proxy(proxy_at(&proxy, "")));
    let error = client.get("https://origin.test/").await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    let proxy_error = error.proxy_error().expect("a proxy error");
    assert_eq!(proxy_error.kind(), ProxyErrorKind::Status);
    assert_eq!(proxy_error.status_code().map(|s| s.as_u16()), Some(407));
    assert_eq!(proxy_error.headers().unwrap()["proxy-authenticate"], "Basic realm=\"corp\"");

    let proxy = Server::start(|conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
    });
    let client = build(ClientBuilder::with_runtime(R::default()).proxy(proxy_at(&proxy, "")));
    let error = client.get("https://origin.test/").await.unwrap_err();
    assert_eq!(error.proxy_error().and_then(|e| e.status_code()).map(|s| s.as_u16()), Some(403));
}

/// A proxy that closes mid-handshake, and one whose answer head passes the
/// client's head limit: typed errors, no hang, no guess.
async fn broken_proxies_are_typed_errors<R: Runtime + Default>() {
    let closes = Server::start(|conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 200 Conn")
    });
    let client = build(ClientBuilder::with_runtime(R::default()).proxy(proxy_at(&closes, "")));
    let error = client.get("https://origin.test/").await.unwrap_err();
    assert_eq!(error.proxy_error().map(|e| e.kind()), Some(ProxyErrorKind::Closed), "{error:?}");

    let oversized = Server::start(|conn| {
        conn.read_head()?;
        let head = format!("HTTP/1.1 200 OK\r\nx-filler: {}\r\n\r\n", "a".repeat(8 * 1024));
        conn.write(head.as_bytes())
    });
    let client = build(
        ClientBuilder::with_runtime(R::default())
            .proxy(proxy_at(&oversized, ""))
            .max_response_head(4096, 100),
    );
    let error = client.get("https://origin.test/").await.unwrap_err();
    assert_eq!(error.proxy_error().map(|e| e.kind()), Some(ProxyErrorKind::Protocol), "{error:?}");
}

/// An `https://` proxy: TLS to the proxy, `CONNECT` inside it, then TLS to
/// the origin inside that.
async fn https_proxy_carries_tls_inside_tls<R: Runtime + Default>() {
    let pki = Pki::new(&["localhost", "origin.test"]);
    let origin = tls_origin(&pki);
    let to = origin.addr();
    let proxy = Server::start_tls(pki.server_config(&[]), move |conn| {
        let request = conn.read_head()?.expect("a CONNECT");
        assert_eq!(request.method, "CONNECT");
        conn.write(b"HTTP/1.1 200 OK\r\n\r\n")?;
        conn.relay(to)
    });
    let proxy = Proxy::parse(&format!("https://localhost:{}", proxy.addr().port())).unwrap();
    let client =
        build(ClientBuilder::with_runtime(R::default()).tls_config(pki.client_config()).proxy(proxy));
    let body = client.get(origin.url_at("origin.test", "/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
}

/// `NO_PROXY` rules pick the direct route; the rest goes through the proxy.
async fn no_proxy_hosts_connect_directly<R: Runtime + Default>() {
    let origin = Server::ok(b"direct");
    let proxy = Server::ok(b"proxied");
    let proxies = Proxies::none().http(proxy_at(&proxy, "")).no_proxy(NoProxy::parse("127.0.0.0/8"));
    let client = build(ClientBuilder::with_runtime(R::default()).proxies(proxies));
    let body = client.get(origin.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "direct");
    let body = client.get("http://origin.test/").await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "proxied");
}

/// `socks5h://` sends the host name for the proxy to resolve (RFC 1928 §5,
/// ATYP 3), and carries both `http` and `https` (TLS inside the tunnel).
async fn socks5h_tunnels_http_and_https_by_name<R: Runtime + Default>() {
    let socks = SocksServer::start(SocksBehavior::accept().resolve("origin.test", [127, 0, 0, 1]));
    let plain = Server::ok(b"plain");
    let pki = Pki::new(&["origin.test"]);
    let tls = tls_origin(&pki);
    let proxy = Proxy::parse(&socks.url("socks5h")).unwrap();
    let client =
        build(ClientBuilder::with_runtime(R::default()).tls_config(pki.client_config()).proxy(proxy));
    for _ in 0..2 {
        let body = client.get(plain.url_at("origin.test", "/")).await.unwrap().into_body();
        assert_eq!(body.bytes(64).await.unwrap(), "plain");
        let body = client.get(tls.url_at("origin.test", "/")).await.unwrap().into_body();
        assert_eq!(body.bytes(64).await.unwrap(), "hello");
    }
    let targets: Vec<_> = socks.requests().into_iter().filter_map(|r| r.target).collect();
    assert_eq!(targets.len(), 2, "one tunnel per origin, each reused: {targets:?}");
    assert!(targets.contains(&SocksAddr::Domain("origin.test".into(), plain.addr().port())), "{targets:?}");
    assert_eq!((plain.accepted(), tls.accepted()), (1, 1));
}

/// `socks5://` resolves locally and sends the address (ATYP 1), with
/// username/password authentication (RFC 1929) from the URL.
async fn socks5_sends_an_address_and_credentials<R: Runtime + Default>() {
    let socks = SocksServer::start(SocksBehavior::with_credentials("user", "pw"));
    let origin = Server::ok(b"ok");
    let proxy = Proxy::parse(&socks.url("socks5")).unwrap();
    let client = build(ClientBuilder::with_runtime(R::default()).proxy(proxy));
    let body = client.get(origin.url("/")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "ok");
    let request = socks.requests().remove(0);
    assert_eq!(request.target, Some(SocksAddr::Ip(origin.addr())));
    assert_eq!(request.credentials, Some(("user".into(), "pw".into())));

    let wrong = Proxy::parse(&format!("socks5://user:nope@{}", socks.addr())).unwrap();
    let client = build(ClientBuilder::with_runtime(R::default()).proxy(wrong));
    let error = client.get(origin.url("/")).await.unwrap_err();
    assert_eq!(error.proxy_error().map(|e| e.kind()), Some(ProxyErrorKind::SocksAuth), "{error:?}");
}

/// A SOCKS5 refusal carries its reply code (RFC 1928 §6); a proxy that
/// hangs up mid-handshake is `Closed`.
async fn socks5_refusals_are_typed_errors<R: Runtime + Default>() {
    let socks = SocksServer::start(SocksBehavior::refuse(5));
    let client =
        build(ClientBuilder::with_runtime(R::default()).proxy(Proxy::parse(&socks.url("socks5h")).unwrap()));
    let error = client.get("http://origin.test/").await.unwrap_err();
    let proxy_error = error.proxy_error().expect("a proxy error");
    assert_eq!((proxy_error.kind(), proxy_error.socks_reply()), (ProxyErrorKind::SocksRefused, Some(5)));

    let socks = SocksServer::start(SocksBehavior::close_after_greeting());
    let client =
        build(ClientBuilder::with_runtime(R::default()).proxy(Proxy::parse(&socks.url("socks5h")).unwrap()));
    let error = client.get("http://origin.test/").await.unwrap_err();
    assert_eq!(error.proxy_error().map(|e| e.kind()), Some(ProxyErrorKind::Closed), "{error:?}");
}

/// A real squid: forwarding an `http` request, and a `CONNECT` tunnel to a
/// TLS origin, each twice over one pooled connection.
async fn through_squid<R: Runtime + Default>() {
    let squid = Daemon::squid(&["origin.test"]);
    let plain = Server::ok(b"plain");
    let pki = Pki::new(&["origin.test"]);
    let tls = tls_origin(&pki);
    let proxy = Proxy::parse(&format!("http://{}", squid.addr())).unwrap();
    let client =
        build(ClientBuilder::with_runtime(R::default()).tls_config(pki.client_config()).proxy(proxy));
    for _ in 0..2 {
        let body = client.get(plain.url_at("origin.test", "/")).await.unwrap().into_body();
        assert_eq!(body.bytes(64).await.unwrap(), "plain");
        let body = client.get(tls.url_at("origin.test", "/")).await.unwrap().into_body();
        assert_eq!(body.bytes(64).await.unwrap(), "hello");
    }
    // `origin.test` resolves only in squid's hosts file: these answers
    // came through squid. It logs a tunnel when it closes, a GET at once.
    assert_eq!(tls.accepted(), 1, "the tunnel is reused");
    let log = squid.file("access.log");
    assert_eq!(log.matches("GET http://origin.test:").count(), 2, "{log}");
}

/// A real SOCKS5 server (dante): `socks5h` and `socks5`, plain and TLS
/// origins, tunnels reused.
async fn through_dante<R: Runtime + Default>() {
    let dante = Daemon::dante();
    let plain = Server::ok(b"plain");
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let tls = tls_origin(&pki);
    for scheme in ["socks5h", "socks5"] {
        let proxy = Proxy::parse(&format!("{scheme}://{}", dante.addr())).unwrap();
        let client =
            build(ClientBuilder::with_runtime(R::default()).tls_config(pki.client_config()).proxy(proxy));
        for _ in 0..2 {
            let body = client.get(plain.url("/")).await.unwrap().into_body();
            assert_eq!(body.bytes(64).await.unwrap(), "plain", "{scheme}");
            let body = client.get(tls.url_at("127.0.0.1", "/")).await.unwrap().into_body();
            assert_eq!(body.bytes(64).await.unwrap(), "hello", "{scheme}");
        }
        assert_eq!(client.pool_stats().counts.reuses, 2, "{scheme}: both tunnels reused");
    }
    assert_eq!((plain.accepted(), tls.accepted()), (2, 2));
}

roundtrip_conformance::on_every_runtime!(
    http_is_forwarded_in_absolute_form_on_one_connection,
    https_goes_through_a_connect_tunnel,
    refused_connect_is_a_typed_error_with_status_and_fields,
    broken_proxies_are_typed_errors,
    https_proxy_carries_tls_inside_tls,
    no_proxy_hosts_connect_directly,
    socks5h_tunnels_http_and_https_by_name,
    socks5_sends_an_address_and_credentials,
    socks5_refusals_are_typed_errors,
    through_squid,
    through_dante,
);
