//! Strict, offline schema validation of rendered objects, against the schemas of
//! [`super::strict`] (committed under `schemas/strict/`; see `schemas/SOURCES.md`). Each
//! is read once per process, the first time an object of its kind is seen (by
//! [`super::structural`]: reading the biggest takes under a millisecond, so nothing is
//! read ahead). The pod templates of Deployments, StatefulSets, DaemonSets, Jobs and
//! CronJobs are checked by one shared PodSpec validator, so PodSpec is read once rather
//! than once per kind.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use super::structural::Validator;
use crate::value::Value;

use super::strict;
use crate::kube::At;

/// One problem with one object: where in the object, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON pointer into the object, e.g. `/spec/template/spec/containers/0`.
    pub path: String,
    pub message: String,
}

/// Validates one object; `None` when stackc has no schema for its apiVersion and kind.
pub fn validate(object: &Value) -> Option<Vec<SchemaError>> {
    let api_version = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    let entry = REGISTRY.get(&(api_version, kind))?;
    let mut errors = errors_of(entry.validator(), object, "");
    if let Some(pointer) = shared_pod_spec(kind)
        && let Some(spec) = object.at(pointer)
    {
        errors.extend(errors_of(POD_SPEC.validator(), spec, pointer));
    }
    Some(errors)
}

/// The errors of `validator` on `value` (found at `pointer` in the object). Most objects
/// are valid, and asking that first is cheaper than collecting errors.
fn errors_of(validator: &Validator, value: &Value, pointer: &str) -> Vec<SchemaError> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    validator
        .errors(value)
        .into_iter()
        .map(|e| SchemaError::under(pointer, e))
        .collect()
}

impl SchemaError {
    /// An error of a validator run on the value at `pointer` of the object.
    fn under(pointer: &str, e: SchemaError) -> SchemaError {
        let path = format!("{pointer}{}", e.path);
        SchemaError {
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path
            },
            message: e.message,
        }
    }
}

/// Where a kind's pod template keeps its PodSpec, when that PodSpec is checked by the
/// one shared PodSpec validator instead of the kind's own schema: compiling PodSpec
/// costs more than all the rest of a Deployment's schema, and five kinds would each
/// compile it again. (A Pod keeps its PodSpec in its own schema.)
fn shared_pod_spec(kind: &str) -> Option<&'static str> {
    if strict::has_shared_pod_spec(kind) {
        crate::kube::pod_spec_pointer(kind)
    } else {
        None
    }
}

/// The strict PodSpec, whose validator is shared by the kinds with a pod template.
static POD_SPEC: LazyLock<Entry> =
    LazyLock::new(|| Entry::new("core/v1", "PodSpec", strict::POD_SPEC));

/// True when stackc has a schema for this apiVersion and kind.
pub fn knows(api_version: &str, kind: &str) -> bool {
    REGISTRY.contains_key(&(api_version, kind))
}

/// The apiVersions stackc has a schema of `kind` for (empty for unknown kinds).
pub fn api_versions_of(kind: &str) -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = REGISTRY
        .keys()
        .filter(|(_, k)| *k == kind)
        .map(|(v, _)| *v)
        .collect();
    versions.sort_unstable();
    versions
}

struct Entry {
    api_version: &'static str,
    kind: &'static str,
    /// The strict schema, as JSON.
    strict: &'static str,
    validator: OnceLock<Validator>,
}

impl Entry {
    fn new(api_version: &'static str, kind: &'static str, strict: &'static str) -> Entry {
        Entry {
            api_version,
            kind,
            strict,
            validator: OnceLock::new(),
        }
    }

    /// The validator, compiled now unless it was before.
    fn validator(&self) -> &Validator {
        self.validator
            .get_or_init(|| compile(self.api_version, self.kind, self.strict))
    }
}

static REGISTRY: LazyLock<HashMap<(&'static str, &'static str), Entry>> = LazyLock::new(|| {
    strict::kinds()
        .into_iter()
        .map(|k| {
            (
                (k.api_version, k.kind),
                Entry::new(k.api_version, k.kind, k.strict),
            )
        })
        .collect()
});

fn compile(api_version: &str, kind: &str, schema: &str) -> Validator {
    crate::timings::time(
        || format!("compile schema {api_version} {kind}"),
        || {
            Validator::compile(schema).unwrap_or_else(|e| {
                panic!("the strict schema of {api_version} {kind} compiles: {e}")
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whether some error is at `path` and names `word`.
    fn has_error(errors: &[SchemaError], path: &str, word: &str) -> bool {
        errors
            .iter()
            .any(|e| e.path == path && e.message.contains(word))
    }

    /// `validate` of a serde_json value (which tests can edit in place), as built.
    fn check(object: &serde_json::Value) -> Option<Vec<SchemaError>> {
        validate(&Value::from(object.clone()))
    }

    fn deployment() -> serde_json::Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "namespace": "ns"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "x", "image": "x:1",
                    "resources": {"requests": {"cpu": 1, "memory": "1Gi"}}, "ports": [{"containerPort": 80}],
                    "livenessProbe": {"tcpSocket": {"port": "http"}}}]}}
            }
        })
    }

    #[test]
    fn a_valid_deployment_passes() {
        assert_eq!(check(&deployment()), Some(vec![]));
    }

    #[test]
    fn unknown_fields_are_errors_with_their_path() {
        let mut d = deployment();
        d["spec"]["replicass"] = json!(3);
        let errors = check(&d).unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "/spec");
        assert!(errors[0].message.contains("replicass"), "{errors:?}");
    }

    #[test]
    fn wrong_types_and_missing_required_fields_are_errors() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!("three");
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("name");
        let errors = check(&d).unwrap();
        assert!(
            errors.iter().any(|e| e.path == "/spec/replicas"),
            "{errors:?}"
        );
        assert!(
            has_error(&errors, "/spec/template/spec/containers/0", "name"),
            "{errors:?}"
        );
    }

    #[test]
    fn pod_specs_are_checked_once_by_the_shared_validator() {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = json!("Always");
        d["spec"]["template"]["spec"]["hostNetwrok"] = json!(true);
        let errors = check(&d).unwrap();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            has_error(
                &errors,
                "/spec/template/spec/containers/0",
                "imagePullPolice"
            ),
            "{errors:?}"
        );
        assert!(
            has_error(&errors, "/spec/template/spec", "hostNetwrok"),
            "{errors:?}"
        );
        // A CronJob's pod spec sits deeper, and is checked the same way.
        let cron = json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "x", "namespace": "ns"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "x", "image": "x:1", "comand": []}]}}}}}
        });
        let errors = check(&cron).unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].path,
            "/spec/jobTemplate/spec/template/spec/containers/0"
        );
    }

    #[test]
    fn crd_fields_and_metadata_are_strict_too() {
        let k = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "lables": {}},
            "spec": {"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "x"}, "dependOn": []}
        });
        let errors = check(&k).unwrap();
        assert!(has_error(&errors, "/metadata", "lables"), "{errors:?}");
        assert!(has_error(&errors, "/spec", "dependOn"), "{errors:?}");
    }

    #[test]
    fn wrong_api_version_for_a_kind_is_unknown() {
        assert!(check(&json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"})).is_none());
        assert!(knows("cert-manager.io/v1", "Certificate"));
        let mut d = deployment();
        d["apiVersion"] = json!("batch/v1");
        d["kind"] = json!("CronJob");
        let errors = check(&d).unwrap();
        assert!(
            errors.iter().any(|e| e.message.contains("schedule")),
            "a Deployment body is not a CronJob: {errors:?}"
        );
    }
}
