//! `kafka` → ServiceAccount, keystore password (through the secret provider), headless
//! and client Services, the KRaft StatefulSet (every node a broker and a controller, a
//! data volume each), PodDisruptionBudget, the topic Job, and the kafka-exporter
//! Deployment and Service (consumer lag on :9308). Data layer.
//!
//! With TLS (the default) the brokers listen on SSL only: clients on 9093, brokers on
//! 19093, controllers on 9094; there is no plaintext listener and no PLAINTEXT in the
//! protocol map. The keystore is the PKCS#12 cert-manager writes into the brokers'
//! Certificate Secret, projected with its password under /etc/kafka/secrets.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, EnvVarSource, KeyToPath, ObjectFieldSelector, PodSpec, Probe,
    ProjectedVolumeSource, SecretProjection, SecretVolumeSource, TCPSocketAction,
    TopologySpreadConstraint, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::{empty_dir, mount};
use super::postgres::json;
use super::{checksum, labels, pod, secrets, security};
use crate::object::{Layer, Object};
use crate::plan::{KafkaPlan, Plan};

/// uid/gid of the apache/kafka image's `appuser`.
const UID: i64 = 1000;
/// uid of the kafka-exporter image's `nobody`.
const EXPORTER_UID: i64 = 65534;
const DATA: &str = "/var/lib/kafka/data";
/// Where the apache/kafka image reads TLS material (REFERENCE: Kafka without an operator).
pub const SECRETS_DIR: &str = "/etc/kafka/secrets";
/// Where the Job and the exporter mount the client certificate (tls.crt, tls.key, ca.crt).
const CLIENT_DIR: &str = "/etc/kafka/client-tls";
const CONTROLLER_PORT: u16 = KafkaPlan::CONTROLLER_PORT;

pub fn build(plan: &Plan, kafka: &KafkaPlan) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, &kafka.name, "kafka");
    let component = format!("kafka.{}", kafka.name);
    let object =
        |value: serde_json::Value| Object::new(Layer::Data, Some(component.clone()), &value);
    let mut out = vec![object(json(&pod::service_account(
        &kafka.name,
        &kafka.namespace,
        &labels,
        false,
    )))];
    // The keystore password is in the infra layer with the Certificate that encrypts
    // the keystore with it: infra waits for its Certificates to be Ready.
    if let (Some(provider), Some(tls)) = (&plan.secrets, &kafka.tls) {
        out.extend(secrets::build(
            provider,
            &tls.password,
            Layer::Infra,
            &component,
            stack,
        ));
    }
    let (client, internal, controller) = listener_names(kafka);
    let ports = [
        (client, kafka.client_port()),
        (internal, kafka.internal_port()),
        (controller, CONTROLLER_PORT),
    ];
    let port_names: Vec<(&str, u16)> = ports
        .iter()
        .map(|(listener, port)| (port_name(listener), *port))
        .collect();
    out.push(object(json(&pod::service(
        stack,
        &kafka.name,
        &kafka.headless(),
        &kafka.namespace,
        &labels,
        &port_names,
        true,
    ))));
    out.push(object(json(&pod::service(
        stack,
        &kafka.name,
        &kafka.name,
        &kafka.namespace,
        &labels,
        &port_names[..1],
        false,
    ))));
    out.push(object(json(&stateful_set(
        stack,
        kafka,
        &labels,
        &port_names,
    ))));
    if kafka.brokers > 1 {
        out.push(object(json(&pod::pdb(
            stack,
            &kafka.name,
            &kafka.namespace,
            &labels,
        ))));
    }
    if !kafka.topics.is_empty() {
        out.push(object(json(&topics_job(stack, kafka))));
    }
    let exporter = format!("{}-exporter", kafka.name);
    let exporter_labels = labels::labels(stack, &exporter, "kafka-exporter");
    out.push(object(json(&pod::service_account(
        &exporter,
        &kafka.namespace,
        &exporter_labels,
        false,
    ))));
    out.push(object(json(&pod::service(
        stack,
        &exporter,
        &exporter,
        &kafka.namespace,
        &exporter_labels,
        &[(kafka.metrics.port_name.as_str(), kafka.metrics.port)],
        false,
    ))));
    out.push(object(json(&exporter_deployment(
        stack,
        kafka,
        &exporter,
        &exporter_labels,
    ))));
    out
}

