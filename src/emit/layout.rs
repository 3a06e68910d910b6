//! Where each object goes: `<layer>/<namespace>/<kind>-<name>.yaml` (cluster-scoped
//! objects under `_cluster/`), all lowercase, and the `kustomization.yaml` that lists a
//! layer's files so `kubectl kustomize` builds exactly what Flux builds.

use crate::object::Object;

/// Directory of cluster-scoped objects inside a layer.
pub const CLUSTER_DIR: &str = "_cluster";

/// Path of an object relative to its layer directory.
pub fn object_path(object: &Object) -> String {
    let dir = object.namespace.as_deref().unwrap_or(CLUSTER_DIR);
    let (kind, name) = (&object.kind, &object.name);
    // `{dir}/{kind}-{name}.yaml`, kind and name lowercased, in one allocation: it is
    // asked for every object three times (validate, policy, emit).
    let mut path = String::with_capacity(dir.len() + kind.len() + name.len() + 7);
    path.push_str(dir);
    path.push('/');
    let start = path.len();
    path.push_str(kind);
    path.push('-');
    path.push_str(name);
    path[start..].make_ascii_lowercase();
    path.push_str(".yaml");
    path
}

/// The kustomization.yaml of a layer listing `resources` (sorted).
pub fn kustomization(resources: &[String]) -> crate::value::Value {
    let mut resources = resources.to_vec();
    resources.sort();
    crate::value::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    })
}
