//! What each component kind contributes to the dependency graph: the workloads it runs,
//! the ports consumers reach, the connections it opens, and what it needs outside the
//! stack (ingress, a public LoadBalancer, the Kubernetes API, declared egress).
//! Adding a component kind means adding one arm to each method here.

use std::collections::BTreeMap;

use super::{ServedPort, Why, Workload};
use crate::cidr::Destination;
use crate::plan::{CoderPlan, Component, KafkaPlan, Mode};

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
    /// What its own replicas connect to ([`Component::peer_ports`]).
    Peer,
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

fn peer(from: &str, to: &str, why: Why) -> Link {
    Link {
        ports: LinkPorts::Peer,
        ..link(from, to, why)
    }
}

/// The server's ports as its pods name them (the chart names the metrics port itself).
fn coder_ports(c: &CoderPlan) -> Vec<ServedPort> {
    let metrics = match c.mode {
        Mode::Manifests => "metrics",
        Mode::Helm { .. } => "prometheus-http",
    };
    let mut out = vec![
        ServedPort::tcp("http", CoderPlan::HTTP),
        ServedPort::tcp(metrics, CoderPlan::METRICS),
    ];
    if c.serves_tls() {
        out.push(ServedPort::tcp("https", CoderPlan::HTTPS).tls(true));
    }
    out
}

impl Component {
    /// The workloads this component runs; the first is the one consumers connect to.
    pub fn workloads(&self, stack: &str) -> Vec<Workload> {
        let workload = |name: &str, selector, ports| Workload {
            component: format!("{}.{}", self.kind(), self.name()),
            name: name.to_owned(),
            namespace: self.namespace().to_owned(),
            selector,
            ports,
        };
        let own = |name: &str, ports| workload(name, stackc_selector(stack, name), ports);
        match self {
            Component::App(a) => {
                let ports = a
                    .ports
                    .iter()
                    .map(|p| ServedPort::tcp(&p.name, p.port))
                    .collect();
                vec![own(&a.name, ports)]
            }
            Component::Postgres(p) => {
                let mut out = vec![own(&p.name, self.client_ports())];
                if p.backup.is_some() {
                    out.push(own(&format!("{}-backup", p.name), Vec::new()));
                }
                out
            }
            Component::Coder(c) => {
                let (key, value) = CoderPlan::WORKSPACE_LABEL;
                vec![
                    workload(&c.name, c.pod_selector(stack), coder_ports(c)),
                    Workload {
                        namespace: c.workspace_namespace.clone(),
                        ..workload(
                            &format!("{}-workspaces", c.name),
                            BTreeMap::from([(key.to_owned(), value.to_owned())]),
                            Vec::new(),
                        )
                    },
                ]
            }
            Component::Redis(r) => {
                let ports = r
                    .ports
                    .iter()
                    .map(|p| ServedPort::tcp(&p.name, p.port))
                    .collect();
                vec![workload(&r.name, r.selector.clone(), ports)]
            }
            Component::CronJob(j) => vec![workload(&j.name, j.selector.clone(), Vec::new())],
            Component::Kafka(k) => {
                let mut out = vec![
                    own(&k.name, kafka_ports(k)),
                    own(
                        &format!("{}-exporter", k.name),
                        vec![ServedPort::tcp(&k.metrics.port_name, k.metrics.port)],
                    ),
                ];
                if !k.topics.is_empty() {
                    out.push(own(&format!("{}-topics", k.name), Vec::new()));
                }
                out
            }
            Component::Influxdb(i) => vec![own(&i.name, self.client_ports())],
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
            Component::Redis(_) => vec![ServedPort::tcp("redis", crate::check::REDIS_PORT)],
            Component::CronJob(_) => Vec::new(),
            Component::Kafka(k) => kafka_ports(k).into_iter().take(1).collect(),
            Component::Influxdb(i) => {
                vec![ServedPort::tcp("http", crate::check::INFLUXDB_PORT).tls(i.tls.is_some())]
            }
        }
    }

    /// The ports of the first workload its own replicas connect to (Kafka's inter-broker
    /// and controller listeners), through a [`LinkPorts::Peer`] link.
    pub fn peer_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::Kafka(k) => kafka_ports(k).into_iter().skip(1).collect(),
            _ => Vec::new(),
        }
    }

    /// The connections this component's workloads open to other components.
    pub fn links(&self) -> Vec<Link> {
        let uses = |from: &str, targets: &[String]| -> Vec<Link> {
            targets.iter().map(|t| link(from, t, Why::Uses)).collect()
        };
        match self {
            Component::App(a) => uses(&a.name, &a.uses),
            Component::CronJob(j) => uses(&j.name, &j.uses),
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
            Component::Kafka(k) => {
                // Every node is a broker and a KRaft voter: brokers replicate to each
                // other and every node reaches the quorum (itself included, by FQDN).
                let mut out = vec![
                    peer(&k.name, &k.name, Why::Replicas),
                    link(&format!("{}-exporter", k.name), &k.name, Why::Uses),
                ];
                if !k.topics.is_empty() {
                    out.push(link(&format!("{}-topics", k.name), &k.name, Why::Uses));
                }
                out
            }
            Component::Redis(_) | Component::Influxdb(_) => Vec::new(),
        }
    }

    /// Ports of the first workload the ingress controller forwards to (an Ingress).
    pub fn ingress_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::Coder(_) => vec![ServedPort::tcp("http", CoderPlan::HTTP)],
            _ => Vec::new(),
        }
    }

    /// Ports of the first workload reached from outside the cluster directly (a
    /// LoadBalancer Service): only TLS ones.
    pub fn public_ports(&self) -> Vec<ServedPort> {
        match self {
            Component::Coder(c) if c.serves_tls() => {
                vec![ServedPort::tcp("https", CoderPlan::HTTPS).tls(true)]
            }
            _ => Vec::new(),
        }
    }

    /// Names of the workloads that call the Kubernetes API.
    pub fn api_clients(&self) -> Vec<String> {
        match self {
            // Coder creates the workspaces' pods and volumes.
            Component::Coder(c) => vec![c.name.clone()],
            _ => Vec::new(),
        }
    }

    /// Declared destinations outside the cluster: (workload name, destination).
    pub fn egress(&self) -> Vec<(String, Destination)> {
        let declared = |name: &str, list: &[Destination]| -> Vec<(String, Destination)> {
            list.iter().map(|d| (name.to_owned(), *d)).collect()
        };
        match self {
            Component::App(a) => declared(&a.name, &a.egress),
            Component::CronJob(j) => declared(&j.name, &j.egress),
            Component::Coder(c) => declared(&c.name, &c.egress),
            Component::Postgres(_)
            | Component::Redis(_)
            | Component::Kafka(_)
            | Component::Influxdb(_) => Vec::new(),
        }
    }
}

/// A broker's listeners: client first, then inter-broker and controller. With TLS all
/// three speak it and there is no plaintext port at all.
fn kafka_ports(k: &KafkaPlan) -> Vec<ServedPort> {
    let tls = k.tls.is_some();
    vec![
        ServedPort::tcp("client", k.client_port()).tls(tls),
        ServedPort::tcp("internal", k.internal_port()).tls(tls),
        ServedPort::tcp("controller", KafkaPlan::CONTROLLER_PORT).tls(tls),
    ]
}
