//! The labels every object carries, and the (immutable) selector labels of workloads.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// `app.kubernetes.io/*` labels of a component's objects.
pub fn labels(stack: &str, component: &str, kind: &str) -> BTreeMap<String, String> {
    let mut labels = selector(stack, component);
    labels.insert("app.kubernetes.io/component".into(), kind.into());
    labels.insert("app.kubernetes.io/managed-by".into(), "stackc".into());
    labels
}

/// The labels a Service and a workload select pods by. Never change them: a
/// Deployment's selector is immutable.
pub fn selector(stack: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), component.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), stack.to_owned()),
    ])
}

/// Metadata of a namespaced object.
pub fn meta(name: &str, namespace: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    }
}
