//! NetworkPolicies from the dependency graph, end to end: the committed rendered/ tree
//! of every environment admits exactly the graph's edges (evaluated like a CNI), a
//! broken or widened policy set is caught, removing a `uses` edge removes exactly its
//! two policies, declared egress renders and proves, and the README's graph is current.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use serde_json::json;
use stackc::diag::SourceMap;
use stackc::graph::Graph;
use stackc::load::Source;
use stackc::object::{Layer, Object};
use stackc::validate::netpol::{Cluster, Peer, pod_of};
use stackc::validate::network::{Problem, prove};
use stackc::value::Value;

const ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// The graph of `env` from the reference stack's sources.
fn graph(dir: &Path, env: &str) -> Graph {
    let plans = stackc::pipeline::plans(
        &Source::Dir(dir.to_path_buf()),
        Some(env),
        &mut SourceMap::default(),
    )
    .unwrap_or_else(|_| panic!("{env} checks"));
    stackc::graph::graph(&plans.plans[0].1)
}

/// Every object of the committed rendered/<env>/ tree, read back from YAML.
fn committed(dir: &Path, env: &str) -> Vec<Object> {
    let root = dir.join("rendered").join(env);
    let read = stackc::policy::input::read(&[root.as_path()]);
    assert!(read.io_errors.is_empty(), "{:?}", read.io_errors);
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
    read.documents
        .into_iter()
        .filter(|d| d.body.get("kind").and_then(Value::as_str) != Some("Kustomization"))
        .map(|d| Object::new(Layer::Infra, None, &d.body))
        .collect()
}

fn body<'a>(objects: &'a [Object], id: &str) -> &'a Value {
    &objects
        .iter()
        .find(|o| o.id() == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .body
}

#[test]
fn rendered_policies_admit_exactly_the_graph_in_every_environment() {
    for env in ENVS {
        let objects = committed(&repo(), env);
        let problems = prove(&objects, &graph(&repo(), env));
        assert_eq!(problems, Vec::<Problem>::new(), "{env}");
        // And the evaluator sees what the graph says, pair by pair.
        let cluster = Cluster::new(objects.iter().map(|o| &o.body));
        let pod = |id: &str| pod_of(body(&objects, id)).unwrap();
        let (orchestrator, coder, db, producer, processor) = (
            pod("Deployment/coder/orchestrator"),
            pod("Deployment/coder/coder"),
            pod("StatefulSet/coder/coder-db"),
            pod("Deployment/conveyor-pipeline/producer"),
            pod("Deployment/conveyor-pipeline/processor"),
        );
        let allowed = |a, b, port| {
            cluster
                .verdict(Peer::Pod(a), Peer::Pod(b), port, "TCP")
                .allowed()
        };
        assert!(allowed(&orchestrator, &coder, 8080), "{env}: uses");
        assert!(!allowed(&orchestrator, &coder, 2112), "{env}: metrics port");
        assert!(allowed(&coder, &db, 5432), "{env}: database");
        assert!(!allowed(&orchestrator, &db, 5432), "{env}: no edge");
        assert!(!allowed(&producer, &processor, 8000), "{env}: no edge");
        assert!(!allowed(&db, &coder, 8080), "{env}: edges are directed");
        let api = Peer::Address("192.168.80.10".parse().unwrap());
        assert!(
            cluster
                .verdict(Peer::Pod(&coder), api, 6443, "TCP")
                .allowed()
        );
        assert!(
            !cluster
                .verdict(Peer::Pod(&orchestrator), api, 6443, "TCP")
                .allowed()
        );
        // Coder replicas talk to each other only when there are several.
        assert_eq!(
            allowed(&coder, &coder, 8080),
            env == "prod",
            "{env}: replicas"
        );
    }
}

