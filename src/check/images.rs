//! The images stackc chooses itself (every one in [`CHOSEN`], the one list of them) and
//! `[images]`, which pins each to a digest (`sha256:...`: the tag stays) or replaces it
//! with another reference (a mirror, with a tag or digest). A component's own `image`
//! override (postgres, redis, kafka, influxdb) wins over `[images]`; an `[images]` entry
//! for an image the stack does not run is the `unused-image` warning.

use std::collections::{BTreeMap, BTreeSet};

use super::Ctx;
use crate::diag::Diagnostic;
use crate::load::closest;

/// One image stackc chooses: its repository, what runs it (the README's "used by") and
/// the tag stackc pins (`None`: the tag is the component's `version`).
#[derive(Debug)]
pub struct Chosen {
    pub repository: &'static str,
    pub used_by: &'static str,
    pub tag: Option<&'static str>,
}

/// Coder's server (tag `v<version>`).
pub const CODER: Chosen = versioned("ghcr.io/coder/coder", "coder");
/// PostgreSQL, also the backup CronJob's image (the official image: the Bitnami images
/// moved to an unmaintained repository in 2025).
pub const POSTGRES: Chosen = versioned(
    "docker.io/library/postgres",
    "postgres, and its backup CronJob",
);
/// Redis.
pub const REDIS: Chosen = versioned("docker.io/library/redis", "redis");
/// The Redis metrics exporter sidecar.
pub const REDIS_EXPORTER: Chosen = tagged(
    "docker.io/oliver006/redis_exporter",
    "redis' metrics sidecar",
    "v1.91.1",
);
/// Kafka, also the topics Job's image.
pub const KAFKA: Chosen = versioned("docker.io/apache/kafka", "kafka, and its topics Job");
/// The Kafka consumer-lag exporter.
pub const KAFKA_EXPORTER: Chosen = tagged(
    "docker.io/danielqsj/kafka-exporter",
    "kafka's consumer-lag exporter",
    "v1.9.0",
);
/// InfluxDB.
pub const INFLUXDB: Chosen = versioned("docker.io/library/influxdb", "influxdb");
/// Prometheus (monitoring, standalone mode).
pub const PROMETHEUS: Chosen = tagged(
    "quay.io/prometheus/prometheus",
    "`[monitoring]`, standalone mode",
    "v3.5.0",
);
/// kube-state-metrics (monitoring, standalone mode).
pub const KUBE_STATE_METRICS: Chosen = tagged(
    "registry.k8s.io/kube-state-metrics/kube-state-metrics",
    "`[monitoring]`, standalone mode",
    "v2.16.0",
);
/// Alertmanager (monitoring).
pub const ALERTMANAGER: Chosen = tagged(
    "quay.io/prometheus/alertmanager",
    "`[monitoring]`",
    "v0.28.1",
);
/// Grafana (monitoring).
pub const GRAFANA: Chosen = tagged("docker.io/grafana/grafana", "`[monitoring]`", "12.1.1");
/// Loki (monitoring).
pub const LOKI: Chosen = tagged("docker.io/grafana/loki", "`[monitoring]`", "3.5.3");
/// Promtail (monitoring).
pub const PROMTAIL: Chosen = tagged("docker.io/grafana/promtail", "`[monitoring]`", "3.5.3");

/// Every image stackc chooses: the keys `[images]` takes.
pub const CHOSEN: &[&Chosen] = &[
    &CODER,
    &POSTGRES,
    &REDIS,
    &REDIS_EXPORTER,
    &KAFKA,
    &KAFKA_EXPORTER,
    &INFLUXDB,
    &PROMETHEUS,
    &KUBE_STATE_METRICS,
    &ALERTMANAGER,
    &GRAFANA,
    &LOKI,
    &PROMTAIL,
];

/// The JSON Schema of `[images]` (for `stackc schema`): one string property per image in
/// [`CHOSEN`], described, and no other key.
pub fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let properties: serde_json::Map<String, serde_json::Value> = CHOSEN
        .iter()
        .map(|chosen| {
            let property = serde_json::json!({ "description": describe(chosen), "type": "string" });
            (chosen.repository.to_owned(), property)
        })
        .collect();
    schemars::json_schema!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// What an `[images]` key pins and how its value is written, for the schema.
fn describe(chosen: &Chosen) -> String {
    let runs = match chosen.tag {
        Some(tag) => format!("`{}:{tag}`", chosen.repository),
        None => format!(
            "`{}`, tagged by the component's `version`",
            chosen.repository
        ),
    };
    format!(
        "Used by {}: stackc runs {runs}. \"sha256:<64 lowercase hex>\" pins it to that digest; \
         a whole reference with a tag or digest replaces it (a mirror).",
        chosen.used_by
    )
}

