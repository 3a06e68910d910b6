//! Where a JSON Schema keeps its subschemas: the keywords whose value maps names to
//! schemas, is a schema (or, for `items`, a list of them), or lists schemas. What
//! walks a schema's tree to change it ([`super::strict`], [`super::share`]) goes
//! through here, so that both see the same places.

use serde_json::{Map, Value};

/// Keywords whose value maps names to subschemas.
const MAPS: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// Keywords whose value is one subschema (or, `items` of old drafts, a list).
const ONE: [&str; 11] = [
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "additionalItems",
    "unevaluatedItems",
];
/// Keywords whose value is a list of subschemas.
const LISTS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];

/// The subschemas directly under a schema.
pub fn subschemas(schema: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    schema.iter().flat_map(|(key, value)| {
        let key = key.as_str();
        let children: Vec<&Value> = match value {
            Value::Object(map) if MAPS.contains(&key) => map.values().collect(),
            Value::Object(_) if ONE.contains(&key) => vec![value],
            Value::Array(items) if ONE.contains(&key) || LISTS.contains(&key) => {
                items.iter().collect()
            }
            _ => Vec::new(),
        };
        children
    })
}

/// [`subschemas`], to change.
pub fn subschemas_mut(schema: &mut Map<String, Value>) -> Vec<&mut Value> {
    let mut out = Vec::new();
    for (key, value) in schema.iter_mut() {
        let key = key.as_str();
        let (map, one, list) = (
            MAPS.contains(&key),
            ONE.contains(&key),
            LISTS.contains(&key),
        );
        if one && value.is_object() {
            out.push(value);
            continue;
        }
        match value {
            Value::Object(children) if map => out.extend(children.values_mut()),
            Value::Array(items) if one || list => out.extend(items.iter_mut()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_each_kind_of_place_and_nothing_else() {
        let schema = json!({
            "properties": {"a": {"type": "string"}},
            "items": [{"type": "integer"}],
            "additionalProperties": {"type": "boolean"},
            "anyOf": [{"type": "null"}],
            "enum": [{"type": "data"}],
            "required": ["a"],
            "default": {"type": "data"}
        });
        let mut schema = schema.as_object().unwrap().clone();
        let types = |subs: Vec<&Value>| -> Vec<String> {
            subs.iter()
                .map(|s| s["type"].as_str().unwrap().to_owned())
                .collect()
        };
        let found = types(subschemas(&schema).collect());
        assert_eq!(found, ["string", "integer", "boolean", "null"]);
        let found_mut = types(
            subschemas_mut(&mut schema)
                .into_iter()
                .map(|v| &*v)
                .collect(),
        );
        assert_eq!(found_mut, found);
    }
}
