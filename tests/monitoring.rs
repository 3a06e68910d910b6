//! Monitoring: the generated payloads are what their consumers accept (Prometheus rule
//! groups, Grafana dashboards), every component metrics endpoint is scraped exactly once
//! in every environment and mode, and template errors point at the template's line.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use common::{code, copy_reference, edit, repo, snapshot, stackc, stderr};

/// A Prometheus rule file, as Prometheus reads it (unknown fields rejected).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleGroup {
    name: String,
    interval: Option<String>,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    alert: Option<String>,
    record: Option<String>,
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    labels: Option<std::collections::BTreeMap<String, String>>,
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

/// The fields Grafana requires of a provisioned dashboard and its panels.
#[derive(Deserialize)]
struct Dashboard {
    uid: String,
    title: String,
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    panels: Vec<Panel>,
}

#[derive(Deserialize)]
struct Panel {
    id: u32,
    #[serde(rename = "type")]
    type_: String,
    title: String,
    #[serde(rename = "gridPos")]
    grid_pos: GridPos,
    datasource: PanelDatasource,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct GridPos {
    h: u32,
    w: u32,
    x: u32,
    y: u32,
}

#[derive(Deserialize)]
struct PanelDatasource {
    #[serde(rename = "type")]
    type_: String,
    uid: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    ref_id: String,
    expr: String,
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every rendered object of one environment's monitoring layer.
fn monitoring_objects(env: &str) -> Vec<Value> {
    let dir = repo().join("rendered").join(env).join("monitoring");
    walkdir::WalkDir::new(&dir)
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file() && e.file_name() != "kustomization.yaml")
        .map(|e| yaml(e.path()))
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

const ENVS: [&str; 3] = ["dev", "staging", "prod"];

fn check_rules(file: &RuleFile, what: &str) -> BTreeSet<String> {
    assert!(!file.groups.is_empty(), "{what}: no rule group");
    let mut alerts = BTreeSet::new();
    for g in &file.groups {
        assert!(
            !g.name.is_empty() && !g.rules.is_empty(),
            "{what}: group {}",
            g.name
        );
        let _ = &g.interval;
        for r in &g.rules {
            assert!(
                r.alert.is_some() != r.record.is_some(),
                "{what}: a rule is an alert or a record"
            );
            assert!(!r.expr.trim().is_empty(), "{what}: empty expr");
            if let Some(f) = &r.for_ {
                assert!(
                    f.ends_with('m') || f.ends_with('s') || f.ends_with('h'),
                    "{what}: for {f}"
                );
            }
            if let Some(a) = &r.alert {
                let labels = r.labels.as_ref().expect("alerts carry a severity");
                assert!(["warning", "critical"].contains(&labels["severity"].as_str()));
                assert!(
                    r.annotations
                        .as_ref()
                        .is_some_and(|a| a.contains_key("summary"))
                );
                alerts.insert(a.clone());
            }
        }
    }
    alerts
}

#[test]
fn rules_are_prometheus_rule_groups_with_every_required_alert() {
    let required: BTreeSet<String> = [
        "CPUHigh",
        "MemoryHigh",
        "DiskFilling",
        "TargetDown",
        "PodRestarting",
        "HPAAtMaximum",
        "KafkaConsumerLag",
    ]
    .map(String::from)
    .into();
    for env in ENVS {
        let objects = monitoring_objects(env);
        let mut alerts = BTreeSet::new();
        let mut files = 0;
        if let Some(cm) = find(&objects, "ConfigMap", "prometheus") {
            for (name, text) in cm["data"].as_object().expect("data") {
                if name == "prometheus.yml" {
                    continue;
                }
                let file: RuleFile =
                    serde_saphyr::from_str(text.as_str().expect("text")).expect(name);
                alerts.extend(check_rules(&file, &format!("{env} {name}")));
                files += 1;
            }
        }
        for rule in objects.iter().filter(|o| o["kind"] == "PrometheusRule") {
            let file: RuleFile =
                serde_json::from_value(rule["spec"].clone()).expect("PrometheusRule spec");
            alerts.extend(check_rules(&file, &format!("{env} PrometheusRule")));
            files += 1;
        }
        assert!(files > 0, "{env}: no rule file");
        assert_eq!(alerts, required, "{env}");
    }
}

#[test]
fn thresholds_follow_the_environment() {
    let expr = |env: &str, alert: &str| -> String {
        let objects = monitoring_objects(env);
        let groups: Vec<Value> = match find(&objects, "ConfigMap", "prometheus") {
            Some(cm) => {
                let v: Value =
                    serde_saphyr::from_str(cm["data"]["alerts.yaml"].as_str().unwrap()).unwrap();
                v["groups"].as_array().unwrap().clone()
            }
            None => find(&objects, "PrometheusRule", "alerts").unwrap()["spec"]["groups"]
                .as_array()
                .unwrap()
                .clone(),
        };
        groups
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .find(|r| r["alert"] == alert)
            .map(|r| r["expr"].as_str().unwrap().trim().to_owned())
            .unwrap()
    };
    // stack.toml says 90 and 5000; prod's environment file says 80 and 1000.
    assert!(expr("dev", "CPUHigh").ends_with("> 90"));
    assert!(expr("prod", "CPUHigh").ends_with("> 80"));
    assert!(expr("dev", "KafkaConsumerLag").ends_with("> 5000"));
    assert!(expr("prod", "KafkaConsumerLag").ends_with("> 1000"));
}

#[test]
fn dashboards_are_grafana_dashboards() {
    for env in ENVS {
        let objects = monitoring_objects(env);
        let cm = find(&objects, "ConfigMap", "grafana-dashboards").expect("dashboards");
        let data = cm["data"].as_object().expect("data");
        let names: BTreeSet<&str> = data.keys().map(String::as_str).collect();
        for required in [
            "cluster-overview.json",
            "pods.json",
            "pipeline.json",
            "database.json",
            "coder.json",
        ] {
            assert!(names.contains(required), "{env}: {required} missing");
        }
        let mut uids = BTreeSet::new();
        for (name, text) in data {
            let d: Dashboard = serde_json::from_str(text.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{env} {name}: {e}"));
            assert!(uids.insert(d.uid.clone()), "{env}: duplicate uid {}", d.uid);
            assert!(d.uid.len() <= 40 && !d.title.is_empty() && d.schema_version >= 30);
            assert!(!d.panels.is_empty());
            let mut ids = BTreeSet::new();
            for p in &d.panels {
                assert!(ids.insert(p.id), "{name}: duplicate panel id");
                assert!(
                    ["timeseries", "logs", "stat"].contains(&p.type_.as_str()),
                    "{name}: {}",
                    p.type_
                );
                assert!(
                    !p.title.is_empty()
                        && p.grid_pos.w > 0
                        && p.grid_pos.h > 0
                        && p.grid_pos.x + p.grid_pos.w <= 24
                );
                let _ = p.grid_pos.y;
                assert!(
                    ["prometheus", "loki"].contains(&p.datasource.uid.as_str())
                        && p.datasource.type_ == p.datasource.uid
                );
                assert!(
                    !p.targets.is_empty()
                        && p.targets
                            .iter()
                            .all(|t| !t.expr.is_empty() && !t.ref_id.is_empty())
                );
            }
        }
        let pipeline: Dashboard =
            serde_json::from_str(data["pipeline.json"].as_str().unwrap()).unwrap();
        let exprs: Vec<&str> = pipeline
            .panels
            .iter()
            .flat_map(|p| p.targets.iter().map(|t| t.expr.as_str()))
            .collect();
        for metric in [
            "rate(producer_messages_sent_total[1m])",
            "rate(processor_messages_consumed_total[1m])",
            "rate(processor_influx_writes_total[1m])",
        ] {
            assert!(
                exprs.iter().any(|e| e.contains(metric)),
                "{env}: pipeline lacks {metric}"
            );
        }
        let datasources: Value = serde_saphyr::from_str(
            find(&objects, "ConfigMap", "grafana-datasources").unwrap()["data"]["datasources.yaml"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let types: BTreeSet<&str> = datasources["datasources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["type"].as_str().unwrap())
            .collect();
        assert!(
            types.contains("prometheus") && types.contains("loki"),
            "{env}: {types:?}"
        );
    }
}

/// (namespace, sorted selector "k=v,...", port name, path) of every component endpoint.
type Scrape = (String, String, String, String);

fn endpoints(env: &str) -> BTreeSet<Scrape> {
    let mut sources = stackc::diag::SourceMap::default();
    let plans = match stackc::pipeline::plans(
        &stackc::load::Source::Dir(repo()),
        Some(env),
        &mut sources,
    ) {
        Ok(p) => p.plans,
        Err(_) => panic!("the reference stack checks"),
    };
    let (_, plan) = &plans[0];
    plan.components
        .iter()
        .flat_map(|c| c.metrics(&plan.stack.name))
        .map(|e| {
            let sel: Vec<String> = e.selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            (e.namespace, sel.join(","), e.port_name, e.path)
        })
        .collect()
}

fn scraped(env: &str) -> (BTreeSet<Scrape>, usize) {
    let objects = monitoring_objects(env);
    let mut found = BTreeSet::new();
    let mut count = 0;
    if let Some(cm) = find(&objects, "ConfigMap", "prometheus") {
        let config: Value =
            serde_saphyr::from_str(cm["data"]["prometheus.yml"].as_str().unwrap()).unwrap();
        for job in config["scrape_configs"].as_array().unwrap() {
            let name = job["job_name"].as_str().unwrap();
            if name.starts_with("monitoring/") {
                continue; // the monitoring stack itself and the nodes
            }
            count += 1;
            let sd = &job["kubernetes_sd_configs"][0];
            assert_eq!(sd["role"], "pod", "{name}");
            let namespaces = sd["namespaces"]["names"].as_array().unwrap();
            assert_eq!(namespaces.len(), 1);
            let keep = job["relabel_configs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| {
                    r["action"] == "keep"
                        && r["source_labels"][0] == "__meta_kubernetes_pod_container_port_name"
                })
                .expect("a keep on the port name");
            let mut sel: Vec<&str> = sd["selectors"][0]["label"]
                .as_str()
                .unwrap()
                .split(',')
                .collect();
            sel.sort();
            found.insert((
                namespaces[0].as_str().unwrap().to_owned(),
                sel.join(","),
                keep["regex"].as_str().unwrap().to_owned(),
                job["metrics_path"].as_str().unwrap().to_owned(),
            ));
        }
    }
    for pm in objects.iter().filter(|o| o["kind"] == "PodMonitor") {
        count += 1;
        let spec = &pm["spec"];
        let sel: Vec<String> = spec["selector"]["matchLabels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        let ep = &spec["podMetricsEndpoints"][0];
        found.insert((
            spec["namespaceSelector"]["matchNames"][0]
                .as_str()
                .unwrap()
                .to_owned(),
            sel.join(","),
            ep["port"].as_str().unwrap().to_owned(),
            ep["path"].as_str().unwrap().to_owned(),
        ));
    }
    (found, count)
}

#[test]
fn every_metrics_endpoint_is_scraped_exactly_once() {
    for env in ENVS {
        let expected = endpoints(env);
        // producer, processor, agents, orchestrator, Coder, the cache's exporter,
        // InfluxDB and the Kafka exporter.
        assert_eq!(expected.len(), 8, "{env}: {expected:?}");
        let (found, count) = scraped(env);
        assert_eq!(found, expected, "{env}");
        assert_eq!(
            count,
            expected.len(),
            "{env}: one job or PodMonitor per endpoint"
        );
    }
    // prod runs the operator, the others standalone: both forms were compared.
    assert!(find(&monitoring_objects("prod"), "ConfigMap", "prometheus").is_none());
    assert!(find(&monitoring_objects("dev"), "ConfigMap", "prometheus").is_some());
}

#[test]
fn a_new_metrics_port_is_scraped_after_render() {
    let dir = copy_reference(false);
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("stack.toml"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"\n[app.exporter]\nimage = \"ghcr.io/acme/exporter:1.0.0\"\nmetrics = { port = 9100, path = \"/probe\" }\nprobes = { liveness = { http = \"/probe\" }, readiness = { http = \"/probe\" } }\n"))
        .expect("append");
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let cm = yaml(
        &dir.path()
            .join("rendered/dev/monitoring/monitoring/configmap-prometheus.yaml"),
    );
    let config = cm["data"]["prometheus.yml"].as_str().unwrap();
    assert!(
        config.contains("job_name: \"app/conveyor-pipeline/exporter\""),
        "{config}"
    );
    assert!(config.contains("metrics_path: \"/probe\""));
    let dashboards = yaml(
        &dir.path()
            .join("rendered/dev/monitoring/monitoring/configmap-grafana-dashboards.yaml"),
    );
    assert!(dashboards["data"]["component-app-exporter.json"].is_string());
    let prod = std::fs::read_dir(dir.path().join("rendered/prod/monitoring/monitoring")).unwrap();
    assert!(
        prod.filter_map(Result::ok)
            .any(|e| e.file_name() == "podmonitor-app-exporter.yaml")
    );
}

/// Edits a template, renders, expects exit 1 with nothing written; returns stderr.
fn render_broken(file: &str, from: &str, to: &str) -> String {
    render_refused(|dir| edit(&dir.join(file), from, to))
}

/// Lets `change` alter a copy of the reference stack (given its directory), renders,
/// and expects exit 1 with nothing written; returns stderr.
fn render_refused(change: impl FnOnce(&Path)) -> String {
    let dir = copy_reference(true);
    let before = snapshot(&dir.path().join("rendered"));
    change(dir.path());
    let out = stackc(dir.path(), &["render"]);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_eq!(
        snapshot(&dir.path().join("rendered")),
        before,
        "rendered/ changed"
    );
    err
}

/// The distinct codes of the errors in `stderr` (`error[code]: ...`).
fn error_codes(stderr: &str) -> BTreeSet<&str> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("error["))
        .filter_map(|rest| rest.split_once(']'))
        .map(|(code, _)| code)
        .collect()
}

/// Breaks a template, renders, and expects exit 1 at `file:line` with nothing written,
/// and no other error: an environment whose build fails is not validated.
fn template_error(file: &str, from: &str, to: &str, at: &str, message: &str) {
    let err = render_broken(file, from, to);
    assert_eq!(
        error_codes(&err),
        BTreeSet::from(["template-error"]),
        "{err}"
    );
    assert!(err.contains(at), "expected {at} in:\n{err}");
    assert!(err.contains(message), "expected {message} in:\n{err}");
}

#[test]
fn an_undefined_variable_is_an_error_at_its_line() {
    template_error(
        "modules/monitoring/alertmanager.yml.j2",
        "group_wait: {{ monitoring.alerts.group_wait }}",
        "group_wait: {{ monitoring.alerts.grop_wait }}",
        "modules/monitoring/alertmanager.yml.j2:17:",
        "undefined",
    );
}

#[test]
fn a_syntax_error_is_an_error_at_its_line() {
    template_error(
        "modules/monitoring/rules/alerts.yaml.j2",
        "{{ monitoring.thresholds.restarts_per_hour }}",
        "{{ monitoring.thresholds.restarts_per_hour }",
        "modules/monitoring/rules/alerts.yaml.j2:",
        "syntax error",
    );
}

#[test]
fn a_missing_template_is_the_only_error() {
    let err = render_refused(|dir| {
        std::fs::remove_file(dir.join("modules/monitoring/loki.yaml.j2")).unwrap();
    });
    // Before: 1,283 network errors too, the proof having run on no NetworkPolicies.
    assert_eq!(
        error_codes(&err),
        BTreeSet::from(["missing-template"]),
        "{err}"
    );
    // The path once, not in the message again.
    assert!(
        err.contains("modules/monitoring/loki.yaml.j2: this template does not exist"),
        "{err}"
    );
    assert_eq!(err.matches("loki.yaml.j2").count(), 1, "{err}");
    assert!(err.contains("the stack has 1 error"), "{err}");
}

#[test]
fn a_missing_modules_directory_is_one_error() {
    // Before: one missing-template per template (6).
    let err = render_refused(|dir| std::fs::remove_dir_all(dir.join("modules")).unwrap());
    assert_eq!(
        error_codes(&err),
        BTreeSet::from(["missing-template"]),
        "{err}"
    );
    assert!(
        err.contains(
            "modules/monitoring/: the directory of the monitoring templates does not exist"
        ),
        "{err}"
    );
    assert!(err.contains("the stack has 1 error"), "{err}");
}

/// Makes a template render to text that does not parse, and expects `template-output`
/// naming the template, with nothing written.
fn invalid_output(file: &str, from: &str, to: &str, what: &str) {
    let err = render_broken(file, from, to);
    assert_eq!(
        error_codes(&err),
        BTreeSet::from(["template-output"]),
        "{err}"
    );
    let template = file.trim_start_matches("modules/");
    let message = format!("template `{template}` does not render to valid {what}");
    assert!(err.contains(&message), "expected {message} in:\n{err}");
}

#[test]
fn a_dashboard_that_renders_to_invalid_json_is_an_error() {
    invalid_output(
        "modules/monitoring/dashboards/pods.json.j2",
        "{% set uid",
        "not json {% set uid",
        "JSON",
    );
}

#[test]
fn a_config_that_renders_to_invalid_yaml_is_an_error() {
    invalid_output(
        "modules/monitoring/loki.yaml.j2",
        "auth_enabled: false",
        "auth_enabled: [false",
        "YAML",
    );
}

#[test]
fn a_user_dashboard_and_rule_file_are_picked_up_without_recompiling() {
    let dir = copy_reference(false);
    let m = dir.path().join("modules/monitoring");
    std::fs::write(
        m.join("dashboards/team.json"),
        r#"{"uid": "team", "title": "Team", "schemaVersion": 39, "panels": [{"id": 1, "type": "stat", "title": "Up", "gridPos": {"h": 4, "w": 6, "x": 0, "y": 0}, "datasource": {"type": "prometheus", "uid": "prometheus"}, "targets": [{"refId": "A", "expr": "sum(up)", "legendFormat": "{{job}}"}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        m.join("rules/team.yaml"),
        "groups:\n  - name: team\n    rules:\n      - record: team:up:sum\n        expr: sum(up)\n",
    )
    .unwrap();
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dashboards = yaml(
        &dir.path()
            .join("rendered/dev/monitoring/monitoring/configmap-grafana-dashboards.yaml"),
    );
    // Plain .json files are not templates: Grafana's `{{job}}` arrives unchanged.
    assert!(
        dashboards["data"]["team.json"]
            .as_str()
            .unwrap()
            .contains("{{job}}")
    );
    let prom = yaml(
        &dir.path()
            .join("rendered/dev/monitoring/monitoring/configmap-prometheus.yaml"),
    );
    assert!(prom["data"]["team.yaml"].is_string());
    assert!(
        prom["data"]["prometheus.yml"]
            .as_str()
            .unwrap()
            .contains("/etc/prometheus/team.yaml")
    );
    let prod_rule = yaml(
        &dir.path()
            .join("rendered/prod/monitoring/monitoring/prometheusrule-team.yaml"),
    );
    assert_eq!(
        prod_rule["spec"]["groups"][0]["rules"][0]["record"],
        "team:up:sum"
    );
}

#[test]
fn promtail_labels_logs_by_namespace_and_app_and_only_its_namespace_is_privileged() {
    let objects = monitoring_objects("dev");
    let cm = find(&objects, "ConfigMap", "promtail").expect("promtail config");
    let config: Value =
        serde_saphyr::from_str(cm["data"]["promtail.yaml"].as_str().unwrap()).unwrap();
    let relabel = config["scrape_configs"][0]["relabel_configs"]
        .as_array()
        .unwrap();
    let target = |label: &str| {
        relabel
            .iter()
            .find(|r| r["target_label"] == label)
            .map(|r| r["source_labels"][0].clone())
    };
    assert_eq!(target("namespace").unwrap(), "__meta_kubernetes_namespace");
    assert_eq!(
        target("app").unwrap(),
        "__meta_kubernetes_pod_label_app_kubernetes_io_name"
    );
    let ds = find(&objects, "DaemonSet", "promtail").unwrap();
    let volumes = ds["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    let host: Vec<&Value> = volumes
        .iter()
        .filter(|v| v.get("hostPath").is_some())
        .collect();
    assert_eq!(host.len(), 1);
    assert_eq!(host[0]["hostPath"]["path"], "/var/log/pods");
    let mounts = ds["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m["mountPath"] == "/var/log/pods" && m["readOnly"] == true)
    );
    let infra = repo().join("rendered/dev/infra/_cluster");
    for (ns, level) in [
        ("monitoring", "restricted"),
        ("monitoring-logs", "privileged"),
        ("conveyor-pipeline", "restricted"),
    ] {
        let n = yaml(&infra.join(format!("namespace-{ns}.yaml")));
        assert_eq!(
            n["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], level,
            "{ns}"
        );
    }
}

/// Lets `setup` change the reference stack's modules/monitoring/, renders, and expects
/// exit 1 with only `code` errors, each at one of `at` (in order), nothing written;
/// returns the JSON diagnostics.
fn module_files_error(setup: impl Fn(&Path), code_: &str, at: &[&str]) -> String {
    let dir = copy_reference(true);
    let before = snapshot(&dir.path().join("rendered"));
    setup(&dir.path().join("modules/monitoring"));
    let out = stackc(dir.path(), &["render", "--format", "json"]);
    let err = common::stdout(&out);
    assert_eq!(code(&out), 1, "{err}");
    let errors: Vec<Value> = err
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| d["severity"] == "error")
        .collect();
    let found: Vec<(String, String)> = errors
        .iter()
        .map(|d| {
            let file = d["file"].as_str().unwrap_or_default();
            (
                d["code"].as_str().unwrap().to_owned(),
                format!("{file}:{}:{}", d["line"], d["column"]),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = at
        .iter()
        .map(|a| (code_.to_owned(), (*a).to_owned()))
        .collect();
    assert_eq!(found, expected, "{err}");
    assert_eq!(snapshot(&dir.path().join("rendered")), before);
    err
}

#[test]
fn a_dashboard_named_outside_configmap_keys_is_an_error_at_the_file() {
    // Before: rendered as the key `My Pods.json`, which the API server rejects.
    let err = module_files_error(
        |m| {
            std::fs::copy(
                m.join("dashboards/pods.json.j2"),
                m.join("dashboards/My Pods.json.j2"),
            )
            .unwrap();
        },
        "invalid-file-name",
        &["modules/monitoring/dashboards/My Pods.json.j2:1:1"],
    );
    assert!(err.contains("rename the file"), "{err}");
}

#[test]
fn a_users_dashboard_beside_the_template_of_the_same_name_is_an_error() {
    // Before: dashboards/pods.json was silently replaced by pods.json.j2's output.
    let err = module_files_error(
        |m| std::fs::write(m.join("dashboards/pods.json"), "{\"uid\": \"mine\"}").unwrap(),
        "duplicate-output",
        &["modules/monitoring/dashboards/pods.json:1:1"],
    );
    assert!(
        err.contains("modules/monitoring/dashboards/pods.json.j2"),
        "{err}"
    );
}

#[test]
fn a_copied_dashboard_keeping_its_uid_is_an_error() {
    // Before: two dashboards with one uid, of which Grafana provisions one.
    let err = module_files_error(
        |m| {
            std::fs::copy(
                m.join("dashboards/pods.json.j2"),
                m.join("dashboards/pods2.json.j2"),
            )
            .unwrap();
        },
        "duplicate-dashboard-uid",
        &["modules/monitoring/dashboards/pods2.json.j2:1:1"],
    );
    assert!(err.contains("conveyor-pods"), "{err}");
}

#[test]
fn two_rule_files_written_as_one_are_an_error() {
    // alerts.yml beside alerts.yaml.j2: two keys in standalone mode, but one
    // PrometheusRule `alerts` in operator mode (prod), which the second replaced.
    module_files_error(
        |m| {
            std::fs::write(
                m.join("rules/alerts.yml"),
                "groups:\n  - name: mine\n    rules:\n      - record: mine:up:sum\n        expr: sum(up)\n",
            )
            .unwrap();
        },
        "duplicate-output",
        &["modules/monitoring/rules/alerts.yml:1:1"],
    );
}

#[test]
fn a_rule_file_is_checked_as_prometheus_reads_it_in_every_mode() {
    // Before: rendered unchecked into dev and staging (standalone), and in prod
    // (operator) a schema error at `[monitoring]` in stack.toml.
    let rule =
        "groups:\n  - name: mine\n    rules:\n      - alert: MineDown\n        expr: up == 0\n";
    let err = module_files_error(
        |m| {
            std::fs::write(
                m.join("rules/mine.yaml"),
                format!("{rule}        for: 5 minutes\n"),
            )
            .unwrap()
        },
        "invalid-rule-file",
        &["modules/monitoring/rules/mine.yaml:6:14"],
    );
    assert!(
        err.contains("`5 minutes` is not a Prometheus duration"),
        "{err}"
    );
    let err = module_files_error(
        |m| {
            std::fs::write(
                m.join("rules/mine.yaml"),
                format!("{rule}        labelz:\n          severity: warning\n"),
            )
            .unwrap();
        },
        "invalid-rule-file",
        &["modules/monitoring/rules/mine.yaml:6:9"],
    );
    assert!(err.contains("unknown field `labelz`"), "{err}");
}

#[test]
fn a_rule_template_error_is_at_the_template_line() {
    module_files_error(
        |m| {
            let path = m.join("rules/alerts.yaml.j2");
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains("        expr: up == 0\n        for: 5m\n"));
            std::fs::write(
                &path,
                text.replace(
                    "        expr: up == 0\n        for: 5m\n",
                    "        expr: up == 0\n        for: 5 minutes\n",
                ),
            )
            .unwrap();
        },
        "invalid-rule-file",
        &["modules/monitoring/rules/alerts.yaml.j2:61:14"],
    );
}

/// `for` goes into every alerting rule: a Go duration Prometheus rejects (`1.5h`) is an
/// error at the setting, not a broken rule file.
#[test]
fn the_alert_for_duration_is_a_prometheus_duration() {
    let err = render_broken(
        "environments/prod.toml",
        "consumer_lag = 1000, for = \"10m\" }",
        "consumer_lag = 1000, for = \"1.5h\" }",
    );
    assert_eq!(
        error_codes(&err),
        BTreeSet::from(["invalid-duration"]),
        "{err}"
    );
    assert!(err.contains("environments/prod.toml:61:"), "{err}");
    assert!(err.contains("not a Prometheus duration"), "{err}");
}

/// A component named like a workload of [monitoring] (in another namespace, so no
/// object collides) is one error, not the network proof's confusion of the two.
#[test]
fn a_component_named_like_a_monitoring_workload_is_one_error() {
    let mut line = 0;
    let err = render_refused(|dir| {
        let stack = dir.join("stack.toml");
        let mut text = std::fs::read_to_string(&stack).unwrap();
        text.push_str(
            "\n[app.loki]\nimage = \"ghcr.io/acme/loki-shim:1.0.0\"\nports = { http = 8080 }\n",
        );
        line = text.lines().count() - 2;
        std::fs::write(&stack, text).unwrap();
    });
    // Before: five network-edge-denied errors calling it "a build bug".
    assert_eq!(
        error_codes(&err),
        BTreeSet::from(["duplicate-name"]),
        "{err}"
    );
    assert!(err.contains(&format!("stack.toml:{line}:6")), "{err}");
    assert!(
        err.contains("as [monitoring] does (in monitoring)"),
        "{err}"
    );
}
