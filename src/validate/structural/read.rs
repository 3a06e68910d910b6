//! Reading a strict schema (JSON) into the [`Node`] table in one pass: each schema
//! object becomes a node while serde reads it, with no tree of the schema in between
//! (that tree, and moving it into the table, were three quarters of the reading).
//! Every keyword the table holds is read; annotations are skipped; any other keyword is
//! an error, as is a keyword written twice. `$defs` (at the root only) are read where
//! they stand; a `$ref` to a definition not read yet takes its node ahead, and one to a
//! definition that never comes is an error once the whole schema is read.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ARRAY, BOOLEAN, Extra, INTEGER, NULL, NUMBER, Node, OBJECT, Pattern, STRING, TypeSet};

/// The nodes of `schema`, the root first.
pub(super) fn read(schema: &str) -> Result<Vec<Node>, String> {
    let mut reader = Reader::default();
    let root = reader.reserve();
    let mut json = serde_json::Deserializer::from_str(schema);
    let schema_seed = SchemaSeed {
        reader: &mut reader,
        slot: root,
        root: true,
    };
    schema_seed
        .deserialize(&mut json)
        .and_then(|()| json.end())
        .map_err(|e| e.to_string())?;
    reader.finish()
}

/// The table being filled, and the definitions met so far.
#[derive(Default)]
struct Reader {
    nodes: Vec<Node>,
    defs: HashMap<String, Def>,
}

/// A definition of `$defs`, by the node it is read into.
enum Def {
    Read(usize),
    /// Referred to (by this `$ref`, the first) and not read yet.
    Wanted(usize, String),
}

impl Reader {
    /// A node to read a schema into, filled when the schema has been read.
    fn reserve(&mut self) -> usize {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    /// The node of a `$ref`: `#` (the root) or `#/$defs/<name>`.
    fn reference(&mut self, reference: &str) -> Result<usize, String> {
        if reference == "#" {
            return Ok(0);
        }
        let name = reference
            .strip_prefix("#/$defs/")
            .ok_or_else(|| format!("`$ref` {reference} is not into `#/$defs/`"))?
            .replace("~1", "/")
            .replace("~0", "~");
        if let Some(Def::Read(at) | Def::Wanted(at, _)) = self.defs.get(&name) {
            return Ok(*at);
        }
        let at = self.reserve();
        self.defs
            .insert(name, Def::Wanted(at, reference.to_owned()));
        Ok(at)
    }

    /// The node definition `name` is read into (the one a `$ref` took ahead, if any).
    fn define(&mut self, name: String) -> usize {
        let at = match self.defs.get(&name) {
            Some(Def::Read(at) | Def::Wanted(at, _)) => *at,
            None => self.reserve(),
        };
        self.defs.insert(name, Def::Read(at));
        at
    }

    /// The table, once every definition referred to has been read.
    fn finish(self) -> Result<Vec<Node>, String> {
        let missing = self.defs.values().filter_map(|def| match def {
            Def::Wanted(_, reference) => Some(reference),
            Def::Read(_) => None,
        });
        match missing.min() {
            Some(reference) => Err(format!("`$ref` {reference}: no such definition")),
            None => Ok(self.nodes),
        }
    }
}

/// A schema object, read into the node `slot`.
struct SchemaSeed<'r> {
    reader: &'r mut Reader,
    slot: usize,
    /// Only the root may hold `$defs`.
    root: bool,
}

impl<'de> DeserializeSeed<'de> for SchemaSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SchemaSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a schema (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        read_node(self.reader, self.slot, self.root, map)
    }
}

/// A subschema in a new node; its index.
fn subschema<'de, A: MapAccess<'de>>(reader: &mut Reader, map: &mut A) -> Result<usize, A::Error> {
    let slot = reader.reserve();
    map.next_value_seed(SchemaSeed {
        reader,
        slot,
        root: false,
    })?;
    Ok(slot)
}

