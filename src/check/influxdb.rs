//! Checks of one `[influxdb.<name>]` and its resolution into an [`InfluxdbPlan`]: a 2.x
//! version pin, org/bucket names, retention, credentials from the secret provider, and
//! the server certificate when `tls = true` (the default).

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, fqdn, names, secret_key};
use crate::diag::Diagnostic;
use crate::model::influxdb::Influxdb;
use crate::plan::{CertificatePlan, InfluxdbPlan, Issuer, MetricsPlan, SecretPlan};

/// The default version of the official image ([`super::images::INFLUXDB`]); `latest`
/// moves to InfluxDB 3, so a 2.x tag is always pinned.
pub const VERSION: &str = "2.7.12";
/// The HTTP(S) API port, which also serves `/metrics` and `/health`.
pub const PORT: u16 = 8086;

pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    influx: &Influxdb,
    defaults: &ResolvedDefaults,
) -> Option<InfluxdbPlan> {
    let before = ctx.diags.len();
    let namespace =
        super::app::namespace(ctx, "influxdb", name, influx.namespace.as_deref(), defaults);
    let version = influx.version.clone().unwrap_or_else(|| VERSION.into());
    let image = super::image::pinned(
        ctx,
        &["influxdb", name],
        influx.image.as_deref(),
        &super::images::INFLUXDB,
        &version,
        VERSION,
    );
    if !version.starts_with("2.") {
        let span = ctx.value_span(&["influxdb", name, "version"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("influxdb version `{version}` is not an InfluxDB 2 release"),
            )
            .at(span)
            .help(
                "stackc configures InfluxDB 2 (org, bucket, token): pin a 2.x tag, e.g. \"2.7.12\"",
            ),
        );
    }
    super::postgres::size(ctx, &influx.storage, &["influxdb", name, "storage"]);
    if let Some(class) = &influx.storage_class {
        ctx.rule(
            names::dns1123_subdomain(class),
            "invalid-name",
            &format!("storage class `{class}`"),
            &["influxdb", name, "storage_class"],
            "name an existing StorageClass",
        );
    }
    for (what, value) in [("org", &influx.org), ("bucket", &influx.bucket)] {
        let ok = !value.is_empty()
            && value.len() <= 255
            && !value.starts_with('_')
            && value
                .chars()
                .all(|c| !c.is_control() && c != '"' && c != '\\');
        if !ok {
            let span = ctx.value_span(&["influxdb", name, what]);
            ctx.report(
                Diagnostic::error(
                    "invalid-name",
                    format!("{what} name `{value}` is not a valid InfluxDB name"),
                )
                .at(span)
                .help("a non-empty name that does not start with `_` (reserved for system buckets), e.g. \"conveyor\""),
            );
        }
    }
    if let Some(retention) = &influx.retention
        && !retention_ok(retention)
    {
        let span = ctx.value_span(&["influxdb", name, "retention"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("retention `{retention}` is not a duration"),
            )
            .at(span)
            .help("a whole number with s, m, h, d or w, e.g. \"30d\"; leave it out to keep data forever"),
        );
    }
    let resources = resources(
        ctx,
        influx.resources.as_ref(),
        &defaults.resources,
        &["influxdb", name, "resources"],
    );
    let tls = influx.tls.unwrap_or(true).then(|| CertificatePlan {
        name: format!("{name}-tls"),
        namespace: namespace.clone(),
        dns_names: vec![
            fqdn(name, &namespace),
            format!("{name}.{namespace}.svc"),
            format!("{name}-0.{}", fqdn(&format!("{name}-headless"), &namespace)),
        ],
        issuer: Issuer::Internal,
        client: false,
        pkcs12_password: None,
    });
    let mut keys: Vec<String> = ["admin-username", "admin-password", "admin-token"]
        .iter()
        .map(|p| secret_key(name, p))
        .collect();
    keys.sort();
    (ctx.diags.len() == before).then(|| InfluxdbPlan {
        name: name.to_owned(),
        credentials: SecretPlan {
            name: format!("{name}-credentials"),
            namespace: namespace.clone(),
            keys,
        },
        namespace,
        image,
        version,
        storage: influx.storage.clone(),
        storage_class: influx.storage_class.clone(),
        org: influx.org.clone(),
        bucket: influx.bucket.clone(),
        retention: influx.retention.clone(),
        resources,
        tls,
        metrics: MetricsPlan {
            port_name: "http".into(),
            port: PORT,
            path: "/metrics".into(),
        },
    })
}

/// InfluxDB bucket retention: a whole number and one unit of s, m, h, d, w.
fn retention_ok(text: &str) -> bool {
    let Some(split) = text.find(|c: char| !c.is_ascii_digit()) else {
        return false;
    };
    let (number, unit) = text.split_at(split);
    number.parse::<u64>().is_ok_and(|n| n > 0) && ["s", "m", "h", "d", "w"].contains(&unit)
}
