//! Deterministic simulation of the client engine: the whole engine (pool,
//! dials, connections, timers, retries, cancellation) on a simulated runtime
//! with a virtual clock, in-memory sockets and misbehaving servers, with
//! every choice drawn from one seed.
//!
//! A seed decides the client's configuration, when each request starts and
//! whether it is cancelled, the order tasks run in and wake-ups arrive, how
//! reads and writes are cut, which connects fail or hang, what each server
//! does wrong, which spawned tasks the runtime drops, and whether the runtime
//! shuts down partway. The same seed replays the same run, step for step.
//!
//! Checked after every step, and failing the run at once:
//! - the pool's own invariants (`Client::check_pool_invariants`), after every
//!   step that ran client code (the others cannot change the pool);
//! - no host has more connections open than `max_conns_per_host`;
//! - no server saw a request on a connection it had made unfit for reuse, or
//!   bytes that are not a well-formed request (its own rules, independent of
//!   the engine's reuse decision: see `server.rs`).
//!
//! Checked as each request ends: it ends once, with its own response (its
//! id, its body whole and right) or an error, no later than its deadline
//! (30 % of the seeds have none, so a lost wake-up is a request that never
//! ends rather than a timeout error). A request whose body was delimited by
//! a TLS connection's close with no `close_notify` may not end with a
//! response (hosts are https with odds of 1 in 6; `tls.rs`). And at the
//! end, after `close_idle()` (or the runtime's shutdown): no connection, task
//! or waiter is left, and every request has ended.
//!
//! A lock taken twice deadlocks the run's only thread; the watchdog reports it.
//!
//! The fuzz target `engine` builds this module into the fuzz crate by path (the
//! fuzz crate stays out of the workspace, away from this crate's TLS test
//! dependencies), so it uses nothing of the crate outside `sim`.
//! docs/reliability.md says how to run many seeds and replay one.

mod executor;
mod net;
mod rng;
mod server;
#[cfg(not(fuzzing))]
mod tls;

use std::fmt;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use roundtrip_core::client::{Client, ClientBuilder, Runtime};

use executor::{Chaos, Kind, SimRuntime, sleep};
use net::{HOSTS, Network};
use rng::Rng;

/// A streamed request body: its pieces one frame at a time, length unknown.
#[derive(Debug)]
struct Pieces(Vec<Bytes>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        let next = (!self.0.is_empty()).then(|| self.0.remove(0));
        Poll::Ready(next.map(|data| Ok(http_body::Frame::data(data))))
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Its own response, body whole.
    Response,
    /// A typed error.
    Error,
    /// The caller dropped it.
    Canceled,
}

/// What one seed's run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub seed: u64,
    pub requests: usize,
    pub responses: usize,
    pub errors: usize,
    pub canceled: usize,
    /// Requests the runtime's shutdown dropped.
    pub shut_down: usize,
    pub connections: u64,
    /// Of which over TLS.
    pub tls_connections: u64,
    /// Close-delimited bodies cut without `close_notify`, none taken as whole.
    pub truncated: usize,
    pub steps: u64,
    pub virtual_time: Duration,
    /// A digest of every request's outcome and end time, to prove a replay.
    pub digest: u64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}: {} requests, {} responses, {} errors, {} canceled, {} dropped at shutdown; {} connections ({} TLS, {} bodies cut without close_notify), {} steps, {:?} virtual",
            self.seed,
            self.requests,
            self.responses,
            self.errors,
            self.canceled,
            self.shut_down,
            self.connections,
            self.tls_connections,
            self.truncated,
            self.steps,
            self.virtual_time
        )
    }
}

/// The most scheduler steps one run may take per request before it counts as a livelock.
const STEPS_PER_REQUEST: u64 = 20_000;

struct Ended {
    outcome: Outcome,
    at: Duration,
}

/// Runs seed `seed` with `requests` requests; panics on the first broken rule.
pub fn run(seed: u64, requests: usize) -> Report {
    run_with(Rng::new(seed ^ 0x5EED_5EED_5EED), seed, requests)
}

/// Runs the simulation with every choice drawn from `data` (zeros once it
/// runs out), for a fuzzer: the first byte sets the number of requests (1-8).
pub fn run_bytes(data: &[u8]) -> Report {
    let requests = 1 + usize::from(data.first().copied().unwrap_or(0) % 8);
    let rng = Rng::Bytes { data: data.get(1..).unwrap_or_default().to_vec(), at: 0 };
    run_with(rng, 0, requests)
}

/// One request's draw.
struct Plan {
    start: Duration,
    cancel: Option<Duration>,
    kind: u64,
    host: u64,
    size: usize,
    expect_continue: bool,
}

