//! One consistent view of the platform: the results of check, plan and render over the same
//! spec texts, computed together and swapped in atomically, so every page of one request
//! sees the same run. Each run is also recorded in the history database.

use crate::redact::Redactor;
use hafen_engine::{CheckOptions, CheckRequest, LoadedPlatform, Summary, Workspace};
use hafen_store::{NewRun, RunKind, RunStatus, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Reads the spec (and catalogue) files into a workspace. The CLI provides it, so the server
/// reads files exactly as `hafen check` does.
pub type Loader = Arc<dyn Fn() -> Result<Workspace, String> + Send + Sync>;

/// Ids of the runs a snapshot recorded.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunIds {
    /// The check run.
    pub check: Option<i64>,
    /// The plan run.
    pub plan: Option<i64>,
    /// The render run.
    pub render: Option<i64>,
}

/// The latest results.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When it was computed (ms since the epoch).
    pub at_ms: i64,
    /// SHA-256 over the spec files' names and texts.
    pub spec_digest: String,
    /// Names of the spec files.
    pub spec_files: Vec<String>,
    /// Why the files could not be read, if they could not.
    pub load_error: Option<String>,
    /// The check document, exactly as `hafen check --format json` prints it (redacted).
    pub check: Value,
    /// Check outcome.
    pub check_status: RunStatus,
    /// Inventory for the overview page.
    pub overview: Value,
    /// The plan, exactly as `hafen plan --format json` prints it.
    pub plan: Option<Value>,
    /// Why there is no plan.
    pub plan_note: Option<String>,
    /// The rendered repository.
    pub repo: Option<Arc<BTreeMap<String, String>>>,
    /// Why there is no repository.
    pub render_note: Option<String>,
    /// Diagnostics of a failed render.
    pub render_diagnostics: Option<Value>,
    /// Runs recorded for this snapshot.
    pub runs: RunIds,
    /// What the history database said when recording failed.
    pub store_error: Option<String>,
    /// Values that must never leave the server.
    pub redactor: Redactor,
    /// The loaded platform, for engine calls a page asks for (exit plans).
    pub loaded: Option<Arc<LoadedPlatform>>,
    /// `check` serialized once, as the CLI prints it (pretty, newline-terminated).
    pub check_text: axum::body::Bytes,
    /// `plan` serialized once, likewise (tens of MB on a large platform).
    pub plan_text: Option<axum::body::Bytes>,
    /// Answers built once per snapshot, already scrubbed (see `Served`).
    pub(crate) served: Served,
}

/// Large answers that do not change while a snapshot is current: built and scrubbed on first
/// request, then sent as they are. Scrubbing a 30 MB plan for every request costs more than
/// building the page it feeds; the answer is the same every time, so once is enough.
#[derive(Debug, Default)]
pub(crate) struct Served {
    pub(crate) check: std::sync::OnceLock<axum::body::Bytes>,
    pub(crate) plan: std::sync::OnceLock<axum::body::Bytes>,
    pub(crate) repo_files: std::sync::OnceLock<axum::body::Bytes>,
}

impl Clone for Served {
    /// A copy starts empty: whoever clones a snapshot may change it, and stale answers must
    /// not travel with it.
    fn clone(&self) -> Served {
        Served::default()
    }
}

