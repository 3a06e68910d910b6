//! Checks of one `[coder.<name>]` and its resolution into a [`CoderPlan`]: the database
//! connection is derived from the referenced postgres component (never a typed host),
//! the agent URL must be reachable in-cluster, and the workspace RBAC is derived from
//! what the declared templates create.

use std::collections::{BTreeMap, BTreeSet};

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, fqdn, names};
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::model::coder::Coder;
use crate::plan::{CoderPlan, DbConnection, Mode, PostgresPlan, RbacRule, SecretPlan};

pub const CHART_REPOSITORY: &str = "https://helm.coder.com/v2";

/// What the upstream chart's workspace Role grants (REFERENCE: core pods and
/// persistentvolumeclaims, apps/deployments).
const CHART_BASELINE: &[&str] = &["pods", "persistentvolumeclaims", "apps/deployments"];

/// Resources a workspace template may create, as `[group/]resource`.
const KNOWN_RESOURCES: &[&str] = &[
    "pods",
    "persistentvolumeclaims",
    "configmaps",
    "secrets",
    "services",
    "serviceaccounts",
    "apps/deployments",
    "apps/statefulsets",
    "batch/jobs",
    "networking.k8s.io/networkpolicies",
    "networking.k8s.io/ingresses",
];

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    coder: &Coder,
    defaults: &ResolvedDefaults,
    domain: &str,
    servers: &BTreeMap<String, PostgresPlan>,
    other_components: &BTreeMap<String, &'static str>,
) -> Option<CoderPlan> {
    let before = ctx.diags.len();
    let namespace = super::app::namespace(ctx, "coder", name, coder.namespace.as_deref(), defaults);
    let version = coder.version.trim_start_matches('v').to_owned();
    if version.is_empty()
        || !version
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        let span = ctx.value_span(&["coder", name, "version"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("coder version `{}` is not a release number", coder.version),
            )
            .at(span)
            .help("pin a release, e.g. version = \"2.16.1\""),
        );
    }
    let db = database(ctx, name, coder, servers, other_components);
    ctx.rule(
        names::dns1123_label(&coder.host),
        "invalid-name",
        &format!("host `{}`", coder.host),
        &["coder", name, "host"],
        "a single DNS label, e.g. \"coder\" (the access URL is https://<host>.<domain>)",
    );
    let public_host = format!("{}.{domain}", coder.host);
    let access_url = format!("https://{public_host}");
    let wildcard = coder
        .wildcard
        .clone()
        .unwrap_or_else(|| format!("*.{public_host}"));
    // A wildcard derived from a bad domain is not wrong itself: the domain is reported.
    let derived_from_bad_domain =
        coder.wildcard.is_none() && names::dns1123_subdomain(domain).is_err();
    if !derived_from_bad_domain
        && (!wildcard.starts_with("*.") || names::dns1123_subdomain(&wildcard[2..]).is_err())
    {
        let span = ctx.value_span(&["coder", name, "wildcard"]);
        ctx.report(
            Diagnostic::error(
                "invalid-name",
                format!("wildcard `{wildcard}` is not a wildcard host"),
            )
            .at(span)
            .help(format!("e.g. wildcard = \"*.{domain}\"")),
        );
    }
    let internal_url = format!("http://{}", fqdn(name, &namespace));
    let agent_url = coder
        .agent_url
        .clone()
        .unwrap_or_else(|| internal_url.clone());
    if agent_url != internal_url && agent_url != access_url {
        let span = ctx.value_span(&["coder", name, "agent_url"]);
        ctx.report(
            Diagnostic::error("unreachable-agent-url", format!("workspace agents cannot be sure to reach `{agent_url}` from inside the cluster"))
                .at(span)
                .label("agents download their binary from this URL")
                .help(format!("remove agent_url to use the in-cluster Service ({internal_url}), or use the access URL ({access_url})")),
        );
    }
    if let Some(ip) = &coder.load_balancer_ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        let span = ctx.value_span(&["coder", name, "load_balancer_ip"]);
        ctx.report(
            Diagnostic::error("invalid-value", format!("`{ip}` is not an IP address"))
                .at(span)
                .help("e.g. load_balancer_ip = \"192.168.80.105\""),
        );
    }
    let ingress = coder.ingress.clone().unwrap_or_default();
    let workspace_namespace = coder
        .workspace_namespace
        .clone()
        .unwrap_or_else(|| namespace.clone());
    if coder.workspace_namespace.is_some() {
        ctx.namespace_rule(
            &workspace_namespace,
            &["coder", name, "workspace_namespace"],
            "use a lowercase DNS label",
        );
    }
    let rules = rbac(ctx, name, coder);
    let mode = mode(ctx, name, coder, &version);
    let resources = resources(
        ctx,
        coder.resources.as_ref(),
        &defaults.resources,
        &["coder", name, "resources"],
    );
    let mut db = db?;
    // A Secret is visible in its own namespace only: mirror the password next to Coder.
    let mut secrets = Vec::new();
    if servers
        .get(&coder.database)
        .is_some_and(|s| s.namespace != namespace)
    {
        let mirrored = format!("{name}-db-credentials");
        secrets.push(SecretPlan {
            name: mirrored.clone(),
            namespace: namespace.clone(),
            keys: vec![db.password.1.clone()],
        });
        db.password.0 = mirrored;
    }
    let egress = super::network::destinations(ctx, &coder.egress, &["coder", name, "egress"]);
    let image = ctx.image(&super::images::CODER, &format!("v{version}"));
    (ctx.diags.len() == before).then(|| CoderPlan {
        egress,
        secrets,
        name: name.to_owned(),
        chart_image: chart_image(&image, &version),
        image: image.to_string(),
        version,
        replicas: coder.replicas.unwrap_or(1),
        access_url,
        host: public_host,
        wildcard,
        agent_url,
        db,
        db_server: coder.database.clone(),
        ingress_class: ingress.class.unwrap_or_else(|| "nginx".into()),
        tls_secret: ingress.tls_secret.unwrap_or_else(|| format!("{name}-tls")),
        load_balancer_ip: coder.load_balancer_ip.clone(),
        external_dns: coder.external_dns.unwrap_or(false),
        resources,
        workspace_namespace,
        rules,
        mode,
        run_as_user: defaults.run_as_user,
        namespace,
    })
}

