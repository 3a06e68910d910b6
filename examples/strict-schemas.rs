//! Rewrites `schemas/strict/` from the schemas' sources (the k8s-openapi types and the
//! vendored CRDs in `schemas/crds/`), made strict by `stackc::validate::strict`. Run it
//! after changing either, or how schemas are made strict:
//!
//! ```sh
//! cargo run --example strict-schemas
//! ```
//!
//! The unit test `every_committed_strict_schema_is_what_its_source_makes` fails until
//! the files are rewritten. (Adding a kind: create its file empty first; the file is
//! compiled in with `include_str!`.)

use std::path::Path;

use stackc::validate::strict;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/strict");
    let mut files = vec![(strict::POD_SPEC_FILE, strict::generate_pod_spec())];
    files.extend(
        strict::kinds()
            .iter()
            .map(|k| (k.file, strict::generate(k))),
    );
    for (file, text) in files {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().expect("files are in a directory"))?;
        std::fs::write(&path, text)?;
        println!("{}", path.display());
    }
    Ok(())
}
