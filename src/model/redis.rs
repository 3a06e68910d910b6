//! `[redis.<name>]`: a Redis server (official image) with password auth and a metrics
//! exporter sidecar; persistent with `storage`, an in-memory cache without.

use schemars::JsonSchema;
use serde::Deserialize;

use super::Resources;

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redis {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// Redis version: the tag of the official `redis` image (default: stackc's pinned release).
    pub version: Option<String>,
    /// Image repository (default "docker.io/library/redis"), e.g. a registry mirror.
    pub image: Option<String>,
    /// Size of the data volume, e.g. "5Gi": a StatefulSet with append-only persistence.
    /// Without it Redis is a cache: a Deployment with an emptyDir and no persistence.
    pub storage: Option<String>,
    /// StorageClass of the data volume (default: the cluster's default class).
    pub storage_class: Option<String>,
    /// CPU and memory (default: `[defaults] resources`).
    pub resources: Option<Resources>,
    /// Memory Redis may use for data, a Kubernetes quantity below the memory limit, e.g. "192Mi".
    pub maxmemory: Option<String>,
    /// What Redis evicts at `maxmemory`, e.g. "allkeys-lru" (Redis' default "noeviction").
    pub maxmemory_policy: Option<String>,
}
