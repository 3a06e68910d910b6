//! The command line: argument parsing (clap), the commands, diagnostics output and
//! exit codes (0 clean, 1 the stack is wrong or rendered/ is stale, 2 usage or I/O).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{self, Diagnostic, Severity, SourceMap};
use crate::emit::RenderedTree;
use crate::emit::ahead::Ahead;
use crate::emit::writer::{self, Prestaged, Scope};
use crate::load::Source;
use crate::pipeline::{self, Failure};

/// stackc compiles a typed stack description (stack.toml + environments/<env>.toml)
/// into deterministic Kubernetes manifests under rendered/<env>/, applied by Flux.
#[derive(Clone, Debug, Parser)]
#[command(name = "stackc", version, about, long_about = None)]
pub struct Cli {
    /// The directory holding stack.toml.
    #[arg(
        short = 'C',
        long = "dir",
        global = true,
        value_name = "DIR",
        default_value = "."
    )]
    pub dir: PathBuf,
    /// How to print: diagnostics (human or json), policy findings (also sarif), the graph
    /// (mermaid, dot or json).
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style messages with source snippets (colour on a terminal).
    Human,
    /// one JSON object per line (stdout holds JSON only).
    Json,
    /// SARIF 2.1.0, for code scanning (`stackc policy` only).
    Sarif,
    /// Mermaid flowchart (`stackc graph` only; its default, as is human there).
    Mermaid,
    /// Graphviz DOT (`stackc graph` only).
    Dot,
}

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Compile the stack and write rendered/<env>/ (only files whose bytes changed).
    Render {
        /// Render only this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Write nothing; exit 1 and print a unified diff when rendered/ is not up to date.
        #[arg(long)]
        check: bool,
    },
    /// Load and check the stack (names, references, ports, quantities, images); fastest.
    Check {
        /// Check only this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
    /// Compile and validate the output without writing anything.
    Validate {
        /// Validate only this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
    /// Run the policy rules (Pod Security, resources, probes, pinning, isolation, TLS, ...):
    /// over the stack's own output by default, or over any manifest files and directories.
    Policy {
        /// Manifest files or directories (*.yaml, *.yml, multi-document files included).
        /// Without paths: the stack's own output, with its waivers.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Only this environment of the stack's own output.
        #[arg(long, value_name = "ENV", conflicts_with = "paths")]
        env: Option<String>,
        /// Require image digests (rule `image-digest`) in every environment, as
        /// `[policy] pinned = true` does for one; in PATH mode, in every manifest.
        #[arg(long)]
        pinned: bool,
        /// Print the rules (id, severity, what, fix, why) and exit: a table, or one JSON
        /// object per rule with `--format json` (not with paths, `--env` or SARIF).
        #[arg(long, conflicts_with_all = ["paths", "env"])]
        list: bool,
    },
    /// Show what a change does to the rendered output: the sources vs the committed
    /// rendered/ (default), a Git base vs the sources (`--base origin/main`), or two
    /// environments (`stackc diff staging prod`). Names changes the cluster will reject or
    /// must recreate, and the workloads that will roll. Secret-like values are masked.
    Diff {
        /// Two environments to compare with each other, e.g. `staging prod`.
        #[arg(value_name = "ENV", num_args = 0..=2)]
        envs: Vec<String>,
        /// Compare with the sources as committed at this Git revision (nothing is checked out).
        #[arg(long, value_name = "REF", conflicts_with = "envs")]
        base: Option<String>,
        /// Only this environment.
        #[arg(long, value_name = "ENV", conflicts_with = "envs")]
        env: Option<String>,
        /// Exit 1 when there are differences (like `git diff --exit-code`).
        #[arg(long)]
        exit_code: bool,
    },
    /// Copy version pins (images, component versions, and the [images] entries) from one
    /// environment to the next, editing environments/<TO>.toml in place (comments and
    /// layout kept), re-render, show the diff.
    Promote {
        /// The environment whose pins are promoted, e.g. `staging`.
        from: String,
        /// The environment that receives them, e.g. `prod`.
        to: String,
        /// Only these components (`producer` or `app.producer`) and [images] entries
        /// (`images` for all, or a repository), comma-separated or repeated. A component
        /// whose `version` moves takes its image's [images] entry along. `images` is
        /// always the table: a component named images is `<kind>.images`.
        #[arg(long, value_delimiter = ',', value_name = "COMPONENTS")]
        only: Vec<String>,
        /// Show what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Allow promoting to an environment that comes earlier in the promotion order.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of stack.toml (commit it as stack.schema.json for editor completion).
    Schema,
    /// Print the dependency graph: workloads grouped by namespace and every connection
    /// the NetworkPolicies allow, with its ports, why it exists, and 🔒 when it is TLS.
    /// `--format mermaid` (default; GitHub renders it), `dot` (Graphviz) or `json`.
    #[command(
        after_help = "Examples:\n  stackc graph                       # Mermaid, first environment\n  stackc graph --env prod --format dot | dot -Tsvg > graph.svg"
    )]
    Graph {
        /// The environment (default: the first in `[stack] environments`).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
}

impl Cli {
    /// The stack's sources on disk.
    fn source(&self) -> Source {
        Source::Dir(self.dir.clone())
    }
}

/// A line for the person running stackc (a summary, "ok: ..."): on stdout, except with
/// `--format json`, whose stdout carries JSON only.
macro_rules! status {
    ($cli:expr, $($arg:tt)*) => {
        match $cli.format {
            Format::Json => eprintln!($($arg)*),
            _ => println!($($arg)*),
        }
    };
}

/// `Err` (a usage error) when `format` means nothing to `command`: SARIF is for policy
/// findings, Mermaid and DOT are for the graph.
fn format_applies(command: &Command, format: Format) -> Result<(), String> {
    let name = match command {
        Command::Policy { .. } if format == Format::Sarif => return Ok(()),
        Command::Graph { .. } => return Ok(()),
        Command::Render { .. } => "render",
        Command::Check { .. } => "check",
        Command::Validate { .. } => "validate",
        Command::Policy { .. } => "policy",
        Command::Diff { .. } => "diff",
        Command::Promote { .. } => "promote",
        Command::Schema => "schema",
    };
    let only = match format {
        Format::Human | Format::Json => return Ok(()),
        Format::Sarif => "`stackc policy`",
        Format::Mermaid | Format::Dot => "`stackc graph`",
    };
    let value = format!("{format:?}").to_ascii_lowercase();
    Err(format!(
        "`--format {value}` is for {only}; `stackc {name}` prints human (default) or json"
    ))
}

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> u8 {
    let cli = Cli::parse();
    run(&cli)
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: &Cli) -> u8 {
    let mut sources = SourceMap::default();
    if let Err(msg) = format_applies(&cli.command, cli.format) {
        eprintln!("error: {msg}");
        return 2;
    }
    let result = match &cli.command {
        Command::Render { env, check } => render(cli, env.as_deref(), *check, &mut sources),
        Command::Check { env } => {
            pipeline::plans(&cli.source(), env.as_deref(), &mut sources).map(|planned| {
                report(cli, &planned.warnings, &sources);
                let names: Vec<&str> = planned.plans.iter().map(|(_, p)| p.env.as_str()).collect();
                status!(
                    cli,
                    "ok: {} checked ({})",
                    plural(names.len(), "environment"),
                    names.join(", ")
                );
                0
            })
        }
        Command::Validate { env } => pipeline::compile(&cli.source(), env.as_deref(), &mut sources)
            .map(|compiled| {
                report(cli, &compiled.warnings, &sources);
                let objects = compiled
                    .tree
                    .files
                    .keys()
                    .filter(|p| is_object_file(p))
                    .count();
                status!(
                    cli,
                    "ok: {} valid in {}",
                    plural(objects, "object"),
                    plural(compiled.envs.len(), "environment")
                );
                0
            }),
        Command::Policy {
            paths,
            env,
            pinned,
            list,
        } => {
            if *list {
                list_rules(cli.format)
            } else {
                policy(cli, paths, env.as_deref(), *pinned, &mut sources)
            }
        }
        Command::Diff {
            envs,
            base,
            env,
            exit_code,
        } => diff(cli, envs, base.as_deref(), env.as_deref(), &mut sources).map(|report| {
            print_diff(cli, &report);
            u8::from(*exit_code && !report.is_empty())
        }),
        Command::Promote {
            from,
            to,
            only,
            dry_run,
            force,
        } => promote(cli, from, to, only, *dry_run, *force, &mut sources),
        Command::Schema => {
            println!("{}", schema_json());
            Ok(0)
        }
        Command::Graph { env } => graph(cli, env.as_deref(), &mut sources),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Stack(diags)) => {
            report(cli, &diags, &sources);
            let errors = diags.iter().filter(|d| d.is_error()).count();
            if matches!(cli.format, Format::Human | Format::Mermaid | Format::Dot) {
                eprintln!("error: the stack has {}", plural(errors, "error"));
            }
            1
        }
        Err(Failure::Io(msg)) => {
            eprintln!("error: {msg}");
            2
        }
    }
}

