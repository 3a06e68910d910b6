//! Flux HelmRepository (`source.toolkit.fluxcd.io/v1`) and HelmRelease
//! (`helm.toolkit.fluxcd.io/v2`) objects: a pinned chart from a repository, with values
//! from the Plan. Used by the controllers layer and by components in `mode = "helm"`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Where a release's chart comes from and how it is installed.
pub struct Release<'a> {
    pub name: &'a str,
    /// Namespace of the HelmRepository and HelmRelease objects.
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub chart: &'a str,
    pub version: &'a str,
    pub values: Value,
    /// Install into another namespace (created if missing), with the chart's CRDs.
    pub target: Option<&'a str>,
}

/// The HelmRepository a release pulls its chart from (same name and namespace).
pub fn repository(release: &Release, url: &str) -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": { "name": release.name, "namespace": release.namespace, "labels": release.labels },
        "spec": { "interval": "1h", "url": url },
    })
}

/// The HelmRelease of a pinned chart, retried three times on a failed install or upgrade.
pub fn release(release: &Release) -> Value {
    let mut spec = json!({
        "interval": "30m",
        "timeout": "10m",
        "chart": { "spec": {
            "chart": release.chart,
            "version": release.version,
            "sourceRef": { "kind": "HelmRepository", "name": release.name, "namespace": release.namespace },
        }},
        "install": { "remediation": { "retries": 3 } },
        "upgrade": { "remediation": { "retries": 3 } },
        "values": release.values,
    });
    if let Some(target) = release.target {
        spec["targetNamespace"] = json!(target);
        spec["releaseName"] = json!(release.name);
        spec["install"]["createNamespace"] = json!(true);
        spec["install"]["crds"] = json!("CreateReplace");
        spec["upgrade"]["crds"] = json!("CreateReplace");
    }
    json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": release.name, "namespace": release.namespace, "labels": release.labels },
        "spec": spec,
    })
}
