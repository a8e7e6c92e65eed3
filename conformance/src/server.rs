//! A scripted loopback HTTP/1.1 server on std threads, identical for every
//! runtime under test. Binds 127.0.0.1 port 0; one thread per accepted
//! connection runs the test's handler; it counts connections and records every
//! byte received, so a test can assert on both sides.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::failures::Failures;
use std::thread;
use std::time::Duration;

/// How long a server read may block before the test is considered hung.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request as the server received it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// The method.
    pub method: String,
    /// The request target.
    pub target: String,
    /// Fields in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Whether the body came chunked.
    pub chunked: bool,
}

impl ReceivedRequest {
    /// The first value of `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A server connection's byte stream: the socket, or TLS over it.
#[derive(Debug)]
pub enum Transport {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP, with rustls.
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(stream) => stream,
            Transport::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for Transport {
    /// For TLS, a close without `close_notify` reads as EOF here: the tests
    /// judge the client, not the way it closes.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(stream) => stream.read(buf),
            Transport::Tls(tls) => match tls.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(stream) => stream.write(buf),
            Transport::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(stream) => stream.flush(),
            Transport::Tls(tls) => tls.flush(),
        }
    }
}

/// One accepted connection, as the handler sees it.
#[derive(Debug)]
pub struct ServerConn {
    stream: Transport,
    /// Set by [`reset`](Self::reset): the connection ends without TLS's
    /// `close_notify`.
    aborted: bool,
    buf: Vec<u8>,
    /// Index of this connection among all accepted (0-based).
    pub index: usize,
    received: Arc<Mutex<Vec<u8>>>,
}

