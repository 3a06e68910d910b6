//! Reads the merged provenance tree section by section into the typed [`Stack`], so that
//! one bad component does not hide the errors of the next: every section and every
//! component is deserialized on its own and all their errors are collected.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::de::{DeError, DeErrorKind, from_node};
use super::suggest::closest;
use super::tree::{Node, Value};
use crate::diag::{Diagnostic, FileId};
use crate::model::{COMPONENT_KINDS, SECTIONS, Stack};

/// The tables stack.toml must declare itself.
const REQUIRED_TABLES: &[&str] = &["stack", "flux"];

/// Keys only stack.toml may set, as `(table, key)`: load reads them from stack.toml
/// alone, so an environment file's value would be silently ignored.
const STACK_ONLY_KEYS: &[(&str, &str)] = &[("stack", "environments")];

/// Takes the keys only stack.toml may set out of an environment file's tree, with an
/// error for each.
pub fn take_stack_only_keys(overlay: &mut Node) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (table, key) in STACK_ONLY_KEYS {
        let Some(Value::Table(entries)) = overlay
            .as_table_mut()
            .and_then(|t| t.get_mut(table))
            .map(|e| &mut e.node.value)
        else {
            continue;
        };
        if let Some(entry) = entries.remove(key) {
            diags.push(
                Diagnostic::error(
                    "stack-only-key",
                    format!("`[{table}] {key}` can only be set in stack.toml"),
                )
                .at(Some(entry.key_span))
                .label("ignored in an environment file")
                .help(format!(
                    "set `{key}` in the `[{table}]` table of stack.toml, and remove it here"
                )),
            );
        }
    }
    diags
}

/// The required tables stack.toml (`base`, before any environment file is merged in)
/// lacks: without them the environment files cannot be read against it, so load reports
/// these alone, once, instead of each environment's consequences of them.
pub fn missing_tables(base: &Node) -> Vec<Diagnostic> {
    REQUIRED_TABLES
        .iter()
        .filter(|key| base.get(&[key]).is_none())
        .map(|key| missing_table(base, key))
        .collect()
}

/// Deserializes a whole stack (stack.toml is file `base`, with an environment file merged
/// in); `None` when any diagnostic was an error.
pub fn read_stack(root: &Node, base: FileId, diags: &mut Vec<Diagnostic>) -> Option<Stack> {
    let before = diags.len();
    let table = root.as_table()?;
    for (key, entry) in table {
        if !SECTIONS.contains(&key.as_str()) {
            diags.push(unknown_key(key, SECTIONS).at(Some(entry.key_span)));
        }
    }
    let stack = Stack {
        stack: required(root, "stack", diags).unwrap_or_default(),
        flux: required(root, "flux", diags).unwrap_or_default(),
        defaults: optional(root, "defaults", diags).unwrap_or_default(),
        policy: optional(root, "policy", diags).unwrap_or_default(),
        secrets: optional(root, "secrets", diags),
        tls: optional(root, "tls", diags),
        controllers: optional(root, "controllers", diags).unwrap_or_default(),
        monitoring: optional(root, "monitoring", diags),
        images: optional(root, "images", diags).unwrap_or_default(),
        network: optional(root, "network", diags).unwrap_or_default(),
        app: components(root, "app", base, diags),
        postgres: components(root, "postgres", base, diags),
        coder: components(root, "coder", base, diags),
        redis: components(root, "redis", base, diags),
        cronjob: components(root, "cronjob", base, diags),
        kafka: components(root, "kafka", base, diags),
        influxdb: components(root, "influxdb", base, diags),
    };
    debug_assert!(COMPONENT_KINDS.iter().all(|k| SECTIONS.contains(k)));
    (diags.len() == before).then_some(stack)
}

fn required<T: DeserializeOwned>(root: &Node, key: &str, diags: &mut Vec<Diagnostic>) -> Option<T> {
    if root.get(&[key]).is_none() {
        diags.push(missing_table(root, key));
        return None;
    }
    optional(root, key, diags)
}

/// "missing required table `[key]`", at the start of the document.
fn missing_table(root: &Node, key: &str) -> Diagnostic {
    Diagnostic::error("missing-key", format!("missing required table `[{key}]`"))
        .at(Some(first_char(root)))
        .help(format!("add a `[{key}]` table to stack.toml"))
}

fn optional<T: DeserializeOwned>(root: &Node, key: &str, diags: &mut Vec<Diagnostic>) -> Option<T> {
    let node = root.get(&[key])?;
    from_node(node)
        .map_err(|e| diags.push(to_diagnostic(e, key)))
        .ok()
}

