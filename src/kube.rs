//! Shapes of Kubernetes objects that several stages read: where a workload keeps its
//! pod template, its containers and its replica count. Plain JSON accessors.

use crate::value::{Map, Value};

/// JSON pointer lookup without allocating (stackc's pointers are literals without
/// `~0`/`~1` escapes).
pub trait At {
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl At for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut rest = pointer.strip_prefix('/')?;
        let mut value = self;
        loop {
            // A byte scan: pointers are short, and a `split('/')` set up a memchr search
            // per token.
            let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
            let token = &rest[..end];
            value = match value {
                Value::Object(map) => map.get(token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
            if end == rest.len() {
                return Some(value);
            }
            rest = &rest[end + 1..];
        }
    }
}

/// JSON pointers to the pod spec and pod labels of a workload kind.
fn pod_pointers(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            Some(("/spec/template/spec", "/spec/template/metadata/labels"))
        }
        "CronJob" => Some((
            "/spec/jobTemplate/spec/template/spec",
            "/spec/jobTemplate/spec/template/metadata/labels",
        )),
        "Pod" => Some(("/spec", "/metadata/labels")),
        _ => None,
    }
}

/// The pod spec of a workload and its pod labels.
pub fn pod_template(body: &Value) -> Option<(&Value, Option<&Map>)> {
    let kind = body.get("kind")?.as_str()?;
    let (spec, labels) = pod_pointers(kind)?;
    Some((body.at(spec)?, body.at(labels).and_then(Value::as_object)))
}

/// JSON pointer of the pod spec of a workload kind, for messages.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    pod_pointers(kind).map(|(spec, _)| spec)
}

/// Workloads that run continuously (and so need probes, PDBs, ...).
pub fn is_long_running(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
    )
}

/// The string at a JSON pointer.
pub fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.at(pointer).and_then(Value::as_str)
}

/// The items of the array at a JSON pointer (none when absent).
pub fn items<'v>(value: &'v Value, pointer: &str) -> impl Iterator<Item = &'v Value> {
    value
        .at(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Equality selector semantics: every selector label is on the object, and the selector is not empty.
pub fn selects(selector: &Map, labels: Option<&Map>) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// `Kind/namespace/name` (or `Kind/name`) of an object body.
pub fn object_id(body: &Value) -> String {
    let kind = str_at(body, "/kind").unwrap_or("?");
    let name = str_at(body, "/metadata/name").unwrap_or("?");
    match str_at(body, "/metadata/namespace") {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Full label-selector semantics (matchLabels and matchExpressions); an empty selector
/// selects everything, as for a policy/v1 PodDisruptionBudget.
pub fn selector_matches(selector: &Value, labels: Option<&Map>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_ok = match_labels.is_none_or(|m| m.iter().all(|(k, v)| get(k) == v.as_str()));
    let expressions_ok = items(selector, "/matchExpressions").all(|e| {
        let key = str_at(e, "/key").unwrap_or_default();
        let values: Vec<&str> = items(e, "/values").filter_map(Value::as_str).collect();
        match str_at(e, "/operator") {
            Some("In") => get(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => get(key).is_none_or(|v| !values.contains(&v)),
            Some("Exists") => get(key).is_some(),
            Some("DoesNotExist") => get(key).is_none(),
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

/// The maximum length of a ConfigMap or Secret data key (a DNS-1123 subdomain's).
const MAX_DATA_KEY: usize = 253;

/// Why `key` is not a valid ConfigMap or Secret data key, if it is not: 1 to 253
/// characters of `[-._a-zA-Z0-9]`, neither `.` nor starting with `..`.
pub fn data_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_DATA_KEY {
        return Err(format!("must be 1 to {MAX_DATA_KEY} characters long"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json;

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
    fn at_follows_objects_and_array_indexes() {
        let body = json!({"spec": {"ports": [{"port": 80}, {"port": 443}]}, "a/b": 1});
        assert_eq!(body.at("/spec/ports/1/port"), Some(&json!(443)));
        assert_eq!(body.at(""), Some(&body));
        assert_eq!(body.at("/spec/ports/2"), None);
        assert_eq!(body.get("a/b"), Some(&json!(1)));
        assert_eq!(body.get("status"), None);
        assert_eq!(json!([1]).get("0"), None, "only objects have keys");
        assert_eq!(body.at("/spec/ports/x"), None);
        assert_eq!(body.at("spec"), None, "a pointer starts with /");
    }
}
