//! Seeds the fuzz corpora with what the conformance scenarios' servers send:
//! `cargo run -p roundtrip-conformance --example fuzz_corpus [DIR]` writes,
//! under DIR (default `fuzz/corpus`), one file per scenario connection for
//! `response_head` and `response_stream`, and one per chunked body for
//! `chunked`, each with the leading bytes that decode to the target's other
//! inputs (arbitrary's encoding: a `Vec` ends at a zero byte). Existing files
//! are overwritten; the fuzzers' own finds are left alone.

use std::path::PathBuf;

use http::Method;
use roundtrip_conformance::scenario::Step;
use roundtrip_conformance::scenarios;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".to_owned()));
    let mut written = 0;
    for scenario in scenarios::all() {
        let head_request = scenario.requests.first().is_some_and(|(req, _)| req.method == Method::HEAD);
        for (index, script) in scenario.server.iter().enumerate() {
            let mut sent = Vec::new();
            for step in script {
                match step {
                    Step::Send(bytes) | Step::Dribble(bytes) => sent.extend_from_slice(bytes),
                    Step::SendOwned(bytes) => sent.extend_from_slice(bytes),
                    _ => {}
                }
            }
            if sent.is_empty() {
                continue;
            }
            let name = format!("scenario-{}-{index}", scenario.name);
            // (u16, &[u8]): two bytes of limit, then the head.
            write(&dir, "response_head", &name, &[&[0, 0], &sent[..]])?;
            // (bool, Vec<u16>, &[u8]): HEAD or GET, no cuts, then the stream.
            write(&dir, "response_stream", &name, &[&[u8::from(head_request), 0], &sent[..]])?;
            written += 2;
            let lower = sent.to_ascii_lowercase();
            if lower.windows(26).any(|w| w == b"transfer-encoding: chunked")
                && let Some(end) = sent.windows(4).position(|w| w == b"\r\n\r\n")
            {
                // (Vec<u16>, u8, &[u8]): no cuts, a read size, then the body.
                write(&dir, "chunked", &name, &[&[0, 7], &sent[end + 4..]])?;
                written += 1;
            }
        }
    }
    println!("{written} corpus files under {}", dir.display());
    Ok(())
}

fn write(dir: &std::path::Path, target: &str, name: &str, parts: &[&[u8]]) -> std::io::Result<()> {
    let target_dir = dir.join(target);
    std::fs::create_dir_all(&target_dir)?;
    std::fs::write(target_dir.join(name), parts.concat())
}
