//! Checks of `[stack]`, `[flux]` (the rules of its `path` are `repo_path.rs`') and
//! `[defaults]`, resolved into plan values.

use super::{Ctx, names, quantity, repo_path};
use crate::diag::Diagnostic;
use crate::model::{Defaults, Resources, Stack};
use crate::plan::{FluxPlan, Quantities, ResourcesPlan, StackInfo};

/// The Kubernetes minor version whose API schemas stackc is built with.
pub const KUBERNETES: &str = "1.34";

pub(super) fn stack_info(ctx: &mut Ctx, stack: &Stack, env: &str) -> StackInfo {
    let meta = &stack.stack;
    ctx.rule(
        names::dns1123_label(&meta.name),
        "invalid-name",
        &format!("stack name `{}`", meta.name),
        &["stack", "name"],
        "use lowercase letters, digits and `-`, e.g. \"platform\"",
    );
    if meta.kubernetes != KUBERNETES {
        let span = ctx.value_span(&["stack", "kubernetes"]);
        ctx.report(
            Diagnostic::error(
                "unsupported-kubernetes",
                format!("Kubernetes \"{}\" is not supported", meta.kubernetes),
            )
            .at(span)
            .label("the version the output targets")
            .help(format!("stackc validates against the Kubernetes {KUBERNETES} API: set kubernetes = \"{KUBERNETES}\"")),
        );
    }
    domain(ctx, &meta.domain);
    if let Err(reason) = names::dns1123_label(env) {
        let listed = ctx
            .tree
            .get(&["stack", "environments"])
            .and_then(|n| match &n.value {
                crate::load::tree::Value::Array(items) => items
                    .iter()
                    .find(|i| i.value == crate::load::tree::Value::String(env.to_owned()))
                    .map(|i| i.span),
                _ => None,
            });
        let diag = Diagnostic::error("invalid-name", format!("environment name `{env}` {reason}"))
            .help(format!(
                "rename environments/{env}.toml to a lowercase DNS label, e.g. \"prod\""
            ));
        ctx.report(match listed {
            Some(span) => diag.at(Some(span)),
            None => diag.in_file(format!("environments/{env}.toml")),
        });
    }
    StackInfo {
        name: meta.name.clone(),
        kubernetes: meta.kubernetes.clone(),
        domain: meta.domain.clone(),
    }
}

/// Checks `[stack] domain`: a DNS name, not a URL (no scheme, no path).
fn domain(ctx: &mut Ctx, domain: &str) {
    if let Some((what, drop, bare)) = names::url_as_domain(domain) {
        let span = ctx.value_span(&["stack", "domain"]);
        ctx.report(
            Diagnostic::error(
                "invalid-name",
                format!("domain `{domain}` is a URL: {what} is not part of a domain"),
            )
            .at(span)
            .help(format!("drop {drop}: domain = \"{bare}\"")),
        );
        return;
    }
    ctx.rule(
        names::dns1123_subdomain(domain),
        "invalid-name",
        &format!("domain `{domain}`"),
        &["stack", "domain"],
        "use a lowercase DNS name, e.g. \"dev.example.org\"",
    );
}

pub(super) fn flux(ctx: &mut Ctx, stack: &Stack, env: &str) -> FluxPlan {
    let flux = &stack.flux;
    let url_ok = ["https://", "http://", "ssh://"]
        .iter()
        .any(|scheme| flux.repository.starts_with(scheme));
    if !url_ok {
        let span = ctx.value_span(&["flux", "repository"]);
        ctx.report(
            Diagnostic::error(
                "invalid-url",
                format!(
                    "repository `{}` is not a Git URL Flux accepts",
                    flux.repository
                ),
            )
            .at(span)
            .help("use an https:// or ssh:// URL, e.g. \"ssh://git@github.com/acme/platform.git\""),
        );
    }
    let plan = FluxPlan {
        repository: flux.repository.clone(),
        branch: flux.branch.clone().unwrap_or_else(|| "main".into()),
        interval: flux.interval.clone().unwrap_or_else(|| "10m".into()),
        timeout: flux.timeout.clone().unwrap_or_else(|| "5m".into()),
        namespace: flux
            .namespace
            .clone()
            .unwrap_or_else(|| "flux-system".into()),
        secret: flux.secret.clone(),
        path: rendered_path(ctx, flux.path.as_deref(), env),
    };
    if plan.branch.is_empty() || plan.branch.contains(char::is_whitespace) {
        let span = ctx.value_span(&["flux", "branch"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                "branch must be a non-empty name without spaces",
            )
            .at(span),
        );
    }
    for (key, value) in [("interval", &plan.interval), ("timeout", &plan.timeout)] {
        ctx.rule(
            names::go_duration(value),
            "invalid-duration",
            &format!("{key} `{value}`"),
            &["flux", key],
            "use a Go duration such as \"10m\" or \"1h\"",
        );
    }
    ctx.rule(
        names::dns1123_label(&plan.namespace),
        "invalid-name",
        &format!("namespace `{}`", plan.namespace),
        &["flux", "namespace"],
        "use the namespace Flux runs in, usually \"flux-system\"",
    );
    if let Some(secret) = &plan.secret {
        ctx.rule(
            names::dns1123_subdomain(secret),
            "invalid-name",
            &format!("secret `{secret}`"),
            &["flux", "secret"],
            "name the Secret holding the Git credentials",
        );
    }
    plan
}

