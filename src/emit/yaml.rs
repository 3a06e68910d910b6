//! Canonical YAML: the one YAML writer stackc has. Keys sorted, block style, two-space
//! indentation, strings quoted whenever a YAML 1.1 or 1.2 reader could take them for
//! anything but a string (`yes`, `on`, `1.10`, `2024-01-01`, `0x1F`, ...), multi-line
//! strings as literal blocks so config files read naturally in PR diffs, LF endings and
//! exactly one trailing newline. The same value always gives the same bytes.

use crate::value::{Map, Value};

/// Serializes one document.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_inline(&mut out, scalar);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

/// Writes a mapping at `indent`, keys sorted; with `inline_first` the first key follows a
/// `- ` already written. A [`Map`] keeps insertion order. Most maps are already sorted
/// (k8s-openapi serializes fields in alphabetical order), so they are written without a
/// sort.
fn write_map(out: &mut String, map: &Map, indent: usize, inline_first: bool) {
    if map.keys().is_sorted() {
        write_entries(out, map.iter(), indent, inline_first);
    } else {
        let mut entries: Vec<(&str, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        write_entries(out, entries.into_iter(), indent, inline_first);
    }
}

fn write_entries<'v>(
    out: &mut String,
    entries: impl Iterator<Item = (&'v str, &'v Value)>,
    indent: usize,
    inline_first: bool,
) {
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        write_string(out, key);
        out.push(':');
        write_nested(out, value, indent);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, indent + 2, true);
            }
            _ => write_nested(out, item, indent),
        }
    }
}

/// Writes what follows `key:` or `-`: a nested block on the next lines, or ` scalar\n`.
fn write_nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        Value::String(s) if literal_block_ok(s) => write_literal(out, s, indent + 2),
        scalar => {
            out.push(' ');
            write_inline(out, scalar);
            out.push('\n');
        }
    }
}

fn write_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// A string as a plain scalar when that is unambiguous, else double-quoted.
fn write_string(out: &mut String, s: &str) {
    if plain_ok(s) {
        out.push_str(s);
    } else {
        write_quoted(out, s);
    }
}

/// Words some YAML reader (1.1 or 1.2) resolves to null or a boolean.
const RESERVED: &[&str] = &[
    "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
];

/// Bytes a plain scalar may hold anywhere after its first: letters, digits and the
/// punctuation of names, paths, URLs and images ([`PLAIN`], or [`COLON`], which may not
/// be followed by a space). A table, so that the scan of every string written (most of
/// what emit does) is one lookup per byte.
const BYTES: [u8; 256] = {
    let mut table = [NOT_PLAIN; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_' | b'.' | b'/' | b'@' | b'+' | b'=' | b',' | b'(' | b')' | b' '
            )
        {
            table[b] = PLAIN;
        }
        b += 1;
    }
    table[b':' as usize] = COLON;
    table
};
const NOT_PLAIN: u8 = 0;
const PLAIN: u8 = 1;
const COLON: u8 = 2;

fn plain_ok(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    // Numbers, dates and timestamps start with a digit, a sign or a dot; indicators
    // with punctuation. Starting with a letter, `/` or `_` rules all of them out.
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'_') {
        return false;
    }
    if s.len() <= 5 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Only plain bytes (`#` is not one, so no ` #` either), no `: `, and not ending in
    // `:` or a space.
    let mut colon = false;
    let plain = bytes.iter().all(|&b| {
        let kind = BYTES[usize::from(b)];
        colon |= kind == COLON;
        kind != NOT_PLAIN
    });
    plain && !matches!(last, b':' | b' ') && !(colon && s.contains(": "))
}

