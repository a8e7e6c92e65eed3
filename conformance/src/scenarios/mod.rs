//! The scenario table, one module per area. Each scenario names its source:
//! an RFC section, a Go or hyper test, or an id of docs/security.md or
//! docs/go-transport.md.

pub mod cancel;
pub mod errors;
pub mod expect_continue;
pub mod framing;
pub mod informational;
pub mod keepalive;
pub mod pool;
pub mod retry;
pub mod security;
pub mod timeouts;

use crate::scenario::Scenario;

/// Every scenario of every area.
pub fn all() -> Vec<Scenario> {
    [
        framing::ALL,
        keepalive::ALL,
        pool::ALL,
        expect_continue::ALL,
        informational::ALL,
        retry::ALL,
        cancel::ALL,
        timeouts::ALL,
        errors::ALL,
        security::ALL,
    ]
    .iter()
    .flat_map(|area| area.iter().map(|make| make()))
    .collect()
}

/// `200 OK` with `content-length: 5` and `hello`.
pub const OK_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
/// `200 OK` with an empty body.
pub const OK_EMPTY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

/// The README's table of scenario counts: area x target.
pub fn count_table() -> String {
    use crate::scenario::Area;
    let scenarios = all();
    let mut table = String::from(
        "| area | tokio (current-thread) | tokio (multi-thread) | smol | tokio over TLS | core |\n|---|---|---|---|---|---|\n",
    );
    let (mut engine_total, mut core_total) = (0, 0);
    for area in Area::ALL {
        let engine = scenarios.iter().filter(|s| s.area == area).count();
        let core = scenarios.iter().filter(|s| s.area == area && !s.engine_only).count();
        engine_total += engine;
        core_total += core;
        table.push_str(&format!("| {area:?} | {engine} | {engine} | {engine} | {engine} | {core} |\n"));
    }
    table.push_str(&format!(
        "| **total** | {engine_total} | {engine_total} | {engine_total} | {engine_total} | {core_total} |\n"
    ));
    table
}

#[cfg(test)]
mod table {
    /// The README shows the counts of this table; keep them in step.
    #[test]
    fn readme_lists_the_scenario_counts() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let table = super::count_table();
        assert!(readme.contains(&table), "README.md's scenario table is stale; it should read:\n{table}");
    }

    #[test]
    fn scenario_names_are_unique_and_sourced() {
        let all = super::all();
        let mut names: Vec<_> = all.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.len() >= 150);
        assert!(all.iter().all(|s| !s.source.is_empty()));
    }
}
