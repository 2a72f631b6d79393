//! The JSON API: each page's data, documented in `docs/openapi.json` (served at
//! `/openapi.json`; a test checks real answers against it). Check and plan answers are the
//! CLI's own documents, byte for byte the same values `--format json` prints.

use crate::pages::{check_repo_path, filter_diagnostics, repo_source, run_id};
use crate::snapshot::Snapshot;
use crate::util::{self, param};
use crate::{AppState, snapshot};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hafen_store::{RunKind, RunRecord};
use serde_json::{Value, json};
use std::sync::Arc;

type St = State<Arc<AppState>>;

/// The OpenAPI document, embedded.
pub(crate) const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    let mut r = (status, body + "\n").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A JSON document serialized once per snapshot.
/// A JSON answer built once per snapshot: `make` runs on the first request, its text is
/// scrubbed once, and later requests send the same bytes (marked so the guard does not scan
/// them again).
fn served_json(
    state: &AppState,
    s: &Snapshot,
    cell: &std::sync::OnceLock<axum::body::Bytes>,
    make: impl FnOnce() -> axum::body::Bytes,
) -> Response {
    let bytes = cell.get_or_init(|| {
        let text = make();
        match std::str::from_utf8(&text)
            .ok()
            .and_then(|t| s.redactor.scrub_output(t, state.token.as_deref()))
        {
            Some(scrubbed) => axum::body::Bytes::from(scrubbed),
            None => text,
        }
    });
    let mut r = (StatusCode::OK, bytes.clone()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.extensions_mut().insert(crate::security::PreScrubbed);
    r
}

/// `{"error": message}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({"error": message}))
}

fn ok(value: &Value) -> Response {
    json_response(StatusCode::OK, value)
}

fn meta(s: &Snapshot) -> Value {
    json!({
        "specDigest": s.spec_digest,
        "computedAt": util::format_time(s.at_ms),
        "computedAtMs": s.at_ms,
        "runs": {"check": s.runs.check, "plan": s.runs.plan, "render": s.runs.render},
    })
}

/// `GET /healthz`: 200 when the server answers and the history database does; 503 otherwise.
pub(crate) async fn healthz(State(state): St) -> Response {
    let s = state.snapshot();
    let (status, history) = match state.history(hafen_store::Store::run_count) {
        Ok(_) => (StatusCode::OK, json!("ok")),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, json!(e)),
    };
    json_response(
        status,
        &json!({
            "status": if status == StatusCode::OK { "ok" } else { "degraded" },
            "history": history,
            "specLoaded": !s.overview.is_null(),
            "computedAtMs": s.at_ms,
            "version": env!("CARGO_PKG_VERSION"),
        }),
    )
}

/// `GET /api/overview`.
pub(crate) async fn overview(State(state): St) -> Response {
    let s = state.snapshot();
    ok(&json!({
        "meta": meta(&s),
        "check": {
            "status": s.check_status.as_str(),
            "summary": s.check["summary"],
        },
        "specFiles": s.spec_files,
        "loadError": s.load_error,
        "inventory": s.overview,
    }))
}

/// `GET /api/check?severity=&code=`: the CLI's check document; filters narrow
/// `diagnostics` only (the summary stays that of the whole run).
pub(crate) async fn check(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let severity = param(&params, "severity");
    let code = param(&params, "code");
    if severity.is_none() && code.is_none() {
        return served_json(&state, &s, &s.served.check, || s.check_text.clone());
    }
    if let Some(sev) = severity
        && !["all", "error", "warning", "info", "suppressed"].contains(&sev)
    {
        return json_error(
            StatusCode::BAD_REQUEST,
            "severity must be all, error, warning, info or suppressed",
        );
    }
    if let Some(code) = code
        && (code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return json_error(StatusCode::BAD_REQUEST, "a code is letters and digits, like NET001");
    }
    let list: Vec<Value> =
        filter_diagnostics(&s.check, severity, code).into_iter().cloned().collect();
    let mut doc = s.check.clone();
    doc["diagnostics"] = Value::Array(list);
    ok(&doc)
}

/// `GET /api/plan`: the CLI's plan document.
pub(crate) async fn plan(State(state): St) -> Response {
    let s = state.snapshot();
    match &s.plan_text {
        Some(text) => served_json(&state, &s, &s.served.plan, || text.clone()),
        None => json_error(StatusCode::NOT_FOUND, s.plan_note.as_deref().unwrap_or("no plan")),
    }
}

