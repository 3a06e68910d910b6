//! Review and promotion as users run them: `stackc diff` in its three forms on a real
//! Git repository made in a temp dir, apply-safety warnings, redaction, and `stackc
//! promote` keeping every comment of the target file.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=stackc",
            "-c",
            "user.email=stackc@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A Git repository holding the reference stack and its rendered/ tree, one commit.
fn repo_with_reference() -> tempfile::TempDir {
    let dir = copy_reference(true);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

#[test]
fn diff_of_an_unchanged_tree_prints_nothing_and_exits_0() {
    let dir = repo_with_reference();
    for args in [
        vec!["diff"],
        vec!["diff", "--exit-code"],
        vec!["diff", "--base", "HEAD", "--exit-code"],
    ] {
        let out = stackc(dir.path(), &args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

#[test]
fn diff_shows_what_a_source_change_does_to_rendered() {
    let dir = repo_with_reference();
    edit(
        &dir.path().join("environments/prod.toml"),
        "conveyor-producer:1.3.9",
        "conveyor-producer:1.4.0",
    );
    let out = stackc(dir.path(), &["diff"]);
    assert_eq!(
        code(&out),
        0,
        "differences alone do not fail without --exit-code"
    );
    let text = stdout(&out);
    assert!(
        text.contains("== prod/apps Deployment/conveyor-pipeline/producer (changed)"),
        "{text}"
    );
    assert!(
        text.contains("+          image: ghcr.io/acme/conveyor-producer:1.4.0"),
        "{text}"
    );
    assert!(
        text.contains(
            "Rolls (pod template changed):\n  prod Deployment/conveyor-pipeline/producer"
        ),
        "{text}"
    );
    assert!(
        text.contains("diff: prod 0 added, 1 changed, 0 removed"),
        "{text}"
    );
    assert!(
        !text.contains("SHA256SUMS"),
        "checksums are noise in review: {text}"
    );
    assert!(!text.contains("\x1b["), "no colour in a pipe");
    assert_eq!(code(&stackc(dir.path(), &["diff", "--exit-code"])), 1);
}

#[test]
fn diff_against_a_git_base_renders_the_old_sources_in_memory() {
    let dir = repo_with_reference();
    edit(&dir.path().join("stack.toml"), "size: 500", "size: 1000");
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    git(dir.path(), &["commit", "-q", "-am", "bigger batches"]);
    let out = stackc(dir.path(), &["diff", "--base", "HEAD~1", "--exit-code"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    for env in ["dev", "staging", "prod"] {
        assert!(
            text.contains(&format!(
                "== {env}/apps ConfigMap/conveyor-pipeline/processor-config (changed)"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("  {env} Deployment/conveyor-pipeline/processor")),
            "the checksum rolls it: {text}"
        );
    }
    assert!(
        text.contains("-      size: 500") && text.contains("+      size: 1000"),
        "{text}"
    );
    let head = stackc(dir.path(), &["diff", "--base", "HEAD"]);
    assert_eq!(stdout(&head), "", "nothing changed since HEAD");
    let bad = stackc(dir.path(), &["diff", "--base", "no-such-ref"]);
    assert_eq!(code(&bad), 2, "{}", stderr(&bad));
}

#[test]
fn diff_base_that_is_no_commit_is_a_usage_error_never_an_empty_base() {
    let dir = repo_with_reference();
    let null = "0".repeat(40);
    for (rev, says) in [
        (null.as_str(), "null object id"),
        ("HEAD:stack.toml", "is not a commit"),
        ("HEAD:environments", "is not a commit"),
        ("no-such-ref", "names no commit"),
    ] {
        let out = stackc(dir.path(), &["diff", "--base", rev]);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "--base {rev}: {err}");
        assert!(
            err.contains(&format!("`{rev}`")) && err.contains(says),
            "{err}"
        );
        assert_eq!(stdout(&out), "", "--base {rev}: nothing is diffed");
    }
    let out = stackc(dir.path(), &["diff", "--base", &null]);
    assert!(stderr(&out).contains("default branch"), "{}", stderr(&out));
}

#[test]
fn diff_between_environments_shows_only_real_differences() {
    let out = stackc(&repo(), &["diff", "staging", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("-  replicas: 2\n+  replicas: 3"), "{text}");
    assert!(text.contains("conveyor-processor:1.3.9"), "{text}");
    assert!(
        !text.contains("./rendered/staging/") && !text.contains("./rendered/prod/"),
        "env paths are normalised: {text}"
    );
    assert!(
        !text.contains("kustomization-conveyor-apps"),
        "Flux objects differ only by the env path: {text}"
    );
    assert!(
        !text.contains("Rolls"),
        "comparing environments is not a rollout: {text}"
    );
    assert!(
        text.contains("== {staging -> prod}/apps apps/kustomization.yaml (changed)")
            && !text.contains("/?"),
        "a kustomization.yaml (no name) goes by its file: {text}"
    );
    // Each side is named: the old side is staging's file, the new side prod's.
    assert!(
        text.contains(
            "--- a/rendered/staging/apps/kustomization.yaml\n+++ b/rendered/prod/apps/kustomization.yaml\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("staging..prod"),
        "no path that names neither side: {text}"
    );
    assert!(
        text.contains("\ndiff: {staging -> prod} "),
        "the summary names both sides: {text}"
    );
    let again = stackc(&repo(), &["diff", "staging", "prod"]);
    assert_eq!(stdout(&again), text, "the output is stable");
    let out = stackc(&repo(), &["--format", "json", "diff", "staging", "prod"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert!(json["changes"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(
        json["summary"]["{staging -> prod}"]["changed"]
            .as_u64()
            .unwrap()
            >= 2,
        "{json}"
    );
}

/// rendered/ is stackc's: `render` removes a file no environment holds. `diff` says so
/// plainly, apart from the environments, and never takes such a file for one.
#[test]
fn diff_lists_a_stray_file_in_rendered_apart_never_as_an_environment() {
    let dir = repo_with_reference();
    let rendered = dir.path().join("rendered");
    std::fs::write(rendered.join("README.md"), "# notes\n").unwrap();
    let out = stackc(dir.path(), &["diff", "--exit-code"]);
    assert_eq!(code(&out), 1, "render would remove it: {}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("README.md/"), "not an environment: {text}");
    assert!(!text.contains("== README.md"), "not an environment: {text}");
    assert!(
        text.contains("Outside the environments")
            && text.contains("\n  removed rendered/README.md\n"),
        "{text}"
    );
    assert!(
        text.ends_with("\ndiff: 1 file outside the environments\n"),
        "{text}"
    );
    let out = stackc(dir.path(), &["--format", "json", "diff"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    assert_eq!(json["outside"][0]["file"], "README.md", "{json}");
    assert_eq!(json["outside"][0]["status"], "removed", "{json}");
    assert!(
        json["summary"].as_object().unwrap().is_empty(),
        "no environment changed: {json}"
    );
    // One environment's diff looks only at its directory.
    let dev = stackc(dir.path(), &["diff", "--env", "dev", "--exit-code"]);
    assert_eq!(code(&dev), 0, "{}", stdout(&dev));
    // render agrees: it removes the file, and then nothing differs.
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    assert!(!rendered.join("README.md").exists());
    let out = stackc(dir.path(), &["diff", "--exit-code"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn diff_names_changes_the_cluster_rejects() {
    let dir = repo_with_reference();
    // Renaming the stack changes the `part-of` selector label: Deployments reject it.
    edit(
        &dir.path().join("stack.toml"),
        "name = \"conveyor\"",
        "name = \"belt\"",
    );
    let out = stackc(dir.path(), &["diff", "--env", "dev"]);
    let text = stdout(&out);
    assert!(text.contains("Apply safety"), "{text}");
    assert!(
        text.contains("dev Deployment/conveyor-pipeline/producer: spec.selector is immutable"),
        "{text}"
    );

    let dir = repo_with_reference();
    edit(
        &dir.path().join("stack.toml"),
        "namespace = \"conveyor-pipeline\"",
        "namespace = \"conveyor\"",
    );
    let out = stackc(dir.path(), &["--format", "json", "diff", "--env", "prod"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["object"] == "Deployment/conveyor/producer"
                && w["message"]
                    .as_str()
                    .unwrap()
                    .contains("moves from namespace conveyor-pipeline to conveyor")),
        "{json}"
    );
}

/// A new `[stack] name` renames every object named after the stack: the Flux
/// Kustomizations (and the GitRepository) are deleted and recreated, and Flux prunes
/// what the old Kustomizations applied before the new ones recreate it.
#[test]
fn diff_base_flags_a_renamed_stack_under_apply_safety() {
    let dir = repo_with_reference();
    edit(
        &dir.path().join("stack.toml"),
        "name = \"conveyor\"",
        "name = \"belt\"",
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "rename the stack"]);
    let out = stackc(dir.path(), &["diff", "--base", "HEAD~1", "--env", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let safety = text
        .split_once("Apply safety")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no Apply safety section: {text}"));
    for layer in ["flux", "controllers", "infra", "data", "apps", "monitoring"] {
        assert!(
            safety.contains(&format!(
                "  ! prod Kustomization/flux-system/belt-{layer}: the stack is renamed from conveyor to belt: \
                 Kustomization conveyor-{layer} is replaced by belt-{layer} (deleted and recreated); \
                 with prune: true, Flux deletes every object conveyor-{layer} applied before belt-{layer} recreates it"
            )),
            "{layer}: {safety}"
        );
        assert!(
            safety.contains(&format!(
                "at /metadata/name in rendered/prod/flux/flux-system/kustomization-belt-{layer}.yaml"
            )),
            "{layer}: {safety}"
        );
    }
    assert!(
        safety.contains(
            "  ! prod GitRepository/flux-system/belt: the stack is renamed from conveyor to belt: \
             GitRepository conveyor is replaced by belt (deleted and recreated)"
        ),
        "{safety}"
    );
    let out = stackc(
        dir.path(),
        &[
            "--format", "json", "diff", "--base", "HEAD~1", "--env", "prod",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    let renames = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            w["message"]
                .as_str()
                .is_some_and(|m| m.contains("renamed from conveyor to belt"))
        })
        .count();
    assert!(
        renames >= 7,
        "six Kustomizations and the GitRepository: {json}"
    );
    // Nothing renamed, nothing flagged.
    let head = stackc(dir.path(), &["diff", "--base", "HEAD", "--env", "prod"]);
    assert_eq!(stdout(&head), "");
}

/// A Git repository holding the reference stack in `platform/conveyor/` (a monorepo),
/// committed: the repository (kept alive by the caller) and the stack's directory.
fn monorepo() -> (tempfile::TempDir, std::path::PathBuf) {
    let repo = tempfile::tempdir().expect("temp dir");
    let stack = repo.path().join("platform/conveyor");
    let reference = copy_reference(true);
    copy_dir(reference.path(), &stack);
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "initial"]);
    (repo, stack)
}

/// After `promote FROM TO`: rendered/ is up to date, and a second promote has nothing
/// left to move.
fn promoted_once(dir: &std::path::Path, from: &str, to: &str) {
    assert_eq!(code(&stackc(dir, &["render", "--check"])), 0);
    let again = stackc(dir, &["promote", from, to]);
    assert!(
        stdout(&again).contains("nothing to promote"),
        "{}",
        stdout(&again)
    );
}

/// A stack in a directory of a monorepo without `[flux] path`: `diff --base` (which has
/// git at hand) says Flux would find none of its layers, and stops saying so once the
/// path is set.
#[test]
fn diff_base_says_when_flux_paths_miss_the_stacks_place_in_its_repository() {
    let (_repo, stack) = monorepo();
    let misplaced = |out: &std::process::Output| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_str(&stdout(out)).expect("JSON report");
        json["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| {
                w["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("stack.toml is at platform/conveyor"))
            })
            .map(|w| w["object"].as_str().unwrap().to_owned())
            .collect()
    };
    let args = ["--format", "json", "diff", "--base", "HEAD", "--env", "dev"];
    let out = stackc(&stack, &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let found = misplaced(&out);
    assert_eq!(found.len(), 6, "every layer's Kustomization: {found:?}");
    let text = stdout(&stackc(&stack, &["diff", "--base", "HEAD", "--env", "dev"]));
    assert!(
        text.contains("set `[flux] path = \"platform/conveyor\"`"),
        "the fix is named even when nothing changed: {text}"
    );
    edit(
        &stack.join("stack.toml"),
        "branch = \"main\"",
        "branch = \"main\"\npath = \"platform/conveyor\"",
    );
    assert_eq!(misplaced(&stackc(&stack, &args)), Vec::<String>::new());
}

/// A stack moved into a directory of a monorepo sets `[flux] path`: every layer's Flux
/// Kustomization is read from a new path, and the diff against the base says so for each.
#[test]
fn diff_notes_every_flux_kustomization_whose_path_changes() {
    let (_repo, stack) = monorepo();
    edit(
        &stack.join("stack.toml"),
        "branch = \"main\"",
        "branch = \"main\"\npath = \"platform/conveyor\"",
    );
    let out = stackc(
        &stack,
        &["--format", "json", "diff", "--base", "HEAD", "--env", "dev"],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON report");
    let mut noted: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["field"] == "/spec/path")
        .map(|w| {
            let layer = w["object"].as_str().unwrap();
            let layer = layer
                .strip_prefix("Kustomization/flux-system/conveyor-")
                .unwrap();
            let message = w["message"].as_str().unwrap();
            assert!(
                message.contains(&format!(
                    "./rendered/dev/{layer} -> ./platform/conveyor/rendered/dev/{layer}"
                )),
                "{message}"
            );
            layer
        })
        .collect();
    noted.sort_unstable();
    let layers = ["apps", "controllers", "data", "flux", "infra", "monitoring"];
    assert_eq!(noted, layers, "{json}");
}

#[test]
fn secret_like_values_never_reach_the_diff() {
    let dir = repo_with_reference();
    // A plaintext secret in the sources is a compile error: the diff shows nothing of it.
    edit(
        &dir.path().join("stack.toml"),
        "KAFKA_GROUP_ID = \"conveyor-processor\"",
        "KAFKA_GROUP_ID = \"conveyor-processor\", INFLUX_TOKEN = \"hunter2-token\"",
    );
    let out = stackc(dir.path(), &["diff"]);
    assert_eq!(code(&out), 1);
    assert!(!stdout(&out).contains("hunter2"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("error[plaintext-secret]"),
        "{}",
        stderr(&out)
    );
    // A provider reference is what reaches the output, and the diff shows the reference.
    edit(
        &dir.path().join("stack.toml"),
        "INFLUX_TOKEN = \"hunter2-token\"",
        "INFLUX_TOKEN = { provider = \"PROCESSOR_INFLUX_TOKEN\" }",
    );
    let out = stackc(dir.path(), &["diff"]);
    let text = stdout(&out);
    assert!(text.contains("+            - name: INFLUX_TOKEN"), "{text}");
    assert!(text.contains("key: PROCESSOR_INFLUX_TOKEN"), "{text}");
    assert!(
        text.contains("InfisicalSecret/conveyor-pipeline/processor-secrets (added)"),
        "{text}"
    );
}

fn promote_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/cases/promote"), dir.path());
    std::fs::remove_file(dir.path().join("expected-prod.toml")).unwrap();
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    dir
}

#[test]
fn promote_moves_pins_and_keeps_every_comment() {
    let dir = promote_fixture();
    let out = stackc(dir.path(), &["promote", "staging", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("app.producer image: ghcr.io/acme/conveyor-producer:1.4.2 -> ghcr.io/acme/conveyor-producer:1.5.0"), "{text}");
    assert!(
        text.contains("+        - image: ghcr.io/acme/conveyor-processor:1.5.0"),
        "the diff of rendered/ is shown: {text}"
    );
    assert!(
        !text.contains("agents"),
        "agents has the same pin everywhere: {text}"
    );
    let expected =
        std::fs::read_to_string(repo().join("tests/cases/promote/expected-prod.toml")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("environments/prod.toml")).unwrap(),
        expected
    );
    assert_eq!(
        code(&stackc(dir.path(), &["render", "--check"])),
        0,
        "rendered/ was updated too"
    );
    let again = stackc(dir.path(), &["promote", "staging", "prod"]);
    assert_eq!(code(&again), 0);
    assert!(
        stdout(&again).contains("nothing to promote"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("environments/prod.toml")).unwrap(),
        expected,
        "idempotent"
    );
}

#[test]
fn promote_dry_run_only_and_order() {
    let dir = promote_fixture();
    let before = snapshot(dir.path());
    let out = stackc(dir.path(), &["promote", "staging", "prod", "--dry-run"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("dry run"));
    assert_eq!(before, snapshot(dir.path()), "a dry run writes nothing");

    let out = stackc(dir.path(), &["promote", "prod", "staging"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(before, snapshot(dir.path()));

    // A name that is no component is a usage error, never "nothing to promote".
    for (word, hint) in [("procesor", "did you mean `processor`?"), ("app.nope", "")] {
        let out = stackc(dir.path(), &["promote", "staging", "prod", "--only", word]);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "--only {word}: {err}");
        assert!(err.contains(&format!("--only `{word}`")), "{err}");
        assert!(err.contains(hint) && err.contains("app.producer"), "{err}");
        assert!(!stdout(&out).contains("nothing to promote"));
        assert_eq!(before, snapshot(dir.path()));
    }

    let out = stackc(
        dir.path(),
        &["promote", "staging", "prod", "--only", "producer"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let prod = std::fs::read_to_string(dir.path().join("environments/prod.toml")).unwrap();
    assert!(
        prod.contains("conveyor-producer:1.5.0") && !prod.contains("conveyor-processor"),
        "{prod}"
    );
}

#[test]
fn a_promotion_that_breaks_the_stack_writes_nothing() {
    let dir = promote_fixture();
    // prod requires digests; staging's candidates have none, so promoting them fails policy.
    let digest = format!("@sha256:{}", "a".repeat(64));
    let prod = dir.path().join("environments/prod.toml");
    edit(
        &prod,
        "conveyor-producer:1.4.2\"",
        &format!("conveyor-producer:1.4.2{digest}\""),
    );
    edit(
        &prod,
        "[app.processor]\n",
        &format!("[app.processor]\nimage = \"ghcr.io/acme/conveyor-processor:1.4.0{digest}\"\n"),
    );
    edit(&prod, "[stack]\n", "[policy]\npinned = true\n\n[stack]\n");
    let stack = dir.path().join("stack.toml");
    edit(
        &stack,
        "image = \"ghcr.io/acme/agents:0.9.0\"",
        &format!("image = \"ghcr.io/acme/agents:0.9.0{digest}\""),
    );
    assert_eq!(
        code(&stackc(dir.path(), &["render"])),
        0,
        "prod is valid with digests"
    );
    let before = snapshot(dir.path());
    let out = stackc(dir.path(), &["promote", "staging", "prod"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error[image-digest]"), "{err}");
    assert!(
        err.contains("environments/prod.toml is shown as the promotion would write it"),
        "{err}"
    );
    // Reported over the edited file as it would be written: the promoted value, at its
    // line (the processor's image is the line after its table header, line 17).
    assert!(
        err.contains("--> environments/prod.toml:17:9\n")
            && err.contains("17 | image = \"ghcr.io/acme/conveyor-processor:1.5.0\""),
        "{err}"
    );
    assert!(
        err.contains("--> environments/prod.toml:12:9\n")
            && err.contains(
                "12 | image = \"ghcr.io/acme/conveyor-producer:1.5.0\" # keep this comment"
            ),
        "{err}"
    );
    assert_eq!(
        before,
        snapshot(dir.path()),
        "neither the environment file nor rendered/ changed"
    );
}

/// Appends `text` to the file at `path`.
fn append(path: &Path, text: &str) {
    let mut content = std::fs::read_to_string(path).unwrap();
    content.push_str(text);
    std::fs::write(path, content).unwrap();
}

/// A secrets provider, for the fixture's data components (they need credentials).
const SECRETS: &str = "\n[secrets]\nprovider = \"infisical\"\n\n[secrets.infisical]\n\
    project = \"platform\"\nenv = \"dev\"\n\
    credentials = { name = \"infisical-auth\", namespace = \"infisical-operator\" }\n";

#[test]
fn promote_sets_a_pin_the_target_inherits() {
    let dir = promote_fixture();
    // staging sets no redis version: stackc's default. dev pins one.
    append(
        &dir.path().join("stack.toml"),
        &format!("\n[redis.cache]\n{SECRETS}"),
    );
    append(
        &dir.path().join("environments/dev.toml"),
        "\n[redis.cache]\nversion = \"8.2.1\"\n",
    );
    // staging inherits the processor's image from stack.toml; dev pins a newer one.
    append(
        &dir.path().join("environments/dev.toml"),
        "\n[app.processor]\nimage = \"ghcr.io/acme/conveyor-processor:1.6.0\"\n",
    );
    std::fs::write(
        dir.path().join("environments/staging.toml"),
        "# staging\n[app.producer]\nimage = \"ghcr.io/acme/conveyor-producer:1.6.0\"\n",
    )
    .unwrap();
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let out = stackc(dir.path(), &["promote", "dev", "staging"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("redis.cache version: (stackc's default) -> 8.2.1"),
        "{text}"
    );
    assert!(
        text.contains(
            "app.processor image: ghcr.io/acme/conveyor-processor:1.4.0 -> ghcr.io/acme/conveyor-processor:1.6.0"
        ),
        "{text}"
    );
    let staging = std::fs::read_to_string(dir.path().join("environments/staging.toml")).unwrap();
    assert!(
        staging.contains("[redis.cache]\nversion = \"8.2.1\"")
            && staging.contains("conveyor-processor:1.6.0"),
        "{staging}"
    );
    promoted_once(dir.path(), "dev", "staging");
}

#[test]
fn promote_moves_a_digest_pinned_image_with_its_version() {
    let dir = promote_fixture();
    let digest = |c: char| format!("@sha256:{}", c.to_string().repeat(64));
    append(
        &dir.path().join("stack.toml"),
        &format!(
            "\n[postgres.db]\nversion = \"16.4\"\nstorage = \"1Gi\"\ndatabases.app = {{}}\n\n[redis.cache]\n{SECRETS}"
        ),
    );
    append(
        &dir.path().join("environments/dev.toml"),
        &format!(
            "\n[postgres.db]\nversion = \"16.5\"\nimage = \"mirror.example.org/postgres{}\"\n\n\
             [redis.cache]\nversion = \"8.2.1\"\n",
            digest('b')
        ),
    );
    // staging runs 16.4 by digest, and its own redis mirror, by digest, that dev does not
    // use: the mirror stays, its digest (of the old version) goes.
    append(
        &dir.path().join("environments/staging.toml"),
        &format!(
            "\n[postgres.db]\nimage = \"mirror.example.org/postgres{}\" # 16.4\n\n\
             [redis.cache]\nimage = \"mirror.example.org/redis{}\"\n",
            digest('a'),
            digest('c')
        ),
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let out = stackc(
        dir.path(),
        &[
            "promote", "dev", "staging", "--only", "db", "--only", "cache",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("postgres.db version: 16.4 -> 16.5"), "{text}");
    assert!(
        text.contains(&format!(
            "postgres.db image: mirror.example.org/postgres{} -> mirror.example.org/postgres{}",
            digest('a'),
            digest('b')
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "redis.cache image: mirror.example.org/redis{} -> mirror.example.org/redis\n",
            digest('c')
        )),
        "the old digest would outlive the new version: {text}"
    );
    let staging = std::fs::read_to_string(dir.path().join("environments/staging.toml")).unwrap();
    assert!(
        staging.contains(&format!(
            "image = \"mirror.example.org/postgres{}\" # 16.4",
            digest('b')
        )) && staging.contains("image = \"mirror.example.org/redis\"\n"),
        "{staging}"
    );
    let rendered = snapshot(&dir.path().join("rendered/staging"));
    let all: String = rendered
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        all.contains(&format!("mirror.example.org/postgres:16.5{}", digest('b'))),
        "the digest runs the promoted version"
    );
    assert!(
        all.contains("mirror.example.org/redis:8.2.1\n") && !all.contains(&digest('c')),
        "the mirror runs the promoted version"
    );
}

#[test]
fn a_component_only_the_source_has_is_not_added() {
    let dir = promote_fixture();
    append(
        &dir.path().join("environments/dev.toml"),
        "\n[app.debugger]\nimage = \"ghcr.io/acme/debugger:0.1.0\"\nports = { http = 8080 }\n",
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let before = snapshot(dir.path());
    for word in ["debugger", "app.debugger"] {
        let out = stackc(dir.path(), &["promote", "dev", "staging", "--only", word]);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "--only {word}: {err}");
        assert!(
            err.contains(&format!("--only `{word}`"))
                && err.contains("exists only in `dev`")
                && err.contains("does not add components"),
            "{err}"
        );
        assert!(!stdout(&out).contains("nothing to promote"));
        assert_eq!(before, snapshot(dir.path()), "nothing written");
    }
    let out = stackc(dir.path(), &["promote", "dev", "staging"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("note: not promoted, only `dev` has them") && text.contains("app.debugger"),
        "{text}"
    );
    assert!(
        text.contains("app.producer image"),
        "the rest is promoted: {text}"
    );
    let staging = std::fs::read_to_string(dir.path().join("environments/staging.toml")).unwrap();
    assert!(!staging.contains("debugger"), "{staging}");
}

/// A digest made of one repeated hex digit, for `[images]`.
fn image_digest(digit: char) -> String {
    format!("sha256:{}", digit.to_string().repeat(64))
}

/// The promote fixture with a Redis (its image and its exporter's are stackc's), staging
/// pinning both through `[images]`, and prod with `[images]` pins of its own: one of
/// the same image, a digest staging lacks and a mirror staging lacks.
fn images_fixture() -> tempfile::TempDir {
    let dir = promote_fixture();
    append(
        &dir.path().join("stack.toml"),
        &format!("\n[redis.cache]\n{SECRETS}"),
    );
    append(
        &dir.path().join("environments/staging.toml"),
        &format!(
            "\n[images]\n\"docker.io/library/redis\" = \"{}\"\n\
             \"docker.io/oliver006/redis_exporter\" = \"mirror.example.org/redis_exporter:v1.91.1\"\n",
            image_digest('a')
        ),
    );
    append(
        &dir.path().join("environments/prod.toml"),
        &format!(
            "\n# prod's own pins\n[images]\n\"docker.io/library/redis\" = \"{}\" # redis, as released\n\
             \"docker.io/danielqsj/kafka-exporter\" = \"{}\"\n\
             \"quay.io/prometheus/alertmanager\" = \"mirror.example.org/alertmanager:v0.28.1\"\n",
            image_digest('b'),
            image_digest('c')
        ),
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    dir
}

#[test]
fn promote_moves_images_pins_and_keeps_the_targets_comments() {
    let dir = images_fixture();
    let out = stackc(dir.path(), &["promote", "staging", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        format!(
            "  images docker.io/library/redis: {} -> {}\n",
            image_digest('b'),
            image_digest('a')
        ),
        "  images docker.io/oliver006/redis_exporter: (stackc's default) -> mirror.example.org/redis_exporter:v1.91.1\n".to_owned(),
        format!(
            "  images docker.io/danielqsj/kafka-exporter: {} -> (stackc's default)\n",
            image_digest('c')
        ),
        "  app.producer image: ".to_owned(),
    ] {
        assert!(text.contains(&line), "missing `{line}`: {text}");
    }
    assert!(
        !text.contains("alertmanager"),
        "prod's own mirror stays: {text}"
    );
    assert!(
        text.contains(&format!("@{}", image_digest('a'))),
        "the diff of rendered/ shows the new digest: {text}"
    );
    let prod = std::fs::read_to_string(dir.path().join("environments/prod.toml")).unwrap();
    let expected_images = format!(
        "\n# prod's own pins\n[images]\n\"docker.io/library/redis\" = \"{}\" # redis, as released\n\
         \"quay.io/prometheus/alertmanager\" = \"mirror.example.org/alertmanager:v0.28.1\"\n\
         \"docker.io/oliver006/redis_exporter\" = \"mirror.example.org/redis_exporter:v1.91.1\"\n",
        image_digest('a')
    );
    assert!(prod.ends_with(&expected_images), "{prod}");
    let rendered: String = snapshot(&dir.path().join("rendered/prod"))
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        rendered.lines().any(|l| {
            l.trim_start_matches([' ', '-'])
                .starts_with("image: docker.io/library/redis:")
                && l.ends_with(&format!("@{}", image_digest('a')))
        }) && rendered.contains("image: mirror.example.org/redis_exporter:v1.91.1\n")
            && !rendered.contains(&image_digest('b')),
        "prod runs staging's images"
    );
    promoted_once(dir.path(), "staging", "prod");
}

#[test]
fn only_images_is_the_images_table_even_beside_a_component_named_images() {
    let dir = images_fixture();
    append(
        &dir.path().join("stack.toml"),
        "\n[app.images]\nimage = \"ghcr.io/acme/images:1.0.0\"\nports = { http = 8080 }\n",
    );
    append(
        &dir.path().join("environments/staging.toml"),
        "\n[app.images]\nimage = \"ghcr.io/acme/images:1.1.0\"\n",
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let redis = "images docker.io/library/redis: ";
    let app = "app.images image: ghcr.io/acme/images:1.0.0 -> ghcr.io/acme/images:1.1.0";
    let promote_only = |only: &str| {
        stackc(
            dir.path(),
            &["promote", "staging", "prod", "--only", only, "--dry-run"],
        )
    };
    let table = promote_only("images");
    assert_eq!(code(&table), 0, "{}", stderr(&table));
    let text = stdout(&table);
    assert!(
        text.contains(redis) && !text.contains("app.images"),
        "{text}"
    );
    let component = promote_only("app.images");
    assert_eq!(code(&component), 0, "{}", stderr(&component));
    let text = stdout(&component);
    assert!(text.contains(app) && !text.contains(redis), "{text}");
}

#[test]
fn promote_sets_an_images_pin_the_target_inherits() {
    let dir = promote_fixture();
    append(
        &dir.path().join("stack.toml"),
        &format!(
            "\n[images]\n\"docker.io/library/redis\" = \"{}\"\n\n[redis.cache]\n{SECRETS}",
            image_digest('d')
        ),
    );
    append(
        &dir.path().join("environments/staging.toml"),
        &format!(
            "\n[images]\n\"docker.io/library/redis\" = \"{}\"\n",
            image_digest('a')
        ),
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    let out = stackc(dir.path(), &["promote", "staging", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "images docker.io/library/redis: {} -> {}",
            image_digest('d'),
            image_digest('a')
        )),
        "{}",
        stdout(&out)
    );
    let prod = std::fs::read_to_string(dir.path().join("environments/prod.toml")).unwrap();
    assert!(
        prod.ends_with(&format!(
            "\n[images]\n\"docker.io/library/redis\" = \"{}\"\n",
            image_digest('a')
        )),
        "{prod}"
    );
}

/// `--only cache` that moves the Redis's `version` takes the digest `[images]` pins its
/// image to along: left behind, prod's digest would run the old version under the new tag.
#[test]
fn promote_only_a_component_takes_its_images_digest_along_with_its_version() {
    let dir = images_fixture();
    append(
        &dir.path().join("environments/staging.toml"),
        "\n[redis.cache]\nversion = \"7.4.2\"\n",
    );
    let out = stackc(
        dir.path(),
        &["promote", "staging", "prod", "--only", "cache"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("redis.cache version"), "{text}");
    assert!(
        text.contains(&format!(
            "images docker.io/library/redis: {} -> {}",
            image_digest('b'),
            image_digest('a')
        )),
        "the digest moves with the version: {text}"
    );
    // The other entries are not the cache's image: they stay.
    assert!(
        !text.contains("redis_exporter") && !text.contains("kafka-exporter"),
        "{text}"
    );
    let prod = std::fs::read_to_string(dir.path().join("environments/prod.toml")).unwrap();
    assert!(
        prod.contains(&format!(
            "\"docker.io/library/redis\" = \"{}\" # redis, as released",
            image_digest('a')
        )),
        "{prod}"
    );
    // Promote writes rendered/ too: prod's Redis runs the new version at staging's digest.
    let wanted = format!("image: docker.io/library/redis:7.4.2@{}", image_digest('a'));
    let prod_redis: Vec<String> = snapshot(&dir.path().join("rendered/prod"))
        .into_values()
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .filter(|text| text.contains("image: docker.io/library/redis:"))
        .collect();
    assert!(
        !prod_redis.is_empty() && prod_redis.iter().all(|text| text.contains(&wanted)),
        "{prod_redis:?}"
    );
}

#[test]
fn promote_only_names_images_entries_by_table_or_repository() {
    let dir = images_fixture();
    let before = snapshot(dir.path());
    // A component's name moves its pins, not the [images] entries (shared by every
    // component running the repository).
    let out = stackc(
        dir.path(),
        &["promote", "staging", "prod", "--only", "cache", "--dry-run"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stdout(&out).contains("images "), "{}", stdout(&out));
    // A typo is a usage error with the closest name.
    let out = stackc(
        dir.path(),
        &["promote", "staging", "prod", "--only", "imagse"],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("did you mean `images`?"),
        "{}",
        stderr(&out)
    );
    assert_eq!(before, snapshot(dir.path()), "nothing written");
    for (word, moved, kept) in [
        (
            "docker.io/library/redis",
            "images docker.io/library/redis:",
            "redis_exporter",
        ),
        (
            "images.docker.io/oliver006/redis_exporter",
            "images docker.io/oliver006/redis_exporter:",
            "images docker.io/library/redis",
        ),
        (
            "images",
            "images docker.io/danielqsj/kafka-exporter:",
            "app.producer",
        ),
    ] {
        let out = stackc(
            dir.path(),
            &["promote", "staging", "prod", "--only", word, "--dry-run"],
        );
        let text = stdout(&out);
        assert_eq!(code(&out), 0, "--only {word}: {}", stderr(&out));
        assert!(
            text.contains(moved) && !text.contains(kept),
            "--only {word}: {text}"
        );
    }
}
