//! `uses` edges: each reference must name another component, and what the provider
//! exports (its in-cluster FQDN and ports) becomes env vars of the consumer. This is
//! the one place a reference is given meaning; build only sees the resulting env vars.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::plan::{AppPlan, Component, EnvSource, EnvVar};

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
        Component::App(_) | Component::Postgres(_) | Component::Coder(_) => false,
    }
}

/// The client certificate of an app that uses a TLS service: issued by the stack's CA,
/// its Secret carries the CA (`ca.crt`) the app verifies servers with.
fn client_certificate(app: &AppPlan) -> crate::plan::CertificatePlan {
    crate::plan::CertificatePlan {
        name: format!("{}-client-tls", app.name),
        namespace: app.namespace.clone(),
        dns_names: vec![fqdn(&app.name, &app.namespace)],
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

/// A Secret is visible in its own namespace only: a reference to a provider's Secret
/// from another namespace is redirected to a copy the provider's operator creates next
/// to the consumer (recorded in the consumer's `secrets`).
fn mirror_secret(app: &mut AppPlan, provider_ns: &str, provider: &str, var: &EnvVar) -> EnvVar {
    let EnvSource::Secret { key, .. } = &var.source else {
        return var.clone();
    };
    if provider_ns == app.namespace {
        return var.clone();
    }
    let name = format!("{}-{provider}-credentials", app.name);
    match app.secrets.iter_mut().find(|s| s.name == name) {
        Some(secret) => secret.keys.push(key.clone()),
        None => app.secrets.push(crate::plan::SecretPlan {
            name: name.clone(),
            namespace: app.namespace.clone(),
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

/// Resolves every app's `uses` and adds the providers' exports to its env. `others`
/// are the resolved components of every other kind.
pub(super) fn wire_uses(ctx: &mut Ctx, apps: &mut [AppPlan], others: &[Component]) {
    let exported: BTreeMap<String, (String, Option<Vec<EnvVar>>)> = apps
        .iter()
        .map(|a| Component::App(a.clone()))
        .chain(others.iter().cloned())
        .map(|c| (c.name().to_owned(), (c.namespace().to_owned(), exports(&c))))
        .collect();
    let tls_services: Vec<&str> = others
        .iter()
        .filter(|c| serves_tls(c))
        .map(Component::name)
        .collect();
    let known: Vec<String> = crate::model::COMPONENT_KINDS
        .iter()
        .filter_map(|kind| ctx.tree.get(&[kind]).and_then(|n| n.as_table()))
        .flat_map(|t| t.keys().cloned())
        .collect();
    for app in apps.iter_mut() {
        let mut seen = Vec::new();
        let item_spans: Vec<_> = match ctx.tree.get(&["app", &app.name, "uses"]).map(|n| &n.value) {
            Some(crate::load::tree::Value::Array(items)) => {
                items.iter().map(|i| Some(i.span)).collect()
            }
            _ => Vec::new(),
        };
        for (i, target) in app.uses.clone().iter().enumerate() {
            let span = item_spans
                .get(i)
                .copied()
                .flatten()
                .or_else(|| ctx.value_span(&["app", &app.name, "uses"]));
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
            if target == &app.name {
                ctx.report(
                    Diagnostic::error("self-reference", format!("app `{target}` uses itself"))
                        .at(span)
                        .help("remove it from `uses`"),
                );
                continue;
            }
            let Some((provider_ns, vars)) = exported.get(target) else {
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
                            "app `{}` uses `{target}`, which is not a component of this stack",
                            app.name
                        ),
                    )
                    .at(span)
                    .label("no such component")
                    .help(help),
                );
                continue;
            };
            let Some(vars) = vars else {
                ctx.report(
                    Diagnostic::error(
                        "nothing-to-use",
                        format!("`{target}` exposes no ports, so there is nothing to connect to"),
                    )
                    .at(span)
                    .help(format!(
                        "declare `ports` on `{target}`, or remove it from `uses`"
                    )),
                );
                continue;
            };
            for var in vars {
                let var = mirror_secret(app, provider_ns, target, var);
                let name = &var.name;
                if let Some(existing) = app.env.iter().find(|e| &e.name == name) {
                    let span = ctx.key_span(&["app", &app.name, "env", &existing.name]);
                    ctx.report(
                        Diagnostic::error(
                            "env-conflict",
                            format!(
                                "env var `{name}` is set both here and by `uses = [\"{target}\"]`"
                            ),
                        )
                        .at(span)
                        .help("remove this env var: stackc derives it from the reference"),
                    );
                    continue;
                }
                app.env.push(var.clone());
            }
            if tls_services.contains(&target.as_str()) && app.client_tls.is_none() {
                app.client_tls = Some(client_certificate(app));
            }
        }
        app.env.sort();
        app.uses.sort();
    }
}
