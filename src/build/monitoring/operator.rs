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
    let mut out = vec![
        object(
            Layer::Controllers,
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "HelmRepository",
                "metadata": { "name": "prometheus-community", "namespace": flux_ns, "labels": labels },
                "spec": { "interval": "1h", "url": CHART_REPOSITORY },
            }),
        ),
        object(
            Layer::Controllers,
            helm_release(m, &labels, flux_ns, chart_version),
        ),
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
        let name = file.split('.').next().unwrap_or(file).replace('_', "-");
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

fn helm_release(
    m: &MonitoringPlan,
    labels: &std::collections::BTreeMap<String, String>,
    flux_ns: &str,
    version: &str,
) -> Value {
    let storage = json!({ "volumeClaimTemplate": { "spec": {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": m.prometheus.storage_class,
        "resources": { "requests": { "storage": m.prometheus.storage } },
    }}});
    json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": RELEASE, "namespace": flux_ns, "labels": labels },
        "spec": {
            "interval": "30m",
            "timeout": "10m",
            "targetNamespace": m.namespace,
            "storageNamespace": m.namespace,
            "install": { "createNamespace": true, "crds": "CreateReplace", "remediation": { "retries": 3 } },
            "upgrade": { "crds": "CreateReplace", "remediation": { "retries": 3 } },
            "chart": { "spec": {
                "chart": RELEASE,
                "version": version,
                "sourceRef": { "kind": "HelmRepository", "name": "prometheus-community", "namespace": flux_ns },
            }},
            "values": {
                // Service names `kps-*`: Grafana's datasource URL depends on it.
                "fullnameOverride": "kps",
                "defaultRules": { "create": false },
                "grafana": { "enabled": false },
                "alertmanager": { "enabled": false },
                "prometheus": { "prometheusSpec": {
                    "retention": m.prometheus.retention,
                    "scrapeInterval": m.scrape_interval,
                    "storageSpec": storage,
                    "podMonitorSelectorNilUsesHelmValues": false,
                    "serviceMonitorSelectorNilUsesHelmValues": false,
                    "ruleSelectorNilUsesHelmValues": false,
                    "alertingEndpoints": [{ "name": "alertmanager", "namespace": m.namespace, "port": "http", "apiVersion": "v2" }],
                }},
            },
        },
    })
}
