//! Protocol switches on every runtime: a `101` to a request with `Upgrade`
//! (RFC 9110 §7.8) and a `2xx` to `CONNECT` (§9.3.6) hand the connection to
//! the caller as an `Upgraded`, with the bytes that arrived behind the head;
//! it leaves the pool. A WebSocket handshake (RFC 6455) and one frame each
//! way show it in use.

use http::{Method, Request, StatusCode};
use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Client, ClientBuilder, Empty, Runtime, Upgraded};
use roundtrip_core::proxy::Proxy;

/// RFC 6455 §1.3's example key and the accept value a server derives from it.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn client<R: Runtime + Default>() -> Client<R> {
    let client = ClientBuilder::with_runtime(R::default()).no_proxy().build();
    watchdog::watch(&client);
    client
}

/// An unmasked WebSocket frame (server to client), FIN set, payload under 126 bytes.
fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    [&[0x80 | opcode, payload.len() as u8][..], payload].concat()
}

/// A masked WebSocket frame (client to server, RFC 6455 §5.3).
fn client_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let masked = payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]);
    [0x80 | opcode, 0x80 | payload.len() as u8].into_iter().chain(mask).chain(masked).collect()
}

/// Reads one short frame: its opcode and its payload, unmasked.
async fn read_frame(io: &mut Upgraded) -> (u8, Vec<u8>) {
    let mut head = [0; 2];
    read_exact(io, &mut head).await;
    assert!(head[1] & 0x7f < 126, "a short frame");
    let mut mask = [0; 4];
    if head[1] & 0x80 != 0 {
        read_exact(io, &mut mask).await;
    }
    let mut payload = vec![0; usize::from(head[1] & 0x7f)];
    read_exact(io, &mut payload).await;
    payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= mask[i % 4]);
    (head[0] & 0x0f, payload)
}

async fn read_exact(io: &mut Upgraded, mut buf: &mut [u8]) {
    while !buf.is_empty() {
        let n = io.read(buf).await.expect("read from the upgraded connection");
        assert!(n > 0, "the upgraded connection ended early");
        buf = &mut buf[n..];
    }
}

