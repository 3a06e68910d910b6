//! Checks of one `[kafka.<name>]` and its resolution into a [`KafkaPlan`]: the version
//! pin, the broker count, topics (names, partitions, replication ≤ brokers, retention),
//! and the TLS material (server and client certificates, keystore password).

use sha2::{Digest, Sha256};

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, fqdn, names, secret_key};
use crate::diag::Diagnostic;
use crate::model::kafka::{Kafka, Topic};
use crate::plan::{
    CertificatePlan, Issuer, KafkaPlan, KafkaTlsPlan, MetricsPlan, Quantities, ResourcesPlan,
    SecretPlan, TopicPlan,
};

/// The pinned default version of the official image ([`super::images::KAFKA`]; Bitnami's
/// versioned images moved to an unmaintained repository).
pub const VERSION: &str = "4.1.0";
pub const EXPORTER_PORT: u16 = 9308;

pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    kafka: &Kafka,
    defaults: &ResolvedDefaults,
    stack: &str,
) -> Option<KafkaPlan> {
    let before = ctx.diags.len();
    let namespace = super::app::namespace(ctx, "kafka", name, kafka.namespace.as_deref(), defaults);
    let version = kafka.version.clone().unwrap_or_else(|| VERSION.into());
    let image = super::image::pinned(
        ctx,
        &["kafka", name],
        kafka.image.as_deref(),
        &super::images::KAFKA,
        &version,
        VERSION,
    );
    let brokers = kafka.brokers.unwrap_or(3);
    if brokers == 0 {
        let span = ctx.value_span(&["kafka", name, "brokers"]);
        ctx.report(
            Diagnostic::error("invalid-value", "a Kafka cluster needs at least one broker")
                .at(span)
                .help("set brokers = 1 (development) or 3 (a quorum that survives one node)"),
        );
    }
    super::postgres::size(ctx, &kafka.storage, &["kafka", name, "storage"]);
    if let Some(class) = &kafka.storage_class {
        ctx.rule(
            names::dns1123_subdomain(class),
            "invalid-name",
            &format!("storage class `{class}`"),
            &["kafka", name, "storage_class"],
            "name an existing StorageClass",
        );
    }
    let topics: Vec<TopicPlan> = kafka
        .topics
        .iter()
        .filter_map(|(topic, spec)| self::topic(ctx, name, topic, spec, brokers))
        .collect();
    let resources = resources(
        ctx,
        kafka.resources.as_ref(),
        &default_resources(),
        &["kafka", name, "resources"],
    );
    let tls = kafka
        .tls
        .unwrap_or(true)
        .then(|| tls(name, &namespace, brokers));
    (ctx.diags.len() == before).then(|| KafkaPlan {
        name: name.to_owned(),
        namespace,
        image,
        version,
        brokers,
        cluster_id: cluster_id(stack, name),
        storage: kafka.storage.clone(),
        storage_class: kafka.storage_class.clone(),
        topics,
        resources,
        tls,
        exporter_image: ctx.own_image(&super::images::KAFKA_EXPORTER),
        metrics: MetricsPlan {
            port_name: super::app::METRICS_PORT.into(),
            port: EXPORTER_PORT,
            path: "/metrics".into(),
        },
    })
}

/// A broker's JVM needs more than a web app's defaults: 1Gi requested, 2Gi limit (the
/// heap is half the memory limit). `resources` on the cluster overlays these.
fn default_resources() -> ResourcesPlan {
    ResourcesPlan {
        requests: Quantities {
            cpu: Some("250m".into()),
            memory: Some("1Gi".into()),
        },
        limits: Quantities {
            cpu: None,
            memory: Some("2Gi".into()),
        },
    }
}

fn topic(ctx: &mut Ctx, kafka: &str, topic: &str, spec: &Topic, brokers: u32) -> Option<TopicPlan> {
    let before = ctx.diags.len();
    let path = ["kafka", kafka, "topics", topic];
    if let Err(reason) = topic_name(topic) {
        let span = ctx.key_span(&path);
        ctx.report(
            Diagnostic::error("invalid-name", format!("topic name `{topic}` {reason}"))
                .at(span)
                .help("use letters, digits, `.`, `_` and `-`, e.g. \"conveyor-readings\""),
        );
    }
    let partitions = spec.partitions.unwrap_or(3);
    if partitions == 0 {
        let span = ctx.value_span(&[&path[..], &["partitions"]].concat());
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("topic `{topic}` needs at least one partition"),
            )
            .at(span)
            .help("e.g. partitions = 3"),
        );
    }
    let replication = spec.replication.unwrap_or(brokers.clamp(1, 3));
    if replication == 0 {
        let span = ctx.value_span(&[&path[..], &["replication"]].concat());
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("topic `{topic}` needs a replication factor of at least 1"),
            )
            .at(span)
            .help("e.g. replication = 3 (or leave it out: min(3, brokers))"),
        );
    } else if brokers > 0 && replication > brokers {
        let span = ctx.value_span(&[&path[..], &["replication"]].concat());
        ctx.report(
            Diagnostic::error(
                "replication-above-brokers",
                format!("topic `{topic}` asks for {replication} replicas, and kafka `{kafka}` has {brokers} broker(s)"),
            )
            .at(span)
            .label("Kafka cannot place two replicas of a partition on one broker")
            .help(format!("set replication to at most {brokers}, raise `brokers`, or leave replication out (min(3, brokers))")),
        );
    }
    let retention_ms = spec.retention.as_deref().and_then(|r| {
        let ms = retention_ms(r);
        if ms.is_none() {
            let span = ctx.value_span(&[&path[..], &["retention"]].concat());
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    format!("retention `{r}` is not a duration"),
                )
                .at(span)
                .help("a whole number with ms, s, m, h or d, e.g. \"7d\" or \"12h\""),
            );
        }
        ms
    });
    (ctx.diags.len() == before).then(|| TopicPlan {
        name: topic.to_owned(),
        partitions,
        replication,
        retention_ms,
    })
}

