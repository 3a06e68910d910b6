//! The directories users drop files into, `modules/monitoring/dashboards/` and
//! `modules/monitoring/rules/`: which files are payloads, the name each is written under
//! (`pods.json.j2` → `pods.json`, a ConfigMap key and so a mounted file name), and what
//! makes a set of them wrong before anything renders: a name the API server refuses as a
//! key, two files written under one name (one would silently replace the other), and
//! dashboards sharing a Grafana uid (Grafana provisions only one of them). Every error
//! points at the module file.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Span};
use crate::kube::data_key;
use crate::load::modules::Modules;

/// The dashboards directory (relative to `modules/`) and the suffixes read there.
pub const DASHBOARDS: (&str, &[&str]) = ("monitoring/dashboards", &[".json", ".json.j2"]);
/// The rule files directory and its suffixes.
pub const RULES: (&str, &[&str]) = (
    "monitoring/rules",
    &[".yaml", ".yml", ".yaml.j2", ".yml.j2"],
);

/// One file of a user directory and the name it is written under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload<'m> {
    /// Relative to `modules/`, e.g. `monitoring/rules/alerts.yaml.j2`.
    pub source: &'m str,
    /// e.g. `alerts.yaml`.
    pub output: String,
}

/// The payload files of `(dir, suffixes)`, sorted by source name.
pub fn payloads<'m>(modules: &'m Modules, (dir, suffixes): (&'m str, &[&str])) -> Vec<Payload<'m>> {
    modules
        .in_dir(dir)
        .filter(|(name, _)| suffixes.iter().any(|s| name.ends_with(s)))
        .map(|(name, _)| Payload {
            source: name,
            output: output_name(name),
        })
        .collect()
}

/// `monitoring/rules/alerts.yaml.j2` → `alerts.yaml`.
pub fn output_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.strip_suffix(".j2").unwrap_or(base).to_owned()
}

/// The PrometheusRule a rule file becomes in operator mode: `team_slo.yaml` →
/// `team-slo`.
pub fn rule_resource(output: &str) -> String {
    output.split('.').next().unwrap_or(output).replace('_', "-")
}

/// Why a rule file's PrometheusRule name (`rule_resource`) is not a Kubernetes object
/// name, if it is not: lowercase letters, digits and `-`, starting and ending with a
/// letter or digit. (Its characters are a ConfigMap key's, checked first.)
fn resource_name(name: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let inner = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if inner && edge(name.chars().next()) && edge(name.chars().last()) {
        Ok(())
    } else {
        Err(format!(
            "makes the PrometheusRule `{name}` in operator mode, which is not a Kubernetes name (lowercase letters, digits and `-`, starting and ending with a letter or digit)"
        ))
    }
}

/// Why the output name of a rule file cannot be written, if it cannot: not a ConfigMap
/// key, or its PrometheusRule not a Kubernetes name.
pub fn rule_name(output: &str) -> Result<(), String> {
    data_key(output).and_then(|()| resource_name(&rule_resource(output)))
}

/// What a payload is written as, for a ConfigMap key `output`: the key itself.
pub fn key(output: &str) -> Vec<String> {
    vec![format!("the ConfigMap key `{output}`")]
}

/// What a rule file is written as: its key, and in operator mode its PrometheusRule.
pub fn rule_keys(output: &str) -> Vec<String> {
    let mut keys = key(output);
    keys.push(format!(
        "the PrometheusRule `{}` (operator mode)",
        rule_resource(output)
    ));
    keys
}

