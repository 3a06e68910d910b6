//! `[monitoring]` → the monitoring layer: Prometheus (standalone: a StatefulSet with
//! discovery RBAC and a generated scrape config; operator: PodMonitors and
//! PrometheusRules for a pinned kube-prometheus-stack HelmRelease), Alertmanager,
//! Grafana, Loki and Promtail. Every non-Kubernetes payload is rendered here from the
//! templates in `modules/monitoring/` (see `templates.rs`, `view.rs`).

mod operator;
mod servers;
mod standalone;
mod templates;
mod view;
mod workload;

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::load::modules::Modules;
use crate::object::{Layer, Object};
use crate::plan::{MonitoringMode, MonitoringPlan, Plan};
use templates::Templates;

pub use view::{View, view};

/// The component name monitoring objects point at in diagnostics (`[monitoring]`).
const COMPONENT: &str = "monitoring";

/// Template files every monitoring stack needs (relative to `modules/`).
const PROMETHEUS: &str = "monitoring/prometheus.yml.j2";
const ALERTMANAGER: &str = "monitoring/alertmanager.yml.j2";
const LOKI: &str = "monitoring/loki.yaml.j2";
const PROMTAIL: &str = "monitoring/promtail.yaml.j2";
const DATASOURCES: &str = "monitoring/grafana-datasources.yaml.j2";
const DASHBOARD_PROVIDERS: &str = "monitoring/grafana-dashboards.yaml.j2";
const COMPONENT_DASHBOARD: &str = "monitoring/component-dashboard.json.j2";

/// Every rendered payload of one environment, by file name.
pub struct Payloads {
    /// `prometheus.yml` (standalone only).
    pub prometheus: Option<String>,
    /// Rule files: name → YAML text, and the parsed rule groups.
    pub rules: BTreeMap<String, (String, serde_json::Value)>,
    pub alertmanager: String,
    pub loki: String,
    pub promtail: String,
    pub datasources: String,
    pub dashboard_providers: String,
    /// Grafana dashboards: file name → JSON text.
    pub dashboards: BTreeMap<String, String>,
}

pub(crate) fn object<T: serde::Serialize>(layer: Layer, resource: &T) -> Object {
    Object::new(layer, Some(COMPONENT.to_owned()), resource)
}

/// Every monitoring object, or the template errors.
pub fn build(
    plan: &Plan,
    m: &MonitoringPlan,
    modules: &Modules,
) -> Result<Vec<Object>, Vec<Diagnostic>> {
    let payloads = render(plan, m, modules)?;
    let mut out = Vec::new();
    if let Some(provider) = &plan.secrets {
        out.extend(super::secrets::build(
            provider,
            &m.credentials,
            Layer::Monitoring,
            COMPONENT,
            &plan.stack.name,
        ));
    }
    match &m.mode {
        MonitoringMode::Standalone => out.extend(standalone::build(plan, m, &payloads)),
        MonitoringMode::Operator { chart_version } => {
            out.extend(operator::build(plan, m, &payloads, chart_version));
        }
    }
    out.extend(servers::build(plan, m, &payloads));
    Ok(out)
}

