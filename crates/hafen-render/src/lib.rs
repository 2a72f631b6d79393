//! The renderer: platform in, repository out, as an ordered map of relative path → bytes.
//!
//! Rendering is pure and deterministic: the same platform gives the same bytes. Paths are built
//! only from validated DNS-label names and fixed segments, and [`Repo::insert`] refuses any
//! path that could leave the output folder, so no spec can make the writer escape it.

use hafen_diag::Diagnostic;
use hafen_spec::LoadedPlatform;
use std::collections::BTreeMap;

/// A rendered repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repo {
    /// Relative path (forward slashes) → file content.
    pub files: BTreeMap<String, String>,
}

impl Repo {
    /// Adds a file. Panics never; returns false (and adds nothing) for an unsafe path.
    pub fn insert(&mut self, path: String, content: String) -> bool {
        if !is_safe_relative_path(&path) {
            return false;
        }
        self.files.insert(path, content);
        true
    }
}

/// True for `a/b/c.yaml`-style paths: no absolute paths, no `.`/`..` segments, no empty
/// segments, no backslashes, no control characters.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Renders the platform.
pub fn render(loaded: &LoadedPlatform) -> Result<Repo, Vec<Diagnostic>> {
    let mut repo = Repo::default();
    repo.insert("README.md".into(), format!("# {}\n", loaded.platform.metadata.name));
    Ok(repo)
}
