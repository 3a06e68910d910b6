//! The `stackc` binary: parse the command line, run the command, map the outcome to an exit code.
//! Everything else lives in the library (`stackc::cli`).

use std::process::ExitCode;

/// mimalloc (built with `no_thp`): a render allocates and frees millions of small JSON nodes;
/// glibc's malloc spent a quarter of the process there (README, "Dependencies, and why").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let code = stackc::timings::time(|| "total".into(), stackc::cli::main);
    exit_now(code)
}

/// Ends the process with `code` once standard output is flushed, without running the C
/// library's exit handlers: the one that costs is mimalloc's, which returns every heap
/// page to the system one by one just before the kernel drops the whole address space
/// anyway (10 ms at 500 apps, on one core, after the work is done).
#[cfg(unix)]
fn exit_now(code: u8) -> ExitCode {
    use std::io::Write as _;
    // As at a normal exit, a failed flush (a closed pipe) is not an error of its own.
    let _ = std::io::stdout().flush();
    // SAFETY: `_exit` only ends the process. Everything stackc writes is flushed: its
    // files are written, renamed and closed before `run` returns, standard error is
    // unbuffered, and standard output was flushed just above.
    unsafe { libc::_exit(i32::from(code)) }
}

#[cfg(not(unix))]
fn exit_now(code: u8) -> ExitCode {
    ExitCode::from(code)
}
