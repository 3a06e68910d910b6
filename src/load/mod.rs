//! load: the only stage that reads files. `stack.toml` and `environments/<env>.toml`
//! are parsed with spans, each environment file is deep-merged over the stack file
//! (tables merge, scalars and arrays replace), and the merged tree is read into the
//! typed [`Stack`]. The merged tree is kept too: `check` asks it where a value was written.

mod de;
pub mod files;
pub mod modules;
mod parts;
mod sections;
mod suggest;
pub mod tree;

pub use files::Source;
pub use suggest::closest;
use tree::{Node, Value};

use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::model::Stack;

/// The stack of one environment, and where each of its values came from.
#[derive(Clone, Debug)]
pub struct EnvStack {
    pub name: String,
    pub stack: Stack,
    pub tree: Node,
    /// SOPS-encrypted Secret manifests of this environment, `secrets/<env>/<name>.sops.yaml`:
    /// Secret name → (path, text). Read as they are; stackc never decrypts.
    pub sops_files: std::collections::BTreeMap<String, (String, String)>,
    /// The template files under `modules/` (shared by every environment).
    pub modules: std::sync::Arc<modules::Modules>,
}

/// Why loading stopped.
#[derive(Debug)]
pub enum LoadError {
    /// The stack is wrong: report and exit 1.
    Stack(Vec<Diagnostic>),
    /// A file could not be read, or the user asked for something absent: exit 2.
    Io(String),
}

pub const STACK_FILE: &str = "stack.toml";
pub const ENV_DIR: &str = "environments";

/// Loads the stack for every environment (or just `only`), in promotion order.
/// Environments that could not be read into the model are left out and their problems
/// returned beside the others, so that `check` still runs on the rest.
pub fn load(
    root: &Source,
    only: Option<&str>,
    sources: &mut SourceMap,
) -> Result<(Vec<EnvStack>, Vec<Diagnostic>), LoadError> {
    // Read every file first; then parse them all at once, on all cores.
    let base_file = read_file(root, STACK_FILE, sources)?;
    let found = discover_environments(root)?;
    let modules = std::sync::Arc::new(modules::read(root, sources)?);
    let wanted: Vec<&str> = found
        .iter()
        .map(String::as_str)
        .filter(|e| only.is_none_or(|o| o == *e))
        .collect();
    // An environment file that is not UTF-8 is reported beside the others' problems.
    let mut files: Vec<Result<FileId, Vec<Diagnostic>>> = vec![Ok(base_file)];
    for env in &wanted {
        files.push(
            match read_file(root, &format!("{ENV_DIR}/{env}.toml"), sources) {
                Ok(file) => Ok(file),
                Err(LoadError::Stack(diags)) => Err(diags),
                Err(io) => return Err(io),
            },
        );
    }
    let shared: &SourceMap = sources;
    let mut parsed = crate::parallel::map(&files, |file| match file {
        Ok(file) => parse_toml(shared, *file),
        Err(diags) => Err(LoadError::Stack(diags.clone())),
    })
    .into_iter();
    let base = parsed.next().expect("stack.toml was read")?;
    let missing = sections::missing_tables(&base);
    if !missing.is_empty() {
        return Err(LoadError::Stack(missing));
    }
    let mut overlays: std::collections::BTreeMap<&str, Result<Node, LoadError>> =
        wanted.into_iter().zip(parsed).collect();
    let order = environment_order(&base, &found)?;
    if let Some(env) = only
        && !order.iter().any(|e| e == env)
    {
        return Err(LoadError::Io(format!(
            "no environment `{env}` (environments: {})",
            order.join(", ")
        )));
    }
    let mut diags = Vec::new();
    let mut selected = Vec::new();
    for env in order
        .iter()
        .filter(|e| only.is_none_or(|o| o == e.as_str()))
    {
        match overlays.remove(env.as_str()) {
            Some(Ok(overlay)) => selected.push((env, overlay)),
            Some(Err(LoadError::Stack(more))) => diags.extend(more),
            Some(Err(io)) => return Err(io),
            // Listed without a file: environment_order reported it.
            None => {}
        }
    }
    // Each environment's tree is the stack file's with the overlay merged in: a copy for
    // all but the last, which takes the stack file's tree itself (at fleet scale a copy
    // and a drop of it cost as much as parsing it).
    let copies = selected.len().saturating_sub(1);
    let mut trees = crate::parallel::map(&selected[..copies], |_| base.clone());
    trees.push(base);
    let jobs: Vec<_> = selected.into_iter().zip(trees).collect();
    let merged = crate::parallel::map_owned(jobs, |((env, mut overlay), mut tree)| {
        let mut diags = sections::take_stack_only_keys(&mut overlay);
        tree::merge(&mut tree, overlay);
        let stack = sections::read_stack(&tree, base_file, &mut diags);
        (env, tree, stack, diags)
    });
    let mut envs = Vec::new();
    for (env, tree, stack, more) in merged {
        diags.extend(more);
        if let Some(stack) = stack {
            envs.push(EnvStack {
                name: env.clone(),
                stack,
                tree,
                sops_files: read_sops_files(root, env)?,
                modules: modules.clone(),
            });
        }
    }
    Ok((envs, crate::diag::dedup(diags)))
}