/// A double-quoted scalar; escapes are the subset JSON and YAML share.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    // Runs of characters that need no escape are copied whole.
    let short = |c: char| match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '\n' => Some("\\n"),
        '\t' => Some("\\t"),
        '\r' => Some("\\r"),
        _ => None,
    };
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let escape = short(c);
        if escape.is_none() && !needs_escape(c) {
            continue;
        }
        out.push_str(&s[run..i]);
        match escape {
            Some(escape) => out.push_str(escape),
            None => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Control characters, and the characters YAML 1.1 treats as line breaks or a BOM.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Multi-line text without characters a block scalar cannot hold or that would need
/// an indentation indicator, ending in at most one newline.
fn literal_block_ok(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    body.contains('\n')
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\t', '\n'])
        && !s.chars().any(|c| c != '\n' && c != '\t' && needs_escape(c))
}

fn write_literal(out: &mut String, s: &str, indent: usize) {
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(body) => (body, ""),
        None => (s, "-"),
    };
    out.push_str(" |");
    out.push_str(chomp);
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::json;

    fn string(s: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, s);
        out
    }

    fn quoted(s: &str) -> String {
        let mut out = String::new();
        write_quoted(&mut out, s);
        out
    }

    #[test]
    fn keys_are_sorted_whatever_the_insertion_order() {
        let mut map = Map::new();
        for (key, n) in [
            ("zeta", 1),
            ("Alpha", 2),
            ("beta", 3),
            ("alpha", 4),
            ("a.b/c", 5),
        ] {
            map.insert(key, json!(n));
        }
        let keys: Vec<&str> = map.keys().collect();
        assert_eq!(
            keys[0], "zeta",
            "serde_json keeps insertion order (preserve_order)"
        );
        assert_eq!(
            to_yaml(&Value::Object(map)),
            "Alpha: 2\na.b/c: 5\nalpha: 4\nbeta: 3\nzeta: 1\n"
        );
        let nested = json!([{"b": {"d": 1, "c": 2}, "a": 0}]);
        assert_eq!(to_yaml(&nested), "- a: 0\n  b:\n    c: 2\n    d: 1\n");
    }

    #[test]
    fn sorted_block_style() {
        let v = json!({"kind": "Service", "apiVersion": "v1", "spec": {"ports": [{"port": 80, "name": "http"}], "selector": {}}});
        assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nkind: Service\nspec:\n  ports:\n    - name: http\n      port: 80\n  selector: {}\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "null",
            "~",
            "1.10",
            "2024-01-01",
            "0x1F",
            "12:30",
            "",
            "-",
            "8000",
            ".inf",
            "a: b",
            "a #b",
            "@x",
            "*x",
            "!x",
            "'x",
            "{x",
            "[x",
            "x:",
        ] {
            let out = string(s);
            assert!(out.starts_with('"'), "{s:?} was not quoted: {out}");
        }
        for s in [
            "producer",
            "ghcr.io/acme/producer:1.4.0",
            "app.kubernetes.io/name",
            "https://example.org/x",
            "RuntimeDefault",
            "hello world",
        ] {
            assert_eq!(string(s), s);
        }
    }

    #[test]
    fn multiline_strings_are_literal_blocks() {
        let v =
            json!({"data": {"a.conf": "line1\n  indented\n\nlast\n", "b": "no newline\nat end"}});
        assert_eq!(
            to_yaml(&v),
            "data:\n  a.conf: |\n    line1\n      indented\n\n    last\n  b: |-\n    no newline\n    at end\n"
        );
    }

    #[test]
    fn awkward_multiline_strings_fall_back_to_quotes() {
        for s in [" leading space\nx", "two trailing\n\n", "\n", "cr\r\nlf"] {
            assert!(!literal_block_ok(s), "{s:?}");
        }
        assert_eq!(quoted("a\u{2028}b\u{7}"), "\"a\\u2028b\\u0007\"");
        // Runs between escapes, multi-byte characters among them, are copied whole.
        assert_eq!(quoted("\"é: x\\\ty\u{7}ü\r"), r#""\"é: x\\\ty\u0007ü\r""#);
    }

    #[test]
    fn nested_sequences_and_empty_values() {
        let v = json!({"a": [[1, 2], [], {}], "b": null, "c": true, "d": 1.5});
        assert_eq!(
            to_yaml(&v),
            "a:\n  -\n    - 1\n    - 2\n  - []\n  - {}\nb: null\nc: true\nd: 1.5\n"
        );
    }
}
