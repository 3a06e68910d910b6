//! The only code that writes: compares a [`RenderedTree`] with `rendered/` on disk and
//! applies the difference. Only files whose bytes changed are written, each to a
//! temporary file beside it and then renamed over it; files of removed objects are
//! deleted; every `SHA256SUMS` is renamed last. An environment rendered from nothing
//! (no `rendered/<env>/` yet) is written whole into a temporary directory beside it,
//! which is renamed into place: one rename instead of one per file. If anything cannot
//! be written, everything staged is removed and `rendered/` is left exactly as it was.
//!
//! Temporaries an interrupted render left behind are swept up by the next render: a
//! temporary file is a file no environment holds, so it is removed with the files of
//! removed objects; a temporary directory is removed once it holds no file (only empty
//! directories are removed, so no file's bytes ever go this way).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use super::ondisk::{DiskFile, OnDisk};
use super::statcache::{self, StatCache};
use sha2::{Digest, Sha256};

use super::{RenderedTree, SUMS_FILE};

/// The part of `rendered/` a render owns: all of it, or one environment's directory.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    Env(&'a str),
}

impl Scope<'_> {
    /// Whether the file at `rel` (under `rendered/`) is in this part.
    fn holds(&self, rel: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Env(env) => [*env, temp_dir_name(env).as_str()]
                .iter()
                .any(|dir| rel.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))),
        }
    }
}

/// How the tree differs from disk, with the old bytes of what changed or went away.
#[derive(Debug, Default)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub old: BTreeMap<String, Vec<u8>>,
    /// Temporary directories of environments (`.<env>.stackc-tmp`, within the scope)
    /// that an interrupted render left: [`write`] removes each once it holds no file.
    /// Not a difference: a directory holds no bytes (its files, if any, are `removed`).
    pub leftover_dirs: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// What `rendered/` holds (within a scope), taken before the tree to compare it with is
/// known, so that it can be taken while the stack compiles: every file, and the SHA-256
/// of each file whose version on disk the [`StatCache`] knows by its stat.
pub struct Survey {
    cache: StatCache,
    on_disk: OnDisk,
    /// For each of `on_disk.files`, in order: its SHA-256, when known by its stat.
    known: Vec<Option<[u8; 32]>>,
    /// Temporary directories of environments left by interrupted renders.
    leftover_dirs: Vec<String>,
}

/// Lists what is under `rendered` (within `scope`) and looks up each file's stat in the
/// [`StatCache`].
pub fn survey(rendered: &Path, scope: Scope) -> io::Result<Survey> {
    let cache = StatCache::open(rendered);
    let mut on_disk = crate::timings::time(
        || "list rendered/".into(),
        || list_existing(rendered, scope),
    )?;
    let leftover_dirs = leftover_temp_dirs(rendered, scope)?;
    // In path order, as the tree is: the comparison walks both together.
    on_disk
        .files
        .sort_unstable_by(|a, b| a.rel.as_str().cmp(b.rel.as_str()));
    let known = crate::timings::time(
        || "stat rendered/".into(),
        || {
            on_threads(&on_disk.files, Calls::Lookups, |file| {
                let stamp = || on_disk.stamp(file).ok();
                Ok(cache.sha256_by_stamp(&file.rel, stamp).copied())
            })
        },
    )?;
    Ok(Survey {
        cache,
        on_disk,
        known,
        leftover_dirs,
    })
}

/// The temporary directory an environment rendered from nothing is written into, beside
/// where it goes: `.<env>.stackc-tmp`.
fn temp_dir_name(env: &str) -> String {
    format!(".{env}.stackc-tmp")
}

/// Whether a name in `rendered/` is that of an environment's temporary directory.
fn is_temp_dir_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_suffix(".stackc-tmp"))
        .is_some_and(|env| !env.is_empty())
}

