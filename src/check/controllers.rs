//! The `controllers` layer's add-ons: which charts the stack needs (derived from what it
//! uses, never listed by hand) and their version pins (stackc's defaults, overridden in
//! `[controllers]`). A pin for an add-on the stack does not use is reported, so a stale
//! pin is not mistaken for an installed controller.

use serde_json::json;

use super::Ctx;
use crate::diag::Diagnostic;
use crate::model::tls::Controllers;
use crate::plan::{Component, ControllerPlan, SecretsProvider, TlsPlan};

/// A chart stackc knows how to install, with its default pin.
struct Chart {
    key: &'static str,
    namespace: &'static str,
    repository: &'static str,
    chart: &'static str,
    version: &'static str,
}

const CERT_MANAGER: Chart = Chart {
    key: "cert-manager",
    namespace: super::tls::CERT_MANAGER_NAMESPACE,
    repository: "https://charts.jetstack.io",
    chart: "cert-manager",
    version: "v1.19.1",
};
const INGRESS_NGINX: Chart = Chart {
    key: "ingress-nginx",
    namespace: "ingress-nginx",
    repository: "https://kubernetes.github.io/ingress-nginx",
    chart: "ingress-nginx",
    version: "4.13.3",
};
const EXTERNAL_SECRETS: Chart = Chart {
    key: "external-secrets",
    namespace: "external-secrets",
    repository: "https://charts.external-secrets.io",
    chart: "external-secrets",
    version: "0.20.4",
};
const INFISICAL: Chart = Chart {
    key: "infisical",
    namespace: "infisical-operator",
    repository: "https://dl.cloudsmith.io/public/infisical/helm-charts/helm/charts/",
    chart: "secrets-operator",
    version: "0.10.3",
};

/// The add-ons this environment needs, sorted by name.
pub(super) fn controllers(
    ctx: &mut Ctx,
    pins: &Controllers,
    tls: Option<&TlsPlan>,
    secrets: Option<&SecretsProvider>,
    components: &[Component],
) -> Vec<ControllerPlan> {
    let ingress = components.iter().any(|c| matches!(c, Component::Coder(_)));
    let wanted = [
        (&CERT_MANAGER, tls.is_some(), &pins.cert_manager),
        (&INGRESS_NGINX, ingress, &pins.ingress_nginx),
        (
            &EXTERNAL_SECRETS,
            matches!(secrets, Some(SecretsProvider::ExternalSecrets { .. })),
            &pins.external_secrets,
        ),
        (
            &INFISICAL,
            matches!(secrets, Some(SecretsProvider::Infisical { .. })),
            &pins.infisical,
        ),
    ];
    let mut out = Vec::new();
    for (chart, used, pin) in wanted {
        if !used {
            if pin.is_some() {
                unused_pin(ctx, chart.key);
            }
            continue;
        }
        let version = pin.clone().unwrap_or_else(|| chart.version.into());
        if version.is_empty() || version.contains(char::is_whitespace) {
            let span = ctx.value_span(&["controllers", chart.key]);
            ctx.report(
                Diagnostic::error(
                    "invalid-value",
                    format!("`{version}` is not a chart version"),
                )
                .at(span)
                .help(format!("pin an exact version, e.g. \"{}\"", chart.version)),
            );
        }
        out.push(ControllerPlan {
            name: chart.key.into(),
            namespace: chart.namespace.into(),
            repository: chart.repository.into(),
            chart: chart.chart.into(),
            version,
            values: values(chart.key),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn unused_pin(ctx: &mut Ctx, key: &str) {
    let span = ctx.key_span(&["controllers", key]);
    ctx.report(
        Diagnostic::warning(
            "unused-controller",
            format!(
                "`{key}` is pinned, and nothing in this stack needs it, so it is not installed"
            ),
        )
        .at(span)
        .help("remove the pin, or add what needs it (e.g. [tls] for cert-manager)"),
    );
}

/// The chart values stackc installs each add-on with.
fn values(key: &str) -> serde_json::Value {
    match key {
        // CRDs come with the chart and stay when it is uninstalled (deleting them would
        // delete every Certificate in the cluster).
        "cert-manager" => json!({ "crds": { "enabled": true, "keep": true } }),
        "ingress-nginx" => json!({ "controller": {
            "ingressClassResource": { "name": super::tls::INGRESS_CLASS, "default": true },
            "allowSnippetAnnotations": false,
            "metrics": { "enabled": true },
        }}),
        "external-secrets" => json!({ "installCRDs": true }),
        _ => json!({}),
    }
}
