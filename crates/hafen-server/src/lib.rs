//! Home: the web dashboard and JSON API of `hafen serve`.
//!
//! The server is an IO edge like the CLI: it reads the spec files (through a loader the CLI
//! hands it), calls `hafen-engine` for check, plan, render and explain, records every run in
//! the history database (`hafen-store`), and turns the engine's own JSON documents — the very
//! ones `hafen check --format json` and `hafen plan --format json` print — into HTML pages and
//! API answers. It adds no logic about platforms of its own, so a page can never disagree with
//! the CLI.
//!
//! Safety (see `security`): binds to loopback by default, read-only unless a token is set,
//! mutations need the token and a same-origin request, body and rate limits, a strict CSP,
//! Host checks against DNS rebinding, and a last redaction pass so no secret value (nor the
//! token) ever leaves in an answer.

mod api;
mod diff;
mod html;
mod listener;
mod markdown;
mod metrics;
mod pages;
mod plan_pages;
mod redact;
mod security;
mod snapshot;
mod svg;
mod util;

pub use snapshot::{Loader, Snapshot};

use axum::Router;
use axum::routing::{get, post};
use hafen_store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// Shortest token accepted: a short one could be guessed, and the redaction pass masks it in
/// every answer, which would garble pages if it were a common word.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Limits that keep one client from taking the server down.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sustained reads per second per client address.
    pub reads_per_second: f64,
    /// Burst of reads per client address.
    pub read_burst: f64,
    /// Mutating requests per minute per client address.
    pub writes_per_minute: f64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Open connections at once; further connections wait.
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed (slow-request defence).
    pub idle_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            reads_per_second: 50.0,
            read_burst: 200.0,
            writes_per_minute: 6.0,
            max_body_bytes: 16 * 1024,
            max_connections: 256,
            idle_timeout: std::time::Duration::from_secs(20),
        }
    }
}

/// How to start the server.
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// History database file (`:memory:` for none on disk).
    pub db: PathBuf,
    /// The token that unlocks mutating endpoints; `None` makes the server read-only.
    pub token: Option<String>,
    /// Reads the spec (and catalogue) files into a workspace; called at start and on re-run.
    pub loader: Loader,
    /// Today's date (YYYY-MM-DD) for date-dependent rules; the edge reads the clock.
    pub today: fn() -> String,
    /// Request limits.
    pub limits: Limits,
    /// Host names (besides IP addresses) the server answers to when it listens on a
    /// non-loopback address, e.g. the name a reverse proxy forwards. Ignored on loopback.
    pub allowed_hosts: Vec<String>,
}

/// (spec digest, source, target) of a computed exit plan.
pub(crate) type ExitKey = (String, String, String);

/// Shared state of a running server.
pub(crate) struct AppState {
    pub(crate) snapshot: RwLock<Arc<Snapshot>>,
    pub(crate) store: Mutex<Store>,
    pub(crate) loader: Loader,
    pub(crate) today: fn() -> String,
    pub(crate) token: Option<String>,
    pub(crate) limits: Limits,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) rate: security::RateLimiter,
    /// Held while a re-run computes, so runs never overlap.
    pub(crate) running: tokio::sync::Mutex<()>,
    /// The address the server listens on, for Host and Origin checks.
    pub(crate) listen: SocketAddr,
    /// Exit plans computed on request, newest last: (spec digest, source, target) → plan.
    pub(crate) exit_cache: Mutex<Vec<(ExitKey, Arc<serde_json::Value>)>>,
    /// The history database's path, for messages.
    pub(crate) db_path: String,
    /// Names the Host check accepts on a non-loopback address.
    pub(crate) allowed_hosts: Vec<String>,
}

impl AppState {
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Runs `f` on the history database. A locked database makes SQLite wait (its busy
    /// timeout), and the connection is shared: done on an async worker, that wait would stall
    /// every other page on a 2-core machine. So the wait happens on a blocking thread, and a
    /// request that cannot get the connection within [`HISTORY_WAIT`] answers "busy" instead
    /// of queueing behind the others.
    pub(crate) fn history<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, hafen_store::StoreError>,
    ) -> Result<T, String> {
        let work = || {
            let deadline = std::time::Instant::now() + HISTORY_WAIT;
            loop {
                match self.store.try_lock() {
                    Ok(guard) => return f(&guard).map_err(|e| e.to_string()),
                    Err(std::sync::TryLockError::Poisoned(p)) => {
                        return f(&p.into_inner()).map_err(|e| e.to_string());
                    }
                    Err(std::sync::TryLockError::WouldBlock) => {
                        if std::time::Instant::now() >= deadline {
                            return Err(format!(
                                "the history database {} is busy (another request has been \
                                 waiting on it for {} s; it may be locked by another process): \
                                 try again in a moment",
                                self.db_path,
                                HISTORY_WAIT.as_secs()
                            ));
                        }
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                }
            }
        };
        let on_async_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_async_worker { tokio::task::block_in_place(work) } else { work() }
    }
}

/// How long a request waits for the shared history connection before it answers "busy".
const HISTORY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A server that is listening, for tests and for `hafen serve`.
pub struct Running {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Running {
    /// Stops the server gracefully and waits for it.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), String> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| "the server thread panicked".to_string())?,
            None => Ok(()),
        }
    }

