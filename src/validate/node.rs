//! stackc's [`Value`] as a JSON representation jsonschema validates directly
//! (`jsonschema::json::Json`), so that built objects are checked where they are, without
//! a copy into `serde_json::Value`. Only error reports (and `uniqueItems`) convert.

use std::borrow::Cow;

use jsonschema::json::{Array, Json, Node, NodeIdentity, Object, cmp};
use jsonschema::types::JsonType;

use crate::value::{Map, Number, Value};

/// The representation: nodes are `&Value`.
pub struct Built;

impl Json for Built {
    type Node<'a> = &'a Value;
    type PreparedKey = String;
    type StringBuffer = Value;

    // A lookup is a scan of the entries, as a pass over them is: a pass that replaces a
    // few lookups is worth it on small objects.
    const KEYS_PER_LOOKUP: usize = 4;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(buffer: &mut Value, string: &str, f: impl FnOnce(&Value) -> T) -> T {
        match buffer {
            Value::String(existing) => {
                existing.clear();
                existing.push_str(string);
            }
            _ => *buffer = Value::String(string.to_owned()),
        }
        f(buffer)
    }
}

impl<'a> Node<'a, Built> for &'a Value {
    type Object = &'a Map;
    type Array = &'a [Value];
    type Number = &'a Number;

    fn as_object(&self) -> Option<&'a Map> {
        Value::as_object(self)
    }

    fn as_array(&self) -> Option<&'a [Value]> {
        Value::as_array(self).map(Vec::as_slice)
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        Value::as_str(self).map(Cow::Borrowed)
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        Value::as_bool(self)
    }

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }

    fn json_type(&self) -> JsonType {
        match self {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// `const` and `enum` (apiVersion, kind, and every enum field of every object):
    /// scalars compare in place, containers through serde_json.
    fn equals_value(&self, expected: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (self, expected) {
            (Value::String(a), J::String(b)) => a == b,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Null, J::Null) => true,
            (Value::Number(a), J::Number(b)) => cmp::equal_numbers(a, b),
            (Value::Array(_), J::Array(_)) | (Value::Object(_), J::Object(_)) => {
                cmp::equal(&self.to_json(), expected)
            }
            _ => false,
        }
    }

    fn to_value(&self) -> Cow<'a, serde_json::Value> {
        Cow::Owned(self.to_json())
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(std::ptr::from_ref::<Value>(self) as usize))
    }
}

impl<'a> Object<'a, Built> for &'a Map {
    type Node = &'a Value;
    type MemberName = &'a str;
    type MembersIter = Box<dyn Iterator<Item = (&'a str, &'a Value)> + 'a>;

    fn len(&self) -> usize {
        Map::len(self)
    }

    fn get(&self, key: &String) -> Option<&'a Value> {
        Map::get(self, key)
    }

    fn members(&self) -> Self::MembersIter {
        Box::new(Map::iter(self))
    }
}

impl<'a> Array<'a, Built> for &'a [Value] {
    type Node = &'a Value;
    type ElementsIter = std::slice::Iter<'a, Value>;

    fn len(&self) -> usize {
        <[Value]>::len(self)
    }

    fn elements(&self) -> std::slice::Iter<'a, Value> {
        (*self).iter()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A schema with the keywords stackc's strict schemas use decides the same for a
    /// value in this representation as for the same value in serde_json's.
    #[test]
    fn validates_as_serde_json_does() {
        let schema = json!({
            "type": "object",
            "required": ["kind", "spec"],
            "additionalProperties": false,
            "properties": {
                "kind": {"const": "Thing"},
                "spec": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "replicas": {"type": "integer", "minimum": 1},
                        "policy": {"enum": ["Always", "Never"]},
                        "ports": {"type": "array", "uniqueItems": true, "items": {"type": "integer"}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                    }
                }
            }
        });
        let ours = jsonschema::options_for::<Built>().build(&schema).unwrap();
        let theirs = jsonschema::validator_for(&schema).unwrap();
        for instance in [
            json!({"kind": "Thing", "spec": {"replicas": 2, "policy": "Never", "ports": [1, 2], "labels": {"a": "b"}}}),
            json!({"kind": "Thing", "spec": {"replicas": 0}}),
            json!({"kind": "Other", "spec": {}}),
            json!({"kind": "Thing", "spec": {"policy": "Sometimes"}}),
            json!({"kind": "Thing", "spec": {"ports": [1, 1]}}),
            json!({"kind": "Thing", "spec": {"replicas": 1.5}}),
            json!({"kind": "Thing", "spec": {"labels": {"a": 1}}}),
            json!({"kind": "Thing", "spec": {}, "extra": true}),
            json!({"kind": "Thing"}),
        ] {
            let value = Value::from(instance.clone());
            assert_eq!(
                ours.is_valid(&value),
                theirs.is_valid(&instance),
                "{instance}"
            );
            let errors = |e: &jsonschema::ValidationError| {
                (e.instance_path().as_str().to_owned(), e.to_string())
            };
            let found: Vec<_> = ours.iter_errors(&value).map(|e| errors(&e)).collect();
            let expected: Vec<_> = theirs.iter_errors(&instance).map(|e| errors(&e)).collect();
            assert_eq!(found, expected, "{instance}");
        }
    }
}
