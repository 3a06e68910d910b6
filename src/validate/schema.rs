//! Strict, offline schema validation of rendered objects. Core kinds use the Kubernetes
//! OpenAPI schema of the supported version (from k8s-openapi's schemars impls); custom
//! kinds use the vendored CRD schemas in `schemas/crds/` (see `schemas/SOURCES.md`).
//! Every schema is made strict (unknown fields are errors) and compiled once per
//! process, lazily, the first time an object of its kind is seen. The pod templates of
//! Deployments, StatefulSets, DaemonSets, Jobs and CronJobs are checked by one shared
//! PodSpec validator, so PodSpec is compiled once rather than once per kind.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use k8s_openapi::Resource;

use crate::kube::At;
use serde_json::{Value, json};

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
    let validator = entry
        .validator
        .get_or_init(|| compile(api_version, kind, &entry.source));
    let mut errors = errors_of(validator, object, "");
    if let Some(pointer) = shared_pod_spec(kind)
        && let Some(spec) = object.at(pointer)
    {
        errors.extend(errors_of(pod_spec_validator(), spec, pointer));
    }
    Some(errors)
}

/// The errors of `validator` on `value` (found at `pointer` in the object). Most objects
/// are valid, and asking that first is several times cheaper than collecting errors.
fn errors_of(validator: &jsonschema::Validator, value: &Value, pointer: &str) -> Vec<SchemaError> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    validator
        .iter_errors(value)
        .map(|e| SchemaError::under(pointer, &e))
        .collect()
}

impl SchemaError {
    /// An error of a validator run on the value at `pointer` of the object.
    fn under(pointer: &str, e: &jsonschema::ValidationError) -> SchemaError {
        let path = format!("{pointer}{}", e.instance_path().as_str());
        SchemaError {
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path
            },
            message: e.to_string(),
        }
    }
}

/// Where a kind's pod template keeps its PodSpec, when that PodSpec is checked by the
/// one shared PodSpec validator instead of the kind's own schema: compiling PodSpec
/// costs more than all the rest of a Deployment's schema, and five kinds would each
/// compile it again. (A Pod keeps its PodSpec in its own schema.)
fn shared_pod_spec(kind: &str) -> Option<&'static str> {
    if kind == "Pod" {
        return None;
    }
    crate::kube::pod_spec_pointer(kind)
}

/// The strict PodSpec validator, compiled once.
fn pod_spec_validator() -> &'static jsonschema::Validator {
    static POD_SPEC: OnceLock<jsonschema::Validator> = OnceLock::new();
    POD_SPEC.get_or_init(|| {
        let started = crate::timings::start();
        let mut schema =
            serde_json::to_value(schemars::schema_for!(k8s_openapi::api::core::v1::PodSpec))
                .expect("schema serializes");
        make_strict(&mut schema);
        let validator = build(&schema, "PodSpec");
        crate::timings::report(started, || "compile schema PodSpec".into());
        validator
    })
}

/// Compiles the validators of these (apiVersion, kind)s ahead, on all cores: compiling a
/// schema costs far more than validating an object with it. `None` stands for the
/// shared PodSpec validator.
pub fn prepare<'a>(kinds: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let kinds: Vec<(&str, &str)> = kinds.into_iter().collect();
    let pod_spec = kinds.iter().any(|(_, k)| shared_pod_spec(k).is_some());
    let entries: Vec<Option<(&str, &str, &Entry)>> = kinds
        .into_iter()
        .filter_map(|(v, k)| {
            REGISTRY
                .get_key_value(&(v, k))
                .map(|((v, k), e)| Some((*v, *k, e)))
        })
        .filter(|job| job.is_some_and(|(_, _, e)| e.validator.get().is_none()))
        .chain(pod_spec.then_some(None))
        .collect();
    crate::parallel::map(&entries, |job| match job {
        Some((v, k, e)) => {
            e.validator.get_or_init(|| compile(v, k, &e.source));
        }
        None => {
            pod_spec_validator();
        }
    });
}

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

