//! Terminal decisions: colour only on a terminal (and never with NO_COLOR), and writes that
//! tolerate a closed pipe (`hafen check | head` must not panic).

use std::io::{IsTerminal, Write};

/// `--color` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour text written to stdout (`stderr == false`) or stderr.
    pub(crate) fn enabled(self, stderr: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let terminal = if stderr {
                    std::io::stderr().is_terminal()
                } else {
                    std::io::stdout().is_terminal()
                };
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// Writes to stdout, ignoring a closed pipe.
pub(crate) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes to stderr, ignoring failures.
pub(crate) fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Pretty JSON with a trailing newline.
pub(crate) fn json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    text
}

/// `error: message` on stderr, coloured when stderr is a terminal.
pub(crate) fn error(message: &str) {
    let color = ColorChoice::Auto.enabled(true);
    if color {
        eprint(&format!("\x1b[1;31merror\x1b[0m: {message}\n"));
    } else {
        eprint(&format!("error: {message}\n"));
    }
}
