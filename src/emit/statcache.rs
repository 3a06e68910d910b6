//! What stackc last read of `rendered/`, so that `render --check` need not read it again.
//! For each file it read, the cache keeps the stat of that version (device, inode, size,
//! modification and change time: what git's index keeps for the same purpose) and the
//! SHA-256 of its bytes. While a file's stat is unchanged, so are its bytes: writing a
//! file changes its change time, which no program can set back.
//!
//! A version is only remembered when its times are older than the moment stackc began
//! reading (a stamp taken on the same file system): a file written in the same clock tick
//! as it was read could be written again within that tick without its stat changing.
//!
//! The cache lives in `.stackc-cache/` beside `rendered/`, ignored by git through its own
//! `.gitignore`. It only ever saves reads: a missing, unreadable or corrupt cache is an
//! empty one, and a cache that cannot be saved is not an error.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

/// The cache directory, beside `rendered/`.
pub const DIR: &str = ".stackc-cache";
/// The cache of `rendered/` in it; the suffix is the format's version.
const FILE: &str = "rendered-stat.v1";
const GITIGNORE: &str =
    "# Made by stackc: a cache of what it read of rendered/. Never commit it.\n*\n";
/// <https://bford.info/cachedir/>: backup tools skip the directory.
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by stackc.\n";

/// One version of a file, as `stat` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    /// Modification time (seconds, nanoseconds).
    modified: (i64, u32),
    /// Status change time (seconds, nanoseconds).
    changed: (i64, u32),
}

impl Stamp {
    /// The stamp of what `stat` returned.
    #[cfg(unix)]
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    pub fn of(stat: &rustix::fs::Stat) -> Stamp {
        Stamp {
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
            size: stat.st_size as u64,
            modified: (stat.st_mtime as i64, stat.st_mtime_nsec as u32),
            changed: (stat.st_ctime as i64, stat.st_ctime_nsec as u32),
        }
    }

    /// Whether this version was last written strictly before `now` (a stamp of the file
    /// system's clock), on the same file system.
    fn before(&self, now: &Stamp) -> bool {
        self.dev == now.dev && self.modified < now.modified && self.changed < now.modified
    }
}

/// One remembered file: the stamp of the version read, and the SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Known {
    stamp: Stamp,
    sha256: [u8; 32],
}

/// The file's contents (its format version is in its name): files sorted by path.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    files: Vec<(String, Known)>,
}

/// The cache of one run: what earlier runs remembered, and what this one learnt.
#[derive(Debug, Default)]
pub struct StatCache {
    /// Sorted by path.
    known: Vec<(String, Known)>,
    /// The file the new cache is written to, and the stamp of its creation: the file
    /// system's clock before anything was read. `None`: nothing can be remembered.
    pending: Option<(PathBuf, File, Stamp)>,
    learnt: Mutex<Vec<(String, Known)>>,
    trusted: AtomicUsize,
}

impl StatCache {
    /// The cache beside `rendered`. Call before reading anything of `rendered/`.
    pub fn open(rendered: &Path) -> StatCache {
        let Some(dir) = rendered.parent().map(|parent| parent.join(DIR)) else {
            return StatCache::default();
        };
        let known = std::fs::read(dir.join(FILE))
            .ok()
            .and_then(|bytes| postcard::from_bytes::<Stored>(&bytes).ok())
            .map(|stored| stored.files)
            .filter(|files| files.is_sorted_by(|a, b| a.0 < b.0))
            .unwrap_or_default();
        let pending = start_writing(&dir).ok();
        StatCache {
            known,
            pending,
            learnt: Mutex::default(),
            trusted: AtomicUsize::default(),
        }
    }

    /// The SHA-256 of the bytes `rel` holds, when the version on disk (`stamp`) is the
    /// one remembered.
    pub fn sha256(&self, rel: &str, stamp: &Stamp) -> Option<&[u8; 32]> {
        self.sha256_by_stamp(rel, || Some(*stamp))
    }

