//! Writing a rendered repository: atomically, only inside the output folder, and without ever
//! deleting or changing a file Hafen did not write.
//!
//! The new tree is built in a sibling temporary folder. Files the user added to the output
//! folder are hard-linked into it (same inode: not changed, not copied). Then the temporary
//! folder and the output folder are exchanged in one `renameat2(RENAME_EXCHANGE)` call, so a
//! reader sees either the old or the new repository, never a mix; an interrupted run leaves
//! the old one in place and a temporary folder that the next run removes.
//! Hafen's own files are listed in `.hafen-manifest`; a folder without one is not Hafen's.

use hafen_render::{Repo, is_safe_relative_path};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::input::io_reason;

/// The ownership marker: one relative path per line, the files Hafen wrote, and (ending in
/// `/`) the folders Hafen created that still exist.
pub(crate) const MANIFEST: &str = ".hafen-manifest";

/// Counts for the closing message.
#[derive(Debug, Default)]
pub(crate) struct WriteSummary {
    pub(crate) added: usize,
    pub(crate) changed: usize,
    pub(crate) removed: usize,
    pub(crate) kept: usize,
}

fn io(what: &str, path: &Path, err: std::io::Error) -> String {
    format!("cannot {what} `{}`: {}", path.display(), io_reason(&err))
}

/// Hafen's files and folders in `out` per its manifest: (files, folders without the `/`).
fn read_manifest(out: &Path) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let text = fs::read_to_string(out.join(MANIFEST)).ok()?;
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        match line.strip_suffix('/') {
            Some(dir) => dirs.insert(dir.to_owned()),
            None => files.insert(line.to_owned()),
        };
    }
    Some((files, dirs))
}

fn manifest_text(repo: &Repo, dirs: &BTreeSet<String>) -> String {
    let mut text = String::from(
        "# Files written by `hafen render`, then the folders it created (ending in /). Hafen replaces or deletes only these; anything else here is yours.\n",
    );
    for path in repo.files.keys() {
        text.push_str(path);
        text.push('\n');
    }
    for dir in dirs {
        text.push_str(dir);
        text.push_str("/\n");
    }
    text
}

/// Every folder above a relative file path (`a/b/c.yaml` → `a`, `a/b`).
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Every entry under `root` as relative paths, without following symlinks: (files and links, dirs).
fn walk(root: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = fs::read_dir(&dir).map_err(|e| io("list", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io("list", &dir, e))?;
            let kind = entry.file_type().map_err(|e| io("inspect", &entry.path(), e))?;
            let child = rel.join(entry.file_name());
            let Some(text) = child.to_str().map(|s| s.replace('\\', "/")) else {
                return Err(format!("`{}` has a name that is not UTF-8", entry.path().display()));
            };
            if kind.is_dir() {
                dirs.push(text);
                stack.push(child);
            } else {
                files.push(text);
            }
        }
    }
    files.sort();
    dirs.sort();
    Ok((files, dirs))
}

fn sibling(out: &Path, tag: &str) -> Result<PathBuf, String> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("`{}` is not a usable folder name", out.display()))?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Ok(parent.join(format!(".{name}.hafen-{tag}-{}", std::process::id())))
}

/// Removes temporary folders left by interrupted runs.
fn clean_leftovers(out: &Path) {
    let (Some(name), Some(parent)) = (out.file_name().and_then(|n| n.to_str()), out.parent())
    else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    let Ok(entries) = fs::read_dir(parent) else { return };
    let prefix = format!(".{name}.hafen-");
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix))
            && entry.path().is_dir()
        {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Joins a validated relative path under `root`.
fn under(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if !is_safe_relative_path(rel) {
        return Err(format!("refusing to write `{rel}`: it would leave the output folder"));
    }
    let mut path = root.to_path_buf();
    for segment in rel.split('/') {
        path.push(segment);
    }
    Ok(path)
}

/// Writes `repo` into `out`, replacing Hafen's previous render atomically.
pub(crate) fn write_repo(out: &Path, repo: &Repo, force: bool) -> Result<WriteSummary, String> {
    let exists = match fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => return Err(format!("`{}` exists and is not a folder", out.display())),
        Err(_) => false,
    };
    let manifest = if exists { read_manifest(out) } else { None };
    let has_manifest = manifest.is_some();
    let (owned, owned_dirs) = manifest.unwrap_or_default();
    // Hafen's folders: those it recorded, and every folder its files were in.
    let mut owned_dirs = owned_dirs;
    owned_dirs.extend(owned.iter().flat_map(|f| parents(f)).map(str::to_owned));
    let (existing_files, existing_dirs) =
        if exists { walk(out)? } else { (Vec::new(), Vec::new()) };
    if exists && !has_manifest && !existing_files.is_empty() && !force {
        let sample: Vec<&str> = existing_files.iter().take(3).map(String::as_str).collect();
        return Err(format!(
            "refusing to render into `{}`: Hafen did not create it (no {MANIFEST}) and it holds files ({}{}); pass --force to render into it, your files will be kept untouched",
            out.display(),
            sample.join(", "),
            if existing_files.len() > 3 { ", ..." } else { "" }
        ));
    }
    let foreign: Vec<&String> =
        existing_files.iter().filter(|f| !owned.contains(*f) && f.as_str() != MANIFEST).collect();
    let clashes: Vec<&str> = foreign
        .iter()
        .filter(|f| repo.files.contains_key(f.as_str()))
        .map(|f| f.as_str())
        .collect();
    if !clashes.is_empty() {
        return Err(format!(
            "refusing to overwrite files Hafen did not write: {}; move or delete them first",
            clashes.join(", ")
        ));
    }

    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
    }
    clean_leftovers(out);
    let tmp = sibling(out, "tmp")?;
    let result = build_tree(&tmp, out, repo, &foreign, &existing_dirs, &owned_dirs);
    if let Err(message) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(message);
    }
    let mut summary = WriteSummary { kept: foreign.len(), ..Default::default() };
    for (path, content) in &repo.files {
        match fs::read(out.join(path)) {
            Ok(old) if old == content.as_bytes() => {}
            Ok(_) => summary.changed += 1,
            Err(_) => summary.added += 1,
        }
    }
    summary.removed = owned.iter().filter(|p| !repo.files.contains_key(p.as_str())).count();
    swap(&tmp, out, exists)?;
    Ok(summary)
}

