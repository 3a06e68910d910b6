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

/// `<repository>:<version>[@<digest>]` of a pinned official image: the version must be
/// a release number (at `path` + `version`), and an override at `path` + `image` a
/// repository (a mirror), optionally pinned by digest (`repo@sha256:...`, which
/// `[policy] pinned` environments need), but with no tag: the tag is the version.
/// `default` is the official image; without an override, `[images]` may pin or replace it.
pub(super) fn pinned(
    ctx: &mut super::Ctx,
    path: &[&str],
    own: Option<&str>,
    default: &'static super::images::Chosen,
    version: &str,
    example: &str,
) -> String {
    release(
        ctx,
        version,
        &[path, &["version"]].concat(),
        &format!("pin a release of the official image, e.g. version = \"{example}\""),
    );
    let Some(own) = own else {
        return ctx.image(default, version).to_string();
    };
    match repository_override(own) {
        Ok((repository, Some(digest))) => format!("{repository}:{version}@{digest}"),
        Ok((repository, None)) => format!("{repository}:{version}"),
        Err((reason, bare)) => {
            let span = ctx.value_span(&[path, &["image"]].concat());
            let example = format!(
                "registry.example.org/{}",
                default.repository.trim_start_matches("docker.io/")
            );
            let bare = if bare.is_empty() || bare == own {
                example.as_str()
            } else {
                bare
            };
            ctx.report(
                crate::diag::Diagnostic::error("invalid-image", format!("image `{own}` {reason}"))
                    .at(span)
                    .help(format!(
                        "write image = \"{bare}\" (a digest may follow: `@sha256:<64 hex digits>`); stackc appends `:{version}` from `version`"
                    )),
            );
            format!("{own}:{version}")
        }
    }
}

/// Splits a repository override (a mirror of an official image) into its repository
/// and optional digest. `Err` holds the reason and the repository without its tag.
pub fn repository_override(own: &str) -> Result<(&str, Option<&str>), (String, &str)> {
    let (name, digest) = own
        .split_once('@')
        .map_or((own, None), |(n, d)| (n, Some(d)));
    let (repository, tag) = split_tag(name);
    if tag.is_some() {
        let reason = "carries a tag: `image` names the repository (a mirror), and the tag comes from `version`";
        return Err((reason.to_owned(), repository));
    }
    check_repository(repository).map_err(|reason| (reason, repository))?;
    if let Some(digest) = digest {
        check_digest(digest).map_err(|reason| (reason, repository))?;
    }
    Ok((repository, digest))
}

/// A `sha256:<64 lowercase hex digits>` digest.
pub(super) fn check_digest(digest: &str) -> Result<(), String> {
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
    Ok(())
}

/// `name` cut at its tag: a colon after the last slash separates the tag; one before
/// it is a registry port.
fn split_tag(name: &str) -> (&str, Option<&str>) {
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    }
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
        check_digest(digest)?;
    }
    let (repository, tag) = split_tag(name);
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
    use super::{parse, repository_override};

    #[test]
    fn repository_overrides_are_repositories_with_an_optional_digest() {
        assert_eq!(
            repository_override("mirror.example.org/postgres"),
            Ok(("mirror.example.org/postgres", None))
        );
        assert!(repository_override("localhost:5000/library/postgres").is_ok());
        let hex = format!("sha256:{}", "a".repeat(64));
        let digest = format!("docker.io/library/postgres@{hex}");
        assert_eq!(
            repository_override(&digest),
            Ok(("docker.io/library/postgres", Some(hex.as_str())))
        );
        let (reason, bare) = repository_override("mirror.example.org/postgres:16.4").unwrap_err();
        assert!(reason.starts_with("carries a tag"), "{reason}");
        assert_eq!(bare, "mirror.example.org/postgres");
        assert!(repository_override("docker.io/library/postgres@sha256:abc").is_err());
        assert!(repository_override("Mirror/Postgres").is_err());
    }

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
