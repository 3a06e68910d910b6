//! The proof that the rendered NetworkPolicies admit exactly the dependency graph: for
//! every pair of actors (the stack's pods, the ingress controller, kube-dns, addresses
//! outside the cluster) and every port in play, the policies (`netpol`) must admit the
//! connection when an edge of `crate::graph` declares it, and deny it when none does.
//! Runs on every render; a violation names both ends and the port.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use super::netpol::{Cluster, Direction, Isolation, Opening, Peer, Pod, Scope, pod_of};
use crate::graph::{self, Edge, Endpoint, Graph};
use crate::object::Object;

/// One way the policies and the graph disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub help: &'static str,
    /// The component to point at.
    pub component: Option<String>,
}

/// Something that opens or accepts connections.
#[derive(Debug, Clone)]
struct Actor {
    /// For messages: the workload's name, or the object/address.
    name: String,
    /// The graph name it answers to in edges (workloads, external pods).
    graph_name: Option<String>,
    end: End,
    /// A pod of the stack (its policies are ours to prove).
    in_stack: bool,
    component: Option<String>,
}

#[derive(Debug, Clone)]
enum End {
    Pod(Pod),
    Address(IpAddr),
}

impl Actor {
    fn peer(&self) -> Peer<'_> {
        match &self.end {
            End::Pod(pod) => Peer::Pod(pod),
            End::Address(ip) => Peer::Address(*ip),
        }
    }
}

/// How strongly the graph asks for a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    Never,
    /// An edge to or from "anywhere" covers a pod whose address is unknown: allowed or
    /// not, both are right.
    May,
    Must,
}

/// Addresses outside the cluster no edge should name specifically, one per family
/// (TEST-NET-3 and IPv6's documentation prefix): "anywhere" is both.
const SOMEWHERE: [&str; 2] = ["203.0.113.7", "2001:db8::7"];

