//! `uses` edges: each reference must name another component, and what the provider
//! exports (its in-cluster FQDN and ports) becomes env vars of the consumer (an app or
//! a cronjob). This is the one place a reference is given meaning; build only sees the
//! resulting env vars.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::plan::{AppPlan, Component, CronJobPlan, EnvSource, EnvVar, SecretPlan};

/// What a component offers its consumers, as env vars; `None` when there is nothing
/// to connect to (an app without ports).
pub fn exports(component: &Component) -> Option<Vec<EnvVar>> {
    let prefix = env_prefix(component.name());
    let value = |suffix: &str, v: String| EnvVar {
        name: format!("{prefix}_{suffix}"),
        source: EnvSource::Value(v),
    };
    match component {
        Component::App(app) => {
            if app.ports.is_empty() {
                return None;
            }
            let mut out = vec![value("HOST", fqdn(&app.name, &app.namespace))];
            out.extend(
                app.ports
                    .iter()
                    .map(|p| value(&format!("PORT_{}", env_prefix(&p.name)), p.port.to_string())),
            );
            Some(out)
        }
        Component::Postgres(pg) => {
            let mut out = vec![
                value("HOST", pg.host()),
                value("PORT", super::postgres::PORT.to_string()),
                value("SSLMODE", "disable".into()),
            ];
            // With one database the consumer's database, user and password are unambiguous.
            if let [(db, owner)] = pg.databases.as_slice() {
                out.push(value("DATABASE", db.clone()));
                out.push(value("USER", owner.clone()));
                out.push(EnvVar {
                    name: format!("{prefix}_PASSWORD"),
                    source: EnvSource::Secret {
                        name: pg.credentials.name.clone(),
                        key: pg.password_key(owner),
                    },
                });
            }
            Some(out)
        }
        Component::Kafka(kafka) => {
            let mut out = vec![
                value("BOOTSTRAP_SERVERS", kafka.bootstrap_servers()),
                value("SECURITY_PROTOCOL", kafka.security_protocol().into()),
            ];
            // With one topic the consumer's topic is unambiguous.
            if let [topic] = kafka.topics.as_slice() {
                out.push(value("TOPIC", topic.name.clone()));
            }
            if kafka.tls.is_some() {
                out.push(value("CA_FILE", ca_file()));
            }
            Some(out)
        }
        Component::Influxdb(influx) => {
            let mut out = vec![
                value("URL", influx.url()),
                value("ORG", influx.org.clone()),
                value("BUCKET", influx.bucket.clone()),
                EnvVar {
                    name: format!("{prefix}_TOKEN"),
                    source: EnvSource::Secret {
                        name: influx.credentials.name.clone(),
                        key: influx.key("admin-token"),
                    },
                },
            ];
            if influx.tls.is_some() {
                out.push(value("CA_FILE", ca_file()));
            }
            Some(out)
        }
        Component::Coder(coder) => Some(vec![
            value(
                "URL",
                format!("http://{}", fqdn(&coder.name, &coder.namespace)),
            ),
            value("ACCESS_URL", coder.access_url.clone()),
        ]),
        Component::Redis(redis) => Some(vec![
            value("HOST", redis.host()),
            value("PORT", super::redis::PORT.to_string()),
            EnvVar {
                name: format!("{prefix}_PASSWORD"),
                source: EnvSource::Secret {
                    name: redis.credentials.name.clone(),
                    key: redis.password_key(),
                },
            },
        ]),
        // A scheduled job serves nothing.
        Component::CronJob(_) => None,
    }
}

/// Where a consumer of a TLS service mounts its client certificate Secret (`tls.crt`,
/// `tls.key` and the stack CA's `ca.crt`), read-only.
pub const CLIENT_TLS_DIR: &str = "/etc/stackc/tls";

/// The CA bundle consumers verify TLS services with.
pub fn ca_file() -> String {
    format!("{CLIENT_TLS_DIR}/ca.crt")
}

/// Whether consumers must speak TLS to `component` (and so need the stack's CA).
pub fn serves_tls(component: &Component) -> bool {
    match component {
        Component::Kafka(k) => k.tls.is_some(),
        Component::Influxdb(i) => i.tls.is_some(),
        _ => false,
    }
}

/// The client certificate of an app that uses a TLS service: issued by the stack's CA,
/// its Secret carries the CA (`ca.crt`) the app verifies servers with.
fn client_certificate(name: &str, namespace: &str) -> crate::plan::CertificatePlan {
    crate::plan::CertificatePlan {
        name: format!("{name}-client-tls"),
        namespace: namespace.to_owned(),
        dns_names: vec![fqdn(name, namespace)],
        issuer: crate::plan::Issuer::Internal,
        client: true,
        pkcs12_password: None,
    }
}

/// The in-cluster DNS name of a Service.
pub fn fqdn(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc.cluster.local")
}

/// `conveyor-producer` → `CONVEYOR_PRODUCER`.
pub fn env_prefix(name: &str) -> String {
    name.to_ascii_uppercase().replace(['-', '.'], "_")
}

/// A component whose `uses` are wired: the parts of its plan the wiring reads and fills.
pub(super) struct Consumer<'a> {
    kind: &'static str,
    name: &'a str,
    namespace: &'a str,
    /// In written order until wired (diagnostics point at the n-th item), then sorted.
    uses: &'a mut Vec<String>,
    env: &'a mut Vec<EnvVar>,
    secrets: &'a mut Vec<SecretPlan>,
    client_tls: &'a mut Option<crate::plan::CertificatePlan>,
}

