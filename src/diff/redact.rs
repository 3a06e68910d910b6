//! Secret-like values never reach a diff: Secret data, env values whose names say they are
//! secrets, and passwords inside URLs are replaced by a short hash (so a change still
//! shows as a change) before the diff is computed.

use sha2::{Digest, Sha256};

/// Env var names that hold secrets.
fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

fn mask(value: &str) -> String {
    let hash = Sha256::digest(value.as_bytes());
    format!("<redacted {}>", crate::build::hex(&hash[..4]))
}

/// The text of a rendered YAML file with every secret-like value masked.
pub fn redact(text: &str) -> String {
    let is_secret = text.lines().any(|l| l == "kind: Secret");
    let mut out = String::with_capacity(text.len());
    let mut in_data = false;
    let mut secret_env_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if indent == 0 {
            in_data =
                is_secret && (trimmed.starts_with("data:") || trimmed.starts_with("stringData:"));
        }
        let masked = if in_data && indent > 0 {
            match trimmed.split_once(": ") {
                Some((key, value)) => Some(format!("{}{key}: {}", &line[..indent], mask(value))),
                None => Some(format!("{}{}", &line[..indent], mask(trimmed))),
            }
        } else {
            trimmed
                .strip_prefix("value: ")
                .filter(|_| secret_env_indent == Some(indent))
                .map(|value| format!("{}value: {}", &line[..indent], mask(value)))
        };
        secret_env_indent = trimmed
            .strip_prefix("- name: ")
            .filter(|name| secret_name(name))
            .map(|_| indent + 2);
        out.push_str(&masked.unwrap_or_else(|| redact_url_password(line)));
        out.push('\n');
    }
    out
}

/// `scheme://user:password@host` → `scheme://user:<redacted>@host`.
fn redact_url_password(line: &str) -> String {
    let Some(scheme) = line.find("://") else {
        return line.to_owned();
    };
    let rest = &line[scheme + 3..];
    let end = rest
        .find(|c: char| c == '/' || c.is_whitespace() || c == '"')
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    match authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
    {
        Some((_, password)) if !password.is_empty() => {
            let at = scheme + 3 + authority.find(':').unwrap_or(0) + 1;
            format!(
                "{}{}{}",
                &line[..at],
                mask(password),
                &line[at + password.len()..]
            )
        }
        _ => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_data_is_masked_but_changes_stay_visible() {
        let a = redact("apiVersion: v1\ndata:\n  password: aHVudGVyMg==\nkind: Secret\n");
        let b = redact("apiVersion: v1\ndata:\n  password: c2VjcmV0\nkind: Secret\n");
        assert!(!a.contains("aHVudGVyMg=="), "{a}");
        assert!(a.contains("password: <redacted "), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn secret_env_values_and_url_passwords_are_masked() {
        let text = "env:\n  - name: DB_PASSWORD\n    value: hunter2\n  - name: LOG_LEVEL\n    value: info\nurl: postgres://coder:hunter2@db:5432/coder\n";
        let out = redact(text);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("value: info"), "{out}");
        assert!(out.contains("postgres://coder:<redacted"), "{out}");
    }

    #[test]
    fn configmap_data_is_left_alone() {
        let text = "apiVersion: v1\ndata:\n  mode: fast\nkind: ConfigMap\n";
        assert_eq!(redact(text), text);
    }
}
