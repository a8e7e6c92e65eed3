//! The targets every scenario runs on: the engine on Tokio (current-thread and
//! multi-thread) and on smol, and the bare Sans-IO `Connection` over a
//! blocking std socket, which proves the protocol layer needs no runtime.

use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http::{HeaderName, HeaderValue, Request};
use roundtrip_core::client::{Client, ClientBuilder, Empty, Error, Full, Runtime};
use roundtrip_core::conn::{BodyChunk, Connection, ConnectionConfig, Event, ExchangeErrorKind};
use roundtrip_core::proto::{BodyLength, RequestHead};

use crate::engine::Chunks;
use crate::scenario::{Fail, Outcome, Req, ReqBody, Scenario, Settings};
use crate::server::Server;
use crate::sync::join_all;

/// What a client saw for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Response(u16, Vec<u8>),
    Dropped(u16),
    BodyFails(u16, Fail),
    Fails(Fail),
}

impl Outcome {
    /// Whether `seen` is what this outcome expects.
    pub fn matches(&self, seen: &Seen) -> bool {
        match (self, seen) {
            (Outcome::Either(a, b), seen) => a.matches(seen) || b.matches(seen),
            (Outcome::Response(status, body), Seen::Response(s, b)) => status == s && body == b,
            (Outcome::BodyFails(status, fail), Seen::BodyFails(s, f)) => status == s && fail == f,
            (Outcome::Fails(fail), Seen::Fails(f)) => fail == f,
            (Outcome::Dropped(status), Seen::Dropped(s)) => status == s,
            _ => false,
        }
    }
}

/// A guard: no scenario may take longer than this on any target.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(10);

pub(crate) fn tokio_current_thread(scenario: &Scenario) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(run_engine::<roundtrip_tokio::Tokio>(scenario, None, None));
}

pub(crate) fn tokio_multi_thread(scenario: &Scenario) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run_engine::<roundtrip_tokio::Tokio>(scenario, None, None));
}

pub(crate) fn smol(scenario: &Scenario) {
    smol::block_on(run_engine::<roundtrip_smol::Smol>(scenario, None, None));
}

/// The engine on Tokio with the server behind TLS: everything the table
/// proves in plaintext must hold over the TLS layer too.
pub(crate) fn tokio_tls(scenario: &Scenario) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let pki = crate::tls::Pki::new(&["127.0.0.1"]);
    runtime.block_on(run_engine::<roundtrip_tokio::Tokio>(scenario, Some(&pki), None));
}

/// Runs `scenario` on the engine and checks every outcome. With `connector`,
/// connections are opened by it (fault injection); then only the absence of
/// panics and hangs is checked, not the outcomes.
/// Returns how many requests failed (for the fault-injection run).
pub(crate) async fn run_engine<R: Runtime + Default>(
    scenario: &Scenario,
    tls: Option<&crate::tls::Pki>,
    connector: Option<Customize<R>>,
) -> usize {
    let server = match tls {
        Some(pki) => scenario.start_tls_server(pki),
        None => scenario.start_server(),
    };
    let mut builder = configure(ClientBuilder::<R>::with_runtime(R::default()), &scenario.settings)
        .connect_timeout(Some(Duration::from_secs(5)))
        .total_timeout(Some(SCENARIO_DEADLINE));
    if let Some(pki) = tls {
        builder = builder.tls_config(pki.client_config());
    }
    let checked = connector.is_none();
    if let Some(connector) = connector {
        builder = connector(builder);
    }
    let client = builder.build();
    crate::watchdog::watch(&client);
    let mut failures = 0;
    for (i, (request, expected)) in scenario.requests.iter().enumerate() {
        let seen = engine_request(&client, &server, request, matches!(expected, Outcome::Dropped(_))).await;
        failures += usize::from(matches!(seen, Seen::Fails(_) | Seen::BodyFails(..)));
        assert!(
            !checked || expected.matches(&seen),
            "{} ({}): request {i}: expected {expected:?}, saw {seen:?}",
            scenario.name,
            scenario.source
        );
    }
    if let Some((n, request, expected)) = &scenario.concurrent {
        let drop_body = matches!(expected, Outcome::Dropped(_));
        let requests = (0..*n).map(|_| engine_request(&client, &server, request, drop_body)).collect();
        for seen in join_all(requests).await {
            failures += usize::from(matches!(seen, Seen::Fails(_) | Seen::BodyFails(..)));
            assert!(
                !checked || expected.matches(&seen),
                "{}: concurrent: expected {expected:?}, saw {seen:?}",
                scenario.name
            );
        }
    }
    if checked {
        scenario.check_server(&server);
    }
    failures
}

