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
    /// The stack directory as committed at `rev`, once `rev` is known to name a commit:
    /// `Err` (a message naming `rev`) for the null id, a tree or blob (`HEAD:stack.toml`),
    /// a name that resolves to nothing, or a directory outside a Git repository. Without
    /// this check every read would fail as "not found" and the base would look empty.
    pub fn git(dir: PathBuf, rev: &str) -> Result<Source, String> {
        if is_null_id(rev) {
            return Err(format!(
                "`{rev}` is the null object id (what Git reports as the `before` of a new \
                 branch), not a commit; diff against the default branch instead, e.g. \
                 `--base origin/main`"
            ));
        }
        let resolves = |spec: &str| -> Result<bool, String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["rev-parse", "--verify", "--quiet", spec])
                .output()
                .map_err(|e| format!("cannot run git: {e}"))?;
            // --quiet: a spec naming nothing fails with status 1 and no message.
            match (out.status.code(), out.stderr.is_empty()) {
                (Some(0), _) => Ok(true),
                (Some(1), true) => Ok(false),
                _ => Err(format!(
                    "`{rev}`: cannot resolve it in {}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
            }
        };
        if resolves(&format!("{rev}^{{commit}}"))? {
            return Ok(Source::Git {
                dir,
                rev: rev.to_owned(),
            });
        }
        Err(if resolves(rev)? {
            format!(
                "`{rev}` is not a commit (it names a file or directory inside one); give a \
                 commit, branch or tag, e.g. `--base HEAD~1`"
            )
        } else {
            format!(
                "`{rev}` names no commit of the repository at {}; give a commit, branch or \
                 tag, e.g. `--base origin/main` (`git fetch` it first if it is remote)",
                dir.display()
            )
        })
    }

    /// The text of `rel` (a `/`-separated path inside the stack directory); bytes that
    /// are not UTF-8 are an `InvalidData` error.
    pub fn read(&self, rel: &str) -> io::Result<String> {
        String::from_utf8(self.read_bytes(rel)?)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))
    }

    /// The bytes of `rel`, whatever their encoding.
    pub fn read_bytes(&self, rel: &str) -> io::Result<Vec<u8>> {
        match self {
            Source::Dir(dir) => std::fs::read(dir.join(rel)),
            Source::Git { dir, rev } => git(dir, &["show", &format!("{rev}:./{rel}")]),
            Source::Patched { base, files } => match files.get(rel) {
                Some(text) => Ok(text.clone().into_bytes()),
                None => base.read_bytes(rel),
            },
        }
    }

    /// File names directly inside `rel_dir` (empty when it does not exist).
    pub fn list(&self, rel_dir: &str) -> io::Result<Vec<String>> {
        self.entries(rel_dir, true)
    }

    /// Names of every entry directly inside `rel_dir`, directories included: a
    /// directory where a file belongs is then reported when it is read, not taken as absent.
    pub fn list_all(&self, rel_dir: &str) -> io::Result<Vec<String>> {
        self.entries(rel_dir, false)
    }

    fn entries(&self, rel_dir: &str, files_only: bool) -> io::Result<Vec<String>> {
        let mut names = match self {
            Source::Dir(dir) => match std::fs::read_dir(dir.join(rel_dir)) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .filter(|e| !files_only || e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            },
            Source::Git { dir, rev } => text(git(
                dir,
                &["ls-tree", "--name-only", rev, &format!("./{rel_dir}/")],
            )?)?
            .lines()
            .filter_map(|path| path.rsplit('/').next())
            .map(str::to_owned)
            .collect(),
            Source::Patched { base, .. } => base.entries(rel_dir, files_only)?,
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

/// Git's null object id (SHA-1 or SHA-256), which names no object.
fn is_null_id(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.bytes().all(|b| b == b'0')
}

/// Where `dir` sits in its Git work tree: `""` at the top, `platform/conveyor/` in a
/// directory of it; `None` outside a work tree (or without git).
pub fn repo_prefix(dir: &Path) -> Option<String> {
    let out = git(dir, &["rev-parse", "--show-prefix"]).ok()?;
    Some(text(out).ok()?.trim_end_matches('\n').to_owned())
}

/// Output of a git command as text.
fn text(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(io::Error::other)
}

/// Runs git in `dir`; its standard output, or its error message.
fn git(dir: &Path, args: &[&str]) -> io::Result<Vec<u8>> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output()?;
    if out.status.success() {
        Ok(out.stdout)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_null_id_is_forty_or_sixty_four_zeros() {
        assert!(is_null_id(&"0".repeat(40)));
        assert!(is_null_id(&"0".repeat(64)));
        assert!(!is_null_id("0000000"));
        assert!(!is_null_id(&format!("{}1", "0".repeat(39))));
    }
}
