//! `[kafka.<name>]`: an Apache Kafka cluster in KRaft mode (official `apache/kafka`
//! image, combined broker+controller nodes), its topics, and TLS.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::Resources;

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kafka {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// Kafka version: the tag of the official `apache/kafka` image (default pinned by stackc).
    pub version: Option<String>,
    /// Image repository (default "docker.io/apache/kafka"), e.g. a registry mirror.
    pub image: Option<String>,
    /// Number of nodes, each a broker and a KRaft controller (default 3). The controller
    /// quorum, replication factors and min ISR follow from it.
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub brokers: Option<u32>,
    /// Size of each broker's data volume, e.g. "20Gi".
    pub storage: String,
    /// StorageClass of the data volumes (default: the cluster's default class).
    pub storage_class: Option<String>,
    /// Serve clients, brokers and controllers over TLS only (default true): no plaintext
    /// listener exists. Needs `[tls]`; the keystore password comes from the secret provider.
    pub tls: Option<bool>,
    /// Topics created (idempotently) by a Job: `topics.<name> = { partitions = 3 }`.
    #[serde(default)]
    pub topics: BTreeMap<String, Topic>,
    /// CPU and memory of each broker (default: `[defaults] resources`).
    pub resources: Option<Resources>,
}

/// `topics.conveyor-readings = { partitions = 3, replication = 3, retention = "7d" }`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Partitions (default 3).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub partitions: Option<u32>,
    /// Replication factor, at most `brokers` (default: min(3, brokers)).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub replication: Option<u32>,
    /// How long records are kept: a number with ms, s, m, h or d, e.g. "7d" (default: the broker's, 7 days).
    pub retention: Option<String>,
}