impl<'a> Consumer<'a> {
    pub(super) fn app(app: &'a mut AppPlan) -> Self {
        Consumer {
            kind: "app",
            name: &app.name,
            namespace: &app.namespace,
            uses: &mut app.uses,
            env: &mut app.env,
            secrets: &mut app.secrets,
            client_tls: &mut app.client_tls,
        }
    }

    pub(super) fn cronjob(job: &'a mut CronJobPlan) -> Self {
        Consumer {
            kind: "cronjob",
            name: &job.name,
            namespace: &job.namespace,
            uses: &mut job.uses,
            env: &mut job.env,
            secrets: &mut job.secrets,
            client_tls: &mut job.client_tls,
        }
    }
}

/// A Secret is visible in its own namespace only: a reference to a provider's Secret
/// from another namespace is redirected to a copy the provider's operator creates next
/// to the consumer (recorded in the consumer's `secrets`).
fn mirror_secret(c: &mut Consumer, provider_ns: &str, provider: &str, var: &EnvVar) -> EnvVar {
    let EnvSource::Secret { key, .. } = &var.source else {
        return var.clone();
    };
    if provider_ns == c.namespace {
        return var.clone();
    }
    let name = format!("{}-{provider}-credentials", c.name);
    match c.secrets.iter_mut().find(|s| s.name == name) {
        Some(secret) => secret.keys.push(key.clone()),
        None => c.secrets.push(SecretPlan {
            name: name.clone(),
            namespace: c.namespace.to_owned(),
            keys: vec![key.clone()],
        }),
    }
    EnvVar {
        name: var.name.clone(),
        source: EnvSource::Secret {
            name,
            key: key.clone(),
        },
    }
}

/// Resolves every consumer's `uses` and adds the providers' exports to its env.
/// `providers` are the resolved components of every kind (before wiring).
pub(super) fn wire_uses(ctx: &mut Ctx, consumers: Vec<Consumer>, providers: &[Component]) {
    let exported: BTreeMap<String, (String, &'static str, Option<Vec<EnvVar>>)> = providers
        .iter()
        .map(|c| {
            (
                c.name().to_owned(),
                (c.namespace().to_owned(), c.kind(), exports(c)),
            )
        })
        .collect();
    let tls_services: Vec<&str> = providers
        .iter()
        .filter(|c| serves_tls(c))
        .map(Component::name)
        .collect();
    let known: Vec<String> = crate::model::COMPONENT_KINDS
        .iter()
        .filter_map(|kind| ctx.tree.get(&[kind]).and_then(|n| n.as_table()))
        .flat_map(|t| t.keys().cloned())
        .collect();
    for mut c in consumers {
        let (kind, name) = (c.kind, c.name);
        let mut seen = Vec::new();
        let item_spans: Vec<_> = match ctx.tree.get(&[kind, name, "uses"]).map(|n| &n.value) {
            Some(crate::load::tree::Value::Array(items)) => {
                items.iter().map(|i| Some(i.span)).collect()
            }
            _ => Vec::new(),
        };
        for (i, target) in c.uses.clone().iter().enumerate() {
            let span = item_spans
                .get(i)
                .copied()
                .flatten()
                .or_else(|| ctx.value_span(&[kind, name, "uses"]));
            if seen.contains(target) {
                ctx.report(
                    Diagnostic::error(
                        "duplicate-reference",
                        format!("`{target}` is listed twice in uses"),
                    )
                    .at(span)
                    .help("list each component once"),
                );
                continue;
            }
            seen.push(target.clone());
            if target == name {
                ctx.report(
                    Diagnostic::error("self-reference", format!("{kind} `{target}` uses itself"))
                        .at(span)
                        .help("remove it from `uses`"),
                );
                continue;
            }
            let Some((provider_ns, provider_kind, vars)) = exported.get(target) else {
                if known.contains(target) {
                    // The provider has errors of its own; they are reported already.
                    continue;
                }
                let help = match closest(target, known.iter().map(String::as_str)) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "declare it, e.g. `[app.{target}]`, or remove it; components: {}",
                        if known.is_empty() {
                            "(none)".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                };
                ctx.report(
                    Diagnostic::error(
                        "dangling-reference",
                        format!(
                            "{kind} `{name}` uses `{target}`, which is not a component of this stack"
                        ),
                    )
                    .at(span)
                    .label("no such component")
                    .help(help),
                );
                continue;
            };
            let Some(vars) = vars else {
                let (what, help) = if *provider_kind == "app" {
                    (
                        "exposes no ports",
                        format!("declare `ports` on `{target}`, or remove it from `uses`"),
                    )
                } else {
                    (
                        "is a scheduled job",
                        format!("a {provider_kind} serves nothing: remove `{target}` from `uses`"),
                    )
                };
                ctx.report(
                    Diagnostic::error(
                        "nothing-to-use",
                        format!("`{target}` {what}, so there is nothing to connect to"),
                    )
                    .at(span)
                    .help(help),
                );
                continue;
            };
            for var in vars {
                let var = mirror_secret(&mut c, provider_ns, target, var);
                if let Some(existing) = c.env.iter().find(|e| e.name == var.name) {
                    let span = ctx.key_span(&[kind, name, "env", &existing.name]);
                    ctx.report(
                        Diagnostic::error(
                            "env-conflict",
                            format!(
                                "env var `{}` is set both here and by `uses = [\"{target}\"]`",
                                var.name
                            ),
                        )
                        .at(span)
                        .help("remove this env var: stackc derives it from the reference"),
                    );
                    continue;
                }
                c.env.push(var);
            }
            if tls_services.contains(&target.as_str()) && c.client_tls.is_none() {
                *c.client_tls = Some(client_certificate(c.name, c.namespace));
            }
        }
        c.env.sort();
        c.uses.sort();
    }
}
