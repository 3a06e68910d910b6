//! The typed input model: `stack.toml` and `environments/<env>.toml` as the user wrote
//! them, after the environment file was merged over the stack file.
//!
//! Data only: serde (every struct rejects unknown keys) and schemars (for `stackc schema`).
//! Defaults are *not* applied here; `check` resolves them into the [`crate::plan::Plan`].

mod app;
pub mod coder;
pub mod cronjob;
pub mod influxdb;
pub mod int32;
pub mod kafka;
pub mod monitoring;
pub mod postgres;
pub mod redis;
pub mod secrets;
pub mod tls;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use app::{
    App, Autoscale, ConfigFiles, EnvRef, EnvValue, Metrics, Probe, Probes, ResourceSet, Resources,
};

/// The whole stack for one environment.
#[derive(Clone, Debug, Default, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Stack {
    /// Identity of the stack: name, Kubernetes version, domain, environments.
    pub stack: StackMeta,
    /// Where Flux pulls this repository from.
    pub flux: Flux,
    /// Values every component starts from.
    #[serde(default)]
    pub defaults: Defaults,
    /// Policy settings and waivers.
    #[serde(default)]
    pub policy: Policy,
    /// Where secret values live.
    pub secrets: Option<secrets::Secrets>,
    /// Who signs certificates (cert-manager issuers).
    pub tls: Option<tls::Tls>,
    /// Version pins of the cluster add-ons.
    #[serde(default)]
    pub controllers: tls::Controllers,
    /// Prometheus, Grafana, Loki, Promtail, Alertmanager for every component.
    pub monitoring: Option<monitoring::Monitoring>,
    /// The images stackc chooses, pinned to a digest ("sha256:<64 hex>") or replaced by
    /// a reference with a tag or digest (a mirror), keyed by repository,
    /// e.g. "docker.io/grafana/grafana" = "sha256:...".
    #[serde(default)]
    #[schemars(schema_with = "crate::check::images::json_schema")]
    pub images: BTreeMap<String, String>,
    /// What the NetworkPolicies need to know about the cluster outside the stack.
    #[serde(default)]
    pub network: Network,
    /// Generic workloads: `[app.<name>]`.
    #[serde(default)]
    pub app: BTreeMap<String, App>,
    /// PostgreSQL servers: `[postgres.<name>]`.
    #[serde(default)]
    pub postgres: BTreeMap<String, postgres::Postgres>,
    /// Coder control planes: `[coder.<name>]`.
    #[serde(default)]
    pub coder: BTreeMap<String, coder::Coder>,
    /// Redis servers: `[redis.<name>]`.
    #[serde(default)]
    pub redis: BTreeMap<String, redis::Redis>,
    /// Scheduled jobs: `[cronjob.<name>]`.
    #[serde(default)]
    pub cronjob: BTreeMap<String, cronjob::CronJob>,
    /// Kafka clusters (KRaft): `[kafka.<name>]`.
    #[serde(default)]
    pub kafka: BTreeMap<String, kafka::Kafka>,
    /// InfluxDB 2 servers: `[influxdb.<name>]`.
    #[serde(default)]
    pub influxdb: BTreeMap<String, influxdb::Influxdb>,
}

/// The top-level sections of [`Stack`]; `load` uses it to reject unknown ones.
pub const SECTIONS: &[&str] = &[
    "stack",
    "flux",
    "defaults",
    "policy",
    "secrets",
    "network",
    "tls",
    "controllers",
    "images",
    "app",
    "postgres",
    "coder",
    "redis",
    "cronjob",
    "kafka",
    "influxdb",
    "monitoring",
];

/// The component kinds: top-level sections keyed by component name.
pub const COMPONENT_KINDS: &[&str] = &[
    "app", "postgres", "coder", "redis", "cronjob", "kafka", "influxdb",
];