/// `rendered/<env>` as Flux finds it from the repository root: `./rendered/<env>`, or
/// `./<path>/rendered/<env>` for a stack in a directory of its repository. A bad `[flux]
/// path` is reported at its value (the root stands in for it, so checking goes on).
fn rendered_path(ctx: &mut Ctx, path: Option<&str>, env: &str) -> String {
    match path.map(repo_path::stack_dir) {
        None | Some(Ok(None)) => format!("./rendered/{env}"),
        Some(Ok(Some(dir))) => format!("./{dir}/rendered/{env}"),
        Some(Err(rejected)) => {
            let subject = match path.unwrap_or_default() {
                "" => "path".to_owned(),
                text => format!("path `{}`", shown(text)),
            };
            let help = match rejected.fix.as_deref() {
                Some(".") => {
                    "write path = \".\" for the repository root (the default where no file sets it)"
                        .into()
                }
                Some(fix) => format!("write path = \"{fix}\""),
                None => "write the directory of stack.toml relative to the repository root, \
                         e.g. path = \"platform/conveyor\""
                    .into(),
            };
            let span = ctx.value_span(&["flux", "path"]);
            ctx.report(
                Diagnostic::error("invalid-value", format!("{subject} {}", rejected.reason))
                    .at(span)
                    .label("the directory of stack.toml inside the repository")
                    .help(help),
            );
            format!("./rendered/{env}")
        }
    }
}

/// `text` with its control characters escaped (`\t`, `\u{7}`), so a message stays one line.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// `[defaults]` with the built-in defaults filled in.
pub(super) struct ResolvedDefaults {
    pub namespace: Option<String>,
    pub replicas: u32,
    pub resources: ResourcesPlan,
    pub run_as_user: i64,
}

pub(super) fn defaults(ctx: &mut Ctx, defaults: &Defaults) -> ResolvedDefaults {
    if let Some(ns) = &defaults.namespace {
        ctx.namespace_rule(
            ns,
            &["defaults", "namespace"],
            "use lowercase letters, digits and `-`",
        );
    }
    let run_as_user = defaults.run_as_user.unwrap_or(1000);
    if run_as_user <= 0 {
        let span = ctx.value_span(&["defaults", "run_as_user"]);
        ctx.report(
            Diagnostic::error("not-restricted", "workloads must not run as root (uid 0)")
                .at(span)
                .help("Pod Security \"restricted\" requires a non-root uid; the default is 1000"),
        );
    }
    let builtin = ResourcesPlan {
        requests: Quantities {
            cpu: Some("100m".into()),
            memory: Some("128Mi".into()),
        },
        limits: Quantities {
            cpu: None,
            memory: Some("256Mi".into()),
        },
    };
    let resources = resources(
        ctx,
        defaults.resources.as_ref(),
        &builtin,
        &["defaults", "resources"],
    );
    ResolvedDefaults {
        namespace: defaults.namespace.clone(),
        replicas: defaults.replicas.unwrap_or(1),
        resources,
        run_as_user,
    }
}

/// Overlays `given` on `base` field by field, checking every quantity and that no
/// request exceeds its limit.
pub(super) fn resources(
    ctx: &mut Ctx,
    given: Option<&Resources>,
    base: &ResourcesPlan,
    path: &[&str],
) -> ResourcesPlan {
    let pick = |set: Option<&crate::model::ResourceSet>, base: &Quantities| Quantities {
        cpu: set.and_then(|s| s.cpu.clone()).or_else(|| base.cpu.clone()),
        memory: set
            .and_then(|s| s.memory.clone())
            .or_else(|| base.memory.clone()),
    };
    let plan = ResourcesPlan {
        requests: pick(given.and_then(|r| r.requests.as_ref()), &base.requests),
        limits: pick(given.and_then(|r| r.limits.as_ref()), &base.limits),
    };
    let mut parsed = |group: &str, q: &Quantities| -> [Option<f64>; 2] {
        [("cpu", &q.cpu), ("memory", &q.memory)].map(|(name, value)| {
            let value = value.as_ref()?;
            let full: Vec<&str> = path.iter().copied().chain([group, name]).collect();
            match quantity::parse(value) {
                Ok(v) => Some(v),
                Err(reason) => {
                    let span = ctx.value_span(&full);
                    ctx.report(
                        Diagnostic::error(
                            "invalid-quantity",
                            format!("{name} {group} `{value}` is not a quantity"),
                        )
                        .at(span)
                        .label(reason)
                        .help(if name == "cpu" {
                            "e.g. cpu = \"250m\" or \"1\""
                        } else {
                            "e.g. memory = \"256Mi\" or \"1Gi\""
                        }),
                    );
                    None
                }
            }
        })
    };
    let requests = parsed("requests", &plan.requests);
    let limits = parsed("limits", &plan.limits);
    for (i, name) in ["cpu", "memory"].into_iter().enumerate() {
        if let (Some(req), Some(lim)) = (requests[i], limits[i])
            && req > lim
        {
            let full: Vec<&str> = path.iter().copied().chain(["requests", name]).collect();
            let span = ctx.value_span(&full);
            ctx.report(
                Diagnostic::error("request-above-limit", format!("{name} request is larger than its limit"))
                    .at(span)
                    .help("Kubernetes rejects a request above the limit: lower the request or raise the limit"),
            );
        }
    }
    plan
}
