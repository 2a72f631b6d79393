//! `hafen explain`.

use crate::{exit, output};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The code, e.g. NET001.
    code: Option<String>,
    /// List every code with its severity and a one-line summary.
    #[arg(long, conflicts_with = "code")]
    list: bool,
    /// Output format for --list: human or json.
    #[arg(long, default_value = "human")]
    format: String,
}

pub(crate) fn run(args: &Args) -> u8 {
    if args.list || args.code.is_none() {
        let codes = hafen_engine::all_codes();
        if args.format == "json" {
            let list: Vec<serde_json::Value> = codes
                .iter()
                .map(|c| serde_json::json!({"code": c.code, "severity": c.severity.as_str(), "summary": c.summary}))
                .collect();
            output::print(&output::json(&serde_json::Value::Array(list)));
        } else {
            let mut text = String::new();
            for c in codes {
                text.push_str(&format!("{:<8} {:<8} {}\n", c.code, c.severity.as_str(), c.summary));
            }
            output::print(&text);
        }
        return exit::OK;
    }
    let code = args.code.as_deref().unwrap_or_default();
    match hafen_engine::explain(code) {
        Some(explanation) => {
            output::print(explanation.text);
            exit::OK
        }
        None => {
            output::error(&format!(
                "unknown code `{code}`; `hafen explain --list` shows all codes"
            ));
            exit::INPUT
        }
    }
}
