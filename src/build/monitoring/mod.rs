//! `[monitoring]` → the monitoring layer: Prometheus (standalone: a StatefulSet with
//! discovery RBAC and a generated scrape config; operator: PodMonitors and
//! PrometheusRules for a pinned kube-prometheus-stack HelmRelease), Alertmanager,
//! Grafana, Loki and Promtail. Every non-Kubernetes payload is rendered here from the
//! templates in `modules/monitoring/` (see `templates.rs`, `view.rs`).

mod files;
mod operator;
mod rules;
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

pub use templates::Compiled;
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
pub fn build<'m>(
    plan: &Plan,
    m: &MonitoringPlan,
    modules: &'m Modules,
    templates: &Compiled<'m>,
) -> Result<Vec<Object>, Vec<Diagnostic>> {
    let payloads = render(plan, m, modules, templates)?;
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
        MonitoringMode::Standalone {
            prometheus_image,
            kube_state_metrics_image,
        } => out.extend(standalone::build(
            plan,
            m,
            &payloads,
            (prometheus_image, kube_state_metrics_image),
        )),
        MonitoringMode::Operator { chart_version } => {
            out.extend(operator::build(plan, m, &payloads, chart_version));
        }
    }
    out.extend(servers::build(plan, m, &payloads));
    Ok(out)
}

/// Renders every template, on all cores; all errors at once.
pub fn render<'m>(
    plan: &Plan,
    m: &MonitoringPlan,
    modules: &'m Modules,
    templates: &Compiled<'m>,
) -> Result<Payloads, Vec<Diagnostic>> {
    if let Some(missing) = missing_dir(modules) {
        return Err(vec![missing]);
    }
    let t = templates.get(modules)?;
    let rules = files::payloads(modules, files::RULES);
    let rule_files: Vec<String> = rules.iter().map(|p| p.output.clone()).collect();
    let ctx = view(plan, m, rule_files);
    // Per-component dashboards first: a user's file of the same name is the one to rename.
    let mut dashboards: Vec<files::Payload> = if t.has(COMPONENT_DASHBOARD) {
        ctx.targets
            .iter()
            .map(|target| files::Payload {
                source: COMPONENT_DASHBOARD,
                output: format!("component-{}-{}.json", target.kind, target.name),
            })
            .collect()
    } else {
        Vec::new()
    };
    dashboards.extend(files::payloads(modules, files::DASHBOARDS));
    let mut diags = files::name_problems(
        modules,
        &rules,
        "rule file",
        files::rule_name,
        files::rule_keys,
    );
    diags.extend(files::name_problems(
        modules,
        &dashboards,
        "dashboard",
        crate::kube::data_key,
        files::key,
    ));
    if !diags.is_empty() {
        return Err(diags);
    }
    let jobs = jobs(m, rules, dashboards);
    let rendered = crate::parallel::map(&jobs, |job| job.run(t, modules, &ctx));
    let mut payloads = Payloads {
        prometheus: None,
        rules: BTreeMap::new(),
        alertmanager: String::new(),
        loki: String::new(),
        promtail: String::new(),
        datasources: String::new(),
        dashboard_providers: String::new(),
        dashboards: BTreeMap::new(),
    };
    let mut uids = Vec::new();
    for (job, result) in jobs.into_iter().zip(rendered) {
        match result {
            Ok((text, value)) => {
                if let (Output::Dashboard(output), Some(uid)) = (&job.output, value.as_str()) {
                    uids.push((job.name, output.clone(), uid.to_owned()));
                }
                job.output.store(&mut payloads, text, value);
            }
            Err(d) => diags.push(*d),
        }
    }
    let uids: Vec<(&str, &str, &str)> = uids
        .iter()
        .map(|(source, output, uid)| (*source, output.as_str(), uid.as_str()))
        .collect();
    diags.extend(files::uid_problems(modules, &uids));
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(payloads)
}

/// Every template one environment renders, in the order their errors are reported.
fn jobs<'a>(
    m: &MonitoringPlan,
    rules: Vec<files::Payload<'a>>,
    dashboards: Vec<files::Payload<'a>>,
) -> Vec<Job<'a>> {
    let fixed = |name: &'a str, output: Output| Job {
        name,
        output,
        format: Format::Yaml,
        component: None,
    };
    let mut jobs = Vec::new();
    if matches!(m.mode, MonitoringMode::Standalone { .. }) {
        jobs.push(fixed(PROMETHEUS, Output::Prometheus));
    }
    jobs.push(fixed(ALERTMANAGER, Output::Alertmanager));
    jobs.push(fixed(LOKI, Output::Loki));
    jobs.push(fixed(PROMTAIL, Output::Promtail));
    jobs.push(fixed(DATASOURCES, Output::Datasources));
    jobs.push(fixed(DASHBOARD_PROVIDERS, Output::DashboardProviders));
    for rule in rules {
        jobs.push(fixed(rule.source, Output::Rule(rule.output)));
    }
    // The per-component dashboards come first, one per metrics target in view order.
    let mut component = 0;
    for dashboard in dashboards {
        let target = (dashboard.source == COMPONENT_DASHBOARD).then(|| {
            component += 1;
            component - 1
        });
        jobs.push(Job {
            format: Format::Json,
            component: target,
            ..fixed(dashboard.source, Output::Dashboard(dashboard.output))
        });
    }
    jobs
}