fn run_with(mut rng: Rng, seed: u64, requests: usize) -> Report {
    let per_mille = |rng: &mut Rng, max: u64| if rng.below(2) == 0 { 0 } else { rng.below(max + 1) };
    let chaos = Chaos {
        drop_on_spawn: per_mille(&mut rng, 30),
        drop_running: per_mille(&mut rng, 5),
        spurious_wake: per_mille(&mut rng, 50),
    };
    let max_per_host = 1 + rng.below(4) as usize;
    // Some seeds have no total timeout, so a lost wake-up is a request that
    // never ends, not a timeout error: their servers never stall and their
    // connects never hang, so every request must end on its own.
    let unbounded = rng.below(100) < 30;
    let network = Network {
        max_per_host,
        refuse: per_mille(&mut rng, 50),
        hang: if unbounded { 0 } else { per_mille(&mut rng, 10) },
        stalls: !unbounded,
        spurious_pending: per_mille(&mut rng, 100),
        ..Network::default()
    };
    let millis = |rng: &mut Rng, max: u64| Duration::from_millis(1 + rng.below(max));
    let maybe = |rng: &mut Rng, odds: u64, max: u64| {
        let value = millis(rng, max);
        (rng.below(100) < odds).then_some(value)
    };
    let total_timeout = Duration::from_millis(500) + millis(&mut rng, 10_000);
    let total_timeout = (!unbounded).then_some(total_timeout);
    let max_idle_per_host = rng.below(5) as usize;
    let max_idle = rng.below(10) as usize;
    let connect_timeout = millis(&mut rng, 2_000);
    let max_retries = rng.below(4) as u32;
    let idle_timeout = maybe(&mut rng, 70, 3_000);
    let pool_wait_timeout = maybe(&mut rng, 30, 3_000);
    let response_head_timeout = maybe(&mut rng, 30, 3_000);
    let body_read_idle_timeout = maybe(&mut rng, 30, 3_000);
    // Unbounded seeds always time the wait for 100 Continue: a server that
    // sends none waits for the body, and the client would wait forever.
    let expect_continue_timeout = maybe(&mut rng, if unbounded { 100 } else { 70 }, 500);
    let drain_on_cancel = (rng.below(100) < 30).then(|| rng.below(100_000));
    let max_requests_per_conn = (rng.below(100) < 20).then(|| 1 + rng.below(5));
    let max_conn_lifetime = maybe(&mut rng, 20, 2_000);
    let shutdown_at = maybe(&mut rng, 15, 3_000);
    // Each host is https with odds of 1 in 6 (never in the fuzz target,
    // which has no rustls).
    let https: [bool; HOSTS] = std::array::from_fn(|_| rng.below(6) == 0 && !cfg!(fuzzing));
    let plans: Vec<Plan> = (0..requests)
        .map(|_| Plan {
            start: Duration::from_micros(rng.below(2_000_000)),
            cancel: (rng.below(100) < 10).then(|| Duration::from_micros(rng.below(3_000_000))),
            kind: rng.below(100),
            host: rng.below(HOSTS as u64),
            size: [0, 10, 3_000, 100_000][rng.below(4) as usize],
            expect_continue: rng.below(100) < 30,
        })
        .collect();

    let runtime = SimRuntime::new(rng.split(), chaos, network);
    #[allow(unused_mut)]
    let mut builder = ClientBuilder::with_runtime(runtime.clone());
    #[cfg(not(fuzzing))]
    if https.contains(&true) {
        builder = builder.tls_config(tls::client_config());
    }
    let client = builder
        .max_conns_per_host(Some(max_per_host))
        .max_idle_per_host(max_idle_per_host)
        .max_idle(max_idle)
        .connect_timeout(Some(connect_timeout))
        .total_timeout(total_timeout)
        .max_retries(max_retries)
        .idle_timeout(idle_timeout)
        .pool_wait_timeout(pool_wait_timeout)
        .response_head_timeout(response_head_timeout)
        .body_read_idle_timeout(body_read_idle_timeout)
        .expect_continue_timeout(expect_continue_timeout)
        .drain_on_cancel(drain_on_cancel)
        .max_requests_per_conn(max_requests_per_conn)
        .max_conn_lifetime(max_conn_lifetime)
        .build();

    let ended: Arc<Mutex<Vec<Option<Ended>>>> = Arc::new(Mutex::new((0..requests).map(|_| None).collect()));
    for (id, plan) in plans.into_iter().enumerate() {
        let start = plan.start;
        let scheme = if https[plan.host as usize] { "https" } else { "http" };
        let task = request(runtime.clone(), client.clone(), id as u64, scheme, plan);
        let ended = ended.clone();
        let runtime2 = runtime.clone();
        runtime.spawn_kind(
            Kind::Request,
            Box::pin(async move {
                let outcome = task.await;
                let at = runtime2.elapsed();
                let mut all = ended.lock().unwrap();
                assert!(all[id].is_none(), "request {id} ended twice");
                if let Some(deadline) = total_timeout.map(|timeout| start + timeout) {
                    assert!(at <= deadline, "request {id} ended at {at:?}, after its deadline {deadline:?}");
                }
                all[id] = Some(Ended { outcome, at });
            }),
        );
    }

    let max_steps = STEPS_PER_REQUEST * (requests as u64 + 10);
    let check = |runtime: &SimRuntime, client_ran: bool| {
        check_violations(runtime);
        if client_ran && let Err(broken) = client.check_pool_invariants() {
            panic!("pool invariant broken: {broken}");
        }
    };
    let all_ended = || ended.lock().unwrap().iter().all(Option::is_some);
    let shut_down = match shutdown_at {
        Some(at) => {
            runtime.run(max_steps, check, |runtime| all_ended() || runtime.elapsed() >= at);
            !all_ended()
        }
        None => false,
    };
    if shut_down {
        runtime.shut_down();
    } else {
        runtime.run(max_steps, check, |_| all_ended());
        let unended = ended.lock().unwrap().iter().filter(|end| end.is_none()).count();
        assert_eq!(unended, 0, "{unended} requests never ended, and nothing is left to run");
        client.close_idle();
        runtime.run(max_steps, check, |_| false);
        let stats = client.pool_stats();
        assert!(
            stats.idle == 0 && stats.active == 0 && stats.dialing == 0 && stats.waiting == 0,
            "after close_idle, the pool still holds {stats:?}"
        );
    }
    drop(client);
    runtime.run(max_steps, |runtime, _| check_violations(runtime), |_| false);
    let open = runtime.shared.lock().net.open;
    assert_eq!(open, [0; HOSTS], "connections left open at the end, per host");
    for kind in [Kind::Engine, Kind::Request, Kind::Server] {
        assert_eq!(runtime.live(kind), 0, "{kind:?} tasks left at the end");
    }

    for &id in &runtime.shared.lock().net.truncated {
        if let Some(Ended { outcome: Outcome::Response, .. }) = ended.lock().unwrap()[id as usize] {
            panic!(
                "request {id} took a close-delimited body that ended without close_notify as whole (RFC 8446 §6.1: it may have been cut short)"
            );
        }
    }
    let virtual_time = runtime.elapsed();
    let state = runtime.shared.lock();
    let mut report = Report {
        seed,
        requests,
        connections: state.net.opened,
        tls_connections: state.net.opened_tls,
        truncated: state.net.truncated.len(),
        steps: state.steps,
        virtual_time,
        ..Report::default()
    };
    drop(state);
    let mut digest = std::hash::DefaultHasher::new();
    for end in ended.lock().unwrap().iter() {
        match end {
            Some(Ended { outcome, at }) => {
                std::hash::Hash::hash(&(outcome, at), &mut digest);
                match outcome {
                    Outcome::Response => report.responses += 1,
                    Outcome::Error => report.errors += 1,
                    Outcome::Canceled => report.canceled += 1,
                }
            }
            None => report.shut_down += 1,
        }
    }
    report.digest = std::hash::Hasher::finish(&digest) ^ report.steps;
    report
}

