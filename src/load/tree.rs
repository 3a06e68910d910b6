//! The provenance tree: a TOML document as plain values, each carrying the span it came
//! from. Environment files merge over the stack file node by node, so after the merge
//! every value still knows which file and line it was written on.

use toml::de::{DeTable, DeValue};

use crate::diag::{FileId, Span};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A TOML value. Datetimes are kept as text: the model has none.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

/// A table entry: the key's own span (for "unknown key" errors) and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key_span: Span,
    pub node: Node,
}

/// A TOML table: its entries sorted by key, in a Vec. Most tables have a handful of
/// keys, and a BTreeMap node costs about a kilobyte however few it holds: at fleet
/// scale the source trees were a third of the memory of `check`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    entries: Vec<(String, Entry)>,
}

impl Table {
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.position(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.position(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Sets `key`; returns the entry it replaced.
    pub fn insert(&mut self, key: String, entry: Entry) -> Option<Entry> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, entry)),
            Err(i) => {
                self.entries.insert(i, (key, entry));
                None
            }
        }
    }

    /// Removes `key`; returns its entry.
    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        self.position(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// The entries in key order.
    pub fn iter(&self) -> TableIter<'_> {
        self.entries.iter().map(|(k, e)| (k, e))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().map(|(_, e)| e)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Iterator over a table's entries, in key order.
pub type TableIter<'t> = std::iter::Map<
    std::slice::Iter<'t, (String, Entry)>,
    fn(&(String, Entry)) -> (&String, &Entry),
>;

impl FromIterator<(String, Entry)> for Table {
    /// Sorted by key; of repeated keys the last one stays.
    fn from_iter<I: IntoIterator<Item = (String, Entry)>>(iter: I) -> Self {
        let mut entries: Vec<(String, Entry)> = iter.into_iter().collect();
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, earlier| later.0 == earlier.0);
        Table { entries }
    }
}