/// Reads the keywords of one schema object into node `slot`.
fn read_node<'de, A: MapAccess<'de>>(
    reader: &mut Reader,
    slot: usize,
    root: bool,
    mut map: A,
) -> Result<(), A::Error> {
    let mut node = Node::default();
    let mut seen = 0u32;
    while let Some(keyword) = map.next_key::<Keyword>()? {
        let bit = 1 << keyword as u32;
        if seen & bit != 0 {
            return Err(de::Error::duplicate_field(KEYWORDS[keyword as usize]));
        }
        seen |= bit;
        match keyword {
            Keyword::Ref => {
                let reference: std::borrow::Cow<str> = map.next_value()?;
                node.reference = Some(reader.reference(&reference).map_err(de::Error::custom)?);
            }
            Keyword::Defs if !root => {
                return Err(de::Error::custom("`$defs` is only read at the root"));
            }
            Keyword::Defs => map.next_value_seed(DefsSeed { reader })?,
            Keyword::Type => {
                let types: Types = map.next_value()?;
                node.types = Some(type_set(types).map_err(de::Error::custom)?);
            }
            Keyword::Properties => {
                node.properties = map.next_value_seed(PropertiesSeed { reader })?
            }
            Keyword::AdditionalProperties => {
                node.additional = map.next_value_seed(ExtraSeed { reader })?;
            }
            Keyword::Required => {
                let names: Vec<String> = map.next_value()?;
                node.required = names.into_iter().map(String::into_boxed_str).collect();
            }
            Keyword::Items => node.items = Some(subschema(reader, &mut map)?),
            Keyword::Enum => node.enumeration = Some(map.next_value()?),
            Keyword::Const => node.constant = Some(map.next_value()?),
            Keyword::Pattern => node.pattern = Some(Pattern::new(map.next_value()?)),
            Keyword::MinLength => node.min_length = Some(map.next_value()?),
            Keyword::MaxLength => node.max_length = Some(map.next_value()?),
            Keyword::Minimum => node.minimum = Some(map.next_value()?),
            Keyword::Maximum => node.maximum = Some(map.next_value()?),
            Keyword::MinProperties => node.min_properties = Some(map.next_value()?),
            Keyword::MaxProperties => node.max_properties = Some(map.next_value()?),
            Keyword::AnyOf => node.any_of = map.next_value_seed(ListSeed { reader })?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    reader.nodes[slot] = node;
    Ok(())
}

/// Declares [`Keyword`], [`KEYWORDS`] (the names, in the enum's order) and
/// `Keyword::named` from one list.
macro_rules! keywords {
    ($($keyword:ident = $name:literal,)*) => {
        /// Every keyword a strict schema may use: those the table holds, then those that
        /// only annotate (read and dropped).
        #[derive(Clone, Copy)]
        enum Keyword {
            $($keyword,)*
        }

        /// The keywords' names, in [`Keyword`]'s order.
        const KEYWORDS: &[&str] = &[$($name,)*];

        impl Keyword {
            fn named(name: &str) -> Option<Keyword> {
                Some(match name {
                    $($name => Keyword::$keyword,)*
                    _ => return None,
                })
            }
        }
    };
}

// `read_node` keeps the keywords seen in one schema as bits of a `u32`.
const _: () = assert!(KEYWORDS.len() <= 32);

keywords! {
    Ref = "$ref",
    Defs = "$defs",
    Type = "type",
    Properties = "properties",
    AdditionalProperties = "additionalProperties",
    Required = "required",
    Items = "items",
    Enum = "enum",
    Const = "const",
    Pattern = "pattern",
    MinLength = "minLength",
    MaxLength = "maxLength",
    Minimum = "minimum",
    Maximum = "maximum",
    MinProperties = "minProperties",
    MaxProperties = "maxProperties",
    AnyOf = "anyOf",
    Schema = "$schema",
    Title = "title",
    Description = "description",
    Default = "default",
    Example = "example",
    Format = "format",
    Nullable = "nullable",
    IntOrString = "x-kubernetes-int-or-string",
    ListType = "x-kubernetes-list-type",
    ListMapKeys = "x-kubernetes-list-map-keys",
    MapType = "x-kubernetes-map-type",
    Validations = "x-kubernetes-validations",
    PreserveUnknownFields = "x-kubernetes-preserve-unknown-fields",
}

impl<'de> Deserialize<'de> for Keyword {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Keyword;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON Schema keyword")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Keyword, E> {
                Keyword::named(name).ok_or_else(|| E::unknown_field(name, KEYWORDS))
            }
        }
        d.deserialize_identifier(Name)
    }
}

/// `$defs`: each definition read into its node.
struct DefsSeed<'r> {
    reader: &'r mut Reader,
}

impl<'de> DeserializeSeed<'de> for DefsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DefsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of definitions")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            let slot = self.reader.define(name);
            map.next_value_seed(SchemaSeed {
                reader: self.reader,
                slot,
                root: false,
            })?;
        }
        Ok(())
    }
}

/// `properties`: each subschema in its node; by name, the last of a name written twice
/// (as a map of them would keep).
struct PropertiesSeed<'r> {
    reader: &'r mut Reader,
}

impl<'de> DeserializeSeed<'de> for PropertiesSeed<'_> {
    type Value = Vec<(Box<str>, usize)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PropertiesSeed<'_> {
    type Value = Vec<(Box<str>, usize)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of schemas")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut properties = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(name) = map.next_key::<String>()? {
            properties.push((name.into_boxed_str(), subschema(self.reader, &mut map)?));
        }
        // Stable: of equal names the later stays after; reversed, it is the one kept.
        properties.sort_by(|a, b| super::name_order(&a.0, &b.0));
        properties.reverse();
        properties.dedup_by(|later, kept| later.0 == kept.0);
        properties.reverse();
        Ok(properties)
    }
}

