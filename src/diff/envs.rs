//! Two environments of one tree, compared (`stackc diff staging prod`). Both are
//! re-keyed under one label, `{staging -> prod}`, with every `rendered/<env>/` reference
//! normalised, so that only real differences show; each unified diff is headed with the
//! file's real path on each side (`a/rendered/staging/...`, `b/rendered/prod/...`), so
//! it is always clear which side is which.

use super::{Report, compare_with};
use crate::emit::RenderedTree;

/// The label two compared environments go by, in headers and the summary: what `old`
/// becomes in `new`.
fn label(old: &str, new: &str) -> String {
    format!("{{{old} -> {new}}}")
}

/// How environment `new` differs from environment `old`, both of `tree`. Two
/// environments side by side are not a rollout: nothing is applied or rolled, so the
/// report has no apply-safety warnings and no rolls.
pub fn compare_envs(tree: &RenderedTree, old: &str, new: &str) -> Report {
    let label = label(old, new);
    let prefix = format!("{label}/");
    let sides = |path: &str| {
        let rest = path.strip_prefix(&prefix).unwrap_or(path);
        (format!("{old}/{rest}"), format!("{new}/{rest}"))
    };
    let mut report = compare_with(
        &normalised_env(tree, old, &label),
        &normalised_env(tree, new, &label),
        &sides,
    );
    report.warnings.clear();
    report.rolls.clear();
    report
}

/// Files of environment `env`, re-keyed to `as_env/` with every `rendered/<env>/`
/// reference normalised, so two environments can be compared.
fn normalised_env(tree: &RenderedTree, env: &str, as_env: &str) -> RenderedTree {
    let prefix = format!("{env}/");
    let files = tree
        .files
        .iter()
        .filter_map(|(path, bytes)| {
            let rest = path.strip_prefix(&prefix)?;
            let text = String::from_utf8_lossy(bytes)
                .replace(&format!("rendered/{env}/"), "rendered/<env>/");
            Some((format!("{as_env}/{rest}"), text.into_bytes()))
        })
        .collect();
    RenderedTree {
        files,
        ..RenderedTree::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::of_text(files)
    }

    #[test]
    fn each_side_is_named_by_its_own_environment() {
        let both = tree(&[
            ("staging/apps/a.yaml", "replicas: 1\n"),
            ("prod/apps/a.yaml", "replicas: 3\n"),
            ("staging/apps/same.yaml", "path: ./rendered/staging/apps\n"),
            ("prod/apps/same.yaml", "path: ./rendered/prod/apps\n"),
        ]);
        let report = compare_envs(&both, "staging", "prod");
        assert_eq!(report.changes.len(), 1, "{report:?}");
        let change = &report.changes[0];
        assert_eq!(change.env, "{staging -> prod}");
        assert_eq!(change.file, "{staging -> prod}/apps/a.yaml");
        assert!(
            change.diff.starts_with(
                "--- a/rendered/staging/apps/a.yaml\n+++ b/rendered/prod/apps/a.yaml\n"
            ),
            "{}",
            change.diff
        );
        assert!(!change.diff.contains(".."), "{}", change.diff);
        assert_eq!(
            report.summary.keys().collect::<Vec<_>>(),
            ["{staging -> prod}"]
        );
    }
}
