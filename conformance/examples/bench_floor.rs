//! The floor of the comparison: a minimal async HTTP/1.1 client. Each of C
//! tasks owns one connection and drives it inline: one write and one read per
//! exchange, httparse for the head, no pool, no per-connection task, no
//! channels (docs/bench.md, the async floor). `--runtime tokio` (default) runs on
//! Tokio's current-thread runtime; `--runtime smol` on one thread too, an
//! executor run by smol's `block_on`, as the `load` tool does, because
//! docs/bench.md judges the smol adapter against the smol floor. The floor does no TLS: an `https`
//! URL (or `--cacert`) panics, and bench/compare.py --tls runs no floor.

#[path = "common/args.rs"]
mod args;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The two calls the floor makes on a socket, for either runtime.
trait Wire: Sized + Send + 'static {
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send;
    fn send(&mut self, bytes: &[u8]) -> impl Future<Output = io::Result<()>> + Send;
    fn recv(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>> + Send;
}

impl Wire for tokio::net::TcpStream {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(self, bytes).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        tokio::io::AsyncReadExt::read(self, buf).await
    }
}

impl Wire for smol::net::TcpStream {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = smol::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        smol::io::AsyncWriteExt::write_all(self, bytes).await
    }
    async fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        smol::io::AsyncReadExt::read(self, buf).await
    }
}

/// What every worker shares.
struct Job {
    addr: SocketAddr,
    request: Vec<u8>,
    remaining: AtomicU64,
    close: bool,
}

fn main() {
    let args = args::BenchArgs::parse();
    let uri: http::Uri = args.url.parse().expect("url");
    assert!(
        uri.scheme_str() == Some("http") && args.cacert.is_none(),
        "the floor speaks plain HTTP only, not TLS: give it an http:// URL and no --cacert (got {})",
        args.url
    );
    let addr: SocketAddr =
        format!("{}:{}", uri.host().expect("host"), uri.port_u16().unwrap_or(80)).parse().expect("ip:port");
    let mut request = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\n",
        args.method,
        uri.path_and_query().map_or("/", |p| p.as_str()),
        uri.authority().expect("authority")
    );
    if args.body_bytes > 0 || args.method == "POST" {
        request.push_str(&format!("content-length: {}\r\n", args.body_bytes));
    }
    if args.close {
        request.push_str("connection: close\r\n");
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend(std::iter::repeat_n(b'x', args.body_bytes));
    let job = Arc::new(Job { addr, request, remaining: AtomicU64::new(args.requests), close: args.close });
    let started = Instant::now();
    let (errors, bytes) = match args.runtime.as_str() {
        "tokio" => {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
            runtime.block_on(async {
                let workers: Vec<_> = (0..args.connections)
                    .map(|_| tokio::spawn(worker::<tokio::net::TcpStream>(job.clone())))
                    .collect();
                args::sum(workers.into_iter().map(|w| async { w.await.expect("worker") })).await
            })
        }
        "smol" => {
            // One thread, as Tokio's current-thread runtime: the executor is
            // run by `block_on`, which also drives the reactor while the
            // tasks wait. smol's global executor would run them on a thread of
            // its own, and every wake-up would cross threads.
            let executor = smol::LocalExecutor::new();
            smol::block_on(executor.run(async {
                let workers: Vec<_> = (0..args.connections)
                    .map(|_| executor.spawn(worker::<smol::net::TcpStream>(job.clone())))
                    .collect();
                args::sum(workers).await
            }))
        }
        other => panic!("unknown runtime {other}: tokio or smol"),
    };
    args::BenchArgs::report("floor", args.requests, errors, started.elapsed(), bytes);
}

/// Requests on one connection until the shared count runs out; (errors, bytes).
async fn worker<S: Wire>(job: Arc<Job>) -> (u64, u64) {
    let (mut errors, mut bytes) = (0u64, 0u64);
    let mut buf = vec![0u8; 64 * 1024];
    let mut stream: Option<S> = None;
    while job.remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
        if stream.is_none() {
            stream = Some(S::connect(job.addr).await.expect("connect"));
        }
        let s = stream.as_mut().expect("connected");
        match exchange(s, &job.request, &mut buf).await {
            Some(n) => bytes += n,
            None => {
                errors += 1;
                stream = None;
            }
        }
        if job.close {
            stream = None;
        }
    }
    (errors, bytes)
}

/// One request and its response; the body length, or `None` on any failure.
async fn exchange<S: Wire>(stream: &mut S, request: &[u8], buf: &mut [u8]) -> Option<u64> {
    stream.send(request).await.ok()?;
    let mut filled = 0;
    let (head, length) = loop {
        let n = stream.recv(&mut buf[filled..]).await.ok()?;
        if n == 0 {
            return None;
        }
        filled += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = response.parse(&buf[..filled]).ok()? {
            let length = response.headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-length"))?;
            break (head, std::str::from_utf8(length.value).ok()?.trim().parse::<usize>().ok()?);
        }
    };
    let mut body = filled - head;
    while body < length {
        let n = stream.recv(&mut buf[..]).await.ok()?;
        if n == 0 {
            return None;
        }
        body += n;
    }
    Some(length as u64)
}
