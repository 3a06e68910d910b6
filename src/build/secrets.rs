//! The objects that make the secret provider's operator create a component's Secret:
//! an ExternalSecret (external-secrets.io/v1) or an InfisicalSecret
//! (secrets.infisical.com/v1alpha1). No secret value ever passes through stackc.

use serde_json::json;

use super::labels;
use crate::object::{Layer, Object};
use crate::plan::{SecretPlan, SecretsProvider};

/// The provider object for `secret`, in the layer of the component that needs it
/// (`None` only for a SOPS file that check has already reported missing).
pub fn build(
    provider: &SecretsProvider,
    secret: &SecretPlan,
    layer: Layer,
    component: &str,
    stack: &str,
) -> Option<Object> {
    let labels = labels::labels(
        stack,
        component.split('.').nth(1).unwrap_or(component),
        "secret",
    );
    let body = match provider {
        SecretsProvider::ExternalSecrets {
            store_kind,
            store_name,
            refresh,
        } => json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": { "name": secret.name, "namespace": secret.namespace, "labels": labels },
            "spec": {
                "refreshInterval": refresh,
                "secretStoreRef": { "kind": store_kind, "name": store_name },
                "target": { "name": secret.name, "creationPolicy": "Owner" },
                "data": secret.keys.iter().map(|k| json!({ "secretKey": k, "remoteRef": { "key": k } })).collect::<Vec<_>>(),
            },
        }),
        SecretsProvider::Infisical {
            host,
            project,
            env,
            path,
            credentials,
            refresh_seconds,
        } => json!({
            "apiVersion": "secrets.infisical.com/v1alpha1",
            "kind": "InfisicalSecret",
            "metadata": { "name": secret.name, "namespace": secret.namespace, "labels": labels },
            "spec": {
                "hostAPI": host,
                "resyncInterval": refresh_seconds,
                "authentication": { "universalAuth": {
                    "credentialsRef": { "secretName": credentials.0, "secretNamespace": credentials.1 },
                    "secretsScope": { "projectSlug": project, "envSlug": env, "secretsPath": path },
                }},
                "managedKubeSecretReferences": [{
                    "secretName": secret.name,
                    "secretNamespace": secret.namespace,
                    "creationPolicy": "Owner",
                }],
            },
        }),
        SecretsProvider::Sops { files, .. } => {
            // The encrypted file goes out byte for byte; validation and policy see the
            // Secret without its `sops` section.
            let (_, text) = files.get(&secret.name)?;
            let mut body: serde_json::Value = serde_saphyr::from_str(text).ok()?;
            body.as_object_mut()?.remove("sops");
            let mut object = Object::new(layer, Some(component.to_owned()), &body);
            object.raw = Some(text.clone());
            return Some(object);
        }
    };
    Some(Object::new(layer, Some(component.to_owned()), &body))
}
