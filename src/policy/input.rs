//! Reading manifests for `stackc policy PATH...`: YAML files (multi-document included)
//! from files and directories, in a stable order, each file once however many links lead
//! to it. The one place policy touches files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::value::Value;

use crate::diag::Diagnostic;

/// One YAML document that holds a Kubernetes object.
#[derive(Debug)]
pub struct Document {
    pub file: String,
    /// 1-based line where the document starts.
    pub line: usize,
    pub body: Value,
}

/// What [`read`] found in its paths.
#[derive(Debug, Default)]
pub struct Read {
    pub documents: Vec<Document>,
    /// Files that are no valid YAML (or beyond a reading limit, or not UTF-8).
    pub diagnostics: Vec<Diagnostic>,
    /// `path: what went wrong` for each path, file or directory that could not be read
    /// (exit 2); everything else was still read.
    pub io_errors: Vec<String>,
}

/// Every object in `paths` (files, or directories searched for *.yaml / *.yml), each
/// file once: the first path that reaches it names it. Symbolic links to files and
/// directories are followed. Unreadable paths are I/O errors, and the rest is still
/// read; unparsable YAML is a diagnostic.
pub fn read(paths: &[&Path]) -> Read {
    let mut read = Read::default();
    let mut seen = BTreeSet::new();
    for path in paths {
        let (found, errors) = files(path);
        read.io_errors.extend(errors);
        for file in found {
            if !seen.insert(identity(&file)) {
                continue;
            }
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    read.io_errors.push(format!("{}: {e}", file.display()));
                    continue;
                }
            };
            let name = file.display().to_string();
            match utf8(&name, bytes).and_then(|text| parse(&name, &text)) {
                Ok(more) => read.documents.extend(more),
                Err(diag) => read.diagnostics.push(*diag),
            }
        }
    }
    read
}

/// What makes two paths the same file: its canonical path (every link resolved), or the
/// path itself when it cannot be resolved (the read then reports why).
fn identity(file: &Path) -> PathBuf {
    std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf())
}

/// A manifest found in a directory, and whether a symbolic link (the entry itself or a
/// directory above it, below the walked path) leads to it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    through_link: bool,
    path: PathBuf,
}

/// The manifest files of one path, sorted, each once, and what could not be read: the
/// path itself when it is a file (or a link to one), else the *.yaml / *.yml files under
/// it. Links are followed; a link that leads back to a directory being walked is skipped
/// (its files are read through the real path), and a file reached both directly and
/// through a link is read once, by its direct path (by the first link's otherwise). A
/// dangling link named like a manifest, and a directory that cannot be listed, are I/O
/// errors; a dangling link named otherwise (an editor's lock file) is not a manifest
/// and is skipped.
fn files(path: &Path) -> (Vec<PathBuf>, Vec<String>) {
    if !path.exists() {
        return (
            Vec::new(),
            vec![format!("{}: no such file or directory", path.display())],
        );
    }
    if path.is_file() {
        return (vec![path.to_path_buf()], Vec::new());
    }
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut linked_dirs: Vec<PathBuf> = Vec::new();
    for entry in walkdir::WalkDir::new(path).follow_links(true) {
        match entry {
            Ok(e) if e.depth() > 0 && e.file_type().is_dir() && e.path_is_symlink() => {
                linked_dirs.push(e.into_path());
            }
            Ok(e) if e.file_type().is_file() && is_manifest(e.path()) => {
                let through_link =
                    e.path_is_symlink() || linked_dirs.iter().any(|d| e.path().starts_with(d));
                found.push(Found {
                    through_link,
                    path: e.into_path(),
                });
            }
            Ok(_) => {}
            Err(e) if e.loop_ancestor().is_some() => {}
            Err(e) if e.path().is_some_and(|p| !is_manifest(p) && !p.is_dir()) => {}
            Err(e) => errors.push(walk_error(path, &e)),
        }
    }
    (once_each(found), errors)
}

/// The files of `found` in path order, each file once: by its direct path if it has one,
/// else by the first link's.
fn once_each(mut found: Vec<Found>) -> Vec<PathBuf> {
    found.sort();
    let mut seen = BTreeSet::new();
    let mut files: Vec<PathBuf> = found
        .into_iter()
        .filter(|f| seen.insert(identity(&f.path)))
        .map(|f| f.path)
        .collect();
    files.sort();
    files
}

/// A file name stackc reads from a directory: *.yaml or *.yml.
fn is_manifest(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "yaml" || x == "yml")
}

/// `path: what went wrong`, for an entry of a directory that cannot be read.
fn walk_error(root: &Path, e: &walkdir::Error) -> String {
    let at = e.path().unwrap_or(root).display();
    match e.io_error() {
        Some(io) if io.kind() == std::io::ErrorKind::NotFound => {
            format!("{at}: a symbolic link to nothing (no such file or directory)")
        }
        Some(io) => format!("{at}: {io}"),
        None => format!("{at}: {e}"),
    }
}

/// How to fix a `yaml-syntax` error (also the SARIF rule's help).
pub const SYNTAX_HELP: &str = "fix the YAML syntax; stackc rejects duplicate keys";
/// The text of a manifest; not UTF-8 is `invalid-encoding` at the line and column of
/// the first invalid byte, with the message and help the loader gives stack files.
fn utf8(file: &str, bytes: Vec<u8>) -> Result<String, Box<Diagnostic>> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes()[at];
        let (line, column) =
            crate::diag::end_line_col(&String::from_utf8_lossy(&e.as_bytes()[..at]));
        Box::new(crate::diag::not_utf8(byte).at_line(file, line, column))
    })
}