/// The connection to the referenced database, derived from the server's plan.
fn database(
    ctx: &mut Ctx,
    name: &str,
    coder: &Coder,
    servers: &BTreeMap<String, PostgresPlan>,
    others: &BTreeMap<String, &'static str>,
) -> Option<DbConnection> {
    let target = &coder.database;
    let Some(server) = servers.get(target) else {
        let span = ctx.value_span(&["coder", name, "database"]);
        let help = match (
            others.get(target),
            closest(target, servers.keys().map(String::as_str)),
        ) {
            (Some(kind), _) if *kind != "postgres" => format!(
                "`{target}` is a{} {kind}, not a postgres component",
                if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "n"
                } else {
                    ""
                }
            ),
            (Some(_), _) => return None, // the server has errors of its own
            (None, Some(best)) => format!("did you mean `{best}`?"),
            (None, None) => format!(
                "declare it as [postgres.{target}]; stackc derives the host, port and credentials from it"
            ),
        };
        ctx.report(
            Diagnostic::error("dangling-reference", format!("coder `{name}` uses database server `{target}`, which is not a postgres component of this stack"))
                .at(span)
                .help(help),
        );
        return None;
    };
    let wanted = coder
        .database_name
        .clone()
        .or_else(|| (server.databases.len() == 1).then(|| server.databases[0].0.clone()));
    let Some((database, owner)) = wanted
        .as_ref()
        .and_then(|w| server.databases.iter().find(|(d, _)| d == w))
    else {
        let span = ctx.value_span(&[
            "coder",
            name,
            if coder.database_name.is_some() {
                "database_name"
            } else {
                "database"
            },
        ]);
        let dbs: Vec<&str> = server.databases.iter().map(|(d, _)| d.as_str()).collect();
        ctx.report(
            Diagnostic::error(
                "dangling-reference",
                match &wanted {
                    Some(w) => format!("postgres `{target}` has no database `{w}`"),
                    None => format!(
                        "postgres `{target}` has several databases; say which one Coder uses"
                    ),
                },
            )
            .at(span)
            .help(format!("set database_name to one of: {}", dbs.join(", "))),
        );
        return None;
    };
    Some(DbConnection {
        host: server.host(),
        port: super::postgres::PORT,
        database: database.clone(),
        user: owner.clone(),
        password: (server.credentials.name.clone(), server.password_key(owner)),
        sslmode: "disable".into(),
    })
}

