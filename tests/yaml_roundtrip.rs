//! The canonical YAML writer, checked by an independent YAML reader (serde-saphyr):
//! what stackc writes reads back as exactly the value it was written from.

mod common;

use serde_json::{Value, json};
use stackc::emit::yaml::to_yaml;

fn read(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not valid YAML: {e}\n{text}"))
}

#[test]
fn every_committed_file_reads_back_and_rewrites_to_the_same_bytes() {
    let mut checked = 0;
    for (path, bytes) in common::snapshot(&common::repo().join("rendered")) {
        if !path.ends_with(".yaml") {
            continue;
        }
        let text = String::from_utf8(bytes).unwrap();
        let value = read(&text);
        assert_eq!(
            to_yaml(&value.clone().into()),
            text,
            "{path} is not in canonical form"
        );
        checked += 1;
    }
    assert!(checked > 30, "only {checked} files checked");
}

#[test]
fn tricky_strings_keep_their_type() {
    let strings = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "NO",
        "True",
        "null",
        "~",
        "",
        " ",
        "1.10",
        "1e3",
        "0x1F",
        "0o17",
        "012",
        "2024-01-01",
        "12:30:00",
        ".inf",
        "-.nan",
        "+1",
        "-",
        "--flag=value",
        "a: b",
        "a #b",
        "#x",
        "&anchor",
        "*alias",
        "!tag",
        "%dir",
        "@at",
        "`tick",
        "|",
        ">",
        "'single'",
        "\"double\"",
        "[x]",
        "{x}",
        "x,y",
        "ends with colon:",
        "trailing space ",
        "tab\there",
        "line\nbreak",
        "multi\nline\n",
        "  leading\nspaces",
        "unicode é ✓",
        "nel\u{85}x",
        "ls\u{2028}x",
        "bell\u{7}",
        "cr\r\nlf",
        "\\back",
        "ghcr.io/acme/x:1.4.0@sha256:abc",
        "=",
        "<<",
        "?",
        "? x",
        "- x",
        "x\n\n",
        "\n",
    ];
    for s in strings {
        let doc = json!({ "key": s, "list": [s], "nested": { s: 1 } });
        let text = to_yaml(&doc.clone().into());
        assert_eq!(read(&text), doc, "{s:?} did not round-trip:\n{text}");
    }
}

#[test]
fn numbers_booleans_nulls_and_empty_collections_round_trip() {
    let doc = json!({
        "int": 8000, "neg": -3, "float": 0.5, "big": 9007199254740993u64, "t": true, "f": false,
        "nothing": null, "empty_map": {}, "empty_list": [], "nested": [[1, [2]], [{"a": []}]]
    });
    assert_eq!(read(&to_yaml(&doc.clone().into())), doc);
}
