//! In-spec suppressions are checked one by one: a short reason, an unknown code and an object
//! that names nothing are each reported where they stand, a broken suppression silences
//! nothing, and a valid one that matches no finding is reported as unused (SUP001).

use hafen_catalog::Catalog;
use hafen_diag::{Diagnostic, Severity, Sources};
use std::path::PathBuf;

fn base() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/rules/base.yaml");
    std::fs::read_to_string(path)
        .expect("base fixture")
        // Two people on call: OPS001 fires, so there is something to suppress.
        .replace("team: { onCall: 3 }", "team: { onCall: 2 }")
}

/// Checks the base platform with the given `suppressions:` block appended.
fn run(suppressions: &str, as_of: Option<&str>) -> (Vec<Diagnostic>, String) {
    let text = format!("{}  suppressions:\n{suppressions}", base());
    let mut sources = Sources::new();
    let (catalog, _) = Catalog::builtin(&mut sources);
    let (loaded, loader) = hafen_spec::load_str("p.yaml", &text, &mut sources, &catalog);
    assert!(loader.iter().all(|d| !d.is_error()), "{loader:?}");
    let loaded = loaded.expect("loads");
    let options = hafen_check::Options { as_of: as_of.map(str::to_owned) };
    let found = hafen_check::check(&loaded, &options);
    let human = hafen_diag::human::render(&found, &sources, false);
    (found, human)
}

fn line_of(text: &str, needle: &str) -> u32 {
    text.lines().position(|l| l.contains(needle)).map(|i| i as u32 + 1).expect(needle)
}

fn active<'a>(found: &'a [Diagnostic], code: &str) -> Vec<&'a Diagnostic> {
    found.iter().filter(|d| d.code == code && d.suppressed.is_none()).collect()
}

#[test]
fn a_short_reason_and_an_unknown_code_are_two_findings_and_nothing_is_hidden() {
    let block = "    - code: OPS999\n      reason: x\n";
    let (found, human) = run(block, Some("2026-11-22"));
    let text = format!("{}  suppressions:\n{block}", base());
    let reason = active(&found, "SPEC008");
    assert_eq!(reason.len(), 1, "{human}");
    assert!(reason[0].message.contains("has 1 character"), "{human}");
    assert_eq!(reason[0].span.map(|s| s.start.line), Some(line_of(&text, "reason: x")));
    let code = active(&found, "SPEC006");
    assert_eq!(code.len(), 1, "{human}");
    assert!(code[0].message.contains("`OPS999`"), "{human}");
    assert!(code[0].help.as_deref().is_some_and(|h| h.contains("did you mean `OPS0")), "{human}");
    assert_eq!(code[0].span.map(|s| s.start.line), Some(line_of(&text, "code: OPS999")));
    // The rules still ran and their finding is not silenced.
    assert_eq!(active(&found, "OPS001").len(), 1, "{human}");
    assert!(active(&found, "SUP001").is_empty(), "{human}");
}

#[test]
fn an_empty_reason_is_named_as_empty_and_does_not_suppress() {
    let (found, human) = run("    - { code: OPS001, reason: '  ' }\n", Some("2026-11-22"));
    assert!(active(&found, "SPEC008")[0].message.contains("is empty"), "{human}");
    assert_eq!(active(&found, "OPS001").len(), 1, "{human}");
}

#[test]
fn codes_match_in_any_case() {
    let block = "    - { code: ops001, reason: Two-person team until the March hire; paid support covers nights }\n";
    let (found, human) = run(block, Some("2026-11-22"));
    assert!(found.iter().any(|d| d.code == "OPS001" && d.suppressed.is_some()), "{human}");
    assert!(found.iter().all(|d| d.suppressed.is_some()), "{human}");
}

#[test]
fn an_object_that_names_nothing_is_located_with_a_hint() {
    let block = "    - code: OPS001\n      object: cluster/prod-nbgg\n      reason: Accepted by the platform board on 2026-11-01\n";
    let (found, human) = run(block, Some("2026-11-22"));
    let text = format!("{}  suppressions:\n{block}", base());
    let object = active(&found, "SPEC006");
    assert_eq!(object.len(), 1, "{human}");
    assert_eq!(object[0].span.map(|s| s.start.line), Some(line_of(&text, "object: cluster/")));
    assert!(object[0].help.as_deref().is_some_and(|h| h.contains("`cluster/prod-nbg`")), "{human}");
    assert_eq!(active(&found, "OPS001").len(), 1, "{human}");

    let (found, human) = run(
        "    - { code: OPS001, object: cluster/nope, reason: Accepted by the platform board }\n",
        Some("2026-11-22"),
    );
    let help = active(&found, "SPEC006")[0].help.clone().unwrap_or_default();
    assert!(help.contains("`cluster/prod-nbg`") && help.contains("`cluster/prod-fsn`"), "{human}");
}

#[test]
fn a_stale_suppression_is_a_located_warning() {
    let block = "    - code: NET001\n      reason: Accepted until the vSwitch migration in Q1\n    - { code: OPS001, reason: Two-person team until the March hire }\n";
    let (found, human) = run(block, Some("2026-11-22"));
    let text = format!("{}  suppressions:\n{block}", base());
    let unused = active(&found, "SUP001");
    assert_eq!(unused.len(), 1, "{human}");
    assert_eq!(unused[0].severity, Severity::Warning);
    assert!(unused[0].message.contains("`NET001`"), "{human}");
    assert_eq!(unused[0].span.map(|s| s.start.line), Some(line_of(&text, "code: NET001")));
    assert!(hafen_check::explain("SUP001").is_some());
}

#[test]
fn a_loader_code_can_never_match() {
    let (found, human) = run(
        "    - { code: spec011, reason: \"A test value, rotated already\" }\n",
        Some("2026-11-22"),
    );
    let unused = active(&found, "SUP001");
    assert_eq!(unused.len(), 1, "{human}");
    assert!(unused[0].message.contains("never match"), "{human}");
}

#[test]
fn dated_rules_are_not_called_unused_without_a_date() {
    let block = "    - { code: OPS004, reason: Restore tests move to the new quarter plan }\n";
    let (found, human) = run(block, None);
    assert!(active(&found, "SUP001").is_empty(), "{human}");
    let (found, human) = run(block, Some("2026-11-22"));
    assert_eq!(active(&found, "SUP001").len(), 1, "{human}");
}

#[test]
fn cli_codes_resolve_in_any_case_with_a_hint_otherwise() {
    let codes = hafen_check::all_codes();
    assert_eq!(hafen_check::resolve_code("ops001", &codes), Ok("OPS001"));
    assert_eq!(hafen_check::resolve_code(" Top002 ", &codes), Ok("TOP002"));
    assert!(
        matches!(hafen_check::resolve_code("OPS999", &codes), Err(Some(c)) if c.starts_with("OPS"))
    );
    assert_eq!(hafen_check::resolve_code("FOO", &codes), Err(None));
}
