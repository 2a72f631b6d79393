//! The HTML pages. Each reads the snapshot's engine documents (the CLI's JSON) or the
//! history, and formats them; none computes anything about the platform.

use crate::html::{self, Nav, empty, esc, page, plural};
use crate::snapshot::Snapshot;
use crate::util::{self, num, param, url_encode};
use crate::{AppState, plan_pages};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use hafen_store::{RunKind, RunRecord, RunStatus};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Rows per page on long lists.
pub(crate) const PAGE_SIZE: usize = 100;

type St = State<Arc<AppState>>;

fn ok(body: String) -> Response {
    html::html(StatusCode::OK, body)
}

/// A 4xx/5xx page in the frame.
pub(crate) fn error_in_frame(snapshot: &Snapshot, status: StatusCode, message: &str) -> Response {
    let body = format!(r#"<p>{}</p><p><a href="/">Back to the overview</a></p>"#, esc(message));
    html::html(status, page(snapshot, Nav::None, &status.as_u16().to_string(), &body))
}

/// `1..=n` page links.
pub(crate) fn pager(base: &str, current: usize, total: usize, per_page: usize) -> String {
    let pages = total.div_ceil(per_page).max(1);
    if pages <= 1 {
        return String::new();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut s = String::from(r#"<nav class="pager" aria-label="Pages">"#);
    if current > 1 {
        s.push_str(&format!(r#"<a href="{}{sep}page={}">← previous</a>"#, esc(base), current - 1));
    }
    s.push_str(&format!(
        "<span>page {current} of {pages} · {} in all</span>",
        util::num(&Value::from(total as u64))
    ));
    if current < pages {
        s.push_str(&format!(r#"<a href="{}{sep}page={}">next →</a>"#, esc(base), current + 1));
    }
    s.push_str("</nav>");
    s
}

/// The `page` parameter, 1-based, clamped.
pub(crate) fn page_param(params: &[(String, String)]) -> usize {
    param(params, "page").and_then(|p| p.parse::<usize>().ok()).filter(|p| *p >= 1).unwrap_or(1)
}

// ---------------------------------------------------------------------------------------------
// Overview

/// `GET /`.
pub(crate) async fn overview(State(state): St) -> Response {
    let s = state.snapshot();
    let ov = &s.overview;
    let mut body = String::new();
    if let Some(desc) = ov["description"].as_str() {
        body.push_str(&format!(r#"<p class="lead">{}</p>"#, esc(desc)));
    }
    if ov.is_null() {
        body.push_str(
            r#"<p>The spec could not be loaded, so there is nothing to show yet. The <a href="/findings">findings</a> say why.</p>"#,
        );
    } else {
        let t = &ov["totals"];
        body.push_str(r#"<div class="cards">"#);
        for (key, label) in [
            ("providers", "Providers"),
            ("sites", "Sites"),
            ("clusters", "Clusters"),
            ("nodes", "Nodes"),
            ("tenants", "Tenants"),
            ("apps", "Apps"),
        ] {
            body.push_str(&format!(
                r#"<div class="card" id="total-{key}"><div class="k">{label}</div><div class="v">{}</div></div>"#,
                num(&t[key])
            ));
        }
        body.push_str("</div>");
    }
    body.push_str(&check_health(&s));
    body.push_str(&plan_pages::overview_health(&s));
    body.push_str(&nodes_chart(ov));
    if let Some(providers) = ov["providers"].as_array() {
        for p in providers {
            body.push_str(&format!(
                r#"<section class="provider"><h2>{} <small>{}</small></h2>"#,
                esc(p["name"].as_str().unwrap_or("")),
                esc(p["type"].as_str().unwrap_or(""))
            ));
            let sites = p["sites"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            if sites.is_empty() {
                body.push_str(&empty("No site uses this provider."));
            }
            for site in sites {
                body.push_str(&format!(
                    r#"<div class="site"><h3>Site {} <span class="muted">· location {}</span></h3>"#,
                    esc(site["name"].as_str().unwrap_or("")),
                    esc(site["location"].as_str().unwrap_or(""))
                ));
                let clusters = site["clusters"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                if clusters.is_empty() {
                    body.push_str(&empty(
                        "No cluster runs here (it may hold backups or spare capacity).",
                    ));
                } else {
                    body.push_str(r#"<table><thead><tr><th>Cluster</th><th>Kubernetes</th><th>OS</th><th class="num">Control plane</th><th class="num">Workers</th><th class="num">Nodes</th><th>Pools</th><th class="num">Tenants</th><th class="num">Apps</th></tr></thead><tbody>"#);
                    for c in clusters {
                        let pools: Vec<String> = c["pools"]
                            .as_array()
                            .map(Vec::as_slice)
                            .unwrap_or(&[])
                            .iter()
                            .map(|p| {
                                format!(
                                    "{} {}×{}",
                                    esc(p["name"].as_str().unwrap_or("")),
                                    num(&p["count"]),
                                    esc(p["serverType"].as_str().unwrap_or(""))
                                )
                            })
                            .collect();
                        body.push_str(&format!(
                            r#"<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                            esc(c["name"].as_str().unwrap_or("")),
                            esc(c["kubernetes"].as_str().unwrap_or("")),
                            esc(c["os"].as_str().unwrap_or("")),
                            num(&c["controlPlane"]),
                            num(&c["workerNodes"]),
                            num(&c["nodes"]),
                            pools.join(", "),
                            num(&c["tenants"]),
                            num(&c["apps"]),
                        ));
                    }
                    body.push_str("</tbody></table>");
                }
                body.push_str("</div>");
            }
            body.push_str("</section>");
        }
    }
    body.push_str(&rerun_box(&state, &s));
    let title = "Overview";
    ok(page(&s, Nav::Overview, title, &body))
}

/// Nodes per cluster, control plane and workers, as a chart.
fn nodes_chart(ov: &Value) -> String {
    let mut groups = Vec::new();
    for p in ov["providers"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        for site in p["sites"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            for c in site["clusters"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let cp = c["controlPlane"].as_f64().unwrap_or(0.0);
                let workers = c["workerNodes"].as_f64().unwrap_or(0.0);
                groups.push(crate::svg::Group {
                    label: format!(
                        "{} ({})",
                        c["name"].as_str().unwrap_or(""),
                        site["name"].as_str().unwrap_or("")
                    ),
                    values: vec![cp, workers],
                    texts: vec![num(&c["controlPlane"]), num(&c["workerNodes"])],
                });
            }
        }
    }
    if groups.is_empty() || groups.len() > 40 {
        return String::new();
    }
    format!(
        r#"<figure class="chart"><figcaption>Nodes per cluster</figcaption>{}</figure>"#,
        crate::svg::bars("Nodes per cluster", "nodes", &["control plane", "workers"], &groups)
    )
}

fn check_health(s: &Snapshot) -> String {
    let sum = &s.check["summary"];
    let status = match s.check_status {
        RunStatus::Ok => r#"<span class="pill ok">passed</span>"#,
        RunStatus::Findings => r#"<span class="pill bad">errors found</span>"#,
        RunStatus::Failed => r#"<span class="pill bad">spec does not load</span>"#,
    };
    format!(
        r#"<h2>Last check</h2><p id="check-health">{status} {} · {} · {} · {} suppressed — <a href="/findings">see the findings</a>. Files: {}.</p>"#,
        esc(&plural(sum["errors"].as_u64().unwrap_or(0), "error")),
        esc(&plural(sum["warnings"].as_u64().unwrap_or(0), "warning")),
        esc(&plural(sum["infos"].as_u64().unwrap_or(0), "note")),
        num(&sum["suppressed"]),
        s.spec_files
            .iter()
            .map(|f| format!("<code>{}</code>", esc(f)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn rerun_box(state: &AppState, s: &Snapshot) -> String {
    let last = util::format_time(s.at_ms);
    if state.token.is_none() {
        return format!(
            r#"<h2>Re-run</h2><p class="muted">Results computed {}. This dashboard is read-only; start <code>hafen serve</code> with <code>--token-file</code> to re-run check, plan and render from here, or restart it.</p>"#,
            esc(&last)
        );
    }
    format!(
        r#"<h2>Re-run</h2><form class="filters" method="post" action="/actions/rerun"><label>Token<input type="password" name="token" autocomplete="current-password" required></label><button type="submit">Re-read the spec and run check, plan and render</button></form><p class="muted">Results computed {}.</p>"#,
        esc(&last)
    )
}

// ---------------------------------------------------------------------------------------------
// Findings

/// Severity of a diagnostic as the filter sees it (`suppressed` is its own bucket).
fn bucket(d: &Value) -> &str {
    if !d["suppressed"].is_null() && d["suppressed"] != Value::Bool(false) {
        "suppressed"
    } else {
        d["severity"].as_str().unwrap_or("info")
    }
}

/// Filters a check document's diagnostics by `severity` and `code`.
pub(crate) fn filter_diagnostics<'a>(
    doc: &'a Value,
    severity: Option<&str>,
    code: Option<&str>,
) -> Vec<&'a Value> {
    let severity = severity.filter(|s| !s.is_empty() && *s != "all");
    let code = code.filter(|c| !c.is_empty());
    doc["diagnostics"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|d| severity.is_none_or(|s| bucket(d) == s))
        .filter(|d| {
            code.is_none_or(|c| d["code"].as_str().is_some_and(|dc| dc.eq_ignore_ascii_case(c)))
        })
        .collect()
}

/// One diagnostic as a card.
pub(crate) fn finding_card(d: &Value) -> String {
    let sev = bucket(d);
    let code = d["code"].as_str().unwrap_or("");
    let mut s = format!(r#"<article class="finding {}">"#, esc(sev));
    // Link the code to its explanation when it has one (`hafen explain CODE`).
    let code_html = if hafen_engine::explain(code).is_some() {
        format!(r#"<a href="/explain/{}"><code>{}</code></a>"#, url_encode(code), esc(code))
    } else {
        format!("<code>{}</code>", esc(code))
    };
    s.push_str(&format!(
        r#"<div class="head"><span class="sev {sev}">{sev}</span>{code_html}<span class="msg">{}</span></div>"#,
        crate::markdown::inline(d["message"].as_str().unwrap_or("")),
        sev = esc(sev),
    ));
    let mut loc = Vec::new();
    if let Some(file) = d["file"].as_str() {
        loc.push(format!("{}:{}:{}", esc(file), num(&d["line"]), num(&d["column"])));
    }
    if let Some(path) = d["path"].as_str() {
        loc.push(format!("<code>{}</code>", esc(path)));
    }
    if !loc.is_empty() {
        s.push_str(&format!(r#"<div class="loc">{}</div>"#, loc.join(" · ")));
    }
    if let Some(excerpt) = d["excerpt"].as_str().filter(|e| !e.trim().is_empty()) {
        s.push_str(&format!("<pre>{}</pre>", esc(excerpt)));
    }
    if let Some(help) = d["help"].as_str() {
        s.push_str(&format!(
            r#"<p class="help"><strong>Fix:</strong> {}</p>"#,
            crate::markdown::inline(help)
        ));
    }
    for note in d["notes"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        s.push_str(&format!(
            r#"<p class="help muted">Note: {}</p>"#,
            crate::markdown::inline(note.as_str().unwrap_or(""))
        ));
    }
    for label in d["labels"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        s.push_str(&format!(
            r#"<p class="help muted">{}:{}:{} — {}</p>"#,
            esc(label["file"].as_str().unwrap_or("")),
            num(&label["line"]),
            num(&label["column"]),
            crate::markdown::inline(label["message"].as_str().unwrap_or(""))
        ));
    }
    if let Some(reason) = d["suppressed"].as_str() {
        s.push_str(&format!(r#"<p class="help muted">Suppressed: {}</p>"#, esc(reason)));
    }
    s.push_str("</article>");
    s
}

/// `GET /findings?severity=&code=&page=`.
pub(crate) async fn findings(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let severity = param(&params, "severity").unwrap_or("all");
    let code = param(&params, "code").unwrap_or("");
    if !["all", "error", "warning", "info", "suppressed"].contains(&severity) {
        return error_in_frame(
            &s,
            StatusCode::BAD_REQUEST,
            "severity must be all, error, warning, info or suppressed",
        );
    }
    if code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return error_in_frame(
            &s,
            StatusCode::BAD_REQUEST,
            "a code is letters and digits, like NET001",
        );
    }
    let all = filter_diagnostics(&s.check, None, None);
    let mut list = filter_diagnostics(&s.check, Some(severity), Some(code));
    // Worst first for reading; within a severity, the engine's order (by file position).
    let rank = |d: &Value| match bucket(d) {
        "error" => 0,
        "warning" => 1,
        "info" => 2,
        _ => 3,
    };
    list.sort_by_key(|d| rank(d));
    let mut body = String::new();
    let sum = &s.check["summary"];
    body.push_str(&format!(
        r#"<p class="lead">The findings of <code>hafen check</code> on the current spec: {} · {} · {} · {} suppressed.</p>"#,
        esc(&plural(sum["errors"].as_u64().unwrap_or(0), "error")),
        esc(&plural(sum["warnings"].as_u64().unwrap_or(0), "warning")),
        esc(&plural(sum["infos"].as_u64().unwrap_or(0), "note")),
        num(&sum["suppressed"]),
    ));
    // severity chips
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &all {
        *counts.entry(bucket(d)).or_default() += 1;
        *codes.entry(d["code"].as_str().unwrap_or("")).or_default() += 1;
    }
    body.push_str(r#"<form class="filters" method="get" action="/findings"><label>Severity<select name="severity">"#);
    for sev in ["all", "error", "warning", "info", "suppressed"] {
        let n = if sev == "all" { all.len() } else { counts.get(sev).copied().unwrap_or(0) };
        let sel = if sev == severity { " selected" } else { "" };
        body.push_str(&format!(r#"<option value="{sev}"{sel}>{sev} ({n})</option>"#));
    }
    body.push_str(
        r#"</select></label><label>Code<select name="code"><option value="">any code</option>"#,
    );
    for (c, n) in &codes {
        let sel = if c.eq_ignore_ascii_case(code) { " selected" } else { "" };
        body.push_str(&format!(r#"<option value="{c}"{sel}>{c} ({n})</option>"#, c = esc(c)));
    }
    body.push_str(r#"</select></label><button type="submit">Filter</button></form>"#);
    if list.is_empty() {
        body.push_str(&empty(if all.is_empty() {
            "No findings: the check passed cleanly."
        } else {
            "No finding matches this filter."
        }));
    }
    let current = page_param(&params);
    for d in list.iter().skip((current - 1) * PAGE_SIZE).take(PAGE_SIZE) {
        body.push_str(&finding_card(d));
    }
    let base = format!("/findings?severity={}&code={}", url_encode(severity), url_encode(code));
    body.push_str(&pager(&base, current, list.len(), PAGE_SIZE));
    ok(page(&s, Nav::Findings, "Findings", &body))
}

// ---------------------------------------------------------------------------------------------
// Explanations

/// `GET /explain`.
pub(crate) async fn explain_list(State(state): St) -> Response {
    let s = state.snapshot();
    let mut body = String::from(
        r#"<p class="lead">Every code Hafen reports, with the incident behind it and the fix (as <code>hafen explain --list</code>).</p><table><thead><tr><th>Code</th><th>Severity</th><th>Summary</th></tr></thead><tbody>"#,
    );
    for c in hafen_engine::all_codes() {
        body.push_str(&format!(
            r#"<tr><td><a href="/explain/{code}"><code>{code}</code></a></td><td><span class="sev {sev}">{sev}</span></td><td>{}</td></tr>"#,
            esc(c.summary),
            code = esc(c.code),
            sev = c.severity.as_str()
        ));
    }
    body.push_str("</tbody></table>");
    ok(page(&s, Nav::Findings, "Explanations", &body))
}

/// `GET /explain/{code}`.
pub(crate) async fn explain(State(state): St, Path(code): Path<String>) -> Response {
    let s = state.snapshot();
    if code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return error_in_frame(
            &s,
            StatusCode::BAD_REQUEST,
            "a code is letters and digits, like NET001",
        );
    }
    let Some(explanation) = hafen_engine::explain(&code) else {
        return error_in_frame(
            &s,
            StatusCode::NOT_FOUND,
            &format!("unknown code `{code}`; the list of codes is at /explain"),
        );
    };
    let info = explanation.info;
    let present = filter_diagnostics(&s.check, None, Some(info.code)).len();
    let mut body = format!(
        r#"<p><span class="sev {sev}">{sev}</span> {} · <a href="/findings?code={code}">{} in the current spec</a> · <a href="/explain">all codes</a></p><div class="md">"#,
        esc(info.summary),
        esc(&plural(present as u64, "finding")),
        sev = info.severity.as_str(),
        code = url_encode(info.code),
    );
    body.push_str(&crate::markdown::to_html(explanation.text));
    body.push_str("</div>");
    ok(page(&s, Nav::Findings, info.code, &body))
}

// ---------------------------------------------------------------------------------------------
// Plan pages (the formatting of the plan document lives in `plan_pages`)

/// `GET /scenarios`.
pub(crate) async fn scenarios(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    match plan_pages::scenarios(&s, &params) {
        Ok(body) => ok(page(&s, Nav::Scenarios, "Failure scenarios", &body)),
        Err((status, msg)) => error_in_frame(&s, status, &msg),
    }
}

/// `GET /cost`.
pub(crate) async fn cost(State(state): St) -> Response {
    let s = state.snapshot();
    let body = plan_pages::cost(&s);
    ok(page(&s, Nav::Cost, "Cost", &body))
}

/// `GET /sovereignty?exit=&to=`.
pub(crate) async fn sovereignty(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let (exit, pair) = match crate::api::exit_params(&params) {
        Ok(None) => (None, ("", "")),
        Ok(Some((source, target))) => {
            (Some(crate::api::exit_plan(&state, &s, source, target).await), (source, target))
        }
        Err(m) => (Some(Err(m)), ("", "")),
    };
    let exit_ref = exit.as_ref().map(|r| r.as_ref().map(|v| v.as_ref()).map_err(Clone::clone));
    let body = plan_pages::sovereignty(&s, exit_ref, pair);
    ok(page(&s, Nav::Sovereignty, "Sovereignty", &body))
}

// ---------------------------------------------------------------------------------------------
// Repository

/// Why a repository path is refused, or the path itself.
pub(crate) fn check_repo_path(path: &str) -> Result<&str, &'static str> {
    if path.len() > 1024 {
        return Err("the path is too long");
    }
    if path.contains('\0') || path.chars().any(char::is_control) {
        return Err("the path contains control characters");
    }
    if path.contains('\\') {
        return Err("use forward slashes in repository paths");
    }
    if path.starts_with('/') {
        return Err("repository paths are relative, like clusters/prod/kustomization.yaml");
    }
    if !hafen_engine::is_safe_relative_path(path) {
        return Err("the path leaves the repository or has empty, `.` or `..` segments");
    }
    Ok(path)
}

/// Which render to show: the current one, or a run from the history.
pub(crate) enum RepoSource {
    Current(Arc<BTreeMap<String, String>>),
    Stored(i64, BTreeMap<String, String>),
}

impl RepoSource {
    pub(crate) fn files(&self) -> &BTreeMap<String, String> {
        match self {
            RepoSource::Current(f) => f,
            RepoSource::Stored(_, f) => f,
        }
    }
    fn run_param(&self) -> String {
        match self {
            RepoSource::Current(_) => String::new(),
            RepoSource::Stored(id, _) => format!("&run={id}"),
        }
    }
}

/// Parses a run id parameter.
pub(crate) fn run_id(value: Option<&str>) -> Result<Option<i64>, (StatusCode, String)> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or((StatusCode::BAD_REQUEST, "a run id is a positive number".to_string())),
    }
}

/// Loads the repository of `run` (or the current one).
pub(crate) fn repo_source(
    state: &AppState,
    s: &Snapshot,
    run: Option<i64>,
) -> Result<RepoSource, (StatusCode, String)> {
    match run {
        None => match &s.repo {
            Some(files) => Ok(RepoSource::Current(Arc::clone(files))),
            None => Err((
                StatusCode::NOT_FOUND,
                s.render_note.clone().unwrap_or_else(|| "nothing was rendered".into()),
            )),
        },
        Some(id) => {
            let found = state.history(|store| {
                Ok(match store.run(id)? {
                    Some(r) if r.kind == RunKind::Render && r.status == RunStatus::Ok => {
                        Some(Ok(store.render_repo(id)?))
                    }
                    Some(_) => Some(Err(())),
                    None => None,
                })
            });
            match found {
                Ok(Some(Ok(files))) => Ok(RepoSource::Stored(id, files)),
                Ok(Some(Err(()))) => {
                    Err((StatusCode::NOT_FOUND, format!("run {id} is not a successful render")))
                }
                Ok(None) => Err((StatusCode::NOT_FOUND, format!("there is no run {id}"))),
                Err(e) => Err((StatusCode::SERVICE_UNAVAILABLE, e)),
            }
        }
    }
}

fn size_text(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
    }
}

/// `GET /repo?run=&dir=`: the file tree. Large trees are shown one folder at a time.
pub(crate) async fn repo(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let run = match run_id(param(&params, "run")) {
        Ok(r) => r,
        Err((st, m)) => return error_in_frame(&s, st, &m),
    };
    let source = match repo_source(&state, &s, run) {
        Ok(src) => src,
        Err((st, m)) => {
            if run.is_none() {
                let mut body = format!(r#"<p>{}</p>"#, esc(&m));
                if let Some(doc) = &s.render_diagnostics {
                    for d in filter_diagnostics(doc, None, None) {
                        body.push_str(&finding_card(d));
                    }
                }
                return html::html(StatusCode::OK, page(&s, Nav::Repo, "Repository", &body));
            }
            return error_in_frame(&s, st, &m);
        }
    };
    let dir = param(&params, "dir").unwrap_or("").trim_matches('/');
    if !dir.is_empty()
        && let Err(e) = check_repo_path(dir)
    {
        return error_in_frame(&s, StatusCode::BAD_REQUEST, e);
    }
    let files = source.files();
    let total_bytes: usize = files.values().map(String::len).sum();
    let which = match &source {
        RepoSource::Current(_) => "the current render".to_string(),
        RepoSource::Stored(id, _) => format!("render run {id} from the history"),
    };
    let mut body = format!(
        r#"<p class="lead">The GitOps repository as <code>hafen render</code> writes it — {} · {} · {}. Files come from memory and the history database, never from the disk.</p>"#,
        esc(&which),
        esc(&plural(files.len() as u64, "file")),
        esc(&size_text(total_bytes)),
    );
    body.push_str(&diff_picker(&state, run));
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let in_dir: Vec<(&String, &String)> =
        files.iter().filter(|(p, _)| p.starts_with(&prefix)).collect();
    if !dir.is_empty() {
        let parent = dir.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        body.push_str(&format!(
            r#"<p><a href="/repo?dir={}{}">↑ up</a> · <code>{}/</code></p>"#,
            url_encode(parent),
            source.run_param(),
            esc(dir)
        ));
    }
    if in_dir.is_empty() {
        return error_in_frame(
            &s,
            StatusCode::NOT_FOUND,
            &format!("no folder `{dir}` in this render"),
        );
    } else if in_dir.len() <= 400 {
        body.push_str(r#"<div class="tree">"#);
        body.push_str(&tree_html(&in_dir, &prefix, &source.run_param()));
        body.push_str("</div>");
    } else {
        // One level: folders with counts, then files of this folder.
        let mut folders: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut direct = Vec::new();
        for (p, c) in &in_dir {
            let rest = &p[prefix.len()..];
            match rest.split_once('/') {
                Some((folder, _)) => {
                    let e = folders.entry(folder).or_default();
                    e.0 += 1;
                    e.1 += c.len();
                }
                None => direct.push((*p, c.len())),
            }
        }
        body.push_str(r#"<table><thead><tr><th>Name</th><th class="num">Files</th><th class="num">Size</th></tr></thead><tbody>"#);
        for (folder, (n, bytes)) in &folders {
            body.push_str(&format!(
                r#"<tr><td><a href="/repo?dir={}{}">{}/</a></td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                url_encode(&format!("{prefix}{folder}")),
                source.run_param(),
                esc(folder),
                num(&Value::from(*n as u64)),
                esc(&size_text(*bytes))
            ));
        }
        let current = page_param(&params);
        for (p, bytes) in direct.iter().skip((current - 1) * 200).take(200) {
            body.push_str(&format!(
                r#"<tr><td><a href="/repo/file?path={}{}">{}</a></td><td class="num">1</td><td class="num">{}</td></tr>"#,
                url_encode(p),
                source.run_param(),
                esc(&p[prefix.len()..]),
                esc(&size_text(*bytes))
            ));
        }
        body.push_str("</tbody></table>");
        let base = format!("/repo?dir={}{}", url_encode(dir), source.run_param());
        body.push_str(&pager(&base, current, direct.len(), 200));
    }
    ok(page(&s, Nav::Repo, "Repository", &body))
}

/// Nested lists for a small tree.
fn tree_html(files: &[(&String, &String)], prefix: &str, run: &str) -> String {
    let mut out = String::from("<ul>");
    let mut open: Vec<&str> = Vec::new();
    for (path, content) in files {
        let rel = &path[prefix.len()..];
        let mut parts: Vec<&str> = rel.split('/').collect();
        let name = parts.pop().unwrap_or("");
        let common = open.iter().zip(&parts).take_while(|(a, b)| a == b).count();
        while open.len() > common {
            open.pop();
            out.push_str("</ul></li>");
        }
        for part in &parts[common..] {
            out.push_str(&format!(r#"<li><span class="dir">{}/</span><ul>"#, esc(part)));
            open.push(part);
        }
        out.push_str(&format!(
            r#"<li><a href="/repo/file?path={}{run}">{}</a><span class="size">{}</span></li>"#,
            url_encode(path),
            esc(name),
            esc(&size_text(content.len()))
        ));
    }
    for _ in open {
        out.push_str("</ul></li>");
    }
    out.push_str("</ul>");
    out
}

/// A form to pick two renders from the history to compare.
fn diff_picker(state: &AppState, current: Option<i64>) -> String {
    let renders = match state.history(|store| store.runs(Some(RunKind::Render), None, 50)) {
        Ok(r) => r,
        Err(e) => {
            return format!(r#"<p class="muted">History unavailable: {}</p>"#, esc(&e));
        }
    };
    let renders: Vec<&RunRecord> = renders.iter().filter(|r| r.status == RunStatus::Ok).collect();
    if renders.len() < 2 {
        return r#"<p class="muted">Once there are two renders in the history, you can compare them here.</p>"#.into();
    }
    let to = current.unwrap_or(renders[0].id);
    let from = renders.iter().find(|r| r.id < to).map(|r| r.id).unwrap_or(renders[1].id);
    let options = |selected: i64| -> String {
        renders
            .iter()
            .map(|r| {
                format!(
                    r#"<option value="{id}"{sel}>#{id} · {} · {}</option>"#,
                    esc(&util::format_time(r.started_at_ms)),
                    esc(r.spec_digest.get(..8).unwrap_or("")),
                    id = r.id,
                    sel = if r.id == selected { " selected" } else { "" }
                )
            })
            .collect()
    };
    format!(
        r#"<form class="filters" method="get" action="/repo/diff"><label>From<select name="from">{}</select></label><label>To<select name="to">{}</select></label><button type="submit" class="secondary">Compare renders</button></form>"#,
        options(from),
        options(to)
    )
}

/// `GET /repo/file?path=&run=`.
pub(crate) async fn repo_file(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let run = match run_id(param(&params, "run")) {
        Ok(r) => r,
        Err((st, m)) => return error_in_frame(&s, st, &m),
    };
    let path = match check_repo_path(param(&params, "path").unwrap_or("")) {
        Ok(p) => p.to_owned(),
        Err(e) => return error_in_frame(&s, StatusCode::BAD_REQUEST, e),
    };
    let source = match repo_source(&state, &s, run) {
        Ok(src) => src,
        Err((st, m)) => return error_in_frame(&s, st, &m),
    };
    let Some(content) = source.files().get(&path) else {
        return error_in_frame(
            &s,
            StatusCode::NOT_FOUND,
            &format!("no file `{path}` in this render"),
        );
    };
    let mut crumbs =
        format!(r#"<a href="/repo?{}">repository</a>"#, source.run_param().trim_start_matches('&'));
    let mut acc = String::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if i + 1 == segments.len() {
            crumbs.push_str(&format!(" / <strong>{}</strong>", esc(seg)));
        } else {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(seg);
            crumbs.push_str(&format!(
                r#" / <a href="/repo?dir={}{}">{}</a>"#,
                url_encode(&acc),
                source.run_param(),
                esc(seg)
            ));
        }
    }
    let mut body = format!(
        r#"<p>{crumbs}</p><p class="muted">{} · {} lines · SHA-256 <code>{}</code></p><pre class="file">"#,
        esc(&size_text(content.len())),
        content.lines().count(),
        esc(&hafen_store::sha256_hex(content.as_bytes())[..16]),
    );
    const MAX_LINES: usize = 5000;
    for (i, line) in content.lines().take(MAX_LINES).enumerate() {
        body.push_str(&format!(r#"<span class="ln">{}</span>{}"#, i + 1, esc(line)));
        body.push('\n');
    }
    body.push_str("</pre>");
    if content.lines().count() > MAX_LINES {
        body.push_str(&format!(
            r#"<p class="muted">Only the first {MAX_LINES} lines are shown; the API (<code>/api/repo/file</code>) has the whole file.</p>"#
        ));
    }
    ok(page(&s, Nav::Repo, &path, &body))
}

/// `GET /repo/diff?from=&to=&page=`.
pub(crate) async fn repo_diff(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let (from, to) = match (run_id(param(&params, "from")), run_id(param(&params, "to"))) {
        (Ok(Some(f)), Ok(t)) => (f, t),
        (Ok(None), _) => {
            return error_in_frame(
                &s,
                StatusCode::BAD_REQUEST,
                "choose the render to compare from (`from`)",
            );
        }
        (Err((st, m)), _) | (_, Err((st, m))) => return error_in_frame(&s, st, &m),
    };
    let old = match repo_source(&state, &s, Some(from)) {
        Ok(src) => src,
        Err((st, m)) => return error_in_frame(&s, st, &m),
    };
    let new = match repo_source(&state, &s, to) {
        Ok(src) => src,
        Err((st, m)) => return error_in_frame(&s, st, &m),
    };
    let d = crate::diff::repo_diff(old.files(), new.files());
    let to_text = to.map(|t| format!("render #{t}")).unwrap_or_else(|| "the current render".into());
    let mut body = format!(
        r#"<p class="lead">From render #{from} to {}: {} added, {} removed, {} changed, {} unchanged.</p>"#,
        esc(&to_text),
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    );
    body.push_str(&diff_picker(&state, to));
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
        body.push_str(&empty("The two renders are identical."));
    }
    let current = page_param(&params);
    const PER_PAGE: usize = 30;
    let mut entries: Vec<(&str, &str)> = Vec::new();
    entries.extend(d.changed.iter().map(|p| ("changed", *p)));
    entries.extend(d.added.iter().map(|p| ("added", *p)));
    entries.extend(d.removed.iter().map(|p| ("removed", *p)));
    for (what, path) in entries.iter().skip((current - 1) * PER_PAGE).take(PER_PAGE) {
        let a = old.files().get(*path).map(String::as_str).unwrap_or("");
        let b = new.files().get(*path).map(String::as_str).unwrap_or("");
        let fd = crate::diff::diff_lines(a, b);
        body.push_str(&format!(
            r#"<section class="diff"><h3><span class="pill {}">{what}</span> <code>{}</code> <span class="muted">+{} −{}</span></h3>"#,
            match *what {
                "added" => "ok",
                "removed" => "bad",
                _ => "warn",
            },
            esc(path),
            fd.added,
            fd.removed
        ));
        match fd.hunks {
            Some(hunks) => {
                body.push_str("<pre>");
                for h in hunks {
                    body.push_str(&format!(
                        r#"<span class="hunk">@@ -{},{} +{},{} @@</span>"#,
                        h.old_start, h.old_len, h.new_start, h.new_len
                    ));
                    for (tag, line) in h.lines {
                        let (class, mark) = match tag {
                            crate::diff::Tag::Add => ("add", '+'),
                            crate::diff::Tag::Del => ("del", '-'),
                            crate::diff::Tag::Same => ("ctx", ' '),
                        };
                        body.push_str(&format!(
                            r#"<span class="{class}">{mark}{}</span>"#,
                            esc(&line)
                        ));
                    }
                }
                body.push_str("</pre>");
            }
            None => body.push_str(&empty("Too large to compare line by line.")),
        }
        body.push_str("</section>");
    }
    let base =
        format!("/repo/diff?from={from}{}", to.map(|t| format!("&to={t}")).unwrap_or_default());
    body.push_str(&pager(&base, current, entries.len(), PER_PAGE));
    ok(page(&s, Nav::Repo, "Compare renders", &body))
}

// ---------------------------------------------------------------------------------------------
// History

/// A run's summary in words.
pub(crate) fn summary_text(r: &RunRecord) -> String {
    let s = &r.summary;
    match r.kind {
        RunKind::Check => {
            if s["loaded"] == Value::Bool(false) {
                return match s["error"].as_str() {
                    Some(e) => e.to_string(),
                    None => format!(
                        "spec did not load · {}",
                        plural(s["errors"].as_u64().unwrap_or(0), "error")
                    ),
                };
            }
            let mut text = format!(
                "{} · {} · {}",
                plural(s["errors"].as_u64().unwrap_or(0), "error"),
                plural(s["warnings"].as_u64().unwrap_or(0), "warning"),
                plural(s["infos"].as_u64().unwrap_or(0), "note")
            );
            if let Some(n) = s["suppressed"].as_u64().filter(|&n| n > 0) {
                text.push_str(&format!(" · {n} suppressed"));
            }
            text
        }
        RunKind::Render => match s["files"].as_u64() {
            Some(files) => format!(
                "{} · {}",
                plural(files, "file"),
                size_text(s["bytes"].as_u64().unwrap_or(0) as usize)
            ),
            None => format!("failed · {}", plural(s["errors"].as_u64().unwrap_or(0), "error")),
        },
        RunKind::Plan => match (s["scenarios"].as_u64(), s["survivable"].as_u64()) {
            (Some(total), Some(ok)) => format!(
                "{} · {} survivable · {} not",
                plural(total, "scenario"),
                num(&s["survivable"]),
                num(&Value::from(total.saturating_sub(ok)))
            ),
            _ => "planned".into(),
        },
    }
}

/// `GET /history?kind=&before=`.
pub(crate) async fn history(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let params = util::query(&uri);
    let kind = match param(&params, "kind").filter(|k| !k.is_empty() && *k != "all") {
        None => None,
        Some(k) => match RunKind::parse(k) {
            Some(k) => Some(k),
            None => {
                return error_in_frame(
                    &s,
                    StatusCode::BAD_REQUEST,
                    "kind is check, plan or render",
                );
            }
        },
    };
    let before = match run_id(param(&params, "before")) {
        Ok(b) => b,
        Err((st, m)) => return error_in_frame(&s, st, &m),
    };
    let runs = match state.history(|store| store.runs(kind, before, PAGE_SIZE)) {
        Ok(r) => r,
        Err(e) => return error_in_frame(&s, StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let total = state.history(hafen_store::Store::run_count).unwrap_or(0);
    let mut body = format!(
        r#"<p class="lead">Every check, plan and render this dashboard ran, newest first ({} recorded in <code>{}</code>).</p>"#,
        esc(&plural(total, "run")),
        esc(&state.db_path)
    );
    body.push_str(r#"<div class="chips">"#);
    for (k, label) in [
        (None, "all"),
        (Some(RunKind::Check), "check"),
        (Some(RunKind::Plan), "plan"),
        (Some(RunKind::Render), "render"),
    ] {
        let cur = if k == kind { r#" aria-current="true""# } else { "" };
        body.push_str(&format!(r#"<a class="chip" href="/history?kind={label}"{cur}>{label}</a>"#));
    }
    body.push_str("</div>");
    if runs.is_empty() {
        body.push_str(&empty("No runs recorded yet."));
    } else {
        body.push_str(r#"<table><thead><tr><th class="num">Run</th><th>Time</th><th>Kind</th><th>Status</th><th>Result</th><th>Spec</th><th class="num">Took</th><th>Trigger</th><th></th></tr></thead><tbody>"#);
        let prev_render = render_predecessors(&state);
        for r in &runs {
            let mut links = format!(r#"<a href="/history/{}">details</a>"#, r.id);
            if r.kind == RunKind::Render && r.status == RunStatus::Ok {
                links.push_str(&format!(r#" · <a href="/repo?run={}">files</a>"#, r.id));
                if let Some(prev) = prev_render.get(&r.id) {
                    links.push_str(&format!(
                        r#" · <a href="/repo/diff?from={prev}&to={}">diff</a>"#,
                        r.id
                    ));
                }
            }
            body.push_str(&format!(
                r#"<tr><td class="num">{}</td><td>{}</td><td>{}</td><td><span class="sev {st}">{st}</span></td><td>{}</td><td><code title="{}">{}</code></td><td class="num">{} ms</td><td>{}</td><td>{links}</td></tr>"#,
                r.id,
                esc(&util::format_time(r.started_at_ms)),
                r.kind.as_str(),
                esc(&summary_text(r)),
                esc(&r.spec_digest),
                esc(r.spec_digest.get(..12).unwrap_or("")),
                r.duration_ms,
                esc(&r.trigger),
                st = r.status.as_str(),
            ));
        }
        body.push_str("</tbody></table>");
        if runs.len() == PAGE_SIZE
            && let Some(last) = runs.last()
        {
            body.push_str(&format!(
                r#"<nav class="pager"><a href="/history?kind={}&before={}">older runs →</a></nav>"#,
                kind.map(RunKind::as_str).unwrap_or("all"),
                last.id
            ));
        }
    }
    body.push_str(&rerun_box(&state, &s));
    ok(page(&s, Nav::History, "History", &body))
}

/// For each successful render run among the last few hundred, the one before it.
fn render_predecessors(state: &AppState) -> BTreeMap<i64, i64> {
    let renders =
        state.history(|store| store.runs(Some(RunKind::Render), None, 500)).unwrap_or_default();
    let ok: Vec<i64> = renders.iter().filter(|r| r.status == RunStatus::Ok).map(|r| r.id).collect();
    ok.windows(2).map(|w| (w[0], w[1])).collect()
}

/// A recorded run and its stored result document (`None` when there is no such run).
pub(crate) fn stored_run(
    state: &AppState,
    id: i64,
) -> Result<Option<(RunRecord, Option<String>)>, String> {
    state.history(|store| Ok(store.run(id)?.map(|r| (r, store.result(id).ok().flatten()))))
}

/// `GET /history/{id}`.
pub(crate) async fn history_run(State(state): St, Path(id): Path<String>) -> Response {
    let s = state.snapshot();
    let id = match run_id(Some(&id)) {
        Ok(Some(id)) => id,
        Ok(None) | Err(_) => {
            return error_in_frame(&s, StatusCode::BAD_REQUEST, "a run id is a positive number");
        }
    };
    let (record, result) = match stored_run(&state, id) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return error_in_frame(&s, StatusCode::NOT_FOUND, &format!("there is no run {id}"));
        }
        Err(e) => return error_in_frame(&s, StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let mut body = format!(
        r#"<dl class="kv"><dt>Kind</dt><dd>{}</dd><dt>Status</dt><dd><span class="sev {st}">{st}</span></dd><dt>Started</dt><dd>{}</dd><dt>Took</dt><dd>{} ms</dd><dt>Spec digest</dt><dd><code>{}</code></dd><dt>Trigger</dt><dd>{}</dd><dt>Result</dt><dd>{}</dd><dt>Data</dt><dd><a href="/api/runs/{id}">/api/runs/{id}</a></dd></dl>"#,
        record.kind.as_str(),
        esc(&util::format_time(record.started_at_ms)),
        record.duration_ms,
        esc(&record.spec_digest),
        esc(&record.trigger),
        esc(&summary_text(&record)),
        st = record.status.as_str(),
    );
    let doc: Option<Value> = result.and_then(|t| serde_json::from_str(&t).ok());
    match (record.kind, doc) {
        (RunKind::Check, Some(doc)) | (RunKind::Render, Some(doc)) => {
            let list = filter_diagnostics(&doc, None, None);
            body.push_str(&format!("<h2>Findings <small>{}</small></h2>", list.len()));
            if list.is_empty() {
                body.push_str(&empty("No findings."));
            }
            for d in list.iter().take(500) {
                body.push_str(&finding_card(d));
            }
        }
        (RunKind::Plan, Some(doc)) => {
            body.push_str("<h2>Plan summary</h2>");
            body.push_str(&plan_pages::json_view(&doc["summary"], 0));
        }
        (RunKind::Render, None) if record.status == RunStatus::Ok => {
            body.push_str(&format!(
                r#"<p><a href="/repo?run={id}">Browse the files of this render</a></p>"#
            ));
        }
        _ => {}
    }
    ok(page(&s, Nav::History, &format!("Run #{id}"), &body))
}

// ---------------------------------------------------------------------------------------------
// Re-run

/// `POST /actions/rerun` (HTML form with the token). Answers with a redirect to the history.
pub(crate) async fn rerun_form(State(state): St, headers: HeaderMap, body: Bytes) -> Response {
    let s = state.snapshot();
    let token = util_form_field(&body, "token");
    if let Err(refusal) = crate::security::authorize_mutation(&state, &headers, token.as_deref()) {
        return error_in_frame(&s, refusal.status(), refusal.message());
    }
    match crate::api::rerun_now(&state).await {
        Ok(_) => Redirect::to("/history").into_response(),
        Err((status, message)) => error_in_frame(&s, status, &message),
    }
}

fn util_form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (util::percent_decode(k) == name).then(|| util::percent_decode(v))
    })
}

/// Anything else.
pub(crate) async fn not_found(State(state): St, uri: Uri) -> Response {
    let s = state.snapshot();
    let mut r = error_in_frame(&s, StatusCode::NOT_FOUND, &format!("no page at `{}`", uri.path()));
    if uri.path().starts_with("/api/") {
        r = crate::api::json_error(StatusCode::NOT_FOUND, "no such endpoint; see /openapi.json");
    }
    r.headers_mut().remove(header::CACHE_CONTROL);
    r
}
