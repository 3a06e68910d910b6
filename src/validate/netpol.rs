//! A NetworkPolicy evaluator: given the policies and namespaces of a cluster, may pod
//! (or address) A open a connection to pod (or address) B on a port? The semantics are
//! those of networking.k8s.io/v1 as a CNI enforces them:
//! - a pod selected by any policy whose `policyTypes` hold a direction is isolated in
//!   that direction, and then only the union of those policies' rules admits traffic;
//! - a connection needs egress allowed at the source AND ingress allowed at the
//!   destination (a side outside the cluster's pods never restricts);
//! - `policyTypes` defaults to `[Ingress]`, plus `Egress` when the policy has egress rules;
//! - a peer with `podSelector` alone selects pods of the policy's namespace; with
//!   `namespaceSelector` it selects by namespace labels (every namespace carries
//!   `kubernetes.io/metadata.name`); absent `from`/`to` or `ports` match everything;
//! - a numbered port matches the port (or the range up to `endPort`); a named port
//!   matches the destination pod's container port of that name and protocol; the
//!   protocol defaults to TCP;
//! - `ipBlock` matches addresses in `cidr` and not in `except`. A pod's own address is
//!   unknown here: only a block of the whole address family (`0.0.0.0/0`) is taken to
//!   match pods, as it does on CNIs that apply ipBlocks to pod traffic.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::cidr::Cidr;
use crate::kube::{At, items, selector_matches, str_at};

/// A pod as policies see it: its namespace, labels and container ports.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    pub namespace: String,
    pub labels: Map<String, Value>,
    /// (name, number, protocol) of each container port.
    pub ports: Vec<(Option<String>, u16, String)>,
}

/// One end of a connection.
#[derive(Clone, Copy, Debug)]
pub enum Peer<'a> {
    Pod(&'a Pod),
    Address(IpAddr),
}

/// Which sides admit a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub egress: bool,
    pub ingress: bool,
}

impl Verdict {
    pub fn allowed(self) -> bool {
        self.egress && self.ingress
    }
}

/// The policies of a cluster and the labels of its namespaces.
#[derive(Debug, Default)]
pub struct Cluster<'a> {
    /// NetworkPolicies by namespace.
    policies: BTreeMap<String, Vec<&'a Value>>,
    namespaces: BTreeMap<String, Map<String, Value>>,
}

const NAME_LABEL: &str = "kubernetes.io/metadata.name";

impl<'a> Cluster<'a> {
    /// The NetworkPolicies and Namespaces among `objects` (other kinds are ignored).
    pub fn new(objects: impl IntoIterator<Item = &'a Value>) -> Cluster<'a> {
        let mut cluster = Cluster::default();
        for body in objects {
            match str_at(body, "/kind") {
                Some("NetworkPolicy") => {
                    let namespace = str_at(body, "/metadata/namespace").unwrap_or("default");
                    cluster
                        .policies
                        .entry(namespace.to_owned())
                        .or_default()
                        .push(body);
                }
                Some("Namespace") => {
                    let name = str_at(body, "/metadata/name").unwrap_or_default();
                    let labels = body
                        .at("/metadata/labels")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    cluster.namespaces.insert(name.to_owned(), labels);
                }
                _ => {}
            }
        }
        cluster
    }

    /// The labels of a namespace, with the one the API server always sets.
    fn namespace_labels(&self, name: &str) -> Map<String, Value> {
        let mut labels = self.namespaces.get(name).cloned().unwrap_or_default();
        labels.insert(NAME_LABEL.into(), Value::String(name.into()));
        labels
    }

    /// May `from` connect to `to` on `port`/`protocol`?
    pub fn verdict(&self, from: Peer, to: Peer, port: u16, protocol: &str) -> Verdict {
        Verdict {
            egress: self.side(Direction::Egress, from, to, port, protocol),
            ingress: self.side(Direction::Ingress, from, to, port, protocol),
        }
    }

    /// `verdict(..).allowed()`, without judging ingress when egress already says no.
    pub fn allows(&self, from: Peer, to: Peer, port: u16, protocol: &str) -> bool {
        self.side(Direction::Egress, from, to, port, protocol)
            && self.side(Direction::Ingress, from, to, port, protocol)
    }

    /// Whether the `direction` side admits the connection: egress is judged at `from`,
    /// ingress at `to`.
    fn side(&self, direction: Direction, from: Peer, to: Peer, port: u16, protocol: &str) -> bool {
        let (here, there) = match direction {
            Direction::Egress => (from, to),
            Direction::Ingress => (to, from),
        };
        let Peer::Pod(pod) = here else {
            return true;
        };
        let mut isolated = false;
        for policy in self.selecting(pod, direction) {
            isolated = true;
            let admitted = items(policy, direction.rules()).any(|rule| {
                let peers_ok = match rule.get(direction.peers()).and_then(Value::as_array) {
                    None => true,
                    Some(peers) if peers.is_empty() => true,
                    Some(peers) => peers.iter().any(|p| self.peer_matches(policy, p, there)),
                };
                peers_ok && ports_match(rule, to, port, protocol)
            });
            if admitted {
                return true;
            }
        }
        !isolated
    }

    /// The policies that select `pod` for `direction`.
    fn selecting<'s>(
        &'s self,
        pod: &'s Pod,
        direction: Direction,
    ) -> impl Iterator<Item = &'a Value> + 's {
        let here = self
            .policies
            .get(&pod.namespace)
            .map_or(&[][..], Vec::as_slice);
        here.iter().copied().filter(move |policy| {
            selector_matches(
                policy.at("/spec/podSelector").unwrap_or(&Value::Null),
                Some(&pod.labels),
            ) && policy_types(policy).contains(&direction.name())
        })
    }

