//! The validator of the strict schemas (`schemas/strict/`): the JSON Schema keywords
//! Kubernetes' structural schemas use (`type`, `properties`, `additionalProperties`,
//! `required`, `items`, `enum`, `const`, `pattern`, length, size and range bounds,
//! `anyOf`, `$ref` into `$defs`), read straight into a flat table of nodes. A schema is
//! read in a few hundred microseconds, where compiling it with a general validator cost
//! milliseconds a kind (the reference stack spent a third of its CPU there); the
//! API server's own validator is a structural one too. A schema with a keyword outside
//! this set is refused when it is read, and a test reads every committed schema, so no
//! keyword is ever skipped silently. What it reports (each error's path and message) is
//! what jsonschema reports for the same schema and object: `tests/schema_differential.rs`
//! compares the two on every committed schema. `format` is an annotation here, as it was
//! (stackc's own checks own formats).

mod read;

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::schema::SchemaError;
use crate::value::{Map, Number, Value};

/// A schema, read: its nodes, the root first.
pub struct Validator {
    nodes: Vec<Node>,
}

impl Validator {
    /// Reads a strict schema (JSON). Fails on a keyword this validator does not know, or
    /// a `$ref` it cannot follow.
    pub fn compile(schema: &str) -> Result<Validator, String> {
        Ok(Validator {
            nodes: read::read(schema)?,
        })
    }

    /// Every error of `value`, in the order the walk meets them (as a set, jsonschema's).
    pub fn errors(&self, value: &Value) -> Vec<SchemaError> {
        Walk::over(&self.nodes, 0, value, true).errors
    }

    /// Whether `value` has no error.
    pub fn is_valid(&self, value: &Value) -> bool {
        !Walk::over(&self.nodes, 0, value, false).failed
    }
}

// ---- the table ------------------------------------------------------------------------

#[derive(Default)]
struct Node {
    types: Option<TypeSet>,
    reference: Option<usize>,
    /// Sorted by [`name_order`] (of a name written twice, the last), found by binary
    /// search.
    properties: Vec<(Box<str>, usize)>,
    additional: Extra,
    required: Vec<Box<str>>,
    items: Option<usize>,
    enumeration: Option<Vec<serde_json::Value>>,
    constant: Option<serde_json::Value>,
    pattern: Option<Pattern>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    any_of: Vec<usize>,
}

/// The order of a node's properties: by length, then by bytes. A lookup then tells most
/// names apart by their lengths alone, where comparing the bytes is a call to `memcmp`
/// per step (a fifth of the structural walk's time at fleet scale).
fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// What `additionalProperties` allows.
#[derive(Default)]
enum Extra {
    #[default]
    Any,
    Never,
    Schema(usize),
}

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;

/// jsonschema names the types of a failed `type` in this order.
const TYPE_NAMES: [(u8, &str); 7] = [
    (ARRAY, "array"),
    (BOOLEAN, "boolean"),
    (INTEGER, "integer"),
    (NULL, "null"),
    (NUMBER, "number"),
    (OBJECT, "object"),
    (STRING, "string"),
];

#[derive(Clone, Copy)]
struct TypeSet {
    bits: u8,
    /// Written as a list (the message says "types").
    many: bool,
}

impl TypeSet {
    fn admits(self, value: &Value) -> bool {
        let bits = match value {
            Value::Null => NULL,
            Value::Bool(_) => BOOLEAN,
            Value::Number(n) if is_integer(n) => INTEGER | NUMBER,
            Value::Number(_) => NUMBER,
            Value::String(_) => STRING,
            Value::Array(_) => ARRAY,
            Value::Object(_) => OBJECT,
        };
        self.bits & bits != 0
    }

    fn message(self, value: &Value) -> String {
        let names: Vec<String> = TYPE_NAMES
            .iter()
            .filter(|(bit, _)| self.bits & bit != 0)
            .map(|(_, name)| format!("\"{name}\""))
            .collect();
        if self.many {
            format!("{} is not of types {}", shown(value), names.join(", "))
        } else {
            format!("{} is not of type {}", shown(value), names.join(", "))
        }
    }
}

/// Integers, and floats with no fractional part (drafts 6 and later).
fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// A `pattern`: compiled the first time a string is checked against it.
struct Pattern {
    source: String,
    regex: OnceLock<Result<regex::Regex, regex::Error>>,
}

impl Pattern {
    fn new(source: String) -> Pattern {
        Pattern {
            source,
            regex: OnceLock::new(),
        }
    }

    /// Whether `text` matches. Compiling a pattern costs more than reading a whole
    /// schema, and most are never needed, so each is compiled on first use; that every
    /// committed pattern compiles is a test.
    fn matches(&self, text: &str) -> bool {
        self.regex().is_ok_and(|regex| regex.is_match(text))
    }

    fn regex(&self) -> Result<&regex::Regex, &regex::Error> {
        self.regex
            .get_or_init(|| regex::Regex::new(&self.source))
            .as_ref()
    }
}

