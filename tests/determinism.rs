//! Determinism across environments (issue 8, item 5): a render of the reference stack
//! is byte-identical to the committed rendered/ whatever the process environment: the
//! working directory and how the stack directory is named, the time zone, the locale,
//! the umask, RUST_BACKTRACE and other variables, an empty environment, and a project
//! path with spaces (and non-ASCII letters) in it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

type Tree = BTreeMap<String, Vec<u8>>;

/// How to run one render.
#[derive(Default)]
struct Run<'a> {
    /// Path of the stack directory below the temp root ("" = the root itself).
    subdir: &'a str,
    /// Working directory: None = the stack directory itself, without `-C`.
    cwd: Cwd,
    env: Vec<(String, String)>,
    clear_env: bool,
    umask: Option<&'a str>,
    extra_args: &'a [&'a str],
}

#[derive(Default, Clone, Copy)]
enum Cwd {
    /// In the stack directory, no `-C`.
    #[default]
    Stack,
    /// In an unrelated directory, `-C <absolute path>`.
    Elsewhere,
    /// In the temp root, `-C <relative path>`.
    Parent,
}

/// Copies the reference stack's sources (no rendered/) to `dir`.
fn copy_sources(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(repo().join("stack.toml"), dir.join("stack.toml")).unwrap();
    copy_dir(&repo().join("environments"), &dir.join("environments"));
    if repo().join("modules").is_dir() {
        copy_dir(&repo().join("modules"), &dir.join("modules"));
    }
}

/// Renders a fresh copy of the reference stack as `run` says; returns rendered/.
fn render(run: &Run) -> Tree {
    let root = tempfile::tempdir().unwrap();
    let stack = if run.subdir.is_empty() {
        root.path().to_path_buf()
    } else {
        root.path().join(run.subdir)
    };
    copy_sources(&stack);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = stackc_with(run, root.path(), &stack, elsewhere.path(), &["render"]);
    assert_eq!(
        code(&out),
        0,
        "render failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    // A second render in the same environment finds nothing to do.
    let again = stackc_with(
        run,
        root.path(),
        &stack,
        elsewhere.path(),
        &["render", "--check"],
    );
    assert_eq!(
        code(&again),
        0,
        "render --check after render:\n{}{}",
        stdout(&again),
        stderr(&again)
    );
    snapshot(&stack.join("rendered"))
}

fn stackc_with(run: &Run, root: &Path, stack: &Path, elsewhere: &Path, args: &[&str]) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_stackc"));
    let mut cmd = match run.umask {
        // `exec "$0" "$@"` passes every argument through untouched, spaces included.
        Some(mask) => {
            let mut sh = Command::new("/bin/sh");
            sh.arg("-c")
                .arg(format!("umask {mask}; exec \"$0\" \"$@\""))
                .arg(&bin);
            sh
        }
        None => Command::new(&bin),
    };
    match run.cwd {
        Cwd::Stack => {
            cmd.current_dir(stack);
        }
        Cwd::Elsewhere => {
            cmd.current_dir(elsewhere).arg("-C").arg(stack);
        }
        Cwd::Parent => {
            let rel = stack.strip_prefix(root).unwrap();
            let rel = if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel
            };
            cmd.current_dir(root).arg("-C").arg(rel);
        }
    }
    if run.clear_env {
        cmd.env_clear();
    }
    cmd.envs(run.env.iter().map(|(k, v)| (k, v)));
    cmd.args(args).args(run.extra_args);
    cmd.output().expect("run stackc")
}

/// The committed rendered/: the golden output.
fn committed() -> Tree {
    let tree = snapshot(&repo().join("rendered"));
    assert!(!tree.is_empty(), "no committed rendered/");
    tree
}