/// Every disagreement between the rendered policies and the graph.
pub fn prove(objects: &[Object], graph: &Graph) -> Vec<Problem> {
    let cluster = Cluster::new(objects.iter().map(|o| &o.body));
    let actors = actors(objects, graph);
    let ports = ports_in_play(&actors, &graph.edges);
    let edges = EdgesTo::index(&graph.edges);
    let sides = Sides::of(&cluster, &actors);
    let mut denied: BTreeMap<(usize, usize, &'static str), Vec<String>> = BTreeMap::new();
    let mut undeclared: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    // Declared connections must be admitted.
    for (i, j) in declared_pairs(&actors, &graph.edges) {
        let (from, to) = (&actors[i], &actors[j]);
        let egress = sides.opening(&cluster, &actors, Direction::Egress, i, j);
        let ingress = sides.opening(&cluster, &actors, Direction::Ingress, i, j);
        let sources = from_edges(from, &edges.to(to));
        for &(port, protocol) in &ports {
            if expectation(from, to, port, protocol, &sources) != Expect::Must {
                continue;
            }
            let side = if !egress.admits(to.peer(), port, protocol) {
                "egress"
            } else if !ingress.admits(to.peer(), port, protocol) {
                "ingress"
            } else {
                continue;
            };
            denied
                .entry((i, j, side))
                .or_default()
                .push(format!("{port}/{protocol}"));
        }
    }
    // Anything else must be denied. Only pairs each side's rules could admit are
    // evaluated port by port; any other pair is denied whatever the port.
    let reach = Reach::of(&cluster, &actors, &sides);
    for (i, from) in actors.iter().enumerate() {
        for j in reach.candidates(i) {
            let to = &actors[j];
            let ours = from.in_stack || to.in_stack;
            let both_addresses =
                matches!(from.end, End::Address(_)) && matches!(to.end, End::Address(_));
            if !ours || both_addresses || !reach.hears(j, i) {
                continue;
            }
            let egress = sides.opening(&cluster, &actors, Direction::Egress, i, j);
            if egress.is_closed() {
                continue;
            }
            let ingress = sides.opening(&cluster, &actors, Direction::Ingress, i, j);
            if ingress.is_closed() {
                continue;
            }
            let mut sources = None;
            for &(port, protocol) in &ports {
                let allowed = egress.admits(to.peer(), port, protocol)
                    && ingress.admits(to.peer(), port, protocol);
                if !allowed {
                    continue;
                }
                let sources = sources.get_or_insert_with(|| from_edges(from, &edges.to(to)));
                if expectation(from, to, port, protocol, sources) == Expect::Never {
                    undeclared
                        .entry((i, j))
                        .or_default()
                        .push(format!("{port}/{protocol}"));
                }
            }
        }
    }
    let mut problems = Vec::new();
    for ((i, j, side), ports) in denied {
        let (from, to) = (&actors[i], &actors[j]);
        let at = if side == "egress" { from } else { to };
        problems.push(Problem {
            code: "network-edge-denied",
            message: format!(
                "the NetworkPolicies deny {} -> {} on port {}, which the dependency graph declares: no {side} rule at {} admits it",
                from.name, to.name, ports.join(", "), at.name
            ),
            help: "the rendered NetworkPolicies do not follow the graph: a build bug, or a workload whose pod labels or ports differ from what its component declares",
            component: at.component.clone().or_else(|| from.component.clone()).or_else(|| to.component.clone()),
        });
    }
    for ((i, j), ports) in undeclared {
        let (from, to) = (&actors[i], &actors[j]);
        problems.push(Problem {
            code: "network-undeclared-flow",
            message: format!(
                "the NetworkPolicies admit {} -> {} on port {}, but no edge of the dependency graph declares it",
                from.name,
                to.name,
                ports.join(", ")
            ),
            help: "declare the dependency (`uses`, `egress`, ...) or narrow the policy that admits it; `stackc graph` shows the declared edges",
            component: to.component.clone().or_else(|| from.component.clone()),
        });
    }
    problems
}

/// The edges by the graph name of the pods they lead to, and those leading to
/// addresses (which may concern any actor).
struct EdgesTo<'g> {
    by_name: HashMap<&'g str, Vec<&'g Edge>>,
    to_addresses: Vec<&'g Edge>,
}

impl<'g> EdgesTo<'g> {
    fn index(edges: &'g [Edge]) -> EdgesTo<'g> {
        let mut index = EdgesTo {
            by_name: HashMap::new(),
            to_addresses: Vec::new(),
        };
        for edge in edges {
            match &edge.to {
                Endpoint::Workload(w) => index.by_name.entry(&w.name).or_default().push(edge),
                Endpoint::Pods { name, .. } => index.by_name.entry(name).or_default().push(edge),
                Endpoint::Addresses { .. } => index.to_addresses.push(edge),
            }
        }
        index
    }

    /// The edges that may end at `to`.
    fn to(&self, to: &Actor) -> Vec<&'g Edge> {
        let named = to
            .graph_name
            .as_deref()
            .and_then(|name| self.by_name.get(name))
            .map_or(&[][..], Vec::as_slice);
        named.iter().chain(&self.to_addresses).copied().collect()
    }
}

/// Per actor, the policy rules binding it in each direction (addresses: none).
struct Sides<'c> {
    egress: Vec<Isolation<'c>>,
    ingress: Vec<Isolation<'c>>,
}

impl<'c> Sides<'c> {
    fn of(cluster: &'c Cluster, actors: &[Actor]) -> Sides<'c> {
        let side = |direction: Direction| {
            actors
                .iter()
                .map(|a| match &a.end {
                    End::Pod(pod) => cluster.isolation(pod, direction),
                    End::Address(_) => Isolation::none(),
                })
                .collect()
        };
        Sides {
            egress: side(Direction::Egress),
            ingress: side(Direction::Ingress),
        }
    }

    fn get(&self, direction: Direction, k: usize) -> &Isolation<'c> {
        match direction {
            Direction::Egress => &self.egress[k],
            Direction::Ingress => &self.ingress[k],
        }
    }

