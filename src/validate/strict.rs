//! The strict schemas stackc validates against, and how they are made. Core kinds come
//! from the `k8s-openapi` types (their schemars impls: the Kubernetes 1.34 OpenAPI spec),
//! custom kinds from the vendored CRDs in `schemas/crds/`. Each is made strict (unknown
//! fields are errors, `apiVersion` and `kind` pinned, int-or-string fields take both
//! forms, descriptions dropped, repeated subschemas shared: [`super::share`]) and committed as `schemas/strict/<apiVersion>/<Kind>.json`
//! (core kinds under `core/v1/`), so that a run only parses and compiles it: generating
//! a pod-bearing kind's schema costs ten times more than compiling it.
//! `cargo run --example strict-schemas` rewrites the files; a test fails when one is
//! not what this module makes from its source.

use k8s_openapi::Resource;
use serde_json::{Value, json};

/// One kind stackc has a schema for.
pub struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// The committed strict schema (JSON).
    pub strict: &'static str,
    /// Its path under `schemas/strict/`.
    pub file: &'static str,
    source: Source,
}

enum Source {
    Core(fn() -> Value),
    Crd(&'static str),
}

/// The strict PodSpec schema, shared by every pod-bearing kind but Pod (see
/// `schema::shared_pod_spec`), and its path under `schemas/strict/`.
pub const POD_SPEC: &str = include_str!("../../schemas/strict/core/v1/PodSpec.json");
pub const POD_SPEC_FILE: &str = "core/v1/PodSpec.json";

macro_rules! core_kinds {
    ($(($ty:ty, $file:literal)),* $(,)?) => {
        vec![$(
            Kind {
                api_version: <$ty as Resource>::API_VERSION,
                kind: <$ty as Resource>::KIND,
                strict: include_str!(concat!("../../schemas/strict/", $file)),
                file: $file,
                source: Source::Core(|| serde_json::to_value(schemars::schema_for!($ty)).expect("schema serializes")),
            }
        ),*]
    };
}

macro_rules! crd_kinds {
    ($(($api:literal, $kind:literal, $crd:literal, $file:literal)),* $(,)?) => {
        vec![$(
            Kind {
                api_version: $api,
                kind: $kind,
                strict: include_str!(concat!("../../schemas/strict/", $file)),
                file: $file,
                source: Source::Crd(include_str!(concat!("../../schemas/crds/", $crd))),
            }
        ),*]
    };
}

/// Every kind stackc has a schema for.
pub fn kinds() -> Vec<Kind> {
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy, rbac, storage};
    let mut kinds = core_kinds![
        (core::v1::Namespace, "core/v1/Namespace.json"),
        (core::v1::ServiceAccount, "core/v1/ServiceAccount.json"),
        (core::v1::ConfigMap, "core/v1/ConfigMap.json"),
        (core::v1::Secret, "core/v1/Secret.json"),
        (core::v1::Service, "core/v1/Service.json"),
        (
            core::v1::PersistentVolumeClaim,
            "core/v1/PersistentVolumeClaim.json"
        ),
        (core::v1::Pod, "core/v1/Pod.json"),
        (core::v1::LimitRange, "core/v1/LimitRange.json"),
        (core::v1::ResourceQuota, "core/v1/ResourceQuota.json"),
        (apps::v1::Deployment, "apps/v1/Deployment.json"),
        (apps::v1::StatefulSet, "apps/v1/StatefulSet.json"),
        (apps::v1::DaemonSet, "apps/v1/DaemonSet.json"),
        (batch::v1::Job, "batch/v1/Job.json"),
        (batch::v1::CronJob, "batch/v1/CronJob.json"),
        (
            autoscaling::v2::HorizontalPodAutoscaler,
            "autoscaling/v2/HorizontalPodAutoscaler.json"
        ),
        (
            policy::v1::PodDisruptionBudget,
            "policy/v1/PodDisruptionBudget.json"
        ),
        (rbac::v1::Role, "rbac.authorization.k8s.io/v1/Role.json"),
        (
            rbac::v1::RoleBinding,
            "rbac.authorization.k8s.io/v1/RoleBinding.json"
        ),
        (
            rbac::v1::ClusterRole,
            "rbac.authorization.k8s.io/v1/ClusterRole.json"
        ),
        (
            rbac::v1::ClusterRoleBinding,
            "rbac.authorization.k8s.io/v1/ClusterRoleBinding.json"
        ),
        (
            networking::v1::NetworkPolicy,
            "networking.k8s.io/v1/NetworkPolicy.json"
        ),
        (networking::v1::Ingress, "networking.k8s.io/v1/Ingress.json"),
        (
            networking::v1::IngressClass,
            "networking.k8s.io/v1/IngressClass.json"
        ),
        (
            storage::v1::StorageClass,
            "storage.k8s.io/v1/StorageClass.json"
        ),
    ];
    kinds.extend(crd_kinds![
        (
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "kustomize.toolkit.fluxcd.io/kustomization_v1.json",
            "kustomize.toolkit.fluxcd.io/v1/Kustomization.json"
        ),
        (
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "source.toolkit.fluxcd.io/gitrepository_v1.json",
            "source.toolkit.fluxcd.io/v1/GitRepository.json"
        ),
        (
            "source.toolkit.fluxcd.io/v1",
            "HelmRepository",
            "source.toolkit.fluxcd.io/helmrepository_v1.json",
            "source.toolkit.fluxcd.io/v1/HelmRepository.json"
        ),
        (
            "source.toolkit.fluxcd.io/v1",
            "OCIRepository",
            "source.toolkit.fluxcd.io/ocirepository_v1.json",
            "source.toolkit.fluxcd.io/v1/OCIRepository.json"
        ),
        (
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            "helm.toolkit.fluxcd.io/helmrelease_v2.json",
            "helm.toolkit.fluxcd.io/v2/HelmRelease.json"
        ),
        (
            "cert-manager.io/v1",
            "Issuer",
            "cert-manager.io/issuer_v1.json",
            "cert-manager.io/v1/Issuer.json"
        ),
        (
            "cert-manager.io/v1",
            "ClusterIssuer",
            "cert-manager.io/clusterissuer_v1.json",
            "cert-manager.io/v1/ClusterIssuer.json"
        ),
        (
            "cert-manager.io/v1",
            "Certificate",
            "cert-manager.io/certificate_v1.json",
            "cert-manager.io/v1/Certificate.json"
        ),
        (
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            "monitoring.coreos.com/servicemonitor_v1.json",
            "monitoring.coreos.com/v1/ServiceMonitor.json"
        ),
        (
            "monitoring.coreos.com/v1",
            "PodMonitor",
            "monitoring.coreos.com/podmonitor_v1.json",
            "monitoring.coreos.com/v1/PodMonitor.json"
        ),
        (
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            "monitoring.coreos.com/prometheusrule_v1.json",
            "monitoring.coreos.com/v1/PrometheusRule.json"
        ),
        (
            "external-secrets.io/v1",
            "ExternalSecret",
            "external-secrets.io/externalsecret_v1.json",
            "external-secrets.io/v1/ExternalSecret.json"
        ),
        (
            "external-secrets.io/v1",
            "SecretStore",
            "external-secrets.io/secretstore_v1.json",
            "external-secrets.io/v1/SecretStore.json"
        ),
        (
            "external-secrets.io/v1",
            "ClusterSecretStore",
            "external-secrets.io/clustersecretstore_v1.json",
            "external-secrets.io/v1/ClusterSecretStore.json"
        ),
        (
            "secrets.infisical.com/v1alpha1",
            "InfisicalSecret",
            "secrets.infisical.com/infisicalsecret_v1alpha1.json",
            "secrets.infisical.com/v1alpha1/InfisicalSecret.json"
        ),
    ]);
    kinds
}

