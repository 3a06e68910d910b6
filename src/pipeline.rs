//! The pipeline, end to end in memory: load → check → build → validate → emit, for
//! every environment. Nothing here writes; the CLI hands the tree to the writer only
//! when this returned no error.

use std::path::Path;

use crate::diag::{Diagnostic, SourceMap, dedup, has_errors};
use crate::emit::{self, RenderedTree};
use crate::load::{self, EnvStack, LoadError};
use crate::plan::Plan;

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

/// load + check: the Plan of each selected environment.
pub fn plans(
    root: &Path,
    only: Option<&str>,
    sources: &mut SourceMap,
) -> Result<Vec<(EnvStack, Plan)>, Failure> {
    let (envs, mut diags) = load::load(root, only, sources)?;
    let mut plans = Vec::new();
    for env in envs {
        match crate::check::check(&env) {
            Ok(plan) => plans.push((env, plan)),
            Err(more) => diags.extend(more),
        }
    }
    if has_errors(&diags) {
        return Err(Failure::Stack(dedup(diags)));
    }
    Ok(plans)
}

/// The whole pipeline for the selected environments.
pub fn compile(
    root: &Path,
    only: Option<&str>,
    sources: &mut SourceMap,
) -> Result<Compiled, Failure> {
    let plans = plans(root, only, sources)?;
    let mut diags = Vec::new();
    let mut tree = RenderedTree::default();
    let mut envs = Vec::new();
    for (env, plan) in &plans {
        let objects = crate::build::build(plan);
        let locate = |component: &str| {
            let path: Vec<&str> = component.split('.').collect();
            env.tree.entry(&path).map(|e| e.key_span)
        };
        diags.extend(crate::validate::validate(&objects, &locate));
        tree.extend(emit::emit(&plan.env, &objects));
        envs.push(plan.env.clone());
    }
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
