//! `hafen init`: writes a commented starting spec, never over an existing file.

use crate::{exit, output};
use std::path::PathBuf;

/// The template, also checked by the tests to load without errors.
pub(crate) const TEMPLATE: &str = include_str!("template.yaml");

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Where to write the spec.
    #[arg(default_value = "platform.yaml")]
    path: PathBuf,
}

pub(crate) fn run(args: &Args) -> u8 {
    if args.path.exists() {
        output::error(&format!(
            "`{}` exists; choose another path, Hafen does not overwrite it",
            args.path.display()
        ));
        return exit::INPUT;
    }
    match std::fs::write(&args.path, TEMPLATE) {
        Ok(()) => {
            output::print(&format!(
                "wrote {}; next: `hafen check {}`\n",
                args.path.display(),
                args.path.display()
            ));
            exit::OK
        }
        Err(err) => {
            output::error(&format!(
                "cannot write `{}`: {}",
                args.path.display(),
                crate::input::io_reason(&err)
            ));
            exit::INPUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TEMPLATE;

    #[test]
    fn template_loads_without_errors() {
        let mut workspace = hafen_engine::Workspace::new();
        workspace.add_spec("platform.yaml", TEMPLATE);
        let (loaded, diagnostics) = workspace.load();
        assert!(loaded.is_some(), "{diagnostics:?}");
        assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:?}");
    }
}
