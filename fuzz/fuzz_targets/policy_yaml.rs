//! Fuzz target: `stackc policy` on an arbitrary YAML text: parse (multi-document),
//! every object through every rule (schema and pinned included), then the findings
//! rendered as diagnostics. The per-input code is in fuzz/inputs.rs, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../inputs.rs"]
mod inputs;

use inputs::policy_yaml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        policy_yaml(text);
    }
});
