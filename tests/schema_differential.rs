//! stackc's structural validator against jsonschema, on every committed strict schema:
//! the same objects, the same verdicts, the same errors (path and message). The objects
//! are the committed `rendered/` tree's and, for each schema, one made from the schema
//! itself with every property it declares (so every keyword of every schema is reached,
//! not only what the reference stack uses), each also mutated many times over:
//! fields dropped, unknown fields added, values of every other type, strings that break
//! patterns and lengths, numbers out of range.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};
use stackc::validate::strict;
use stackc::validate::structural::Validator;
use stackc::value::Value;

const MUTANTS_PER_OBJECT: usize = 40;
const RENDERED_PER_KIND: usize = 6;
/// How deep the object made from a schema goes before it leaves optional fields out.
const MAX_DEPTH: usize = 9;

struct Schema {
    name: String,
    json: Json,
    ours: Validator,
    theirs: jsonschema::Validator,
}

fn schemas() -> Vec<Schema> {
    let mut all: Vec<(String, &str)> = strict::kinds()
        .into_iter()
        .map(|k| (k.file.to_owned(), k.strict))
        .collect();
    all.push((strict::POD_SPEC_FILE.to_owned(), strict::POD_SPEC));
    all.into_iter()
        .map(|(name, text)| {
            let json: Json = serde_json::from_str(text).unwrap();
            let theirs = jsonschema::options()
                .should_validate_formats(false)
                .build(&json)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let ours = Validator::compile(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            Schema {
                name,
                json,
                ours,
                theirs,
            }
        })
        .collect()
}

/// Every keyword the validators this strict schemas use can fail on.
const KEYWORDS: [&str; 13] = [
    "type",
    "required",
    "additionalProperties",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minProperties",
    "maxProperties",
    "anyOf",
];

thread_local! {
    /// The keywords some comparison has seen fail (both sides agreeing).
    static FAILED: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// Both validators' errors on `object`, as sorted (path, message) lists, and verdicts.
fn compare(schema: &Schema, object: &Json, what: &str) {
    let ours_value = Value::from(object.clone());
    let mut ours: Vec<(String, String)> = schema
        .ours
        .errors(&ours_value)
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect();
    let mut theirs: Vec<(String, String)> = schema
        .theirs
        .iter_errors(object)
        .map(|e| {
            FAILED.with(|f| f.borrow_mut().insert(e.kind().keyword().to_owned()));
            (e.instance_path().as_str().to_owned(), e.to_string())
        })
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(
        ours, theirs,
        "{}: {what}: the errors differ on\n{object}",
        schema.name
    );
    assert_eq!(
        schema.ours.is_valid(&ours_value),
        schema.theirs.is_valid(object),
        "{}: {what}: the verdicts differ on\n{object}",
        schema.name
    );
}

#[test]
fn same_errors_as_jsonschema_on_objects_made_from_every_schema_and_their_mutants() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut compared = 0;
    let mut invalid = 0;
    for schema in schemas() {
        let made = Maker { root: &schema.json }.make(&schema.json, 0);
        compare(&schema, &made, "made from the schema");
        for (i, sweep) in SWEEPS.iter().enumerate() {
            let mut swept = made.clone();
            sweep_all(&mut swept, *sweep);
            compare(&schema, &swept, &format!("sweep {i}"));
        }
        for i in 0..MUTANTS_PER_OBJECT * 3 {
            let mutant = mutate(&made, &mut rng, 1 + i % 3);
            compare(&schema, &mutant, "a mutant");
            compared += 1;
            invalid += usize::from(!schema.theirs.is_valid(&mutant));
        }
    }
    // The mutants reach both verdicts, many times: the comparison is not of empty lists.
    assert!(invalid > compared / 4, "{invalid} of {compared} invalid");
    assert!(invalid < compared, "{invalid} of {compared} invalid");
    // And every keyword the schemas use has failed in some comparison.
    let failed = FAILED.with(|f| f.borrow().clone());
    for keyword in KEYWORDS {
        assert!(
            failed.contains(keyword),
            "no mutant failed `{keyword}`: {failed:?}"
        );
    }
}

#[test]
fn same_errors_as_jsonschema_on_the_rendered_tree_and_its_mutants() {
    let schemas: BTreeMap<(String, String), Schema> = schemas()
        .into_iter()
        .filter_map(|s| {
            let api = s
                .json
                .pointer("/properties/apiVersion/const")?
                .as_str()?
                .to_owned();
            let kind = s
                .json
                .pointer("/properties/kind/const")?
                .as_str()?
                .to_owned();
            Some(((api, kind), s))
        })
        .collect();
    assert!(
        schemas.len() > 30,
        "kinds found by their const apiVersion and kind"
    );
    let mut per_kind: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rendered");
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let Ok(object) = serde_saphyr::from_str::<Json>(&text) else {
            continue;
        };
        let (Some(api), Some(kind)) = (object["apiVersion"].as_str(), object["kind"].as_str())
        else {
            continue;
        };
        let key = (api.to_owned(), kind.to_owned());
        let Some(schema) = schemas.get(&key) else {
            continue;
        };
        let seen = per_kind.entry(key).or_default();
        if *seen == RENDERED_PER_KIND {
            continue;
        }
        *seen += 1;
        let what = entry.path().display().to_string();
        compare(schema, &object, &what);
        assert!(schema.theirs.is_valid(&object), "{what} is valid");
        for i in 0..MUTANTS_PER_OBJECT {
            compare(schema, &mutate(&object, &mut rng, 1 + i % 2), &what);
        }
    }
    assert!(per_kind.len() >= 15, "kinds reached: {per_kind:?}");
}