/// The most YAML documents one manifest file may hold: far above real files (a generated
/// bundle of 20,000 Deployments), and still a bound on memory and time.
pub const MAX_DOCUMENTS: usize = 100_000;
/// The most YAML nodes (scalars, mappings and lists) one manifest file may hold: a
/// ConfigMap of a million keys fits.
pub const MAX_NODES: usize = 5_000_000;
/// The most events aliases may replay in one file. A real manifest repeats an anchor a
/// few times; an alias bomb ("billion laughs") repeats it exponentially and stops here.
pub const MAX_ALIAS_EVENTS: usize = 250_000;

/// The reader's limits: ours for documents, nodes and aliases, the library's defaults
/// for nesting depth (64) and text size.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: MAX_DOCUMENTS,
            max_nodes: MAX_NODES,
            // Every node is at most a start and an end event, every document two more.
            max_events: 2 * MAX_NODES + 2 * MAX_DOCUMENTS + 2,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
        },
    }
}

/// The objects of one YAML text; documents that are not mappings with a `kind` are skipped.
pub fn parse(file: &str, text: &str) -> Result<Vec<Document>, Box<Diagnostic>> {
    let values: Vec<serde_json::Value> =
        serde_saphyr::from_str_multiple_with_options(text, options()).map_err(|e| {
            let diag = limit_breached(original(&e)).unwrap_or_else(|| syntax_error(&e));
            Box::new(match e.location() {
                Some(l) => diag.at_line(
                    file,
                    usize::try_from(l.line()).unwrap_or(0),
                    usize::try_from(l.column()).unwrap_or(0),
                ),
                None => diag.in_file(file),
            })
        })?;
    let starts = document_starts(text);
    Ok(values
        .into_iter()
        .map(Value::from)
        .enumerate()
        .filter(|(_, v)| v.get("kind").is_some_and(Value::is_string) && !is_kustomize_config(v))
        .map(|(i, body)| Document {
            file: file.to_owned(),
            line: starts.get(i).copied().unwrap_or(1),
            body,
        })
        .collect())
}

/// `yaml-syntax`: the library's message without its position and programmer's advice.
fn syntax_error(e: &serde_saphyr::Error) -> Diagnostic {
    let text = e.to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .split(": ")
        .filter(|part| !part.starts_with("line "))
        .collect::<Vec<_>>()
        .join(": ");
    let message = message
        .split(" (set DuplicateKeyPolicy")
        .next()
        .unwrap_or_default();
    Diagnostic::error("yaml-syntax", format!("invalid YAML: {message}")).help(SYNTAX_HELP)
}

/// The error under the library's wrappers (a source snippet, an alias's replay).
fn original(mut e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    use serde_saphyr::Error;
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = e {
        e = error;
    }
    e
}

/// `yaml-limit`, when the file is valid YAML beyond one of the reader's limits: which
/// limit, and what to do. `None` for any other error.
fn limit_breached(e: &serde_saphyr::Error) -> Option<Diagnostic> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach as B;
    let (message, help) = match e {
        Error::Budget { breach, .. } => match breach {
            B::Documents { .. } => (
                format!("more than {MAX_DOCUMENTS} YAML documents in one file"),
                format!("split the file: stackc reads at most {MAX_DOCUMENTS} documents per file"),
            ),
            B::Nodes { .. } | B::Events { .. } => (
                format!("more than {MAX_NODES} YAML values (scalars, mappings and lists) in one file"),
                format!("split the file: stackc reads at most {MAX_NODES} values per file"),
            ),
            B::Depth { depth } => (
                format!("YAML nested {depth} levels deep"),
                "flatten the structure: stackc reads at most 64 levels of nesting".to_owned(),
            ),
            other => (
                format!("the YAML exceeds a reading limit ({other:?})"),
                "stackc bounds what one file may cost to read (aliases, anchors, text size): simplify or split the file".to_owned(),
            ),
        },
        Error::AliasReplayLimitExceeded { .. } | Error::AliasExpansionLimitExceeded { .. } => (
            format!("aliases expand to more than {MAX_ALIAS_EVENTS} values (an alias bomb?)"),
            format!("write the repeated values out, or repeat them less: stackc expands aliases to at most {MAX_ALIAS_EVENTS} values per file"),
        ),
        _ => return None,
    };
    Some(Diagnostic::error("yaml-limit", message).help(help))
}

/// A kustomization.yaml is build configuration for kustomize, not an API object.
fn is_kustomize_config(value: &Value) -> bool {
    value
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"))
}

/// Best-effort first line of each document: after each `---` separator.
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut pending = Some(1);
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            pending = Some(i + 2);
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(start) = pending.take() {
            starts.push(start);
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_files_keep_their_lines() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# c\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n";
        let docs = parse("x.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].line, docs[1].line), (1, 5));
        assert_eq!(docs[1].body["kind"], "Secret");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("bad.yaml", "a: [1, 2\nb: c\n").unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert!(
            err.position(&Default::default())
                .unwrap()
                .starts_with("bad.yaml:"),
            "{err:?}"
        );
    }
}