fn build_tree(
    tmp: &Path,
    out: &Path,
    repo: &Repo,
    foreign: &[&String],
    existing_dirs: &[String],
    owned_dirs: &BTreeSet<String>,
) -> Result<(), String> {
    fs::create_dir(tmp).map_err(|e| io("create", tmp, e))?;
    for (rel, content) in &repo.files {
        let path = under(tmp, rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        fs::write(&path, content).map_err(|e| io("write", &path, e))?;
    }
    // Keep the user's folders (even empty ones, such as `.git/refs/tags`) and files. A folder
    // Hafen created stays Hafen's: it exists in the new tree only if something still lives in
    // it (a rendered file, a file or folder of the user's), so removing a tenant leaves no
    // empty folders behind, and no folder holding the user's files is ever removed.
    for dir in existing_dirs {
        if !owned_dirs.contains(dir) {
            let path = tmp.join(dir);
            fs::create_dir_all(&path).map_err(|e| io("create", &path, e))?;
        }
    }
    for rel in foreign {
        let from = out.join(rel.as_str());
        let to = tmp.join(rel.as_str());
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        let meta = fs::symlink_metadata(&from).map_err(|e| io("inspect", &from, e))?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&from).map_err(|e| io("read link", &from, e))?;
            symlink(&target, &to).map_err(|e| io("recreate link", &to, e))?;
        } else if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).map_err(|e| io("keep", &from, e))?;
        }
    }
    // Hafen's folders in the new tree: those of its files, and its earlier folders that the
    // user's files or folders keep alive (still Hafen's, so they go once they are empty).
    let (_, dirs) = walk(tmp)?;
    let mine: BTreeSet<String> = dirs
        .into_iter()
        .filter(|d| {
            owned_dirs.contains(d)
                || repo
                    .files
                    .keys()
                    .any(|f| f.starts_with(d.as_str()) && f[d.len()..].starts_with('/'))
        })
        .collect();
    fs::write(tmp.join(MANIFEST), manifest_text(repo, &mine))
        .map_err(|e| io("write", &tmp.join(MANIFEST), e))?;
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("symbolic links are not supported on this platform"))
}

fn swap(tmp: &Path, out: &Path, exists: bool) -> Result<(), String> {
    if !exists {
        return fs::rename(tmp, out).map_err(|e| io("move into place", out, e));
    }
    #[cfg(target_os = "linux")]
    {
        if rustix::fs::renameat_with(
            rustix::fs::CWD,
            tmp,
            rustix::fs::CWD,
            out,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .is_ok()
        {
            let _ = fs::remove_dir_all(tmp);
            return Ok(());
        }
    }
    // Without an atomic exchange: two renames, the old tree kept until the new one is in place.
    let old = sibling(out, "old")?;
    fs::rename(out, &old).map_err(|e| io("move aside", out, e))?;
    if let Err(e) = fs::rename(tmp, out) {
        let _ = fs::rename(&old, out);
        return Err(io("move into place", out, e));
    }
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// One difference between the folder and the render.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Added(String),
    Changed(String, usize),
    Removed(String),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Added(p) => write!(f, "missing  {p}"),
            Change::Changed(p, line) => write!(f, "changed  {p} (first difference at line {line})"),
            Change::Removed(p) => write!(f, "stale    {p} (no longer rendered)"),
        }
    }
}

