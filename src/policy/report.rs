//! Policy reports: human (grouped by file), and SARIF 2.1.0 for code scanning.
//! JSON output goes through the shared diagnostic renderer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::Finding;
use super::rules::RULES;
use crate::diag::{Diagnostic, Location, Severity};

/// Findings grouped by file, each with its object, JSON path, fix and reason.
pub fn human(findings: &[Finding]) -> String {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_file.entry(f.file.as_str()).or_default().push(f);
    }
    let mut out = String::new();
    for (file, findings) in by_file {
        let _ = writeln!(out, "{file}");
        for f in findings {
            let level = match f.rule.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(
                out,
                "  {level}[{}] {}:{} {}: {}",
                f.rule.id, file, f.line, f.object, f.message
            );
            let _ = writeln!(out, "      at {}", f.path);
            let _ = writeln!(out, "      help: {}", f.rule.help);
            let _ = writeln!(out, "      why: {}", f.rule.docs);
        }
        out.push('\n');
    }
    out
}

/// The rule table, for `stackc policy --list`.
pub fn list() -> String {
    let mut out = String::new();
    for r in RULES {
        let _ = writeln!(
            out,
            "{:<28} {:<7} {}\n{:<36} fix: {}\n{:<36} why: {}",
            r.id,
            level(r.severity),
            r.summary,
            "",
            r.help,
            "",
            r.docs
        );
    }
    out
}

/// The checks of the input itself in PATH mode, as SARIF rules: (id, summary, help).
/// Their diagnostics come from `input`; the README's diagnostic codes describe them.
pub const INPUT_CHECKS: &[(&str, &str, &str)] = &[
    (
        "yaml-syntax",
        "a manifest is not valid YAML",
        super::input::SYNTAX_HELP,
    ),
    (
        "yaml-limit",
        "a manifest is valid YAML beyond a reading limit (documents, values, nesting, aliases)",
        "split or simplify the file; the message names the limit",
    ),
    (
        "invalid-encoding",
        "a manifest is not UTF-8",
        crate::diag::ENCODING_HELP,
    ),
];

/// The rule table as JSON, one object per line (`stackc --format json policy --list`):
/// id, severity, summary, help (the fix) and why.
pub fn list_json() -> String {
    RULES
        .iter()
        .map(|r| {
            let rule = json!({
                "id": r.id,
                "severity": level(r.severity),
                "summary": r.summary,
                "help": r.help,
                "why": r.docs,
            });
            format!("{rule}\n")
        })
        .collect()
}

/// A SARIF 2.1.0 log with one run: every policy rule and input check described, one
/// result per finding and per input error (diagnostics with an `INPUT_CHECKS` code;
/// others are not part of the log).
pub fn sarif(findings: &[Finding], diags: &[Diagnostic]) -> Value {
    let rules = RULES
        .iter()
        .map(|r| rule(r.id, r.summary, r.docs, r.help, level(r.severity)));
    let checks = INPUT_CHECKS
        .iter()
        .map(|(id, summary, help)| rule(id, summary, summary, help, "error"));
    let rules: Vec<Value> = rules.chain(checks).collect();
    let results = findings.iter().map(|f| {
        let index = RULES.iter().position(|r| r.id == f.rule.id).unwrap_or_default();
        json!({
            "ruleId": f.rule.id,
            "ruleIndex": index,
            "level": level(f.rule.severity),
            "message": { "text": format!("{}: {} (at {})", f.object, f.message, f.path) },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": f.file },
                    "region": { "startLine": f.line },
                },
                "logicalLocations": [{ "fullyQualifiedName": format!("{}{}", f.object, f.path), "kind": "object" }],
            }],
        })
    });
    let inputs = diags.iter().filter_map(|d| {
        let index = INPUT_CHECKS.iter().position(|(id, ..)| *id == d.code)?;
        Some(json!({
            "ruleId": d.code,
            "ruleIndex": RULES.len() + index,
            "level": level(d.severity),
            "message": { "text": d.message },
            "locations": physical_location(&d.location).into_iter().collect::<Vec<_>>(),
        }))
    });
    let results: Vec<Value> = results.chain(inputs).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "stackc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/acme/stackc",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// One SARIF reportingDescriptor.
fn rule(id: &str, summary: &str, docs: &str, help: &str, level: &str) -> Value {
    json!({
        "id": id,
        "name": id,
        "shortDescription": { "text": summary },
        "fullDescription": { "text": docs },
        "help": { "text": help },
        "defaultConfiguration": { "level": level },
    })
}

/// A SARIF location for a file, or a line and column in it (SARIF counts from 1).
fn physical_location(location: &Location) -> Option<Value> {
    let (uri, region) = match location {
        Location::File(path) => (path, None),
        Location::Line(path, line, column) => (
            path,
            Some(json!({ "startLine": (*line).max(1), "startColumn": (*column).max(1) })),
        ),
        Location::None | Location::Span(_) => return None,
    };
    let mut physical = json!({ "artifactLocation": { "uri": uri } });
    if let Some(region) = region {
        physical["region"] = region;
    }
    Some(json!({ "physicalLocation": physical }))
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
