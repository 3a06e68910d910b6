//! `[coder.<name>]`: the Coder control plane, its database reference, ingress and the
//! RBAC its workspace templates need.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::Resources;

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Coder {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// Coder version, e.g. "2.16.1": image ghcr.io/coder/coder:v<version> (and the chart version in helm mode).
    pub version: String,
    /// A `postgres` component of this stack: the connection URL is derived from it, never typed.
    pub database: String,
    /// Database on that server (default: the server's only database).
    pub database_name: Option<String>,
    /// Host name under the stack's domain: the access URL is https://<host>.<domain>.
    pub host: String,
    /// Wildcard host for workspace apps (default "*.<host>.<domain>").
    pub wildcard: Option<String>,
    /// URL workspace agents reach Coder at (default: the in-cluster Service URL).
    pub agent_url: Option<String>,
    /// Replicas (default 1).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub replicas: Option<u32>,
    /// Ingress settings (ingress-nginx).
    pub ingress: Option<Ingress>,
    /// Expose through a LoadBalancer Service with this IP (e.g. MetalLB) besides the Ingress.
    pub load_balancer_ip: Option<String>,
    /// Annotate for ExternalDNS so the access and wildcard hosts get DNS records.
    pub external_dns: Option<bool>,
    /// CPU and memory (default: `[defaults] resources`).
    pub resources: Option<Resources>,
    /// Namespace workspaces run in (default: Coder's namespace).
    pub workspace_namespace: Option<String>,
    /// Workspace templates and the Kubernetes resources each creates: RBAC is derived from them.
    #[serde(default)]
    pub templates: BTreeMap<String, Template>,
    /// "manifests" (default) or "helm".
    pub mode: Option<String>,
    /// Helm chart settings when `mode = "helm"`.
    pub chart: Option<Chart>,
    /// Destinations outside the cluster the Coder server may reach, as `"CIDR:port"`
    /// (its provisioner downloads Terraform providers, e.g. `["0.0.0.0/0:443"]`).
    /// Workspaces reach only Coder.
    #[serde(default)]
    pub egress: Vec<String>,
}

/// `[coder.coder.ingress]`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ingress {
    /// IngressClass (default "nginx").
    pub class: Option<String>,
    /// Secret with the TLS certificate for both hosts (default "<name>-tls").
    pub tls_secret: Option<String>,
}

/// `[coder.coder.templates.<name>] creates = ["pods", "persistentvolumeclaims", "configmaps"]`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Resources the template's Terraform creates: "pods", "configmaps", "apps/deployments", ...
    pub creates: Vec<String>,
}

/// Helm chart pin for `mode = "helm"`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// Chart repository URL.
    pub repository: Option<String>,
    /// Chart version (default: the component's version).
    pub version: Option<String>,
}
