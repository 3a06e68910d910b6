//! The value built objects are made of: JSON's six kinds, kept small. A built object is
//! walked by validation, policy and the YAML writer, and is otherwise only read, so its
//! maps are vectors of entries in insertion order, read by a scan (Kubernetes maps are
//! small), and a struct's field names are the `&'static str`s serde hands over, never
//! copied. Against `serde_json::Value` with `preserve_order` that is 32 bytes a node
//! instead of 80, no hash table per map, no SipHash per key, and no allocation per
//! field name (see README "Performance").
//!
//! [`ser`] turns any `Serialize` (k8s-openapi's types, stackc's CRD structs, a
//! `serde_json::Value`) into one; [`Value::to_json`] goes the other way where a
//! `serde_json::Value` is needed (error reports, JSON output).

mod ser;

use std::borrow::Cow;

pub use ser::to_value;
pub use serde_json::Number;

/// `json!` for stackc's [`Value`]: serde_json's macro, converted.
macro_rules! json {
    ($($json:tt)+) => {
        $crate::value::Value::from(::serde_json::json!($($json)+))
    };
}
pub(crate) use json;

/// A map key: a struct's field name as serde gives it, or an owned string.
pub type Key = Cow<'static, str>;

/// One JSON value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON object: its entries in insertion order, keys unique.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<(Key, Value)>,
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    pub fn with_capacity(capacity: usize) -> Map {
        Map {
            entries: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`, by a scan.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find_map(|(k, v)| (k.as_ref() == key).then_some(v))
    }

    /// Sets `key` to `value`, in place when the key is there, else at the end.
    pub fn insert(&mut self, key: impl Into<Key>, value: Value) {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Appends an entry whose key the caller knows is not there yet (a struct's field, a
    /// key of a map being copied).
    fn push_new(&mut self, key: Key, value: Value) {
        self.entries.push((key, value));
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + Clone {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Key, Value)>,
        fn(&'a (Key, Value)) -> (&'a str, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<K: Into<Key>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Map {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// The value of `key` when this is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => items.iter().map(Value::to_json).collect(),
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    out.push_new(Key::Owned(k), Value::from(v));
                }
                Value::Object(out)
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<serde_json::Value> for Value {
    fn eq(&self, other: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (self, other) {
            (Value::Null, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Number(a), J::Number(b)) => a == b,
            (Value::String(a), J::String(b)) => a == b,
            (Value::Array(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Value::Object(a), J::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

/// `value["key"]`: the value of `key`, or null when absent or not an object (as
/// serde_json's `Index`).
impl std::ops::Index<&str> for Value {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => serializer.collect_seq(items),
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in map.iter() {
                    out.serialize_entry(k, v)?;
                }
                out.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_and_from_serde_json_unchanged() {
        let json = serde_json::json!({"b": [1, -2, 1.5, null, true], "a": {"x": "y"}, "c": {}});
        let value = Value::from(json.clone());
        assert_eq!(value.to_json(), json);
        assert!(value == json);
        let keys: Vec<&str> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a", "c"], "insertion order is kept");
    }

    #[test]
    fn insert_replaces_in_place_and_appends_new_keys() {
        let mut map = Map::new();
        map.insert("a", Value::from("1"));
        map.insert("b", Value::from("2"));
        map.insert("a", Value::from("3"));
        let entries: Vec<(&str, &Value)> = map.iter().collect();
        assert_eq!(
            entries,
            [("a", &Value::from("3")), ("b", &Value::from("2"))]
        );
    }

    #[test]
    fn index_and_get_read_objects_and_give_null_or_none_elsewhere() {
        let value = json!({"kind": "Service", "spec": {"ports": []}});
        assert_eq!(value["kind"], "Service");
        assert!(value["missing"].is_null());
        assert!(value["kind"]["deeper"].is_null());
        assert_eq!(
            value.get("spec").and_then(|s| s.get("ports")),
            Some(&Value::Array(vec![]))
        );
        assert_eq!(Value::from("x").get("kind"), None);
    }

    #[test]
    fn a_node_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }
}