/// Renders every template; all errors at once.
pub fn render(
    plan: &Plan,
    m: &MonitoringPlan,
    modules: &Modules,
) -> Result<Payloads, Vec<Diagnostic>> {
    let t = Templates::new(modules)?;
    let mut diags = Vec::new();
    let rule_sources: Vec<(&String, String)> = modules
        .in_dir("monitoring/rules")
        .filter(|(name, _)| {
            [".yaml", ".yml", ".yaml.j2", ".yml.j2"]
                .iter()
                .any(|e| name.ends_with(e))
        })
        .map(|(name, _)| (name, output_name(name)))
        .collect();
    let rule_files: Vec<String> = rule_sources.iter().map(|(_, out)| out.clone()).collect();
    let ctx = view(plan, m, rule_files);
    let mut one = |name: &str, parse: Format| -> String {
        if !t.has(name) {
            diags.push(missing(name));
            return String::new();
        }
        match t
            .render(name, &ctx)
            .and_then(|text| check_output(&t, modules, name, &text, parse).map(|_| text))
        {
            Ok(text) => text,
            Err(d) => {
                diags.push(*d);
                String::new()
            }
        }
    };
    let prometheus =
        matches!(m.mode, MonitoringMode::Standalone).then(|| one(PROMETHEUS, Format::Yaml));
    let alertmanager = one(ALERTMANAGER, Format::Yaml);
    let loki = one(LOKI, Format::Yaml);
    let promtail = one(PROMTAIL, Format::Yaml);
    let datasources = one(DATASOURCES, Format::Yaml);
    let dashboard_providers = one(DASHBOARD_PROVIDERS, Format::Yaml);
    let mut rules = BTreeMap::new();
    for (name, out) in &rule_sources {
        match t.render(name, &ctx).and_then(|text| {
            check_output(&t, modules, name, &text, Format::Yaml).map(|v| (text, v))
        }) {
            Ok((text, value)) => {
                rules.insert(out.clone(), (text, value));
            }
            Err(d) => diags.push(*d),
        }
    }
    let mut dashboards = BTreeMap::new();
    let sources: Vec<&String> = modules
        .in_dir("monitoring/dashboards")
        .map(|(name, _)| name)
        .filter(|name| name.ends_with(".json") || name.ends_with(".json.j2"))
        .collect();
    for name in sources {
        let file = output_name(name);
        match t
            .render(name, &ctx)
            .and_then(|text| check_output(&t, modules, name, &text, Format::Json).map(|_| text))
        {
            Ok(text) => {
                dashboards.insert(file, text);
            }
            Err(d) => diags.push(*d),
        }
    }
    if t.has(COMPONENT_DASHBOARD) {
        for target in &ctx.targets {
            let mut one_ctx = ctx.clone();
            one_ctx.component = Some(target.clone());
            let file = format!("component-{}-{}.json", target.kind, target.name);
            match t.render(COMPONENT_DASHBOARD, &one_ctx).and_then(|text| {
                check_output(&t, modules, COMPONENT_DASHBOARD, &text, Format::Json).map(|_| text)
            }) {
                Ok(text) => {
                    dashboards.insert(file, text);
                }
                Err(d) => diags.push(*d),
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Payloads {
        prometheus,
        rules,
        alertmanager,
        loki,
        promtail,
        datasources,
        dashboard_providers,
        dashboards,
    })
}

#[derive(Clone, Copy)]
enum Format {
    Yaml,
    Json,
}

/// A template's output must parse as what it claims to be.
fn check_output(
    t: &Templates,
    modules: &Modules,
    name: &str,
    text: &str,
    format: Format,
) -> Result<serde_json::Value, Box<Diagnostic>> {
    let _ = t;
    let parsed = match format {
        Format::Yaml => {
            serde_saphyr::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
        }
        Format::Json => serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string()),
    };
    parsed.map_err(|reason| -> Box<Diagnostic> {
        let what = match format {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        };
        let diag = Diagnostic::error(
            "template-output",
            format!("template `{name}` does not render to valid {what}"),
        )
        .label(reason.lines().next().unwrap_or_default().to_owned())
        .help(format!(
            "fix the template so that its output is {what} (values are written as JSON literals)"
        ));
        Box::new(match modules.files.get(name) {
            Some(file) => diag.at(Some(crate::diag::Span {
                file: file.file,
                start: 0,
                end: 0,
            })),
            None => diag.in_file(format!("modules/{name}")),
        })
    })
}

fn missing(name: &str) -> Diagnostic {
    Diagnostic::error("missing-template", format!("modules/{name} does not exist"))
        .in_file(format!("modules/{name}"))
        .help("[monitoring] renders its payloads from modules/monitoring/: copy the directory from stackc's reference stack")
}

/// `rules/alerts.yaml.j2` → `alerts.yaml`.
fn output_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.strip_suffix(".j2").unwrap_or(base).to_owned()
}
