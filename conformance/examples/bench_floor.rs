//! The floor of the comparison: a minimal async HTTP/1.1 client on Tokio's
//! current-thread runtime. Each of C tasks owns one connection and drives it
//! inline: one write and one read per exchange, httparse for the head, no
//! pool, no per-connection task, no channels (BENCH.md, "the async floor").

#[path = "common/args.rs"]
mod args;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() {
    let args = args::BenchArgs::parse();
    let uri: http::Uri = args.url.parse().expect("url");
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
    let request = Arc::new(request);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let remaining = Arc::new(AtomicU64::new(args.requests));
        let started = Instant::now();
        let workers: Vec<_> = (0..args.connections)
            .map(|_| {
                let (request, remaining, close) = (request.clone(), remaining.clone(), args.close);
                tokio::spawn(async move {
                    let (mut errors, mut bytes) = (0u64, 0u64);
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut stream: Option<TcpStream> = None;
                    while remaining
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        if stream.is_none() {
                            let s = TcpStream::connect(addr).await.expect("connect");
                            s.set_nodelay(true).expect("nodelay");
                            stream = Some(s);
                        }
                        let s = stream.as_mut().expect("connected");
                        match exchange(s, &request, &mut buf).await {
                            Some(n) => bytes += n,
                            None => {
                                errors += 1;
                                stream = None;
                            }
                        }
                        if close {
                            stream = None;
                        }
                    }
                    (errors, bytes)
                })
            })
            .collect();
        let (errors, bytes) = args::sum(workers).await;
        args::BenchArgs::report("floor", args.requests, errors, started.elapsed(), bytes);
    });
}

/// One request and its response; the body length, or `None` on any failure.
async fn exchange(stream: &mut TcpStream, request: &[u8], buf: &mut [u8]) -> Option<u64> {
    stream.write_all(request).await.ok()?;
    let mut filled = 0;
    let (head, length) = loop {
        let n = stream.read(&mut buf[filled..]).await.ok()?;
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
        let n = stream.read(&mut buf[..]).await.ok()?;
        if n == 0 {
            return None;
        }
        body += n;
    }
    Some(length as u64)
}