/// An image whose tag is its component's `version`.
const fn versioned(repository: &'static str, used_by: &'static str) -> Chosen {
    Chosen {
        repository,
        used_by,
        tag: None,
    }
}

/// An image stackc pins at `tag`.
const fn tagged(repository: &'static str, used_by: &'static str, tag: &'static str) -> Chosen {
    Chosen {
        repository,
        used_by,
        tag: Some(tag),
    }
}

/// The repository of the image whose tag is a component kind's `version` (`postgres` →
/// the official postgres image), for the kinds that have one.
pub fn versioned_by(kind: &str) -> Option<&'static str> {
    let chosen = match kind {
        "coder" => &CODER,
        "postgres" => &POSTGRES,
        "redis" => &REDIS,
        "kafka" => &KAFKA,
        "influxdb" => &INFLUXDB,
        _ => return None,
    };
    Some(chosen.repository)
}

/// A resolved image reference: `repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// What one `[images]` entry does to its image.
#[derive(Debug, PartialEq, Eq)]
enum Pin {
    /// `sha256:...`: the chosen repository and tag, pinned to this digest.
    Digest(String),
    /// A whole reference in place of the chosen one.
    Replace(Reference),
}

/// The checked `[images]` table, and which of its entries the stack used.
#[derive(Debug, Default)]
pub(super) struct Images {
    pins: BTreeMap<&'static str, Pin>,
    used: BTreeSet<&'static str>,
    /// The tags each digest-pinned repository was asked for: one digest is one image, so
    /// it can stand behind one tag only.
    tags: BTreeMap<&'static str, BTreeSet<String>>,
}

impl Images {
    /// Checks `[images]` (`unknown-key` for a repository stackc does not choose,
    /// `invalid-image` for a value that is neither a digest nor a pinned reference).
    pub(super) fn check(ctx: &mut Ctx, table: &BTreeMap<String, String>) -> Self {
        let mut pins = BTreeMap::new();
        for (key, value) in table {
            let Some(chosen) = CHOSEN.iter().find(|c| c.repository == key) else {
                unknown(ctx, key);
                continue;
            };
            match pin(value) {
                Ok(pin) => {
                    pins.insert(chosen.repository, pin);
                }
                Err(reason) => invalid(ctx, key, value, &reason),
            }
        }
        Self {
            pins,
            ..Self::default()
        }
    }

    /// The reference of `chosen` at `tag` (its own, or the component's version), as
    /// `[images]` pins or replaces it; the entry, if any, counts as used.
    pub(super) fn reference(&mut self, chosen: &'static Chosen, tag: &str) -> Reference {
        self.used.insert(chosen.repository);
        let pin = self.pins.get(chosen.repository);
        if let Some(Pin::Digest(_)) = pin {
            let tags = self.tags.entry(chosen.repository).or_default();
            if !tags.contains(tag) {
                tags.insert(tag.to_owned());
            }
        }
        resolve(chosen.repository, tag, pin)
    }