// ---- validating -----------------------------------------------------------------------

/// One step of the path to the value being checked.
#[derive(Clone, Copy)]
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

struct Walk<'s, 'v> {
    nodes: &'s [Node],
    path: Vec<Step<'v>>,
    errors: Vec<SchemaError>,
    /// False when only validity is asked: the first error ends the walk.
    collect: bool,
    failed: bool,
}

impl<'s, 'v> Walk<'s, 'v> {
    /// Node `at` checked against `value`; with `collect` false, only until an error.
    fn over(nodes: &'s [Node], at: usize, value: &'v Value, collect: bool) -> Self {
        let mut walk = Walk {
            nodes,
            path: Vec::new(),
            errors: Vec::new(),
            collect,
            failed: false,
        };
        walk.node(at, value);
        walk
    }

    fn done(&self) -> bool {
        self.failed && !self.collect
    }

    fn error(&mut self, message: String) {
        self.failed = true;
        if self.collect {
            self.errors.push(SchemaError {
                path: pointer(&self.path),
                message,
            });
        }
    }

    fn node(&mut self, at: usize, value: &'v Value) {
        let node = &self.nodes[at];
        if let Some(types) = node.types
            && !types.admits(value)
        {
            self.error(types.message(value));
        }
        if let Some(reference) = node.reference {
            self.node(reference, value);
        }
        if self.done() {
            return;
        }
        match value {
            Value::Object(map) => self.object(node, map),
            Value::Array(items) => {
                if let Some(item) = node.items {
                    for (i, v) in items.iter().enumerate() {
                        self.path.push(Step::Index(i));
                        self.node(item, v);
                        self.path.pop();
                        if self.done() {
                            return;
                        }
                    }
                }
            }
            Value::String(text) => self.string(node, text),
            Value::Number(n) => self.number(node, n, value),
            Value::Null | Value::Bool(_) => {}
        }
        if let Some(options) = &node.enumeration
            && !options.iter().any(|o| equal(value, o))
        {
            self.error(enum_message(value, options));
        }
        if let Some(constant) = &node.constant
            && !equal(value, constant)
        {
            self.error(format!("{constant} was expected"));
        }
        if !node.any_of.is_empty() && !self.any_of(&node.any_of, value) {
            self.error(format!(
                "{} is not valid under any of the schemas listed in the 'anyOf' keyword",
                shown(value)
            ));
        }
    }

    fn object(&mut self, node: &Node, map: &'v Map) {
        for name in &node.required {
            if map.get(name).is_none() {
                self.error(format!("{} is a required property", quoted(name)));
            }
        }
        let mut unexpected = Vec::new();
        for (key, v) in map {
            let known = node
                .properties
                .binary_search_by(|(name, _)| name_order(name, key))
                .ok()
                .map(|i| node.properties[i].1);
            let schema = match (known, &node.additional) {
                (Some(at), _) | (None, &Extra::Schema(at)) => at,
                (None, Extra::Never) => {
                    unexpected.push(key);
                    continue;
                }
                (None, Extra::Any) => continue,
            };
            self.path.push(Step::Key(key));
            self.node(schema, v);
            self.path.pop();
            if self.done() {
                return;
            }
        }
        if !unexpected.is_empty() {
            let listed: Vec<String> = unexpected.iter().map(|k| format!("'{k}'")).collect();
            let verb = if unexpected.len() == 1 { "was" } else { "were" };
            self.error(format!(
                "Additional properties are not allowed ({} {verb} unexpected)",
                listed.join(", ")
            ));
        }
        let count = map.len() as u64;
        if let Some(min) = node.min_properties
            && count < min
        {
            let s = if min == 1 { "y" } else { "ies" };
            self.error(format!("{} has less than {min} propert{s}", shown_map(map)));
        }
        if let Some(max) = node.max_properties
            && count > max
        {
            let s = if max == 1 { "y" } else { "ies" };
            self.error(format!("{} has more than {max} propert{s}", shown_map(map)));
        }
    }

    fn string(&mut self, node: &Node, text: &str) {
        let chars = || text.chars().count() as u64;
        if let Some(min) = node.min_length
            && chars() < min
        {
            let s = if min == 1 { "" } else { "s" };
            self.error(format!(
                "{} is shorter than {min} character{s}",
                quoted(text)
            ));
        }
        if let Some(max) = node.max_length
            && chars() > max
        {
            let s = if max == 1 { "" } else { "s" };
            self.error(format!(
                "{} is longer than {max} character{s}",
                quoted(text)
            ));
        }
        if let Some(pattern) = &node.pattern
            && !pattern.matches(text)
        {
            self.error(format!(
                "{} does not match \"{}\"",
                quoted(text),
                pattern.source
            ));
        }
    }

    fn number(&mut self, node: &Node, n: &Number, value: &Value) {
        if let Some(min) = &node.minimum
            && compare(n, min).is_lt()
        {
            self.error(format!(
                "{} is less than the minimum of {min}",
                shown(value)
            ));
        }
        if let Some(max) = &node.maximum
            && compare(n, max).is_gt()
        {
            self.error(format!(
                "{} is greater than the maximum of {max}",
                shown(value)
            ));
        }
    }

