//! The servers of both modes: Alertmanager (receivers' secrets mounted as files),
//! Grafana (Deployment + PVC, admin credentials from the provider, provisioned
//! datasources and dashboards), Loki (single binary) and the Promtail DaemonSet with the
//! RBAC its discovery needs and read-only hostPath access to the node's pod logs.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction,
    HostPathVolumeSource, ObjectFieldSelector, PodSecurityContext, PodSpec, Probe, SeccompProfile,
    SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::standalone::{binding, cluster_role};
use super::view::SECRETS_DIR;
use super::workload::{Server, config_map};
use super::{Payloads, object};
use crate::build::{checksum, labels, pod, security};
use crate::object::{Layer, Object};
use crate::plan::{MonitoringPlan, Plan};

pub fn build(plan: &Plan, m: &MonitoringPlan, p: &Payloads) -> Vec<Object> {
    let mut out = alertmanager(plan, m, p);
    out.extend(grafana(plan, m, p));
    out.extend(loki(plan, m, p));
    out.extend(promtail(plan, m, p));
    out
}

fn one_file(name: &str, text: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(name.to_owned(), text.to_owned())])
}

fn alertmanager(plan: &Plan, m: &MonitoringPlan, p: &Payloads) -> Vec<Object> {
    let ns = m.namespace.as_str();
    let mut keys: Vec<String> = m
        .alerts
        .slack
        .iter()
        .map(|s| s.webhook_key.clone())
        .collect();
    keys.extend(m.alerts.email.iter().map(|e| e.password_key.clone()));
    let server = Server {
        stack: &plan.stack.name,
        name: "alertmanager",
        namespace: ns,
        image: &m.images.alertmanager,
        args: vec![
            "--config.file=/etc/alertmanager/alertmanager.yml".into(),
            "--storage.path=/alertmanager".into(),
            format!("--data.retention={}", m.alertmanager_storage.retention),
            // One replica: no gossip cluster.
            "--cluster.listen-address=".into(),
        ],
        env: Vec::new(),
        port: ("http", 9093),
        liveness: "/-/healthy",
        readiness: "/-/ready",
        configs: Vec::new(),
        secret_files: (!keys.is_empty()).then_some((
            m.credentials.name.as_str(),
            keys,
            SECRETS_DIR,
        )),
        data: Some((&m.alertmanager_storage, "/alertmanager")),
        uid: 65534,
        resources: ("50m", "64Mi", "256Mi"),
        service_account: None,
    };
    let labels = server.labels();
    let cm = config_map(
        "alertmanager",
        ns,
        &labels,
        one_file("alertmanager.yml", &p.alertmanager),
    );
    let server = Server {
        configs: vec![(&cm, "/etc/alertmanager")],
        ..server
    };
    vec![
        object(
            Layer::Monitoring,
            &pod::service_account("alertmanager", ns, &labels, false),
        ),
        object(Layer::Monitoring, &cm),
        object(Layer::Monitoring, &server.statefulset()),
        object(Layer::Monitoring, &server.service()),
    ]
}

fn grafana(plan: &Plan, m: &MonitoringPlan, p: &Payloads) -> Vec<Object> {
    let ns = m.namespace.as_str();
    let secret = m.credentials.name.as_str();
    let env = vec![
        pod::secret_env("GF_SECURITY_ADMIN_USER", secret, &m.grafana_admin_user_key),
        pod::secret_env(
            "GF_SECURITY_ADMIN_PASSWORD",
            secret,
            &m.grafana_admin_password_key,
        ),
        pod::env("GF_PATHS_DATA", "/var/lib/grafana"),
        pod::env("GF_PATHS_LOGS", "/var/lib/grafana/log"),
        pod::env("GF_PATHS_PLUGINS", "/var/lib/grafana/plugins"),
        pod::env("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning"),
        pod::env(
            "GF_SERVER_ROOT_URL",
            format!("https://grafana.{}", plan.stack.domain),
        ),
        pod::env("GF_ANALYTICS_REPORTING_ENABLED", "false"),
        pod::env("GF_ANALYTICS_CHECK_FOR_UPDATES", "false"),
    ];
    let server = Server {
        stack: &plan.stack.name,
        name: "grafana",
        namespace: ns,
        image: &m.images.grafana,
        args: Vec::new(),
        env,
        port: ("http", 3000),
        liveness: "/api/health",
        readiness: "/api/health",
        configs: Vec::new(),
        secret_files: None,
        data: Some((&m.grafana, "/var/lib/grafana")),
        uid: 472,
        resources: ("100m", "128Mi", "512Mi"),
        service_account: None,
    };
    let labels = server.labels();
    let datasources = config_map(
        "grafana-datasources",
        ns,
        &labels,
        one_file("datasources.yaml", &p.datasources),
    );
    let providers = config_map(
        "grafana-dashboard-providers",
        ns,
        &labels,
        one_file("dashboards.yaml", &p.dashboard_providers),
    );
    let dashboards = config_map("grafana-dashboards", ns, &labels, p.dashboards.clone());
    let server = Server {
        configs: vec![
            (&datasources, "/etc/grafana/provisioning/datasources"),
            (&providers, "/etc/grafana/provisioning/dashboards"),
            (&dashboards, "/etc/grafana/dashboards"),
        ],
        ..server
    };
    let (deployment, claim) = server.deployment_with_claim();
    let mut out = vec![
        object(
            Layer::Monitoring,
            &pod::service_account("grafana", ns, &labels, false),
        ),
        object(Layer::Monitoring, &datasources),
        object(Layer::Monitoring, &providers),
        object(Layer::Monitoring, &dashboards),
        object(Layer::Monitoring, &deployment),
        object(Layer::Monitoring, &server.service()),
    ];
    out.extend(claim.map(|c| object(Layer::Monitoring, &c)));
    out
}

