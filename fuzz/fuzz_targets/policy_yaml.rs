//! Fuzz target: `stackc policy` on an arbitrary YAML text: parse (multi-document),
//! every object through every rule (schema and pinned included), then the findings
//! rendered as diagnostics. The same per-input code is in tests/fuzz_corpus.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackc::diag::{SourceMap, render_human, render_json};
use stackc::policy::{Options, Subject, input, run, to_diagnostics};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        policy_yaml(text);
    }
});

// ---- shared with tests/fuzz_corpus.rs (keep identical) ----

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
