//! The policy rules: Pod Security Standards "restricted" in full, resources, probes,
//! image pinning, network isolation, TLS, secret hygiene, exposure, availability.
//! Each rule has a stable id, a severity, a fix hint and a docs line; each check is a
//! pure function of one object and the [`Context`] of all objects.

use std::collections::BTreeSet;

use crate::value::Value;

use super::{Context, Subject};
use crate::diag::Severity;
use crate::kube::{self, At, items, str_at};

/// A policy rule.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule requires.
    pub summary: &'static str,
    /// How to fix a finding.
    pub help: &'static str,
    /// Why the rule exists (the docs line).
    pub docs: &'static str,
    pub(super) check: fn(&Subject, &Context) -> Vec<Hit>,
}

/// One violation inside one object: JSON pointer and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub path: String,
    pub message: String,
}

fn hit(path: impl Into<String>, message: impl Into<String>) -> Hit {
    Hit {
        path: path.into(),
        message: message.into(),
    }
}

/// The id of the rule that validates objects against their strict schema.
pub const SCHEMA: &str = "schema";

/// Every rule, in report order.
pub static RULES: &[Rule] = &[
    Rule {
        id: SCHEMA,
        severity: Severity::Error,
        summary: "objects match the strict Kubernetes 1.34 / CRD schema of their kind (unknown fields are errors)",
        help: "fix the field named in the message; see `kubectl explain <kind>.<path>`",
        docs: "The API server rejects or silently drops what the schema does not allow (kubeconform --strict).",
        check: schema,
    },
    Rule {
        id: "run-as-non-root",
        severity: Severity::Error,
        summary: "pods run as a non-root user",
        help: "set securityContext.runAsNonRoot: true and a non-zero runAsUser",
        docs: "Pod Security restricted: a container running as root owns the node after one escape.",
        check: run_as_non_root,
    },
    Rule {
        id: "no-privilege-escalation",
        severity: Severity::Error,
        summary: "containers set allowPrivilegeEscalation: false",
        help: "set securityContext.allowPrivilegeEscalation: false on every container",
        docs: "Pod Security restricted: setuid binaries must not gain privileges.",
        check: no_privilege_escalation,
    },
    Rule {
        id: "drop-all-capabilities",
        severity: Severity::Error,
        summary: "containers drop ALL capabilities (may add back only NET_BIND_SERVICE)",
        help: "set securityContext.capabilities.drop: [ALL]",
        docs: "Pod Security restricted: Linux capabilities are root powers in pieces.",
        check: drop_all_capabilities,
    },
    Rule {
        id: "seccomp-profile",
        severity: Severity::Error,
        summary: "pods use the RuntimeDefault (or Localhost) seccomp profile",
        help: "set securityContext.seccompProfile.type: RuntimeDefault",
        docs: "Pod Security restricted: seccomp blocks the syscalls most kernel exploits need.",
        check: seccomp_profile,
    },
    Rule {
        id: "no-privileged",
        severity: Severity::Error,
        summary: "no privileged containers",
        help: "remove securityContext.privileged: true",
        docs: "Pod Security baseline: a privileged container is root on the node.",
        check: no_privileged,
    },
    Rule {
        id: "no-host-namespaces",
        severity: Severity::Error,
        summary: "no hostNetwork, hostPID or hostIPC",
        help: "remove hostNetwork/hostPID/hostIPC from the pod spec",
        docs: "Pod Security baseline: sharing the node's namespaces breaks pod isolation.",
        check: no_host_namespaces,
    },
    Rule {
        id: "no-host-path",
        severity: Severity::Error,
        summary: "no hostPath volumes",
        help: "use a PersistentVolumeClaim, emptyDir, ConfigMap or Secret volume",
        docs: "Pod Security baseline: hostPath gives access to the node's filesystem.",
        check: no_host_path,
    },
    Rule {
        id: "no-host-ports",
        severity: Severity::Error,
        summary: "no hostPort on containers",
        help: "expose the port through a Service instead",
        docs: "Pod Security baseline: host ports bypass NetworkPolicies and collide between pods.",
        check: no_host_ports,
    },
    Rule {
        id: "read-only-root-filesystem",
        severity: Severity::Warning,
        summary: "containers have a read-only root filesystem",
        help: "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app writes",
        docs: "Hardening: an immutable root filesystem stops tampering with binaries.",
        check: read_only_root,
    },
    Rule {
        id: "resource-requests",
        severity: Severity::Error,
        summary: "containers request CPU and memory",
        help: "set resources.requests.cpu and resources.requests.memory",
        docs: "Without requests the scheduler overcommits nodes and HPAs cannot compute utilisation.",
        check: resource_requests,
    },
    Rule {
        id: "resource-limits",
        severity: Severity::Error,
        summary: "containers have a memory limit",
        help: "set resources.limits.memory (a CPU limit is not required: it throttles)",
        docs: "A memory leak without a limit takes the node down with it.",
        check: resource_limits,
    },
    Rule {
        id: "liveness-probe",
        severity: Severity::Error,
        summary: "long-running containers have a liveness probe",
        help: "add a livenessProbe (httpGet, tcpSocket or exec)",
        docs: "A hung process without a liveness probe is never restarted.",
        check: liveness_probe,
    },
    Rule {
        id: "readiness-probe",
        severity: Severity::Error,
        summary: "long-running containers have a readiness probe",
        help: "add a readinessProbe",
        docs: "Without readiness, traffic reaches pods before they can serve it.",
        check: readiness_probe,
    },
    Rule {
        id: "image-tag",
        severity: Severity::Error,
        summary: "images are pinned: no `:latest`, no untagged images",
        help: "use an explicit version tag or a digest",
        docs: "A moving tag makes two renders of the same commit run different code.",
        check: image_tag,
    },
    Rule {
        id: "image-digest",
        severity: Severity::Error,
        summary: "in pinned environments every image has a sha256 digest",
        help: "append @sha256:<digest> to the image reference",
        docs: "Tags are mutable; a digest is the only reference a registry cannot change.",
        check: image_digest,
    },
    Rule {
        id: "default-deny-network-policy",
        severity: Severity::Error,
        summary: "every namespace with workloads has a default-deny NetworkPolicy",
        help: "add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules",
        docs: "Without default-deny, every pod can reach every other pod (the seeds ask for strict isolation).",
        check: default_deny,
    },
    Rule {
        id: "ingress-tls",
        severity: Severity::Error,
        summary: "every Ingress terminates TLS for all its hosts",
        help: "add spec.tls with a secretName covering every host",
        docs: "Plain HTTP leaks credentials and session cookies.",
        check: ingress_tls,
    },
    Rule {
        id: "no-inline-secret-data",
        severity: Severity::Error,
        summary: "no Secret objects with inline data in git",
        help: "deliver the secret through the secret provider (ExternalSecret, InfisicalSecret)",
        docs: "Secrets committed to git are readable by everyone with the repository (the seeds' plaintext passwords).",
        check: no_inline_secret,
    },
    Rule {
        id: "loadbalancer-annotation",
        severity: Severity::Error,
        summary: "type LoadBalancer only with the allow annotation",
        help: "expose through the Ingress, or annotate the Service with policy.stackc.dev/allow-load-balancer: \"true\"",
        docs: "Every LoadBalancer is a public IP and a bill; exposure must be deliberate.",
        check: load_balancer,
    },
    Rule {
        id: "pdb-for-replicas",
        severity: Severity::Error,
        summary: "workloads with more than one replica have a PodDisruptionBudget",
        help: "add a PodDisruptionBudget selecting the pods (maxUnavailable: 1)",
        docs: "Node drains evict all replicas at once without a PDB.",
        check: pdb_for_replicas,
    },
];

