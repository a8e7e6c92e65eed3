//! The whole client engine on the deterministic simulation
//! (conformance/src/sim), with every choice drawn from the fuzzer's bytes: the
//! client's configuration, the requests, the task schedule, the socket cuts
//! and faults, and each server's misbehaviour. The simulation checks its rules
//! (docs/reliability.md, SIM-1 to SIM-6) and panics on the first broken one.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../conformance/src/sim/mod.rs"]
mod sim;

fuzz_target!(|data: &[u8]| {
    sim::run_bytes(data);
});