    /// The digest-pinned entries the stack asked for at more than one tag (two postgres
    /// components at different `version`s): with their tags, in key order.
    fn ambiguous(&self) -> impl Iterator<Item = (&'static str, &BTreeSet<String>)> + '_ {
        self.tags
            .iter()
            .filter(|(_, tags)| tags.len() > 1)
            .map(|(key, tags)| (*key, tags))
    }

    /// `ambiguous-digest` for each digest standing behind several tags: whatever the tags
    /// say, the digest decides what runs, so all but one would run another version.
    pub(super) fn refuse_ambiguous(&self, ctx: &mut Ctx) {
        for (key, tags) in self.ambiguous() {
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            let span = ctx.value_span(&["images", key]);
            ctx.report(
                Diagnostic::error(
                    "ambiguous-digest",
                    format!(
                        "`{key}` is pinned to one digest, and this stack runs it at {}",
                        join_and(&tags)
                    ),
                )
                .at(span)
                .label("one digest is one image")
                .help(format!(
                    "the digest decides what runs, so all but one would run another version than their tag says: pin each component's own `image` instead (e.g. image = \"{key}:{}@sha256:<64 hex digits>\"), or run one version",
                    tags[0]
                )),
            );
        }
    }

    /// The entries no image of the stack took, in key order.
    fn unused(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.pins.keys().copied().filter(|k| !self.used.contains(k))
    }

    /// `unused-image` for each entry no image of the stack took.
    pub(super) fn warn_unused(&self, ctx: &mut Ctx) {
        for key in self.unused() {
            let span = ctx.key_span(&["images", key]);
            ctx.report(
                Diagnostic::warning(
                    "unused-image",
                    format!("`{key}` is pinned in [images], and nothing in this stack runs it"),
                )
                .at(span)
                .help("remove the entry, or add what runs the image (a component's own `image` override wins over [images])"),
            );
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `repository:tag` under `pin`: pinned to its digest, or replaced.
fn resolve(repository: &str, tag: &str, pin: Option<&Pin>) -> Reference {
    let chosen = Reference {
        repository: repository.to_owned(),
        tag: Some(tag.to_owned()),
        digest: None,
    };
    match pin {
        None => chosen,
        Some(Pin::Digest(digest)) => Reference {
            digest: Some(digest.clone()),
            ..chosen
        },
        Some(Pin::Replace(reference)) => reference.clone(),
    }
}

/// An `[images]` value: a bare `sha256:` digest, or a reference pinned by tag or digest.
fn pin(value: &str) -> Result<Pin, String> {
    if value.starts_with("sha256:") {
        return super::image::check_digest(value).map(|()| Pin::Digest(value.to_owned()));
    }
    let parsed = super::image::parse(value)?;
    Ok(Pin::Replace(Reference {
        repository: parsed.repository.to_owned(),
        tag: parsed.tag.map(str::to_owned),
        digest: parsed.digest.map(str::to_owned),
    }))
}

/// `unknown-key` at an `[images]` key stackc does not choose, with did-you-mean.
fn unknown(ctx: &mut Ctx, key: &str) {
    let span = ctx.key_span(&["images", key]);
    let repositories = CHOSEN.iter().map(|c| c.repository);
    let help = match closest(key, repositories.clone()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!(
            "[images] keys are the repositories stackc chooses: {}",
            repositories.collect::<Vec<_>>().join(", ")
        ),
    };
    ctx.report(
        Diagnostic::error("unknown-key", format!("unknown key `{key}`"))
            .at(span)
            .label("not an image stackc chooses")
            .help(help),
    );
}

/// `invalid-image` at an `[images]` value.
fn invalid(ctx: &mut Ctx, key: &str, value: &str, reason: &str) {
    let span = ctx.value_span(&["images", key]);
    ctx.report(
        Diagnostic::error(
            "invalid-image",
            format!("`{value}` pins no image: {reason}"),
        )
            .at(span)
            .help(format!(
                "write \"sha256:<64 lowercase hex digits>\" to pin `{key}`, or a whole reference with a tag or digest, e.g. \"registry.example.org/{}@sha256:<64 hex digits>\"",
                key.split_once('/').map_or(key, |(_, path)| path)
            )),
    );
}

#[cfg(test)]
mod tests {
    use super::{
        CHOSEN, GRAFANA, Images, KAFKA_EXPORTER, POSTGRES, PROMETHEUS, Pin, REDIS, Reference, pin,
        resolve,
    };

    #[test]
    fn an_entry_counts_as_used_once_an_image_takes_it() {
        let mut images = Images::default();
        for chosen in [&GRAFANA, &PROMETHEUS] {
            images
                .pins
                .insert(chosen.repository, pin(&digest()).unwrap());
        }
        let grafana = images.reference(&GRAFANA, "12.1.1");
        assert_eq!(grafana.digest, Some(digest()));
        let exporter = images.reference(&KAFKA_EXPORTER, "v1.9.0");
        assert_eq!(
            exporter.to_string(),
            "docker.io/danielqsj/kafka-exporter:v1.9.0"
        );
        assert_eq!(
            images.unused().collect::<Vec<_>>(),
            ["quay.io/prometheus/prometheus"]
        );
    }

    #[test]
    fn a_digest_is_ambiguous_only_behind_two_tags() {
        let mut images = Images::default();
        images
            .pins
            .insert(POSTGRES.repository, pin(&digest()).unwrap());
        let mirror = "registry.example.org/redis:7.4.1";
        images.pins.insert(REDIS.repository, pin(mirror).unwrap());
        // The same version twice (a server and its backup job), and a replacement, whose
        // own tag decides, at two versions: nothing ambiguous.
        for (chosen, tag) in [
            (&POSTGRES, "16.4"),
            (&POSTGRES, "16.4"),
            (&REDIS, "7.2"),
            (&REDIS, "7.4"),
        ] {
            images.reference(chosen, tag);
        }
        assert_eq!(images.ambiguous().count(), 0);
        images.reference(&POSTGRES, "15.8");
        let found: Vec<(&str, Vec<&str>)> = images
            .ambiguous()
            .map(|(key, tags)| (key, tags.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(found, [(POSTGRES.repository, vec!["15.8", "16.4"])]);
        assert_eq!(super::join_and(&["a", "b", "c"]), "a, b and c");
    }

    /// The README's table of `[images]` keys lists every chosen image with its tag.
    #[test]
    fn the_readme_lists_every_chosen_image() {
        let readme = include_str!("../../README.md");
        for chosen in CHOSEN {
            let tag = chosen.tag.map_or(String::new(), |t| format!(" {t} |"));
            let row = format!("| `{}` | {} |", chosen.repository, chosen.used_by);
            let line = readme.lines().find(|l| l.starts_with(&row));
            assert!(
                line.is_some_and(|l| l.ends_with(&tag)),
                "README lacks the row of {} (used by {}, tag {:?})",
                chosen.repository,
                chosen.used_by,
                chosen.tag
            );
        }
    }

    /// `stackc schema` enumerates `[images]` keys from [`CHOSEN`], each described, and
    /// refuses any other key (editors then flag a typo, as `stackc check` does).
    #[test]
    fn the_schema_lists_every_chosen_image_and_no_other_key() {
        let schema = serde_json::to_value(schemars::schema_for!(crate::model::Stack)).unwrap();
        let images = &schema["properties"]["images"];
        assert_eq!(images["additionalProperties"], false, "{images}");
        let keys: Vec<&str> = images["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let chosen: Vec<&str> = CHOSEN.iter().map(|c| c.repository).collect();
        assert_eq!(keys, chosen);
        for chosen in CHOSEN {
            let property = &images["properties"][chosen.repository];
            assert_eq!(property["type"], "string", "{property}");
            let description = property["description"].as_str().unwrap_or_default();
            assert!(
                description.contains(chosen.used_by) && description.contains("sha256:"),
                "{description}"
            );
        }
    }

    fn digest() -> String {
        format!("sha256:{}", "a".repeat(64))
    }

    #[test]
    fn a_digest_pins_the_chosen_repository_and_tag() {
        let pinned = resolve(
            "docker.io/grafana/grafana",
            "12.1.1",
            Some(&pin(&digest()).unwrap()),
        );
        assert_eq!(
            pinned.to_string(),
            format!("docker.io/grafana/grafana:12.1.1@{}", digest())
        );
    }

    #[test]
    fn a_reference_replaces_repository_and_tag() {
        let mirror = format!("mirror.example.org/coder/coder@{}", digest());
        let replaced = resolve(
            "ghcr.io/coder/coder",
            "v2.16.1",
            Some(&pin(&mirror).unwrap()),
        );
        assert_eq!(replaced.to_string(), mirror);
        assert_eq!(replaced.tag, None);
        let tagged = resolve(
            "ghcr.io/coder/coder",
            "v2.16.1",
            Some(&pin("mirror.example.org/coder:v2.17.0").unwrap()),
        );
        assert_eq!(tagged.to_string(), "mirror.example.org/coder:v2.17.0");
    }

    #[test]
    fn no_entry_is_the_chosen_image() {
        let chosen = resolve("docker.io/library/redis", "8.10.2", None);
        assert_eq!(chosen.to_string(), "docker.io/library/redis:8.10.2");
    }

    #[test]
    fn invalid_values_are_refused() {
        for bad in [
            "sha256:abc",
            &format!("sha256:{}", "A".repeat(64)),
            "mirror.example.org/grafana",
            "Mirror/Grafana:1",
            "",
        ] {
            assert!(pin(bad).is_err(), "{bad}");
        }
        assert_eq!(pin(&digest()), Ok(Pin::Digest(digest())));
        assert!(matches!(
            pin("mirror.example.org/grafana:12.1.1"),
            Ok(Pin::Replace(Reference { .. }))
        ));
    }

    #[test]
    fn the_chosen_repositories_are_distinct_and_valid() {
        let mut seen = std::collections::BTreeSet::new();
        for chosen in CHOSEN {
            assert!(seen.insert(chosen.repository), "{}", chosen.repository);
            let tag = chosen.tag.unwrap_or("1.0");
            assert!(super::super::image::parse(&format!("{}:{tag}", chosen.repository)).is_ok());
        }
    }
}
