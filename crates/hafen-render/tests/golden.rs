//! Golden tests: every example and fixture renders to exactly the committed tree under
//! `tests/golden/<case>/` (or, for a fixture that must fail, to the committed diagnostics in
//! `tests/golden/<case>/render-errors.txt`). Run with `HAFEN_BLESS=1` to accept new output.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let rel =
                    path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.insert(rel, text);
            }
        }
    }
    out
}

fn write_tree(dir: &Path, files: &BTreeMap<String, String>) {
    let _ = std::fs::remove_dir_all(dir);
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create golden folder");
        }
        std::fs::write(&path, text).expect("write golden file");
    }
}

#[test]
fn every_case_renders_to_its_golden_tree() {
    let bless = std::env::var_os("HAFEN_BLESS").is_some();
    let golden_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("golden");
    let mut failures = Vec::new();
    for case in support::cases() {
        let (loaded, sources) = support::load(&case.name, &case.text);
        let actual: BTreeMap<String, String> = match hafen_render::render(&loaded) {
            Ok(repo) => repo.files,
            Err(diagnostics) => {
                let text = hafen_diag::human::render(&diagnostics, &sources, false);
                BTreeMap::from([("render-errors.txt".to_owned(), text)])
            }
        };
        let must_fail = case.name.starts_with("fixtures/error-");
        if must_fail != actual.contains_key("render-errors.txt") {
            failures.push(format!(
                "{}: expected the render to {}",
                case.name,
                if must_fail { "fail" } else { "succeed" }
            ));
        }
        let dir = golden_root.join(&case.name);
        if bless {
            write_tree(&dir, &actual);
            continue;
        }
        let expected = read_tree(&dir);
        if expected.is_empty() {
            failures.push(format!(
                "{}: no golden tree at {} (run with HAFEN_BLESS=1)",
                case.name,
                dir.display()
            ));
            continue;
        }
        for (path, text) in &actual {
            match expected.get(path) {
                None => failures.push(format!("{}: new file {path}", case.name)),
                Some(e) if e != text => {
                    let line =
                        e.lines().zip(text.lines()).position(|(a, b)| a != b).map_or(0, |n| n + 1);
                    failures.push(format!("{}: {path} differs (first at line {line})", case.name));
                }
                Some(_) => {}
            }
        }
        for path in expected.keys() {
            if !actual.contains_key(path) {
                failures.push(format!("{}: file no longer rendered: {path}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden differences (HAFEN_BLESS=1 accepts):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
