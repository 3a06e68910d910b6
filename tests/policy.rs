//! Data-driven test of `stackc policy PATH`: a corpus of bad manifests, each naming the
//! exact set of rules it must trigger, good manifests that must be clean, the reference
//! stack and its committed `rendered/` tree, the SARIF output validated against the
//! vendored SARIF 2.1.0 schema, YAML syntax errors and I/O errors.
//!
//! Bad cases live in `tests/cases/policy/bad/<case>.yaml`. Their leading comment block
//! is the expectation, written by hand from the rule definitions (never copied from
//! stackc's output):
//!
//! ```text
//! # expect: <rule-id>[, <rule-id>...]     first line: exactly the rules that must fire
//! # args: --pinned                        optional: extra words after `policy`
//! # any other comment
//! ```
//!
//! Each bad file is run alone with `stackc --format json policy [args] <file>`. The set
//! of rule ids (`code` of the error and warning lines) must equal the expected set, and
//! the exit code must be 1 when some expected rule is an error (0 when every expected
//! rule is a warning: warnings never fail a run). Good cases in
//! `tests/cases/policy/good/*.yaml` must exit 0 with no output at all, alone and together.
//! Every test collects all failures before panicking.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Rules that no bad case covers, with the reason. Every rule is coverable today, so
/// this is empty; an entry must say why the rule cannot be triggered by a manifest.
const UNCOVERABLE: &[(&str, &str)] = &[];

/// Rules covered only together with another rule, with the reason.
const NOT_ALONE: &[(&str, &str)] = &[(
    "no-privileged",
    "the API server rejects privileged: true with allowPrivilegeEscalation: false, so a \
     realistic privileged container also fires no-privilege-escalation",
)];

/// Diagnostics about the input files themselves, reported like findings in SARIF.
const INPUT_CHECKS: &[&str] = &["yaml-syntax", "yaml-limit", "invalid-encoding"];

/// The least number of bad cases the corpus must hold.
const MIN_BAD_CASES: usize = 30;

/// The log collector's waivers (hostPath /var/log/pods, read as root): the only
/// findings the committed tree may have, on exactly this object.
fn waived_log_collector(code: &str, message: &str) -> bool {
    ["no-host-path", "run-as-non-root"].contains(&code)
        && message.starts_with("DaemonSet/monitoring-logs/promtail")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs stackc in the repository root (so paths in findings stay relative).
fn stackc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .current_dir(repo())
        .args(args)
        .output()
        .expect("run stackc")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("stackc exited with a code")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON lines of `--format json` output; an unparsable line is an error.
fn json_lines(text: &str) -> Result<Vec<Value>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("not JSON ({e}): {l}")))
        .collect()
}

/// Rule ids of the lines with severity error or warning.
fn finding_codes(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|l| matches!(l["severity"].as_str(), Some("error" | "warning")))
        .filter_map(|l| l["code"].as_str().map(str::to_owned))
        .collect()
}

/// rule id → severity ("error" / "warning"), from `stackc policy --list`: the lines that
/// do not start with whitespace hold the id and the severity in their first two columns.
fn listed_rules() -> BTreeMap<String, String> {
    let out = stackc(&["policy", "--list"]);
    assert_eq!(code(&out), 0, "policy --list: {}", stderr(&out));
    let rules: BTreeMap<String, String> = stdout(&out)
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(char::is_whitespace))
        .map(|l| {
            let mut words = l.split_whitespace();
            let id = words.next().expect("a rule id").to_owned();
            let severity = words.next().expect("a severity").to_owned();
            (id, severity)
        })
        .collect();
    assert!(
        rules.len() >= 10,
        "policy --list lists too few rules: {rules:?}"
    );
    for (id, severity) in &rules {
        assert!(
            severity == "error" || severity == "warning",
            "rule `{id}` has severity `{severity}`"
        );
    }
    rules
}

/// One bad manifest and what it must produce.
#[derive(Debug)]
struct BadCase {
    /// Relative to the repository root.
    path: String,
    expect: BTreeSet<String>,
    args: Vec<String>,
}

fn yaml_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p.file_name().expect("a file name").to_string_lossy();
            format!("{dir}/{name}")
        })
        .collect();
    files.sort();
    files
}

