//! Parsing a big TOML file on all cores. The file is cut at table headers (`[app.api]`)
//! into parts, the parts are parsed at once, and their tables are joined, but only when
//! the join is certainly what one parse of the whole file gives:
//!
//! - the first part is the root section (what comes before the first header line), and
//!   none of its keys is a top-level key of another part;
//! - every header line is a plain `[key.key...]` (no arrays of tables, no keys this cut
//!   cannot read), so no header line hides from the cut;
//! - a top-level table in several parts (`app`, from `[app.a]` in one part and `[app.b]`
//!   in another) is never declared by itself (`[app]`), and its keys are disjoint
//!   between the parts.
//!
//! Then that table is implicit everywhere, every key below it lives in one part, and
//! TOML's rules (no table defined twice, no inline table extended) are the parts' own.
//! A part that does not parse, or anything else, and the caller parses the whole file
//! as one: that is also where every syntax error is reported from.

use std::collections::{HashMap, HashSet};

use super::tree::{self, Node, Value};
use crate::diag::FileId;

/// Files smaller than this are parsed in one piece: cutting costs more than it saves.
const MIN_SIZE: usize = 64 * 1024;

/// The tree of `text` parsed in parts on all cores, or `None` when it must be parsed
/// whole (too small, a part does not parse, or the join could differ from one parse).
pub fn parse(text: &str, file: FileId) -> Option<Node> {
    if text.len() < MIN_SIZE {
        return None;
    }
    let headers = header_lines(text)?;
    // The root section first (it may be empty), then the parts that start at headers.
    let cuts: Vec<usize> = [0].into_iter().chain(cuts(text.len(), &headers)?).collect();
    let parts: Vec<(usize, &str)> = cuts
        .iter()
        .zip(cuts.iter().skip(1).chain([&text.len()]))
        .map(|(&start, &end)| (start, &text[start..end]))
        .collect();
    let parsed = crate::parallel::map(&parts, |&(offset, part)| parse_part(part, file, offset));
    let nodes: Vec<Node> = parsed.into_iter().collect::<Option<_>>()?;
    // The document's own span is the root section's (it starts the file, as the whole does).
    let span = nodes.first()?.span;
    let tables: Vec<tree::Table> = nodes
        .into_iter()
        .map(|node| match node.value {
            Value::Table(table) => Some(table),
            _ => None,
        })
        .collect::<Option<_>>()?;
    // Top-level tables declared by a header of their own (`[app]`).
    let declared: HashSet<&str> = (headers.iter())
        .filter_map(|h| match h.path.as_slice() {
            [alone] => Some(alone.as_str()),
            _ => None,
        })
        .collect();
    join(tables, &declared).map(|table| Node {
        value: Value::Table(table),
        span,
    })
}

/// One header line: where it starts, whether it is indented, and its key path.
struct Header {
    start: usize,
    indented: bool,
    path: Vec<String>,
}

/// Every line that starts (after blanks) with `[`, read as a table header; `None` when
/// one cannot be read as a plain header (it may be inside a multi-line string, or an
/// array of tables: either way, the file is parsed whole).
fn header_lines(text: &str) -> Option<Vec<Header>> {
    let mut headers = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.starts_with('[') {
            headers.push(Header {
                start,
                indented: trimmed.len() < line.len(),
                path: header_path(trimmed)?,
            });
        }
        start += line.len();
    }
    Some(headers)
}

/// The key path of `[a.b."c"]` (an optional comment may follow); `None` for anything else.
fn header_path(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix('[')?;
    if inner.starts_with('[') {
        return None;
    }
    let (keys, rest) = inner.split_once(']')?;
    let rest = rest.trim_start_matches([' ', '\t']);
    if !(rest.is_empty() || rest.starts_with('#') || rest.trim_end_matches(['\r', '\n']).is_empty())
    {
        return None;
    }
    keys.split('.').map(key).collect()
}

/// One key of a header: bare, or quoted without escapes.
fn key(raw: &str) -> Option<String> {
    let key = raw.trim_matches([' ', '\t']);
    let quoted = ['"', '\''].into_iter().find_map(|q| {
        key.strip_prefix(q)
            .and_then(|k| k.strip_suffix(q))
            .filter(|k| !k.contains([q, '\\']))
    });
    match quoted {
        Some(inner) => Some(inner.to_owned()),
        None if !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(key.to_owned())
        }
        None => None,
    }
}

