//! `[secrets]` and the rule that no secret value is ever written in the stack: a string
//! under a key that names a password, token or key, a URL with a password in it, or a
//! config file line assigning one, is a compile error at its file:line.

use super::{Ctx, names};
use crate::diag::Diagnostic;
use crate::load::tree::{Node, Value};
use crate::model::Stack;
use crate::plan::SecretsProvider;

/// The provider, checked; `None` when `[secrets]` is absent.
pub(super) fn provider(ctx: &mut Ctx, stack: &Stack) -> Option<SecretsProvider> {
    let secrets = stack.secrets.as_ref()?;
    let refresh = secrets.refresh.clone().unwrap_or_else(|| "1h".into());
    ctx.rule(
        names::go_duration(&refresh),
        "invalid-duration",
        &format!("refresh `{refresh}`"),
        &["secrets", "refresh"],
        "use a Go duration such as \"1h\"",
    );
    match secrets.provider.as_str() {
        "external-secrets" => {
            let Some(store) = &secrets.store else {
                let span = ctx.value_span(&["secrets", "provider"]);
                ctx.report(
                    Diagnostic::error("missing-key", "external-secrets needs the store the ExternalSecrets read from")
                        .at(span)
                        .help("add store = { kind = \"ClusterSecretStore\", name = \"vault\" } to [secrets]"),
                );
                return None;
            };
            let kind = store
                .kind
                .clone()
                .unwrap_or_else(|| "ClusterSecretStore".into());
            if kind != "ClusterSecretStore" && kind != "SecretStore" {
                let span = ctx.value_span(&["secrets", "store", "kind"]);
                ctx.report(
                    Diagnostic::error(
                        "invalid-value",
                        format!("store kind `{kind}` is not a secret store"),
                    )
                    .at(span)
                    .help("use \"ClusterSecretStore\" or \"SecretStore\""),
                );
            }
            Some(SecretsProvider::ExternalSecrets {
                store_kind: kind,
                store_name: store.name.clone(),
                refresh,
            })
        }
        "infisical" => {
            let Some(inf) = &secrets.infisical else {
                let span = ctx.value_span(&["secrets", "provider"]);
                ctx.report(
                    Diagnostic::error("missing-key", "infisical needs the project, environment and credentials")
                        .at(span)
                        .help("add infisical = { project = \"...\", env = \"prod\", credentials = { name = \"...\", namespace = \"...\" } }"),
                );
                return None;
            };
            Some(SecretsProvider::Infisical {
                host: inf
                    .host
                    .clone()
                    .unwrap_or_else(|| "https://app.infisical.com/api".into()),
                project: inf.project.clone(),
                env: inf.env.clone(),
                path: inf.path.clone().unwrap_or_else(|| "/".into()),
                credentials: (
                    inf.credentials.name.clone(),
                    inf.credentials.namespace.clone(),
                ),
                refresh_seconds: names::duration_seconds(&refresh).unwrap_or(3600),
            })
        }
        other => {
            let span = ctx.value_span(&["secrets", "provider"]);
            let help = match crate::load::closest(other, ["external-secrets", "infisical"]) {
                Some(best) => format!("did you mean `{best}`?"),
                None => "use \"external-secrets\" or \"infisical\"".into(),
            };
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    format!("unknown secrets provider `{other}`"),
                )
                .at(span)
                .help(help),
            );
            None
        }
    }
}

/// Words (between `_`) that make a key name a secret's, padded for whole-word search.
const SECRET_WORDS: &[&str] = &[
    "_password_",
    "_passwd_",
    "_pwd_",
    "_token_",
    "_apikey_",
    "_api_key_",
    "_private_key_",
    "_secret_key_",
    "_client_secret_",
    "_access_key_",
];

/// Key names whose string values are secrets.
fn secret_key_name(key: &str) -> bool {
    let mut padded = String::with_capacity(key.len() + 2);
    padded.push('_');
    padded.extend(key.chars().map(|c| match c {
        '-' | '.' => '_',
        c => c.to_ascii_lowercase(),
    }));
    padded.push('_');
    SECRET_WORDS.iter().any(|w| padded.contains(w))
}

/// Reports every plaintext secret value in the merged tree of one environment.
pub(super) fn plaintext(ctx: &mut Ctx) {
    let mut found = Vec::new();
    walk(ctx.tree, &mut Vec::new(), &mut found);
    for (span, what) in found {
        ctx.report(
            Diagnostic::error("plaintext-secret", format!("{what} is written in plain text"))
                .at(Some(span))
                .label("a secret value")
                .help("keep the value in the secret provider and reference it: env.X = { secret = \"name\", key = \"KEY\" }, or let stackc derive it (database references)"),
        );
    }
}

fn walk(node: &Node, path: &mut Vec<String>, found: &mut Vec<(crate::diag::Span, String)>) {
    match &node.value {
        Value::Table(table) => {
            for (key, entry) in table {
                path.push(key.clone());
                walk(&entry.node, path, found);
                path.pop();
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, path, found)),
        Value::String(text) => {
            let key = path.last().map(String::as_str).unwrap_or_default();
            let in_config_files = path.len() >= 2 && path[path.len() - 2] == "files";
            if !text.is_empty() && secret_key_name(key) && !in_config_files {
                found.push((node.span, format!("`{key}`")));
            } else if let Some(user) = url_with_password(text) {
                found.push((node.span, format!("the password of `{user}` in a URL")));
            } else if in_config_files && let Some(line) = assigned_secret(text) {
                found.push((node.span, format!("`{line}` in config file `{key}`")));
            }
        }
        _ => {}
    }
}

/// The user of a `scheme://user:password@host` URL.
fn url_with_password(text: &str) -> Option<&str> {
    let rest = &text[text.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', ' ']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    (!password.is_empty() && !password.starts_with("$(")).then_some(user)
}

/// A config line like `password: hunter2` or `token = "abc"` (placeholders excluded).
fn assigned_secret(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':').or_else(|| line.split_once('='))?;
        let key = key.trim().trim_matches('"');
        let value = value.trim().trim_matches(['"', '\'']);
        let placeholder = value.is_empty()
            || value.starts_with("${")
            || value.starts_with("$(")
            || value.starts_with("{{")
            || value.starts_with('<');
        (secret_key_name(key) && !placeholder).then(|| key.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for yes in [
            "password",
            "DB_PASSWORD",
            "api-key",
            "GITHUB_TOKEN",
            "token",
            "client_secret",
        ] {
            assert!(secret_key_name(yes), "{yes}");
        }
        for no in [
            "secret",
            "tls_secret",
            "tokens_per_second",
            "keyboard",
            "image",
            "LOG_LEVEL",
            "passwords_file_path",
        ] {
            assert!(!secret_key_name(no), "{no}");
        }
    }

    #[test]
    fn urls_and_config_lines() {
        assert_eq!(
            url_with_password("postgresql://coder:hunter2@db:5432/coder"),
            Some("coder")
        );
        assert_eq!(url_with_password("postgresql://coder@db:5432/coder"), None);
        assert_eq!(
            url_with_password("postgres://coder:$(PGPASSWORD)@db/coder"),
            None
        );
        assert_eq!(
            assigned_secret("batch: 5\npassword: hunter2\n").as_deref(),
            Some("password")
        );
        assert_eq!(assigned_secret("password: ${DB_PASSWORD}\n"), None);
    }
}
