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
    pub network: NetworkPlan,
    /// The stack's certificate authority and issuers (`None` without `[tls]`).
    pub tls: Option<TlsPlan>,
    /// Add-on charts the stack needs, sorted by name (the `controllers` layer).
    pub controllers: Vec<ControllerPlan>,
    /// Namespaces whose Pod Security level is not "restricted", with the level
    /// (e.g. the log collector's namespace: Promtail reads node log files).
    pub pod_security: BTreeMap<String, String>,
    /// `[monitoring]`, resolved; `None` when the stack has none.
    pub monitoring: Option<MonitoringPlan>,
}

/// The cluster services outside the stack that NetworkPolicies admit.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkPlan {
    /// Where the Kubernetes API server is reached.
    pub api: Vec<crate::cidr::Destination>,
    /// Where the nodes' kubelet and node-exporter are reached (operator-mode scrapes).
    pub nodes: Vec<crate::cidr::Destination>,
    pub ingress_namespace: String,
    /// Labels of the ingress controller's pods.
    pub ingress_pods: BTreeMap<String, String>,
}

/// `[tls]`, resolved: the ClusterIssuers cert-manager signs with.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsPlan {
    /// Namespace cert-manager runs in; the CA's Secret lives there.
    pub namespace: String,
    /// Self-signed ClusterIssuer that signs only the stack's CA certificate.
    pub root_issuer: String,
    /// ClusterIssuer of the stack's CA, which signs every in-cluster certificate; its
    /// Certificate and Secret have the same name.
    pub internal_issuer: String,
    /// ACME account for public hosts; `None` when the stack's CA signs them too.
    pub acme: Option<AcmePlan>,
}

impl TlsPlan {
    /// The ClusterIssuer that signs certificates of `issuer`'s kind.
    pub fn issuer(&self, issuer: Issuer) -> &str {
        match (issuer, &self.acme) {
            (Issuer::Public, Some(acme)) => &acme.issuer,
            _ => &self.internal_issuer,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AcmePlan {
    /// ClusterIssuer name.
    pub issuer: String,
    pub email: String,
    pub server: String,
    /// Secret cert-manager keeps the ACME account key in.
    pub account_secret: String,
    /// How challenges are solved.
    pub solver: AcmeSolver,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AcmeSolver {
    /// HTTP-01 through the ingress class.
    Http01 { ingress_class: String },
    /// DNS-01 through Cloudflare; the API token Secret comes from the secret provider.
    Cloudflare { token: SecretPlan },
}

/// Which ClusterIssuer signs a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issuer {
    /// The stack's CA: in-cluster service names, client certificates.
    Internal,
    /// Public ingress hosts: ACME when configured, else the stack's CA.
    Public,
}

/// A cert-manager Certificate a component serves or presents. Its Secret has the
/// same name and holds `tls.crt`, `tls.key` and `ca.crt` (the issuing CA).
#[derive(Clone, Debug, PartialEq)]
pub struct CertificatePlan {
    pub name: String,
    pub namespace: String,
    /// Public hosts and/or in-cluster FQDNs, in order (the first is the common name).
    pub dns_names: Vec<String>,
    pub issuer: Issuer,
    /// A client certificate (usage `client auth`) rather than a server one.
    pub client: bool,
    /// Also write PKCS#12 `keystore.p12`/`truststore.p12`, encrypted with the password
    /// in this (Secret, key).
    pub pkcs12_password: Option<(String, String)>,
}

/// A cluster add-on installed by a pinned Flux HelmRelease in the `controllers` layer.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerPlan {
    /// Release name, also its `[controllers]` key.
    pub name: String,
    /// Namespace the chart installs into.
    pub namespace: String,
    /// Helm repository URL.
    pub repository: String,
    pub chart: String,
    pub version: String,
    /// Chart values.
    pub values: serde_json::Value,
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
    /// Path of `rendered/<env>` from the repository root, e.g. `./rendered/dev`, or
    /// `./platform/conveyor/rendered/dev` with `[flux] path = "platform/conveyor"`.
    pub path: String,
}

/// One component of any kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Component {
    App(AppPlan),
    Postgres(PostgresPlan),
    Coder(CoderPlan),
    Redis(RedisPlan),
    CronJob(CronJobPlan),
    Kafka(KafkaPlan),
    Influxdb(InfluxdbPlan),
}

impl Component {
    pub fn name(&self) -> &str {
        match self {
            Component::App(c) => &c.name,
            Component::Postgres(c) => &c.name,
            Component::Coder(c) => &c.name,
            Component::Redis(c) => &c.name,
            Component::CronJob(c) => &c.name,
            Component::Kafka(c) => &c.name,
            Component::Influxdb(c) => &c.name,
        }
    }

