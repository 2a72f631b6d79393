//! The fixture runner: every rule has `tests/rules/<CODE>/fail.yaml`, a full platform that
//! triggers it, and `pass.yaml`, a near miss that must not. A fixture may declare other codes
//! it also triggers with a `# expect: CODE, CODE` comment line; anything else firing fails the
//! test, so fixtures stay minimal and near misses prove the rule stays quiet on healthy specs.
//! `expected.txt` holds the human output of the failing fixture; `HAFEN_BLESS=1` rewrites it.
//! A rule that escalates (VER001 long past end of life) declares the severity its failing
//! fixture must show with a `# severity: error` line; otherwise it must be the default.
//!
//! A folder may also be named after a loader code (`SPEC008`): its failing fixtures must not
//! load and must report exactly that code (and any `# expect:` codes) as errors; its near
//! misses must load and pass like every other near miss.

use hafen_catalog::Catalog;
use hafen_diag::{Diagnostic, Sources};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const AS_OF: &str = "2026-11-22";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn fixtures() -> PathBuf {
    root().join("tests").join("rules")
}

/// Loads and checks one fixture; returns the loader and rule findings and the human text.
fn run(path: &Path) -> (Vec<Diagnostic>, Vec<Diagnostic>, String) {
    let (loader, found, human) = try_run(path);
    let Some(found) = found else { panic!("{} does not load:\n{human}", path.display()) };
    (loader, found, human)
}

/// Like [`run`], but a fixture that does not load gives its loader findings and no rule
/// findings.
fn try_run(path: &Path) -> (Vec<Diagnostic>, Option<Vec<Diagnostic>>, String) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
        .replace('\\', "/")
        .replace("../", "");
    let mut sources = Sources::new();
    let (catalog, catalog_diags) = Catalog::builtin(&mut sources);
    assert!(catalog_diags.is_empty(), "built-in catalogue is broken");
    let (loaded, loader) =
        hafen_spec::load_str(name.trim_start_matches('/'), &text, &mut sources, &catalog);
    let Some(loaded) = loaded else {
        let human = hafen_diag::human::render(&loader, &sources, false);
        return (loader, None, human);
    };
    let options = hafen_check::Options { as_of: Some(AS_OF.into()) };
    let found = hafen_check::check(&loaded, &options);
    let mut all = loader.clone();
    all.extend(found.iter().cloned());
    hafen_diag::sort(&mut all);
    let human = hafen_diag::human::render(&all, &sources, false);
    (loader, Some(found), human)
}

/// Codes reported while loading (YAML, spec, catalogue), which have no rule to run.
fn loader_codes() -> Vec<hafen_diag::CodeInfo> {
    let rules = hafen_check::rules();
    hafen_check::all_codes()
        .into_iter()
        .filter(|c| !rules.iter().any(|r| r.code == c.code) && c.code != "SUP001")
        .collect()
}

/// Codes a fixture declares besides the one under test.
fn expected_extra(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# expect:"))
        .flat_map(|l| l.split(',').map(|c| c.trim().to_owned()))
        .filter(|c| !c.is_empty())
        .collect()
}

/// The severity a failing fixture declares for its finding, when not the rule's default.
fn expected_severity(path: &Path) -> Option<hafen_diag::Severity> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix("# severity:"))
        .and_then(|s| hafen_diag::Severity::parse(s.trim()))
}

fn active_codes(found: &[Diagnostic]) -> BTreeSet<String> {
    found.iter().filter(|d| d.suppressed.is_none()).map(|d| d.code.to_owned()).collect()
}