/// Reads one file of the stack into the source map. A file that is not UTF-8 is
/// registered all the same (each invalid sequence shown as U+FFFD) and reported at its
/// first invalid byte.
fn read_file(root: &Source, rel: &str, sources: &mut SourceMap) -> Result<FileId, LoadError> {
    let bytes = root.read_bytes(rel).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && rel == STACK_FILE {
            LoadError::Io(match root {
                Source::Dir(dir) => format!(
                    "no {STACK_FILE} in {} (run stackc in the stack's directory, or pass --dir)",
                    dir.display()
                ),
                Source::Git { rev, .. } => format!("no {STACK_FILE} at {rev}"),
                Source::Patched { base, .. } => {
                    format!("no {STACK_FILE} in {}", base.dir().display())
                }
            })
        } else {
            LoadError::Io(format!("cannot read {}: {e}", root.display(rel)))
        }
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(sources.add(root.display(rel), text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let diag = crate::diag::not_utf8(e.as_bytes()[at]);
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = sources.add(root.display(rel), text);
            // The span covers the U+FFFD that stands for the byte in the registered text.
            let end = at + char::REPLACEMENT_CHARACTER.len_utf8();
            Err(LoadError::Stack(vec![diag.at(Some(Span {
                file,
                start: at,
                end,
            }))]))
        }
    }
}

/// The text of a file stackc does not register as a source (a SOPS manifest); not UTF-8
/// is an error at the line and column of the first invalid byte.
fn read_text(root: &Source, rel: &str) -> Result<String, LoadError> {
    let bytes = root
        .read_bytes(rel)
        .map_err(|e| LoadError::Io(format!("cannot read {}: {e}", root.display(rel))))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]);
        let (line, column) = crate::diag::end_line_col(&valid);
        LoadError::Stack(vec![crate::diag::not_utf8(e.as_bytes()[at]).at_line(
            root.display(rel),
            line,
            column,
        )])
    })
}

/// Parses one TOML file into a provenance tree.
fn parse_toml(sources: &SourceMap, file: FileId) -> Result<Node, LoadError> {
    let text = &sources.file(file).text;
    if let Some(tree) = parts::parse(text, file) {
        return Ok(tree);
    }
    match toml::de::DeTable::parse(text) {
        Ok(doc) => {
            let overflows = tree::out_of_range_integers(doc.get_ref());
            if overflows.is_empty() {
                Ok(tree::from_document(&doc, file))
            } else {
                Err(LoadError::Stack(
                    overflows
                        .into_iter()
                        .map(|range| {
                            Diagnostic::error("invalid-value", "integer out of range")
                                .at(Some(Span { file, start: range.start, end: range.end }))
                                .label("TOML integers are 64-bit")
                                .help("use a value between -9223372036854775808 and 9223372036854775807")
                        })
                        .collect(),
                ))
            }
        }
        Err(e) => Err(LoadError::Stack(vec![syntax_error(&e, file, text.len())])),
    }
}

