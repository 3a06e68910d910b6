//! Policy reports: human (grouped by file), and SARIF 2.1.0 for code scanning.
//! JSON output goes through the shared diagnostic renderer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::Finding;
use super::rules::RULES;
use crate::diag::Severity;

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
        let level = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "{:<28} {level:<7} {}\n{:<36} fix: {}\n{:<36} why: {}",
            r.id, r.summary, "", r.help, "", r.docs
        );
    }
    out
}

/// A SARIF 2.1.0 log with one run, every rule described, one result per finding.
pub fn sarif(findings: &[Finding]) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.docs },
                "help": { "text": r.help },
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
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
        })
        .collect();
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

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
