//! Data-driven test of bad inputs: every directory under `tests/cases/bad/` is a small
//! stack project that `stackc render` must reject, and an `expected` file saying how.
//!
//! `expected` format (written by hand from the case's files, never copied from stackc):
//!
//! ```text
//! exit=1                                   first line: the exit code (1 or 2)
//! unknown-key environments/dev.toml:4:1    an error: code and file:line:column (1-based,
//!                                          column in characters); or code and file only,
//!                                          for a diagnostic about a whole file
//! stderr-contains no stack.toml            (exit 2) text stderr must contain
//! help-contains did you mean `defaults`?   text the help of some error must contain
//! # comment
//! ```
//!
//! An optional `args` file holds extra words appended after `render` (e.g. `--env nope`).
//!
//! Each case is copied to a temporary directory beside a sentinel `rendered/` tree, and
//! run twice (`--format json` and human). The run must exit with the expected code,
//! report exactly the expected errors (none missing, none unexpected), give every error
//! a message and a help, and leave `rendered/` byte-for-byte as it was. Warnings are
//! not compared: a case describes what makes the stack wrong.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where an error points: `file` alone, or `file:line:column`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Located {
    code: String,
    file: Option<String>,
    line: Option<u64>,
    column: Option<u64>,
}

impl Located {
    fn position(&self) -> String {
        match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(column)) => format!("{file}:{line}:{column}"),
            (Some(file), _, _) => file.clone(),
            (None, _, _) => "(no location)".into(),
        }
    }
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.position())
    }
}

/// A parsed `expected` file.
#[derive(Debug, Default)]
struct Expected {
    exit: i32,
    errors: Vec<Located>,
    stderr_contains: Vec<String>,
    help_contains: Vec<String>,
}

fn parse_expected(text: &str) -> Result<Expected, String> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let first = lines.next().ok_or("`expected` is empty")?;
    let exit = first
        .strip_prefix("exit=")
        .and_then(|n| n.parse().ok())
        .filter(|n| [1, 2].contains(n))
        .ok_or_else(|| format!("first line must be exit=1 or exit=2, found `{first}`"))?;
    let mut expected = Expected {
        exit,
        ..Expected::default()
    };
    for line in lines {
        let (head, rest) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("malformed line `{line}`"))?;
        let rest = rest.trim();
        match head {
            "stderr-contains" => expected.stderr_contains.push(rest.to_owned()),
            "help-contains" => expected.help_contains.push(rest.to_owned()),
            code => expected.errors.push(parse_location(code, rest)?),
        }
    }
    if exit == 1 && expected.errors.is_empty() {
        return Err("exit=1 but no expected diagnostic".into());
    }
    if exit == 2 && expected.stderr_contains.is_empty() && expected.errors.is_empty() {
        return Err("exit=2 but nothing expected on stderr".into());
    }
    Ok(expected)
}

fn parse_location(code: &str, location: &str) -> Result<Located, String> {
    let bad = || format!("malformed location `{location}` for `{code}`");
    let parts: Vec<&str> = location.rsplitn(3, ':').collect();
    let numbers = match parts.as_slice() {
        [column, line, file] => match (line.parse(), column.parse()) {
            (Ok(line), Ok(column)) => Some((file.to_string(), line, column)),
            _ => None,
        },
        _ => None,
    };
    Ok(match numbers {
        Some((file, line, column)) => {
            if line == 0 || column == 0 {
                return Err(bad());
            }
            Located {
                code: code.to_owned(),
                file: Some(file),
                line: Some(line),
                column: Some(column),
            }
        }
        None if !location.is_empty() && !location.contains(char::is_whitespace) => Located {
            code: code.to_owned(),
            file: Some(location.to_owned()),
            line: None,
            column: None,
        },
        None => return Err(bad()),
    })
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/bad")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/cases/bad exists")
        .map(|e| e.expect("readable corpus entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Files of a case that describe the test rather than the stack.
const META_FILES: &[&str] = &["expected", "args"];

fn copy_case(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("readable case dir") {
        let entry = entry.expect("readable case entry");
        let name = entry.file_name();
        let target = to.join(&name);
        let path = entry.path();
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("create dir in temp copy");
            copy_case(&path, &target);
        } else if !META_FILES.iter().any(|m| name == *m) {
            std::fs::copy(&path, &target).expect("copy case file");
        }
    }
}

/// A `rendered/` tree that a rejected stack must not touch.
const SENTINEL: &[(&str, &[u8])] = &[
    (
        "dev/apps/x.yaml",
        b"# sentinel: stackc must not rewrite this\nkind: ConfigMap\n",
    ),
    (
        "dev/SHA256SUMS",
        b"0000000000000000000000000000000000000000000000000000000000000000  apps/x.yaml\n",
    ),
    ("prod/flux/kustomization.yaml", b"resources: []\n"),
    ("README", b"not a manifest \xff\xfe binary-ish bytes\n"),
];

fn write_sentinel(rendered: &Path) {
    for (rel, bytes) in SENTINEL {
        let path = rendered.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).expect("create sentinel dir");
        std::fs::write(&path, bytes).expect("write sentinel file");
    }
}