    /// What the `direction` side lets through from actor `i` to actor `j`.
    fn opening(
        &self,
        cluster: &Cluster,
        actors: &[Actor],
        direction: Direction,
        i: usize,
        j: usize,
    ) -> Opening<'c> {
        let here = match direction {
            Direction::Egress => i,
            Direction::Ingress => j,
        };
        cluster.opening(
            self.get(direction, here),
            direction,
            actors[i].peer(),
            actors[j].peer(),
        )
    }
}

/// The pairs some edge (or DNS) declares, at the `Must` level for some port.
fn declared_pairs(actors: &[Actor], edges: &[Edge]) -> Vec<(usize, usize)> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut addresses = Vec::new();
    for (k, actor) in actors.iter().enumerate() {
        match (&actor.end, actor.graph_name.as_deref()) {
            (End::Pod(_), Some(name)) => by_name.entry(name).or_default().push(k),
            (End::Pod(_), None) => {}
            (End::Address(_), _) => addresses.push(k),
        }
    }
    let named = |name: &str| by_name.get(name).cloned().unwrap_or_default();
    let matching = |end: &Endpoint| -> Vec<usize> {
        match end {
            Endpoint::Workload(w) => named(&w.name),
            Endpoint::Pods { name, .. } => named(name),
            Endpoint::Addresses { destinations, .. } if destinations.is_empty() => {
                addresses.clone()
            }
            Endpoint::Addresses { destinations, .. } => addresses
                .iter()
                .copied()
                .filter(|&k| match actors[k].end {
                    End::Address(ip) => destinations.iter().any(|d| d.cidr.contains(ip)),
                    End::Pod(_) => false,
                })
                .collect(),
        }
    };
    let mut pairs = Vec::new();
    for edge in edges {
        let tos = matching(&edge.to);
        for i in matching(&edge.from) {
            pairs.extend(tos.iter().map(|&j| (i, j)));
        }
    }
    let dns = named("kube-dns");
    for (i, actor) in actors.iter().enumerate() {
        if actor.in_stack {
            pairs.extend(dns.iter().map(|&j| (i, j)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Per actor, whom its policies could let it reach and hear from (`None`: anyone).
struct Reach {
    out: Vec<Option<BTreeSet<usize>>>,
    heard: Vec<Option<BTreeSet<usize>>>,
    all: Vec<usize>,
}

impl Reach {
    fn of(cluster: &Cluster, actors: &[Actor], sides: &Sides) -> Reach {
        let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, actor) in actors.iter().enumerate() {
            if let End::Pod(pod) = &actor.end {
                by_namespace.entry(&pod.namespace).or_default().push(k);
            }
        }
        let all: Vec<usize> = (0..actors.len()).collect();
        let set = |isolation: &Isolation| -> Option<BTreeSet<usize>> {
            let mut out = BTreeSet::new();
            for peer in cluster.reach(isolation)? {
                let candidates: &[usize] = match peer.scope() {
                    Scope::Anywhere => &all,
                    Scope::Namespace(ns) => by_namespace.get(ns).map_or(&[], Vec::as_slice),
                };
                out.extend(
                    candidates
                        .iter()
                        .copied()
                        .filter(|&k| cluster.peer_matches(peer, actors[k].peer())),
                );
            }
            Some(out)
        };
        Reach {
            out: sides.egress.iter().map(set).collect(),
            heard: sides.ingress.iter().map(set).collect(),
            all,
        }
    }

    /// The actors `i` may be able to reach.
    fn candidates(&self, i: usize) -> Vec<usize> {
        match &self.out[i] {
            Some(set) => set.iter().copied().collect(),
            None => self.all.clone(),
        }
    }

    /// Whether `j` may be able to hear from `i`.
    fn hears(&self, j: usize, i: usize) -> bool {
        self.heard[j].as_ref().is_none_or(|set| set.contains(&i))
    }
}

/// The stack's pods (rendered, or declared by the graph when someone else creates
/// them), the pods outside the stack that edges name, kube-dns, and sample addresses.
fn actors(objects: &[Object], graph: &Graph) -> Vec<Actor> {
    let rendered: Vec<(&Object, Pod)> = objects
        .iter()
        .filter_map(|o| pod_of(&o.body).map(|pod| (o, pod)))
        .collect();
    let mut claimed = vec![false; rendered.len()];
    let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, (_, pod)) in rendered.iter().enumerate() {
        by_namespace.entry(&pod.namespace).or_default().push(k);
    }
    let mut out = Vec::new();
    for w in &graph.workloads {
        let mut found = false;
        for &k in by_namespace.get(w.namespace.as_str()).into_iter().flatten() {
            let (object, pod) = &rendered[k];
            let selects = w
                .selector
                .iter()
                .all(|(key, v)| pod.labels.get(key).and_then(|l| l.as_str()) == Some(v));
            if selects {
                claimed[k] = true;
                found = true;
                out.push(Actor {
                    name: format!("{} ({})", w.name, object.id()),
                    graph_name: Some(w.name.clone()),
                    end: End::Pod(pod.clone()),
                    in_stack: true,
                    component: Some(w.component.clone()),
                });
            }
        }
        if !found {
            out.push(Actor {
                name: w.name.clone(),
                graph_name: Some(w.name.clone()),
                end: End::Pod(Pod {
                    namespace: w.namespace.clone(),
                    labels: w
                        .selector
                        .iter()
                        .map(|(k, v)| (k.clone(), crate::value::Value::String(v.clone())))
                        .collect(),
                    ports: w
                        .ports
                        .iter()
                        .map(|p| (Some(p.name.clone()), p.port, p.protocol.to_owned()))
                        .collect(),
                }),
                in_stack: true,
                component: Some(w.component.clone()),
            });
        }
    }
    for (k, (object, pod)) in rendered.iter().enumerate() {
        if !claimed[k] {
            out.push(Actor {
                name: object.id(),
                graph_name: None,
                end: End::Pod(pod.clone()),
                in_stack: true,
                component: object.component.clone(),
            });
        }
    }
    let mut external: BTreeMap<String, Pod> = BTreeMap::new();
    let (key, value) = graph::DNS_LABEL;
    external.insert(
        "kube-dns".into(),
        Pod {
            namespace: graph::DNS_NAMESPACE.into(),
            labels: [(key.to_owned(), crate::value::Value::String(value.into()))]
                .into_iter()
                .collect(),
            ports: vec![
                (Some("dns".into()), graph::DNS_PORT, "UDP".into()),
                (Some("dns-tcp".into()), graph::DNS_PORT, "TCP".into()),
            ],
        },
    );
    let mut addresses: Vec<IpAddr> = SOMEWHERE
        .iter()
        .map(|ip| ip.parse().expect("an address"))
        .collect();
    for edge in &graph.edges {
        for end in [&edge.from, &edge.to] {
            match end {
                Endpoint::Pods {
                    name,
                    namespace,
                    selector,
                } => {
                    external.entry(name.clone()).or_insert_with(|| Pod {
                        namespace: namespace.clone(),
                        labels: selector
                            .iter()
                            .map(|(k, v)| (k.clone(), crate::value::Value::String(v.clone())))
                            .collect(),
                        ports: Vec::new(),
                    });
                }
                Endpoint::Addresses { destinations, .. } => {
                    addresses.extend(
                        destinations
                            .iter()
                            .filter(|d| !d.cidr.is_everything())
                            .map(|d| d.cidr.first()),
                    );
                }
                Endpoint::Workload(_) => {}
            }
        }
    }
    addresses.sort();
    addresses.dedup();
    for (name, pod) in external {
        out.push(Actor {
            name: format!("{name} (outside the stack)"),
            graph_name: Some(name),
            end: End::Pod(pod),
            in_stack: false,
            component: None,
        });
    }
    for ip in addresses {
        out.push(Actor {
            name: ip.to_string(),
            graph_name: None,
            end: End::Address(ip),
            in_stack: false,
            component: None,
        });
    }
    out
}

/// Every (port, protocol) any actor serves or any edge names, plus DNS, HTTP and HTTPS.
fn ports_in_play(actors: &[Actor], edges: &[Edge]) -> Vec<(u16, &'static str)> {
    let mut numbers: Vec<u16> = vec![graph::DNS_PORT, 80, 443];
    for actor in actors {
        if let End::Pod(pod) = &actor.end {
            numbers.extend(pod.ports.iter().map(|(_, n, _)| *n));
        }
    }
    for edge in edges {
        numbers.extend(edge.ports.iter().map(|p| p.port));
        for end in [&edge.from, &edge.to] {
            if let Endpoint::Addresses { destinations, .. } = end {
                numbers.extend(destinations.iter().map(|d| d.port));
            }
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .into_iter()
        .flat_map(|n| [(n, "TCP"), (n, "UDP")])
        .collect()
}

/// How an endpoint of an edge covers an actor.
fn covers(end: &Endpoint, actor: &Actor) -> Expect {
    match (end, &actor.end) {
        (Endpoint::Workload(w), End::Pod(_)) => {
            if actor.graph_name.as_deref() == Some(w.name.as_str()) {
                Expect::Must
            } else {
                Expect::Never
            }
        }
        (Endpoint::Pods { name, .. }, End::Pod(_)) => {
            if actor.graph_name.as_deref() == Some(name.as_str()) {
                Expect::Must
            } else {
                Expect::Never
            }
        }
        // A source "anywhere": addresses surely, pods perhaps.
        (Endpoint::Addresses { destinations, .. }, _) if destinations.is_empty() => {
            match actor.end {
                End::Address(_) => Expect::Must,
                End::Pod(_) => Expect::May,
            }
        }
        _ => Expect::Never,
    }
}

/// The edges that may end at `to` (`towards`) whose source covers `from`, with how
/// surely: which edges start at `from` does not depend on the port, so each pair finds
/// them once for all ports.
fn from_edges<'e>(from: &Actor, towards: &[&'e Edge]) -> Vec<(&'e Edge, Expect)> {
    towards
        .iter()
        .filter_map(|edge| {
            let source = covers(&edge.from, from);
            (source != Expect::Never).then_some((*edge, source))
        })
        .collect()
}

/// What the graph says about `from` -> `to` on `port`/`protocol`, given the edges that
/// may end at `to` and start at `from` ([`from_edges`]).
fn expectation(
    from: &Actor,
    to: &Actor,
    port: u16,
    protocol: &str,
    sources: &[(&Edge, Expect)],
) -> Expect {
    let dns = to.graph_name.as_deref() == Some("kube-dns")
        && !matches!(to.end, End::Address(_))
        && from.in_stack
        && port == graph::DNS_PORT;
    if dns {
        return Expect::Must;
    }
    let mut best = Expect::Never;
    for &(edge, source) in sources {
        let target = match &edge.to {
            Endpoint::Addresses { destinations, .. } if !destinations.is_empty() => destinations
                .iter()
                .filter(|d| d.port == port && protocol == "TCP")
                .map(|d| match to.end {
                    End::Address(ip) if d.cidr.contains(ip) => Expect::Must,
                    End::Pod(_) if d.cidr.is_everything() => Expect::May,
                    _ => Expect::Never,
                })
                .max()
                .unwrap_or(Expect::Never),
            other => {
                let on_port = edge
                    .ports
                    .iter()
                    .any(|p| p.port == port && p.protocol == protocol);
                if on_port {
                    covers(other, to)
                } else {
                    Expect::Never
                }
            }
        };
        best = best.max(source.min(target));
    }
    best
}
