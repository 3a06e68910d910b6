//! The unit that flows from build through validate to emit: one Kubernetes object,
//! the layer it is applied in, and the component it came from.

use serde::Serialize;

use crate::value::{self, Value};

/// The Flux layers, in apply order. Each is a directory of `rendered/<env>/` with its own
/// Flux Kustomization, which dependsOn the layer before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// `flux/`: the cluster's entry point (GitRepository + one Kustomization per layer).
    Flux,
    /// Add-on controllers and their CRDs (HelmReleases), applied first with `wait: true`.
    Controllers,
    /// Namespaces, RBAC, issuers, certificates, secret stores, network policies.
    Infra,
    /// Stateful services: databases, brokers, caches.
    Data,
    /// Applications and jobs.
    Apps,
    /// Prometheus, Grafana, Loki, Promtail, Alertmanager, rules.
    Monitoring,
}

impl Layer {
    /// The layers Flux applies, in dependency order (the `flux/` entry point excluded).
    pub const APPLIED: [Layer; 5] = [
        Layer::Controllers,
        Layer::Infra,
        Layer::Data,
        Layer::Apps,
        Layer::Monitoring,
    ];

    pub fn dir(self) -> &'static str {
        match self {
            Layer::Flux => "flux",
            Layer::Controllers => "controllers",
            Layer::Infra => "infra",
            Layer::Data => "data",
            Layer::Apps => "apps",
            Layer::Monitoring => "monitoring",
        }
    }
}

/// One Kubernetes object ready for validation and emission.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub layer: Layer,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// `<kind>.<name>` of the component in stack.toml that produced it, if any.
    pub component: Option<String>,
    /// The whole object as JSON (apiVersion, kind, metadata, spec, ...).
    pub body: Value,
    /// Bytes to emit as they are instead of serializing `body` (a SOPS-encrypted file,
    /// whose MAC covers its exact content).
    pub raw: Option<String>,
}

impl Object {
    /// Wraps a typed resource (k8s-openapi or one of stackc's CRD structs).
    pub fn new<T: Serialize>(layer: Layer, component: Option<String>, resource: &T) -> Object {
        let body = value::to_value(resource).expect("Kubernetes types serialize to JSON");
        let text = |v: Option<&Value>, key: &str| {
            v.and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let metadata = body.get("metadata");
        Object {
            layer,
            api_version: text(Some(&body), "apiVersion").unwrap_or_default(),
            kind: text(Some(&body), "kind").unwrap_or_default(),
            namespace: text(metadata, "namespace"),
            name: text(metadata, "name").unwrap_or_default(),
            component,
            body,
            raw: None,
        }
    }

    /// `Kind/namespace/name`, for messages.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}
