//! RELIABILITY.md R15, throughput under attack: how much of a good server's
//! throughput one client keeps while one of its connections is under attack.
//!
//!     cargo run --release -p roundtrip-conformance --example under_attack [SECONDS] [ROUNDS]
//!
//! Eight loops send keep-alive GETs to a good loopback server for SECONDS (2)
//! and count the responses. For each kind of attack, each round runs that
//! alone, then again while one more loop keeps one request open to an
//! attacking server:
//! - an endless head of fields;
//! - a flood of `103` heads;
//! - an endless chunk extension;
//! - a head trickled one byte at a time.
//!
//! Each attacker sends 1 KiB per millisecond (the trickle, one byte). A
//! request ends when a limit stops it (or its 2 s head timeout). Its loop
//! then waits 10 ms and sends the next.
//!
//! It prints the ratio of each round (attacked over alone), the median per
//! attack, and, last, a JSON object with the lowest median.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Reads request heads and answers each with a small body, keep-alive.
fn good_server() -> SocketAddr {
    serve(|mut reader, mut writer| {
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n"
            .iter()
            .copied()
            .chain([b'g'; 100])
            .collect::<Vec<_>>();
        while read_head(&mut reader) {
            if writer.write_all(&answer).is_err() {
                return;
            }
        }
    })
}

/// An attacking server: after each request head, `start` then `repeat`
/// forever, one piece per millisecond, until the client goes away.
fn attacker(start: &'static [u8], repeat: &'static [u8]) -> SocketAddr {
    serve(move |mut reader, mut writer| {
        if !read_head(&mut reader) || writer.write_all(start).is_err() {
            return;
        }
        while writer.write_all(repeat).is_ok() {
            thread::sleep(Duration::from_millis(1));
        }
    })
}

fn read_head(reader: &mut BufReader<TcpStream>) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == "\r\n" => return true,
            Ok(_) => {}
        }
    }
}

fn serve(handler: impl Fn(BufReader<TcpStream>, TcpStream) + Send + Sync + Copy + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_nodelay(true);
            let Ok(reader) = stream.try_clone() else { continue };
            thread::spawn(move || handler(BufReader::new(reader), stream));
        }
    });
    addr
}

const FIELD_LINE: &[u8] = b"x-attack: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(2, |s| s.parse().expect("SECONDS"));
    let rounds: usize = args.next().map_or(5, |s| s.parse().expect("ROUNDS"));
    let good = good_server();
    let kilo_of = |piece: &'static [u8]| -> &'static [u8] { piece.repeat(1024 / piece.len()).leak() };
    let attackers = [
        ("endless head", attacker(b"HTTP/1.1 200 OK\r\n", kilo_of(FIELD_LINE))),
        (
            "1xx flood",
            attacker(b"", kilo_of(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n")),
        ),
        (
            "endless chunk extension",
            attacker(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;", kilo_of(b"aaaaaaaa")),
        ),
        ("trickled head", attacker(b"HTTP/1.1 200 OK\r\n", b"x")),
    ];
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let client =
        roundtrip_tokio::Client::builder().response_head_timeout(Some(Duration::from_secs(2))).build();
    let mut worst = f64::INFINITY;
    let mut stopped = 0;
    for attack in attackers {
        let mut ratios = Vec::new();
        for round in 0..rounds {
            let failed = Arc::new(AtomicU64::new(0));
            let alone = runtime.block_on(good_load(&client, good, seconds, None, &failed));
            let attacked = runtime.block_on(good_load(&client, good, seconds, Some(attack.1), &failed));
            let ratio = attacked as f64 / alone as f64;
            stopped += failed.load(Ordering::Relaxed);
            println!(
                "{} round {round}: {alone} responses alone, {attacked} under attack: {ratio:.3}",
                attack.0
            );
            ratios.push(ratio);
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        println!("{}: median {median:.3}", attack.0);
        worst = worst.min(median);
    }
    println!(
        "{{\"figure\":\"R15\",\"lowest_median_ratio\":{worst:.3},\"rounds\":{rounds},\"seconds\":{seconds},\"attacks_stopped\":{stopped}}}"
    );
}

/// Responses the good loops got in `seconds`, with `attackers` attacking
/// meanwhile (each attacking request that ends counts in `failed`).
async fn good_load(
    client: &roundtrip_tokio::Client,
    good: SocketAddr,
    seconds: u64,
    attacker: Option<SocketAddr>,
    failed: &Arc<AtomicU64>,
) -> u64 {
    let attacks: Vec<_> = attacker
        .iter()
        .map(|addr| {
            let client = client.clone();
            let url = format!("http://{addr}/");
            let failed = failed.clone();
            tokio::spawn(async move {
                loop {
                    let outcome = async { client.get(&url).send().await?.into_body().bytes(1 << 20).await };
                    assert!(outcome.await.is_err(), "an attack got through as a response");
                    failed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    let done = Instant::now() + Duration::from_secs(seconds);
    let good_url = format!("http://{good}/");
    let loops = (0..8).map(|_| {
        let client = client.clone();
        let url = good_url.clone();
        async move {
            let mut count = 0u64;
            while Instant::now() < done {
                let response = client.get(&url).send().await.expect("the good server answers");
                response.into_body().bytes(1024).await.expect("its body");
                count += 1;
            }
            count
        }
    });
    let total = roundtrip_conformance::sync::join_all(loops.collect()).await.into_iter().sum();
    attacks.iter().for_each(tokio::task::JoinHandle::abort);
    total
}
