//! Renders the templates of `modules/monitoring/` with minijinja: strict undefined
//! behaviour (a misspelt variable is an error, not an empty string), a fuel bound (no
//! runaway loops), and includes resolved only among the loaded module files (`..` is
//! refused). Only `*.j2` files are templates. Blocks trim their newline and leading spaces (`trim_blocks`,
//! `lstrip_blocks`). Every error becomes a diagnostic at the template's file and line.
//!
//! `.json` and `.yaml` templates auto-escape as JSON: `{{ value }}` writes a JSON literal
//! (strings quoted), which is valid in both formats. `|safe` writes text as it is.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

use crate::diag::{Diagnostic, Span};
use crate::load::modules::Modules;

/// Instructions one render may execute.
const FUEL: u64 = 5_000_000;

/// A template environment over the loaded module files.
pub struct Templates<'m> {
    env: Environment<'m>,
    modules: &'m Modules,
}

impl<'m> Templates<'m> {
    /// Compiles every module file; syntax errors are reported all at once.
    pub fn new(modules: &'m Modules) -> Result<Self, Vec<Diagnostic>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.set_auto_escape_callback(|name| {
            minijinja::default_auto_escape_callback(name.strip_suffix(".j2").unwrap_or(name))
        });
        env.set_loader(|name| {
            if name.split('/').any(|part| part == "..") {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::TemplateNotFound,
                    format!("`{name}` leaves modules/: includes may not use `..`"),
                ))
            } else {
                Ok(None::<String>)
            }
        });
        let mut diags = Vec::new();
        for (name, file) in modules
            .files
            .iter()
            .filter(|(name, _)| name.ends_with(".j2"))
        {
            if let Err(e) = env.add_template_owned(name.clone(), file.text.clone()) {
                diags.push(diagnostic(modules, &e, name));
            }
        }
        if diags.is_empty() {
            Ok(Templates { env, modules })
        } else {
            Err(diags)
        }
    }

    /// Whether `name` (relative to `modules/`) was loaded.
    pub fn has(&self, name: &str) -> bool {
        self.modules.files.contains_key(name)
    }

    /// Renders `name` with `ctx`; a file without the `.j2` suffix is not a template and
    /// comes out as it is (a dashboard exported from Grafana keeps its `{{job}}`).
    pub fn render<S: serde::Serialize>(
        &self,
        name: &str,
        ctx: &S,
    ) -> Result<String, Box<Diagnostic>> {
        if !name.ends_with(".j2") {
            if let Some(file) = self.modules.files.get(name) {
                return Ok(file.text.clone());
            }
        }
        let template = self
            .env
            .get_template(name)
            .map_err(|e| Box::new(diagnostic(self.modules, &e, name)))?;
        template
            .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| Box::new(diagnostic(self.modules, &e, name)))
    }
}

/// A template error at its file and line (the innermost template, for includes).
fn diagnostic(modules: &Modules, e: &minijinja::Error, fallback: &str) -> Diagnostic {
    let name = e.name().unwrap_or(fallback);
    let message = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    let diag = Diagnostic::error("template-error", format!("template `{name}`: {message}"))
        .label(e.kind().to_string())
        .help("fix the template in modules/ (minijinja syntax; every variable must exist: see the README for what templates see)");
    let Some(file) = modules.files.get(name) else {
        return diag.in_file(format!("modules/{name}"));
    };
    let span = e
        .range()
        .map(|r| (r.start, r.end))
        .or_else(|| e.line().map(|line| line_range(&file.text, line)))
        .unwrap_or((0, 0));
    diag.at(Some(Span {
        file: file.file,
        start: span.0.min(file.text.len()),
        end: span.1.min(file.text.len()),
    }))
}

/// The templates, compiled once for every environment that renders them, on first use
/// (compiling them was a third of the instructions of rendering them, once per
/// environment).
#[derive(Default)]
pub struct Compiled<'m>(OnceLock<Result<Templates<'m>, Vec<Diagnostic>>>);

