//! `stackc diff`: what a change does to the rendered output, for review. Compares two
//! [`RenderedTree`]s (disk vs sources, a Git base vs sources, or two environments),
//! groups the changes by environment, layer and object, redacts secret-like values,
//! names every change the cluster will reject or must recreate, and lists the
//! workloads that will roll. Pure: the CLI decides where the trees come from.
//!
//! Paths are `<env>/<layer>/...`. A path that is in no environment (a file at the top of
//! `rendered/`, or anything in a hidden directory such as a leftover
//! `.<env>.stackc-tmp/` of an interrupted render) is never taken for one: it is listed
//! apart, as a file `stackc render` removes.

mod envs;
mod redact;
pub mod safety;

pub use envs::compare_envs;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::value::Value;
use serde::Serialize;

use crate::emit::{RenderedTree, SUMS_FILE};
use crate::kube::{At, object_id};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Changed,
    Removed,
}

/// One changed file (normally one object).
#[derive(Clone, Debug, Serialize)]
pub struct FileChange {
    pub env: String,
    pub layer: String,
    /// Path under `rendered/`.
    pub file: String,
    /// `Kind/namespace/name`, or the file name for non-objects (kustomization.yaml).
    pub object: String,
    pub status: Status,
    /// Unified diff of the redacted texts.
    pub diff: String,
}

/// A change the cluster will reject or must recreate.
#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    pub env: String,
    pub object: String,
    pub file: String,
    pub field: String,
    pub message: String,
}

/// A workload whose pods restart.
#[derive(Clone, Debug, Serialize)]
pub struct Roll {
    pub env: String,
    pub object: String,
}

/// Counts per environment.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// A file under `rendered/` that is in no environment (see the module doc), and how it
/// differs.
#[derive(Clone, Debug, Serialize)]
pub struct Outside {
    /// Path under `rendered/`.
    pub file: String,
    pub status: Status,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub summary: BTreeMap<String, Summary>,
    pub changes: Vec<FileChange>,
    pub warnings: Vec<Warning>,
    pub rolls: Vec<Roll>,
    /// Files in no environment (a stray `rendered/README.md`, a leftover temporary).
    pub outside: Vec<Outside>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.outside.is_empty()
    }
}

/// The environment of a path under `rendered/` and the rest of it, when it is in one:
/// below a top-level directory that is not hidden.
fn environment_of(path: &str) -> Option<(&str, &str)> {
    path.split_once('/')
        .filter(|(env, _)| !env.is_empty() && !env.starts_with('.'))
}

/// How `new` differs from `old` (both keyed `<env>/<layer>/...`).
pub fn compare(old: &RenderedTree, new: &RenderedTree) -> Report {
    compare_with(old, new, &|path| (path.to_owned(), path.to_owned()))
}

