//! How the process ends when its reader goes away: `stackc ... | head -1` must end
//! quietly, as any Unix filter does, not with a panic message and exit code 101.

#![cfg(unix)]

use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_process_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .arg("schema")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stackc starts");
    // Close the reading end before stackc writes its ~55 KB of JSON Schema.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("stackc ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "ended by SIGPIPE, like any filter whose reader left: {:?}, stderr: {stderr}",
        out.status
    );
}