/// `[stack]`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackMeta {
    /// Name of the stack: prefixes the Flux objects, labels every object (`app.kubernetes.io/part-of`).
    pub name: String,
    /// Kubernetes minor version the output targets, e.g. "1.34".
    pub kubernetes: String,
    /// Public DNS domain of this environment, e.g. "dev.example.org".
    pub domain: String,
    /// Environments in promotion order; each needs `environments/<env>.toml`.
    /// Defaults to the files found there, in alphabetical order.
    pub environments: Option<Vec<String>>,
}

/// `[flux]`: the GitRepository Flux reconciles this repository from.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flux {
    /// Git URL of this repository, e.g. "ssh://git@github.com/acme/platform.git".
    pub repository: String,
    /// Branch Flux follows (default "main").
    pub branch: Option<String>,
    /// Reconciliation interval of the GitRepository and Kustomizations (default "10m").
    pub interval: Option<String>,
    /// Health-check timeout of each layer's Kustomization (default "5m").
    pub timeout: Option<String>,
    /// Namespace of the Flux objects (default "flux-system").
    pub namespace: Option<String>,
    /// Secret with the Git credentials (Flux `secretRef`), if the repository is private.
    pub secret: Option<String>,
    /// Directory of stack.toml inside the repository, relative to its root, e.g.
    /// "platform/conveyor" for a stack in a monorepo (default ".", the root): Flux reads
    /// each layer from `./<path>/rendered/<env>/<layer>`. No leading or trailing `/`,
    /// no `.`, `..` or empty components, no `\`.
    pub path: Option<String>,
}

/// `[defaults]`: starting values for every component; a component's own value wins.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Namespace of components that do not name one.
    pub namespace: Option<String>,
    /// Replicas of components that do not say (default 1).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub replicas: Option<u32>,
    /// Requests and limits of components that do not say.
    pub resources: Option<Resources>,
    /// UID (and GID) workloads run as (default 1000).
    pub run_as_user: Option<i64>,
}

/// `[network]`: the cluster services outside the stack that NetworkPolicies must admit.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Where workloads that need the Kubernetes API (Coder) reach it, as `"CIDR:port"`
    /// (default `["0.0.0.0/0:6443"]`). Most CNIs apply policies after the `kubernetes`
    /// Service is translated, so list the API server endpoints
    /// (`kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`),
    /// e.g. `["192.168.80.10/32:6443"]`.
    pub api: Option<Vec<String>>,
    /// Where Prometheus reaches the nodes in `operator` monitoring mode (kubelet 10250,
    /// node-exporter 9100), as `"CIDR:port"` (default `["0.0.0.0/0:10250", "0.0.0.0/0:9100"]`);
    /// e.g. `["192.168.80.0/24:10250", "192.168.80.0/24:9100"]`. Standalone Prometheus
    /// reaches the kubelet through the API server instead.
    pub nodes: Option<Vec<String>>,
    /// Namespace of the ingress controller that forwards to exposed services (default "ingress-nginx").
    pub ingress_namespace: Option<String>,
    /// Labels of the ingress controller's pods (default `{ "app.kubernetes.io/name" = "ingress-nginx" }`).
    pub ingress_pods: Option<BTreeMap<String, String>>,
}

/// `[policy]`: how strict this environment is, and the deliberate exceptions.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Require every image to carry a sha256 digest (rule `image-digest`); set it in prod.
    pub pinned: Option<bool>,
    /// `[[policy.waive]]`: findings accepted on purpose. Replaced whole by an environment file.
    #[serde(default)]
    pub waive: Vec<Waiver>,
}

/// One accepted finding: which rule, on which objects, why, and until when.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The rule id, e.g. "default-deny-network-policy".
    pub rule: String,
    /// `Kind/namespace/name` of the objects it covers; `*` matches any run of characters.
    pub object: String,
    /// Why this is acceptable (required).
    pub reason: String,
    /// Last day the waiver applies, YYYY-MM-DD; after it the finding is reported again.
    pub expires: Option<String>,
}
