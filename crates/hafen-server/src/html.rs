//! Hand-rolled HTML: one escaping function used for every interpolated value, the page frame
//! (header, navigation, footer), the embedded stylesheet and icon. No template engine, no
//! JavaScript, no external asset: the pages work offline and under a strict CSP.

use crate::snapshot::Snapshot;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hafen_store::RunStatus;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The navigation entries, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Findings,
    Scenarios,
    Cost,
    Sovereignty,
    Repo,
    History,
    None,
}

const NAV: &[(Nav, &str, &str)] = &[
    (Nav::Overview, "/", "Overview"),
    (Nav::Findings, "/findings", "Findings"),
    (Nav::Scenarios, "/scenarios", "Scenarios"),
    (Nav::Cost, "/cost", "Cost"),
    (Nav::Sovereignty, "/sovereignty", "Sovereignty"),
    (Nav::Repo, "/repo", "Repository"),
    (Nav::History, "/history", "History"),
];

/// A badge for the last check's health.
pub(crate) fn health_badge(snapshot: &Snapshot) -> String {
    let s = &snapshot.check["summary"];
    let errors = s["errors"].as_u64().unwrap_or(0);
    let warnings = s["warnings"].as_u64().unwrap_or(0);
    let (class, text) = match snapshot.check_status {
        RunStatus::Failed if snapshot.load_error.is_some() => {
            ("bad", "spec unreadable".to_string())
        }
        RunStatus::Failed => ("bad", "spec does not load".to_string()),
        RunStatus::Findings => ("bad", plural(errors, "error")),
        RunStatus::Ok if warnings > 0 => {
            ("warn", format!("passed · {}", plural(warnings, "warning")))
        }
        RunStatus::Ok => ("ok", "check passed".to_string()),
    };
    format!(r#"<a class="badge {class}" href="/findings">{}</a>"#, esc(&text))
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: u64, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// A whole page.
pub(crate) fn page(snapshot: &Snapshot, active: Nav, title: &str, body: &str) -> String {
    let platform = snapshot.overview["platform"].as_str().unwrap_or("platform");
    let mut nav = String::new();
    for (item, href, label) in NAV {
        let current = if *item == active { r#" aria-current="page""# } else { "" };
        nav.push_str(&format!(r#"<a href="{href}"{current}>{label}</a>"#));
    }
    let digest = snapshot.spec_digest.get(..12).unwrap_or("");
    let banner = match (&snapshot.load_error, &snapshot.store_error) {
        (Some(e), _) => format!(r#"<div class="banner bad">{}</div>"#, esc(e)),
        (None, Some(e)) => {
            format!(r#"<div class="banner warn">History is not being recorded: {}</div>"#, esc(e))
        }
        _ => String::new(),
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {platform} · Hafen</title>
<link rel="stylesheet" href="/assets/hafen.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<header class="top">
<div class="wrap top-row">
<a class="brand" href="/"><svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M12 3v14M7 8h10M4 14c0 4 4 6 8 6s8-2 8-6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg><span>Hafen</span></a>
<span class="platform">{platform_esc}</span>
{badge}
</div>
<nav class="wrap" aria-label="Sections">{nav}</nav>
</header>
{banner}
<main class="wrap">
<h1>{title}</h1>
{body}
</main>
<footer class="wrap"><div class="foot">
<span>spec <code title="SHA-256 of the spec files">{digest}</code> · computed {time}</span>
<span>Same engine as the CLI · data also as JSON: <a href="/openapi.json">the API (OpenAPI)</a></span>
</div></footer>
</body>
</html>
"#,
        title = esc(title),
        platform = esc(platform),
        platform_esc = esc(platform),
        badge = health_badge(snapshot),
        time = esc(&crate::util::format_time(snapshot.at_ms)),
    )
}

/// An HTML answer.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

/// Empty-state paragraph.
pub(crate) fn empty(text: &str) -> String {
    format!(r#"<p class="empty">{}</p>"#, esc(text))
}

const CSS: &str = r#"
:root {
  --ink: #1d2733; --muted: #5b6776; --line: #dde2e8; --soft: #f3f5f7; --bg: #fcfcfb;
  --accent: #1f5f8b; --accent-soft: #e6eff6;
  --ok: #1d7a4d; --ok-soft: #e3f3ea; --warn: #9a5b00; --warn-soft: #fdf1dc;
  --bad: #b42318; --bad-soft: #fde8e6; --info: #2f5fb3; --info-soft: #e7eefb;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif;
  line-height: 1.5; -webkit-text-size-adjust: 100%; }
code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header.top { background: #fff; border-bottom: 1px solid var(--line); }
.top-row { display: flex; align-items: center; gap: 14px; padding-top: 12px; padding-bottom: 6px; }
.brand { display: flex; align-items: center; gap: 6px; color: var(--accent); font-weight: 650; font-size: 1.1rem; }
.brand:hover { text-decoration: none; }
.platform { font-weight: 600; color: var(--ink); padding-left: 14px; border-left: 1px solid var(--line); }
header nav { display: flex; gap: 4px; flex-wrap: wrap; padding-bottom: 0; }
header nav a { color: var(--muted); padding: 8px 10px 9px; border-bottom: 2px solid transparent; }
header nav a:hover { color: var(--ink); text-decoration: none; }
header nav a[aria-current="page"] { color: var(--ink); border-bottom-color: var(--accent); font-weight: 600; }
.badge { margin-left: auto; border-radius: 999px; padding: 2px 12px; font-size: 0.87rem; font-weight: 600; }
.badge.ok { background: var(--ok-soft); color: var(--ok); }
.badge.warn { background: var(--warn-soft); color: var(--warn); }
.badge.bad { background: var(--bad-soft); color: var(--bad); }
.banner { padding: 10px 24px; text-align: center; }
.banner.bad { background: var(--bad-soft); color: var(--bad); }
.banner.warn { background: var(--warn-soft); color: var(--warn); }
main { padding-top: 8px; padding-bottom: 40px; }
h1 { font-size: 1.55rem; font-weight: 650; margin: 22px 0 14px; letter-spacing: -0.01em; }
h2 { font-size: 1.15rem; font-weight: 650; margin: 30px 0 10px; }
h3 { font-size: 1rem; font-weight: 650; margin: 20px 0 8px; }
p { margin: 8px 0; max-width: 80ch; }
.lead { color: var(--muted); margin-top: -6px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
footer .foot { display: flex; justify-content: space-between; gap: 12px; flex-wrap: wrap; color: var(--muted);
  font-size: 0.85rem; border-top: 1px solid var(--line); padding: 14px 0 28px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin: 16px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .k { color: var(--muted); font-size: 0.85rem; }
.card .v { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .v small { font-size: 0.9rem; color: var(--muted); font-weight: 500; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; margin: 10px 0 6px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 0.87rem; color: var(--muted); white-space: nowrap; }
tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover td { background: #fafbfc; }
.sev { display: inline-block; min-width: 64px; text-align: center; border-radius: 4px; padding: 0 6px; font-size: 0.82rem; font-weight: 600; }
.sev.error { background: var(--bad-soft); color: var(--bad); }
.sev.warning { background: var(--warn-soft); color: var(--warn); }
.sev.info { background: var(--info-soft); color: var(--info); }
.sev.suppressed { background: var(--soft); color: var(--muted); }
.sev.ok { background: var(--ok-soft); color: var(--ok); }
.sev.failed, .sev.findings { background: var(--bad-soft); color: var(--bad); }
.finding { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.finding.error { border-left-color: var(--bad); }
.finding.warning { border-left-color: var(--warn); }
.finding.info { border-left-color: var(--info); }
.finding .head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.finding .msg { font-weight: 600; }
.finding .loc { color: var(--muted); font-size: 0.87rem; }
.finding .help { margin: 6px 0 0; }
.finding pre { margin: 6px 0 0; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; line-height: 1.45; }
form.filters { display: flex; gap: 10px; flex-wrap: wrap; align-items: end; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 10px 0; }
form.filters label { display: flex; flex-direction: column; font-size: 0.82rem; color: var(--muted); gap: 2px; }
select, input[type=text], input[type=password] { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 5px; background: #fff; color: var(--ink); }
button { font: inherit; padding: 5px 14px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 5px; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.pager { display: flex; gap: 14px; align-items: center; margin: 12px 0; color: var(--muted); }
.chips { display: flex; gap: 6px; flex-wrap: wrap; margin: 8px 0; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px; font-size: 0.85rem; background: #fff; color: var(--ink); }
.chip[aria-current="true"] { border-color: var(--accent); background: var(--accent-soft); }
.provider { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 12px; margin: 14px 0; }
.provider h2 { margin-top: 12px; }
.provider h2 small, h2 small { color: var(--muted); font-weight: 500; font-size: 0.88rem; }
.site { margin: 10px 0 4px; }
.site h3 { margin: 10px 0 4px; font-size: 0.95rem; }
.matrix-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
table.matrix { border: none; margin: 0; width: auto; min-width: 100%; }
table.matrix th.app { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; padding: 8px 4px; font-weight: 500; text-align: left; max-height: 220px; }
table.matrix td.cell { padding: 0; min-width: 26px; height: 26px; border-left: 1px solid #fff; text-align: center; font-size: 0.75rem; font-weight: 600; }
td.cell.none { background: #f1f4f6; }
td.cell.replaced { background: #cfe7d9; color: var(--ok); }
td.cell.budget { background: #f8d7a8; color: #7a4500; }
td.cell.unplaced { background: #e8a39b; color: #7a1208; }
td.cell.down { background: var(--bad); color: #fff; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 0.85rem; color: var(--muted); margin: 8px 0; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend .none::before { background: #f1f4f6; border: 1px solid var(--line); }
.legend .replaced::before { background: #cfe7d9; }
.legend .budget::before { background: #f8d7a8; }
.legend .unplaced::before { background: #e8a39b; }
.legend .down::before { background: var(--bad); }
.pill { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 0.82rem; font-weight: 600; }
.pill.ok { background: var(--ok-soft); color: var(--ok); }
.pill.bad { background: var(--bad-soft); color: var(--bad); }
.pill.warn { background: var(--warn-soft); color: var(--warn); }
.pill.muted { background: var(--soft); color: var(--muted); }
figure.chart { margin: 14px 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; }
figure.chart svg { display: block; width: 100%; height: auto; max-width: 1000px; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.tree { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; }
.tree ul { list-style: none; padding-left: 18px; margin: 0; }
.tree > ul { padding-left: 0; }
.tree li { padding: 1px 0; }
.tree .dir { font-weight: 600; color: var(--ink); }
.tree .size { color: var(--muted); font-size: 0.82rem; margin-left: 8px; }
pre.file { background: #fff; padding: 0; }
pre.file .ln { display: inline-block; width: 4.5em; color: #9aa5b1; text-align: right; padding-right: 12px; user-select: none; }
.diff { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; overflow: hidden; }
.diff h3 { margin: 0; padding: 8px 12px; background: var(--soft); border-bottom: 1px solid var(--line); font-size: 0.92rem; }
.diff pre { border: none; border-radius: 0; margin: 0; background: #fff; padding: 6px 0; }
.diff .add { background: #e6f4ea; display: block; padding: 0 12px; }
.diff .del { background: #fce8e6; display: block; padding: 0 12px; }
.diff .ctx { display: block; padding: 0 12px; color: #44505e; }
.diff .hunk { display: block; padding: 2px 12px; color: var(--info); background: var(--info-soft); }
.md h1 { font-size: 1.4rem; } .md h2 { font-size: 1.1rem; }
.md pre { white-space: pre-wrap; }
.fears { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; }
details summary { cursor: pointer; color: var(--accent); }
@media (max-width: 700px) { .wrap { padding: 0 12px; } .grid2 { grid-template-columns: 1fr; } .platform { display: none; } }
@media print { header nav, form, .pager { display: none; } }
"#;

/// `GET /assets/hafen.css`.
pub(crate) async fn stylesheet() -> Response {
    let mut r = CSS.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="5" fill="#1f5f8b"/><path d="M12 4v13M7.5 8.5h9M5 14c0 3.5 3.5 5.5 7 5.5s7-2 7-5.5" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round"/></svg>"##;

/// `GET /favicon.svg`.
pub(crate) async fn favicon() -> Response {
    let mut r = FAVICON.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("a\0b"), "a\u{fffd}b");
    }
}
