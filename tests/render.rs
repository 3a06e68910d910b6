//! The render pipeline as users meet it: the committed rendered/ tree is the golden
//! output, re-renders are byte-identical anywhere, every layer builds with
//! kubectl kustomize, SHA256SUMS verifies, and the writer touches only what changed.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn committed_rendered_tree_is_up_to_date() {
    let out = stackc(&repo(), &["render", "--check"]);
    assert_eq!(
        code(&out),
        0,
        "rendered/ is stale; run `stackc render`:\n{}",
        stdout(&out)
    );
}

/// A first render writes each environment ahead, into its temporary directory, as soon
/// as it is made, and ends with the same tree as the one committed; a render that finds
/// the environments there writes none ahead.
#[test]
fn a_first_render_writes_each_environment_ahead() {
    let dir = copy_reference(false);
    let render = || {
        Command::new(env!("CARGO_BIN_EXE_stackc"))
            .arg("-C")
            .arg(dir.path())
            .arg("render")
            .env("STACKC_TIMINGS", "1")
            .output()
            .expect("run stackc")
    };
    let first = render();
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    for env in ["dev", "staging", "prod"] {
        assert!(
            stderr(&first).contains(&format!("timing: {env} write ahead ")),
            "{env} was not written ahead:\n{}",
            stderr(&first)
        );
    }
    assert_eq!(
        snapshot(&dir.path().join("rendered")),
        snapshot(&repo().join("rendered"))
    );
    let again = render();
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        !stderr(&again).contains("write ahead"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn stackc_timings_reports_every_stage_on_stderr_only() {
    let run = |timings: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stackc"));
        command.arg("-C").arg(repo()).args(["render", "--check"]);
        command.env_remove("STACKC_TIMINGS");
        if let Some(value) = timings {
            command.env("STACKC_TIMINGS", value);
        }
        command.output().expect("run stackc")
    };
    let plain = run(None);
    let timed = run(Some("1"));
    assert_eq!(code(&timed), 0, "{}", stderr(&timed));
    assert_eq!(stdout(&timed), stdout(&plain));
    assert!(!stderr(&plain).contains("timing:"), "{}", stderr(&plain));
    assert!(!stderr(&run(Some("0"))).contains("timing:"));
    let report = stderr(&timed);
    let mut stages = vec!["load".to_owned(), "compare with rendered/".to_owned()];
    for env in ["dev", "staging", "prod"] {
        for stage in [
            "check",
            "build",
            "graph",
            "validate schemas, references, proof",
            "validate references",
            "validate network proof",
            "policy",
            "emit",
        ] {
            stages.push(format!("{env} {stage}"));
        }
    }
    for stage in stages {
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("timing: {stage} ")))
            .unwrap_or_else(|| panic!("no timing of {stage}:\n{report}"));
        let ms: f64 = line
            .split(" ms")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(ms >= 0.0, "{line}");
    }
}

#[test]
fn renders_are_byte_identical_from_any_directory_locale_and_timezone() {
    let a = copy_reference(false);
    let b = copy_reference(false);
    let first = stackc(a.path(), &["render"]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let other_cwd = tempfile::tempdir().unwrap();
    let second = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .current_dir(other_cwd.path())
        .env("TZ", "Pacific/Kiritimati")
        .env("LANG", "tr_TR.UTF-8")
        .env("LC_ALL", "tr_TR.UTF-8")
        .args(["--dir", b.path().to_str().unwrap(), "render"])
        .output()
        .unwrap();
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    let (ra, rb) = (
        snapshot(&a.path().join("rendered")),
        snapshot(&b.path().join("rendered")),
    );
    assert!(!ra.is_empty());
    assert_eq!(ra, rb);
    assert_eq!(
        ra,
        snapshot(&repo().join("rendered")),
        "a fresh render differs from the committed tree"
    );
}

#[test]
fn output_is_canonical_text() {
    for (path, bytes) in snapshot(&repo().join("rendered")) {
        let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{path} is not UTF-8"));
        assert!(!text.contains('\r'), "{path} has CR line endings");
        assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "{path} must end in exactly one newline"
        );
        if !path.ends_with("/SHA256SUMS") {
            assert_eq!(path, path.to_lowercase(), "object file names are lowercase");
        }
    }
}

