//! What `rendered/` holds on disk: every file's `/`-separated path, listed in name
//! order, and reading a file through its open directory (`openat` on Unix). Reading
//! relative to the directory resolves one path component instead of the whole path:
//! with thousands of small files, path lookup is a third of the kernel's time.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::statcache::Stamp;

/// The files under a directory of `rendered/`.
#[derive(Debug, Default)]
pub struct OnDisk {
    dirs: Vec<Dir>,
    pub files: Vec<DiskFile>,
    /// How many directories may be held open (the rest are read by whole paths).
    held: usize,
}

/// Directories held open at most: far below the usual limit of 1,024 descriptors, so
/// that the files read meanwhile can always be opened.
const MAX_HELD_DIRS: usize = 256;

#[derive(Debug)]
struct Dir {
    path: PathBuf,
    /// The directory, open; `None` when it could not be opened (out of descriptors, or
    /// not Unix), in which case its files are opened by their full path.
    handle: Option<File>,
}

/// One file on disk.
#[derive(Debug)]
pub struct DiskFile {
    /// Path relative to the listed root's base (`rendered/`), `/`-separated.
    pub rel: String,
    dir: usize,
    name: OsString,
}

impl OnDisk {
    /// Every file below `base`, its path given relative to `rendered` (an ancestor of
    /// `base`, or `base` itself). Nothing when `base` does not exist.
    pub fn list(rendered: &Path, base: &Path) -> io::Result<OnDisk> {
        Self::list_holding(rendered, base, MAX_HELD_DIRS)
    }

    /// Adds every file below `base` (as [`OnDisk::list`] lists them) to this listing.
    pub fn add(&mut self, rendered: &Path, base: &Path) -> io::Result<()> {
        self.walk(base.to_path_buf(), relative(base, rendered)?)
    }

    /// [`OnDisk::list`], holding at most `held` directories open.
    fn list_holding(rendered: &Path, base: &Path, held: usize) -> io::Result<OnDisk> {
        let mut on_disk = OnDisk {
            held,
            ..OnDisk::default()
        };
        if base.exists() {
            on_disk.walk(base.to_path_buf(), relative(base, rendered)?)?;
        }
        Ok(on_disk)
    }

    /// Depth first, each directory's entries in file-name order.
    fn walk(&mut self, path: PathBuf, rel: String) -> io::Result<()> {
        let dir = self.dirs.len();
        for (name, is_dir) in self.enter(path)? {
            let rel = child(&rel, &name);
            if is_dir {
                let path = self.dirs[dir].path.join(&name);
                self.walk(path, rel)?;
            } else {
                self.files.push(DiskFile { rel, dir, name });
            }
        }
        Ok(())
    }

    /// Opens a directory as the next of `dirs`: its entries (name, is a directory) in
    /// file-name order.
    fn enter(&mut self, path: PathBuf) -> io::Result<Vec<(OsString, bool)>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&path).map_err(|e| context(e, &path))? {
            let entry = entry.map_err(|e| context(e, &path))?;
            let is_dir = entry.file_type().map_err(|e| context(e, &path))?.is_dir();
            entries.push((entry.file_name(), is_dir));
        }
        entries.sort();
        let handle = (self.dirs.len() < self.held)
            .then(|| open_dir(&path))
            .flatten();
        self.dirs.push(Dir { path, handle });
        Ok(entries)
    }

    /// The full path of a file, for messages and for writing.
    pub fn path(&self, file: &DiskFile) -> PathBuf {
        self.dirs[file.dir].path.join(&file.name)
    }

    /// The stamp of the version of a file on disk (`stat` through its directory).
    #[cfg(unix)]
    pub fn stamp(&self, file: &DiskFile) -> io::Result<Stamp> {
        let stat = match &self.dirs[file.dir].handle {
            Some(handle) => rustix::fs::statat(handle, &file.name, rustix::fs::AtFlags::empty())?,
            None => rustix::fs::stat(self.path(file))?,
        };
        Ok(Stamp::of(&stat))
    }

    #[cfg(not(unix))]
    pub fn stamp(&self, _: &DiskFile) -> io::Result<Stamp> {
        Err(io::Error::other("file stamps are only read on Unix"))
    }

    /// Opens a file for reading (errors say nothing of the path: see [`OnDisk::path`]).
    pub fn open(&self, file: &DiskFile) -> io::Result<File> {
        match &self.dirs[file.dir].handle {
            Some(handle) => open_in(handle, &file.name),
            None => File::open(self.path(file)),
        }
    }
}