/// (client, inter-broker, controller) listener names.
fn listener_names(kafka: &KafkaPlan) -> (&'static str, &'static str, &'static str) {
    if kafka.tls.is_some() {
        ("SSL", "SSL-INTERNAL", "CONTROLLER")
    } else {
        ("PLAINTEXT", "INTERNAL", "CONTROLLER")
    }
}

/// The container/Service port name of a listener.
fn port_name(listener: &str) -> &'static str {
    match listener {
        "SSL" | "PLAINTEXT" => "client",
        "CONTROLLER" => "controller",
        _ => "internal",
    }
}

/// `0@kafka-0.kafka-headless.ns.svc.cluster.local:9094,...`: every node votes.
pub fn quorum_voters(kafka: &KafkaPlan) -> String {
    (0..kafka.brokers)
        .map(|i| format!("{i}@{}:{CONTROLLER_PORT}", kafka.broker_host(i)))
        .collect::<Vec<_>>()
        .join(",")
}

/// min.insync.replicas: 2 from three brokers on (one may fail), else 1.
fn min_isr(replicas: u32) -> u32 {
    if replicas >= 3 { 2 } else { 1 }
}

/// Half the memory limit in MiB for the JVM heap (the rest is page cache and metaspace).
fn heap_mib(kafka: &KafkaPlan) -> u64 {
    let limit = kafka
        .resources
        .limits
        .memory
        .as_deref()
        .and_then(|m| crate::check::parse_quantity(m).ok())
        .unwrap_or(2.0 * 1024.0 * 1024.0 * 1024.0);
    ((limit / 2.0 / 1024.0 / 1024.0) as u64).max(256)
}