#[test]
fn every_layer_builds_with_kubectl_kustomize() {
    let layers = kustomize_every_layer(&repo().join("rendered"));
    assert!(
        layers == 0 || layers >= 12,
        "expected flux, infra, data and apps in 3 environments, built {layers}"
    );
}

#[test]
fn sha256sums_verify_with_sha256sum() {
    for env in ["dev", "staging", "prod"] {
        let dir = repo().join("rendered").join(env);
        let out = Command::new("sha256sum")
            .args(["-c", "--strict", "SHA256SUMS"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{env}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let listed = std::fs::read_to_string(dir.join("SHA256SUMS"))
            .unwrap()
            .lines()
            .count();
        let files = snapshot(&dir).len();
        assert_eq!(
            listed,
            files - 1,
            "{env}: SHA256SUMS must list every file but itself"
        );
    }
}

#[test]
fn check_of_a_stack_never_rendered_writes_nothing_ahead() {
    let dir = copy_reference(false);
    let out = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .arg("-C")
        .arg(dir.path())
        .args(["render", "--check"])
        .env("STACKC_TIMINGS", "1")
        .output()
        .expect("run stackc");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("out of date"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("write ahead"),
        "render --check wrote an environment ahead:\n{}",
        stderr(&out)
    );
    let rendered = dir.path().join("rendered");
    let left: Vec<_> = std::fs::read_dir(&rendered)
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "render --check left {left:?} in rendered/");
}

#[test]
fn check_reports_drift_with_a_diff_and_writes_nothing() {
    let dir = copy_reference(true);
    edit(
        &dir.path().join("environments/prod.toml"),
        "conveyor-producer:1.3.9",
        "conveyor-producer:1.4.0",
    );
    let before = snapshot(&dir.path().join("rendered"));
    let out = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&out), 1);
    let diff = stdout(&out);
    assert!(
        diff.contains("--- a/rendered/prod/apps/conveyor-pipeline/deployment-producer.yaml"),
        "{diff}"
    );
    assert!(
        diff.contains("-          image: ghcr.io/acme/conveyor-producer:1.3.9"),
        "{diff}"
    );
    assert!(
        diff.contains("+          image: ghcr.io/acme/conveyor-producer:1.4.0"),
        "{diff}"
    );
    assert!(
        !diff.contains("rendered/dev/apps"),
        "dev did not change:\n{diff}"
    );
    assert!(stderr(&out).contains("out of date"));
    assert_eq!(before, snapshot(&dir.path().join("rendered")));
}

#[test]
fn check_sees_a_hand_edit_that_keeps_the_size_and_the_modification_time() {
    let dir = copy_reference(true);
    let cache = dir.path().join(".stackc-cache/rendered-stat.v1");
    // The first check reads rendered/ and remembers each file's stat (files written in
    // the same clock tick as the check began are not remembered: then wait a tick).
    for _ in 0..3 {
        assert_eq!(code(&stackc(dir.path(), &["render", "--check"])), 0);
        if cache.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    assert!(cache.exists(), "render --check made no stat cache");
    let ignore = std::fs::read_to_string(dir.path().join(".stackc-cache/.gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");

    let rel = "rendered/prod/apps/conveyor-pipeline/deployment-producer.yaml";
    let path = dir.path().join(rel);
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen(
        "image: ghcr.io/acme/conveyor-producer:1.3.9",
        "image: ghcr.io/acme/conveyor-producer:6.6.6",
        1,
    );
    assert_ne!(text, edited);
    assert_eq!(text.len(), edited.len());
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::io::Write::write_all(&mut file, edited.as_bytes()).unwrap();
    file.set_modified(modified).unwrap();
    drop(file);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );

    let out = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let diff = stdout(&out);
    assert!(diff.contains(&format!("--- a/{rel}")), "{diff}");
    assert!(
        diff.contains("-          image: ghcr.io/acme/conveyor-producer:6.6.6"),
        "{diff}"
    );
}

fn mtimes(dir: &Path) -> Vec<(String, std::time::SystemTime)> {
    snapshot(dir)
        .keys()
        .map(|p| {
            (
                p.clone(),
                std::fs::metadata(dir.join(p)).unwrap().modified().unwrap(),
            )
        })
        .collect()
}

#[test]
fn rerender_touches_only_changed_files_and_removes_stale_ones() {
    let dir = copy_reference(true);
    let rendered = dir.path().join("rendered");
    let stray = rendered.join("dev/apps/old-namespace/deployment-gone.yaml");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, "kind: Deployment\n").unwrap();
    let before = mtimes(&rendered);
    std::thread::sleep(std::time::Duration::from_millis(20));
    edit(
        &dir.path().join("environments/dev.toml"),
        "conveyor-processor:1.5.0-rc.1",
        "conveyor-processor:1.5.0",
    );
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 added, 2 changed, 1 removed"),
        "{}",
        stdout(&out)
    );
    assert!(
        !stray.exists() && !stray.parent().unwrap().exists(),
        "stale file and its empty directory are removed"
    );
    let after = mtimes(&rendered);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, t)| before.iter().any(|(bp, bt)| bp == p && bt != t))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        changed,
        [
            "dev/SHA256SUMS",
            "dev/apps/conveyor-pipeline/deployment-processor.yaml"
        ]
    );
    assert!(
        snapshot(&rendered)
            .keys()
            .all(|p| !p.contains("stackc-tmp")),
        "no temporary files remain"
    );
}

