//! The monitoring stack in the dependency graph: its workloads (what stackc renders,
//! and in `operator` mode the kube-prometheus-stack chart's pods) and every connection
//! they make: Prometheus scraping each component's metrics endpoint
//! (`Component::metrics`) and the monitoring servers, alerts to Alertmanager, Grafana
//! querying its datasources, Promtail shipping logs to Loki, discovery through the
//! Kubernetes API, and Alertmanager's receivers outside the cluster.

use std::collections::BTreeMap;

use super::{API, Edge, Endpoint, INTERNET, ServedPort, Why, Workload};
use crate::cidr::Destination;
use crate::plan::{MonitoringMode, MonitoringPlan, Plan};

/// `Workload::component` of every monitoring workload (and of their policies).
const COMPONENT: &str = "monitoring";
/// Release name of kube-prometheus-stack (the chart labels its pods with it).
const RELEASE: &str = "kube-prometheus-stack";
/// Where the nodes are scraped in operator mode: Prometheus reaches them directly.
const NODES: &str = "nodes";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The monitoring workloads, by role.
struct Pods {
    prometheus: Workload,
    alertmanager: Workload,
    grafana: Workload,
    loki: Workload,
    promtail: Workload,
    kube_state_metrics: Workload,
    /// The Prometheus Operator (operator mode only).
    operator: Option<Workload>,
}

