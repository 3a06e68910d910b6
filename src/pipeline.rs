//! The pipeline, end to end in memory: load → check → build → validate → emit, for
//! every environment. Nothing here writes; the CLI hands the tree to the writer only
//! when this returned no error.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::diag::{Diagnostic, SourceMap, Span, dedup, has_errors};
use crate::emit::layout::object_path;
use crate::emit::{self, RenderedTree};
use crate::load::modules::Modules;
use crate::load::{self, EnvStack, LoadError, Source};
use crate::object::Object;
use crate::plan::Plan;
use crate::policy::{Finding, Subject};
use crate::timings::time;

/// Why a command could not produce its result.
#[derive(Debug)]
pub enum Failure {
    /// The stack is wrong (exit 1).
    Stack(Vec<Diagnostic>),
    /// Usage or I/O (exit 2).
    Io(String),
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Stack(diags) => Failure::Stack(diags),
            LoadError::Io(msg) => Failure::Io(msg),
        }
    }
}

/// A successful compilation: the tree of every rendered environment.
#[derive(Debug)]
pub struct Compiled {
    pub envs: Vec<String>,
    pub tree: RenderedTree,
    pub warnings: Vec<Diagnostic>,
}

/// The selected environments after load and check.
pub struct Planned {
    /// Each environment, with its Plan.
    pub plans: Vec<(EnvStack, Plan)>,
    /// What load and check found that is not an error (e.g. `unused-controller`).
    pub warnings: Vec<Diagnostic>,
}

/// load + check: the Plan of each selected environment.
pub fn plans(
    root: &Source,
    only: Option<&str>,
    sources: &mut SourceMap,
) -> Result<Planned, Failure> {
    let (envs, mut diags) = time(|| "load".into(), || load::load(root, only, sources))?;
    let checked = crate::parallel::map(&envs, |env| {
        time(
            || format!("{} check", env.name),
            || crate::check::check(env),
        )
    });
    let mut plans = Vec::new();
    let mut found = Vec::new();
    for (env, result) in envs.into_iter().zip(checked) {
        match result {
            Ok((plan, warnings)) => {
                found.push((env.name.clone(), warnings));
                plans.push((env, plan));
            }
            Err(more) => found.push((env.name.clone(), more)),
        }
    }
    diags.extend(merge_environments(found, sources));
    let diags = dedup(diags);
    if has_errors(&diags) {
        return Err(Failure::Stack(diags));
    }
    Ok(Planned {
        plans,
        warnings: diags,
    })
}

/// The diagnostics of each environment as one list, each problem once. A problem found
/// in some of the environments but not all says which (`(in prod)`): a value set in an
/// environment file can make a line of stack.toml wrong there only. (Not when it points
/// into that environment's own file, which says it already.)
fn merge_environments(
    found: Vec<(String, Vec<Diagnostic>)>,
    sources: &SourceMap,
) -> Vec<Diagnostic> {
    type Key = (&'static str, String, crate::diag::Location);
    let key = |d: &Diagnostic| -> Key { (d.code, d.message.clone(), d.location.clone()) };
    let total = found.len();
    let mut envs_of: HashMap<Key, Vec<&str>> = HashMap::new();
    for (env, diags) in &found {
        for d in diags {
            let envs = envs_of.entry(key(d)).or_default();
            if envs.last() != Some(&env.as_str()) {
                envs.push(env);
            }
        }
    }
    let own_file = |d: &Diagnostic, env: &str| match &d.location {
        crate::diag::Location::Span(span) => {
            sources.file(span.file).path == format!("{}/{env}.toml", crate::load::ENV_DIR)
        }
        _ => false,
    };
    let mut merged = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, diags) in &found {
        for d in diags {
            let k = key(d);
            if !seen.insert(k.clone()) {
                continue;
            }
            let envs = &envs_of[&k];
            let mut d = d.clone();
            if envs.len() < total && !(envs.len() == 1 && own_file(&d, envs[0])) {
                d.message = format!("{} (in {})", d.message, envs.join(", "));
            }
            merged.push(d);
        }
    }
    merged
}

/// One environment after build, validate and policy.
pub struct Checked {
    pub env: String,
    pub objects: Vec<Object>,
    /// Build errors, or (when the build succeeded) schema, reference and network
    /// problems, pointing at the components.
    pub validation: Vec<Diagnostic>,
    /// Policy findings left after waivers.
    pub findings: Vec<Finding>,
    /// For each finding, the declaration of the component whose object it is about.
    pub finding_sources: Vec<Option<Span>>,
    /// Unused and expired waivers.
    pub waiver_warnings: Vec<Diagnostic>,
}

