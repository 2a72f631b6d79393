//! `hafen render` and `hafen run`.

use crate::{SpecArgs, cmd_check, cmd_plan, exit, input, output, write};
use hafen_engine::{CheckOptions, CheckRequest, Summary};
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    spec: SpecArgs,
    /// Output folder of the rendered repository.
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Render into a folder Hafen did not create (its own files there are kept untouched).
    #[arg(long)]
    force: bool,
    /// Do not write; exit 1 and list the differences if the folder differs from the render.
    #[arg(long)]
    check: bool,
    /// Render even when `check` reports errors.
    #[arg(long)]
    ignore_findings: bool,
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Output folder of the rendered repository.
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Render into a folder Hafen did not create (its own files there are kept untouched).
    #[arg(long)]
    force: bool,
    /// Then keep the dashboard (`hafen serve`) running on the same spec.
    #[arg(long)]
    serve: bool,
    #[command(flatten)]
    serve_args: crate::cmd_serve::ServeArgs,
}

/// Writes (or, with `check`, compares) the repository `check` rendered, or renders it when
/// `check` refused to (`--ignore-findings` on a spec the renderer refuses prints why).
fn render_into(
    workspace: &hafen_engine::Workspace,
    loaded: &hafen_engine::LoadedPlatform,
    rendered: Option<hafen_engine::Repo>,
    out: &std::path::Path,
    force: bool,
    check: bool,
    color: bool,
) -> u8 {
    let repo = match rendered.map_or_else(|| hafen_engine::render(loaded), Ok) {
        Ok(repo) => repo,
        Err(diagnostics) => {
            output::eprint(&hafen_engine::diagnostics_human(
                &diagnostics,
                &workspace.sources,
                color,
            ));
            output::error("rendering failed; nothing was written");
            return exit::FINDINGS;
        }
    };
    if check {
        return match write::drift(out, &repo) {
            Ok(changes) if changes.is_empty() => {
                output::print(&format!(
                    "{} is up to date ({} files)\n",
                    out.display(),
                    repo.files.len()
                ));
                exit::OK
            }
            Ok(changes) => {
                let mut text = format!(
                    "{} differs from what the spec renders ({} files):\n",
                    out.display(),
                    changes.len()
                );
                for change in &changes {
                    text.push_str(&format!("  {change}\n"));
                }
                let foreign = out.is_dir()
                    && !out.join(write::MANIFEST).exists()
                    && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some());
                if foreign {
                    // A plain `render` would refuse this folder: say so instead of suggesting it.
                    text.push_str(&format!(
                        "`{0}` is not a repository Hafen rendered (it has no {1}): point --check at the rendered repository, or, if the platform belongs in this folder, run `hafen render <spec> --out {0} --force` once and commit the result\n",
                        out.display(),
                        write::MANIFEST
                    ));
                } else {
                    text.push_str(&format!(
                        "run `hafen render <spec> --out {}` and commit the result\n",
                        out.display()
                    ));
                }
                output::print(&text);
                exit::FINDINGS
            }
            Err(message) => {
                output::error(&message);
                exit::INPUT
            }
        };
    }
    match write::write_repo(out, &repo, force) {
        Ok(summary) => {
            let n = repo.files.len();
            output::print(&format!(
                "rendered {n} file{} into {} ({} added, {} changed, {} removed, {} of yours kept)\n",
                if n == 1 { "" } else { "s" },
                out.display(),
                summary.added,
                summary.changed,
                summary.removed,
                summary.kept
            ));
            exit::OK
        }
        Err(message) => {
            output::error(&message);
            exit::INPUT
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
    let color = args.spec.color.enabled(true);
    let request = CheckRequest {
        options: CheckOptions { as_of: Some(cmd_check::today()) },
        ..Default::default()
    };
    let mut outcome = hafen_engine::check(&workspace, &request);
    let rendered = outcome.repo.take();
    let Some(loaded) = &outcome.loaded else {
        output::eprint(&hafen_engine::diagnostics_human(
            &outcome.diagnostics,
            &workspace.sources,
            color,
        ));
        output::error(if outcome.rules_ran {
            "the spec has errors that rendering cannot pass (above); nothing was written"
        } else {
            "the spec could not be loaded; nothing was written"
        });
        return exit::FINDINGS;
    };
    if outcome.failed() && !args.ignore_findings && !args.check {
        let errors: Vec<_> = outcome.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        output::eprint(&hafen_engine::diagnostics_human(&errors, &workspace.sources, color));
        output::error(
            "`hafen check` reports errors; fix them or pass --ignore-findings; nothing was written",
        );
        return exit::FINDINGS;
    }
    render_into(&workspace, loaded, rendered, &args.out, args.force, args.check, color)
}

pub(crate) fn run_all(args: &RunArgs) -> u8 {
    // A dashboard that cannot listen should say so before the repository is rewritten.
    if args.serve
        && let Err(e) = std::net::TcpListener::bind(args.serve_args.listen)
    {
        output::error(&format!(
            "cannot listen on {}: {} (choose another with --listen); nothing was rendered",
            args.serve_args.listen,
            input::io_reason(&e)
        ));
        return exit::INPUT;
    }
    let code = run_all_steps(args);
    if args.serve && code != exit::INPUT {
        output::print("\n== serve ==\n");
        let served = crate::cmd_serve::serve(&args.spec, &args.serve_args);
        return if served == exit::OK { code } else { served };
    }
    code
}

fn run_all_steps(args: &RunArgs) -> u8 {
    let workspace = match input::workspace(&args.spec) {
        Ok(w) => w,
        Err(message) => {
            output::error(&message);
            return exit::INPUT;
        }
    };
    let color = args.spec.color.enabled(false);
    let request = CheckRequest {
        options: CheckOptions { as_of: Some(cmd_check::today()) },
        ..Default::default()
    };
    let mut outcome = hafen_engine::check(&workspace, &request);
    let rendered = outcome.repo.take();
    let mut text = String::from("== check ==\n");
    let findings = hafen_engine::diagnostics_human(&outcome.diagnostics, &workspace.sources, color);
    text.push_str(&findings);
    if !findings.is_empty() {
        text.push('\n');
    }
    text.push_str(&cmd_check::summary_line(Summary::of(&outcome.diagnostics), outcome.rules_ran));
    output::print(&text);
    let Some(loaded) = &outcome.loaded else { return exit::FINDINGS };
    if outcome.failed() {
        output::error("not planning or rendering a platform with errors");
        return exit::FINDINGS;
    }
    output::print("\n== plan ==\n");
    let report = hafen_engine::plan(
        loaded,
        &hafen_engine::PlanOptions::default(),
        &mut cmd_plan::progress_bar(),
    );
    output::print(&hafen_engine::plan_text(&report));
    output::print("\n== render ==\n");
    render_into(&workspace, loaded, rendered, &args.out, args.force, false, color)
}
