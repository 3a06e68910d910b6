//! check: semantic validation of the typed model, and its resolution into a [`Plan`].
//! Names, references, ports, quantities, images, HPA bounds: every problem is collected
//! (one typo must not hide the next ten) and located through the provenance tree.
//! check reads no files and builds no Kubernetes objects.

mod app;
mod exports;
mod image;
mod names;
mod policy;
mod quantity;
mod stack;

pub use policy::parse_date;
pub use quantity::parse as parse_quantity;
pub use stack::KUBERNETES;

use crate::diag::{Diagnostic, Span};
use crate::load::EnvStack;
use crate::load::tree::Node;
use crate::plan::{Component, Plan};

/// Checks one environment's stack; the Plan when it holds no error.
pub fn check(env: &EnvStack) -> Result<Plan, Vec<Diagnostic>> {
    let mut ctx = Ctx {
        tree: &env.tree,
        diags: Vec::new(),
    };
    let info = stack::stack_info(&mut ctx, &env.stack, &env.name);
    let flux = stack::flux(&mut ctx, &env.stack, &env.name);
    let defaults = stack::defaults(&mut ctx, &env.stack.defaults);
    let policy = policy::policy(&mut ctx, &env.stack.policy);
    let mut apps: Vec<_> = env
        .stack
        .app
        .iter()
        .filter_map(|(name, app)| app::resolve(&mut ctx, name, app, &defaults))
        .collect();
    exports::wire_uses(&mut ctx, &mut apps);
    let components: Vec<Component> = apps.into_iter().map(Component::App).collect();
    if ctx.diags.iter().any(Diagnostic::is_error) {
        return Err(ctx.diags);
    }
    let namespaces = components
        .iter()
        .map(|c| match c {
            Component::App(app) => app.namespace.clone(),
        })
        .collect();
    Ok(Plan {
        env: env.name.clone(),
        stack: info,
        flux,
        namespaces,
        components,
        policy,
    })
}

/// What every check needs: where values were written, and where to report.
pub(crate) struct Ctx<'a> {
    tree: &'a Node,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// The span of the value at `path` (or its nearest ancestor).
    fn value_span(&self, path: &[&str]) -> Option<Span> {
        Some(self.tree.span_of(path))
    }

    /// The span of the key at `path`, falling back to the value's.
    fn key_span(&self, path: &[&str]) -> Option<Span> {
        self.tree
            .entry(path)
            .map(|e| e.key_span)
            .or_else(|| self.value_span(path))
    }

    fn report(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    /// Reports `Err(reason)` of a format rule as `code` at the value of `path`.
    fn rule(
        &mut self,
        result: Result<(), String>,
        code: &'static str,
        what: &str,
        path: &[&str],
        help: &str,
    ) {
        if let Err(reason) = result {
            let span = self.value_span(path);
            self.report(
                Diagnostic::error(code, format!("{what} {reason}"))
                    .at(span)
                    .help(help),
            );
        }
    }
}
