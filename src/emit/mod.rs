//! emit: objects → an in-memory [`RenderedTree`] (path → bytes). A pure function:
//! canonical YAML, the directory layout, one kustomization.yaml per layer, and
//! `SHA256SUMS`. Writing to disk, `render --check` and `diff` all consume the same tree
//! (see [`writer`]). emit knows no component kind.

pub mod layout;
mod ondisk;
pub mod statcache;
pub mod writer;
pub mod yaml;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::build::hex;
use crate::object::{Layer, Object};

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
    /// Adds every file of another tree (another environment). `append` merges two sorted
    /// maps in one pass, where `extend` would insert the other's files one by one.
    pub fn extend(&mut self, mut other: RenderedTree) {
        self.files.append(&mut other.files);
        self.sha256.append(&mut other.sha256);
    }

    /// The SHA-256 of the file at `path`, whose bytes are `bytes`.
    pub fn sha256_of(&self, path: &str, bytes: &[u8]) -> [u8; 32] {
        match self.sha256.get(path) {
            Some(sum) => *sum,
            None => Sha256::digest(bytes).into(),
        }
    }
}

/// Lays out one environment's objects under `<env>/`. The objects are consumed: each is
/// dropped on the core that wrote it, as soon as its file is made (freeing thousands of
/// JSON trees is as costly as writing them).
pub fn emit(env: &str, objects: Vec<Object>) -> RenderedTree {
    let made =
        crate::parallel::map_owned_runs(objects, |run| run.into_iter().map(file_of).collect());
    let mut tree = RenderedTree::default();
    let mut sums: BTreeMap<String, [u8; 32]> = BTreeMap::new();
    let mut by_layer: BTreeMap<Layer, Vec<String>> = BTreeMap::new();
    for made in made {
        let path = format!("{}/{}", made.layer.dir(), made.rel);
        sums.insert(path.clone(), made.sum);
        tree.sha256.insert(format!("{env}/{path}"), made.sum);
        tree.files.insert(format!("{env}/{path}"), made.bytes);
        by_layer.entry(made.layer).or_default().push(made.rel);
    }
    for (layer, resources) in &by_layer {
        let path = format!("{}/kustomization.yaml", layer.dir());
        let bytes = yaml::to_yaml(&layout::kustomization(resources)).into_bytes();
        sums.insert(path.clone(), Sha256::digest(&bytes).into());
        tree.files.insert(format!("{env}/{path}"), bytes);
    }
    tree.files
        .insert(format!("{env}/{SUMS_FILE}"), sha256sums(&sums).into_bytes());
    tree
}

/// One object's file, before it joins the tree.
struct Made {
    layer: Layer,
    /// Path inside the layer's directory.
    rel: String,
    bytes: Vec<u8>,
    /// SHA-256 of `bytes`.
    sum: [u8; 32],
}

fn file_of(object: Object) -> Made {
    let bytes = text(&object);
    Made {
        layer: object.layer,
        rel: layout::object_path(&object),
        sum: Sha256::digest(&bytes).into(),
        bytes,
    }
}

/// The file content of one object: canonical YAML, or its raw bytes (SOPS files).
fn text(object: &Object) -> Vec<u8> {
    match &object.raw {
        Some(raw) => format!("{}\n", raw.trim_end_matches(['\n', '\r'])).into_bytes(),
        None => yaml::to_yaml(&object.body).into_bytes(),
    }
}

/// `sha256sum`-compatible lines (`<hex>  <path>`), sorted by path.
fn sha256sums(sums: &BTreeMap<String, [u8; 32]>) -> String {
    sums.iter()
        .map(|(path, sum)| format!("{}  {path}\n", hex(sum)))
        .collect()
}
