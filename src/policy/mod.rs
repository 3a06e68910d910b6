//! policy: rules over Kubernetes objects — the stack's own (during render) or any
//! directory of manifests (`stackc policy PATH`). Findings can be waived in stack.toml
//! with a reason and an optional expiry; an unused or expired waiver is a warning.
//! policy reads objects only; `input` is the one place it reads files (for PATH mode).

pub mod input;
pub mod report;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use crate::value::{Map, Value};

use crate::diag::{Diagnostic, Location, Severity};
use crate::kube::{self, At, items, str_at};
use crate::plan::{PolicyPlan, WaiverPlan};
use rules::{RULES, Rule};

/// One object under policy: where it is, and its body.
#[derive(Debug)]
pub struct Subject<'a> {
    /// File the object is in, as shown to the user (e.g. `rendered/prod/apps/ns/deployment-x.yaml`).
    pub file: String,
    /// 1-based line where the object's document starts.
    pub line: usize,
    pub kind: String,
    pub namespace: Option<String>,
    /// `Kind/namespace/name`.
    pub id: String,
    pub body: &'a Value,
}

impl<'a> Subject<'a> {
    pub fn new(file: String, line: usize, body: &'a Value) -> Self {
        Subject {
            file,
            line,
            kind: str_at(body, "/kind").unwrap_or_default().to_owned(),
            namespace: str_at(body, "/metadata/namespace").map(str::to_owned),
            id: kube::object_id(body),
            body,
        }
    }

    /// A built object, whose kind, namespace and name are known without reading its body.
    pub fn of_object(file: String, object: &'a crate::object::Object) -> Self {
        Subject {
            file,
            line: 1,
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            id: object.id(),
            body: &object.body,
        }
    }
}

/// What rules may know about all objects at once.
pub struct Context {
    pub pinned: bool,
    /// Namespaces with a default-deny NetworkPolicy.
    pub default_deny: BTreeSet<String>,
    /// The first workload (by id) of each namespace: where namespace findings are reported.
    first_workloads: BTreeMap<String, String>,
    /// (namespace, selector) of every PodDisruptionBudget.
    pdbs: Vec<(Option<String>, Value)>,
    /// (namespace, target kind, target name) → minReplicas of every HPA.
    hpas: BTreeMap<(Option<String>, String, String), i64>,
}

impl Context {
    fn new(subjects: &[Subject], pinned: bool) -> Self {
        let mut ctx = Context {
            pinned,
            default_deny: BTreeSet::new(),
            first_workloads: BTreeMap::new(),
            pdbs: Vec::new(),
            hpas: BTreeMap::new(),
        };
        for s in subjects {
            match s.kind.as_str() {
                "NetworkPolicy" if is_default_deny(s.body) => {
                    ctx.default_deny
                        .insert(s.namespace.clone().unwrap_or_default());
                }
                "PodDisruptionBudget" => {
                    if let Some(sel) = s.body.at("/spec/selector") {
                        ctx.pdbs.push((s.namespace.clone(), sel.clone()));
                    }
                }
                "HorizontalPodAutoscaler" => {
                    let kind = str_at(s.body, "/spec/scaleTargetRef/kind")
                        .unwrap_or_default()
                        .to_owned();
                    let name = str_at(s.body, "/spec/scaleTargetRef/name")
                        .unwrap_or_default()
                        .to_owned();
                    let min = s
                        .body
                        .at("/spec/minReplicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    ctx.hpas.insert((s.namespace.clone(), kind, name), min);
                }
                _ => {}
            }
            if let Some(ns) = &s.namespace
                && kube::pod_spec_pointer(&s.kind).is_some()
            {
                let first = ctx
                    .first_workloads
                    .entry(ns.clone())
                    .or_insert_with(|| s.id.clone());
                if s.id < *first {
                    first.clone_from(&s.id);
                }
            }
        }
        ctx
    }

    pub fn first_workload(&self, ns: &str) -> Option<&str> {
        self.first_workloads.get(ns).map(String::as_str)
    }

    pub fn has_pdb(&self, s: &Subject) -> bool {
        let labels = kube::pod_template(s.body).and_then(|(_, l)| l);
        self.pdbs
            .iter()
            .any(|(ns, sel)| *ns == s.namespace && kube::selector_matches(sel, labels))
    }

    pub fn hpa_min(&self, s: &Subject) -> Option<i64> {
        let name = str_at(s.body, "/metadata/name")
            .unwrap_or_default()
            .to_owned();
        self.hpas
            .get(&(s.namespace.clone(), s.kind.clone(), name))
            .copied()
    }
}

/// A NetworkPolicy selecting every pod, for both directions, allowing nothing.
fn is_default_deny(body: &Value) -> bool {
    let selector_empty = body
        .at("/spec/podSelector")
        .and_then(Value::as_object)
        .is_some_and(|sel| {
            sel.values().all(|v| {
                v.as_object().is_some_and(Map::is_empty) || v.as_array().is_some_and(Vec::is_empty)
            })
        });
    let types: BTreeSet<&str> = items(body, "/spec/policyTypes")
        .filter_map(Value::as_str)
        .collect();
    let no_rules = items(body, "/spec/ingress").next().is_none()
        && items(body, "/spec/egress").next().is_none();
    selector_empty && types.contains("Ingress") && types.contains("Egress") && no_rules
}

/// One rule violation.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub file: String,
    pub line: usize,
    pub object: String,
    /// JSON pointer inside the object.
    pub path: String,
    pub message: String,
}

