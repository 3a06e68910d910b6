//! `[tls]` and `[controllers]`: who signs certificates, and the pinned versions of the
//! cluster add-ons (cert-manager, ingress-nginx, secret operators) the stack installs.

use schemars::JsonSchema;
use serde::Deserialize;

/// `[tls]`: cert-manager issues every certificate. In-cluster services always get theirs
/// from the stack's own CA; public ingress hosts from that CA or from ACME.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Who signs the certificates of public ingress hosts: "internal" (the stack's CA,
    /// the default; browsers will not trust it) or "acme" (e.g. Let's Encrypt; set it in prod).
    pub public: Option<String>,
    /// The ACME account, required when `public = "acme"`.
    pub acme: Option<Acme>,
}

/// `[tls.acme]`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acme {
    /// Contact address of the ACME account (expiry notices).
    pub email: String,
    /// ACME directory URL (default: Let's Encrypt production).
    pub server: Option<String>,
    /// Solve challenges through DNS instead of HTTP-01, required for wildcard hosts.
    /// Only "cloudflare" is supported; its API token comes from the secret provider
    /// as `CLOUDFLARE_API_TOKEN`.
    pub dns01: Option<String>,
}

/// `[controllers]`: version pins of the add-on charts, overriding stackc's defaults.
/// Which add-ons are installed follows from the stack (cert-manager with `[tls]`,
/// ingress-nginx with an ingress, the operator of the secret provider).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Controllers {
    /// Chart version of cert-manager (https://charts.jetstack.io).
    #[serde(rename = "cert-manager")]
    pub cert_manager: Option<String>,
    /// Chart version of ingress-nginx (https://kubernetes.github.io/ingress-nginx).
    #[serde(rename = "ingress-nginx")]
    pub ingress_nginx: Option<String>,
    /// Chart version of external-secrets (https://charts.external-secrets.io).
    #[serde(rename = "external-secrets")]
    pub external_secrets: Option<String>,
    /// Chart version of the Infisical secrets-operator.
    #[serde(rename = "infisical")]
    pub infisical: Option<String>,
}