/// [`compare`], each unified diff headed `a/rendered/<old>` and `b/rendered/<new>` where
/// `(old, new) = sides(path)`: the paths the file has on each side.
fn compare_with(
    old: &RenderedTree,
    new: &RenderedTree,
    sides: &dyn Fn(&str) -> (String, String),
) -> Report {
    let mut report = Report::default();
    let paths: std::collections::BTreeSet<&String> =
        old.files.keys().chain(new.files.keys()).collect();
    let mut removed_objects: Vec<(String, Value, String)> = Vec::new();
    let mut added_objects: Vec<(String, Value, String)> = Vec::new();
    for path in paths {
        let (before, after) = (old.files.get(path), new.files.get(path));
        let status = match (before, after) {
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (Some(a), Some(b)) if a != b => Status::Changed,
            _ => continue,
        };
        let Some((env, rest)) = environment_of(path) else {
            report.outside.push(Outside {
                file: path.clone(),
                status,
            });
            continue;
        };
        if rest == SUMS_FILE {
            continue;
        }
        let layer = rest.split('/').next().unwrap_or_default().to_owned();
        let text = |bytes: Option<&Vec<u8>>| {
            bytes
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let (before_text, after_text) = (text(before), text(after));
        let (before_body, after_body) = (parse(&before_text), parse(&after_text));
        let object = after_body
            .as_ref()
            .or(before_body.as_ref())
            // A kustomization.yaml has a kind and no name: it goes by its file.
            .filter(|b| b.get("kind").is_some() && b.at("/metadata/name").is_some())
            .map(object_id)
            .unwrap_or_else(|| rest.to_owned());
        let summary = report.summary.entry(env.to_owned()).or_default();
        match status {
            Status::Added => summary.added += 1,
            Status::Changed => summary.changed += 1,
            Status::Removed => summary.removed += 1,
        }
        if let (Some(a), Some(b)) = (&before_body, &after_body) {
            for h in safety::hazards(a, b) {
                report.warnings.push(Warning {
                    env: env.to_owned(),
                    object: object.clone(),
                    file: path.clone(),
                    field: h.field,
                    message: h.message,
                });
            }
            if safety::rolls(a, b) {
                report.rolls.push(Roll {
                    env: env.to_owned(),
                    object: object.clone(),
                });
            }
        }
        match (status, before_body, after_body) {
            (Status::Removed, Some(b), _) => {
                removed_objects.push((env.to_owned(), b, path.clone()))
            }
            (Status::Added, _, Some(b)) => added_objects.push((env.to_owned(), b, path.clone())),
            _ => {}
        }
        let (a, b) = sides(path);
        let diff = similar::TextDiff::from_lines(
            redact::redact(&before_text),
            redact::redact(&after_text),
        )
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/rendered/{a}"), &format!("b/rendered/{b}"))
        .to_string();
        report.changes.push(FileChange {
            env: env.to_owned(),
            layer,
            file: path.clone(),
            object,
            status,
            diff,
        });
    }
    namespace_moves(&mut report, &removed_objects, &added_objects);
    stack_renames(&mut report, &removed_objects, &added_objects);
    report
}

/// An object named after the stack, removed under the old `[stack] name` and added under
/// the new one, is deleted and recreated (see [`safety::stack_rename`]).
fn stack_renames(
    report: &mut Report,
    removed: &[(String, Value, String)],
    added: &[(String, Value, String)],
) {
    for (env, before, _) in removed {
        for (env2, after, file) in added {
            if env != env2 {
                continue;
            }
            if let Some(h) = safety::stack_rename(before, after) {
                report.warnings.push(Warning {
                    env: env.clone(),
                    object: object_id(after),
                    file: file.clone(),
                    field: h.field,
                    message: h.message,
                });
            }
        }
    }
}

/// An object removed from one namespace and added to another is deleted and recreated.
fn namespace_moves(
    report: &mut Report,
    removed: &[(String, Value, String)],
    added: &[(String, Value, String)],
) {
    let key = |b: &Value| {
        (
            b.get("kind").and_then(Value::as_str).map(str::to_owned),
            b.at("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            b.at("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_owned),
        )
    };
    for (env, before, _) in removed {
        let (kind, name, from) = key(before);
        for (env2, after, file) in added {
            let (kind2, name2, to) = key(after);
            if env == env2 && kind == kind2 && name == name2 && from != to && from.is_some() {
                report.warnings.push(Warning {
                    env: env.clone(),
                    object: object_id(after),
                    file: file.clone(),
                    field: "/metadata/namespace".into(),
                    message: format!(
                        "moves from namespace {} to {}: the object is deleted and recreated; data in its volumes does not follow",
                        from.clone().unwrap_or_default(),
                        to.clone().unwrap_or_default()
                    ),
                });
            }
        }
    }
}

/// A warning for each Flux Kustomization of `tree` whose `spec.path` does not start at
/// the stack's directory in its repository (`prefix`, as `git rev-parse --show-prefix`
/// gives it): Flux resolves the path from the repository root and would find nothing
/// there. The usual cause: a stack in a directory of a monorepo without `[flux] path`.
pub fn note_flux_paths(report: &mut Report, tree: &RenderedTree, prefix: &str) {
    let expected = format!("./{prefix}rendered/");
    let dir = prefix.trim_end_matches('/');
    let setting = if dir.is_empty() {
        "remove `[flux] path` (or set it to \".\")".to_owned()
    } else {
        format!("set `[flux] path = \"{dir}\"`")
    };
    for (file, bytes) in &tree.files {
        let Some((env, rest)) = environment_of(file) else {
            continue;
        };
        if !rest.starts_with("flux/") || !file.ends_with(".yaml") {
            continue;
        }
        let Some(body) = parse(&String::from_utf8_lossy(bytes)) else {
            continue;
        };
        let flux = body.get("kind").and_then(Value::as_str) == Some("Kustomization")
            && body
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"));
        let Some(path) = body.at("/spec/path").and_then(Value::as_str) else {
            continue;
        };
        if !flux || path.starts_with(&expected) {
            continue;
        }
        let place = if dir.is_empty() {
            "the repository's top".to_owned()
        } else {
            dir.to_owned()
        };
        report.warnings.push(Warning {
            env: env.to_owned(),
            object: object_id(&body),
            file: file.clone(),
            field: "/spec/path".into(),
            message: format!(
                "spec.path {path}, but stack.toml is at {place} in its repository: Flux resolves the path from the repository root and finds nothing there; {setting}"
            ),
        });
    }
}

fn parse(text: &str) -> Option<Value> {
    if text.is_empty() {
        return None;
    }
    serde_saphyr::from_str::<serde_json::Value>(text)
        .ok()
        .map(Value::from)
}

/// ANSI styles for a terminal (none in pipes).
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The report as text: per change a header and its unified diff, then the apply-safety
/// warnings, the workloads that roll, and one summary line.
pub fn render_text(report: &Report, color: bool) -> String {
    let style = Style { on: color };
    let mut out = String::new();
    for change in &report.changes {
        let status = status_word(change.status);
        let header = format!(
            "== {}/{} {} ({status})",
            change.env, change.layer, change.object
        );
        let _ = writeln!(out, "{}", style.paint("1", &header));
        for line in change.diff.lines() {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                style.paint("1", line)
            } else if line.starts_with('+') {
                style.paint("32", line)
            } else if line.starts_with('-') {
                style.paint("31", line)
            } else if line.starts_with("@@") {
                style.paint("36", line)
            } else {
                line.to_owned()
            };
            let _ = writeln!(out, "{painted}");
        }
    }
    if !report.outside.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            style.paint(
                "1",
                "Outside the environments (files in no rendered/<env>/; Flux applies none of them):"
            )
        );
        for o in &report.outside {
            let _ = writeln!(out, "  {} rendered/{}", status_word(o.status), o.file);
        }
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            style.paint(
                "1;33",
                "Apply safety: these changes are rejected, need delete-and-recreate, or apply with side effects"
            )
        );
        for w in &report.warnings {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                style.paint("33", "!"),
                w.env,
                w.object,
                w.message
            );
            let _ = writeln!(out, "      at {} in rendered/{}", w.field, w.file);
        }
    }
    if !report.rolls.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            style.paint("1", "Rolls (pod template changed):")
        );
        for r in &report.rolls {
            let _ = writeln!(out, "  {} {}", r.env, r.object);
        }
    }
    out.push_str(&summary_line(report));
    out
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Added => "added",
        Status::Changed => "changed",
        Status::Removed => "removed",
    }
}

