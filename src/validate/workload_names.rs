//! Workloads named alike. The dependency graph names each workload by its name alone:
//! its NetworkPolicies (`egress-<from>-to-<to>`), their proof and `stackc graph` all rely
//! on a workload's name being unique in the stack, and on no workload taking the name of
//! one of the graph's outside ends (`internet`, ...). A component named like a workload
//! stackc makes itself (an app `loki` beside [monitoring]'s Loki, in another namespace)
//! breaks that without any object colliding.

use crate::graph::{API, Graph, INGRESS_CONTROLLER, INTERNET, Workload};

/// Names the graph gives to ends outside the stack's pods.
const OUTSIDE: [&str; 3] = [INTERNET, API, INGRESS_CONTROLLER];

/// A workload whose name is taken: by an earlier workload, or by an outside end.
#[derive(Debug)]
pub struct Clash<'g> {
    /// The workload to rename.
    pub again: &'g Workload,
    /// The workload that has the name first; `None` for an outside end.
    pub first: Option<&'g Workload>,
}

/// Every clash among the graph's workloads. Of two, the one to rename is a component's
/// rather than [monitoring]'s (whose workloads have fixed names), else the later in
/// `graph.workloads` (component order).
pub fn clashes(graph: &Graph) -> Vec<Clash<'_>> {
    let mut out = Vec::new();
    for (k, workload) in graph.workloads.iter().enumerate() {
        if OUTSIDE.contains(&workload.name.as_str()) {
            out.push(Clash {
                again: workload,
                first: None,
            });
            continue;
        }
        let earlier = graph.workloads[..k]
            .iter()
            .find(|w| w.name == workload.name && w.component != workload.component);
        if let Some(earlier) = earlier {
            let (first, again) =
                if earlier.component == "monitoring" || workload.component != "monitoring" {
                    (earlier, workload)
                } else {
                    (workload, earlier)
                };
            out.push(Clash {
                again,
                first: Some(first),
            });
        }
    }
    out
}

impl Clash<'_> {
    /// What is wrong, said from the side of the workload to rename.
    pub fn message(&self) -> String {
        let again = self.again;
        let who = super::duplicates::describe(Some(&again.component));
        match self.first {
            None => format!(
                "{who} runs a workload named `{}`, the name the dependency graph gives to {}",
                again.name,
                outside(&again.name)
            ),
            Some(first) => format!(
                "{who} runs a workload named `{}` (in {}), as {} does (in {}): the dependency graph, its NetworkPolicies and `stackc graph` know a workload by its name",
                again.name,
                again.namespace,
                super::duplicates::describe(Some(&first.component)),
                first.namespace
            ),
        }
    }

    /// How to resolve it.
    pub fn help(&self) -> String {
        format!(
            "rename {}: workload names are unique in the stack, stackc's own included (with [monitoring]: prometheus, alertmanager, grafana, loki, promtail, kube-state-metrics)",
            super::duplicates::describe(Some(&self.again.component))
        )
    }
}

/// What an outside end's name stands for.
fn outside(name: &str) -> &'static str {
    match name {
        INTERNET => "addresses outside the cluster",
        API => "the Kubernetes API server",
        _ => "the ingress controller's pods",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(component: &str, name: &str, namespace: &str) -> Workload {
        Workload {
            component: component.into(),
            name: name.into(),
            namespace: namespace.into(),
            selector: Default::default(),
            ports: Vec::new(),
        }
    }

    #[test]
    fn a_component_named_like_monitorings_workload_is_the_one_to_rename() {
        let graph = Graph {
            workloads: vec![
                workload("app.loki", "loki", "conveyor-pipeline"),
                workload("app.producer", "producer", "conveyor-pipeline"),
                workload("monitoring", "loki", "monitoring"),
            ],
            edges: Vec::new(),
        };
        let found = clashes(&graph);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].again.component, "app.loki");
        assert_eq!(
            found[0].first.map(|w| w.component.as_str()),
            Some("monitoring")
        );
        assert!(
            found[0]
                .message()
                .contains("as [monitoring] does (in monitoring)")
        );
    }

    #[test]
    fn outside_names_are_taken() {
        let graph = Graph {
            workloads: vec![
                workload("app.internet", "internet", "a"),
                workload("postgres.db", "db", "a"),
                workload("app.x", "x", "a"),
            ],
            edges: Vec::new(),
        };
        let found = clashes(&graph);
        assert_eq!(found.len(), 1);
        assert!(found[0].first.is_none());
        assert!(found[0].message().contains("addresses outside the cluster"));
    }
}
