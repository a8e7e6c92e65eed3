//! The deterministic simulation (conformance/src/sim): many seeds, each a run
//! of the whole engine against misbehaving simulated servers, with every rule
//! checked after every step. docs/reliability.md has the commands for long
//! runs and for replaying one seed.
//!
//! - `SIM_SEEDS=a..b` runs those seeds (default: 0..200), split across four
//!   tests by the seed's remainder mod 4, so they run on every core.
//! - `SIM_REQUESTS=n` sends n requests per seed (default: 1,000, and every
//!   tenth seed 3,000), started within 2 s of virtual time.
//! - `SIM_VERBOSE=1` prints each seed's report.

use std::time::Duration;

use roundtrip_conformance::sim;
use roundtrip_conformance::watchdog;

fn seeds() -> std::ops::Range<u64> {
    let Ok(spec) = std::env::var("SIM_SEEDS") else { return 0..200 };
    let (from, to) = spec.split_once("..").unwrap_or((&spec, ""));
    let from: u64 = from.parse().expect("SIM_SEEDS=a..b");
    let to: u64 = if to.is_empty() { from + 1 } else { to.parse().expect("SIM_SEEDS=a..b") };
    from..to
}

fn requests(seed: u64) -> usize {
    match std::env::var("SIM_REQUESTS") {
        Ok(n) => n.parse().expect("SIM_REQUESTS=n"),
        Err(_) if seed % 10 == 9 => 3_000,
        Err(_) => 1_000,
    }
}

/// Runs the seeds of [`seeds`] whose remainder mod 4 is `part`; a failure
/// names its seed and the command that replays it.
fn run_part(part: u64) {
    let seeds: Vec<u64> = seeds().filter(|seed| seed % 4 == part).collect();
    // A deadlock (a lock taken twice) stops the run's thread: the watchdog
    // ends it. A seed takes well under a second even in a debug build.
    let limit = Duration::from_secs(300 + 5 * seeds.len() as u64);
    watchdog::run_for("simulation", limit, || {
        let mut totals = sim::Report::default();
        for &seed in &seeds {
            let report = std::panic::catch_unwind(|| sim::run(seed, requests(seed))).unwrap_or_else(|panic| {
                eprintln!(
                    "\nsimulation seed {seed} failed; replay: SIM_SEEDS={seed} cargo test -p roundtrip-conformance --test simulation -- --nocapture"
                );
                std::panic::resume_unwind(panic)
            });
            if std::env::var_os("SIM_VERBOSE").is_some() {
                eprintln!("{report}");
            }
            totals.requests += report.requests;
            totals.responses += report.responses;
            totals.errors += report.errors;
            totals.canceled += report.canceled;
            totals.shut_down += report.shut_down;
            totals.connections += report.connections;
            totals.tls_connections += report.tls_connections;
            totals.truncated += report.truncated;
            totals.steps += report.steps;
        }
        eprintln!(
            "{} seeds ({part} mod 4): {} requests, {} responses, {} errors, {} canceled, {} dropped at shutdown; {} connections ({} TLS, {} bodies cut without close_notify), {} steps",
            seeds.len(),
            totals.requests,
            totals.responses,
            totals.errors,
            totals.canceled,
            totals.shut_down,
            totals.connections,
            totals.tls_connections,
            totals.truncated,
            totals.steps
        );
        // The mix must exercise both ends: most requests answered, some not.
        if totals.requests >= 1000 {
            assert!(
                totals.responses * 2 > totals.requests,
                "fewer than half the requests got their response"
            );
            assert!(totals.errors + totals.canceled > 0, "no request failed: the servers did not misbehave");
        }
    });
}

#[test]
fn seeds_0_mod_4() {
    run_part(0);
}

#[test]
fn seeds_1_mod_4() {
    run_part(1);
}

#[test]
fn seeds_2_mod_4() {
    run_part(2);
}

#[test]
fn seeds_3_mod_4() {
    run_part(3);
}

/// A seed replays exactly: the same outcomes at the same virtual times, in
/// the same number of steps; over TLS too (seeds 17 and 20 have https hosts,
/// and their TLS sessions draw fresh randoms each run).
#[test]
fn a_seed_replays_exactly() {
    watchdog::test(|| {
        let mut tls = 0;
        for seed in [3, 17, 20, 29] {
            let first = sim::run(seed, 200);
            let second = sim::run(seed, 200);
            assert_eq!(first, second, "seed {seed} ran differently the second time");
            tls += first.tls_connections;
        }
        assert!(tls > 0, "no seed replayed had a TLS connection");
    });
}

/// Replays the fuzz target `engine`'s input in the file `SIM_BYTES` names
/// (a crash it found); does nothing without it.
#[test]
fn replay_fuzz_input() {
    let Some(path) = std::env::var_os("SIM_BYTES") else { return };
    let data = std::fs::read(&path).expect("read SIM_BYTES");
    watchdog::test(|| eprintln!("{}", sim::run_bytes(&data)));
}