/// Where the parts after the root section start: the first header, and headers near
/// equal shares of the rest, a few parts per core. `None` without headers. Parts start
/// only at headers in the first column (an indented one is more likely text in a string).
fn cuts(len: usize, headers: &[Header]) -> Option<Vec<usize>> {
    const PARTS_PER_CORE: usize = 2;
    let cores = crate::parallel::cores();
    let first = headers.first()?.start;
    let parts = cores * PARTS_PER_CORE;
    let share = (len - first).div_ceil(parts);
    let mut cuts = vec![first];
    for i in 1..parts {
        let target = first + i * share;
        let next = (headers.iter())
            .filter(|h| !h.indented)
            .map(|h| h.start)
            .find(|&s| s >= target);
        if let Some(next) = next
            && cuts.last().is_some_and(|&last| next > last)
        {
            cuts.push(next);
        }
    }
    Some(cuts)
}

/// One part parsed, its spans placed in the whole file; `None` when it does not parse
/// or holds an integer TOML does not allow.
fn parse_part(part: &str, file: FileId, offset: usize) -> Option<Node> {
    let doc = toml::de::DeTable::parse(part).ok()?;
    if !tree::out_of_range_integers(doc.get_ref()).is_empty() {
        return None;
    }
    Some(tree::from_part(&doc, file, offset))
}

