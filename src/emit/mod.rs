//! emit: objects → an in-memory [`RenderedTree`] (path → bytes). A pure function:
//! canonical YAML, the directory layout, one kustomization.yaml per layer, and
//! `SHA256SUMS`. Writing to disk, `render --check` and `diff` all consume the same tree
//! (see [`writer`]). emit knows no component kind.

pub mod layout;
mod ondisk;
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
}

impl RenderedTree {
    /// Adds every file of another tree (another environment).
    pub fn extend(&mut self, other: RenderedTree) {
        self.files.extend(other.files);
    }
}

/// Lays out one environment's objects under `<env>/`. The objects are consumed: each is
/// dropped on the core that wrote it, as soon as its file is made (freeing thousands of
/// JSON trees is as costly as writing them).
pub fn emit(env: &str, objects: Vec<Object>) -> RenderedTree {
    let made =
        crate::parallel::map_owned_runs(objects, |run| run.into_iter().map(file_of).collect());
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    let mut by_layer: BTreeMap<Layer, Vec<String>> = BTreeMap::new();
    for made in made {
        let path = format!("{}/{}", made.layer.dir(), made.rel);
        sums.insert(path.clone(), made.sum);
        files.insert(format!("{env}/{path}"), made.bytes);
        by_layer.entry(made.layer).or_default().push(made.rel);
    }
    for (layer, resources) in &by_layer {
        let path = format!("{}/kustomization.yaml", layer.dir());
        let bytes = yaml::to_yaml(&layout::kustomization(resources)).into_bytes();
        sums.insert(path.clone(), sha256_hex(&bytes));
        files.insert(format!("{env}/{path}"), bytes);
    }
    files.insert(format!("{env}/{SUMS_FILE}"), sha256sums(&sums).into_bytes());
    RenderedTree { files }
}

/// One object's file, before it joins the tree.
struct Made {
    layer: Layer,
    /// Path inside the layer's directory.
    rel: String,
    bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`.
    sum: String,
}

fn file_of(object: Object) -> Made {
    let bytes = text(&object);
    Made {
        layer: object.layer,
        rel: layout::object_path(&object),
        sum: sha256_hex(&bytes),
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

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `sha256sum`-compatible lines (`<hex>  <path>`), sorted by path.
fn sha256sums(sums: &BTreeMap<String, String>) -> String {
    sums.iter()
        .map(|(path, sum)| format!("{sum}  {path}\n"))
        .collect()
}