impl Pods {
    fn new(stack: &str, m: &MonitoringPlan) -> Pods {
        let ours = |name: &str, namespace: &str, port: ServedPort| Workload {
            component: COMPONENT.into(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            selector: crate::build::labels::selector(stack, name),
            ports: vec![port],
        };
        let chart = |name: &str, selector, ports| Workload {
            component: COMPONENT.into(),
            name: name.to_owned(),
            namespace: m.namespace.clone(),
            selector,
            ports,
        };
        let ns = m.namespace.as_str();
        let standalone = matches!(m.mode, MonitoringMode::Standalone { .. });
        let (prometheus, kube_state_metrics, operator) = if standalone {
            (
                ours("prometheus", ns, ServedPort::tcp("http", 9090)),
                ours("kube-state-metrics", ns, ServedPort::tcp("http", 8080)),
                None,
            )
        } else {
            // Pods the chart and its operator create, with the labels they set.
            (
                chart(
                    "prometheus",
                    labels(&[
                        ("app.kubernetes.io/name", "prometheus"),
                        ("operator.prometheus.io/name", "kps-prometheus"),
                    ]),
                    vec![
                        ServedPort::tcp("web", 9090),
                        ServedPort::tcp("reloader-web", 8080),
                    ],
                ),
                chart(
                    "kube-state-metrics",
                    labels(&[
                        ("app.kubernetes.io/instance", RELEASE),
                        ("app.kubernetes.io/name", "kube-state-metrics"),
                    ]),
                    vec![ServedPort::tcp("http", 8080)],
                ),
                Some(chart(
                    "prometheus-operator",
                    labels(&[
                        ("app", "kube-prometheus-stack-operator"),
                        ("release", RELEASE),
                    ]),
                    vec![ServedPort::tcp("http", 8080)],
                )),
            )
        };
        Pods {
            prometheus,
            alertmanager: ours("alertmanager", ns, ServedPort::tcp("http", 9093)),
            grafana: ours("grafana", ns, ServedPort::tcp("http", 3000)),
            loki: ours("loki", ns, ServedPort::tcp("http", 3100)),
            promtail: ours(
                "promtail",
                &m.log_namespace,
                ServedPort::tcp("http-metrics", 9080),
            ),
            kube_state_metrics,
            operator,
        }
    }

    fn all(self) -> Vec<Workload> {
        let mut out = vec![
            self.prometheus,
            self.alertmanager,
            self.grafana,
            self.loki,
            self.promtail,
            self.kube_state_metrics,
        ];
        out.extend(self.operator);
        out
    }
}

/// The monitoring workloads of a plan (none without `[monitoring]`).
pub fn workloads(plan: &Plan) -> Vec<Workload> {
    match &plan.monitoring {
        Some(m) => Pods::new(&plan.stack.name, m).all(),
        None => Vec::new(),
    }
}

fn between(from: &Workload, to: &Workload, ports: Vec<ServedPort>, why: Why) -> Edge {
    Edge {
        from: Endpoint::Workload(from.clone()),
        to: Endpoint::Workload(to.clone()),
        ports,
        why,
    }
}

fn outside(from: &Workload, name: &str, destinations: Vec<Destination>, why: Why) -> Edge {
    Edge {
        from: Endpoint::Workload(from.clone()),
        to: Endpoint::Addresses {
            name: name.to_owned(),
            destinations,
        },
        ports: Vec::new(),
        why,
    }
}

/// Every connection of the monitoring stack. `stack_workloads` are the components'
/// workloads, which metrics endpoints are matched to by namespace and selector.
pub fn edges(plan: &Plan, stack_workloads: &[Workload]) -> Vec<Edge> {
    let Some(m) = &plan.monitoring else {
        return Vec::new();
    };
    let pods = Pods::new(&plan.stack.name, m);
    let prometheus = &pods.prometheus;
    let http = |w: &Workload| w.ports.clone();
    let mut out = Vec::new();
    // Scrapes of the components: the workload the endpoint's selector names, on its port.
    for endpoint in plan
        .components
        .iter()
        .flat_map(|c| c.metrics(&plan.stack.name))
    {
        let target = stack_workloads
            .iter()
            .find(|w| w.namespace == endpoint.namespace && w.selector == endpoint.selector);
        if let Some(target) = target {
            let port = target
                .ports
                .iter()
                .find(|p| p.name == endpoint.port_name)
                .cloned()
                .unwrap_or_else(|| ServedPort::tcp(&endpoint.port_name, endpoint.port));
            out.push(between(prometheus, target, vec![port], Why::Scrape));
        }
    }
    // Alerts (the same port Prometheus scrapes Alertmanager on).
    out.push(between(
        prometheus,
        &pods.alertmanager,
        http(&pods.alertmanager),
        Why::Alerts,
    ));
    out.push(between(
        prometheus,
        &pods.kube_state_metrics,
        http(&pods.kube_state_metrics),
        Why::Scrape,
    ));
    match &pods.operator {
        None => {
            // prometheus.yml scrapes the monitoring servers themselves; the kubelet and
            // cAdvisor through the API server's node proxy.
            for server in [&pods.grafana, &pods.loki] {
                out.push(between(prometheus, server, http(server), Why::Scrape));
            }
        }
        Some(operator) => {
            // The chart's ServiceMonitors: Prometheus itself, the operator, the nodes'
            // kubelet and node-exporter (host network) at their addresses.
            out.push(between(
                prometheus,
                prometheus,
                http(prometheus),
                Why::Scrape,
            ));
            out.push(between(prometheus, operator, http(operator), Why::Scrape));
            out.push(outside(
                prometheus,
                NODES,
                plan.network.nodes.clone(),
                Why::Scrape,
            ));
            out.push(outside(operator, API, plan.network.api.clone(), Why::Api));
        }
    }
    for client in [prometheus, &pods.promtail, &pods.kube_state_metrics] {
        out.push(outside(client, API, plan.network.api.clone(), Why::Api));
    }
    out.push(between(
        &pods.grafana,
        prometheus,
        vec![prometheus.ports[0].clone()],
        Why::Query,
    ));
    out.push(between(
        &pods.grafana,
        &pods.loki,
        http(&pods.loki),
        Why::Query,
    ));
    out.push(between(
        &pods.promtail,
        &pods.loki,
        http(&pods.loki),
        Why::Logs,
    ));
    let receivers = receivers(m);
    if !receivers.is_empty() {
        out.push(outside(
            &pods.alertmanager,
            INTERNET,
            receivers,
            Why::Internet,
        ));
    }
    out
}

/// Where Alertmanager's receivers are: Slack's webhook (HTTPS) and the SMTP relay's port,
/// at any address of either family (their addresses are not stable).
fn receivers(m: &MonitoringPlan) -> Vec<Destination> {
    let mut ports = Vec::new();
    if m.alerts.slack.is_some() {
        ports.push(443);
    }
    if let Some(email) = &m.alerts.email {
        // `check` has made sure the smarthost ends in a port.
        if let Some(port) = email
            .smarthost
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
        {
            ports.push(port);
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
        .into_iter()
        .flat_map(|port| super::anywhere().map(|cidr| Destination { cidr, port }))
        .collect()
}
