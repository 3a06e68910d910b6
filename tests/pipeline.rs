//! The conveyor pipeline as rendered (rendered/<env>/ is the golden tree): Kafka in KRaft
//! mode with TLS only, InfluxDB over HTTPS, and the producer/processor wired to them.
//! Every assertion reads the committed objects and ties one to another (the quorum to
//! the StatefulSet, the keystore to its Certificate, the consumer's CA file to a mount).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const ENVS: [(&str, usize); 3] = [("dev", 1), ("staging", 3), ("prod", 3)];
const NS: &str = "conveyor-pipeline";

fn rendered(env: &str) -> PathBuf {
    repo().join("rendered").join(env)
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn object(env: &str, layer: &str, file: &str) -> Value {
    yaml(&rendered(env).join(layer).join(NS).join(file))
}

fn container(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]["containers"][0]
}

fn env_var<'a>(workload: &'a Value, name: &str) -> &'a Value {
    container(workload)["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env var {name}"))
}

fn env_value(workload: &Value, name: &str) -> String {
    env_var(workload, name)["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no literal value"))
        .to_owned()
}

fn array<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not a list"))
}

/// `kafka-<i>.<headless>.<ns>.svc.cluster.local` for every broker.
fn broker_hosts(statefulset: &Value) -> Vec<String> {
    let n = statefulset["spec"]["replicas"].as_u64().unwrap();
    let service = statefulset["spec"]["serviceName"].as_str().unwrap();
    let name = statefulset["metadata"]["name"].as_str().unwrap();
    (0..n)
        .map(|i| format!("{name}-{i}.{service}.{NS}.svc.cluster.local"))
        .collect()
}

#[test]
fn no_rendered_environment_has_a_plaintext_kafka_listener() {
    for (env, _) in ENVS {
        let kafka = object(env, "data", "statefulset-kafka.yaml");
        assert!(
            env_value(&kafka, "KAFKA_LISTENERS").contains("SSL://:9093"),
            "{env}: the TLS client listener is there"
        );
        let mut files = 0;
        for entry in walkdir::WalkDir::new(rendered(env)) {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            if !text.to_ascii_lowercase().contains("kafka") {
                continue;
            }
            files += 1;
            for forbidden in ["PLAINTEXT", ":9092"] {
                assert!(
                    !text.contains(forbidden),
                    "{}: `{forbidden}` with tls = true",
                    entry.path().display()
                );
            }
        }
        assert!(
            files >= 8,
            "{env}: the Kafka objects and their consumers were read"
        );
    }
}

