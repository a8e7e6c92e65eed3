//! Every hostile input docs/security.md lists names the tests that enforce
//! its rule, and those tests exist: a scenario (`area::name`), a test
//! function (`file.rs name`), or a row of the malformed or framing tables
//! tagged with the vector's id. The reliability figure "vectors mapped to a
//! passing test" (RELIABILITY.md R1) is this test's count.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every Rust source of the workspace but build output, with its text.
fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() && !matches!(name, "target" | ".git" | "corpus" | "artifacts") {
            sources(&path, out);
        } else if name.ends_with(".rs") {
            out.push((path.clone(), read(&path)));
        }
    }
}

/// Whether one word of a "tested in" cell names something that exists: a
/// file, a scenario (`area::name`) or an area of them, a test function
/// (possibly by its module path), a fuzz target.
fn resolves(word: &str, sources: &[(PathBuf, String)]) -> bool {
    let word = word.trim_matches(|c: char| c == ',' || c == ';' || c == '.');
    if word.ends_with(".rs") {
        return root().join(word).exists() || sources.iter().any(|(path, _)| path.ends_with(word));
    }
    let scenarios = |area: &str| root().join(format!("conformance/src/scenarios/{area}.rs"));
    if let Some((area, scenario)) = word.split_once("::")
        && !scenario.contains("::")
        && scenarios(area).exists()
    {
        return read(&scenarios(area)).contains(&format!(" {scenario} =>"));
    }
    let name = word.rsplit("::").next().unwrap_or(word);
    scenarios(name).exists()
        || root().join(format!("fuzz/fuzz_targets/{name}.rs")).exists()
        || sources.iter().any(|(_, text)| {
            ["(", "<"].iter().any(|after| text.contains(&format!("fn {name}{after}")))
                || text.contains(&format!(" {name} =>"))
        })
}

/// Problems with one row's "tested in" cell; empty when it names at least
/// one test and everything it names exists.
fn check(id: &str, cell: &str, sources: &[(PathBuf, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut mapped = false;
    for word in ["malformed", "framing"] {
        if cell.split(['`', ';', ',']).any(|part| part.trim() == word) {
            let table = read(&root().join(format!("core/tests/proto_{word}.rs")));
            // A row's tag lists its ids: `[D12]`, `[D12, D13]`.
            let tagged = [format!("[{id}]"), format!("[{id}, "), format!(", {id}]"), format!(", {id}, ")];
            if tagged.iter().any(|tag| table.contains(tag.as_str())) {
                mapped = true;
            } else {
                problems.push(format!("{id}: no row of proto_{word}.rs is tagged [{id}]"));
            }
        }
    }
    // Rows that stand for others ("as C17", "the L1 rows of H1 and H2") or for all.
    let trimmed = cell.trim();
    if trimmed == "everywhere" || trimmed.starts_with("as ") || trimmed.starts_with("the ") {
        mapped = true;
    }
    for reference in cell.split('`').skip(1).step_by(2) {
        for word in reference.split_whitespace() {
            if resolves(word, sources) {
                mapped = true;
            } else {
                problems.push(format!("{id}: `{word}` names nothing that exists"));
            }
        }
    }
    if !mapped && problems.is_empty() {
        problems.push(format!("{id}: names no test"));
    }
    problems
}

#[test]
fn every_security_vector_names_tests_that_exist() {
    let doc = read(&root().join("docs/security.md"));
    let mut all = Vec::new();
    sources(&root(), &mut all);
    let mut rows = 0;
    let mut problems = Vec::new();
    for line in doc.lines() {
        // `\|` is a pipe inside a cell, not a cell's end.
        let line = line.replace("\\|", "/");
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | id | server sends | we | tested in |, ids A-K (L holds the limits).
        let Some(&id) = cells.get(1) else { continue };
        let is_id = id.len() >= 2
            && id.as_bytes()[0].is_ascii_uppercase()
            && id.as_bytes()[0] != b'L'
            && id[1..].bytes().all(|b| b.is_ascii_digit());
        if !is_id {
            continue;
        }
        let [_, _, _, _, tested, _] = cells[..] else {
            problems.push(format!("{id}: the row has {} cells, not 4", cells.len().saturating_sub(2)));
            continue;
        };
        rows += 1;
        problems.extend(check(id, tested, &all));
    }
    assert!(rows >= 100, "only {rows} vectors read from docs/security.md: has its table changed shape?");
    assert!(problems.is_empty(), "{} of {rows} vectors:\n{}", problems.len(), problems.join("\n"));
    println!("{rows} vectors, each mapped to a test that exists");
}
