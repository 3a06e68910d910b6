//! The per-input code of the fuzz targets, shared with `tests/fuzz_corpus.rs` (which
//! replays the corpora on stable Rust): each function must not panic on any input.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use stackc::diag::{SourceMap, render_human, render_json};
use stackc::load::Source;
use stackc::pipeline::{Failure, compile, plans};
use stackc::policy::{Options, Subject, input, run, to_diagnostics};

/// environments/dev.toml when the input has no `\n---\n` marker.
const DEFAULT_ENV: &str = "# dev: nothing differs\n";

/// Makes `dir` a stack directory: `environments/`, and with `modules_of`, the `modules/`
/// of that repository (the monitoring templates, which [`render`] builds from).
pub fn stack_dir(dir: &Path, modules_of: Option<&Path>) {
    std::fs::create_dir_all(dir.join("environments")).expect("scratch dir");
    if let Some(repo) = modules_of {
        copy_dir(&repo.join("modules"), &dir.join("modules"));
    }
}

/// The stack directory of one fuzzing process of `target`, in the temporary directory:
/// made once (see [`stack_dir`]), rewritten for every input.
pub fn scratch(target: &str, modules_of: Option<&Path>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stackc-fuzz-{target}-{}", std::process::id()));
    stack_dir(&dir, modules_of);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory of modules/");
    for entry in std::fs::read_dir(from).expect("read modules/") {
        let entry = entry.expect("an entry of modules/");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a file of modules/");
        }
    }
}

/// Writes the input as a stack directory under `dir` (which has `environments/`): before
/// the first `\n---\n` stack.toml, after it environments/dev.toml.
fn write_stack(dir: &Path, text: &str) {
    let (stack, env) = text.split_once("\n---\n").unwrap_or((text, DEFAULT_ENV));
    std::fs::write(dir.join("stack.toml"), stack).expect("write stack.toml");
    std::fs::write(dir.join("environments/dev.toml"), env).expect("write dev.toml");
}

/// Renders a failure's diagnostics every way stackc prints them (spans to lines and
/// columns included). A stack failure always has at least one.
fn report<T>(result: Result<T, Failure>, sources: &SourceMap) {
    match result {
        Ok(_) => {}
        Err(Failure::Stack(diags)) => {
            assert!(!diags.is_empty(), "a failure without diagnostics");
            let _ = render_human(&diags, sources, false);
            let _ = render_human(&diags, sources, true);
            let _ = render_json(&diags, sources);
            for diag in &diags {
                let _ = diag.position(sources);
            }
        }
        Err(Failure::Io(_)) => {}
    }
}

/// Writes the input as a stack directory under `dir` (which has `environments/`) and
/// runs load + check on it, then renders whatever diagnostics came out. Must not panic.
pub fn loader(dir: &Path, text: &str) {
    write_stack(dir, text);
    let mut sources = SourceMap::default();
    let result = plans(&Source::Dir(dir.to_path_buf()), None, &mut sources);
    report(result, &sources);
}

/// As [`loader`], through the whole pipeline in memory: whatever passes check is built,
/// validated (strict schemas, references, the NetworkPolicy proof), run through policy
/// and emitted as the rendered tree (nothing is written). Must not panic.
pub fn render(dir: &Path, text: &str) {
    write_stack(dir, text);
    let mut sources = SourceMap::default();
    let result = compile(&Source::Dir(dir.to_path_buf()), None, &mut sources);
    if let Ok(compiled) = &result {
        assert!(
            !compiled.tree.files.is_empty(),
            "a compiled stack renders files"
        );
    }
    report(result, &sources);
}

/// Parses `text` as manifests and runs every policy rule over them. Must not panic.
pub fn policy_yaml(text: &str) {
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
