//! validate: checks over the built objects of one environment.
//! - every object has a unique identity and file (`duplicates`), and every workload a
//!   name of its own in the dependency graph (`workload_names`);
//! - every object matches the strict schema of its kind (`schema`), and ConfigMap and
//!   Secret data keys are what the API server accepts (`keys`);
//! - every cross-object reference resolves (`references`);
//! - the NetworkPolicies admit exactly the dependency graph (`network`, over the
//!   evaluator in `netpol`).
//!
//! Errors name the rendered file, the object, the JSON path and the component in
//! stack.toml that produced it (the diagnostic points there). validate knows Kubernetes
//! kinds, never component kinds.

mod duplicates;
pub(crate) mod keys;
mod keywords;
pub mod netpol;
pub mod network;
pub mod references;
pub mod schema;
mod share;
pub mod strict;
pub mod structural;
mod workload_names;

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
    locate: &(dyn Fn(&str) -> Option<Span> + Sync),
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
    let declared = |object: &Object| object.component.as_deref().and_then(locate);
    let collisions = duplicates::collisions(objects, &declared);
    for collision in &collisions {
        diags.push(
            Diagnostic::error("duplicate-object", collision.message())
                .at(declared(collision.again))
                .label(format!(
                    "in rendered/{env}/{}/{}",
                    collision.again.layer.dir(),
                    object_path(collision.again)
                ))
                .help(collision.help()),
        );
    }
    // Two workloads of one name are one node of the graph: the proof would check the
    // edges of one against the policies of the other. (Objects built twice already say
    // as much.)
    let clashes = if collisions.is_empty() {
        workload_names::clashes(graph)
    } else {
        Vec::new()
    };
    for clash in &clashes {
        diags.push(
            Diagnostic::error("duplicate-name", clash.message())
                .at(locate(&clash.again.component))
                .help(clash.help()),
        );
    }
    // Schema validation per run of objects, the references and the proof: independent,
    // so on all cores at once. References and the proof are the longest jobs and start
    // first, so the cores finish together; their diagnostics still come after the
    // schema errors.
    // Objects built twice make the references and the proof speak of one object where
    // there are two: their findings would only echo the collision.
    let whole = if collisions.is_empty() && clashes.is_empty() {
        vec![Job::References, Job::Proof]
    } else {
        vec![Job::Nothing, Job::Nothing]
    };
    let jobs: Vec<Job> = whole
        .into_iter()
        .chain(crate::parallel::runs(objects).into_iter().map(Job::Schemas))
        .collect();
    let found = time(
        || stage("schemas, references, proof"),
        || {
            crate::parallel::map(&jobs, |job| match job {
                Job::Schemas(run) => run
                    .iter()
                    .flat_map(|object| {
                        let keys = key_problems(object, &diagnostic);
                        schema_problems(object, &diagnostic).into_iter().chain(keys)
                    })
                    .collect(),
                Job::References => time(|| stage("references"), || references::check(objects))
                    .into_iter()
                    .map(|problem| {
                        diagnostic(
                            problem.object,
                            problem.code,
                            problem.message,
                            problem.help.into(),
                        )
                    })
                    .collect(),
                Job::Proof => time(|| stage("network proof"), || network::prove(objects, graph))
                    .into_iter()
                    .map(|problem| {
                        Diagnostic::error(problem.code, problem.message)
                            .at(problem.component.as_deref().and_then(locate))
                            .label(format!("in rendered/{env}/infra (NetworkPolicies)"))
                            .help(problem.help)
                    })
                    .collect::<Vec<_>>(),
                Job::Nothing => Vec::new(),
            })
        },
    );
    let mut found = found.into_iter();
    let references = found.next().unwrap_or_default();
    let proof = found.next().unwrap_or_default();
    diags.extend(found.flatten()); // the schema runs, in object order
    diags.extend(references);
    diags.extend(proof);
    diags
}

/// One of validate's independent pieces of work.
enum Job<'o> {
    Schemas(&'o [Object]),
    References,
    Proof,
    /// In place of the references or the proof when they are not run.
    Nothing,
}

/// The invalid data keys of one ConfigMap or Secret.
fn key_problems(
    object: &Object,
    diagnostic: &impl Fn(&Object, &'static str, String, String) -> Diagnostic,
) -> Vec<Diagnostic> {
    keys::invalid(object)
        .into_iter()
        .map(|(field, key, why)| {
            diagnostic(
                object,
                "invalid-data-key",
                format!("{field} key `{key}` {why}"),
                "the API server rejects the object: each key is a file name when it is mounted; rename what the key comes from".into(),
            )
        })
        .collect()
}

/// The schema problems of one object.
fn schema_problems(
    object: &Object,
    diagnostic: &impl Fn(&Object, &'static str, String, String) -> Diagnostic,
) -> Vec<Diagnostic> {
    match schema::validate(&object.body) {
        None => vec![diagnostic(
            object,
            "unknown-kind",
            format!("stackc has no schema for {} {}", object.api_version, object.kind),
            "stackc validates every object it emits; add the kind's schema to src/validate/schema.rs".into(),
        )],
        Some(errors) => errors
            .into_iter()
            .map(|e| {
                diagnostic(
                    object,
                    "schema",
                    format!("at {}: {}", e.path, e.message),
                    format!(
                        "the object does not match the Kubernetes {KUBERNETES} / CRD schema of {}",
                        object.kind
                    ),
                )
            })
            .collect(),
    }
}