/// Output names that `valid` refuses (e.g. [`data_key`]), and files written as the same
/// thing (`written_as` lists what must be unique of an output name, e.g. [`rule_keys`]).
/// `what` is "dashboard" or "rule file". Of two files, the one reported is a plain file
/// rather than a template (the shipped files are templates), then the later by name.
pub fn name_problems(
    modules: &Modules,
    payloads: &[Payload],
    what: &str,
    valid: impl Fn(&str) -> Result<(), String>,
    written_as: impl Fn(&str) -> Vec<String>,
) -> Vec<Diagnostic> {
    let mut ordered: Vec<&Payload> = payloads.iter().collect();
    ordered.sort_by_key(|p| !p.source.ends_with(".j2"));
    let mut diags = Vec::new();
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for p in ordered {
        if let Err(why) = valid(&p.output) {
            diags.push(at_file(
                modules,
                p.source,
                Diagnostic::error(
                    "invalid-file-name",
                    format!("this {what} is written as `{}`, which {why}", p.output),
                )
                .label("this file's name")
                .help("rename the file: it is written as a ConfigMap key (a mounted file name: letters, digits, `-`, `_` and `.`, up to 253 characters), and a rule file's name before the first `.` also names its PrometheusRule (lowercase, e.g. `team-slo.yaml`)"),
            ));
            continue;
        }
        let keys = written_as(&p.output);
        match keys.iter().find_map(|k| taken.get(k).map(|e| (k, *e))) {
            Some((key, earlier)) => diags.push(at_file(
                modules,
                p.source,
                Diagnostic::error(
                    "duplicate-output",
                    format!("this {what} and modules/{earlier} both become {key}: one would replace the other"),
                )
                .label("written as what another file is written as")
                .help("rename or remove one of the two files"),
            )),
            None => taken.extend(keys.into_iter().map(|k| (k, p.source))),
        }
    }
    diags
}

/// Dashboards sharing a uid, given (source file, output name, uid) of each in
/// rendering order: Grafana provisions one dashboard per uid and drops the others.
pub fn uid_problems(modules: &Modules, dashboards: &[(&str, &str, &str)]) -> Vec<Diagnostic> {
    let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut diags = Vec::new();
    for &(source, output, uid) in dashboards {
        match seen.get(uid) {
            Some(&(first_source, first_output)) => diags.push(at_file(
                modules,
                source,
                Diagnostic::error(
                    "duplicate-dashboard-uid",
                    format!("dashboard `{output}` has the uid `{uid}`, as `{first_output}` (modules/{first_source}) does: Grafana provisions only one of them"),
                )
                .label("renders a dashboard with a uid already taken")
                .help("give each dashboard its own \"uid\" (a copied template keeps the original's: change its `{% set uid = ... %}`)"),
            )),
            None => {
                seen.insert(uid, (source, output));
            }
        }
    }
    diags
}

/// `diag` at the start of module file `name` (relative to `modules/`).
pub fn at_file(modules: &Modules, name: &str, diag: Diagnostic) -> Diagnostic {
    match modules.files.get(name) {
        Some(file) => diag.at(Some(Span {
            file: file.file,
            start: 0,
            end: 0,
        })),
        None => diag.in_file(format!("modules/{name}")),
    }
}

/// `diag` at 1-based (line, column) of `rendered`, the output of module file `name`.
/// A plain file is its own output. A template's line is found by its text when one line
/// of the template reads the same; otherwise the diagnostic points at the template and
/// its label quotes the rendered line.
pub fn at_rendered(
    modules: &Modules,
    name: &str,
    rendered: &str,
    (line, column): (u64, u64),
    diag: Diagnostic,
) -> Diagnostic {
    let Some(file) = modules.files.get(name) else {
        return diag.in_file(format!("modules/{name}"));
    };
    let wanted = rendered
        .lines()
        .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
        .unwrap_or_default();
    let column = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
    let same: Vec<(usize, &str)> = line_starts(&file.text)
        .filter(|(_, l)| l.trim() == wanted.trim() && !l.trim().is_empty())
        .collect();
    let found = match same.as_slice() {
        _ if !name.ends_with(".j2") => line_starts(&file.text)
            .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
            .map(|(start, l)| start + byte_of_column(l, column)),
        [(start, l)] if *l == wanted => Some(start + byte_of_column(l, column)),
        [(start, l)] => Some(start + (l.len() - l.trim_start().len())),
        _ => None,
    };
    match found {
        Some(start) => diag.at(Some(Span {
            file: file.file,
            start,
            end: start,
        })),
        None => {
            let label = format!("at line {line} of its rendered output: `{}`", wanted.trim());
            at_file(modules, name, diag.label(label))
        }
    }
}

/// (byte offset, text without the newline) of each line of `text`.
fn line_starts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |start, l| {
        let here = *start;
        *start += l.len();
        Some((here, l.trim_end_matches(['\n', '\r'])))
    })
}

