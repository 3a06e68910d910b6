//! `stackc promote <from> <to>`: copy version pins (image tags and digests, component
//! versions, and the `[images]` entries that pin or replace the images stackc chooses)
//! from one environment to the next by editing `environments/<to>.toml` in place with
//! toml_edit, so comments and layout survive.
//! Pure: it returns the new text; the CLI compiles it, diffs it and writes it.

use std::collections::{BTreeMap, BTreeSet};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::load::EnvStack;
use crate::load::tree::Value;

/// The keys of each component kind that pin a version. The `image` of postgres, redis,
/// kafka and influxdb is a repository override that may carry a digest (`...@sha256:`),
/// which decides what runs whatever `version` says: the two keys of a component move
/// together.
pub const PINS: &[(&str, &[&str])] = &[
    ("app", &["image"]),
    ("postgres", &["version", "image"]),
    ("coder", &["version"]),
    ("redis", &["version", "image"]),
    ("kafka", &["version", "image"]),
    ("influxdb", &["version", "image"]),
    ("cronjob", &["image"]),
];

/// The table of the images stackc chooses: the `component` of its pins in the summary,
/// and the `--only` word for every one of its entries.
pub const IMAGES: &str = "images";

/// One pin to move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinChange {
    /// `<kind>.<name>`, or [`IMAGES`] for an `[images]` entry (then `key` is its repository).
    pub component: String,
    pub key: String,
    /// The value in the target environment before the promotion.
    pub before: String,
    pub after: String,
}

/// What a promotion does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub changes: Vec<PinChange>,
    /// The new text of the target environment file.
    pub text: String,
    /// `<kind>.<name>` of the components with pins that only the source environment
    /// has: promote moves pins, it does not add components.
    pub only_in_source: Vec<String>,
}

/// The promotion of every pin (of `only` components and `[images]` entries, if given)
/// from `from` to `to`. `Err` when the target file is not TOML, or an `--only` word
/// names a component the target does not have.
pub fn promote(
    from: &EnvStack,
    to: &EnvStack,
    to_text: &str,
    only: &[String],
) -> Result<Promotion, String> {
    let mut doc: DocumentMut = to_text
        .parse()
        .map_err(|e| format!("environments/{}.toml is not valid TOML: {e}", to.name))?;
    let mut changes = Vec::new();
    let mut only_in_source = Vec::new();
    // Under `--only`, the `[images]` entries a moved `version` takes along.
    let mut pulled = BTreeSet::new();
    for (kind, keys) in PINS {
        for name in component_names(from, kind) {
            let component = format!("{kind}.{name}");
            let named = only.iter().find(|o| names_component(o, &component, &name));
            if !only.is_empty() && named.is_none() {
                continue;
            }
            if to.tree.get(&[kind, &name]).is_none() {
                if let Some(word) = named {
                    return Err(only_in_source_error(word, &component, &from.name, &to.name));
                }
                only_in_source.push(component);
                continue;
            }
            for key in *keys {
                // A key the target does not set is inherited from stack.toml (then the
                // merged tree has it) or left to stackc's default: set it either way.
                let before = text_at(to, &[kind, &name, key]);
                let after = text_at(from, &[kind, &name, key]);
                if before == after {
                    continue;
                }
                let after = match (after, *key) {
                    (Some(text), _) => {
                        set(&mut doc, kind, &name, key, &text);
                        Some(text)
                    }
                    // The source runs stackc's repository: the target keeps its own (a
                    // mirror it may need) without the digest, which pins the old version.
                    (None, "image") => match before.as_deref().and_then(|b| b.split_once('@')) {
                        Some((repository, _)) => {
                            set(&mut doc, kind, &name, key, repository);
                            Some(repository.to_owned())
                        }
                        None => continue,
                    },
                    // The source runs stackc's default version: the target's own goes.
                    (None, _) if unset(&mut doc, kind, &name, key) => None,
                    (None, _) => continue,
                };
                if *key == "version" {
                    pulled.extend(crate::check::images::versioned_by(kind));
                }
                changes.push(PinChange {
                    component: component.clone(),
                    key: (*key).to_owned(),
                    before: shown(before),
                    after: shown(after),
                });
            }
        }
    }
    changes.extend(promote_images(from, to, &mut doc, only, &pulled));
    Ok(Promotion {
        changes,
        text: doc.to_string(),
        only_in_source,
    })
}

