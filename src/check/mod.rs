//! check: semantic validation of the typed model, and its resolution into a [`Plan`].
//! Names, references, ports, quantities, images, HPA bounds: every problem is collected
//! (one typo must not hide the next ten) and located through the provenance tree.
//! check reads no files and builds no Kubernetes objects.

mod app;
mod coder;
mod controllers;
mod cron;
mod cronjob;
mod exports;
mod image;
pub(crate) mod images;
mod influxdb;
mod kafka;
mod monitoring;
mod names;
mod network;
mod policy;
mod postgres;
mod quantity;
mod redis;
mod repo_path;
mod secrets;
mod stack;
mod tls;
mod tls_clients;

pub use cron::schedule as check_schedule;
pub use exports::{CLIENT_TLS_DIR, ca_file, env_prefix, fqdn};
pub use images::Reference as ImageReference;
pub use influxdb::PORT as INFLUXDB_PORT;
pub use kafka::{cluster_id as kafka_cluster_id, retention_ms, topic_name};
pub use monitoring::KUBE_PROMETHEUS_STACK;
pub use names::prometheus_duration;
pub use network::{DEFAULT_API, DEFAULT_INGRESS_NAMESPACE};
pub use policy::parse_date;
pub use postgres::PORT as POSTGRES_PORT;
pub use quantity::parse as parse_quantity;
pub use redis::PORT as REDIS_PORT;
pub use stack::KUBERNETES;
pub use tls::{CERT_MANAGER_NAMESPACE, CLOUDFLARE_TOKEN, INGRESS_CLASS};

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Span};
use crate::load::EnvStack;
use crate::load::tree::Node;
use crate::plan::{Component, Plan};

/// Checks one environment's stack; the Plan and any warnings when it holds no error.
pub fn check(env: &EnvStack) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    // The scan for plaintext secrets reads the whole source tree and nothing else; at
    // fleet scale it is a third of the check, so it runs beside the rest. Its findings
    // take the place in the list they had when it ran in line.
    let (plaintext, (plan, mut diags, plaintext_at)) =
        crate::parallel::both(|| secrets::plaintext(&env.tree), || plan_of(env));
    diags.splice(plaintext_at..plaintext_at, plaintext);
    match plan {
        Some(plan) if !diags.iter().any(Diagnostic::is_error) => Ok((plan, diags)),
        _ => Err(diags),
    }
}