/// The environments' temporary directories in `rendered` (within `scope`), in name
/// order. At survey time no render of this process has made one yet, so each is a
/// leftover. Symbolic links are not directories here: a link is never stackc's own.
fn leftover_temp_dirs(rendered: &Path, scope: Scope) -> io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(rendered) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(context(e, "reading", rendered)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| context(e, "reading", rendered))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let in_scope = match scope {
            Scope::All => is_temp_dir_name(&name),
            Scope::Env(env) => name == temp_dir_name(env),
        };
        let is_dir = || entry.file_type().is_ok_and(|t| t.is_dir());
        if in_scope && is_dir() {
            dirs.push(name);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Removes `dir` and every directory below it, deepest first, as far as they hold no
/// file: only empty directories are removed, so nothing but directories goes. Best
/// effort, as the removal of emptied parents: what cannot be removed stays.
fn remove_empty_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Reads what is under `rendered` (within `scope`) and compares it with `tree`.
pub fn compare(rendered: &Path, tree: &RenderedTree, scope: Scope) -> io::Result<Changes> {
    compare_surveyed(survey(rendered, scope)?, tree, scope)
}

/// Compares what [`survey`] found with `tree`. Each file on disk is read against the
/// bytes it should have, unless its SHA-256 is known and is theirs; only the old bytes
/// of files that differ or go away are kept. The listing (sorted by the survey) and the
/// tree are walked together once: no lookup of a path in the tree's maps.
pub fn compare_surveyed(survey: Survey, tree: &RenderedTree, scope: Scope) -> io::Result<Changes> {
    let Survey {
        cache,
        on_disk,
        known,
        leftover_dirs,
    } = survey;
    let listed: Vec<&str> = on_disk.files.iter().map(|f| f.rel.as_str()).collect();
    let (expected, added) = pair(&listed, tree);
    let files: Vec<_> = on_disk
        .files
        .iter()
        .zip(known)
        .zip(&expected)
        .map(|((file, known), expected)| (file, known, *expected))
        .collect();
    let olds = crate::timings::time(
        || {
            let (known, all) = (cache.trusted(), on_disk.files.len());
            format!("read rendered/ ({known} of {all} files known by their stat)")
        },
        || {
            on_threads(&files, Calls::Lookups, |&(file, known, expected)| {
                old_of(&on_disk, file, known, expected, &cache)
            })
        },
    )?;
    crate::timings::time(
        || "save the stat cache".into(),
        || {
            // The cache asks in path order: one walk through the sorted listing.
            let mut rest = listed.iter().peekable();
            cache.save(|rel| {
                scope.holds(rel).then(|| {
                    while rest.next_if(|p| **p < rel).is_some() {}
                    rest.peek().is_some_and(|p| **p == rel)
                })
            })
        },
    );
    let mut changes = Changes {
        added,
        leftover_dirs,
        ..Changes::default()
    };
    for ((file, old), expected) in on_disk.files.iter().zip(olds).zip(expected) {
        if let Some(old) = old {
            if expected.is_some() {
                changes.changed.push(file.rel.clone());
            } else {
                changes.removed.push(file.rel.clone());
            }
            changes.old.insert(file.rel.clone(), old);
        }
    }
    Ok(changes)
}

/// What the tree holds for a file: its bytes, and their SHA-256 when emit made it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Expected<'t> {
    bytes: &'t [u8],
    sha256: Option<&'t [u8; 32]>,
}

impl Expected<'_> {
    fn sha256(&self) -> [u8; 32] {
        match self.sha256 {
            Some(sum) => *sum,
            None => Sha256::digest(self.bytes).into(),
        }
    }
}

/// For each of the `listed` paths (sorted), what `tree` holds for it; and the tree's
/// paths that are not listed. One walk through the listing, the tree's files and their
/// digests, all three in path order.
fn pair<'t>(listed: &[&str], tree: &'t RenderedTree) -> (Vec<Option<Expected<'t>>>, Vec<String>) {
    let mut sums = tree.sha256.iter().peekable();
    let mut files = tree.files.iter().peekable();
    let mut added = Vec::new();
    let expected = listed
        .iter()
        .map(|&path| {
            while let Some((missing, _)) = files.next_if(|(p, _)| p.as_str() < path) {
                added.push(missing.clone());
            }
            let (_, bytes) = files.next_if(|(p, _)| p.as_str() == path)?;
            while sums.next_if(|(p, _)| p.as_str() < path).is_some() {}
            let sha256 = sums.next_if(|(p, _)| p.as_str() == path).map(|(_, s)| s);
            Some(Expected { bytes, sha256 })
        })
        .collect();
    added.extend(files.map(|(p, _)| p.clone()));
    (expected, added)
}

