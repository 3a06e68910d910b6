//! `[flux] path`, a stack kept in a directory of its repository: every Flux
//! Kustomization's `spec.path` gets the directory as a prefix and nothing else changes,
//! an environment may set its own, the root (`"."`) is the committed output byte for
//! byte, a path with a space is quoted YAML that reads back, and the layers still build
//! with kubectl kustomize. (Bad values: `tests/cases/bad/flux-path-*`.)

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// Adds `path = <value>` (a TOML string, as written) to stack.toml's `[flux]`.
fn set_path(dir: &Path, value: &str) {
    edit(
        &dir.join("stack.toml"),
        "branch = \"main\"",
        &format!("branch = \"main\"\npath = {value}"),
    );
}

/// `spec.path` of a rendered Flux Kustomization, read back by an independent YAML reader.
fn spec_path(bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes).expect("UTF-8 YAML");
    let doc: serde_json::Value = serde_saphyr::from_str(text).expect("YAML reads back");
    assert_eq!(
        doc["apiVersion"], "kustomize.toolkit.fluxcd.io/v1",
        "{text}"
    );
    doc["spec"]["path"].as_str().expect("spec.path").to_owned()
}

/// The Flux Kustomizations of `env` in a snapshot of rendered/: layer → file bytes.
fn kustomizations(tree: &BTreeMap<String, Vec<u8>>, env: &str) -> BTreeMap<String, Vec<u8>> {
    let prefix = format!("{env}/flux/flux-system/kustomization-conveyor-");
    tree.iter()
        .filter_map(|(file, bytes)| {
            let layer = file.strip_prefix(&prefix)?.strip_suffix(".yaml")?;
            Some((layer.to_owned(), bytes.clone()))
        })
        .collect()
}

/// Every layer of `env` Flux applies, the entry point included, is read from
/// `./<dir>/rendered/<env>/<layer>`, and that layer is a directory of rendered/<env>/.
fn assert_layers_under(tree: &BTreeMap<String, Vec<u8>>, env: &str, dir: &str) {
    let layers = kustomizations(tree, env);
    assert!(
        layers.contains_key("flux") && layers.len() > 3,
        "{env}: {layers:?}"
    );
    for (layer, bytes) in &layers {
        assert_eq!(
            spec_path(bytes),
            format!("./{dir}rendered/{env}/{layer}"),
            "{env} {layer}"
        );
        let kustomize = format!("{env}/{layer}/kustomization.yaml");
        assert!(tree.contains_key(&kustomize), "no {kustomize}");
    }
}

#[test]
fn a_flux_path_prefixes_every_kustomization_path_and_changes_nothing_else() {
    let dir = copy_reference(false);
    set_path(dir.path(), "\"platform/conveyor\"");
    // prod sets its own: the root, spelt ".".
    let prod = dir.path().join("environments/prod.toml");
    let text = std::fs::read_to_string(&prod).expect("read prod.toml");
    std::fs::write(&prod, format!("{text}\n[flux]\npath = \".\"\n")).expect("write");
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let committed = snapshot(&repo().join("rendered"));
    let rendered = snapshot(&dir.path().join("rendered"));
    for env in ["dev", "staging"] {
        assert_layers_under(&rendered, env, "platform/conveyor/");
    }
    assert_layers_under(&rendered, "prod", "");
    assert_eq!(env_files(&rendered, "prod"), env_files(&committed, "prod"));

    // Outside prod, the only change is that prefix in the Flux Kustomizations (and
    // their checksums in SHA256SUMS).
    assert_eq!(
        rendered.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>()
    );
    let mut changed = Vec::new();
    for (file, old) in &committed {
        if file.ends_with("/SHA256SUMS") {
            continue;
        }
        let old = String::from_utf8_lossy(old);
        let new = String::from_utf8_lossy(&rendered[file]);
        if old != new {
            let moved = old.replace(
                "  path: \"./rendered/",
                "  path: \"./platform/conveyor/rendered/",
            );
            assert_eq!(new, moved, "{file}");
            changed.push(file.clone());
        }
    }
    let expected: Vec<String> = ["dev", "staging"]
        .iter()
        .flat_map(|env| {
            kustomizations(&committed, env)
                .into_keys()
                .map(move |layer| {
                    format!("{env}/flux/flux-system/kustomization-conveyor-{layer}.yaml")
                })
        })
        .collect();
    assert_eq!(changed, expected);
}

#[test]
fn the_root_spelt_dot_is_the_committed_output() {
    let dir = copy_reference(true);
    set_path(dir.path(), "\".\"");
    let out = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_path_with_a_space_is_quoted_yaml_and_every_layer_still_builds() {
    let dir = copy_reference(false);
    set_path(dir.path(), "\"platform/my stack #2\"");
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rendered = snapshot(&dir.path().join("rendered"));
    for env in ["dev", "staging", "prod"] {
        assert_layers_under(&rendered, env, "platform/my stack #2/");
    }
    let apps =
        String::from_utf8_lossy(&rendered["dev/flux/flux-system/kustomization-conveyor-apps.yaml"])
            .into_owned();
    assert!(
        apps.contains("\n  path: \"./platform/my stack #2/rendered/dev/apps\"\n"),
        "{apps}"
    );
    // Every layer directory, the three environments' flux/ among them (0 without kubectl).
    let dirs = rendered
        .keys()
        .filter(|file| file.split('/').nth(2) == Some("kustomization.yaml"))
        .count();
    let built = kustomize_every_layer(&dir.path().join("rendered"));
    assert!(
        built == 0 || built == dirs,
        "{built} of {dirs} layers built"
    );
}
