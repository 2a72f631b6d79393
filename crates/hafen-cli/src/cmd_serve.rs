//! `hafen serve`: Home, the dashboard and JSON API over the same engine (`hafen-server`).
//! This module only turns arguments and files into the server's configuration.

use crate::{SpecArgs, exit, input, output};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the dashboard listens unless told otherwise: loopback only.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

/// Options of the dashboard, shared with `hafen run --serve`.
#[derive(clap::Args, Clone)]
pub(crate) struct ServeArgs {
    /// Address to listen on. Keep it on loopback unless a proxy with TLS sits in front.
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR")]
    pub(crate) listen: SocketAddr,
    /// History database (SQLite; created on first start). `:memory:` keeps no history.
    #[arg(long, default_value = ".hafen/history.db", value_name = "PATH")]
    pub(crate) db: PathBuf,
    /// File holding a token (16+ characters) that allows re-running check, plan and render
    /// from the dashboard. Without it the dashboard is read-only.
    #[arg(long, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,
    /// A host name the dashboard answers to when --listen is not loopback (repeatable), such
    /// as the name a reverse proxy forwards. IP addresses are always accepted; other names are
    /// refused, so a DNS-rebinding page cannot read the dashboard.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub(crate) allow_hosts: Vec<String>,
}

/// Reads the token file: trimmed, at least the server's minimum length.
fn read_token(path: &Path) -> Result<String, String> {
    let text = input::read_text(path)?;
    let token = text.trim().to_owned();
    if token.chars().count() < hafen_server::MIN_TOKEN_CHARS {
        return Err(format!(
            "the token in `{}` is too short: use at least {} characters",
            path.display(),
            hafen_server::MIN_TOKEN_CHARS
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            output::eprint(&format!(
                "warning: `{}` is readable by other users; `chmod 600` it\n",
                path.display()
            ));
        }
    }
    Ok(token)
}

/// Starts the server and blocks until Ctrl-C. Returns the exit code.
pub(crate) fn serve(spec: &SpecArgs, args: &ServeArgs) -> u8 {
    // Fail early, with the CLI's own messages, when the files cannot be read at all.
    if let Err(message) = input::workspace(spec) {
        output::error(&message);
        return exit::INPUT;
    }
    let token = match &args.token_file {
        Some(path) => match read_token(path) {
            Ok(t) => Some(t),
            Err(message) => {
                output::error(&message);
                return exit::INPUT;
            }
        },
        None => None,
    };
    if !hafen_store::is_memory(&args.db)
        && let Some(parent) = args.db.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        output::error(&format!(
            "cannot create `{}` for the history database: {}",
            parent.display(),
            input::io_reason(&e)
        ));
        return exit::INPUT;
    }
    let spec_for_loader = spec.clone();
    let config = hafen_server::Config {
        listen: args.listen,
        db: args.db.clone(),
        token: token.clone(),
        loader: Arc::new(move || input::workspace(&spec_for_loader)),
        today: crate::cmd_check::today,
        limits: hafen_server::Limits::default(),
        allowed_hosts: args.allow_hosts.clone(),
    };
    let running = match hafen_server::start(config) {
        Ok(r) => r,
        Err(message) => {
            output::error(&message);
            return exit::INPUT;
        }
    };
    let host = if running.addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", running.addr.port())
    } else {
        running.addr.to_string()
    };
    let mode = if token.is_some() { "re-runs allowed with the token" } else { "read-only" };
    output::eprint(&format!(
        "Hafen Home is running: open http://{host}/ in your browser\n  ({mode}; history in {}; Ctrl-C stops it)\n",
        args.db.display()
    ));
    if !running.addr.ip().is_loopback() {
        output::eprint(&format!(
            "warning: listening on {} — reachable from other machines, without TLS\n",
            running.addr
        ));
    }
    match running.wait() {
        Ok(()) => exit::OK,
        Err(message) => {
            output::error(&message);
            exit::INPUT
        }
    }
}

pub(crate) fn run(args: &Args) -> u8 {
    serve(&args.spec, &args.serve)
}