/// One template to render.
struct Job<'a> {
    name: &'a str,
    output: Output,
    /// What its output must parse as.
    format: Format,
    /// The metrics target a per-component dashboard is rendered for (index in the view).
    component: Option<usize>,
}

/// Where a rendered template goes in the [`Payloads`].
enum Output {
    Prometheus,
    Alertmanager,
    Loki,
    Promtail,
    Datasources,
    DashboardProviders,
    /// A rule file, by its output name.
    Rule(String),
    /// A dashboard, by its file name.
    Dashboard(String),
}

impl Job<'_> {
    /// The template's text and its parsed value, or why it failed.
    fn run(
        &self,
        t: &Templates,
        modules: &Modules,
        ctx: &View,
    ) -> Result<(String, serde_json::Value), Box<Diagnostic>> {
        if !t.has(self.name) {
            return Err(Box::new(missing(self.name)));
        }
        let text = match self.component {
            Some(i) => {
                let mut one = ctx.clone();
                one.component = Some(ctx.targets[i].clone());
                t.render(self.name, &one)
            }
            None => t.render(self.name, ctx),
        }?;
        // Rule files are read back and dashboards give their uid; the rest need only
        // parse (without building a value: dashboards are large).
        let value = match self.output {
            Output::Rule(_) => {
                let value = check_output(modules, self.name, &text, self.format)?;
                rules::check(&text)
                    .map_err(|p| Box::new(rule_diagnostic(modules, self.name, &text, &p)))?;
                value
            }
            Output::Dashboard(_) => {
                let d: DashboardUid = check_output(modules, self.name, &text, self.format)?;
                d.uid
                    .map_or(serde_json::Value::Null, serde_json::Value::String)
            }
            _ => {
                check_output::<serde::de::IgnoredAny>(modules, self.name, &text, self.format)?;
                serde_json::Value::Null
            }
        };
        Ok((text, value))
    }
}

impl Output {
    fn store(self, payloads: &mut Payloads, text: String, value: serde_json::Value) {
        match self {
            Output::Prometheus => payloads.prometheus = Some(text),
            Output::Alertmanager => payloads.alertmanager = text,
            Output::Loki => payloads.loki = text,
            Output::Promtail => payloads.promtail = text,
            Output::Datasources => payloads.datasources = text,
            Output::DashboardProviders => payloads.dashboard_providers = text,
            Output::Rule(name) => {
                payloads.rules.insert(name, (text, value));
            }
            Output::Dashboard(name) => {
                payloads.dashboards.insert(name, text);
            }
        }
    }
}

/// What a dashboard is read for: its uid (Grafana keeps one dashboard per uid).
#[derive(serde::Deserialize)]
struct DashboardUid {
    uid: Option<String>,
}

#[derive(Clone, Copy)]
enum Format {
    Yaml,
    Json,
}

/// A template's output must parse as what it claims to be; parsed as `T`.
fn check_output<T: serde::de::DeserializeOwned>(
    modules: &Modules,
    name: &str,
    text: &str,
    format: Format,
) -> Result<T, Box<Diagnostic>> {
    let parsed = match format {
        Format::Yaml => serde_saphyr::from_str::<T>(text).map_err(|e| e.to_string()),
        Format::Json => serde_json::from_str::<T>(text).map_err(|e| e.to_string()),
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
        Box::new(files::at_file(modules, name, diag))
    })
}

/// A structural problem of rule file `name` (rendered as `text`), at its place in the
/// file.
fn rule_diagnostic(modules: &Modules, name: &str, text: &str, p: &rules::Problem) -> Diagnostic {
    let diag = Diagnostic::error(
        "invalid-rule-file",
        format!("not a Prometheus rule file: {}", p.message),
    )
    .help("a rule file is `groups:` of { name, interval, query_offset, limit, labels, rules: [{ alert | record, expr, for, keep_firing_for, labels, annotations }] }, durations like `5m` (https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/)");
    files::at_rendered(modules, name, text, (p.line, p.column), diag)
}

/// Where the monitoring templates are, relative to the stack directory.
const DIR: &str = "modules/monitoring";

/// A template of [`DIR`] that does not exist (the diagnostic's location names it).
fn missing(name: &str) -> Diagnostic {
    Diagnostic::error("missing-template", "this template does not exist")
        .in_file(format!("modules/{name}"))
        .help(format!("[monitoring] renders its payloads from the templates of {DIR}/: restore the file from stackc's reference stack"))
}

/// The whole of [`DIR`] missing: one error instead of one per template.
fn missing_dir(modules: &Modules) -> Option<Diagnostic> {
    let prefix = DIR.strip_prefix("modules/").unwrap_or(DIR);
    let any = modules.files.keys().any(|k| {
        k.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
    });
    (!any).then(|| {
        Diagnostic::error("missing-template", "the directory of the monitoring templates does not exist")
            .in_file(format!("{DIR}/"))
            .help(format!("[monitoring] renders its payloads (prometheus.yml, rules, dashboards, ...) from the templates of {DIR}/: copy the directory from stackc's reference stack"))
    })
}