/// The handshake, a server frame sent in the same write as the `101` (so it
/// is read with the head and must come out of the upgraded connection
/// first), a client frame echoed back, and the close. The connection left
/// the pool: nothing idle, nothing active.
async fn websocket_handshake_and_frames<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        let request = conn.read_head()?.expect("the upgrade request");
        assert_eq!(request.header("upgrade"), Some("websocket"));
        assert_eq!(request.header("sec-websocket-key"), Some(KEY));
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
             sec-websocket-accept: {ACCEPT}\r\n\r\n"
        );
        conn.write(&[head.as_bytes(), &server_frame(0x1, b"hi")].concat())?;
        let mut frame = [0; 2 + 4 + 5];
        std::io::Read::read_exact(conn.stream(), &mut frame)?;
        let payload: Vec<u8> = frame[6..].iter().enumerate().map(|(i, b)| b ^ frame[2 + i % 4]).collect();
        assert_eq!((frame[0], &payload[..]), (0x81, &b"hello"[..]), "the client's masked text frame");
        conn.write(&server_frame(0x1, &payload))?;
        conn.write(&server_frame(0x8, &[]))?;
        assert!(conn.expect_eof()?, "the client closes after the close frame");
        Ok(())
    });
    let client = client::<R>();
    let response = client
        .get(server.url("/chat"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", KEY)
        .send()
        .await
        .expect("the 101");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(response.headers()["sec-websocket-accept"], ACCEPT);
    let mut io = response.into_body().upgrade().expect("the upgraded connection");
    let stats = client.pool_stats();
    assert_eq!((stats.active, stats.idle), (0, 0), "the upgraded connection left the pool");
    assert_eq!(read_frame(&mut io).await, (0x1, b"hi".to_vec()), "the frame behind the head");
    io.write_all(&client_frame(0x1, b"hello", [1, 2, 3, 4])).await.unwrap();
    assert_eq!(read_frame(&mut io).await, (0x1, b"hello".to_vec()), "the echo");
    assert_eq!(read_frame(&mut io).await.0, 0x8, "the close frame");
    io.shutdown().await.unwrap();
    drop(io);
    server.check();
}

/// A server that declines the upgrade answers as usual: the body is an
/// ordinary one, `upgrade` gives `None`, and the connection is pooled.
async fn a_declined_upgrade_is_an_ordinary_response<R: Runtime + Default>() {
    let server = Server::ok(b"plain");
    let client = client::<R>();
    let response = client
        .get(server.url("/"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.into_body().upgrade().is_none(), "no switch, no upgraded connection");
    let again = client.get(server.url("/")).await.unwrap();
    assert_eq!(again.into_body().text(64).await.unwrap(), "plain");
    assert_eq!(server.accepted(), 1, "the declined upgrade's connection was reused");
}

/// `CONNECT host:port` goes to the client's proxy in authority form; the
/// proxy's `200` opens the tunnel, bytes behind its head included, and the
/// tunnel carries bytes both ways.
async fn connect_through_a_proxy_gives_the_tunnel<R: Runtime + Default>() {
    let proxy = Server::start(|conn| {
        let request = conn.read_head()?.expect("the CONNECT");
        assert_eq!((&request.method[..], &request.target[..]), ("CONNECT", "origin.test:443"));
        assert_eq!(request.header("host"), Some("origin.test:443"));
        conn.write(b"HTTP/1.1 200 Connection established\r\n\r\nready")?;
        let mut ping = [0; 4];
        std::io::Read::read_exact(conn.stream(), &mut ping)?;
        assert_eq!(&ping, b"ping");
        conn.write(b"pong")?;
        Ok(())
    });
    let proxy_url = format!("http://{}", proxy.addr());
    let client = ClientBuilder::with_runtime(R::default()).proxy(Proxy::parse(&proxy_url).unwrap()).build();
    watchdog::watch(&client);
    let request = Request::builder().method(Method::CONNECT).uri("origin.test:443").body(Empty).unwrap();
    let response = client.request(request).await.expect("the tunnel");
    assert_eq!(response.status(), StatusCode::OK);
    let mut tunnel = response.into_body().upgrade().expect("a 2xx to CONNECT switches");
    let mut ready = [0; 5];
    read_exact(&mut tunnel, &mut ready).await;
    assert_eq!(&ready, b"ready", "the bytes behind the proxy's head");
    tunnel.write_all(b"ping").await.unwrap();
    let mut pong = [0; 4];
    read_exact(&mut tunnel, &mut pong).await;
    assert_eq!(&pong, b"pong");
    assert_eq!(client.pool_stats().active, 0, "the tunnel left the pool");
    proxy.check();
}

/// A refused `CONNECT` is an ordinary response with a body; no tunnel.
async fn a_refused_connect_is_an_ordinary_response<R: Runtime + Default>() {
    let proxy = Server::start(|conn| {
        conn.read_head()?.expect("the CONNECT");
        conn.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno")?;
        Ok(())
    });
    let client = client::<R>();
    let request =
        Request::builder().method(Method::CONNECT).uri(format!("{}", proxy.addr())).body(Empty).unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.into_body().text(64).await.unwrap(), "no");
}

/// A server that switches to an echo protocol and echoes one message.
fn echo_after_switch() -> Server {
    Server::start(|conn| {
        conn.read_head()?.expect("the upgrade request");
        conn.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n")?;
        let mut message = [0; 4];
        std::io::Read::read_exact(conn.stream(), &mut message)?;
        conn.write(&message)?;
        Ok(())
    })
}

/// `TokioIo` makes the upgraded connection a Tokio stream, for crates that
/// speak their protocol over `AsyncRead + AsyncWrite`.
#[test]
fn tokio_io_wraps_an_upgraded_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    watchdog::test(|| {
        runtime.block_on(async {
            let server = echo_after_switch();
            let client = client::<roundtrip_tokio::Tokio>();
            let response = client.get(server.url("/")).header("upgrade", "echo").await.unwrap();
            let upgraded = response.into_body().upgrade().expect("switched");
            let mut stream = roundtrip_tokio::TokioIo(upgraded);
            stream.write_all(b"ping").await.unwrap();
            stream.flush().await.unwrap();
            let mut echo = [0; 4];
            stream.read_exact(&mut echo).await.unwrap();
            assert_eq!(&echo, b"ping");
        })
    });
}