enum Source {
    Core(fn() -> Value),
    Crd(&'static str),
}

struct Entry {
    source: Source,
    validator: OnceLock<jsonschema::Validator>,
}

macro_rules! core_kinds {
    ($($ty:ty),* $(,)?) => {
        vec![$(
            (
                (<$ty as Resource>::API_VERSION, <$ty as Resource>::KIND),
                Source::Core(|| serde_json::to_value(schemars::schema_for!($ty)).expect("schema serializes")),
            )
        ),*]
    };
}

macro_rules! crd_kinds {
    ($(($api:literal, $kind:literal, $file:literal)),* $(,)?) => {
        vec![$(
            (($api, $kind), Source::Crd(include_str!(concat!("../../schemas/crds/", $file)))),
        )*]
    };
}

static REGISTRY: LazyLock<HashMap<(&'static str, &'static str), Entry>> = LazyLock::new(|| {
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy, rbac, storage};
    let mut kinds = core_kinds![
        core::v1::Namespace,
        core::v1::ServiceAccount,
        core::v1::ConfigMap,
        core::v1::Secret,
        core::v1::Service,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::LimitRange,
        core::v1::ResourceQuota,
        apps::v1::Deployment,
        apps::v1::StatefulSet,
        apps::v1::DaemonSet,
        batch::v1::Job,
        batch::v1::CronJob,
        autoscaling::v2::HorizontalPodAutoscaler,
        policy::v1::PodDisruptionBudget,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        networking::v1::NetworkPolicy,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        storage::v1::StorageClass,
    ];
    kinds.extend(crd_kinds![
        (
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "kustomize.toolkit.fluxcd.io/kustomization_v1.json"
        ),
        (
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "source.toolkit.fluxcd.io/gitrepository_v1.json"
        ),
        (
            "source.toolkit.fluxcd.io/v1",
            "HelmRepository",
            "source.toolkit.fluxcd.io/helmrepository_v1.json"
        ),
        (
            "source.toolkit.fluxcd.io/v1",
            "OCIRepository",
            "source.toolkit.fluxcd.io/ocirepository_v1.json"
        ),
        (
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            "helm.toolkit.fluxcd.io/helmrelease_v2.json"
        ),
        (
            "cert-manager.io/v1",
            "Issuer",
            "cert-manager.io/issuer_v1.json"
        ),
        (
            "cert-manager.io/v1",
            "ClusterIssuer",
            "cert-manager.io/clusterissuer_v1.json"
        ),
        (
            "cert-manager.io/v1",
            "Certificate",
            "cert-manager.io/certificate_v1.json"
        ),
        (
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            "monitoring.coreos.com/servicemonitor_v1.json"
        ),
        (
            "monitoring.coreos.com/v1",
            "PodMonitor",
            "monitoring.coreos.com/podmonitor_v1.json"
        ),
        (
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            "monitoring.coreos.com/prometheusrule_v1.json"
        ),
        (
            "external-secrets.io/v1",
            "ExternalSecret",
            "external-secrets.io/externalsecret_v1.json"
        ),
        (
            "external-secrets.io/v1",
            "SecretStore",
            "external-secrets.io/secretstore_v1.json"
        ),
        (
            "external-secrets.io/v1",
            "ClusterSecretStore",
            "external-secrets.io/clustersecretstore_v1.json"
        ),
        (
            "secrets.infisical.com/v1alpha1",
            "InfisicalSecret",
            "secrets.infisical.com/infisicalsecret_v1alpha1.json"
        ),
    ]);
    kinds
        .into_iter()
        .map(|(key, source)| {
            let entry = Entry {
                source,
                validator: OnceLock::new(),
            };
            (key, entry)
        })
        .collect()
});

fn compile(api_version: &str, kind: &str, source: &Source) -> jsonschema::Validator {
    crate::timings::time(
        || format!("compile schema {api_version} {kind}"),
        || compile_untimed(api_version, kind, source),
    )
}

fn compile_untimed(api_version: &str, kind: &str, source: &Source) -> jsonschema::Validator {
    let mut schema = match source {
        Source::Core(generate) => generate(),
        Source::Crd(text) => {
            let mut schema: Value =
                serde_json::from_str(text).expect("vendored CRD schemas are JSON");
            if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert("metadata".into(), json!({ "$ref": "#/$defs/ObjectMeta" }));
            }
            let meta = serde_json::to_value(schemars::schema_for!(
                k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta
            ))
            .expect("schema serializes");
            attach_object_meta(&mut schema, meta);
            schema
        }
    };
    pin_identity(&mut schema, api_version, kind);
    if shared_pod_spec(kind).is_some() {
        cut_pod_spec(&mut schema);
    }
    make_strict(&mut schema);
    build(&schema, &format!("{api_version} {kind}"))
}

fn build(schema: &Value, what: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(false)
        .build(schema)
        .unwrap_or_else(|e| panic!("the built-in schema for {what} compiles: {e}"))
}

/// Leaves the pod template's `spec` to [`pod_spec_validator`]: accepts anything there
/// and drops the definitions nothing else refers to.
fn cut_pod_spec(schema: &mut Value) {
    let spec = schema
        .pointer_mut("/$defs/io.k8s.api.core.v1.PodTemplateSpec/properties/spec")
        .expect("a pod-bearing kind's schema defines PodTemplateSpec.spec");
    *spec = json!({});
    let mut reachable = std::collections::BTreeSet::new();
    let mut pending = Vec::new();
    refs_in(schema, &mut pending);
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    while let Some(name) = pending.pop() {
        if reachable.insert(name.clone())
            && let Some(def) = defs.get(&name)
        {
            refs_in(def, &mut pending);
        }
    }
    if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
        defs.retain(|name, _| reachable.contains(name));
    }
}

/// The `$defs` names `value` refers to, outside of `$defs` itself.
fn refs_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$defs", _) => {}
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            out.push(name.replace("~1", "/").replace("~0", "~"));
                        }
                    }
                    _ => refs_in(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs_in(item, out)),
        _ => {}
    }
}

