//! Certificates and the controllers layer, read from the committed rendered tree of every
//! environment: every custom resource is applied after the controller that serves its
//! CRD, in-cluster names are signed by the stack's CA only, and public hosts by ACME
//! where the environment asks for it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use serde_json::Value;

const ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// Every rendered object of one environment, by layer directory.
fn objects(env: &str) -> Vec<(String, Value)> {
    let root = repo().join("rendered").join(env);
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy();
        if !name.ends_with(".yaml") || name == "kustomization.yaml" {
            continue;
        }
        let layer = path
            .strip_prefix(&root)
            .unwrap()
            .components()
            .next()
            .unwrap();
        let layer = layer.as_os_str().to_string_lossy().into_owned();
        out.push((layer, read(path)));
    }
    out
}

fn read(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn group(object: &Value) -> &str {
    let api = object["apiVersion"].as_str().unwrap();
    api.split_once('/').map_or("", |(g, _)| g)
}

/// The HelmRelease that installs the CRDs of each API group stackc emits.
fn controller_of(group: &str) -> Option<&'static str> {
    match group {
        "cert-manager.io" => Some("cert-manager"),
        "secrets.infisical.com" => Some("infisical"),
        "external-secrets.io" => Some("external-secrets"),
        _ => None,
    }
}

/// Layer directory → the layers its Flux Kustomization depends on, transitively.
fn depends_on(objects: &[(String, Value)]) -> BTreeMap<String, BTreeSet<String>> {
    let direct: BTreeMap<String, Vec<String>> = objects
        .iter()
        .filter(|(layer, o)| layer == "flux" && o["kind"] == "Kustomization")
        .map(|(_, o)| {
            let name = o["metadata"]["name"].as_str().unwrap().to_owned();
            let deps = o["spec"]["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (name, deps)
        })
        .collect();
    let layer_of = |name: &str| name.trim_start_matches("conveyor-").to_owned();
    direct
        .keys()
        .map(|name| {
            let mut seen = BTreeSet::new();
            let mut todo = direct[name].clone();
            while let Some(next) = todo.pop() {
                if seen.insert(layer_of(&next)) {
                    todo.extend(direct.get(&next).cloned().unwrap_or_default());
                }
            }
            (layer_of(name), seen)
        })
        .collect()
}

#[test]
fn every_custom_resource_is_applied_after_the_controller_that_serves_its_crd() {
    for env in ENVS {
        let objects = objects(env);
        let releases: BTreeSet<&str> = objects
            .iter()
            .filter(|(layer, o)| layer == "controllers" && o["kind"] == "HelmRelease")
            .map(|(_, o)| o["metadata"]["name"].as_str().unwrap())
            .collect();
        let deps = depends_on(&objects);
        let mut checked = 0;
        for (layer, object) in &objects {
            let Some(controller) = controller_of(group(object)) else {
                continue;
            };
            checked += 1;
            assert!(
                releases.contains(controller),
                "{env}: {} {} needs the {controller} controller, and controllers/ has {releases:?}",
                object["kind"],
                object["metadata"]["name"]
            );
            assert!(
                deps[layer.as_str()].contains("controllers"),
                "{env}: layer {layer} holds a {} and does not depend on controllers",
                object["kind"]
            );
        }
        assert!(checked > 0, "{env}: no custom resources were checked");
    }
}

#[test]
fn in_cluster_names_are_signed_by_the_stack_ca_and_public_hosts_by_acme_in_prod() {
    for env in ENVS {
        let objects = objects(env);
        let certificates: Vec<&Value> = objects
            .iter()
            .map(|(_, o)| o)
            .filter(|o| o["kind"] == "Certificate" && o["spec"]["isCA"] != true)
            .collect();
        assert!(!certificates.is_empty(), "{env}: no certificates");
        let domain = match env {
            "prod" => "conveyor.example.org".to_owned(),
            other => format!("{other}.conveyor.example.org"),
        };
        for certificate in certificates {
            let issuer = certificate["spec"]["issuerRef"]["name"].as_str().unwrap();
            let names: Vec<&str> = certificate["spec"]["dnsNames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            let public = names.iter().all(|n| n.ends_with(&format!(".{domain}")));
            let internal = names
                .iter()
                .all(|n| n.ends_with(".svc.cluster.local") || n.ends_with(".svc"));
            assert!(
                public || internal,
                "{env}: {names:?} mixes public and in-cluster names"
            );
            let expected = if public && env == "prod" {
                "conveyor-acme"
            } else {
                "conveyor-ca"
            };
            assert_eq!(issuer, expected, "{env}: issuer of {names:?}");
        }
    }
}

#[test]
fn the_ca_is_self_signed_and_backs_the_ca_issuer() {
    for env in ENVS {
        let root = repo().join("rendered").join(env).join("infra");
        let ca = read(&root.join("cert-manager/certificate-conveyor-ca.yaml"));
        assert_eq!(ca["spec"]["isCA"], true);
        assert_eq!(ca["spec"]["issuerRef"]["name"], "conveyor-selfsigned");
        let selfsigned = read(&root.join("_cluster/clusterissuer-conveyor-selfsigned.yaml"));
        assert!(selfsigned["spec"]["selfSigned"].is_object());
        let issuer = read(&root.join("_cluster/clusterissuer-conveyor-ca.yaml"));
        assert_eq!(issuer["spec"]["ca"]["secretName"], ca["spec"]["secretName"]);
    }
}

#[test]
fn removing_tls_from_a_stack_with_an_ingress_is_refused_and_writes_nothing() {
    let dir = copy_reference(true);
    let before = snapshot(&dir.path().join("rendered"));
    edit(
        &dir.path().join("stack.toml"),
        "[tls]\npublic = \"internal\"\n",
        "",
    );
    edit(
        &dir.path().join("environments/prod.toml"),
        "[tls]\npublic = \"acme\"\nacme = { email = \"platform@acme.example.org\", dns01 = \"cloudflare\" }\n",
        "",
    );
    let output = stackc(dir.path(), &["render"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[missing-tls]"),
        "{}",
        stderr(&output)
    );
    assert_eq!(snapshot(&dir.path().join("rendered")), before);
}

/// A pin for an add-on nothing needs is a warning on every command that checks the
/// stack, and no reason to fail or to write anything.
#[test]
fn an_unused_controller_pin_is_a_warning_that_is_printed() {
    let dir = copy_reference(true);
    let before = snapshot(&dir.path().join("rendered"));
    let stack = dir.path().join("stack.toml");
    let mut text = std::fs::read_to_string(&stack).unwrap();
    text.push_str("\n[controllers]\nexternal-secrets = \"0.20.5\"\n");
    let line = text.lines().count();
    std::fs::write(&stack, text).unwrap();
    for command in [&["check"][..], &["validate"], &["render"], &["policy"]] {
        let out = stackc(dir.path(), command);
        let err = stderr(&out);
        assert_eq!(code(&out), 0, "{command:?}: {err}");
        assert!(
            err.contains("warning[unused-controller]"),
            "{command:?} printed no warning:\n{err}"
        );
        assert!(
            err.contains(&format!("stack.toml:{line}:1")),
            "{command:?}: not at stack.toml:{line}:1:\n{err}"
        );
    }
    let out = stackc(dir.path(), &["--format", "json", "check"]);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.contains("\"code\":\"unused-controller\"")),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&dir.path().join("rendered")), before);
}