// ---- objects made from a schema -------------------------------------------------------

struct Maker<'a> {
    root: &'a Json,
}

impl Maker<'_> {
    fn make(&self, schema: &Json, depth: usize) -> Json {
        let Some(schema) = schema.as_object() else {
            return json!({});
        };
        if let Some(r) = schema.get("$ref").and_then(Json::as_str) {
            let name = r.trim_start_matches("#/$defs/");
            return self.make(&self.root["$defs"][name], depth);
        }
        if let Some(c) = schema.get("const") {
            return c.clone();
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        if let Some(first) = schema.get("anyOf").and_then(|e| e.get(0)) {
            return self.make(first, depth);
        }
        let ty = match schema.get("type") {
            Some(Json::String(t)) => t.as_str(),
            Some(Json::Array(ts)) => ts.last().and_then(Json::as_str).unwrap_or("string"),
            _ => "object",
        };
        match ty {
            "object" => self.object(schema, depth),
            "array" => match schema.get("items") {
                Some(items) if depth < MAX_DEPTH => json!([self.make(items, depth + 1)]),
                _ => json!([]),
            },
            "string" => json!(string_for(schema)),
            "integer" => json!(schema.get("minimum").and_then(Json::as_i64).unwrap_or(1)),
            "number" => json!(0.5),
            "boolean" => json!(true),
            _ => Json::Null,
        }
    }

    fn object(&self, schema: &serde_json::Map<String, Json>, depth: usize) -> Json {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut out = serde_json::Map::new();
        if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
            for (name, sub) in properties {
                if depth < MAX_DEPTH || required.contains(&name.as_str()) {
                    out.insert(name.clone(), self.make(sub, depth + 1));
                }
            }
        }
        if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object())
            && depth < MAX_DEPTH
        {
            out.insert("app.kubernetes.io/name".into(), self.make(extra, depth + 1));
        }
        Json::Object(out)
    }
}

/// A string the schema's pattern and lengths admit, where one of a few candidates does.
fn string_for(schema: &serde_json::Map<String, Json>) -> String {
    const CANDIDATES: [&str; 10] = [
        "web",
        "1s",
        "10Gi",
        "a.b",
        "https://example.com",
        "x@p.iam.gserviceaccount.com",
        "oci://r/c",
        "abort",
        "a:b",
        "ab",
    ];
    let pattern = schema
        .get("pattern")
        .and_then(Json::as_str)
        .map(|p| regex::Regex::new(p).unwrap());
    let min = schema.get("minLength").and_then(Json::as_u64).unwrap_or(0) as usize;
    CANDIDATES
        .iter()
        .find(|c| pattern.as_ref().is_none_or(|p| p.is_match(c)) && c.len() >= min)
        .map(|c| (*c).to_owned())
        .unwrap_or_else(|| "x".repeat(min.max(1)))
}

