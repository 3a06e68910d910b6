//! The rule that a TLS service is only reached over TLS, with the CA: an app's own
//! env values and config files must not undo what a `uses` edge derives.
//!
//! For every service that serves TLS (`kafka`/`influxdb` with `tls = true`), an app's
//! own literal env value or config file line is an error when it
//! - addresses the service (`<name>`, `<name>.<ns>…`, `<name>-headless.<ns>…`,
//!   `<name>-<i>.<name>-headless…`) with an `http://` URL or the plaintext Kafka port
//!   9092 (`plaintext-to-tls`);
//! - sets a Kafka security protocol of `PLAINTEXT`/`SASL_PLAINTEXT`, or turns certificate
//!   verification off (a variable named `*INSECURE*`/`*SKIP_VERIFY*` set to true), in an
//!   app that uses a TLS service (`plaintext-to-tls`);
//! - addresses the service at all without listing it in `uses`: such an app would get
//!   neither the CA nor the derived settings (`tls-without-ca`).
//!
//! Overriding a derived variable is `env-conflict` (see `exports`).

use super::Ctx;
use crate::diag::Diagnostic;
use crate::plan::{AppPlan, Component, EnvSource};

/// A TLS service and how it can be addressed.
struct Service<'a> {
    name: &'a str,
    namespace: &'a str,
    kafka: bool,
}

impl Service<'_> {
    /// Whether `host` (no scheme, no port) names this service or one of its pods.
    fn addressed_by(&self, host: &str) -> bool {
        let labels: Vec<&str> = host.split('.').collect();
        let headless = format!("{}-headless", self.name);
        let ns_ok = |i: usize| labels.get(i).is_none_or(|l| *l == self.namespace);
        let pod = labels[0]
            .strip_prefix(self.name)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()));
        ((labels[0] == self.name || labels[0] == headless) && ns_ok(1))
            || (pod && labels.get(1) == Some(&headless.as_str()) && ns_ok(2))
    }
}

/// What is wrong with one value, if anything.
enum Finding {
    /// Plaintext to this service.
    Plaintext(String),
    /// Certificate verification turned off.
    Insecure(String),
    /// Addressed without a `uses` edge.
    WithoutCa,
}

pub(super) fn no_plaintext(ctx: &mut Ctx, apps: &[AppPlan], others: &[Component]) {
    let services: Vec<Service> = others
        .iter()
        .filter(|c| super::exports::serves_tls(c))
        .map(|c| Service {
            name: c.name(),
            namespace: c.namespace(),
            kafka: matches!(c, Component::Kafka(_)),
        })
        .collect();
    if services.is_empty() {
        return;
    }
    for app in apps {
        let uses_tls = services
            .iter()
            .any(|s| app.uses.iter().any(|u| u == s.name));
        let mut texts: Vec<(Vec<String>, Option<&str>, &str)> = Vec::new();
        for var in &app.env {
            let path = vec![
                "app".into(),
                app.name.clone(),
                "env".into(),
                var.name.clone(),
            ];
            if ctx.tree.get(&as_refs(&path)).is_none() {
                continue; // derived from a `uses` edge
            }
            if let EnvSource::Value(v) = &var.source {
                texts.push((path, Some(var.name.as_str()), v.as_str()));
            }
        }
        if let Some(config) = &app.config {
            for (file, text) in &config.files {
                let path = vec![
                    "app".into(),
                    app.name.clone(),
                    "config".into(),
                    "files".into(),
                    file.clone(),
                ];
                texts.push((path, None, text.as_str()));
            }
        }
        for (path, var, text) in texts {
            let findings = judge(&services, app, uses_tls, var, text);
            for (service, finding) in findings {
                let span = ctx.value_span(&as_refs(&path));
                let diag = match finding {
                    Finding::Plaintext(what) => Diagnostic::error(
                        "plaintext-to-tls",
                        format!("app `{}` {what}, and `{service}` serves TLS only", app.name),
                    )
                    .at(span)
                    .help(format!(
                        "remove it: `uses = [\"{service}\"]` derives the address, the protocol and the CA file (see the README's env var convention)"
                    )),
                    Finding::Insecure(what) => Diagnostic::error(
                        "plaintext-to-tls",
                        format!("app `{}` {what}, and it uses TLS services", app.name),
                    )
                    .at(span)
                    .help("remove it: the CA file `uses` derives (<NAME>_CA_FILE) verifies the stack's certificates"),
                    Finding::WithoutCa => Diagnostic::error(
                        "tls-without-ca",
                        format!(
                            "app `{}` addresses the TLS service `{service}` without listing it in `uses`, so it has no CA to verify it",
                            app.name
                        ),
                    )
                    .at(span)
                    .help(format!(
                        "add \"{service}\" to the app's `uses` and drop this value: the address, protocol and CA file are derived"
                    )),
                };
                ctx.report(diag);
            }
        }
    }
}

