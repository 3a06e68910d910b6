//! Diagnostics: the one error type every stage reports with, the source map that
//! turns byte spans into `file:line:column`, and the human / JSON renderers.
//!
//! Stages never print; they return `Vec<Diagnostic>` and the CLI renders them.

use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

/// How bad a diagnostic is. Errors fail the command (exit 1); warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

/// One source file as read by `load`: its path as the user should see it, and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// Every file `load` read, so that spans can be shown with their source lines.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: String, text: String) -> FileId {
        self.files.push(SourceFile { path, text });
        FileId(u32::try_from(self.files.len() - 1).expect("fewer than 2^32 source files"))
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = &self.file(file).text;
        end_line_col(&text[..floor_char_boundary(text, offset.min(text.len()))])
    }
}

/// 1-based line and column (in characters) of the position just after `before`.
pub fn end_line_col(before: &str) -> (usize, usize) {
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Where a diagnostic points: a span in a source file, a whole file, or nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    None,
    File(String),
    /// A position in a file stackc did not load as a source (a manifest): path, line, column.
    Line(String, usize, usize),
    Span(Span),
}

/// A problem found in the stack, with a stable code, a location and a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier, e.g. `unknown-key`; documented in the README.
    pub code: &'static str,
    pub message: String,
    pub location: Location,
    /// Text shown under the caret.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: Location::None,
            label: None,
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Option<Span>) -> Self {
        if let Some(span) = span {
            self.location = Location::Span(span);
        }
        self
    }

    pub fn in_file(mut self, path: impl Into<String>) -> Self {
        self.location = Location::File(path.into());
        self
    }

    pub fn at_line(mut self, path: impl Into<String>, line: usize, column: usize) -> Self {
        self.location = Location::Line(path.into(), line, column);
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:column` (or just the path), for one-line output.
    pub fn position(&self, sources: &SourceMap) -> Option<String> {
        match &self.location {
            Location::None => None,
            Location::File(path) => Some(path.clone()),
            Location::Line(path, line, col) => Some(format!("{path}:{line}:{col}")),
            Location::Span(span) => {
                let (line, col) = sources.line_col(span.file, span.start);
                Some(format!("{}:{line}:{col}", sources.file(span.file).path))
            }
        }
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// How to fix a file that is not UTF-8 (also the SARIF rule's help).
pub const ENCODING_HELP: &str =
    "stackc reads UTF-8 only: save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)";

/// `invalid-encoding`: a file is not UTF-8, and `byte` is its first invalid byte (the
/// caller locates it). The same for stack files, modules and manifests given to policy.
pub fn not_utf8(byte: u8) -> Diagnostic {
    Diagnostic::error(
        "invalid-encoding",
        format!("the file is not UTF-8: byte 0x{byte:02X} is not valid UTF-8"),
    )
    .label("not UTF-8 (a Latin-1 or Windows-1252 character?)")
    .help(ENCODING_HELP)
}

/// Drops repeats: a problem in stack.toml is found once per environment, and reported once.
pub fn dedup(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.code, d.message.clone(), d.location.clone())));
    diags
}

/// Renders diagnostics the way rustc and cargo do: header, `--> file:line:col`,
/// the source line with a caret, and `help:`. `styled` adds ANSI colour.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, styled: bool) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for diag in diags {
        let level = match diag.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let mut title = diag.message.clone();
        match &diag.location {
            Location::File(path) => title = format!("{path}: {title}"),
            Location::Line(path, line, col) => title = format!("{path}:{line}:{col}: {title}"),
            _ => {}
        }
        let mut group = Group::with_title(level.primary_title(title).id(diag.code));
        if let Location::Span(span) = diag.location {
            let file = sources.file(span.file);
            let end = span.end.max(span.start).min(file.text.len());
            let start = span.start.min(end);
            let mut annotation = AnnotationKind::Primary.span(start..end);
            if let Some(label) = &diag.label {
                annotation = annotation.label(label.as_str());
            }
            group = group.element(
                Snippet::source(file.text.as_str())
                    .path(file.path.as_str())
                    .fold(true)
                    .annotation(annotation),
            );
        } else if let Some(label) = &diag.label {
            group = group.element(Level::NOTE.message(label.as_str()));
        }
        if let Some(help) = &diag.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let _ = writeln!(out, "{}\n", renderer.render(&[group]));
    }
    out
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    label: Option<&'a str>,
    help: Option<&'a str>,
}

/// One JSON object per line, for editors and CI annotations.
pub fn render_json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for diag in diags {
        let (file, line, column) = match &diag.location {
            Location::None => (None, None, None),
            Location::File(path) => (Some(path.as_str()), None, None),
            Location::Line(path, line, col) => (Some(path.as_str()), Some(*line), Some(*col)),
            Location::Span(span) => {
                let (line, col) = sources.line_col(span.file, span.start);
                (
                    Some(sources.file(span.file).path.as_str()),
                    Some(line),
                    Some(col),
                )
            }
        };
        let json = JsonDiagnostic {
            severity: diag.severity,
            code: diag.code,
            message: &diag.message,
            file,
            line,
            column,
            label: diag.label.as_deref(),
            help: diag.help.as_deref(),
        };
        out.push_str(&serde_json::to_string(&json).expect("diagnostics serialize"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let mut map = SourceMap::default();
        let id = map.add("a.toml".into(), "ab\ncdé\nx".into());
        assert_eq!(map.line_col(id, 0), (1, 1));
        assert_eq!(map.line_col(id, 4), (2, 2));
        assert_eq!(map.line_col(id, 8), (3, 1));
    }

    #[test]
    fn end_line_col_is_just_after_the_text() {
        assert_eq!(end_line_col(""), (1, 1));
        assert_eq!(end_line_col("ab\ncdé"), (2, 4));
        assert_eq!(end_line_col("ab\n"), (2, 1));
    }

    #[test]
    fn human_output_names_file_line_and_help() {
        let mut map = SourceMap::default();
        let id = map.add("stack.toml".into(), "[app.x]\nreplicass = 2\n".into());
        let diag = Diagnostic::error("unknown-key", "unknown key `replicass`")
            .at(Some(Span {
                file: id,
                start: 8,
                end: 17,
            }))
            .help("did you mean `replicas`?");
        let text = render_human(&[diag], &map, false);
        assert!(text.contains("stack.toml:2:1"), "{text}");
        assert!(text.contains("replicass = 2"), "{text}");
        assert!(text.contains("help: did you mean `replicas`?"), "{text}");
    }
}
