//! NetworkPolicies from the dependency graph (infra layer): in every namespace of the
//! stack a `default-deny` of both directions and an `allow-dns` to kube-dns; then, for
//! each edge of `crate::graph`, exactly one pair: `egress-<from>-to-<to>` at the
//! consumer and `ingress-<from>-to-<to>` at the provider, on exactly the edge's ports.
//! Peers in another namespace are selected by `kubernetes.io/metadata.name` and pod
//! labels; addresses outside the cluster by `ipBlock`.
//!
//! Egress rules name ports by number (the consumer cannot know the provider's port
//! names); ingress rules by the provider's own container port names, so a renumbered
//! port keeps its policy.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::cidr::Cidr;
use crate::graph::{self, Edge, Endpoint};
use crate::object::{Layer, Object};
use crate::plan::Plan;

/// The label every namespace carries with its own name (set by the API server).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The NetworkPolicies of `plan`, whose dependency graph has these `edges`.
pub fn build(plan: &Plan, edges: &[Edge]) -> Vec<Object> {
    let labels = BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_owned(),
            "stackc".to_owned(),
        ),
        (
            "app.kubernetes.io/part-of".to_owned(),
            plan.stack.name.clone(),
        ),
    ]);
    let meta = |name: &str, namespace: &str| ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    };
    let mut out = Vec::new();
    for ns in &plan.namespaces {
        out.push(Object::new(
            Layer::Infra,
            None,
            &default_deny(meta("default-deny", ns)),
        ));
        out.push(Object::new(Layer::Infra, None, &dns(meta("allow-dns", ns))));
    }
    for edge in edges {
        if let Endpoint::Workload(from) = &edge.from {
            let policy = egress(meta(&edge.policy_name("egress"), &from.namespace), edge);
            out.push(Object::new(
                Layer::Infra,
                Some(from.component.clone()),
                &policy,
            ));
        }
        if let Endpoint::Workload(to) = &edge.to {
            let policy = ingress(meta(&edge.policy_name("ingress"), &to.namespace), edge);
            out.push(Object::new(
                Layer::Infra,
                Some(to.component.clone()),
                &policy,
            ));
        }
    }
    out
}

fn selector(labels: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels.clone()),
        ..LabelSelector::default()
    }
}

fn every_pod() -> LabelSelector {
    LabelSelector::default()
}

fn port(protocol: &str, port: IntOrString) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some(protocol.to_owned()),
        port: Some(port),
        end_port: None,
    }
}

/// Selects the endpoint's pods from a policy in namespace `here`.
fn pod_peer(here: &str, namespace: &str, labels: &BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: (namespace != here).then(|| {
            selector(&BTreeMap::from([(
                NAMESPACE_NAME_LABEL.to_owned(),
                namespace.to_owned(),
            )]))
        }),
        pod_selector: Some(selector(labels)),
        ip_block: None,
    }
}

/// An `ipBlock` peer for each block of [`crate::graph::anywhere`].
fn everywhere() -> Vec<NetworkPolicyPeer> {
    crate::graph::anywhere().iter().map(ip_peer).collect()
}

fn ip_peer(cidr: &Cidr) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: cidr.to_string(),
            except: None,
        }),
        ..NetworkPolicyPeer::default()
    }
}

fn spec(pods: LabelSelector, direction: &str) -> NetworkPolicySpec {
    NetworkPolicySpec {
        pod_selector: Some(pods),
        policy_types: Some(vec![direction.to_owned()]),
        ..NetworkPolicySpec::default()
    }
}

/// Selects every pod of the namespace for both directions and allows nothing.
fn default_deny(metadata: ObjectMeta) -> NetworkPolicy {
    NetworkPolicy {
        metadata,
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(every_pod()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..NetworkPolicySpec::default()
        }),
    }
}

/// Every pod may resolve names through kube-dns.
fn dns(metadata: ObjectMeta) -> NetworkPolicy {
    let here = metadata.namespace.clone().unwrap_or_default();
    let (key, value) = graph::DNS_LABEL;
    let dns_port = IntOrString::Int(i32::from(graph::DNS_PORT));
    let mut spec = spec(every_pod(), "Egress");
    spec.egress = Some(vec![NetworkPolicyEgressRule {
        to: Some(vec![pod_peer(
            &here,
            graph::DNS_NAMESPACE,
            &BTreeMap::from([(key.to_owned(), value.to_owned())]),
        )]),
        ports: Some(vec![port("UDP", dns_port.clone()), port("TCP", dns_port)]),
    }]);
    NetworkPolicy {
        metadata,
        spec: Some(spec),
    }
}

/// The consumer's half of an edge.
fn egress(metadata: ObjectMeta, edge: &Edge) -> NetworkPolicy {
    let here = metadata.namespace.clone().unwrap_or_default();
    let from = edge.from.workload().expect("egress is built at workloads");
    let numbered = || {
        edge.ports
            .iter()
            .map(|p| port(p.protocol, IntOrString::Int(i32::from(p.port))))
            .collect()
    };
    let rules = match &edge.to {
        Endpoint::Workload(to) => vec![NetworkPolicyEgressRule {
            to: Some(vec![pod_peer(&here, &to.namespace, &to.selector)]),
            ports: Some(numbered()),
        }],
        Endpoint::Pods {
            namespace,
            selector,
            ..
        } => vec![NetworkPolicyEgressRule {
            to: Some(vec![pod_peer(&here, namespace, selector)]),
            ports: Some(numbered()),
        }],
        Endpoint::Addresses { destinations, .. } => destinations
            .iter()
            .map(|d| NetworkPolicyEgressRule {
                to: Some(vec![ip_peer(&d.cidr)]),
                ports: Some(vec![port("TCP", IntOrString::Int(i32::from(d.port)))]),
            })
            .collect(),
    };
    let mut spec = spec(selector(&from.selector), "Egress");
    spec.egress = Some(rules);
    NetworkPolicy {
        metadata,
        spec: Some(spec),
    }
}

/// The provider's half of an edge.
fn ingress(metadata: ObjectMeta, edge: &Edge) -> NetworkPolicy {
    let here = metadata.namespace.clone().unwrap_or_default();
    let to = edge.to.workload().expect("ingress is built at workloads");
    let peers = match &edge.from {
        Endpoint::Workload(from) => vec![pod_peer(&here, &from.namespace, &from.selector)],
        Endpoint::Pods {
            namespace,
            selector,
            ..
        } => vec![pod_peer(&here, namespace, selector)],
        Endpoint::Addresses { .. } => everywhere(),
    };
    let mut spec = spec(selector(&to.selector), "Ingress");
    spec.ingress = Some(vec![NetworkPolicyIngressRule {
        from: Some(peers),
        ports: Some(
            edge.ports
                .iter()
                .map(|p| port(p.protocol, IntOrString::String(p.name.clone())))
                .collect(),
        ),
    }]);
    NetworkPolicy {
        metadata,
        spec: Some(spec),
    }
}