/// Pretty JSON with a final newline, exactly as the CLI's `--format json`.
pub(crate) fn pretty(value: &Value) -> axum::body::Bytes {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    axum::body::Bytes::from(text)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// SHA-256 over the spec files: name, length and text of each, in order.
pub(crate) fn spec_digest(workspace: &Workspace) -> String {
    let mut h = hafen_store::Sha256::new();
    for id in &workspace.spec_files {
        if let Some(file) = workspace.sources.get(*id) {
            h.update(file.name.as_bytes());
            h.update(&[0]);
            h.update(file.text.len().to_string().as_bytes());
            h.update(&[0]);
            h.update(file.text.as_bytes());
        }
    }
    h.finish_hex()
}

/// Runs check, plan and render, records each, and returns the snapshot. Never fails: every
/// problem becomes part of the snapshot, shown on the pages.
pub(crate) fn compute(
    loader: &Loader,
    today: fn() -> String,
    store: &Mutex<Store>,
    trigger: &str,
) -> Snapshot {
    let at_ms = now_ms();
    let mut store_errors = Vec::new();
    let workspace = match loader() {
        Ok(w) => w,
        Err(message) => {
            let check = json!({
                "version": 1,
                "summary": {"errors": 0, "warnings": 0, "infos": 0, "suppressed": 0},
                "diagnostics": [],
            });
            let summary = json!({"loaded": false, "error": "the spec files could not be read"});
            let id = record(
                store,
                &mut store_errors,
                RunKind::Check,
                at_ms,
                0,
                "",
                RunStatus::Failed,
                &summary,
                None,
                None,
                trigger,
            );
            let check_text = pretty(&check);
            return Snapshot {
                at_ms,
                spec_digest: String::new(),
                spec_files: Vec::new(),
                load_error: Some(message),
                check,
                check_status: RunStatus::Failed,
                overview: json!(null),
                plan: None,
                plan_note: Some("the spec files could not be read".into()),
                repo: None,
                render_note: Some("the spec files could not be read".into()),
                render_diagnostics: None,
                runs: RunIds { check: id, ..RunIds::default() },
                store_error: store_errors.pop(),
                redactor: Redactor::default(),
                loaded: None,
                check_text,
                plan_text: None,
                served: Served::default(),
            };
        }
    };
    let digest = spec_digest(&workspace);
    let spec_files: Vec<String> =
        workspace.spec_files.iter().map(|id| workspace.sources.name(*id).to_owned()).collect();

    // Check, exactly as `hafen check --format json`.
    let started = Instant::now();
    let request =
        CheckRequest { options: CheckOptions { as_of: Some(today()) }, ..Default::default() };
    let outcome = hafen_engine::check(&workspace, &request);
    let mut check = hafen_engine::diagnostics_json(&outcome.diagnostics, &workspace.sources);
    let redactor = Redactor::from_check(&mut check);
    let summary = Summary::of(&outcome.diagnostics);
    let check_status = if outcome.loaded.is_none() {
        RunStatus::Failed
    } else if outcome.failed() {
        RunStatus::Findings
    } else {
        RunStatus::Ok
    };
    let check_summary = json!({
        "loaded": outcome.loaded.is_some(),
        "errors": summary.errors,
        "warnings": summary.warnings,
        "infos": summary.infos,
        "suppressed": summary.suppressed,
    });
    let check_text = check.to_string();
    let mut runs = RunIds {
        check: record(
            store,
            &mut store_errors,
            RunKind::Check,
            at_ms,
            elapsed_ms(started),
            &digest,
            check_status,
            &check_summary,
            Some(&check_text),
            None,
            trigger,
        ),
        ..RunIds::default()
    };
    let check_failed = outcome.failed();
    let loaded_platform = outcome.loaded.map(Arc::new);
    let overview = match &loaded_platform {
        Some(loaded) => crate::util::overview(loaded),
        None => json!(null),
    };

    let mut snapshot = Snapshot {
        at_ms,
        spec_digest: digest.clone(),
        spec_files,
        load_error: None,
        check,
        check_status,
        overview,
        plan: None,
        plan_note: None,
        repo: None,
        render_note: None,
        render_diagnostics: None,
        runs,
        store_error: None,
        redactor,
        loaded: loaded_platform.clone(),
        check_text: axum::body::Bytes::new(),
        plan_text: None,
        served: Served::default(),
    };
    snapshot.check_text = pretty(&snapshot.check);
    let Some(loaded) = loaded_platform.as_deref() else {
        let note = "The spec could not be loaded; the findings say why.".to_string();
        snapshot.plan_note = Some(note.clone());
        snapshot.render_note = Some(note);
        snapshot.store_error = store_errors.pop();
        return snapshot;
    };

    // Plan, exactly as `hafen plan --format json` (which plans whenever the spec loads).
    let started = Instant::now();
    let report = hafen_engine::plan(loaded, &hafen_engine::PlanOptions::default(), &mut |_, _| {});
    let mut plan = serde_json::to_value(&report).unwrap_or_default();
    snapshot.redactor.scrub_value(&mut plan);
    let plan_summary = plan_summary(&plan);
    let plan_text = plan.to_string();
    runs.plan = record(
        store,
        &mut store_errors,
        RunKind::Plan,
        at_ms,
        elapsed_ms(started),
        &digest,
        RunStatus::Ok,
        &plan_summary,
        Some(&plan_text),
        None,
        trigger,
    );
    snapshot.plan_text = Some(pretty(&plan));
    snapshot.plan = Some(plan);

    // Render, as `hafen render` does: not while check reports errors.
    if check_failed {
        snapshot.render_note = Some(
            "not rendered: `hafen check` reports errors (as `hafen render` refuses to write)"
                .into(),
        );
    } else {
        let started = Instant::now();
        match hafen_engine::render(loaded) {
            Ok(repo) => {
                let mut files = repo.files;
                for content in files.values_mut() {
                    snapshot.redactor.scrub_string(content);
                }
                let bytes: usize = files.values().map(String::len).sum();
                let summary = json!({"files": files.len(), "bytes": bytes});
                runs.render = record(
                    store,
                    &mut store_errors,
                    RunKind::Render,
                    at_ms,
                    elapsed_ms(started),
                    &digest,
                    RunStatus::Ok,
                    &summary,
                    None,
                    Some(&files),
                    trigger,
                );
                snapshot.repo = Some(Arc::new(files));
            }
            Err(diagnostics) => {
                let mut doc = hafen_engine::diagnostics_json(&diagnostics, &workspace.sources);
                snapshot.redactor.scrub_value(&mut doc);
                let s = Summary::of(&diagnostics);
                let summary = json!({"errors": s.errors, "warnings": s.warnings});
                let text = doc.to_string();
                runs.render = record(
                    store,
                    &mut store_errors,
                    RunKind::Render,
                    at_ms,
                    elapsed_ms(started),
                    &digest,
                    RunStatus::Failed,
                    &summary,
                    Some(&text),
                    None,
                    trigger,
                );
                snapshot.render_note = Some("rendering failed; the findings below say why".into());
                snapshot.render_diagnostics = Some(doc);
            }
        }
    }
    snapshot.runs = runs;
    snapshot.store_error = store_errors.pop();
    snapshot
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The short plan summary kept in the history list: the report's own `summary` object.
fn plan_summary(plan: &Value) -> Value {
    match plan.get("summary") {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        _ => json!({}),
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    store: &Mutex<Store>,
    errors: &mut Vec<String>,
    kind: RunKind,
    started_at_ms: i64,
    duration_ms: i64,
    spec_digest: &str,
    status: RunStatus,
    summary: &Value,
    result: Option<&str>,
    files: Option<&BTreeMap<String, String>>,
    trigger: &str,
) -> Option<i64> {
    let run = NewRun {
        kind,
        started_at_ms,
        duration_ms,
        spec_digest,
        status,
        summary,
        result,
        files,
        trigger,
    };
    let mut store = match store.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    match store.record(&run) {
        Ok(id) => Some(id),
        Err(e) => {
            errors.push(e.to_string());
            None
        }
    }
}
