//! The `stackc` binary: parse the command line, run the command, map the outcome to an exit code.
//! Everything else lives in the library (`stackc::cli`).

use std::process::ExitCode;

/// mimalloc 2: a render allocates and frees millions of small JSON nodes; glibc's malloc
/// spent a quarter of the process there (README, "Dependencies, and why", which also says
/// why version 2 and why its regions may be transparent huge pages).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let code = stackc::timings::time(|| "total".into(), stackc::cli::main);
    exit_now(code)
}

/// A closed pipe on the output (`stackc graph | head -1`) ends the process quietly, as
/// it ends any Unix filter, instead of a panic in `println!`: Rust starts programs with
/// SIGPIPE ignored, so the write fails and the print panics. Only pipes and sockets
/// raise SIGPIPE; files under `rendered/` never do (and an end at any point leaves
/// `rendered/` whole, as after a kill: see README, "Guarantees").
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    // SAFETY: setting a signal's disposition to its default is async-signal-safe and is
    // done before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn quiet_on_closed_pipe() {}

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
