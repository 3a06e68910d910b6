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
    /// Where secrets come from (`None` when no component needs one).
    pub secrets: Option<SecretsProvider>,
    /// Namespaces whose Pod Security level is not "restricted", with the level
    /// (e.g. the log collector's namespace: Promtail reads node log files).
    pub pod_security: BTreeMap<String, String>,
    /// `[monitoring]`, resolved; `None` when the stack has none.
    pub monitoring: Option<MonitoringPlan>,
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
    Postgres(PostgresPlan),
    Coder(CoderPlan),
}

impl Component {
    pub fn name(&self) -> &str {
        match self {
            Component::App(c) => &c.name,
            Component::Postgres(c) => &c.name,
            Component::Coder(c) => &c.name,
        }
    }

    pub fn namespace(&self) -> &str {
        match self {
            Component::App(c) => &c.namespace,
            Component::Postgres(c) => &c.namespace,
            Component::Coder(c) => &c.namespace,
        }
    }

    /// The Secrets the provider must deliver for this component.
    pub fn secrets(&self) -> Vec<&SecretPlan> {
        match self {
            Component::App(c) => c.secrets.iter().collect(),
            Component::Postgres(c) => vec![&c.credentials],
            Component::Coder(c) => c.secrets.iter().collect(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Component::App(_) => "app",
            Component::Postgres(_) => "postgres",
            Component::Coder(_) => "coder",
        }
    }

    /// The Prometheus endpoints this component's pods serve: what monitoring scrapes.
    /// Every kind answers here; a kind without metrics returns none.
    pub fn metrics(&self, stack: &str) -> Vec<MetricsEndpoint> {
        let endpoint = |port_name: &str, port: u16, path: &str, selector| MetricsEndpoint {
            component: format!("{}.{}", self.kind(), self.name()),
            kind: self.kind(),
            name: self.name().to_owned(),
            namespace: self.namespace().to_owned(),
            port_name: port_name.to_owned(),
            port,
            path: path.to_owned(),
            selector,
        };
        let own = || crate::build::labels::selector(stack, self.name());
        match self {
            Component::App(a) => a
                .metrics
                .iter()
                .map(|m| endpoint(&m.port_name, m.port, &m.path, own()))
                .collect(),
            // The official image serves no metrics (no exporter sidecar yet).
            Component::Postgres(_) => Vec::new(),
            Component::Coder(c) => match &c.mode {
                Mode::Manifests => vec![endpoint("metrics", CODER_METRICS_PORT, "/metrics", own())],
                // The upstream chart labels its pods with its own names and calls the
                // port `prometheus-http` when CODER_PROMETHEUS_ENABLE is set.
                Mode::Helm { .. } => vec![endpoint(
                    "prometheus-http",
                    CODER_METRICS_PORT,
                    "/metrics",
                    BTreeMap::from([
                        ("app.kubernetes.io/instance".to_owned(), c.name.clone()),
                        ("app.kubernetes.io/name".to_owned(), "coder".to_owned()),
                    ]),
                )],
            },
        }
    }
}

/// Port of Coder's Prometheus endpoint (`CODER_PROMETHEUS_ADDRESS`).
pub const CODER_METRICS_PORT: u16 = 2112;

/// One metrics endpoint of a component: which pods (namespace + labels), which named
/// container port, which path. Monitoring derives scrape configs and Pod/ServiceMonitors
/// from these, so every kind is scraped the same way.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct MetricsEndpoint {
    /// `<kind>.<name>`, as in stack.toml.
    pub component: String,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    /// The named container port (`ports` of the pod template).
    pub port_name: String,
    pub port: u16,
    pub path: String,
    /// Labels selecting the component's pods.
    pub selector: BTreeMap<String, String>,
}

/// A resolved `[monitoring]`. Serializable: it is (part of) what the templates in
/// `modules/monitoring/` see.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MonitoringPlan {
    /// "standalone" (stackc renders Prometheus) or "operator" (Prometheus Operator objects).
    pub mode: MonitoringMode,
    pub namespace: String,
    /// Namespace of the Promtail DaemonSet (Pod Security "privileged": hostPath).
    pub log_namespace: String,
    pub scrape_interval: String,
    pub prometheus: StorePlan,
    pub alertmanager_storage: StorePlan,
    pub grafana: StorePlan,
    pub loki: StorePlan,
    pub alerts: AlertsPlan,
    pub thresholds: ThresholdsPlan,
    /// Grafana admin credentials and the receivers' secrets, from the provider.
    pub credentials: SecretPlan,
    pub grafana_admin_user_key: String,
    pub grafana_admin_password_key: String,
    pub run_as_user: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "name")]
pub enum MonitoringMode {
    Standalone,
    /// kube-prometheus-stack from a pinned HelmRelease.
    Operator {
        chart_version: String,
    },
}