fn assert_identical(what: &str, got: &Tree, want: &Tree) {
    if got == want {
        return;
    }
    let mut differences: Vec<String> = want
        .iter()
        .filter(|(p, b)| got.get(*p) != Some(b))
        .map(|(p, _)| {
            if got.contains_key(p) {
                format!("changed {p}")
            } else {
                format!("missing {p}")
            }
        })
        .collect();
    differences.extend(
        got.keys()
            .filter(|p| !want.contains_key(*p))
            .map(|p| format!("extra {p}")),
    );
    panic!(
        "{what}: the render differs from the committed rendered/ in {} file(s):\n{}",
        differences.len(),
        differences[..differences.len().min(20)].join("\n")
    );
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn identical_from_any_working_directory() {
    let want = committed();
    for (name, cwd) in [
        ("in the stack directory", Cwd::Stack),
        ("-C <absolute> from elsewhere", Cwd::Elsewhere),
        ("-C <relative> from the parent", Cwd::Parent),
    ] {
        let got = render(&Run {
            subdir: "work/stack",
            cwd,
            ..Run::default()
        });
        assert_identical(name, &got, &want);
    }
}

#[test]
fn identical_in_any_time_zone() {
    let want = committed();
    for tz in [
        "UTC",
        "Pacific/Kiritimati", // UTC+14
        "Pacific/Pago_Pago",  // UTC-11
        "Asia/Kathmandu",     // UTC+5:45
        "America/St_Johns",   // UTC-3:30, DST
        "EST5EDT,M3.2.0,M11.1.0",
        "Nowhere/Invalid",
    ] {
        let got = render(&Run {
            cwd: Cwd::Elsewhere,
            env: vars(&[("TZ", tz)]),
            ..Run::default()
        });
        assert_identical(&format!("TZ={tz}"), &got, &want);
    }
}

#[test]
fn identical_in_any_locale() {
    let want = committed();
    for locale in [
        "C",
        "POSIX",
        "C.UTF-8",
        "tr_TR.UTF-8", // dotless i: ASCII case mapping must not depend on it
        "de_DE.UTF-8", // decimal comma
        "ja_JP.eucJP",
        "ar_SA.UTF-8",
        "xx_INVALID",
    ] {
        let got = render(&Run {
            env: vars(&[
                ("LANG", locale),
                ("LC_ALL", locale),
                ("LC_COLLATE", locale),
                ("LC_NUMERIC", locale),
                ("LANGUAGE", locale),
            ]),
            ..Run::default()
        });
        assert_identical(&format!("LANG=LC_ALL={locale}"), &got, &want);
    }
}

#[test]
fn identical_under_any_umask() {
    let want = committed();
    for mask in ["077", "022", "000", "027"] {
        let got = render(&Run {
            umask: Some(mask),
            cwd: Cwd::Elsewhere,
            ..Run::default()
        });
        assert_identical(&format!("umask {mask}"), &got, &want);
    }
}

/// splitmix64, seeded: "random" yet reproducible variable names and values.
fn random_vars(seed: u64, count: usize) -> Vec<(String, String)> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    const VALUE_CHARS: &[u8] = b"abcXYZ019 -_./:=${}\"'\\*?~%";
    (0..count)
        .map(|_| {
            let name = format!("DETERMINISM_{:016X}", next());
            let len = (next() % 40) as usize;
            let value: String = (0..len)
                .map(|_| VALUE_CHARS[(next() % VALUE_CHARS.len() as u64) as usize] as char)
                .collect();
            (name, value)
        })
        .collect()
}

#[test]
fn identical_whatever_else_is_in_the_environment() {
    let want = committed();
    let mut noisy = vars(&[
        ("RUST_BACKTRACE", "1"),
        ("RUST_LOG", "trace"),
        ("RUST_LIB_BACKTRACE", "full"),
        ("NO_COLOR", "1"),
        ("CLICOLOR_FORCE", "1"),
        ("TERM", "xterm-256color"),
        ("COLUMNS", "20"),
        ("HOME", "/nonexistent"),
        ("TMPDIR", "/nonexistent"),
        ("PWD", "/somewhere/else"),
        ("SOURCE_DATE_EPOCH", "0"),
        ("GIT_DIR", "/nonexistent/.git"),
        ("STACKC_TIMINGS", "1"),
    ]);
    noisy.extend(random_vars(0xD1CE, 50));
    let got = render(&Run {
        cwd: Cwd::Elsewhere,
        env: noisy,
        ..Run::default()
    });
    assert_identical("RUST_BACKTRACE=1 and other variables", &got, &want);

    let got = render(&Run {
        cwd: Cwd::Elsewhere,
        clear_env: true,
        ..Run::default()
    });
    assert_identical("an empty environment", &got, &want);
}

#[test]
fn identical_under_a_path_with_spaces() {
    let want = committed();
    for (subdir, cwd) in [
        ("my projects/conveyor platform", Cwd::Stack),
        ("my projects/conveyor platform", Cwd::Elsewhere),
        (" lead and trail /  ünïcödé stack ", Cwd::Parent),
    ] {
        let got = render(&Run {
            subdir,
            cwd,
            ..Run::default()
        });
        assert_identical(&format!("stack in {subdir:?}"), &got, &want);
    }
}

#[test]
fn identical_with_everything_changed_at_once() {
    let want = committed();
    let mut env = vars(&[
        ("TZ", "Pacific/Kiritimati"),
        ("LANG", "tr_TR.UTF-8"),
        ("LC_ALL", "tr_TR.UTF-8"),
        ("RUST_BACKTRACE", "1"),
    ]);
    env.extend(random_vars(0xBEEF, 20));
    let got = render(&Run {
        subdir: "a b/c d",
        cwd: Cwd::Elsewhere,
        env,
        umask: Some("077"),
        ..Run::default()
    });
    assert_identical("all at once", &got, &want);
}

#[test]
fn one_environment_alone_renders_the_same_files() {
    let want = committed();
    for env in ["dev", "staging", "prod"] {
        let got = render(&Run {
            cwd: Cwd::Elsewhere,
            extra_args: &["--env", env],
            ..Run::default()
        });
        let want_env = env_files(&want, env);
        assert_identical(&format!("render --env {env}"), &got, &want_env);
    }
}
