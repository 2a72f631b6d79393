//! Shared helpers for the planner's integration tests: load a spec text with the built-in
//! catalogue and plan it.

#![allow(dead_code, unreachable_pub)]

use hafen_plan::{Options, Report, ScenarioResult};
use hafen_spec::LoadedPlatform;

pub fn load(text: &str) -> LoadedPlatform {
    let mut sources = hafen_diag::Sources::new();
    let (catalog, _) = hafen_catalog::Catalog::builtin(&mut sources);
    let (loaded, diagnostics) = hafen_spec::load_str("test.yaml", text, &mut sources, &catalog);
    match loaded {
        Some(l) => l,
        None => panic!(
            "spec does not load:\n{}",
            hafen_diag::human::render(&diagnostics, &sources, false)
        ),
    }
}

pub fn plan(text: &str) -> Report {
    plan_with(text, &Options { samples: 20, ..Options::default() })
}

pub fn plan_with(text: &str, options: &Options) -> Report {
    hafen_plan::plan(&load(text), options, &mut |_, _| {})
}

pub fn scenario<'a>(report: &'a Report, id: &str) -> &'a ScenarioResult {
    report.scenarios.iter().find(|s| s.id == id).unwrap_or_else(|| {
        panic!(
            "no scenario {id}; have {:?}",
            report.scenarios.iter().map(|s| &s.id).collect::<Vec<_>>()
        )
    })
}

pub fn example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/two-stack-hetzner/platform.yaml"
    ))
    .unwrap_or_else(|e| panic!("example: {e}"))
}

/// A one-site platform at Hetzner Cloud: `{pools}` and `{tenants}` and `{sites}` are spliced in.
pub fn platform(sites: &str, clusters: &str, tenants: &str, scenarios: &str) -> String {
    format!(
        r#"apiVersion: hafen.dev/v1alpha1
kind: Platform
metadata: {{ name: incident }}
spec:
  team: {{ onCall: 3 }}
  gitops: {{ repo: ssh://git@git.example.eu/platform/incident.git }}
  providers:
    - {{ name: hcloud, type: hetzner-cloud }}
  sites:
{sites}
  clusters:
{clusters}
  tenants:
{tenants}
  scenarios:
{scenarios}
"#
    )
}
