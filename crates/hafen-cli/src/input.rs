//! Reading spec and catalogue files into a workspace, with clear errors for unreadable input.

use crate::SpecArgs;
use hafen_engine::Workspace;
use std::path::{Path, PathBuf};

/// Largest file Hafen reads; anything bigger is not a platform spec.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Reads one text file with a size limit. Errors are sentences for people.
///
/// The limit holds for every kind of input, not only regular files: a pipe, a FIFO, a
/// character device such as `/dev/zero` or a file that grows while it is read has no
/// trustworthy length, so the reader stops after `MAX_FILE_BYTES + 1` bytes whatever the
/// metadata says.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
    if meta.is_dir() {
        return Err(format!("`{}` is a folder", path.display()));
    }
    let too_big = |size: String| {
        format!(
            "`{}` is {size} bytes, more than the {} MiB limit",
            path.display(),
            MAX_FILE_BYTES >> 20
        )
    };
    if meta.is_file() && meta.len() > MAX_FILE_BYTES {
        return Err(too_big(meta.len().to_string()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
    let bytes = read_bounded(file, MAX_FILE_BYTES)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?
        .ok_or_else(|| too_big("at least ".to_string() + &(MAX_FILE_BYTES + 1).to_string()))?;
    String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error().valid_up_to()))
}

/// Reads at most `limit` bytes; `None` when the input holds more. Reads `limit + 1` bytes at
/// most, so memory stays bounded on an endless stream.
fn read_bounded(reader: impl std::io::Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Where a file stops being UTF-8, as `file:line:column` with the line and a fix.
fn not_utf8(path: &Path, bytes: &[u8], valid_up_to: usize) -> String {
    let name = path.display().to_string().escape_debug().to_string();
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return format!(
            "`{name}` is not UTF-8 text: it starts with a UTF-16 byte-order mark\n  = help: save the file as UTF-8 (for example `iconv -f utf-16 -t utf-8`)"
        );
    }
    let line_start = bytes[..valid_up_to].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = bytes[..valid_up_to].iter().filter(|&&b| b == b'\n').count() + 1;
    // The prefix up to `valid_up_to` is valid UTF-8, so its characters can be counted.
    let before = String::from_utf8_lossy(&bytes[line_start..valid_up_to]).into_owned();
    let col = before.chars().count() + 1;
    let line_end = bytes[valid_up_to..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| valid_up_to + i);
    let shown = |text: &[u8]| -> String {
        String::from_utf8_lossy(text)
            .chars()
            .map(|c| if c.is_control() || c == '\u{fffd}' { '?' } else { c })
            .collect()
    };
    let excerpt = format!(
        "{}{}",
        shown(&bytes[line_start..valid_up_to]),
        shown(&bytes[valid_up_to..line_end])
    );
    let gutter = " ".repeat(line.to_string().len());
    format!(
        "`{name}`:{line}:{col}: not UTF-8 text: byte 0x{:02x} cannot start a character here\n{gutter} |\n{line} | {excerpt}\n{gutter} | {}^ not UTF-8\n{gutter} = help: save the file as UTF-8 (for example `iconv -f latin1 -t utf-8`)",
        bytes[valid_up_to],
        " ".repeat(col - 1),
    )
}

/// A short reason for an IO error, without the OS error number.
pub(crate) fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

/// The name of the file the renderer writes at the root of every repository it renders.
const RENDERED_MARKER: &str = ".hafen-manifest";

/// Expands folders into their `*.yaml`/`*.yml` files, subfolders included, sorted by path so
/// the same tree always gives the same spec. A tenant in `tenants/crm.yaml` belongs to the
/// platform as much as one beside `platform.yaml`. Hidden folders (`.git`, `.github`),
/// symlinked folders (which could loop) and rendered repositories (a `.hafen-manifest` at
/// their root: Kubernetes manifests, not spec documents) are not entered.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files = Vec::new();
            collect(path, &mut files)?;
            files.sort();
            if files.is_empty() {
                return Err(format!("`{}` holds no .yaml files", path.display()));
            }
            out.extend(files);
        } else {
            out.push(path.clone());
        }
    }
    // A file named twice (`check p.yaml p.yaml`, or a folder and a file in it) is read once:
    // read twice, every name in it would be a duplicate of itself.
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list `{}`: {}", dir.display(), io_reason(&e)))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        // `file_type` does not follow symlinks: a linked folder is neither entered nor read.
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !hidden && !path.join(RENDERED_MARKER).exists() {
                collect(&path, files)?;
            }
        } else if !hidden
            && path.is_file()
            && path.extension().is_some_and(|x| x == "yaml" || x == "yml")
        {
            files.push(path);
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_input_is_reported_by_line_and_column() {
        let bytes = b"apiVersion: hafen.dev/v1alpha1\nmetadata: { name: caf\xe9 }\n";
        let valid = bytes.iter().position(|&b| b == 0xe9).unwrap();
        let message = not_utf8(Path::new("p.yaml"), bytes, valid);
        assert!(message.starts_with("`p.yaml`:2:22: not UTF-8 text: byte 0xe9"), "{message}");
        assert!(message.contains("2 | metadata: { name: caf? }"), "{message}");
        assert!(message.contains("help: save the file as UTF-8"), "{message}");
        assert!(!message.contains("offset"), "{message}");
    }

    #[test]
    fn a_file_named_twice_is_read_once() {
        let root = std::env::temp_dir().join(format!("hafen-twice-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("platform.yaml"), "a: 1\n").unwrap();
        let file = root.join("platform.yaml");
        let files = expand(&[file.clone(), root.clone(), root.join("./platform.yaml")]).unwrap();
        assert_eq!(files, vec![file]);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn folders_are_read_recursively_in_path_order() {
        let root = std::env::temp_dir().join(format!("hafen-input-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["tenants/eu", ".git", "repo", "notes"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "platform.yaml",
            "z.yml",
            "tenants/crm.yaml",
            "tenants/eu/shop.yaml",
            ".git/config.yaml",
            ".hidden.yaml",
            "repo/.hafen-manifest",
            "repo/kustomization.yaml",
            "notes/readme.md",
        ] {
            std::fs::write(root.join(file), "x: 1\n").unwrap();
        }
        let files = expand(std::slice::from_ref(&root)).unwrap();
        let names: Vec<String> =
            files.iter().map(|p| p.strip_prefix(&root).unwrap().display().to_string()).collect();
        assert_eq!(names, ["platform.yaml", "tenants/crm.yaml", "tenants/eu/shop.yaml", "z.yml"]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_stream_is_read_only_up_to_the_limit() {
        // An endless stream: the reader must stop after limit + 1 bytes.
        let endless = std::io::repeat(b'a');
        assert_eq!(read_bounded(endless, 1000).unwrap(), None);
        let short = &b"x: 1\n"[..];
        assert_eq!(read_bounded(short, 5).unwrap().as_deref(), Some(&b"x: 1\n"[..]));
        assert_eq!(read_bounded(short, 4).unwrap(), None);
    }

    #[test]
    fn utf16_is_named() {
        let message = not_utf8(Path::new("p.yaml"), &[0xff, 0xfe, b'a', 0], 0);
        assert!(message.contains("UTF-16"), "{message}");
    }
}