fn plan_part(s: &Snapshot, keys: &[&str]) -> Response {
    match &s.plan {
        Some(plan) => {
            let mut out = serde_json::Map::new();
            out.insert("platform".into(), plan["platform"].clone());
            for k in keys {
                out.insert((*k).into(), plan.get(*k).cloned().unwrap_or(Value::Null));
            }
            ok(&Value::Object(out))
        }
        None => json_error(StatusCode::NOT_FOUND, s.plan_note.as_deref().unwrap_or("no plan")),
    }
}

/// `GET /api/scenarios`.
pub(crate) async fn scenarios(State(state): St) -> Response {
    plan_part(&state.snapshot(), &["summary", "scenarios", "samples"])
}

/// `GET /api/cost`.
pub(crate) async fn cost(State(state): St) -> Response {
    plan_part(&state.snapshot(), &["cost"])
}

/// `GET /api/sovereignty?exit=&to=`: with both parameters, `exit` is the exit plan
/// `hafen plan --exit SOURCE --to TARGET` computes.
pub(crate) async fn sovereignty(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let mut answer = match &s.plan {
        Some(plan) => json!({
            "platform": plan["platform"],
            "sovereignty": plan["sovereignty"],
            "exit": plan["exit"],
        }),
        None => {
            return json_error(StatusCode::NOT_FOUND, s.plan_note.as_deref().unwrap_or("no plan"));
        }
    };
    match exit_params(&params) {
        Ok(None) => {}
        Ok(Some((source, target))) => match exit_plan(&state, &s, source, target).await {
            Ok(x) => answer["exit"] = (*x).clone(),
            Err(m) => return json_error(StatusCode::BAD_REQUEST, &m),
        },
        Err(m) => return json_error(StatusCode::BAD_REQUEST, &m),
    }
    ok(&answer)
}

/// `exit` and `to` parameters: both or neither, names of at most 64 characters.
pub(crate) fn exit_params(params: &[(String, String)]) -> Result<Option<(&str, &str)>, String> {
    let source = param(params, "exit").filter(|v| !v.is_empty());
    let target = param(params, "to").map(str::trim).filter(|v| !v.is_empty());
    match (source, target) {
        (None, None) => Ok(None),
        (Some(s), Some(t)) => {
            let name_ok = |v: &str| {
                v.len() <= 64
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            };
            if name_ok(s) && name_ok(t) {
                Ok(Some((s, t)))
            } else {
                Err("`exit` and `to` name a provider, site or provider type (letters, digits, `-`)"
                    .into())
            }
        }
        _ => Err("give both `exit` (what to leave) and `to` (where to go)".into()),
    }
}

/// The exit plan, computed by the engine on request and kept for the next asks.
pub(crate) async fn exit_plan(
    state: &Arc<AppState>,
    s: &Arc<Snapshot>,
    source: &str,
    target: &str,
) -> Result<Arc<Value>, String> {
    let key = (s.spec_digest.clone(), source.to_owned(), target.to_owned());
    {
        let cache = state.exit_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, v)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(Arc::clone(v));
        }
    }
    let Some(loaded) = s.loaded.clone() else {
        return Err(s.plan_note.clone().unwrap_or_else(|| "no plan".into()));
    };
    let snapshot = Arc::clone(s);
    let options = hafen_engine::PlanOptions {
        exit: Some((source.to_owned(), target.to_owned())),
        ..hafen_engine::PlanOptions::default()
    };
    let exit = tokio::task::spawn_blocking(move || {
        let report = hafen_engine::plan(&loaded, &options, &mut |_, _| {});
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        snapshot.redactor.scrub_value(&mut v);
        v.get("exit").cloned().unwrap_or(Value::Null)
    })
    .await
    .map_err(|_| "the exit plan failed unexpectedly".to_string())?;
    let exit = Arc::new(exit);
    let mut cache = state.exit_cache.lock().unwrap_or_else(|p| p.into_inner());
    cache.push((key, Arc::clone(&exit)));
    if cache.len() > 16 {
        cache.remove(0);
    }
    Ok(exit)
}

fn err_pair(pair: (StatusCode, String)) -> Response {
    json_error(pair.0, &pair.1)
}

