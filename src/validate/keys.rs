//! The keys of ConfigMap and Secret data, which no schema constrains but the API server
//! does (`IsConfigMapKey`): each is a file name when the object is mounted.

use crate::kube::data_key;
use crate::object::Object;

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
