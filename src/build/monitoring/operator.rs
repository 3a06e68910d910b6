//! Operator mode: a pinned Flux HelmRepository + HelmRelease of kube-prometheus-stack
//! (controllers layer: it brings the Prometheus Operator and its CRDs), one PodMonitor
//! per component metrics endpoint, and one PrometheusRule per rule file. The chart's own
//! Grafana and Alertmanager are off: stackc renders both, from the same templates as in
//! standalone mode.

use serde_json::{Value, json};

use super::Payloads;
use crate::build::labels;
use crate::object::{Layer, Object};
use crate::plan::{MonitoringPlan, Plan};

pub const CHART_REPOSITORY: &str = "https://prometheus-community.github.io/helm-charts";
const RELEASE: &str = "kube-prometheus-stack";

pub fn build(plan: &Plan, m: &MonitoringPlan, p: &Payloads, chart_version: &str) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, RELEASE, "monitoring");
    let flux_ns = &plan.flux.namespace;
    let object =
        |layer: Layer, body: Value| Object::new(layer, Some(super::COMPONENT.to_owned()), &body);
    // The same pinned HelmRepository + HelmRelease as every other add-on.
    let release = crate::build::helm::Release {
        name: RELEASE,
        namespace: flux_ns,
        labels: &labels,
        chart: RELEASE,
        version: chart_version,
        values: values(m),
        target: Some(&m.namespace),
    };
    let mut helm_release = crate::build::helm::release(&release);
    // Helm's release records live beside the release, not in the Flux namespace.
    helm_release["spec"]["storageNamespace"] = json!(m.namespace);
    let mut out = vec![
        object(
            Layer::Controllers,
            crate::build::helm::repository(&release, CHART_REPOSITORY),
        ),
        object(Layer::Controllers, helm_release),
    ];
    let endpoints: Vec<_> = plan
        .components
        .iter()
        .flat_map(|c| c.metrics(stack))
        .collect();
    for e in endpoints {
        let name = format!("{}-{}", e.kind, e.name);
        out.push(object(
            Layer::Monitoring,
            json!({
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PodMonitor",
                "metadata": { "name": name, "namespace": m.namespace, "labels": labels::labels(stack, &e.name, "monitoring") },
                "spec": {
                    "namespaceSelector": { "matchNames": [e.namespace] },
                    "selector": { "matchLabels": e.selector },
                    "podMetricsEndpoints": [{ "port": e.port_name, "path": e.path, "interval": m.scrape_interval }],
                },
            }),
        ));
    }
    for (file, (_, parsed)) in &p.rules {
        let name = super::files::rule_resource(file);
        out.push(object(
            Layer::Monitoring,
            json!({
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PrometheusRule",
                "metadata": { "name": name, "namespace": m.namespace, "labels": labels },
                "spec": { "groups": parsed.get("groups").cloned().unwrap_or(Value::Array(Vec::new())) },
            }),
        ));
    }
    out
}

/// The chart's values: only the operator and Prometheus; stackc renders Grafana and
/// Alertmanager itself.
fn values(m: &MonitoringPlan) -> Value {
    let storage = json!({ "volumeClaimTemplate": { "spec": {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": m.prometheus.storage_class,
        "resources": { "requests": { "storage": m.prometheus.storage } },
    }}});
    json!({
        // Service names `kps-*`: Grafana's datasource URL depends on it.
        "fullnameOverride": "kps",
        "defaultRules": { "create": false },
        "grafana": { "enabled": false },
        "alertmanager": { "enabled": false },
        // NetworkPolicies admit exactly what the graph (`graph::monitoring`) names: the
        // operator without its admission webhook (the API server would call into a
        // default-deny namespace; stackc checks each rule file's structure when it
        // compiles, `rules.rs`, but not its PromQL), and no scrapes of control-plane
        // parts the stack's alerts do not use.
        "prometheusOperator": {
            "admissionWebhooks": { "enabled": false },
            "tls": { "enabled": false },
        },
        "kubeControllerManager": { "enabled": false },
        "kubeScheduler": { "enabled": false },
        "kubeEtcd": { "enabled": false },
        "kubeProxy": { "enabled": false },
        "coreDns": { "enabled": false },
        "prometheus": { "prometheusSpec": {
            "retention": m.prometheus.retention,
            "scrapeInterval": m.scrape_interval,
            "storageSpec": storage,
            "podMonitorSelectorNilUsesHelmValues": false,
            "serviceMonitorSelectorNilUsesHelmValues": false,
            "ruleSelectorNilUsesHelmValues": false,
            "alertingEndpoints": [{ "name": "alertmanager", "namespace": m.namespace, "port": "http", "apiVersion": "v2" }],
        }},
    })
}
