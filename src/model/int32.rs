//! Kubernetes int32 fields (replicas, HPA bounds, history limits, ...) and other counts
//! (a backup's `keep`): the model keeps them as `u32`/`i32`, but every value must fit a
//! non-negative int32, or the API server would reject it (and a conversion in `build`
//! would have to clamp it, or arithmetic on it overflow). Used as
//! `#[serde(default, deserialize_with = "int32::option")]`.

use serde::{Deserializer, de};

/// The largest value a Kubernetes int32 field holds.
pub const MAX: i64 = i32::MAX as i64;

/// Why `value` does not fit a non-negative int32 field, or `None` when it does.
pub fn range_error(value: i64) -> Option<String> {
    if value < 0 {
        Some(format!("`{value}` is out of range: must be at least 0"))
    } else if value > MAX {
        Some(format!("`{value}` is out of range: must be at most {MAX}"))
    } else {
        None
    }
}

/// Deserializes an integer from 0 to [`MAX`] into `T`.
pub fn required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let value = deserializer.deserialize_i64(Int32)?;
    T::try_from(value).map_err(|_| de::Error::custom("integer out of range"))
}

/// Accepts integers that fit a non-negative int32; says so in type errors.
struct Int32;

impl de::Visitor<'_> for Int32 {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an integer from 0 to {MAX}")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<i64, E> {
        match range_error(value) {
            None => Ok(value),
            Some(message) => Err(E::custom(message)),
        }
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<i64, E> {
        match i64::try_from(value) {
            Ok(value) => self.visit_i64(value),
            Err(_) => Err(E::custom(format!(
                "`{value}` is out of range: must be at most {MAX}"
            ))),
        }
    }
}

/// [`required`] for an optional key (pair it with `#[serde(default)]`).
pub fn option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    required(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_negative_int32_values_fit() {
        assert_eq!(range_error(0), None);
        assert_eq!(range_error(2147483647), None);
        assert_eq!(
            range_error(2147483648).as_deref(),
            Some("`2147483648` is out of range: must be at most 2147483647")
        );
        assert_eq!(
            range_error(-1).as_deref(),
            Some("`-1` is out of range: must be at least 0")
        );
    }

    #[test]
    fn deserializes_within_range_and_names_the_range_otherwise() {
        use serde::de::IntoDeserializer;
        let de = |v: i64| -> de::value::I64Deserializer<de::value::Error> { v.into_deserializer() };
        assert_eq!(required::<_, u32>(de(7)), Ok(7));
        assert_eq!(option::<_, i32>(de(2147483647)), Ok(Some(i32::MAX)));
        let err = required::<_, u32>(de(3000000000)).unwrap_err();
        assert!(
            err.to_string().contains("must be at most 2147483647"),
            "{err}"
        );
        let text: de::value::StrDeserializer<de::value::Error> = "two".into_deserializer();
        let err = required::<_, u32>(text).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected an integer from 0 to 2147483647"),
            "{err}"
        );
    }
}
