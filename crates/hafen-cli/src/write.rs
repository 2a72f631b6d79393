//! Writing a rendered repository: atomically, only inside the output folder, and without ever
//! deleting or changing a file Hafen did not write.
//!
//! The new tree is built in a sibling temporary folder. Files the user added to the output
//! folder are hard-linked into it (same inode: not changed, not copied). Then the temporary
//! folder and the output folder are exchanged in one `renameat2(RENAME_EXCHANGE)` call, so a
//! reader sees either the old or the new repository, never a mix; an interrupted run leaves
//! the old one in place and a temporary folder that the next run removes.
//! Hafen's own files are listed in `.hafen-manifest`; a folder without one is not Hafen's,
//! and unless it is empty (or --force says so) it is refused before anything below it is
//! read. The file system root, system folders and the home folder are refused even then.
//! Files that did not change are linked from the old tree rather than written again.

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
    let name = out.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        format!(
            "cannot render into `{}`: Hafen builds the new repository in a folder beside the output folder and swaps the two, so --out must end in the folder's own name (not `/`, `.` or `..`); for example `--out platform-repo`",
            out.display()
        )
    })?;
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

/// Why `out` cannot be the output folder at all, told before anything is read below it: a
/// symbolic link (the swap would replace the link, not write where it points), a file.
fn not_a_folder(out: &Path, meta: &fs::Metadata) -> String {
    if !meta.file_type().is_symlink() {
        return format!(
            "`{}` is a file, not a folder; choose another --out, or move the file away",
            out.display()
        );
    }
    let target = match fs::read_link(out) {
        Ok(target) => target,
        Err(e) => return io("read link", out, e),
    };
    // Where the link leads, as a path the user can pass: relative targets are relative to
    // the link's folder.
    let resolved = fs::canonicalize(out).unwrap_or_else(|_| match out.parent() {
        Some(parent) if target.is_relative() => parent.join(&target),
        _ => target.clone(),
    });
    let what = match fs::metadata(out) {
        Ok(meta) if meta.is_dir() => "a folder",
        Ok(_) => "a file",
        Err(_) => "nothing (the link is broken)",
    };
    format!(
        "`{}` is a symbolic link to `{}` ({what}); Hafen does not render through links, because it replaces the output folder as a whole and would replace the link itself. Pass the folder the link points to, `--out {}`, or remove the link (`rm {}`) to render a new folder in its place",
        out.display(),
        target.display(),
        resolved.display(),
        out.display(),
    )
}

/// Folders no render may go into, even with --force: Hafen lists every file below the
/// output folder, links the ones it keeps into a new tree and swaps the trees, so the file
/// system root, a folder at its top, a system folder or a home folder would mean reading,
/// linking and re-creating all of it.
fn too_wide(out: &Path) -> Option<String> {
    let real = fs::canonicalize(out).ok()?;
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| fs::canonicalize(PathBuf::from(h)).ok());
    too_wide_reason(&real, home.as_deref()).map(|reason| {
        let example = home.as_deref().unwrap_or(Path::new(".")).join("platform-repo");
        format!(
            "refusing to render into `{}`: {reason}; choose a folder of its own for the repository, for example `--out {}`",
            out.display(),
            example.display()
        )
    })
}

/// Folders of the operating system, which no platform repository lives in.
#[cfg(unix)]
const SYSTEM: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys",
    "/usr",
];
#[cfg(not(unix))]
const SYSTEM: &[&str] = &[];

/// Why the folder at the canonical path `real` is too wide to render into, given the
/// canonical home folder.
fn too_wide_reason(real: &Path, home: Option<&Path>) -> Option<String> {
    let depth = real.components().filter(|c| matches!(c, std::path::Component::Normal(_))).count();
    if depth == 0 {
        return Some("it is the root of the file system".into());
    }
    if let Some(system) = SYSTEM.iter().map(Path::new).find(|s| real.starts_with(s)) {
        return Some(if real == system {
            "it is a folder of the operating system".into()
        } else {
            format!("it is inside `{}`, a folder of the operating system", system.display())
        });
    }
    if let Some(home) = home.filter(|h| h.starts_with(real)) {
        return Some(if real == home {
            "it is your home folder".into()
        } else {
            format!("it is a folder above your home folder `{}`", home.display())
        });
    }
    (depth == 1).then(|| "it is a folder at the top of the file system".into())
}

