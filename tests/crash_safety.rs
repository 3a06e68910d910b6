//! Crash safety of `stackc render` (issue 8, item 4): the render process is killed with
//! SIGKILL at pseudo-random points, repeatedly, while it rewrites thousands of files.
//! After every kill:
//! - every file under rendered/ holds exactly its bytes from before that render or
//!   exactly the bytes the sources render to, never anything partial or foreign; only
//!   `.<name>.stackc-tmp` temporaries may be extra;
//! - `render --check` passes exactly when the tree is complete, and reports drift (exit
//!   1) otherwise;
//! - a render that finished left no temporary file behind.
//!
//! Finally a plain render completes, removes every leftover temporary file and
//! directory, and `render --check` and `sha256sum -c SHA256SUMS` pass in every
//! environment.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::*;

const ENVS: [&str; 3] = ["dev", "staging", "prod"];
/// Kills at least this many renders, and goes on (up to `MAX_ITERATIONS`) until one kill
/// has landed in the short rename phase, where the tree is a mix of old and new.
const ITERATIONS: u64 = 30;
const MAX_ITERATIONS: u64 = 90;
const TEMP_SUFFIX: &str = ".stackc-tmp";

/// The reference stack.toml plus generated apps `gen-<i>` for `i` in `apps`, all with
/// image tag `tag`: hundreds of files to write on every switch between two variants.
fn stack_variant(apps: std::ops::Range<usize>, tag: &str) -> String {
    let mut text = std::fs::read_to_string(repo().join("stack.toml")).expect("stack.toml");
    for i in apps {
        write!(
            text,
            "\n[app.gen-{i}]\nimage = \"ghcr.io/acme/gen-{i}:{tag}\"\nports = {{ http = 8080 }}\n\
             env = {{ INDEX = \"{i}\", VARIANT = \"{tag}\" }}\n\
             config = {{ files = {{ \"gen.yaml\" = \"index: {i}\\nvariant: {tag}\\n\" }} }}\n"
        )
        .unwrap();
    }
    text
}

/// A: gen-0..200 at 1.0.0. B: gen-0..150 at 2.0.0 (changed) and gen-200..250 (added);
/// gen-150..200 go away. So every render between them changes, adds and removes files.
fn variants() -> [String; 2] {
    [stack_variant(0..200, "1.0.0"), {
        let mut b = stack_variant(0..150, "2.0.0");
        let extra = stack_variant(200..250, "2.0.0");
        let original = std::fs::read_to_string(repo().join("stack.toml")).unwrap();
        b.push_str(&extra[original.len()..]);
        b
    }]
}

/// splitmix64: a small deterministic PRNG, one stream per iteration.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` microseconds.
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo, hi) = (
            lo.as_micros() as u64,
            hi.as_micros().max(lo.as_micros()) as u64,
        );
        Duration::from_micros(lo + self.next() % (hi - lo + 1))
    }
}

fn is_temp(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// The file a temporary stands in for: `d/.x.yaml.stackc-tmp` → `d/x.yaml`.
fn temp_target(path: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let target = &name[1..name.len() - TEMP_SUFFIX.len()];
    if dir.is_empty() {
        target.to_owned()
    } else {
        format!("{dir}/{target}")
    }
}

type Tree = BTreeMap<String, Vec<u8>>;

/// rendered/ split into real files and leftover temporary files.
fn split(tree: Tree) -> (Tree, BTreeSet<String>) {
    let mut files = Tree::new();
    let mut temps = BTreeSet::new();
    for (path, bytes) in tree {
        if is_temp(&path) {
            temps.insert(path);
        } else {
            files.insert(path, bytes);
        }
    }
    (files, temps)
}

/// Renders `stack` from scratch in a fresh copy of the reference stack.
fn expected_tree(stack: &str) -> Tree {
    let dir = copy_reference(false);
    std::fs::write(dir.path().join("stack.toml"), stack).unwrap();
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "variant does not render:\n{}", stderr(&out));
    snapshot(&dir.path().join("rendered"))
}

