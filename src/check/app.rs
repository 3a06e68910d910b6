//! Checks of one `[app.<name>]` and its resolution into an [`AppPlan`].

use std::collections::BTreeMap;

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, image, names, quantity};
use crate::diag::Diagnostic;
use crate::model::{App, ConfigFiles, EnvRef, EnvValue, Probe};
use crate::plan::{
    AppPlan, AutoscalePlan, ConfigPlan, EnvSource, EnvVar, MetricsPlan, Port, ProbeAction,
    ProbePlan, ProbesPlan, SecretPlan,
};

/// The name of the port `metrics = { port = N }` adds.
pub const METRICS_PORT: &str = "metrics";

/// Checks an app; its plan when the app's own values hold no error (uses are wired later).
pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    app: &App,
    defaults: &ResolvedDefaults,
) -> Option<AppPlan> {
    let before = ctx.diags.len();

    let namespace = namespace(ctx, "app", name, app.namespace.as_deref(), defaults);
    check_image(ctx, "app", name, &app.image);

    let ports = ports(ctx, name, app);
    let metrics = app.metrics.as_ref().and_then(|m| {
        let port = u16::try_from(m.port).ok().filter(|p| *p > 0)?;
        Some(MetricsPlan {
            port_name: METRICS_PORT.into(),
            port,
            path: m.path.clone().unwrap_or_else(|| "/metrics".into()),
        })
    });
    let env = env(ctx, "app", name, &app.env);
    let config = config(ctx, "app", name, app.config.as_ref());
    let resources = resources(
        ctx,
        app.resources.as_ref(),
        &defaults.resources,
        &["app", name, "resources"],
    );
    let probes = probes(ctx, name, app, &ports, metrics.as_ref());
    let autoscale = app.autoscale.as_ref().map(|a| AutoscalePlan {
        min: a.min,
        max: a.max,
        cpu: a.cpu.unwrap_or(80),
    });
    if let Some(a) = &autoscale {
        let cpu_request = resources
            .requests
            .cpu
            .as_deref()
            .and_then(|q| quantity::parse(q).ok());
        check_autoscale(ctx, name, a, cpu_request.is_some_and(|cpu| cpu > 0.0));
    }
    let replicas = match &autoscale {
        Some(a) => a.min,
        None => app.replicas.unwrap_or(defaults.replicas),
    };
    // In written order until `uses` are wired (diagnostics point at the n-th item).
    let uses = app.uses.clone();

    let secrets = provider_secrets(name, &namespace, &env);
    let egress = super::network::destinations(ctx, &app.egress, &["app", name, "egress"]);
    (ctx.diags.len() == before).then(|| AppPlan {
        name: name.to_owned(),
        namespace,
        image: app.image.clone(),
        command: app.command.clone().unwrap_or_default(),
        args: app.args.clone().unwrap_or_default(),
        replicas,
        ports,
        metrics,
        env,
        config,
        resources,
        probes,
        autoscale,
        uses,
        run_as_user: defaults.run_as_user,
        secrets,
        client_tls: None,
        egress,
    })
}

/// Checks the `image` of a `[<kind>.<name>]` workload.
pub(super) fn check_image(ctx: &mut Ctx, kind: &str, name: &str, reference: &str) {
    if let Err(reason) = image::parse(reference) {
        let span = ctx.value_span(&[kind, name, "image"]);
        ctx.report(
            Diagnostic::error("invalid-image", format!("image `{reference}` {reason}"))
                .at(span)
                .help("write registry/repository:tag, e.g. \"ghcr.io/acme/producer:1.4.0\""),
        );
    }
}

/// Checks a component's name and resolves its namespace (its own, else `[defaults]`).
pub(super) fn namespace(
    ctx: &mut Ctx,
    kind: &str,
    name: &str,
    own: Option<&str>,
    defaults: &ResolvedDefaults,
) -> String {
    if let Err(reason) = names::dns1123_label(name) {
        let span = ctx.key_span(&[kind, name]);
        ctx.report(
            Diagnostic::error("invalid-name", format!("{kind} name `{name}` {reason}"))
                .at(span)
                .help(format!("rename it to `{}`", suggest_label(name))),
        );
    }
    match own.or(defaults.namespace.as_deref()) {
        Some(ns) => {
            // A bad `[defaults] namespace` is reported once, where it is written.
            if own.is_some() {
                ctx.namespace_rule(
                    ns,
                    &[kind, name, "namespace"],
                    &format!("use a lowercase DNS label, e.g. `{}`", suggest_label(ns)),
                );
            }
            ns.to_owned()
        }
        None => {
            let span = ctx.key_span(&[kind, name]);
            ctx.report(
                Diagnostic::error("missing-key", format!("{kind} `{name}` has no namespace"))
                    .at(span)
                    .help("set `namespace = \"...\"` on it, or `[defaults] namespace`"),
            );
            String::new()
        }
    }
}