#[test]
fn every_rule_has_docs_and_fixtures_and_every_fixture_names_a_rule() {
    let rules = hafen_check::rules();
    let mut problems = Vec::new();
    for rule in &rules {
        if hafen_check::explain(rule.code).is_none() {
            problems.push(format!("{}: no docs/rules/{}.md registered", rule.code, rule.code));
        }
        for file in ["fail.yaml", "pass.yaml"] {
            if !fixtures().join(rule.code).join(file).exists() {
                problems.push(format!("{}: missing tests/rules/{}/{file}", rule.code, rule.code));
            }
        }
    }
    // Loader codes added since fixtures could hold them must have them too.
    for code in ["SPEC004", "SPEC008", "SPEC012"] {
        for file in ["fail", "pass"] {
            if variants(&fixtures().join(code), file).is_empty() {
                problems.push(format!("{code}: missing tests/rules/{code}/{file}.yaml"));
            }
        }
    }
    let loader = loader_codes();
    for entry in fs::read_dir(fixtures()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let named = rules.iter().chain(&loader).any(|r| r.code == name);
        if entry.path().is_dir() && !named {
            problems.push(format!("tests/rules/{name} names no rule or loader code"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_shared_base_is_clean() {
    let (loader, found, human) = run(&fixtures().join("base.yaml"));
    assert!(loader.is_empty() && active_codes(&found).is_empty(), "{human}");
}

/// The fixture files of a rule whose names start with `prefix` (`fail.yaml`, `fail-…yaml`).
fn variants(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.ends_with(".yaml")
                && (name == format!("{prefix}.yaml") || name.starts_with(&format!("{prefix}-")))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn failing_fixtures_trigger_their_rule_and_near_misses_do_not() {
    let bless = std::env::var_os("HAFEN_BLESS").is_some();
    let mut problems = Vec::new();
    let mut counted = 0;
    for rule in hafen_check::rules() {
        let dir = fixtures().join(rule.code);
        for fail in variants(&dir, "fail") {
            counted += 1;
            let shown = fail.strip_prefix(fixtures()).unwrap_or(&fail).display().to_string();
            let (loader, found, human) = run(&fail);
            if loader.iter().any(Diagnostic::is_error) {
                problems.push(format!("{shown} has loader errors:\n{human}"));
            }
            let mut want = expected_extra(&fail);
            want.insert(rule.code.to_owned());
            let got = active_codes(&found);
            if got != want {
                problems.push(format!("{shown} triggers {got:?}, expected {want:?}:\n{human}"));
            }
            if let Some(d) = found.iter().find(|d| d.code == rule.code) {
                let wanted = expected_severity(&fail).unwrap_or(rule.severity);
                if d.severity != wanted {
                    problems.push(format!(
                        "{shown}: reported as {} but expected {wanted} (the default is {})",
                        d.severity, rule.severity
                    ));
                }
                if d.span.is_none() || d.help.is_none() || d.path.is_none() {
                    problems
                        .push(format!("{shown}: the finding lacks a span, a path or a help line"));
                }
                if d.message.contains('\x1b') || d.message.ends_with('.') {
                    problems.push(format!(
                        "{shown}: messages are plain text without a trailing period"
                    ));
                }
            }
            let stem =
                fail.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let golden = dir.join(stem.replacen("fail", "expected", 1) + ".txt");
            if bless {
                fs::write(&golden, &human).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
            } else if let Ok(expected) = fs::read_to_string(&golden)
                && expected != human
            {
                problems.push(format!(
                    "{shown}: output differs from {} (HAFEN_BLESS=1 to update):\n--- expected\n{expected}\n--- actual\n{human}",
                    golden.display()
                ));
            }
        }
        for pass in variants(&dir, "pass") {
            counted += 1;
            let shown = pass.strip_prefix(fixtures()).unwrap_or(&pass).display().to_string();
            let (loader, found, human) = run(&pass);
            if loader.iter().any(Diagnostic::is_error) {
                problems.push(format!("{shown} has loader errors:\n{human}"));
            }
            let want = expected_extra(&pass);
            let got = active_codes(&found);
            if got.contains(rule.code) || got != want {
                problems.push(format!("{shown} triggers {got:?}, expected {want:?}:\n{human}"));
            }
        }
    }
    assert!(counted >= 2 * hafen_check::rules().len(), "only {counted} fixtures ran");
    assert!(problems.is_empty(), "{} problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
}

#[test]
fn failing_loader_fixtures_report_their_code_and_near_misses_load() {
    let bless = std::env::var_os("HAFEN_BLESS").is_some();
    let mut problems = Vec::new();
    let mut counted = 0;
    for info in loader_codes() {
        let dir = fixtures().join(info.code);
        for fail in variants(&dir, "fail") {
            counted += 1;
            let shown = fail.strip_prefix(fixtures()).unwrap_or(&fail).display().to_string();
            let (loader, found, human) = try_run(&fail);
            if found.is_some() {
                problems.push(format!("{shown} loads; it must fail with {}:\n{human}", info.code));
            }
            let mut want = expected_extra(&fail);
            want.insert(info.code.to_owned());
            let got: BTreeSet<String> =
                loader.iter().filter(|d| d.is_error()).map(|d| d.code.to_owned()).collect();
            if got != want {
                problems.push(format!("{shown} reports {got:?}, expected {want:?}:\n{human}"));
            }
            for d in loader.iter().filter(|d| d.code == info.code) {
                if d.span.is_none() || d.help.is_none() || d.path.is_none() {
                    problems
                        .push(format!("{shown}: a finding lacks a span, a path or a help line"));
                }
            }
            let stem =
                fail.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let golden = dir.join(stem.replacen("fail", "expected", 1) + ".txt");
            if bless {
                fs::write(&golden, &human).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
            } else {
                match fs::read_to_string(&golden) {
                    Ok(expected) if expected == human => {}
                    Ok(expected) => problems.push(format!(
                        "{shown}: output differs from {} (HAFEN_BLESS=1 to update):\n--- expected\n{expected}\n--- actual\n{human}",
                        golden.display()
                    )),
                    Err(_) => problems.push(format!("{shown}: no {} (HAFEN_BLESS=1 writes it)", golden.display())),
                }
            }
        }
        for pass in variants(&dir, "pass") {
            counted += 1;
            let shown = pass.strip_prefix(fixtures()).unwrap_or(&pass).display().to_string();
            let (loader, found, human) = try_run(&pass);
            if loader.iter().any(Diagnostic::is_error) || found.is_none() {
                problems.push(format!("{shown} has loader errors:\n{human}"));
            }
            let want = expected_extra(&pass);
            let got = active_codes(&found.unwrap_or_default());
            if got != want {
                problems.push(format!("{shown} triggers {got:?}, expected {want:?}:\n{human}"));
            }
        }
    }
    assert!(counted >= 6, "only {counted} loader fixtures ran");
    assert!(problems.is_empty(), "{} problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
}

#[test]
fn output_is_deterministic() {
    for code in ["NET002", "TOP002", "CAP011", "SOV001"] {
        let path = fixtures().join(code).join("fail.yaml");
        let (_, _, a) = run(&path);
        let (_, _, b) = run(&path);
        assert_eq!(a, b, "{code}");
    }
}
