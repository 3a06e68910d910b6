//! build: Plan → Kubernetes objects. One file per component kind, plus the objects
//! every stack has (namespaces, the Flux entry point). Typed with k8s-openapi (and
//! small typed structs for CRDs), so a misspelt field does not compile.
//! build never touches the filesystem and never fails (check already said no), except
//! for a template error in the payloads rendered from `modules/`.

mod app;
mod coder;
mod controllers;
mod cronjob;
mod flux;
mod helm;
mod influxdb;
mod kafka;
pub mod labels;
pub mod monitoring;
mod namespace;
pub mod network;
mod pod;
mod postgres;
mod redis;
mod secrets;
mod security;
mod tls;

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::diag::Diagnostic;
use crate::graph::Graph;
use crate::load::modules::Modules;
use crate::object::{Layer, Object};
use crate::plan::{Component, Plan};

/// What every environment's build reads from `modules/`, with what is made of it once
/// for all of them (the compiled templates, on first use).
pub struct Shared<'m> {
    modules: &'m Modules,
    templates: monitoring::Compiled<'m>,
}

impl<'m> Shared<'m> {
    pub fn new(modules: &'m Modules) -> Shared<'m> {
        Shared {
            modules,
            templates: monitoring::Compiled::default(),
        }
    }
}

/// Every object of one environment, in a defined order. The only failure is a template
/// error in `modules/` (the payloads of `[monitoring]`), reported at the template's line.
/// The parts are independent and are built on all cores.
pub fn build(plan: &Plan, graph: &Graph, shared: &Shared) -> Result<Vec<Object>, Vec<Diagnostic>> {
    let parts: Vec<Part> = [
        Part::Namespaces,
        Part::Controllers,
        Part::Tls,
        Part::Network,
    ]
    .into_iter()
    .chain(plan.components.iter().map(Part::Component))
    .chain(plan.monitoring.is_some().then_some(Part::Monitoring))
    .collect();
    let built = crate::parallel::map(&parts, |part| part.build(plan, graph, shared));
    let mut objects = Vec::new();
    for part in built {
        objects.extend(part?);
    }
    let layers: BTreeSet<Layer> = objects.iter().map(|o| o.layer).collect();
    objects.extend(flux::build(plan, &layers));
    Ok(objects)
}

/// One independently built part of an environment.
enum Part<'p> {
    Namespaces,
    Controllers,
    Tls,
    Network,
    Component(&'p Component),
    Monitoring,
}

impl Part<'_> {
    fn build(
        &self,
        plan: &Plan,
        graph: &Graph,
        shared: &Shared,
    ) -> Result<Vec<Object>, Vec<Diagnostic>> {
        Ok(match self {
            Part::Namespaces => namespace::build(plan),
            Part::Controllers => controllers::build(plan),
            Part::Tls => tls::build(plan),
            Part::Network => network::build(plan, &graph.edges),
            Part::Component(component) => match component {
                Component::App(a) => app::build(plan, a),
                Component::Postgres(p) => postgres::build(plan, p),
                Component::Coder(c) => coder::build(plan, c),
                Component::Redis(r) => redis::build(plan, r),
                Component::CronJob(j) => cronjob::build(plan, j),
                Component::Kafka(k) => kafka::build(plan, k),
                Component::Influxdb(i) => influxdb::build(plan, i),
            },
            Part::Monitoring => match &plan.monitoring {
                Some(m) => monitoring::build(plan, m, shared.modules, &shared.templates)?,
                None => Vec::new(),
            },
        })
    }
}

/// A count the model bounds to Kubernetes' int32 (`model::int32`: replicas, HPA bounds,
/// job limits, brokers), as the API takes it. For a checked Plan it never saturates.
pub fn int32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The labels a component's pods are selected by (Services, PDBs, monitoring,
/// NetworkPolicies); check records them in the plan.
pub fn selector_labels(stack: &str, component: &str) -> std::collections::BTreeMap<String, String> {
    labels::selector(stack, component)
}

/// Hex SHA-256 of a value's canonical JSON: the pod-template annotation that rolls a
/// workload when its configuration changes.
pub fn checksum<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).expect("config serializes to JSON");
    hex(&Sha256::digest(json))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
