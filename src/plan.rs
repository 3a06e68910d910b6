//! The Plan: the output of `check` and the input of `build`. Every default is applied,
//! every reference is resolved (a `uses` edge has become env vars with in-cluster
//! FQDNs), and every value is known to be valid. Data only.

use std::collections::{BTreeMap, BTreeSet};

/// The resolved stack of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub env: String,
    pub stack: StackInfo,
    pub flux: FluxPlan,
    /// Every namespace a component lives in.
    pub namespaces: BTreeSet<String>,
    /// Components, sorted by (kind, name).
    pub components: Vec<Component>,
    pub policy: PolicyPlan,
}

/// Policy settings of one environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyPlan {
    /// Images must carry digests.
    pub pinned: bool,
    pub waivers: Vec<WaiverPlan>,
}

/// A checked waiver, with where it was written (for "unused waiver" warnings).
#[derive(Clone, Debug, PartialEq)]
pub struct WaiverPlan {
    pub rule: String,
    pub object: String,
    pub reason: String,
    /// (year, month, day)
    pub expires: Option<(i32, u32, u32)>,
    pub span: Option<crate::diag::Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StackInfo {
    pub name: String,
    pub kubernetes: String,
    pub domain: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FluxPlan {
    pub repository: String,
    pub branch: String,
    pub interval: String,
    pub timeout: String,
    pub namespace: String,
    pub secret: Option<String>,
    /// Path of `rendered/<env>` inside the repository, e.g. `./rendered/dev`.
    pub path: String,
}

/// One component of any kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Component {
    App(AppPlan),
}

impl Component {
    pub fn name(&self) -> &str {
        match self {
            Component::App(app) => &app.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Component::App(_) => "app",
        }
    }
}

/// A resolved `[app.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AppPlan {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Replicas of the Deployment; with autoscaling, the HPA minimum.
    pub replicas: u32,
    /// Named ports, sorted by name; includes the metrics port.
    pub ports: Vec<Port>,
    pub metrics: Option<MetricsPlan>,
    /// Environment, sorted by name: the app's own and those its `uses` edges export.
    pub env: Vec<EnvVar>,
    pub config: Option<ConfigPlan>,
    pub resources: ResourcesPlan,
    pub probes: ProbesPlan,
    pub autoscale: Option<AutoscalePlan>,
    /// Components this app uses, sorted.
    pub uses: Vec<String>,
    pub run_as_user: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    pub name: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricsPlan {
    pub port_name: String,
    pub port: u16,
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnvVar {
    pub name: String,
    pub source: EnvSource,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EnvSource {
    Value(String),
    Secret { name: String, key: String },
    ConfigMap { name: String, key: String },
    Field(String),
}

/// A ConfigMap of files mounted read-only into the app.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigPlan {
    pub config_map: String,
    pub mount: String,
    pub files: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Quantities {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourcesPlan {
    pub requests: Quantities,
    pub limits: Quantities,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProbesPlan {
    pub liveness: Option<ProbePlan>,
    pub readiness: Option<ProbePlan>,
    pub startup: Option<ProbePlan>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProbePlan {
    pub action: ProbeAction,
    pub initial_delay: i32,
    pub period: i32,
    pub failure_threshold: i32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProbeAction {
    Http { path: String, port: String },
    Tcp { port: String },
    Exec(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalePlan {
    pub min: u32,
    pub max: u32,
    pub cpu: u32,
}