#[test]
fn a_missing_policy_and_a_wider_one_are_both_caught() {
    let graph = graph(&repo(), "dev");
    let objects = committed(&repo(), "dev");
    let without: Vec<Object> = objects
        .iter()
        .filter(|o| o.id() != "NetworkPolicy/coder/ingress-orchestrator-to-coder")
        .cloned()
        .collect();
    let problems = prove(&without, &graph);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].code, "network-edge-denied");
    for word in ["orchestrator", "coder", "8080/TCP", "no ingress rule"] {
        assert!(
            problems[0].message.contains(word),
            "{}",
            problems[0].message
        );
    }

    let mut wider = objects.clone();
    wider.push(Object::new(
        Layer::Infra,
        None,
        &json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": { "name": "oops", "namespace": "coder" },
            "spec": { "podSelector": { "matchLabels": { "app.kubernetes.io/name": "coder-db" } },
                      "policyTypes": ["Ingress"],
                      "ingress": [{ "from": [{ "podSelector": {} }], "ports": [{ "port": "postgres" }] }] },
        }),
    ));
    // The ingress side is open to the whole namespace now, but every other pod's egress
    // is still closed: only a second mistake at a consumer makes a real flow.
    assert_eq!(prove(&wider, &graph), Vec::<Problem>::new());
    wider.push(Object::new(
        Layer::Infra,
        None,
        &json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": { "name": "oops-too", "namespace": "coder" },
            "spec": { "podSelector": { "matchLabels": { "app.kubernetes.io/name": "orchestrator" } },
                      "policyTypes": ["Egress"], "egress": [{}] },
        }),
    ));
    let problems = prove(&wider, &graph);
    let undeclared: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.message.contains("orchestrator") && p.message.contains("coder-db ("))
        .collect();
    assert_eq!(undeclared.len(), 1, "{problems:#?}");
    assert_eq!(undeclared[0].code, "network-undeclared-flow");
    assert!(undeclared[0].message.contains("5432/TCP"));
}

/// The NetworkPolicy files of a rendered tree, relative to rendered/.
fn policies(dir: &Path) -> BTreeSet<(String, Vec<u8>)> {
    snapshot(&dir.join("rendered"))
        .into_iter()
        .filter(|(path, _)| path.contains("/networkpolicy-"))
        .collect()
}

#[test]
fn removing_a_uses_edge_removes_exactly_its_two_policies() {
    let dir = copy_reference(true);
    let before = policies(dir.path());
    edit(&dir.path().join("stack.toml"), "uses = [\"coder\"]\n", "");
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let after = policies(dir.path());
    let removed: BTreeSet<&str> = before.difference(&after).map(|(p, _)| p.as_str()).collect();
    let added: Vec<_> = after.difference(&before).collect();
    let mut expected = BTreeSet::new();
    for env in ENVS {
        for direction in ["egress", "ingress"] {
            expected.insert(format!(
                "{env}/infra/coder/networkpolicy-{direction}-orchestrator-to-coder.yaml"
            ));
        }
    }
    assert_eq!(removed, expected.iter().map(String::as_str).collect());
    assert!(added.is_empty(), "{added:?}");
}