/// Fails the run on the first rule a socket or server saw broken.
fn check_violations(runtime: &SimRuntime) {
    let violations = std::mem::take(&mut runtime.shared.lock().net.violations);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// One request: waits for its start, sends, reads the body and checks it is
/// its own, unless cancelled first.
async fn request(
    runtime: SimRuntime,
    client: Client<SimRuntime>,
    id: u64,
    scheme: &str,
    plan: Plan,
) -> Outcome {
    let Plan { start, cancel, kind, host, size, expect_continue } = plan;
    sleep(&runtime, start).await;
    let url = format!("{scheme}://h{host}.sim/r/{id}");
    let exchange = async {
        let response = match kind {
            0..50 => client.get(&url).header("x-id", id).send().await,
            50..60 => client.head(&url).header("x-id", id).send().await,
            60..85 => {
                let mut builder = client.post(&url).header("x-id", id).body(vec![b'x'; size]);
                if expect_continue {
                    builder = builder.header("expect", "100-continue");
                }
                builder.send().await
            }
            _ => {
                let pieces = vec![Bytes::from(vec![b'y'; size / 3 + 1]); 3];
                let request = Request::builder()
                    .method(Method::PUT)
                    .uri(&url)
                    .header("x-id", id)
                    .body(Pieces(pieces))
                    .expect("a valid request");
                client.request(request).await
            }
        };
        let response = response?;
        let echoed =
            response.headers().get("x-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        assert_eq!(echoed, Some(id), "request {id} got another request's response");
        let length =
            response.headers().get("x-len").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let head_request = (50..60).contains(&kind);
        let body = response.into_body().bytes(1 << 20).await?;
        let expected = if head_request { Some(0) } else { length };
        assert_eq!(Some(body.len()), expected, "request {id}: its body is not whole");
        for (index, &byte) in body.iter().enumerate() {
            assert_eq!(byte, server::body_byte(id, index), "request {id}: byte {index} of its body is wrong");
        }
        Ok::<_, roundtrip_core::client::Error>(())
    };
    let mut exchange = pin!(exchange);
    let mut cancel = cancel.map(|at| Box::pin(runtime.sleep_until(runtime.now() + at.saturating_sub(start))));
    poll_fn(|cx| {
        if let Some(timer) = cancel.as_mut()
            && timer.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Outcome::Canceled);
        }
        exchange.as_mut().poll(cx).map(|result| match result {
            Ok(()) => Outcome::Response,
            Err(_) => Outcome::Error,
        })
    })
    .await
}