    /// Who `pod` may talk to (egress) or hear from (ingress), before ports: everyone
    /// when it is not isolated in that direction or a rule names no peer, else the
    /// peers of its rules as (policy, peer). A pruning aid: a connection outside this
    /// set is denied whatever the port.
    pub fn reach(&self, pod: &Pod, direction: Direction) -> Reach<'a> {
        let mut peers = Vec::new();
        let mut isolated = false;
        for policy in self.selecting(pod, direction) {
            isolated = true;
            for rule in items(policy, direction.rules()) {
                match rule.get(direction.peers()).and_then(Value::as_array) {
                    Some(list) if !list.is_empty() => {
                        peers.extend(list.iter().map(|peer| (policy, peer)));
                    }
                    _ => return Reach::Everyone,
                }
            }
        }
        if isolated {
            Reach::Peers(peers)
        } else {
            Reach::Everyone
        }
    }

    /// Whether `peer` of `policy` selects `other`.
    pub fn peer_matches(&self, policy: &Value, peer: &Value, other: Peer) -> bool {
        if let Some(block) = peer.get("ipBlock") {
            return ip_block_matches(block, other);
        }
        let Peer::Pod(pod) = other else {
            return false;
        };
        let namespace_ok = match peer.get("namespaceSelector") {
            Some(selector) => {
                selector_matches(selector, Some(&self.namespace_labels(&pod.namespace)))
            }
            None => str_at(policy, "/metadata/namespace") == Some(pod.namespace.as_str()),
        };
        let pod_ok = peer
            .get("podSelector")
            .is_none_or(|selector| selector_matches(selector, Some(&pod.labels)));
        namespace_ok && pod_ok
    }
}

