//! Opt-in stage timings for profiling: with `STACKC_TIMINGS=1` in the environment, each
//! pipeline stage prints to stderr how long it took, when it started (since the first
//! stage: stages of different environments overlap), the CPU time all threads spent
//! during it and the resident memory after it, where the OS tells them
//! (`timing: prod build 12.3 ms (from 20.1 ms, cpu 21.0 ms, resident 61 MiB)`).
//! Nothing else changes: output files and stdout are the same with or without it.

use std::sync::{LazyLock, OnceLock};
use std::time::Instant;

static ENABLED: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("STACKC_TIMINGS").is_some_and(|v| v != "0"));

/// When the first stage started: the origin of every stage's `from`.
static ORIGIN: OnceLock<Instant> = OnceLock::new();

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
    ENABLED.then(|| {
        let wall = Instant::now();
        ORIGIN.get_or_init(|| wall);
        Started {
            wall,
            cpu: cpu_ms(),
        }
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
        let from = ORIGIN.get().map(|origin| {
            let ms = started.wall.duration_since(*origin).as_secs_f64() * 1000.0;
            format!("from {ms:.1} ms")
        });
        let resident = resident_mib().map(|mib| format!("resident {mib} MiB"));
        let details: Vec<String> = from.into_iter().chain(cpu).chain(resident).collect();
        eprintln!("timing: {} {ms:.1} ms ({})", what(), details.join(", "));
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