// ---- sweeps: one edit everywhere at once ---------------------------------------------

/// An edit made to every value it applies to, reaching each bounded field of a schema
/// however deep it sits (a random edit rarely finds cert-manager's one bounded port).
type Sweep = fn(&mut Json);

const SWEEPS: [Sweep; 7] = [
    |v| {
        if let Some(n) = v.as_i64() {
            *v = json!(n + 100_000);
        }
    },
    |v| {
        if v.is_number() {
            *v = json!(-1);
        }
    },
    |v| {
        if v.is_string() {
            *v = json!("");
        }
    },
    |v| {
        if let Some(s) = v.as_str() {
            *v = json!(format!("{}!", s.to_uppercase()).repeat(30));
        }
    },
    |v| {
        if let Some(map) = v.as_object_mut() {
            map.insert("replicass".into(), json!(3));
        }
    },
    |v| {
        if let Some(map) = v.as_object_mut() {
            map.clear();
        }
    },
    |v| {
        if let Some(items) = v.as_array_mut() {
            let again = items.clone();
            items.extend(again);
        }
    },
];

/// `sweep` applied to every value under `value`, children first.
fn sweep_all(value: &mut Json, sweep: Sweep) {
    match value {
        Json::Object(map) => map.values_mut().for_each(|v| sweep_all(v, sweep)),
        Json::Array(items) => items.iter_mut().for_each(|v| sweep_all(v, sweep)),
        _ => {}
    }
    sweep(value);
}

// ---- mutants --------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `object` with `edits` random edits.
fn mutate(object: &Json, rng: &mut Rng, edits: usize) -> Json {
    let mut out = object.clone();
    for _ in 0..edits {
        let mut pointers = Vec::new();
        collect_pointers(&out, String::new(), &mut pointers);
        let at = pointers[rng.below(pointers.len())].clone();
        edit(&mut out, &at, rng);
    }
    out
}

fn collect_pointers(value: &Json, here: String, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                collect_pointers(v, format!("{here}/{escaped}"), out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

/// The values a field is replaced with: one of each type, and the edge cases of each.
fn replacements() -> Vec<Json> {
    vec![
        Json::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(2.0),
        json!(1_099_511_627_776_u64),
        json!(""),
        json!("x"),
        json!("UPPER_case/é~"),
        json!("a".repeat(300)),
        json!("10s"),
        json!("not a duration"),
        json!([]),
        json!({}),
        json!([1, "two"]),
        json!({"unknownField": 1}),
    ]
}

fn edit(root: &mut Json, at: &str, rng: &mut Rng) {
    let choice = rng.below(6);
    let Some(target) = root.pointer_mut(at) else {
        return;
    };
    match (choice, &mut *target) {
        // Drop the field (at the root: empty the object).
        (0, _) => {
            let (parent, last) = at.rsplit_once('/').unwrap_or(("", ""));
            match root.pointer_mut(parent) {
                Some(Json::Object(map)) if !at.is_empty() => {
                    map.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Json::Array(items)) if !at.is_empty() && !items.is_empty() => {
                    items.pop();
                }
                _ => {}
            }
        }
        // An unknown field, spelled like a real one.
        (1, Json::Object(map)) => {
            map.insert("replicass".into(), json!(3));
        }
        // The array twice as long.
        (1, Json::Array(items)) => {
            let again = items.clone();
            items.extend(again);
        }
        // A string a little off.
        (2, Json::String(s)) => {
            *s = match rng.below(4) {
                0 => s.to_uppercase(),
                1 => format!("{s}!"),
                2 => String::new(),
                _ => s.repeat(40),
            };
        }
        // A number off by one either way, or made fractional.
        (2, Json::Number(n)) => {
            let v = n.as_f64().unwrap_or(0.0);
            *target = match rng.below(3) {
                0 => json!(v as i64 - 1),
                1 => json!(v as i64 + 100_000),
                _ => json!(v + 0.25),
            };
        }
        _ => {
            let all = replacements();
            *target = all[rng.below(all.len())].clone();
        }
    }
}
