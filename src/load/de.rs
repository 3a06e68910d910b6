//! A serde `Deserializer` over the provenance tree, so that the typed model is read
//! straight from merged values and every error carries the span of the key or value
//! it is about (unknown keys point at the key, wrong types at the value).

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::tree::{Node, Value};
use crate::diag::Span;

/// A deserialization error and the span it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub kind: DeErrorKind,
    pub span: Option<Span>,
    /// Keys (and array indices) from the deserialized node down to where it happened.
    pub path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeErrorKind {
    /// A key the model does not have, with the keys it does have (for did-you-mean).
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    MissingKey(String),
    /// An array of tables (`[[a.b]]`) where a table belongs.
    ArrayOfTables,
    /// Anything else serde reports (wrong type, out-of-range number, ...).
    Message(String),
}

impl DeError {
    fn located(mut self, span: Span) -> Self {
        self.span.get_or_insert(span);
        self
    }

    fn under(mut self, key: &str) -> Self {
        self.path.insert(0, key.to_owned());
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DeErrorKind::UnknownKey { key, .. } => write!(f, "unknown key `{key}`"),
            DeErrorKind::MissingKey(key) => write!(f, "missing required key `{key}`"),
            DeErrorKind::ArrayOfTables => f.write_str("an array of tables where a table belongs"),
            DeErrorKind::Message(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            kind: DeErrorKind::Message(msg.to_string()),
            span: None,
            path: Vec::new(),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            kind: DeErrorKind::UnknownKey {
                key: field.to_owned(),
                expected,
            },
            span: None,
            path: Vec::new(),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            kind: DeErrorKind::MissingKey(field.to_owned()),
            span: None,
            path: Vec::new(),
        }
    }
}

/// Deserializes a `T` from a node; the error points at the innermost offending span.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(node).map_err(|e| e.located(node.span))
}

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.value {
            Value::String(s) | Value::Datetime(s) => visitor.visit_borrowed_str(s),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.iter().enumerate(),
            }),
            Value::Table(table) => visitor.visit_map(Map {
                entries: table.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.located(self.span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.value {
            Value::String(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: DeError| e.located(self.span)),
            other => Err(de::Error::custom(format!(
                "expected a string, found {}",
                other.type_name()
            )))
            .map_err(|e: DeError| e.located(self.span)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.expect_table()?;
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.expect_table()?;
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct identifier
    }
}

impl Node {
    /// Where a table is expected, an array of tables is its own error: serde would read
    /// the first table as the struct's first field ("expected a string").
    fn expect_table(&self) -> Result<(), DeError> {
        if self.is_array_of_tables() {
            Err(DeError {
                kind: DeErrorKind::ArrayOfTables,
                span: Some(self.span),
                path: Vec::new(),
            })
        } else {
            Ok(())
        }
    }
}

struct Seq<'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Node>>,
}

impl<'de> de::SeqAccess<'de> for Seq<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, node)) => seed
                .deserialize(node)
                .map(Some)
                .map_err(|e| e.located(node.span).under(&i.to_string())),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'de> {
    entries: super::tree::TableIter<'de>,
    value: Option<(&'de str, &'de Node)>,
}

impl<'de> de::MapAccess<'de> for Map<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, entry)) => {
                self.value = Some((key.as_str(), &entry.node));
                let key: de::value::BorrowedStrDeserializer<'de, DeError> =
                    de::value::BorrowedStrDeserializer::new(key.as_str());
                seed.deserialize(key)
                    .map(Some)
                    .map_err(|e| e.located(entry.key_span))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, node) = self
            .value
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        seed.deserialize(node)
            .map_err(|e| e.located(node.span).under(key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        replicas: u32,
        name: Option<String>,
    }

    fn node(text: &str) -> Node {
        super::super::tree::from_document(&toml::de::DeTable::parse(text).unwrap(), FileId(0))
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        let text = "replicas = 1\nreplicass = 2\n";
        let err = from_node::<Sample>(&node(text)).unwrap_err();
        let DeErrorKind::UnknownKey { key, expected } = &err.kind else {
            panic!("{err:?}")
        };
        assert_eq!(key, "replicass");
        assert!(expected.contains(&"replicas"));
        let span = err.span.unwrap();
        assert_eq!(&text[span.start..span.end], "replicass");
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let text = "replicas = \"two\"\n";
        let err = from_node::<Sample>(&node(text)).unwrap_err();
        let span = err.span.unwrap();
        assert_eq!(&text[span.start..span.end], "\"two\"");
        assert!(err.to_string().contains("expected u32"), "{err}");
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let err = from_node::<Sample>(&node("replicas = -1\n")).unwrap_err();
        assert!(err.to_string().contains("-1"), "{err}");
    }

    #[test]
    fn array_of_tables_where_a_table_belongs_is_named_so() {
        #[derive(Debug, Deserialize)]
        struct Outer {
            #[allow(dead_code)]
            inner: Sample,
        }
        let text = "[[inner]]\nreplicas = 1\n";
        let err = from_node::<Outer>(&node(text)).unwrap_err();
        assert_eq!(err.kind, DeErrorKind::ArrayOfTables);
        assert_eq!(err.path, ["inner"]);
        assert!(from_node::<Sample>(&node("replicas = 1\n")).is_ok());
    }

    #[test]
    fn missing_key_is_reported_by_name() {
        let ok = from_node::<Sample>(&node("replicas = 2\nname = 'x'\n")).unwrap();
        assert_eq!((ok.replicas, ok.name.as_deref()), (2, Some("x")));
        let err = from_node::<Sample>(&node("name = 'x'\n")).unwrap_err();
        assert_eq!(err.kind, DeErrorKind::MissingKey("replicas".into()));
    }
}
