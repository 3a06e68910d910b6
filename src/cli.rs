//! The command line: argument parsing (clap), the commands, diagnostics output and
//! exit codes (0 clean, 1 the stack is wrong or rendered/ is stale, 2 usage or I/O).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{self, Diagnostic, Severity, SourceMap};
use crate::emit::writer::{self, Scope};
use crate::pipeline::{self, Failure};

/// stackc compiles a typed stack description (stack.toml + environments/<env>.toml)
/// into deterministic Kubernetes manifests under rendered/<env>/, applied by Flux.
#[derive(Clone, Debug, Parser)]
#[command(name = "stackc", version, about, long_about = None)]
pub struct Cli {
    /// Directory holding stack.toml (default: the current directory).
    #[arg(
        short = 'C',
        long = "dir",
        global = true,
        value_name = "DIR",
        default_value = "."
    )]
    pub dir: PathBuf,
    /// How to print diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style messages with source snippets (colour on a terminal).
    Human,
    /// One JSON object per diagnostic per line.
    Json,
    /// SARIF 2.1.0, for code scanning (`stackc policy` only).
    Sarif,
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
        /// For PATH mode: require image digests (rule `image-digest`).
        #[arg(long)]
        pinned: bool,
        /// Print the rules (id, severity, what, fix, why) and exit.
        #[arg(long)]
        list: bool,
    },
    /// Print the JSON Schema of stack.toml (commit it as stack.schema.json for editor completion).
    Schema,
}

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(run(&cli))
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: &Cli) -> u8 {
    let mut sources = SourceMap::default();
    let result = match &cli.command {
        Command::Render { env, check } => render(cli, env.as_deref(), *check, &mut sources),
        Command::Check { env } => {
            pipeline::plans(&cli.dir, env.as_deref(), &mut sources).map(|plans| {
                let names: Vec<&str> = plans.iter().map(|(_, p)| p.env.as_str()).collect();
                println!(
                    "ok: {} checked ({})",
                    plural(names.len(), "environment"),
                    names.join(", ")
                );
                0
            })
        }
        Command::Validate { env } => {
            pipeline::compile(&cli.dir, env.as_deref(), &mut sources).map(|compiled| {
                report(cli, &compiled.warnings, &sources);
                let objects = compiled
                    .tree
                    .files
                    .keys()
                    .filter(|p| is_object_file(p))
                    .count();
                println!(
                    "ok: {} valid in {}",
                    plural(objects, "object"),
                    plural(compiled.envs.len(), "environment")
                );
                0
            })
        }
        Command::Policy {
            paths,
            env,
            pinned,
            list,
        } => {
            if *list {
                print!("{}", crate::policy::report::list());
                Ok(0)
            } else {
                policy(cli, paths, env.as_deref(), *pinned, &mut sources)
            }
        }
        Command::Schema => {
            println!("{}", schema_json());
            Ok(0)
        }
    };
    match result {
        Ok(code) => code,
        Err(Failure::Stack(diags)) => {
            report(cli, &diags, &sources);
            let errors = diags.iter().filter(|d| d.is_error()).count();
            if cli.format == Format::Human {
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
    let compiled = pipeline::compile(&cli.dir, env, sources)?;
    report(cli, &compiled.warnings, sources);
    let rendered = cli.dir.join("rendered");
    let scope = env.map_or(Scope::All, Scope::Env);
    let io = |e: std::io::Error| Failure::Io(format!("{}: {e}", rendered.display()));
    let changes = writer::compare(&rendered, &compiled.tree, scope).map_err(io)?;
    if check {
        if changes.is_empty() {
            println!("ok: rendered/ is up to date ({})", compiled.envs.join(", "));
            return Ok(0);
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(writer::unified_diff(&changes, &compiled.tree).as_bytes());
        eprintln!(
            "error: rendered/ is out of date: {} added, {} changed, {} removed; run `stackc render` and commit the result",
            changes.added.len(),
            changes.changed.len(),
            changes.removed.len()
        );
        return Ok(1);
    }
    writer::write(&rendered, &compiled.tree, &changes).map_err(io)?;
    println!(
        "rendered {} into {}: {} added, {} changed, {} removed, {} unchanged",
        compiled.envs.join(", "),
        display(&rendered),
        changes.added.len(),
        changes.changed.len(),
        changes.removed.len(),
        compiled.tree.files.len() - changes.added.len() - changes.changed.len()
    );
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
    if paths.is_empty() {
        for (env, plan) in pipeline::plans(&cli.dir, env, sources)? {
            let checked = pipeline::build_and_check(&env, &plan);
            diags.extend(checked.validation);
            diags.extend(checked.waiver_warnings);
            findings.extend(checked.findings);
        }
    } else {
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let (docs, parse_errors) = crate::policy::input::read(&refs).map_err(Failure::Io)?;
        diags.extend(parse_errors);
        let subjects: Vec<crate::policy::Subject> = docs
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
        Format::Human => {
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
            let sarif = crate::policy::report::sarif(&findings);
            println!(
                "{}",
                serde_json::to_string_pretty(&sarif).expect("SARIF serializes")
            );
        }
    }
    let errors = crate::policy::count(&findings, Severity::Error)
        + diags.iter().filter(|d| d.is_error()).count();
    let warnings = crate::policy::count(&findings, Severity::Warning);
    if cli.format == Format::Human {
        eprintln!(
            "policy: {} and {} in {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(count_files(&findings), "file")
        );
    }
    Ok(u8::from(errors > 0))
}

fn count_files(findings: &[crate::policy::Finding]) -> usize {
    findings
        .iter()
        .map(|f| f.file.as_str())
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
        Format::Human | Format::Sarif => {
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
