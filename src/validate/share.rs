//! Repeated subschemas, shared. A CRD's schema spells a subschema out wherever it
//! occurs (cert-manager's ClusterIssuer repeats its secret key selectors, pod
//! affinities and tolerations dozens of times), and a validator holds every copy. Each
//! subschema of at least [`MIN_SHARED`] bytes that occurs twice or more is moved to
//! `$defs` once, under a name made from its content, and each place refers to it by
//! `$ref`: the same schema, read once (ClusterIssuer 5.8 → 1.7 ms to compile when
//! jsonschema compiled it). Part of making the committed strict schemas
//! (see [`super::strict`]); nothing here runs when stackc validates.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::keywords::{subschemas, subschemas_mut};

/// Smaller subschemas (`{"type": "string"}`, a short enum) cost less to compile than a
/// `$ref` to them costs to follow.
const MIN_SHARED: usize = 150;

/// Moves every repeated subschema of `schema` into its `$defs`, referred to from each
/// place it was.
pub fn share_repeated(schema: &mut Value) {
    let Value::Object(root) = schema else {
        return;
    };
    let mut defs = match root.remove("$defs") {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    let mut counts = BTreeMap::new();
    for sub in subschemas(root) {
        count(sub, &mut counts);
    }
    for def in defs.values().filter_map(Value::as_object) {
        subschemas(def).for_each(|sub| count(sub, &mut counts));
    }
    let mut sharer = Sharer {
        counts,
        names: BTreeMap::new(),
        shared: Map::new(),
    };
    sharer.share_within(root);
    for def in defs.values_mut() {
        if let Value::Object(def) = def {
            sharer.share_within(def);
        }
    }
    defs.extend(sharer.shared);
    if !defs.is_empty() {
        let rest = std::mem::take(root);
        root.insert("$defs".into(), Value::Object(defs));
        root.extend(rest);
    }
}

/// Counts `schema` and every subschema under it, by their text.
fn count(schema: &Value, counts: &mut BTreeMap<String, usize>) {
    let Value::Object(map) = schema else {
        return;
    };
    subschemas(map).for_each(|sub| count(sub, counts));
    let text = schema.to_string();
    if text.len() >= MIN_SHARED {
        *counts.entry(text).or_default() += 1;
    }
}

struct Sharer {
    /// How often each subschema (by its text) occurs.
    counts: BTreeMap<String, usize>,
    /// The `$defs` name of each subschema shared so far.
    names: BTreeMap<String, String>,
    /// The shared subschemas, by name, in the order they were first met.
    shared: Map<String, Value>,
}

impl Sharer {
    /// Replaces the repeated subschemas under `schema` (not `schema` itself) by `$ref`s.
    fn share_within(&mut self, schema: &mut Map<String, Value>) {
        for sub in subschemas_mut(schema) {
            self.share(sub);
        }
    }

    fn share(&mut self, schema: &mut Value) {
        if !schema.is_object() {
            return;
        }
        let text = schema.to_string();
        let Value::Object(map) = schema else {
            return;
        };
        if self.counts.get(&text).is_some_and(|&n| n >= 2) {
            let name = self.name_of(text, std::mem::take(map));
            *schema = json!({ "$ref": format!("#/$defs/{name}") });
        } else {
            self.share_within(map);
        }
    }

    /// The `$defs` name of the subschema whose text is `text`, shared on first use.
    fn name_of(&mut self, text: String, mut body: Map<String, Value>) -> String {
        if let Some(name) = self.names.get(&text) {
            return name.clone();
        }
        let digest = crate::build::hex(&Sha256::digest(text.as_bytes()));
        let name = format!("shared-{}", &digest[..12]);
        self.names.insert(text, name.clone());
        self.share_within(&mut body);
        self.shared.insert(name.clone(), Value::Object(body));
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A selector subschema big enough to share.
    fn selector() -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["name", "key"],
            "properties": {"name": {"type": "string", "minLength": 1}, "key": {"type": "string", "minLength": 1}, "optional": {"type": "boolean"}}
        })
    }

    #[test]
    fn repeated_subschemas_move_to_defs_once_and_are_referred_to() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "a": selector(),
                "b": {"type": "array", "items": selector()},
                "c": {"anyOf": [selector(), {"type": "null"}]},
                "d": {"type": "string"}
            },
            "$defs": {"Other": {"properties": {"s": selector()}}}
        });
        let before = schema.clone();
        share_repeated(&mut schema);
        let defs = schema["$defs"].as_object().unwrap();
        let shared: Vec<&String> = defs.keys().filter(|k| k.starts_with("shared-")).collect();
        assert_eq!(shared.len(), 1, "{schema:#}");
        let reference = json!({ "$ref": format!("#/$defs/{}", shared[0]) });
        assert_eq!(defs[shared[0]], selector());
        assert_eq!(schema["properties"]["a"], reference);
        assert_eq!(schema["properties"]["b"]["items"], reference);
        assert_eq!(schema["properties"]["c"]["anyOf"][0], reference);
        assert_eq!(defs["Other"]["properties"]["s"], reference);
        assert_eq!(
            schema["properties"]["d"], before["properties"]["d"],
            "small ones stay"
        );
    }

    #[test]
    fn maps_of_names_and_other_keywords_are_not_taken_for_schemas() {
        let props = json!({"name": {"type": "string", "minLength": 1, "maxLength": 253,
            "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
            "examples": ["a-name", "another-name"]}});
        let mut schema = json!({
            "properties": {"x": {"type": "object", "properties": props}, "y": {"properties": props}},
            "enum": [props, props]
        });
        share_repeated(&mut schema);
        let x = &schema["properties"]["x"]["properties"];
        assert!(
            x.get("$ref").is_none(),
            "a properties map is no schema: {schema:#}"
        );
        assert!(
            x["name"].get("$ref").is_some(),
            "its entries are: {schema:#}"
        );
        assert_eq!(
            schema["enum"],
            json!([props, props]),
            "enum values are data"
        );
    }

    #[test]
    fn sharing_keeps_what_a_schema_accepts() {
        let mut schema = json!({
            "type": "object", "additionalProperties": false,
            "properties": {"a": selector(), "b": {"type": "array", "items": selector()}}
        });
        let original = jsonschema::validator_for(&schema).unwrap();
        share_repeated(&mut schema);
        let shared = jsonschema::validator_for(&schema).unwrap();
        for instance in [
            json!({"a": {"name": "n", "key": "k"}, "b": [{"name": "n", "key": "k", "optional": true}]}),
            json!({"a": {"name": "n"}}),
            json!({"b": [{"name": "n", "key": "k", "extra": 1}]}),
            json!({"a": {"name": "", "key": "k"}}),
        ] {
            let errors = |v: &jsonschema::Validator| -> Vec<(String, String)> {
                v.iter_errors(&instance)
                    .map(|e| (e.instance_path().as_str().to_owned(), e.to_string()))
                    .collect()
            };
            assert_eq!(errors(&shared), errors(&original), "{instance}");
        }
    }
}
