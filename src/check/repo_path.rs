//! `[flux] path`: the directory of stack.toml inside its Git repository, relative to the
//! repository root, which prefixes every Flux Kustomization's `spec.path` (Flux resolves
//! it from the root). One spelling per directory: `platform/conveyor`, never
//! `./platform/conveyor/`, `/platform/conveyor` or `platform\conveyor`; `.` is the root.
//! Pure rules: the caller attaches the result to the value's span.

/// What is wrong with a path, and the value that fixes it when one follows from it.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Completes "path `...`", e.g. "ends with `/`".
    pub reason: String,
    /// The path the user most likely meant (`"."` for the root).
    pub fix: Option<String>,
}

/// The stack's directory: `Ok(None)` for the repository root (`"."`), `Ok(Some(dir))`
/// for a directory below it, or why `text` is not a path Flux can be given.
pub fn stack_dir(text: &str) -> Result<Option<&str>, Rejected> {
    if text == "." {
        return Ok(None);
    }
    problem(text).map_or(Ok(Some(text)), |reason| {
        Err(Rejected {
            reason,
            fix: canonical(text),
        })
    })
}

/// The first rule `text` breaks, if any (`text` is not `"."`).
fn problem(text: &str) -> Option<String> {
    if text.is_empty() {
        return Some("is empty (the repository root is `.`)".into());
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    if text.contains('\\') {
        return Some("contains `\\`: Git paths separate directories with `/`".into());
    }
    if text.starts_with('/') {
        return Some("is absolute: Flux resolves it from the repository root".into());
    }
    if text.ends_with('/') {
        return Some("ends with `/`".into());
    }
    text.split('/').find_map(component_problem)
}

/// What is wrong with one `/`-separated component.
fn component_problem(part: &str) -> Option<String> {
    match part {
        "" => Some("has an empty component (`//`)".into()),
        "." => Some("has a `.` component".into()),
        ".." => {
            Some("has a `..` component: name the directory from the repository root down".into())
        }
        _ if part.eq_ignore_ascii_case(".git") => {
            Some("has a `.git` component: Git keeps no files of a repository there".into())
        }
        _ if part.trim() != part => Some(format!(
            "has a component that starts or ends with a space (`{part}`)"
        )),
        _ => None,
    }
}

/// The path `text` most likely means, in the one accepted spelling: `\` read as `/`,
/// empty and `.` components dropped, spaces around a component trimmed; `"."` when
/// nothing is left. `None` when no such guess is safe (`..`, `.git`, control characters).
fn canonical(text: &str) -> Option<String> {
    if text.contains(|c: char| c.is_control()) {
        return None;
    }
    let mut parts = Vec::new();
    for part in text.split(['/', '\\']).map(str::trim) {
        match part {
            "" | "." => {}
            ".." => return None,
            _ if part.eq_ignore_ascii_case(".git") => return None,
            _ => parts.push(part),
        }
    }
    Some(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(text: &str) -> Option<String> {
        stack_dir(text).expect_err(text).fix
    }

    #[test]
    fn the_root_and_directories_below_it() {
        assert_eq!(stack_dir("."), Ok(None));
        for good in [
            "platform",
            "platform/conveyor",
            "platform/my stack",
            "a.b/c-d_e/.hidden/x..y/größe/#1: x",
        ] {
            assert_eq!(stack_dir(good), Ok(Some(good)), "{good}");
        }
    }

    #[test]
    fn each_rule_names_what_is_wrong() {
        for (bad, reason) in [
            ("", "is empty"),
            ("/platform/conveyor", "is absolute"),
            ("platform/conveyor/", "ends with `/`"),
            ("platform//conveyor", "empty component"),
            ("./platform/conveyor", "a `.` component"),
            ("platform/./conveyor", "a `.` component"),
            ("../conveyor", "a `..` component"),
            ("platform/..", "a `..` component"),
            ("platform\\conveyor", "contains `\\`"),
            ("platform/.git/x", "a `.git` component"),
            ("platform/.GIT", "a `.git` component"),
            ("platform /conveyor", "starts or ends with a space"),
            ("platform/\tconveyor", "U+0009"),
            ("platform\n", "U+000A"),
        ] {
            let rejected = stack_dir(bad).expect_err(bad);
            assert!(
                rejected.reason.contains(reason),
                "{bad:?}: {}",
                rejected.reason
            );
        }
    }

    #[test]
    fn the_fix_is_the_one_spelling_of_the_same_directory() {
        for bad in [
            "/platform/conveyor",
            "platform/conveyor/",
            "./platform/conveyor/",
            "platform//conveyor",
            "platform/./conveyor",
            "platform\\conveyor",
            " platform / conveyor ",
        ] {
            assert_eq!(fix(bad).as_deref(), Some("platform/conveyor"), "{bad:?}");
        }
        for root in ["", "/", "./", "//"] {
            assert_eq!(fix(root).as_deref(), Some("."), "{root:?}");
        }
        for unsure in ["../conveyor", "platform/.git", "platform/\u{7}"] {
            assert_eq!(fix(unsure), None, "{unsure:?}");
        }
    }
}
