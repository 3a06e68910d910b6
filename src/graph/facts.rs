//! What each component kind contributes to the dependency graph: the workloads it runs,
//! the ports consumers reach, the connections it opens, and what it needs outside the
//! stack (ingress, a public LoadBalancer, the Kubernetes API, declared egress).
//! Adding a component kind means adding one arm to each method here.

use std::collections::BTreeMap;

use super::{ServedPort, Why, Workload};
use crate::cidr::Destination;
use crate::plan::{CoderPlan, Component, Mode};

/// A connection a component's workload opens to another component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Name of the consumer workload (see [`Workload::name`]).
    pub from: String,
    /// Name of the provider component; the edge ends at its first workload.
    pub to: String,
    pub ports: LinkPorts,
    pub why: Why,
}

/// Which of the provider's ports a link reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPorts {
    /// What consumers connect to ([`Component::client_ports`]).
    Client,
    /// Its metrics endpoint ([`Component::metrics_ports`]), for scrapes.
    Metrics,
}

fn link(from: &str, to: &str, why: Why) -> Link {
    Link {
        from: from.to_owned(),
        to: to.to_owned(),
        ports: LinkPorts::Client,
        why,
    }
}

/// The labels stackc puts on every pod of a workload it renders (`build::labels::selector`).
fn stackc_selector(stack: &str, workload: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), workload.to_owned()),
        ("app.kubernetes.io/part-of".to_owned(), stack.to_owned()),
    ])
}

fn coder_ports() -> Vec<ServedPort> {
    vec![
        ServedPort::tcp("http", CoderPlan::HTTP),
        ServedPort::tcp("metrics", CoderPlan::METRICS),
    ]
}

impl Component {
    /// The workloads this component runs; the first is the one consumers connect to.
    pub fn workloads(&self, stack: &str) -> Vec<Workload> {
        let workload = |name: &str, namespace: &str, selector, ports| Workload {
            component: format!("{}.{}", self.kind(), self.name()),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            selector,
            ports,
        };
        match self {
            Component::App(a) => {
                let ports = a
                    .ports
                    .iter()
                    .map(|p| ServedPort::tcp(&p.name, p.port))
                    .collect();
                vec![workload(
                    &a.name,
                    &a.namespace,
                    stackc_selector(stack, &a.name),
                    ports,
                )]
            }
            Component::Postgres(p) => {
                let mut out = vec![workload(
                    &p.name,
                    &p.namespace,
                    stackc_selector(stack, &p.name),
                    self.client_ports(),
                )];
                if p.backup.is_some() {
                    let name = format!("{}-backup", p.name);
                    out.push(workload(
                        &name,
                        &p.namespace,
                        stackc_selector(stack, &name),
                        Vec::new(),
                    ));
                }
                out
            }
            Component::Coder(c) => {
                // The upstream chart labels its pods itself.
                let selector = match c.mode {
                    Mode::Manifests => stackc_selector(stack, &c.name),
                    Mode::Helm { .. } => BTreeMap::from([
                        ("app.kubernetes.io/instance".to_owned(), c.name.clone()),
                        ("app.kubernetes.io/name".to_owned(), "coder".to_owned()),
                    ]),
                };
                let (key, value) = CoderPlan::WORKSPACE_LABEL;
                vec![
                    workload(&c.name, &c.namespace, selector, coder_ports()),
                    workload(
                        &format!("{}-workspaces", c.name),
                        &c.workspace_namespace,
                        BTreeMap::from([(key.to_owned(), value.to_owned())]),
                        Vec::new(),
                    ),
                ]
            }
        }
    }

    /// The ports of the first workload that consumers (`uses`, database references)
    /// connect to. An app's metrics port is for scrapes, unless it is its only port.
    pub fn client_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::App(a) => {
                let metrics = a.metrics.as_ref().map(|m| m.port_name.as_str());
                let served: Vec<ServedPort> = a
                    .ports
                    .iter()
                    .filter(|p| Some(p.name.as_str()) != metrics)
                    .map(|p| ServedPort::tcp(&p.name, p.port))
                    .collect();
                if served.is_empty() {
                    a.ports
                        .iter()
                        .map(|p| ServedPort::tcp(&p.name, p.port))
                        .collect()
                } else {
                    served
                }
            }
            Component::Postgres(_) => {
                vec![ServedPort::tcp("postgres", crate::check::POSTGRES_PORT)]
            }
            Component::Coder(_) => vec![ServedPort::tcp("http", CoderPlan::HTTP)],
        }
    }

    /// The Prometheus endpoint of the first workload.
    pub fn metrics_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::App(a) => a
                .metrics
                .iter()
                .map(|m| ServedPort::tcp(&m.port_name, m.port))
                .collect(),
            Component::Postgres(_) => Vec::new(),
            Component::Coder(_) => vec![ServedPort::tcp("metrics", CoderPlan::METRICS)],
        }
    }

    /// The connections this component's workloads open to other components.
    pub fn links(&self) -> Vec<Link> {
        match self {
            Component::App(a) => a
                .uses
                .iter()
                .map(|target| link(&a.name, target, Why::Uses))
                .collect(),
            Component::Postgres(p) => match p.backup {
                Some(_) => vec![link(&format!("{}-backup", p.name), &p.name, Why::Database)],
                None => Vec::new(),
            },
            Component::Coder(c) => {
                let mut out = vec![
                    link(&c.name, &c.db_server, Why::Database),
                    link(&format!("{}-workspaces", c.name), &c.name, Why::Workspaces),
                ];
                if c.replicas > 1 {
                    // Replicas relay workspace traffic to each other (DERP mesh).
                    out.push(link(&c.name, &c.name, Why::Replicas));
                }
                out
            }
        }
    }

    /// Ports of the first workload the ingress controller forwards to (an Ingress).
    pub fn ingress_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::App(_) | Component::Postgres(_) => Vec::new(),
            Component::Coder(_) => vec![ServedPort::tcp("http", CoderPlan::HTTP)],
        }
    }

    /// Ports of the first workload reached from outside the cluster directly (a
    /// LoadBalancer Service).
    pub fn public_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::Coder(c) if c.load_balancer_ip.is_some() => {
                vec![ServedPort::tcp("http", CoderPlan::HTTP)]
            }
            _ => Vec::new(),
        }
    }

    /// Names of the workloads that call the Kubernetes API.
    pub fn api_clients(&self) -> Vec<String> {
        match self {
            // Coder creates the workspaces' pods and volumes.
            Component::Coder(c) => vec![c.name.clone()],
            Component::App(_) | Component::Postgres(_) => Vec::new(),
        }
    }

    /// Declared destinations outside the cluster: (workload name, destination).
    pub fn egress(&self) -> Vec<(String, Destination)> {
        match self {
            Component::App(a) => a.egress.iter().map(|d| (a.name.clone(), *d)).collect(),
            Component::Postgres(_) | Component::Coder(_) => Vec::new(),
        }
    }
}
