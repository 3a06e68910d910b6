//! Cross-object references over one environment's rendered objects: what no schema can
//! see. Every name one object uses to point at another must resolve within the output
//! (or to something the cluster provides by construction, such as built-in ClusterRoles).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::value::{Map, Value};

use crate::kube::{self, At, items, selects as matches, str_at};
use crate::object::Object;

/// One broken reference: the object holding it, a stable code, what is wrong, how to fix it.
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    pub object: &'a Object,
    pub code: &'static str,
    pub message: String,
    pub help: &'static str,
}

type Key<'a> = (&'a str, Option<&'a str>, &'a str);

/// Objects by (kind, namespace, name), plus the Secrets that something in the output produces.
struct Index<'a> {
    objects: HashMap<Key<'a>, &'a Object>,
    produced_secrets: BTreeSet<(String, String)>,
}

impl<'a> Index<'a> {
    fn new(objects: &'a [Object]) -> Self {
        let objects_by_key = objects
            .iter()
            .map(|o| {
                (
                    (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()),
                    o,
                )
            })
            .collect();
        let mut produced = BTreeSet::new();
        for o in objects {
            let ns = o.namespace.clone().unwrap_or_default();
            let text = |p: &str| o.body.at(p).and_then(Value::as_str).map(str::to_owned);
            match o.kind.as_str() {
                "Secret" => {
                    produced.insert((ns.clone(), o.name.clone()));
                }
                "ExternalSecret" => {
                    produced.insert((
                        ns.clone(),
                        text("/spec/target/name").unwrap_or_else(|| o.name.clone()),
                    ));
                }
                "Certificate" => {
                    if let Some(secret) = text("/spec/secretName") {
                        produced.insert((ns.clone(), secret));
                    }
                }
                "InfisicalSecret" => {
                    let refs = o
                        .body
                        .at("/spec/managedKubeSecretReferences")
                        .and_then(Value::as_array);
                    for r in refs.into_iter().flatten() {
                        let name = r
                            .get("secretName")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let rns = r
                            .get("secretNamespace")
                            .and_then(Value::as_str)
                            .unwrap_or(&ns);
                        produced.insert((rns.to_owned(), name.to_owned()));
                    }
                }
                _ => {}
            }
        }
        Index {
            objects: objects_by_key,
            produced_secrets: produced,
        }
    }

    fn get(&self, kind: &str, ns: Option<&str>, name: &str) -> Option<&'a Object> {
        self.objects.get(&(kind, ns, name)).copied()
    }
}

fn pod_template(object: &Object) -> Option<(&Value, Option<&Map>)> {
    kube::pod_template(&object.body)
}

/// A workload, its pod spec and its pod labels.
type Workload<'a> = (&'a Object, &'a Value, Option<&'a Map>);

