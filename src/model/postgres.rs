//! `[postgres.<name>]`: a PostgreSQL server (official image) with its databases and users.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::Resources;

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Postgres {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// PostgreSQL version: the tag of the official `postgres` image, e.g. "16.4".
    pub version: String,
    /// Image repository (default "docker.io/library/postgres"), e.g. a registry mirror.
    pub image: Option<String>,
    /// Size of the data volume, e.g. "20Gi".
    pub storage: String,
    /// StorageClass of the data volume (default: the cluster's default class).
    pub storage_class: Option<String>,
    /// Databases, each owned by a user of the same name unless `owner` says otherwise.
    #[serde(default)]
    pub databases: BTreeMap<String, Database>,
    /// CPU and memory (default: `[defaults] resources`).
    pub resources: Option<Resources>,
    /// Nightly logical backups with pg_dump to their own volume.
    pub backup: Option<Backup>,
    /// "manifests" (the default and only mode: see the README for why not "helm").
    pub mode: Option<String>,
}

/// `databases.coder = { owner = "coder" }`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// The user owning the database (default: the database's name).
    pub owner: Option<String>,
}

/// `backup = { schedule = "0 3 * * *", storage = "50Gi", keep = 7 }`
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Cron schedule (five fields).
    pub schedule: String,
    /// Size of the backup volume.
    pub storage: String,
    /// Dumps kept per database (default 7).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub keep: Option<u32>,
}