impl ServerConn {
    /// Reads until `n` more bytes are buffered or EOF; false at EOF.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        while self.buf.len() < n {
            let read = self.stream.read(&mut chunk)?;
            if read == 0 {
                return Ok(false);
            }
            self.received.lock().unwrap().extend_from_slice(&chunk[..read]);
            self.buf.extend_from_slice(&chunk[..read]);
        }
        Ok(true)
    }

    /// Reads one request head; `None` at a clean EOF before any byte.
    pub fn read_head(&mut self) -> io::Result<Option<ReceivedRequest>> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut parsed = httparse::Request::new(&mut headers);
                parsed
                    .parse(&self.buf[..end + 4])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let request = ReceivedRequest {
                    method: parsed.method.unwrap_or_default().to_owned(),
                    target: parsed.path.unwrap_or_default().to_owned(),
                    headers: parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                        .collect(),
                    body: Vec::new(),
                    chunked: false,
                };
                self.buf.drain(..end + 4);
                return Ok(Some(request));
            }
            let want = self.buf.len() + 1;
            if !self.fill(want)? {
                return if self.buf.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
            }
        }
    }

    /// Reads one whole request, its body framed by content-length or chunked.
    pub fn read_request(&mut self) -> io::Result<Option<ReceivedRequest>> {
        let Some(mut request) = self.read_head()? else { return Ok(None) };
        if request.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            request.chunked = true;
            request.body = self.read_chunked()?;
        } else if let Some(len) = request.header("content-length") {
            let len: usize = len.trim().parse().map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            request.body = self.read_exact_body(len)?;
        }
        Ok(Some(request))
    }

    /// Reads exactly `len` body bytes.
    pub fn read_exact_body(&mut self, len: usize) -> io::Result<Vec<u8>> {
        if !self.fill(len)? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(self.buf.drain(..len).collect())
    }

    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..end].to_vec();
                self.buf.drain(..end + 2);
                return Ok(line);
            }
            let want = self.buf.len() + 1;
            if !self.fill(want)? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line()?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok());
            let size = size.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            body.extend(self.read_exact_body(size)?);
            if !self.read_line()?.is_empty() {
                return Err(io::ErrorKind::InvalidData.into());
            }
        }
    }

    /// Writes `bytes` at once.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Writes `bytes` in pieces of `chunk` bytes with `delay` between them.
    pub fn write_slowly(&mut self, bytes: &[u8], chunk: usize, delay: Duration) -> io::Result<()> {
        for piece in bytes.chunks(chunk.max(1)) {
            self.stream.write_all(piece)?;
            self.stream.flush()?;
            thread::sleep(delay);
        }
        Ok(())
    }

    /// Writes a `200 OK` with `body` and a content-length.
    pub fn respond(&mut self, body: &[u8]) -> io::Result<()> {
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
        self.write(&[head.as_bytes(), body].concat())
    }

    /// Half-closes: no more bytes from the server (over TLS, `close_notify`
    /// first).
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.close_notify()?;
        self.stream.tcp().shutdown(Shutdown::Write)
    }

    /// Ends the connection, when the handler returns, with a bare FIN: over
    /// TLS without `close_notify`, as a truncating attacker would.
    pub fn close_without_notify(&mut self) {
        self.aborted = true;
    }

    /// Over TLS, says the data ended (`close_notify`); nothing over TCP.
    pub fn close_notify(&mut self) -> io::Result<()> {
        if let Transport::Tls(tls) = &mut self.stream {
            tls.conn.send_close_notify();
            tls.flush()?;
        }
        Ok(())
    }

    /// Waits until the client closes the connection; true if it did, false if
    /// it sent more bytes first.
    pub fn expect_eof(&mut self) -> io::Result<bool> {
        if !self.buf.is_empty() {
            return Ok(false);
        }
        let mut byte = [0u8; 1];
        Ok(self.stream.read(&mut byte)? == 0)
    }

    /// Arms a TCP reset: with SO_LINGER 0, closing the connection (when the
    /// handler returns) sends RST instead of FIN.
    pub fn reset(&mut self) -> io::Result<()> {
        self.aborted = true;
        socket2::SockRef::from(self.stream.tcp()).set_linger(Some(Duration::ZERO))
    }

    /// Reads and drops everything until the client closes.
    pub fn discard_until_eof(&mut self) -> io::Result<()> {
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        while self.stream.read(&mut chunk)? > 0 {}
        Ok(())
    }

    /// Acts as the far end of a proxy's tunnel: connects to `to`, sends it
    /// what the client sent past the last head read, then copies bytes both
    /// ways until either side closes. One thread, polling both sides with
    /// short read timeouts, so the same code relays over TCP and TLS; gives
    /// up after `READ_TIMEOUT` (10 s) without traffic.
    pub fn relay(&mut self, to: SocketAddr) -> io::Result<()> {
        const POLL: Duration = Duration::from_millis(2);
        let mut upstream = TcpStream::connect(to)?;
        upstream.set_nodelay(true)?;
        upstream.write_all(&std::mem::take(&mut self.buf))?;
        upstream.set_read_timeout(Some(POLL))?;
        self.stream.tcp().set_read_timeout(Some(POLL))?;
        let mut chunk = [0u8; 16 * 1024];
        let mut quiet = Duration::ZERO;
        let would_block =
            |e: &io::Error| matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut);
        let outcome = loop {
            if quiet > READ_TIMEOUT {
                break Ok(());
            }
            let mut moved = false;
            match self.stream.read(&mut chunk) {
                Ok(0) => break upstream.shutdown(Shutdown::Write),
                Ok(n) => {
                    upstream.write_all(&chunk[..n])?;
                    moved = true;
                }
                Err(e) if would_block(&e) => {}
                Err(e) => break Err(e),
            }
            match upstream.read(&mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    self.write(&chunk[..n])?;
                    moved = true;
                }
                Err(e) if would_block(&e) => {}
                Err(e) => break Err(e),
            }
            quiet = if moved { Duration::ZERO } else { quiet + 2 * POLL };
        };
        self.stream.tcp().set_read_timeout(Some(READ_TIMEOUT))?;
        outcome
    }

    /// The byte stream, for steps this type does not name.
    pub fn stream(&mut self) -> &mut Transport {
        &mut self.stream
    }
}

impl Drop for ServerConn {
    /// A connection that ends as scripted ends, over TLS, with `close_notify`,
    /// as its TCP twin ends with FIN; a reset does not.
    fn drop(&mut self) {
        if !self.aborted {
            let _ = self.close_notify();
        }
    }
}

/// A running server; stops accepting when dropped.
///
/// A handler that panics (a failed assertion) or returns an error fails the
/// test that owns the server: [`check`](Self::check) raises it, and so does
/// dropping the server. An error that only says the client went away (reset,
/// broken pipe, EOF mid-read) is not a failure: tests cancel on purpose.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    accepted: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    failures: Failures,
}