/// What [`Cluster::reach`] found.
#[derive(Debug)]
pub enum Reach<'a> {
    Everyone,
    /// (policy, peer) of every rule that could admit a connection.
    Peers(Vec<(&'a Value, &'a Value)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }

    fn rules(self) -> &'static str {
        match self {
            Direction::Ingress => "/spec/ingress",
            Direction::Egress => "/spec/egress",
        }
    }

    fn peers(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

/// `spec.policyTypes`, or its default.
fn policy_types(policy: &Value) -> Vec<&str> {
    match policy.at("/spec/policyTypes").and_then(Value::as_array) {
        Some(types) => types.iter().filter_map(Value::as_str).collect(),
        None if policy.at("/spec/egress").is_some() => vec!["Ingress", "Egress"],
        None => vec!["Ingress"],
    }
}

fn ip_block_matches(block: &Value, other: Peer) -> bool {
    let Some(cidr) = str_at(block, "/cidr").and_then(|c| Cidr::parse(c).ok()) else {
        return false;
    };
    let excepted = |ip: IpAddr| {
        items(block, "/except")
            .filter_map(Value::as_str)
            .filter_map(|c| Cidr::parse(c).ok())
            .any(|e| e.contains(ip))
    };
    match other {
        Peer::Address(ip) => cidr.contains(ip) && !excepted(ip),
        Peer::Pod(_) => cidr.is_everything() && items(block, "/except").next().is_none(),
    }
}

/// Whether a rule's `ports` admit `port`/`protocol` at destination `to`.
fn ports_match(rule: &Value, to: Peer, port: u16, protocol: &str) -> bool {
    let ports = match rule.get("ports").and_then(Value::as_array) {
        None => return true,
        Some(ports) if ports.is_empty() => return true,
        Some(ports) => ports,
    };
    ports.iter().any(|p| {
        let rule_protocol = str_at(p, "/protocol").unwrap_or("TCP");
        if rule_protocol != protocol {
            return false;
        }
        match p.get("port") {
            None => true,
            Some(Value::Number(n)) => {
                let start = n.as_u64().unwrap_or(0);
                let end = p.get("endPort").and_then(Value::as_u64).unwrap_or(start);
                (start..=end).contains(&u64::from(port))
            }
            Some(Value::String(name)) => match to {
                Peer::Pod(pod) => pod.ports.iter().any(|(n, number, proto)| {
                    n.as_deref() == Some(name.as_str()) && *number == port && proto == protocol
                }),
                Peer::Address(_) => false,
            },
            Some(_) => false,
        }
    })
}

/// The pods a workload object runs, as policies see them (`None` for other kinds).
pub fn pod_of(body: &Value) -> Option<Pod> {
    let (spec, labels) = crate::kube::pod_template(body)?;
    let ports = items(spec, "/containers")
        .flat_map(|c| items(c, "/ports"))
        .filter_map(|p| {
            let number = u16::try_from(p.get("containerPort")?.as_u64()?).ok()?;
            Some((
                str_at(p, "/name").map(str::to_owned),
                number,
                str_at(p, "/protocol").unwrap_or("TCP").to_owned(),
            ))
        })
        .collect();
    Some(Pod {
        namespace: str_at(body, "/metadata/namespace")
            .unwrap_or("default")
            .to_owned(),
        labels: labels.cloned().unwrap_or_default(),
        ports,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Whether the ingress side at `to` admits `from` on TCP `port`.
    fn admits_in(cluster: &Cluster, from: &Pod, to: &Pod, port: u16) -> bool {
        cluster
            .verdict(Peer::Pod(from), Peer::Pod(to), port, "TCP")
            .ingress
    }

    use super::*;

    fn pod(namespace: &str, app: &str, ports: &[(&str, u16)]) -> Pod {
        Pod {
            namespace: namespace.into(),
            labels: json!({ "app": app }).as_object().unwrap().clone(),
            ports: ports
                .iter()
                .map(|(n, p)| (Some((*n).to_owned()), *p, "TCP".to_owned()))
                .collect(),
        }
    }

    fn policy(namespace: &str, name: &str, spec: Value) -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": { "name": name, "namespace": namespace },
            "spec": spec,
        })
    }

    fn deny_all(namespace: &str) -> Value {
        policy(
            namespace,
            "deny",
            json!({ "podSelector": {}, "policyTypes": ["Ingress", "Egress"] }),
        )
    }

    fn allowed(cluster: &Cluster, from: &Pod, to: &Pod, port: u16) -> bool {
        cluster
            .verdict(Peer::Pod(from), Peer::Pod(to), port, "TCP")
            .allowed()
    }

    #[test]
    fn without_policies_everything_flows() {
        let (a, b) = (pod("x", "a", &[]), pod("y", "b", &[("http", 80)]));
        assert!(allowed(&Cluster::new([]), &a, &b, 80));
    }

    #[test]
    fn egress_allowed_but_ingress_denied_is_denied() {
        let (a, b) = (pod("x", "a", &[]), pod("y", "b", &[("http", 80)]));
        let egress = policy(
            "x",
            "a-out",
            json!({ "podSelector": { "matchLabels": { "app": "a" } }, "policyTypes": ["Egress"],
                    "egress": [{ "ports": [{ "port": 80 }] }] }),
        );
        let objects = [deny_all("x"), egress, deny_all("y")];
        let cluster = Cluster::new(&objects);
        let v = cluster.verdict(Peer::Pod(&a), Peer::Pod(&b), 80, "TCP");
        assert_eq!(
            v,
            Verdict {
                egress: true,
                ingress: false
            }
        );
        assert!(!v.allowed());
    }

    #[test]
    fn named_ports_resolve_against_the_destination_pod() {
        let a = pod("x", "a", &[]);
        // Same name, different numbers: `web` means 8080 on b and 9090 on c.
        let b = pod("x", "b", &[("web", 8080)]);
        let c = pod("x", "c", &[("web", 9090)]);
        let objects = [
            deny_all("x"),
            policy(
                "x",
                "in",
                json!({ "podSelector": {}, "policyTypes": ["Ingress"],
                        "ingress": [{ "ports": [{ "port": "web" }] }] }),
            ),
            policy(
                "x",
                "out",
                json!({ "podSelector": {}, "policyTypes": ["Egress"],
                        "egress": [{ "ports": [{ "port": "web" }] }] }),
            ),
        ];
        let cluster = Cluster::new(&objects);
        assert!(allowed(&cluster, &a, &b, 8080));
        assert!(!allowed(&cluster, &a, &b, 9090));
        assert!(allowed(&cluster, &a, &c, 9090));
        assert!(!allowed(&cluster, &a, &c, 8080));
        // A named port never matches an address: it has no container ports.
        let ip = Peer::Address("203.0.113.7".parse().unwrap());
        assert!(!cluster.verdict(Peer::Pod(&a), ip, 8080, "TCP").egress);
        // Protocol is part of the port: UDP 8080 is not `web`.
        assert!(
            !cluster
                .verdict(Peer::Pod(&a), Peer::Pod(&b), 8080, "UDP")
                .egress
        );
    }

    #[test]
    fn pod_selector_alone_means_the_policy_namespace() {
        let b = pod("y", "b", &[("http", 80)]);
        let a_here = pod("y", "a", &[]);
        let a_elsewhere = pod("x", "a", &[]);
        let objects = [
            deny_all("y"),
            policy(
                "y",
                "in",
                json!({ "podSelector": { "matchLabels": { "app": "b" } }, "policyTypes": ["Ingress"],
                        "ingress": [{ "from": [{ "podSelector": { "matchLabels": { "app": "a" } } }] }] }),
            ),
        ];
        let cluster = Cluster::new(&objects);
        assert!(admits_in(&cluster, &a_here, &b, 80));
        assert!(!admits_in(&cluster, &a_elsewhere, &b, 80));
    }

    #[test]
    fn namespace_and_pod_selector_in_one_peer_are_and_in_two_peers_or() {
        let b = pod("y", "b", &[("http", 80)]);
        let a = pod("x", "a", &[]);
        let other_in_x = pod("x", "z", &[]);
        let a_in_w = pod("w", "a", &[]);
        let ns = json!({ "matchLabels": { "kubernetes.io/metadata.name": "x" } });
        let app = json!({ "matchLabels": { "app": "a" } });
        let and = [policy(
            "y",
            "in",
            json!({ "podSelector": {}, "policyTypes": ["Ingress"],
                    "ingress": [{ "from": [{ "namespaceSelector": ns, "podSelector": app }] }] }),
        )];
        let cluster = Cluster::new(&and);
        assert!(admits_in(&cluster, &a, &b, 80));
        assert!(!admits_in(&cluster, &other_in_x, &b, 80));
        assert!(!admits_in(&cluster, &a_in_w, &b, 80));
        let or = [policy(
            "y",
            "in",
            json!({ "podSelector": {}, "policyTypes": ["Ingress"],
                    "ingress": [{ "from": [{ "namespaceSelector": ns }, { "podSelector": app }] }] }),
        )];
        let cluster = Cluster::new(&or);
        assert!(admits_in(&cluster, &other_in_x, &b, 80));
        // `podSelector` alone is the policy's namespace (y), not w.
        assert!(!admits_in(&cluster, &a_in_w, &b, 80));
    }

    #[test]
    fn namespace_selector_reads_namespace_labels() {
        let b = pod("y", "b", &[("http", 80)]);
        let a = pod("x", "a", &[]);
        let objects = [
            json!({ "apiVersion": "v1", "kind": "Namespace",
                    "metadata": { "name": "x", "labels": { "team": "data" } } }),
            policy(
                "y",
                "in",
                json!({ "podSelector": {}, "policyTypes": ["Ingress"],
                        "ingress": [{ "from": [{ "namespaceSelector": { "matchExpressions": [
                            { "key": "team", "operator": "In", "values": ["data"] }] } }] }] }),
            ),
        ];
        let cluster = Cluster::new(&objects);
        assert!(admits_in(&cluster, &a, &b, 80));
        let stranger = pod("v", "a", &[]);
        assert!(!admits_in(&cluster, &stranger, &b, 80));
    }

    #[test]
    fn two_policies_selecting_one_pod_or_their_rules() {
        let b = pod("y", "b", &[("http", 80), ("admin", 9000)]);
        let a = pod("y", "a", &[]);
        let one = |name: &str, port: u16| {
            policy(
                "y",
                name,
                json!({ "podSelector": { "matchLabels": { "app": "b" } }, "policyTypes": ["Ingress"],
                        "ingress": [{ "ports": [{ "port": port }] }] }),
            )
        };
        let objects = [one("http", 80), one("admin", 9000)];
        let cluster = Cluster::new(&objects);
        assert!(admits_in(&cluster, &a, &b, 80));
        assert!(admits_in(&cluster, &a, &b, 9000));
        assert!(!admits_in(&cluster, &a, &b, 22));
    }

    #[test]
    fn policy_types_default_and_isolation_per_direction() {
        let b = pod("y", "b", &[("http", 80)]);
        let a = pod("y", "a", &[]);
        // No policyTypes and no egress rules: Ingress only, so b's egress stays open.
        let objects = [policy(
            "y",
            "in",
            json!({ "podSelector": { "matchLabels": { "app": "b" } } }),
        )];
        let cluster = Cluster::new(&objects);
        assert!(!admits_in(&cluster, &a, &b, 80));
        assert!(
            cluster
                .verdict(Peer::Pod(&b), Peer::Pod(&a), 80, "TCP")
                .egress
        );
        // With egress rules, Egress is implied.
        let objects = [policy(
            "y",
            "out",
            json!({ "podSelector": { "matchLabels": { "app": "b" } }, "egress": [{ "ports": [{ "port": 443 }] }] }),
        )];
        let cluster = Cluster::new(&objects);
        assert!(
            !cluster
                .verdict(Peer::Pod(&b), Peer::Pod(&a), 80, "TCP")
                .egress
        );
        assert!(
            cluster
                .verdict(Peer::Pod(&b), Peer::Pod(&a), 443, "TCP")
                .egress
        );
    }

    #[test]
    fn ip_blocks_ranges_and_except() {
        let a = pod("x", "a", &[]);
        let objects = [policy(
            "x",
            "out",
            json!({ "podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{ "ipBlock": { "cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"] } }],
                "ports": [{ "port": 8000, "endPort": 8010 }] }] }),
        )];
        let cluster = Cluster::new(&objects);
        let at = |ip: &str, port| {
            cluster
                .verdict(
                    Peer::Pod(&a),
                    Peer::Address(ip.parse().unwrap()),
                    port,
                    "TCP",
                )
                .egress
        };
        assert!(at("10.2.3.4", 8005));
        assert!(!at("10.2.3.4", 8011));
        assert!(!at("10.1.3.4", 8005));
        assert!(!at("11.0.0.1", 8005));
        // A narrower block is not taken to contain pods.
        let b = pod("x", "b", &[("http", 8005)]);
        assert!(
            !cluster
                .verdict(Peer::Pod(&a), Peer::Pod(&b), 8005, "TCP")
                .egress
        );
    }
}
