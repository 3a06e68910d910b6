//! Where load reads the stack's files from: a directory on disk, or a Git revision
//! (`stackc diff --base <ref>` compiles the sources as they were at that ref without
//! checking anything out).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A readable set of stack sources.
#[derive(Clone, Debug)]
pub enum Source {
    /// The stack directory on disk.
    Dir(PathBuf),
    /// The stack directory as committed at `rev` of the Git repository it is in.
    Git { dir: PathBuf, rev: String },
    /// Another source with some files replaced in memory (`promote --dry-run`).
    Patched {
        base: Box<Source>,
        files: std::collections::BTreeMap<String, String>,
    },
}

impl Source {
    /// The text of `rel` (a `/`-separated path inside the stack directory).
    pub fn read(&self, rel: &str) -> io::Result<String> {
        match self {
            Source::Dir(dir) => std::fs::read_to_string(dir.join(rel)),
            Source::Git { dir, rev } => git(dir, &["show", &format!("{rev}:./{rel}")]),
            Source::Patched { base, files } => match files.get(rel) {
                Some(text) => Ok(text.clone()),
                None => base.read(rel),
            },
        }
    }

    /// File names directly inside `rel_dir` (empty when it does not exist).
    pub fn list(&self, rel_dir: &str) -> io::Result<Vec<String>> {
        let mut names = match self {
            Source::Dir(dir) => match std::fs::read_dir(dir.join(rel_dir)) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            },
            Source::Git { dir, rev } => git(
                dir,
                &["ls-tree", "--name-only", rev, &format!("./{rel_dir}/")],
            )?
            .lines()
            .filter_map(|path| path.rsplit('/').next())
            .map(str::to_owned)
            .collect(),
            Source::Patched { base, .. } => base.list(rel_dir)?,
        };
        names.sort();
        Ok(names)
    }

    /// How a file of this source is named in diagnostics.
    pub fn display(&self, rel: &str) -> String {
        match self {
            Source::Dir(_) => rel.to_owned(),
            Source::Git { rev, .. } => format!("{rev}:{rel}"),
            Source::Patched { base, .. } => base.display(rel),
        }
    }

    /// The stack directory, for messages.
    pub fn dir(&self) -> &Path {
        match self {
            Source::Dir(dir) | Source::Git { dir, .. } => dir,
            Source::Patched { base, .. } => base.dir(),
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> io::Result<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output()?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(io::Error::other)
    } else {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let kind = if message.contains("does not exist")
            || message.contains("exists on disk, but not in")
        {
            io::ErrorKind::NotFound
        } else {
            io::ErrorKind::Other
        };
        Err(io::Error::new(
            kind,
            format!("git {}: {message}", args.join(" ")),
        ))
    }
}
