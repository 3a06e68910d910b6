//! Apply safety: what Kubernetes or Flux will reject, or can only apply by deleting and
//! recreating an object, a Flux layer read from a new path, and which workloads will
//! roll. Judged from the old and new body of each changed object; no peer tool tells you
//! this before the merge.

use crate::value::Value;

use crate::kube::{At, str_at};

/// A change the cluster will refuse or that needs delete-and-recreate.
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
