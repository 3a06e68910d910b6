//! The `stackc` binary: parse the command line, run the command, map the outcome to an exit code.
//! Everything else lives in the library (`stackc::cli`).

use std::process::ExitCode;

/// mimalloc (built with `no_thp`): a render allocates and frees millions of small JSON nodes;
/// glibc's malloc spent a quarter of the process there (README, "Dependencies, and why").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    stackc::timings::time(|| "total".into(), stackc::cli::main)
}
