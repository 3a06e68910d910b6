//! `modules/`: the template files of non-Kubernetes payloads (prometheus.yml, rules,
//! dashboards, ...). Read here, like every other input, and registered in the
//! `SourceMap`, so a template error points at the template's file and line.

use std::collections::BTreeMap;

use super::{LoadError, Source};
use crate::diag::{FileId, SourceMap};

/// The directories read, relative to the stack directory. Users drop extra dashboards
/// and rule files into the last two without recompiling stackc.
pub const MODULE_DIRS: &[&str] = &[
    "modules/monitoring",
    "modules/monitoring/dashboards",
    "modules/monitoring/rules",
];

/// One template file as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleFile {
    pub file: FileId,
    pub text: String,
}

/// Every module file, keyed by its path relative to `modules/` (e.g.
/// `monitoring/rules/alerts.yaml.j2`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Modules {
    pub files: BTreeMap<String, ModuleFile>,
}

impl Modules {
    /// The files directly inside `dir` (relative to `modules/`), sorted by name.
    pub fn in_dir<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a ModuleFile)> {
        self.files.iter().filter(move |(path, _)| {
            path.strip_prefix(dir)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| !name.contains('/'))
        })
    }
}

/// Reads every file of [`MODULE_DIRS`] (READMEs excepted).
pub fn read(root: &Source, sources: &mut SourceMap) -> Result<Modules, LoadError> {
    let mut modules = Modules::default();
    for dir in MODULE_DIRS {
        let io =
            |e: std::io::Error| LoadError::Io(format!("cannot read {}: {e}", root.display(dir)));
        for name in root.list(dir).map_err(io)? {
            if name.eq_ignore_ascii_case("README.md") || name.starts_with('.') {
                continue;
            }
            let rel = format!("{dir}/{name}");
            // Registered in the source map, and a file that is not UTF-8 is an error at
            // its first invalid byte, as for the stack's own files.
            let file = match super::read_file(root, &rel, sources) {
                Ok(file) => file,
                // `git ls-tree` lists subdirectories too.
                Err(LoadError::Io(_))
                    if matches!(root, Source::Git { .. }) && !name.contains('.') =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            let text = sources.file(file).text.clone();
            let key = rel.strip_prefix("modules/").unwrap_or(&rel).to_owned();
            modules.files.insert(key, ModuleFile { file, text });
        }
    }
    Ok(modules)
}
