//! Opt-in stage timings for profiling: with `STACKC_TIMINGS=1` in the environment, each
//! pipeline stage prints how long it took to stderr, and the resident memory after it
//! and the CPU time all threads spent in it and the resident memory after it, where the
//! OS tells them (`timing: prod build 12.3 ms (cpu 21.0 ms, resident 61 MiB)`).
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

/// When a stage started: wall clock, and the process's CPU time where the OS tells it.
pub struct Started {
    wall: Instant,
    cpu: Option<f64>,
}

/// The start of a stage whose code is not one closure; pair with [`report`].
pub fn start() -> Option<Started> {
    ENABLED.then(|| Started {
        wall: Instant::now(),
        cpu: cpu_ms(),
    })
}

/// Reports the time since `started` under `what`, when timings are on.
pub fn report(started: Option<Started>, what: impl FnOnce() -> String) {
    if let Some(started) = started {
        let ms = started.wall.elapsed().as_secs_f64() * 1000.0;
        let cpu = started
            .cpu
            .zip(cpu_ms())
            .map(|(before, now)| format!("cpu {:.1} ms", now - before));
        let resident = resident_mib().map(|mib| format!("resident {mib} MiB"));
        let details: Vec<String> = cpu.into_iter().chain(resident).collect();
        if details.is_empty() {
            eprintln!("timing: {} {ms:.1} ms", what());
        } else {
            eprintln!("timing: {} {ms:.1} ms ({})", what(), details.join(", "));
        }
    }
}

/// CPU time used so far by all of the process's threads, in milliseconds.
#[cfg(unix)]
fn cpu_ms() -> Option<f64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Some(t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6)
}

#[cfg(not(unix))]
fn cpu_ms() -> Option<f64> {
    None
}

/// The process's resident memory now, where the OS tells it (Linux `/proc`).
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
