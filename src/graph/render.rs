//! `stackc graph`: the dependency graph as Mermaid (GitHub renders it) or Graphviz DOT.
//! Workloads are grouped by namespace; every allowed edge carries its ports, why it
//! exists, and 🔒 when every port speaks TLS. Deterministic: the edges are sorted.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Edge, Endpoint, Graph};

/// Node id: the name with anything but letters and digits replaced.
fn id(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `http 8080 · uses`, `🔒 kafka 9093 · uses`, `0.0.0.0/0:443 · internet`.
fn label(edge: &Edge) -> String {
    let ports: Vec<String> = match &edge.to {
        Endpoint::Addresses { destinations, .. } if !destinations.is_empty() => {
            destinations.iter().map(ToString::to_string).collect()
        }
        _ => edge
            .ports
            .iter()
            .map(|p| {
                let udp = if p.protocol == "TCP" { "" } else { "/udp" };
                format!("{} {}{udp}", p.name, p.port)
            })
            .collect(),
    };
    let lock = if edge.tls() { "🔒 " } else { "" };
    format!("{lock}{} · {}", ports.join(", "), edge.why.as_str())
}

/// Nodes by namespace (`None`: outside the cluster), each once.
fn nodes(graph: &Graph) -> BTreeMap<Option<String>, Vec<String>> {
    let mut out: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    let mut add = |namespace: Option<&str>, name: &str| {
        let names = out.entry(namespace.map(str::to_owned)).or_default();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    };
    for w in &graph.workloads {
        add(Some(&w.namespace), &w.name);
    }
    for edge in &graph.edges {
        for end in [&edge.from, &edge.to] {
            add(end.namespace(), end.name());
        }
    }
    out
}

const DNS_NOTE: &str = "every pod may also query kube-dns (kube-system) on port 53, UDP and TCP";

/// A Mermaid flowchart.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(out, "  %% {DNS_NOTE}");
    for (namespace, names) in nodes(graph) {
        match namespace {
            Some(ns) => {
                let _ = writeln!(out, "  subgraph ns_{}[\"namespace {ns}\"]", id(&ns));
                for name in names {
                    let _ = writeln!(out, "    {}[\"{name}\"]", id(&name));
                }
                out.push_str("  end\n");
            }
            None => {
                for name in names {
                    let _ = writeln!(out, "  {}((\"{name}\"))", id(&name));
                }
            }
        }
    }
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "  {} -->|\"{}\"| {}",
            id(edge.from.name()),
            label(edge),
            id(edge.to.name())
        );
    }
    out
}

/// A Graphviz digraph (`stackc graph --format dot | dot -Tsvg`).
pub fn dot(graph: &Graph, title: &str) -> String {
    let mut out = format!("digraph \"{title}\" {{\n  rankdir=LR;\n  node [shape=box];\n");
    let _ = writeln!(out, "  // {DNS_NOTE}");
    for (namespace, names) in nodes(graph) {
        match namespace {
            Some(ns) => {
                let _ = writeln!(out, "  subgraph \"cluster_{ns}\" {{");
                let _ = writeln!(out, "    label=\"namespace {ns}\";");
                for name in names {
                    let _ = writeln!(out, "    \"{name}\";");
                }
                out.push_str("  }\n");
            }
            None => {
                for name in names {
                    let _ = writeln!(out, "  \"{name}\" [shape=ellipse];");
                }
            }
        }
    }
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\"];",
            edge.from.name(),
            edge.to.name(),
            label(edge)
        );
    }
    out.push_str("}\n");
    out
}