/// What a policy run requires beyond the rules' defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Images must carry digests (rule `image-digest`).
    pub pinned: bool,
    /// Also validate each object against its strict schema (rule `schema`). The render
    /// pipeline leaves this to `validate`, which points at the components instead.
    pub schema: bool,
}

/// Runs every rule over every subject; findings sorted by file, then rule.
pub fn run(subjects: &[Subject], options: Options) -> Vec<Finding> {
    let ctx = Context::new(subjects, options.pinned);
    let mut findings = crate::parallel::map_chunks(subjects, |run| {
        run.iter()
            .flat_map(|s| findings_of(s, &ctx, options))
            .collect()
    });
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.rule.id, &a.path).cmp(&(&b.file, b.line, b.rule.id, &b.path))
    });
    findings
}

/// Every rule over one subject.
fn findings_of(s: &Subject, ctx: &Context, options: Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES
        .iter()
        .filter(|r| options.schema || r.id != rules::SCHEMA)
    {
        for hit in (rule.check)(s, ctx) {
            findings.push(Finding {
                rule,
                file: s.file.clone(),
                line: s.line,
                object: s.id.clone(),
                path: hit.path,
                message: hit.message,
            });
        }
    }
    findings
}

/// Removes waived findings. Returns the rest, and warnings for waivers that matched
/// nothing or have expired (`today` is (year, month, day)).
pub fn apply_waivers(
    findings: Vec<Finding>,
    policy: &PolicyPlan,
    today: (i32, u32, u32),
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut used = vec![false; policy.waivers.len()];
    let mut warnings = Vec::new();
    let active: Vec<bool> = policy
        .waivers
        .iter()
        .map(|w| w.expires.is_none_or(|e| e >= today))
        .collect();
    for (w, _) in policy.waivers.iter().zip(&active).filter(|(_, a)| !**a) {
        warnings.push(
            Diagnostic::warning(
                "waiver-expired",
                format!("the waiver of `{}` for `{}` has expired", w.rule, w.object),
            )
            .at(w.span)
            .help("fix the finding, or extend `expires` with a reason"),
        );
    }
    let kept: Vec<Finding> = findings
        .into_iter()
        .filter(|f| {
            let waiver = policy
                .waivers
                .iter()
                .enumerate()
                .find(|(i, w)| active[*i] && w.rule == f.rule.id && glob(&w.object, &f.object));
            if let Some((i, _)) = waiver {
                used[i] = true;
            }
            waiver.is_none()
        })
        .collect();
    for (w, _) in policy
        .waivers
        .iter()
        .zip(&used)
        .zip(&active)
        .filter(|((_, u), a)| !**u && **a)
        .map(|(x, _)| x)
    {
        warnings.push(unused(w, near_miss(w, &kept)));
    }
    (kept, warnings)
}

/// The most edits a near miss is away from a finding's object (ids are long and alike:
/// `Deployment/ns/producer` is not a typo of `Deployment/ns/processor`).
const NEAR: usize = 2;