/// Kafka's legal topic names: 1–249 of `[a-zA-Z0-9._-]`, not `.`/`..`; `__` is
/// reserved for Kafka's internal topics.
pub fn topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 249 {
        return Err("must be 1 to 249 characters long".into());
    }
    if name == "." || name == ".." {
        return Err("is reserved".into());
    }
    if name.starts_with("__") {
        return Err("starts with `__`, which Kafka reserves for its internal topics".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "contains `{c}`; only letters, digits, `.`, `_` and `-` are allowed"
        ));
    }
    Ok(())
}

/// "7d" → 604800000; a whole number and one unit of ms, s, m, h, d.
pub fn retention_ms(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number.checked_mul(factor).filter(|ms| *ms > 0)
}

/// The KRaft cluster id: the first 16 bytes of SHA-256("<stack>/<name>") as unpadded
/// base64url (22 characters), so it never changes between renders.
pub fn cluster_id(stack: &str, name: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digest = Sha256::digest(format!("{stack}/{name}").as_bytes());
    let bits: Vec<bool> = digest[..16]
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
        .collect();
    bits.chunks(6)
        .map(|chunk| {
            let v = chunk
                .iter()
                .chain(std::iter::repeat(&false))
                .take(6)
                .fold(0usize, |acc, bit| (acc << 1) | usize::from(*bit));
            char::from(ALPHABET[v])
        })
        .collect()
}

/// The brokers' certificate (every broker's FQDN and the bootstrap Service), a client
/// certificate for the cluster's own Job and exporter, and the keystore password.
fn tls(name: &str, namespace: &str, brokers: u32) -> KafkaTlsPlan {
    let password = SecretPlan {
        name: format!("{name}-keystore"),
        namespace: namespace.to_owned(),
        keys: vec![secret_key(name, "keystore-password")],
    };
    let headless = fqdn(&format!("{name}-headless"), namespace);
    let mut dns_names = vec![fqdn(name, namespace)];
    dns_names.extend((0..brokers).map(|i| format!("{name}-{i}.{headless}")));
    KafkaTlsPlan {
        server: CertificatePlan {
            name: format!("{name}-tls"),
            namespace: namespace.to_owned(),
            dns_names,
            issuer: Issuer::Internal,
            client: false,
            pkcs12_password: Some((password.name.clone(), password.keys[0].clone())),
        },
        client: CertificatePlan {
            name: format!("{name}-client-tls"),
            namespace: namespace.to_owned(),
            dns_names: vec![fqdn(&format!("{name}-client"), namespace)],
            issuer: Issuer::Internal,
            client: true,
            pkcs12_password: None,
        },
        password,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_id_is_22_base64url_characters_and_stable() {
        let id = cluster_id("conveyor", "kafka");
        assert_eq!(id.len(), 22);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(id, cluster_id("conveyor", "kafka"));
        assert_ne!(id, cluster_id("conveyor", "kafka2"));
        assert_ne!(id, cluster_id("other", "kafka"));
    }

    #[test]
    fn topic_names_follow_kafka() {
        assert!(topic_name("conveyor-readings").is_ok());
        assert!(topic_name("a.b_c-1").is_ok());
        for bad in [
            "",
            ".",
            "..",
            "__consumer_offsets",
            "has space",
            "ü",
            &"x".repeat(250),
        ] {
            assert!(topic_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retention_units() {
        assert_eq!(retention_ms("7d"), Some(604_800_000));
        assert_eq!(retention_ms("12h"), Some(43_200_000));
        assert_eq!(retention_ms("500ms"), Some(500));
        for bad in ["", "7", "d", "7w", "1.5h", "0s", "-1d"] {
            assert_eq!(retention_ms(bad), None, "{bad}");
        }
    }
}
