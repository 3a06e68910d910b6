//! The `controllers` layer: a pinned Flux HelmRepository + HelmRelease per add-on the
//! stack needs (cert-manager, ingress-nginx, the secret provider's operator), installed
//! with their CRDs into their own namespaces. Flux applies this layer first and waits
//! for it, because the later layers hold objects of these CRDs.

use crate::object::{Layer, Object};
use crate::plan::Plan;

use super::{helm, labels};

pub fn build(plan: &Plan) -> Vec<Object> {
    let mut out = Vec::new();
    for controller in &plan.controllers {
        let labels = labels::labels(&plan.stack.name, &controller.name, "controller");
        let release = helm::Release {
            name: &controller.name,
            namespace: &plan.flux.namespace,
            labels: &labels,
            chart: &controller.chart,
            version: &controller.version,
            values: controller.values.clone(),
            target: Some(&controller.namespace),
        };
        let component = Some(format!("controller.{}", controller.name));
        out.push(Object::new(
            Layer::Controllers,
            component.clone(),
            &helm::repository(&release, &controller.repository),
        ));
        out.push(Object::new(
            Layer::Controllers,
            component,
            &helm::release(&release),
        ));
    }
    out
}
