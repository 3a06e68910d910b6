//! Replays the fuzz corpora (fuzz/corpus/loader, render, policy_yaml) through the
//! same per-input code the fuzz targets in fuzz/fuzz_targets/ run, without cargo-fuzz
//! or nightly: every input must go through without a panic. All failing files are
//! reported at once. See fuzz/README.md.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../fuzz/inputs.rs"]
mod inputs;

use inputs::{loader, policy_yaml, render, stack_dir};

// ---- the replay ----

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: empty corpus", dir.display());
    files
}

/// Runs `check` on the text of every file of a corpus (non-UTF-8 inputs are skipped,
/// as the targets skip them) and fails with the list of every input that panicked.
fn replay(target: &str, check: impl Fn(&str)) {
    let files = corpus(target);
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).expect("read corpus file");
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(text))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "(non-string panic)".to_owned());
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {target} inputs panicked:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn loader_corpus_does_not_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    stack_dir(dir.path(), None);
    replay("loader", |text| loader(dir.path(), text));
}

#[test]
fn render_corpus_does_not_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    stack_dir(dir.path(), Some(Path::new(env!("CARGO_MANIFEST_DIR"))));
    replay("render", |text| render(dir.path(), text));
}

#[test]
fn policy_yaml_corpus_does_not_panic() {
    replay("policy_yaml", policy_yaml);
}
