//! The integration tests, as one binary: each test binary links DataFusion, so the eight areas
//! below share one link (and one `cargo test` run) instead of eight. None of them needs a
//! process of its own: the tests that set environment variables do it on the `jobsql` child
//! processes they start, and the shell's pseudo-terminal is a child process too.
//!
//! Each area keeps its root (`tests/<area>.rs`, with a `mod common` facade naming what it uses
//! of [`support`]) and its files (`tests/<area>/*.rs`). Run one area with
//! `cargo test --test suite writes::`, one test by its name as before.
//!
//! Cargo's test discovery is off (`autotests = false`), so a file that is not declared here or
//! in an area root would never compile: [`every_test_file_is_in_the_suite`] fails on one.

mod support;

/// The system allocator, telling a test thread its largest allocation ([`support::alloc`]).
#[global_allocator]
static ALLOCATOR: support::alloc::Watching = support::alloc::Watching;

// `#[path]` makes each area root resolve its own `#[path = "<area>/<file>.rs"]` modules from
// `tests/`, exactly as it did when it was a binary of its own.
#[path = "cli.rs"]
mod cli;
#[path = "client.rs"]
mod client;
#[path = "emulator.rs"]
mod emulator;
#[path = "history.rs"]
mod history;
#[path = "interfaces.rs"]
mod interfaces;
#[path = "lakesail.rs"]
mod lakesail;
#[path = "reliability.rs"]
mod reliability;
#[path = "select.rs"]
mod select;
#[path = "shapes.rs"]
mod shapes;
#[path = "signin.rs"]
mod signin;
#[path = "sync.rs"]
mod sync;
#[path = "writes.rs"]
mod writes;

/// Every `.rs` file under `tests/` is compiled into this binary: named by a `#[path = "..."]`
/// in this root or an area root, or a `pub mod` of `support`.
#[test]
fn every_test_file_is_in_the_suite() {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    let paths_in = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("#[path = \""))
            .filter_map(|l| l.split('"').next())
            .map(str::to_string)
            .collect()
    };
    let mut declared: BTreeSet<PathBuf> = BTreeSet::new();
    declared.insert(tests.join("suite.rs"));
    declared.insert(tests.join("support/mod.rs"));
    for root in paths_in(&read(&tests.join("suite.rs"))) {
        let root = tests.join(root);
        for file in paths_in(&read(&root)) {
            declared.insert(tests.join(file));
        }
        declared.insert(root);
    }
    for line in read(&tests.join("support/mod.rs")).lines() {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            declared.insert(tests.join(format!("support/{name}.rs")));
        }
    }
    let mut missing = Vec::new();
    let mut dirs = vec![tests.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("tests/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !declared.contains(&path) {
                missing.push(path);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not compiled into the suite (add a `#[path]` module to its area root): {missing:?}"
    );
}