/// The byte offset of 0-based character `column` in `line` (its end if shorter).
fn byte_of_column(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column)
        .map_or(line.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::modules::ModuleFile;

    fn modules(names: &[&str]) -> Modules {
        let mut m = Modules::default();
        for (k, name) in names.iter().enumerate() {
            m.files.insert(
                (*name).to_owned(),
                ModuleFile {
                    file: crate::diag::FileId(u32::try_from(k).unwrap()),
                    text: String::new(),
                },
            );
        }
        m
    }

    fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
        diags.iter().map(|d| d.code).collect()
    }

    #[test]
    fn outputs_drop_j2_and_keep_other_suffixes() {
        let m = modules(&[
            "monitoring/dashboards/pods.json.j2",
            "monitoring/dashboards/team.json",
            "monitoring/dashboards/README.txt",
            "monitoring/other.json",
        ]);
        let found: Vec<String> = payloads(&m, DASHBOARDS)
            .into_iter()
            .map(|p| p.output)
            .collect();
        assert_eq!(found, ["pods.json", "team.json"]);
    }

    #[test]
    fn a_file_beside_the_template_of_the_same_name_is_an_error() {
        let m = modules(&[
            "monitoring/dashboards/pods.json",
            "monitoring/dashboards/pods.json.j2",
        ]);
        let found = name_problems(&m, &payloads(&m, DASHBOARDS), "dashboard", data_key, key);
        assert_eq!(codes(&found), ["duplicate-output"]);
        assert_eq!(
            found[0].location,
            at_file(
                &m,
                "monitoring/dashboards/pods.json",
                Diagnostic::error("x", "")
            )
            .location
        );
        // At the plain file, not at the (shipped) template.
        assert_eq!(
            found[0].message,
            "this dashboard and modules/monitoring/dashboards/pods.json.j2 both become the ConfigMap key `pods.json`: one would replace the other"
        );
    }

    #[test]
    fn rule_files_may_not_share_a_prometheusrule() {
        let m = modules(&[
            "monitoring/rules/team.yaml",
            "monitoring/rules/team.yml",
            "monitoring/rules/team_a.yaml",
            "monitoring/rules/team-a.yaml",
        ]);
        let found = name_problems(&m, &payloads(&m, RULES), "rule file", rule_name, rule_keys);
        assert_eq!(codes(&found), ["duplicate-output", "duplicate-output"]);
    }

    #[test]
    fn rule_files_name_kubernetes_objects() {
        assert_eq!(rule_name("team_slo.yaml"), Ok(()));
        assert_eq!(rule_name("alerts.yaml"), Ok(()));
        for bad in ["Team.yaml", "-team.yaml", "team-.yml", "My Rules.yaml"] {
            assert!(rule_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_that_are_not_keys_are_errors() {
        let m = modules(&["monitoring/dashboards/My Pods.json"]);
        let found = name_problems(&m, &payloads(&m, DASHBOARDS), "dashboard", data_key, key);
        assert_eq!(codes(&found), ["invalid-file-name"]);
    }

    #[test]
    fn a_rendered_line_is_found_in_its_template() {
        let mut m = modules(&[]);
        let text =
            "groups:\n{% for g in gs %}\n  - name: {{ g }}\n    for: 5 minutes\n{% endfor %}\n";
        m.files.insert(
            "r.yaml.j2".into(),
            ModuleFile {
                file: crate::diag::FileId(7),
                text: text.into(),
            },
        );
        let rendered = "groups:\n  - name: \"a\"\n    for: 5 minutes\n";
        let d = at_rendered(
            &m,
            "r.yaml.j2",
            rendered,
            (3, 10),
            Diagnostic::error("x", ""),
        );
        let at = text.find("for: 5").unwrap() + 5;
        assert_eq!(
            d.location,
            crate::diag::Location::Span(Span {
                file: crate::diag::FileId(7),
                start: at,
                end: at
            })
        );
        // A line the template computes: the template's start, the line quoted.
        let d = at_rendered(
            &m,
            "r.yaml.j2",
            rendered,
            (2, 5),
            Diagnostic::error("x", ""),
        );
        assert_eq!(
            d.location,
            crate::diag::Location::Span(Span {
                file: crate::diag::FileId(7),
                start: 0,
                end: 0
            })
        );
        assert_eq!(
            d.label.as_deref(),
            Some("at line 2 of its rendered output: `- name: \"a\"`")
        );
    }

    #[test]
    fn uids_are_unique() {
        let m = modules(&["a", "b", "c"]);
        let found = uid_problems(
            &m,
            &[
                ("a", "a.json", "x"),
                ("b", "b.json", "y"),
                ("c", "c.json", "x"),
            ],
        );
        assert_eq!(codes(&found), ["duplicate-dashboard-uid"]);
        assert!(found[0].message.contains("`c.json`"));
    }
}
