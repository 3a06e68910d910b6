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

use crate::value::{Map, Value};

use crate::cidr::Cidr;
use crate::kube::{At, items, str_at};

/// A pod as policies see it: its namespace, labels and container ports.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    pub namespace: String,
    pub labels: Map,
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

/// The policies of a cluster, read once into [`Policy`], and the labels of its
/// namespaces.
#[derive(Debug, Default)]
pub struct Cluster {
    /// NetworkPolicies by namespace.
    policies: BTreeMap<String, Vec<Policy>>,
    namespaces: BTreeMap<String, Map>,
}

const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default)]
struct Selector {
    labels: Vec<(String, Option<String>)>,
    expressions: Vec<(String, Operator, Vec<String>)>,
}

#[derive(Debug, Clone, Copy)]
enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// An operator the API would reject: matches nothing.
    Unknown,
}

impl Selector {
    fn read(selector: &Value) -> Selector {
        let labels = selector
            .get("matchLabels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.to_owned(), v.as_str().map(str::to_owned)))
            .collect();
        let expressions = items(selector, "/matchExpressions")
            .map(|e| {
                let operator = match str_at(e, "/operator") {
                    Some("In") => Operator::In,
                    Some("NotIn") => Operator::NotIn,
                    Some("Exists") => Operator::Exists,
                    Some("DoesNotExist") => Operator::DoesNotExist,
                    _ => Operator::Unknown,
                };
                let values = items(e, "/values")
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                (
                    str_at(e, "/key").unwrap_or_default().to_owned(),
                    operator,
                    values,
                )
            })
            .collect();
        Selector {
            labels,
            expressions,
        }
    }

    /// Whether labels (looked up by `get`) satisfy the selector; `{}` selects all.
    fn matches<'l>(&self, get: impl Fn(&str) -> Option<&'l str>) -> bool {
        let labels_ok = self
            .labels
            .iter()
            .all(|(k, v)| v.is_some() && get(k) == v.as_deref());
        labels_ok
            && self.expressions.iter().all(|(key, operator, values)| {
                let has = |v: &str| values.iter().any(|x| x == v);
                match operator {
                    Operator::In => get(key).is_some_and(has),
                    Operator::NotIn => get(key).is_none_or(|v| !has(v)),
                    Operator::Exists => get(key).is_some(),
                    Operator::DoesNotExist => get(key).is_none(),
                    Operator::Unknown => false,
                }
            })
    }

    fn matches_pod(&self, pod: &Pod) -> bool {
        self.matches(|k| pod.labels.get(k).and_then(Value::as_str))
    }

    /// The namespace this selector names by `kubernetes.io/metadata.name`, if it does.
    fn named_namespace(&self) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == NAME_LABEL)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// One entry of a rule's `from` or `to`.
#[derive(Debug, Clone)]
pub struct PeerRule {
    kind: PeerKind,
}

#[derive(Debug, Clone)]
enum PeerKind {
    Block {
        cidr: Option<Cidr>,
        except: Vec<Cidr>,
    },
    Pods {
        /// `None`: the policy's own namespace.
        namespaces: Option<Selector>,
        own_namespace: String,
        pods: Option<Selector>,
    },
}

/// Where a peer's pods may live, for indexing candidates.
pub enum Scope<'p> {
    /// Any address or pod anywhere.
    Anywhere,
    /// Pods of this one namespace.
    Namespace(&'p str),
}

impl PeerRule {
    fn read(peer: &Value, own_namespace: &str) -> PeerRule {
        let kind = match peer.get("ipBlock") {
            Some(block) => PeerKind::Block {
                cidr: str_at(block, "/cidr").and_then(|c| Cidr::parse(c).ok()),
                except: items(block, "/except")
                    .filter_map(Value::as_str)
                    .filter_map(|c| Cidr::parse(c).ok())
                    .collect(),
            },
            None => PeerKind::Pods {
                namespaces: peer.get("namespaceSelector").map(Selector::read),
                own_namespace: own_namespace.to_owned(),
                pods: peer.get("podSelector").map(Selector::read),
            },
        };
        PeerRule { kind }
    }

    /// The namespace the peer's pods are confined to, when there is one.
    pub fn scope(&self) -> Scope<'_> {
        match &self.kind {
            PeerKind::Block { .. } => Scope::Anywhere,
            PeerKind::Pods {
                namespaces: None,
                own_namespace,
                ..
            } => Scope::Namespace(own_namespace),
            PeerKind::Pods {
                namespaces: Some(selector),
                ..
            } => selector
                .named_namespace()
                .map_or(Scope::Anywhere, Scope::Namespace),
        }
    }
}