/// The bytes on disk of `file` when they are not `expected` (what the tree holds for
/// it, if anything); `known` is the SHA-256 of its bytes when the survey knew it by its
/// stat.
fn old_of(
    on_disk: &OnDisk,
    file: &DiskFile,
    known: Option<[u8; 32]>,
    expected: Option<Expected>,
    cache: &StatCache,
) -> io::Result<Option<Vec<u8>>> {
    let old = || match expected {
        Some(expected) => {
            let sha256 = || expected.sha256();
            if known.is_some_and(|known| known == sha256()) {
                return Ok(None);
            }
            read_and_learn(on_disk, file, expected.bytes, sha256, cache)
        }
        None => read(on_disk.open(file)?).map(Some),
    };
    old().map_err(|e| context(e, "reading", &on_disk.path(file)))
}

/// [`old_if_different`]; a version read and found to hold `expected` is learnt.
fn read_and_learn(
    on_disk: &OnDisk,
    file: &DiskFile,
    expected: &[u8],
    sha256: impl Fn() -> [u8; 32],
    cache: &StatCache,
) -> io::Result<Option<Vec<u8>>> {
    let opened = on_disk.open(file)?;
    let stamp = statcache::stamp_of(&opened);
    let old = old_if_different(opened, expected)?;
    if let (None, Ok(stamp)) = (&old, stamp) {
        cache.learn(&file.rel, stamp, sha256);
    }
    Ok(old)
}

/// The bytes of `file` when they are not `expected`. Reads at most one byte past the
/// expected length unless the file is longer, and needs no `stat`.
fn old_if_different(file: File, expected: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(expected.len() + 1);
    let limit = expected.len() as u64 + 1;
    (&file).take(limit).read_to_end(&mut bytes)?;
    if bytes == expected {
        return Ok(None);
    }
    if bytes.len() as u64 == limit {
        (&file).read_to_end(&mut bytes)?;
    }
    Ok(Some(bytes))
}

fn read(mut file: File) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What is on disk under `rendered` (within `scope`), as a tree.
pub fn read_tree(rendered: &Path, scope: Scope) -> io::Result<RenderedTree> {
    let on_disk = list_existing(rendered, scope)?;
    let bytes = on_threads(&on_disk.files, Calls::Lookups, |file| {
        let bytes = || read(on_disk.open(file)?);
        bytes().map_err(|e| context(e, "reading", &on_disk.path(file)))
    })?;
    Ok(RenderedTree {
        files: on_disk
            .files
            .into_iter()
            .map(|f| f.rel)
            .zip(bytes)
            .collect(),
        ..RenderedTree::default()
    })
}

/// Every file under `rendered` (within `scope`). One environment's scope holds its
/// temporary directory too: the files an interrupted render left there are removed, and
/// then the directory (a link of that name is not followed).
fn list_existing(rendered: &Path, scope: Scope) -> io::Result<OnDisk> {
    match scope {
        Scope::All => OnDisk::list(rendered, rendered),
        Scope::Env(env) => {
            let mut on_disk = OnDisk::list(rendered, &rendered.join(env))?;
            let temp = rendered.join(temp_dir_name(env));
            if std::fs::symlink_metadata(&temp).is_ok_and(|m| m.is_dir()) {
                on_disk.add(rendered, &temp)?;
            }
            Ok(on_disk)
        }
    }
}

/// Applies `changes` so that `rendered` holds exactly `tree` (within the compared scope).
pub fn write(rendered: &Path, tree: &RenderedTree, changes: &Changes) -> io::Result<()> {
    write_prestaged(rendered, tree, changes, Vec::new())
}

