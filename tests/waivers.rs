//! Policy waivers in stack.toml, end to end: a waiver silences exactly its finding, an
//! expired or unused waiver is a warning, an unknown rule is an error, and a policy
//! error stops `render` from writing anything.

mod common;

use common::*;

const WAIVER: &str = "[[policy.waive]]\nrule = \"image-digest\"";

/// The reference stack with a real finding and its waiver: images must be pinned by
/// digest (prod turns that off), and a waiver accepts the tags until 2027-03-31.
fn reference_with_waiver(with_rendered: bool) -> tempfile::TempDir {
    let dir = copy_reference(with_rendered);
    let path = dir.path().join("stack.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "\n[policy]\npinned = true\n\n[[policy.waive]]\nrule = \"image-digest\"\nobject = \"*\"\nreason = \"Release images get digests once the pipeline publishes them\"\nexpires = 2027-03-31\n\n",
    );
    std::fs::write(&path, text).unwrap();
    dir
}

fn remove_waiver(dir: &std::path::Path) {
    let path = dir.join("stack.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(WAIVER)
        .expect("the reference stack has the waiver");
    let end = start + text[start..].find("\n\n").unwrap();
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

/// `stackc render` in `dir`, which must fail on the unwaived image-digest findings.
fn render_fails_on_the_digests(dir: &std::path::Path) {
    let out = stackc(dir, &["render"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error[image-digest]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn without_the_waiver_render_refuses_to_write() {
    let dir = reference_with_waiver(true);
    remove_waiver(dir.path());
    let before = snapshot(&dir.path().join("rendered"));
    render_fails_on_the_digests(dir.path());
    assert_eq!(
        before,
        snapshot(&dir.path().join("rendered")),
        "nothing is written on a policy error"
    );
}

/// Environments new to rendered/ are written ahead while the others compile: when
/// another turns out wrong, what was written ahead is removed too.
#[test]
fn a_first_render_that_fails_leaves_nothing_behind() {
    let dir = reference_with_waiver(false);
    remove_waiver(dir.path());
    render_fails_on_the_digests(dir.path());
    let rendered = dir.path().join("rendered");
    let left: Vec<String> = std::fs::read_dir(&rendered)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "a failed first render left {left:?} in rendered/"
    );
}

#[test]
fn an_expired_waiver_warns_and_stops_waiving() {
    let dir = reference_with_waiver(true);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackc"))
        .env("STACKC_TODAY", "2027-04-01")
        .args(["-C", dir.path().to_str().unwrap(), "render", "--check"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("warning[waiver-expired]"), "{err}");
    assert!(err.contains("error[image-digest]"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackc"))
        .env("STACKC_TODAY", "2027-04-01")
        .args(["-C", dir.path().to_str().unwrap(), "policy"])
        .output()
        .unwrap();
    let err = stderr(&out);
    let summary = err.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("policy: ") && summary.contains(" and 1 warning in "),
        "the summary counts the expired waiver: {err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stackc"))
        .env("STACKC_TODAY", "2027-03-31")
        .args(["-C", dir.path().to_str().unwrap(), "render", "--check"])
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        0,
        "the waiver holds through its last day: {}",
        stderr(&out)
    );
}

#[test]
fn an_unused_waiver_is_a_warning_and_an_unknown_rule_an_error() {
    let dir = reference_with_waiver(true);
    let path = dir.path().join("stack.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen(
        WAIVER,
        "[[policy.waive]]\nrule = \"ingress-tls\"\nobject = \"Ingress/*\"\nreason = \"none yet\"\n\n[[policy.waive]]\nrule = \"image-digest\"",
        1,
    );
    std::fs::write(&path, &text).unwrap();
    let out = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&out), 0, "warnings do not fail: {}", stderr(&out));
    assert!(
        stderr(&out).contains("warning[unused-waiver]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("stack.toml:"),
        "the warning points at the waiver: {}",
        stderr(&out)
    );

    std::fs::write(
        &path,
        text.replacen("rule = \"ingress-tls\"", "rule = \"ingres-tls\"", 1),
    )
    .unwrap();
    let out = stackc(dir.path(), &["check"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("error[unknown-rule]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("did you mean `ingress-tls`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_waiver_needs_a_reason() {
    let dir = reference_with_waiver(false);
    let path = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("reason = \"Release images").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    std::fs::write(
        &path,
        format!("{}reason = \"  \"{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let out = stackc(dir.path(), &["check"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("error[waiver-without-reason]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_waiver_with_a_case_typo_suggests_the_object_it_nearly_names() {
    // Before: "remove it: the finding it was written for is gone", while the finding
    // was printed as an error.
    let dir = copy_reference(true);
    edit(
        &dir.path().join("stack.toml"),
        "rule = \"no-host-path\"\nobject = \"DaemonSet/monitoring-logs/promtail\"",
        "rule = \"no-host-path\"\nobject = \"Daemonset/monitoring-logs/promtail\"",
    );
    let out = stackc(dir.path(), &["render", "--check"]);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("error[no-host-path]"), "{err}");
    assert!(err.contains("warning[unused-waiver]"), "{err}");
    assert!(
        err.contains("did you mean `DaemonSet/monitoring-logs/promtail`?"),
        "{err}"
    );
    assert!(
        !err.contains("the finding it was written for is gone"),
        "{err}"
    );
}
