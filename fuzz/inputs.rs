//! The per-input code of the fuzz targets, shared with `tests/fuzz_corpus.rs` (which
//! replays the corpora on stable Rust): each function must not panic on any input.
#![allow(dead_code)]

use std::path::Path;

use stackc::diag::{SourceMap, render_human, render_json};
use stackc::load::Source;
use stackc::pipeline::{Failure, plans};
use stackc::policy::{Options, Subject, input, run, to_diagnostics};

/// environments/dev.toml when the input has no `\n---\n` marker.
const DEFAULT_ENV: &str = "# dev: nothing differs\n";

/// Writes the input as a stack directory under `dir` (which has `environments/`) and
/// runs load + check on it, then renders whatever diagnostics came out. Must not panic.
pub fn loader(dir: &Path, text: &str) {
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