fn configure<R: Runtime>(mut builder: ClientBuilder<R>, s: &Settings) -> ClientBuilder<R> {
    builder = builder
        .response_head_timeout(s.response_head_timeout)
        .body_read_idle_timeout(s.body_read_idle_timeout);
    if let Some(t) = s.expect_continue_timeout {
        builder = builder.expect_continue_timeout(Some(t));
    }
    if let Some(n) = s.max_conns_per_host {
        builder = builder.max_conns_per_host(Some(n));
    }
    if let Some((bytes, fields)) = s.max_response_head {
        builder = builder.max_response_head(bytes, fields);
    }
    if s.idle_timeout.is_some() {
        builder = builder.idle_timeout(s.idle_timeout);
    }
    builder.drain_on_cancel(s.drain_on_cancel).disable_keep_alives(s.disable_keep_alives)
}

fn uri(addr: &SocketAddr, path: &str) -> http::Uri {
    format!("http://{addr}{path}").parse().unwrap()
}

async fn engine_request<R: Runtime + Default>(
    client: &Client<R>,
    server: &Server,
    req: &Req,
    drop_body: bool,
) -> Seen {
    if req.delay > 0 {
        let runtime = R::default();
        runtime.sleep_until(runtime.now() + Duration::from_millis(req.delay)).await;
    }
    let uri = server.url(req.path);
    let response = match &req.body {
        ReqBody::None => client.request(build(req, uri, Empty)).await,
        ReqBody::Bytes(bytes) => client.request(build(req, uri, Full::from(*bytes))).await,
        ReqBody::Chunks(chunks) => {
            let chunks = chunks.iter().map(|c| Bytes::from_static(c)).collect();
            client.request(build(req, uri, Chunks(chunks))).await
        }
    };
    match response {
        Err(e) => Seen::Fails(fail(&e)),
        Ok(response) if drop_body => Seen::Dropped(response.status().as_u16()),
        Ok(response) => {
            let status = response.status().as_u16();
            match response.into_body().bytes(1 << 24).await {
                Ok(body) => Seen::Response(status, body.to_vec()),
                Err(e) => Seen::BodyFails(status, fail(&e)),
            }
        }
    }
}

