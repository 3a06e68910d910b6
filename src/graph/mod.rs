//! The dependency graph of one environment: every connection a pod of the stack opens
//! or accepts, computed once from the Plan. The NetworkPolicies (`build::network`), their
//! proof (`validate::network`) and `stackc graph` all read these edges, so what is
//! drawn is what is allowed and what is proven.
//!
//! An edge joins a consumer to a provider on exactly the ports it uses, and says why
//! (`uses`, `database`, `workspaces`, ...). The per-kind facts the edges are made of
//! (workloads, ports, links) live in `facts.rs`: a new component kind adds its match
//! arms there and gets policies, proof and graph for free.

mod facts;
mod monitoring;
pub mod render;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

pub use facts::{Link, LinkPorts};

use crate::cidr::{Cidr, Destination};
use crate::plan::{Component, Plan};

/// Why a connection exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    /// An app's `uses`.
    Uses,
    /// A database reference (`database = "..."`, a backup job).
    Database,
    /// Replicas of one workload talking to each other (Coder's DERP mesh).
    Replicas,
    /// Coder's workspace agents dialling home.
    Workspaces,
    /// The ingress controller forwarding to an exposed Service.
    Ingress,
    /// Traffic to or from outside the cluster (declared `egress`, a LoadBalancer).
    Internet,
    /// Calls to the Kubernetes API.
    Api,
    /// Prometheus scraping metrics.
    Scrape,
    /// Prometheus sending alerts to Alertmanager.
    Alerts,
    /// Grafana querying a datasource.
    Query,
    /// Log shipping.
    Logs,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Uses => "uses",
            Why::Database => "database",
            Why::Replicas => "replicas",
            Why::Workspaces => "workspaces",
            Why::Ingress => "ingress",
            Why::Internet => "internet",
            Why::Api => "api",
            Why::Scrape => "scrape",
            Why::Alerts => "alerts",
            Why::Query => "query",
            Why::Logs => "logs",
        }
    }
}

/// A container port a workload serves.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ServedPort {
    pub name: String,
    pub port: u16,
    /// `TCP` or `UDP`.
    pub protocol: &'static str,
    /// The port speaks TLS.
    pub tls: bool,
}

impl ServedPort {
    pub fn tcp(name: &str, port: u16) -> ServedPort {
        ServedPort {
            name: name.to_owned(),
            port,
            protocol: "TCP",
            tls: false,
        }
    }

    /// The same port, marked as speaking TLS when `tls`.
    pub fn tls(self, tls: bool) -> ServedPort {
        ServedPort { tls, ..self }
    }
}

/// A set of pods of the stack: one workload of one component.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Workload {
    /// `<kind>.<name>` of the component in stack.toml.
    pub component: String,
    /// Unique in the stack: the component's name, or `<component>-<role>`
    /// (`coder-db-backup`, `coder-workspaces`).
    pub name: String,
    pub namespace: String,
    /// Labels that select exactly its pods.
    pub selector: BTreeMap<String, String>,
    /// The ports its pods serve.
    pub ports: Vec<ServedPort>,
}

/// One end of an edge.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Endpoint {
    /// Pods of the stack.
    Workload(Workload),
    /// Pods outside the stack, e.g. the ingress controller.
    Pods {
        name: String,
        namespace: String,
        selector: BTreeMap<String, String>,
    },
    /// Addresses outside the cluster's pods (the API server, the internet), each with
    /// its port when they are the destination.
    Addresses {
        name: String,
        destinations: Vec<Destination>,
    },
}

impl Endpoint {
    /// The name in policy names and in the graph.
    pub fn name(&self) -> &str {
        match self {
            Endpoint::Workload(w) => &w.name,
            Endpoint::Pods { name, .. } | Endpoint::Addresses { name, .. } => name,
        }
    }

    /// The namespace of pods, `None` for addresses.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Endpoint::Workload(w) => Some(&w.namespace),
            Endpoint::Pods { namespace, .. } => Some(namespace),
            Endpoint::Addresses { .. } => None,
        }
    }

    pub fn workload(&self) -> Option<&Workload> {
        match self {
            Endpoint::Workload(w) => Some(w),
            _ => None,
        }
    }
}

/// One allowed connection: `from` opens it to `to` on `ports` (for addresses, the ports
/// are in the destinations).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub from: Endpoint,
    pub to: Endpoint,
    pub ports: Vec<ServedPort>,
    pub why: Why,
}

impl Edge {
    /// Every port of the edge speaks TLS.
    pub fn tls(&self) -> bool {
        !self.ports.is_empty() && self.ports.iter().all(|p| p.tls)
    }

    /// The name of the policy pair: `<direction>-<from>-to-<to>`.
    pub fn policy_name(&self, direction: &str) -> String {
        format!("{direction}-{}-to-{}", self.from.name(), self.to.name())
    }
}

/// The name of the Kubernetes API in the graph and in policy names.
pub const API: &str = "kubernetes-api";
/// The name of addresses outside the cluster.
pub const INTERNET: &str = "internet";
/// The name of the ingress controller's pods.
pub const INGRESS_CONTROLLER: &str = "ingress-controller";

/// The cluster DNS every pod may query: namespace, pod labels, port.
pub const DNS_NAMESPACE: &str = "kube-system";
pub const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
pub const DNS_PORT: u16 = 53;

/// The whole graph of one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Graph {
    pub workloads: Vec<Workload>,
    pub edges: Vec<Edge>,
}

/// The workloads and edges of a Plan.
pub fn graph(plan: &Plan) -> Graph {
    Graph {
        workloads: workloads(plan),
        edges: edges(plan),
    }
}