fn loki(plan: &Plan, m: &MonitoringPlan, p: &Payloads) -> Vec<Object> {
    let ns = m.namespace.as_str();
    let server = Server {
        stack: &plan.stack.name,
        name: "loki",
        namespace: ns,
        image: &m.images.loki,
        args: vec![
            "-config.file=/etc/loki/loki.yaml".into(),
            "-target=all".into(),
        ],
        env: Vec::new(),
        port: ("http", 3100),
        liveness: "/ready",
        readiness: "/ready",
        configs: Vec::new(),
        secret_files: None,
        data: Some((&m.loki, "/var/loki")),
        uid: 10001,
        resources: ("100m", "256Mi", "1Gi"),
        service_account: None,
    };
    let labels = server.labels();
    let cm = config_map("loki", ns, &labels, one_file("loki.yaml", &p.loki));
    let server = Server {
        configs: vec![(&cm, "/etc/loki")],
        ..server
    };
    vec![
        object(
            Layer::Monitoring,
            &pod::service_account("loki", ns, &labels, false),
        ),
        object(Layer::Monitoring, &cm),
        object(Layer::Monitoring, &server.statefulset()),
        object(Layer::Monitoring, &server.service()),
    ]
}

/// Promtail on every node. It reads `/var/log/pods` read-only as uid 0 (the files are
/// root's, mode 0640) with every capability dropped: the reasons its namespace is
/// Pod Security "privileged" and the stack carries waivers for `no-host-path` and
/// `run-as-non-root` on this DaemonSet only.
fn promtail(plan: &Plan, m: &MonitoringPlan, p: &Payloads) -> Vec<Object> {
    let stack = &plan.stack.name;
    let ns = m.log_namespace.as_str();
    let name = "promtail";
    let labels = labels::labels(stack, name, "monitoring");
    let cm = config_map(name, ns, &labels, one_file("promtail.yaml", &p.promtail));
    let read = |groups: &[&str], resources: &[&str]| k8s_openapi::api::rbac::v1::PolicyRule {
        api_groups: Some(groups.iter().map(|s| (*s).to_owned()).collect()),
        resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
        verbs: ["get", "list", "watch"].map(str::to_owned).to_vec(),
        ..Default::default()
    };
    let (tmp, tmp_mount) = security::tmp_volume();
    let host = |volume: &str, path: &str| Volume {
        name: volume.to_owned(),
        host_path: Some(HostPathVolumeSource {
            path: path.to_owned(),
            type_: Some("Directory".into()),
        }),
        ..Volume::default()
    };
    let mount = |volume: &str, path: &str, read_only: bool| VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    };
    let positions = Volume {
        name: "positions".into(),
        empty_dir: Some(Default::default()),
        ..Volume::default()
    };
    let probe = |delay: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/ready".into()),
            port: IntOrString::String("http-metrics".into()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(delay),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Probe::default()
    };
    let container = Container {
        name: name.into(),
        image: Some(m.images.promtail.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(vec![
            "-config.file=/etc/promtail/promtail.yaml".into(),
            "-config.expand-env=true".into(),
        ]),
        env: Some(vec![EnvVar {
            name: "HOSTNAME".into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "spec.nodeName".into(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
        }]),
        ports: Some(vec![ContainerPort {
            name: Some("http-metrics".into()),
            container_port: 9080,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        resources: Some(crate::build::pod::resources(&crate::plan::ResourcesPlan {
            requests: crate::plan::Quantities {
                cpu: Some("50m".into()),
                memory: Some("64Mi".into()),
            },
            limits: crate::plan::Quantities {
                cpu: None,
                memory: Some("256Mi".into()),
            },
        })),
        liveness_probe: Some(probe(30)),
        readiness_probe: Some(probe(5)),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(false),
            run_as_user: Some(0),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![
            tmp_mount,
            mount("config", "/etc/promtail", true),
            mount("pods", "/var/log/pods", true),
            mount("positions", "/run/promtail", false),
        ]),
        ..Container::default()
    };
    let daemonset = DaemonSet {
        metadata: labels::meta(name, ns, &labels),
        spec: Some(DaemonSetSpec {
            selector: pod::selector(stack, name),
            template: pod::template(
                &labels,
                BTreeMap::from([(format!("checksum/{name}"), checksum(&cm.data))]),
                PodSpec {
                    service_account_name: Some(name.into()),
                    automount_service_account_token: Some(true),
                    enable_service_links: Some(false),
                    security_context: Some(PodSecurityContext {
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            localhost_profile: None,
                        }),
                        ..PodSecurityContext::default()
                    }),
                    // Every node's logs, control-plane nodes included.
                    tolerations: Some(vec![Toleration {
                        operator: Some("Exists".into()),
                        ..Toleration::default()
                    }]),
                    containers: vec![container],
                    volumes: Some(vec![
                        tmp,
                        Volume {
                            name: "config".into(),
                            config_map: Some(k8s_openapi::api::core::v1::ConfigMapVolumeSource {
                                name: name.into(),
                                ..Default::default()
                            }),
                            ..Volume::default()
                        },
                        host("pods", "/var/log/pods"),
                        positions,
                    ]),
                    ..PodSpec::default()
                },
            ),
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    };
    vec![
        object(
            Layer::Monitoring,
            &pod::service_account(name, ns, &labels, true),
        ),
        object(
            Layer::Monitoring,
            &cluster_role(
                "monitoring-promtail",
                &labels,
                vec![read(&[""], &["nodes", "pods"])],
            ),
        ),
        object(
            Layer::Monitoring,
            &binding("monitoring-promtail", name, ns, &labels),
        ),
        object(Layer::Monitoring, &cm),
        object(Layer::Monitoring, &daemonset),
    ]
}