/// Whether a kind's pod template spec is left to the shared PodSpec schema.
pub fn has_shared_pod_spec(kind: &str) -> bool {
    kind != "Pod" && crate::kube::pod_spec_pointer(kind).is_some()
}

/// The strict schema of `kind`, made from its source: what its `schemas/strict/` file
/// must hold.
pub fn generate(kind: &Kind) -> String {
    let mut schema = match &kind.source {
        Source::Core(generate) => generate(),
        Source::Crd(text) => with_object_meta(text),
    };
    pin_identity(&mut schema, kind.api_version, kind.kind);
    if has_shared_pod_spec(kind.kind) {
        cut_pod_spec(&mut schema);
    }
    make_strict(&mut schema);
    super::share::share_repeated(&mut schema);
    to_text(&schema)
}

/// The strict PodSpec schema, made from k8s-openapi: what [`POD_SPEC`] must hold.
pub fn generate_pod_spec() -> String {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(k8s_openapi::api::core::v1::PodSpec))
            .expect("schema serializes");
    make_strict(&mut schema);
    super::share::share_repeated(&mut schema);
    to_text(&schema)
}

fn to_text(schema: &Value) -> String {
    serde_json::to_string_pretty(schema).expect("schemas serialize") + "\n"
}

/// A vendored CRD schema whose `metadata` is Kubernetes' ObjectMeta (CRD schemas leave
/// it open).
fn with_object_meta(crd: &str) -> Value {
    let mut schema: Value = serde_json::from_str(crd).expect("vendored CRD schemas are JSON");
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

/// Leaves the pod template's `spec` to the shared PodSpec schema: accepts anything there
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
    super::keywords::subschemas_mut(map)
        .into_iter()
        .for_each(make_strict);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_committed_strict_schema_is_what_its_source_makes() {
        let stale: Vec<&str> = kinds()
            .iter()
            .filter(|k| k.strict != generate(k))
            .map(|k| k.file)
            .chain((POD_SPEC != generate_pod_spec()).then_some(POD_SPEC_FILE))
            .collect();
        assert!(
            stale.is_empty(),
            "schemas/strict/ is stale for {stale:?}: run `cargo run --example strict-schemas`"
        );
    }

    #[test]
    fn files_are_named_for_their_api_version_and_kind() {
        for k in kinds() {
            let group_version = if k.api_version.contains('/') {
                k.api_version.to_owned()
            } else {
                format!("core/{}", k.api_version)
            };
            assert_eq!(k.file, format!("{group_version}/{}.json", k.kind));
        }
    }

    #[test]
    fn the_pod_template_spec_is_cut_from_pod_bearing_kinds_only() {
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
        assert!(has_shared_pod_spec("CronJob") && has_shared_pod_spec("Deployment"));
        assert!(!has_shared_pod_spec("Pod") && !has_shared_pod_spec("Service"));
    }
}