/// Parses the header of every bad case; a malformed header is a failure.
fn bad_cases() -> Vec<BadCase> {
    let mut cases = Vec::new();
    let mut failures = Vec::new();
    for path in yaml_files("tests/cases/policy/bad") {
        let text = std::fs::read_to_string(repo().join(&path)).expect("read case");
        let mut lines = text.lines();
        let Some(expect) = lines.next().and_then(|l| l.strip_prefix("# expect:")) else {
            failures.push(format!(
                "{path}: the first line is not `# expect: <rule-id>, ...`"
            ));
            continue;
        };
        let expect: BTreeSet<String> = expect
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if expect.is_empty() {
            failures.push(format!("{path}: `# expect:` names no rule"));
            continue;
        }
        let args = lines
            .take_while(|l| l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("# args:"))
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect();
        cases.push(BadCase { path, expect, args });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    cases
}

fn fail(failures: &[String], what: &str) {
    if !failures.is_empty() {
        let mut msg = format!("{} {what}:\n", failures.len());
        for f in failures {
            let _ = writeln!(msg, "\n- {f}");
        }
        panic!("{msg}");
    }
}

#[test]
fn every_bad_case_fires_exactly_its_expected_rules() {
    let rules = listed_rules();
    let mut failures = Vec::new();
    for case in bad_cases() {
        let unknown: Vec<&String> = case
            .expect
            .iter()
            .filter(|r| !rules.contains_key(*r))
            .collect();
        if !unknown.is_empty() {
            failures.push(format!(
                "{}: `# expect:` names unknown rules {unknown:?}",
                case.path
            ));
            continue;
        }
        let mut args = vec!["--format", "json", "policy"];
        args.extend(case.args.iter().map(String::as_str));
        args.push(&case.path);
        let out = stackc(&args);
        let lines = match json_lines(&stdout(&out)) {
            Ok(lines) => lines,
            Err(e) => {
                failures.push(format!("{}: {e}", case.path));
                continue;
            }
        };
        let actual = finding_codes(&lines);
        let expected_exit = if case.expect.iter().any(|r| rules[r] == "error") {
            1
        } else {
            0
        };
        let mut problems = Vec::new();
        if code(&out) != expected_exit {
            problems.push(format!("exit {} (expected {expected_exit})", code(&out)));
        }
        let missing: Vec<&String> = case.expect.difference(&actual).collect();
        let unexpected: Vec<&String> = actual.difference(&case.expect).collect();
        if !missing.is_empty() {
            problems.push(format!("missing {missing:?}"));
        }
        if !unexpected.is_empty() {
            problems.push(format!("unexpected {unexpected:?}"));
        }
        for line in &lines {
            let file_ok = line["file"].as_str() == Some(case.path.as_str());
            let text_ok = ["message", "help"]
                .iter()
                .all(|k| line[*k].as_str().is_some_and(|s| !s.trim().is_empty()));
            if !file_ok || !text_ok {
                problems.push(format!("malformed finding {line}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  stdout:\n{}  stderr:\n{}",
                case.path,
                problems.join("; "),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    fail(
        &failures,
        "bad cases do not fire exactly their expected rules",
    );
}

#[test]
fn the_corpus_is_large_enough_and_covers_every_rule() {
    let rules = listed_rules();
    let cases = bad_cases();
    let mut failures = Vec::new();
    if cases.len() < MIN_BAD_CASES {
        failures.push(format!(
            "only {} bad cases (at least {MIN_BAD_CASES} required)",
            cases.len()
        ));
    }
    let covered: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| c.expect.iter().map(String::as_str))
        .collect();
    for id in rules.keys() {
        let exception = UNCOVERABLE.iter().find(|(r, _)| r == id);
        match (covered.contains(id.as_str()), exception) {
            (false, None) => failures.push(format!("no bad case covers rule `{id}`")),
            (true, Some(_)) => failures.push(format!(
                "rule `{id}` is listed as uncoverable, but a bad case covers it: remove the exception"
            )),
            _ => {}
        }
    }
    for (id, reason) in UNCOVERABLE {
        if !rules.contains_key(*id) {
            failures.push(format!("exception for unknown rule `{id}` ({reason})"));
        }
    }
    // Each rule also has a case of its own, so a case cannot pass on another rule's
    // finding (except where a realistic manifest always triggers a second rule).
    for id in rules.keys() {
        let alone = cases
            .iter()
            .any(|c| c.expect.len() == 1 && c.expect.contains(id));
        let excused = NOT_ALONE.iter().any(|(r, _)| r == id);
        if covered.contains(id.as_str()) && !alone && !excused {
            failures.push(format!(
                "rule `{id}` is never the only expected rule of a case"
            ));
        }
    }
    fail(&failures, "corpus coverage problems");
}

#[test]
fn good_manifests_have_no_findings() {
    let files = yaml_files("tests/cases/policy/good");
    let mut failures = Vec::new();
    if files.len() < 6 {
        failures.push(format!("only {} good cases (at least 6)", files.len()));
    }
    let together = "tests/cases/policy/good".to_owned();
    for path in files.iter().chain([&together]) {
        for format in ["json", "human"] {
            let out = stackc(&["--format", format, "policy", path]);
            // Findings go to stdout in both formats (the human summary to stderr).
            let findings = stdout(&out);
            if code(&out) != 0 || !findings.trim().is_empty() {
                failures.push(format!(
                    "{path} ({format}): exit {}\n  stdout:\n{}  stderr:\n{}",
                    code(&out),
                    stdout(&out),
                    stderr(&out)
                ));
            }
        }
    }
    // Kinds the good corpus must exercise, so "no findings" means something.
    let mut kinds = BTreeSet::new();
    for path in &files {
        let text = std::fs::read_to_string(repo().join(path)).expect("read good case");
        kinds.extend(
            text.lines()
                .filter_map(|l| l.strip_prefix("kind: "))
                .map(|k| k.trim().to_owned()),
        );
    }
    for kind in [
        "Deployment",
        "StatefulSet",
        "CronJob",
        "Service",
        "Ingress",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ConfigMap",
        "ServiceAccount",
        "Kustomization",
        "GitRepository",
        "Certificate",
        "ServiceMonitor",
        "ExternalSecret",
    ] {
        if !kinds.contains(kind) {
            failures.push(format!("no good case holds a {kind}"));
        }
    }
    fail(&failures, "good cases are not clean");
}

#[test]
fn pinned_on_the_command_line_requires_digests_in_every_environment() {
    let out = stackc(&["--format", "json", "policy", "--pinned"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let lines = json_lines(&stdout(&out)).unwrap();
    assert_eq!(
        finding_codes(&lines),
        BTreeSet::from(["image-digest".to_owned()]),
        "tags only, no digests: every finding is image-digest"
    );
    for env in ["dev", "staging", "prod"] {
        assert!(
            lines.iter().any(|l| l["file"]
                .as_str()
                .is_some_and(|f| f.starts_with(&format!("rendered/{env}/")))),
            "no finding in {env}"
        );
    }
    let out = stackc(&["--format", "json", "policy", "--pinned", "--env", "dev"]);
    assert_eq!(code(&out), 1);
    let lines = json_lines(&stdout(&out)).unwrap();
    assert!(
        lines.iter().all(|l| l["file"]
            .as_str()
            .unwrap_or_default()
            .starts_with("rendered/dev/")),
        "--env dev: {lines:?}"
    );
}

#[test]
fn the_reference_stack_passes_policy_with_its_waiver() {
    let mut failures = Vec::new();
    for format in ["json", "human"] {
        let out = stackc(&["--format", format, "policy"]);
        if code(&out) != 0 || !stdout(&out).trim().is_empty() {
            failures.push(format!(
                "`stackc --format {format} policy` in the repository root: exit {}\n  stdout:\n{}  stderr:\n{}",
                code(&out),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    fail(&failures, "reference stack failures");
}

#[test]
fn the_committed_rendered_tree_has_no_finding() {
    // PATH mode has no waivers and adds the strict schema rule. The reference stack
    // waives only the log collector's host path and uid 0 (stack.toml says why); its
    // NetworkPolicies come from the dependency graph, so nothing else is found.
    let out = stackc(&["--format", "json", "policy", "rendered"]);
    let lines = json_lines(&stdout(&out)).expect("JSON lines");
    let mut failures = Vec::new();
    let mut waived = 0;
    for line in &lines {
        let code = line["code"].as_str().unwrap_or_default();
        let message = line["message"].as_str().unwrap_or_default();
        if waived_log_collector(code, message) {
            waived += 1;
        } else {
            failures.push(format!("unexpected finding {line}"));
        }
    }
    // no-host-path and run-as-non-root on Promtail, in each of the three environments.
    if waived != 6 {
        failures.push(format!("{waived} log-collector findings (expected 6)"));
    }
    if code(&out) != 1 {
        failures.push(format!(
            "exit {} (expected 0); stderr:\n{}",
            code(&out),
            stderr(&out)
        ));
    }
    fail(&failures, "problems in rendered/");
}

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/sarif-2.1.0-rtm.5.json"))
        .expect("read the SARIF schema");
    // The rtm.5 schema has one pattern (`run.language`, twice) with a stray `]`. ECMA-262
    // reads a lone `]` as a literal, the Rust regex engine rejects it, and so
    // jsonschema's meta-schema check refuses the whole schema. Escaping it keeps the
    // ECMA-262 meaning exactly; the count check notices when the fixture changes.
    const ECMA: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    const RUST: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#;
    assert_eq!(
        text.matches(ECMA).count(),
        2,
        "the vendored SARIF schema changed: revisit the pattern fix-up"
    );
    let text = text.replace(ECMA, RUST);
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-04/schema#",
        "the vendored SARIF schema is draft-04"
    );
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    assert_eq!(
        validator.draft(),
        jsonschema::Draft::Draft4,
        "the SARIF schema must be validated as draft 4"
    );
    validator
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
        .collect()
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_and_matches_the_json_findings() {
    let dir = "tests/cases/policy/bad";
    let out = stackc(&["--format", "sarif", "policy", dir]);
    assert_eq!(code(&out), 1, "stderr:\n{}", stderr(&out));
    let log: Value = serde_json::from_str(&stdout(&out)).expect("SARIF output is JSON");
    let validator = sarif_validator();
    let mut failures: Vec<String> = schema_errors(&validator, &log);

    // The validator must reject invalid logs, or the check above proves nothing.
    let mut broken = log.clone();
    broken
        .as_object_mut()
        .expect("a SARIF log is an object")
        .remove("version");
    if validator.is_valid(&broken) {
        failures.push("a SARIF log without `version` passes the schema".to_owned());
    }
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    if validator.is_valid(&broken) {
        failures.push("a result with level `fatal` passes the schema".to_owned());
    }
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    if validator.is_valid(&broken) {
        failures.push("a region with startLine 0 passes the schema".to_owned());
    }

    let run = &log["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .map(|rules| rules.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    let listed = listed_rules();
    let driver_rules: BTreeSet<&str> = rules.iter().copied().collect();
    // The policy rules, then the checks of the input itself (whose errors are results too).
    let mut listed_ids: BTreeSet<&str> = listed.keys().map(String::as_str).collect();
    listed_ids.extend(INPUT_CHECKS);
    if driver_rules != listed_ids {
        failures.push(format!(
            "driver rules {driver_rules:?} differ from `policy --list` and the input checks {listed_ids:?}"
        ));
    }
    let results = run["results"].as_array().cloned().unwrap_or_default();
    for r in &results {
        let id = r["ruleId"].as_str().unwrap_or_default();
        match rules.iter().position(|x| *x == id) {
            None => failures.push(format!("result ruleId `{id}` is not a driver rule")),
            Some(i) => {
                if r["ruleIndex"].as_u64() != u64::try_from(i).ok() {
                    failures.push(format!(
                        "result for `{id}` has ruleIndex {} (driver index {i})",
                        r["ruleIndex"]
                    ));
                }
            }
        }
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default();
        if !uri.starts_with(dir) {
            failures.push(format!("result for `{id}` points at `{uri}`"));
        }
    }

    let json = stackc(&["--format", "json", "policy", dir]);
    let findings: Vec<Value> = json_lines(&stdout(&json))
        .expect("JSON lines")
        .into_iter()
        .filter(|l| matches!(l["severity"].as_str(), Some("error" | "warning")))
        .collect();
    if results.len() != findings.len() {
        failures.push(format!(
            "{} SARIF results, but {} findings in the JSON output",
            results.len(),
            findings.len()
        ));
    }
    let count = |pairs: &mut dyn Iterator<Item = (String, String)>| {
        let mut map: BTreeMap<(String, String), usize> = BTreeMap::new();
        for p in pairs {
            *map.entry(p).or_default() += 1;
        }
        map
    };
    let from_sarif = count(&mut results.iter().map(|r| {
        (
            r["ruleId"].as_str().unwrap_or_default().to_owned(),
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }));
    let from_json = count(&mut findings.iter().map(|l| {
        (
            l["code"].as_str().unwrap_or_default().to_owned(),
            l["file"].as_str().unwrap_or_default().to_owned(),
        )
    }));
    if from_sarif != from_json {
        failures.push(format!(
            "(rule, file) counts differ:\n  SARIF {from_sarif:?}\n  JSON  {from_json:?}"
        ));
    }
    fail(&failures, "SARIF problems");
}

#[test]
fn sarif_of_a_clean_run_is_valid_too() {
    let out = stackc(&["--format", "sarif", "policy", "tests/cases/policy/good"]);
    assert_eq!(code(&out), 0, "stderr:\n{}", stderr(&out));
    let log: Value = serde_json::from_str(&stdout(&out)).expect("SARIF output is JSON");
    let errors = schema_errors(&sarif_validator(), &log);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp manifest");
    path
}

#[test]
fn a_yaml_syntax_error_is_reported_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Line 5: `namespace:` indented under a scalar; the `:` is at column 14.
    let broken = write(
        dir.path(),
        "broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: producer-config\n    namespace: conveyor-pipeline\ndata:\n  producer.yaml: |\n    topic: conveyor-readings\n",
    );
    // A second file in the same run is still checked.
    write(
        dir.path(),
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: coder-postgres\n  namespace: coder\nstringData:\n  password: hunter2\n",
    );
    let broken = broken.display().to_string();
    let mut failures = Vec::new();

    let out = stackc(&[
        "--format",
        "json",
        "policy",
        &dir.path().display().to_string(),
    ]);
    if code(&out) != 1 {
        failures.push(format!("exit {} (expected 1)", code(&out)));
    }
    let lines = json_lines(&stdout(&out)).expect("JSON lines");
    let syntax: Vec<&Value> = lines
        .iter()
        .filter(|l| l["code"] == "yaml-syntax")
        .collect();
    match syntax.as_slice() {
        [d] => {
            // Either `file` plus `line`/`column`, or `file` carrying `path:line:column`.
            let position = match (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()) {
                (Some(file), Some(line), Some(column)) => format!("{file}:{line}:{column}"),
                (Some(file), _, _) => file.to_owned(),
                _ => String::new(),
            };
            if position != format!("{broken}:5:14") {
                failures.push(format!(
                    "yaml-syntax at `{position}`, expected `{broken}:5:14`: {d}"
                ));
            }
            if d["severity"] != "error" {
                failures.push(format!("yaml-syntax is not an error: {d}"));
            }
        }
        _ => failures.push(format!(
            "expected one yaml-syntax diagnostic, got {}: {}",
            syntax.len(),
            stdout(&out)
        )),
    }
    if !finding_codes(&lines).contains("no-inline-secret-data") {
        failures.push(format!(
            "the valid file next to the broken one was not checked: {}",
            stdout(&out)
        ));
    }

    let human = stackc(&["policy", &broken]);
    if code(&human) != 1 || !stderr(&human).contains(&format!("{broken}:5:14")) {
        failures.push(format!(
            "human: exit {}, stderr without `{broken}:5:14`:\n{}",
            code(&human),
            stderr(&human)
        ));
    }
    // The summary counts the broken file.
    if !stderr(&human).contains("policy: 1 error and 0 warnings in 1 file") {
        failures.push(format!(
            "human: the summary does not count the broken file:\n{}",
            stderr(&human)
        ));
    }
    fail(&failures, "YAML syntax error problems");
}

#[test]
fn a_nonexistent_path_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-manifests");
    let missing = missing.display().to_string();
    let mut failures = Vec::new();
    for format in ["human", "json", "sarif"] {
        let out = stackc(&["--format", format, "policy", &missing]);
        if code(&out) != 2 || !stderr(&out).contains(&missing) {
            failures.push(format!(
                "{format}: exit {} (expected 2), stderr:\n{}",
                code(&out),
                stderr(&out)
            ));
        }
    }
    // One missing path among good ones is still an I/O error.
    let out = stackc(&["policy", "tests/cases/policy/good", &missing]);
    if code(&out) != 2 {
        failures.push(format!("mixed paths: exit {} (expected 2)", code(&out)));
    }
    fail(&failures, "I/O error problems");
}

/// A Secret with inline data: one `no-inline-secret-data` error wherever it is read.
const INLINE_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: coder-postgres\n  namespace: coder\nstringData:\n  password: hunter2\n";

/// The files of the findings (error and warning lines) of `--format json` output.
fn finding_files(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| matches!(l["severity"].as_str(), Some("error" | "warning")))
        .filter_map(|l| l["file"].as_str().map(str::to_owned))
        .collect()
}

#[cfg(unix)]
#[test]
fn symlinked_files_are_followed_given_or_in_a_directory_and_loops_end() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().expect("temp dir");
    write(tmp.path(), "secret.yaml", INLINE_SECRET);
    let dir = tmp.path().join("dir");
    std::fs::create_dir(&dir).expect("mkdir");
    symlink("../secret.yaml", dir.join("linked.yaml")).expect("symlink");
    // A link to its own directory: walking must end, each file read once.
    symlink(".", dir.join("self")).expect("symlink");
    let linked = dir.join("linked.yaml").display().to_string();
    let mut failures = Vec::new();
    for (what, arg, files) in [
        ("the link itself", linked.clone(), vec![linked.clone()]),
        (
            "its directory",
            dir.display().to_string(),
            vec![linked.clone()],
        ),
    ] {
        let out = stackc(&["--format", "json", "policy", &arg]);
        let lines = json_lines(&stdout(&out)).expect("JSON lines");
        if code(&out) != 1 || finding_files(&lines) != files {
            failures.push(format!(
                "{what}: exit {} (expected 1), findings in {:?} (expected {files:?}):\n{}{}",
                code(&out),
                finding_files(&lines),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    // A dangling link named like a manifest is an I/O error naming it.
    symlink("nowhere.yaml", dir.join("dangling.yaml")).expect("symlink");
    let out = stackc(&["policy", &dir.display().to_string()]);
    if code(&out) != 2 || !stderr(&out).contains("dangling.yaml") {
        failures.push(format!(
            "dangling link: exit {} (expected 2), stderr:\n{}",
            code(&out),
            stderr(&out)
        ));
    }
    fail(&failures, "symbolic link problems");
}

/// The same Secret under another name, so its finding tells its file apart.
fn inline_secret(name: &str) -> String {
    INLINE_SECRET.replace("coder-postgres", name)
}

#[cfg(unix)]
#[test]
fn a_file_reached_directly_and_through_links_is_checked_once_by_its_own_path() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("dir");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    write(&dir, "secret.yaml", &inline_secret("one"));
    write(&dir.join("sub"), "other.yaml", &inline_secret("two"));
    // Each link sorts before the path it leads to.
    symlink("secret.yaml", dir.join("a-link.yaml")).expect("symlink");
    symlink("sub", dir.join("alias")).expect("symlink");
    let secret = dir.join("secret.yaml").display().to_string();
    let other = dir.join("sub/other.yaml").display().to_string();
    let dir_arg = dir.display().to_string();
    let mut failures = Vec::new();
    for args in [vec![dir_arg.clone()], vec![dir_arg.clone(), secret.clone()]] {
        let mut words = vec!["--format", "json", "policy"];
        words.extend(args.iter().map(String::as_str));
        let out = stackc(&words);
        let lines = json_lines(&stdout(&out)).expect("JSON lines");
        let expected = vec![secret.clone(), other.clone()];
        if code(&out) != 1 || finding_files(&lines) != expected {
            failures.push(format!(
                "policy {args:?}: exit {} (expected 1), findings in {:?} (expected {expected:?}):\n{}{}",
                code(&out),
                finding_files(&lines),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    fail(&failures, "files reached twice");
}

/// Capabilities that let root read whatever the permission bits say (capability(7)).
#[cfg(unix)]
const CAP_DAC_OVERRIDE: libc::c_ulong = 1;
#[cfg(unix)]
const CAP_DAC_READ_SEARCH: libc::c_ulong = 2;

/// `program args` run so that permission bits apply to it: as root, without the two
/// capabilities that override them (dropped from the bounding set in the child before
/// it executes, so the new program never has them).
#[cfg(unix)]
fn without_dac_override(program: &str, args: &[&str]) -> std::io::Result<Output> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    command.current_dir(repo()).args(args);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // SAFETY: between fork and exec only async-signal-safe calls (prctl) are made.
        unsafe {
            command.pre_exec(|| {
                for cap in [CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH] {
                    if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                let clear = libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong;
                if libc::prctl(libc::PR_CAP_AMBIENT, clear, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command.output()
}

#[cfg(unix)]
#[test]
fn an_unreadable_directory_is_an_io_error_and_the_other_files_are_checked() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("dir");
    let locked = dir.join("locked");
    std::fs::create_dir_all(&locked).expect("mkdir");
    write(&locked, "hidden.yaml", &inline_secret("hidden"));
    write(&dir, "secret.yaml", &inline_secret("visible"));
    let set_mode = |mode| std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(mode));
    set_mode(0o000).expect("chmod 000");
    let locked_arg = locked.display().to_string();
    // Root reads through permission bits; without its override it cannot. Where neither
    // works (no capability to drop), the directory cannot be made unreadable here.
    let probe = without_dac_override("ls", &[&locked_arg]);
    if !probe.as_ref().is_ok_and(|p| !p.status.success()) {
        set_mode(0o755).expect("chmod back");
        eprintln!(
            "SKIPPED an_unreadable_directory_is_an_io_error_and_the_other_files_are_checked: \
             cannot make {locked_arg} unreadable to a child process here (running as root and \
             unable to drop CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: {probe:?})"
        );
        return;
    }
    let dir_arg = dir.display().to_string();
    let out = without_dac_override(
        env!("CARGO_BIN_EXE_stackc"),
        &["--format", "json", "policy", &dir_arg],
    );
    set_mode(0o755).expect("chmod back");
    let out = out.expect("run stackc");
    let lines = json_lines(&stdout(&out)).expect("JSON lines");
    let err = stderr(&out);
    let mut failures = Vec::new();
    if code(&out) != 2 {
        failures.push(format!("exit {} (expected 2)", code(&out)));
    }
    if !err.contains(&format!("error: {locked_arg}: ")) || !err.contains("ermission denied") {
        failures.push(format!(
            "stderr names neither the directory nor the OS error:\n{err}"
        ));
    }
    let visible = dir.join("secret.yaml").display().to_string();
    if finding_files(&lines) != [visible.clone()] {
        failures.push(format!(
            "the readable file ({visible}) was not checked, alone: {:?}\n{}",
            finding_files(&lines),
            stdout(&out)
        ));
    }
    fail(&failures, "unreadable directory problems");
}

#[test]
fn large_valid_yaml_is_read_and_bombs_are_refused_fast_as_yaml_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 2,000 documents (more than the YAML library's default of 1,024), then a Secret.
    let mut many: String = (0..2000)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: coder}}\n---\n"
            )
        })
        .collect();
    many.push_str(INLINE_SECRET);
    write(dir.path(), "many.yaml", &many);
    // 130,000 keys (more than the library's default of 250,000 nodes), then a Secret.
    let mut wide =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide, namespace: coder}\ndata:\n"
            .to_owned();
    for i in 0..130_000 {
        let _ = writeln!(wide, "  k{i}: v{i}");
    }
    wide.push_str("---\n");
    wide.push_str(INLINE_SECRET);
    write(dir.path(), "wide.yaml", &wide);
    // Billion laughs: 9^9 values from 9 lines.
    let mut bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n".to_owned();
    for (prev, name) in ('a'..='h').zip('b'..='i') {
        let _ = writeln!(
            bomb,
            "{name}: &{name} [{}]",
            vec![format!("*{prev}"); 9].join(", ")
        );
    }
    bomb.push_str("kind: ConfigMap\n");
    write(dir.path(), "bomb.yaml", &bomb);
    write(
        dir.path(),
        "deep.yaml",
        &format!(
            "kind: ConfigMap\nx: {}{}\n",
            "[".repeat(200),
            "]".repeat(200)
        ),
    );

    let started = std::time::Instant::now();
    let out = stackc(&[
        "--format",
        "json",
        "policy",
        &dir.path().display().to_string(),
    ]);
    let elapsed = started.elapsed();
    let lines = json_lines(&stdout(&out)).expect("JSON lines");
    let mut failures = Vec::new();
    if code(&out) != 1 {
        failures.push(format!("exit {} (expected 1)", code(&out)));
    }
    let name = |l: &Value| {
        Path::new(l["file"].as_str().unwrap_or_default())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let inputs: BTreeMap<String, &Value> = lines
        .iter()
        .filter(|l| matches!(l["code"].as_str(), Some("yaml-syntax" | "yaml-limit")))
        .map(|l| (name(l), l))
        .collect();
    if inputs.keys().collect::<Vec<_>>() != ["bomb.yaml", "deep.yaml"] {
        failures.push(format!(
            "input errors for {:?}: {}",
            inputs.keys(),
            stdout(&out)
        ));
    }
    for (file, words) in [("bomb.yaml", "alias"), ("deep.yaml", "nested")] {
        let Some(d) = inputs.get(file) else { continue };
        let help = d["help"].as_str().unwrap_or_default();
        if d["code"] != "yaml-limit"
            || !d["message"].as_str().unwrap_or_default().contains(words)
            || !help.contains("at most")
            || d["line"].as_u64().is_none()
        {
            failures.push(format!(
                "{file}: expected a located yaml-limit about `{words}` naming the limit: {d}"
            ));
        }
    }
    let secrets: Vec<String> = lines
        .iter()
        .filter(|l| l["code"] == "no-inline-secret-data")
        .map(name)
        .collect();
    if secrets != ["many.yaml", "wide.yaml"] {
        failures.push(format!(
            "the Secrets after the large files were not all checked: {secrets:?}"
        ));
    }
    if elapsed > std::time::Duration::from_secs(60) {
        failures.push(format!("took {elapsed:?}"));
    }
    fail(&failures, "YAML limit problems");
}

#[test]
fn a_file_that_is_not_utf8_is_invalid_encoding_at_its_first_bad_byte_and_others_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Line 4, column 12: the Latin-1 `é` (0xE9) after `  name: caf`.
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("bin.yaml"), b"\xff\xfe bad").expect("write");
    write(dir.path(), "secret.yaml", INLINE_SECRET);
    let out = stackc(&[
        "--format",
        "json",
        "policy",
        &dir.path().display().to_string(),
    ]);
    let lines = json_lines(&stdout(&out)).expect("JSON lines");
    let mut failures = Vec::new();
    if code(&out) != 1 {
        failures.push(format!(
            "exit {} (expected 1), stderr:\n{}",
            code(&out),
            stderr(&out)
        ));
    }
    let encoding: Vec<String> = lines
        .iter()
        .filter(|l| l["code"] == "invalid-encoding")
        .map(|l| {
            let file = Path::new(l["file"].as_str().unwrap_or_default())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{file}:{}:{} {}", l["line"], l["column"], l["severity"])
        })
        .collect();
    if encoding != ["bin.yaml:1:1 \"error\"", "latin1.yaml:4:12 \"error\""] {
        failures.push(format!("invalid-encoding diagnostics: {encoding:?}"));
    }
    if !finding_codes(&lines).contains("no-inline-secret-data") {
        failures.push(format!("the UTF-8 file was not checked: {}", stdout(&out)));
    }
    fail(&failures, "encoding problems");
}

#[test]
fn sarif_reports_input_errors_as_located_results_and_stays_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "secret.yaml", INLINE_SECRET);
    // `namespace:` indented under a scalar: the `:` at line 5, column 14.
    write(
        dir.path(),
        "broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n    namespace: y\n",
    );
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"kind: ConfigMap\nx: caf\xe9\n",
    )
    .expect("write");
    write(
        dir.path(),
        "deep.yaml",
        &format!(
            "kind: ConfigMap\nx: {}{}\n",
            "[".repeat(100),
            "]".repeat(100)
        ),
    );
    let out = stackc(&[
        "--format",
        "sarif",
        "policy",
        &dir.path().display().to_string(),
    ]);
    let log: Value = serde_json::from_str(&stdout(&out)).expect("SARIF output is JSON");
    let mut failures = schema_errors(&sarif_validator(), &log);
    if code(&out) != 1 {
        failures.push(format!("exit {} (expected 1)", code(&out)));
    }
    let run = &log["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .map(|rules| rules.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    let mut results: Vec<String> = Vec::new();
    for r in run["results"].as_array().cloned().unwrap_or_default() {
        let id = r["ruleId"].as_str().unwrap_or_default().to_owned();
        if r["ruleIndex"]
            .as_u64()
            .and_then(|i| rules.get(usize::try_from(i).ok()?))
            != Some(&id.as_str())
        {
            failures.push(format!(
                "`{id}` has ruleIndex {} naming another rule",
                r["ruleIndex"]
            ));
        }
        let physical = &r["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default();
        let file = Path::new(uri)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        results.push(format!(
            "{id} {} {file}:{}:{}",
            r["level"].as_str().unwrap_or_default(),
            physical["region"]["startLine"],
            physical["region"]["startColumn"]
        ));
    }
    results.sort();
    let expected = [
        "invalid-encoding error latin1.yaml:2:7",
        "no-inline-secret-data error secret.yaml:1:null",
        "yaml-limit error deep.yaml:2:67",
        "yaml-syntax error broken.yaml:5:14",
    ];
    if results != expected {
        failures.push(format!("results {results:#?}, expected {expected:#?}"));
    }
    fail(&failures, "SARIF input error problems");
}

#[test]
fn list_follows_the_format_and_refuses_paths() {
    let mut failures = Vec::new();
    let out = stackc(&["--format", "json", "policy", "--list"]);
    match json_lines(&stdout(&out)) {
        Err(e) => failures.push(format!("--format json --list: {e}")),
        Ok(lines) => {
            let from_json: BTreeMap<String, String> = lines
                .iter()
                .map(|l| {
                    for key in ["summary", "help", "why"] {
                        if l[key].as_str().is_none_or(str::is_empty) {
                            failures.push(format!("rule without `{key}`: {l}"));
                        }
                    }
                    let field = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
                    (field("id"), field("severity"))
                })
                .collect();
            if code(&out) != 0 || from_json != listed_rules() {
                failures.push(format!(
                    "--format json --list: exit {}, rules {from_json:?} differ from the table",
                    code(&out)
                ));
            }
        }
    }
    for args in [
        &["--format", "sarif", "policy", "--list"][..],
        &["policy", "--list", "tests/cases/policy/good"],
        &["policy", "--list", "--env", "prod"],
    ] {
        let out = stackc(args);
        if code(&out) != 2 || !stdout(&out).is_empty() || !stderr(&out).contains("--list") {
            failures.push(format!(
                "{args:?}: exit {} (expected 2, a usage error naming --list), stdout:\n{}stderr:\n{}",
                code(&out),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    fail(&failures, "policy --list problems");
}