fn render(
    cli: &Cli,
    env: Option<&str>,
    check: bool,
    sources: &mut SourceMap,
) -> Result<u8, Failure> {
    let rendered = cli.dir.join("rendered");
    let scope = env.map_or(Scope::All, Scope::Env);
    // rendered/ is surveyed (listed, its files' stats looked up in the cache) while the
    // stack compiles: the one waits on the file system, the other on the cores. A render
    // writes each environment new to rendered/ ahead, as soon as it is made.
    let ahead = Ahead::new(&rendered);
    let stage = |env: &str, tree: &RenderedTree| ahead.stage(env, tree);
    let (compiled, survey) = crate::parallel::both(
        || {
            let emitted: Option<pipeline::Emitted> = (!check).then_some(&stage);
            pipeline::compile_then(&cli.source(), env, sources, emitted)
        },
        || {
            let survey = writer::survey(&rendered, scope);
            ahead.listed();
            survey
        },
    );
    let prestaged = ahead.into_staged();
    let compared = compiled.and_then(|compiled| {
        report(cli, &compiled.warnings, sources);
        let changes = crate::timings::time(
            || "compare with rendered/".into(),
            || {
                writer::compare_surveyed(survey.map_err(rendered_io)?, &compiled.tree, scope)
                    .map_err(rendered_io)
            },
        )?;
        Ok((compiled, changes))
    });
    let (compiled, changes) = match compared {
        Ok(compared) => compared,
        Err(failure) => {
            prestaged.into_iter().for_each(Prestaged::abandon);
            return Err(failure);
        }
    };
    let outcome = if check {
        report_check(cli, &compiled, &changes)
    } else {
        write_rendered(cli, &rendered, &compiled, &changes, prestaged)
    };
    crate::parallel::drop_later((compiled, changes));
    outcome
}

