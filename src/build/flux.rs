//! The cluster's entry point, `rendered/<env>/flux/`: the GitRepository Flux pulls this
//! repository from, and one Kustomization per non-empty layer, each dependsOn the one
//! before it (`kustomize.toolkit.fluxcd.io/v1`, `source.toolkit.fluxcd.io/v1`). A layer's
//! `spec.path` is `FluxPlan::path` (from the repository root, `[flux] path` included)
//! joined with the layer's directory.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::object::{Layer, Object};
use crate::plan::{Plan, SecretsProvider};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    namespace: String,
    labels: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GitRepositorySpec {
    interval: String,
    url: String,
    #[serde(rename = "ref")]
    reference: GitRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_ref: Option<NameRef>,
}

#[derive(Serialize)]
struct GitRef {
    branch: String,
}

#[derive(Serialize)]
struct NameRef {
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KustomizationSpec {
    interval: String,
    retry_interval: String,
    path: String,
    prune: bool,
    wait: bool,
    timeout: String,
    source_ref: SourceRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<NameRef>,
    /// SOPS decryption of the encrypted Secret manifests in the layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    decryption: Option<Decryption>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Decryption {
    provider: &'static str,
    secret_ref: NameRef,
}

#[derive(Serialize)]
struct SourceRef {
    kind: &'static str,
    name: String,
}

/// The GitRepository and the per-layer Kustomizations for the layers in use.
pub fn build(plan: &Plan, layers: &BTreeSet<Layer>) -> Vec<Object> {
    let flux = &plan.flux;
    let source = plan.stack.name.clone();
    let metadata = |name: String| Metadata {
        name,
        namespace: flux.namespace.clone(),
        labels: [
            (
                "app.kubernetes.io/managed-by".to_owned(),
                "stackc".to_owned(),
            ),
            (
                "app.kubernetes.io/part-of".to_owned(),
                plan.stack.name.clone(),
            ),
        ]
        .into(),
    };
    let repository = Resource {
        api_version: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: metadata(source.clone()),
        spec: GitRepositorySpec {
            interval: flux.interval.clone(),
            url: flux.repository.clone(),
            reference: GitRef {
                branch: flux.branch.clone(),
            },
            secret_ref: flux.secret.clone().map(|name| NameRef { name }),
        },
    };
    let mut out = vec![Object::new(Layer::Flux, None, &repository)];
    let mut previous: Option<String> = None;
    // The entry point manages itself (like Flux's own flux-system Kustomization): apply
    // rendered/<env>/flux once, and from then on Flux keeps it in sync with git.
    let entry = std::iter::once(Layer::Flux);
    for layer in entry.chain(Layer::APPLIED.into_iter().filter(|l| layers.contains(l))) {
        let name = kustomization_name(plan, layer);
        let kustomization = Resource {
            api_version: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: metadata(name.clone()),
            spec: KustomizationSpec {
                interval: flux.interval.clone(),
                retry_interval: "1m".into(),
                path: format!("{}/{}", flux.path, layer.dir()),
                prune: true,
                wait: true,
                timeout: flux.timeout.clone(),
                source_ref: SourceRef {
                    kind: "GitRepository",
                    name: source.clone(),
                },
                depends_on: previous
                    .take()
                    .map(|name| NameRef { name })
                    .into_iter()
                    .collect(),
                decryption: match &plan.secrets {
                    Some(SecretsProvider::Sops {
                        decryption_secret, ..
                    }) if layer != Layer::Flux => Some(Decryption {
                        provider: "sops",
                        secret_ref: NameRef {
                            name: decryption_secret.clone(),
                        },
                    }),
                    _ => None,
                },
            },
        };
        out.push(Object::new(Layer::Flux, None, &kustomization));
        // Layers depend on each other, not on the entry point.
        previous = (layer != Layer::Flux).then_some(name);
    }
    out
}

/// `<stack>-<layer>`, the name of a layer's Flux Kustomization.
pub fn kustomization_name(plan: &Plan, layer: Layer) -> String {
    format!("{}-{}", plan.stack.name, layer.dir())
}