fn components<T: DeserializeOwned>(
    root: &Node,
    kind: &str,
    base: FileId,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, T> {
    let Some(node) = root.get(&[kind]) else {
        return BTreeMap::new();
    };
    let Value::Table(table) = &node.value else {
        diags.push(
            Diagnostic::error(
                "invalid-type",
                format!(
                    "`{kind}` must be a table of components, found {}",
                    node.value.type_name()
                ),
            )
            .at(Some(node.span))
            .help(format!("declare components as `[{kind}.<name>]` tables")),
        );
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (name, entry) in table {
        match from_node(&entry.node) {
            Ok(component) => {
                out.insert(name.clone(), component);
            }
            Err(DeError {
                kind: DeErrorKind::MissingKey(key),
                path,
                ..
            }) if path.is_empty() && entry.node.span.file != base => {
                let declared = table
                    .iter()
                    .filter(|(_, e)| e.node.span.file == base)
                    .map(|(n, _)| n.as_str());
                diags.push(unknown_component(kind, name, &key, declared).at(Some(entry.key_span)));
            }
            Err(e) => diags.push(to_diagnostic(e, &format!("{kind}.{name}"))),
        }
    }
    out
}

/// An environment file's `[kind.name]` that names no component of stack.toml and lacks
/// `missing` (a required key): most likely a misspelt name, since following "add
/// `missing = ...`" would silently add a component to this environment only.
fn unknown_component<'a>(
    kind: &str,
    name: &str,
    missing: &str,
    declared: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let diag = Diagnostic::error(
        "unknown-component",
        format!("`[{kind}.{name}]` names no component of stack.toml"),
    )
    .label(format!("no `[{kind}.{name}]` in stack.toml"));
    match closest(name, declared) {
        Some(best) => diag.help(format!(
            "did you mean `{best}`? (an environment file changes the components of stack.toml; \
             a component of its own must be complete, and this one lacks `{missing}`)"
        )),
        None => diag.help(format!(
            "declare `[{kind}.{name}]` in stack.toml, or give it `{missing} = ...` here to \
             run it in this environment only"
        )),
    }
}

fn first_char(root: &Node) -> crate::diag::Span {
    crate::diag::Span {
        end: root.span.start,
        ..root.span
    }
}

fn unknown_key(key: &str, expected: &[&str]) -> Diagnostic {
    let diag = Diagnostic::error("unknown-key", format!("unknown key `{key}`"))
        .label("not a key stackc knows here");
    match closest(key, expected.iter().copied()) {
        Some(best) => diag.help(format!("did you mean `{best}`?")),
        None => diag.help(format!("expected one of: {}", expected.join(", "))),
    }
}

/// Turns a deserialization error in table `[table]` into a diagnostic.
fn to_diagnostic(err: DeError, table: &str) -> Diagnostic {
    let mut full = vec![table.to_owned()];
    full.extend(err.path.iter().cloned());
    let table = full.join(".");
    let table = table.as_str();
    let diag = match &err.kind {
        DeErrorKind::UnknownKey { key, expected } => unknown_key(key, expected),
        DeErrorKind::MissingKey(key) => Diagnostic::error(
            "missing-key",
            format!("`[{table}]` is missing required key `{key}`"),
        )
        .label(format!("`{key}` is required here"))
        .help(format!("add `{key} = ...` to `[{table}]`")),
        DeErrorKind::ArrayOfTables => Diagnostic::error(
            "invalid-type",
            format!("`{table}` is an array of tables (`[[...]]`), but must be a table"),
        )
        .label("an array of tables")
        .help(format!(
            "write `[{table}]`, with single brackets (inline: `{{ ... }}`, not `[{{ ... }}]`)"
        )),
        DeErrorKind::Message(msg) => Diagnostic::error("invalid-value", humanize(msg))
            .label("this value")
            .help(value_help(msg)),
    };
    diag.at(err.span)
}

/// How to fix a wrong value: bring a number into its range, or write the right type.
fn value_help(msg: &str) -> &'static str {
    if msg.starts_with("invalid value: integer") || msg.contains("is out of range") {
        "use a whole number within the range the message gives"
    } else {
        "see `stackc schema` or the README for the expected type"
    }
}

/// serde speaks of Rust types; users wrote TOML. Integer types become their ranges.
fn humanize(msg: &str) -> String {
    msg.replace("expected u32", "expected an integer from 0 to 4294967295")
        .replace(
            "expected u64",
            "expected an integer from 0 to 18446744073709551615",
        )
        .replace(
            "expected i32",
            "expected an integer from -2147483648 to 2147483647",
        )
        .replace("expected i64", "expected an integer")
        .replace("invalid type: map", "invalid type: table")
        .replace("invalid type: sequence", "invalid type: array")
        .replace("expected a map", "expected a table")
        .replace("expected a sequence", "expected an array")
        .split(", expected struct ")
        .next()
        .map(|head| {
            if msg.contains(", expected struct ") {
                format!("{head}, expected a table")
            } else {
                head.to_owned()
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_component_suggests_the_closest_declared_one() {
        let diag = unknown_component("app", "procesor", "image", ["processor", "producer"]);
        assert_eq!(diag.code, "unknown-component");
        assert!(diag.help.unwrap().starts_with("did you mean `processor`?"));
        let diag = unknown_component("app", "billing", "image", ["processor"]);
        assert!(diag.help.unwrap().contains("`image = ...`"));
    }
}
