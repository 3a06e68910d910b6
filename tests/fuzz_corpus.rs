//! Replays the fuzz corpora (fuzz/corpus/loader, fuzz/corpus/policy_yaml) through the
//! same per-input code the fuzz targets in fuzz/fuzz_targets/ run, without cargo-fuzz
//! or nightly: every input must go through without a panic. All failing files are
//! reported at once. See fuzz/README.md.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use stackc::diag::{SourceMap, render_human, render_json};
use stackc::load::Source;
use stackc::pipeline::{Failure, plans};
use stackc::policy::{Options, Subject, input, run, to_diagnostics};

// ---- shared with fuzz/fuzz_targets/loader.rs (keep identical) ----

/// environments/dev.toml when the input has no `\n---\n` marker.
const DEFAULT_ENV: &str = "# dev: nothing differs\n";

/// Writes the input as a stack directory under `dir` (which has `environments/`) and
/// runs load + check on it, then renders whatever diagnostics came out. Must not panic.
fn loader(dir: &Path, text: &str) {
    let (stack, env) = text.split_once("\n---\n").unwrap_or((text, DEFAULT_ENV));
    std::fs::write(dir.join("stack.toml"), stack).expect("write stack.toml");
    std::fs::write(dir.join("environments/dev.toml"), env).expect("write dev.toml");
    let mut sources = SourceMap::default();
    match plans(&Source::Dir(dir.to_path_buf()), None, &mut sources) {
        Ok(_plans) => {}
        Err(Failure::Stack(diags)) => {
            assert!(!diags.is_empty(), "a failure without diagnostics");
            let _ = render_human(&diags, &sources, false);
            let _ = render_human(&diags, &sources, true);
            let _ = render_json(&diags, &sources);
            for diag in &diags {
                let _ = diag.position(&sources);
            }
        }
        Err(Failure::Io(_)) => {}
    }
}

// ---- shared with fuzz/fuzz_targets/policy_yaml.rs (keep identical) ----

/// Parses `text` as manifests and runs every policy rule over them. Must not panic.
fn policy_yaml(text: &str) {
    let sources = SourceMap::default();
    let diags = match input::parse("fuzz.yaml", text) {
        Ok(docs) => {
            let subjects: Vec<Subject> = docs
                .iter()
                .map(|d| Subject::new(d.file.clone(), d.line, &d.body))
                .collect();
            let findings = run(
                &subjects,
                Options {
                    pinned: true,
                    schema: true,
                },
            );
            to_diagnostics(&findings)
        }
        Err(diag) => vec![*diag],
    };
    let _ = render_human(&diags, &sources, false);
    let _ = render_json(&diags, &sources);
}

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
    std::fs::create_dir(dir.path().join("environments")).expect("environments/");
    replay("loader", |text| loader(dir.path(), text));
}

#[test]
fn policy_yaml_corpus_does_not_panic() {
    replay("policy_yaml", policy_yaml);
}
