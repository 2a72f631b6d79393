//! Fuzz the whole pipeline: any text loaded as a platform spec, then checked, planned and
//! rendered, must produce diagnostics or output, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut workspace = hafen_engine::Workspace::new();
    workspace.add_spec("fuzz.yaml", text);
    let outcome = hafen_engine::check(&workspace, &hafen_engine::CheckRequest::default());
    let _ = hafen_engine::diagnostics_human(&outcome.diagnostics, &workspace.sources, false);
    let _ = hafen_engine::diagnostics_sarif(&outcome.diagnostics, &workspace.sources);
    if let Some(loaded) = &outcome.loaded {
        let _ = hafen_engine::plan(loaded, &hafen_engine::PlanOptions::default(), &mut |_, _| {});
        if let Ok(repo) = hafen_engine::render(loaded) {
            for path in repo.files.keys() {
                assert!(!path.starts_with('/') && !path.split('/').any(|s| s == ".."), "unsafe path {path}");
            }
        }
    }
});
