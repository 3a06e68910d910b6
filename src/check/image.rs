//! Container image references: `[registry[:port]/]path[:tag][@sha256:digest]`.

/// A parsed image reference.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Checks that the version of an official image (its tag) is a release number, e.g. "16.4".
pub(super) fn release(ctx: &mut super::Ctx, version: &str, path: &[&str], help: &str) {
    let ok = !version.is_empty()
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        let span = ctx.value_span(path);
        ctx.report(
            crate::diag::Diagnostic::error(
                "invalid-value",
                format!("{} version `{version}` is not a release number", path[0]),
            )
            .at(span)
            .help(help),
        );
    }
}

/// `<repository>:<version>` of a pinned official image: the version must be a release
/// number (at `path` + `version`) and the result a valid image reference (a repository
/// override at `path` + `image` must carry no tag). `default` is the official repository.
pub(super) fn pinned(
    ctx: &mut super::Ctx,
    path: &[&str],
    own: Option<&str>,
    default: &str,
    version: &str,
    example: &str,
) -> String {
    release(
        ctx,
        version,
        &[path, &["version"]].concat(),
        &format!("pin a release of the official image, e.g. version = \"{example}\""),
    );
    let image = format!("{}:{version}", own.unwrap_or(default));
    if let Err(reason) = parse(&image) {
        let span = ctx.value_span(&[path, &["image"]].concat());
        ctx.report(
            crate::diag::Diagnostic::error("invalid-image", format!("image `{image}` {reason}"))
                .at(span)
                .help(format!(
                    "give a repository without a tag, e.g. \"registry.example.org/{}\"",
                    default.trim_start_matches("docker.io/")
                )),
        );
    }
    image
}

/// Parses an image reference and requires it to be pinned by tag or digest.
pub fn parse(image: &str) -> Result<ImageRef<'_>, String> {
    if image.is_empty() {
        return Err("must not be empty".into());
    }
    if image.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or("a digest must start with `sha256:`")?;
        if hex.len() != 64
            || !hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        {
            return Err("a sha256 digest has 64 lowercase hex digits".into());
        }
    }
    // A colon after the last slash separates the tag; one before it is a registry port.
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    check_repository(repository)?;
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if tag.is_none() && digest.is_none() {
        return Err("has no tag or digest; pin a version, e.g. `:1.4.0`".into());
    }
    Ok(ImageRef {
        repository,
        tag,
        digest,
    })
}

fn check_repository(repository: &str) -> Result<(), String> {
    let mut components = repository.split('/');
    let first = components.next().unwrap_or_default();
    let has_registry = repository.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost");
    let path: Vec<&str> = if has_registry {
        components.collect()
    } else {
        repository.split('/').collect()
    };
    if path.is_empty() {
        return Err("has a registry but no repository path".into());
    }
    for part in path {
        let ok = !part.is_empty()
            && part.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "repository component `{part}` is invalid: use lowercase letters, digits, `.`, `_` and `-`"
            ));
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag `{tag}` is invalid: up to 128 of letters, digits, `.`, `_`, `-`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_pinned_references() {
        let r = parse("ghcr.io/acme/producer:1.4.0").unwrap();
        assert_eq!(
            (r.repository, r.tag),
            ("ghcr.io/acme/producer", Some("1.4.0"))
        );
        let r = parse("localhost:5000/app:dev").unwrap();
        assert_eq!((r.repository, r.tag), ("localhost:5000/app", Some("dev")));
        let digest = format!("postgres@sha256:{}", "a".repeat(64));
        assert_eq!(parse(&digest).unwrap().tag, None);
    }

    #[test]
    fn rejects_bad_or_unpinned_references() {
        for bad in [
            "",
            "producer",
            "Acme/Producer:1",
            "ghcr.io/acme/producer:",
            "app:1 0",
            "app@sha256:abc",
            "app:-bad",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