fn field_env(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

fn broker_env(kafka: &KafkaPlan) -> Vec<EnvVar> {
    let (client, internal, controller) = listener_names(kafka);
    let headless = crate::check::fqdn(&kafka.headless(), &kafka.namespace);
    let protocol = if kafka.tls.is_some() {
        "SSL"
    } else {
        "PLAINTEXT"
    };
    let replication = kafka.brokers.clamp(1, 3);
    let isr = min_isr(replication).to_string();
    let heap = heap_mib(kafka);
    let mut env = vec![
        field_env("POD_NAME", "metadata.name"),
        field_env(
            "KAFKA_NODE_ID",
            "metadata.labels['apps.kubernetes.io/pod-index']",
        ),
        pod::env("CLUSTER_ID", &kafka.cluster_id),
        pod::env("KAFKA_PROCESS_ROLES", "broker,controller"),
        pod::env(
            "KAFKA_LISTENERS",
            format!(
                "{client}://:{},{internal}://:{},{controller}://:{CONTROLLER_PORT}",
                kafka.client_port(),
                kafka.internal_port()
            ),
        ),
        pod::env(
            "KAFKA_ADVERTISED_LISTENERS",
            format!(
                "{client}://$(POD_NAME).{headless}:{},{internal}://$(POD_NAME).{headless}:{}",
                kafka.client_port(),
                kafka.internal_port()
            ),
        ),
        pod::env(
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            format!("{client}:{protocol},{internal}:{protocol},{controller}:{protocol}"),
        ),
        pod::env("KAFKA_INTER_BROKER_LISTENER_NAME", internal),
        pod::env("KAFKA_CONTROLLER_LISTENER_NAMES", controller),
        pod::env("KAFKA_CONTROLLER_QUORUM_VOTERS", quorum_voters(kafka)),
        pod::env("KAFKA_LOG_DIRS", format!("{DATA}/logs")),
        pod::env("KAFKA_DEFAULT_REPLICATION_FACTOR", replication.to_string()),
        pod::env(
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            replication.to_string(),
        ),
        pod::env(
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
            replication.to_string(),
        ),
        pod::env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", &isr),
        pod::env("KAFKA_MIN_INSYNC_REPLICAS", &isr),
        pod::env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false"),
        pod::env("KAFKA_HEAP_OPTS", format!("-Xms{heap}m -Xmx{heap}m")),
        pod::env("LOG_DIR", "/tmp/kafka-logs"),
    ];
    if let Some(tls) = &kafka.tls {
        let (secret, key) = (&tls.password.name, &tls.password.keys[0]);
        env.extend([
            pod::env("KAFKA_SSL_KEYSTORE_FILENAME", "keystore.p12"),
            pod::env("KAFKA_SSL_KEYSTORE_TYPE", "PKCS12"),
            pod::env("KAFKA_SSL_KEYSTORE_CREDENTIALS", "keystore_creds"),
            pod::env("KAFKA_SSL_KEY_CREDENTIALS", "keystore_creds"),
            pod::env(
                "KAFKA_SSL_TRUSTSTORE_LOCATION",
                format!("{SECRETS_DIR}/truststore.p12"),
            ),
            pod::env("KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12"),
            pod::secret_env("KAFKA_SSL_TRUSTSTORE_PASSWORD", secret, key),
            pod::env("KAFKA_SSL_CLIENT_AUTH", "none"),
            pod::env("KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https"),
        ]);
    }
    env
}

fn tcp_probe(port: &str, initial_delay: i32, period: i32, failures: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.into()),
            host: None,
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// The cert-manager Secret (keystore.p12, truststore.p12, ca.crt) and the password
/// twice, as the image's credentials files.
fn secrets_volume(kafka: &KafkaPlan) -> Option<Volume> {
    let tls = kafka.tls.as_ref()?;
    let item = |key: &str, path: &str| KeyToPath {
        key: key.into(),
        path: path.into(),
        mode: None,
    };
    let password = &tls.password.keys[0];
    Some(Volume {
        name: "secrets".into(),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(0o440),
            sources: Some(vec![
                VolumeProjection {
                    secret: Some(SecretProjection {
                        name: tls.server.name.clone(),
                        items: Some(vec![
                            item("ca.crt", "ca.crt"),
                            item("keystore.p12", "keystore.p12"),
                            item("truststore.p12", "truststore.p12"),
                        ]),
                        optional: None,
                    }),
                    ..VolumeProjection::default()
                },
                VolumeProjection {
                    secret: Some(SecretProjection {
                        name: tls.password.name.clone(),
                        items: Some(vec![
                            item(password, "keystore_creds"),
                            item(password, "truststore_creds"),
                        ]),
                        optional: None,
                    }),
                    ..VolumeProjection::default()
                },
            ]),
        }),
        ..Volume::default()
    })
}