/// A DNS-1123 label close to `name`, for the help text.
fn suggest_label(name: &str) -> String {
    let lower: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    lower.trim_matches('-').chars().take(63).collect()
}

fn ports(ctx: &mut Ctx, name: &str, app: &App) -> Vec<Port> {
    let mut declared: Vec<(String, u32, Vec<&str>)> = app
        .ports
        .iter()
        .map(|(port_name, port)| {
            (
                port_name.clone(),
                *port,
                vec!["app", name, "ports", port_name.as_str()],
            )
        })
        .collect();
    if let Some(m) = &app.metrics {
        if app.ports.contains_key(METRICS_PORT) {
            let span = ctx.key_span(&["app", name, "ports", METRICS_PORT]);
            ctx.report(
                Diagnostic::error(
                    "duplicate-port",
                    format!("port name `{METRICS_PORT}` is taken by `metrics = {{ port = .. }}`"),
                )
                .at(span)
                .help("remove it from `ports`: the metrics table declares the metrics port"),
            );
        } else {
            declared.push((
                METRICS_PORT.into(),
                m.port,
                vec!["app", name, "metrics", "port"],
            ));
        }
    }
    let mut seen: BTreeMap<u32, String> = BTreeMap::new();
    let mut out = Vec::new();
    for (port_name, number, path) in declared {
        if let Err(reason) = names::port_name(&port_name) {
            let span = ctx.key_span(&path);
            ctx.report(
                Diagnostic::error("invalid-port", format!("port name `{port_name}` {reason}"))
                    .at(span)
                    .help("port names are IANA service names, e.g. `http` or `metrics`"),
            );
        }
        let Some(valid) = u16::try_from(number).ok().filter(|p| *p > 0) else {
            let span = ctx.value_span(&path);
            ctx.report(
                Diagnostic::error("invalid-port", format!("port {number} is out of range"))
                    .at(span)
                    .help("ports are between 1 and 65535"),
            );
            continue;
        };
        if let Some(other) = seen.insert(number, port_name.clone()) {
            let span = ctx.value_span(&path);
            ctx.report(
                Diagnostic::error(
                    "duplicate-port",
                    format!("port {number} is declared twice (`{other}` and `{port_name}`)"),
                )
                .at(span)
                .help("each port number may appear once per app"),
            );
        }
        out.push(Port {
            name: port_name,
            port: valid,
        });
    }
    out.sort();
    out
}

/// The `env` table of a `[<kind>.<name>]` workload; `{ provider = ... }` values point
/// into the `<name>-secrets` Secret.
pub(super) fn env(
    ctx: &mut Ctx,
    kind: &str,
    name: &str,
    env: &BTreeMap<String, EnvValue>,
) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for (var, value) in env {
        let path = [kind, name, "env", var.as_str()];
        if let Err(reason) = names::env_var_name(var) {
            let span = ctx.key_span(&path);
            ctx.report(
                Diagnostic::error("invalid-env", format!("env var name `{var}` {reason}"))
                    .at(span)
                    .help("use letters, digits and `_`, e.g. LOG_LEVEL"),
            );
        }
        let source = match value {
            EnvValue::Text(s) => Some(EnvSource::Value(s.clone())),
            EnvValue::Integer(i) => Some(EnvSource::Value(i.to_string())),
            EnvValue::Float(f) => Some(EnvSource::Value(f.to_string())),
            EnvValue::Flag(b) => Some(EnvSource::Value(b.to_string())),
            EnvValue::Ref(r) => env_ref(ctx, r, &path),
        };
        if let Some(source) = source {
            out.push(EnvVar {
                name: var.clone(),
                source,
            });
        }
    }
    out
}

