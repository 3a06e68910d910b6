//! `coder` → in the apps layer: ServiceAccount, the workspace Role/RoleBinding (rules
//! derived from the templates), Deployment (or, with `mode = "helm"`, a pinned
//! HelmRepository + HelmRelease of the upstream chart with values from the Plan),
//! Service, optional LoadBalancer Service, Ingress for the access and wildcard hosts with
//! the websocket/DERP settings of ingress-nginx and its proxy-headers ConfigMap, and the
//! agent URL ConfigMap for templates. The workspaces' NetworkPolicies come from the
//! dependency graph (`build::network`), like every other workload's.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerPort, EnvVar, EnvVarSource, HTTPGetAction, ObjectFieldSelector,
    PodSpec, Probe, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::{helm, labels, pod, secrets, security};
use crate::object::{Layer, Object};
use crate::plan::{CoderPlan, Mode, Plan};
use crate::policy::rules::ALLOW_LOAD_BALANCER;

const HTTP: i32 = CoderPlan::HTTP as i32;
const METRICS: i32 = CoderPlan::METRICS as i32;
const HTTPS: i32 = CoderPlan::HTTPS as i32;
/// Where the server reads its certificate (the Ingress's Secret) in manifests mode.
const TLS_DIR: &str = "/etc/coder/tls";

fn json<T: serde::Serialize>(resource: &T) -> Value {
    serde_json::to_value(resource).expect("Kubernetes types serialize")
}

pub fn build(plan: &Plan, coder: &CoderPlan) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, &coder.name, "coder");
    let component = format!("coder.{}", coder.name);
    let object = |value: Value| Object::new(Layer::Apps, Some(component.clone()), &value);
    let mut out = Vec::new();
    if let Some(provider) = &plan.secrets {
        for secret in &coder.secrets {
            out.extend(secrets::build(
                provider,
                secret,
                Layer::Apps,
                &component,
                stack,
            ));
        }
    }
    out.push(object(json(&proxy_headers(coder, &labels))));
    out.push(object(json(&agent_config(coder, &labels))));
    match &coder.mode {
        Mode::Manifests => {
            out.push(object(json(&pod::service_account(
                &coder.name,
                &coder.namespace,
                &labels,
                true,
            ))));
            out.push(object(json(&role(coder, &labels))));
            out.push(object(json(&role_binding(coder, &labels))));
            out.push(object(json(&pod::service(
                stack,
                &coder.name,
                &coder.name,
                &coder.namespace,
                &labels,
                &[("http", 80)],
                false,
            ))));
            out.push(object(json(&deployment(stack, coder, &labels))));
            out.push(object(json(&ingress(coder, &labels))));
            if coder.replicas > 1 {
                out.push(object(json(&pod::pdb(
                    stack,
                    &coder.name,
                    &coder.namespace,
                    &labels,
                ))));
            }
        }
        Mode::Helm {
            repository,
            chart,
            version,
        } => {
            let release = helm::Release {
                name: &coder.name,
                namespace: &coder.namespace,
                labels: &labels,
                chart,
                version,
                values: helm_values(coder),
                target: None,
            };
            out.push(object(helm::repository(&release, repository)));
            out.push(object(helm::release(&release)));
        }
    }
    if let (Some(ip), Mode::Manifests) = (&coder.load_balancer_ip, &coder.mode) {
        out.push(object(json(&load_balancer(stack, coder, &labels, ip))));
    }
    out
}