/// `SmolIo` makes the upgraded connection a futures-io stream.
#[test]
fn smol_io_wraps_an_upgraded_connection() {
    use ::smol::io::{AsyncReadExt, AsyncWriteExt};
    watchdog::test(|| {
        ::smol::block_on(async {
            let server = echo_after_switch();
            let client = client::<roundtrip_smol::Smol>();
            let response = client.get(server.url("/")).header("upgrade", "echo").await.unwrap();
            let upgraded = response.into_body().upgrade().expect("switched");
            let mut stream = roundtrip_smol::SmolIo(upgraded);
            stream.write_all(b"ping").await.unwrap();
            stream.flush().await.unwrap();
            let mut echo = [0; 4];
            stream.read_exact(&mut echo).await.unwrap();
            assert_eq!(&echo, b"ping");
        })
    });
}

/// A `101` before the request body was sent (here held for `100 Continue`)
/// is a protocol error: the body would reach the new protocol as its first
/// bytes (RFC 9110 §7.8). No connection is handed over.
async fn a_switch_before_the_body_is_sent_is_an_error<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_head()?.expect("the request head");
        conn.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n")?;
        conn.discard_until_eof()
    });
    let client = ClientBuilder::with_runtime(R::default())
        .no_proxy()
        .expect_continue_timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    watchdog::watch(&client);
    let error = client
        .post(server.url("/"))
        .header("upgrade", "echo")
        .header("expect", "100-continue")
        .body(roundtrip_core::client::Full::new("the body"))
        .await
        .expect_err("no switch before the request is sent");
    assert!(error.is_protocol(), "{error:?}");
    assert_eq!(client.pool_stats().active, 0);
}

/// The response's extensions hold the connection too (`client::upgrade`),
/// for code that only has the response after middleware mapped its body;
/// whichever asks first takes it. `disable_keep_alives` leaves the
/// `Connection: upgrade` of an upgrade request alone.
async fn upgrade_from_the_response_extensions<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        let request = conn.read_head()?.expect("the upgrade request");
        assert_eq!(request.header("connection"), Some("upgrade"), "not replaced by close");
        conn.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nhi")?;
        Ok(())
    });
    let client = ClientBuilder::with_runtime(R::default()).no_proxy().disable_keep_alives(true).build();
    watchdog::watch(&client);
    let mut response =
        client.get(server.url("/")).header("connection", "upgrade").header("upgrade", "echo").await.unwrap();
    let mut io = roundtrip_core::client::upgrade(&mut response).expect("in the extensions");
    assert!(roundtrip_core::client::upgrade(&mut response).is_none(), "taken once");
    assert!(response.into_body().upgrade().is_none(), "the body shares it");
    let mut hi = [0; 2];
    read_exact(&mut io, &mut hi).await;
    assert_eq!(&hi, b"hi");
    server.check();
}

/// `CONNECT host` without a port is refused before anything is dialed
/// (RFC 9112 §3.2.3).
async fn connect_needs_a_port<R: Runtime + Default>() {
    let server = Server::ok(b"");
    let client = client::<R>();
    let request = Request::builder().method(Method::CONNECT).uri("127.0.0.1").body(Empty).unwrap();
    let error = client.request(request).await.expect_err("no port");
    assert!(error.is_request(), "{error:?}");
    assert_eq!(client.pool_stats().counts.dials, 0, "nothing was dialed");
    drop(server);
}

roundtrip_conformance::on_every_runtime!(
    websocket_handshake_and_frames,
    a_declined_upgrade_is_an_ordinary_response,
    connect_through_a_proxy_gives_the_tunnel,
    a_refused_connect_is_an_ordinary_response,
    a_switch_before_the_body_is_sent_is_an_error,
    upgrade_from_the_response_extensions,
    connect_needs_a_port,
);
