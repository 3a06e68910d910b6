//! The `redis` and `cronjob` component kinds, read from the reference stack's committed
//! `rendered/` tree: Redis requires the password from its Secret (and no password is
//! ever a literal), the exporter serves `metrics`, dev runs a cache and prod persists,
//! the collector CronJobs carry their schedules and the restricted security defaults,
//! and every consumer (app or cronjob) gets the cache's FQDN, port and password ref,
//! mirrored into its own namespace when it lives elsewhere.

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

const ENVS: [&str; 3] = ["dev", "staging", "prod"];
const NS: &str = "conveyor-pipeline";

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rendered(env: &str) -> std::path::PathBuf {
    repo().join("rendered").join(env)
}

/// The cache's workload: a Deployment in dev (no storage), a StatefulSet elsewhere.
fn cache_workload(env: &str) -> Value {
    let data = rendered(env).join("data").join(NS);
    let kind = if env == "dev" {
        "deployment"
    } else {
        "statefulset"
    };
    yaml(&data.join(format!("{kind}-cache.yaml")))
}

fn pod_spec(workload: &Value) -> &Value {
    if workload["kind"] == "CronJob" {
        &workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &workload["spec"]["template"]["spec"]
    }
}

fn container<'v>(workload: &'v Value, name: &str) -> &'v Value {
    pod_spec(workload)["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container `{name}`"))
}

fn env_var<'v>(container: &'v Value, name: &str) -> &'v Value {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env var `{name}` in `{}`", container["name"]))
}

fn secret_ref(container: &Value, name: &str) -> (String, String) {
    let var = env_var(container, name);
    assert!(var.get("value").is_none(), "{name} must not be a literal");
    let r = &var["valueFrom"]["secretKeyRef"];
    (
        r["name"].as_str().expect("secret name").to_owned(),
        r["key"].as_str().expect("secret key").to_owned(),
    )
}

fn args(container: &Value) -> Vec<&str> {
    container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg"))
        .collect()
}

/// The value following `flag` in `args`.
fn flag<'a>(args: &[&'a str], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1).copied())
}

#[test]
fn redis_requires_the_password_from_the_provider_secret() {
    for env in ENVS {
        let workload = cache_workload(env);
        let server = container(&workload, "redis");
        let args = args(server);
        assert_eq!(
            flag(&args, "--requirepass"),
            Some("$(REDIS_PASSWORD)"),
            "{env}: the kubelet expands the password from the env var"
        );
        let password = secret_ref(server, "REDIS_PASSWORD");
        assert_eq!(
            password,
            ("cache-credentials".into(), "CACHE_PASSWORD".into()),
            "{env}"
        );
        // The Secret is the one the provider's operator creates.
        let provider = yaml(
            &rendered(env)
                .join("data")
                .join(NS)
                .join("infisicalsecret-cache-credentials.yaml"),
        );
        assert_eq!(
            provider["spec"]["managedKubeSecretReferences"][0]["secretName"], password.0,
            "{env}"
        );
        // Probes and exporter authenticate with the same Secret.
        assert_eq!(secret_ref(server, "REDISCLI_AUTH"), password, "{env}");
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            let command = server[probe]["exec"]["command"].to_string();
            assert!(
                command.contains("redis-cli") && command.contains("ping"),
                "{env}: {probe} is {command}"
            );
        }
        let exporter = container(&workload, "exporter");
        assert!(
            exporter["image"]
                .as_str()
                .unwrap()
                .starts_with("docker.io/oliver006/redis_exporter:v"),
            "{env}: pinned exporter"
        );
        assert_eq!(secret_ref(exporter, "REDIS_PASSWORD"), password, "{env}");
        assert_eq!(
            exporter["ports"],
            json!([{ "containerPort": 9121, "name": "metrics", "protocol": "TCP" }]),
            "{env}"
        );
        assert_eq!(
            server["image"].as_str().unwrap(),
            "docker.io/library/redis:8.10.2",
            "{env}: the pinned official image"
        );
    }
}

