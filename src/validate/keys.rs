//! The keys of ConfigMap and Secret data, which no schema constrains but the API server
//! does (`IsConfigMapKey`): each is a file name when the object is mounted.

use crate::object::Object;

/// The maximum length of a key (a DNS-1123 subdomain's).
const MAX: usize = 253;

/// Why `key` is not a valid ConfigMap or Secret data key, if it is not: 1 to 253
/// characters of `[-._a-zA-Z0-9]`, neither `.` nor starting with `..`.
pub fn data_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX {
        return Err(format!("must be 1 to {MAX} characters long"));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "contains {bad:?}: only letters, digits, `-`, `_` and `.` are allowed"
        ));
    }
    if key == "." {
        return Err("must not be `.`".into());
    }
    if key.starts_with("..") {
        return Err("must not start with `..`".into());
    }
    Ok(())
}

/// (field, key, why) of every invalid data key of a ConfigMap or Secret.
pub fn invalid(object: &Object) -> Vec<(&'static str, &str, String)> {
    if !matches!(object.kind.as_str(), "ConfigMap" | "Secret") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for field in ["data", "binaryData", "stringData"] {
        let Some(map) = object.body.get(field).and_then(|d| d.as_object()) else {
            continue;
        };
        for (key, _) in map.iter() {
            if let Err(why) = data_key(key) {
                out.push((field, key, why));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_api_server() {
        for good in [
            "pods.json",
            "a",
            "prometheus.yml",
            "x_y-z.1",
            ".hidden",
            "a..b",
        ] {
            assert_eq!(data_key(good), Ok(()), "{good}");
        }
        for bad in ["", "My Pods.json", "a/b", ".", "..", "..x", "é.json"] {
            assert!(data_key(bad).is_err(), "{bad}");
        }
        assert!(data_key(&"a".repeat(253)).is_ok());
        assert!(data_key(&"a".repeat(254)).is_err());
    }

    #[test]
    fn configmaps_and_secrets_are_checked() {
        let object = |kind: &str| {
            Object::new(
                crate::object::Layer::Apps,
                None,
                &serde_json::json!({
                    "apiVersion": "v1", "kind": kind, "metadata": { "name": "x" },
                    "data": { "ok.json": "", "My Pods.json": "" },
                }),
            )
        };
        let config_map = object("ConfigMap");
        let found = invalid(&config_map);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1), ("data", "My Pods.json"));
        assert_eq!(invalid(&object("Secret")).len(), 1);
        assert!(invalid(&object("Service")).is_empty());
    }
}