/// [`write`], where the environments in `prestaged` were written ahead (see
/// [`prestage`]): their temporary directories are renamed into place with the others,
/// or removed with everything else if the write fails.
pub fn write_prestaged(
    rendered: &Path,
    tree: &RenderedTree,
    changes: &Changes,
    prestaged: Vec<Prestaged>,
) -> io::Result<()> {
    let mut staged = Staged::default();
    let ahead: Vec<String> = prestaged.iter().map(|p| format!("{}/", p.env)).collect();
    for p in prestaged {
        staged.adopt(p.staged);
    }
    let writes: Vec<&String> = changes
        .added
        .iter()
        .chain(&changes.changed)
        .filter(|path| !ahead.iter().any(|env| path.starts_with(env.as_str())))
        .collect();
    let files = writes
        .iter()
        .map(|p| (p.as_str(), tree.files[*p].as_slice()));
    if let Err(e) = staged.write_files(rendered, files) {
        staged.abandon();
        return Err(e);
    }
    let (sums, others): (Vec<_>, Vec<_>) = staged
        .replaced
        .iter()
        .partition(|(target, _)| is_sums(target));
    on_threads(&others, Calls::Writes, |(target, temp)| {
        std::fs::rename(temp, target).map_err(|e| context(e, "renaming into", target))
    })?;
    for (dir, temp) in &staged.fresh {
        std::fs::rename(temp, dir).map_err(|e| context(e, "renaming into", dir))?;
    }
    // Leftover temporary files of an interrupted render are stale, unless this render
    // staged a file under the same name (then the rename below consumes it).
    let staged_temps: std::collections::BTreeSet<&PathBuf> =
        staged.replaced.iter().map(|(_, temp)| temp).collect();
    for path in &changes.removed {
        let target = rendered.join(path);
        if staged_temps.contains(&target) {
            continue;
        }
        match std::fs::remove_file(&target) {
            // A temporary file left by an interrupted render has the name this render's
            // temporary file had, and was renamed into place above; a stale temporary
            // directory was removed when this render staged its own.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other.map_err(|e| context(e, "removing", &target))?,
        }
        remove_empty_parents(&target, rendered);
    }
    for (target, temp) in sums {
        std::fs::rename(temp, target).map_err(|e| context(e, "renaming into", target))?;
    }
    // Last, when every file is in place: only empty directories go, and never one this
    // render staged (each was renamed into place above; the check is for certainty).
    for name in &changes.leftover_dirs {
        let dir = rendered.join(name);
        if !staged.fresh.iter().any(|(_, temp)| *temp == dir) {
            remove_empty_dirs(&dir);
        }
    }
    Ok(())
}

/// An environment rendered from nothing, written ahead into its temporary directory
/// (`rendered/.<env>.stackc-tmp`) while other environments still compile. Nothing of it
/// is visible until [`write_prestaged`] renames the directory into place; [`abandon`]
/// removes it (a render that fails writes nothing).
///
/// [`abandon`]: Prestaged::abandon
pub struct Prestaged {
    env: String,
    staged: Staged,
}

impl Prestaged {
    pub fn abandon(self) {
        self.staged.abandon();
    }
}

/// Writes every file of `tree` (environment `env`'s, as emit made it) into
/// `rendered/.<env>.stackc-tmp`, when `rendered/<env>` does not exist and no temporary
/// directory of an interrupted render is there (then [`write`] does it all, as usual).
/// Call it only once [`survey`] has listed `rendered/`: the listing must not see these
/// files.
pub fn prestage(rendered: &Path, env: &str, tree: &RenderedTree) -> io::Result<Option<Prestaged>> {
    if rendered.join(env).exists() || rendered.join(temp_dir_name(env)).exists() {
        return Ok(None);
    }
    crate::timings::time(
        || format!("{env} write ahead"),
        || {
            let mut staged = Staged::default();
            let files = tree.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()));
            if let Err(e) = staged.write_files(rendered, files) {
                staged.abandon();
                return Err(e);
            }
            let env = env.to_owned();
            Ok(Some(Prestaged { env, staged }))
        },
    )
}

/// Writes one staged file.
fn write_file((file, bytes): &(PathBuf, &[u8])) -> io::Result<()> {
    std::fs::write(file, bytes).map_err(|e| context(e, "writing", file))
}

/// What the file-system calls of an [`on_threads`] do, which decides how many threads
/// pay.
#[derive(Clone, Copy)]
enum Calls {
    /// Reads of what the kernel has cached (`stat`, reading `rendered/`): they keep a
    /// core busy, so a thread per core. Four threads on two cores were 1.06x the wall
    /// time of two for a 500-app `render --check` (30 pairs), which also checks the
    /// stack on those cores meanwhile.
    Lookups,
    /// Creating, writing and renaming files, which wait on the file system: more
    /// threads than cores pay.
    Writes,
}

