//! Generates the `engine_tests!` macro from `src/engine.rs`: every
//! `pub async fn NAME<R: ...>()` there is an engine test, so a new test runs on
//! every runtime without being listed anywhere else.

use std::fmt::Write;

fn main() {
    println!("cargo::rerun-if-changed=src/engine.rs");
    let source = std::fs::read_to_string("src/engine.rs").expect("read src/engine.rs");
    let names: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .map(|rest| rest.split(['<', '(']).next().unwrap_or_default().trim())
        .collect();
    assert!(!names.is_empty(), "no engine test found in src/engine.rs");
    let mut tests = String::new();
    for name in &names {
        writeln!(
            tests,
            "        #[test]\n        fn {name}() {{\n            $crate::watchdog::run(concat!(module_path!(), \"::{name}\"), || $block_on($crate::engine::{name}::<$runtime>()));\n        }}"
        )
        .unwrap();
    }
    let generated = format!(
        "/// Generates one `#[test]` per engine test (each `pub async fn` of\n\
         /// `engine.rs`) for a runtime, given the runtime type and a\n\
         /// `fn block_on<F: Future>(F) -> F::Output` path. Each runs under the\n\
         /// [`watchdog`](crate::watchdog).\n\
         #[macro_export]\n\
         macro_rules! engine_tests {{\n    ($runtime:ty, $block_on:path) => {{\n{tests}    }};\n}}\n"
    );
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("engine_tests.rs");
    std::fs::write(out, generated).expect("write engine_tests.rs");
}