    pub fn namespace(&self) -> &str {
        match self {
            Component::App(c) => &c.namespace,
            Component::Postgres(c) => &c.namespace,
            Component::Coder(c) => &c.namespace,
            Component::Redis(c) => &c.namespace,
            Component::CronJob(c) => &c.namespace,
            Component::Kafka(c) => &c.namespace,
            Component::Influxdb(c) => &c.namespace,
        }
    }

    /// The Secrets the provider must deliver for this component.
    pub fn secrets(&self) -> Vec<&SecretPlan> {
        match self {
            Component::App(c) => c.secrets.iter().collect(),
            Component::Postgres(c) => vec![&c.credentials],
            Component::Coder(c) => c.secrets.iter().collect(),
            Component::Redis(c) => vec![&c.credentials],
            Component::CronJob(c) => c.secrets.iter().collect(),
            Component::Kafka(c) => c.tls.iter().map(|t| &t.password).collect(),
            Component::Influxdb(c) => vec![&c.credentials],
        }
    }

    /// The certificates this component serves (or presents to the services it uses).
    pub fn certificates(&self) -> Vec<CertificatePlan> {
        match self {
            Component::Postgres(_) | Component::Redis(_) => Vec::new(),
            Component::App(c) => c.client_tls.iter().cloned().collect(),
            Component::CronJob(c) => c.client_tls.iter().cloned().collect(),
            Component::Kafka(c) => c
                .tls
                .iter()
                .flat_map(|t| [t.server.clone(), t.client.clone()])
                .collect(),
            Component::Influxdb(c) => c.tls.iter().cloned().collect(),
            Component::Coder(c) => vec![CertificatePlan {
                name: c.tls_secret.clone(),
                namespace: c.namespace.clone(),
                dns_names: vec![c.host.clone(), c.wildcard.clone()],
                issuer: Issuer::Public,
                client: false,
                pkcs12_password: None,
            }],
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Component::App(_) => "app",
            Component::Postgres(_) => "postgres",
            Component::Coder(_) => "coder",
            Component::Redis(_) => "redis",
            Component::CronJob(_) => "cronjob",
            Component::Kafka(_) => "kafka",
            Component::Influxdb(_) => "influxdb",
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
            // The official image serves no metrics (no exporter sidecar yet); a cronjob
            // runs to completion.
            Component::Postgres(_) | Component::CronJob(_) => Vec::new(),
            Component::Redis(r) => vec![endpoint(
                &r.metrics.port_name,
                r.metrics.port,
                &r.metrics.path,
                r.selector.clone(),
            )],
            Component::Influxdb(i) => vec![endpoint(
                &i.metrics.port_name,
                i.metrics.port,
                &i.metrics.path,
                own(),
            )],
            // Consumer lag comes from the exporter Deployment, not the brokers.
            Component::Kafka(k) => vec![endpoint(
                &k.metrics.port_name,
                k.metrics.port,
                &k.metrics.path,
                crate::build::labels::selector(stack, &format!("{}-exporter", k.name)),
            )],
            // The upstream chart calls the port `prometheus-http` when
            // CODER_PROMETHEUS_ENABLE is set.
            Component::Coder(c) => {
                let port = match &c.mode {
                    Mode::Manifests => "metrics",
                    Mode::Helm { .. } => "prometheus-http",
                };
                vec![endpoint(
                    port,
                    CODER_METRICS_PORT,
                    "/metrics",
                    c.pod_selector(stack),
                )]
            }
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
    /// The images of the servers of both modes (`[images]` may pin or replace each).
    #[serde(skip)]
    pub images: MonitoringImages,
}

/// The images of Alertmanager, Grafana, Loki and Promtail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringImages {
    pub alertmanager: String,
    pub grafana: String,
    pub loki: String,
    pub promtail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "name")]
pub enum MonitoringMode {
    /// stackc renders Prometheus and kube-state-metrics, from these images.
    Standalone {
        #[serde(skip)]
        prometheus_image: String,
        #[serde(skip)]
        kube_state_metrics_image: String,
    },
    /// kube-prometheus-stack from a pinned HelmRelease.
    Operator { chart_version: String },
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
    /// Full image reference (`[images]` may pin or replace stackc's choice).
    pub image: String,
    /// The same image as the chart's `coder.image.repo` and `.tag` (helm mode): the
    /// chart has no digest value, so a digest rides in the tag, `v2.16.1@sha256:...`.
    pub chart_image: (String, String),
    pub version: String,
    pub replicas: u32,
    /// Public URL, https://<host>.<domain>.
    pub access_url: String,
    pub host: String,
    pub wildcard: String,
    /// URL the workspace agents use; reachable from inside the cluster.
    pub agent_url: String,
    pub db: DbConnection,
    /// Name of the `[postgres.<name>]` server the database lives on.
    pub db_server: String,
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
    /// Declared destinations outside the cluster (the server only), sorted.
    pub egress: Vec<crate::cidr::Destination>,
}

impl CoderPlan {
    /// The server's HTTP port (API, dashboard, DERP, agents).
    pub const HTTP: u16 = 8080;
    /// The server's Prometheus port.
    pub const METRICS: u16 = 2112;
    /// The server's TLS listener, behind the LoadBalancer (`load_balancer_ip`).
    pub const HTTPS: u16 = 8443;
    /// The label Coder's Kubernetes templates put on workspace pods.
    pub const WORKSPACE_LABEL: (&'static str, &'static str) =
        ("app.kubernetes.io/name", "coder-workspace");

