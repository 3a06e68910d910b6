//! check: semantic validation of the typed model, and its resolution into a [`Plan`].
//! Names, references, ports, quantities, images, HPA bounds: every problem is collected
//! (one typo must not hide the next ten) and located through the provenance tree.
//! check reads no files and builds no Kubernetes objects.

mod app;
mod coder;
mod cron;
mod exports;
mod image;
mod monitoring;
mod names;
mod policy;
mod postgres;
mod quantity;
mod secrets;
mod stack;

pub use coder::IMAGE as CODER_IMAGE;
pub use cron::schedule as check_schedule;
pub use exports::{env_prefix, fqdn};
pub use monitoring::KUBE_PROMETHEUS_STACK;

pub use policy::parse_date;
pub use quantity::parse as parse_quantity;
pub use stack::KUBERNETES;

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Span};
use crate::load::EnvStack;
use crate::load::tree::Node;
use crate::plan::{Component, Plan};

/// Checks one environment's stack; the Plan when it holds no error.
pub fn check(env: &EnvStack) -> Result<Plan, Vec<Diagnostic>> {
    let mut ctx = Ctx {
        tree: &env.tree,
        diags: Vec::new(),
    };
    let info = stack::stack_info(&mut ctx, &env.stack, &env.name);
    let flux = stack::flux(&mut ctx, &env.stack, &env.name);
    let defaults = stack::defaults(&mut ctx, &env.stack.defaults);
    let policy = policy::policy(&mut ctx, &env.stack.policy);
    let secrets = secrets::provider(&mut ctx, env);
    secrets::plaintext(&mut ctx);
    let kinds = unique_names(&mut ctx, &env.stack);
    let mut apps: Vec<_> = env
        .stack
        .app
        .iter()
        .filter_map(|(name, app)| app::resolve(&mut ctx, name, app, &defaults))
        .collect();
    let servers: BTreeMap<String, _> = env
        .stack
        .postgres
        .iter()
        .filter_map(|(name, pg)| {
            postgres::resolve(&mut ctx, name, pg, &defaults).map(|p| (name.clone(), p))
        })
        .collect();
    let coders: Vec<_> = env
        .stack
        .coder
        .iter()
        .filter_map(|(name, c)| {
            coder::resolve(&mut ctx, name, c, &defaults, &info.domain, &servers, &kinds)
        })
        .collect();
    let mut others: Vec<Component> = servers.into_values().map(Component::Postgres).collect();
    others.extend(coders.into_iter().map(Component::Coder));
    exports::wire_uses(&mut ctx, &mut apps, &others);
    let mut components: Vec<Component> = apps.into_iter().map(Component::App).collect();
    components.extend(others);
    components.sort_by(|a, b| (a.kind(), a.name()).cmp(&(b.kind(), b.name())));
    require_provider(&mut ctx, &components, secrets.is_some());
    secrets::verify_sops(&mut ctx, secrets.as_ref(), &components, &env.name);
    let mut namespaces: BTreeSet<String> = components
        .iter()
        .map(|c| c.namespace().to_owned())
        .collect();
    namespaces.extend(components.iter().filter_map(|c| match c {
        Component::Coder(coder) => Some(coder.workspace_namespace.clone()),
        _ => None,
    }));
    let monitoring = env.stack.monitoring.as_ref().and_then(|m| {
        monitoring::resolve(
            &mut ctx,
            m,
            &namespaces,
            defaults.run_as_user,
            secrets.is_some(),
        )
    });
    if ctx.diags.iter().any(Diagnostic::is_error) {
        return Err(ctx.diags);
    }
    let mut pod_security = BTreeMap::new();
    if let Some(m) = &monitoring {
        namespaces.insert(m.namespace.clone());
        namespaces.insert(m.log_namespace.clone());
        pod_security.insert(m.log_namespace.clone(), "privileged".to_owned());
    }
    Ok(Plan {
        env: env.name.clone(),
        stack: info,
        flux,
        namespaces,
        components,
        policy,
        secrets,
        pod_security,
        monitoring,
    })
}

/// Component names are unique across kinds (references name components, not kinds).
/// Returns each name's kind.
fn unique_names(ctx: &mut Ctx, stack: &crate::model::Stack) -> BTreeMap<String, &'static str> {
    let mut kinds: BTreeMap<String, &'static str> = BTreeMap::new();
    let names = stack
        .app
        .keys()
        .map(|n| ("app", n))
        .chain(stack.postgres.keys().map(|n| ("postgres", n)))
        .chain(stack.coder.keys().map(|n| ("coder", n)));
    for (kind, name) in names {
        if let Some(first) = kinds.insert(name.clone(), kind) {
            let span = ctx.key_span(&[kind, name]);
            ctx.report(
                Diagnostic::error("duplicate-name", format!("`{name}` names both a {first} and a {kind}"))
                    .at(span)
                    .help("component names are unique across kinds, because references name components: rename one"),
            );
        }
    }
    kinds
}

/// Components whose credentials come from the secret provider need one.
fn require_provider(ctx: &mut Ctx, components: &[Component], have: bool) {
    if have {
        return;
    }
    let needs = |c: &&Component| !c.secrets().is_empty();
    if let Some(c) = components.iter().find(needs) {
        let span = ctx.key_span(&[c.kind(), c.name()]);
        ctx.report(
            Diagnostic::error("missing-secrets-provider", format!("{} `{}` needs credentials, and the stack has no [secrets] provider", c.kind(), c.name()))
                .at(span)
                .help("add [secrets] provider = \"external-secrets\" (with a store) or \"infisical\"; stackc never holds secret values"),
        );
    }
}

/// The name a secret value has in the provider and in the Kubernetes Secret:
/// `coder-db` + `admin-password` → `CODER_DB_ADMIN_PASSWORD`.
pub fn secret_key(component: &str, purpose: &str) -> String {
    format!("{}_{}", env_prefix(component), env_prefix(purpose))
}

/// What every check needs: where values were written, and where to report.
pub(crate) struct Ctx<'a> {
    tree: &'a Node,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// The span of the value at `path` (or its nearest ancestor).
    fn value_span(&self, path: &[&str]) -> Option<Span> {
        Some(self.tree.span_of(path))
    }

    /// The span of the key at `path`, falling back to the value's.
    fn key_span(&self, path: &[&str]) -> Option<Span> {
        self.tree
            .entry(path)
            .map(|e| e.key_span)
            .or_else(|| self.value_span(path))
    }

    fn report(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    /// Reports `Err(reason)` of a format rule as `code` at the value of `path`.
    fn rule(
        &mut self,
        result: Result<(), String>,
        code: &'static str,
        what: &str,
        path: &[&str],
        help: &str,
    ) {
        if let Err(reason) = result {
            let span = self.value_span(path);
            self.report(
                Diagnostic::error(code, format!("{what} {reason}"))
                    .at(span)
                    .help(help),
            );
        }
    }
}
