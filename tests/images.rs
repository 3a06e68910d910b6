//! `[images]`: with `[policy] pinned = true` in prod, digests for every image stackc
//! chooses (in `[images]`) and for the user's own make `stackc validate --env prod`
//! pass, and the rendered workloads run exactly those references; an entry for an image
//! the environment does not run (prod's monitoring is in operator mode: no stackc
//! Prometheus) is the `unused-image` warning, not an error.

mod common;

use std::path::Path;

use common::*;

/// A `sha256:` digest made of one repeated hex digit, so each image gets its own.
fn digest(digit: char) -> String {
    format!("sha256:{}", digit.to_string().repeat(64))
}

/// Appends a digest to every one of the user's own images in `file`.
fn pin_own_images(file: &Path, digest: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    let pinned: String = text
        .lines()
        .map(|line| match line.strip_prefix("image = \"ghcr.io/acme/") {
            Some(rest) => format!(
                "image = \"ghcr.io/acme/{}@{digest}\"",
                rest.trim_end_matches('"')
            ),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(file, pinned + "\n").expect("write");
}

/// The images stackc chooses, each with the digest the test pins it to.
const CHOSEN: [(&str, char); 13] = [
    ("ghcr.io/coder/coder", '1'),
    ("docker.io/library/postgres", '2'),
    ("docker.io/library/redis", '3'),
    ("docker.io/oliver006/redis_exporter", '4'),
    ("docker.io/apache/kafka", '5'),
    ("docker.io/danielqsj/kafka-exporter", '6'),
    ("docker.io/library/influxdb", '7'),
    ("quay.io/prometheus/prometheus", '8'),
    ("registry.k8s.io/kube-state-metrics/kube-state-metrics", '9'),
    ("quay.io/prometheus/alertmanager", 'a'),
    ("docker.io/grafana/grafana", 'b'),
    ("docker.io/grafana/loki", 'c'),
    ("docker.io/grafana/promtail", 'd'),
];

#[test]
fn a_pinned_prod_passes_with_every_image_digested() {
    let dir = copy_reference(false);
    let prod = dir.path().join("environments/prod.toml");
    edit(&prod, "pinned = false", "pinned = true");
    pin_own_images(&prod, &digest('e'));
    pin_own_images(&dir.path().join("stack.toml"), &digest('e'));
    let mut table = String::from("\n[images]\n");
    for (repository, digit) in CHOSEN {
        table.push_str(&format!("\"{repository}\" = \"{}\"\n", digest(digit)));
    }
    let text = std::fs::read_to_string(&prod).expect("read");
    std::fs::write(&prod, text + &table).expect("write");

    let out = stackc(dir.path(), &["validate", "--env", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let warnings = stderr(&out);
    for unused in [
        "quay.io/prometheus/prometheus",
        "registry.k8s.io/kube-state-metrics/kube-state-metrics",
    ] {
        assert!(
            warnings.contains(&format!("warning[unused-image]: `{unused}`")),
            "{warnings}"
        );
    }
    assert_eq!(warnings.matches("unused-image").count(), 2, "{warnings}");

    let out = stackc(dir.path(), &["render", "--env", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rendered = snapshot(&dir.path().join("rendered/prod"));
    let text: String = rendered
        .values()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    let images: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("image: "))
        .collect();
    assert!(images.len() > 15, "{images:?}");
    for image in &images {
        assert!(image.contains("@sha256:"), "{image} has no digest");
    }
    for (repository, digit) in &CHOSEN[..7] {
        assert!(
            images
                .iter()
                .any(|i| i.starts_with(repository) && i.ends_with(&digest(*digit))),
            "{repository} not rendered with its digest: {images:?}"
        );
    }
    for (repository, digit) in &CHOSEN[9..] {
        assert!(
            images
                .iter()
                .any(|i| i.starts_with(repository) && i.ends_with(&digest(*digit))),
            "{repository} not rendered with its digest: {images:?}"
        );
    }
    // The tag is kept: a digest pins the tag stackc chose.
    assert!(
        images
            .iter()
            .any(|i| *i == format!("docker.io/grafana/grafana:12.1.1@{}", digest('b'))),
        "{images:?}"
    );
}

#[test]
fn a_replacement_and_a_component_override() {
    let dir = copy_reference(false);
    let stack = dir.path().join("stack.toml");
    let mirror = format!("mirror.example.org/coder/coder:v2.16.1@{}", digest('1'));
    let own = format!("mirror.example.org/postgres@{}", digest('3'));
    edit(
        &stack,
        "version = \"16.4\"",
        &format!("version = \"16.4\"\nimage = \"{own}\""),
    );
    let text = std::fs::read_to_string(&stack).expect("read");
    let table = format!(
        "\n[images]\n\"ghcr.io/coder/coder\" = \"{mirror}\"\n\"docker.io/library/postgres\" = \"{}\"\n",
        digest('2')
    );
    std::fs::write(&stack, text + &table).expect("write");

    let out = stackc(dir.path(), &["render", "--env", "dev"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The component's own override wins: the [images] entry is used by nothing.
    assert!(
        stderr(&out).contains("warning[unused-image]: `docker.io/library/postgres`"),
        "{}",
        stderr(&out)
    );
    let text: String = snapshot(&dir.path().join("rendered/dev"))
        .values()
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    assert!(text.contains(&format!("image: {mirror}")), "coder mirror");
    assert!(text.contains(&format!(
        "image: mirror.example.org/postgres:16.4@{}",
        digest('3')
    )));
    assert!(!text.contains("ghcr.io/coder/coder"));
}

#[test]
fn helm_mode_coder_carries_the_digest_in_the_chart_tag() {
    let dir = copy_reference(false);
    let stack = dir.path().join("stack.toml");
    edit(
        &stack,
        "host = \"coder\"",
        "host = \"coder\"\nmode = \"helm\"",
    );
    let text = std::fs::read_to_string(&stack).expect("read");
    let table = format!(
        "\n[images]\n\"ghcr.io/coder/coder\" = \"{}\"\n",
        digest('1')
    );
    std::fs::write(&stack, text + &table).expect("write");

    let out = stackc(dir.path(), &["render", "--env", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let release = std::fs::read_to_string(
        dir.path()
            .join("rendered/prod/apps/coder/helmrelease-coder.yaml"),
    )
    .expect("the HelmRelease");
    // The chart writes `repo:tag` and has no digest value: the digest rides in the tag.
    assert!(release.contains("repo: ghcr.io/coder/coder"), "{release}");
    assert!(
        release.contains(&format!("tag: v2.16.1@{}", digest('1'))),
        "{release}"
    );
}