    /// Coder serves TLS itself (on [`CoderPlan::HTTPS`], with the Ingress's certificate)
    /// when a LoadBalancer exposes it: nothing public is plaintext.
    pub fn serves_tls(&self) -> bool {
        self.load_balancer_ip.is_some()
    }

    /// Labels of the server's pods: stackc's own, or the upstream chart's in helm mode.
    pub fn pod_selector(&self, stack: &str) -> BTreeMap<String, String> {
        match self.mode {
            Mode::Manifests => crate::build::labels::selector(stack, &self.name),
            Mode::Helm { .. } => BTreeMap::from([
                ("app.kubernetes.io/instance".to_owned(), self.name.clone()),
                ("app.kubernetes.io/name".to_owned(), "coder".to_owned()),
            ]),
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
    /// Credentials of used components mirrored into the app's namespace.
    pub secrets: Vec<SecretPlan>,
    /// The client certificate (its Secret carries the stack CA's `ca.crt`) an app gets
    /// when it uses a TLS service; mounted read-only at [`crate::check::CLIENT_TLS_DIR`].
    pub client_tls: Option<CertificatePlan>,
    /// Declared destinations outside the cluster, sorted.
    pub egress: Vec<crate::cidr::Destination>,
}

/// A resolved `[kafka.<name>]`: KRaft, every node a broker and a controller.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaPlan {
    pub name: String,
    pub namespace: String,
    /// Full image reference, `<repository>:<version>`.
    pub image: String,
    pub version: String,
    pub brokers: u32,
    /// The fixed KRaft cluster id: 22 characters of base64url, derived from stack and name.
    pub cluster_id: String,
    pub storage: String,
    pub storage_class: Option<String>,
    /// Topics, sorted by name.
    pub topics: Vec<TopicPlan>,
    pub resources: ResourcesPlan,
    /// `None` with `tls = false` (plaintext listeners).
    pub tls: Option<KafkaTlsPlan>,
    /// The kafka-exporter Deployment's image and metrics port (consumer lag).
    pub exporter_image: String,
    pub metrics: MetricsPlan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KafkaTlsPlan {
    /// The brokers' certificate, with a PKCS#12 keystore and truststore.
    pub server: CertificatePlan,
    /// A client certificate for the topic Job and the exporter (its Secret carries `ca.crt`).
    pub client: CertificatePlan,
    /// The keystore password, from the secret provider.
    pub password: SecretPlan,
}

impl KafkaPlan {
    /// The headless Service giving each broker its DNS name.
    pub fn headless(&self) -> String {
        format!("{}-headless", self.name)
    }

    /// In-cluster DNS name of broker `i`.
    pub fn broker_host(&self, i: u32) -> String {
        format!(
            "{}-{i}.{}",
            self.name,
            crate::check::fqdn(&self.headless(), &self.namespace)
        )
    }

    /// The client port: 9093 (SSL) with TLS, 9092 (PLAINTEXT) without.
    pub fn client_port(&self) -> u16 {
        if self.tls.is_some() { 9093 } else { 9092 }
    }

    /// The inter-broker port: 19093 (SSL) with TLS, 19092 (PLAINTEXT) without.
    pub fn internal_port(&self) -> u16 {
        if self.tls.is_some() { 19093 } else { 19092 }
    }

    /// The KRaft controller port (SSL with TLS).
    pub const CONTROLLER_PORT: u16 = 9094;

    /// `host:port` of every broker, comma-separated: what clients bootstrap from.
    pub fn bootstrap_servers(&self) -> String {
        (0..self.brokers)
            .map(|i| format!("{}:{}", self.broker_host(i), self.client_port()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `security.protocol` of clients.
    pub fn security_protocol(&self) -> &'static str {
        if self.tls.is_some() {
            "SSL"
        } else {
            "PLAINTEXT"
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopicPlan {
    pub name: String,
    pub partitions: u32,
    pub replication: u32,
    /// `retention.ms`, when set.
    pub retention_ms: Option<u64>,
}

/// A resolved `[influxdb.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct InfluxdbPlan {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub version: String,
    pub storage: String,
    pub storage_class: Option<String>,
    pub org: String,
    pub bucket: String,
    /// As InfluxDB reads it (e.g. "30d"); `None` keeps data forever.
    pub retention: Option<String>,
    pub resources: ResourcesPlan,
    /// The server certificate; `None` with `tls = false`.
    pub tls: Option<CertificatePlan>,
    /// Admin user name, password and token.
    pub credentials: SecretPlan,
    /// InfluxDB serves its Prometheus metrics on the API port.
    pub metrics: MetricsPlan,
}

impl InfluxdbPlan {
    pub fn key(&self, purpose: &str) -> String {
        crate::check::secret_key(&self.name, purpose)
    }

    /// The URL consumers reach the API at.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!(
            "{scheme}://{}:{}",
            crate::check::fqdn(&self.name, &self.namespace),
            crate::check::INFLUXDB_PORT
        )
    }
}

/// A resolved `[redis.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RedisPlan {
    pub name: String,
    pub namespace: String,
    /// Full image reference, `<repository>:<version>`.
    pub image: String,
    pub version: String,
    /// The metrics exporter sidecar's image (pinned by stackc).
    pub exporter_image: String,
    /// Data volume size: `Some` → StatefulSet with append-only persistence; `None` → a
    /// cache Deployment with an emptyDir.
    pub storage: Option<String>,
    pub storage_class: Option<String>,
    pub resources: ResourcesPlan,
    /// `maxmemory` in bytes.
    pub maxmemory: Option<u64>,
    pub maxmemory_policy: Option<String>,
    /// The password Secret (key `<NAME>_PASSWORD`).
    pub credentials: SecretPlan,
    /// Ports the pods serve, sorted by name: `metrics` (exporter) and `redis`.
    pub ports: Vec<Port>,
    /// The exporter's scrape endpoint.
    pub metrics: MetricsPlan,
    /// Labels the Services (and monitoring) select the pods by.
    pub selector: BTreeMap<String, String>,
}

impl RedisPlan {
    /// The Secret key holding the password.
    pub fn password_key(&self) -> String {
        crate::check::secret_key(&self.name, "password")
    }

    /// The client Service's in-cluster host name.
    pub fn host(&self) -> String {
        crate::check::fqdn(&self.name, &self.namespace)
    }
}

/// A resolved `[cronjob.<name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CronJobPlan {
    pub name: String,
    pub namespace: String,
    pub schedule: String,
    pub timezone: Option<String>,
    /// "Forbid", "Allow" or "Replace" (the API's spelling).
    pub concurrency: String,
    pub history_successful: u32,
    pub history_failed: u32,
    /// startingDeadlineSeconds
    pub deadline_seconds: Option<u64>,
    pub backoff_limit: u32,
    /// activeDeadlineSeconds
    pub timeout_seconds: Option<u64>,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Environment, sorted by name: the job's own and those its `uses` edges export.
    pub env: Vec<EnvVar>,
    pub config: Option<ConfigPlan>,
    pub resources: ResourcesPlan,
    /// Components this job uses, sorted.
    pub uses: Vec<String>,
    /// Labels of the job's pods (what NetworkPolicies select them by).
    pub selector: BTreeMap<String, String>,
    pub run_as_user: i64,
    /// `{ provider = ... }` values and credentials of used components mirrored here.
    pub secrets: Vec<SecretPlan>,
    /// Client certificate (with the stack's CA) when it uses a TLS service.
    pub client_tls: Option<CertificatePlan>,
    /// Declared destinations outside the cluster, sorted.
    pub egress: Vec<crate::cidr::Destination>,
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