/// `GET /api/repo?run=`: file list.
pub(crate) async fn repo(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let run = match run_id(param(&params, "run")) {
        Ok(r) => r,
        Err(e) => return err_pair(e),
    };
    let source = match repo_source(&state, &s, run) {
        Ok(src) => src,
        Err(e) => return err_pair(e),
    };
    let list = || {
        let files: Vec<Value> = source
            .files()
            .iter()
            .map(|(path, content)| {
                json!({"path": path, "size": content.len(), "sha256": hafen_store::sha256_hex(content.as_bytes())})
            })
            .collect();
        json!({"run": run.or(s.runs.render), "files": files})
    };
    match run {
        // The current render's list is asked for by every file-tree view: build it once.
        None => served_json(&state, &s, &s.served.repo_files, || {
            axum::body::Bytes::from(list().to_string())
        }),
        Some(_) => ok(&list()),
    }
}

/// `GET /api/repo/file?path=&run=`.
pub(crate) async fn repo_file(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let run = match run_id(param(&params, "run")) {
        Ok(r) => r,
        Err(e) => return err_pair(e),
    };
    let path = match check_repo_path(param(&params, "path").unwrap_or("")) {
        Ok(p) => p.to_owned(),
        Err(e) => return json_error(StatusCode::BAD_REQUEST, e),
    };
    let source = match repo_source(&state, &s, run) {
        Ok(src) => src,
        Err(e) => return err_pair(e),
    };
    match source.files().get(&path) {
        Some(content) => ok(&json!({
            "run": run.or(s.runs.render),
            "path": path,
            "size": content.len(),
            "sha256": hafen_store::sha256_hex(content.as_bytes()),
            "content": content,
        })),
        None => json_error(StatusCode::NOT_FOUND, "no such file in this render"),
    }
}

/// `GET /api/repo/diff?from=&to=`.
pub(crate) async fn repo_diff(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let from = match run_id(param(&params, "from")) {
        Ok(Some(f)) => f,
        Ok(None) => {
            return json_error(StatusCode::BAD_REQUEST, "`from` (a render run id) is required");
        }
        Err(e) => return err_pair(e),
    };
    let to = match run_id(param(&params, "to")) {
        Ok(t) => t,
        Err(e) => return err_pair(e),
    };
    let old = match repo_source(&state, &s, Some(from)) {
        Ok(src) => src,
        Err(e) => return err_pair(e),
    };
    let new = match repo_source(&state, &s, to) {
        Ok(src) => src,
        Err(e) => return err_pair(e),
    };
    let d = crate::diff::repo_diff(old.files(), new.files());
    let changed: Vec<Value> = d
        .changed
        .iter()
        .take(500)
        .map(|path| {
            let a = old.files().get(*path).map(String::as_str).unwrap_or("");
            let b = new.files().get(*path).map(String::as_str).unwrap_or("");
            let fd = crate::diff::diff_lines(a, b);
            let hunks = fd.hunks.map(|hs| {
                hs.into_iter()
                    .map(|h| {
                        json!({
                            "oldStart": h.old_start, "oldLines": h.old_len,
                            "newStart": h.new_start, "newLines": h.new_len,
                            "lines": h.lines.into_iter().map(|(t, l)| json!([t.as_str(), l])).collect::<Vec<_>>(),
                        })
                    })
                    .collect::<Vec<_>>()
            });
            json!({"path": path, "added": fd.added, "removed": fd.removed, "hunks": hunks})
        })
        .collect();
    ok(&json!({
        "from": from,
        "to": to.or(s.runs.render),
        "added": d.added,
        "removed": d.removed,
        "changed": changed,
        "changedCount": d.changed.len(),
        "unchanged": d.unchanged,
    }))
}

fn run_json(r: &RunRecord) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind.as_str(),
        "status": r.status.as_str(),
        "startedAt": util::format_time(r.started_at_ms),
        "startedAtMs": r.started_at_ms,
        "durationMs": r.duration_ms,
        "specDigest": r.spec_digest,
        "trigger": r.trigger,
        "summary": r.summary,
    })
}