/// The workspace Role: the chart's baseline plus everything the templates create.
fn rbac(ctx: &mut Ctx, name: &str, coder: &Coder) -> Vec<RbacRule> {
    let mut wanted: BTreeSet<String> = CHART_BASELINE.iter().map(|s| (*s).to_owned()).collect();
    for (template, spec) in &coder.templates {
        for (i, resource) in spec.creates.iter().enumerate() {
            if KNOWN_RESOURCES.contains(&resource.as_str()) {
                wanted.insert(resource.clone());
                continue;
            }
            let index = i.to_string();
            let span = ctx.value_span(&["coder", name, "templates", template, "creates", &index]);
            let help = match closest(resource, KNOWN_RESOURCES.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("known resources: {}", KNOWN_RESOURCES.join(", ")),
            };
            ctx.report(
                Diagnostic::error(
                    "unknown-resource",
                    format!(
                        "template `{template}` creates `{resource}`, which stackc cannot grant"
                    ),
                )
                .at(span)
                .help(help),
            );
        }
    }
    let mut by_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in wanted {
        let (group, res) = resource.rsplit_once('/').unwrap_or(("", resource.as_str()));
        by_group
            .entry(group.to_owned())
            .or_default()
            .push(res.to_owned());
    }
    by_group
        .into_iter()
        .map(|(api_group, resources)| RbacRule {
            api_group,
            resources,
            verbs: VERBS.iter().map(|v| (*v).to_owned()).collect(),
        })
        .collect()
}

/// The chart's `coder.image.repo` and `coder.image.tag` for `image`: the chart writes
/// `repo:tag` and has no digest value, so a digest rides in the tag (`v2.16.1@sha256:...`),
/// after the release's own tag when a replacement has none.
fn chart_image(image: &super::ImageReference, version: &str) -> (String, String) {
    let tag = image.tag.clone().unwrap_or_else(|| format!("v{version}"));
    let tag = match &image.digest {
        Some(digest) => format!("{tag}@{digest}"),
        None => tag,
    };
    (image.repository.clone(), tag)
}

fn mode(ctx: &mut Ctx, name: &str, coder: &Coder, version: &str) -> Mode {
    match coder.mode.as_deref().unwrap_or("manifests") {
        "manifests" => Mode::Manifests,
        "helm" => {
            let chart = coder.chart.clone().unwrap_or_default();
            Mode::Helm {
                repository: chart.repository.unwrap_or_else(|| CHART_REPOSITORY.into()),
                chart: "coder".into(),
                version: chart.version.unwrap_or_else(|| version.to_owned()),
            }
        }
        other => {
            let span = ctx.value_span(&["coder", name, "mode"]);
            ctx.report(Diagnostic::error("invalid-value", format!("unknown delivery mode `{other}`")).at(span).help("use \"manifests\" (every object rendered) or \"helm\" (the upstream chart via a Flux HelmRelease)"));
            Mode::Manifests
        }
    }
}

#[cfg(test)]
mod tests {
    use super::chart_image;
    use crate::check::ImageReference;

    fn reference(tag: Option<&str>, digest: Option<&str>) -> ImageReference {
        ImageReference {
            repository: "mirror.example.org/coder".into(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        }
    }

    #[test]
    fn the_chart_image_carries_a_digest_in_its_tag() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let repo = "mirror.example.org/coder".to_owned();
        assert_eq!(
            chart_image(&reference(Some("v2.16.1"), None), "2.16.1"),
            (repo.clone(), "v2.16.1".into())
        );
        assert_eq!(
            chart_image(&reference(Some("v2.17.0"), Some(&digest)), "2.16.1"),
            (repo.clone(), format!("v2.17.0@{digest}"))
        );
        // A replacement by digest alone keeps the release's tag beside it.
        assert_eq!(
            chart_image(&reference(None, Some(&digest)), "2.16.1"),
            (repo, format!("v2.16.1@{digest}"))
        );
    }
}
