//! Checks of `[monitoring]` and its resolution into a [`MonitoringPlan`]: mode,
//! namespaces, retention and volumes, receivers (whose secrets come from the provider)
//! and the alert thresholds.

use super::{Ctx, images, names, quantity, secret_key};
use crate::diag::Diagnostic;
use crate::model::monitoring::{Monitoring, Store};
use crate::plan::{
    AlertsPlan, EmailPlan, MonitoringImages, MonitoringMode, MonitoringPlan, SecretPlan, SlackPlan,
    StorePlan, ThresholdsPlan,
};

/// The kube-prometheus-stack chart version pinned for operator mode.
pub const KUBE_PROMETHEUS_STACK: &str = "77.5.0";
/// The name the credentials carry in the provider: `MONITORING_<PURPOSE>`.
const COMPONENT: &str = "monitoring";

/// `None` when absent or wrong (problems reported).
pub(super) fn resolve(
    ctx: &mut Ctx,
    m: &Monitoring,
    component_namespaces: &std::collections::BTreeSet<String>,
    run_as_user: i64,
    have_provider: bool,
) -> Option<MonitoringPlan> {
    let before = ctx.diags.len();
    let mode = match m.mode.as_deref().unwrap_or("standalone") {
        "standalone" => standalone(ctx),
        "operator" => MonitoringMode::Operator {
            chart_version: m
                .chart_version
                .clone()
                .unwrap_or_else(|| KUBE_PROMETHEUS_STACK.into()),
        },
        other => {
            let span = ctx.value_span(&["monitoring", "mode"]);
            ctx.report(
                Diagnostic::error("invalid-value", format!("unknown monitoring mode `{other}`"))
                    .at(span)
                    .help("use \"standalone\" (stackc renders Prometheus) or \"operator\" (kube-prometheus-stack + ServiceMonitors)"),
            );
            standalone(ctx)
        }
    };
    let namespace = m.namespace.clone().unwrap_or_else(|| "monitoring".into());
    let before_namespace = ctx.diags.len();
    ctx.namespace_rule(
        &namespace,
        &["monitoring", "namespace"],
        "use a lowercase DNS label, e.g. \"monitoring\"",
    );
    let namespace_ok = ctx.diags.len() == before_namespace;
    let log_namespace = m
        .log_namespace
        .clone()
        .unwrap_or_else(|| format!("{namespace}-logs"));
    // One derived from a bad namespace is not reported again.
    if m.log_namespace.is_some() || namespace_ok {
        ctx.namespace_rule(
            &log_namespace,
            &["monitoring", "log_namespace"],
            "use a lowercase DNS label, e.g. \"monitoring-logs\"",
        );
    }
    if log_namespace == namespace || component_namespaces.contains(&log_namespace) {
        let span = ctx.value_span(&["monitoring", "log_namespace"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("the log collector cannot share namespace `{log_namespace}`"),
            )
            .at(span)
            .label("Promtail's namespace is Pod Security \"privileged\" (it reads node log files)")
            .help("give Promtail a namespace of its own, e.g. log_namespace = \"monitoring-logs\""),
        );
    }
    let scrape_interval = m.scrape_interval.clone().unwrap_or_else(|| "30s".into());
    ctx.rule(
        names::go_duration(&scrape_interval),
        "invalid-duration",
        &format!("scrape_interval `{scrape_interval}`"),
        &["monitoring", "scrape_interval"],
        "use a duration such as \"30s\"",
    );
    let prometheus = store(ctx, m.prometheus.as_ref(), "prometheus", "15d", "20Gi");
    let grafana = store(ctx, m.grafana.as_ref(), "grafana", "0s", "5Gi");
    let loki = store(ctx, m.loki.as_ref(), "loki", "168h", "20Gi");
    let alertmanager_storage = store(ctx, m.alertmanager.as_ref(), "alertmanager", "120h", "1Gi");
    let alerts = alerts(ctx, m);
    let thresholds = thresholds(ctx, m);
    let mut keys = vec![
        secret_key(COMPONENT, "grafana-admin-password"),
        secret_key(COMPONENT, "grafana-admin-user"),
    ];
    keys.extend(alerts.slack.as_ref().map(|s| s.webhook_key.clone()));
    keys.extend(alerts.email.as_ref().map(|e| e.password_key.clone()));
    keys.sort();
    if !have_provider {
        let span = ctx.key_span(&["monitoring"]);
        ctx.report(
            Diagnostic::error("missing-secrets-provider", "monitoring needs Grafana's admin credentials, and the stack has no [secrets] provider")
                .at(span)
                .help("add [secrets] provider = \"external-secrets\" (with a store) or \"infisical\"; stackc never holds secret values"),
        );
    }
    if ctx.diags[before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    Some(MonitoringPlan {
        mode,
        credentials: SecretPlan {
            name: "monitoring-credentials".into(),
            namespace: namespace.clone(),
            keys,
        },
        grafana_admin_user_key: secret_key(COMPONENT, "grafana-admin-user"),
        grafana_admin_password_key: secret_key(COMPONENT, "grafana-admin-password"),
        namespace,
        log_namespace,
        scrape_interval,
        prometheus,
        alertmanager_storage,
        grafana,
        loki,
        alerts,
        thresholds,
        run_as_user,
        images: MonitoringImages {
            alertmanager: ctx.own_image(&images::ALERTMANAGER),
            grafana: ctx.own_image(&images::GRAFANA),
            loki: ctx.own_image(&images::LOKI),
            promtail: ctx.own_image(&images::PROMTAIL),
        },
    })
}

/// Standalone mode, with the images of Prometheus and kube-state-metrics.
fn standalone(ctx: &mut Ctx) -> MonitoringMode {
    MonitoringMode::Standalone {
        prometheus_image: ctx.own_image(&images::PROMETHEUS),
        kube_state_metrics_image: ctx.own_image(&images::KUBE_STATE_METRICS),
    }
}

/// A Prometheus-style duration: a number and a unit (ms, s, m, h, d, w, y), repeated.
fn retention(text: &str) -> Result<(), String> {
    let mut rest = text;
    if rest.is_empty() {
        return Err("must not be empty".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest[digits..].starts_with(u));
        match unit {
            Some(unit) if digits > 0 => rest = &rest[digits + unit.len()..],
            _ => {
                return Err("expected a number and a unit (s, m, h, d, w, y), e.g. \"15d\"".into());
            }
        }
    }
    Ok(())
}

fn store(
    ctx: &mut Ctx,
    given: Option<&Store>,
    key: &str,
    retention_default: &str,
    storage_default: &str,
) -> StorePlan {
    let plan = StorePlan {
        retention: given
            .and_then(|s| s.retention.clone())
            .unwrap_or_else(|| retention_default.into()),
        storage: given
            .and_then(|s| s.storage.clone())
            .unwrap_or_else(|| storage_default.into()),
        storage_class: given.and_then(|s| s.storage_class.clone()),
    };
    ctx.rule(
        retention(&plan.retention),
        "invalid-duration",
        &format!("retention `{}`", plan.retention),
        &["monitoring", key, "retention"],
        "use a duration such as \"15d\" or \"168h\"",
    );
    if !matches!(quantity::parse(&plan.storage), Ok(v) if v > 0.0) {
        let span = ctx.value_span(&["monitoring", key, "storage"]);
        ctx.report(
            Diagnostic::error(
                "invalid-quantity",
                format!("size `{}` is not a storage quantity", plan.storage),
            )
            .at(span)
            .help("e.g. \"20Gi\""),
        );
    }
    plan
}

fn alerts(ctx: &mut Ctx, m: &Monitoring) -> AlertsPlan {
    let given = m.alerts.clone().unwrap_or_default();
    if let Some(email) = &given.email {
        let port_ok = email
            .smarthost
            .rsplit_once(':')
            .is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
        if !port_ok {
            let span = ctx.value_span(&["monitoring", "alerts", "email", "smarthost"]);
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    format!("smarthost `{}` is not host:port", email.smarthost),
                )
                .at(span)
                .help("e.g. smarthost = \"smtp.example.org:587\""),
            );
        }
    }
    for key in ["group_wait", "repeat_interval"] {
        let value = if key == "group_wait" {
            &given.group_wait
        } else {
            &given.repeat_interval
        };
        if let Some(v) = value {
            ctx.rule(
                names::go_duration(v),
                "invalid-duration",
                &format!("{key} `{v}`"),
                &["monitoring", "alerts", key],
                "use a duration such as \"30s\" or \"4h\"",
            );
        }
    }
    AlertsPlan {
        slack: given.slack.map(|s| SlackPlan {
            channel: s.channel,
            webhook_key: secret_key(COMPONENT, "slack-webhook-url"),
        }),
        email: given.email.map(|e| EmailPlan {
            to: e.to,
            from: e.from,
            smarthost: e.smarthost,
            username: e.username,
            password_key: secret_key(COMPONENT, "smtp-password"),
        }),
        group_wait: given.group_wait.unwrap_or_else(|| "30s".into()),
        repeat_interval: given.repeat_interval.unwrap_or_else(|| "4h".into()),
    }
}