/// The annotation that allows a Service of type LoadBalancer.
pub const ALLOW_LOAD_BALANCER: &str = "policy.stackc.dev/allow-load-balancer";

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Every container of a workload (init containers included), with where it is.
fn containers<'a>(s: &'a Subject) -> Vec<(ContainerAt, &'a Value)> {
    let Some(base) = kube::pod_spec_pointer(&s.kind) else {
        return Vec::new();
    };
    let Some(spec) = s.body.at(base) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        let listed = spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for (index, c) in listed.enumerate() {
            out.push((ContainerAt { base, list, index }, c));
        }
    }
    out
}

/// The JSON pointer of a container in its workload (`<pod spec>/<list>/<index>`), written
/// out only when a rule has a hit there: every rule asks for every container.
struct ContainerAt {
    base: &'static str,
    list: &'static str,
    index: usize,
}

impl ContainerAt {
    fn is_init(&self) -> bool {
        self.list == "initContainers"
    }
}

impl std::fmt::Display for ContainerAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.base, self.list, self.index)
    }
}

/// A hit at `<container><suffix>` for every container `fails`: "container `x` <what>".
fn failing_containers(
    s: &Subject,
    suffix: &str,
    what: &str,
    fails: impl Fn(&Value) -> bool,
) -> Vec<Hit> {
    containers(s)
        .into_iter()
        .filter(|(_, c)| fails(c))
        .map(|(path, c)| {
            hit(
                format!("{path}{suffix}"),
                format!("container `{}` {what}", name_of(c)),
            )
        })
        .collect()
}

