//! Chaos over real sockets: many requests through an adapter against a
//! loopback server that closes idle connections and resets at random, with
//! random cancellation; afterwards, everything the client used is given back.
//! `tests/chaos.rs` runs it on every runtime and checks descriptors, tasks and
//! heap against their baseline.
//!
//! [`CountingRuntime`] wraps an adapter's runtime and counts the tasks the
//! engine has alive, so "no task left" is checked the same way on every runtime.

use std::future::{Future, poll_fn};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use roundtrip_core::client::{Client, ClientBuilder, Io, Runtime};

use crate::sync::{Rng, join_all};

/// A runtime that counts the tasks spawned on it that are still alive
/// (running, or waiting to be dropped by the runtime).
#[derive(Clone, Debug)]
pub struct CountingRuntime<R> {
    inner: R,
    live: Arc<AtomicUsize>,
}

impl<R: Runtime> CountingRuntime<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, live: Arc::new(AtomicUsize::new(0)) }
    }

    /// Tasks spawned and not yet finished or dropped.
    pub fn live_tasks(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

/// Counts one live task until dropped.
struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<R: Runtime> Runtime for CountingRuntime<R> {
    type Sleep = R::Sleep;

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.live.fetch_add(1, Ordering::SeqCst);
        let alive = Alive(self.live.clone());
        self.inner.spawn(async move {
            let _alive = alive;
            future.await
        });
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn sleep_until(&self, deadline: Instant) -> Self::Sleep {
        self.inner.sleep_until(deadline)
    }

    fn resolve(&self, host: String, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        self.inner.resolve(host, port)
    }

    fn connect_tcp(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Box<dyn Io>>> + Send {
        self.inner.connect_tcp(addr)
    }

    fn connect_unix(&self, path: PathBuf) -> impl Future<Output = io::Result<Box<dyn Io>>> + Send {
        self.inner.connect_unix(path)
    }
}

/// Per mille odds of each server fault, per exchange.
const RESET_BEFORE_ANSWER: u64 = 10;
const RESET_MID_BODY: u64 = 10;
const CLOSE_AFTER_ANSWER: u64 = 20;
/// A connection left idle longer than this is closed by the server, when the
/// exchange drew the short idle limit (odds below): the stale-connection race.
const SHORT_IDLE: Duration = Duration::from_millis(2);
const SHORT_IDLE_ODDS: u64 = 50;

/// The chaos server: keep-alive HTTP/1.1 on 127.0.0.1, one thread per
/// connection, faults as the odds above say.
#[derive(Debug)]
pub struct ChaosServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Connections whose thread is still running.
    open: Arc<AtomicUsize>,
    accepted: Arc<AtomicU64>,
}

impl ChaosServer {
    pub fn start(seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let (s, o, a) = (stop.clone(), open.clone(), accepted.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let n = a.fetch_add(1, Ordering::SeqCst);
                o.fetch_add(1, Ordering::SeqCst);
                let open = o.clone();
                thread::spawn(move || {
                    let _ = serve(stream, Rng::new(seed.wrapping_mul(0x9E37_79B9).wrapping_add(n)));
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { addr, stop, open, accepted }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections the server still has open.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for ChaosServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

fn serve(stream: TcpStream, mut rng: Rng) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        let idle = if rng.below(1000) < SHORT_IDLE_ODDS { SHORT_IDLE } else { Duration::from_secs(30) };
        reader.get_ref().set_read_timeout(Some(idle))?;
        // The request head: its content-length is all the server needs.
        let mut length = 0usize;
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if first {
                reader.get_ref().set_read_timeout(Some(Duration::from_secs(30)))?;
                first = false;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            }
        }
        io::copy(&mut (&mut reader).take(length as u64), &mut io::sink())?;
        let roll = rng.below(1000);
        if roll < RESET_BEFORE_ANSWER {
            reset(writer);
            return Ok(());
        }
        let body_len = [0, 100, 4000, 70_000][rng.below(4) as usize];
        let close = (RESET_BEFORE_ANSWER..RESET_BEFORE_ANSWER + CLOSE_AFTER_ANSWER).contains(&roll);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {body_len}\r\n{}\r\n",
            if close { "connection: close\r\n" } else { "" }
        );
        let body = vec![b'c'; body_len];
        if (RESET_BEFORE_ANSWER + CLOSE_AFTER_ANSWER
            ..RESET_BEFORE_ANSWER + CLOSE_AFTER_ANSWER + RESET_MID_BODY)
            .contains(&roll)
        {
            writer.write_all(head.as_bytes())?;
            writer.write_all(&body[..body_len / 2])?;
            reset(writer);
            return Ok(());
        }
        writer.write_all(&[head.as_bytes(), &body].concat())?;
        if close {
            return Ok(());
        }
    }
}

/// What a chaos run did.
#[derive(Debug, Default)]
pub struct Tally {
    pub responses: u64,
    pub errors: u64,
    pub canceled: u64,
}

/// Sends `requests` requests from `workers` concurrent loops, 10 % of them
/// cancelled after a random number of polls, each body read whole.
pub async fn run<R: Runtime>(
    client: &Client<R>,
    server: &ChaosServer,
    requests: u64,
    workers: u64,
    seed: u64,
) -> Tally {
    let next = Arc::new(AtomicU64::new(0));
    let loops = (0..workers).map(|worker| {
        let next = next.clone();
        let client = client.clone();
        let url = server.url("/chaos");
        async move {
            let mut rng = Rng::new(seed ^ (worker + 1).wrapping_mul(0x2545_F491));
            let mut tally = Tally::default();
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let post = rng.below(10) == 0;
                let cancel_after = (rng.below(10) == 0).then(|| 1 + rng.below(20));
                let exchange = async {
                    let response = if post {
                        client.post(&url).body(vec![b'p'; 2000]).send().await?
                    } else {
                        client.get(&url).send().await?
                    };
                    response.into_body().bytes(1 << 20).await.map(drop)
                };
                let mut exchange = pin!(exchange);
                let mut polls = 0;
                let outcome = poll_fn(|cx| {
                    polls += 1;
                    if cancel_after.is_some_and(|limit| polls > limit) {
                        return Poll::Ready(None);
                    }
                    exchange.as_mut().poll(cx).map(Some)
                })
                .await;
                match outcome {
                    Some(Ok(())) => tally.responses += 1,
                    Some(Err(_)) => tally.errors += 1,
                    None => tally.canceled += 1,
                }
            }
            tally
        }
    });
    let tallies = join_all(loops.collect()).await;
    tallies.into_iter().fold(Tally::default(), |sum, t| Tally {
        responses: sum.responses + t.responses,
        errors: sum.errors + t.errors,
        canceled: sum.canceled + t.canceled,
    })
}

/// The client a chaos run uses: few connections per host, so requests wait
/// and connections are handed between them.
pub fn client<R: Runtime>(runtime: R) -> Client<R> {
    ClientBuilder::with_runtime(runtime).max_conns_per_host(Some(8)).max_idle_per_host(8).build()
}