/// The parts' tables as one, when that is what one parse gives (see the module doc).
fn join(tables: Vec<tree::Table>, declared: &HashSet<&str>) -> Option<tree::Table> {
    let mut tables = tables.into_iter();
    let mut root = tables.next()?;
    let root_keys: HashSet<String> = root.keys().cloned().collect();
    // Which keys of each shared top-level table each part brought.
    let mut seen: HashMap<String, HashSet<String>> = HashMap::new();
    for table in tables {
        for (key, entry) in table {
            if root_keys.contains(&key) {
                return None;
            }
            let Some(existing) = root.get_mut(&key) else {
                if let Value::Table(t) = &entry.node.value {
                    seen.insert(key.clone(), t.keys().cloned().collect());
                }
                root.insert(key, entry);
                continue;
            };
            if declared.contains(key.as_str()) {
                return None;
            }
            let (Value::Table(into), Value::Table(from)) =
                (&mut existing.node.value, entry.node.value)
            else {
                return None;
            };
            let keys = seen.entry(key).or_default();
            for (child, child_entry) in from {
                if !keys.insert(child.clone()) {
                    return None;
                }
                into.insert(child, child_entry);
            }
        }
    }
    Some(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceMap;

    /// The tree one parse of the whole text gives, or `None` when it does not parse.
    fn whole(text: &str, file: FileId) -> Option<Node> {
        let doc = toml::de::DeTable::parse(text).ok()?;
        Some(tree::from_document(&doc, file))
    }

    fn file() -> FileId {
        SourceMap::default().add("stack.toml".into(), String::new())
    }

    /// A big file: `n` apps and databases, each under its own header, written with
    /// most of TOML: dotted keys, inline tables, arrays, multi-line and literal strings,
    /// quoted keys, comments after headers.
    fn stack(n: usize) -> String {
        let mut text = String::from(
            "# a stack\ntitle = \"x\"\nowner.team = 'core'\n\n[stack]\nname = \"s\"\n\n",
        );
        for i in 0..n {
            text.push_str(&format!(
                "[app.a{i}]  # app {i}\nimage = \"r/a{i}:1.{i}\"\nenv = {{ N = {i}, ON = true }}\n\
                 ports.http = 8080\nuses = [\"a{j}\", 'db{i}']\nconfig = \"\"\"\nline {i}\n  [indented]\n\"\"\"\n\n\
                 [ postgres . \"db{i}\" ]\nversion = '16'\nratio = 0.{i}\nlist = [\n  1,\n  2,\n]\n\n",
                j = i.saturating_sub(1)
            ));
        }
        text
    }

    /// Where two trees first differ (spans included), for a readable failure.
    fn first_difference(a: &Node, b: &Node, path: &str) -> Option<String> {
        if a.span != b.span {
            return Some(format!("{path}: span {:?} against {:?}", a.span, b.span));
        }
        match (&a.value, &b.value) {
            (Value::Table(x), Value::Table(y)) => {
                if !x.keys().eq(y.keys()) {
                    return Some(format!("{path}: other keys"));
                }
                x.iter().zip(y.iter()).find_map(|((key, e), (_, f))| {
                    let here = format!("{path}.{key}");
                    if e.key_span == f.key_span {
                        first_difference(&e.node, &f.node, &here)
                    } else {
                        Some(format!(
                            "{here}: key span {:?} against {:?}",
                            e.key_span, f.key_span
                        ))
                    }
                })
            }
            _ => (a != b).then(|| format!("{path}: another value")),
        }
    }

    #[test]
    fn a_big_file_in_parts_is_what_one_parse_gives_spans_included() {
        let file = file();
        let text = stack(1000);
        assert!(text.len() > MIN_SIZE);
        let parts = parse(&text, file).expect("parsed in parts");
        let whole = whole(&text, file).expect("parses whole");
        assert_eq!(first_difference(&parts, &whole, ""), None);
        assert!(parts == whole);
        // A header-like line inside a multi-line string makes the cut refuse the file.
        let text = text.replace("  [indented]", "[not.a.header]");
        assert!(parse(&text, file).is_none());
        // A file that starts with a header has an empty root section.
        let text = stack(1000);
        let text = &text[text.find("[stack]").unwrap()..];
        let parts = parse(text, file).expect("parsed in parts");
        assert_eq!(first_difference(&parts, &whole_of(text, file), ""), None);
    }

    fn whole_of(text: &str, file: FileId) -> Node {
        whole(text, file).expect("parses whole")
    }

    #[test]
    fn what_one_parse_rejects_or_reads_differently_is_left_to_one_parse() {
        let file = file();
        let body = stack(1000);
        let cases = [
            // `[app]` declared while its keys come from several parts.
            format!("{body}[app]\nx = 1\n"),
            // The same table twice, in different parts.
            format!("{body}[app.a0]\nimage = \"again\"\n"),
            // A root key that a header extends.
            format!("app = {{ z = {{}} }}\n{body}"),
            // An array of tables.
            format!("{body}[[jobs]]\nname = \"j\"\n"),
            // A part that does not parse.
            format!("{body}[app.broken]\nimage = \n"),
            // An integer out of range.
            format!("{body}[app.big]\nreplicas = 99999999999999999999\n"),
        ];
        for text in cases {
            assert!(parse(&text, file).is_none(), "{}", &text[text.len() - 60..]);
        }
    }

    /// Tricky lines dropped at random places of a big file: the parts either refuse it
    /// or give exactly what one parse gives (and never accept what one parse rejects).
    #[test]
    fn random_edits_never_make_the_parts_differ_from_one_parse() {
        const LINES: &[&str] = &[
            "[app]",
            "[app.a5]",
            "[postgres.\"db7\"]",
            "[[jobs]]",
            "app.a3.z = 1",
            "x = 1",
            "\"\"\"",
            "'''",
            "a = [",
            "]",
            "[app.new.deeper]",
            "[newtable]",
            "app = { q = 1 }",
            "# [app.commented]",
            "[ app . a9 ] # again",
        ];
        let file = file();
        let base = stack(450);
        assert!(base.len() > MIN_SIZE);
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut cut = 0;
        for _ in 0..60 {
            let mut text = base.clone();
            for _ in 0..1 + next(2) {
                let at = next(text.len());
                let at = text[..at].rfind('\n').map_or(0, |i| i + 1);
                text.insert_str(at, &format!("{}\n", LINES[next(LINES.len())]));
            }
            if let Some(parts) = parse(&text, file) {
                cut += 1;
                let whole = whole(&text, file).expect("the parts accepted what one parse rejects");
                assert_eq!(first_difference(&parts, &whole, ""), None);
            }
        }
        assert!(cut > 0, "no edited file was cut at all");
    }

    #[test]
    fn header_lines_are_read_or_refused() {
        let path = |line: &str| header_path(line);
        assert_eq!(path("[app.api]\n"), Some(vec!["app".into(), "api".into()]));
        assert_eq!(
            path("[ app . \"my api\" ]  # the API\n"),
            Some(vec!["app".into(), "my api".into()])
        );
        assert_eq!(path("[app.'x']"), Some(vec!["app".into(), "x".into()]));
        assert_eq!(path("[[jobs]]\n"), None);
        assert_eq!(path("[app.\"a\\\"b\"]\n"), None);
        assert_eq!(path("[1, 2]\n"), None);
        assert_eq!(path("[app.api] x = 1\n"), None);
    }
}
