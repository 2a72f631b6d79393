//! The `hafen` binary: argument parsing and process exit codes. Each command lives in its own
//! module as a thin wrapper over `hafen-engine`; only this crate touches files and terminals.

mod cmd_check;
mod cmd_explain;
mod cmd_init;
mod cmd_plan;
mod cmd_render;
mod cmd_serve;
mod input;
mod output;
mod write;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes shared by every command.
pub(crate) mod exit {
    /// Clean.
    pub(crate) const OK: u8 = 0;
    /// Findings with errors, or drift under `render --check`.
    pub(crate) const FINDINGS: u8 = 1;
    /// Unreadable input, bad usage or an IO failure.
    pub(crate) const INPUT: u8 = 2;
}

#[derive(Parser)]
#[command(
    name = "hafen",
    version,
    about = "Declare a sovereign platform once; check it, simulate failures, price it and render it as a GitOps repository",
    long_about = None,
    after_help = "Examples:\n  hafen check platform.yaml\n  hafen plan platform.yaml --format markdown\n  hafen render platform.yaml --out ./platform-repo\n  hafen run examples/two-stack-hetzner/platform.yaml --out out/beach\n\nExit codes: 0 clean, 1 findings (errors) or drift, 2 unreadable input or usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command that reads a spec shares.
#[derive(clap::Args, Clone)]
pub(crate) struct SpecArgs {
    /// Platform spec files, or folders whose *.yaml and *.yml files (subfolders included, hidden
    /// ones and rendered repositories not) form the spec.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Catalogue file overriding or extending the built-in provider facts (repeatable).
    #[arg(long = "catalog", value_name = "FILE")]
    pub(crate) catalogs: Vec<PathBuf>,
    /// When to colour output: auto (only on a terminal, not with NO_COLOR), always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    pub(crate) color: output::ColorChoice,
}

#[derive(Subcommand)]
enum Command {
    /// Check a platform spec against the rule catalogue.
    #[command(
        after_help = "Examples:\n  hafen check platform.yaml\n  hafen check platform.yaml --format sarif > hafen.sarif\n  hafen check platform.yaml --deny warnings --allow OPS001\n\nExit codes: 0 no errors, 1 errors found, 2 unreadable input or an unknown code in --deny or --allow."
    )]
    Check(cmd_check::Args),
    /// Simulate failures under capacity scarcity, and report cost, sovereignty and exit.
    #[command(
        after_help = "Examples:\n  hafen plan platform.yaml\n  hafen plan platform.yaml --format json > plan.json\n  hafen plan platform.yaml --exit hcloud --to robot\n\nExit codes: 0 planned, 1 the spec has errors (`hafen check` shows them), 2 unreadable input,\nbad usage, or an --exit from or --to a provider the spec and catalogue do not know."
    )]
    Plan(cmd_plan::Args),
    /// Render the platform as a GitOps repository.
    #[command(
        after_help = "Examples:\n  hafen render platform.yaml --out ./platform-repo\n  hafen render platform.yaml --out ./platform-repo --check   # CI: fail on drift\n\nThe output folder is replaced atomically. Hafen refuses to write into a folder it did not\ncreate unless --force is given, and never deletes or changes files it did not write.\n\nExit codes: 0 written (or up to date under --check), 1 `hafen check` reports errors, the\nrenderer refuses the spec, or the folder differs under --check, 2 unreadable input, bad usage,\nor the output folder cannot be written."
    )]
    Render(cmd_render::Args),
    /// Check, plan and render in one go: the main job.
    #[command(
        after_help = "Examples:\n  hafen run examples/two-stack-hetzner/platform.yaml --out out/beach\n  hafen run examples/two-stack-hetzner/platform.yaml --out out/beach --serve\n\nExit codes: 0 checked, planned and rendered (and, with --serve, stopped with Ctrl-C), 1 `check`\nreports errors or the renderer refuses the spec, 2 unreadable input, bad usage, the output\nfolder cannot be written, or the dashboard cannot listen."
    )]
    Run(cmd_render::RunArgs),
    /// Serve Home: the dashboard and JSON API over the same engine, with a history.
    #[command(
        after_help = "Examples:\n  hafen serve platform.yaml                 # then open http://127.0.0.1:8080/\n  hafen serve platform.yaml --token-file token --db /var/lib/hafen/history.db\n\nRead-only unless --token-file is given; binds to 127.0.0.1 unless --listen says otherwise.\n\nExit codes: 0 stopped with Ctrl-C, 2 unreadable input or token file, bad usage, a history\ndatabase that cannot be opened, or an address it cannot listen on."
    )]
    Serve(cmd_serve::Args),
    /// Explain a diagnostic code, or list all codes.
    #[command(
        after_help = "Examples:\n  hafen explain NET001\n  hafen explain NET001 --format json\n  hafen explain --list\n\nExit codes: 0 explained or listed, 2 unknown code or bad usage."
    )]
    Explain(cmd_explain::Args),
    /// Write a commented starting platform.yaml.
    #[command(
        after_help = "Example:\n  hafen init platform.yaml && hafen check platform.yaml\n\nExit codes: 0 written, 2 the file exists (it is never overwritten) or cannot be written, or bad\nusage."
    )]
    Init(cmd_init::Args),
    /// Print the JSON Schema of platform.yaml, or of tenant files (for editors).
    #[command(
        after_help = "Examples:\n  hafen schema > platform.schema.json\n  hafen schema tenant > tenant.schema.json\n\nExit codes: 0 printed, 2 bad usage."
    )]
    Schema {
        /// Which document: platform or tenant.
        #[arg(default_value = "platform", value_parser = ["platform", "tenant"])]
        document: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { exit::INPUT } else { exit::OK });
        }
    };
    let code = match cli.command {
        Command::Check(args) => cmd_check::run(&args),
        Command::Plan(args) => cmd_plan::run(&args),
        Command::Render(args) => cmd_render::run(&args),
        Command::Run(args) => cmd_render::run_all(&args),
        Command::Serve(args) => cmd_serve::run(&args),
        Command::Explain(args) => cmd_explain::run(&args),
        Command::Init(args) => cmd_init::run(&args),
        Command::Schema { document } => {
            let text = if document == "tenant" {
                hafen_engine::tenant_schema_text()
            } else {
                hafen_engine::spec_schema_text()
            };
            output::print(&text);
            exit::OK
        }
    };
    ExitCode::from(code)
}
