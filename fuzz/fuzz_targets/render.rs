//! Fuzz target: the whole pipeline in memory (`stackc::pipeline::compile`: load, check,
//! build, validate, policy, emit) on arbitrary stack.toml text, then both diagnostic
//! renderers. The stack directory holds the repository's `modules/` (the monitoring
//! templates), so a stack with `[monitoring]` is built too.
//!
//! The input is split on the first `\n---\n`: before it is stack.toml, after it
//! environments/dev.toml (without the marker, dev.toml is a fixed minimal file).
//! The per-input code is in fuzz/inputs.rs, shared with tests/fuzz_corpus.rs, which replays the corpus.
#![no_main]

#[path = "../inputs.rs"]
mod inputs;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use inputs::render;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        render(scratch(), text);
    }
});

/// One stack directory per fuzzing process, rewritten for every input.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        inputs::scratch(
            "render",
            Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")),
        )
    })
}