#[cfg(unix)]
fn open_dir(path: &Path) -> Option<File> {
    File::open(path).ok()
}

#[cfg(not(unix))]
fn open_dir(_: &Path) -> Option<File> {
    None
}

#[cfg(unix)]
fn open_in(dir: &File, name: &std::ffi::OsStr) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    Ok(File::from(fd))
}

#[cfg(not(unix))]
fn open_in(_: &File, _: &std::ffi::OsStr) -> io::Result<File> {
    unreachable!("directories are only held open on Unix")
}

/// The `/`-separated path of `name` in the directory at `rel` (`""`: the root).
fn child(rel: &str, name: &std::ffi::OsStr) -> String {
    let name = name.to_string_lossy();
    if rel.is_empty() {
        name.into_owned()
    } else {
        format!("{rel}/{name}")
    }
}

/// `path` below `base`, `/`-separated on every platform.
fn relative(path: &Path, base: &Path) -> io::Result<String> {
    let rel = path.strip_prefix(base).map_err(io::Error::other)?;
    let text = rel.to_string_lossy();
    Ok(if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    })
}

fn context(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("reading {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary directory holding these (path, text) files.
    fn holding(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn lists_every_file_in_name_order_and_reads_it_through_its_directory() {
        let root = holding(&[("dev/b/x.yaml", "x"), ("dev/a.yaml", "a"), ("dev/c", "c")]);
        std::fs::create_dir_all(root.path().join("dev/empty")).unwrap();
        let on_disk = OnDisk::list(root.path(), &root.path().join("dev")).unwrap();
        let rels: Vec<&str> = on_disk.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["dev/a.yaml", "dev/b/x.yaml", "dev/c"]);
        let read = |f: &DiskFile| std::io::read_to_string(on_disk.open(f).unwrap()).unwrap();
        let texts: Vec<String> = on_disk.files.iter().map(read).collect();
        assert_eq!(texts, ["a", "x", "c"]);
        assert_eq!(
            on_disk.path(&on_disk.files[1]),
            root.path().join("dev/b/x.yaml")
        );
    }

    #[test]
    fn directories_beyond_the_held_limit_are_read_by_whole_paths() {
        let root = holding(&[("a/1.yaml", "1"), ("b/2.yaml", "2"), ("c/3.yaml", "3")]);
        let on_disk = OnDisk::list_holding(root.path(), root.path(), 2).unwrap();
        let held = on_disk.dirs.iter().filter(|d| d.handle.is_some()).count();
        assert!(held <= 2, "{held} directories held open");
        let read = |f: &DiskFile| std::io::read_to_string(on_disk.open(f).unwrap()).unwrap();
        let texts: Vec<String> = on_disk.files.iter().map(read).collect();
        assert_eq!(texts, ["1", "2", "3"]);
    }

    #[test]
    fn a_missing_base_lists_nothing_and_a_vanished_file_is_not_found() {
        let root = tempfile::tempdir().unwrap();
        assert!(
            OnDisk::list(root.path(), &root.path().join("nope"))
                .unwrap()
                .files
                .is_empty()
        );
        std::fs::write(root.path().join("gone.yaml"), "g").unwrap();
        let on_disk = OnDisk::list(root.path(), root.path()).unwrap();
        std::fs::remove_file(root.path().join("gone.yaml")).unwrap();
        let error = on_disk.open(&on_disk.files[0]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
