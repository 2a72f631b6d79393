//! Property: for any platform shape, check, plan and render give the same bytes every time.

use hafen_engine::{CheckOptions, CheckRequest, PlanOptions, Workspace};
use hafen_synth::Shape;
use proptest::prelude::*;

fn outputs(text: &str) -> (String, String, Vec<(String, String)>) {
    let mut workspace = Workspace::new();
    workspace.add_spec("p.yaml", text);
    let request = CheckRequest {
        options: CheckOptions { as_of: Some("2026-11-22".into()) },
        ..Default::default()
    };
    let outcome = hafen_engine::check(&workspace, &request);
    let check =
        hafen_engine::diagnostics_json(&outcome.diagnostics, &workspace.sources).to_string();
    let Some(loaded) = outcome.loaded else { return (check, String::new(), Vec::new()) };
    let plan = serde_json::to_string(&hafen_engine::plan(
        &loaded,
        &PlanOptions::default(),
        &mut |_, _| {},
    ))
    .unwrap_or_default();
    let files =
        hafen_engine::render(&loaded).map(|r| r.files.into_iter().collect()).unwrap_or_default();
    (check, plan, files)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn same_input_same_bytes(
        clusters in 1usize..4,
        sites in 1usize..6,
        nodes in 2usize..30,
        tenants in 1usize..6,
        apps in 1usize..12,
        replicas in 1u32..4,
    ) {
        let shape = Shape { clusters, sites, nodes: nodes.max(clusters), tenants, apps: apps.max(tenants), replicas };
        let text = hafen_synth::platform_yaml(shape);
        let first = outputs(&text);
        let second = outputs(&text);
        prop_assert_eq!(&first, &second);
        prop_assert!(!first.0.is_empty());
    }
}