#[test]
fn the_controller_quorum_is_every_broker_on_its_headless_name() {
    for (env, brokers) in ENVS {
        let kafka = object(env, "data", "statefulset-kafka.yaml");
        assert_eq!(
            kafka["spec"]["replicas"].as_u64(),
            Some(brokers as u64),
            "{env}"
        );
        let headless = object(env, "data", "service-kafka-headless.yaml");
        assert_eq!(headless["spec"]["clusterIP"], "None");
        assert_eq!(kafka["spec"]["serviceName"], headless["metadata"]["name"]);
        let voters = env_value(&kafka, "KAFKA_CONTROLLER_QUORUM_VOTERS");
        let expected: Vec<String> = broker_hosts(&kafka)
            .iter()
            .enumerate()
            .map(|(i, host)| format!("{i}@{host}:9094"))
            .collect();
        assert_eq!(voters.split(',').collect::<Vec<_>>(), expected, "{env}");
        assert_eq!(
            env_var(&kafka, "KAFKA_NODE_ID")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.labels['apps.kubernetes.io/pod-index']"
        );
        assert_eq!(
            kafka["spec"]["template"]["spec"]["enableServiceLinks"],
            false
        );
        let id = env_value(&kafka, "CLUSTER_ID");
        assert_eq!(id.len(), 22, "{env}");
        // Replication of the internal topics and min ISR follow the broker count.
        let rf = brokers.min(3).to_string();
        assert_eq!(
            env_value(&kafka, "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"),
            rf
        );
        let isr = if brokers >= 3 { "2" } else { "1" };
        assert_eq!(env_value(&kafka, "KAFKA_MIN_INSYNC_REPLICAS"), isr);
        let pdb = rendered(env)
            .join("data")
            .join(NS)
            .join("poddisruptionbudget-kafka.yaml");
        assert_eq!(
            pdb.exists(),
            brokers > 1,
            "{env}: a PDB only with more than one broker"
        );
    }
    // The cluster id is fixed: the same in every environment, never regenerated.
    let ids: Vec<String> = ENVS
        .iter()
        .map(|(env, _)| env_value(&object(env, "data", "statefulset-kafka.yaml"), "CLUSTER_ID"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn the_keystore_is_the_brokers_certificate_and_covers_every_broker() {
    for (env, _) in ENVS {
        let kafka = object(env, "data", "statefulset-kafka.yaml");
        let spec = &kafka["spec"]["template"]["spec"];
        let mount = array(&container(&kafka)["volumeMounts"], "mounts")
            .iter()
            .find(|m| m["mountPath"] == "/etc/kafka/secrets")
            .expect("the secrets directory is mounted");
        let volume = array(&spec["volumes"], "volumes")
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap();
        let sources = array(&volume["projected"]["sources"], "sources");
        let cert = yaml(
            &rendered(env)
                .join("infra")
                .join(NS)
                .join("certificate-kafka-tls.yaml"),
        );
        let keystore = &cert["spec"]["keystores"]["pkcs12"];
        assert_eq!(keystore["create"], true);
        // One source is the Certificate's Secret with its keystore ...
        let tls_source = sources
            .iter()
            .find(|s| s["secret"]["name"] == cert["spec"]["secretName"])
            .expect("the Certificate's Secret is projected");
        let keys: Vec<&Value> = array(&tls_source["secret"]["items"], "items")
            .iter()
            .map(|i| &i["key"])
            .collect();
        assert!(keys.contains(&&Value::from("keystore.p12")));
        assert!(keys.contains(&&Value::from("truststore.p12")));
        assert_eq!(
            env_value(&kafka, "KAFKA_SSL_KEYSTORE_FILENAME"),
            "keystore.p12"
        );
        assert_eq!(env_value(&kafka, "KAFKA_SSL_KEYSTORE_TYPE"), "PKCS12");
        // ... the other the password the keystore is encrypted with, as the credentials file.
        let password = &keystore["passwordSecretRef"];
        let creds = sources
            .iter()
            .find(|s| s["secret"]["name"] == password["name"])
            .expect("the keystore password is projected");
        let creds_file = env_value(&kafka, "KAFKA_SSL_KEYSTORE_CREDENTIALS");
        assert!(
            array(&creds["secret"]["items"], "items")
                .iter()
                .any(|i| i["key"] == password["key"] && i["path"] == creds_file.as_str())
        );
        // Its password comes from the secret provider, in the same layer as the Certificate.
        let provider = rendered(env).join("infra").join(NS).join(format!(
            "infisicalsecret-{}.yaml",
            password["name"].as_str().unwrap()
        ));
        assert!(provider.exists(), "{}", provider.display());
        // Every advertised broker name and the client Service are in the certificate.
        let dns: Vec<&str> = array(&cert["spec"]["dnsNames"], "dnsNames")
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        for host in broker_hosts(&kafka) {
            assert!(
                dns.contains(&host.as_str()),
                "{env}: {host} missing from {dns:?}"
            );
        }
        let advertised = env_value(&kafka, "KAFKA_ADVERTISED_LISTENERS");
        for listener in advertised.split(',') {
            let host = listener
                .split("://")
                .nth(1)
                .unwrap()
                .rsplit_once(':')
                .unwrap()
                .0;
            let pattern = host.replace("$(POD_NAME)", "kafka-0");
            assert!(dns.contains(&pattern.as_str()), "{env}: {listener}");
        }
        assert!(dns.contains(&format!("kafka.{NS}.svc.cluster.local").as_str()));
        assert_eq!(cert["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    }
}

/// The read-only mount a consumer's `<NAME>_CA_FILE` lives in, and the Secret behind it.
fn ca_mount_secret(deployment: &Value, ca_file: &str) -> String {
    let mount = array(&container(deployment)["volumeMounts"], "mounts")
        .iter()
        .find(|m| ca_file.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())))
        .unwrap_or_else(|| panic!("{ca_file} is in no mount"));
    assert_eq!(mount["readOnly"], true);
    let volume = array(
        &deployment["spec"]["template"]["spec"]["volumes"],
        "volumes",
    )
    .iter()
    .find(|v| v["name"] == mount["name"])
    .unwrap();
    volume["secret"]["secretName"].as_str().unwrap().to_owned()
}

#[test]
fn consumers_get_broker_names_the_https_url_and_the_ca() {
    for (env, _) in ENVS {
        let kafka = object(env, "data", "statefulset-kafka.yaml");
        let hosts = broker_hosts(&kafka);
        for app in ["producer", "processor"] {
            let deployment = object(env, "apps", &format!("deployment-{app}.yaml"));
            let servers = env_value(&deployment, "KAFKA_BOOTSTRAP_SERVERS");
            let expected: Vec<String> = hosts.iter().map(|h| format!("{h}:9093")).collect();
            assert_eq!(
                servers.split(',').collect::<Vec<_>>(),
                expected,
                "{env} {app}"
            );
            assert_eq!(env_value(&deployment, "KAFKA_SECURITY_PROTOCOL"), "SSL");
            assert_eq!(env_value(&deployment, "KAFKA_TOPIC"), "conveyor-readings");
            let ca = env_value(&deployment, "KAFKA_CA_FILE");
            assert!(ca.ends_with("/ca.crt"));
            let secret = ca_mount_secret(&deployment, &ca);
            // The Secret is a client Certificate's, issued by the stack's CA (so it has ca.crt).
            let cert = yaml(
                &rendered(env)
                    .join("infra")
                    .join(NS)
                    .join(format!("certificate-{secret}.yaml")),
            );
            assert_eq!(cert["spec"]["secretName"], secret.as_str());
            assert!(array(&cert["spec"]["usages"], "usages").contains(&Value::from("client auth")));
            let broker_cert = yaml(
                &rendered(env)
                    .join("infra")
                    .join(NS)
                    .join("certificate-kafka-tls.yaml"),
            );
            assert_eq!(cert["spec"]["issuerRef"], broker_cert["spec"]["issuerRef"]);
        }
        let processor = object(env, "apps", "deployment-processor.yaml");
        let service = object(env, "data", "service-influxdb.yaml");
        let port = service["spec"]["ports"][0]["port"].as_u64().unwrap();
        assert_eq!(
            env_value(&processor, "INFLUXDB_URL"),
            format!("https://influxdb.{NS}.svc.cluster.local:{port}")
        );
        assert_eq!(env_value(&processor, "INFLUXDB_ORG"), "acme");
        assert_eq!(env_value(&processor, "INFLUXDB_BUCKET"), "conveyor");
        let token = &env_var(&processor, "INFLUXDB_TOKEN")["valueFrom"]["secretKeyRef"];
        let influx = object(env, "data", "statefulset-influxdb.yaml");
        assert_eq!(
            &env_var(&influx, "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN")["valueFrom"]["secretKeyRef"],
            token,
            "{env}: the consumer's token is the one the server was set up with"
        );
        let ca = env_value(&processor, "INFLUXDB_CA_FILE");
        ca_mount_secret(&processor, &ca);
        // The producer does not use InfluxDB.
        let producer = object(env, "apps", "deployment-producer.yaml");
        assert!(
            !array(&container(&producer)["env"], "env")
                .iter()
                .any(|e| e["name"] == "INFLUXDB_URL")
        );
    }
}

#[test]
fn influxdb_serves_https_with_its_certificate() {
    for (env, _) in ENVS {
        let influx = object(env, "data", "statefulset-influxdb.yaml");
        let image = container(&influx)["image"].as_str().unwrap();
        assert!(image.contains("influxdb:2."), "{image}");
        let cert = yaml(
            &rendered(env)
                .join("infra")
                .join(NS)
                .join("certificate-influxdb-tls.yaml"),
        );
        let secret = cert["spec"]["secretName"].as_str().unwrap();
        for (var, file) in [
            ("INFLUXD_TLS_CERT", "tls.crt"),
            ("INFLUXD_TLS_KEY", "tls.key"),
        ] {
            let path = env_value(&influx, var);
            assert!(path.ends_with(file));
            let dir = path.rsplit_once('/').unwrap().0;
            let mount = array(&container(&influx)["volumeMounts"], "mounts")
                .iter()
                .find(|m| m["mountPath"] == dir)
                .unwrap();
            let volume = array(&influx["spec"]["template"]["spec"]["volumes"], "volumes")
                .iter()
                .find(|v| v["name"] == mount["name"])
                .unwrap();
            assert_eq!(volume["secret"]["secretName"], secret);
        }
        for probe in ["livenessProbe", "readinessProbe"] {
            let http = &container(&influx)[probe]["httpGet"];
            assert_eq!(http["path"], "/health");
            assert_eq!(http["scheme"], "HTTPS");
        }
        let dns: Vec<&Value> = array(&cert["spec"]["dnsNames"], "dnsNames")
            .iter()
            .collect();
        assert!(dns.contains(&&Value::from(format!("influxdb.{NS}.svc.cluster.local"))));
    }
}

#[test]
fn topics_are_created_idempotently_over_tls_within_the_broker_count() {
    for (env, brokers) in ENVS {
        let dir = rendered(env).join("data").join(NS);
        let job = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("job-kafka-topics-")
            })
            .expect("a topic Job");
        let job = yaml(&job);
        let script = container(&job)["command"][2].as_str().unwrap();
        let create = script
            .lines()
            .find(|l| l.contains("--create") && l.contains("conveyor-readings"))
            .expect("the topic is created");
        assert!(create.contains("--if-not-exists"));
        let rf: usize = create
            .split("--replication-factor ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(rf <= brokers, "{env}");
        assert!(script.contains("security.protocol=SSL"));
        let kafka = object(env, "data", "statefulset-kafka.yaml");
        assert_eq!(container(&job)["image"], container(&kafka)["image"]);
    }
}

#[test]
fn the_lag_exporter_reaches_the_brokers_over_tls() {
    for (env, _) in ENVS {
        let exporter = object(env, "data", "deployment-kafka-exporter.yaml");
        let args: Vec<&str> = array(&container(&exporter)["args"], "args")
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(args.contains(&"--tls.enabled"));
        let kafka = object(env, "data", "statefulset-kafka.yaml");
        for host in broker_hosts(&kafka) {
            assert!(
                args.contains(&format!("--kafka.server={host}:9093").as_str()),
                "{env}"
            );
        }
        let port = &container(&exporter)["ports"][0];
        assert_eq!(port["name"], "metrics");
        assert_eq!(port["containerPort"], 9308);
        let service = object(env, "data", "service-kafka-exporter.yaml");
        assert_eq!(service["spec"]["ports"][0]["name"], "metrics");
    }
}