/// Every broken reference in `objects`.
pub fn check<'a>(objects: &'a [Object]) -> Vec<Problem<'a>> {
    let index = Index::new(objects);
    // Workloads by namespace: selectors only ever look within their own.
    let mut workloads: HashMap<Option<&str>, Vec<Workload>> = HashMap::new();
    for o in objects {
        if let Some((spec, labels)) = pod_template(o) {
            workloads
                .entry(o.namespace.as_deref())
                .or_default()
                .push((o, spec, labels));
        }
    }
    let mut problems = Vec::new();
    let mut report =
        |object: &'a Object, code: &'static str, message: String, help: &'static str| {
            problems.push(Problem {
                object,
                code,
                message,
                help,
            });
        };
    for object in objects {
        let ns = object.namespace.as_deref();
        let selected = |selector: &Map| -> Vec<&Value> {
            workloads
                .get(&ns)
                .into_iter()
                .flatten()
                .filter(|(_, _, labels)| matches(selector, *labels))
                .map(|(_, spec, _)| *spec)
                .collect()
        };
        match object.kind.as_str() {
            "Service" => {
                let Some(selector) = object.body.at("/spec/selector").and_then(Value::as_object)
                else {
                    continue;
                };
                let pods = selected(selector);
                if pods.is_empty() {
                    report(
                        object,
                        "selector-matches-nothing",
                        "selects no pod template".into(),
                        "make the Service's selector match a workload's pod labels",
                    );
                    continue;
                }
                for port in items(&object.body, "/spec/ports") {
                    if let Some(name) = port.get("targetPort").and_then(Value::as_str)
                        && !pods.iter().any(|spec| container_port_named(spec, name))
                    {
                        report(
                            object,
                            "unknown-port",
                            format!(
                                "targetPort `{name}` is not a container port of the selected pods"
                            ),
                            "name a port the container declares",
                        );
                    }
                }
            }
            "PodDisruptionBudget" => {
                if let Some(selector) = object
                    .body
                    .at("/spec/selector/matchLabels")
                    .and_then(Value::as_object)
                    && selected(selector).is_empty()
                {
                    report(
                        object,
                        "selector-matches-nothing",
                        "selects no pod template".into(),
                        "make the selector match a workload's pod labels",
                    );
                }
            }
            "HorizontalPodAutoscaler" => {
                let kind = str_at(&object.body, "/spec/scaleTargetRef/kind").unwrap_or_default();
                let name = str_at(&object.body, "/spec/scaleTargetRef/name").unwrap_or_default();
                match index.get(kind, ns, name) {
                    None => report(
                        object,
                        "missing-target",
                        format!("scales {kind}/{name}, which is not in the output"),
                        "point the HPA at a rendered workload",
                    ),
                    Some(target) => {
                        let on_cpu = items(&object.body, "/spec/metrics")
                            .any(|m| str_at(m, "/resource/name") == Some("cpu"));
                        let spec = pod_template(target).map(|(spec, _)| spec);
                        let all_request_cpu = spec.is_some_and(|spec| {
                            items(spec, "/containers")
                                .all(|c| c.at("/resources/requests/cpu").is_some())
                        });
                        if on_cpu && !all_request_cpu {
                            report(
                                object,
                                "hpa-without-cpu-request",
                                format!(
                                    "scales {kind}/{name} on CPU, but its containers have no CPU request"
                                ),
                                "give every container of the target a CPU request",
                            );
                        }
                    }
                }
            }
            "Ingress" => {
                let backends = items(&object.body, "/spec/rules")
                    .flat_map(|r| items(r, "/http/paths"))
                    .filter_map(|p| p.at("/backend/service"))
                    .chain(object.body.at("/spec/defaultBackend/service"));
                for tls in items(&object.body, "/spec/tls") {
                    let secret = str_at(tls, "/secretName").unwrap_or_default();
                    let key = (ns.unwrap_or_default().to_owned(), secret.to_owned());
                    if !index.produced_secrets.contains(&key) {
                        report(
                            object,
                            "missing-secret",
                            format!(
                                "serves TLS from Secret {secret}, which nothing in the output produces"
                            ),
                            "add [tls] so cert-manager issues the host's certificate, or name a Secret a Certificate produces",
                        );
                    }
                }
                for backend in backends {
                    let name = str_at(backend, "/name").unwrap_or_default();
                    match index.get("Service", ns, name) {
                        None => report(
                            object,
                            "missing-target",
                            format!("routes to Service {name}, which is not in the output"),
                            "route to a rendered Service",
                        ),
                        Some(service) => {
                            let port_ok =
                                match (str_at(backend, "/port/name"), backend.at("/port/number")) {
                                    (Some(port), _) => items(&service.body, "/spec/ports")
                                        .any(|p| str_at(p, "/name") == Some(port)),
                                    (None, Some(number)) => items(&service.body, "/spec/ports")
                                        .any(|p| p.get("port") == Some(number)),
                                    (None, None) => false,
                                };
                            if !port_ok {
                                report(
                                    object,
                                    "unknown-port",
                                    format!("routes to a port Service {name} does not expose"),
                                    "use a port name or number of the Service",
                                );
                            }
                        }
                    }
                }
            }
            "Certificate" => {
                let issuer = str_at(&object.body, "/spec/issuerRef/name").unwrap_or_default();
                let (kind, issuer_ns) = match str_at(&object.body, "/spec/issuerRef/kind") {
                    Some("ClusterIssuer") => ("ClusterIssuer", None),
                    _ => ("Issuer", ns),
                };
                if index.get(kind, issuer_ns, issuer).is_none() {
                    report(
                        object,
                        "missing-target",
                        format!("is signed by {kind} {issuer}, which is not in the output"),
                        "issue certificates from the stack's issuers ([tls])",
                    );
                }
            }
            "ServiceMonitor" => service_monitor(object, objects, &mut report),
            "RoleBinding" | "ClusterRoleBinding" => role_binding(object, &index, &mut report),
            "Kustomization" | "HelmRelease" => flux_refs(object, &index, &mut report),
            _ => {}
        }
        if let Some((spec, _)) = pod_template(object) {
            pod_refs(object, spec, &index, &mut report);
        }
    }
    let cycle = flux_cycle(objects);
    if let Some((object, path)) = cycle {
        report(
            object,
            "dependency-cycle",
            format!("Flux dependsOn forms a cycle: {}", path.join(" -> ")),
            "break the cycle: layers depend on earlier layers only",
        );
    }
    problems
}