/// `additionalProperties`: allowed or not, or the schema of every other property.
struct ExtraSeed<'r> {
    reader: &'r mut Reader,
}

impl<'de> DeserializeSeed<'de> for ExtraSeed<'_> {
    type Value = Extra;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Extra, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ExtraSeed<'_> {
    type Value = Extra;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean or a schema")
    }

    fn visit_bool<E: de::Error>(self, allowed: bool) -> Result<Extra, E> {
        Ok(if allowed { Extra::Any } else { Extra::Never })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Extra, A::Error> {
        let slot = self.reader.reserve();
        read_node(self.reader, slot, false, map)?;
        Ok(Extra::Schema(slot))
    }
}

/// `anyOf`: each subschema in its node.
struct ListSeed<'r> {
    reader: &'r mut Reader,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<usize>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of schemas")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<usize>, A::Error> {
        let mut slots = Vec::new();
        loop {
            let slot = self.reader.reserve();
            let seed = SchemaSeed {
                reader: self.reader,
                slot,
                root: false,
            };
            if seq.next_element_seed(seed)?.is_none() {
                // The node taken for an element that did not come.
                self.reader.nodes.pop();
                return Ok(slots);
            }
            slots.push(slot);
        }
    }
}

/// `type`: one name or a list of names.
enum Types {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Types {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = Types;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a type name or a list of them")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Types, E> {
                Ok(Types::One(name.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Types, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(Types::Many(names))
            }
        }
        d.deserialize_any(Names)
    }
}

/// The set of a `type` keyword, and its names in jsonschema's order (for messages).
fn type_set(types: Types) -> Result<TypeSet, String> {
    let names = match types {
        Types::One(name) => vec![name],
        Types::Many(names) => names,
    };
    let mut set = TypeSet {
        bits: 0,
        many: names.len() != 1,
    };
    for name in &names {
        set.bits |= match name.as_str() {
            "null" => NULL,
            "boolean" => BOOLEAN,
            "integer" => INTEGER,
            "number" => NUMBER,
            "string" => STRING,
            "array" => ARRAY,
            "object" => OBJECT,
            other => return Err(format!("unknown type `{other}`")),
        };
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::super::Validator;
    use crate::value::json;

    fn messages(schema: &str, value: crate::value::Value) -> Vec<String> {
        let v = Validator::compile(schema).unwrap_or_else(|e| panic!("{e}"));
        v.errors(&value).into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn a_reference_may_come_before_its_definition() {
        let schema = r##"{"type": "object", "properties": {"a": {"$ref": "#/$defs/t"}},
            "$defs": {"t": {"type": "string"}}}"##;
        assert_eq!(
            messages(schema, json!({"a": 1})),
            ["1 is not of type \"string\""]
        );
        assert!(messages(schema, json!({"a": "x"})).is_empty());
    }

    #[test]
    fn a_property_written_twice_is_the_last() {
        let schema = r#"{"properties": {"a": {"type": "string"}, "a": {"type": "integer"}}}"#;
        assert!(messages(schema, json!({"a": 1})).is_empty());
        assert_eq!(
            messages(schema, json!({"a": "x"})),
            ["\"x\" is not of type \"integer\""]
        );
    }

    #[test]
    fn a_keyword_twice_or_defs_below_the_root_is_refused() {
        let twice = Validator::compile(r#"{"type": "string", "type": "integer"}"#);
        assert!(twice.is_err_and(|e| e.contains("duplicate field `type`")));
        let nested = Validator::compile(r#"{"items": {"$defs": {}}}"#);
        assert!(nested.is_err_and(|e| e.contains("only read at the root")));
        let outside = Validator::compile(r##"{"$ref": "#/definitions/t"}"##);
        assert!(outside.is_err_and(|e| e.contains("is not into `#/$defs/`")));
        let trailing = Validator::compile(r#"{"type": "string"} {}"#);
        assert!(trailing.is_err());
    }

    #[test]
    fn every_keyword_is_named_as_listed() {
        for (i, name) in super::KEYWORDS.iter().enumerate() {
            assert_eq!(
                super::Keyword::named(name).map(|k| k as usize),
                Some(i),
                "{name}"
            );
        }
        assert!(super::Keyword::named("uniqueItems").is_none());
    }

    #[test]
    fn any_of_reads_each_subschema() {
        let schema = r#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#;
        assert!(messages(schema, json!(1)).is_empty());
        assert!(messages(schema, json!("x")).is_empty());
        assert_eq!(messages(schema, json!(true)).len(), 1);
        let empty = Validator::compile(r#"{"anyOf": []}"#).unwrap();
        assert_eq!(
            empty.nodes.len(),
            1,
            "no node is left for an element that did not come"
        );
    }
}
