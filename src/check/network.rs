//! `[network]` and every `"CIDR:port"` list (`egress` of an app, `[network] api`):
//! each entry is parsed, and a malformed one is reported at its own item.

use std::collections::BTreeMap;

use super::{Ctx, names};
use crate::cidr::Destination;
use crate::diag::Diagnostic;
use crate::load::tree::Value;
use crate::model::Network;
use crate::plan::NetworkPlan;

/// Where the API server is reached when `[network] api` is not set: its usual port on
/// any address (policies see the endpoint behind the `kubernetes` Service).
pub const DEFAULT_API: &str = "0.0.0.0/0:6443";
/// Where the nodes' kubelet and node-exporter are reached when `[network] nodes` is not set.
pub const DEFAULT_NODES: [&str; 2] = ["0.0.0.0/0:10250", "0.0.0.0/0:9100"];
pub const DEFAULT_INGRESS_NAMESPACE: &str = "ingress-nginx";

pub(super) fn network(ctx: &mut Ctx, network: &Network) -> NetworkPlan {
    let api = match &network.api {
        Some(list) => destinations(ctx, list, &["network", "api"]),
        None => vec![Destination::parse(DEFAULT_API).expect("the default parses")],
    };
    let nodes = match &network.nodes {
        Some(list) => destinations(ctx, list, &["network", "nodes"]),
        None => DEFAULT_NODES
            .iter()
            .map(|d| Destination::parse(d).expect("the default parses"))
            .collect(),
    };
    let ingress_namespace = network
        .ingress_namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_INGRESS_NAMESPACE.into());
    ctx.rule(
        names::dns1123_label(&ingress_namespace),
        "invalid-name",
        &format!("namespace `{ingress_namespace}`"),
        &["network", "ingress_namespace"],
        "use the ingress controller's namespace, e.g. \"ingress-nginx\"",
    );
    let ingress_pods = network.ingress_pods.clone().unwrap_or_else(|| {
        BTreeMap::from([(
            "app.kubernetes.io/name".to_owned(),
            DEFAULT_INGRESS_NAMESPACE.to_owned(),
        )])
    });
    if ingress_pods.is_empty() {
        let span = ctx.value_span(&["network", "ingress_pods"]);
        ctx.report(
            Diagnostic::error("invalid-value", "`ingress_pods` selects no labels")
                .at(span)
                .help("name the ingress controller's pod labels, e.g. { \"app.kubernetes.io/name\" = \"ingress-nginx\" }"),
        );
    }
    NetworkPlan {
        api,
        nodes,
        ingress_namespace,
        ingress_pods,
    }
}

/// Parses a list of `"CIDR:port"` at `path`; each bad item is reported at its own span.
pub(super) fn destinations(ctx: &mut Ctx, list: &[String], path: &[&str]) -> Vec<Destination> {
    let spans: Vec<_> = match ctx.tree.get(path).map(|n| &n.value) {
        Some(Value::Array(items)) => items.iter().map(|i| Some(i.span)).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, text) in list.iter().enumerate() {
        match Destination::parse(text) {
            Ok(d) => out.push(d),
            Err(reason) => {
                let span = spans
                    .get(i)
                    .copied()
                    .flatten()
                    .or_else(|| ctx.value_span(path));
                ctx.report(
                    Diagnostic::error("invalid-destination", format!("`{text}`: {reason}"))
                        .at(span)
                        .label("expected \"CIDR:port\"")
                        .help("write an address block and a port, e.g. \"0.0.0.0/0:443\" (anywhere, HTTPS) or \"10.0.12.0/24:5432\""),
                );
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