impl Checked {
    /// An environment whose build failed: its build errors, and nothing else checked.
    fn failed_build(env: &str, errors: Vec<Diagnostic>) -> Checked {
        Checked {
            env: env.to_owned(),
            objects: Vec::new(),
            validation: errors,
            findings: Vec::new(),
            finding_sources: Vec::new(),
            waiver_warnings: Vec::new(),
        }
    }
}

/// What build and validate need of a loaded environment besides its Plan and the
/// modules (see [`crate::build::Shared`]): where each component is declared (for
/// diagnostics). Kept instead of the [`EnvStack`], whose source tree is several MiB per
/// environment at fleet scale.
pub struct Inputs {
    /// `kind.name` (or any table path up to three keys deep) → the span of its key, and
    /// `kind.name.image` → the span of a component's image (for findings about it).
    declared: HashMap<String, Span>,
}

impl Inputs {
    pub fn of(env: &EnvStack) -> Inputs {
        let mut declared = env.tree.table_key_spans(3);
        let images: Vec<(String, Span)> = declared
            .keys()
            .filter_map(|path| {
                let (kind, name) = path.split_once('.').filter(|(_, n)| !n.contains('.'))?;
                let image = env.tree.get(&[kind, name, "image"])?;
                Some((format!("{path}.image"), image.span))
            })
            .collect();
        declared.extend(images);
        Inputs { declared }
    }

    fn locate(&self, component: &str) -> Option<Span> {
        self.declared.get(component).copied()
    }
}

/// build → validate → policy for one environment.
pub fn build_and_check(inputs: &Inputs, plan: &Plan, shared: &crate::build::Shared) -> Checked {
    let stage = |what: &str| format!("{} {what}", plan.env);
    let graph = time(|| stage("graph"), || crate::graph::graph(plan));
    let built = time(
        || stage("build"),
        || crate::build::build(plan, &graph, shared),
    );
    let objects = match built {
        Ok(objects) => objects,
        // Validation and policy of a partial build would report what is missing as
        // wrong (no NetworkPolicies: every flow admitted), burying the real errors.
        Err(diags) => return Checked::failed_build(&plan.env, diags),
    };
    let locate = |component: &str| inputs.locate(component);
    let validation = time(
        || stage("validate"),
        || crate::validate::validate(&plan.env, &objects, &graph, &locate),
    );
    let subjects: Vec<Subject> = time(
        || stage("policy subjects"),
        || {
            crate::parallel::map_chunks(&objects, |run| {
                run.iter().map(|o| subject(&plan.env, o)).collect()
            })
        },
    );
    let options = crate::policy::Options {
        pinned: plan.policy.pinned,
        schema: false,
    };
    let findings = time(
        || stage("policy"),
        || crate::policy::run(&subjects, options),
    );
    let (findings, waiver_warnings) =
        crate::policy::apply_waivers(findings, &plan.policy, crate::policy::today());
    let finding_sources = sources_of(&findings, &subjects, &objects, &locate);
    Checked {
        env: plan.env.clone(),
        objects,
        validation,
        findings,
        finding_sources,
        waiver_warnings,
    }
}

/// For each finding, where the component that produced its object is declared (the
/// subjects are the objects', in order).
fn sources_of(
    findings: &[Finding],
    subjects: &[Subject],
    objects: &[Object],
    locate: &dyn Fn(&str) -> Option<Span>,
) -> Vec<Option<Span>> {
    if findings.is_empty() {
        return Vec::new();
    }
    let by_file: HashMap<&str, &Object> = subjects
        .iter()
        .map(|s| s.file.as_str())
        .zip(objects)
        .collect();
    findings
        .iter()
        .map(|f| {
            let component = by_file.get(f.file.as_str())?.component.as_deref()?;
            // An image finding goes to the component's `image` key where it has one (the
            // environment file that sets it wins), else to the component.
            let image = f
                .path
                .ends_with("/image")
                .then(|| format!("{component}.image"));
            image
                .and_then(|key| locate(&key))
                .or_else(|| locate(component))
        })
        .collect()
}

/// Policy findings on the stack's own output as diagnostics at the component that
/// produced the object, the rendered file named in the message: that is where the
/// fix goes (the file itself is generated, and not even written while errors remain).
fn policy_diagnostics(checked: &Checked) -> Vec<Diagnostic> {
    crate::policy::to_diagnostics(&checked.findings)
        .into_iter()
        .zip(&checked.findings)
        .enumerate()
        .map(
            |(i, (diag, finding))| match checked.finding_sources.get(i).copied().flatten() {
                Some(span) => Diagnostic {
                    message: format!("{} in {}", diag.message, finding.file),
                    ..diag
                }
                .at(Some(span)),
                None => diag,
            },
        )
        .collect()
}

