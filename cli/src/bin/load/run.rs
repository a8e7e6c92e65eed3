//! Runs a plan: `connections` workers, each sending requests back to back on
//! the shared client until the count or the time is up.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use roundtrip::client::{Client, ClientBuilder, Full, RequestTimeout, Runtime, Timeout, Timings, Trace};
use roundtrip::http::{Request, Uri};
use roundtrip::http_body::Body as _;

use crate::args::Plan;
use crate::cpu::CpuTime;
use crate::interrupt::{self, Interrupt};
use crate::report::{Stats, Summary};
use crate::server;

/// What the workers share.
struct Shared {
    remaining: Option<AtomicU64>,
    deadline: Option<Instant>,
    done: AtomicU64,
    interrupt: Arc<Interrupt>,
    /// With `--trace`: the trace every request carries, and its event count.
    trace: Option<(Trace, Arc<AtomicU64>)>,
}

impl Shared {
    /// Claims the next request; false when the run is over.
    fn claim(&self) -> bool {
        if self.interrupt.raised() {
            return false;
        }
        if let Some(remaining) = &self.remaining {
            return remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
        }
        self.deadline.is_some_and(|deadline| Instant::now() < deadline)
    }
}

pub(crate) fn on_tokio(plan: Plan, threads: usize) -> Result<Summary, String> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    let runtime = builder.enable_all().build().map_err(|e| format!("cannot start tokio: {e}"))?;
    runtime.block_on(async {
        let interrupt = Interrupt::new(plan.connections);
        interrupt::watch_on_tokio(interrupt.clone());
        let builder = roundtrip::tokio::Client::builder();
        execute(plan, builder, interrupt, |future| {
            let task = tokio::spawn(future);
            async move { task.await.unwrap_or_default() }
        })
        .await
    })
}

/// On one thread, as on Tokio: the workers and the client's background tasks
/// (its dials) run on one executor, run by `block_on`, which also drives the
/// reactor while they wait. With the adapter's default executor, every dial
/// would hand over to its thread and back (S5 in docs/bench.md).
pub(crate) fn on_smol(plan: Plan) -> Result<Summary, String> {
    let executor = Arc::new(smol::Executor::new());
    let runtime = roundtrip::smol::Smol(executor.clone());
    smol::block_on(executor.run(async {
        let interrupt = Interrupt::new(plan.connections);
        interrupt::watch_on_smol(&executor, interrupt.clone());
        let builder = ClientBuilder::with_runtime(runtime);
        execute(plan, builder, interrupt, |future| executor.spawn(future)).await
    }))
}

async fn execute<R, S, J>(
    plan: Plan,
    builder: ClientBuilder<R>,
    interrupt: Arc<Interrupt>,
    spawn: S,
) -> Result<Summary, String>
where
    R: Runtime,
    S: Fn(Pin<Box<dyn std::future::Future<Output = Stats> + Send>>) -> J,
    J: std::future::Future<Output = Stats>,
{
    let (url, embedded) = match &plan.url {
        Some(url) => (url.clone(), false),
        None => {
            let server = server::start().map_err(|e| format!("cannot start the embedded server: {e}"))?;
            let url: Uri = format!("http://{}/small", server.addr).parse().map_err(|e| format!("{e}"))?;
            eprintln!("load: no URL given, loading an embedded loopback server at {url}");
            (url, true)
        }
    };
    let builder = roundtrip_cli::tls::configure(builder, plan.cacert.as_deref(), plan.insecure)?;
    // No `Accept-Encoding`: the bytes asked for are the ones measured, as
    // the comparison clients send them.
    let client = builder
        .disable_compression()
        .max_conns_per_host(Some(plan.connections))
        .max_idle_per_host(plan.connections)
        .disable_keep_alives(plan.close)
        .build();
    let shared = Arc::new(Shared {
        remaining: plan.requests.map(AtomicU64::new),
        deadline: plan.duration.map(|d| Instant::now() + d),
        done: AtomicU64::new(0),
        interrupt,
        trace: plan.trace.then(|| {
            let events = Arc::new(AtomicU64::new(0));
            let count = events.clone();
            (
                Trace::new(move |_| {
                    count.fetch_add(1, Ordering::Relaxed);
                }),
                events,
            )
        }),
    });
    let plan = Arc::new(plan);
    let progress = progress_bar(&plan, &shared);
    let (cpu_before, started) = (CpuTime::now(), Instant::now());
    let workers: Vec<J> = (0..plan.connections)
        .map(|index| {
            spawn(Box::pin(worker(index, client.clone(), url.clone(), plan.clone(), shared.clone())))
        })
        .collect();
    let mut stats = Stats::new();
    for worker in workers {
        stats.merge(worker.await);
    }
    let elapsed = started.elapsed();
    let cpu = CpuTime::now().zip(cpu_before).map(|(after, before)| after.since(before));
    if let Some((bar, stop)) = progress {
        stop.store(true, Ordering::Relaxed);
        bar.finish_and_clear();
    }
    let mut summary = Summary::new(stats, elapsed, cpu, client.pool_stats(), &plan, url, embedded);
    summary.interrupted = shared.interrupt.raised();
    summary.trace_events = shared.trace.as_ref().map(|(_, events)| events.load(Ordering::Relaxed));
    Ok(summary)
}