impl Server {
    /// Starts a server that runs `handler` on every accepted connection.
    pub fn start<F>(handler: F) -> Server
    where
        F: Fn(&mut ServerConn) -> io::Result<()> + Send + Sync + 'static,
    {
        Self::start_with(None, handler)
    }

    /// [`start`](Self::start) over TLS with `config` (see
    /// [`Pki::server_config`](crate::tls::Pki::server_config)); the handler
    /// sees plaintext, and [`url`](Self::url) says `https`.
    pub fn start_tls<F>(config: Arc<rustls::ServerConfig>, handler: F) -> Server
    where
        F: Fn(&mut ServerConn) -> io::Result<()> + Send + Sync + 'static,
    {
        Self::start_with(Some(config), handler)
    }

    fn start_with<F>(tls: Option<Arc<rustls::ServerConfig>>, handler: F) -> Server
    where
        F: Fn(&mut ServerConn) -> io::Result<()> + Send + Sync + 'static,
    {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let failures = Failures::default();
        let (a, r, s, f) = (accepted.clone(), received.clone(), stop.clone(), failures.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                let _ = stream.set_nodelay(true);
                let index = a.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                let received = r.clone();
                let failures = f.clone();
                let tls = tls.clone();
                thread::spawn(move || {
                    let stream = match tls {
                        None => Transport::Plain(stream),
                        Some(config) => {
                            let Ok(session) = rustls::ServerConnection::new(config) else { return };
                            Transport::Tls(Box::new(rustls::StreamOwned::new(session, stream)))
                        }
                    };
                    let mut conn = ServerConn { stream, aborted: false, buf: Vec::new(), index, received };
                    failures.run(&format!("connection {index}"), || handler(&mut conn));
                });
            }
        });
        Server { addr, scheme, accepted, received, stop, failures }
    }

    /// A keep-alive server answering every request with `200 OK` and `body`.
    pub fn ok(body: &'static [u8]) -> Server {
        Server::start(move |conn| {
            while conn.read_request()?.is_some() {
                conn.respond(body)?;
            }
            Ok(())
        })
    }

    /// `http://127.0.0.1:port` + `path` (`https` over TLS).
    pub fn url(&self, path: &str) -> http::Uri {
        self.url_at(&self.addr.ip().to_string(), path)
    }

    /// The URL of `path` with `host` for the host (a name the TLS
    /// certificate may or may not cover).
    pub fn url_at(&self, host: &str, path: &str) -> http::Uri {
        format!("{}://{host}:{}{path}", self.scheme, self.addr.port()).parse().expect("valid URI")
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Every byte received, on all connections, in arrival order.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }

    /// Panics with every handler failure so far.
    pub fn check(&self) {
        self.failures.check("scripted server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblock the accept loop.
        let _ = TcpStream::connect(self.addr);
        if !thread::panicking() {
            self.check();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpStream;

    use super::Server;

    /// Connects, sends `request`, closes its side, and waits for the server to close.
    fn exchange(server: &Server, request: &[u8]) {
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        std::io::Write::write_all(&mut stream, request).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let _ = stream.read_to_end(&mut Vec::new());
    }

    #[test]
    #[should_panic(expected = "the handler's own assertion")]
    fn a_handler_assertion_fails_the_test_that_owns_the_server() {
        let server = Server::start(|conn| {
            let request = conn.read_request()?.unwrap();
            assert_eq!(request.method, "PUT", "the handler's own assertion");
            Ok(())
        });
        exchange(&server, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    }

    #[test]
    #[should_panic(expected = "handler failed")]
    fn a_handler_error_fails_the_test_that_owns_the_server() {
        let server = Server::start(|conn| conn.read_request().map(drop));
        exchange(&server, b"GET / HTTP/1.1\r\nhost: x\r\ncontent-length: x\r\n\r\n");
    }

    #[test]
    fn a_client_that_leaves_is_not_a_failure() {
        let server = Server::start(|conn| conn.read_request().map(drop));
        exchange(&server, b"GET / HTTP/1.1\r\nho");
    }
}