#[test]
fn render_of_one_environment_leaves_the_others_alone() {
    let dir = copy_reference(true);
    let rendered = dir.path().join("rendered");
    std::fs::write(rendered.join("prod/apps/kustomization.yaml"), "tampered\n").unwrap();
    edit(
        &dir.path().join("environments/dev.toml"),
        "conveyor-processor:1.5.0-rc.1",
        "conveyor-processor:1.5.0",
    );
    let out = stackc(dir.path(), &["render", "--env", "dev"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(rendered.join("prod/apps/kustomization.yaml")).unwrap(),
        "tampered\n"
    );
    let out = stackc(dir.path(), &["render", "--check", "--env", "dev"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn a_write_that_fails_leaves_rendered_untouched() {
    let dir = copy_reference(true);
    let rendered = dir.path().join("rendered");
    // A new app in a new namespace needs rendered/dev/apps/extra/ — make that path a file,
    // so creating the directory fails midway through the render (this holds even as root).
    let stack = dir.path().join("stack.toml");
    let mut text = std::fs::read_to_string(&stack).unwrap();
    text.push_str(concat!(
        "\n[[policy.waive]]\nrule = \"default-deny-network-policy\"\nobject = \"Deployment/extra/extra\"\nreason = \"test\"\n",
        "\n[app.extra]\nnamespace = \"extra\"\nimage = \"ghcr.io/acme/extra:1.0.0\"\nports = { http = 8080 }\n",
    ));
    std::fs::write(&stack, text).unwrap();
    std::fs::write(rendered.join("dev/apps/extra"), "in the way\n").unwrap();
    let before = snapshot(&rendered);
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 2, "an I/O failure exits 2: {}", stderr(&out));
    assert!(stderr(&out).contains("rendered"), "{}", stderr(&out));
    assert_eq!(
        before,
        snapshot(&rendered),
        "rendered/ must be byte-for-byte as it was"
    );
    assert!(
        !rendered
            .join("dev/infra/_cluster/namespace-extra.yaml")
            .exists()
    );
}

#[test]
fn a_config_change_rolls_the_pods_through_the_checksum_annotation() {
    let dir = copy_reference(false);
    let deployment = dir
        .path()
        .join("rendered/dev/apps/conveyor-pipeline/deployment-processor.yaml");
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let before = std::fs::read_to_string(&deployment).unwrap();
    edit(&dir.path().join("stack.toml"), "size: 500", "size: 1000");
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let after = std::fs::read_to_string(&deployment).unwrap();
    let checksum = |text: &str| {
        text.lines()
            .find(|l| l.contains("checksum/processor-config"))
            .map(str::to_owned)
    };
    assert!(checksum(&before).is_some());
    assert_ne!(
        checksum(&before),
        checksum(&after),
        "the pod template annotation must change"
    );
    assert!(
        after.contains("name: processor-config"),
        "the ConfigMap keeps its name"
    );
}

#[test]
fn committed_schema_matches_the_model() {
    let out = stackc(&repo(), &["schema"]);
    assert_eq!(code(&out), 0);
    let committed = std::fs::read_to_string(repo().join("stack.schema.json")).unwrap();
    assert_eq!(
        stdout(&out).trim_end(),
        committed.trim_end(),
        "run `stackc schema > stack.schema.json`"
    );
    assert!(
        std::fs::read_to_string(repo().join("stack.toml"))
            .unwrap()
            .starts_with("#:schema ./stack.schema.json")
    );
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["render", "--help"],
        vec!["check", "--help"],
        vec!["validate", "--help"],
        vec!["schema", "--help"],
    ] {
        let out = stackc(&repo(), &cmd);
        assert_eq!(code(&out), 0, "{cmd:?}");
        assert!(stdout(&out).contains("Usage:"), "{cmd:?}");
    }
    assert_eq!(
        code(&stackc(&repo(), &["frobnicate"])),
        2,
        "unknown commands are usage errors"
    );
}

#[test]
fn check_and_validate_pass_on_the_reference_stack() {
    let out = stackc(&repo(), &["check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 environments checked (dev, staging, prod)"),
        "{}",
        stdout(&out)
    );
    let out = stackc(&repo(), &["validate"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// With `--format json`, stdout is JSON lines only (summaries and the diff of a stale
/// tree go to stderr), so that tools can parse it; a format that means nothing to a
/// command is a usage error rather than silently ignored.
#[test]
fn json_stdout_is_json_only_and_foreign_formats_are_refused() {
    let dir = copy_reference(true);
    let stack = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&stack).unwrap();
    // A warning, so that there is a diagnostic to print, and a stale tree.
    std::fs::write(
        &stack,
        format!("{text}\n[controllers]\nexternal-secrets = \"0.20.5\"\n"),
    )
    .unwrap();
    edit(
        &dir.path().join("environments/dev.toml"),
        "MESSAGES_PER_SECOND = 10",
        "MESSAGES_PER_SECOND = 20",
    );
    for args in [
        &["check"][..],
        &["validate"],
        &["render", "--check"],
        &["render"],
        &["render", "--check"],
    ] {
        let out = stackc(dir.path(), &[&["--format", "json"][..], args].concat());
        let stdout = stdout(&out);
        assert!(
            !stdout.trim().is_empty(),
            "{args:?}: the warning is on stdout"
        );
        for line in stdout.lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "{args:?}: not JSON on stdout: {line}"
            );
        }
    }
    for (format, args) in [
        ("sarif", &["check"][..]),
        ("dot", &["render"]),
        ("mermaid", &["diff"]),
    ] {
        let before = snapshot(&dir.path().join("rendered"));
        let out = stackc(dir.path(), &[&["--format", format][..], args].concat());
        assert_eq!(code(&out), 2, "--format {format} {args:?}");
        assert!(
            stderr(&out).contains(&format!("`--format {format}` is for")),
            "{}",
            stderr(&out)
        );
        assert_eq!(snapshot(&dir.path().join("rendered")), before);
    }
}

/// A line of stack.toml that is wrong in some environments only (through a value an
/// environment file sets) says in which; one wrong everywhere does not.
#[test]
fn an_error_in_some_environments_names_them() {
    let dir = copy_reference(true);
    let stack = dir.path().join("stack.toml");
    edit(
        &stack,
        r#"topics.conveyor-readings = { partitions = 3, retention = "7d" }"#,
        r#"topics.conveyor-readings = { partitions = 3, retention = "7d", replication = 3 }"#,
    );
    let out = stackc(dir.path(), &["check"]);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(
        err.contains("kafka `kafka` has 1 broker(s) (in dev)\n"),
        "dev runs one broker, staging and prod three: {err}"
    );
    assert!(err.contains("the stack has 1 error"), "{err}");

    edit(&stack, "replication = 3 }", "replication = 4 }");
    let out = stackc(dir.path(), &["check"]);
    let err = stderr(&out);
    assert!(
        err.contains("has 3 broker(s) (in staging, prod)\n") && err.contains("(in dev)\n"),
        "{err}"
    );
    edit(&stack, "name = \"conveyor\"", "name = \"Conveyor\"");
    let err = stderr(&stackc(dir.path(), &["check"]));
    let stack_name = err
        .lines()
        .find(|l| l.contains("Conveyor"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        !stack_name.contains("(in "),
        "wrong everywhere: {stack_name}"
    );
}
