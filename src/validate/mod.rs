//! validate: checks over the built objects of one environment.
//! - every object has a unique identity and file;
//! - every object matches the strict schema of its kind (`schema`);
//! - every cross-object reference resolves (`references`);
//! - the NetworkPolicies admit exactly the dependency graph (`network`, over the
//!   evaluator in `netpol`).
//!
//! Errors name the rendered file, the object, the JSON path and the component in
//! stack.toml that produced it (the diagnostic points there). validate knows Kubernetes
//! kinds, never component kinds.

pub mod netpol;
pub mod network;
pub mod references;
pub mod schema;

use std::collections::BTreeSet;

use crate::check::KUBERNETES;
use crate::diag::{Diagnostic, Span};
use crate::emit::layout::object_path;
use crate::object::Object;
use crate::timings::time;

/// All problems in the objects of environment `env`. `locate` maps a component
/// (`app.producer`) to its place in the sources.
pub fn validate(
    env: &str,
    objects: &[Object],
    graph: &crate::graph::Graph,
    locate: &dyn Fn(&str) -> Option<Span>,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let diagnostic = |object: &Object, code: &'static str, message: String, help: String| {
        let file = format!(
            "rendered/{env}/{}/{}",
            object.layer.dir(),
            object_path(object)
        );
        let from = object
            .component
            .as_deref()
            .map(|c| format!(", built from [{c}]"))
            .unwrap_or_default();
        Diagnostic::error(code, format!("{}: {message}", object.id()))
            .at(object.component.as_deref().and_then(locate))
            .label(format!("in {file}{from}"))
            .help(help)
    };
    let stage = |what: &str| format!("{env} validate {what}");
    time(
        || stage("compile schemas"),
        || {
            schema::prepare(
                objects
                    .iter()
                    .map(|o| (o.api_version.as_str(), o.kind.as_str()))
                    .collect::<BTreeSet<_>>(),
            )
        },
    );
    let start = crate::timings::start();
    let mut seen = BTreeSet::new();
    for object in objects {
        let identity = (object.layer, object_path(object).to_ascii_lowercase());
        if !seen.insert(identity) {
            diags.push(diagnostic(
                object,
                "duplicate-object",
                "is produced twice".into(),
                "rename one of the components".into(),
            ));
        }
        match schema::validate(&object.body) {
            None => diags.push(diagnostic(
                object,
                "unknown-kind",
                format!("stackc has no schema for {} {}", object.api_version, object.kind),
                "stackc validates every object it emits; add the kind's schema to src/validate/schema.rs".into(),
            )),
            Some(errors) => diags.extend(errors.into_iter().map(|e| {
                diagnostic(
                    object,
                    "schema",
                    format!("at {}: {}", e.path, e.message),
                    format!("the object does not match the Kubernetes {KUBERNETES} / CRD schema of {}", object.kind),
                )
            })),
        }
    }
    crate::timings::report(start, || stage("schemas"));
    for problem in time(|| stage("references"), || references::check(objects)) {
        diags.push(diagnostic(
            problem.object,
            problem.code,
            problem.message,
            problem.help.into(),
        ));
    }
    for problem in time(|| stage("network proof"), || network::prove(objects, graph)) {
        diags.push(
            Diagnostic::error(problem.code, problem.message)
                .at(problem.component.as_deref().and_then(locate))
                .label(format!("in rendered/{env}/infra (NetworkPolicies)"))
                .help(problem.help),
        );
    }
    diags
}
