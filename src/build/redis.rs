//! `redis` → ServiceAccount, the password (through the secret provider), a ClusterIP
//! Service (`redis` 6379, `metrics` 9121), and either a StatefulSet with a data volume
//! and append-only persistence (`storage`) or a cache Deployment with an emptyDir. Data
//! layer.
//!
//! The server requires the password: `--requirepass $(REDIS_PASSWORD)`, expanded by the
//! kubelet from the Secret, so no value is ever in a manifest. The probes and the
//! redis_exporter sidecar authenticate the same way (`REDISCLI_AUTH`, `REDIS_PASSWORD`).
//! It runs as the image's `redis` user (uid 999) with a read-only root; /data and /tmp
//! are volumes. No PodDisruptionBudget: one replica, so `maxUnavailable: 1` would change
//! nothing and `minAvailable: 1` would block every node drain.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, ContainerPort, EnvVar, HTTPGetAction, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{labels, pod, secrets, security};
use crate::object::{Layer, Object};
use crate::plan::{Plan, Quantities, RedisPlan, ResourcesPlan};

/// The uid/gid of the official image's `redis` user.
const UID: i64 = 999;
const DATA: &str = "/data";
/// The env var `--requirepass $(REDIS_PASSWORD)` expands.
const PASSWORD_ENV: &str = "REDIS_PASSWORD";

pub fn build(plan: &Plan, redis: &RedisPlan) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, &redis.name, "redis");
    let component = format!("redis.{}", redis.name);
    let object =
        |value: serde_json::Value| Object::new(Layer::Data, Some(component.clone()), &value);
    let mut out = vec![object(json(&pod::service_account(
        &redis.name,
        &redis.namespace,
        &labels,
        false,
    )))];
    if let Some(provider) = &plan.secrets {
        out.extend(secrets::build(
            provider,
            &redis.credentials,
            Layer::Data,
            &component,
            stack,
        ));
    }
    let ports: Vec<(&str, u16)> = redis
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.port))
        .collect();
    out.push(object(json(&pod::service(
        stack,
        &redis.name,
        &redis.name,
        &redis.namespace,
        &labels,
        &ports,
        false,
    ))));
    match &redis.storage {
        Some(_) => {
            out.push(object(json(&pod::service(
                stack,
                &redis.name,
                &headless(redis),
                &redis.namespace,
                &labels,
                &ports,
                true,
            ))));
            out.push(object(json(&stateful_set(stack, redis, &labels))));
        }
        None => out.push(object(json(&deployment(stack, redis, &labels)))),
    }
    out
}

fn json<T: serde::Serialize>(resource: &T) -> serde_json::Value {
    serde_json::to_value(resource).expect("Kubernetes types serialize")
}

fn headless(redis: &RedisPlan) -> String {
    format!("{}-headless", redis.name)
}

/// `redis-server` arguments: auth, persistence, memory.
fn server_args(redis: &RedisPlan) -> Vec<String> {
    let mut args: Vec<String> = [
        "redis-server",
        "--port",
        "6379",
        "--dir",
        DATA,
        "--requirepass",
        "$(REDIS_PASSWORD)",
    ]
    .map(str::to_owned)
    .to_vec();
    if redis.storage.is_some() {
        // Every write is logged and fsynced each second; RDB snapshots stay on as well.
        args.extend(["--appendonly", "yes", "--appendfsync", "everysec"].map(str::to_owned));
    } else {
        // A cache: nothing is written to disk.
        args.extend(["--appendonly", "no", "--save", ""].map(str::to_owned));
    }
    if let Some(bytes) = redis.maxmemory {
        args.extend(["--maxmemory".to_owned(), bytes.to_string()]);
    }
    if let Some(policy) = &redis.maxmemory_policy {
        args.extend(["--maxmemory-policy".to_owned(), policy.clone()]);
    }
    args
}

fn password_env(redis: &RedisPlan, var: &str) -> EnvVar {
    pod::secret_env(var, &redis.credentials.name, &redis.password_key())
}

