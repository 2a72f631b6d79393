//! `hafen check`.

use crate::{SpecArgs, exit, input, output};
use hafen_engine::{CheckOptions, CheckRequest, Summary};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    spec: SpecArgs,
    /// Output format: human, json or sarif.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "sarif"])]
    format: String,
    /// Treat this code as an error (repeatable, any case); `warnings` raises every warning.
    #[arg(long, value_name = "CODE")]
    deny: Vec<String>,
    /// Suppress this code (repeatable, any case); it is still reported as suppressed.
    #[arg(long, value_name = "CODE")]
    allow: Vec<String>,
    /// Judge date-dependent rules (restore-test age, runbook age) as of this date (YYYY-MM-DD).
    /// Without it they are judged as of today.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
}

/// Today's date as YYYY-MM-DD from the system clock, which only this edge crate may read.
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The codes of `--deny` or `--allow` in their canonical spelling; an unknown code is a usage
/// error with the closest code as a hint, so a typo never silently does nothing.
fn canonical_codes(codes: &[String], flag: &str) -> Result<Vec<String>, String> {
    codes
        .iter()
        .map(|code| {
            if flag == "--deny" && code.trim().eq_ignore_ascii_case("warnings") {
                return Ok("warnings".to_owned());
            }
            hafen_engine::resolve_code(code).map(str::to_owned).map_err(|hint| {
                let hint = match hint {
                    Some(h) => format!("; did you mean `{h}`?"),
                    None => String::new(),
                };
                let warnings = if flag == "--deny" { " (or `warnings`)" } else { "" };
                format!(
                    "unknown code `{code}` in {flag}{hint}\n  `hafen explain --list` shows every code{warnings}"
                )
            })
        })
        .collect()
}

pub(crate) fn run(args: &Args) -> u8 {
    let (deny, allow) =
        match (canonical_codes(&args.deny, "--deny"), canonical_codes(&args.allow, "--allow")) {
            (Ok(deny), Ok(allow)) => (deny, allow),
            (Err(message), _) | (_, Err(message)) => {
                output::error(&message);
                return exit::INPUT;
            }
        };
    let workspace = match input::workspace(&args.spec) {
        Ok(w) => w,
        Err(message) => {
            output::error(&message);
            return exit::INPUT;
        }
    };
    let request = CheckRequest {
        options: CheckOptions { as_of: Some(args.as_of.clone().unwrap_or_else(today)) },
        deny,
        allow,
    };
    let outcome = hafen_engine::check(&workspace, &request);
    match args.format.as_str() {
        "json" => output::print(&output::json(&hafen_engine::diagnostics_json(
            &outcome.diagnostics,
            &workspace.sources,
        ))),
        "sarif" => {
            // The working directory anchors `%SRCROOT%`; unknown, absolute paths stay absolute.
            let root = std::env::current_dir().ok().and_then(|d| d.to_str().map(str::to_owned));
            output::print(&output::json(&hafen_engine::diagnostics_sarif_at(
                &outcome.diagnostics,
                &workspace.sources,
                root.as_deref(),
            )))
        }
        _ => {
            let color = args.spec.color.enabled(false);
            let mut text =
                hafen_engine::diagnostics_human(&outcome.diagnostics, &workspace.sources, color);
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&summary_line(Summary::of(&outcome.diagnostics), outcome.rules_ran));
            output::print(&text);
        }
    }
    if outcome.failed() { exit::FINDINGS } else { exit::OK }
}

/// `2 errors, 1 warning, 1 suppressed` or `no findings`; `checked` tells whether the rules
/// ran (a spec that could not be loaded only has loader findings).
pub(crate) fn summary_line(summary: Summary, checked: bool) -> String {
    let mut parts = Vec::new();
    let plural =
        |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
    if summary.errors > 0 {
        parts.push(plural(summary.errors, "error"));
    }
    if summary.warnings > 0 {
        parts.push(plural(summary.warnings, "warning"));
    }
    if summary.infos > 0 {
        parts.push(plural(summary.infos, "note"));
    }
    if summary.suppressed > 0 {
        parts.push(format!("{} suppressed", summary.suppressed));
    }
    let status = if summary.errors > 0 {
        if checked { "check failed" } else { "the spec could not be loaded" }
    } else {
        "check passed"
    };
    if parts.is_empty() {
        format!("{status}: no findings\n")
    } else {
        format!("{status}: {}\n", parts.join(", "))
    }
}