/// A failure to read or write `rendered/` (exit 2).
fn rendered_io(e: std::io::Error) -> Failure {
    Failure::Io(format!("rendered/: {e}"))
}

/// `render --check`: whether `rendered/` is up to date, and the diff when it is not.
fn report_check(
    cli: &Cli,
    compiled: &pipeline::Compiled,
    changes: &writer::Changes,
) -> Result<u8, Failure> {
    if changes.is_empty() {
        status!(
            cli,
            "ok: rendered/ is up to date ({})",
            compiled.envs.join(", ")
        );
        return Ok(0);
    }
    let diff = writer::unified_diff(changes, &compiled.tree);
    let _ = match cli.format {
        Format::Json => std::io::stderr().lock().write_all(diff.as_bytes()),
        _ => std::io::stdout().lock().write_all(diff.as_bytes()),
    };
    eprintln!(
        "error: rendered/ is out of date: {} added, {} changed, {} removed; run `stackc render` and commit the result",
        changes.added.len(),
        changes.changed.len(),
        changes.removed.len()
    );
    Ok(1)
}

/// `render`: applies the changes to `rendered/` and says what changed.
fn write_rendered(
    cli: &Cli,
    rendered: &Path,
    compiled: &pipeline::Compiled,
    changes: &writer::Changes,
    prestaged: Vec<Prestaged>,
) -> Result<u8, Failure> {
    crate::timings::time(
        || "write".into(),
        || writer::write_prestaged(rendered, &compiled.tree, changes, prestaged),
    )
    .map_err(rendered_io)?;
    status!(
        cli,
        "rendered {} into {}: {} added, {} changed, {} removed, {} unchanged",
        compiled.envs.join(", "),
        display(rendered),
        changes.added.len(),
        changes.changed.len(),
        changes.removed.len(),
        compiled.tree.files.len() - changes.added.len() - changes.changed.len()
    );
    Ok(0)
}