/// `f` over every item on several threads, each taking a run of consecutive items; the
/// results in order, or the first error.
fn on_threads<T: Sync, R: Send>(
    items: &[T],
    calls: Calls,
    f: impl Fn(&T) -> io::Result<R> + Sync,
) -> io::Result<Vec<R>> {
    let threads = match calls {
        Calls::Lookups => crate::parallel::cores(),
        Calls::Writes => 4,
    };
    const MIN_CHUNK: usize = 64;
    let run = |part: &[T]| part.iter().map(&f).collect::<io::Result<Vec<R>>>();
    if items.len() <= MIN_CHUNK {
        return run(items);
    }
    let chunk = items.len().div_ceil(threads).max(MIN_CHUNK);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || run(part)))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            let part = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            out.extend(part);
        }
        Ok(out)
    })
}

/// An I/O error that says what stackc was doing, and to which path.
fn context(e: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} {}: {e}", path.display()))
}

fn is_sums(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == SUMS_FILE)
}

/// Where this render writes: temporary files beside the files they replace, temporary
/// directories of environments rendered from nothing, and the directories created.
#[derive(Default)]
struct Staged {
    /// (target, temporary file beside it).
    replaced: Vec<(PathBuf, PathBuf)>,
    /// (`rendered/<env>`, its temporary directory `rendered/.<env>.stackc-tmp`).
    fresh: Vec<(PathBuf, PathBuf)>,
    created_dirs: Vec<PathBuf>,
    /// Directories known to exist (created or seen), so each is looked up once.
    known_dirs: std::collections::HashSet<PathBuf>,
}

