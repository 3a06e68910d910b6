//! The SOPS provider: encrypted Secret manifests committed under `secrets/<env>/` are
//! required for every Secret a component needs, checked (encrypted, right name,
//! namespace and keys), emitted byte for byte, and decrypted by Flux.

mod common;

use common::*;

fn sops_secret(name: &str, namespace: &str, keys: &[&str], encrypted: bool) -> String {
    let mut text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: {name}\n    namespace: {namespace}\ntype: Opaque\ndata:\n"
    );
    for key in keys {
        let value = if encrypted {
            "ENC[AES256_GCM,data:q83vEjRWeJA=,iv:bm9uY2Vub25jZW5vbmNl,tag:dGFndGFndGFndGFndGFn,type:str]"
        } else {
            "aHVudGVyMg=="
        };
        text.push_str(&format!("    {key}: {value}\n"));
    }
    text.push_str(concat!(
        "sops:\n",
        "    age:\n",
        "        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
        "          enc: |\n",
        "            -----BEGIN AGE ENCRYPTED FILE-----\n",
        "            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBzdGFja2MK\n",
        "            -----END AGE ENCRYPTED FILE-----\n",
        "    lastmodified: \"2026-11-20T10:00:00Z\"\n",
        "    mac: ENC[AES256_GCM,data:bWFjbWFjbWFj,iv:aXZpdml2,tag:dGFn,type:str]\n",
        "    encrypted_regex: ^(data|stringData)$\n",
        "    version: 3.9.1\n",
    ));
    text
}

fn sops_stack() -> tempfile::TempDir {
    let dir = copy_reference(false);
    edit(
        &dir.path().join("stack.toml"),
        "provider = \"infisical\"",
        "provider = \"sops\"",
    );
    dir
}

fn write_secrets(dir: &std::path::Path, encrypted: bool) {
    for env in ["dev", "staging", "prod"] {
        let secrets = dir.join("secrets").join(env);
        std::fs::create_dir_all(&secrets).unwrap();
        let files = [
            (
                "coder-db-credentials",
                "coder",
                vec!["CODER_DB_CODER_PASSWORD", "CODER_DB_POSTGRES_PASSWORD"],
            ),
            (
                "orchestrator-secrets",
                "coder",
                vec!["ORCHESTRATOR_CODER_TOKEN"],
            ),
            (
                "cache-credentials",
                "conveyor-pipeline",
                vec!["CACHE_PASSWORD"],
            ),
            (
                "agents-secrets",
                "conveyor-pipeline",
                vec!["AGENTS_LLM_API_KEY"],
            ),
            (
                "collector-reddit-secrets",
                "conveyor-pipeline",
                vec!["REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"],
            ),
            (
                "influxdb-credentials",
                "conveyor-pipeline",
                vec![
                    "INFLUXDB_ADMIN_PASSWORD",
                    "INFLUXDB_ADMIN_TOKEN",
                    "INFLUXDB_ADMIN_USERNAME",
                ],
            ),
            (
                "monitoring-credentials",
                "monitoring",
                vec![
                    "MONITORING_GRAFANA_ADMIN_PASSWORD",
                    "MONITORING_GRAFANA_ADMIN_USER",
                    "MONITORING_SLACK_WEBHOOK_URL",
                    // prod also mails; a key nobody reads is harmless elsewhere
                    "MONITORING_SMTP_PASSWORD",
                ],
            ),
            (
                "kafka-keystore",
                "conveyor-pipeline",
                vec!["KAFKA_KEYSTORE_PASSWORD"],
            ),
        ];
        // Only prod solves ACME challenges through Cloudflare.
        let acme = (env == "prod").then(|| {
            (
                "conveyor-acme-cloudflare",
                "cert-manager",
                vec!["CLOUDFLARE_API_TOKEN"],
            )
        });
        for (name, ns, keys) in files.into_iter().chain(acme) {
            std::fs::write(
                secrets.join(format!("{name}.sops.yaml")),
                sops_secret(name, ns, &keys, encrypted),
            )
            .unwrap();
        }
    }
}

#[test]
fn every_needed_secret_must_be_committed_encrypted() {
    let dir = sops_stack();
    let out = stackc(dir.path(), &["check"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("error[missing-secret-file]"), "{err}");
    assert!(
        err.contains("secrets/dev/coder-db-credentials.sops.yaml does not exist"),
        "{err}"
    );
    assert!(
        err.contains("sops --encrypt"),
        "the help says how to create it: {err}"
    );

    write_secrets(dir.path(), false);
    let out = stackc(dir.path(), &["check"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("error[invalid-sops-secret]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("holds `CODER_DB_CODER_PASSWORD` in plain text"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn encrypted_secrets_are_emitted_verbatim_and_flux_decrypts_them() {
    let dir = sops_stack();
    write_secrets(dir.path(), true);
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let source = std::fs::read_to_string(
        dir.path()
            .join("secrets/prod/coder-db-credentials.sops.yaml"),
    )
    .unwrap();
    let rendered = std::fs::read_to_string(
        dir.path()
            .join("rendered/prod/data/coder/secret-coder-db-credentials.yaml"),
    )
    .unwrap();
    assert_eq!(
        rendered, source,
        "the MAC covers the exact file: it must not be re-serialized"
    );
    assert!(
        !dir.path()
            .join("rendered/prod/data/coder/infisicalsecret-coder-db-credentials.yaml")
            .exists()
    );
    let apps = std::fs::read_to_string(
        dir.path()
            .join("rendered/prod/flux/flux-system/kustomization-conveyor-data.yaml"),
    )
    .unwrap();
    assert!(
        apps.contains("decryption:\n    provider: sops\n    secretRef:\n      name: sops-age"),
        "{apps}"
    );
    let policy = stackc(dir.path(), &["policy"]);
    assert_eq!(
        code(&policy),
        0,
        "encrypted data is not inline secret data: {}",
        stdout(&policy)
    );
    kustomize_every_layer(&dir.path().join("rendered"));
}
