//! `[secrets]`: where secret values live. stackc never holds a secret value: it emits
//! the objects that make the provider's operator create the Kubernetes Secrets.

use schemars::JsonSchema;
use serde::Deserialize;

/// `[secrets]`
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// "external-secrets" (ExternalSecret objects), "infisical" (InfisicalSecret objects)
    /// or "sops" (encrypted Secret manifests in `secrets/<env>/<name>.sops.yaml`).
    pub provider: String,
    /// sops: the Secret (in the Flux namespace) holding the key Flux decrypts with (default "sops-age").
    pub decryption_secret: Option<String>,
    /// external-secrets: the (Cluster)SecretStore the ExternalSecrets read from.
    pub store: Option<StoreRef>,
    /// How often the operator re-reads the provider (default "1h").
    pub refresh: Option<String>,
    /// infisical: where the secrets are and how the operator authenticates.
    pub infisical: Option<Infisical>,
}

/// `store = { kind = "ClusterSecretStore", name = "vault" }`
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRef {
    /// "ClusterSecretStore" (default) or "SecretStore".
    pub kind: Option<String>,
    pub name: String,
}

/// `infisical = { project = "platform", env = "prod", credentials = { name = "...", namespace = "..." } }`
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Infisical {
    /// API URL (default "https://app.infisical.com/api").
    pub host: Option<String>,
    /// Project slug.
    pub project: String,
    /// Environment slug, e.g. "prod".
    pub env: String,
    /// Folder of the secrets (default "/").
    pub path: Option<String>,
    /// The universal-auth credentials Secret the operator logs in with (the seed's shared token).
    pub credentials: NamespacedName,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespacedName {
    pub name: String,
    pub namespace: String,
}