#[test]
fn declared_egress_renders_one_policy_and_proves() {
    let dir = copy_reference(false);
    edit(
        &dir.path().join("stack.toml"),
        "[app.producer]\n",
        "[app.producer]\negress = [\"0.0.0.0/0:443\", \"10.20.0.0/16:9092\"]\n",
    );
    let out = stackc(dir.path(), &["render", "--env", "dev"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let objects = committed(dir.path(), "dev");
    assert_eq!(
        body(
            &objects,
            "NetworkPolicy/conveyor-pipeline/egress-producer-to-internet"
        )["spec"]["egress"],
        json!([
            { "ports": [{ "port": 443, "protocol": "TCP" }], "to": [{ "ipBlock": { "cidr": "0.0.0.0/0" } }] },
            { "ports": [{ "port": 9092, "protocol": "TCP" }], "to": [{ "ipBlock": { "cidr": "10.20.0.0/16" } }] },
        ])
    );
    let cluster = Cluster::new(objects.iter().map(|o| &o.body));
    let producer = pod_of(body(&objects, "Deployment/conveyor-pipeline/producer")).unwrap();
    let to = |ip: &str, port| {
        cluster
            .verdict(
                Peer::Pod(&producer),
                Peer::Address(ip.parse().unwrap()),
                port,
                "TCP",
            )
            .allowed()
    };
    assert!(to("203.0.113.7", 443));
    assert!(!to("203.0.113.7", 80));
    assert!(to("10.20.3.4", 9092));
    assert!(!to("10.21.3.4", 9092));
    kustomize_every_layer(&dir.path().join("rendered"));
}

#[test]
fn ipv6_egress_renders_and_the_internet_reaches_public_ports_over_both_families() {
    // Before: an IPv6 egress made its address a sample source of "anywhere", and the
    // public port's ingress admitted only 0.0.0.0/0: `network-edge-denied fd00:: -> coder`.
    let dir = copy_reference(false);
    edit(
        &dir.path().join("stack.toml"),
        "egress = [\"0.0.0.0/0:443\"]                      # the LLM provider's API",
        "egress = [\"fd00::/8:443\"]",
    );
    let out = stackc(dir.path(), &["render", "--env", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let objects = committed(dir.path(), "prod");
    assert_eq!(
        body(
            &objects,
            "NetworkPolicy/conveyor-pipeline/egress-agents-to-internet"
        )["spec"]["egress"],
        json!([{ "ports": [{ "port": 443, "protocol": "TCP" }], "to": [{ "ipBlock": { "cidr": "fd00::/8" } }] }])
    );
    assert_eq!(
        body(&objects, "NetworkPolicy/coder/ingress-internet-to-coder")["spec"]["ingress"]
            .as_array()
            .unwrap()[0]["from"],
        json!([{ "ipBlock": { "cidr": "0.0.0.0/0" } }, { "ipBlock": { "cidr": "::/0" } }])
    );
    let cluster = Cluster::new(objects.iter().map(|o| &o.body));
    let coder = pod_of(body(&objects, "Deployment/coder/coder")).unwrap();
    for client in ["203.0.113.7", "2001:db8::7", "fd00::1"] {
        let from = Peer::Address(client.parse().unwrap());
        assert!(
            cluster.allows(from, Peer::Pod(&coder), 8443, "TCP"),
            "{client} -> coder:8443"
        );
        assert!(
            !cluster.allows(from, Peer::Pod(&coder), 8080, "TCP"),
            "{client} -> coder:8080"
        );
    }
    let agents = pod_of(body(&objects, "Deployment/conveyor-pipeline/agents")).unwrap();
    let to = |ip: &str| {
        cluster.allows(
            Peer::Pod(&agents),
            Peer::Address(ip.parse().unwrap()),
            443,
            "TCP",
        )
    };
    assert!(to("fd12::1"));
    assert!(!to("2001:db8::7") && !to("203.0.113.7"));
}

#[test]
fn readme_embeds_the_current_graph() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let marker = "<!-- stackc graph --env dev -->\n```mermaid\n";
    let start = readme.find(marker).expect("README has the graph block") + marker.len();
    let end = start + readme[start..].find("```\n").unwrap();
    let out = stackc(&repo(), &["graph", "--env", "dev"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        &readme[start..end],
        stdout(&out),
        "regenerate the README block with `stackc graph --env dev`"
    );
    let dot = stackc(&repo(), &["graph", "--env", "prod", "--format", "dot"]);
    assert!(stdout(&dot).contains("\"coder\" -> \"coder\" [label=\"http 8080 · replicas\"];"));
}

/// Every container's env value `name` in a workload body.
fn env_value<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    let (spec, _) = stackc::kube::pod_template(body)?;
    spec["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
}

#[test]
fn no_kafka_influxdb_or_public_traffic_is_admitted_on_a_plaintext_port() {
    // TLS is on for Kafka and InfluxDB in the reference stack (their default), and
    // Coder's LoadBalancer (prod) is its only public entry besides the Ingress.
    for env in ENVS {
        let objects = committed(&repo(), env);
        let cluster = Cluster::new(objects.iter().map(|o| &o.body));
        let pods: Vec<(String, stackc::validate::netpol::Pod)> = objects
            .iter()
            .filter_map(|o| pod_of(&o.body).map(|p| (o.id(), p)))
            .collect();
        let ingress_controller = stackc::validate::netpol::Pod {
            namespace: "ingress-nginx".into(),
            labels: [(
                "app.kubernetes.io/name".to_owned(),
                Value::from("ingress-nginx"),
            )]
            .into_iter()
            .collect(),
            ports: Vec::new(),
        };
        // Every port any pod serves, plus the plaintext ports a client could try.
        let mut ports: BTreeSet<u16> = pods
            .iter()
            .flat_map(|(_, p)| p.ports.iter().map(|(_, n, _)| *n))
            .collect();
        ports.extend([80, 443, 8080, 8086, 9092, 19092]);
        let internet = ["203.0.113.7", "2001:db8::7"].map(|ip| Peer::Address(ip.parse().unwrap()));
        let mut sources: Vec<(String, Peer)> = pods
            .iter()
            .map(|(id, p)| (id.clone(), Peer::Pod(p)))
            .collect();
        sources.push(("ingress-controller".into(), Peer::Pod(&ingress_controller)));
        sources.extend(internet.map(|peer| ("internet".to_owned(), peer)));
        let admitted_into = |target: &stackc::validate::netpol::Pod| -> BTreeSet<u16> {
            let mut out = BTreeSet::new();
            for (_, from) in &sources {
                for &port in &ports {
                    if cluster.allows(*from, Peer::Pod(target), port, "TCP") {
                        out.insert(port);
                    }
                }
            }
            out
        };
        let pod = |id: &str| pods.iter().find(|(i, _)| i == id).unwrap().1.clone();

        // Kafka: only its SSL listeners are reachable, and they are SSL.
        let kafka_id = "StatefulSet/conveyor-pipeline/kafka";
        let kafka = admitted_into(&pod(kafka_id));
        assert!(!kafka.is_empty(), "{env}: clients reach Kafka");
        assert!(
            kafka.is_subset(&BTreeSet::from([9093, 19093, 9094])),
            "{env}: Kafka admitted on {kafka:?}"
        );
        let protocols = env_value(
            body(&objects, kafka_id),
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
        )
        .expect("the broker's protocol map");
        assert!(!protocols.contains("PLAINTEXT"), "{env}: {protocols}");

        // InfluxDB: only 8086, which serves HTTPS.
        let influx_id = "StatefulSet/conveyor-pipeline/influxdb";
        let influx = admitted_into(&pod(influx_id));
        assert_eq!(
            influx,
            BTreeSet::from([8086]),
            "{env}: InfluxDB admitted on"
        );
        assert!(
            env_value(body(&objects, influx_id), "INFLUXD_TLS_CERT").is_some(),
            "{env}: InfluxDB serves TLS on 8086"
        );

        // From outside the cluster: nothing in dev/staging; in prod only Coder's TLS
        // listener, which its LoadBalancer publishes as 443 and nothing else.
        let mut public = BTreeSet::new();
        for (id, target) in &pods {
            for &port in &ports {
                if internet
                    .iter()
                    .any(|from| cluster.allows(*from, Peer::Pod(target), port, "TCP"))
                {
                    public.insert((id.clone(), port));
                }
            }
        }
        let coder_id = "Deployment/coder/coder";
        if env == "prod" {
            assert_eq!(
                public,
                BTreeSet::from([(coder_id.to_owned(), 8443)]),
                "{env}: public"
            );
            assert_eq!(
                env_value(body(&objects, coder_id), "CODER_TLS_ENABLE"),
                Some("true")
            );
            let lb = body(&objects, "Service/coder/coder-lb");
            assert_eq!(
                lb["spec"]["ports"],
                json!([{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": "https" }])
            );
        } else {
            assert_eq!(public, BTreeSet::new(), "{env}: public");
        }
        // And every Ingress terminates TLS for every host it routes.
        for ingress in objects.iter().filter(|o| o.body["kind"] == "Ingress") {
            let tls_hosts: BTreeSet<&str> = ingress.body["spec"]["tls"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|t| t["hosts"].as_array().into_iter().flatten())
                .filter_map(Value::as_str)
                .collect();
            for rule in ingress.body["spec"]["rules"].as_array().unwrap() {
                let host = rule["host"].as_str().unwrap();
                assert!(
                    tls_hosts.contains(host),
                    "{env}: {} routes {host} without TLS",
                    ingress.id()
                );
            }
        }
    }
}

/// Alertmanager's receivers have no stable address: it may reach them on their ports
/// over either family, and nothing else (the committed tree of every environment).
#[test]
fn alertmanager_reaches_its_receivers_over_both_families() {
    for env in ENVS {
        let objects = committed(&repo(), env);
        let cluster = Cluster::new(objects.iter().map(|o| &o.body));
        let alertmanager = objects
            .iter()
            .find(|o| o.kind == "StatefulSet" && o.id().ends_with("/alertmanager"))
            .and_then(|o| pod_of(&o.body))
            .unwrap_or_else(|| panic!("{env}: no Alertmanager"));
        for address in ["198.51.100.9", "2001:db8::9"] {
            let to = |port| {
                cluster.allows(
                    Peer::Pod(&alertmanager),
                    Peer::Address(address.parse().unwrap()),
                    port,
                    "TCP",
                )
            };
            assert!(to(443), "{env}: alertmanager -> {address}:443");
            assert!(!to(80), "{env}: alertmanager -> {address}:80");
        }
    }
}