/// The names at the top of `out`, sorted, and how many there are: enough to show the user
/// what is there without reading further down.
fn top_entries(out: &Path) -> Result<(Vec<String>, usize), String> {
    let mut names = Vec::new();
    let mut count = 0;
    for entry in fs::read_dir(out).map_err(|e| io("list", out, e))? {
        let entry = entry.map_err(|e| io("list", out, e))?;
        count += 1;
        // Only a sample is shown; a folder with a million entries need not be held in memory.
        if names.len() < 1000 {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok((names, count))
}

/// Writes `repo` into `out`, replacing Hafen's previous render atomically.
pub(crate) fn write_repo(out: &Path, repo: &Repo, force: bool) -> Result<WriteSummary, String> {
    let exists = match fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => true,
        Ok(meta) => return Err(not_a_folder(out, &meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io("inspect", out, e)),
    };
    // Everything that can refuse the folder is decided before anything below it is read.
    if exists && let Some(message) = too_wide(out) {
        return Err(message);
    }
    sibling(out, "tmp")?;
    let manifest = if exists { read_manifest(out) } else { None };
    let has_manifest = manifest.is_some();
    if exists && !has_manifest && !force {
        let (names, count) = top_entries(out)?;
        if count > 0 {
            let sample: Vec<String> = names.iter().take(3).map(|n| format!("`{n}`")).collect();
            return Err(format!(
                "refusing to render into `{}`: it is not empty ({}{}) and it is not a repository Hafen rendered (there is no {MANIFEST}). Render into a new or empty folder, for example `--out {}`; or, if this is the repository the platform belongs in, pass --force: Hafen adds its files and keeps every file already there untouched",
                out.display(),
                sample.join(", "),
                if count > 3 { format!(" and {} more", count - 3) } else { String::new() },
                out.join("platform-repo").display(),
            ));
        }
    }
    let (owned, owned_dirs) = manifest.unwrap_or_default();
    // Hafen's folders: those it recorded, and every folder its files were in.
    let mut owned_dirs = owned_dirs;
    owned_dirs.extend(owned.iter().flat_map(|f| parents(f)).map(str::to_owned));
    let (existing_files, existing_dirs) =
        if exists { walk(out)? } else { (Vec::new(), Vec::new()) };
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
    let mut summary = WriteSummary { kept: foreign.len(), ..Default::default() };
    let result = build_tree(&tmp, out, repo, &foreign, &existing_dirs, &owned_dirs, &mut summary);
    if let Err(message) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(message);
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
    summary: &mut WriteSummary,
) -> Result<(), String> {
    fs::create_dir(tmp).map_err(|e| io("create", tmp, e))?;
    let mut made = Folders { root: tmp, made: BTreeSet::new() };
    for (rel, content) in &repo.files {
        let path = under(tmp, rel)?;
        made.parents_of(rel)?;
        // An unchanged file is linked, not written again: a render that changes nothing
        // writes no file data, and the old tree's removal frees none. Only a regular file is
        // linked; anything else in its place (a link, a folder) is replaced by the new file.
        let old = under(out, rel)?;
        let unchanged = match fs::symlink_metadata(&old) {
            Ok(meta) if meta.is_file() => match fs::read(&old) {
                Ok(bytes) if bytes == content.as_bytes() => true,
                _ => {
                    summary.changed += 1;
                    false
                }
            },
            Ok(_) => {
                summary.changed += 1;
                false
            }
            Err(_) => {
                summary.added += 1;
                false
            }
        };
        if !(unchanged && fs::hard_link(&old, &path).is_ok()) {
            fs::write(&path, content).map_err(|e| io("write", &path, e))?;
        }
    }
    // Keep the user's folders (even empty ones, such as `.git/refs/tags`) and files. A folder
    // Hafen created stays Hafen's: it exists in the new tree only if something still lives in
    // it (a rendered file, a file or folder of the user's), so removing a tenant leaves no
    // empty folders behind, and no folder holding the user's files is ever removed.
    for dir in existing_dirs {
        if !owned_dirs.contains(dir) {
            made.parents_of(dir)?;
            made.folder(dir)?;
        }
    }
    for rel in foreign {
        let from = out.join(rel.as_str());
        let to = tmp.join(rel.as_str());
        made.parents_of(rel)?;
        let meta = fs::symlink_metadata(&from).map_err(|e| io("inspect", &from, e))?;
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&from).map_err(|e| io("read link", &from, e))?;
            symlink(&target, &to).map_err(|e| io("recreate link", &to, e))?;
        } else if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to).map_err(|e| io("keep", &from, e))?;
        }
    }
    // Every folder of the new tree was made above, so it need not be listed again.
    let mine = hafen_dirs(made.made.iter().map(|d| (*d).to_owned()).collect(), repo, owned_dirs);
    fs::write(tmp.join(MANIFEST), manifest_text(repo, &mine))
        .map_err(|e| io("write", &tmp.join(MANIFEST), e))?;
    // The folders that were there before keep their permissions (a `.ssh`-like 0700 folder
    // stays private), set last so that a read-only folder could still be filled.
    let kept =
        made.made.iter().filter(|d| existing_dirs.binary_search_by(|e| e.as_str().cmp(d)).is_ok());
    for rel in std::iter::once("").chain(kept.copied()) {
        let from = if rel.is_empty() { out.to_path_buf() } else { under(out, rel)? };
        let Ok(meta) = fs::symlink_metadata(&from) else { continue };
        if meta.is_dir() {
            let to = if rel.is_empty() { tmp.to_path_buf() } else { under(tmp, rel)? };
            fs::set_permissions(&to, meta.permissions())
                .map_err(|e| io("set permissions of", &to, e))?;
        }
    }
    Ok(())
}