fn pod_spec<'a>(s: &'a Subject) -> Option<(&'static str, &'a Value)> {
    let base = kube::pod_spec_pointer(&s.kind)?;
    Some((base, s.body.at(base)?))
}

fn name_of(c: &Value) -> &str {
    str_at(c, "/name").unwrap_or("?")
}

/// A container setting that may come from the pod's securityContext.
fn effective<'a>(pod: &'a Value, container: &'a Value, field: &str) -> Option<&'a Value> {
    let set = |on: &'a Value| on.get("securityContext").and_then(|sc| sc.get(field));
    set(container).or_else(|| set(pod))
}

fn run_as_non_root(s: &Subject, _: &Context) -> Vec<Hit> {
    let Some((_, pod)) = pod_spec(s) else {
        return vec![];
    };
    let mut hits = Vec::new();
    for (path, c) in containers(s) {
        let non_root = effective(pod, c, "runAsNonRoot") == Some(&Value::Bool(true));
        let uid = effective(pod, c, "runAsUser").and_then(Value::as_i64);
        if uid == Some(0) {
            hits.push(hit(
                format!("{path}/securityContext/runAsUser"),
                format!("container `{}` runs as uid 0", name_of(c)),
            ));
        } else if !non_root {
            hits.push(hit(
                format!("{path}/securityContext"),
                format!(
                    "container `{}` may run as root (runAsNonRoot is not true)",
                    name_of(c)
                ),
            ));
        }
    }
    hits
}

fn no_privilege_escalation(s: &Subject, _: &Context) -> Vec<Hit> {
    failing_containers(
        s,
        "/securityContext",
        "does not set allowPrivilegeEscalation: false",
        |c| c.at("/securityContext/allowPrivilegeEscalation") != Some(&Value::Bool(false)),
    )
}

fn drop_all_capabilities(s: &Subject, _: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (path, c) in containers(s) {
        let drops_all = items(c, "/securityContext/capabilities/drop").any(|v| v == "ALL");
        if !drops_all {
            hits.push(hit(
                format!("{path}/securityContext/capabilities"),
                format!("container `{}` does not drop ALL capabilities", name_of(c)),
            ));
        }
        for added in items(c, "/securityContext/capabilities/add").filter_map(Value::as_str) {
            if added != "NET_BIND_SERVICE" {
                hits.push(hit(
                    format!("{path}/securityContext/capabilities/add"),
                    format!("container `{}` adds capability {added}", name_of(c)),
                ));
            }
        }
    }
    hits
}

fn seccomp_profile(s: &Subject, _: &Context) -> Vec<Hit> {
    let Some((_, pod)) = pod_spec(s) else {
        return vec![];
    };
    failing_containers(
        s,
        "/securityContext",
        "has no RuntimeDefault seccomp profile",
        |c| {
            let kind = effective(pod, c, "seccompProfile").and_then(|p| str_at(p, "/type"));
            !matches!(kind, Some("RuntimeDefault" | "Localhost"))
        },
    )
}

fn no_privileged(s: &Subject, _: &Context) -> Vec<Hit> {
    failing_containers(s, "/securityContext/privileged", "is privileged", |c| {
        c.at("/securityContext/privileged") == Some(&Value::Bool(true))
    })
}

fn no_host_namespaces(s: &Subject, _: &Context) -> Vec<Hit> {
    let Some((base, pod)) = pod_spec(s) else {
        return vec![];
    };
    ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|f| pod.get(f) == Some(&Value::Bool(true)))
        .map(|f| hit(format!("{base}/{f}"), format!("the pod sets {f}: true")))
        .collect()
}