fn port(name: &str, number: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: i32::from(number),
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

fn server(redis: &RedisPlan) -> Container {
    // redis-cli reads the password from REDISCLI_AUTH; a PONG means authenticated and serving.
    let ping = [
        "sh",
        "-c",
        "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG",
    ];
    // Loading a large append-only file answers LOADING: give it up to 5 minutes to start.
    let startup = Probe {
        failure_threshold: Some(60),
        ..pod::exec_probe(&ping, 0, 5)
    };
    Container {
        name: "redis".into(),
        image: Some(redis.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(server_args(redis)),
        env: Some(vec![
            password_env(redis, PASSWORD_ENV),
            password_env(redis, "REDISCLI_AUTH"),
        ]),
        ports: Some(vec![port("redis", crate::check::REDIS_PORT)]),
        resources: Some(pod::resources(&redis.resources)),
        startup_probe: Some(startup),
        liveness_probe: Some(pod::exec_probe(&ping, 0, 10)),
        readiness_probe: Some(pod::exec_probe(&ping, 0, 5)),
        security_context: Some(security::container()),
        volume_mounts: Some(vec![pod::mount("data", DATA), pod::mount("tmp", "/tmp")]),
        ..Container::default()
    }
}

/// The oliver006/redis_exporter sidecar, scraped on `metrics`.
fn exporter(redis: &RedisPlan) -> Container {
    let health = |period| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/health".into()),
            port: IntOrString::String(redis.metrics.port_name.clone()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..Probe::default()
    };
    Container {
        name: "exporter".into(),
        image: Some(redis.exporter_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        env: Some(vec![
            pod::env("REDIS_ADDR", "redis://127.0.0.1:6379"),
            password_env(redis, "REDIS_PASSWORD"),
        ]),
        ports: Some(vec![port(&redis.metrics.port_name, redis.metrics.port)]),
        resources: Some(pod::resources(&ResourcesPlan {
            requests: Quantities {
                cpu: Some("10m".into()),
                memory: Some("32Mi".into()),
            },
            limits: Quantities {
                cpu: None,
                memory: Some("64Mi".into()),
            },
        })),
        liveness_probe: Some(health(20)),
        readiness_probe: Some(health(10)),
        security_context: Some(security::container()),
        ..Container::default()
    }
}

fn pod_spec(redis: &RedisPlan, ephemeral: bool) -> PodSpec {
    let (tmp, _) = security::tmp_volume();
    let mut volumes = vec![tmp];
    if ephemeral {
        volumes.insert(0, pod::empty_dir("data"));
    }
    PodSpec {
        service_account_name: Some(redis.name.clone()),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(security::pod(UID)),
        containers: vec![server(redis), exporter(redis)],
        volumes: Some(volumes),
        ..PodSpec::default()
    }
}

fn annotations(redis: &RedisPlan) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("prometheus.io/scrape".to_owned(), "true".to_owned()),
        (
            "prometheus.io/port".to_owned(),
            redis.metrics.port.to_string(),
        ),
        ("prometheus.io/path".to_owned(), redis.metrics.path.clone()),
    ])
}

fn stateful_set(stack: &str, redis: &RedisPlan, labels: &BTreeMap<String, String>) -> StatefulSet {
    let size = redis
        .storage
        .as_deref()
        .expect("a StatefulSet is built for a Redis with storage");
    StatefulSet {
        metadata: labels::meta(&redis.name, &redis.namespace, labels),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(headless(redis)),
            selector: pod::selector(stack, &redis.name),
            template: pod::template(labels, annotations(redis), pod_spec(redis, false)),
            volume_claim_templates: Some(vec![pod::data_claim(
                labels,
                size,
                redis.storage_class.as_deref(),
            )]),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

fn deployment(stack: &str, redis: &RedisPlan, labels: &BTreeMap<String, String>) -> Deployment {
    Deployment {
        metadata: labels::meta(&redis.name, &redis.namespace, labels),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            revision_history_limit: Some(5),
            selector: pod::selector(stack, &redis.name),
            template: pod::template(labels, annotations(redis), pod_spec(redis, true)),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}