/// The folders made in the new tree, each made once: a render of 90,000 files in 30,000
/// folders would otherwise ask for every file's folder again.
struct Folders<'a> {
    root: &'a Path,
    made: BTreeSet<&'a str>,
}

impl<'a> Folders<'a> {
    /// Makes the folder `rel` (relative to the root) whose parent exists.
    fn folder(&mut self, rel: &'a str) -> Result<(), String> {
        if self.made.contains(rel) {
            return Ok(());
        }
        let path = under(self.root, rel)?;
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(e) => return Err(io("create", &path, e)),
        }
        self.made.insert(rel);
        Ok(())
    }

    /// Makes every folder above the relative path `rel`, outermost first.
    fn parents_of(&mut self, rel: &'a str) -> Result<(), String> {
        for dir in parents(rel) {
            self.folder(dir)?;
        }
        Ok(())
    }
}

/// Hafen's folders in the new tree (`dirs`): those of its files, and its earlier folders that
/// the user's files or folders keep alive (still Hafen's, so they go once they are empty).
/// The folders of the files are collected once, so this is linear in files and folders: a
/// search of every file for every folder took a minute for 5,000 tenants.
fn hafen_dirs(dirs: Vec<String>, repo: &Repo, owned_dirs: &BTreeSet<String>) -> BTreeSet<String> {
    let rendered: BTreeSet<&str> = repo.files.keys().flat_map(|f| parents(f)).collect();
    dirs.into_iter().filter(|d| owned_dirs.contains(d) || rendered.contains(d.as_str())).collect()
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

    /// A repository shaped like a render with `tenants` tenants on three clusters: a base and
    /// an overlay per cluster for each, plus the clusters' own files.
    fn large_repo(tenants: usize) -> Repo {
        let mut repo = Repo::default();
        repo.files.insert("README.md".into(), "# r\n".into());
        for c in 0..3 {
            repo.files.insert(format!("clusters/c{c}/kustomization.yaml"), "k: 1\n".into());
            repo.files.insert(format!("clusters/c{c}/platform/cilium.yaml"), "c: 1\n".into());
        }
        for t in 0..tenants {
            repo.files.insert(format!("tenants/t{t}/base/app.yaml"), format!("t: {t}\n"));
            repo.files.insert(format!("tenants/t{t}/base/kustomization.yaml"), "k: 1\n".into());
            for c in 0..3 {
                repo.files.insert(
                    format!("tenants/t{t}/overlays/c{c}/kustomization.yaml"),
                    "k: 1\n".into(),
                );
            }
        }
        repo
    }

    /// The folders above each file, found the slow, obvious way: the reference the fast one
    /// must agree with.
    fn hafen_dirs_by_search(
        dirs: &[String],
        repo: &Repo,
        owned_dirs: &BTreeSet<String>,
    ) -> BTreeSet<String> {
        dirs.iter()
            .filter(|d| {
                owned_dirs.contains(*d)
                    || repo
                        .files
                        .keys()
                        .any(|f| f.starts_with(d.as_str()) && f[d.len()..].starts_with('/'))
            })
            .cloned()
            .collect()
    }

    #[test]
    fn hafen_folders_are_those_of_its_files_and_its_earlier_ones() {
        let repo = large_repo(20);
        let mut dirs: Vec<String> =
            repo.files.keys().flat_map(|f| parents(f)).map(str::to_owned).collect();
        // The user's folders, one with a name that is a prefix of a Hafen folder's, and an
        // earlier Hafen folder that only the user's files keep alive.
        dirs.extend(
            ["mine", "mine/empty", "tenants/t1-notes", "tenants/gone", "clusters/c"]
                .map(String::from),
        );
        dirs.sort();
        dirs.dedup();
        let owned_dirs: BTreeSet<String> = ["tenants/gone".to_owned()].into();
        let fast = hafen_dirs(dirs.clone(), &repo, &owned_dirs);
        assert_eq!(fast, hafen_dirs_by_search(&dirs, &repo, &owned_dirs));
        assert!(fast.contains("tenants/t1/overlays/c2"));
        assert!(fast.contains("tenants/gone"));
        assert!(!fast.contains("tenants/t1-notes"));
        assert!(!fast.contains("clusters/c"));
        assert!(!fast.contains("mine"));
    }

    #[test]
    fn hafen_folders_of_a_large_render_are_found_in_linear_time() {
        // 250,000 files in 200,000 folders: a search of every file for every folder makes
        // 5·10^10 comparisons (many minutes); collecting the folders once takes well under a
        // second even unoptimised. Run on another thread so that slowness fails at the bound.
        let repo = large_repo(50_000);
        let mut dirs: Vec<String> =
            repo.files.keys().flat_map(|f| parents(f)).map(str::to_owned).collect();
        dirs.sort();
        dirs.dedup();
        let expected = dirs.len();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(hafen_dirs(dirs, &repo, &BTreeSet::new()).len());
        });
        let bound = std::time::Duration::from_secs(20);
        let found = rx.recv_timeout(bound).unwrap_or_else(|_| panic!("took longer than {bound:?}"));
        assert_eq!(found, expected);
    }

    #[test]
    fn a_large_render_is_written_with_the_same_manifest_every_time() {
        // 1,000 tenants: 5,000 files in 6,000 folders, written twice (new, then in place).
        // How long the folder bookkeeping takes is tested above without the disk, whose speed
        // on a shared machine says nothing about the code.
        let dir = scratch("large");
        let out = dir.join("repo");
        let repo = large_repo(1000);
        write_repo(&out, &repo, false).unwrap();
        let first = fs::read(out.join(MANIFEST)).unwrap();
        fs::write(out.join("tenants/t7/NOTES.md"), "mine\n").unwrap();
        let summary = write_repo(&out, &repo, false).unwrap();
        assert_eq!((summary.added, summary.changed, summary.removed, summary.kept), (0, 0, 0, 1));
        assert_eq!(fs::read(out.join(MANIFEST)).unwrap(), first, "same input, same manifest");
        let text = String::from_utf8(first).unwrap();
        let files: Vec<&str> = text.lines().skip(1).filter(|l| !l.ends_with('/')).collect();
        assert_eq!(files, repo.files.keys().map(String::as_str).collect::<Vec<_>>());
        let dirs: Vec<&str> = text.lines().filter_map(|l| l.strip_suffix('/')).collect();
        // clusters, c0..c2, c0..c2/platform, tenants, and per tenant: itself, base, overlays, 3.
        assert_eq!(dirs.len(), 1 + 3 + 3 + 1 + 1000 * 6, "{:?}", &dirs[..10]);
        assert!(dirs.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(dirs.contains(&"tenants/t7"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn unchanged_files_are_kept_changed_ones_rewritten_and_links_replaced() {
        use std::os::unix::fs::MetadataExt;
        let dir = scratch("relink");
        let out = dir.join("repo");
        let mut repo = Repo::default();
        repo.files.insert("a/same.yaml".into(), "same\n".into());
        repo.files.insert("a/edit.yaml".into(), "old\n".into());
        repo.files.insert("a/link.yaml".into(), "link\n".into());
        write_repo(&out, &repo, false).unwrap();
        let ino = |rel: &str| fs::symlink_metadata(out.join(rel)).unwrap().ino();
        let same = ino("a/same.yaml");
        // The user replaced one of Hafen's files by a link to a file with the same content.
        fs::write(dir.join("elsewhere.yaml"), "link\n").unwrap();
        fs::remove_file(out.join("a/link.yaml")).unwrap();
        std::os::unix::fs::symlink(dir.join("elsewhere.yaml"), out.join("a/link.yaml")).unwrap();
        repo.files.insert("a/edit.yaml".into(), "new\n".into());
        repo.files.insert("a/added.yaml".into(), "added\n".into());
        let summary = write_repo(&out, &repo, false).unwrap();
        assert_eq!((summary.added, summary.changed, summary.removed), (1, 2, 0));
        assert_eq!(ino("a/same.yaml"), same, "an unchanged file is not written again");
        assert_eq!(fs::read_to_string(out.join("a/same.yaml")).unwrap(), "same\n");
        assert_eq!(fs::read_to_string(out.join("a/edit.yaml")).unwrap(), "new\n");
        assert!(fs::symlink_metadata(out.join("a/link.yaml")).unwrap().is_file());
        assert_eq!(fs::read_to_string(out.join("a/link.yaml")).unwrap(), "link\n");
        assert_eq!(
            fs::symlink_metadata(out.join("a/same.yaml")).unwrap().nlink(),
            1,
            "old tree gone"
        );
        assert_eq!(drift(&out, &repo).unwrap(), Vec::new());
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn folders_that_were_there_keep_their_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("modes");
        let out = dir.join("repo");
        let mut repo = Repo::default();
        repo.files.insert("a/one.yaml".into(), "1\n".into());
        write_repo(&out, &repo, false).unwrap();
        let set = |rel: &str, mode: u32| {
            fs::set_permissions(out.join(rel), fs::Permissions::from_mode(mode)).unwrap();
        };
        fs::create_dir_all(out.join("private/keys")).unwrap();
        fs::write(out.join("private/keys/k"), "mine\n").unwrap();
        set("private", 0o700);
        set("private/keys", 0o750);
        set("a", 0o711);
        set(".", 0o750);
        write_repo(&out, &repo, false).unwrap();
        let mode = |rel: &str| fs::metadata(out.join(rel)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("private"), 0o700);
        assert_eq!(mode("private/keys"), 0o750);
        assert_eq!(mode("a"), 0o711);
        assert_eq!(mode("."), 0o750);
        assert_eq!(fs::read_to_string(out.join("private/keys/k")).unwrap(), "mine\n");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_foreign_folder_is_refused_before_anything_below_it_is_read() {
        let dir = scratch("foreign-top");
        let out = dir.join("home");
        // A name that is not UTF-8 deep down: a walk would stop there with another error.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            fs::create_dir_all(out.join("deep/er")).unwrap();
            fs::write(out.join("deep/er").join(std::ffi::OsStr::from_bytes(b"\xff")), "x").unwrap();
        }
        for name in ["b.txt", "a.txt", ".bashrc", "c", "d"] {
            fs::write(out.join(name), "mine\n").unwrap();
        }
        let mut repo = Repo::default();
        repo.files.insert("README.md".into(), "# r\n".into());
        let err = write_repo(&out, &repo, false).unwrap_err();
        assert!(err.contains("it is not empty (`.bashrc`, `a.txt`, `b.txt` and 3 more)"), "{err}");
        assert!(err.contains("no .hafen-manifest"), "{err}");
        assert!(err.contains(&format!("--out {}", out.join("platform-repo").display())), "{err}");
        assert!(err.contains("--force"), "{err}");
        assert!(!out.join(MANIFEST).exists());
        // An empty folder is fine, and so is a folder holding a previous render.
        let empty = dir.join("empty");
        fs::create_dir_all(&empty).unwrap();
        write_repo(&empty, &repo, false).unwrap();
        write_repo(&empty, &repo, false).unwrap();
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_file_system_root_is_refused_even_with_force() {
        let repo = Repo::default();
        for force in [false, true] {
            let err = write_repo(Path::new("/"), &repo, force).unwrap_err();
            assert!(err.contains("root of the file system"), "{err}");
        }
    }

    #[test]
    fn system_home_and_top_folders_are_too_wide_and_folders_of_their_own_are_not() {
        let home = Path::new("/home/ada");
        let reason = |p: &str| too_wide_reason(Path::new(p), Some(home));
        assert_eq!(reason("/").as_deref(), Some("it is the root of the file system"));
        for top in ["/srv", "/opt", "/tmp", "/var", "/mnt"] {
            assert_eq!(
                reason(top).as_deref(),
                Some("it is a folder at the top of the file system")
            );
        }
        assert_eq!(reason("/usr").as_deref(), Some("it is a folder of the operating system"));
        assert_eq!(
            reason("/usr/share").as_deref(),
            Some("it is inside `/usr`, a folder of the operating system")
        );
        assert_eq!(
            reason("/etc/platform").as_deref(),
            Some("it is inside `/etc`, a folder of the operating system")
        );
        assert_eq!(reason("/home/ada").as_deref(), Some("it is your home folder"));
        assert_eq!(
            reason("/home").as_deref(),
            Some("it is a folder above your home folder `/home/ada`")
        );
        for fine in [
            "/home/ada/platform-repo",
            "/srv/platform",
            "/var/lib/hafen/repo",
            "/tmp/x",
            "/usr-repo/x",
        ] {
            assert_eq!(reason(fine), None, "{fine}");
        }
        assert_eq!(too_wide_reason(Path::new("/home/ada"), None), None);
    }

    #[test]
    fn a_name_without_a_folder_of_its_own_is_refused() {
        let dir = scratch("dotdot");
        let out = dir.join("a").join("..");
        fs::create_dir_all(dir.join("a")).unwrap();
        let err = write_repo(&out, &Repo::default(), true).unwrap_err();
        assert!(err.contains("must end in the folder's own name"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_refused_with_where_it_points_and_what_to_do() {
        let dir = scratch("symlink");
        let target = dir.join("real");
        fs::create_dir_all(&target).unwrap();
        let link = dir.join("repo");
        std::os::unix::fs::symlink("real", &link).unwrap();
        let mut repo = Repo::default();
        repo.files.insert("README.md".into(), "# r\n".into());
        let err = write_repo(&link, &repo, true).unwrap_err();
        assert!(err.contains("is a symbolic link to `real` (a folder)"), "{err}");
        let resolved = fs::canonicalize(&target).unwrap();
        assert!(err.contains(&format!("--out {}", resolved.display())), "{err}");
        assert!(err.contains(&format!("rm {}", link.display())), "{err}");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "link untouched");
        assert!(!target.join(MANIFEST).exists());
        // Following the advice works.
        write_repo(&resolved, &repo, false).unwrap();
        assert!(target.join("README.md").exists());

        let broken = dir.join("broken");
        std::os::unix::fs::symlink("nowhere", &broken).unwrap();
        let err = write_repo(&broken, &repo, false).unwrap_err();
        assert!(err.contains("to `nowhere` (nothing (the link is broken))"), "{err}");
        assert!(err.contains(&format!("--out {}", dir.join("nowhere").display())), "{err}");

        let file = dir.join("file");
        fs::write(&file, "x").unwrap();
        let err = write_repo(&file, &repo, false).unwrap_err();
        assert!(err.contains("is a file, not a folder"), "{err}");
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
