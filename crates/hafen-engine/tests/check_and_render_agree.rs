//! `check` and `render` agree: every case whose render fails fails `check` too, and the
//! repository `check` rendered in memory is byte for byte the one `render` writes.

use hafen_engine::{CheckOptions, CheckRequest, Workspace};

fn cases() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/cases");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if let Ok(text) = std::fs::read_to_string(path.join("platform.yaml")) {
            out.push((path.display().to_string(), text));
        }
    }
    out.sort();
    out
}

#[test]
fn what_render_refuses_check_reports_and_what_it_renders_check_rendered() {
    let (mut refused, mut rendered) = (0, 0);
    for (name, text) in cases() {
        let mut workspace = Workspace::new();
        workspace.add_spec("platform.yaml", &text);
        let request = CheckRequest {
            options: CheckOptions { as_of: Some("2026-11-22".into()) },
            ..Default::default()
        };
        let outcome = hafen_engine::check(&workspace, &request);
        let Some(loaded) = &outcome.loaded else { continue };
        match hafen_engine::render(loaded) {
            Err(refusals) => {
                refused += 1;
                assert!(outcome.failed(), "{name}: render fails, check passes");
                assert!(outcome.repo.is_none(), "{name}");
                // Each refusal by name: golden.rs, check_reports_everything_render_refuses.
                assert!(!refusals.is_empty(), "{name}");
            }
            Ok(repo) => {
                rendered += 1;
                let from_check = outcome.repo.as_ref().unwrap_or_else(|| panic!("{name}"));
                assert_eq!(from_check.files, repo.files, "{name}");
            }
        }
    }
    assert!(refused >= 3 && rendered >= 3, "refused {refused}, rendered {rendered}");
}