/// Every path holds its old bytes or its new bytes (absence included), nothing else.
fn assert_old_or_new(iteration: u64, disk: &Tree, old: &Tree, new: &Tree) {
    let paths: BTreeSet<&String> = disk.keys().chain(old.keys()).chain(new.keys()).collect();
    let mut bad = Vec::new();
    for path in paths {
        let now = disk.get(path);
        if now != old.get(path) && now != new.get(path) {
            bad.push(format!(
                "{path}: {} (old: {}, new: {})",
                describe(now),
                describe(old.get(path)),
                describe(new.get(path))
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "iteration {iteration}: {} file(s) are neither their old nor their new bytes:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
}

fn describe(bytes: Option<&Vec<u8>>) -> String {
    bytes.map_or("absent".to_owned(), |b| format!("{} bytes", b.len()))
}

/// Spawns `stackc -C dir render`, with stderr into `log`.
fn spawn_render(dir: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .arg("-C")
        .arg(dir)
        .arg("render")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("spawn stackc")
}

/// The directory whose mtime tells that the write phase has begun: files are staged in
/// path order, and the generated apps' directory in dev (`dev/apps/<namespace>/`) is
/// the first with something to write in every render between the two variants.
fn first_written_dir(rendered: &Path, tree: &Tree) -> PathBuf {
    rendered.join(deployment_of_gen_0(tree).rsplit_once('/').unwrap().0)
}

/// The path of gen-0's Deployment in dev, under rendered/.
fn deployment_of_gen_0(tree: &Tree) -> &str {
    tree.keys()
        .find(|p| p.starts_with("dev/") && p.ends_with("/deployment-gen-0.yaml"))
        .expect("gen-0 is rendered in dev")
}

fn mtime(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).and_then(|m| m.modified()).ok()
}

/// Waits until the render creates its first temporary file (the directory's mtime
/// moves), and returns when; None if the process exited first or it took too long.
fn wait_for_writes(child: &mut Child, dir: &Path, before: Option<SystemTime>) -> Option<Instant> {
    let give_up = Instant::now() + Duration::from_secs(60);
    while Instant::now() < give_up {
        if mtime(dir) != before {
            return Some(Instant::now());
        }
        if child.try_wait().expect("try_wait").is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

/// Waits until a temporary environment directory (`.<env>.stackc-tmp`) appears under
/// `rendered`, and returns when; None if the process exited first or it took too long.
fn wait_for_temp_dir(child: &mut Child, rendered: &Path) -> Option<Instant> {
    let give_up = Instant::now() + Duration::from_secs(60);
    while Instant::now() < give_up {
        let temp_dir = std::fs::read_dir(rendered).ok().is_some_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
            })
        });
        if temp_dir {
            return Some(Instant::now());
        }
        if child.try_wait().expect("try_wait").is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

#[test]
fn sigkill_during_render_never_leaves_a_partial_file() {
    let stacks = variants();
    let expected = [expected_tree(&stacks[0]), expected_tree(&stacks[1])];
    assert!(
        expected[0].len() > 1000,
        "variant A renders only {} files",
        expected[0].len()
    );
    for env in ENVS {
        let sums = format!("{env}/SHA256SUMS");
        assert_ne!(
            expected[0][&sums], expected[1][&sums],
            "{env} must differ between A and B"
        );
    }
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("stderr");

    // How long the write phase of a render from A to B takes, from its first temporary
    // file to the exit of the process.
    let probe = copy_reference(true);
    let probe_rendered = probe.path().join("rendered");
    std::fs::write(probe.path().join("stack.toml"), &stacks[0]).unwrap();
    assert_eq!(code(&stackc(probe.path(), &["render"])), 0);
    std::fs::write(probe.path().join("stack.toml"), &stacks[1]).unwrap();
    let watched = first_written_dir(&probe_rendered, &expected[0]);
    let before = mtime(&watched);
    let mut child = spawn_render(probe.path(), &log);
    let began = wait_for_writes(&mut child, &watched, before).expect("the render writes");
    // The write phase ends when the last SHA256SUMS turns new; what follows (freeing
    // memory, exiting) is no place for a kill to prove anything. Within it, the renames
    // start about when gen-0's Deployment (changed between A and B) turns new: every
    // temporary file is staged before the first rename.
    let deployment = deployment_of_gen_0(&expected[1]);
    let mut renaming = None;
    while !ENVS.iter().all(|env| {
        let sums = format!("{env}/SHA256SUMS");
        std::fs::read(probe_rendered.join(&sums)).ok().as_ref() == expected[1].get(&sums)
    }) && child.try_wait().expect("try_wait").is_none()
    {
        if renaming.is_none()
            && std::fs::read(probe_rendered.join(deployment)).ok().as_ref()
                == expected[1].get(deployment)
        {
            renaming = Some(began.elapsed());
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let writing = began.elapsed();
    let renaming = renaming.unwrap_or(writing).min(writing);
    assert!(child.wait().unwrap().success(), "{}", read(&log));
    eprintln!("write phase of a render from A to B: {writing:?}, renames from {renaming:?}");

    let dir = copy_reference(true);
    let rendered = dir.path().join("rendered");
    let watched = first_written_dir(&rendered, &expected[0]);
    let (mut killed, mut finished, mut torn, mut with_temps) = (0, 0, 0, 0);
    let mut iterations = 0;
    for i in 0..MAX_ITERATIONS {
        if i >= ITERATIONS && torn > 0 {
            break;
        }
        iterations += 1;
        let variant = (i % 2) as usize;
        let new = &expected[variant];
        std::fs::write(dir.path().join("stack.toml"), &stacks[variant]).unwrap();
        let (old, _) = split(snapshot(&rendered));

        // A quarter of the kills come 0-50 ms after the start, while stackc is still
        // compiling; the rest at a random point of the write phase (or just after it),
        // every other one of those within the short rename window at its end, so that
        // kills land where the tree is a mix of old and new on any machine.
        let mut rng = Rng(0x5eed_0000 + i);
        let early = rng.next() % 4 == 0;
        let in_renames = rng.next() % 2 == 0;
        let before = mtime(&watched);
        let mut child = spawn_render(dir.path(), &log);
        let when = if early {
            let delay = rng.between(Duration::ZERO, Duration::from_millis(50));
            std::thread::sleep(delay);
            format!("{delay:?} after the start")
        } else {
            let delay = if in_renames {
                rng.between(renaming.mul_f64(0.9), writing.mul_f64(1.02))
            } else {
                rng.between(Duration::ZERO, writing.mul_f64(1.05))
            };
            match wait_for_writes(&mut child, &watched, before) {
                Some(_) => {
                    std::thread::sleep(delay);
                    format!("{delay:?} into the write phase")
                }
                None => "after it exited".to_owned(),
            }
        };
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        let completed = status.success();
        if completed {
            finished += 1;
        } else {
            assert_eq!(
                status.code(),
                None,
                "iteration {i}: render failed ({status}) instead of being killed:\n{}",
                read(&log)
            );
            killed += 1;
        }

        let (disk, temps) = split(snapshot(&rendered));
        assert_old_or_new(i, &disk, &old, new);
        for temp in &temps {
            let target = temp_target(temp);
            assert!(
                expected.iter().any(|t| t.contains_key(&target)),
                "iteration {i}: temporary {temp} stands for no rendered file"
            );
        }
        if completed {
            assert!(
                temps.is_empty(),
                "iteration {i}: a finished render left {temps:?}"
            );
            assert!(
                disk == *new,
                "iteration {i}: a finished render left a stale tree"
            );
        }
        // SHA256SUMS go last: once one of them has turned new, everything else is new.
        let sums_turned = ENVS.iter().any(|env| {
            let path = format!("{env}/SHA256SUMS");
            old.get(&path) != new.get(&path) && disk.get(&path) == new.get(&path)
        });
        if sums_turned {
            let behind: Vec<&String> = new
                .keys()
                .chain(disk.keys())
                .filter(|p| !p.ends_with("/SHA256SUMS") && disk.get(*p) != new.get(*p))
                .collect();
            assert!(
                behind.is_empty(),
                "iteration {i}: a SHA256SUMS was renamed before {behind:?}: it must be written last"
            );
        }
        if disk != old && disk != *new {
            torn += 1;
        }
        if !temps.is_empty() {
            with_temps += 1;
        }

        let check = stackc(dir.path(), &["render", "--check"]);
        let clean = disk == *new && temps.is_empty();
        assert_eq!(
            code(&check),
            if clean { 0 } else { 1 },
            "iteration {i} ({}, killed {when}): render --check must pass exactly when the tree is complete:\n{}",
            if completed { "finished" } else { "killed" },
            stderr(&check)
        );
    }
    eprintln!(
        "{iterations} renders: {killed} killed, {finished} finished; {torn} left a mixed tree, \
         {with_temps} left temporary files"
    );
    assert!(killed > 0, "no render was killed");
    assert!(
        torn > 0,
        "no kill landed in the write phase: the test proved nothing"
    );

    // The next render completes the job and sweeps up every temporary file.
    let variant = (iterations % 2) as usize;
    std::fs::write(dir.path().join("stack.toml"), &stacks[variant]).unwrap();
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(
        code(&out),
        0,
        "the render after the kills failed:\n{}",
        stderr(&out)
    );
    let (disk, temps) = split(snapshot(&rendered));
    assert!(
        temps.is_empty(),
        "leftover temporary files survived a render: {temps:?}"
    );
    assert!(
        disk == expected[variant],
        "the final render left a tree that differs from a fresh one"
    );
    let check = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&check), 0, "{}{}", stdout(&check), stderr(&check));
    for env in ENVS {
        assert_sums_verify(&rendered.join(env));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// What a render killed while staging leaves behind: temporary files beside their
/// targets, a SHA256SUMS one included. The next render must succeed and sweep them up,
/// whether or not it writes the same files again.
#[test]
fn leftover_temporary_files_are_swept_up_by_the_next_render() {
    let dir = copy_reference(true);
    let rendered = dir.path().join("rendered");
    let apps = rendered.join("prod/apps/conveyor-pipeline");
    let leftovers = [
        // rewritten by the next render (the producer's prod image changes)
        apps.join(".deployment-producer.yaml.stackc-tmp"),
        rendered.join("prod/.SHA256SUMS.stackc-tmp"),
        // not rewritten
        apps.join(".service-producer.yaml.stackc-tmp"),
        rendered.join("dev/.SHA256SUMS.stackc-tmp"),
    ];
    for temp in &leftovers {
        std::fs::write(temp, "partial: tr").unwrap();
    }
    let check = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&check), 1, "leftover temporary files are drift");
    edit(
        &dir.path().join("environments/prod.toml"),
        "conveyor-producer:1.3.9",
        "conveyor-producer:1.3.8",
    );
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(
        code(&out),
        0,
        "render over leftover temporary files:\n{}",
        stderr(&out)
    );
    let (disk, temps) = split(snapshot(&rendered));
    assert!(
        temps.is_empty(),
        "leftover temporary files survived a render: {temps:?}"
    );
    let fresh = copy_reference(false);
    std::fs::copy(
        dir.path().join("environments/prod.toml"),
        fresh.path().join("environments/prod.toml"),
    )
    .unwrap();
    assert_eq!(code(&stackc(fresh.path(), &["render"])), 0);
    assert!(
        disk == snapshot(&fresh.path().join("rendered")),
        "differs from a fresh render"
    );
    let check = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&check), 0, "{}{}", stdout(&check), stderr(&check));
    assert_sums_verify(&rendered.join("prod"));
}

/// What a render killed while writing an environment from nothing can leave: its
/// temporary directory, created but holding no file yet (or only directories). It holds
/// no bytes, so `render --check` sees no drift; the next render removes it, in every
/// environment it renders, whether or not that environment is still in the stack, and
/// removes nothing that is not its own.
#[test]
fn empty_leftover_temporary_directories_are_swept_up_by_the_next_render() {
    let dir = copy_reference(true);
    let rendered = dir.path().join("rendered");
    let leftovers = [
        ".dev.stackc-tmp/apps/conveyor-pipeline",
        ".prod.stackc-tmp",
        // an environment since dropped from the stack
        ".qa.stackc-tmp/infra",
    ];
    let not_ours = [".notes", "dev/.keep", ".prod.stackc-tmp.bak"];
    for d in leftovers.iter().chain(&not_ours) {
        std::fs::create_dir_all(rendered.join(d)).unwrap();
    }
    let before = snapshot(&rendered);
    let check = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(
        code(&check),
        0,
        "an empty directory is no drift:\n{}{}",
        stdout(&check),
        stderr(&check)
    );

    // One environment's render sweeps its own temporary directory only.
    let out = stackc(dir.path(), &["render", "--env", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!rendered.join(".prod.stackc-tmp").exists());
    assert!(rendered.join(".dev.stackc-tmp").exists() && rendered.join(".qa.stackc-tmp").exists());

    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for d in leftovers {
        let top = d.split('/').next().unwrap();
        assert!(!rendered.join(top).exists(), "{top} survived a render");
    }
    for d in not_ours {
        assert!(rendered.join(d).is_dir(), "{d} is not stackc's: it stays");
    }
    assert!(snapshot(&rendered) == before, "no file changed");
    let check = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&check), 0, "{}{}", stdout(&check), stderr(&check));
}