fn build<B>(req: &Req, uri: http::Uri, body: B) -> Request<B> {
    let mut request = Request::new(body);
    *request.method_mut() = req.method.clone();
    *request.uri_mut() = uri;
    for (name, value) in &req.headers {
        request.headers_mut().append(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    request
}

fn fail(error: &Error) -> Fail {
    match () {
        _ if error.is_protocol() => Fail::Protocol,
        _ if error.is_timeout() => Fail::Timeout,
        _ if error.is_request() => Fail::Request,
        _ => Fail::Closed,
    }
}

/// Runs `scenario` on `Connection` alone over blocking std sockets.
pub(crate) fn core(scenario: &Scenario) {
    assert!(!scenario.engine_only, "{}: engine-only scenarios have no core test", scenario.name);
    let server = scenario.start_server();
    let mut client = CoreClient { addr: server.addr(), settings: scenario.settings, conn: None };
    for (i, (request, expected)) in scenario.requests.iter().enumerate() {
        let seen = client.request(request, matches!(expected, Outcome::Dropped(_)));
        assert!(
            expected.matches(&seen),
            "{} ({}): request {i}: expected {expected:?}, saw {seen:?}",
            scenario.name,
            scenario.source
        );
    }
    drop(client);
    scenario.check_server(&server);
}

/// The smallest driver of `Connection`: one socket, blocking I/O, socket
/// timeouts for the connection's deadlines. No pool, no retries.
struct CoreClient {
    addr: SocketAddr,
    settings: Settings,
    conn: Option<(TcpStream, Connection)>,
}

impl CoreClient {
    fn config(&self) -> ConnectionConfig {
        let mut config = ConnectionConfig::default();
        config.response_head_timeout = self.settings.response_head_timeout;
        config.body_read_idle_timeout = self.settings.body_read_idle_timeout;
        if let Some(t) = self.settings.expect_continue_timeout {
            config.expect_continue_timeout = t;
        }
        if let Some((bytes, fields)) = self.settings.max_response_head {
            config.head_limits.max_head_bytes = bytes;
            config.head_limits.max_headers = fields;
        }
        config.drain_on_cancel = self.settings.drain_on_cancel;
        config
    }

    fn request(&mut self, req: &Req, drop_body: bool) -> Seen {
        std::thread::sleep(Duration::from_millis(req.delay));
        if !self.conn.as_ref().is_some_and(|(_, c)| c.is_reusable()) {
            let stream = match TcpStream::connect(self.addr) {
                Ok(stream) => stream,
                Err(_) => return Seen::Fails(Fail::Closed),
            };
            stream.set_nodelay(true).unwrap();
            stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
            self.conn = Some((stream, Connection::new(self.config())));
        }
        let (stream, conn) = self.conn.as_mut().unwrap();
        exchange(stream, conn, self.addr, req, self.settings.disable_keep_alives, drop_body)
    }
}

fn exchange(
    stream: &mut TcpStream,
    conn: &mut Connection,
    addr: SocketAddr,
    req: &Req,
    close: bool,
    drop_body: bool,
) -> Seen {
    let mut head = RequestHead::new(req.method.clone(), uri(&addr, req.path));
    for (name, value) in &req.headers {
        head.headers.append(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if close {
        head.headers.insert("connection", HeaderValue::from_static("close"));
    }
    let (length, mut pieces): (BodyLength, Vec<&'static [u8]>) = match &req.body {
        ReqBody::None => (BodyLength::Empty, Vec::new()),
        ReqBody::Bytes(b) => (BodyLength::Known(b.len() as u64), vec![*b]),
        ReqBody::Chunks(c) => (BodyLength::Unknown, c.clone()),
    };
    let id = match conn.send_request(&head, length) {
        Ok(id) => id,
        Err(_) => return Seen::Fails(Fail::Request),
    };
    let deadline = Instant::now() + SCENARIO_DEADLINE;
    let mut response: Option<(u16, Vec<u8>)> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        assert!(Instant::now() < deadline, "the core driver hung");
        let now = Instant::now();
        while let Some(mut tx) = conn.poll_transmit(now) {
            let mut slices = [IoSlice::new(&[]); 16];
            let n = tx.chunks_vectored(&mut slices);
            match stream.write_vectored(&slices[..n]) {
                Ok(written) => tx.advance(written),
                Err(e) => {
                    drop(tx);
                    conn.handle_io_error(now, roundtrip_core::conn::Direction::Write, e.kind());
                    break;
                }
            }
        }
        let mut progress = false;
        while let Some(event) = conn.poll_event() {
            progress = true;
            match event {
                Event::BodyAllowed { .. } => {
                    for piece in pieces.drain(..) {
                        let _ = conn.send_data(id, Bytes::from_static(piece));
                    }
                    let _ = conn.finish(id, None);
                }
                Event::RequestBodyRejected { .. } => pieces.clear(),
                Event::Response { head, .. } if drop_body => {
                    // Drop the body: cancel, and drain what the connection
                    // decided to drain so it can be reused.
                    conn.cancel(id);
                    drain(stream, conn, &mut buf);
                    return Seen::Dropped(head.status().as_u16());
                }
                Event::Response { head, .. } => response = Some((head.status().as_u16(), Vec::new())),
                Event::Failed { error, .. } => {
                    let fail = match error.kind {
                        ExchangeErrorKind::Protocol(_) => Fail::Protocol,
                        ExchangeErrorKind::Timeout(_) => Fail::Timeout,
                        ExchangeErrorKind::Usage(_) => Fail::Request,
                        _ => Fail::Closed,
                    };
                    return match response {
                        Some((status, _)) => Seen::BodyFails(status, fail),
                        None => Seen::Fails(fail),
                    };
                }
                _ => {}
            }
        }
        if let Some((status, body)) = response.as_mut() {
            loop {
                match conn.read_body(Instant::now(), id, usize::MAX) {
                    Ok(BodyChunk::Data(d) | BodyChunk::Last(d)) => body.extend_from_slice(&d),
                    Ok(BodyChunk::Trailers(_)) => {}
                    Ok(BodyChunk::End) => {
                        // Write what is left of the request (a body released by
                        // an early final response) so the connection can be reused.
                        while let Some(mut tx) = conn.poll_transmit(Instant::now()) {
                            let mut slices = [IoSlice::new(&[]); 16];
                            let n = tx.chunks_vectored(&mut slices);
                            match stream.write_vectored(&slices[..n]) {
                                Ok(written) => tx.advance(written),
                                Err(_) => break,
                            }
                        }
                        while conn.poll_event().is_some() {}
                        return Seen::Response(*status, std::mem::take(body));
                    }
                    Ok(BodyChunk::Pending) => break,
                    Err(_) => {
                        progress = true;
                        break;
                    }
                }
            }
        }
        if progress || conn.poll_transmit(Instant::now()).is_some() {
            continue;
        }
        if conn.is_closed() {
            return Seen::Fails(Fail::Closed);
        }
        // Block for the next read, at most until the connection's next deadline.
        let now = Instant::now();
        let wait = conn.poll_timeout().map_or(SCENARIO_DEADLINE, |d| d.saturating_duration_since(now));
        if wait.is_zero() {
            conn.handle_timeout(now);
            continue;
        }
        if !conn.wants_read() {
            std::thread::sleep(wait.min(Duration::from_millis(5)));
            conn.handle_timeout(Instant::now());
            continue;
        }
        stream.set_read_timeout(Some(wait)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof(Instant::now()),
            Ok(n) => conn.handle_read(Instant::now(), &buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                conn.handle_timeout(Instant::now())
            }
            Err(e) => conn.handle_io_error(Instant::now(), roundtrip_core::conn::Direction::Read, e.kind()),
        }
    }
}

/// Reads while a cancelled exchange drains, until the connection is reusable
/// or closed, within the drain time the engine allows (100 ms).
fn drain(stream: &mut TcpStream, conn: &mut Connection, buf: &mut [u8]) {
    let deadline = Instant::now() + Duration::from_millis(100);
    while !conn.is_reusable() && !conn.is_closed() && Instant::now() < deadline {
        stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        match stream.read(buf) {
            Ok(0) => conn.handle_eof(Instant::now()),
            Ok(n) => conn.handle_read(Instant::now(), &buf[..n]),
            Err(_) => conn.close(),
        }
    }
    if !conn.is_reusable() {
        conn.close();
    }
    while conn.poll_event().is_some() {}
}

/// A change to the client a run makes before building it.
pub(crate) type Customize<R> = Box<dyn FnOnce(ClientBuilder<R>) -> ClientBuilder<R>>;

/// A connector that sends every connection through [`crate::faults::FaultyIo`].
pub(crate) fn faulty<R: Runtime + Default>(seed: u64) -> Customize<R> {
    Box::new(move |builder| builder.connector(crate::faults::FaultyConnector::<R>::new(seed)))
}

/// The whole table through [`crate::faults::FaultyIo`] (short reads and
/// writes, spurious `Pending`, resets and EOF), three seeds each: every request
/// must end (within the scenario deadline) with a response or a typed error,
/// and nothing may panic. Outcomes are not compared: faults change them.
#[test]
fn every_scenario_survives_injected_faults() {
    // The whole table four times over: more time than one test gets.
    let limit = crate::watchdog::LIMIT * 5;
    crate::watchdog::run_for("every_scenario_survives_injected_faults", limit, || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (mut failures, mut baseline) = (0, 0);
        for scenario in crate::scenarios::all() {
            baseline += runtime.block_on(run_engine::<roundtrip_tokio::Tokio>(&scenario, None, None));
            for seed in 1..=3 {
                let started = Instant::now();
                failures += runtime.block_on(run_engine::<roundtrip_tokio::Tokio>(
                    &scenario,
                    None,
                    Some(faulty(seed)),
                ));
                assert!(
                    started.elapsed() < SCENARIO_DEADLINE * 2,
                    "{} hung under faults (seed {seed})",
                    scenario.name
                );
            }
        }
        // The faults are real: they turn some successes into typed errors.
        assert!(
            failures > baseline * 3,
            "faults changed nothing: {failures} failures vs {baseline} per seed"
        );
    });
}