/// One entry of a rule's `ports`.
#[derive(Debug, Clone)]
pub struct PortRule {
    protocol: String,
    port: PortSpec,
}

#[derive(Debug, Clone)]
enum PortSpec {
    Any,
    Range(u16, u16),
    Named(String),
    /// A value the API would reject: matches nothing.
    Invalid,
}

impl PortRule {
    fn read(p: &Value) -> PortRule {
        let port = match p.get("port") {
            None => PortSpec::Any,
            Some(Value::Number(n)) => {
                let start = n.as_u64().and_then(|n| u16::try_from(n).ok());
                let end = p
                    .get("endPort")
                    .map_or(start, |e| e.as_u64().and_then(|n| u16::try_from(n).ok()));
                match (start, end) {
                    (Some(start), Some(end)) => PortSpec::Range(start, end),
                    _ => PortSpec::Invalid,
                }
            }
            Some(Value::String(name)) => PortSpec::Named(name.clone()),
            Some(_) => PortSpec::Invalid,
        };
        PortRule {
            protocol: str_at(p, "/protocol").unwrap_or("TCP").to_owned(),
            port,
        }
    }

    fn admits(&self, to: Peer, port: u16, protocol: &str) -> bool {
        if self.protocol != protocol {
            return false;
        }
        match &self.port {
            PortSpec::Any => true,
            PortSpec::Range(start, end) => (*start..=*end).contains(&port),
            PortSpec::Named(name) => match to {
                Peer::Pod(pod) => pod.ports.iter().any(|(n, number, proto)| {
                    n.as_deref() == Some(name.as_str()) && *number == port && proto == protocol
                }),
                Peer::Address(_) => false,
            },
            PortSpec::Invalid => false,
        }
    }
}

/// One ingress or egress rule: `None` peers or ports match everything.
#[derive(Debug, Clone)]
struct Rule {
    peers: Option<Vec<PeerRule>>,
    ports: Option<Vec<PortRule>>,
}

impl Rule {
    fn read(rule: &Value, direction: Direction, namespace: &str) -> Rule {
        let list = |key: &str| {
            rule.get(key)
                .and_then(Value::as_array)
                .filter(|list| !list.is_empty())
        };
        Rule {
            peers: list(direction.peers())
                .map(|peers| peers.iter().map(|p| PeerRule::read(p, namespace)).collect()),
            ports: list("ports").map(|ports| ports.iter().map(PortRule::read).collect()),
        }
    }
}

/// A NetworkPolicy as the evaluator needs it.
#[derive(Debug, Clone)]
struct Policy {
    pod_selector: Selector,
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
}

impl Policy {
    fn read(body: &Value, namespace: &str) -> Policy {
        let rules = |direction: Direction| -> Vec<Rule> {
            items(body, direction.rules())
                .map(|rule| Rule::read(rule, direction, namespace))
                .collect()
        };
        let types = policy_types(body);
        Policy {
            pod_selector: body
                .at("/spec/podSelector")
                .map(Selector::read)
                .unwrap_or_default(),
            ingress: types
                .contains(&"Ingress")
                .then(|| rules(Direction::Ingress)),
            egress: types.contains(&"Egress").then(|| rules(Direction::Egress)),
        }
    }

    /// The rules of one direction, when the policy isolates it.
    fn rules(&self, direction: Direction) -> Option<&[Rule]> {
        match direction {
            Direction::Ingress => self.ingress.as_deref(),
            Direction::Egress => self.egress.as_deref(),
        }
    }
}

/// The rules that bind one pod in one direction: `None` when no policy isolates it.
#[derive(Debug, Clone)]
pub struct Isolation<'c> {
    rules: Option<Vec<&'c Rule>>,
}

/// What one side lets through between two given ends, before ports.
pub enum Opening<'c> {
    /// Every port (not isolated, or a matching rule without `ports`).
    All,
    /// Only these port lists (one per matching rule); empty: nothing.
    Ports(Vec<&'c [PortRule]>),
}

impl Isolation<'_> {
    /// No policy binds this end (an address, or a pod no policy selects).
    pub fn none() -> Self {
        Isolation { rules: None }
    }
}

impl Opening<'_> {
    pub fn is_closed(&self) -> bool {
        matches!(self, Opening::Ports(lists) if lists.is_empty())
    }

    /// Whether `port`/`protocol` at destination `to` gets through.
    pub fn admits(&self, to: Peer, port: u16, protocol: &str) -> bool {
        match self {
            Opening::All => true,
            Opening::Ports(lists) => lists
                .iter()
                .any(|list| list.iter().any(|p| p.admits(to, port, protocol))),
        }
    }
}

