//! Apply safety: what Kubernetes or Flux will reject, or can only apply by deleting and
//! recreating an object, a Flux layer read from a new path, and which workloads will
//! roll. Judged from the old and new body of each changed object, or of an object removed
//! and one added in its place under a renamed stack; no peer tool tells you this before
//! the merge.

use crate::value::Value;

use crate::kube::{At, str_at};

/// A change the cluster will refuse, that needs delete-and-recreate, or that applies with a
/// side effect worth knowing before the merge (running Jobs keep an old template, a Flux
/// layer read from a new path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    /// JSON pointer of the field.
    pub field: String,
    pub message: String,
}

fn hazard(field: &str, message: &str) -> Hazard {
    Hazard {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn changed(old: &Value, new: &Value, pointer: &str) -> bool {
    old.at(pointer) != new.at(pointer)
}

/// Hazards of replacing `old` by `new` (same kind, namespace and name).
pub fn hazards(old: &Value, new: &Value) -> Vec<Hazard> {
    let kind = str_at(new, "/kind").unwrap_or_default();
    let mut out = Vec::new();
    if matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
    ) && changed(old, new, "/spec/selector")
    {
        out.push(hazard("/spec/selector", "spec.selector is immutable: the apply is rejected; the workload must be deleted and recreated"));
    }
    if kind == "StatefulSet" {
        for (field, name) in [
            ("/spec/volumeClaimTemplates", "volumeClaimTemplates"),
            ("/spec/serviceName", "serviceName"),
            ("/spec/podManagementPolicy", "podManagementPolicy"),
        ] {
            if changed(old, new, field) {
                out.push(hazard(field, &format!("StatefulSet {name} is immutable: the apply is rejected; delete the StatefulSet with --cascade=orphan and let Flux recreate it")));
            }
        }
    }
    if kind == "Job" && changed(old, new, "/spec/template") {
        out.push(hazard("/spec/template", "a Job's pod template is immutable: the apply is rejected; the Job must be deleted (Flux `force: true` recreates it)"));
    }
    if kind == "CronJob" && changed(old, new, "/spec/jobTemplate") {
        out.push(hazard(
            "/spec/jobTemplate",
            "running Jobs keep the old template; the change applies from the next scheduled run",
        ));
    }
    if kind == "Service" {
        if changed(old, new, "/spec/clusterIP") && old.at("/spec/clusterIP").is_some() {
            out.push(hazard(
                "/spec/clusterIP",
                "spec.clusterIP is immutable: the Service must be deleted and recreated",
            ));
        }
        let (before, after) = (
            str_at(old, "/spec/type").unwrap_or("ClusterIP"),
            str_at(new, "/spec/type").unwrap_or("ClusterIP"),
        );
        if before != after {
            let message = match (before, after) {
                ("LoadBalancer", _) => format!(
                    "type {before} -> {after}: the load balancer and its external IP are released"
                ),
                (_, "ExternalName") | ("ExternalName", _) => format!(
                    "type {before} -> {after}: the cluster IP is released or allocated; clients of the old address break"
                ),
                _ => format!("type {before} -> {after}: node ports and addresses change"),
            };
            out.push(hazard("/spec/type", &message));
        }
    }
    if kind == "PersistentVolumeClaim" {
        let size = |v: &Value| {
            str_at(v, "/spec/resources/requests/storage")
                .and_then(|q| crate::check::parse_quantity(q).ok())
        };
        if let (Some(a), Some(b)) = (size(old), size(new))
            && b < a
        {
            out.push(hazard(
                "/spec/resources/requests/storage",
                "a PersistentVolumeClaim cannot shrink: the apply is rejected",
            ));
        }
        for (field, name) in [
            ("/spec/storageClassName", "storageClassName"),
            ("/spec/accessModes", "accessModes"),
            ("/spec/volumeName", "volumeName"),
        ] {
            if changed(old, new, field) {
                out.push(hazard(
                    field,
                    &format!("PersistentVolumeClaim {name} is immutable: the apply is rejected"),
                ));
            }
        }
    }
    if matches!(kind, "ConfigMap" | "Secret")
        && old.get("immutable") == Some(&Value::Bool(true))
        && (changed(old, new, "/data")
            || changed(old, new, "/binaryData")
            || changed(old, new, "/stringData"))
    {
        out.push(hazard("/data", &format!("the {kind} is immutable: its content cannot change; it must be deleted and recreated")));
    }
    if let Some(hazard) = flux_path(old, new) {
        out.push(hazard);
    }
    out
}

/// The stack an object is part of: its `app.kubernetes.io/part-of` label, which stackc
/// sets on every object to `[stack] name`.
fn stack_of(body: &Value) -> Option<&str> {
    body.at("/metadata/labels")?
        .get("app.kubernetes.io/part-of")?
        .as_str()
}

/// What follows the stack's name in an object named after it (`conveyor-apps` → `-apps`,
/// `conveyor` → ``).
fn after_stack<'n>(name: &'n str, stack: &str) -> Option<&'n str> {
    name.strip_prefix(stack)
        .filter(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// The hazard of a renamed stack, when `old` (removed) and `new` (added) are one object
/// named after its stack under the old and the new `[stack] name`: same kind and
/// namespace, `<old stack><suffix>` becoming `<new stack><suffix>`. The cluster sees a
/// new object and the old one deleted; for a Flux Kustomization with `prune: true`, the
/// deletion takes everything it applied with it before the new one recreates it.
pub fn stack_rename(old: &Value, new: &Value) -> Option<Hazard> {
    let same = |pointer: &str| old.at(pointer) == new.at(pointer);
    if !(same("/apiVersion") && same("/kind") && same("/metadata/namespace")) {
        return None;
    }
    let (from, to) = (stack_of(old)?, stack_of(new)?);
    let (old_name, new_name) = (
        str_at(old, "/metadata/name")?,
        str_at(new, "/metadata/name")?,
    );
    if from == to || after_stack(old_name, from)? != after_stack(new_name, to)? {
        return None;
    }
    let kind = str_at(new, "/kind").unwrap_or_default();
    let replaced = format!(
        "the stack is renamed from {from} to {to}: {kind} {old_name} is replaced by {new_name} (deleted and recreated)"
    );
    let flux =
        str_at(new, "/apiVersion").is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"));
    let message = if flux && old.at("/spec/prune") == Some(&Value::Bool(true)) {
        format!(
            "{replaced}; with prune: true, Flux deletes every object {old_name} applied before {new_name} recreates it: downtime, and its PersistentVolumeClaims are deleted with their data unless the volumes are retained"
        )
    } else {
        replaced
    };
    Some(hazard("/metadata/name", &message))
}

/// A Flux Kustomization whose `spec.path` changes (`[flux] path`, or a moved stack): Flux
/// resolves the new path from the repository root at the branch's head.
fn flux_path(old: &Value, new: &Value) -> Option<Hazard> {
    let flux = str_at(new, "/kind") == Some("Kustomization")
        && str_at(new, "/apiVersion")
            .is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"));
    let (before, after) = (str_at(old, "/spec/path")?, str_at(new, "/spec/path")?);
    (flux && before != after).then(|| hazard("/spec/path", &format!(
        "spec.path {before} -> {after}: Flux reads the layer there, from the repository root, at the branch's head; it stops reconciling while nothing is there (check `[flux] path`)"
    )))
}

/// True when the change restarts the workload's pods (its pod template changed,
/// config checksums included).
pub fn rolls(old: &Value, new: &Value) -> bool {
    let kind = str_at(new, "/kind").unwrap_or_default();
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
        && changed(old, new, "/spec/template")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json;

    fn fields(old: Value, new: Value) -> Vec<String> {
        hazards(&old, &new).into_iter().map(|h| h.field).collect()
    }

    #[test]
    fn workload_selector_changes_are_rejected() {
        let old = json!({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"a": "1"}}, "template": {}}});
        let new = json!({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"a": "2"}}, "template": {}}});
        assert_eq!(fields(old.clone(), new), ["/spec/selector"]);
        assert!(fields(old.clone(), old).is_empty());
    }

    #[test]
    fn statefulset_immutable_fields() {
        let old = json!({"kind": "StatefulSet", "spec": {"serviceName": "a", "podManagementPolicy": "OrderedReady", "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "1Gi"}}}}]}});
        let new = json!({"kind": "StatefulSet", "spec": {"serviceName": "b", "podManagementPolicy": "Parallel", "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "2Gi"}}}}]}});
        assert_eq!(
            fields(old, new),
            [
                "/spec/volumeClaimTemplates",
                "/spec/serviceName",
                "/spec/podManagementPolicy"
            ]
        );
    }

    #[test]
    fn jobs_services_pvcs_and_immutable_configmaps() {
        assert_eq!(
            fields(
                json!({"kind": "Job", "spec": {"template": {"a": 1}}}),
                json!({"kind": "Job", "spec": {"template": {"a": 2}}})
            ),
            ["/spec/template"]
        );
        assert_eq!(
            fields(
                json!({"kind": "CronJob", "spec": {"jobTemplate": {"a": 1}}}),
                json!({"kind": "CronJob", "spec": {"jobTemplate": {"a": 2}}})
            ),
            ["/spec/jobTemplate"]
        );
        assert_eq!(
            fields(
                json!({"kind": "Service", "spec": {"clusterIP": "10.0.0.1"}}),
                json!({"kind": "Service", "spec": {"clusterIP": "10.0.0.2"}})
            ),
            ["/spec/clusterIP"]
        );
        assert_eq!(
            fields(
                json!({"kind": "Service", "spec": {"type": "LoadBalancer"}}),
                json!({"kind": "Service", "spec": {}})
            ),
            ["/spec/type"]
        );
        let pvc = |size: &str| json!({"kind": "PersistentVolumeClaim", "spec": {"resources": {"requests": {"storage": size}}}});
        assert_eq!(
            fields(pvc("20Gi"), pvc("10Gi")),
            ["/spec/resources/requests/storage"]
        );
        assert!(
            fields(pvc("10Gi"), pvc("20Gi")).is_empty(),
            "growing is allowed"
        );
        let cm = |v: &str| json!({"kind": "ConfigMap", "immutable": true, "data": {"k": v}});
        assert_eq!(fields(cm("a"), cm("b")), ["/data"]);
        assert!(
            fields(
                json!({"kind": "ConfigMap", "data": {"k": "a"}}),
                json!({"kind": "ConfigMap", "data": {"k": "b"}})
            )
            .is_empty()
        );
    }

    #[test]
    fn a_renamed_stack_replaces_the_objects_named_after_it() {
        let flux = |stack: &str, name: &str, prune: bool| {
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": "flux-system",
                    "labels": {"app.kubernetes.io/part-of": stack}},
                "spec": {"prune": prune}})
        };
        let pruned = stack_rename(
            &flux("conveyor", "conveyor-apps", true),
            &flux("belt", "belt-apps", true),
        )
        .expect("a hazard");
        assert_eq!(pruned.field, "/metadata/name");
        assert!(
            pruned.message.contains("renamed from conveyor to belt")
                && pruned
                    .message
                    .contains("Kustomization conveyor-apps is replaced by belt-apps")
                && pruned.message.contains("prune: true"),
            "{}",
            pruned.message
        );
        let kept = stack_rename(
            &flux("conveyor", "conveyor-apps", false),
            &flux("belt", "belt-apps", false),
        )
        .expect("a hazard");
        assert!(!kept.message.contains("prune"), "{}", kept.message);
        let source = |stack: &str| {
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": stack, "namespace": "flux-system",
                    "labels": {"app.kubernetes.io/part-of": stack}}})
        };
        assert!(stack_rename(&source("conveyor"), &source("belt")).is_some());
        // Not a rename: another layer, the same stack, another kind, a name not after it.
        for (old, new) in [
            (
                flux("conveyor", "conveyor-apps", true),
                flux("belt", "belt-data", true),
            ),
            (
                flux("conveyor", "conveyor-apps", true),
                flux("conveyor", "conveyor-data", true),
            ),
            (source("conveyor"), flux("belt", "belt", true)),
            (
                flux("conveyor", "conveyorx-apps", true),
                flux("belt", "beltx-apps", true),
            ),
        ] {
            assert_eq!(stack_rename(&old, &new), None, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn a_flux_kustomization_path_change_is_noted() {
        let flux = |path: &str| json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "spec": {"path": path, "interval": "10m"}});
        let moved = hazards(
            &flux("./rendered/dev/apps"),
            &flux("./platform/conveyor/rendered/dev/apps"),
        );
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].field, "/spec/path");
        assert!(
            moved[0]
                .message
                .contains("./rendered/dev/apps -> ./platform/conveyor/rendered/dev/apps"),
            "{}",
            moved[0].message
        );
        assert!(fields(flux("./rendered/dev/apps"), flux("./rendered/dev/apps")).is_empty());
        let kustomize = |path: &str| json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "spec": {"path": path}});
        assert!(
            fields(kustomize("a"), kustomize("b")).is_empty(),
            "only Flux's Kustomization reads a path from Git"
        );
    }

    #[test]
    fn pod_template_changes_roll() {
        let d = |image: &str| json!({"kind": "Deployment", "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": image}]}}}});
        assert!(rolls(&d("a:1"), &d("a:2")));
        let scaled = json!({"kind": "Deployment", "spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a:1"}]}}}});
        assert!(!rolls(&d("a:1"), &scaled), "scaling does not roll");
    }
}