/// `diff: dev 1 added, 2 changed, 0 removed; prod ...` (or `no changes`), and how many
/// files outside the environments differ.
pub fn summary_line(report: &Report) -> String {
    if report.is_empty() {
        return "diff: no changes\n".into();
    }
    let mut parts: Vec<String> = report
        .summary
        .iter()
        .map(|(env, s)| {
            format!(
                "{env} {} added, {} changed, {} removed",
                s.added, s.changed, s.removed
            )
        })
        .collect();
    match report.outside.len() {
        0 => {}
        1 => parts.push("1 file outside the environments".into()),
        n => parts.push(format!("{n} files outside the environments")),
    }
    format!("\ndiff: {}\n", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::of_text(files)
    }

    #[test]
    fn a_file_in_no_environment_is_listed_apart_never_as_an_environment() {
        let old = tree(&[
            ("README.md", "notes\n"),
            ("dev", "a file, not a directory\n"),
            (".dev.stackc-tmp/apps/a.yaml", "a: 1\n"),
            ("dev/apps/a.yaml", "a: 1\n"),
        ]);
        let new = tree(&[("dev/apps/a.yaml", "a: 2\n")]);
        let report = compare(&old, &new);
        let outside: Vec<&str> = report.outside.iter().map(|o| o.file.as_str()).collect();
        assert_eq!(outside, [".dev.stackc-tmp/apps/a.yaml", "README.md", "dev"]);
        assert_eq!(report.summary.keys().collect::<Vec<_>>(), ["dev"]);
        assert_eq!(report.changes.len(), 1);
        let text = render_text(&report, false);
        assert!(!text.contains("README.md/"), "{text}");
        assert!(text.contains("  removed rendered/README.md\n"), "{text}");
        assert!(
            text.ends_with(
                "diff: dev 0 added, 1 changed, 0 removed; 3 files outside the environments\n"
            ),
            "{text}"
        );
        let only_outside = compare(&tree(&[("README.md", "notes\n")]), &tree(&[]));
        assert!(!only_outside.is_empty());
        assert_eq!(
            summary_line(&only_outside),
            "\ndiff: 1 file outside the environments\n"
        );
    }
}
