//! `[influxdb.<name>]`: an InfluxDB 2 server (official `influxdb` image) with its
//! initial organisation and bucket, and TLS.

use schemars::JsonSchema;
use serde::Deserialize;

use super::Resources;

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Influxdb {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// InfluxDB version: a 2.x tag of the official `influxdb` image (default pinned by stackc).
    pub version: Option<String>,
    /// Image repository (default "docker.io/library/influxdb"), e.g. a registry mirror.
    pub image: Option<String>,
    /// Size of the data volume, e.g. "10Gi".
    pub storage: String,
    /// StorageClass of the data volume (default: the cluster's default class).
    pub storage_class: Option<String>,
    /// The organisation created on first start.
    pub org: String,
    /// The bucket created on first start.
    pub bucket: String,
    /// How long the bucket keeps data: a number with s, m, h, d or w, e.g. "30d" (default: forever).
    pub retention: Option<String>,
    /// Serve HTTPS only (default true), with a certificate from the stack's CA. Needs `[tls]`.
    pub tls: Option<bool>,
    /// CPU and memory (default: `[defaults] resources`).
    pub resources: Option<Resources>,
}