fn syntax_error(e: &toml::de::Error, file: FileId, len: usize) -> Diagnostic {
    let range = e.span().unwrap_or(len..len);
    let message = e.message().trim().to_owned();
    Diagnostic::error("toml-syntax", format!("invalid TOML: {message}"))
        .at(Some(Span {
            file,
            start: range.start,
            end: range.end,
        }))
        .label(message)
        .help("fix the TOML syntax (https://toml.io)")
}

/// Directory of the SOPS-encrypted Secret manifests (`secrets/<env>/<name>.sops.yaml`).
pub const SOPS_DIR: &str = "secrets";

fn read_sops_files(
    root: &Source,
    env: &str,
) -> Result<std::collections::BTreeMap<String, (String, String)>, LoadError> {
    let dir = format!("{SOPS_DIR}/{env}");
    let io = |e: std::io::Error| LoadError::Io(format!("cannot read {}: {e}", root.display(&dir)));
    let mut files = std::collections::BTreeMap::new();
    for name in root.list(&dir).map_err(io)? {
        if let Some(secret) = name.strip_suffix(".sops.yaml") {
            let rel = format!("{dir}/{name}");
            let text = read_text(root, &rel)?;
            files.insert(secret.to_owned(), (rel, text));
        }
    }
    Ok(files)
}

/// Names of `environments/*.toml`, sorted.
fn discover_environments(root: &Source) -> Result<Vec<String>, LoadError> {
    // Directories too: `environments/dev.toml/` is then a read error, like a
    // `stack.toml/` directory, rather than an environment without a file.
    let files = root
        .list_all(ENV_DIR)
        .map_err(|e| LoadError::Io(format!("cannot read {}: {e}", root.display(ENV_DIR))))?;
    Ok(files
        .iter()
        .filter_map(|f| f.strip_suffix(".toml"))
        .map(str::to_owned)
        .collect())
}

/// The environments in promotion order: `[stack] environments` when given (each must
/// have a file, and each file must be listed), else the files found, alphabetically.
fn environment_order(base: &Node, found: &[String]) -> Result<Vec<String>, LoadError> {
    let Some(declared) = base.get(&["stack", "environments"]) else {
        if found.is_empty() {
            return Err(LoadError::Stack(vec![
                Diagnostic::error("no-environments", "the stack has no environments")
                    .in_file(ENV_DIR)
                    .help("create environments/<env>.toml (it may be empty), e.g. environments/dev.toml"),
            ]));
        }
        return Ok(found.to_vec());
    };
    let Value::Array(items) = &declared.value else {
        // The typed read reports the wrong type with its span.
        return Ok(found.to_vec());
    };
    let mut diags = Vec::new();
    let mut order = Vec::new();
    for item in items {
        let Value::String(name) = &item.value else {
            continue;
        };
        if order.contains(name) {
            diags.push(
                Diagnostic::error(
                    "duplicate-environment",
                    format!("environment `{name}` is listed twice"),
                )
                .at(Some(item.span))
                .help("list each environment once, in promotion order"),
            );
        } else if !found.contains(name) {
            diags.push(
                Diagnostic::error("missing-environment-file", format!("environment `{name}` has no file {ENV_DIR}/{name}.toml"))
                    .at(Some(item.span))
                    .label("declared here")
                    .help(format!("create {ENV_DIR}/{name}.toml (it may be empty) or remove `{name}` from the list")),
            );
        }
        order.push(name.clone());
    }
    for name in found.iter().filter(|f| !order.contains(f)) {
        let mut diag = Diagnostic::error(
            "undeclared-environment",
            format!("{ENV_DIR}/{name}.toml is not listed in `[stack] environments`"),
        )
        .at(Some(declared.span))
        .label("the environments, in promotion order");
        diag = match closest(name, order.iter().map(String::as_str)) {
            Some(best) => diag.help(format!(
                "did you mean `{best}`? rename the file, or add `{name}` to the list"
            )),
            None => diag.help(format!(
                "add \"{name}\" to `[stack] environments`, or delete the file"
            )),
        };
        diags.push(diag);
    }
    if diags.is_empty() {
        Ok(order)
    } else {
        Err(LoadError::Stack(diags))
    }
}