fn thresholds(ctx: &mut Ctx, m: &Monitoring) -> ThresholdsPlan {
    let t = m.thresholds.clone().unwrap_or_default();
    let mut percent = |value: Option<u32>, key: &str, default: u32| {
        let v = value.unwrap_or(default);
        if !(1..=100).contains(&v) {
            let span = ctx.value_span(&["monitoring", "thresholds", key]);
            ctx.report(
                Diagnostic::error("invalid-value", format!("{key} = {v} is not a percentage"))
                    .at(span)
                    .help("use a whole number from 1 to 100"),
            );
        }
        v
    };
    let plan = ThresholdsPlan {
        cpu_percent: percent(t.cpu_percent, "cpu_percent", 90),
        memory_percent: percent(t.memory_percent, "memory_percent", 90),
        disk_percent: percent(t.disk_percent, "disk_percent", 85),
        restarts_per_hour: t.restarts_per_hour.unwrap_or(3),
        consumer_lag: t.consumer_lag.unwrap_or(1000),
        for_duration: t.for_duration.unwrap_or_else(|| "10m".into()),
    };
    ctx.rule(
        names::prometheus_duration(&plan.for_duration),
        "invalid-duration",
        &format!("for `{}`", plan.for_duration),
        &["monitoring", "thresholds", "for"],
        "it goes into the alerting rules' `for`: a Prometheus duration such as \"10m\" or \"1h30m\"",
    );
    plan
}

#[cfg(test)]
mod tests {
    use super::retention;

    #[test]
    fn retention_durations() {
        for ok in ["15d", "168h", "1y", "2w3d", "90m"] {
            assert_eq!(retention(ok), Ok(()), "{ok}");
        }
        for bad in ["", "15", "d", "15 days", "1.5d", "-1d"] {
            assert!(retention(bad).is_err(), "{bad}");
        }
    }
}