impl Staged {
    /// Prepares the writing of `rel` and returns the file to write its bytes to.
    fn stage(&mut self, rendered: &Path, rel: &str) -> io::Result<PathBuf> {
        let (env, rest) = rel
            .split_once('/')
            .ok_or_else(|| io::Error::other(format!("{rel} is outside an environment")))?;
        if let Some(temp_dir) = self.fresh_dir(rendered, env)? {
            let file = temp_dir.join(rest);
            self.create_dirs(file.parent().unwrap_or(&temp_dir))?;
            return Ok(file);
        }
        let target = rendered.join(rel);
        let parent = target
            .parent()
            .ok_or_else(|| io::Error::other("path has no parent"))?;
        self.create_dirs(parent)?;
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::other("path has no file name"))?
            .to_string_lossy();
        if target.is_dir() {
            // Found now, so that no rename can fail halfway through the second phase.
            return Err(io::Error::other(format!(
                "{} is a directory",
                target.display()
            )));
        }
        let temp = parent.join(format!(".{name}.stackc-tmp"));
        self.replaced.push((target.clone(), temp.clone()));
        Ok(temp)
    }

    /// The temporary directory of `env` when `rendered/<env>` does not exist (created on
    /// first use; a stale one of an interrupted render is removed first).
    fn fresh_dir(&mut self, rendered: &Path, env: &str) -> io::Result<Option<PathBuf>> {
        let dir = rendered.join(env);
        if let Some((_, temp)) = self.fresh.iter().find(|(d, _)| *d == dir) {
            return Ok(Some(temp.clone()));
        }
        if self.known_dirs.contains(&dir) || dir.exists() {
            self.known_dirs.insert(dir);
            return Ok(None);
        }
        let temp = rendered.join(temp_dir_name(env));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| context(e, "removing", &temp))?;
        }
        self.create_dirs(rendered)?;
        std::fs::create_dir(&temp).map_err(|e| context(e, "creating directory", &temp))?;
        self.known_dirs.insert(temp.clone());
        self.fresh.push((dir, temp.clone()));
        Ok(Some(temp))
    }

    fn create_dirs(&mut self, dir: &Path) -> io::Result<()> {
        let missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !self.known_dirs.contains(*d))
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        for d in missing.into_iter().rev() {
            std::fs::create_dir(&d).map_err(|e| context(e, "creating directory", &d))?;
            self.created_dirs.push(d.clone());
            self.known_dirs.insert(d);
        }
        self.known_dirs.insert(dir.to_path_buf());
        Ok(())
    }

    /// Stages each of `files` (path under `rendered/`, bytes) and writes its bytes where
    /// it is staged. On an error the caller abandons.
    fn write_files<'b>(
        &mut self,
        rendered: &Path,
        files: impl Iterator<Item = (&'b str, &'b [u8])>,
    ) -> io::Result<()> {
        let mut jobs: Vec<(PathBuf, &[u8])> = Vec::new();
        for (path, bytes) in files {
            jobs.push((self.stage(rendered, path)?, bytes));
        }
        // Creating thousands of small files is most of a cold render, and the kernel
        // does it in parallel.
        on_threads(&jobs, Calls::Writes, write_file).map(drop)
    }

    /// Takes over what another staging (an environment written ahead) made.
    fn adopt(&mut self, other: Staged) {
        self.replaced.extend(other.replaced);
        self.fresh.extend(other.fresh);
        self.created_dirs.extend(other.created_dirs);
        self.known_dirs.extend(other.known_dirs);
    }

    /// Removes every temporary file and directory and every created directory: disk is
    /// as it was.
    fn abandon(self) {
        for (_, temp) in &self.replaced {
            let _ = std::fs::remove_file(temp);
        }
        for (_, temp) in &self.fresh {
            let _ = std::fs::remove_dir_all(temp);
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn remove_empty_parents(file: &Path, stop: &Path) {
    for dir in file.ancestors().skip(1) {
        if dir == stop || !dir.starts_with(stop) || std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// Unified diffs of every change, `a/` = on disk, `b/` = what the sources render.
pub fn unified_diff(changes: &Changes, tree: &RenderedTree) -> String {
    let mut out = String::new();
    let text = |bytes: Option<&Vec<u8>>| {
        bytes
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let mut paths: Vec<&String> = changes
        .added
        .iter()
        .chain(&changes.changed)
        .chain(&changes.removed)
        .collect();
    paths.sort();
    for path in paths {
        let old = text(changes.old.get(path));
        let new = text(tree.files.get(path));
        let diff = similar::TextDiff::from_lines(&old, &new);
        let (a, b) = (format!("a/rendered/{path}"), format!("b/rendered/{path}"));
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> RenderedTree {
        RenderedTree::of_text(files)
    }

    /// A `rendered/` directory holding `files`, in a directory of its own (where the
    /// stat cache goes too).
    struct Disk {
        _root: tempfile::TempDir,
        rendered: PathBuf,
    }

    impl Disk {
        fn path(&self) -> &Path {
            &self.rendered
        }
    }

    fn disk(files: &[(&str, &str)]) -> Disk {
        let root = tempfile::tempdir().unwrap();
        let rendered = root.path().join("rendered");
        std::fs::create_dir_all(&rendered).unwrap();
        for (path, bytes) in files {
            let path = rendered.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        Disk {
            _root: root,
            rendered,
        }
    }

    #[test]
    fn compare_finds_every_kind_of_difference_with_the_old_bytes() {
        let on_disk = disk(&[
            ("dev/same.yaml", "a: 1\n"),
            ("dev/longer.yaml", "a: 1\nb: 2\n"),
            ("dev/shorter.yaml", "a"),
            ("dev/edited.yaml", "a: 9\n"),
            ("dev/gone.yaml", "x: 1\n"),
        ]);
        let new = tree(&[
            ("dev/same.yaml", "a: 1\n"),
            ("dev/longer.yaml", "a: 1\n"),
            ("dev/shorter.yaml", "a: 1\n"),
            ("dev/edited.yaml", "a: 1\n"),
            ("dev/new.yaml", "n: 1\n"),
        ]);
        let changes = compare(on_disk.path(), &new, Scope::All).unwrap();
        assert_eq!(changes.added, ["dev/new.yaml"]);
        assert_eq!(
            changes.changed,
            ["dev/edited.yaml", "dev/longer.yaml", "dev/shorter.yaml"]
        );
        assert_eq!(changes.removed, ["dev/gone.yaml"]);
        let old = |p: &str| String::from_utf8(changes.old[p].clone()).unwrap();
        assert_eq!(old("dev/longer.yaml"), "a: 1\nb: 2\n");
        assert_eq!(old("dev/shorter.yaml"), "a");
        assert_eq!(old("dev/edited.yaml"), "a: 9\n");
        assert_eq!(old("dev/gone.yaml"), "x: 1\n");
        assert!(!changes.old.contains_key("dev/same.yaml"));
    }

    #[test]
    fn the_listing_and_the_tree_are_paired_in_one_walk() {
        let mut new = tree(&[
            ("a", "1"),
            ("b/c", "2"),
            ("b/d", "3"),
            ("e", "4"),
            ("f", "5"),
        ]);
        for (path, bytes) in new.files.clone() {
            if path != "b/d" {
                new.sha256.insert(path, Sha256::digest(bytes).into());
            }
        }
        let strings = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let paired = |listed: &[&str]| {
            let (expected, added) = pair(listed, &new);
            let expected: Vec<Option<(String, bool)>> = expected
                .into_iter()
                .map(|e| {
                    e.map(|e| {
                        (
                            String::from_utf8(e.bytes.to_vec()).unwrap(),
                            e.sha256.is_some(),
                        )
                    })
                })
                .collect();
            (expected, added)
        };
        let some = |bytes: &str, sum: bool| Some((bytes.to_owned(), sum));
        assert_eq!(
            paired(&["a", "b/d", "e", "f"]),
            (
                vec![
                    some("1", true),
                    some("3", false),
                    some("4", true),
                    some("5", true)
                ],
                strings(&["b/c"])
            )
        );
        assert_eq!(
            paired(&[]),
            (vec![], strings(&["a", "b/c", "b/d", "e", "f"]))
        );
        assert_eq!(
            paired(&["0", "b", "b/c", "b/d", "z"]),
            (
                vec![None, None, some("2", true), some("3", false), None],
                strings(&["a", "e", "f"])
            )
        );
        let (expected, added) = pair(&["a", "b/c", "b/d", "e", "f"], &new);
        assert!(added.is_empty() && expected.iter().all(Option::is_some));
        // Where emit made no digest, the file's bytes give it.
        let digest: [u8; 32] = Sha256::digest(b"3").into();
        assert_eq!(expected[2].unwrap().sha256(), digest);
    }

    #[test]
    fn compare_within_one_environment_ignores_the_others() {
        let on_disk = disk(&[("dev/a.yaml", "a\n"), ("prod/a.yaml", "old\n")]);
        let new = tree(&[("dev/a.yaml", "a\n")]);
        let changes = compare(on_disk.path(), &new, Scope::Env("dev")).unwrap();
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_version_the_cache_knows_is_not_read_again_and_any_other_is() {
        let on_disk = disk(&[("dev/a.yaml", "old\n")]);
        let file = on_disk.path().join("dev/a.yaml");
        let stamp = statcache::stamp_of(&File::open(&file).unwrap()).unwrap();
        let new = tree(&[("dev/a.yaml", "new\n")]);
        // Say an earlier run read this very version and found the new bytes in it.
        let sha256: [u8; 32] = Sha256::digest(b"new\n").into();
        statcache::plant(on_disk.path(), "dev/a.yaml", stamp, sha256);
        let changes = compare(on_disk.path(), &new, Scope::All).unwrap();
        assert!(changes.is_empty(), "the file was read: {changes:?}");
        std::fs::write(&file, "older\n").unwrap();
        let changes = compare(on_disk.path(), &new, Scope::All).unwrap();
        assert_eq!(changes.changed, ["dev/a.yaml"]);
        assert_eq!(changes.old["dev/a.yaml"], b"older\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_that_cannot_be_opened_is_an_error_naming_its_path() {
        // A dangling symlink lists as a file and fails to open, whoever runs the test.
        let on_disk = disk(&[("dev/a.yaml", "a\n")]);
        std::os::unix::fs::symlink("nowhere", on_disk.path().join("dev/b.yaml")).unwrap();
        let new = tree(&[("dev/a.yaml", "a\n"), ("dev/b.yaml", "b\n")]);
        for error in [
            compare(on_disk.path(), &new, Scope::All).unwrap_err(),
            read_tree(on_disk.path(), Scope::All).unwrap_err(),
        ] {
            assert_eq!(error.kind(), io::ErrorKind::NotFound);
            let message = error.to_string();
            assert!(
                message.contains("reading") && message.contains("b.yaml"),
                "{message}"
            );
        }
    }

    #[test]
    fn leftover_temporary_directories_in_scope_are_swept_once_empty_and_nothing_else() {
        let on_disk = disk(&[
            ("dev/a.yaml", "a\n"),
            (".qa.stackc-tmp/apps/x.yaml", "x\n"),
            (".keep/notes.txt", "mine\n"),
        ]);
        let root = on_disk.path();
        let dirs = [
            ".dev.stackc-tmp/apps/ns",
            ".prod.stackc-tmp",
            ".empty",
            "notes.stackc-tmp",
            ".dev.stackc-tmp.bak",
        ];
        for dir in dirs {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        let new = tree(&[("dev/a.yaml", "a\n")]);
        let exists = |dir: &str| root.join(dir).exists();

        // One environment's render sweeps its own temporary directory only.
        let changes = compare(root, &new, Scope::Env("dev")).unwrap();
        assert!(changes.is_empty(), "an empty directory is no difference");
        assert_eq!(changes.leftover_dirs, [".dev.stackc-tmp"]);
        write(root, &new, &changes).unwrap();
        assert!(!exists(".dev.stackc-tmp"));
        assert!(exists(".prod.stackc-tmp") && exists(".qa.stackc-tmp/apps/x.yaml"));

        // The files left in it are removed files of that environment, and then it goes.
        let qa = tree(&[("qa/a.yaml", "a\n")]);
        let changes = compare(root, &qa, Scope::Env("qa")).unwrap();
        assert_eq!(changes.removed, [".qa.stackc-tmp/apps/x.yaml"]);
        assert_eq!(changes.added, ["qa/a.yaml"]);
        assert_eq!(changes.leftover_dirs, [".qa.stackc-tmp"]);
        write(root, &qa, &changes).unwrap();
        assert!(!exists(".qa.stackc-tmp") && exists("qa/a.yaml"));
        assert!(compare(root, &qa, Scope::Env("qa")).unwrap().is_empty());
        std::fs::create_dir_all(root.join(".qa.stackc-tmp/apps")).unwrap();
        std::fs::write(root.join(".qa.stackc-tmp/apps/x.yaml"), "x\n").unwrap();
        std::fs::remove_dir_all(root.join("qa")).unwrap();

        // Every environment's: the files in one are removed files, then it goes.
        let changes = compare(root, &new, Scope::All).unwrap();
        assert_eq!(
            changes.removed,
            [".keep/notes.txt", ".qa.stackc-tmp/apps/x.yaml"]
        );
        assert_eq!(
            changes.leftover_dirs,
            [".prod.stackc-tmp", ".qa.stackc-tmp"]
        );
        write(root, &new, &changes).unwrap();
        for gone in [".prod.stackc-tmp", ".qa.stackc-tmp"] {
            assert!(!exists(gone), "{gone} survived");
        }
        for kept in [
            ".empty",
            "notes.stackc-tmp",
            ".dev.stackc-tmp.bak",
            "dev/a.yaml",
        ] {
            assert!(
                exists(kept),
                "{kept} is not a temporary directory of stackc's"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_named_like_a_temporary_directory_is_not_followed_or_removed() {
        let on_disk = disk(&[("dev/a.yaml", "a\n")]);
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir(elsewhere.path().join("empty")).unwrap();
        let link = on_disk.path().join(".prod.stackc-tmp");
        std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
        let new = tree(&[("dev/a.yaml", "a\n")]);
        let changes = compare(on_disk.path(), &new, Scope::Env("prod")).unwrap();
        assert!(changes.leftover_dirs.is_empty());
        write(on_disk.path(), &new, &changes).unwrap();
        assert!(link.exists() && elsewhere.path().join("empty").exists());
    }

    #[test]
    fn a_missing_rendered_directory_means_everything_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let new = tree(&[("dev/a.yaml", "a\n")]);
        let changes = compare(&dir.path().join("rendered"), &new, Scope::All).unwrap();
        assert_eq!(changes.added, ["dev/a.yaml"]);
    }
}
