//! The Coder platform as the seeds run it, and the incidents they hit by hand, now
//! impossible: the database host is derived from the postgres component, the workspace
//! Role follows the templates, agents get an in-cluster URL, and both delivery modes
//! render, validate and build.

mod common;

use common::*;
use serde_json::Value;

fn yaml(path: &std::path::Path) -> Value {
    serde_saphyr::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn env_value(deployment: &Value, name: &str) -> Option<String> {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(str::to_owned))
}

#[test]
fn the_database_url_names_the_postgres_service_that_exists() {
    for env in ["dev", "staging", "prod"] {
        let rendered = repo().join("rendered").join(env);
        let deployment = yaml(&rendered.join("apps/coder/deployment-coder.yaml"));
        let url = env_value(&deployment, "CODER_PG_CONNECTION_URL").expect("the URL is set");
        let service = yaml(&rendered.join("data/coder/service-coder-db.yaml"));
        let host = format!(
            "{}.{}.svc.cluster.local",
            service["metadata"]["name"].as_str().unwrap(),
            service["metadata"]["namespace"].as_str().unwrap()
        );
        assert_eq!(
            url,
            format!("postgres://coder:$(CODER_PG_PASSWORD)@{host}:5432/coder?sslmode=disable"),
            "{env}"
        );
        let env_list = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        let password_at = env_list
            .iter()
            .position(|e| e["name"] == "CODER_PG_PASSWORD")
            .unwrap();
        let url_at = env_list
            .iter()
            .position(|e| e["name"] == "CODER_PG_CONNECTION_URL")
            .unwrap();
        assert!(
            password_at < url_at,
            "$(CODER_PG_PASSWORD) only expands when defined earlier"
        );
        assert_eq!(
            env_value(&deployment, "CODER_ACCESS_URL")
                .unwrap()
                .split("://")
                .next(),
            Some("https")
        );
    }
}

/// Whether the workspace Role in `rendered` grants core `configmaps`.
fn role_grants_configmaps(rendered: &std::path::Path) -> bool {
    let role = yaml(&rendered.join("prod/apps/coder/role-coder-workspaces.yaml"));
    let core = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["apiGroups"][0] == "")
        .unwrap();
    core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "configmaps")
}

#[test]
fn the_workspace_role_follows_the_templates() {
    assert!(role_grants_configmaps(&repo().join("rendered")));
    // Without the template that creates ConfigMaps, the Role does not grant them.
    let dir = copy_reference(false);
    edit(
        &dir.path().join("stack.toml"),
        "creates = [\"pods\", \"persistentvolumeclaims\", \"configmaps\"]",
        "creates = [\"pods\"]",
    );
    assert_eq!(code(&stackc(dir.path(), &["render"])), 0);
    assert!(!role_grants_configmaps(&dir.path().join("rendered")));
}

#[test]
fn agents_get_the_in_cluster_url_and_workspaces_are_isolated() {
    let rendered = repo().join("rendered/dev/apps/coder");
    let agent = yaml(&rendered.join("configmap-coder-agent.yaml"));
    assert_eq!(
        agent["data"]["agent_url"],
        "http://coder.coder.svc.cluster.local"
    );
    // Workspaces are isolated by the namespace's default-deny; the graph lets them
    // reach Coder (and DNS) and nothing reach them.
    let infra = repo().join("rendered/dev/infra/coder");
    let policy = yaml(&infra.join("networkpolicy-egress-coder-workspaces-to-coder.yaml"));
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"],
        serde_json::json!({ "app.kubernetes.io/name": "coder-workspace" })
    );
    assert_eq!(
        policy["spec"]["egress"],
        serde_json::json!([{
            "ports": [{ "port": 8080, "protocol": "TCP" }],
            "to": [{ "podSelector": { "matchLabels": {
                "app.kubernetes.io/name": "coder", "app.kubernetes.io/part-of": "conveyor" } } }],
        }])
    );
    let into_workspaces = std::fs::read_dir(&infra)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| {
            f.starts_with("networkpolicy-ingress-") && f.ends_with("-to-coder-workspaces.yaml")
        })
        .count();
    assert_eq!(into_workspaces, 0, "workspaces accept no ingress");
    assert!(infra.join("networkpolicy-default-deny.yaml").exists());
}

#[test]
fn no_secret_value_is_rendered_only_provider_objects() {
    for (path, bytes) in snapshot(&repo().join("rendered")) {
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("kind: Secret\n"), "{path} renders a Secret");
    }
    let credentials =
        yaml(&repo().join("rendered/prod/data/coder/infisicalsecret-coder-db-credentials.yaml"));
    assert_eq!(
        credentials["spec"]["authentication"]["universalAuth"]["secretsScope"]["envSlug"],
        "prod"
    );
    assert_eq!(
        credentials["spec"]["managedKubeSecretReferences"][0]["secretName"],
        "coder-db-credentials"
    );
}

fn kustomize_all(dir: &std::path::Path) {
    kustomize_every_layer(&dir.join("rendered"));
}

#[test]
fn helm_mode_renders_the_upstream_chart_with_values_from_the_model() {
    let dir = copy_reference(false);
    edit(
        &dir.path().join("stack.toml"),
        "host = \"coder\"",
        "host = \"coder\"\nmode = \"helm\"",
    );
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let apps = dir.path().join("rendered/prod/apps/coder");
    assert!(
        !apps.join("deployment-coder.yaml").exists(),
        "the chart owns the Deployment"
    );
    let release = yaml(&apps.join("helmrelease-coder.yaml"));
    assert_eq!(release["spec"]["chart"]["spec"]["version"], "2.16.1");
    let values = &release["spec"]["values"]["coder"];
    let url = values["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "CODER_PG_CONNECTION_URL")
        .unwrap();
    assert!(
        url["value"]
            .as_str()
            .unwrap()
            .contains("@coder-db.coder.svc.cluster.local:5432/coder")
    );
    assert!(
        values["serviceAccount"]["extraRules"]
            .to_string()
            .contains("configmaps")
    );
    let repository = yaml(&apps.join("helmrepository-coder.yaml"));
    assert_eq!(repository["spec"]["url"], "https://helm.coder.com/v2");
    kustomize_all(dir.path());
}

#[test]
fn external_secrets_and_a_database_in_another_namespace() {
    let dir = copy_reference(false);
    let stack = dir.path().join("stack.toml");
    edit(
        &stack,
        "provider = \"infisical\"",
        "provider = \"external-secrets\"\nstore = { kind = \"ClusterSecretStore\", name = \"vault\" }",
    );
    edit(
        &stack,
        "[postgres.coder-db]\nnamespace = \"coder\"",
        "[postgres.coder-db]\nnamespace = \"databases\"",
    );
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rendered = dir.path().join("rendered/dev");
    let server = yaml(&rendered.join("data/databases/externalsecret-coder-db-credentials.yaml"));
    assert_eq!(server["spec"]["secretStoreRef"]["name"], "vault");
    // Coder's copy of its password, next to Coder: Secrets are namespaced.
    let mirrored = yaml(&rendered.join("apps/coder/externalsecret-coder-db-credentials.yaml"));
    assert_eq!(
        mirrored["spec"]["data"][0]["secretKey"],
        "CODER_DB_CODER_PASSWORD"
    );
    let deployment = yaml(&rendered.join("apps/coder/deployment-coder.yaml"));
    assert!(
        env_value(&deployment, "CODER_PG_CONNECTION_URL")
            .unwrap()
            .contains("@coder-db.databases.svc.cluster.local:5432/")
    );
    kustomize_all(dir.path());
}
