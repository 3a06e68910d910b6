//! emit: objects → an in-memory [`RenderedTree`] (path → bytes). A pure function:
//! canonical YAML, the directory layout, one kustomization.yaml per layer, and
//! `SHA256SUMS`. Writing to disk, `render --check` and `diff` all consume the same tree
//! (see [`writer`]). emit knows no component kind.

pub mod ahead;
pub mod layout;
mod ondisk;
pub mod statcache;
pub mod writer;
pub mod yaml;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::build::hex;
use crate::object::Object;

/// Name of the checksum file in each `rendered/<env>/`.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// Rendered files keyed by their path under `rendered/`, e.g. `dev/apps/ns/deployment-x.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<String, Vec<u8>>,
    /// The SHA-256 of each file emit made (a tree read from disk has none).
    pub sha256: BTreeMap<String, [u8; 32]>,
}

impl RenderedTree {
    /// A tree of these (path, text) files, as a test writes one (no SHA-256s, as read
    /// from disk).
    #[cfg(test)]
    pub fn of_text(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree {
            files: files
                .iter()
                .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
                .collect(),
            ..RenderedTree::default()
        }
    }

    /// Adds every file of another tree (another environment). `append` merges two sorted
    /// maps in one pass, where `extend` would insert the other's files one by one.
    pub fn extend(&mut self, mut other: RenderedTree) {
        self.files.append(&mut other.files);
        self.sha256.append(&mut other.sha256);
    }
}

/// Lays out one environment's objects under `<env>/`. The objects are consumed: each is
/// dropped on the core that wrote it, as soon as its file is made (freeing thousands of
/// JSON trees is as costly as writing them). The files are sorted once and the tree
/// built from the sorted run: inserting them one by one into its maps was the longest
/// part of emit that ran on one core.
pub fn emit(env: &str, objects: Vec<Object>) -> RenderedTree {
    let mut made = crate::parallel::map_owned_runs(objects, |run| {
        run.into_iter().map(|object| file_of(env, object)).collect()
    });
    made.extend(kustomizations(env, &made));
    made.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    let sums = Made::new(
        format!("{env}/{SUMS_FILE}"),
        sha256sums(env, &made).into_bytes(),
    );
    let mut tree = RenderedTree {
        sha256: made.iter().map(|m| (m.path.clone(), m.sum)).collect(),
        files: made.into_iter().map(|m| (m.path, m.bytes)).collect(),
    };
    // Its SHA-256 too, made here on the environment's lane rather than by the
    // comparison with rendered/, which runs after every environment.
    tree.sha256.insert(sums.path.clone(), sums.sum);
    tree.files.insert(sums.path, sums.bytes);
    tree
}

/// One file of an environment, before it joins the tree.
struct Made {
    /// Path under `rendered/`: `<env>/<layer>/<path in the layer>`.
    path: String,
    bytes: Vec<u8>,
    /// SHA-256 of `bytes`.
    sum: [u8; 32],
}

impl Made {
    fn new(path: String, bytes: Vec<u8>) -> Made {
        Made {
            sum: Sha256::digest(&bytes).into(),
            path,
            bytes,
        }
    }
}

fn file_of(env: &str, object: Object) -> Made {
    let path = format!(
        "{env}/{}/{}",
        object.layer.dir(),
        layout::object_path(&object)
    );
    Made::new(path, text(&object))
}

/// The kustomization.yaml of each layer that has files, listing them.
fn kustomizations(env: &str, made: &[Made]) -> Vec<Made> {
    let mut by_layer: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in made {
        let in_env = &m.path[env.len() + 1..];
        let (layer, rel) = in_env.split_once('/').expect("<env>/<layer>/<file>");
        by_layer.entry(layer).or_default().push(rel.to_owned());
    }
    by_layer
        .into_iter()
        .map(|(layer, resources)| {
            let bytes = yaml::to_yaml(&layout::kustomization(&resources)).into_bytes();
            Made::new(format!("{env}/{layer}/kustomization.yaml"), bytes)
        })
        .collect()
}

/// The file content of one object: canonical YAML, or its raw bytes (SOPS files).
fn text(object: &Object) -> Vec<u8> {
    match &object.raw {
        Some(raw) => format!("{}\n", raw.trim_end_matches(['\n', '\r'])).into_bytes(),
        None => yaml::to_yaml(&object.body).into_bytes(),
    }
}

/// `sha256sum`-compatible lines (`<hex>  <path>`, the path within `<env>/`) of files
/// sorted by path.
fn sha256sums(env: &str, made: &[Made]) -> String {
    made.iter()
        .map(|m| format!("{}  {}\n", hex(&m.sum), &m.path[env.len() + 1..]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Layer, Object};

    /// The comparison with rendered/ reads every file's SHA-256 from the tree: each must
    /// be there, SHA256SUMS included, and be the digest of the file's bytes.
    #[test]
    fn every_file_emitted_has_its_sha256() {
        let config = |name: &str| {
            let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "ns"}, "data": {"k": "v"}});
            Object::new(Layer::Apps, None, &body)
        };
        let tree = emit("dev", vec![config("a"), config("b")]);
        assert!(tree.files.contains_key("dev/SHA256SUMS"));
        assert!(tree.files.len() >= 4, "{:?}", tree.files.keys());
        assert!(
            tree.sha256.keys().eq(tree.files.keys()),
            "{:?}",
            tree.sha256.keys()
        );
        for (path, bytes) in &tree.files {
            let digest: [u8; 32] = Sha256::digest(bytes).into();
            assert_eq!(tree.sha256[path], digest, "{path}");
        }
    }
}
