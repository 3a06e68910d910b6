//! `uses` edges: each reference must name another component, and what the provider
//! exports (its in-cluster FQDN and ports) becomes env vars of the consumer. This is
//! the one place a reference is given meaning; build only sees the resulting env vars.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::plan::{AppPlan, EnvSource, EnvVar};

/// What a component offers its consumers, as env var name → value.
pub fn exports(app: &AppPlan) -> Vec<(String, String)> {
    let prefix = env_prefix(&app.name);
    let mut out = vec![(format!("{prefix}_HOST"), fqdn(&app.name, &app.namespace))];
    out.extend(app.ports.iter().map(|p| {
        (
            format!("{prefix}_PORT_{}", env_prefix(&p.name)),
            p.port.to_string(),
        )
    }));
    out
}

/// The in-cluster DNS name of a Service.
pub fn fqdn(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc.cluster.local")
}

/// `conveyor-producer` → `CONVEYOR_PRODUCER`.
pub fn env_prefix(name: &str) -> String {
    name.to_ascii_uppercase().replace(['-', '.'], "_")
}

/// Resolves every app's `uses` and adds the providers' exports to its env.
pub(super) fn wire_uses(ctx: &mut Ctx, apps: &mut [AppPlan]) {
    let exported: BTreeMap<String, (bool, Vec<(String, String)>)> = apps
        .iter()
        .map(|a| (a.name.clone(), (!a.ports.is_empty(), exports(a))))
        .collect();
    let known: Vec<String> = ctx
        .tree
        .get(&["app"])
        .and_then(|n| n.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
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
            let Some((has_ports, vars)) = exported.get(target) else {
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
            if !has_ports {
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
            }
            for (name, value) in vars {
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
                app.env.push(EnvVar {
                    name: name.clone(),
                    source: EnvSource::Value(value.clone()),
                });
            }
        }
        app.env.sort();
        app.uses.sort();
    }
}
