//! Checks of one `[postgres.<name>]` and its resolution into a [`PostgresPlan`].

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, cron, names, quantity, secret_key};
use crate::diag::Diagnostic;
use crate::model::postgres::Postgres;
use crate::plan::{BackupPlan, PostgresPlan, SecretPlan};

pub const PORT: u16 = 5432;

pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    pg: &Postgres,
    defaults: &ResolvedDefaults,
) -> Option<PostgresPlan> {
    let before = ctx.diags.len();
    let namespace = super::app::namespace(ctx, "postgres", name, pg.namespace.as_deref(), defaults);
    let image = super::image::pinned(
        ctx,
        &["postgres", name],
        pg.image.as_deref(),
        &super::images::POSTGRES,
        &pg.version,
        "16.4",
    );
    if let Some(mode) = pg.mode.as_deref().filter(|m| *m != "manifests") {
        let span = ctx.value_span(&["postgres", name, "mode"]);
        let reason = if mode == "helm" {
            "the common PostgreSQL chart runs Bitnami images, which moved to an unmaintained repository in 2025; stackc renders the official image itself"
        } else {
            "the only delivery mode for postgres is \"manifests\""
        };
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("postgres cannot be delivered with mode `{mode}`"),
            )
            .at(span)
            .label(reason)
            .help("remove `mode` (or set mode = \"manifests\")"),
        );
    }
    size(ctx, &pg.storage, &["postgres", name, "storage"]);
    if pg.databases.is_empty() {
        let span = ctx.key_span(&["postgres", name]);
        ctx.report(
            Diagnostic::error(
                "missing-key",
                format!("postgres `{name}` declares no database"),
            )
            .at(span)
            .help("declare one, e.g. databases.coder = {} (owned by a user named `coder`)"),
        );
    }
    let mut databases = Vec::new();
    for (db, spec) in &pg.databases {
        let owner = spec.owner.clone().unwrap_or_else(|| db.clone());
        for (what, value, key) in [("database", db, None), ("owner", &owner, Some("owner"))] {
            let ok = value.len() <= 63
                && value.starts_with(|c: char| c.is_ascii_lowercase())
                && value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok || value == "postgres" {
                let mut path = vec!["postgres", name, "databases", db.as_str()];
                path.extend(key);
                let span = if key.is_some() {
                    ctx.value_span(&path)
                } else {
                    ctx.key_span(&path)
                };
                ctx.report(
                    Diagnostic::error(
                        "invalid-name",
                        format!("{what} name `{value}` is not a plain PostgreSQL identifier"),
                    )
                    .at(span)
                    .help("use lowercase letters, digits and `_` (and not `postgres`, the admin)"),
                );
            }
        }
        databases.push((db.clone(), owner));
    }
    let resources = resources(
        ctx,
        pg.resources.as_ref(),
        &defaults.resources,
        &["postgres", name, "resources"],
    );
    let backup = pg.backup.as_ref().map(|b| {
        if let Err(reason) = cron::schedule(&b.schedule) {
            let span = ctx.value_span(&["postgres", name, "backup", "schedule"]);
            ctx.report(
                Diagnostic::error(
                    "invalid-schedule",
                    format!("backup schedule `{}` {reason}", b.schedule),
                )
                .at(span)
                .help("e.g. schedule = \"0 3 * * *\" (03:00 every day)"),
            );
        }
        size(ctx, &b.storage, &["postgres", name, "backup", "storage"]);
        BackupPlan {
            schedule: b.schedule.clone(),
            storage: b.storage.clone(),
            keep: b.keep.unwrap_or(7).max(1),
        }
    });
    if let Some(class) = &pg.storage_class {
        ctx.rule(
            names::dns1123_subdomain(class),
            "invalid-name",
            &format!("storage class `{class}`"),
            &["postgres", name, "storage_class"],
            "name an existing StorageClass",
        );
    }
    let mut users: Vec<&str> = databases.iter().map(|(_, o)| o.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let mut keys = vec![secret_key(name, "postgres-password")];
    keys.extend(
        users
            .iter()
            .map(|u| secret_key(name, &format!("{u}-password"))),
    );
    keys.sort();
    (ctx.diags.len() == before).then(|| PostgresPlan {
        name: name.to_owned(),
        credentials: SecretPlan {
            name: format!("{name}-credentials"),
            namespace: namespace.clone(),
            keys,
        },
        namespace,
        image,
        version: pg.version.clone(),
        storage: pg.storage.clone(),
        storage_class: pg.storage_class.clone(),
        databases,
        resources,
        backup,
    })
}

/// Checks a volume size (a positive storage quantity).
pub(super) fn size(ctx: &mut Ctx, value: &str, path: &[&str]) {
    if !matches!(quantity::parse(value), Ok(v) if v > 0.0) {
        let span = ctx.value_span(path);
        ctx.report(
            Diagnostic::error(
                "invalid-quantity",
                format!("size `{value}` is not a storage quantity"),
            )
            .at(span)
            .help("e.g. \"20Gi\""),
        );
    }
}