#[test]
fn the_redis_service_selects_the_pods_on_redis_and_metrics() {
    for env in ENVS {
        let workload = cache_workload(env);
        let service = yaml(
            &rendered(env)
                .join("data")
                .join(NS)
                .join("service-cache.yaml"),
        );
        assert_eq!(service["spec"]["type"], "ClusterIP", "{env}");
        let ports: Vec<(String, i64, String)> = service["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["port"].as_i64().unwrap(),
                    p["targetPort"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            ports.contains(&("redis".into(), 6379, "redis".into())),
            "{env}: {ports:?}"
        );
        assert!(
            ports.contains(&("metrics".into(), 9121, "metrics".into())),
            "{env}: {ports:?}"
        );
        let labels = workload["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .unwrap();
        for (key, value) in service["spec"]["selector"].as_object().unwrap() {
            assert_eq!(labels.get(key), Some(value), "{env}: selector {key}");
        }
    }
}

#[test]
fn dev_runs_a_cache_and_prod_persists_append_only() {
    let dev = cache_workload("dev");
    let dev_args = args(container(&dev, "redis"));
    assert_eq!(flag(&dev_args, "--appendonly"), Some("no"));
    assert_eq!(flag(&dev_args, "--save"), Some(""), "no RDB snapshots");
    assert_eq!(
        pod_spec(&dev)["volumes"][0],
        json!({ "name": "data", "emptyDir": {} })
    );
    // 96Mi in dev.
    assert_eq!(flag(&dev_args, "--maxmemory"), Some("100663296"));

    let prod = cache_workload("prod");
    let prod_args = args(container(&prod, "redis"));
    assert_eq!(flag(&prod_args, "--appendonly"), Some("yes"));
    assert_eq!(flag(&prod_args, "--dir"), Some("/data"));
    // 1536Mi, below the 2Gi limit.
    assert_eq!(flag(&prod_args, "--maxmemory"), Some("1610612736"));
    assert_eq!(flag(&prod_args, "--maxmemory-policy"), Some("volatile-lru"));
    let claim = &prod["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "data");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "20Gi");
    assert_eq!(claim["spec"]["storageClassName"], "longhorn");
    assert_eq!(prod["spec"]["serviceName"], "cache-headless");
    let headless = yaml(
        &rendered("prod")
            .join("data")
            .join(NS)
            .join("service-cache-headless.yaml"),
    );
    assert_eq!(headless["spec"]["clusterIP"], "None");
}

#[test]
fn redis_runs_restricted_as_uid_999_with_writable_data_and_tmp() {
    for env in ENVS {
        let workload = cache_workload(env);
        let pod = pod_spec(&workload);
        assert_eq!(pod["securityContext"]["runAsUser"], 999, "{env}");
        assert_eq!(pod["securityContext"]["fsGroup"], 999, "{env}");
        assert_eq!(pod["automountServiceAccountToken"], false, "{env}");
        assert_eq!(pod["enableServiceLinks"], false, "{env}");
        for c in pod["containers"].as_array().unwrap() {
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{env}");
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{env}");
            assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{env}");
        }
        let mounts: Vec<&str> = container(&workload, "redis")["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["mountPath"].as_str().unwrap())
            .collect();
        assert_eq!(mounts, ["/data", "/tmp"], "{env}");
    }
}

/// Every env var in every rendered file of `dir` and below, with where it is.
fn every_env_var(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    fn walk(value: &Value, file: &str, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(env)) = map.get("env") {
                    out.extend(env.iter().map(|e| (file.to_owned(), e.clone())));
                }
                map.values().for_each(|v| walk(v, file, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, file, out)),
            _ => {}
        }
    }
    for (path, bytes) in snapshot(dir) {
        if path.ends_with(".yaml") && !path.ends_with("kustomization.yaml") {
            let text = String::from_utf8(bytes).unwrap();
            let value: Value = serde_saphyr::from_str(&text).unwrap();
            walk(&value, &path, &mut out);
        }
    }
    out
}

#[test]
fn no_password_is_ever_a_literal() {
    for env in ENVS {
        let vars = every_env_var(&rendered(env));
        let secretish: Vec<_> = vars
            .iter()
            .filter(|(_, v)| {
                let name = v["name"].as_str().unwrap_or_default();
                name.contains("PASSWORD") || name.contains("SECRET") || name == "REDISCLI_AUTH"
            })
            .collect();
        assert!(
            secretish.len() >= 6,
            "{env}: the cache's server, probes, exporter and consumers all carry one"
        );
        for (file, var) in secretish {
            assert!(
                var.get("value").is_none() && var["valueFrom"]["secretKeyRef"].is_object(),
                "{env}: {file}: {var}"
            );
        }
        // No Secret objects with data are rendered for the conveyor pipeline.
        for layer in ["data", "apps"] {
            for path in snapshot(&rendered(env).join(layer).join(NS)).keys() {
                assert!(!path.starts_with("secret-"), "{env}: {layer}/{path}");
            }
        }
    }
}

#[test]
fn collectors_run_on_schedule_with_the_restricted_defaults_and_no_probes() {
    let expected = [
        ("dev", "collector-coinspot", "0 * * * *", "Forbid"),
        ("staging", "collector-coinspot", "*/15 * * * *", "Forbid"),
        ("prod", "collector-coinspot", "*/15 * * * *", "Forbid"),
        ("dev", "collector-reddit", "5 */6 * * *", "Replace"),
        ("prod", "collector-reddit", "5 * * * *", "Replace"),
        ("prod", "collector-sec", "0 7 * * 1-5", "Forbid"),
    ];
    for (env, name, schedule, concurrency) in expected {
        let apps = rendered(env).join("apps").join(NS);
        let job = yaml(&apps.join(format!("cronjob-{name}.yaml")));
        assert_eq!(job["apiVersion"], "batch/v1");
        assert_eq!(job["spec"]["schedule"], schedule, "{env} {name}");
        assert_eq!(
            job["spec"]["concurrencyPolicy"], concurrency,
            "{env} {name}"
        );
        let pod = pod_spec(&job);
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["serviceAccountName"], name);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let c = container(&job, name);
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert!(c["resources"]["limits"]["memory"].is_string());
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            assert!(
                c.get(probe).is_none(),
                "a run-to-completion job has no {probe}"
            );
        }
        let account = yaml(&apps.join(format!("serviceaccount-{name}.yaml")));
        assert_eq!(account["automountServiceAccountToken"], false);
    }
    let coinspot = yaml(
        &rendered("prod")
            .join("apps")
            .join(NS)
            .join("cronjob-collector-coinspot.yaml"),
    );
    assert_eq!(coinspot["spec"]["startingDeadlineSeconds"], 300);
    assert_eq!(coinspot["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(coinspot["spec"]["failedJobsHistoryLimit"], 1);
    assert_eq!(
        coinspot["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
        600
    );
    assert_eq!(coinspot["spec"]["jobTemplate"]["spec"]["backoffLimit"], 2);
    let sec = yaml(
        &rendered("prod")
            .join("apps")
            .join(NS)
            .join("cronjob-collector-sec.yaml"),
    );
    assert_eq!(sec["spec"]["timeZone"], "America/New_York");
    assert_eq!(sec["spec"]["failedJobsHistoryLimit"], 3);
    assert_eq!(sec["spec"]["jobTemplate"]["spec"]["backoffLimit"], 3);
}

#[test]
fn apps_and_cronjobs_that_use_the_cache_get_its_fqdn_port_and_password() {
    for env in ENVS {
        let service = yaml(
            &rendered(env)
                .join("data")
                .join(NS)
                .join("service-cache.yaml"),
        );
        let fqdn = format!(
            "{}.{}.svc.cluster.local",
            service["metadata"]["name"].as_str().unwrap(),
            service["metadata"]["namespace"].as_str().unwrap()
        );
        let redis_port = service["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "redis")
            .unwrap()["port"]
            .to_string();
        let password = secret_ref(container(&cache_workload(env), "redis"), "REDIS_PASSWORD");
        let apps = rendered(env).join("apps").join(NS);
        let consumers = [
            (yaml(&apps.join("deployment-agents.yaml")), "agents"),
            (
                yaml(&apps.join("cronjob-collector-coinspot.yaml")),
                "collector-coinspot",
            ),
            (
                yaml(&apps.join("cronjob-collector-reddit.yaml")),
                "collector-reddit",
            ),
        ];
        for (workload, name) in &consumers {
            let c = container(workload, name);
            assert_eq!(
                env_var(c, "CACHE_HOST")["value"],
                fqdn.as_str(),
                "{env} {name}"
            );
            assert_eq!(
                env_var(c, "CACHE_PORT")["value"],
                redis_port.as_str(),
                "{env} {name}"
            );
            assert_eq!(secret_ref(c, "CACHE_PASSWORD"), password, "{env} {name}");
        }
        // The Reddit collector also uses the agents' Service.
        let reddit = &consumers[2].0;
        let c = container(reddit, "collector-reddit");
        assert_eq!(
            env_var(c, "AGENTS_HOST")["value"],
            format!("agents.{NS}.svc.cluster.local")
        );
        assert_eq!(env_var(c, "AGENTS_PORT_HTTP")["value"], "8080");
        // `{ provider = ... }` values of a cronjob come from its own provider Secret.
        assert_eq!(
            secret_ref(c, "REDDIT_CLIENT_SECRET"),
            (
                "collector-reddit-secrets".into(),
                "REDDIT_CLIENT_SECRET".into()
            )
        );
        assert!(
            apps.join("infisicalsecret-collector-reddit-secrets.yaml")
                .exists()
        );
    }
}

#[test]
fn a_cronjob_in_another_namespace_gets_a_mirrored_password_secret() {
    let dir = copy_reference(false);
    let stack = dir.path().join("stack.toml");
    edit(
        &stack,
        "[cronjob.collector-coinspot]\n",
        "[cronjob.collector-coinspot]\nnamespace = \"collectors\"\n",
    );
    edit(
        &stack,
        "[[policy.waive]]",
        "[[policy.waive]]\nrule = \"default-deny-network-policy\"\nobject = \"*/collectors/*\"\nreason = \"test: a namespace without policies\"\n\n[[policy.waive]]",
    );
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let apps = dir.path().join("rendered/dev/apps/collectors");
    let job = yaml(&apps.join("cronjob-collector-coinspot.yaml"));
    let c = container(&job, "collector-coinspot");
    let (secret, key) = secret_ref(c, "CACHE_PASSWORD");
    assert_eq!(secret, "collector-coinspot-cache-credentials");
    assert_eq!(key, "CACHE_PASSWORD");
    assert_eq!(
        env_var(c, "CACHE_HOST")["value"],
        "cache.conveyor-pipeline.svc.cluster.local",
        "the FQDN crosses namespaces"
    );
    let mirror = yaml(&apps.join("infisicalsecret-collector-coinspot-cache-credentials.yaml"));
    assert_eq!(
        mirror["spec"]["managedKubeSecretReferences"][0],
        json!({
            "secretName": "collector-coinspot-cache-credentials",
            "secretNamespace": "collectors",
            "creationPolicy": "Owner",
        })
    );
}