/// Everything [`check`] does but the plaintext scan: the plan (none when an error was
/// found), the diagnostics, and where in them the scan's findings belong.
fn plan_of(env: &EnvStack) -> (Option<Plan>, Vec<Diagnostic>, usize) {
    let mut ctx = Ctx {
        tree: &env.tree,
        diags: Vec::new(),
        images: images::Images::default(),
    };
    ctx.images = images::Images::check(&mut ctx, &env.stack.images);
    let info = stack::stack_info(&mut ctx, &env.stack, &env.name);
    let flux = stack::flux(&mut ctx, &env.stack, &env.name);
    let defaults = stack::defaults(&mut ctx, &env.stack.defaults);
    let policy = policy::policy(&mut ctx, &env.stack.policy);
    let secrets = secrets::provider(&mut ctx, env);
    let tls = tls::tls(&mut ctx, env.stack.tls.as_ref(), &info.name);
    let network = network::network(&mut ctx, &env.stack.network);
    let plaintext_at = ctx.diags.len();
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
    let caches: Vec<_> = env
        .stack
        .redis
        .iter()
        .filter_map(|(name, r)| redis::resolve(&mut ctx, name, r, &defaults, &info.name))
        .collect();
    let mut jobs: Vec<_> = env
        .stack
        .cronjob
        .iter()
        .filter_map(|(name, j)| cronjob::resolve(&mut ctx, name, j, &defaults, &info.name))
        .collect();
    let mut others: Vec<Component> = servers.into_values().map(Component::Postgres).collect();
    others.extend(coders.into_iter().map(Component::Coder));
    others.extend(caches.into_iter().map(Component::Redis));
    others.extend(env.stack.kafka.iter().filter_map(|(name, k)| {
        kafka::resolve(&mut ctx, name, k, &defaults, &info.name).map(Component::Kafka)
    }));
    others.extend(env.stack.influxdb.iter().filter_map(|(name, i)| {
        influxdb::resolve(&mut ctx, name, i, &defaults).map(Component::Influxdb)
    }));
    // Providers are read before wiring: what a component exports never depends on its env.
    let providers: Vec<Component> = apps
        .iter()
        .cloned()
        .map(Component::App)
        .chain(jobs.iter().cloned().map(Component::CronJob))
        .chain(others.iter().cloned())
        .collect();
    let consumers = apps
        .iter_mut()
        .map(exports::Consumer::app)
        .chain(jobs.iter_mut().map(exports::Consumer::cronjob))
        .collect();
    exports::wire_uses(&mut ctx, consumers, &providers);
    tls_clients::no_plaintext(&mut ctx, &apps, &others);
    let mut components: Vec<Component> = apps.into_iter().map(Component::App).collect();
    components.extend(jobs.into_iter().map(Component::CronJob));
    components.extend(others);
    components.sort_by(|a, b| (a.kind(), a.name()).cmp(&(b.kind(), b.name())));
    tls::require_issuers(&mut ctx, &components, tls.as_ref());
    require_provider(&mut ctx, &components, secrets.is_some());
    require_provider_for_tls(&mut ctx, tls.as_ref(), secrets.is_some());
    let controllers = controllers::controllers(
        &mut ctx,
        &env.stack.controllers,
        tls.as_ref(),
        secrets.as_ref(),
        &components,
    );
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
    let mut others: Vec<(&str, &[&str], &crate::plan::SecretPlan)> = tls::secrets(tls.as_ref())
        .into_iter()
        .map(|s| ("the DNS-01 solver", &["tls", "acme", "dns01"][..], s))
        .collect();
    if let Some(m) = &monitoring {
        others.push(("[monitoring]", &["monitoring"][..], &m.credentials));
    }
    secrets::verify_sops(&mut ctx, secrets.as_ref(), &components, &others, &env.name);
    let images = std::mem::take(&mut ctx.images);
    images.warn_unused(&mut ctx);
    images.refuse_ambiguous(&mut ctx);
    if ctx.diags.iter().any(Diagnostic::is_error) {
        return (None, ctx.diags, plaintext_at);
    }
    let mut pod_security = BTreeMap::new();
    if let Some(m) = &monitoring {
        namespaces.insert(m.namespace.clone());
        namespaces.insert(m.log_namespace.clone());
        pod_security.insert(m.log_namespace.clone(), "privileged".to_owned());
    }
    let plan = Plan {
        env: env.name.clone(),
        stack: info,
        flux,
        namespaces,
        components,
        policy,
        secrets,
        tls,
        controllers,
        pod_security,
        monitoring,
        network,
    };
    (Some(plan), ctx.diags, plaintext_at)
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
        .chain(stack.coder.keys().map(|n| ("coder", n)))
        .chain(stack.redis.keys().map(|n| ("redis", n)))
        .chain(stack.cronjob.keys().map(|n| ("cronjob", n)))
        .chain(stack.kafka.keys().map(|n| ("kafka", n)))
        .chain(stack.influxdb.keys().map(|n| ("influxdb", n)));
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

/// The DNS-01 API token comes from the secret provider too.
fn require_provider_for_tls(ctx: &mut Ctx, tls: Option<&crate::plan::TlsPlan>, have: bool) {
    if have || tls::secrets(tls).is_empty() {
        return;
    }
    let span = ctx.value_span(&["tls", "acme", "dns01"]);
    ctx.report(
        Diagnostic::error("missing-secrets-provider", "the DNS-01 solver needs an API token, and the stack has no [secrets] provider")
            .at(span)
            .help("add [secrets] provider = \"external-secrets\" (with a store) or \"infisical\"; stackc never holds secret values"),
    );
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
    /// `[images]`, checked; it records which entries the stack used.
    images: images::Images,
}

impl Ctx<'_> {
    /// The reference of a stackc-chosen image at `tag`, as `[images]` pins or replaces it.
    fn image(&mut self, chosen: &'static images::Chosen, tag: &str) -> images::Reference {
        self.images.reference(chosen, tag)
    }

    /// The reference of a stackc-chosen image stackc pins itself (at its own tag).
    fn own_image(&mut self, chosen: &'static images::Chosen) -> String {
        debug_assert!(
            chosen.tag.is_some(),
            "{} takes a version",
            chosen.repository
        );
        self.image(chosen, chosen.tag.unwrap_or_default())
            .to_string()
    }

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

    /// Checks a namespace written at `path`: a DNS label (`invalid-name`, with `help`)
    /// that stackc may own (`reserved-namespace`).
    fn namespace_rule(&mut self, ns: &str, path: &[&str], help: &str) {
        let what = format!("namespace `{ns}`");
        self.rule(names::dns1123_label(ns), "invalid-name", &what, path, help);
        self.rule(
            names::own_namespace(ns),
            "reserved-namespace",
            &what,
            path,
            "use a namespace of the stack's own: stackc emits a Namespace for it, labelled Pod Security \"restricted\", and denies its traffic by default (NetworkPolicies)",
        );
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