/// Differences between `out` and `repo`, for `render --check`. Files Hafen does not own are
/// ignored.
pub(crate) fn drift(out: &Path, repo: &Repo) -> Result<Vec<Change>, String> {
    if !out.is_dir() {
        return Ok(repo.files.keys().cloned().map(Change::Added).collect());
    }
    let (owned, _) = read_manifest(out).unwrap_or_default();
    let mut changes = Vec::new();
    for (path, content) in &repo.files {
        match fs::read_to_string(under(out, path)?) {
            Err(_) => changes.push(Change::Added(path.clone())),
            Ok(disk) if disk != *content => {
                let line = disk
                    .lines()
                    .zip(content.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| disk.lines().count().min(content.lines().count()))
                    + 1;
                changes.push(Change::Changed(path.clone(), line));
            }
            Ok(_) => {}
        }
    }
    for path in owned {
        if !repo.files.contains_key(&path) && out.join(&path).exists() {
            changes.push(Change::Removed(path));
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hafen-write-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn folders_emptied_by_a_render_go_and_folders_with_the_users_files_stay() {
        let dir = scratch("empty-dirs");
        let out = dir.join("repo");
        let mut repo = Repo::default();
        repo.files.insert("README.md".into(), "# r\n".into());
        repo.files.insert("tenants/old/base/app.yaml".into(), "a: 1\n".into());
        repo.files.insert("tenants/kept/base/app.yaml".into(), "a: 1\n".into());
        repo.files.insert("tenants/mixed/base/app.yaml".into(), "a: 1\n".into());
        write_repo(&out, &repo, false).unwrap();
        // The user's own files and an empty folder of the user's inside Hafen's folders.
        fs::write(out.join("tenants/mixed/NOTES.md"), "mine\n").unwrap();
        fs::create_dir_all(out.join("tenants/old/base/scratch")).unwrap();
        fs::create_dir_all(out.join("mine/empty")).unwrap();

        repo.files.remove("tenants/old/base/app.yaml");
        repo.files.remove("tenants/mixed/base/app.yaml");
        let summary = write_repo(&out, &repo, false).unwrap();
        assert_eq!(summary.removed, 2);
        assert!(out.join("tenants/kept/base/app.yaml").exists());
        // `tenants/mixed/base` held only Hafen's file: gone; `tenants/mixed` holds the user's.
        assert!(!out.join("tenants/mixed/base").exists(), "an emptied Hafen folder is left behind");
        assert_eq!(fs::read_to_string(out.join("tenants/mixed/NOTES.md")).unwrap(), "mine\n");
        // The user's empty folder keeps its parents.
        assert!(out.join("tenants/old/base/scratch").is_dir());
        assert!(out.join("mine/empty").is_dir());

        // Without the user's folder, the whole emptied tenant goes.
        fs::remove_dir(out.join("tenants/old/base/scratch")).unwrap();
        write_repo(&out, &repo, false).unwrap();
        assert!(!out.join("tenants/old").exists(), "{:?}", walk(&out).unwrap());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn unsafe_paths_are_refused_even_if_a_renderer_produced_them() {
        for bad in ["../escape.yaml", "/etc/passwd", "a/../../b", "a\\b", "a//b", "./a", "a/\0b"] {
            assert!(under(Path::new("/tmp/x"), bad).is_err(), "{bad:?} must be refused");
        }
        let dir = scratch("unsafe");
        let mut repo = Repo::default();
        repo.files.insert("ok.yaml".into(), "a: 1\n".into());
        repo.files.insert("../escape.yaml".into(), "pwned\n".into());
        let out = dir.join("repo");
        assert!(write_repo(&out, &repo, false).is_err());
        assert!(!dir.join("escape.yaml").exists());
        assert!(!out.exists(), "nothing half-written");
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert!(leftovers.is_empty(), "temporary folder removed: {leftovers:?}");
    }

    #[test]
    fn stale_owned_files_are_removed_and_foreign_ones_kept() {
        let dir = scratch("stale");
        let out = dir.join("repo");
        let mut repo = Repo::default();
        repo.files.insert("a/one.yaml".into(), "1\n".into());
        repo.files.insert("a/two.yaml".into(), "2\n".into());
        write_repo(&out, &repo, false).unwrap();
        fs::write(out.join("a/mine.yaml"), "mine\n").unwrap();
        repo.files.remove("a/two.yaml");
        let summary = write_repo(&out, &repo, false).unwrap();
        assert_eq!(summary.removed, 1);
        assert_eq!(summary.kept, 1);
        assert!(!out.join("a/two.yaml").exists());
        assert_eq!(fs::read_to_string(out.join("a/mine.yaml")).unwrap(), "mine\n");
        assert_eq!(drift(&out, &repo).unwrap(), Vec::new());
    }
}