fn as_refs(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

/// The findings of one value (an env var's, or a config file's text).
fn judge<'a>(
    services: &'a [Service],
    app: &AppPlan,
    uses_tls: bool,
    var: Option<&str>,
    text: &str,
) -> Vec<(&'a str, Finding)> {
    let mut out = Vec::new();
    for service in services {
        let used = app.uses.iter().any(|u| u == service.name);
        let mut addressed = false;
        let mut plaintext = None;
        for (scheme, host, port) in addresses(text) {
            if !service.addressed_by(host) {
                continue;
            }
            addressed = true;
            if scheme.eq_ignore_ascii_case("http") {
                plaintext = Some(format!("reaches `{host}` over plain http"));
            } else if service.kafka && port == Some("9092") {
                plaintext = Some(format!("reaches `{host}` on the plaintext port 9092"));
            }
        }
        if let Some(what) = plaintext {
            out.push((service.name, Finding::Plaintext(what)));
        } else if addressed && !used {
            out.push((service.name, Finding::WithoutCa));
        }
    }
    if let (true, Some(var)) = (uses_tls, var) {
        let value = text.trim();
        let kafka_used = services
            .iter()
            .find(|s| s.kafka && app.uses.iter().any(|u| u == s.name));
        if let Some(kafka) = kafka_used
            && (value.eq_ignore_ascii_case("PLAINTEXT")
                || value.eq_ignore_ascii_case("SASL_PLAINTEXT"))
        {
            out.push((
                kafka.name,
                Finding::Plaintext(format!("sets {var} = \"{value}\"")),
            ));
        }
        let upper = var.to_ascii_uppercase();
        if (upper.contains("INSECURE") || upper.contains("SKIP_VERIFY"))
            && ["true", "1", "yes"].contains(&value.to_ascii_lowercase().as_str())
            && let Some(service) = services
                .iter()
                .find(|s| app.uses.iter().any(|u| u == s.name))
        {
            out.push((
                service.name,
                Finding::Insecure(format!(
                    "turns certificate verification off ({var} = \"{value}\")"
                )),
            ));
        }
    }
    out
}

/// Every `scheme://host:port` or `host:port` in a text: (scheme or "", host, port).
fn addresses(text: &str) -> Vec<(&str, &str, Option<&str>)> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '=' | '(' | ')'))
        .filter(|t| !t.is_empty())
        .filter_map(|token| {
            let (scheme, rest) = match token.split_once("://") {
                Some((scheme, rest)) => (scheme, rest),
                None => ("", token),
            };
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let authority = authority.rsplit('@').next().unwrap_or_default();
            let (host, port) = match authority.rsplit_once(':') {
                Some((host, port))
                    if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) =>
                {
                    (host, Some(port))
                }
                _ => (authority, None),
            };
            // A bare word is not an address: only URLs, host:port pairs and dotted names.
            let address = !scheme.is_empty() || port.is_some() || host.contains('.');
            (address && !host.is_empty()).then_some((scheme, host, port))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka() -> Service<'static> {
        Service {
            name: "kafka",
            namespace: "pipe",
            kafka: true,
        }
    }

    #[test]
    fn hosts_that_name_the_service() {
        let s = kafka();
        for host in [
            "kafka",
            "kafka.pipe",
            "kafka.pipe.svc.cluster.local",
            "kafka-headless.pipe.svc",
            "kafka-0.kafka-headless",
            "kafka-2.kafka-headless.pipe.svc.cluster.local",
        ] {
            assert!(s.addressed_by(host), "{host}");
        }
        for host in [
            "kafka-ui",
            "kafka.other",
            "kafka-0.other",
            "mykafka.pipe",
            "kafka-x.kafka-headless",
        ] {
            assert!(!s.addressed_by(host), "{host}");
        }
    }

    #[test]
    fn addresses_in_text() {
        assert_eq!(
            addresses("url: http://influxdb:8086/api"),
            vec![("http", "influxdb", Some("8086"))]
        );
        assert_eq!(
            addresses("kafka-0.kafka-headless:9092,kafka-1.kafka-headless:9092"),
            vec![
                ("", "kafka-0.kafka-headless", Some("9092")),
                ("", "kafka-1.kafka-headless", Some("9092"))
            ]
        );
        assert!(addresses("kafka info debug").is_empty());
    }
}
