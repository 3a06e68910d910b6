//! Opt-in stage timings for profiling: with `STACKC_TIMINGS=1` in the environment, each
//! pipeline stage prints how long it took to stderr, and the resident memory after it
//! where the OS tells it (`timing: prod build 12.3 ms (resident 61 MiB)`).
//! Nothing else changes: output files and stdout are the same with or without it.

use std::sync::LazyLock;
use std::time::Instant;

static ENABLED: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("STACKC_TIMINGS").is_some_and(|v| v != "0"));

/// Runs `f`, and reports its duration under `what` when timings are on.
pub fn time<R>(what: impl FnOnce() -> String, f: impl FnOnce() -> R) -> R {
    let started = start();
    let result = f();
    report(started, what);
    result
}

/// The start of a stage whose code is not one closure; pair with [`report`].
pub fn start() -> Option<Instant> {
    ENABLED.then(Instant::now)
}

/// Reports the time since `started` under `what`, when timings are on.
pub fn report(started: Option<Instant>, what: impl FnOnce() -> String) {
    if let Some(started) = started {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match resident_mib() {
            Some(mib) => eprintln!("timing: {} {ms:.1} ms (resident {mib} MiB)", what()),
            None => eprintln!("timing: {} {ms:.1} ms", what()),
        }
    }
}

/// The process's resident memory now, where the OS tells it (Linux `/proc`).
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