    /// [`StatCache::sha256`], taking the stamp (a `stat`) only when `rel` is remembered
    /// at all: one lookup, and no `stat` worth nothing.
    pub fn sha256_by_stamp(
        &self,
        rel: &str,
        stamp: impl FnOnce() -> Option<Stamp>,
    ) -> Option<&[u8; 32]> {
        let known = self.get(rel)?;
        (stamp()? == known.stamp).then(|| {
            self.trusted.fetch_add(1, Ordering::Relaxed);
            &known.sha256
        })
    }

    fn get(&self, rel: &str) -> Option<&Known> {
        let at = self
            .known
            .binary_search_by(|(path, _)| path.as_str().cmp(rel));
        at.ok().map(|i| &self.known[i].1)
    }

    /// Remembers that the version `stamp` of `rel`, read just now, holds bytes with this
    /// SHA-256, unless it was written too recently to be told apart from a later write.
    pub fn learn(&self, rel: &str, stamp: Stamp, sha256: impl FnOnce() -> [u8; 32]) {
        let Some((_, _, now)) = &self.pending else {
            return;
        };
        if stamp.before(now) && self.get(rel).is_none_or(|k| k.stamp != stamp) {
            let known = Known {
                stamp,
                sha256: sha256(),
            };
            let mut learnt = self.learnt.lock().unwrap_or_else(|p| p.into_inner());
            learnt.push((rel.to_owned(), known));
        }
    }

    /// How many files were known by their stat alone.
    pub fn trusted(&self) -> usize {
        self.trusted.load(Ordering::Relaxed)
    }

    /// Saves what this run learnt. `on_disk` says which of the remembered files still
    /// exist (files outside the compared part of `rendered/` are kept as they were); it
    /// is asked in path order, so that it can walk a sorted listing once. Failing to save
    /// only costs the next run a read.
    pub fn save(mut self, mut on_disk: impl FnMut(&str) -> Option<bool>) {
        let Some((temp, file, _)) = self.pending.take() else {
            return;
        };
        let mut learnt =
            std::mem::take(&mut *self.learnt.lock().unwrap_or_else(|p| p.into_inner()));
        if !worth_saving(self.known.len(), self.trusted(), learnt.len()) {
            let _ = std::fs::remove_file(&temp);
            return;
        }
        let mut kept = std::mem::take(&mut self.known);
        kept.retain(|(rel, _)| on_disk(rel) != Some(false));
        learnt.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let files = merge_by_path(kept, learnt);
        let saved = write_and_rename(&temp, file, &Stored { files });
        if saved.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
    }
}

/// Whether the cache is far enough from what this run found to be written again: with
/// `known` files remembered, `trusted` of them found as they were and `learnt` versions
/// read and learnt. Saving costs about as much as reading 1/32 of the files remembered
/// (500 apps: 5 ms to write 11,000 entries, against 15 µs to read and compare a file),
/// so a run that learnt a few files (the ones a re-render just changed) leaves the cache
/// as it is and the next run reads those few again; a cache that missed more than that
/// (files changed by hand, a new environment, removed files) is rewritten.
fn worth_saving(known: usize, trusted: usize, learnt: usize) -> bool {
    let off = learnt + (known - trusted.min(known));
    off > 0 && off * 32 >= known
}

/// Two lists sorted by path as one, in one pass; where both have a path, `newer`'s entry.
fn merge_by_path(older: Vec<(String, Known)>, newer: Vec<(String, Known)>) -> Vec<(String, Known)> {
    let mut merged = Vec::with_capacity(older.len() + newer.len());
    let mut newer = newer.into_iter().peekable();
    for (rel, known) in older {
        while let Some(next) = newer.next_if(|(path, _)| *path <= rel) {
            merged.push(next);
        }
        if merged.last().is_none_or(|(last, _)| *last != rel) {
            merged.push((rel, known));
        }
    }
    merged.extend(newer);
    merged
}