/// `GET /api/history?kind=&before=&limit=`.
pub(crate) async fn history(State(state): St, uri: Uri) -> Response {
    let params = util::query(&uri);
    let kind = match param(&params, "kind").filter(|k| !k.is_empty() && *k != "all") {
        None => None,
        Some(k) => match RunKind::parse(k) {
            Some(k) => Some(k),
            None => return json_error(StatusCode::BAD_REQUEST, "kind is check, plan or render"),
        },
    };
    let before = match run_id(param(&params, "before")) {
        Ok(b) => b,
        Err(e) => return err_pair(e),
    };
    let limit = match param(&params, "limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return json_error(StatusCode::BAD_REQUEST, "limit is 1 to 1000"),
    };
    let runs = match state.history(|store| store.runs(kind, before, limit)) {
        Ok(r) => r,
        Err(e) => return json_error(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let next = if runs.len() == limit { runs.last().map(|r| r.id) } else { None };
    ok(&json!({"runs": runs.iter().map(run_json).collect::<Vec<_>>(), "nextBefore": next}))
}

/// `GET /api/runs/{id}`: a run with its stored result document.
pub(crate) async fn run(State(state): St, Path(id): Path<String>) -> Response {
    let id = match run_id(Some(&id)) {
        Ok(Some(id)) => id,
        _ => return json_error(StatusCode::BAD_REQUEST, "a run id is a positive number"),
    };
    match crate::pages::stored_run(&state, id) {
        Ok(Some((r, result))) => {
            let result =
                result.and_then(|t| serde_json::from_str::<Value>(&t).ok()).unwrap_or(Value::Null);
            let mut v = run_json(&r);
            v["result"] = result;
            ok(&v)
        }
        Ok(None) => json_error(StatusCode::NOT_FOUND, "no such run"),
        Err(e) => json_error(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// `GET /api/codes`: as `hafen explain --list --format json`.
pub(crate) async fn codes() -> Response {
    let list: Vec<Value> = hafen_engine::all_codes()
        .iter()
        .map(|c| json!({"code": c.code, "severity": c.severity.as_str(), "summary": c.summary}))
        .collect();
    ok(&Value::Array(list))
}

/// `GET /api/explain/{code}`.
pub(crate) async fn explain(Path(code): Path<String>) -> Response {
    if code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return json_error(StatusCode::BAD_REQUEST, "a code is letters and digits, like NET001");
    }
    // The same document as `hafen explain CODE --format json`, plus `markdown` (the page
    // again), which this endpoint has always returned.
    match hafen_engine::explanation_json(&code) {
        Some(mut doc) => {
            doc["markdown"] = doc["explanation"].clone();
            ok(&doc)
        }
        None => json_error(StatusCode::NOT_FOUND, "unknown code"),
    }
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Re-reads the spec and runs check, plan and render; one at a time.
pub(crate) async fn rerun_now(state: &Arc<AppState>) -> Result<Value, (StatusCode, String)> {
    let Ok(_guard) = state.running.try_lock() else {
        return Err((
            StatusCode::CONFLICT,
            "a run is already in progress; try again in a moment".into(),
        ));
    };
    let st = Arc::clone(state);
    let snapshot = tokio::task::spawn_blocking(move || {
        snapshot::compute(&st.loader, st.today, &st.store, "api")
    })
    .await
    .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, "the run failed unexpectedly".to_string()))?;
    let result = json!({
        "meta": meta(&snapshot),
        "check": {"status": snapshot.check_status.as_str(), "summary": snapshot.check["summary"]},
        "loadError": snapshot.load_error,
        "historyError": snapshot.store_error,
    });
    match state.snapshot.write() {
        Ok(mut guard) => *guard = Arc::new(snapshot),
        Err(poisoned) => *poisoned.into_inner() = Arc::new(snapshot),
    }
    Ok(result)
}

/// `POST /api/runs`: needs `Authorization: Bearer <token>` and a same-origin request.
pub(crate) async fn rerun(State(state): St, headers: HeaderMap, _body: Bytes) -> Response {
    // `_body` is never used, but extracting it applies the body limit to chunked uploads too.
    let token = crate::security::bearer(&headers);
    if let Err(refusal) = crate::security::authorize_mutation(&state, &headers, token) {
        return json_error(refusal.status(), refusal.message());
    }
    match rerun_now(&state).await {
        Ok(v) => json_response(StatusCode::CREATED, &v),
        Err((status, m)) => json_error(status, &m),
    }
}