/// Env of the server. Secret references come first: `$(VAR)` expands only variables
/// defined earlier in the list.
fn env(coder: &CoderPlan) -> Vec<EnvVar> {
    let db = &coder.db;
    let mut out = vec![
        pod::secret_env("CODER_PG_PASSWORD", &db.password.0, &db.password.1),
        pod::env(
            "CODER_PG_CONNECTION_URL",
            format!(
                "postgres://{}:$(CODER_PG_PASSWORD)@{}:{}/{}?sslmode={}",
                db.user, db.host, db.port, db.database, db.sslmode
            ),
        ),
        pod::env("CODER_ACCESS_URL", coder.access_url.clone()),
        pod::env("CODER_WILDCARD_ACCESS_URL", coder.wildcard.clone()),
        pod::env("CODER_HTTP_ADDRESS", format!("0.0.0.0:{HTTP}")),
        pod::env("CODER_PROMETHEUS_ENABLE", "true"),
        pod::env("CODER_PROMETHEUS_ADDRESS", format!("0.0.0.0:{METRICS}")),
        pod::env("CODER_CACHE_DIRECTORY", "/tmp/coder-cache"),
        EnvVar {
            name: "KUBE_POD_IP".into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "status.podIP".into(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
        },
        pod::env(
            "CODER_DERP_SERVER_RELAY_URL",
            format!("http://$(KUBE_POD_IP):{HTTP}"),
        ),
    ];
    if coder.serves_tls() {
        // The HTTP listener keeps serving the ingress controller, the workspaces and
        // the DERP mesh in the cluster: no redirect to HTTPS.
        out.push(pod::env("CODER_TLS_REDIRECT_HTTP_TO_HTTPS", "false"));
    }
    out
}

/// Coder's own TLS listener (manifests mode; the chart sets it from `coder.tls`).
fn tls_env() -> Vec<EnvVar> {
    vec![
        pod::env("CODER_TLS_ENABLE", "true"),
        pod::env("CODER_TLS_ADDRESS", format!("0.0.0.0:{HTTPS}")),
        pod::env("CODER_TLS_CERT_FILE", format!("{TLS_DIR}/tls.crt")),
        pod::env("CODER_TLS_KEY_FILE", format!("{TLS_DIR}/tls.key")),
    ]
}

fn deployment(stack: &str, coder: &CoderPlan, labels: &BTreeMap<String, String>) -> Deployment {
    let (tmp, tmp_mount) = security::tmp_volume();
    let http_probe = |initial: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/healthz".into()),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(10),
        failure_threshold: Some(6),
        ..Probe::default()
    };
    let mut env = env(coder);
    let mut ports = vec![("http", HTTP), ("metrics", METRICS)];
    let mut volumes = vec![tmp];
    let mut mounts = vec![tmp_mount];
    if coder.serves_tls() {
        env.extend(tls_env());
        ports.push(("https", HTTPS));
        let (volume, mount) = pod::certificate_volume("tls", &coder.tls_secret, TLS_DIR);
        volumes.push(volume);
        mounts.push(mount);
    }
    let container = Container {
        name: "coder".into(),
        image: Some(coder.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(vec!["server".into()]),
        env: Some(env),
        ports: Some(
            ports
                .into_iter()
                .map(|(name, port)| ContainerPort {
                    name: Some(name.into()),
                    container_port: port,
                    protocol: Some("TCP".into()),
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        resources: Some(pod::resources(&coder.resources)),
        liveness_probe: Some(http_probe(30)),
        readiness_probe: Some(http_probe(5)),
        security_context: Some(security::container()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let annotations = BTreeMap::from([
        ("prometheus.io/path".to_owned(), "/metrics".to_owned()),
        ("prometheus.io/port".to_owned(), METRICS.to_string()),
        ("prometheus.io/scrape".to_owned(), "true".to_owned()),
    ]);
    Deployment {
        metadata: labels::meta(&coder.name, &coder.namespace, labels),
        spec: Some(DeploymentSpec {
            replicas: Some(i32::try_from(coder.replicas).unwrap_or(1)),
            revision_history_limit: Some(5),
            selector: pod::selector(stack, &coder.name),
            template: pod::template(
                labels,
                annotations,
                PodSpec {
                    service_account_name: Some(coder.name.clone()),
                    // Coder provisions workspaces through the Kubernetes API with this account.
                    automount_service_account_token: Some(true),
                    enable_service_links: Some(false),
                    security_context: Some(security::pod(coder.run_as_user)),
                    termination_grace_period_seconds: Some(60),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                },
            ),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn role(coder: &CoderPlan, labels: &BTreeMap<String, String>) -> Role {
    Role {
        metadata: labels::meta(
            &format!("{}-workspaces", coder.name),
            &coder.workspace_namespace,
            labels,
        ),
        rules: Some(
            coder
                .rules
                .iter()
                .map(|r| PolicyRule {
                    api_groups: Some(vec![r.api_group.clone()]),
                    resources: Some(r.resources.clone()),
                    verbs: r.verbs.clone(),
                    ..PolicyRule::default()
                })
                .collect(),
        ),
    }
}

fn role_binding(coder: &CoderPlan, labels: &BTreeMap<String, String>) -> RoleBinding {
    RoleBinding {
        metadata: labels::meta(
            &format!("{}-workspaces", coder.name),
            &coder.workspace_namespace,
            labels,
        ),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: format!("{}-workspaces", coder.name),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: coder.name.clone(),
            namespace: Some(coder.namespace.clone()),
            ..Subject::default()
        }]),
    }
}

/// Headers ingress-nginx sets towards Coder so websockets (and DERP) upgrade.
fn proxy_headers(coder: &CoderPlan, labels: &BTreeMap<String, String>) -> ConfigMap {
    ConfigMap {
        metadata: labels::meta(
            &format!("{}-proxy-headers", coder.name),
            &coder.namespace,
            labels,
        ),
        data: Some(BTreeMap::from([
            ("Connection".to_owned(), "$connection_upgrade".to_owned()),
            ("Upgrade".to_owned(), "$http_upgrade".to_owned()),
            ("X-Forwarded-Proto".to_owned(), "https".to_owned()),
        ])),
        ..ConfigMap::default()
    }
}

/// The URL agents reach Coder at, for templates to use instead of the public URL.
fn agent_config(coder: &CoderPlan, labels: &BTreeMap<String, String>) -> ConfigMap {
    ConfigMap {
        metadata: labels::meta(
            &format!("{}-agent", coder.name),
            &coder.workspace_namespace,
            labels,
        ),
        data: Some(BTreeMap::from([
            ("access_url".to_owned(), coder.access_url.clone()),
            ("agent_url".to_owned(), coder.agent_url.clone()),
        ])),
        ..ConfigMap::default()
    }
}

fn ingress_annotations(coder: &CoderPlan) -> BTreeMap<String, String> {
    let mut a = BTreeMap::from([
        (
            "nginx.ingress.kubernetes.io/websocket-services".to_owned(),
            coder.name.clone(),
        ),
        (
            "nginx.ingress.kubernetes.io/proxy-set-headers".to_owned(),
            format!("{}/{}-proxy-headers", coder.namespace, coder.name),
        ),
        (
            "nginx.ingress.kubernetes.io/proxy-read-timeout".to_owned(),
            "3600".to_owned(),
        ),
        (
            "nginx.ingress.kubernetes.io/proxy-send-timeout".to_owned(),
            "3600".to_owned(),
        ),
        (
            "nginx.ingress.kubernetes.io/proxy-body-size".to_owned(),
            "0".to_owned(),
        ),
    ]);
    if coder.external_dns {
        a.insert(
            "external-dns.alpha.kubernetes.io/hostname".into(),
            format!("{},{}", coder.host, coder.wildcard),
        );
    }
    a
}

fn ingress(coder: &CoderPlan, labels: &BTreeMap<String, String>) -> Ingress {
    let rule = |host: &str| IngressRule {
        host: Some(host.to_owned()),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath {
                path: Some("/".into()),
                path_type: "Prefix".into(),
                backend: IngressBackend {
                    service: Some(IngressServiceBackend {
                        name: coder.name.clone(),
                        port: Some(ServiceBackendPort {
                            name: Some("http".into()),
                            number: None,
                        }),
                    }),
                    resource: None,
                },
            }],
        }),
    };
    let mut meta = labels::meta(&coder.name, &coder.namespace, labels);
    meta.annotations = Some(ingress_annotations(coder));
    Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: Some(coder.ingress_class.clone()),
            rules: Some(vec![rule(&coder.host), rule(&coder.wildcard)]),
            tls: Some(vec![IngressTLS {
                hosts: Some(vec![coder.host.clone(), coder.wildcard.clone()]),
                secret_name: Some(coder.tls_secret.clone()),
            }]),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    }
}

fn load_balancer(
    stack: &str,
    coder: &CoderPlan,
    labels: &BTreeMap<String, String>,
    ip: &str,
) -> Service {
    let mut meta = labels::meta(&format!("{}-lb", coder.name), &coder.namespace, labels);
    let mut annotations = BTreeMap::from([
        (ALLOW_LOAD_BALANCER.to_owned(), "true".to_owned()),
        (
            "metallb.universe.tf/loadBalancerIPs".to_owned(),
            ip.to_owned(),
        ),
    ]);
    if coder.external_dns {
        annotations.insert(
            "external-dns.alpha.kubernetes.io/hostname".into(),
            coder.host.clone(),
        );
    }
    meta.annotations = Some(annotations);
    Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: Some("LoadBalancer".into()),
            selector: Some(coder.pod_selector(stack)),
            // HTTPS only: Coder's own TLS listener with the access host's certificate.
            ports: Some(vec![ServicePort {
                name: Some("https".into()),
                port: 443,
                target_port: Some(IntOrString::String("https".into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// Values of the upstream chart, generated from the Plan (the same env, RBAC, ingress).
fn helm_values(coder: &CoderPlan) -> Value {
    let extra_rules: Vec<Value> = coder
        .rules
        .iter()
        .map(|r| json!({ "apiGroups": [r.api_group], "resources": r.resources, "verbs": r.verbs }))
        .collect();
    json!({ "coder": {
                "image": { "repo": coder.chart_image.0, "tag": coder.chart_image.1 },
                "replicaCount": coder.replicas,
                "env": json(&env(coder)),
                "resources": json(&pod::resources(&coder.resources)),
                "securityContext": json(&security::container()),
                "serviceAccount": { "workspacePerms": true, "enableDeployments": true, "extraRules": extra_rules, "name": coder.name },
                // The chart's LoadBalancer also publishes port 80 (its http port):
                // the NetworkPolicies admit only the TLS port from outside the cluster.
                "service": match &coder.load_balancer_ip {
                    Some(ip) => json!({ "type": "LoadBalancer", "loadBalancerIP": ip, "annotations": { "metallb.universe.tf/loadBalancerIPs": ip } }),
                    None => json!({ "type": "ClusterIP" }),
                },
                "tls": { "secretNames": if coder.serves_tls() { vec![coder.tls_secret.clone()] } else { Vec::new() } },
                "ingress": {
                    "enable": true,
                    "className": coder.ingress_class,
                    "host": coder.host,
                    "wildcardHost": coder.wildcard,
                    "annotations": ingress_annotations(coder),
                    "tls": { "enable": true, "secretName": coder.tls_secret, "wildcardSecretName": coder.tls_secret },
                },
    }})
}