fn container_port_named(spec: &Value, name: &str) -> bool {
    items(spec, "/containers").any(|c| items(c, "/ports").any(|p| str_at(p, "/name") == Some(name)))
}

fn pod_refs<'a>(
    object: &'a Object,
    spec: &Value,
    index: &Index,
    report: &mut impl FnMut(&'a Object, &'static str, String, &'static str),
) {
    let ns = object.namespace.as_deref();
    let ns_owned = ns.unwrap_or_default().to_owned();
    let secret_exists = |name: &str| {
        index
            .produced_secrets
            .contains(&(ns_owned.clone(), name.to_owned()))
    };
    let config_map = |name: &str| index.get("ConfigMap", ns, name);
    let missing_secret = |name: &str,
                          report: &mut dyn FnMut(
        &'a Object,
        &'static str,
        String,
        &'static str,
    )| {
        if !secret_exists(name) {
            report(
                object,
                "missing-secret",
                format!("uses Secret {name}, which nothing in the output produces"),
                "declare the secret through the stack's secret provider; stackc never renders secret values",
            );
        }
    };
    let containers: Vec<&Value> = items(spec, "/containers")
        .chain(items(spec, "/initContainers"))
        .collect();
    for container in &containers {
        for env in items(container, "/env") {
            let optional = |p: &str| env.at(p).and_then(Value::as_bool) == Some(true);
            if let Some(name) = str_at(env, "/valueFrom/secretKeyRef/name")
                && !optional("/valueFrom/secretKeyRef/optional")
            {
                missing_secret(name, report);
            }
            if let Some(name) = str_at(env, "/valueFrom/configMapKeyRef/name")
                && !optional("/valueFrom/configMapKeyRef/optional")
            {
                let key = str_at(env, "/valueFrom/configMapKeyRef/key").unwrap_or_default();
                match config_map(name) {
                    None => report(
                        object,
                        "missing-configmap",
                        format!("uses ConfigMap {name}, which is not in the output"),
                        "declare the ConfigMap in the stack",
                    ),
                    Some(cm) if cm.body.at("/data").and_then(|d| d.get(key)).is_none() => report(
                        object,
                        "missing-key",
                        format!("uses key `{key}` of ConfigMap {name}, which has no such key"),
                        "use a key the ConfigMap holds",
                    ),
                    Some(_) => {}
                }
            }
        }
        for from in items(container, "/envFrom") {
            if let Some(name) = str_at(from, "/secretRef/name") {
                missing_secret(name, report);
            }
            if let Some(name) = str_at(from, "/configMapRef/name")
                && config_map(name).is_none()
            {
                report(
                    object,
                    "missing-configmap",
                    format!("uses ConfigMap {name}, which is not in the output"),
                    "declare the ConfigMap in the stack",
                );
            }
        }
    }
    for volume in items(spec, "/volumes") {
        let sources = std::iter::once(volume).chain(items(volume, "/projected/sources"));
        for source in sources {
            if let Some(name) = str_at(source, "/configMap/name")
                && config_map(name).is_none()
                && source.at("/configMap/optional").and_then(Value::as_bool) != Some(true)
            {
                report(
                    object,
                    "missing-configmap",
                    format!("mounts ConfigMap {name}, which is not in the output"),
                    "declare the ConfigMap in the stack",
                );
            }
            let secret =
                str_at(source, "/secret/secretName").or_else(|| str_at(source, "/secret/name"));
            if let Some(name) = secret {
                missing_secret(name, report);
            }
        }
        if let Some(claim) = str_at(volume, "/persistentVolumeClaim/claimName")
            && index.get("PersistentVolumeClaim", ns, claim).is_none()
        {
            report(
                object,
                "missing-target",
                format!("mounts PersistentVolumeClaim {claim}, which is not in the output"),
                "declare the volume in the stack",
            );
        }
    }
    if let Some(sa) = str_at(spec, "/serviceAccountName")
        && sa != "default"
        && index.get("ServiceAccount", ns, sa).is_none()
    {
        report(
            object,
            "missing-target",
            format!("runs as ServiceAccount {sa}, which is not in the output"),
            "render the ServiceAccount with the workload",
        );
    }
}

