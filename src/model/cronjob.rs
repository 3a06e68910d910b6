//! `[cronjob.<name>]`: a scheduled run-to-completion workload (batch/v1 CronJob). It
//! shares `app`'s container settings: image, command, env, config files, `uses`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfigFiles, EnvValue, Resources};

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CronJob {
    /// Namespace (default: `[defaults] namespace`).
    pub namespace: Option<String>,
    /// Cron schedule, five fields or a macro, e.g. "*/15 * * * *" or "@daily".
    pub schedule: String,
    /// IANA time zone of the schedule, e.g. "Europe/Berlin" (default: the controller's, usually UTC).
    pub timezone: Option<String>,
    /// Image reference with a tag or digest.
    pub image: String,
    /// Container command (replaces the image's ENTRYPOINT).
    pub command: Option<Vec<String>>,
    /// Container arguments (replace the image's CMD).
    pub args: Option<Vec<String>>,
    /// Environment variables: plain values or references, as for `app`.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Configuration files, rendered into a ConfigMap and mounted read-only.
    pub config: Option<ConfigFiles>,
    /// CPU and memory requests and limits (default: `[defaults] resources`).
    pub resources: Option<Resources>,
    /// Components this job talks to: their connection details arrive as env vars.
    #[serde(default)]
    pub uses: Vec<String>,
    /// Destinations outside the cluster it may open connections to, as `"CIDR:port"`,
    /// e.g. `["0.0.0.0/0:443"]`. Everything else is denied by its NetworkPolicies.
    #[serde(default)]
    pub egress: Vec<String>,
    /// "forbid" (default: skip a run while the last one is still going), "allow" or "replace".
    pub concurrency: Option<String>,
    /// Finished Jobs kept: `{ successful = 3, failed = 1 }` (the defaults).
    pub history: Option<History>,
    /// How late a missed run may still start, a Go duration, e.g. "5m" (startingDeadlineSeconds).
    pub deadline: Option<String>,
    /// Retries of a failed run (default 2).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub backoff_limit: Option<u32>,
    /// How long one run may take before it is stopped, a Go duration, e.g. "10m" (activeDeadlineSeconds).
    pub timeout: Option<String>,
}

/// `history = { successful = 3, failed = 1 }`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Successful Jobs kept (default 3).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub successful: Option<u32>,
    /// Failed Jobs kept (default 1).
    #[serde(default, deserialize_with = "crate::model::int32::option")]
    #[schemars(range(min = 0, max = crate::model::int32::MAX))]
    pub failed: Option<u32>,
}
