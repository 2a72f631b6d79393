//! Reading spec and catalogue files into a workspace, with clear errors for unreadable input.

use crate::SpecArgs;
use hafen_engine::Workspace;
use std::path::{Path, PathBuf};

/// Largest file Hafen reads; anything bigger is not a platform spec.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Reads one text file with a size limit. Errors are sentences for people.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
    if meta.is_dir() {
        return Err(format!("`{}` is a folder", path.display()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "`{}` is {} bytes, more than the {} MiB limit",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES >> 20
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{}` is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// A short reason for an IO error, without the OS error number.
pub(crate) fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

/// Expands folders into their `*.yaml`/`*.yml` files, sorted by name.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot list `{}`: {}", path.display(), io_reason(&e)))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("`{}` holds no .yaml files", path.display()));
            }
            out.extend(files);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Builds the workspace from the command line's files.
pub(crate) fn workspace(args: &SpecArgs) -> Result<Workspace, String> {
    let mut workspace = Workspace::new();
    for catalog in &args.catalogs {
        let text = read_text(catalog)?;
        workspace.add_catalog(&catalog.display().to_string(), &text);
    }
    for file in expand(&args.files)? {
        let text = read_text(&file)?;
        workspace.add_spec(&file.display().to_string(), &text);
    }
    Ok(workspace)
}
