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
    String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error().valid_up_to()))
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
    fn utf16_is_named() {
        let message = not_utf8(Path::new("p.yaml"), &[0xff, 0xfe, b'a', 0], 0);
        assert!(message.contains("UTF-16"), "{message}");
    }
}
