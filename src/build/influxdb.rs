//! `influxdb` → ServiceAccount, credentials (through the secret provider), headless and
//! client Services, and the StatefulSet with its data volume. Data layer.
//!
//! The official image sets the server up on first start from `DOCKER_INFLUXDB_INIT_*`
//! (admin user, password and token from the provider's Secret; org, bucket, retention
//! from the model). With TLS (the default) influxd serves HTTPS on 8086 with the
//! cert-manager certificate (`INFLUXD_TLS_CERT`/`INFLUXD_TLS_KEY`); `/health` and
//! `/metrics` are served on the same port.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, HTTPGetAction, PodSpec, Probe, SecretVolumeSource, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::{empty_dir, mount};
use super::postgres::json;
use super::{checksum, labels, pod, secrets, security};
use crate::check::INFLUXDB_PORT as PORT;
use crate::object::{Layer, Object};
use crate::plan::{InfluxdbPlan, Plan};

/// uid/gid of the official image's `influxdb` user.
const UID: i64 = 1000;
const DATA: &str = "/var/lib/influxdb2";
/// Where the server certificate's Secret is mounted.
pub const TLS_DIR: &str = "/etc/influxdb2-tls";

pub fn build(plan: &Plan, influx: &InfluxdbPlan) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, &influx.name, "influxdb");
    let component = format!("influxdb.{}", influx.name);
    let object =
        |value: serde_json::Value| Object::new(Layer::Data, Some(component.clone()), &value);
    let mut out = vec![object(json(&pod::service_account(
        &influx.name,
        &influx.namespace,
        &labels,
        false,
    )))];
    if let Some(provider) = &plan.secrets {
        out.extend(secrets::build(
            provider,
            &influx.credentials,
            Layer::Data,
            &component,
            stack,
        ));
    }
    for (name, headless) in [
        (format!("{}-headless", influx.name), true),
        (influx.name.clone(), false),
    ] {
        out.push(object(json(&pod::service(
            stack,
            &influx.name,
            &name,
            &influx.namespace,
            &labels,
            &[("http", PORT)],
            headless,
        ))));
    }
    out.push(object(json(&stateful_set(stack, influx, &labels))));
    out
}

fn env(influx: &InfluxdbPlan) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    let secret = &influx.credentials.name;
    let mut env = vec![
        pod::env("DOCKER_INFLUXDB_INIT_MODE", "setup"),
        pod::secret_env(
            "DOCKER_INFLUXDB_INIT_USERNAME",
            secret,
            &influx.key("admin-username"),
        ),
        pod::secret_env(
            "DOCKER_INFLUXDB_INIT_PASSWORD",
            secret,
            &influx.key("admin-password"),
        ),
        pod::secret_env(
            "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN",
            secret,
            &influx.key("admin-token"),
        ),
        pod::env("DOCKER_INFLUXDB_INIT_ORG", &influx.org),
        pod::env("DOCKER_INFLUXDB_INIT_BUCKET", &influx.bucket),
    ];
    if let Some(retention) = &influx.retention {
        env.push(pod::env("DOCKER_INFLUXDB_INIT_RETENTION", retention));
    }
    env.extend([
        pod::env("INFLUXD_HTTP_BIND_ADDRESS", format!(":{PORT}")),
        pod::env("INFLUXD_REPORTING_DISABLED", "true"),
    ]);
    if influx.tls.is_some() {
        env.extend([
            pod::env("INFLUXD_TLS_CERT", format!("{TLS_DIR}/tls.crt")),
            pod::env("INFLUXD_TLS_KEY", format!("{TLS_DIR}/tls.key")),
            pod::env("INFLUXD_TLS_MIN_VERSION", "1.2"),
        ]);
    }
    env
}

fn health_probe(influx: &InfluxdbPlan, initial_delay: i32, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/health".into()),
            port: IntOrString::String("http".into()),
            scheme: Some(
                if influx.tls.is_some() {
                    "HTTPS"
                } else {
                    "HTTP"
                }
                .into(),
            ),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Probe::default()
    }
}

fn stateful_set(
    stack: &str,
    influx: &InfluxdbPlan,
    labels: &BTreeMap<String, String>,
) -> StatefulSet {
    let mut mounts = vec![
        mount("data", DATA),
        mount("config", "/etc/influxdb2"),
        mount("tmp", "/tmp"),
    ];
    let mut volumes = vec![empty_dir("config"), empty_dir("tmp")];
    if let Some(cert) = &influx.tls {
        mounts.push(VolumeMount {
            read_only: Some(true),
            ..mount("tls", TLS_DIR)
        });
        volumes.push(Volume {
            name: "tls".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(cert.name.clone()),
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    let env = env(influx);
    let scheme = if influx.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let annotations = BTreeMap::from([
        (format!("checksum/{}-config", influx.name), checksum(&env)),
        ("prometheus.io/scrape".to_owned(), "true".to_owned()),
        (
            "prometheus.io/port".to_owned(),
            influx.metrics.port.to_string(),
        ),
        ("prometheus.io/path".to_owned(), influx.metrics.path.clone()),
        ("prometheus.io/scheme".to_owned(), scheme.to_owned()),
    ]);
    let container = Container {
        name: "influxdb".into(),
        image: Some(influx.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: i32::from(PORT),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(env),
        resources: Some(pod::resources(&influx.resources)),
        liveness_probe: Some(health_probe(influx, 30, 20)),
        readiness_probe: Some(health_probe(influx, 5, 10)),
        security_context: Some(security::container()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    StatefulSet {
        metadata: labels::meta(&influx.name, &influx.namespace, labels),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(format!("{}-headless", influx.name)),
            selector: pod::selector(stack, &influx.name),
            template: pod::template(
                labels,
                annotations,
                PodSpec {
                    service_account_name: Some(influx.name.clone()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(security::pod(UID)),
                    termination_grace_period_seconds: Some(60),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                },
            ),
            volume_claim_templates: Some(vec![pod::data_claim(
                labels,
                &influx.storage,
                influx.storage_class.as_deref(),
            )]),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}
