//! The Namespace of every namespace a component lives in, enforcing Pod Security
//! "restricted" unless the Plan says otherwise for it (infra layer, cluster-scoped).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::object::{Layer, Object};
use crate::plan::Plan;

pub fn build(plan: &Plan) -> Vec<Object> {
    plan.namespaces
        .iter()
        .map(|ns| {
            let mut labels = BTreeMap::from([
                (
                    "app.kubernetes.io/managed-by".to_owned(),
                    "stackc".to_owned(),
                ),
                (
                    "app.kubernetes.io/part-of".to_owned(),
                    plan.stack.name.clone(),
                ),
            ]);
            let level = plan
                .pod_security
                .get(ns)
                .map_or("restricted", String::as_str);
            for mode in ["enforce", "audit", "warn"] {
                labels.insert(format!("pod-security.kubernetes.io/{mode}"), level.into());
            }
            let namespace = Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.clone()),
                    labels: Some(labels),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            };
            Object::new(Layer::Infra, None, &namespace)
        })
        .collect()
}