/// `stackc graph`: the dependency graph of one environment.
fn graph(cli: &Cli, env: Option<&str>, sources: &mut SourceMap) -> Result<u8, Failure> {
    // Warnings are for check, render and policy; graph prints only the graph.
    let plans = pipeline::plans(&cli.source(), env, sources)?.plans;
    let Some((_, plan)) = plans.first() else {
        return Err(Failure::Io("the stack has no environment".into()));
    };
    let graph = crate::graph::graph(plan);
    match cli.format {
        Format::Human | Format::Mermaid => print!("{}", crate::graph::render::mermaid(&graph)),
        Format::Dot => print!(
            "{}",
            crate::graph::render::dot(&graph, &format!("{} {}", plan.stack.name, plan.env))
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&graph).expect("the graph serializes")
        ),
        Format::Sarif => {
            return Err(Failure::Io(
                "stackc graph prints mermaid, dot or json, not sarif".into(),
            ));
        }
    }
    Ok(0)
}

/// `stackc promote`: move pins, re-render through the whole pipeline, show the diff, write.
fn promote(
    cli: &Cli,
    from: &str,
    to: &str,
    only: &[String],
    dry_run: bool,
    force: bool,
    sources: &mut SourceMap,
) -> Result<u8, Failure> {
    let source = cli.source();
    let plans = pipeline::plans(&source, None, sources)?.plans;
    let order: Vec<String> = plans.iter().map(|(_, p)| p.env.clone()).collect();
    let find = |name: &str| plans.iter().find(|(e, _)| e.name == name).map(|(e, _)| e);
    let (Some(from_env), Some(to_env)) = (find(from), find(to)) else {
        let missing = if find(from).is_none() { from } else { to };
        return Err(Failure::Io(format!(
            "no environment `{missing}` (environments: {})",
            order.join(", ")
        )));
    };
    if !force {
        crate::promote::check_order(&order, from, to).map_err(Failure::Io)?;
    }
    crate::promote::check_only(from_env, only).map_err(Failure::Io)?;
    let rel = format!("{}/{to}.toml", crate::load::ENV_DIR);
    let text = source
        .read(&rel)
        .map_err(|e| Failure::Io(format!("cannot read {rel}: {e}")))?;
    let promotion = crate::promote::promote(from_env, to_env, &text, only).map_err(Failure::Io)?;
    if let Some(note) = crate::promote::note_only_in_source(&promotion, from, to) {
        status!(cli, "{note}");
    }
    let crate::promote::Promotion {
        changes,
        text: new_text,
        ..
    } = promotion;
    if changes.is_empty() {
        status!(cli, "nothing to promote: {to} already runs {from}'s pins");
        return Ok(0);
    }
    let patched = Source::Patched {
        base: Box::new(source),
        files: [(rel.clone(), new_text.clone())].into(),
    };
    // The same source map: a failure is reported over the edited file as it would be written.
    let compiled = pipeline::compile(&patched, None, sources).inspect_err(|failure| {
        if matches!(failure, Failure::Stack(_)) && cli.format == Format::Human {
            eprintln!(
                "note: promote {from} -> {to} breaks the stack; {rel} is shown as the \
                 promotion would write it (nothing was written)\n"
            );
        }
    })?;
    let rendered = cli.dir.join("rendered");
    let io = |e: std::io::Error| Failure::Io(format!("rendered/: {e}"));
    let old = writer::read_tree(&rendered, Scope::All).map_err(io)?;
    let report = crate::diff::compare(&old, &compiled.tree);
    status!(
        cli,
        "promote {from} -> {to}{}:",
        if dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    status!(cli, "{}", crate::promote::describe(&changes).trim_end());
    print_diff(cli, &report);
    if dry_run {
        return Ok(0);
    }
    let changes_on_disk = writer::compare(&rendered, &compiled.tree, Scope::All).map_err(io)?;
    let env_file = cli.dir.join(&rel);
    let temp = cli.dir.join(format!("{rel}.stackc-tmp"));
    std::fs::write(&temp, &new_text)
        .and_then(|()| std::fs::rename(&temp, &env_file))
        .map_err(|e| Failure::Io(format!("{}: {e}", env_file.display())))?;
    if let Err(e) = writer::write(&rendered, &compiled.tree, &changes_on_disk) {
        // Keep sources and output consistent: put the environment file back.
        let _ = std::fs::write(&env_file, &text);
        return Err(io(e));
    }
    status!(cli, "wrote {rel} and rendered/");
    Ok(0)
}

/// The diff report of the form the user asked for.
fn diff(
    cli: &Cli,
    envs: &[String],
    base: Option<&str>,
    env: Option<&str>,
    sources: &mut SourceMap,
) -> Result<crate::diff::Report, Failure> {
    let rendered = cli.dir.join("rendered");
    let io = |e: std::io::Error| Failure::Io(format!("rendered/: {e}"));
    match (envs, base) {
        ([], None) => {
            let new = pipeline::compile(&cli.source(), env, sources)?.tree;
            let old =
                writer::read_tree(&rendered, env.map_or(Scope::All, Scope::Env)).map_err(io)?;
            Ok(crate::diff::compare(&old, &new))
        }
        ([], Some(rev)) => {
            let base = Source::git(cli.dir.clone(), rev)
                .map_err(|msg| Failure::Io(format!("--base {msg}")))?;
            let old = match pipeline::compile(&base, env, &mut SourceMap::default()) {
                Ok(compiled) => compiled.tree,
                Err(Failure::Io(msg)) if msg.starts_with("no stack.toml at") => {
                    RenderedTree::default()
                }
                Err(Failure::Io(msg)) => return Err(Failure::Io(msg)),
                Err(Failure::Stack(_)) => {
                    return Err(Failure::Io(format!(
                        "the stack at {rev} does not compile; run `stackc check` on that revision"
                    )));
                }
            };
            let new = pipeline::compile(&cli.source(), env, sources)?.tree;
            let mut report = crate::diff::compare(&old, &new);
            // Git is at hand here: say whether Flux will find the layers where they are.
            if let Some(prefix) = crate::load::files::repo_prefix(&cli.dir) {
                crate::diff::note_flux_paths(&mut report, &new, &prefix);
            }
            Ok(report)
        }
        ([a, b], None) => {
            let compiled = pipeline::compile(&cli.source(), None, sources)?;
            for e in [a, b] {
                if !compiled.envs.contains(e) {
                    return Err(Failure::Io(format!(
                        "no environment `{e}` (environments: {})",
                        compiled.envs.join(", ")
                    )));
                }
            }
            Ok(crate::diff::compare_envs(&compiled.tree, a, b))
        }
        _ => Err(Failure::Io(
            "give two environments to compare, e.g. `stackc diff staging prod`".into(),
        )),
    }
}

fn print_diff(cli: &Cli, report: &crate::diff::Report) {
    match cli.format {
        Format::Json | Format::Sarif => {
            println!(
                "{}",
                serde_json::to_string_pretty(report).expect("the report serializes")
            );
        }
        Format::Human | Format::Mermaid | Format::Dot
            if report.is_empty() && report.warnings.is_empty() => {}
        Format::Human | Format::Mermaid | Format::Dot => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!("{}", crate::diff::render_text(report, color));
        }
    }
}