fn assert_sums_verify(dir: &Path) {
    let out = Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .expect("run sha256sum");
    assert!(
        out.status.success(),
        "sha256sum -c in {}: {}{}",
        dir.display(),
        stdout(&out),
        stderr(&out)
    );
}

/// Which environment a path under rendered/ belongs to, and whether it is inside the
/// temporary directory of an environment rendered from nothing (`.<env>.stackc-tmp/`).
fn owner(path: &str) -> (&str, bool) {
    let top = path.split('/').next().unwrap_or(path);
    match top
        .strip_prefix('.')
        .and_then(|t| t.strip_suffix(TEMP_SUFFIX))
    {
        Some(env) => (env, true),
        None => (top, false),
    }
}

/// A cold render (no `rendered/<env>/` yet) writes each environment into a temporary
/// directory and renames it into place. Killed at any point, every environment is
/// either absent or complete, byte for byte; only `.<env>.stackc-tmp/` may be extra;
/// `render --check` passes exactly when all are complete; the next render, started over
/// whatever the kill left, completes the tree and sweeps up the temporary directories.
#[test]
fn sigkill_during_a_cold_render_leaves_each_environment_absent_or_complete() {
    let stack = &variants()[0];
    let expected = expected_tree(stack);
    let dir = copy_reference(false);
    let rendered = dir.path().join("rendered");
    std::fs::write(dir.path().join("stack.toml"), stack).unwrap();
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("stderr");

    // How long a cold render takes, and how long its write phase (from its first
    // temporary directory to its exit).
    let started = Instant::now();
    let mut probe = spawn_render(dir.path(), &log);
    let writes_began = wait_for_temp_dir(&mut probe, &rendered);
    assert!(probe.wait().unwrap().success(), "{}", read(&log));
    let whole = started.elapsed();
    let writing = writes_began.map_or(whole, |began| began.elapsed());
    eprintln!("cold render: {whole:?}, of which writing {writing:?}");

    const COLD_ITERATIONS: u64 = 20;
    let (mut killed, mut partial, mut with_temp_dirs) = (0, 0, 0);
    for i in 0..COLD_ITERATIONS {
        // Even iterations start from nothing; odd ones over what the last kill left.
        if i % 2 == 0 {
            let _ = std::fs::remove_dir_all(&rendered);
        } else {
            for env in ENVS {
                let _ = std::fs::remove_dir_all(rendered.join(env));
            }
        }
        // Most kills at a random point of the whole render; every fourth (each from
        // nothing, so that any temporary directory is this render's) at a random point
        // of its write phase, which is short beside the compile on any machine.
        let mut rng = Rng(0xC01D_0000 + i);
        let mut child = spawn_render(dir.path(), &log);
        let delay = if i % 4 == 0 {
            let delay = rng.between(Duration::ZERO, writing.mul_f64(1.1));
            if wait_for_temp_dir(&mut child, &rendered).is_some() {
                std::thread::sleep(delay);
            }
            delay
        } else {
            let delay = rng.between(Duration::ZERO, whole.mul_f64(1.1));
            std::thread::sleep(delay);
            delay
        };
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        if !status.success() {
            assert_eq!(status.code(), None, "iteration {i}: {}", read(&log));
            killed += 1;
        }

        let disk = snapshot(&rendered);
        let mut complete = BTreeSet::new();
        for env in ENVS {
            let mine = env_files(&disk, env);
            let want = env_files(&expected, env);
            assert!(
                mine.is_empty() || mine == want,
                "iteration {i} (killed {delay:?} after the start): {env} is neither absent nor \
                 complete: {} of {} files",
                mine.len(),
                want.len()
            );
            if !mine.is_empty() {
                complete.insert(env);
            }
        }
        let mut temp_dirs = BTreeSet::new();
        for path in disk.keys() {
            let (env, temporary) = owner(path);
            assert!(
                ENVS.contains(&env),
                "iteration {i}: {path} belongs to no environment"
            );
            if temporary {
                temp_dirs.insert(env);
            }
        }
        let all_done = complete.len() == ENVS.len() && temp_dirs.is_empty();
        if !temp_dirs.is_empty() {
            with_temp_dirs += 1;
        }
        if !complete.is_empty() && complete.len() < ENVS.len() {
            partial += 1;
        }
        let check = stackc(dir.path(), &["render", "--check"]);
        assert_eq!(
            code(&check),
            if all_done { 0 } else { 1 },
            "iteration {i}: render --check must pass exactly when every environment is complete \
             ({complete:?} complete, temporary directories of {temp_dirs:?}):\n{}",
            stderr(&check)
        );
    }
    eprintln!(
        "{COLD_ITERATIONS} cold renders: {killed} killed, {with_temp_dirs} left a temporary \
         directory, {partial} left some environments complete and others absent"
    );
    assert!(killed > 0, "no render was killed");
    assert!(
        with_temp_dirs > 0,
        "no kill landed while an environment was being written: the test proved nothing"
    );

    // Over the last kill's leftovers, a render completes and sweeps everything up.
    let out = stackc(dir.path(), &["render"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        snapshot(&rendered) == expected,
        "the render after the kills left a tree that differs from a fresh one"
    );
    let check = stackc(dir.path(), &["render", "--check"]);
    assert_eq!(code(&check), 0, "{}{}", stdout(&check), stderr(&check));
}
