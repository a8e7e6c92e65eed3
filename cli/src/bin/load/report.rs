//! Results of a run: per-worker statistics, merged into a summary printed as
//! text or as one JSON object.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use roundtrip::client::{Error, PoolStats, Timings};
use roundtrip::http::Uri;

use crate::args::Plan;
use crate::cpu::CpuTime;

/// What one worker saw.
pub(crate) struct Stats {
    /// Latency of successful requests, in microseconds.
    latency: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    /// Per kind: how many, and the first one's message (its causes
    /// included), which says more than the kind.
    errors: BTreeMap<&'static str, (u64, String)>,
    bytes: u64,
    requests: u64,
    /// Requests in flight at the `--duration` deadline or at Ctrl-C,
    /// cancelled there.
    cut: u64,
    /// A request was started and not yet counted.
    in_flight: bool,
    phases: Phases,
}

/// Where the time of successful requests went, summed (a sum per phase
/// costs the hot loop next to nothing; the summary prints the means).
#[derive(Default)]
struct Phases {
    /// Until the request had a connection: a pool wait, or a dial.
    got_connection: Duration,
    /// From then until the head was written.
    write: Duration,
    /// From the head written to the first response byte: the server's time.
    wait: Duration,
    /// Dials by this run's requests: their count, connect and TLS times.
    dials: u64,
    connect: Duration,
    tls: Duration,
}

impl Phases {
    fn add(&mut self, t: &Timings) {
        let (connection, written) = (t.got_connection(), t.head_written());
        self.got_connection += connection;
        self.write += written.saturating_sub(connection);
        self.wait += t.first_byte().saturating_sub(written);
        if let Some(connect) = t.connect() {
            self.dials += 1;
            self.connect += connect + t.dns().unwrap_or_default();
            self.tls += t.tls().unwrap_or_default();
        }
    }

    fn merge(&mut self, other: &Phases) {
        self.got_connection += other.got_connection;
        self.write += other.write;
        self.wait += other.wait;
        self.dials += other.dials;
        self.connect += other.connect;
        self.tls += other.tls;
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    pub(crate) fn new() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            bytes: 0,
            requests: 0,
            cut: 0,
            in_flight: false,
            phases: Phases::default(),
        }
    }

    /// A request goes out; it is counted by what ends it.
    pub(crate) fn start(&mut self) {
        self.in_flight = true;
    }

    pub(crate) fn response(&mut self, status: u16, bytes: u64, latency: Duration, timings: Option<&Timings>) {
        self.in_flight = false;
        if let Some(t) = timings {
            self.phases.add(t);
        }
        self.requests += 1;
        self.bytes += bytes;
        *self.statuses.entry(status).or_default() += 1;
        let _ = self.latency.record((latency.as_micros() as u64).max(1));
    }

    pub(crate) fn error(&mut self, error: &Error) {
        self.in_flight = false;
        self.requests += 1;
        self.errors.entry(kind(error)).or_insert_with(|| (0, error.to_string())).0 += 1;
    }

    /// A request cancelled by the end of the run: neither done nor failed.
    pub(crate) fn cut(&mut self) {
        self.in_flight = false;
        self.cut += 1;
    }

    /// The run was interrupted: the request in flight, if any, was cut.
    pub(crate) fn cancel_in_flight(&mut self) {
        if self.in_flight {
            self.cut();
        }
    }

    pub(crate) fn merge(&mut self, other: Stats) {
        self.cut += other.cut;
        let _ = self.latency.add(&other.latency);
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        for (kind, (n, first)) in other.errors {
            self.errors.entry(kind).or_insert((0, first)).0 += n;
        }
        self.bytes += other.bytes;
        self.requests += other.requests;
        self.phases.merge(&other.phases);
    }
}

fn kind(error: &Error) -> &'static str {
    match () {
        _ if error.is_connect() => "connect",
        _ if error.is_pool_timeout() => "pool timeout",
        _ if error.is_timeout() => "timeout",
        _ if error.is_protocol() => "protocol",
        _ if error.is_closed() => "connection closed",
        _ if error.is_request() => "request",
        _ => "other",
    }
}

/// The merged outcome of a run.
pub(crate) struct Summary {
    pub requests: u64,
    pub errors: u64,
    /// Ctrl-C ended the run.
    pub interrupted: bool,
    /// With `--trace`: the events the requests reported.
    pub trace_events: Option<u64>,
    stats: Stats,
    elapsed: Duration,
    cpu: Option<CpuTime>,
    pool: PoolStats,
    target: Uri,
    connections: usize,
    embedded: bool,
}