/// `stackc policy --list`: the rule table (human) or one JSON object per rule. SARIF
/// describes rules only alongside results, so `--format sarif --list` is a usage error.
fn list_rules(format: Format) -> Result<u8, Failure> {
    match format {
        Format::Json => print!("{}", crate::policy::report::list_json()),
        Format::Sarif => {
            eprintln!(
                "error: `--list` prints human or json; SARIF output of a run already describes every rule in `tool.driver.rules`"
            );
            return Ok(2);
        }
        Format::Human | Format::Mermaid | Format::Dot => {
            print!("{}", crate::policy::report::list());
        }
    }
    Ok(0)
}

/// `stackc policy`: findings over the stack's own output (with waivers) or over PATHs.
fn policy(
    cli: &Cli,
    paths: &[PathBuf],
    env: Option<&str>,
    pinned: bool,
    sources: &mut SourceMap,
) -> Result<u8, Failure> {
    let mut findings = Vec::new();
    let mut diags = Vec::new();
    let mut io_errors = Vec::new();
    if paths.is_empty() {
        let planned = pipeline::plans(&cli.source(), env, sources)?;
        let modules = pipeline::shared_modules(&planned);
        let shared = crate::build::Shared::new(&modules);
        diags.extend(planned.warnings);
        for (env, mut plan) in planned.plans {
            plan.policy.pinned |= pinned;
            let checked = pipeline::build_and_check(&pipeline::Inputs::of(&env), &plan, &shared);
            diags.extend(checked.validation);
            diags.extend(checked.waiver_warnings);
            findings.extend(checked.findings);
        }
    } else {
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let read = crate::policy::input::read(&refs);
        diags.extend(read.diagnostics);
        io_errors = read.io_errors;
        let subjects: Vec<crate::policy::Subject> = read
            .documents
            .iter()
            .map(|d| crate::policy::Subject::new(d.file.clone(), d.line, &d.body))
            .collect();
        let options = crate::policy::Options {
            pinned,
            schema: true,
        };
        findings = crate::policy::run(&subjects, options);
    }
    let diags = diag::dedup(diags);
    match cli.format {
        Format::Human | Format::Mermaid | Format::Dot => {
            report(cli, &diags, sources);
            print!("{}", crate::policy::report::human(&findings));
        }
        Format::Json => {
            let mut all = diags.clone();
            all.extend(crate::policy::to_diagnostics(&findings));
            print!("{}", diag::render_json(&all, sources));
        }
        Format::Sarif => {
            report(
                &Cli {
                    format: Format::Human,
                    ..cli.clone()
                },
                &diags,
                sources,
            );
            let sarif = crate::policy::report::sarif(&findings, &diags);
            println!(
                "{}",
                serde_json::to_string_pretty(&sarif).expect("SARIF serializes")
            );
        }
    }
    let errors = crate::policy::count(&findings, Severity::Error)
        + diags.iter().filter(|d| d.is_error()).count();
    let warnings = crate::policy::count(&findings, Severity::Warning)
        + diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
    if cli.format == Format::Human {
        eprintln!(
            "policy: {} and {} in {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(count_files(&findings, &diags), "file")
        );
    }
    // What could not be read was skipped, and the rest checked: an I/O error (exit 2).
    for error in &io_errors {
        eprintln!("error: {error}");
    }
    Ok(if io_errors.is_empty() {
        u8::from(errors > 0)
    } else {
        2
    })
}

/// The files with a finding or with an error in the file itself (a manifest that is not
/// YAML, or not UTF-8).
fn count_files(findings: &[crate::policy::Finding], diags: &[Diagnostic]) -> usize {
    let manifests = diags.iter().filter_map(|d| match &d.location {
        diag::Location::Line(file, ..) | diag::Location::File(file) => Some(file.as_str()),
        diag::Location::None | diag::Location::Span(_) => None,
    });
    findings
        .iter()
        .map(|f| f.file.as_str())
        .chain(manifests)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

fn display(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

fn is_object_file(path: &str) -> bool {
    path.ends_with(".yaml") && !path.ends_with("/kustomization.yaml")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn report(cli: &Cli, diags: &[Diagnostic], sources: &SourceMap) {
    if diags.is_empty() {
        return;
    }
    match cli.format {
        Format::Human | Format::Sarif | Format::Mermaid | Format::Dot => {
            let styled = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", diag::render_human(diags, sources, styled));
        }
        Format::Json => print!("{}", diag::render_json(diags, sources)),
    }
}

/// The JSON Schema of the input, as committed in stack.schema.json.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(crate::model::Stack);
    serde_json::to_string_pretty(&schema).expect("schema serializes")
}
