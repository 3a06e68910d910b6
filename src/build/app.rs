//! `app` → ServiceAccount, ConfigMap, Service, Deployment, HorizontalPodAutoscaler,
//! PodDisruptionBudget, all in the `apps` layer.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerPort, ExecAction, HTTPGetAction, PodSpec, Probe, Service,
    ServicePort, ServiceSpec, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::non_empty;
use super::{checksum, labels, pod, security};
use crate::object::{Layer, Object};
use crate::plan::{AppPlan, Plan, ProbeAction, ProbePlan};

/// All objects of one app.
pub fn build(plan: &Plan, app: &AppPlan) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, &app.name, "app");
    let mut out = vec![object(
        app,
        &pod::service_account(&app.name, &app.namespace, &labels, false),
    )];
    if let Some(provider) = &plan.secrets {
        for secret in &app.secrets {
            out.extend(super::secrets::build(
                provider,
                secret,
                Layer::Apps,
                &format!("app.{}", app.name),
                stack,
            ));
        }
    }
    let config_map = app.config.as_ref().map(|c| ConfigMap {
        metadata: labels::meta(&c.config_map, &app.namespace, &labels),
        data: Some(c.files.clone()),
        ..ConfigMap::default()
    });
    if let Some(cm) = &config_map {
        out.push(object(app, cm));
    }
    if !app.ports.is_empty() {
        out.push(object(app, &service(stack, app, &labels)));
    }
    out.push(object(
        app,
        &deployment(stack, app, &labels, config_map.as_ref()),
    ));
    if app.autoscale.is_some() {
        out.push(object(app, &hpa(app, &labels)));
    }
    if app.replicas > 1 {
        out.push(object(
            app,
            &pod::pdb(stack, &app.name, &app.namespace, &labels),
        ));
    }
    out
}

fn object<T: serde::Serialize>(app: &AppPlan, resource: &T) -> Object {
    Object::new(Layer::Apps, Some(format!("app.{}", app.name)), resource)
}

fn service(stack: &str, app: &AppPlan, labels: &BTreeMap<String, String>) -> Service {
    Service {
        metadata: labels::meta(&app.name, &app.namespace, labels),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(labels::selector(stack, &app.name)),
            ports: Some(
                app.ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.clone()),
                        port: i32::from(p.port),
                        target_port: Some(IntOrString::String(p.name.clone())),
                        protocol: Some("TCP".into()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn deployment(
    stack: &str,
    app: &AppPlan,
    labels: &BTreeMap<String, String>,
    config: Option<&ConfigMap>,
) -> Deployment {
    let (tmp_volume, tmp_mount) = security::tmp_volume();
    let mut volumes = vec![tmp_volume];
    let mut mounts = vec![tmp_mount];
    let mut annotations = BTreeMap::new();
    if let (Some(plan), Some(cm)) = (&app.config, config) {
        let (volume, mount) = pod::config_volume(plan);
        volumes.push(volume);
        mounts.push(mount);
        annotations.insert(format!("checksum/{}", plan.config_map), checksum(&cm.data));
    }
    if let Some(cert) = &app.client_tls {
        let (volume, mount) = pod::client_tls_volume(cert);
        volumes.push(volume);
        mounts.push(mount);
    }
    if let Some(m) = &app.metrics {
        annotations.insert("prometheus.io/scrape".into(), "true".into());
        annotations.insert("prometheus.io/port".into(), m.port.to_string());
        annotations.insert("prometheus.io/path".into(), m.path.clone());
    }
    let container = Container {
        name: app.name.clone(),
        image: Some(app.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: non_empty(&app.command),
        args: non_empty(&app.args),
        ports: non_empty(
            &app.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: i32::from(p.port),
                    protocol: Some("TCP".into()),
                    ..ContainerPort::default()
                })
                .collect::<Vec<_>>(),
        ),
        env: non_empty(&app.env.iter().map(pod::env_var).collect::<Vec<_>>()),
        resources: Some(pod::resources(&app.resources)),
        liveness_probe: app.probes.liveness.as_ref().map(probe),
        readiness_probe: app.probes.readiness.as_ref().map(probe),
        startup_probe: app.probes.startup.as_ref().map(probe),
        security_context: Some(security::container()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    Deployment {
        metadata: labels::meta(&app.name, &app.namespace, labels),
        spec: Some(DeploymentSpec {
            // With an HPA the replica count is the HPA's: leaving it unset keeps Flux from
            // resetting it on every reconciliation.
            replicas: app.autoscale.is_none().then(|| super::int32(app.replicas)),
            revision_history_limit: Some(5),
            selector: pod::selector(stack, &app.name),
            template: pod::template(
                labels,
                annotations,
                PodSpec {
                    service_account_name: Some(app.name.clone()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(security::pod(app.run_as_user)),
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

fn probe(p: &ProbePlan) -> Probe {
    let mut probe = Probe {
        initial_delay_seconds: Some(p.initial_delay),
        period_seconds: Some(p.period),
        failure_threshold: Some(p.failure_threshold),
        ..Probe::default()
    };
    match &p.action {
        ProbeAction::Http { path, port } => {
            probe.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(port.clone()),
                ..HTTPGetAction::default()
            });
        }
        ProbeAction::Tcp { port } => {
            probe.tcp_socket = Some(TCPSocketAction {
                port: IntOrString::String(port.clone()),
                host: None,
            });
        }
        ProbeAction::Exec(command) => {
            probe.exec = Some(ExecAction {
                command: Some(command.clone()),
            });
        }
    }
    probe
}

fn hpa(app: &AppPlan, labels: &BTreeMap<String, String>) -> HorizontalPodAutoscaler {
    let a = app
        .autoscale
        .as_ref()
        .expect("hpa is built for autoscaled apps only");
    HorizontalPodAutoscaler {
        metadata: labels::meta(&app.name, &app.namespace, labels),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: app.name.clone(),
            },
            min_replicas: Some(super::int32(a.min)),
            max_replicas: super::int32(a.max),
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(super::int32(a.cpu)),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    }
}