impl<'m> Compiled<'m> {
    /// The templates of `modules` (the same `modules` every time), or their syntax errors.
    pub fn get(&self, modules: &'m Modules) -> Result<&Templates<'m>, Vec<Diagnostic>> {
        self.0
            .get_or_init(|| Templates::new(modules))
            .as_ref()
            .map_err(Vec::clone)
    }
}

/// Byte range of 1-based `line` in `text`.
fn line_range(text: &str, line: usize) -> (usize, usize) {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (start, start + l.trim_end_matches('\n').len());
        }
        start += l.len();
    }
    (text.len(), text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceMap;
    use crate::load::modules::ModuleFile;

    fn modules(files: &[(&str, &str)]) -> (Modules, SourceMap) {
        let mut sources = SourceMap::default();
        let mut m = Modules::default();
        for (name, text) in files {
            let file = sources.add(format!("modules/{name}"), (*text).to_owned());
            m.files.insert(
                (*name).to_owned(),
                ModuleFile {
                    file,
                    text: (*text).to_owned(),
                },
            );
        }
        (m, sources)
    }

    fn line_of(sources: &SourceMap, d: &Diagnostic) -> usize {
        let text = crate::diag::render_json(std::slice::from_ref(d), sources);
        let json: serde_json::Value = serde_json::from_str(text.trim()).expect("json");
        usize::try_from(json["line"].as_u64().expect("a line")).expect("small")
    }

    #[test]
    fn templates_are_compiled_once_for_every_environment() {
        let (m, _) = modules(&[("monitoring/a.yaml.j2", "a: {{ x }}\n")]);
        let compiled = Compiled::default();
        let first: *const Templates = compiled.get(&m).expect("compiles");
        let second: *const Templates = compiled.get(&m).expect("compiles");
        assert_eq!(
            first, second,
            "the second environment gets the same templates"
        );
        let (broken, _) = modules(&[("monitoring/a.yaml.j2", "a: {{ x \n")]);
        let compiled = Compiled::default();
        for _ in 0..2 {
            let errors = compiled.get(&broken).err().expect("a syntax error");
            assert_eq!(errors.len(), 1, "each environment is told of the error");
        }
    }

    #[test]
    fn strict_undefined_is_an_error_at_its_line() {
        let (m, sources) = modules(&[("monitoring/a.yaml.j2", "a: 1\nb: {{ nope }}\n")]);
        let t = Templates::new(&m).expect("compiles");
        let err = t
            .render("monitoring/a.yaml.j2", &serde_json::json!({}))
            .unwrap_err();
        assert_eq!(err.code, "template-error");
        assert_eq!(line_of(&sources, &err), 2);
    }

    #[test]
    fn syntax_error_points_at_the_line() {
        let (m, sources) = modules(&[("monitoring/b.json.j2", "{\n\n  \"x\": {% if %}\n}\n")]);
        let Err(errs) = Templates::new(&m) else {
            panic!("must not compile")
        };
        assert_eq!(line_of(&sources, &errs[0]), 3);
    }

    #[test]
    fn yaml_values_are_json_escaped() {
        let (m, _) = modules(&[("monitoring/c.yaml.j2", "v: {{ s }}\n")]);
        let t = Templates::new(&m).expect("compiles");
        let out = t
            .render(
                "monitoring/c.yaml.j2",
                &serde_json::json!({"s": "a: \"b\"\nc"}),
            )
            .unwrap();
        assert_eq!(out, "v: \"a: \\\"b\\\"\\nc\"\n");
    }

    #[test]
    fn includes_cannot_leave_modules() {
        let (m, _) = modules(&[(
            "monitoring/d.yaml.j2",
            "{% include \"../../etc/passwd\" %}\n",
        )]);
        let t = Templates::new(&m).expect("compiles");
        assert!(
            t.render("monitoring/d.yaml.j2", &serde_json::json!({}))
                .is_err()
        );
    }

    #[test]
    fn fuel_bounds_loops() {
        let (m, _) = modules(&[(
            "monitoring/e.yaml.j2",
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
        )]);
        let t = Templates::new(&m).expect("compiles");
        assert!(
            t.render("monitoring/e.yaml.j2", &serde_json::json!({}))
                .is_err()
        );
    }
}
