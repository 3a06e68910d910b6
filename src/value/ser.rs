//! `to_value`: any `Serialize` as a [`Value`], the way `serde_json::to_value` makes a
//! `serde_json::Value` (same numbers, non-finite floats as null, enums externally
//! tagged, map keys as strings), except that a struct's field names stay the
//! `&'static str`s serde passes and entries are appended without a lookup: the keys of
//! a struct, and of a map being serialized, are distinct by construction.

use serde::ser::{self, Impossible, Serialize};
use serde_json::Error;

use super::{Key, Map, Number, Value};

/// Serializer methods that take one scalar and pass it to a function: `name: type => f`.
macro_rules! scalars {
    ($ok:ty; $($name:ident: $ty:ty => $f:expr),* $(,)?) => {
        $(fn $name(self, v: $ty) -> Result<$ok, Error> {
            $f(v)
        })*
    };
}

/// Serializes `value` into a [`Value`].
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(Serializer)
}

struct Serializer;

fn number(n: impl Into<Number>) -> Result<Value, Error> {
    Ok(Value::Number(n.into()))
}

/// `{variant: value}`, serde's external tagging.
fn tagged(variant: &'static str, value: Value) -> Value {
    let mut map = Map::with_capacity(1);
    map.push_new(Key::Borrowed(variant), value);
    Value::Object(map)
}

impl ser::Serializer for Serializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Object;
    type SerializeStruct = Object;
    type SerializeStructVariant = Object;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    scalars! { Value;
        serialize_i8: i8 => number, serialize_i16: i16 => number, serialize_i32: i32 => number,
        serialize_i64: i64 => number, serialize_u8: u8 => number, serialize_u16: u16 => number,
        serialize_u32: u32 => number, serialize_u64: u64 => number,
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        match i64::try_from(v) {
            Ok(v) => number(v),
            Err(_) => self.serialize_u128(u128::try_from(v).map_err(ser::Error::custom)?),
        }
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        u64::try_from(v)
            .map_err(|_| ser::Error::custom("number out of range"))
            .and_then(number)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        Ok(Value::Array(
            v.iter().map(|b| Value::Number((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        Ok(tagged(variant, to_value(value)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq, Error> {
        Ok(Seq {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Object, Error> {
        Ok(Object {
            map: Map::with_capacity(len.unwrap_or(0)),
            next_key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Object, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object, Error> {
        Ok(Object {
            map: Map::with_capacity(len),
            next_key: None,
            variant: Some(variant),
        })
    }
}

/// An array being serialized (a sequence, tuple, or a tuple variant's fields).
struct Seq {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.items.push(to_value(value)?);
        Ok(())
    }

    fn finish(self) -> Result<Value, Error> {
        let array = Value::Array(self.items);
        Ok(match self.variant {
            Some(variant) => tagged(variant, array),
            None => array,
        })
    }
}

/// The four serde traits of an array being serialized, one method each to add an
/// element (`serialize_element` or `serialize_field`), all pushing onto [`Seq`].
macro_rules! seq_impls {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Seq {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, Error> {
                self.finish()
            }
        })*
    };
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object being serialized (a map, a struct, or a struct variant's fields).
struct Object {
    map: Map,
    next_key: Option<Key>,
    variant: Option<&'static str>,
}

impl Object {
    fn finish(self) -> Result<Value, Error> {
        let object = Value::Object(self.map);
        Ok(match self.variant {
            Some(variant) => tagged(variant, object),
            None => object,
        })
    }
}

impl ser::SerializeMap for Object {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.next_key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("map value without a key"))?;
        self.map.push_new(key, to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        self.finish()
    }
}

/// A struct's and a struct variant's fields: the field name as serde passes it.
macro_rules! struct_impls {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Object {
            type Ok = Value;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.map.push_new(Key::Borrowed(key), to_value(value)?);
                Ok(())
            }
            fn end(self) -> Result<Value, Error> {
                self.finish()
            }
        })*
    };
}

struct_impls!(SerializeStruct, SerializeStructVariant);

/// A map key: strings as they are; numbers, booleans and chars as their text, as
/// serde_json writes them; anything else is an error.
struct KeySerializer;

fn key_error() -> Error {
    ser::Error::custom("a map key must be a string")
}

/// A key written as serde_json writes a number, boolean or char key.
fn text(v: impl ToString) -> Result<Key, Error> {
    Ok(Key::Owned(v.to_string()))
}

impl ser::Serializer for KeySerializer {
    type Ok = Key;
    type Error = Error;
    type SerializeSeq = Impossible<Key, Error>;
    type SerializeTuple = Impossible<Key, Error>;
    type SerializeTupleStruct = Impossible<Key, Error>;
    type SerializeTupleVariant = Impossible<Key, Error>;
    type SerializeMap = Impossible<Key, Error>;
    type SerializeStruct = Impossible<Key, Error>;
    type SerializeStructVariant = Impossible<Key, Error>;

    fn serialize_str(self, v: &str) -> Result<Key, Error> {
        Ok(Key::Owned(v.to_owned()))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Key, Error> {
        Ok(Key::Borrowed(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Key, Error> {
        value.serialize(self)
    }
    scalars! { Key;
        serialize_bool: bool => text, serialize_char: char => text,
        serialize_i8: i8 => text, serialize_i16: i16 => text, serialize_i32: i32 => text,
        serialize_i64: i64 => text, serialize_u8: u8 => text, serialize_u16: u16 => text,
        serialize_u32: u32 => text, serialize_u64: u64 => text,
        serialize_f32: f32 => |_| Err(key_error()), serialize_f64: f64 => |_| Err(key_error()),
        serialize_bytes: &[u8] => |_| Err(key_error()),
    }
    fn serialize_none(self) -> Result<Key, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Key, Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<Key, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Key, Error> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Key, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        api_version: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        absent: Option<u8>,
        labels: BTreeMap<String, String>,
        ports: Vec<(u16, char)>,
        ratio: f64,
        not_a_number: f64,
        modes: Vec<Mode>,
        ints: BTreeMap<i32, bool>,
    }

    #[derive(Serialize)]
    enum Mode {
        Plain,
        Wrapped(i64),
        Pair(u8, u8),
        Named { id: u128 },
    }

    /// The same value serde_json's own `to_value` makes, for every kind of data.
    #[test]
    fn makes_what_serde_json_makes() {
        let sample = Sample {
            api_version: "v1",
            absent: None,
            labels: [
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "1".to_owned()),
            ]
            .into(),
            ports: vec![(80, 'h')],
            ratio: 0.5,
            not_a_number: f64::NAN,
            modes: vec![
                Mode::Plain,
                Mode::Wrapped(-3),
                Mode::Pair(1, 2),
                Mode::Named { id: 7 },
            ],
            ints: [(-1, true), (2, false)].into(),
        };
        let ours = to_value(&sample).unwrap();
        let theirs = serde_json::to_value(&sample).unwrap();
        assert_eq!(ours.to_json(), theirs);
        assert_eq!(ours["notANumber"], Value::Null);
        assert!(ours.get("absent").is_none());
    }

    #[test]
    fn a_serde_json_value_comes_through_whole() {
        let json = json!({"z": [1, {"y": null}], "a": "b"});
        assert_eq!(to_value(&json).unwrap().to_json(), json);
    }

    #[test]
    fn keys_that_are_not_strings_or_scalars_are_errors() {
        let map: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let error = to_value(&map).unwrap_err();
        assert!(
            error.to_string().contains("map key must be a string"),
            "{error}"
        );
    }
}