/// The `[images]` entries of `from` set in `to` where they differ, like any other pin
/// (an entry `to` inherits from stack.toml is written). An entry only `to` has goes when
/// it is a digest (`to` then runs stackc's image, as `from` does); a replacement only
/// `to` has is its own mirror, and stays. Every entry moves in a full promotion; under
/// `--only`, those named by [`names_image`], and those of `pulled`: the image of a
/// component whose `version` moved (a digest pins one version: left behind, it would run
/// the old one under the new tag).
fn promote_images(
    from: &EnvStack,
    to: &EnvStack,
    doc: &mut DocumentMut,
    only: &[String],
    pulled: &BTreeSet<&str>,
) -> Vec<PinChange> {
    let (source, target) = (&from.stack.images, &to.stack.images);
    let repositories: BTreeSet<&String> = source.keys().chain(target.keys()).collect();
    let mut changes = Vec::new();
    for repository in repositories {
        let named = only.iter().any(|word| names_image(word, repository));
        if !only.is_empty() && !named && !pulled.contains(repository.as_str()) {
            continue;
        }
        let (before, after) = (target.get(repository), source.get(repository));
        if before == after {
            continue;
        }
        let after = match after {
            Some(text) => {
                replace(
                    doc.entry(IMAGES).or_insert(Item::Table(Table::new())),
                    repository,
                    text,
                );
                Some(text.clone())
            }
            None if before.is_some_and(|b| b.starts_with("sha256:"))
                && remove(doc.get_mut(IMAGES), repository) =>
            {
                None
            }
            None => continue,
        };
        changes.push(PinChange {
            component: IMAGES.to_owned(),
            key: repository.clone(),
            before: shown(before.cloned()),
            after: shown(after),
        });
    }
    changes
}

/// Whether an `--only` word names the component `<kind>.<name>`: that, or the bare
/// name, except `images`, which always means the `[images]` table (a component named
/// `images` is `<kind>.images`).
fn names_component(word: &str, component: &str, name: &str) -> bool {
    word == component || (word == name && name != IMAGES)
}

/// Whether an `--only` word names the `[images]` entry of `repository`: `images` (every
/// entry), the repository, or `images.<repository>`.
fn names_image(word: &str, repository: &str) -> bool {
    word == IMAGES
        || word == repository
        || word
            .strip_prefix(IMAGES)
            .and_then(|rest| rest.strip_prefix('.'))
            == Some(repository)
}

/// The usage error of `--only <word>` naming `component`, which only `from` has.
fn only_in_source_error(word: &str, component: &str, from: &str, to: &str) -> String {
    format!(
        "--only `{word}`: `{component}` exists only in `{from}`, not in `{to}`; promote \
         moves the pins of components both environments have, it does not add components \
         (to run it in `{to}`, add a complete `[{component}]` to environments/{to}.toml)"
    )
}

/// The note of a full promotion about the components only the source has, if any.
pub fn note_only_in_source(promotion: &Promotion, from: &str, to: &str) -> Option<String> {
    (!promotion.only_in_source.is_empty()).then(|| {
        format!(
            "note: not promoted, only `{from}` has them (promote moves pins, it does not add \
             components to `{to}`): {}",
            promotion.only_in_source.join(", ")
        )
    })
}

/// How a pin an environment does not set shows in the summary.
pub const STACKC_DEFAULT: &str = "(stackc's default)";

/// A pin's value for the summary: its text, or [`STACKC_DEFAULT`] when unset.
fn shown(pin: Option<String>) -> String {
    pin.unwrap_or_else(|| STACKC_DEFAULT.to_owned())
}

