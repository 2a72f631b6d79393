//! Shared helpers of the renderer's integration tests: loading specs and finding the example
//! and fixture platforms. Tests may read files; the renderer itself never does.

#![allow(dead_code, unreachable_pub)]

use hafen_diag::Sources;
use hafen_spec::LoadedPlatform;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// A named platform spec: every example and every renderer fixture.
pub struct Case {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// `examples/<name>/platform.yaml` and the renderer's cases `tests/cases/render-<name>/platform.yaml`
/// (their golden output is checked by the one end-to-end runner in hafen-engine).
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for dir in read_dir_sorted(&root().join("examples")) {
        let path = dir.join("platform.yaml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let name =
                format!("examples/{}", dir.file_name().unwrap_or_default().to_string_lossy());
            out.push(Case { name, path, text });
        }
    }
    for dir in read_dir_sorted(&root().join("tests").join("cases")) {
        let Some(stem) =
            dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("render-"))
        else {
            continue;
        };
        let path = dir.join("platform.yaml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push(Case { name: format!("fixtures/{stem}"), path, text });
        }
    }
    assert!(out.len() >= 5, "expected the examples and fixtures, found {}", out.len());
    out
}

/// Loads a spec text with the built-in catalogue; panics (in tests only) on load errors.
pub fn load(name: &str, text: &str) -> (LoadedPlatform, Sources) {
    let mut sources = Sources::new();
    let (catalog, _) = hafen_catalog::Catalog::builtin(&mut sources);
    let (loaded, diagnostics) = hafen_spec::load_str(name, text, &mut sources, &catalog);
    match loaded {
        Some(loaded) => (loaded, sources),
        None => panic!(
            "{name} does not load:\n{}",
            hafen_diag::human::render(&diagnostics, &sources, false)
        ),
    }
}
