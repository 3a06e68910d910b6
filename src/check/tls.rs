//! `[tls]`: the stack's CA and issuers, and the rule that nothing serves TLS without
//! them. Every certificate a component declares is signed by one of these issuers, so
//! an Ingress or a TLS listener whose Secret nobody creates cannot be written.

use super::Ctx;
use crate::diag::Diagnostic;
use crate::model::tls::Tls;
use crate::plan::{AcmePlan, AcmeSolver, Component, Issuer, SecretPlan, TlsPlan};

/// Namespace the cert-manager chart is installed into.
pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
/// The ingress class of the stack's ingress controller.
pub const INGRESS_CLASS: &str = "nginx";
const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Resolves `[tls]`; `None` when the stack has none.
pub(super) fn tls(ctx: &mut Ctx, tls: Option<&Tls>, stack: &str) -> Option<TlsPlan> {
    let tls = tls?;
    let public = tls.public.as_deref().unwrap_or(if tls.acme.is_some() {
        "acme"
    } else {
        "internal"
    });
    let acme = match (public, &tls.acme) {
        ("internal", _) => None,
        ("acme", Some(acme)) => acme_plan(ctx, acme, stack),
        ("acme", None) => {
            let span = ctx.value_span(&["tls", "public"]);
            ctx.report(
                Diagnostic::error("missing-acme", "public = \"acme\" needs an ACME account")
                    .at(span)
                    .help("add `[tls.acme]` with `email = \"...\"`, or set public = \"internal\""),
            );
            None
        }
        (other, _) => {
            let span = ctx.value_span(&["tls", "public"]);
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    format!("public = \"{other}\" is not an issuer stackc knows"),
                )
                .at(span)
                .help("use \"internal\" (the stack's CA) or \"acme\" (e.g. Let's Encrypt)"),
            );
            None
        }
    };
    Some(TlsPlan {
        namespace: CERT_MANAGER_NAMESPACE.into(),
        root_issuer: format!("{stack}-selfsigned"),
        internal_issuer: format!("{stack}-ca"),
        acme,
    })
}

fn acme_plan(ctx: &mut Ctx, acme: &crate::model::tls::Acme, stack: &str) -> Option<AcmePlan> {
    let before = ctx.diags.len();
    let email_ok = acme.email.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !acme.email.contains(char::is_whitespace)
    });
    if !email_ok {
        let span = ctx.value_span(&["tls", "acme", "email"]);
        ctx.report(
            Diagnostic::error(
                "invalid-value",
                format!("`{}` is not an email address", acme.email),
            )
            .at(span)
            .help("the ACME account's contact, e.g. \"platform@example.org\""),
        );
    }
    let server = acme.server.clone().unwrap_or_else(|| LETS_ENCRYPT.into());
    if !server.starts_with("https://") {
        let span = ctx.value_span(&["tls", "acme", "server"]);
        ctx.report(
            Diagnostic::error(
                "invalid-url",
                format!("ACME server `{server}` is not an https URL"),
            )
            .at(span)
            .help(format!(
                "ACME directories are served over https, e.g. \"{LETS_ENCRYPT}\""
            )),
        );
    }
    let solver = match acme.dns01.as_deref() {
        None => AcmeSolver::Http01 {
            ingress_class: INGRESS_CLASS.into(),
        },
        Some("cloudflare") => AcmeSolver::Cloudflare {
            token: SecretPlan {
                name: format!("{stack}-acme-cloudflare"),
                namespace: CERT_MANAGER_NAMESPACE.into(),
                keys: vec![CLOUDFLARE_TOKEN.into()],
            },
        },
        Some(other) => {
            let span = ctx.value_span(&["tls", "acme", "dns01"]);
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    format!("dns01 = \"{other}\" is not a DNS provider stackc supports"),
                )
                .at(span)
                .help("use dns01 = \"cloudflare\", or remove it to solve HTTP-01 challenges through the ingress"),
            );
            return None;
        }
    };
    (ctx.diags.len() == before).then(|| AcmePlan {
        issuer: format!("{stack}-acme"),
        email: acme.email.clone(),
        server,
        account_secret: format!("{stack}-acme-account"),
        solver,
    })
}

/// The provider key of the Cloudflare API token cert-manager solves DNS-01 with.
pub const CLOUDFLARE_TOKEN: &str = "CLOUDFLARE_API_TOKEN";

/// Every certificate needs an issuer: without `[tls]`, a component that serves TLS is
/// an error (its Secret would never exist). ACME over HTTP-01 cannot sign wildcards.
pub(super) fn require_issuers(ctx: &mut Ctx, components: &[Component], tls: Option<&TlsPlan>) {
    for component in components {
        let certificates = component.certificates();
        // A client certificate follows from a `uses` edge: the provider reports it.
        let Some(first) = certificates.iter().find(|c| !c.client) else {
            continue;
        };
        let Some(tls) = tls else {
            let span = ctx.key_span(&[component.kind(), component.name()]);
            ctx.report(
                Diagnostic::error(
                    "missing-tls",
                    format!(
                        "{} `{}` serves TLS (certificate `{}`), and the stack has no [tls] to issue it",
                        component.kind(),
                        component.name(),
                        first.name
                    ),
                )
                .at(span)
                .help("add `[tls]` to stack.toml: cert-manager then issues every certificate from the stack's CA (or ACME for public hosts)"),
            );
            continue;
        };
        let http01 = matches!(
            tls.acme.as_ref().map(|a| &a.solver),
            Some(AcmeSolver::Http01 { .. })
        );
        let wildcard = certificates
            .iter()
            .filter(|c| c.issuer == Issuer::Public)
            .flat_map(|c| &c.dns_names)
            .find(|name| name.starts_with("*."));
        if let (true, Some(host)) = (http01, wildcard) {
            let span = ctx.value_span(&["tls", "acme"]);
            ctx.report(
                Diagnostic::error(
                    "acme-wildcard",
                    format!(
                        "{} `{}` serves the wildcard host `{host}`, which ACME signs only through a DNS-01 challenge",
                        component.kind(),
                        component.name()
                    ),
                )
                .at(span)
                .help("set `dns01 = \"cloudflare\"` in [tls.acme] (the API token comes from the secret provider as CLOUDFLARE_API_TOKEN)"),
            );
        }
    }
}

/// Secrets `[tls]` itself needs from the provider (the DNS-01 API token).
pub fn secrets(tls: Option<&TlsPlan>) -> Vec<&SecretPlan> {
    match tls.and_then(|t| t.acme.as_ref()).map(|a| &a.solver) {
        Some(AcmeSolver::Cloudflare { token }) => vec![token],
        _ => Vec::new(),
    }
}
