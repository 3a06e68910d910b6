//! cert-manager objects (`cert-manager.io/v1`), in the `infra` layer: the stack's CA
//! (a self-signed root issuer, the CA Certificate, the CA ClusterIssuer), the ACME
//! ClusterIssuer for public hosts, and one Certificate per certificate a component declares.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{labels, secrets};
use crate::object::{Layer, Object};
use crate::plan::{AcmePlan, AcmeSolver, CertificatePlan, Plan, TlsPlan};

/// Lifetime of the stack's CA; its certificates live 90 days and renew 30 days before.
const CA_DURATION: &str = "87600h";

/// The issuers and every component's Certificates; nothing without `[tls]`.
pub fn build(plan: &Plan) -> Vec<Object> {
    let Some(tls) = &plan.tls else {
        return Vec::new();
    };
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, "tls", "tls");
    let object =
        |value: Value, component: Option<String>| Object::new(Layer::Infra, component, &value);
    let mut out = vec![
        object(root_issuer(tls, &labels), None),
        object(ca_certificate(tls, stack, &labels), None),
        object(ca_issuer(tls, &labels), None),
    ];
    if let Some(acme) = &tls.acme {
        out.push(object(acme_issuer(acme, &labels), None));
        if let (AcmeSolver::Cloudflare { token }, Some(provider)) = (&acme.solver, &plan.secrets) {
            out.extend(secrets::build(provider, token, Layer::Infra, "tls", stack));
        }
    }
    for component in &plan.components {
        let name = format!("{}.{}", component.kind(), component.name());
        let labels = labels::labels(stack, component.name(), "certificate");
        for certificate in component.certificates() {
            out.push(object(
                certificate_object(tls, &certificate, &labels),
                Some(name.clone()),
            ));
        }
    }
    out
}

fn cluster_issuer(name: &str, labels: &BTreeMap<String, String>, spec: Value) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": { "name": name, "labels": labels },
        "spec": spec,
    })
}

fn issuer_ref(name: &str) -> Value {
    json!({ "name": name, "kind": "ClusterIssuer", "group": "cert-manager.io" })
}

/// Signs only the CA certificate.
fn root_issuer(tls: &TlsPlan, labels: &BTreeMap<String, String>) -> Value {
    cluster_issuer(&tls.root_issuer, labels, json!({ "selfSigned": {} }))
}

/// The stack's CA: its Secret (in cert-manager's namespace) backs the CA issuer.
fn ca_certificate(tls: &TlsPlan, stack: &str, labels: &BTreeMap<String, String>) -> Value {
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": { "name": tls.internal_issuer, "namespace": tls.namespace, "labels": labels },
        "spec": {
            "isCA": true,
            "commonName": format!("{stack} CA"),
            "secretName": tls.internal_issuer,
            "duration": CA_DURATION,
            "privateKey": { "algorithm": "ECDSA", "size": 256 },
            "issuerRef": issuer_ref(&tls.root_issuer),
        },
    })
}

fn ca_issuer(tls: &TlsPlan, labels: &BTreeMap<String, String>) -> Value {
    cluster_issuer(
        &tls.internal_issuer,
        labels,
        json!({ "ca": { "secretName": tls.internal_issuer } }),
    )
}

fn acme_issuer(acme: &AcmePlan, labels: &BTreeMap<String, String>) -> Value {
    let solver = match &acme.solver {
        AcmeSolver::Http01 { ingress_class } => {
            json!({ "http01": { "ingress": { "ingressClassName": ingress_class } } })
        }
        AcmeSolver::Cloudflare { token } => json!({ "dns01": { "cloudflare": {
            "apiTokenSecretRef": { "name": token.name, "key": token.keys[0] },
        }}}),
    };
    cluster_issuer(
        &acme.issuer,
        labels,
        json!({ "acme": {
            "server": acme.server,
            "email": acme.email,
            "privateKeySecretRef": { "name": acme.account_secret },
            "solvers": [solver],
        }}),
    )
}

fn certificate_object(
    tls: &TlsPlan,
    certificate: &CertificatePlan,
    labels: &BTreeMap<String, String>,
) -> Value {
    let usage = if certificate.client {
        "client auth"
    } else {
        "server auth"
    };
    let mut spec = json!({
        "secretName": certificate.name,
        "commonName": certificate.dns_names[0],
        "dnsNames": certificate.dns_names,
        "duration": "2160h",
        "renewBefore": "720h",
        "privateKey": { "algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always" },
        "usages": ["digital signature", usage],
        "issuerRef": issuer_ref(tls.issuer(certificate.issuer)),
    });
    if let Some((secret, key)) = &certificate.pkcs12_password {
        spec["keystores"] = json!({ "pkcs12": {
            "create": true,
            "profile": "Modern2023",
            "passwordSecretRef": { "name": secret, "key": key },
        }});
    }
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": { "name": certificate.name, "namespace": certificate.namespace, "labels": labels },
        "spec": spec,
    })
}