fn service_monitor<'a>(
    object: &'a Object,
    objects: &'a [Object],
    report: &mut impl FnMut(&'a Object, &'static str, String, &'static str),
) {
    let Some(selector) = object
        .body
        .at("/spec/selector/matchLabels")
        .and_then(Value::as_object)
    else {
        return;
    };
    let namespaces: Vec<&str> = items(&object.body, "/spec/namespaceSelector/matchNames")
        .filter_map(Value::as_str)
        .collect();
    let services: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "Service")
        .filter(|o| {
            let ns = o.namespace.as_deref().unwrap_or_default();
            if namespaces.is_empty() {
                o.namespace == object.namespace
            } else {
                namespaces.contains(&ns)
            }
        })
        .filter(|o| {
            matches(
                selector,
                o.body.at("/metadata/labels").and_then(Value::as_object),
            )
        })
        .collect();
    if services.is_empty() {
        report(
            object,
            "selector-matches-nothing",
            "selects no Service".into(),
            "make the selector match a Service's labels",
        );
        return;
    }
    for endpoint in items(&object.body, "/spec/endpoints") {
        if let Some(port) = str_at(endpoint, "/port")
            && !services
                .iter()
                .any(|s| items(&s.body, "/spec/ports").any(|p| str_at(p, "/name") == Some(port)))
        {
            report(
                object,
                "unknown-port",
                format!("scrapes port `{port}`, which no selected Service names"),
                "use a named port of the Service",
            );
        }
    }
}

/// ClusterRoles every cluster has.
const BUILT_IN_CLUSTER_ROLES: &[&str] = &["cluster-admin", "admin", "edit", "view"];

fn role_binding<'a>(
    object: &'a Object,
    index: &Index,
    report: &mut impl FnMut(&'a Object, &'static str, String, &'static str),
) {
    let ns = object.namespace.as_deref();
    let role_kind = str_at(&object.body, "/roleRef/kind").unwrap_or_default();
    let role = str_at(&object.body, "/roleRef/name").unwrap_or_default();
    let role_ns = if role_kind == "Role" { ns } else { None };
    let built_in = role_kind == "ClusterRole"
        && (BUILT_IN_CLUSTER_ROLES.contains(&role) || role.starts_with("system:"));
    if !built_in && index.get(role_kind, role_ns, role).is_none() {
        report(
            object,
            "missing-target",
            format!("binds {role_kind} {role}, which is not in the output"),
            "render the role with the binding",
        );
    }
    for subject in items(&object.body, "/subjects") {
        if str_at(subject, "/kind") != Some("ServiceAccount") {
            continue;
        }
        let name = str_at(subject, "/name").unwrap_or_default();
        let subject_ns = str_at(subject, "/namespace").or(ns);
        if index.get("ServiceAccount", subject_ns, name).is_none() {
            report(
                object,
                "missing-target",
                format!(
                    "binds ServiceAccount {}/{name}, which is not in the output",
                    subject_ns.unwrap_or_default()
                ),
                "bind a rendered ServiceAccount",
            );
        }
    }
}

