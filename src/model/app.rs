//! `[app.<name>]`: a generic long-running workload (Deployment, Service, ...).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, de};

/// A generic workload. Only `image` is required.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// Image reference with a tag or digest, e.g. "ghcr.io/acme/producer:1.4.0".
    pub image: String,
    /// Container command (replaces the image's ENTRYPOINT).
    pub command: Option<Vec<String>>,
    /// Container arguments (replace the image's CMD).
    pub args: Option<Vec<String>>,
    /// Replicas when not autoscaled (default: `[defaults] replicas`, else 1).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub replicas: Option<u32>,
    /// Named container ports, exposed by the app's Service: `{ http = 8080 }`.
    #[serde(default)]
    pub ports: BTreeMap<String, u32>,
    /// Prometheus metrics endpoint; adds a port named `metrics`.
    pub metrics: Option<Metrics>,
    /// Environment variables: plain values or references.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Configuration files, rendered into a ConfigMap and mounted read-only.
    pub config: Option<ConfigFiles>,
    /// CPU and memory requests and limits (default: `[defaults] resources`).
    pub resources: Option<Resources>,
    /// Liveness and readiness probes (default: a TCP check on the metrics port or first port).
    pub probes: Option<Probes>,
    /// Components this app talks to: their connection details arrive as env vars.
    #[serde(default)]
    pub uses: Vec<String>,
    /// Horizontal autoscaling on CPU (autoscaling/v2).
    pub autoscale: Option<Autoscale>,
    /// Destinations outside the cluster this app may open connections to, as
    /// `"CIDR:port"`, e.g. `["0.0.0.0/0:443"]`. Everything else is denied by its NetworkPolicies.
    #[serde(default)]
    pub egress: Vec<String>,
}

/// `metrics = { port = 8000, path = "/metrics" }`
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub port: u32,
    /// HTTP path (default "/metrics").
    pub path: Option<String>,
}

/// A value of `env`: a string, number or boolean, or a reference.
#[derive(Clone, Debug, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Flag(bool),
    Ref(EnvRef),
}

/// A reference in `env`: exactly one of `provider` (a value in the secret provider),
/// `secret`/`config_map` (with `key`), or `field`.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvRef {
    /// Name of a value in the secret provider, e.g. "ORCHESTRATOR_CODER_TOKEN": stackc
    /// emits the ExternalSecret/InfisicalSecret that delivers it into `<app>-secrets`.
    pub provider: Option<String>,
    /// Name of a Secret in the app's namespace.
    pub secret: Option<String>,
    /// Name of a ConfigMap in the app's namespace.
    pub config_map: Option<String>,
    /// Key in that Secret or ConfigMap.
    pub key: Option<String>,
    /// A pod field, e.g. "metadata.name" or "status.podIP".
    pub field: Option<String>,
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = EnvValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number, boolean or { secret|config_map = .., key = .. } / { field = .. }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<EnvValue, E> {
                i64::try_from(v)
                    .map(EnvValue::Integer)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue::Flag(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<EnvValue, A::Error> {
                EnvRef::deserialize(de::value::MapAccessDeserializer::new(map)).map(EnvValue::Ref)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `config = { mount = "/etc/app", files = { "app.yaml" = "..." } }`
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFiles {
    /// Directory the files appear in (default "/etc/<app>").
    pub mount: Option<String>,
    /// File name → content.
    pub files: BTreeMap<String, String>,
}

/// `resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { ... } }`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub requests: Option<ResourceSet>,
    pub limits: Option<ResourceSet>,
}

/// CPU and memory as Kubernetes quantities.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceSet {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// `probes = { liveness = { http = "/healthz", port = "http" }, readiness = { ... } }`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// One probe: exactly one of `http` (a path), `tcp` (true) or `exec` (a command).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// HTTP GET this path.
    pub http: Option<String>,
    /// Open a TCP connection.
    pub tcp: Option<bool>,
    /// Run this command in the container.
    pub exec: Option<Vec<String>>,
    /// Port name for `http`/`tcp` (default: metrics port, else the first port).
    pub port: Option<String>,
    /// Seconds before the first probe (default 0).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub initial_delay: Option<i32>,
    /// Seconds between probes (default 10).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub period: Option<i32>,
    /// Consecutive failures before acting (default 3).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub failure_threshold: Option<i32>,
}

/// `autoscale = { min = 1, max = 5, cpu = 70 }`: an HPA on average CPU utilisation (%).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    #[serde(deserialize_with = "crate::model::int32::required")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub min: u32,
    #[serde(deserialize_with = "crate::model::int32::required")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub max: u32,
    /// Target average CPU utilisation in percent of the request (default 80).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub cpu: Option<u32>,
}