fn no_host_path(s: &Subject, _: &Context) -> Vec<Hit> {
    let Some((base, pod)) = pod_spec(s) else {
        return vec![];
    };
    items(pod, "/volumes")
        .enumerate()
        .filter(|(_, v)| v.get("hostPath").is_some())
        .map(|(i, v)| {
            hit(
                format!("{base}/volumes/{i}/hostPath"),
                format!("volume `{}` mounts a hostPath", name_of(v)),
            )
        })
        .collect()
}

fn no_host_ports(s: &Subject, _: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (path, c) in containers(s) {
        for (i, p) in items(c, "/ports").enumerate() {
            if p.get("hostPort")
                .and_then(Value::as_i64)
                .is_some_and(|n| n != 0)
            {
                hits.push(hit(
                    format!("{path}/ports/{i}/hostPort"),
                    format!("container `{}` binds a host port", name_of(c)),
                ));
            }
        }
    }
    hits
}

fn read_only_root(s: &Subject, _: &Context) -> Vec<Hit> {
    failing_containers(
        s,
        "/securityContext",
        "has a writable root filesystem",
        |c| c.at("/securityContext/readOnlyRootFilesystem") != Some(&Value::Bool(true)),
    )
}

fn resource_requests(s: &Subject, _: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (path, c) in containers(s) {
        for r in ["cpu", "memory"] {
            if c.at("/resources/requests").and_then(|q| q.get(r)).is_none() {
                hits.push(hit(
                    format!("{path}/resources"),
                    format!("container `{}` has no {r} request", name_of(c)),
                ));
            }
        }
    }
    hits
}

fn resource_limits(s: &Subject, _: &Context) -> Vec<Hit> {
    failing_containers(s, "/resources", "has no memory limit", |c| {
        c.at("/resources/limits/memory").is_none()
    })
}

fn probe(s: &Subject, field: &str, what: &str) -> Vec<Hit> {
    if !kube::is_long_running(&s.kind) {
        return vec![];
    }
    containers(s)
        .into_iter()
        .filter(|(at, _)| !at.is_init())
        .filter(|(_, c)| c.get(field).is_none())
        .map(|(at, c)| {
            hit(
                at.to_string(),
                format!("container `{}` has no {what} probe", name_of(c)),
            )
        })
        .collect()
}

fn liveness_probe(s: &Subject, _: &Context) -> Vec<Hit> {
    probe(s, "livenessProbe", "liveness")
}

fn readiness_probe(s: &Subject, _: &Context) -> Vec<Hit> {
    probe(s, "readinessProbe", "readiness")
}

/// The tag of an image reference, if any (a digest-only reference has none).
fn image_tag_of(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':').map(|(_, tag)| tag)
}

fn image_tag(s: &Subject, _: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (path, c) in containers(s) {
        let image = str_at(c, "/image").unwrap_or_default();
        let pinned_by_digest = image.contains("@sha256:");
        match image_tag_of(image) {
            Some("latest") if !pinned_by_digest => hits.push(hit(
                format!("{path}/image"),
                format!("container `{}` uses `{image}`: `latest` moves", name_of(c)),
            )),
            None if !pinned_by_digest => hits.push(hit(
                format!("{path}/image"),
                format!("container `{}` uses untagged image `{image}`", name_of(c)),
            )),
            _ => {}
        }
    }
    hits
}

fn image_digest(s: &Subject, ctx: &Context) -> Vec<Hit> {
    if !ctx.pinned {
        return vec![];
    }
    containers(s)
        .into_iter()
        .filter(|(_, c)| !str_at(c, "/image").unwrap_or_default().contains("@sha256:"))
        .map(|(path, c)| {
            hit(
                format!("{path}/image"),
                format!(
                    "container `{}` image has no digest, and this environment is pinned",
                    name_of(c)
                ),
            )
        })
        .collect()
}

fn default_deny(s: &Subject, ctx: &Context) -> Vec<Hit> {
    // Reported once per namespace, on the namespace's first workload.
    let Some(ns) = s.namespace.as_deref() else {
        return vec![];
    };
    if kube::pod_spec_pointer(&s.kind).is_none()
        || ctx.default_deny.contains(ns)
        || ctx.first_workload(ns) != Some(s.id.as_str())
    {
        return vec![];
    }
    vec![hit(
        "/metadata/namespace",
        format!("namespace `{ns}` has no default-deny NetworkPolicy"),
    )]
}

