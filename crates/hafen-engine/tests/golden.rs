//! One data-driven runner for end-to-end golden cases: spec in; diagnostics, plan JSON and the
//! rendered tree out.
//!
//! Cases are `tests/cases/<case>/*.yaml` (all YAML files of the folder form the spec) with
//! expected output in `tests/cases/<case>/expected/`, and every example under
//! `examples/<name>/platform.yaml` with expected output in `tests/golden/examples/<name>/`.
//! Expected files: `check.txt` (human, no colour), `check.json`, `plan.json` and `plan.txt`
//! (when the spec loads without errors), and `render/` or, when the renderer refuses,
//! `render-errors.txt`.
//! Run with `HAFEN_BLESS=1` to write the current output as expected.

use hafen_engine::{CheckOptions, CheckRequest, PlanOptions, Workspace};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

const AS_OF: &str = "2026-11-22";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

struct Case {
    name: String,
    inputs: Vec<PathBuf>,
    expected: PathBuf,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let cases_dir = root().join("tests").join("cases");
    if let Ok(entries) = fs::read_dir(&cases_dir) {
        for entry in entries.flatten() {
            let dir = entry.path();
            if !dir.is_dir() {
                continue;
            }
            let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect();
            inputs.sort();
            out.push(Case {
                name: format!("cases/{}", entry.file_name().to_string_lossy()),
                inputs,
                expected: dir.join("expected"),
            });
        }
    }
    if let Ok(entries) = fs::read_dir(root().join("examples")) {
        for entry in entries.flatten() {
            let spec = entry.path().join("platform.yaml");
            if spec.exists() {
                let name = entry.file_name().to_string_lossy().into_owned();
                out.push(Case {
                    name: format!("examples/{name}"),
                    inputs: vec![spec],
                    expected: root().join("tests").join("golden").join("examples").join(&name),
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Everything a case produces, as relative path → text.
fn run(case: &Case) -> BTreeMap<String, String> {
    let mut workspace = Workspace::new();
    for input in &case.inputs {
        let text = fs::read_to_string(input).unwrap_or_default();
        // Names relative to the repository root keep goldens machine-independent.
        let name =
            input.strip_prefix(root()).unwrap_or(input).display().to_string().replace("../", "");
        let name = name.trim_start_matches('/').to_owned();
        workspace.add_spec(&name, &text);
    }
    let request =
        CheckRequest { options: CheckOptions { as_of: Some(AS_OF.into()) }, ..Default::default() };
    let outcome = hafen_engine::check(&workspace, &request);
    let mut out = BTreeMap::new();
    out.insert(
        "check.txt".into(),
        hafen_engine::diagnostics_human(&outcome.diagnostics, &workspace.sources, false),
    );
    let json = hafen_engine::diagnostics_json(&outcome.diagnostics, &workspace.sources);
    out.insert("check.json".into(), serde_json::to_string_pretty(&json).unwrap_or_default() + "\n");
    // Plan and render need a loaded platform, not a clean check: a case may show a finding
    // and its rendered consequence together.
    if let Some(loaded) = outcome.loaded.as_ref() {
        let report = hafen_engine::plan(loaded, &PlanOptions::default(), &mut |_, _| {});
        out.insert(
            "plan.json".into(),
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        );
        out.insert("plan.txt".into(), hafen_engine::plan_text(&report));
        match hafen_engine::render(loaded) {
            Ok(repo) => {
                for (path, content) in repo.files {
                    out.insert(format!("render/{path}"), content);
                }
            }
            Err(diagnostics) => {
                let text = hafen_engine::diagnostics_human(&diagnostics, &workspace.sources, false);
                out.insert("render-errors.txt".into(), text);
            }
        }
    }
    out
}

fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = fs::read_to_string(&path) {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string()
                    .replace('\\', "/");
                out.insert(rel, text);
            }
        }
    }
    out
}

fn first_difference(expected: &str, actual: &str) -> String {
    for (idx, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", idx + 1);
        }
    }
    format!(
        "lengths differ: expected {} lines, actual {} lines",
        expected.lines().count(),
        actual.lines().count()
    )
}

#[test]
fn golden_cases() {
    let bless = std::env::var_os("HAFEN_BLESS").is_some();
    let cases = cases();
    assert!(cases.len() >= 3, "expected at least the three examples");
    let mut failures = Vec::new();
    for case in &cases {
        let actual = run(case);
        if bless {
            let _ = fs::remove_dir_all(&case.expected);
            for (rel, content) in &actual {
                let path = case.expected.join(rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).expect("create golden folder");
                }
                fs::write(&path, content).expect("write golden file");
            }
            continue;
        }
        let expected = read_tree(&case.expected);
        if expected.is_empty() {
            failures.push(format!("{}: no expected output; run with HAFEN_BLESS=1", case.name));
            continue;
        }
        for (rel, content) in &actual {
            match expected.get(rel) {
                None => failures.push(format!("{}: unexpected output {rel}", case.name)),
                Some(e) if e != content => failures.push(format!(
                    "{}: {rel} differs at {}",
                    case.name,
                    first_difference(e, content)
                )),
                Some(_) => {}
            }
        }
        for rel in expected.keys() {
            if !actual.contains_key(rel) {
                failures.push(format!("{}: missing output {rel}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (HAFEN_BLESS=1 cargo test -p hafen-engine --test golden to accept):\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn runs_are_byte_identical() {
    for case in cases() {
        assert_eq!(run(&case), run(&case), "{} is not deterministic", case.name);
    }
}

#[test]
fn committed_json_schemas_are_current() {
    let bless = std::env::var_os("HAFEN_BLESS").is_some();
    for (file, text) in [
        ("platform.schema.json", hafen_engine::spec_schema_text()),
        ("tenant.schema.json", hafen_engine::tenant_schema_text()),
    ] {
        let path = root().join("schema").join(file);
        if bless {
            fs::write(&path, &text).expect("write schema");
            continue;
        }
        let committed = fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "schema/{file} is stale: run `HAFEN_BLESS=1 cargo test -p hafen-engine --test golden` (or `hafen schema > schema/{file}`)"
        );
    }
}

/// `check` and `render` agree on every case and example: whatever the renderer refuses is a
/// finding of `check` at the same place (so a spec that passes `check` renders), and the
/// repository `check` hands on is the one `render` writes.
#[test]
fn check_reports_everything_render_refuses() {
    for case in cases() {
        let mut workspace = Workspace::new();
        for input in &case.inputs {
            let text = fs::read_to_string(input).unwrap_or_default();
            workspace.add_spec(&input.display().to_string(), &text);
        }
        let request = CheckRequest {
            options: CheckOptions { as_of: Some(AS_OF.into()) },
            ..Default::default()
        };
        let outcome = hafen_engine::check(&workspace, &request);
        let Some(loaded) = outcome.loaded.as_ref() else { continue };
        match hafen_engine::render(loaded) {
            Ok(repo) => assert_eq!(outcome.repo.as_ref(), Some(&repo), "{}", case.name),
            Err(refused) => {
                assert!(outcome.failed() && outcome.repo.is_none(), "{}", case.name);
                for r in &refused {
                    let reported = outcome.diagnostics.iter().any(|d| {
                        d.is_error() && (d.path == r.path && (d.code == r.code || r.path.is_some()))
                    });
                    assert!(
                        reported,
                        "{}: check does not report {}: {}",
                        case.name, r.code, r.message
                    );
                }
            }
        }
    }
}
