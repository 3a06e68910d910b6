//! What the templates in `modules/monitoring/` see: a typed, serializable view of the
//! Plan. Documented in the README; a variable not in here is a template error.

use serde::Serialize;

use crate::plan::{MetricsEndpoint, MonitoringMode, MonitoringPlan, Plan};

#[derive(Clone, Debug, Serialize)]
pub struct View<'a> {
    pub env: &'a str,
    pub stack: &'a str,
    pub domain: &'a str,
    pub monitoring: &'a MonitoringPlan,
    /// "standalone" or "operator".
    pub mode: &'static str,
    /// Every component's metrics endpoints, sorted.
    pub targets: Vec<MetricsEndpoint>,
    /// Every component: kind, name, namespace.
    pub components: Vec<ComponentView>,
    /// Namespaces of the components, sorted.
    pub namespaces: Vec<String>,
    /// Grafana's datasources: one entry per backend.
    pub datasources: Vec<Datasource>,
    pub urls: Urls,
    /// Rule file names (as mounted beside prometheus.yml in standalone mode).
    pub rule_files: Vec<String>,
    /// Where Alertmanager finds its secret files.
    pub secrets_dir: &'static str,
    /// The component a per-component dashboard is rendered for (`none` elsewhere).
    pub component: Option<MetricsEndpoint>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ComponentView {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Datasource {
    pub name: String,
    /// Grafana plugin id: prometheus, loki, influxdb, ...
    #[serde(rename = "type")]
    pub type_: String,
    pub uid: String,
    pub url: String,
    pub default: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Urls {
    pub prometheus: String,
    pub alertmanager: String,
    pub loki: String,
}

/// Directory of the mounted receiver secrets in the Alertmanager pod.
pub const SECRETS_DIR: &str = "/etc/alertmanager/secrets";

/// Service name of Prometheus in each mode (operator: the chart's, `fullnameOverride`).
pub fn prometheus_service(m: &MonitoringPlan) -> &'static str {
    match m.mode {
        MonitoringMode::Standalone { .. } => "prometheus",
        MonitoringMode::Operator { .. } => "kps-prometheus",
    }
}

pub fn view<'a>(plan: &'a Plan, m: &'a MonitoringPlan, rule_files: Vec<String>) -> View<'a> {
    let svc =
        |name: &str, port: u16| format!("http://{}:{port}", crate::check::fqdn(name, &m.namespace));
    let urls = Urls {
        prometheus: svc(prometheus_service(m), 9090),
        alertmanager: svc("alertmanager", 9093),
        loki: svc("loki", 3100),
    };
    let mut targets: Vec<MetricsEndpoint> = plan
        .components
        .iter()
        .flat_map(|c| c.metrics(&plan.stack.name))
        .collect();
    targets.sort();
    View {
        env: &plan.env,
        stack: &plan.stack.name,
        domain: &plan.stack.domain,
        monitoring: m,
        mode: match m.mode {
            MonitoringMode::Standalone { .. } => "standalone",
            MonitoringMode::Operator { .. } => "operator",
        },
        targets,
        components: plan
            .components
            .iter()
            .map(|c| ComponentView {
                kind: c.kind(),
                name: c.name().to_owned(),
                namespace: c.namespace().to_owned(),
            })
            .collect(),
        namespaces: plan
            .components
            .iter()
            .map(|c| c.namespace().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        datasources: datasources(plan, &urls),
        urls,
        rule_files,
        secrets_dir: SECRETS_DIR,
        component: None,
    }
}

/// Prometheus and Loki, plus one per component that is a datasource (InfluxDB when that
/// kind is in the stack: add its arm here).
fn datasources(plan: &Plan, urls: &Urls) -> Vec<Datasource> {
    #[allow(unused_mut)]
    let mut out = vec![
        Datasource {
            name: "Prometheus".into(),
            type_: "prometheus".into(),
            uid: "prometheus".into(),
            url: urls.prometheus.clone(),
            default: true,
        },
        Datasource {
            name: "Loki".into(),
            type_: "loki".into(),
            uid: "loki".into(),
            url: urls.loki.clone(),
            default: false,
        },
    ];
    for component in &plan.components {
        #[allow(clippy::match_single_binding)]
        match component {
            // Component::InfluxDb(i) => out.push(Datasource { type_: "influxdb", url: https when TLS, ... }),
            _ => {}
        }
    }
    out
}