/// What policy sees of one rendered object: its file and its body.
fn subject<'o>(env: &str, object: &'o Object) -> Subject<'o> {
    let path = format!(
        "rendered/{env}/{}/{}",
        object.layer.dir(),
        object_path(object)
    );
    Subject::of_object(path, object)
}

/// The whole pipeline for the selected environments. Nothing is returned for writing
/// unless every environment is free of errors (validation and policy included).
pub fn compile(
    root: &Source,
    only: Option<&str>,
    sources: &mut SourceMap,
) -> Result<Compiled, Failure> {
    compile_then(root, only, sources, None)
}

/// What [`compile_then`] calls with each environment's name and files.
pub type Emitted<'a> = &'a (dyn Fn(&str, &RenderedTree) + Sync);

/// [`compile`], calling `emitted` (when given) with each environment's name and files as
/// soon as they are made, whether or not the stack turns out valid (the caller learns
/// that from the result). Each call runs on a thread of its own, so that the lane goes on
/// to the next environment; all have returned when this does. Without `emitted`, no
/// thread is started: each costs a fresh heap of the allocator's (huge pages to zero).
pub fn compile_then(
    root: &Source,
    only: Option<&str>,
    sources: &mut SourceMap,
    emitted: Option<Emitted>,
) -> Result<Compiled, Failure> {
    // The loaded environments are dropped here, before anything is built: peak memory.
    let planned = plans(root, only, sources)?;
    let modules = shared_modules(&planned);
    let shared = crate::build::Shared::new(&modules);
    let plans: Vec<(Inputs, Plan)> = planned
        .plans
        .into_iter()
        .map(|(env, plan)| (Inputs::of(&env), plan))
        .collect();
    // As many environments at once as there are cores (a lane per core, each taking the
    // next environment when it is free), each stage of each on all cores: the pool's
    // idle cores take work from the other environments wherever one waits (a serial
    // stage, the last run of a parallel one). No more at once: a core waiting
    // for a schema another compiles runs the pool's other work meanwhile, and a whole
    // environment taken up that way would hold three environments' objects at once
    // (500 apps: peak 105 instead of 89 MiB).
    let slots: Vec<OnceLock<(Checked, RenderedTree)>> =
        plans.iter().map(|_| OnceLock::new()).collect();
    let indexed: Vec<(&(Inputs, Plan), &OnceLock<_>)> = plans.iter().zip(&slots).collect();
    std::thread::scope(|scope| {
        crate::parallel::map_in_lanes(&indexed, crate::parallel::cores(), |&((i, p), slot)| {
            let (_, rendered) = slot.get_or_init(|| compile_env(i, p, &shared));
            if let Some(emitted) = emitted {
                scope.spawn(move || emitted(&p.env, rendered));
            }
        });
    });
    let done = slots
        .into_iter()
        .map(|slot| slot.into_inner().expect("every environment was compiled"));
    let mut diags = planned.warnings;
    let mut tree = RenderedTree::default();
    let mut envs = Vec::new();
    let mut found = Vec::new();
    for (checked, rendered) in done {
        let mut mine = policy_diagnostics(&checked);
        mine.splice(0..0, checked.validation);
        mine.extend(checked.waiver_warnings);
        found.push((checked.env.clone(), mine));
        tree.extend(rendered);
        envs.push(checked.env);
    }
    diags.extend(merge_environments(found, sources));
    let diags = dedup(diags);
    if has_errors(&diags) {
        return Err(Failure::Stack(diags));
    }
    Ok(Compiled {
        envs,
        tree,
        warnings: diags,
    })
}

/// The `modules/` of the planned environments: one load reads them once for all of its
/// environments.
pub fn shared_modules(planned: &Planned) -> Arc<Modules> {
    planned
        .plans
        .first()
        .map_or_else(Arc::default, |(env, _)| Arc::clone(&env.modules))
}

/// build → validate → policy → emit for one environment; the objects are consumed by
/// emit, so only their rendered bytes outlive this.
fn compile_env(
    inputs: &Inputs,
    plan: &Plan,
    shared: &crate::build::Shared,
) -> (Checked, RenderedTree) {
    let mut checked = build_and_check(inputs, plan, shared);
    let objects = std::mem::take(&mut checked.objects);
    let rendered = time(
        || format!("{} emit", plan.env),
        || emit::emit(&plan.env, objects),
    );
    (checked, rendered)
}