fn ingress_tls(s: &Subject, _: &Context) -> Vec<Hit> {
    if s.kind != "Ingress" {
        return vec![];
    }
    let tls: Vec<&Value> = items(s.body, "/spec/tls").collect();
    if tls.is_empty() {
        return vec![hit("/spec", "the Ingress has no tls section")];
    }
    // A tls entry without hosts covers every host (the controller's default certificate).
    if tls.iter().any(|t| t.get("hosts").is_none()) {
        return vec![];
    }
    let covered: BTreeSet<&str> = tls
        .iter()
        .flat_map(|t| items(t, "/hosts"))
        .filter_map(Value::as_str)
        .collect();
    let wildcard_covers = |h: &str| {
        covered.iter().any(|c| {
            c.strip_prefix("*.")
                .is_some_and(|d| h.split_once('.').is_some_and(|(_, rest)| rest == d))
        })
    };
    let mut hits: Vec<Hit> = Vec::new();
    for rule in items(s.body, "/spec/rules") {
        match str_at(rule, "/host") {
            Some(h) if !covered.contains(h) && !wildcard_covers(h) => hits.push(hit(
                "/spec/tls",
                format!("host `{h}` is served without TLS"),
            )),
            None => hits.push(hit(
                "/spec/rules",
                "a rule without host serves every name, and tls lists hosts",
            )),
            _ => {}
        }
    }
    hits
}

fn no_inline_secret(s: &Subject, _: &Context) -> Vec<Hit> {
    if s.kind != "Secret" {
        return vec![];
    }
    // Values SOPS encrypted (`ENC[...]`) are not plain text.
    let plain = |m: &crate::value::Map| {
        m.values()
            .any(|v| !v.as_str().is_some_and(|v| v.starts_with("ENC[")))
    };
    ["data", "stringData"]
        .into_iter()
        .filter(|f| s.body.get(f).and_then(Value::as_object).is_some_and(plain))
        .map(|f| hit(format!("/{f}"), format!("the Secret carries inline {f}")))
        .collect()
}

fn load_balancer(s: &Subject, _: &Context) -> Vec<Hit> {
    if s.kind != "Service" || str_at(s.body, "/spec/type") != Some("LoadBalancer") {
        return vec![];
    }
    let allowed = s
        .body
        .at("/metadata/annotations")
        .and_then(|a| a.get(ALLOW_LOAD_BALANCER))
        .and_then(Value::as_str)
        == Some("true");
    if allowed {
        vec![]
    } else {
        vec![hit(
            "/spec/type",
            "type LoadBalancer without the allow annotation",
        )]
    }
}

fn pdb_for_replicas(s: &Subject, ctx: &Context) -> Vec<Hit> {
    if !matches!(s.kind.as_str(), "Deployment" | "StatefulSet") {
        return vec![];
    }
    let replicas = s
        .body
        .at("/spec/replicas")
        .and_then(Value::as_i64)
        .or_else(|| ctx.hpa_min(s))
        .unwrap_or(1);
    if replicas <= 1 || ctx.has_pdb(s) {
        return vec![];
    }
    vec![hit(
        "/spec/replicas",
        format!("{replicas} replicas and no PodDisruptionBudget"),
    )]
}

fn schema(s: &Subject, _: &Context) -> Vec<Hit> {
    let api_version = str_at(s.body, "/apiVersion").unwrap_or_default();
    match crate::validate::schema::validate(s.body) {
        Some(errors) => errors.into_iter().map(|e| hit(e.path, e.message)).collect(),
        None => {
            // A kind stackc knows under another apiVersion: the version is not served.
            let served = crate::validate::schema::api_versions_of(&s.kind);
            if served.is_empty() {
                vec![]
            } else if api_version.is_empty() {
                vec![hit(
                    "/",
                    format!(
                        "apiVersion is missing; {} is {}",
                        s.kind,
                        served.join(" or ")
                    ),
                )]
            } else {
                vec![hit(
                    "/apiVersion",
                    format!(
                        "{api_version} {} is not served; use {}",
                        s.kind,
                        served.join(" or ")
                    ),
                )]
            }
        }
    }
}