/// The object of a finding of the waiver's rule that the waiver nearly names: the same
/// but for case (object ids are case-sensitive: `DaemonSet`, not `Daemonset`), or at
/// most [`NEAR`] edits away.
fn near_miss<'f>(w: &WaiverPlan, findings: &'f [Finding]) -> Option<&'f str> {
    let objects: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f.rule.id == w.rule)
        .map(|f| f.object.as_str())
        .collect();
    let pattern = w.object.to_lowercase();
    let by_case = objects
        .iter()
        .copied()
        .find(|o| glob(&pattern, &o.to_lowercase()));
    by_case.or_else(|| {
        objects
            .iter()
            .map(|o| (strsim::damerau_levenshtein(&pattern, &o.to_lowercase()), *o))
            .filter(|(distance, _)| *distance <= NEAR)
            .min()
            .map(|(_, o)| o)
    })
}

fn unused(w: &WaiverPlan, near: Option<&str>) -> Diagnostic {
    let help = match near {
        Some(object) => format!(
            "did you mean `{object}`? It has a `{}` finding; object ids are `Kind/namespace/name`, case-sensitive",
            w.rule
        ),
        None => "remove it: the finding it was written for is gone".to_owned(),
    };
    Diagnostic::warning(
        "unused-waiver",
        format!(
            "the waiver of `{}` for `{}` matches no finding",
            w.rule, w.object
        ),
    )
    .at(w.span)
    .help(help)
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// Findings as diagnostics (for `render`, `validate` and the JSON output).
pub fn to_diagnostics(findings: &[Finding]) -> Vec<Diagnostic> {
    findings
        .iter()
        .map(|f| Diagnostic {
            severity: f.rule.severity,
            code: f.rule.id,
            message: format!("{}: {} (at {})", f.object, f.message, f.path),
            location: Location::Line(f.file.clone(), f.line, 1),
            label: Some(f.rule.docs.to_owned()),
            help: Some(f.rule.help.to_owned()),
        })
        .collect()
}

/// Today's date in UTC as (year, month, day); `STACKC_TODAY=YYYY-MM-DD` overrides it.
pub fn today() -> (i32, u32, u32) {
    if let Some(date) = std::env::var("STACKC_TODAY")
        .ok()
        .and_then(|t| crate::check::parse_date(&t))
    {
        return date;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Counts of findings by severity.
pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings
        .iter()
        .filter(|f| f.rule.severity == severity)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_object_is_the_same_subject_as_its_body() {
        use crate::object::{Layer, Object};
        let bodies = [
            crate::value::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "ns"}}),
            crate::value::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}),
        ];
        for body in bodies {
            let object = Object::new(Layer::Apps, None, &body);
            let (built, read) = (
                Subject::of_object("f".into(), &object),
                Subject::new("f".into(), 1, &body),
            );
            assert_eq!(
                (built.kind, built.namespace, built.id, built.line),
                (read.kind, read.namespace, read.id, read.line)
            );
        }
    }

    #[test]
    fn globs() {
        assert!(glob(
            "Deployment/*/producer",
            "Deployment/conveyor-pipeline/producer"
        ));
        assert!(glob("*", "anything"));
        assert!(!glob("Deployment/*/producer", "Deployment/ns/processor"));
        assert!(glob("Service/ns/x", "Service/ns/x"));
    }

    #[test]
    fn an_unused_waiver_that_nearly_names_a_finding_suggests_it() {
        let rule = RULES.iter().find(|r| r.id == "no-host-path").unwrap();
        let finding = |object: &str| Finding {
            rule,
            file: "f".into(),
            line: 1,
            object: object.into(),
            path: String::new(),
            message: String::new(),
        };
        let findings = [
            finding("DaemonSet/monitoring-logs/promtail"),
            finding("Deployment/ns/other"),
        ];
        let waiver = |rule: &str, object: &str| WaiverPlan {
            rule: rule.into(),
            object: object.into(),
            reason: "r".into(),
            expires: None,
            span: None,
        };
        let near = |w: WaiverPlan| near_miss(&w, &findings);
        let promtail = Some("DaemonSet/monitoring-logs/promtail");
        assert_eq!(
            near(waiver("no-host-path", "Daemonset/monitoring-logs/promtail")),
            promtail
        );
        assert_eq!(
            near(waiver("no-host-path", "daemonset/*/promtail")),
            promtail
        );
        assert_eq!(
            near(waiver("no-host-path", "DaemonSet/monitoring-logs/promtial")),
            promtail
        );
        assert_eq!(
            near(waiver("no-host-path", "Deployment/ns/others")),
            Some("Deployment/ns/other")
        );
        assert_eq!(near(waiver("no-host-path", "Deployment/ns/producer")), None);
        assert_eq!(
            near(waiver(
                "run-as-non-root",
                "Daemonset/monitoring-logs/promtail"
            )),
            None
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
