//! The structure of a rendered rule file, checked strictly in every mode: what both
//! Prometheus (standalone, `rulefmt`) and the Prometheus Operator's PrometheusRule
//! schema (operator mode) accept. `groups[]`: `name` (unique in the file), `interval`,
//! `query_offset`, `limit`, `labels`, `rules[]`; each rule: exactly one of `alert` and
//! `record`, a non-empty `expr`, `for` and `keep_firing_for` (alerts only), `labels`,
//! `annotations` (alerts only). Durations in Prometheus' format (`30s`, `1h30m`, `0`).
//! Unknown keys are errors. PromQL itself is not parsed (that takes a PromQL parser).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

/// A problem at a 1-based line and column of the rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<Spanned<Group>>,
}

/// Fields are read to be checked; only some are looked at afterwards.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Group {
    name: Spanned<String>,
    #[serde(default)]
    interval: Option<Duration>,
    #[serde(default)]
    query_offset: Option<Duration>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    rules: Vec<Spanned<Rule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Rule {
    #[serde(default)]
    alert: Option<Spanned<String>>,
    #[serde(default)]
    record: Option<Spanned<String>>,
    expr: Spanned<String>,
    #[serde(default, rename = "for")]
    for_: Option<Spanned<Duration>>,
    #[serde(default)]
    keep_firing_for: Option<Spanned<Duration>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    annotations: Option<Spanned<BTreeMap<String, Text>>>,
}

/// A YAML string, not a number or boolean written for one: the PrometheusRule schema
/// takes only strings as label and annotation values (Prometheus would read `1` as "1").
struct Text;

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string (quote the value)")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Text, E> {
                Ok(Text)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A duration in Prometheus' format, checked as it is read.
struct Duration;

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        crate::check::prometheus_duration(&text)
            .map(|()| Duration)
            .map_err(serde::de::Error::custom)
    }
}

/// The first structural problem of a rendered rule file, if any.
pub fn check(text: &str) -> Result<(), Problem> {
    let file: RuleFile = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        Problem {
            line,
            column,
            message: first_line(&e.to_string()),
        }
    })?;
    let at = |location: &Location, message: String| Problem {
        line: location.line(),
        column: location.column(),
        message,
    };
    let mut names = BTreeSet::new();
    for group in &file.groups {
        let name = &group.value.name;
        if name.value.is_empty() {
            return Err(at(
                &name.referenced,
                "a group's `name` must not be empty".into(),
            ));
        }
        if !names.insert(name.value.as_str()) {
            return Err(at(
                &name.referenced,
                format!(
                    "two groups are named `{}`: names are unique in a file",
                    name.value
                ),
            ));
        }
        for rule in &group.value.rules {
            rule_problem(&rule.value).map_or(Ok(()), |(where_, message)| {
                Err(at(where_.unwrap_or(&rule.referenced), message))
            })?;
        }
    }
    Ok(())
}

/// What is wrong with one rule and where (`None`: at the rule).
fn rule_problem(rule: &Rule) -> Option<(Option<&Location>, String)> {
    match (&rule.alert, &rule.record) {
        (Some(_), Some(record)) => Some((
            Some(&record.referenced),
            "a rule has `alert` or `record`, not both".into(),
        )),
        (None, None) => Some((
            None,
            "a rule needs `alert` (an alerting rule) or `record` (a recording rule)".into(),
        )),
        (Some(alert), None) if alert.value.is_empty() => {
            Some((Some(&alert.referenced), "`alert` must not be empty".into()))
        }
        (None, Some(record)) => {
            let alert_only = [
                ("for", rule.for_.as_ref().map(|f| &f.referenced)),
                (
                    "keep_firing_for",
                    rule.keep_firing_for.as_ref().map(|f| &f.referenced),
                ),
                (
                    "annotations",
                    rule.annotations.as_ref().map(|a| &a.referenced),
                ),
            ];
            if let Some((key, Some(location))) = alert_only.into_iter().find(|(_, l)| l.is_some()) {
                return Some((
                    Some(location),
                    format!(
                        "`{key}` is for alerting rules; the recording rule `{}` cannot have it",
                        record.value
                    ),
                ));
            }
            record.value.is_empty().then(|| {
                (
                    Some(&record.referenced),
                    "`record` must not be empty".into(),
                )
            })
        }
        _ => None,
    }
    .or_else(|| {
        rule.expr.value.trim().is_empty().then(|| {
            (
                Some(&rule.expr.referenced),
                "`expr` must not be empty".into(),
            )
        })
    })
}

/// The first line of a YAML error, without the `error: line L column C: ` the
/// diagnostic's location already says.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let bare = line
        .strip_prefix("error: line ")
        .and_then(|rest| rest.split_once(": "))
        .map_or(line, |(_, message)| message);
    bare.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> (u64, u64, String) {
        let p = check(text).expect_err("a problem");
        (p.line, p.column, p.message)
    }

    const GOOD: &str = "groups:\n  - name: a\n    interval: 1m\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        keep_firing_for: 1m\n        labels:\n          severity: warning\n        annotations:\n          summary: down\n      - record: job:up:sum\n        expr: sum by (job) (up)\n";

    #[test]
    fn a_good_file_passes() {
        assert_eq!(check(GOOD), Ok(()));
    }

    #[test]
    fn a_bad_duration_is_at_its_line() {
        let (line, _, message) = problem(&GOOD.replace("for: 5m", "for: 5 minutes"));
        assert_eq!(line, 7);
        assert!(message.contains("not a Prometheus duration"), "{message}");
    }

    #[test]
    fn an_unknown_key_is_at_its_line() {
        let (line, _, message) = problem(&GOOD.replace("        labels:\n", "        labelz:\n"));
        assert_eq!(line, 9);
        assert!(message.starts_with("unknown field `labelz`"), "{message}");
    }

    #[test]
    fn label_values_are_strings() {
        let number = GOOD.replace("severity: warning", "severity: 1");
        let (line, _, message) = problem(&number);
        assert_eq!(line, 10);
        assert!(message.contains("quote the value"), "{message}");
        assert_eq!(
            check(&GOOD.replace("severity: warning", "severity: \"1\"")),
            Ok(())
        );
        assert!(check(&GOOD.replace("summary: down", "summary: true")).is_err());
    }

    #[test]
    fn rules_are_alerts_or_records() {
        let both = GOOD.replace(
            "      - record: job:up:sum\n",
            "      - record: job:up:sum\n        alert: X\n",
        );
        assert_eq!(problem(&both).0, 13);
        let neither = GOOD.replace("      - record: job:up:sum\n        expr", "      - expr");
        assert!(problem(&neither).2.contains("needs `alert`"));
        let record_for = GOOD.replace(
            "        expr: sum by (job) (up)\n",
            "        expr: sum by (job) (up)\n        for: 5m\n",
        );
        let (line, _, message) = problem(&record_for);
        assert_eq!(line, 15);
        assert!(message.contains("`for` is for alerting rules"), "{message}");
    }

    #[test]
    fn group_names_are_unique_and_exprs_set() {
        let twice = format!("{GOOD}  - name: a\n    rules: []\n");
        assert_eq!(problem(&twice).0, 15);
        let empty = GOOD.replace("expr: up == 0", "expr: \"\"");
        assert_eq!(problem(&empty).0, 6);
        let missing = GOOD.replace("        expr: up == 0\n", "");
        assert!(problem(&missing).2.contains("expr"));
    }
}