/// One worker: requests back to back until the run is over. Ctrl-C drops
/// the whole loop, so its request in flight is cancelled; the race is set
/// up once per worker, not per request, and costs the hot path nothing but
/// a waker registration per poll.
async fn worker<R: Runtime>(
    index: usize,
    client: Client<R>,
    url: Uri,
    plan: Arc<Plan>,
    shared: Arc<Shared>,
) -> Stats {
    let mut stats = Stats::new();
    let interrupt = shared.interrupt.clone();
    if interrupt.or_cancel(index, requests(&client, &url, &plan, &shared, &mut stats)).await.is_none() {
        stats.cancel_in_flight();
    }
    stats
}

async fn requests<R: Runtime>(
    client: &Client<R>,
    url: &Uri,
    plan: &Plan,
    shared: &Shared,
    stats: &mut Stats,
) {
    while shared.claim() {
        let started = Instant::now();
        stats.start();
        let mut request = Request::new(Full::from(plan.body.clone()));
        *request.method_mut() = plan.method.clone();
        *request.uri_mut() = url.clone();
        *request.headers_mut() = plan.headers.clone();
        // `--duration` is a bound: a request in flight at the deadline is
        // cancelled there, as is one past `--timeout`.
        let deadline = match (shared.deadline, plan.timeout) {
            (Some(end), Some(timeout)) => Some(end.min(started + timeout)),
            (end, timeout) => end.or_else(|| timeout.map(|t| started + t)),
        };
        if let Some(deadline) = deadline {
            request.extensions_mut().insert(RequestTimeout(deadline.saturating_duration_since(started)));
        }
        if let Some((trace, _)) = &shared.trace {
            request.extensions_mut().insert(trace.clone());
        }
        let cut = |e: &roundtrip::Error| {
            e.timeout_kind() == Some(Timeout::Total)
                && shared.deadline.is_some_and(|end| Instant::now() >= end)
        };
        match client.request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let timings = response.extensions().get::<Timings>().copied();
                let mut body = response.into_body();
                let mut bytes = 0u64;
                // `http_body`'s poll, not `Body::chunk`: this loop is what the
                // benchmark measures, and a poll is the least a reader can do.
                let outcome = loop {
                    match poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                        Some(Ok(frame)) => bytes += frame.data_ref().map_or(0, |d| d.len() as u64),
                        None => break Ok(()),
                        Some(Err(e)) => break Err(e),
                    }
                };
                match outcome {
                    Ok(()) => stats.response(status, bytes, started.elapsed(), timings.as_ref()),
                    Err(e) if cut(&e) => stats.cut(),
                    Err(e) => stats.error(&e),
                }
            }
            Err(e) if cut(&e) => stats.cut(),
            Err(e) => stats.error(&e),
        }
        shared.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// A progress bar on stderr, refreshed by a thread, when stderr is a terminal.
fn progress_bar(plan: &Plan, shared: &Arc<Shared>) -> Option<(ProgressBar, Arc<AtomicBool>)> {
    if !plan.progress {
        return None;
    }
    let (bar, total) = match (plan.requests, plan.duration) {
        (Some(n), _) => (ProgressBar::new(n), None),
        (None, Some(d)) => (ProgressBar::new(d.as_millis() as u64), Some(Instant::now())),
        (None, None) => return None,
    };
    let template = if total.is_some() {
        "{bar:40} {elapsed}/{duration} {msg}"
    } else {
        "{bar:40} {pos}/{len} {per_sec} {msg}"
    };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    let stop = Arc::new(AtomicBool::new(false));
    let (bar2, stop2, shared) = (bar.clone(), stop.clone(), shared.clone());
    thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            let done = shared.done.load(Ordering::Relaxed);
            match total {
                Some(started) => {
                    bar2.set_position(started.elapsed().as_millis() as u64);
                    bar2.set_message(format!("{done} requests"));
                }
                None => bar2.set_position(done),
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    Some((bar, stop))
}