    /// Whether some schema of `options` admits `value`.
    fn any_of(&self, options: &[usize], value: &'v Value) -> bool {
        options
            .iter()
            .any(|&at| !Walk::over(self.nodes, at, value, false).failed)
    }
}

/// The JSON pointer of a path, `~` and `/` escaped.
fn pointer(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        out.push('/');
        match step {
            Step::Key(key) => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => {
                let _ = write!(out, "{i}");
            }
        }
    }
    out
}

/// A value as messages show it: compact JSON.
fn shown(value: &Value) -> String {
    value.to_json().to_string()
}

fn shown_map(map: &Map) -> String {
    shown(&Value::Object(map.clone()))
}

fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// jsonschema's `enum` message: all options up to three, else the first two and a count.
fn enum_message(value: &Value, options: &[serde_json::Value]) -> String {
    const SHOWN: usize = 3;
    let mut out = format!("{} is not one of ", shown(value));
    if options.len() <= SHOWN {
        for (i, option) in options.iter().enumerate() {
            let sep = match i {
                0 => "",
                _ if i == options.len() - 1 => " or ",
                _ => ", ",
            };
            let _ = write!(out, "{sep}{option}");
        }
    } else {
        let first: Vec<String> = options[..SHOWN - 1]
            .iter()
            .map(ToString::to_string)
            .collect();
        let rest = options.len() - (SHOWN - 1);
        let _ = write!(out, "{} or {rest} other candidates", first.join(", "));
    }
    out
}

/// JSON equality, numbers by value (`1` equals `1.0`).
fn equal(ours: &Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (ours, theirs) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Number(a), J::Number(b)) => compare(a, b).is_eq(),
        (Value::String(a), J::String(b)) => a == b,
        (Value::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y))
        }
        (Value::Object(a), J::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| equal(x, y)))
        }
        _ => false,
    }
}

/// Two numbers by value: exactly when both are integers, else as floats.
fn compare(a: &Number, b: &Number) -> std::cmp::Ordering {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json;

    fn errors(schema: &str, value: Value) -> Vec<(String, String)> {
        Validator::compile(schema)
            .unwrap()
            .errors(&value)
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect()
    }

    #[test]
    fn every_committed_schema_is_read_and_every_pattern_compiles() {
        let mut all: Vec<(&str, &str)> = super::super::strict::kinds()
            .iter()
            .map(|k| (k.file, k.strict))
            .collect();
        all.push((
            super::super::strict::POD_SPEC_FILE,
            super::super::strict::POD_SPEC,
        ));
        let mut patterns = 0;
        for (file, text) in all {
            let v = Validator::compile(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            for pattern in v.nodes.iter().filter_map(|n| n.pattern.as_ref()) {
                if let Err(e) = pattern.regex() {
                    panic!("{file}: pattern {}: {e}", pattern.source);
                }
                patterns += 1;
            }
        }
        assert!(patterns > 50, "{patterns} patterns");
    }

    #[test]
    fn an_unknown_keyword_is_refused_not_skipped() {
        let e = Validator::compile(r#"{"type": "array", "uniqueItems": true}"#)
            .err()
            .unwrap();
        assert!(e.contains("uniqueItems"), "{e}");
        let e = Validator::compile(r##"{"$ref": "#/$defs/missing"}"##)
            .err()
            .unwrap();
        assert!(e.contains("no such definition"), "{e}");
    }

    #[test]
    fn paths_escape_slash_and_tilde() {
        let schema = r#"{"type": "object", "additionalProperties": {"type": "string"}}"#;
        let found = errors(schema, json!({"app.kubernetes.io/name": 1, "a~b": "ok"}));
        assert_eq!(
            found,
            [(
                "/app.kubernetes.io~1name".into(),
                "1 is not of type \"string\"".into()
            )]
        );
    }

    #[test]
    fn a_self_referring_definition_ends() {
        let schema = r##"{"$ref": "#/$defs/t", "$defs": {"t": {"type": "object",
            "properties": {"child": {"$ref": "#/$defs/t"}}, "additionalProperties": false}}}"##;
        let found = errors(schema, json!({"child": {"child": {"x": 1}}}));
        assert_eq!(
            found,
            [(
                "/child/child".into(),
                "Additional properties are not allowed ('x' was unexpected)".into()
            )]
        );
    }

    #[test]
    fn validity_stops_at_the_first_error_and_agrees_with_errors() {
        let v = Validator::compile(r#"{"type": "array", "items": {"type": "integer"}}"#).unwrap();
        assert!(v.is_valid(&json!([1, 2.0, 3])));
        assert!(!v.is_valid(&json!([1, "2", "3"])));
        assert_eq!(v.errors(&json!([1, "2", "3"])).len(), 2);
    }
}
