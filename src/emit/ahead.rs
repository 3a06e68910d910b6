//! Environments rendered from nothing, written ahead: creating thousands of files is
//! most of a first render, and the kernel can do it for one environment while the
//! others still compile. Each environment whose `rendered/<env>` does not exist is
//! written into its temporary directory as soon as emit has made it (and `rendered/`
//! has been listed, so that the listing does not see it); the write at the end renames
//! it into place with the rest, and a render that fails removes it: what is visible in
//! `rendered/` is the same as without this, only sooner.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::RenderedTree;
use super::writer::{self, Prestaged};

/// What a render has written ahead so far.
pub struct Ahead {
    rendered: PathBuf,
    /// Whether the survey has listed `rendered/`.
    listed: AtomicBool,
    staged: Mutex<Vec<Prestaged>>,
}

impl Ahead {
    pub fn new(rendered: &Path) -> Ahead {
        Ahead {
            rendered: rendered.to_path_buf(),
            listed: AtomicBool::new(false),
            staged: Mutex::new(Vec::new()),
        }
    }

    /// The survey has listed `rendered/`: from now on environments may be written ahead.
    pub fn listed(&self) {
        self.listed.store(true, Ordering::Release);
    }

    /// Writes environment `env` ahead when it is new and the listing is done. A failure
    /// here only means the write at the end does it (and reports what fails then).
    pub fn stage(&self, env: &str, tree: &RenderedTree) {
        if !self.listed.load(Ordering::Acquire) {
            return;
        }
        if let Ok(Some(staged)) = writer::prestage(&self.rendered, env, tree) {
            self.staged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(staged);
        }
    }

    /// What was written ahead, for [`writer::write_prestaged`] (or to abandon).
    pub fn into_staged(self) -> Vec<Prestaged> {
        self.staged.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}