fn stateful_set(
    stack: &str,
    kafka: &KafkaPlan,
    labels: &BTreeMap<String, String>,
    ports: &[(&str, u16)],
) -> StatefulSet {
    let mut mounts = vec![
        mount("data", DATA),
        mount("config", "/opt/kafka/config"),
        mount("tmp", "/tmp"),
    ];
    let mut volumes = vec![empty_dir("config"), empty_dir("tmp")];
    let mut annotations = BTreeMap::new();
    if let Some(volume) = secrets_volume(kafka) {
        mounts.push(VolumeMount {
            read_only: Some(true),
            ..mount("secrets", SECRETS_DIR)
        });
        volumes.push(volume);
    }
    let env = broker_env(kafka);
    annotations.insert(format!("checksum/{}-config", kafka.name), checksum(&env));
    let container = Container {
        name: "kafka".into(),
        image: Some(kafka.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        ports: Some(
            ports
                .iter()
                .map(|(name, port)| ContainerPort {
                    name: Some((*name).into()),
                    container_port: i32::from(*port),
                    protocol: Some("TCP".into()),
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        env: Some(env),
        resources: Some(pod::resources(&kafka.resources)),
        startup_probe: Some(tcp_probe("controller", 10, 10, 30)),
        liveness_probe: Some(tcp_probe("controller", 0, 20, 3)),
        readiness_probe: Some(tcp_probe("client", 0, 10, 3)),
        security_context: Some(security::container()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    StatefulSet {
        metadata: labels::meta(&kafka.name, &kafka.namespace, labels),
        spec: Some(StatefulSetSpec {
            replicas: Some(super::int32(kafka.brokers)),
            service_name: Some(kafka.headless()),
            // Every voter must start for the quorum to form: no ordered start.
            pod_management_policy: Some("Parallel".into()),
            selector: pod::selector(stack, &kafka.name),
            template: pod::template(
                labels,
                annotations,
                PodSpec {
                    service_account_name: Some(kafka.name.clone()),
                    automount_service_account_token: Some(false),
                    // A Service named kafka would inject KAFKA_PORT=tcp://... and break the broker.
                    enable_service_links: Some(false),
                    security_context: Some(security::pod(UID)),
                    termination_grace_period_seconds: Some(120),
                    topology_spread_constraints: (kafka.brokers > 1).then(|| {
                        vec![TopologySpreadConstraint {
                            max_skew: 1,
                            topology_key: "kubernetes.io/hostname".into(),
                            when_unsatisfiable: "ScheduleAnyway".into(),
                            label_selector: Some(pod::selector(stack, &kafka.name)),
                            ..TopologySpreadConstraint::default()
                        }]
                    }),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                },
            ),
            volume_claim_templates: Some(vec![pod::data_claim(
                labels,
                &kafka.storage,
                kafka.storage_class.as_deref(),
            )]),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// The client configuration the Job's tools use: TLS with the stack CA (PEM).
fn client_properties(kafka: &KafkaPlan) -> String {
    match kafka.tls {
        Some(_) => format!(
            "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location={CLIENT_DIR}/ca.crt\n"
        ),
        None => "security.protocol=PLAINTEXT\n".into(),
    }
}

/// Creates every declared topic once (`--if-not-exists`) and applies its configs
/// (`kafka-configs --alter` is idempotent); waits for the cluster first.
pub fn topics_script(kafka: &KafkaPlan) -> String {
    let bootstrap = kafka.bootstrap_servers();
    let mut script = format!(
        "set -eu\n\
         cat > /tmp/client.properties <<'EOF'\n{}EOF\n\
         kafka() {{ tool=$1; shift; \"/opt/kafka/bin/kafka-$tool.sh\" --bootstrap-server '{bootstrap}' --command-config /tmp/client.properties \"$@\"; }}\n\
         tries=0\n\
         until kafka topics --list >/dev/null; do\n  \
           tries=$((tries + 1)); [ \"$tries\" -lt 30 ] || exit 1; sleep 10\n\
         done\n",
        client_properties(kafka)
    );
    for topic in &kafka.topics {
        let mut configs = vec![format!(
            "min.insync.replicas={}",
            min_isr(topic.replication)
        )];
        if let Some(ms) = topic.retention_ms {
            configs.push(format!("retention.ms={ms}"));
        }
        let create_configs: String = configs.iter().map(|c| format!(" --config {c}")).collect();
        script.push_str(&format!(
            "kafka topics --create --if-not-exists --topic {name} --partitions {p} --replication-factor {r}{create_configs}\n\
             kafka configs --alter --entity-type topics --entity-name {name} --add-config {all}\n",
            name = topic.name,
            p = topic.partitions,
            r = topic.replication,
            all = configs.join(","),
        ));
    }
    script
}

fn client_volume(kafka: &KafkaPlan) -> Option<(Volume, VolumeMount)> {
    let tls = kafka.tls.as_ref()?;
    Some((
        Volume {
            name: "client-tls".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(tls.client.name.clone()),
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
        VolumeMount {
            read_only: Some(true),
            ..mount("client-tls", CLIENT_DIR)
        },
    ))
}

/// The topic Job; its name carries a hash of the script, so a changed topic list is a
/// new Job (a Job's template is immutable) and Flux prunes the old one.
fn topics_job(stack: &str, kafka: &KafkaPlan) -> Job {
    let script = topics_script(kafka);
    let name = format!("{}-topics-{}", kafka.name, &checksum(&script)[..8]);
    let job_labels = labels::labels(stack, &format!("{}-topics", kafka.name), "kafka-topics");
    let mut volumes = vec![empty_dir("tmp")];
    let mut mounts = vec![mount("tmp", "/tmp")];
    if let Some((volume, m)) = client_volume(kafka) {
        volumes.push(volume);
        mounts.push(m);
    }
    let container = Container {
        name: "topics".into(),
        image: Some(kafka.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), script]),
        env: Some(vec![
            pod::env("LOG_DIR", "/tmp/logs"),
            pod::env("KAFKA_HEAP_OPTS", "-Xmx256m"),
        ]),
        resources: Some(pod::resources(&crate::plan::ResourcesPlan {
            requests: crate::plan::Quantities {
                cpu: Some("100m".into()),
                memory: Some("384Mi".into()),
            },
            limits: crate::plan::Quantities {
                cpu: None,
                memory: Some("512Mi".into()),
            },
        })),
        security_context: Some(security::container()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    Job {
        metadata: labels::meta(&name, &kafka.namespace, &job_labels),
        spec: Some(JobSpec {
            backoff_limit: Some(4),
            template: pod::template(
                &job_labels,
                BTreeMap::new(),
                PodSpec {
                    restart_policy: Some("OnFailure".into()),
                    service_account_name: Some(kafka.name.clone()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(security::pod(UID)),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..PodSpec::default()
                },
            ),
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// kafka-exporter: `kafka_consumergroup_lag` and friends on :9308, over TLS with the
/// cluster's client certificate.
fn exporter_deployment(
    stack: &str,
    kafka: &KafkaPlan,
    name: &str,
    labels: &BTreeMap<String, String>,
) -> Deployment {
    let mut args: Vec<String> = (0..kafka.brokers)
        .map(|i| {
            format!(
                "--kafka.server={}:{}",
                kafka.broker_host(i),
                kafka.client_port()
            )
        })
        .collect();
    args.push(format!("--web.listen-address=:{}", kafka.metrics.port));
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some((volume, m)) = client_volume(kafka) {
        args.extend([
            "--tls.enabled".into(),
            format!("--tls.ca-file={CLIENT_DIR}/ca.crt"),
            format!("--tls.cert-file={CLIENT_DIR}/tls.crt"),
            format!("--tls.key-file={CLIENT_DIR}/tls.key"),
        ]);
        volumes.push(volume);
        mounts.push(m);
    }
    let port = kafka.metrics.port_name.as_str();
    let container = Container {
        name: "kafka-exporter".into(),
        image: Some(kafka.exporter_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(args),
        ports: Some(vec![ContainerPort {
            name: Some(port.into()),
            container_port: i32::from(kafka.metrics.port),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        resources: Some(pod::resources(&crate::plan::ResourcesPlan {
            requests: crate::plan::Quantities {
                cpu: Some("50m".into()),
                memory: Some("64Mi".into()),
            },
            limits: crate::plan::Quantities {
                cpu: None,
                memory: Some("128Mi".into()),
            },
        })),
        liveness_probe: Some(tcp_probe(port, 10, 20, 3)),
        readiness_probe: Some(tcp_probe(port, 5, 10, 3)),
        security_context: Some(security::container()),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    };
    let annotations = BTreeMap::from([
        ("prometheus.io/scrape".to_owned(), "true".to_owned()),
        (
            "prometheus.io/port".to_owned(),
            kafka.metrics.port.to_string(),
        ),
        ("prometheus.io/path".to_owned(), kafka.metrics.path.clone()),
    ]);
    Deployment {
        metadata: labels::meta(name, &kafka.namespace, labels),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            revision_history_limit: Some(5),
            selector: pod::selector(stack, name),
            template: pod::template(
                labels,
                annotations,
                PodSpec {
                    service_account_name: Some(name.into()),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(security::pod(EXPORTER_UID)),
                    containers: vec![container],
                    volumes: (!volumes.is_empty()).then_some(volumes),
                    ..PodSpec::default()
                },
            ),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}
