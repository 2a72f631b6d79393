//! `hafen plan`.

use crate::{SpecArgs, exit, input, output};
use std::io::IsTerminal;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    /// Output format: human, json or markdown.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "markdown"])]
    pub(crate) format: String,
    /// Plan the exit from this provider or site ...
    #[arg(long, value_name = "SOURCE", requires = "to")]
    pub(crate) exit: Option<String>,
    /// ... to this provider or site (or provider type).
    #[arg(long, value_name = "TARGET", requires = "exit")]
    pub(crate) to: Option<String>,
    /// Seed of the sampled thirds and the adversarial search (same seed, same plan).
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Number of sampled thirds of the fleet (at most 10000: each is a full simulation).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=10_000))]
    pub(crate) samples: Option<u16>,
}

/// A progress bar on stderr, drawn only on a terminal.
pub(crate) fn progress_bar() -> impl FnMut(usize, usize) {
    let terminal = std::io::stderr().is_terminal();
    let mut last = usize::MAX;
    move |done: usize, total: usize| {
        if !terminal || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        if pct == last {
            return;
        }
        last = pct;
        let filled = pct / 4;
        let bar: String = "#".repeat(filled) + &"-".repeat(25 - filled);
        output::eprint(&format!("\rsimulating [{bar}] {done}/{total} scenarios"));
        if done >= total {
            output::eprint("\r\x1b[2K");
        }
    }
}

pub(crate) fn run(args: &Args) -> u8 {
    let workspace = match input::workspace(&args.spec) {
        Ok(w) => w,
        Err(message) => {
            output::error(&message);
            return exit::INPUT;
        }
    };
    let (loaded, diagnostics) = workspace.load();
    let Some(loaded) = loaded else {
        output::eprint(&hafen_engine::diagnostics_human(
            &diagnostics,
            &workspace.sources,
            args.spec.color.enabled(true),
        ));
        output::error("the spec could not be loaded; `hafen check` shows the same findings");
        return exit::FINDINGS;
    };
    let defaults = hafen_engine::PlanOptions::default();
    let options = hafen_engine::PlanOptions {
        exit: args.exit.clone().zip(args.to.clone()),
        seed: args.seed.unwrap_or(defaults.seed),
        samples: args.samples.map_or(defaults.samples, usize::from),
        ..defaults
    };
    let report = hafen_engine::plan(&loaded, &options, &mut progress_bar());
    // An exit from or to something the spec and catalogue do not know is bad usage: say what
    // was meant and print no plan.
    if let Some(error) = report.exit.as_ref().and_then(|x| x.error.as_deref()) {
        output::error(&format!("cannot plan the exit: {error}"));
        return exit::INPUT;
    }
    match args.format.as_str() {
        "json" => output::print(&output::json(&serde_json::to_value(&report).unwrap_or_default())),
        "markdown" => output::print(&hafen_engine::plan_markdown(&report)),
        _ => output::print(&hafen_engine::plan_text(&report)),
    }
    exit::OK
}
