//! The planner: what the platform can carry, what breaks when parts of it fail while the
//! provider has no spare capacity, what it costs, who can reach its data, and how to leave.
//!
//! Everything is a pure function of the loaded platform and [`Options`]; the report is plain
//! data with a stable JSON form (`version` field) and text and Markdown renderings.

use hafen_spec::LoadedPlatform;
use serde::Serialize;

/// Planner inputs besides the platform.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Exit planning: move everything at `source` (provider or site) to `target`.
    pub exit: Option<(String, String)>,
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Format version of this JSON document.
    pub version: u32,
    /// Platform name.
    pub platform: String,
}

/// Computes the plan. `progress(done, total)` is called while scenarios run.
pub fn plan(
    loaded: &LoadedPlatform,
    _options: &Options,
    _progress: &mut dyn FnMut(usize, usize),
) -> Report {
    Report { version: 1, platform: loaded.platform.metadata.name.clone() }
}

/// Terminal rendering.
pub fn to_text(report: &Report) -> String {
    format!("plan for {}\n", report.platform)
}

/// Markdown rendering for pull requests.
pub fn to_markdown(report: &Report) -> String {
    format!("# Plan for `{}`\n", report.platform)
}
