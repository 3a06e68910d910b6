//! Checks of one `[redis.<name>]` and its resolution into a [`RedisPlan`]: version and
//! image, storage, `maxmemory` (a quantity below the memory limit) and its eviction
//! policy, the password Secret, and what monitoring and the graph read (ports, selector).

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, names, quantity, secret_key};
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::model::redis::Redis;
use crate::plan::{MetricsPlan, Port, RedisPlan, SecretPlan};

/// The release used when `version` is not given.
pub const VERSION: &str = "8.10.2";
pub const PORT: u16 = 6379;
pub const METRICS_PORT: u16 = 9121;

/// Redis' eviction policies (`maxmemory-policy`).
pub const POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    redis: &Redis,
    defaults: &ResolvedDefaults,
    stack: &str,
) -> Option<RedisPlan> {
    let before = ctx.diags.len();
    let namespace = super::app::namespace(ctx, "redis", name, redis.namespace.as_deref(), defaults);
    let version = redis.version.clone().unwrap_or_else(|| VERSION.into());
    let image = super::image::pinned(
        ctx,
        &["redis", name],
        redis.image.as_deref(),
        &super::images::REDIS,
        &version,
        VERSION,
    );
    if let Some(storage) = &redis.storage {
        super::postgres::size(ctx, storage, &["redis", name, "storage"]);
    }
    if let Some(class) = &redis.storage_class {
        if redis.storage.is_none() {
            let span = ctx.key_span(&["redis", name, "storage_class"]);
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    "`storage_class` without `storage`: this Redis has no volume",
                )
                .at(span)
                .help("add `storage = \"5Gi\"` for a persistent Redis, or remove `storage_class`"),
            );
        }
        ctx.rule(
            names::dns1123_subdomain(class),
            "invalid-name",
            &format!("storage class `{class}`"),
            &["redis", name, "storage_class"],
            "name an existing StorageClass",
        );
    }
    let resources = resources(
        ctx,
        redis.resources.as_ref(),
        &defaults.resources,
        &["redis", name, "resources"],
    );
    let limit = resources
        .limits
        .memory
        .as_deref()
        .and_then(|m| quantity::parse(m).ok().map(|bytes| (m, bytes)));
    let maxmemory = redis
        .maxmemory
        .as_deref()
        .and_then(|m| maxmemory(ctx, name, m, limit));
    if let Some(policy) = &redis.maxmemory_policy {
        eviction_policy(ctx, name, policy, redis.maxmemory.is_some());
    }
    let credentials = SecretPlan {
        name: format!("{name}-credentials"),
        namespace: namespace.clone(),
        keys: vec![secret_key(name, "password")],
    };
    (ctx.diags.len() == before).then(|| RedisPlan {
        name: name.to_owned(),
        namespace,
        image,
        version,
        exporter_image: ctx.own_image(&super::images::REDIS_EXPORTER),
        storage: redis.storage.clone(),
        storage_class: redis.storage_class.clone(),
        resources,
        maxmemory,
        maxmemory_policy: redis.maxmemory_policy.clone(),
        credentials,
        ports: vec![
            Port {
                name: "metrics".into(),
                port: METRICS_PORT,
            },
            Port {
                name: "redis".into(),
                port: PORT,
            },
        ],
        metrics: MetricsPlan {
            port_name: "metrics".into(),
            port: METRICS_PORT,
            path: "/metrics".into(),
        },
        selector: crate::build::selector_labels(stack, name),
    })
}

/// `maxmemory` in bytes: a whole, positive number of bytes below the container's memory
/// limit (Redis needs headroom above its data for buffers and forks).
fn maxmemory(ctx: &mut Ctx, name: &str, text: &str, limit: Option<(&str, f64)>) -> Option<u64> {
    let path = ["redis", name, "maxmemory"];
    let bytes = match quantity::parse(text) {
        Ok(v) if v >= 1.0 && v.fract() == 0.0 => v,
        Ok(_) => {
            let span = ctx.value_span(&path);
            ctx.report(
                Diagnostic::error(
                    "invalid-quantity",
                    format!("maxmemory `{text}` is not a whole, positive number of bytes"),
                )
                .at(span)
                .help("e.g. maxmemory = \"192Mi\""),
            );
            return None;
        }
        Err(reason) => {
            let span = ctx.value_span(&path);
            ctx.report(
                Diagnostic::error("invalid-quantity", format!("maxmemory `{text}`: {reason}"))
                    .at(span)
                    .help("write a memory quantity, e.g. maxmemory = \"192Mi\""),
            );
            return None;
        }
    };
    if let Some((limit, _)) = limit.filter(|(_, l)| bytes >= *l) {
        let span = ctx.value_span(&path);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("maxmemory `{text}` is not below the memory limit `{limit}`"),
            )
            .at(span)
            .label("Redis would be OOM-killed before it evicts")
            .help("keep maxmemory at about 75% of resources.limits.memory"),
        );
        return None;
    }
    // Bytes of a valid quantity fit u64 (checked whole and positive above).
    Some(bytes as u64)
}

fn eviction_policy(ctx: &mut Ctx, name: &str, policy: &str, has_maxmemory: bool) {
    let path = ["redis", name, "maxmemory_policy"];
    if !POLICIES.contains(&policy) {
        let span = ctx.value_span(&path);
        let help = match closest(policy, POLICIES.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("one of: {}", POLICIES.join(", ")),
        };
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("`{policy}` is not a Redis eviction policy"),
            )
            .at(span)
            .help(help),
        );
    } else if !has_maxmemory {
        let span = ctx.key_span(&path);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                "maxmemory_policy without maxmemory never applies",
            )
            .at(span)
            .help("set maxmemory (below the memory limit), e.g. maxmemory = \"192Mi\""),
        );
    }
}