fn component_names(env: &EnvStack, kind: &str) -> Vec<String> {
    env.tree
        .get(&[kind])
        .and_then(|n| n.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

fn text_at(env: &EnvStack, path: &[&str]) -> Option<String> {
    match &env.tree.get(path)?.value {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Sets `[kind.name] key = text`, keeping the comments around the old value.
fn set(doc: &mut DocumentMut, kind: &str, name: &str, key: &str, text: &str) {
    let kinds = doc.entry(kind).or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let component = match kinds {
        Item::Table(t) => t.entry(name).or_insert(Item::Table(Table::new())),
        other => &mut other[name],
    };
    replace(component, key, text);
}

/// Sets `key = text` in the table `item`, keeping the comments around the old value.
fn replace(item: &mut Item, key: &str, text: &str) {
    let mut new = value(text);
    if let (Some(old), Some(v)) = (item.get(key).and_then(Item::as_value), new.as_value_mut()) {
        *v.decor_mut() = old.decor().clone();
    }
    item[key] = new;
}

/// Removes `[kind.name] key`; `false` when the document does not set it.
fn unset(doc: &mut DocumentMut, kind: &str, name: &str, key: &str) -> bool {
    let component = doc.get_mut(kind).and_then(|kinds| kinds.get_mut(name));
    remove(component, key)
}

/// Removes `key` from the table `item`; `false` when there is none or it has no `key`.
fn remove(item: Option<&mut Item>, key: &str) -> bool {
    item.and_then(Item::as_table_like_mut)
        .is_some_and(|table| table.remove(key).is_some())
}

/// `Err` when an `--only` word names no component of `from` that has a pin (as
/// `<kind>.<name>` or `<name>`) and no `[images]` entry (`images`, or the repository of
/// an image stackc chooses, bare or as `images.<repository>`), with the closest name and
/// the ones there are.
pub fn check_only(from: &EnvStack, only: &[String]) -> Result<(), String> {
    let mut known: Vec<String> = Vec::new();
    for (kind, _) in PINS {
        for name in component_names(from, kind) {
            known.push(format!("{kind}.{name}"));
            if name != IMAGES {
                known.push(name);
            }
        }
    }
    known.push(IMAGES.to_owned());
    let names_an_image = |word: &str| {
        crate::check::images::CHOSEN
            .iter()
            .any(|chosen| names_image(word, chosen.repository))
    };
    let Some(unknown) = only
        .iter()
        .find(|o| !known.contains(o) && !names_an_image(o))
    else {
        return Ok(());
    };
    let hint = crate::load::closest(unknown, known.iter().map(String::as_str))
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    let listed: Vec<&str> = known
        .iter()
        .filter(|k| k.contains('.') || *k == IMAGES)
        .map(String::as_str)
        .collect();
    Err(format!(
        "--only `{unknown}`: `{}` has no component of that name with a version pin, and it \
         is no repository of [images]{hint}; these have: {} (`images` is every [images] \
         entry, a repository such as `docker.io/library/redis` one)",
        from.name,
        listed.join(", ")
    ))
}

/// Environments in promotion order; `Err` when `to` does not come after `from`.
pub fn check_order(order: &[String], from: &str, to: &str) -> Result<(), String> {
    let position = |e: &str| order.iter().position(|o| o == e);
    match (position(from), position(to)) {
        (None, _) => Err(format!(
            "no environment `{from}` (environments: {})",
            order.join(", ")
        )),
        (_, None) => Err(format!(
            "no environment `{to}` (environments: {})",
            order.join(", ")
        )),
        (Some(a), Some(b)) if a == b => Err("promote from an environment to another one".into()),
        (Some(a), Some(b)) if a > b => Err(format!(
            "`{to}` comes before `{from}` in the promotion order ({}); pass --force to promote backwards",
            order.join(" -> ")
        )),
        _ => Ok(()),
    }
}

/// Pin changes grouped by component, for the summary.
pub fn describe(changes: &[PinChange]) -> String {
    let mut by_component: BTreeMap<&str, Vec<&PinChange>> = BTreeMap::new();
    for c in changes {
        by_component
            .entry(c.component.as_str())
            .or_default()
            .push(c);
    }
    let mut out = String::new();
    for (component, changes) in by_component {
        for c in changes {
            out.push_str(&format!(
                "  {component} {}: {} -> {}\n",
                c.key, c.before, c.after
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_enforced() {
        let order = ["dev", "staging", "prod"].map(String::from);
        assert!(check_order(&order, "dev", "staging").is_ok());
        assert!(check_order(&order, "dev", "prod").is_ok());
        assert!(
            check_order(&order, "prod", "staging")
                .unwrap_err()
                .contains("--force")
        );
        assert!(check_order(&order, "dev", "dev").is_err());
        assert!(
            check_order(&order, "dev", "qa")
                .unwrap_err()
                .contains("no environment `qa`")
        );
    }

    #[test]
    fn only_names_an_images_entry_by_table_or_repository() {
        let redis = "docker.io/library/redis";
        for word in ["images", redis, "images.docker.io/library/redis"] {
            assert!(names_image(word, redis), "{word}");
        }
        for word in [
            "redis",
            "images.",
            "imagesdocker.io/library/redis",
            "app.images",
        ] {
            assert!(!names_image(word, redis), "{word}");
        }
    }

    #[test]
    fn replace_keeps_an_images_comment_and_remove_takes_only_its_key() {
        let mut doc: DocumentMut =
            "[images] # pins\n\"a/b\" = \"sha256:1\" # released\n\"c/d\" = \"e/d:1\"\n"
                .parse()
                .unwrap();
        replace(&mut doc[IMAGES], "a/b", "sha256:2");
        assert!(remove(doc.get_mut(IMAGES), "c/d"));
        assert!(!remove(doc.get_mut(IMAGES), "c/d"));
        assert!(!remove(doc.get_mut("app"), "c/d"));
        assert_eq!(
            doc.to_string(),
            "[images] # pins\n\"a/b\" = \"sha256:2\" # released\n"
        );
    }

    #[test]
    fn unset_removes_a_key_the_document_sets() {
        let mut doc: DocumentMut =
            "[postgres.db]\nversion = \"16.4\"\nimage = \"m/postgres@sha256:ab\"\n[redis]\ncache = { image = \"m/redis\" }\n"
                .parse()
                .unwrap();
        assert!(unset(&mut doc, "postgres", "db", "image"));
        assert!(unset(&mut doc, "redis", "cache", "image"));
        assert!(!unset(&mut doc, "postgres", "db", "image"));
        assert!(!unset(&mut doc, "kafka", "bus", "image"));
        assert_eq!(
            doc.to_string(),
            "[postgres.db]\nversion = \"16.4\"\n[redis]\ncache = {}\n"
        );
    }

    #[test]
    fn set_keeps_comments_and_creates_missing_tables() {
        let mut doc: DocumentMut =
            "# top\n[app.producer] # the producer\nimage = \"a:1\" # pinned\nreplicas = 2\n"
                .parse()
                .unwrap();
        set(&mut doc, "app", "producer", "image", "a:2");
        set(&mut doc, "app", "processor", "image", "b:2");
        assert_eq!(
            doc.to_string(),
            "# top\n[app.producer] # the producer\nimage = \"a:2\" # pinned\nreplicas = 2\n\n[app.processor]\nimage = \"b:2\"\n"
        );
    }
}
