//! emit: objects → an in-memory [`RenderedTree`] (path → bytes). A pure function:
//! canonical YAML, the directory layout, one kustomization.yaml per layer, and
//! `SHA256SUMS`. Writing to disk, `render --check` and `diff` all consume the same tree
//! (see [`writer`]). emit knows no component kind.

pub mod layout;
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

/// Lays out one environment's objects under `<env>/`.
pub fn emit(env: &str, objects: &[Object]) -> RenderedTree {
    let texts = crate::parallel::map_chunks(objects, |run| run.iter().map(text).collect());
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut by_layer: BTreeMap<Layer, Vec<String>> = BTreeMap::new();
    for (object, bytes) in objects.iter().zip(texts) {
        let rel = layout::object_path(object);
        files.insert(format!("{}/{rel}", object.layer.dir()), bytes);
        by_layer.entry(object.layer).or_default().push(rel);
    }
    for (layer, resources) in &by_layer {
        let kustomization = yaml::to_yaml(&layout::kustomization(resources));
        files.insert(
            format!("{}/kustomization.yaml", layer.dir()),
            kustomization.into_bytes(),
        );
    }
    let sums = sha256sums(&files);
    files.insert(SUMS_FILE.to_owned(), sums.into_bytes());
    RenderedTree {
        files: files
            .into_iter()
            .map(|(path, bytes)| (format!("{env}/{path}"), bytes))
            .collect(),
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
fn sha256sums(files: &BTreeMap<String, Vec<u8>>) -> String {
    files
        .iter()
        .map(|(path, bytes)| format!("{}  {path}\n", hex(&Sha256::digest(bytes))))
        .collect()
}
