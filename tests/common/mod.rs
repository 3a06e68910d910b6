//! Helpers shared by the integration tests: temp copies of a stack, running the real
//! binary, and byte-for-byte snapshots of a directory.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where the reference stack.toml lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp directory holding a copy of the reference stack's sources (and rendered/ if asked).
pub fn copy_reference(with_rendered: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(repo().join("stack.toml"), dir.path().join("stack.toml"))
        .expect("copy stack.toml");
    copy_dir(
        &repo().join("environments"),
        &dir.path().join("environments"),
    );
    copy_dir(&repo().join("modules"), &dir.path().join("modules"));
    if with_rendered {
        copy_dir(&repo().join("rendered"), &dir.path().join("rendered"));
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let target = to.join(entry.path().strip_prefix(from).expect("prefix"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Runs stackc with `args` against the stack in `dir`.
pub fn stackc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("run stackc")
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file under `dir`, path (relative, `/`-separated) → bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("prefix")
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, std::fs::read(entry.path()).expect("read"));
        }
    }
    files
}

/// The files of one environment (`<env>/...`) of a snapshot of rendered/.
pub fn env_files(tree: &BTreeMap<String, Vec<u8>>, env: &str) -> BTreeMap<String, Vec<u8>> {
    let prefix = format!("{env}/");
    tree.iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect()
}

/// Replaces `from` with `to` in a file, asserting it was there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// Builds every `rendered/<env>/<layer>` with `kubectl kustomize`, as Flux's
/// kustomize-controller does; returns how many layers were built (0 without kubectl,
/// which only a developer machine may lack: CI must have it).
pub fn kustomize_every_layer(rendered: &Path) -> usize {
    if Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "CI must have kubectl");
        eprintln!("kubectl not found: kustomize builds skipped");
        return 0;
    }
    let mut layers = 0;
    for env in std::fs::read_dir(rendered).expect("rendered/") {
        for layer in std::fs::read_dir(env.expect("env dir").path()).expect("env dir") {
            let layer = layer.expect("layer").path();
            if !layer.is_dir() {
                continue;
            }
            let out = Command::new("kubectl")
                .arg("kustomize")
                .arg(&layer)
                .output()
                .expect("kubectl runs");
            assert!(
                out.status.success(),
                "kubectl kustomize {}: {}",
                layer.display(),
                stderr(&out)
            );
            assert!(
                stdout(&out).contains("kind:"),
                "{} built nothing",
                layer.display()
            );
            layers += 1;
        }
    }
    layers
}
