//! Fuzz target: load → model → check (`stackc::pipeline::plans`) on arbitrary
//! stack.toml text, then both diagnostic renderers (span → line/column on any span).
//!
//! The input is split on the first `\n---\n`: before it is stack.toml, after it
//! environments/dev.toml (without the marker, dev.toml is a fixed minimal file).
//! The same per-input code is in tests/fuzz_corpus.rs, which replays the corpus.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stackc::diag::{SourceMap, render_human, render_json};
use stackc::load::Source;
use stackc::pipeline::{Failure, plans};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        loader(scratch(), text);
    }
});

/// One stack directory per fuzzing process, rewritten for every input.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("stackc-fuzz-loader-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("environments")).expect("scratch dir");
        dir
    })
}

// ---- shared with tests/fuzz_corpus.rs (keep identical) ----

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