    /// Blocks until the server ends (Ctrl-C or SIGTERM).
    pub fn wait(mut self) -> Result<(), String> {
        // Keep the sender alive: dropping it would read as a stop request.
        let _keep = self.shutdown.take();
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| "the server thread panicked".to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Opens the history, runs check, plan and render once, binds the address and serves in a
/// background thread. Errors are sentences for people (unusable database, address in use).
pub fn start(config: Config) -> Result<Running, String> {
    if let Some(token) = &config.token
        && token.trim().chars().count() < MIN_TOKEN_CHARS
    {
        return Err(format!(
            "the token is too short: use at least {MIN_TOKEN_CHARS} characters (for example \
             `head -c 24 /dev/urandom | base64 > token`)"
        ));
    }
    let store = hafen_store::open_path(&config.db).map_err(|e| e.to_string())?;
    let db_path = store.path().to_owned();
    let store = Mutex::new(store);
    let snapshot = snapshot::compute(&config.loader, config.today, &store, "startup");
    let std_listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| format!("cannot listen on {}: {}", config.listen, io_reason(&e)))?;
    std_listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
    let state = Arc::new(AppState {
        snapshot: RwLock::new(Arc::new(snapshot)),
        store,
        loader: config.loader,
        today: config.today,
        token: config.token.map(|t| t.trim().to_owned()),
        rate: security::RateLimiter::new(&config.limits),
        limits: config.limits,
        metrics: metrics::Metrics::default(),
        running: tokio::sync::Mutex::new(()),
        listen: addr,
        exit_cache: Mutex::new(Vec::new()),
        db_path,
        allowed_hosts: config.allowed_hosts,
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("hafen-serve".into())
        .spawn(move || run_server(std_listener, state, rx))
        .map_err(|e| format!("cannot start the server thread: {e}"))?;
    Ok(Running { addr, shutdown: Some(tx), thread: Some(thread) })
}

fn run_server(
    std_listener: std::net::TcpListener,
    state: Arc<AppState>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hafen-serve-worker")
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(std_listener)
            .map_err(|e| format!("cannot listen: {e}"))?;
        let limited = listener::Limited::new(
            listener,
            state.limits.max_connections,
            state.limits.idle_timeout,
        );
        let app = router(Arc::clone(&state));
        let shutdown = async move {
            let ctrl_c = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            #[cfg(unix)]
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<()>();
            tokio::select! {
                _ = ctrl_c => {},
                _ = term => {},
                _ = stop => {},
            }
        };
        axum::serve(limited, app.into_make_service_with_connect_info::<listener::ClientAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| format!("the server failed: {e}"))
    })
}

/// The routes. Every answer passes the security layer (headers, Host check, rate limit,
/// metrics, redaction).
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/findings", get(pages::findings))
        .route("/explain", get(pages::explain_list))
        .route("/explain/{code}", get(pages::explain))
        .route("/scenarios", get(pages::scenarios))
        .route("/cost", get(pages::cost))
        .route("/sovereignty", get(pages::sovereignty))
        .route("/repo", get(pages::repo))
        .route("/repo/file", get(pages::repo_file))
        .route("/repo/diff", get(pages::repo_diff))
        .route("/history", get(pages::history))
        .route("/history/{id}", get(pages::history_run))
        .route("/actions/rerun", post(pages::rerun_form))
        .route("/assets/hafen.css", get(html::stylesheet))
        .route("/favicon.svg", get(html::favicon))
        .route("/favicon.ico", get(html::favicon))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::handler))
        .route("/api/overview", get(api::overview))
        .route("/api/check", get(api::check))
        .route("/api/plan", get(api::plan))
        .route("/api/scenarios", get(api::scenarios))
        .route("/api/cost", get(api::cost))
        .route("/api/sovereignty", get(api::sovereignty))
        .route("/api/repo", get(api::repo))
        .route("/api/repo/file", get(api::repo_file))
        .route("/api/repo/diff", get(api::repo_diff))
        .route("/api/history", get(api::history))
        .route("/api/runs", post(api::rerun))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/codes", get(api::codes))
        .route("/api/explain/{code}", get(api::explain))
        .route("/openapi.json", get(api::openapi))
        .fallback(pages::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), security::guard))
        .with_state(state)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "the address is already in use".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::AddrNotAvailable => "the address is not on this machine".into(),
        _ => e.to_string(),
    }
}