fn flux_refs<'a>(
    object: &'a Object,
    index: &Index,
    report: &mut impl FnMut(&'a Object, &'static str, String, &'static str),
) {
    let ns = object.namespace.as_deref();
    for dep in items(&object.body, "/spec/dependsOn") {
        let name = str_at(dep, "/name").unwrap_or_default();
        let dep_ns = str_at(dep, "/namespace").or(ns);
        if index.get(&object.kind, dep_ns, name).is_none() {
            report(
                object,
                "missing-target",
                format!(
                    "dependsOn {} {name}, which is not in the output",
                    object.kind
                ),
                "depend on a rendered object",
            );
        }
    }
    let source = object
        .body
        .at("/spec/sourceRef")
        .or_else(|| object.body.at("/spec/chart/spec/sourceRef"));
    if let Some(source) = source {
        let kind = str_at(source, "/kind").unwrap_or_default();
        let name = str_at(source, "/name").unwrap_or_default();
        let source_ns = str_at(source, "/namespace").or(ns);
        if index.get(kind, source_ns, name).is_none() {
            report(
                object,
                "missing-target",
                format!("pulls from {kind} {name}, which is not in the output"),
                "render the source with the stack",
            );
        }
    }
}

/// The first cycle in Flux dependsOn edges, if any.
fn flux_cycle(objects: &[Object]) -> Option<(&Object, Vec<String>)> {
    let mut edges: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    let mut by_name: BTreeMap<(&str, &str), &Object> = BTreeMap::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "Kustomization" || o.kind == "HelmRelease")
    {
        by_name.insert((o.kind.as_str(), o.name.as_str()), o);
        let deps = items(&o.body, "/spec/dependsOn")
            .filter_map(|d| str_at(d, "/name"))
            .collect();
        edges.insert((o.kind.as_str(), o.name.as_str()), deps);
    }
    fn visit<'a>(
        node: (&'a str, &'a str),
        edges: &BTreeMap<(&'a str, &'a str), Vec<&'a str>>,
        stack: &mut Vec<(&'a str, &'a str)>,
        done: &mut BTreeSet<(&'a str, &'a str)>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|n| *n == node) {
            let mut path: Vec<String> = stack[pos..].iter().map(|n| n.1.to_owned()).collect();
            path.push(node.1.to_owned());
            return Some(path);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for dep in edges.get(&node).into_iter().flatten() {
            if let Some(cycle) = visit((node.0, dep), edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(path) = visit(*node, &edges, &mut Vec::new(), &mut done) {
            return Some((by_name[node], path));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Layer;
    use crate::value::json;

    fn object(body: Value) -> Object {
        Object::new(Layer::Apps, None, &body)
    }

    fn deployment(name: &str, labels: Value, container: Value) -> Object {
        object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"serviceAccountName": name, "containers": [container]}}}
        }))
    }

    fn sa(name: &str) -> Object {
        object(
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "ns"}}),
        )
    }

    fn codes(objects: &[Object]) -> Vec<(&'static str, String)> {
        check(objects)
            .into_iter()
            .map(|p| (p.code, p.message))
            .collect()
    }

    #[test]
    fn a_consistent_set_has_no_problems() {
        let objects = vec![
            sa("web"),
            deployment(
                "web",
                json!({"app": "web"}),
                json!({"name": "web", "ports": [{"name": "http", "containerPort": 80}],
                "resources": {"requests": {"cpu": "100m"}}}),
            ),
            object(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
            ),
            object(
                json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu"}}]}}),
            ),
        ];
        assert_eq!(codes(&objects), vec![]);
    }

    #[test]
    fn services_must_select_pods_and_name_their_ports() {
        let objects = vec![
            sa("web"),
            deployment(
                "web",
                json!({"app": "web"}),
                json!({"name": "web", "ports": [{"name": "http", "containerPort": 80}]}),
            ),
            object(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "htp"}]}}),
            ),
            object(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ghost", "namespace": "ns"},
                "spec": {"selector": {"app": "ghost"}, "ports": [{"port": 80}]}}),
            ),
        ];
        let found = codes(&objects);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "unknown-port" && m.contains("htp")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|(c, _)| *c == "selector-matches-nothing"),
            "{found:?}"
        );
    }

    #[test]
    fn hpa_targets_exist_and_request_cpu() {
        let objects = vec![
            sa("web"),
            deployment("web", json!({"app": "web"}), json!({"name": "web"})),
            object(
                json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu"}}]}}),
            ),
            object(
                json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "gone", "namespace": "ns"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "gone"}, "maxReplicas": 3}}),
            ),
        ];
        let found = codes(&objects);
        assert!(
            found.iter().any(|(c, _)| *c == "hpa-without-cpu-request"),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "missing-target" && m.contains("gone")),
            "{found:?}"
        );
    }

    #[test]
    fn secrets_configmaps_and_service_accounts_must_exist() {
        let objects = vec![
            deployment(
                "api",
                json!({"app": "api"}),
                json!({"name": "api",
                "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db-password", "key": "pw"}}},
                        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "mode"}}}],
                "envFrom": [{"secretRef": {"name": "from-vault"}}]}),
            ),
            object(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config", "namespace": "ns"}, "data": {"other": "x"}}),
            ),
            object(
                json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "from-vault", "namespace": "ns"},
                "spec": {"target": {"name": "from-vault"}}}),
            ),
        ];
        let found = codes(&objects);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "missing-secret" && m.contains("db-password")),
            "{found:?}"
        );
        assert!(
            !found.iter().any(|(_, m)| m.contains("from-vault")),
            "an ExternalSecret produces its target: {found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "missing-key" && m.contains("mode")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "missing-target" && m.contains("ServiceAccount api")),
            "{found:?}"
        );
    }

    #[test]
    fn ingress_tls_needs_a_certificate_and_certificates_an_issuer() {
        let ingress = |secret: &str| {
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": secret, "namespace": "ns"},
                "spec": {"tls": [{"hosts": ["a.example.org"], "secretName": secret}]}}),
            )
        };
        let certificate = |name: &str, issuer: &str| {
            object(
                json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": name, "namespace": "ns"},
                "spec": {"secretName": name, "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"}}}),
            )
        };
        let issuer = object(
            json!({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "ca"}, "spec": {"selfSigned": {}}}),
        );
        let objects = vec![
            ingress("issued"),
            ingress("orphan"),
            certificate("issued", "ca"),
            certificate("unsigned", "nobody"),
            issuer,
        ];
        let found = codes(&objects);
        assert_eq!(
            found,
            vec![
                (
                    "missing-secret",
                    "serves TLS from Secret orphan, which nothing in the output produces".into()
                ),
                (
                    "missing-target",
                    "is signed by ClusterIssuer nobody, which is not in the output".into()
                ),
            ]
        );
    }

    #[test]
    fn bindings_ingresses_and_monitors_resolve() {
        let objects = vec![
            object(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "ns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "missing-role"},
                "subjects": [{"kind": "ServiceAccount", "name": "nobody"}]}),
            ),
            object(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "v"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": []}),
            ),
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i", "namespace": "ns"},
                "spec": {"rules": [{"host": "a.example.org", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "nosvc", "port": {"name": "http"}}}}]}}]}}),
            ),
            object(
                json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "m", "namespace": "ns"},
                "spec": {"selector": {"matchLabels": {"app": "none"}}, "endpoints": [{"port": "metrics"}]}}),
            ),
        ];
        let found = codes(&objects);
        assert!(
            found.iter().any(|(_, m)| m.contains("Role missing-role")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("ServiceAccount ns/nobody")),
            "{found:?}"
        );
        assert!(
            !found.iter().any(|(_, m)| m.contains("ClusterRole view")),
            "built-in roles exist: {found:?}"
        );
        assert!(
            found.iter().any(|(_, m)| m.contains("Service nosvc")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "selector-matches-nothing" && m.contains("Service")),
            "{found:?}"
        );
    }

    #[test]
    fn flux_dependencies_exist_and_are_acyclic() {
        let k = |name: &str, dep: &str| {
            object(
                json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": "flux-system"},
                "spec": {"dependsOn": [{"name": dep}], "sourceRef": {"kind": "GitRepository", "name": "repo"}}}),
            )
        };
        let repo = object(
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "repo", "namespace": "flux-system"}}),
        );
        let found = codes(&[repo.clone(), k("a", "b"), k("b", "a")]);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "dependency-cycle" && m.contains("a -> b -> a")),
            "{found:?}"
        );
        let found = codes(&[repo, k("a", "nope")]);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == "missing-target" && m.contains("nope")),
            "{found:?}"
        );
    }
}