/// Retention and volume of one monitoring store.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StorePlan {
    /// Go/Prometheus duration, e.g. "15d" (Loki: hours, e.g. "168h").
    pub retention: String,
    pub storage: String,
    pub storage_class: Option<String>,
}

/// Where Alertmanager sends alerts.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AlertsPlan {
    pub slack: Option<SlackPlan>,
    pub email: Option<EmailPlan>,
    /// How long an alert waits for others of its group, and repeats.
    pub group_wait: String,
    pub repeat_interval: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SlackPlan {
    pub channel: String,
    /// Secret key holding the webhook URL (mounted as a file).
    pub webhook_key: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EmailPlan {
    pub to: String,
    pub from: String,
    /// `host:port` of the SMTP relay.
    pub smarthost: String,
    pub username: String,
    /// Secret key holding the SMTP password (mounted as a file).
    pub password_key: String,
}

/// Alert thresholds of one environment.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ThresholdsPlan {
    /// CPU use, percent of the request.
    pub cpu_percent: u32,
    /// Memory working set, percent of the limit.
    pub memory_percent: u32,
    /// Volume use, percent.
    pub disk_percent: u32,
    /// Container restarts within an hour.
    pub restarts_per_hour: u32,
    /// Kafka consumer-group lag, in messages.
    pub consumer_lag: u64,
    /// How long a condition holds before it fires, e.g. "10m".
    pub for_duration: String,
}

/// Where secret values come from: the operator stackc emits objects for.
#[derive(Clone, Debug, PartialEq)]
pub enum SecretsProvider {
    ExternalSecrets {
        store_kind: String,
        store_name: String,
        refresh: String,
    },
    Infisical {
        host: String,
        project: String,
        env: String,
        path: String,
        credentials: (String, String),
        refresh_seconds: u64,
    },
    /// Encrypted manifests in git, decrypted by Flux's kustomize-controller.
    Sops {
        decryption_secret: String,
        /// Secret name → (path, encrypted text), as read by load.
        files: BTreeMap<String, (String, String)>,
    },
}

/// A Kubernetes Secret the provider's operator creates for a component. Its keys are
/// the provider's names for the values (e.g. `CODER_DB_ADMIN_PASSWORD`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SecretPlan {
    pub name: String,
    pub namespace: String,
    pub keys: Vec<String>,
}

/// How a component is delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every object rendered, so PR diffs show real changes.
    Manifests,
    /// A pinned Flux HelmRepository + HelmRelease with values from the typed model.
    Helm {
        repository: String,
        chart: String,
        version: String,
    },
}

/// A resolved `[postgres.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PostgresPlan {
    pub name: String,
    pub namespace: String,
    /// Full image reference, `<repository>:<version>`.
    pub image: String,
    pub version: String,
    pub storage: String,
    pub storage_class: Option<String>,
    /// (database, owner), sorted by database.
    pub databases: Vec<(String, String)>,
    pub resources: ResourcesPlan,
    pub backup: Option<BackupPlan>,
    /// Admin password and one password per user.
    pub credentials: SecretPlan,
}

impl PostgresPlan {
    /// The Secret key holding `user`'s password (`postgres` is the admin).
    pub fn password_key(&self, user: &str) -> String {
        crate::check::secret_key(&self.name, &format!("{user}-password"))
    }

    /// The client Service's in-cluster host name.
    pub fn host(&self) -> String {
        crate::check::fqdn(&self.name, &self.namespace)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BackupPlan {
    pub schedule: String,
    pub storage: String,
    pub keep: u32,
}

/// What a consumer needs to reach a database; derived from the server, never typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbConnection {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    /// Secret and key holding the user's password.
    pub password: (String, String),
    pub sslmode: String,
}

/// One RBAC rule: an API group, its resources, and the verbs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RbacRule {
    pub api_group: String,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
}

/// A resolved `[coder.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CoderPlan {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub version: String,
    pub replicas: u32,
    /// Public URL, https://<host>.<domain>.
    pub access_url: String,
    pub host: String,
    pub wildcard: String,
    /// URL the workspace agents use; reachable from inside the cluster.
    pub agent_url: String,
    pub db: DbConnection,
    pub ingress_class: String,
    pub tls_secret: String,
    pub load_balancer_ip: Option<String>,
    pub external_dns: bool,
    pub resources: ResourcesPlan,
    pub workspace_namespace: String,
    /// Rules of the workspace Role, derived from the templates.
    pub rules: Vec<RbacRule>,
    pub mode: Mode,
    pub run_as_user: i64,
    /// Credentials mirrored into Coder's namespace (when the database lives elsewhere).
    pub secrets: Vec<SecretPlan>,
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
    /// Credentials of used components mirrored into the app's namespace.
    pub secrets: Vec<SecretPlan>,
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
