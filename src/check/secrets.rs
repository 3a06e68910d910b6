//! `[secrets]` and the rule that no secret value is ever written in the stack: a string
//! under a key that names a password, token or key, a URL with a password in it, or a
//! config file line assigning one, is a compile error at its file:line.

use super::{Ctx, names};
use crate::diag::Diagnostic;
use crate::load::EnvStack;
use crate::load::tree::{Node, Value};
use crate::plan::SecretsProvider;

/// The provider, checked; `None` when `[secrets]` is absent.
pub(super) fn provider(ctx: &mut Ctx, env: &EnvStack) -> Option<SecretsProvider> {
    let secrets = env.stack.secrets.as_ref()?;
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
        "sops" => Some(SecretsProvider::Sops {
            decryption_secret: secrets
                .decryption_secret
                .clone()
                .unwrap_or_else(|| "sops-age".into()),
            files: env.sops_files.clone(),
        }),
        other => {
            let span = ctx.value_span(&["secrets", "provider"]);
            let help = match crate::load::closest(other, ["external-secrets", "infisical", "sops"])
            {
                Some(best) => format!("did you mean `{best}`?"),
                None => "use \"external-secrets\", \"infisical\" or \"sops\"".into(),
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

/// Runs of words that make a key name a secret's. A key's words are what lies between
/// its `_`, `-` and `.`, in any case: `DB_PASSWORD`, `api-key`.
const SECRET_WORDS: &[&[&str]] = &[
    &["password"],
    &["passwd"],
    &["pwd"],
    &["token"],
    &["apikey"],
    &["api", "key"],
    &["private", "key"],
    &["secret", "key"],
    &["client", "secret"],
    &["access", "key"],
    &["webhook"],
];

/// Key names whose string values are secrets: one of [`SECRET_WORDS`] among its words.
/// Every key of every environment's tree is asked, so no allocation and no substring
/// search.
fn secret_key_name(key: &str) -> bool {
    let mut words = key.split(['_', '-', '.']);
    let mut previous = "";
    words.any(|word| {
        let is = |w: &str, wanted: &str| w.eq_ignore_ascii_case(wanted);
        let found = SECRET_WORDS.iter().any(|secret| match secret {
            [one] => is(word, one),
            [first, second] => is(previous, first) && is(word, second),
            // Longer runs are not matched: the test below keeps the list to one or two.
            _ => false,
        });
        previous = word;
        found
    })
}

/// Every plaintext secret value in the merged tree of one environment, as diagnostics.
pub(super) fn plaintext(tree: &Node) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    walk(tree, &mut Vec::new(), &mut found);
    found
        .into_iter()
        .map(|(span, what, help)| {
            Diagnostic::error(
                "plaintext-secret",
                format!("{what} is written in plain text"),
            )
            .at(Some(span))
            .label("a secret value")
            .help(help)
        })
        .collect()
}

/// How to deliver a secret written in plain text at `path` instead. An env value of an
/// app or cronjob becomes `{ provider = "<COMPONENT>_<VAR>" }`, the README's convention,
/// which stackc delivers (a `{ secret, key }` reference would name a Secret nothing
/// creates).
fn provider_help(path: &[&str]) -> String {
    match path {
        [kind @ ("app" | "cronjob"), component, "env", var] => {
            let key = super::secret_key(component, var);
            format!(
                "create `{key}` in the secret provider and write {var} = {{ provider = \"{key}\" }}: stackc delivers it into Secret `{component}-secrets` of the {kind}"
            )
        }
        _ => "keep the value in the secret provider: an app's or cronjob's env takes it as X = { provider = \"NAME\" } (delivered by stackc), and database and cache credentials come through `uses`".into(),
    }
}

/// The help for a password inside a URL: the URL cannot reference it, so it moves out.
const URL_HELP: &str = "take the password out of the URL and keep it in the secret provider: pass it as an env var of its own, X = { provider = \"NAME\" }; a database's or cache's connection comes through `uses`";

/// The help for a secret assigned in a config file.
const CONFIG_HELP: &str = "write a placeholder such as ${VAR} in the file and give the value as an env var, X = { provider = \"NAME\" }, kept in the secret provider";

/// A plaintext secret found by [`walk`]: where, what, and how to deliver it instead.
type Found = (crate::diag::Span, String, String);

fn walk<'n>(node: &'n Node, path: &mut Vec<&'n str>, found: &mut Vec<Found>) {
    match &node.value {
        Value::Table(table) => {
            for (key, entry) in table {
                path.push(key);
                walk(&entry.node, path, found);
                path.pop();
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, path, found)),
        Value::String(text) => {
            let key = path.last().copied().unwrap_or_default();
            let in_config_files = path.len() >= 2 && path[path.len() - 2] == "files";
            if !text.is_empty() && secret_key_name(key) && !in_config_files {
                found.push((node.span, format!("`{key}`"), provider_help(path)));
            } else if let Some(user) = url_with_password(text) {
                let what = format!("the password of `{user}` in a URL");
                found.push((node.span, what, URL_HELP.into()));
            } else if in_config_files && let Some(line) = assigned_secret(text) {
                let what = format!("`{line}` in config file `{key}`");
                found.push((node.span, what, CONFIG_HELP.into()));
            }
        }
        _ => {}
    }
}

/// The user of a `scheme://user:password@host` URL; a Slack webhook URL (its path is the
/// credential) counts as `slack`.
fn url_with_password(text: &str) -> Option<&str> {
    if text.contains("hooks.slack.com/services/") {
        return Some("slack");
    }
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

/// With SOPS, every Secret a component (or a stack-wide section, `others`: who needs
/// it, where it is written, the Secret) needs must be committed, encrypted, as
/// `secrets/<env>/<name>.sops.yaml`: a Secret of that name and namespace holding every
/// key, each value encrypted (`ENC[...]`), with SOPS metadata.
pub(super) fn verify_sops(
    ctx: &mut Ctx,
    provider: Option<&SecretsProvider>,
    components: &[crate::plan::Component],
    others: &[(&str, &[&str], &crate::plan::SecretPlan)],
    env: &str,
) {
    let Some(SecretsProvider::Sops { files, .. }) = provider else {
        return;
    };
    for component in components {
        let who = format!("{} `{}`", component.kind(), component.name());
        let span = ctx.key_span(&[component.kind(), component.name()]);
        for secret in component.secrets() {
            verify_sops_file(ctx, files, env, (&who, span), secret);
        }
    }
    for (who, path, secret) in others {
        let span = ctx.key_span(path);
        verify_sops_file(ctx, files, env, (who, span), secret);
    }
}

/// One needed Secret against the committed SOPS files; `who` needs it, written at the span.
fn verify_sops_file(
    ctx: &mut Ctx,
    files: &std::collections::BTreeMap<String, (String, String)>,
    env: &str,
    (who, span): (&str, Option<crate::diag::Span>),
    secret: &crate::plan::SecretPlan,
) {
    let expected = format!("{}/{env}/{}.sops.yaml", crate::load::SOPS_DIR, secret.name);
    let Some((path, text)) = files.get(&secret.name) else {
        ctx.report(
            Diagnostic::error("missing-secret-file", format!("{who} needs Secret `{}`, and {expected} does not exist", secret.name))
                .at(span)
                .help(format!(
                    "write a Secret `{}` in namespace `{}` with keys {} and encrypt it: sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place {expected}",
                    secret.name,
                    secret.namespace,
                    secret.keys.join(", ")
                )),
        );
        return;
    };
    for problem in sops_problems(text, secret) {
        ctx.report(
            Diagnostic::error("invalid-sops-secret", problem)
                .in_file(path.clone())
                .help("the file must be a Secret encrypted with sops (values ENC[...], a `sops` section with a `mac`)"),
        );
    }
}

fn sops_problems(text: &str, secret: &crate::plan::SecretPlan) -> Vec<String> {
    let body: serde_json::Value = match serde_saphyr::from_str(text) {
        Ok(body) => body,
        Err(e) => {
            return vec![format!(
                "not valid YAML: {}",
                e.to_string().lines().next().unwrap_or_default()
            )];
        }
    };
    let mut problems = Vec::new();
    let text_at = |p: &str| body.pointer(p).and_then(serde_json::Value::as_str);
    if text_at("/kind") != Some("Secret") || text_at("/apiVersion") != Some("v1") {
        problems.push("is not a v1 Secret".to_owned());
    }
    if text_at("/metadata/name") != Some(secret.name.as_str())
        || text_at("/metadata/namespace") != Some(secret.namespace.as_str())
    {
        problems.push(format!(
            "must be Secret `{}` in namespace `{}`",
            secret.name, secret.namespace
        ));
    }
    if body.pointer("/sops/mac").is_none() {
        problems.push("is not SOPS-encrypted (no `sops.mac`)".to_owned());
    }
    let mut values = serde_json::Map::new();
    for section in ["/data", "/stringData"] {
        if let Some(map) = body.pointer(section).and_then(serde_json::Value::as_object) {
            values.extend(map.clone());
        }
    }
    for key in &secret.keys {
        if !values.contains_key(key) {
            problems.push(format!("has no key `{key}`"));
        }
    }
    for (key, value) in &values {
        if !value.as_str().is_some_and(|v| v.starts_with("ENC[")) {
            problems.push(format!("holds `{key}` in plain text"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_webhooks_are_secrets() {
        assert!(secret_key_name("SLACK_WEBHOOK_URL"));
        assert!(secret_key_name("webhook"));
        assert_eq!(
            url_with_password("https://hooks.slack.com/services/T000/B000/XXXXXXXX"),
            Some("slack")
        );
        assert_eq!(url_with_password("https://hooks.example.org/x"), None);
    }

    #[test]
    fn secret_words_are_runs_of_one_or_two_lowercase_words() {
        for secret in SECRET_WORDS {
            assert!(matches!(secret.len(), 1 | 2), "{secret:?}");
            assert!(secret.iter().all(|w| *w == w.to_lowercase()), "{secret:?}");
        }
    }

    #[test]
    fn secret_names() {
        for yes in [
            "password",
            "DB_PASSWORD",
            "api-key",
            "GITHUB_TOKEN",
            "token",
            "client_secret",
            "Access.Key",
            "my__apikey",
            "X_PRIVATE_KEY_PATH",
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
            "api__key",
            "key_api",
            "secretkeeper",
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

    #[test]
    fn helps_suggest_a_provider_value() {
        let help = super::provider_help(&["app", "agents", "env", "DB_PASSWORD"]);
        assert!(
            help.contains("DB_PASSWORD = { provider = \"AGENTS_DB_PASSWORD\" }"),
            "{help}"
        );
        assert!(!help.contains("secret ="), "{help}");
        let other = super::provider_help(&["monitoring", "grafana", "password"]);
        assert!(other.contains("{ provider = \"NAME\" }"), "{other}");
    }
}