impl IntoIterator for Table {
    type Item = (String, Entry);
    type IntoIter = std::vec::IntoIter<(String, Entry)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'t> IntoIterator for &'t Table {
    type Item = (&'t String, &'t Entry);
    type IntoIter = TableIter<'t>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Value {
    /// The TOML type name, for "expected a table, found an integer" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

impl Node {
    /// The node at a key path, e.g. `["app", "producer", "replicas"]`; array items are
    /// addressed by their index, e.g. `["policy", "waive", "0", "rule"]`.
    pub fn get(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| match &node.value {
            Value::Table(table) => table.get(key).map(|entry| &entry.node),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }

    /// The entry (key span and value) at a key path.
    pub fn entry(&self, path: &[&str]) -> Option<&Entry> {
        let (last, parent) = path.split_last()?;
        match &self.get(parent)?.value {
            Value::Table(table) => table.get(last),
            _ => None,
        }
    }

    /// The key span of every table below this node, at most `depth` keys deep, by dotted
    /// path (`app.producer`): where diagnostics point once the tree itself is dropped.
    pub fn table_key_spans(&self, depth: usize) -> std::collections::HashMap<String, Span> {
        fn walk(
            node: &Node,
            prefix: &str,
            depth: usize,
            out: &mut std::collections::HashMap<String, Span>,
        ) {
            let (Some(depth), Value::Table(table)) = (depth.checked_sub(1), &node.value) else {
                return;
            };
            for (key, entry) in table {
                if let Value::Table(_) = entry.node.value {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&entry.node, &path, depth, out);
                    out.insert(path, entry.key_span);
                }
            }
        }
        let mut out = std::collections::HashMap::new();
        walk(self, "", depth, &mut out);
        out
    }

    /// The span of the value at `path`, or of its nearest existing ancestor.
    pub fn span_of(&self, path: &[&str]) -> Span {
        (0..=path.len())
            .rev()
            .find_map(|n| self.get(&path[..n]).map(|node| node.span))
            .unwrap_or(self.span)
    }

    /// True for a non-empty array whose items are all tables (`[[a.b]]`, `a.b = [{ .. }]`).
    pub fn is_array_of_tables(&self) -> bool {
        match &self.value {
            Value::Array(items) => {
                !items.is_empty() && items.iter().all(|i| matches!(i.value, Value::Table(_)))
            }
            _ => false,
        }
    }

    pub fn as_table_mut(&mut self) -> Option<&mut Table> {
        match &mut self.value {
            Value::Table(table) => Some(table),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(table) => Some(table),
            _ => None,
        }
    }
}

/// Converts a parsed TOML document into a provenance tree.
pub fn from_document(table: &toml::Spanned<DeTable<'_>>, file: FileId) -> Node {
    from_part(table, file, 0)
}

/// Converts a document parsed from the part of a file that starts at byte `offset`
/// (see `load::parts`): every span is moved by `offset`.
pub fn from_part(table: &toml::Spanned<DeTable<'_>>, file: FileId, offset: usize) -> Node {
    let at = At { file, offset };
    Node {
        value: Value::Table(at.table(table.get_ref())),
        span: at.span(table.span()),
    }
}

/// Where converted spans point: a file, and where the parsed text starts in it.
#[derive(Clone, Copy)]
struct At {
    file: FileId,
    offset: usize,
}

impl At {
    fn table(self, table: &DeTable<'_>) -> Table {
        table
            .iter()
            .map(|(key, value)| {
                let entry = Entry {
                    key_span: self.span(key.span()),
                    node: self.node(value),
                };
                (key.get_ref().to_string(), entry)
            })
            .collect()
    }

    fn node(self, value: &toml::Spanned<DeValue<'_>>) -> Node {
        let converted = match value.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(i) => {
                Value::Integer(i64::from_str_radix(i.as_str(), i.radix()).unwrap_or(i64::MAX))
            }
            DeValue::Float(f) => Value::Float(parse_float(f.as_str())),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::Datetime(d.to_string()),
            DeValue::Array(items) => Value::Array(items.iter().map(|v| self.node(v)).collect()),
            DeValue::Table(table) => Value::Table(self.table(table)),
        };
        Node {
            value: converted,
            span: self.span(value.span()),
        }
    }

    fn span(self, range: std::ops::Range<usize>) -> Span {
        Span {
            file: self.file,
            start: range.start + self.offset,
            end: range.end + self.offset,
        }
    }
}

/// Spans of integers outside the 64-bit range TOML allows (the parser accepts them).
pub fn out_of_range_integers(table: &DeTable<'_>) -> Vec<std::ops::Range<usize>> {
    fn walk(value: &toml::Spanned<DeValue<'_>>, out: &mut Vec<std::ops::Range<usize>>) {
        match value.get_ref() {
            DeValue::Integer(i) if i64::from_str_radix(i.as_str(), i.radix()).is_err() => {
                out.push(value.span())
            }
            DeValue::Array(items) => items.iter().for_each(|v| walk(v, out)),
            DeValue::Table(table) => table.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    table.values().for_each(|v| walk(v, &mut out));
    out
}

fn parse_float(text: &str) -> f64 {
    let clean = text.replace('_', "");
    match clean.trim_start_matches(['+', '-']) {
        "inf" => {
            if clean.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        "nan" => f64::NAN,
        _ => clean.parse().unwrap_or(f64::NAN),
    }
}

/// Deep-merges `overlay` over `base`: tables merge key by key, everything else
/// (scalars and arrays) is replaced whole, keeping the overlay's provenance.
pub fn merge(base: &mut Node, overlay: Node) {
    match (&mut base.value, overlay.value) {
        (Value::Table(base_table), Value::Table(overlay_table)) => {
            for (key, entry) in overlay_table {
                match base_table.get_mut(&key) {
                    Some(existing) => merge(&mut existing.node, entry.node),
                    None => {
                        base_table.insert(key, entry);
                    }
                }
            }
        }
        (_, value) => {
            base.value = value;
            base.span = overlay.span;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(start: usize) -> Entry {
        let span = Span {
            file: FileId(0),
            start,
            end: start,
        };
        Entry {
            key_span: span,
            node: Node {
                value: Value::Integer(start as i64),
                span,
            },
        }
    }

    #[test]
    fn tables_keep_keys_sorted_and_the_last_of_repeated_keys() {
        let mut table: Table = [("b", 1), ("a", 2), ("c", 3), ("a", 4)]
            .into_iter()
            .map(|(k, n)| (k.to_owned(), entry(n)))
            .collect();
        assert_eq!(table.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(table.get("a").unwrap().key_span.start, 4);
        assert!(table.insert("ab".into(), entry(5)).is_none());
        assert_eq!(
            table.insert("b".into(), entry(6)).unwrap().key_span.start,
            1
        );
        assert_eq!(table.keys().collect::<Vec<_>>(), ["a", "ab", "b", "c"]);
        table.get_mut("c").unwrap().key_span.start = 7;
        assert_eq!(table.remove("ab").unwrap().key_span.start, 5);
        assert!(table.remove("ab").is_none());
        table.insert("ab".into(), entry(5));
        let starts: Vec<usize> = table.values().map(|e| e.key_span.start).collect();
        assert_eq!(starts, [4, 5, 6, 7]);
        assert_eq!(table.len(), 4);
        assert!(table.get("d").is_none());
    }

    fn parse(text: &str, file: u32) -> Node {
        let doc = DeTable::parse(text).expect("valid TOML");
        from_document(&doc, FileId(file))
    }

    #[test]
    fn table_key_spans_locate_components_three_keys_deep_at_most() {
        let text = "[stack]\nname = \"s\"\n\n[app.producer]\nimage = \"x:1\"\n\n[app.producer.env]\nA = \"1\"\n\n[kafka.events.topics.orders]\npartitions = 3\n";
        let declared = parse(text, 0).table_key_spans(3);
        let at = |path: &str| {
            let span = declared[path];
            &text[span.start..span.end]
        };
        assert_eq!(at("app.producer"), "producer");
        assert_eq!(at("app"), "app");
        assert_eq!(at("app.producer.env"), "env");
        assert_eq!(at("kafka.events.topics"), "topics");
        assert!(!declared.contains_key("kafka.events.topics.orders"));
        assert!(!declared.contains_key("stack.name"));
    }

    #[test]
    fn tables_merge_and_scalars_and_arrays_replace() {
        let mut base = parse("[a]\nx = 1\ny = [1, 2]\nz = 'keep'\n", 0);
        let overlay = parse("[a]\nx = 2\ny = [3]\nw = true\n", 1);
        merge(&mut base, overlay);
        assert_eq!(base.get(&["a", "x"]).unwrap().value, Value::Integer(2));
        assert_eq!(base.get(&["a", "x"]).unwrap().span.file, FileId(1));
        let Value::Array(items) = &base.get(&["a", "y"]).unwrap().value else {
            panic!("y is an array")
        };
        assert_eq!(items.len(), 1);
        assert_eq!(base.get(&["a", "z"]).unwrap().span.file, FileId(0));
        assert_eq!(base.get(&["a", "w"]).unwrap().value, Value::Bool(true));
    }

    #[test]
    fn span_of_falls_back_to_the_nearest_ancestor() {
        let node = parse("[a]\nx = 1\n", 0);
        assert_eq!(
            node.span_of(&["a", "x", "nope"]),
            node.get(&["a", "x"]).unwrap().span
        );
    }

    #[test]
    fn arrays_of_tables_are_told_from_other_arrays() {
        let node = parse("[[a]]\nx = 1\n[b]\nc = [1]\nd = []\ne = [{ y = 2 }]\n", 0);
        assert!(node.get(&["a"]).unwrap().is_array_of_tables());
        assert!(node.get(&["b", "e"]).unwrap().is_array_of_tables());
        assert!(!node.get(&["b"]).unwrap().is_array_of_tables());
        assert!(!node.get(&["b", "c"]).unwrap().is_array_of_tables());
        assert!(!node.get(&["b", "d"]).unwrap().is_array_of_tables());
    }

    #[test]
    fn integers_in_any_radix() {
        let node = parse("a = 0x1F\nb = 1_000\nc = -5\n", 0);
        assert_eq!(node.get(&["a"]).unwrap().value, Value::Integer(31));
        assert_eq!(node.get(&["b"]).unwrap().value, Value::Integer(1000));
        assert_eq!(node.get(&["c"]).unwrap().value, Value::Integer(-5));
    }
}
