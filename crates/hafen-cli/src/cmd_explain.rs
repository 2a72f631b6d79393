//! `hafen explain`.

use crate::{exit, output};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The code, e.g. NET001.
    code: Option<String>,
    /// List every code with its severity and a one-line summary.
    #[arg(long, conflicts_with = "code")]
    list: bool,
    /// Output format: human (the Markdown page; a table with --list) or json.
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
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
    let found = if args.format == "json" {
        hafen_engine::explanation_json(code).map(|doc| output::json(&doc))
    } else {
        hafen_engine::explain(code).map(|e| e.text.to_owned())
    };
    match found {
        Some(text) => {
            output::print(&text);
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