/// Every file under `dir` (relative path, with `/`) and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("readable rendered entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap();
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(rel.join("/"), std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn run(dir: &Path, json: bool, extra: &[String]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackc"));
    cmd.arg("-C").arg(dir);
    if json {
        cmd.args(["--format", "json"]);
    }
    cmd.arg("render")
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .expect("stackc runs")
}

/// Checks one case; every problem found is appended to `problems`.
fn check_case(case: &Path, problems: &mut Vec<String>) {
    let expected = match std::fs::read_to_string(case.join("expected"))
        .map_err(|e| format!("cannot read `expected`: {e}"))
        .and_then(|t| parse_expected(&t))
    {
        Ok(e) => e,
        Err(e) => return problems.push(e),
    };
    let extra: Vec<String> = std::fs::read_to_string(case.join("args"))
        .map(|t| t.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();

    let tmp = tempfile::tempdir().expect("temp dir");
    copy_case(case, tmp.path());
    let rendered = tmp.path().join("rendered");
    write_sentinel(&rendered);
    let before = snapshot(&rendered);

    // --- JSON run: the exact set of errors.
    let out = run(tmp.path(), true, &extra);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if code != expected.exit {
        problems.push(format!(
            "exit code {code}, expected {}\n  stdout: {stdout}\n  stderr: {stderr}",
            expected.exit
        ));
    }
    let mut actual = Vec::new();
    let mut helps = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("stdout line is not JSON ({e}): {line}"));
                continue;
            }
        };
        for field in [
            "severity", "code", "message", "file", "line", "column", "help",
        ] {
            if value.get(field).is_none() {
                problems.push(format!("diagnostic has no `{field}` field: {line}"));
            }
        }
        if value["severity"] != "error" {
            continue;
        }
        let text = |field: &str| value[field].as_str().unwrap_or("").trim().to_owned();
        let located = Located {
            code: text("code"),
            file: value["file"].as_str().map(str::to_owned),
            line: value["line"].as_u64(),
            column: value["column"].as_u64(),
        };
        if text("message").is_empty() {
            problems.push(format!("error {located} has an empty message"));
        }
        if text("help").is_empty() {
            problems.push(format!("error {located} has no help: {line}"));
        }
        helps.push(text("help"));
        actual.push(located);
    }
    // Compared as multisets: an error reported twice is as wrong as a missing one.
    let mut unexpected = actual;
    let mut missing = Vec::new();
    for want in &expected.errors {
        match unexpected.iter().position(|a| a == want) {
            Some(i) => {
                unexpected.remove(i);
            }
            None => missing.push(want),
        }
    }
    for m in missing {
        problems.push(format!("missing: {m}"));
    }
    for u in unexpected {
        problems.push(format!("unexpected: {u}"));
    }
    for text in &expected.help_contains {
        if !helps.iter().any(|h| h.contains(text.as_str())) {
            problems.push(format!("no help contains `{text}`: {helps:?}"));
        }
    }
    for text in &expected.stderr_contains {
        if !stderr.contains(text.as_str()) {
            problems.push(format!(
                "JSON run: stderr lacks `{text}`\n  stderr: {stderr}"
            ));
        }
    }
    if snapshot(&rendered) != before {
        problems.push("JSON run changed rendered/".into());
    }

    // --- Human run: the first expected position and a help are on stderr.
    let out = run(tmp.path(), false, &extra);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if code != expected.exit {
        problems.push(format!(
            "human run: exit code {code}, expected {}",
            expected.exit
        ));
    }
    if let Some(first) = expected.errors.first() {
        let position = first.position();
        if !stderr.contains(&position) {
            problems.push(format!("human run: stderr lacks `{position}`\n{stderr}"));
        }
        if !stderr.contains("help") {
            problems.push(format!("human run: stderr lacks `help`\n{stderr}"));
        }
    }
    for text in &expected.stderr_contains {
        if !stderr.contains(text.as_str()) {
            problems.push(format!(
                "human run: stderr lacks `{text}`\n  stderr: {stderr}"
            ));
        }
    }
    if snapshot(&rendered) != before {
        problems.push("human run changed rendered/".into());
    }
}

#[test]
fn every_bad_input_is_reported_where_it_was_written() {
    let cases = cases();
    assert!(!cases.is_empty(), "no cases in {}", corpus_dir().display());
    let mut report = String::new();
    let mut failed = 0;
    for case in &cases {
        let mut problems = Vec::new();
        check_case(case, &mut problems);
        if !problems.is_empty() {
            failed += 1;
            let name = case.file_name().unwrap().to_string_lossy();
            let _ = writeln!(report, "\n[{name}]");
            for p in problems {
                let _ = writeln!(report, "  - {}", p.replace('\n', "\n    "));
            }
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} bad-input cases failed:{report}",
        cases.len()
    );
}

#[test]
fn the_corpus_has_at_least_15_cases() {
    let cases = cases();
    assert!(
        cases.len() >= 15,
        "only {} cases in tests/cases/bad",
        cases.len()
    );
    for case in &cases {
        assert!(
            case.join("expected").is_file(),
            "{} has no `expected` file",
            case.display()
        );
    }
}

#[test]
fn expected_files_parse() {
    let e = parse_expected("exit=1\n# c\nunknown-key environments/dev.toml:4:1\nno-environments environments\nhelp-contains did you mean `x`?\n").unwrap();
    assert_eq!(e.exit, 1);
    assert_eq!(e.errors[0].position(), "environments/dev.toml:4:1");
    assert_eq!(e.errors[1].position(), "environments");
    assert_eq!(e.help_contains, ["did you mean `x`?"]);
    assert!(parse_expected("exit=3\n").is_err());
    assert!(parse_expected("exit=1\n").is_err());
    assert!(parse_expected("exit=1\nbad-code stack.toml:0:1\n").is_err());
}