fn env_ref(ctx: &mut Ctx, r: &EnvRef, path: &[&str]) -> Option<EnvSource> {
    let span = ctx.value_span(path);
    let bad = |msg: &str| {
        Diagnostic::error("invalid-env", msg.to_owned())
            .at(span)
            .help("write { provider = \"NAME\" }, { secret = \"name\", key = \"k\" }, { config_map = \"name\", key = \"k\" } or { field = \"metadata.name\" }")
    };
    if let Some(value) = &r.provider {
        if r.secret.is_some() || r.config_map.is_some() || r.field.is_some() || r.key.is_some() {
            ctx.report(bad(
                "`provider` stands alone: the provider's name of the value is the key",
            ));
            return None;
        }
        if names::env_var_name(value).is_err() {
            ctx.report(bad(&format!(
                "provider value name `{value}` must be a letters/digits/_ identifier"
            )));
            return None;
        }
        let component = path[1];
        return Some(EnvSource::Secret {
            name: format!("{component}-secrets"),
            key: value.clone(),
        });
    }
    match (&r.secret, &r.config_map, &r.field, &r.key) {
        (Some(secret), None, None, Some(key)) => Some(EnvSource::Secret {
            name: secret.clone(),
            key: key.clone(),
        }),
        (None, Some(cm), None, Some(key)) => Some(EnvSource::ConfigMap {
            name: cm.clone(),
            key: key.clone(),
        }),
        (None, None, Some(field), None) => {
            pod_field(ctx, field, path);
            Some(EnvSource::Field(field.clone()))
        }
        (Some(_), None, None, None) | (None, Some(_), None, None) => {
            ctx.report(bad(
                "an env reference to a Secret or ConfigMap needs a `key`",
            ));
            None
        }
        _ => {
            ctx.report(bad(
                "an env reference needs exactly one of `secret`, `config_map` or `field`",
            ));
            None
        }
    }
}

/// Reports a `{ field = ... }` the Downward API does not give an env var.
fn pod_field(ctx: &mut Ctx, field: &str, path: &[&str]) {
    let Err(reason) = names::pod_field(field) else {
        return;
    };
    let help = match names::closest_pod_field(field) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!(
            "one of: {}, metadata.labels['<key>'], metadata.annotations['<key>']",
            names::POD_FIELDS.join(", ")
        ),
    };
    let span = ctx.value_span(&[path, &["field"]].concat());
    ctx.report(
        Diagnostic::error("invalid-env", format!("field `{field}` {reason}"))
            .at(span)
            .help(help),
    );
}

/// The `<name>-secrets` Secret holding every `{ provider = ... }` value of a workload.
pub(super) fn provider_secrets(name: &str, namespace: &str, env: &[EnvVar]) -> Vec<SecretPlan> {
    let secret = format!("{name}-secrets");
    let mut keys: Vec<String> = env
        .iter()
        .filter_map(|e| match &e.source {
            EnvSource::Secret { name, key } if *name == secret => Some(key.clone()),
            _ => None,
        })
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Vec::new();
    }
    vec![SecretPlan {
        name: secret,
        namespace: namespace.to_owned(),
        keys,
    }]
}

/// The `config` files of a `[<kind>.<name>]` workload, mounted at `/etc/<name>` by default.
pub(super) fn config(
    ctx: &mut Ctx,
    kind: &str,
    name: &str,
    config: Option<&ConfigFiles>,
) -> Option<ConfigPlan> {
    let config = config?;
    for file in config.files.keys() {
        ctx.rule(
            crate::kube::data_key(file),
            "invalid-name",
            &format!("config file name `{file}`"),
            &[kind, name, "config", "files", file],
            "use a plain file name such as \"app.yaml\"",
        );
    }
    let mount = config
        .mount
        .clone()
        .unwrap_or_else(|| format!("/etc/{name}"));
    if !mount.starts_with('/')
        || mount == "/"
        || mount.split('/').any(|p| p == "..")
        || mount == "/tmp"
    {
        let span = ctx.value_span(&[kind, name, "config", "mount"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("mount `{mount}` must be an absolute directory other than / and /tmp"),
            )
            .at(span)
            .help(format!("e.g. mount = \"/etc/{name}\"")),
        );
    }
    Some(ConfigPlan {
        config_map: format!("{name}-config"),
        mount,
        files: config.files.clone(),
    })
}

