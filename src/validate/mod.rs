//! validate: checks over the built objects that no single component can see. Today:
//! every object has a unique identity and file, Services select some pod template,
//! HPA/PDB targets exist, ConfigMaps mounted from the output exist, Flux dependsOn
//! names exist. Errors name the object and point at the component that produced it.
//! (Strict schema validation against the Kubernetes and CRD schemas comes next.)

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Span};
use crate::object::Object;

/// All problems in the objects of one environment. `locate` maps a component
/// (`app.producer`) to its place in the sources.
pub fn validate(objects: &[Object], locate: &dyn Fn(&str) -> Option<Span>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut report = |object: &Object, code: &'static str, message: String, help: &str| {
        let span = object.component.as_deref().and_then(locate);
        let from = object
            .component
            .as_deref()
            .map(|c| format!(" (built from [{c}])"))
            .unwrap_or_default();
        diags.push(
            Diagnostic::error(code, format!("{}: {message}{from}", object.id()))
                .at(span)
                .help(help),
        );
    };
    let mut seen = BTreeSet::new();
    for object in objects {
        let identity = (
            object.layer,
            object.kind.to_ascii_lowercase(),
            object.namespace.clone(),
            object.name.to_ascii_lowercase(),
        );
        if !seen.insert(identity) {
            report(
                object,
                "duplicate-object",
                "is produced twice".into(),
                "rename one of the components",
            );
        }
    }
    let index: BTreeMap<(&str, Option<&str>, &str), &Object> = objects
        .iter()
        .map(|o| {
            (
                (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()),
                o,
            )
        })
        .collect();
    let pod_labels: Vec<(Option<&str>, &serde_json::Map<String, Value>)> = objects
        .iter()
        .filter_map(|o| {
            let labels = o
                .body
                .pointer("/spec/template/metadata/labels")?
                .as_object()?;
            Some((o.namespace.as_deref(), labels))
        })
        .collect();
    for object in objects {
        let ns = object.namespace.as_deref();
        let exists = |kind: &str, name: &str| index.contains_key(&(kind, ns, name));
        match object.kind.as_str() {
            "Service" => {
                if let Some(selector) = object
                    .body
                    .pointer("/spec/selector")
                    .and_then(Value::as_object)
                {
                    let matches = pod_labels.iter().any(|(pod_ns, labels)| {
                        *pod_ns == ns && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                    });
                    if !matches {
                        report(
                            object,
                            "selector-matches-nothing",
                            "selects no pod template".into(),
                            "the Service's selector must match a workload's pod labels",
                        );
                    }
                }
            }
            "HorizontalPodAutoscaler" => {
                let target = object.body.pointer("/spec/scaleTargetRef");
                let kind = target
                    .and_then(|t| t.get("kind"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let name = target
                    .and_then(|t| t.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !exists(kind, name) {
                    report(
                        object,
                        "missing-target",
                        format!("scales {kind}/{name}, which is not in the output"),
                        "point the HPA at a rendered workload",
                    );
                }
            }
            "Kustomization" => {
                let depends = object
                    .body
                    .pointer("/spec/dependsOn")
                    .and_then(Value::as_array);
                for dep in depends.into_iter().flatten() {
                    let name = dep.get("name").and_then(Value::as_str).unwrap_or_default();
                    if !exists("Kustomization", name) {
                        report(
                            object,
                            "missing-target",
                            format!("dependsOn Kustomization {name}, which is not in the output"),
                            "depend on a rendered layer",
                        );
                    }
                }
            }
            _ => {}
        }
        let volumes = object
            .body
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array);
        for volume in volumes.into_iter().flatten() {
            if let Some(name) = volume.pointer("/configMap/name").and_then(Value::as_str)
                && !exists("ConfigMap", name)
            {
                report(
                    object,
                    "missing-target",
                    format!("mounts ConfigMap {name}, which is not in the output"),
                    "declare the ConfigMap's files in the component",
                );
            }
        }
    }
    diags
}