impl Drop for StatCache {
    /// A cache dropped unsaved (the run failed) leaves no temporary file behind.
    fn drop(&mut self) {
        if let Some((temp, _, _)) = self.pending.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Creates the cache directory (with its `.gitignore` and tag) and a new temporary file
/// in it; returns the file and the stamp of its creation.
fn start_writing(dir: &Path) -> io::Result<(PathBuf, File, Stamp)> {
    if !dir.join(".gitignore").exists() {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(".gitignore"), GITIGNORE)?;
        std::fs::write(dir.join("CACHEDIR.TAG"), CACHEDIR_TAG)?;
    }
    sweep_stale_temps(dir);
    let temp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    let file = File::create(&temp)?;
    match stamp_of(&file) {
        Ok(stamp) => Ok((temp, file, stamp)),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// How old another run's temporary file must be to be taken for the leftover of a run
/// that was killed (no run keeps one open for more than seconds).
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the temporary files of runs that ended without cleaning up (killed, or ended
/// by SIGPIPE when a reader went away): each would otherwise stay forever.
fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(FILE) && name.ends_with(".tmp")) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > STALE_TEMP) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes the new cache to its temporary file and renames it over the cache beside it.
fn write_and_rename(temp: &Path, mut file: File, stored: &Stored) -> io::Result<()> {
    let bytes = postcard::to_allocvec(stored).map_err(io::Error::other)?;
    file.write_all(&bytes)?;
    drop(file);
    std::fs::rename(temp, temp.with_file_name(FILE))
}

/// The stamp of an open file.
#[cfg(unix)]
pub fn stamp_of(file: &File) -> io::Result<Stamp> {
    Ok(Stamp::of(&rustix::fs::fstat(file)?))
}

#[cfg(not(unix))]
pub fn stamp_of(_: &File) -> io::Result<Stamp> {
    Err(io::Error::other("file stamps are only read on Unix"))
}

/// Writes a cache beside `rendered` that knows one version of one file, whether or not
/// that is true: for tests of what trusts the cache.
#[cfg(test)]
pub fn plant(rendered: &Path, rel: &str, stamp: Stamp, sha256: [u8; 32]) {
    let dir = rendered.parent().expect("rendered/ has a parent").join(DIR);
    std::fs::create_dir_all(&dir).expect("cache directory");
    let stored = Stored {
        files: vec![(rel.to_owned(), Known { stamp, sha256 })],
    };
    let bytes = postcard::to_allocvec(&stored).expect("cache serializes");
    std::fs::write(dir.join(FILE), bytes).expect("cache written");
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn stamp(modified: i64, changed: i64) -> Stamp {
        Stamp {
            dev: 1,
            ino: 2,
            size: 3,
            modified: (modified, 0),
            changed: (changed, 0),
        }
    }

    /// A version written a minute before `cache` began reading.
    fn a_minute_before(cache: &StatCache) -> Stamp {
        let now = cache.pending.as_ref().expect("cache can be written").2;
        Stamp {
            modified: (now.modified.0 - 60, 0),
            changed: (now.modified.0 - 60, 0),
            ..now
        }
    }

    #[test]
    fn only_versions_written_before_the_reading_began_are_remembered() {
        let now = stamp(100, 100);
        assert!(stamp(99, 99).before(&now));
        assert!(!stamp(100, 99).before(&now), "modified in the same tick");
        assert!(!stamp(99, 100).before(&now), "changed in the same tick");
        let elsewhere = Stamp {
            dev: 9,
            ..stamp(1, 1)
        };
        assert!(!elsewhere.before(&now), "another file system's clock");
    }

    #[test]
    fn a_cache_is_rewritten_only_when_it_missed_enough() {
        assert!(!worth_saving(0, 0, 0), "nothing to save");
        assert!(worth_saving(0, 0, 1), "a first run saves what it learnt");
        assert!(
            !worth_saving(11_000, 11_000, 0),
            "everything found as it was"
        );
        assert!(!worth_saving(11_000, 10_998, 3), "a re-render's few files");
        assert!(worth_saving(11_000, 10_000, 1_000), "many changed");
        assert!(worth_saving(11_000, 11_000, 400), "a new environment");
        assert!(worth_saving(11_000, 10_500, 0), "files removed");
    }

    #[test]
    fn merging_keeps_path_order_and_the_newer_entry() {
        let entry = |rel: &str, ino: u64| {
            let stamp = Stamp {
                dev: 1,
                ino,
                size: 0,
                modified: (0, 0),
                changed: (0, 0),
            };
            (
                rel.to_owned(),
                Known {
                    stamp,
                    sha256: [0; 32],
                },
            )
        };
        let older = vec![entry("a", 1), entry("c", 1), entry("e", 1)];
        let newer = vec![entry("0", 2), entry("c", 2), entry("d", 2), entry("f", 2)];
        let merged = merge_by_path(older, newer);
        let seen: Vec<(&str, u64)> = merged
            .iter()
            .map(|(r, k)| (r.as_str(), k.stamp.ino))
            .collect();
        assert_eq!(
            seen,
            [("0", 2), ("a", 1), ("c", 2), ("d", 2), ("e", 1), ("f", 2)]
        );
        assert!(merge_by_path(Vec::new(), Vec::new()).is_empty());
    }

    #[test]
    fn what_one_run_learns_the_next_trusts_and_a_corrupt_cache_is_empty() {
        let root = tempfile::tempdir().unwrap();
        let rendered = root.path().join("rendered");
        std::fs::create_dir_all(&rendered).unwrap();
        let first = StatCache::open(&rendered);
        let old = a_minute_before(&first);
        let other = Stamp {
            ino: old.ino + 1,
            ..old
        };
        let just_now = first.pending.as_ref().unwrap().2;
        assert_eq!(first.sha256("dev/a.yaml", &old), None);
        first.learn("dev/a.yaml", old, || [1; 32]);
        first.learn("dev/b.yaml", old, || [2; 32]);
        first.learn("dev/c.yaml", just_now, || [3; 32]);
        first.save(|_| Some(true));
        let ignore = std::fs::read_to_string(root.path().join(DIR).join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "*"), "{ignore}");

        let second = StatCache::open(&rendered);
        assert_eq!(second.sha256("dev/a.yaml", &old), Some(&[1; 32]));
        assert_eq!(second.sha256("dev/a.yaml", &other), None, "another version");
        assert_eq!(
            second.sha256("dev/c.yaml", &just_now),
            None,
            "written as it was read"
        );
        assert_eq!(second.trusted(), 1);
        let unknown = second.sha256_by_stamp("dev/z.yaml", || panic!("stat of an unknown file"));
        assert_eq!(unknown, None, "a file never learnt is not even stat'ed");
        assert_eq!(
            second.sha256_by_stamp("dev/a.yaml", || None),
            None,
            "no stat"
        );
        second.save(|rel| Some(rel != "dev/b.yaml"));

        let third = StatCache::open(&rendered);
        assert_eq!(third.sha256("dev/b.yaml", &old), None, "removed from disk");
        assert_eq!(third.sha256("dev/a.yaml", &old), Some(&[1; 32]));
        drop(third);

        std::fs::write(root.path().join(DIR).join(FILE), b"\xff\xff\xff garbage").unwrap();
        let corrupt = StatCache::open(&rendered);
        assert_eq!(corrupt.sha256("dev/a.yaml", &old), None);
        let leftovers: Vec<_> = std::fs::read_dir(root.path().join(DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert_eq!(leftovers.len(), 1, "only the open run's temporary file");
    }

    #[test]
    fn a_killed_runs_temporary_file_is_swept_once_stale_and_a_live_one_is_kept() {
        let root = tempfile::tempdir().unwrap();
        let rendered = root.path().join("rendered");
        std::fs::create_dir_all(&rendered).unwrap();
        drop(StatCache::open(&rendered));
        let dir = root.path().join(DIR);
        let stale = dir.join(format!("{FILE}.999999.tmp"));
        let live = dir.join(format!("{FILE}.999998.tmp"));
        let mine = dir.join("notes.tmp");
        for file in [&stale, &live, &mine] {
            std::fs::write(file, b"").unwrap();
        }
        let old = std::time::SystemTime::now() - STALE_TEMP * 2;
        for file in [&stale, &mine] {
            File::options()
                .write(true)
                .open(file)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let cache = StatCache::open(&rendered);
        assert!(!stale.exists(), "a killed run's file is swept");
        assert!(live.exists(), "another run's recent file is left alone");
        assert!(
            mine.exists(),
            "only the cache's own temporary files are touched"
        );
        drop(cache);
    }
}
