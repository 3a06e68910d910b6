//! Standalone mode: Prometheus as a StatefulSet with the RBAC its Kubernetes service
//! discovery needs, the generated prometheus.yml and rule files, and kube-state-metrics
//! (pod restarts and HPA state come from it).

use k8s_openapi::api::core::v1::EnvVar;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::workload::{Server, config_map};
use super::{Payloads, object};
use crate::build::pod;
use crate::object::{Layer, Object};
use crate::plan::{MonitoringPlan, Plan};

const NOBODY: i64 = 65534;

/// Prometheus and kube-state-metrics, from `images` (theirs, in that order).
pub fn build(plan: &Plan, m: &MonitoringPlan, p: &Payloads, images: (&str, &str)) -> Vec<Object> {
    let stack = &plan.stack.name;
    let ns = m.namespace.as_str();
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        "prometheus.yml".to_owned(),
        p.prometheus.clone().unwrap_or_default(),
    );
    for (name, (text, _)) in &p.rules {
        files.insert(name.clone(), text.clone());
    }
    let retention = format!("--storage.tsdb.retention.time={}", m.prometheus.retention);
    let server = Server {
        stack,
        name: "prometheus",
        namespace: ns,
        image: images.0,
        args: vec![
            "--config.file=/etc/prometheus/prometheus.yml".into(),
            "--storage.tsdb.path=/prometheus".into(),
            retention,
            "--web.enable-lifecycle".into(),
        ],
        env: Vec::<EnvVar>::new(),
        port: ("http", 9090),
        liveness: "/-/healthy",
        readiness: "/-/ready",
        configs: Vec::new(),
        secret_files: None,
        data: Some((&m.prometheus, "/prometheus")),
        uid: NOBODY,
        resources: ("250m", "512Mi", "2Gi"),
        service_account: Some("prometheus"),
    };
    let labels = server.labels();
    let cm = config_map("prometheus", ns, &labels, files);
    let server = Server {
        configs: vec![(&cm, "/etc/prometheus")],
        ..server
    };
    let read = |groups: &[&str], resources: &[&str]| PolicyRule {
        api_groups: Some(groups.iter().map(|s| (*s).to_owned()).collect()),
        resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
        verbs: ["get", "list", "watch"].map(str::to_owned).to_vec(),
        ..PolicyRule::default()
    };
    let prometheus_rules = vec![
        read(
            &[""],
            &[
                "endpoints",
                "nodes",
                "nodes/metrics",
                "nodes/proxy",
                "pods",
                "services",
            ],
        ),
        read(&["discovery.k8s.io"], &["endpointslices"]),
        PolicyRule {
            non_resource_urls: Some(vec!["/metrics".into()]),
            verbs: vec!["get".into()],
            ..PolicyRule::default()
        },
    ];
    let mut out = vec![
        object(
            Layer::Monitoring,
            &pod::service_account("prometheus", ns, &labels, true),
        ),
        object(
            Layer::Monitoring,
            &cluster_role("monitoring-prometheus", &labels, prometheus_rules),
        ),
        object(
            Layer::Monitoring,
            &binding("monitoring-prometheus", "prometheus", ns, &labels),
        ),
        object(Layer::Monitoring, &cm),
        object(Layer::Monitoring, &server.statefulset()),
        object(Layer::Monitoring, &server.service()),
    ];
    out.extend(kube_state_metrics(stack, ns, images.1, read));
    out
}

fn kube_state_metrics(
    stack: &str,
    ns: &str,
    image: &str,
    read: impl Fn(&[&str], &[&str]) -> PolicyRule,
) -> Vec<Object> {
    let server = Server {
        stack,
        name: "kube-state-metrics",
        namespace: ns,
        image,
        args: vec!["--port=8080".into(), "--telemetry-port=8081".into()],
        env: Vec::new(),
        port: ("http", 8080),
        liveness: "/livez",
        readiness: "/readyz",
        configs: Vec::new(),
        secret_files: None,
        data: None,
        uid: NOBODY,
        resources: ("50m", "128Mi", "256Mi"),
        service_account: Some("kube-state-metrics"),
    };
    let labels = server.labels();
    let rules = vec![
        read(
            &[""],
            &[
                "configmaps",
                "endpoints",
                "limitranges",
                "namespaces",
                "nodes",
                "persistentvolumeclaims",
                "persistentvolumes",
                "pods",
                "replicationcontrollers",
                "resourcequotas",
                "secrets",
                "services",
            ],
        ),
        read(
            &["apps"],
            &["daemonsets", "deployments", "replicasets", "statefulsets"],
        ),
        read(&["autoscaling"], &["horizontalpodautoscalers"]),
        read(&["batch"], &["cronjobs", "jobs"]),
        read(&["policy"], &["poddisruptionbudgets"]),
        read(
            &["storage.k8s.io"],
            &["storageclasses", "volumeattachments"],
        ),
        read(&["discovery.k8s.io"], &["endpointslices"]),
        read(&["networking.k8s.io"], &["ingresses", "networkpolicies"]),
    ];
    let (deployment, _) = server.deployment_with_claim();
    vec![
        object(
            Layer::Monitoring,
            &pod::service_account("kube-state-metrics", ns, &labels, true),
        ),
        object(
            Layer::Monitoring,
            &cluster_role("monitoring-kube-state-metrics", &labels, rules),
        ),
        object(
            Layer::Monitoring,
            &binding(
                "monitoring-kube-state-metrics",
                "kube-state-metrics",
                ns,
                &labels,
            ),
        ),
        object(Layer::Monitoring, &deployment),
        object(Layer::Monitoring, &server.service()),
    ]
}

pub fn cluster_role(
    name: &str,
    labels: &std::collections::BTreeMap<String, String>,
    rules: Vec<PolicyRule>,
) -> ClusterRole {
    ClusterRole {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        rules: Some(rules),
        ..ClusterRole::default()
    }
}

pub fn binding(
    name: &str,
    account: &str,
    ns: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: name.to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: account.to_owned(),
            namespace: Some(ns.to_owned()),
            ..Subject::default()
        }]),
    }
}