fn probes(
    ctx: &mut Ctx,
    name: &str,
    app: &App,
    ports: &[Port],
    metrics: Option<&MetricsPlan>,
) -> ProbesPlan {
    let default_port = metrics
        .map(|m| m.port_name.clone())
        .or_else(|| ports.first().map(|p| p.name.clone()));
    let given = app.probes.clone().unwrap_or_default();
    let declared = declared_ports(app);
    let mut one = |which: &str, probe: Option<&Probe>, fallback: bool| -> Option<ProbePlan> {
        let path = ["app", name, "probes", which];
        let Some(probe) = probe else {
            // Without a declared probe, a TCP check on the main port keeps the workload honest.
            return fallback
                .then(|| default_port.clone())
                .flatten()
                .map(|port| ProbePlan {
                    action: ProbeAction::Tcp { port },
                    initial_delay: 5,
                    period: 10,
                    failure_threshold: 3,
                });
        };
        let port = probe.port.clone().or_else(|| default_port.clone());
        let action = match (&probe.http, probe.tcp, &probe.exec) {
            (Some(http), None | Some(false), None) => port.clone().map(|port| ProbeAction::Http {
                path: http.clone(),
                port,
            }),
            (None, Some(true), None) => port.clone().map(|port| ProbeAction::Tcp { port }),
            (None, None | Some(false), Some(cmd)) if !cmd.is_empty() => {
                Some(ProbeAction::Exec(cmd.clone()))
            }
            _ => {
                let span = ctx.value_span(&path);
                ctx.report(
                    Diagnostic::error(
                        "invalid-probe",
                        format!(
                            "the {which} probe needs exactly one of `http`, `tcp = true` or `exec`"
                        ),
                    )
                    .at(span)
                    .help("e.g. { http = \"/healthz\", port = \"http\" }"),
                );
                return None;
            }
        };
        let Some(action) = action else {
            let span = ctx.value_span(&path);
            ctx.report(
                Diagnostic::error(
                    "invalid-probe",
                    format!("the {which} probe has no port to check"),
                )
                .at(span)
                .help("declare a port in `ports` or name one with `port = \"...\"`"),
            );
            return None;
        };
        if let Some(port) = &probe.port
            && !matches!(action, ProbeAction::Exec(_))
            && !declared.contains(&port.as_str())
        {
            let span = ctx.value_span(&[&path[..], &["port"]].concat());
            let known = &declared;
            let help = match crate::load::closest(port, known.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!(
                    "the app's ports are: {}",
                    if known.is_empty() {
                        "(none)".into()
                    } else {
                        known.join(", ")
                    }
                ),
            };
            ctx.report(
                Diagnostic::error(
                    "unknown-port",
                    format!(
                        "the {which} probe names port `{port}`, which the app does not declare"
                    ),
                )
                .at(span)
                .help(help),
            );
        }
        Some(ProbePlan {
            action,
            initial_delay: probe.initial_delay.unwrap_or(0),
            period: probe.period.unwrap_or(10),
            failure_threshold: probe.failure_threshold.unwrap_or(3),
        })
    };
    ProbesPlan {
        liveness: one("liveness", given.liveness.as_ref(), true),
        readiness: one("readiness", given.readiness.as_ref(), true),
        startup: one("startup", given.startup.as_ref(), false),
    }
}

/// The names of every port an app declares, `metrics` included, whether or not its
/// number is valid: a bad number is reported once, at the number, and a probe that
/// names the port is not wrong too.
fn declared_ports(app: &App) -> Vec<&str> {
    let metrics = app.metrics.as_ref().map(|_| METRICS_PORT);
    app.ports
        .keys()
        .map(String::as_str)
        .chain(metrics)
        .collect()
}

fn check_autoscale(ctx: &mut Ctx, name: &str, a: &AutoscalePlan, has_cpu_request: bool) {
    let path = ["app", name, "autoscale"];
    if a.min == 0 {
        let span = ctx.value_span(&["app", name, "autoscale", "min"]);
        ctx.report(
            Diagnostic::error("invalid-autoscale", "autoscale min must be at least 1")
                .at(span)
                .help("set min = 1 or more"),
        );
    }
    if a.min > a.max {
        let span = ctx.value_span(&["app", name, "autoscale", "min"]);
        ctx.report(
            Diagnostic::error(
                "invalid-autoscale",
                format!("autoscale min ({}) is larger than max ({})", a.min, a.max),
            )
            .at(span)
            .label("min")
            .help("set min <= max"),
        );
    }
    if a.cpu == 0 || a.cpu > 1000 {
        let span = ctx.value_span(&["app", name, "autoscale", "cpu"]);
        ctx.report(
            Diagnostic::error(
                "invalid-autoscale",
                format!("autoscale cpu target {}% is out of range", a.cpu),
            )
            .at(span)
            .help("the target is a percentage of the CPU request, e.g. cpu = 70"),
        );
    }
    if !has_cpu_request {
        let span = ctx.value_span(&path);
        ctx.report(
            Diagnostic::error(
                "hpa-without-cpu-request",
                "autoscaling on CPU needs a CPU request",
            )
            .at(span)
            .help("set resources = { requests = { cpu = \"100m\" } } on the app or in [defaults]"),
        );
    }
}
