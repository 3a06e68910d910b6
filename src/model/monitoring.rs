//! `[monitoring]`: Prometheus (standalone or through the Prometheus Operator), Grafana,
//! Loki + Promtail and Alertmanager, derived from the components' metrics endpoints.
//! Payloads (prometheus.yml, rules, dashboards, ...) are templates in `modules/monitoring/`.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// "standalone" (default: stackc renders Prometheus and its RBAC) or "operator"
    /// (ServiceMonitors/PodMonitors/PrometheusRules for kube-prometheus-stack, installed by a
    /// pinned Flux HelmRelease).
    pub mode: Option<String>,
    /// Namespace of the monitoring stack (default "monitoring").
    pub namespace: Option<String>,
    /// Namespace of the Promtail log collector (default "<namespace>-logs"). It is the only
    /// namespace labelled Pod Security "privileged": Promtail reads node log files (hostPath).
    pub log_namespace: Option<String>,
    /// How often Prometheus scrapes (default "30s").
    pub scrape_interval: Option<String>,
    /// Version of the kube-prometheus-stack chart in operator mode (default: stackc's pin).
    pub chart_version: Option<String>,
    /// Prometheus TSDB: retention (default "15d") and volume (default "20Gi").
    pub prometheus: Option<Store>,
    /// Grafana's volume (default "5Gi"); `retention` does not apply.
    pub grafana: Option<Store>,
    /// Loki: retention (default "168h") and volume (default "20Gi").
    pub loki: Option<Store>,
    /// Alertmanager's volume (silences, notification log; default "1Gi").
    pub alertmanager: Option<Store>,
    /// Where alerts go: Slack and/or email. Webhook URL and SMTP password come from the
    /// secret provider (keys `MONITORING_SLACK_WEBHOOK_URL`, `MONITORING_SMTP_PASSWORD`).
    pub alerts: Option<Alerts>,
    /// Alert thresholds; set them per environment.
    pub thresholds: Option<Thresholds>,
}

/// Retention and volume of a store.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// How long data is kept, e.g. "15d" (Prometheus) or "168h" (Loki).
    pub retention: Option<String>,
    /// Size of the volume, e.g. "20Gi".
    pub storage: Option<String>,
    /// StorageClass of the volume (default: the cluster's default class).
    pub storage_class: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// `slack = { channel = "#alerts" }`; the webhook URL comes from the secret provider.
    pub slack: Option<Slack>,
    /// `email = { to = "...", from = "...", smarthost = "smtp.example.org:587", username = "..." }`;
    /// the SMTP password comes from the secret provider.
    pub email: Option<Email>,
    /// How long Alertmanager waits to group alerts (default "30s").
    pub group_wait: Option<String>,
    /// How often a firing alert is sent again (default "4h").
    pub repeat_interval: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slack {
    /// Channel, e.g. "#alerts".
    pub channel: String,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Email {
    pub to: String,
    pub from: String,
    /// `host:port` of the SMTP relay.
    pub smarthost: String,
    /// SMTP user name.
    pub username: String,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// CPU use above this percent of the request fires `CPUHigh` (default 90).
    pub cpu_percent: Option<u32>,
    /// Memory above this percent of the limit fires `MemoryHigh` (default 90).
    pub memory_percent: Option<u32>,
    /// Volume use above this percent fires `DiskFilling` (default 85).
    pub disk_percent: Option<u32>,
    /// More restarts than this within an hour fire `PodRestarting` (default 3).
    pub restarts_per_hour: Option<u32>,
    /// Kafka consumer-group lag above this fires `KafkaConsumerLag` (default 1000).
    pub consumer_lag: Option<u64>,
    /// How long a condition holds before it fires (default "10m").
    #[serde(rename = "for")]
    pub for_duration: Option<String>,
}