/// Every workload of the stack: the components' in component order, then monitoring's.
pub fn workloads(plan: &Plan) -> Vec<Workload> {
    let mut out = component_workloads(plan);
    out.extend(monitoring::workloads(plan));
    out
}

fn component_workloads(plan: &Plan) -> Vec<Workload> {
    plan.components
        .iter()
        .flat_map(|c| c.workloads(&plan.stack.name))
        .collect()
}

/// Every edge of the stack, sorted.
pub fn edges(plan: &Plan) -> Vec<Edge> {
    // Each component's workloads are computed once; its first is its main workload.
    let per_component: Vec<Vec<Workload>> = (plan.components.iter())
        .map(|c| c.workloads(&plan.stack.name))
        .collect();
    let stack_workloads: Vec<Workload> = per_component.iter().flatten().cloned().collect();
    let monitoring_workloads = monitoring::workloads(plan);
    // By name; a later workload of the same name wins, as before (validate reports those: `validate::workload_names`).
    let by_name: HashMap<&str, &Workload> = (stack_workloads.iter())
        .chain(&monitoring_workloads)
        .map(|w| (w.name.as_str(), w))
        .collect();
    // A component by name, with its main workload; the first of a name wins.
    let mut providers: HashMap<&str, (&Component, Option<&Workload>)> = HashMap::new();
    for (c, ws) in plan.components.iter().zip(&per_component) {
        providers.entry(c.name()).or_insert((c, ws.first()));
    }
    let mut out = Vec::new();
    for (component, workloads) in plan.components.iter().zip(&per_component) {
        for link in component.links() {
            let Some(&(provider, main)) = providers.get(link.to.as_str()) else {
                continue;
            };
            let (Some(from), Some(to)) = (by_name.get(link.from.as_str()), main) else {
                continue;
            };
            let ports = match link.ports {
                LinkPorts::Client => provider.client_ports(),
                LinkPorts::Peer => provider.peer_ports(),
            };
            if !ports.is_empty() {
                out.push(Edge {
                    from: Endpoint::Workload((*from).clone()),
                    to: Endpoint::Workload(to.clone()),
                    ports,
                    why: link.why,
                });
            }
        }
        let Some(first) = workloads.first() else {
            continue;
        };
        let ingress = component.ingress_ports();
        if !ingress.is_empty() {
            out.push(Edge {
                from: Endpoint::Pods {
                    name: INGRESS_CONTROLLER.into(),
                    namespace: plan.network.ingress_namespace.clone(),
                    selector: plan.network.ingress_pods.clone(),
                },
                to: Endpoint::Workload(first.clone()),
                ports: ingress,
                why: Why::Ingress,
            });
        }
        let public = component.public_ports();
        if !public.is_empty() {
            out.push(Edge {
                from: Endpoint::Addresses {
                    name: INTERNET.into(),
                    destinations: Vec::new(),
                },
                to: Endpoint::Workload(first.clone()),
                ports: public,
                why: Why::Internet,
            });
        }
        for name in component.api_clients() {
            if let Some(from) = by_name.get(name.as_str()) {
                out.push(Edge {
                    from: Endpoint::Workload((*from).clone()),
                    to: Endpoint::Addresses {
                        name: API.into(),
                        destinations: plan.network.api.clone(),
                    },
                    ports: Vec::new(),
                    why: Why::Api,
                });
            }
        }
        let mut egress: BTreeMap<String, Vec<Destination>> = BTreeMap::new();
        for (name, destination) in component.egress() {
            egress.entry(name).or_default().push(destination);
        }
        for (name, destinations) in egress {
            if let Some(from) = by_name.get(name.as_str()) {
                out.push(Edge {
                    from: Endpoint::Workload((*from).clone()),
                    to: Endpoint::Addresses {
                        name: INTERNET.into(),
                        destinations,
                    },
                    ports: Vec::new(),
                    why: Why::Internet,
                });
            }
        }
    }
    out.extend(monitoring::edges(plan, &stack_workloads));
    merge(out)
}

/// One edge per (from, to): a policy pair is named after its two ends, so two reasons
/// for the same connection become one edge on the union of their ports (the first
/// reason, in `Why` order, names it).
fn merge(mut edges: Vec<Edge>) -> Vec<Edge> {
    edges.sort_by(|a, b| {
        (a.from.name(), a.to.name(), a.why).cmp(&(b.from.name(), b.to.name(), b.why))
    });
    let mut out: Vec<Edge> = Vec::with_capacity(edges.len());
    for edge in edges {
        match out.last_mut() {
            Some(last)
                if last.from.name() == edge.from.name() && last.to.name() == edge.to.name() =>
            {
                last.ports.extend(edge.ports);
                last.ports.sort();
                last.ports.dedup();
                if let (
                    Endpoint::Addresses {
                        destinations: a, ..
                    },
                    Endpoint::Addresses {
                        destinations: b, ..
                    },
                ) = (&mut last.to, edge.to)
                {
                    a.extend(b);
                    a.sort();
                    a.dedup();
                }
            }
            _ => out.push(edge),
        }
    }
    out.sort();
    out
}

/// Every address of both families: the source of an inbound `internet` edge, and where
/// a destination with no stable address is. A public port is reached over IPv4 and, on
/// a dual-stack cluster, over IPv6 (a block of the family the cluster lacks matches
/// nothing and is harmless).
pub fn anywhere() -> [Cidr; 2] {
    ["0.0.0.0/0", "::/0"].map(|block| Cidr::parse(block).expect("a valid block"))
}