/// Moves ObjectMeta (with its own `$defs`) into the CRD schema's `$defs`.
fn attach_object_meta(schema: &mut Value, mut meta: Value) {
    let defs = meta
        .as_object_mut()
        .and_then(|m| m.remove("$defs"))
        .and_then(|d| d.as_object().cloned())
        .unwrap_or_default();
    if let Some(m) = meta.as_object_mut() {
        m.remove("$schema");
    }
    let root = schema.as_object_mut().expect("a CRD schema is an object");
    let target = root.entry("$defs").or_insert_with(|| json!({}));
    let target = target.as_object_mut().expect("$defs is an object");
    target.extend(defs);
    target.insert("ObjectMeta".into(), meta);
}

/// `apiVersion` and `kind` must be exactly this kind's, and present.
fn pin_identity(schema: &mut Value, api_version: &str, kind: &str) {
    let root = schema.as_object_mut().expect("schemas are objects");
    let props = root.entry("properties").or_insert_with(|| json!({}));
    props["apiVersion"] = json!({ "const": api_version });
    props["kind"] = json!({ "const": kind });
    let required = root.entry("required").or_insert_with(|| json!([]));
    if let Some(list) = required.as_array_mut() {
        for key in ["apiVersion", "kind", "metadata"] {
            if !list.iter().any(|v| v == key) {
                list.push(json!(key));
            }
        }
    }
}

/// Unknown fields become errors; int-or-string fields and quantities accept both
/// forms; descriptions go (they only cost compile time).
fn make_strict(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.get("description").is_some_and(Value::is_string) {
        map.remove("description");
    }
    let title = map.get("title").and_then(Value::as_str).unwrap_or_default();
    if title == "io.k8s.apimachinery.pkg.api.resource.Quantity"
        || map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
    {
        map.remove("type");
        map.remove("format");
        map.remove("pattern");
        if !map.contains_key("anyOf") && !map.contains_key("oneOf") {
            map.insert("type".into(), json!(["integer", "number", "string"]));
        }
    }
    if map.get("properties").is_some_and(Value::is_object)
        && !map.contains_key("additionalProperties")
        && map.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
    {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(make_strict);
        }
    }
    for key in [
        "additionalProperties",
        "items",
        "not",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
    ] {
        match map.get_mut(key) {
            Some(Value::Array(items)) => items.iter_mut().for_each(make_strict),
            Some(child @ Value::Object(_)) => make_strict(child),
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(items)) = map.get_mut(key) {
            items.iter_mut().for_each(make_strict);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether some error is at `path` and names `word`.
    fn has_error(errors: &[SchemaError], path: &str, word: &str) -> bool {
        errors
            .iter()
            .any(|e| e.path == path && e.message.contains(word))
    }

    fn deployment() -> Value {
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
        assert_eq!(validate(&deployment()), Some(vec![]));
    }

    #[test]
    fn unknown_fields_are_errors_with_their_path() {
        let mut d = deployment();
        d["spec"]["replicass"] = json!(3);
        let errors = validate(&d).unwrap();
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
        let errors = validate(&d).unwrap();
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
        let errors = validate(&d).unwrap();
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
        let errors = validate(&cron).unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].path,
            "/spec/jobTemplate/spec/template/spec/containers/0"
        );
        // The kind's own schema no longer carries PodSpec.
        let mut schema = serde_json::to_value(schemars::schema_for!(
            k8s_openapi::api::apps::v1::Deployment
        ))
        .unwrap();
        let defined = |schema: &Value, name: &str| {
            schema["$defs"]
                .as_object()
                .unwrap()
                .contains_key(&format!("io.k8s.{name}"))
        };
        assert!(defined(&schema, "api.core.v1.PodSpec"));
        cut_pod_spec(&mut schema);
        assert!(!defined(&schema, "api.core.v1.PodSpec"));
        assert!(!defined(&schema, "api.core.v1.Container"));
        assert!(defined(&schema, "apimachinery.pkg.apis.meta.v1.ObjectMeta"));
        assert!(defined(&schema, "api.apps.v1.DeploymentStrategy"));
    }

    #[test]
    fn crd_fields_and_metadata_are_strict_too() {
        let k = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "lables": {}},
            "spec": {"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "x"}, "dependOn": []}
        });
        let errors = validate(&k).unwrap();
        assert!(has_error(&errors, "/metadata", "lables"), "{errors:?}");
        assert!(has_error(&errors, "/spec", "dependOn"), "{errors:?}");
    }

    #[test]
    fn wrong_api_version_for_a_kind_is_unknown() {
        assert!(validate(&json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"})).is_none());
        assert!(knows("cert-manager.io/v1", "Certificate"));
        let mut d = deployment();
        d["apiVersion"] = json!("batch/v1");
        d["kind"] = json!("CronJob");
        let errors = validate(&d).unwrap();
        assert!(
            errors.iter().any(|e| e.message.contains("schedule")),
            "a Deployment body is not a CronJob: {errors:?}"
        );
    }
}