impl Summary {
    pub(crate) fn new(
        stats: Stats,
        elapsed: Duration,
        cpu: Option<CpuTime>,
        pool: PoolStats,
        plan: &Plan,
        target: Uri,
        embedded: bool,
    ) -> Self {
        let errors = stats.errors.values().map(|(n, _)| n).sum();
        Self {
            requests: stats.requests,
            errors,
            interrupted: false,
            trace_events: None,
            stats,
            elapsed,
            cpu,
            pool,
            target,
            connections: plan.connections,
            embedded,
        }
    }

    fn per_second(&self, n: f64) -> f64 {
        n / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        self.stats.latency.value_at_quantile(q) as f64 / 1000.0
    }

    fn is_tls(&self) -> bool {
        self.target.scheme() == Some(&roundtrip::http::uri::Scheme::HTTPS)
    }

    /// Connections opened: dials that succeeded (a failed dial is an error,
    /// not a connection).
    fn opened(&self) -> u64 {
        self.pool.counts.dials.saturating_sub(self.pool.counts.dial_failures)
    }

    /// TLS handshakes: one per connection opened to an https target.
    fn handshakes(&self) -> u64 {
        if self.is_tls() { self.opened() } else { 0 }
    }

    fn reuse_rate(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.pool.counts.reuses as f64 / self.requests as f64 }
    }

    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Target:        {} ({} concurrent)", self.target, self.connections);
        let _ = writeln!(
            out,
            "Requests:      {} ({} errors) in {:.3} s",
            self.requests,
            self.errors,
            self.elapsed.as_secs_f64()
        );
        if self.interrupted {
            let _ = writeln!(out, "Interrupted:   by Ctrl-C; the figures are for the run so far");
        }
        if self.stats.cut > 0 {
            let end = if self.interrupted { "Ctrl-C" } else { "the end of --duration" };
            let _ = writeln!(out, "Cancelled:     {} in flight at {end}", self.stats.cut);
        }
        let _ = writeln!(out, "Requests/sec:  {:.1}", self.per_second(self.requests as f64));
        let _ = writeln!(
            out,
            "Transfer:      {} body bytes, {}/s",
            self.stats.bytes,
            human_bytes(self.per_second(self.stats.bytes as f64))
        );
        if let Some(cpu) = self.cpu.filter(|_| self.requests > 0) {
            let per = |d: Duration| d.as_secs_f64() * 1e6 / self.requests as f64;
            let _ = writeln!(
                out,
                "CPU/request:   {:.1} us (user {:.1}, system {:.1}){}",
                per(cpu.total()),
                per(cpu.user),
                per(cpu.system),
                if self.embedded { ", embedded server included" } else { "" }
            );
        }
        let handshakes = if self.is_tls() { " (each a TLS handshake)" } else { "" };
        let retries = match self.pool.counts.retries {
            0 => String::new(),
            n => format!(", {n} retried on a new connection"),
        };
        let _ = writeln!(
            out,
            "Connections:   {} opened{handshakes}, reuse rate {:.2}%{retries}",
            self.opened(),
            self.reuse_rate() * 100.0
        );
        if !self.stats.latency.is_empty() {
            let _ = writeln!(
                out,
                "Latency (ms):  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
                self.percentile_ms(0.5),
                self.percentile_ms(0.9),
                self.percentile_ms(0.99),
                self.percentile_ms(0.999),
                self.stats.latency.max() as f64 / 1000.0
            );
            out.push_str(&self.histogram());
            out.push_str(&self.phases());
        }
        if let Some(events) = self.trace_events {
            let per = events as f64 / self.requests.max(1) as f64;
            let _ = writeln!(out, "Trace events:  {events} ({per:.1} per request)");
        }
        let statuses: Vec<String> = self.stats.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        let _ = writeln!(
            out,
            "Status codes:  {}",
            if statuses.is_empty() { "none".into() } else { statuses.join(", ") }
        );
        if self.stats.errors.is_empty() {
            out.push_str("Errors:        none\n");
        }
        for (i, (kind, (n, first))) in self.stats.errors.iter().enumerate() {
            let label = if i == 0 { "Errors:" } else { "" };
            let _ = writeln!(out, "{label:<15}{kind}: {n} (first: {first})");
        }
        out
    }

    /// The mean time of each phase of a successful request, and of the dials.
    fn phases(&self) -> String {
        let p = &self.stats.phases;
        let ok = self.stats.latency.len().max(1) as f64;
        let mean = |d: Duration, n: f64| d.as_secs_f64() * 1000.0 / n.max(1.0);
        let mut out = format!(
            "Phases (ms):   connection {:.3}  write {:.3}  server {:.3}  (means; body read after)\n",
            mean(p.got_connection, ok),
            mean(p.write, ok),
            mean(p.wait, ok),
        );
        if p.dials > 0 {
            let tls = if self.is_tls() {
                format!("  TLS {:.3}", mean(p.tls, p.dials as f64))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "Dials (ms):    {} by requests, connect {:.3}{tls}",
                p.dials,
                mean(p.connect, p.dials as f64)
            );
        }
        let waits = &self.pool.counts.wait_histogram;
        if let (Some(p50), Some(p99)) = (waits.quantile(0.5), waits.quantile(0.99)) {
            let ms = |d: Duration| {
                if d == Duration::MAX {
                    "longer".to_owned()
                } else {
                    format!("{:.3}", d.as_secs_f64() * 1000.0)
                }
            };
            let _ = writeln!(
                out,
                "Pool waits:    {} (p50 <= {} ms, p99 <= {} ms)",
                self.pool.counts.waits,
                ms(p50),
                ms(p99)
            );
        }
        out
    }

    /// Latency distribution in ten buckets spaced evenly on a log scale from
    /// the fastest to the slowest request.
    fn histogram(&self) -> String {
        let h = &self.stats.latency;
        let mut out = String::new();
        let total = h.len().max(1) as f64;
        let (min, max) = (h.min().max(1) as f64, h.max().max(1) as f64);
        let step = (max / min).powf(0.1).max(1.0 + 1e-9);
        let mut low = min;
        while low <= max * (1.0 + 1e-9) {
            let high = low * step;
            let in_bucket = |v: &hdrhistogram::iterators::IterationValue<u64>| {
                (low..high).contains(&(v.value_iterated_to() as f64))
            };
            let count: u64 = h.iter_recorded().filter(in_bucket).map(|v| v.count_at_value()).sum();
            if count > 0 {
                let bar = "#".repeat(((count as f64 / total) * 40.0).ceil() as usize);
                let _ = writeln!(out, "  {:>9.3} ms  {:>8}  {bar}", low / 1000.0, count);
            }
            low = high;
        }
        out
    }

    pub(crate) fn json(&self) -> String {
        let statuses: Vec<String> = self.stats.statuses.iter().map(|(s, n)| format!("\"{s}\":{n}")).collect();
        let errors: Vec<String> =
            self.stats.errors.iter().map(|(k, (n, _))| format!("\"{k}\":{n}")).collect();
        let cpu = self.cpu.map_or_else(|| "null".to_owned(), |c| format!("{:.6}", c.total().as_secs_f64()));
        format!(
            concat!(
                "{{\"client\":\"roundtrip\",\"requests\":{},\"errors\":{},\"elapsed_s\":{:.6},\"bytes\":{},",
                "\"cpu_s\":{},\"connections\":{},\"handshakes\":{},\"cancelled\":{},\"interrupted\":{},",
                "\"reuse_rate\":{:.4},\"retries\":{},",
                "\"latency_ms\":{{\"p50\":{:.3},\"p90\":{:.3},\"p99\":{:.3},\"p99.9\":{:.3},\"max\":{:.3}}},",
                "\"status\":{{{}}},\"error_kinds\":{{{}}}}}"
            ),
            self.requests,
            self.errors,
            self.elapsed.as_secs_f64(),
            self.stats.bytes,
            cpu,
            self.opened(),
            self.handshakes(),
            self.stats.cut,
            self.interrupted,
            self.reuse_rate(),
            self.pool.counts.retries,
            self.percentile_ms(0.5),
            self.percentile_ms(0.9),
            self.percentile_ms(0.99),
            self.percentile_ms(0.999),
            self.stats.latency.max() as f64 / 1000.0,
            statuses.join(","),
            errors.join(","),
        )
    }
}

fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut n = n;
    let mut unit = 0;
    while n >= 1024.0 && unit < UNITS.len() - 1 {
        n /= 1024.0;
        unit += 1;
    }
    format!("{n:.1} {}", UNITS[unit])
}