impl Cluster {
    /// The NetworkPolicies and Namespaces among `objects` (other kinds are ignored).
    pub fn new<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Cluster {
        let mut cluster = Cluster::default();
        for body in objects {
            match str_at(body, "/kind") {
                Some("NetworkPolicy") => {
                    let namespace = str_at(body, "/metadata/namespace").unwrap_or("default");
                    cluster
                        .policies
                        .entry(namespace.to_owned())
                        .or_default()
                        .push(Policy::read(body, namespace));
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

    /// A label of a namespace, with the one the API server always sets.
    fn namespace_label<'s>(&'s self, namespace: &'s str, key: &str) -> Option<&'s str> {
        if key == NAME_LABEL {
            return Some(namespace);
        }
        self.namespaces.get(namespace)?.get(key)?.as_str()
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

    fn side(&self, direction: Direction, from: Peer, to: Peer, port: u16, protocol: &str) -> bool {
        let here = match direction {
            Direction::Egress => from,
            Direction::Ingress => to,
        };
        let isolation = match here {
            Peer::Pod(pod) => self.isolation(pod, direction),
            Peer::Address(_) => Isolation::none(),
        };
        self.opening(&isolation, direction, from, to)
            .admits(to, port, protocol)
    }

    /// The rules binding `pod` in `direction`: those of every policy selecting it
    /// whose `policyTypes` hold the direction.
    pub fn isolation(&self, pod: &Pod, direction: Direction) -> Isolation<'_> {
        let mut isolated = false;
        let mut rules = Vec::new();
        for policy in self.policies.get(&pod.namespace).into_iter().flatten() {
            if let Some(list) = policy.rules(direction)
                && policy.pod_selector.matches_pod(pod)
            {
                isolated = true;
                rules.extend(list);
            }
        }
        Isolation {
            rules: isolated.then_some(rules),
        }
    }

    /// What the `direction` side (whose binding rules are `isolation`: those of `from`
    /// for egress, of `to` for ingress) lets through from `from` to `to`, before ports.
    pub fn opening<'c>(
        &self,
        isolation: &Isolation<'c>,
        direction: Direction,
        from: Peer,
        to: Peer,
    ) -> Opening<'c> {
        let Some(rules) = &isolation.rules else {
            return Opening::All;
        };
        let there = match direction {
            Direction::Egress => to,
            Direction::Ingress => from,
        };
        let mut lists = Vec::new();
        for rule in rules {
            let peers_ok = rule
                .peers
                .as_ref()
                .is_none_or(|peers| peers.iter().any(|p| self.peer_matches(p, there)));
            if peers_ok {
                match &rule.ports {
                    None => return Opening::All,
                    Some(ports) => lists.push(ports.as_slice()),
                }
            }
        }
        Opening::Ports(lists)
    }

    /// Who an isolated pod may talk to (egress) or hear from (ingress), before ports:
    /// `None` (everyone) when it is not isolated or a rule names no peer, else the peers
    /// of its rules. A pruning aid: a connection outside this set is denied whatever
    /// the port.
    pub fn reach<'c>(&self, isolation: &Isolation<'c>) -> Option<Vec<&'c PeerRule>> {
        let mut peers = Vec::new();
        for rule in isolation.rules.as_ref()? {
            peers.extend(rule.peers.as_ref()?);
        }
        Some(peers)
    }

    /// Whether `peer` selects `other`.
    pub fn peer_matches(&self, peer: &PeerRule, other: Peer) -> bool {
        match &peer.kind {
            PeerKind::Block { cidr, except } => {
                let Some(cidr) = cidr else { return false };
                match other {
                    Peer::Address(ip) => {
                        cidr.contains(ip) && !except.iter().any(|e| e.contains(ip))
                    }
                    Peer::Pod(_) => cidr.is_everything() && except.is_empty(),
                }
            }
            PeerKind::Pods {
                namespaces,
                own_namespace,
                pods,
            } => {
                let Peer::Pod(pod) = other else {
                    return false;
                };
                let namespace_ok = match namespaces {
                    Some(selector) => selector.matches(|k| self.namespace_label(&pod.namespace, k)),
                    None => *own_namespace == pod.namespace,
                };
                namespace_ok && pods.as_ref().is_none_or(|s| s.matches_pod(pod))
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
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
    use crate::value::json;

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
