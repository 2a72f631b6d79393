//! The plan pages: scenario matrix and buffer advice, cost, sovereignty. They read the plan
//! document exactly as `hafen plan --format json` prints it (a `serde_json::Value` made
//! from the engine's `Report`), so every figure shown is a figure of that document. Where a
//! section has no dedicated view yet, a faithful generic view of the JSON is shown.

use crate::html::{empty, esc};
use crate::pages::{page_param, pager};
use crate::snapshot::Snapshot;
use crate::util::{eur, num, param, url_encode};
use axum::http::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn no_plan(s: &Snapshot) -> String {
    empty(s.plan_note.as_deref().unwrap_or("There is no plan."))
}

/// The plan's headline on the overview page.
pub(crate) fn overview_health(s: &Snapshot) -> String {
    let Some(plan) = &s.plan else { return String::new() };
    let sum = &plan["summary"];
    let mut out = String::from("<h2>Last plan</h2>");
    if let Some(map) = sum.as_object().filter(|m| !m.is_empty()) {
        out.push_str(r#"<div class="cards">"#);
        for (k, v) in map.iter().filter(|(_, v)| v.is_number()).take(6) {
            out.push_str(&format!(
                r#"<div class="card"><div class="k">{}</div><div class="v">{}</div></div>"#,
                esc(&words(k)),
                num(v)
            ));
        }
        out.push_str("</div>");
    }
    let total = &plan["cost"]["total"];
    let monthly = total.get("monthlyEUR").or_else(|| plan["cost"].get("monthlyEUR"));
    if let Some(m) = monthly.filter(|m| m.is_number()) {
        out.push_str(&format!(
            r#"<p>Monthly cost: <strong>{}</strong> — <a href="/cost">details</a></p>"#,
            eur(m)
        ));
    }
    out.push_str(r#"<p><a href="/scenarios">Failure scenarios</a> · <a href="/cost">cost</a> · <a href="/sovereignty">sovereignty</a></p>"#);
    out
}

/// `camelCase` → `camel case`.
pub(crate) fn words(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else if c == '_' || c == '-' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    if key.ends_with("EUR") || key.ends_with("Eur") {
        out = out.replace("e u r", "EUR");
    }
    out
}

/// A faithful generic view of any JSON value: objects as definition lists, arrays of objects
/// as tables, scalars formatted. Depth and rows are bounded.
pub(crate) fn json_view(v: &Value, depth: usize) -> String {
    if depth > 4 {
        return format!("<code>{}</code>", esc(&truncate(&v.to_string(), 200)));
    }
    match v {
        Value::Object(map) => {
            if map.is_empty() {
                return empty("(nothing)");
            }
            let mut s = String::from(r#"<dl class="kv">"#);
            for (k, val) in map {
                s.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(&words(k)),
                    json_view(val, depth + 1)
                ));
            }
            s.push_str("</dl>");
            s
        }
        Value::Array(items) => {
            if items.is_empty() {
                return r#"<span class="muted">none</span>"#.into();
            }
            if items.iter().all(Value::is_object) {
                let mut cols: Vec<&str> = Vec::new();
                for item in items {
                    if let Some(m) = item.as_object() {
                        for k in m.keys() {
                            if !cols.contains(&k.as_str()) {
                                cols.push(k);
                            }
                        }
                    }
                }
                let mut s = String::from("<table><thead><tr>");
                for c in &cols {
                    s.push_str(&format!("<th>{}</th>", esc(&words(c))));
                }
                s.push_str("</tr></thead><tbody>");
                for item in items.iter().take(200) {
                    s.push_str("<tr>");
                    for c in &cols {
                        let cell = &item[*c];
                        let class = if cell.is_number() { r#" class="num""# } else { "" };
                        s.push_str(&format!("<td{class}>{}</td>", json_view(cell, depth + 1)));
                    }
                    s.push_str("</tr>");
                }
                s.push_str("</tbody></table>");
                if items.len() > 200 {
                    s.push_str(&format!(
                        r#"<p class="muted">{} more in the JSON.</p>"#,
                        items.len() - 200
                    ));
                }
                s
            } else {
                let parts: Vec<String> =
                    items.iter().take(50).map(|i| json_view(i, depth + 1)).collect();
                let more = if items.len() > 50 {
                    format!(" … ({} more)", items.len() - 50)
                } else {
                    String::new()
                };
                format!("{}{more}", parts.join(", "))
            }
        }
        Value::String(s) => esc(s),
        other => esc(&num(other)),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// Outcome class of one app in one scenario.
fn outcome(impact: &Value) -> (&'static str, String) {
    let unplaced = impact["unplaced"].as_u64().unwrap_or(0);
    let running = impact["running"].as_u64().unwrap_or(0);
    let lost = impact["lost"].as_u64().unwrap_or(0);
    if unplaced > 0 && running == 0 {
        ("down", "✕".into())
    } else if unplaced > 0 {
        ("unplaced", format!("−{unplaced}"))
    } else if impact["belowBudget"] == Value::Bool(true) {
        ("budget", "!".into())
    } else if lost > 0 {
        ("replaced", "✓".into())
    } else {
        ("none", String::new())
    }
}

/// The scenario list of the plan: the fixed scenarios, then the worst sampled third.
fn all_scenarios(plan: &Value) -> Vec<&Value> {
    let mut list: Vec<&Value> = arr(&plan["scenarios"]).iter().collect();
    if plan["samples"]["worst"].is_object() {
        list.push(&plan["samples"]["worst"]);
    }
    list
}

/// `GET /scenarios?kind=&outcome=&page=`.
pub(crate) fn scenarios(
    s: &Snapshot,
    params: &[(String, String)],
) -> Result<String, (StatusCode, String)> {
    let Some(plan) = &s.plan else { return Ok(no_plan(s)) };
    let kind = param(params, "kind").unwrap_or("all");
    let only_failing = param(params, "outcome") == Some("failing");
    let mut body = String::from(
        r#"<p class="lead">What breaks when parts of the platform fail while the provider has no spare capacity: every scenario of <code>hafen plan</code>, one row each, one column per app that loses replicas somewhere.</p>"#,
    );
    let scenarios = all_scenarios(plan);
    if scenarios.is_empty() {
        body.push_str(&empty("The plan has no scenarios."));
        return Ok(body);
    }
    // summary
    if let Some(sum) = plan["summary"].as_object() {
        body.push_str(r#"<div class="cards">"#);
        for (k, v) in sum.iter().filter(|(_, v)| v.is_number()) {
            body.push_str(&format!(
                r#"<div class="card"><div class="k">{}</div><div class="v">{}</div></div>"#,
                esc(&words(k)),
                num(v)
            ));
        }
        body.push_str("</div>");
    }
    // kind chips
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for sc in &scenarios {
        *kinds.entry(text(&sc["kind"])).or_default() += 1;
    }
    if kind != "all" && !kinds.contains_key(kind) {
        return Err((StatusCode::BAD_REQUEST, format!("no scenarios of kind `{kind}`")));
    }
    let outcome_q = if only_failing { "&outcome=failing" } else { "" };
    body.push_str(r#"<div class="chips">"#);
    let cur = |k: &str| if k == kind { r#" aria-current="true""# } else { "" };
    body.push_str(&format!(
        r#"<a class="chip" href="/scenarios?kind=all{outcome_q}"{}>all ({})</a>"#,
        cur("all"),
        scenarios.len()
    ));
    for (k, n) in &kinds {
        body.push_str(&format!(
            r#"<a class="chip" href="/scenarios?kind={}{outcome_q}"{}>{} ({n})</a>"#,
            url_encode(k),
            cur(k),
            esc(k)
        ));
    }
    let toggle = if only_failing {
        format!(
            r#"<a class="chip" href="/scenarios?kind={}">show all outcomes</a>"#,
            url_encode(kind)
        )
    } else {
        format!(
            r#"<a class="chip" href="/scenarios?kind={}&outcome=failing">only scenarios that hurt</a>"#,
            url_encode(kind)
        )
    };
    body.push_str(&toggle);
    body.push_str("</div>");

    let selected: Vec<&Value> = scenarios
        .iter()
        .copied()
        .filter(|sc| kind == "all" || text(&sc["kind"]) == kind)
        .filter(|sc| !only_failing || sc["survivable"] != Value::Bool(true))
        .collect();
    const PER_PAGE: usize = 50;
    let current = page_param(params);
    let rows: Vec<&Value> =
        selected.iter().copied().skip((current - 1) * PER_PAGE).take(PER_PAGE).collect();

    // columns: apps hurt in any selected scenario (all pages), else those of this page
    let mut columns: BTreeMap<(String, String), ()> = BTreeMap::new();
    for sc in &selected {
        for a in arr(&sc["apps"]) {
            columns.insert((text(&a["cluster"]).to_owned(), text(&a["app"]).to_owned()), ());
        }
    }
    let mut note = String::new();
    const MAX_COLS: usize = 48;
    if columns.len() > MAX_COLS {
        let total = columns.len();
        columns.clear();
        for sc in &rows {
            for a in arr(&sc["apps"]) {
                if columns.len() < MAX_COLS {
                    columns
                        .insert((text(&a["cluster"]).to_owned(), text(&a["app"]).to_owned()), ());
                }
            }
        }
        note = format!(
            "{total} apps lose replicas across these scenarios; the matrix shows the first {} hurt on this page. The table under each failing scenario and the API list them all.",
            columns.len()
        );
    }
    body.push_str(r#"<div class="legend"><span class="none">not affected</span><span class="replaced">replicas re-placed</span><span class="budget">below its disruption budget</span><span class="unplaced">replicas left unplaced</span><span class="down">no replica running</span></div>"#);
    if rows.is_empty() {
        body.push_str(&empty("No scenario matches."));
    } else {
        body.push_str(r#"<div class="matrix-wrap"><table class="matrix"><thead><tr><th>Scenario</th><th>Outcome</th>"#);
        for (cluster, app) in columns.keys() {
            body.push_str(&format!(
                r#"<th class="app" title="{c}: {a}">{a} <span class="muted">{c}</span></th>"#,
                c = esc(cluster),
                a = esc(app)
            ));
        }
        body.push_str("</tr></thead><tbody>");
        for sc in &rows {
            let survivable = sc["survivable"] == Value::Bool(true);
            let pill = if survivable {
                r#"<span class="pill ok">survives</span>"#.to_string()
            } else {
                let mut why = Vec::new();
                if sc["unplacedReplicas"].as_u64().unwrap_or(0) > 0 {
                    why.push(format!("{} unplaced", num(&sc["unplacedReplicas"])));
                }
                if !arr(&sc["quorumLost"]).is_empty() {
                    why.push("quorum lost".into());
                }
                if !arr(&sc["dataAtRisk"]).is_empty() {
                    why.push("data at risk".into());
                }
                if why.is_empty() {
                    why.push("hurts".into());
                }
                format!(r#"<span class="pill bad">{}</span>"#, esc(&why.join(" · ")))
            };
            let mut impacts: BTreeMap<(&str, &str), &Value> = BTreeMap::new();
            for a in arr(&sc["apps"]) {
                impacts.insert((text(&a["cluster"]), text(&a["app"])), a);
            }
            body.push_str(&format!(
                r#"<tr><td><a href="/scenarios?kind={}#{}">{}</a> <span class="muted">{}</span></td><td>{pill}</td>"#,
                url_encode(text(&sc["kind"])),
                esc(&anchor(text(&sc["id"]))),
                esc(text(&sc["description"])),
                esc(text(&sc["kind"])),
            ));
            for (cluster, app) in columns.keys() {
                match impacts.get(&(cluster.as_str(), app.as_str())) {
                    Some(a) => {
                        let (class, mark) = outcome(a);
                        body.push_str(&format!(
                            r#"<td class="cell {class}" title="{}">{}</td>"#,
                            esc(&format!(
                                "{cluster} {app}: lost {}, re-placed {}, unplaced {}, running {} of {} (budget {})",
                                num(&a["lost"]), num(&a["replaced"]), num(&a["unplaced"]), num(&a["running"]), num(&a["replicas"]), num(&a["minAvailable"])
                            )),
                            esc(&mark)
                        ));
                    }
                    None => body.push_str(r#"<td class="cell none"></td>"#),
                }
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table></div>");
        if !note.is_empty() {
            body.push_str(&format!(r#"<p class="muted">{}</p>"#, esc(&note)));
        }
        let base = format!("/scenarios?kind={}{outcome_q}", url_encode(kind));
        body.push_str(&pager(&base, current, selected.len(), PER_PAGE));
    }

    // buffer advice and details of the scenarios that hurt (on this page)
    body.push_str("<h2>Buffer advice</h2>");
    let hurting: Vec<&&Value> =
        rows.iter().filter(|sc| sc["survivable"] != Value::Bool(true)).collect();
    if hurting.is_empty() {
        body.push_str(&empty("Every scenario on this page is survivable: no buffer needed."));
    } else {
        body.push_str(r#"<p class="muted">The smallest extra capacity per cluster that would have re-placed every replica, with its monthly price from the catalogue.</p>"#);
    }
    for sc in hurting {
        body.push_str(&format!(
            r#"<section class="provider" id="{}"><h3>{} <small>{}</small></h3>"#,
            esc(&anchor(text(&sc["id"]))),
            esc(text(&sc["description"])),
            esc(text(&sc["id"]))
        ));
        body.push_str(&format!(
            r#"<p>{} failed nodes · {} replicas displaced · {} re-placed ({} on replacement servers) · <strong>{} unplaced</strong> (lower bound {}).</p>"#,
            num(&sc["failedNodes"]),
            num(&sc["displacedReplicas"]),
            num(&sc["replacedReplicas"]),
            num(&sc["onReplacementServers"]),
            num(&sc["unplacedReplicas"]),
            num(&sc["unplacedLowerBound"]),
        ));
        let buffer = arr(&sc["buffer"]);
        if !buffer.is_empty() {
            body.push_str(r#"<table><thead><tr><th>Cluster</th><th>Site</th><th>Server type</th><th class="num">Extra nodes</th><th class="num">Lower bound</th><th class="num">Monthly</th></tr></thead><tbody>"#);
            for b in buffer {
                body.push_str(&format!(
                    r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
                    esc(text(&b["cluster"])),
                    esc(text(&b["site"])),
                    esc(text(&b["serverType"])),
                    num(&b["count"]),
                    num(&b["lowerBound"]),
                    eur(&b["monthlyEUR"]),
                ));
            }
            body.push_str("</tbody></table>");
        }
        for reason in arr(&sc["noBufferHelps"]) {
            body.push_str(&format!(
                r#"<p class="help muted">No node buffer helps: {}</p>"#,
                esc(text(reason))
            ));
        }
        for q in arr(&sc["quorumLost"]) {
            body.push_str(&format!(
                r#"<p><span class="pill bad">quorum</span> {} <code>{}</code>: {} of {} members survive, {} needed — {} <em>Fix:</em> {}</p>"#,
                esc(text(&q["cluster"])),
                esc(text(&q["group"])),
                num(&q["surviving"]),
                num(&q["members"]),
                num(&q["needed"]),
                esc(text(&q["consequence"])),
                esc(text(&q["fix"])),
            ));
        }
        for d in arr(&sc["dataAtRisk"]) {
            body.push_str(&format!(
                r#"<p><span class="pill warn">data</span> {} {} volume <code>{}</code>: {} — <em>Fix:</em> {}</p>"#,
                esc(text(&d["cluster"])),
                esc(text(&d["app"])),
                esc(text(&d["volume"])),
                esc(text(&d["outcome"])),
                esc(text(&d["fix"])),
            ));
        }
        body.push_str("</section>");
    }
    if plan["samples"].is_object() {
        body.push_str("<h2>Sampled thirds of the fleet</h2>");
        let sm = &plan["samples"];
        body.push_str(&format!(
            r#"<p>{} samples of {} nodes each: {} survivable, {} with unplaced replicas, {} losing etcd quorum, {} with data at risk.</p>"#,
            num(&sm["count"]),
            num(&sm["nodesPerSample"]),
            num(&sm["survivable"]),
            num(&sm["withUnplaced"]),
            num(&sm["withEtcdQuorumLost"]),
            num(&sm["withDataAtRisk"]),
        ));
    }
    Ok(body)
}

fn anchor(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

// ---------------------------------------------------------------------------------------------
// Cost

/// `GET /cost`.
pub(crate) fn cost(s: &Snapshot) -> String {
    let Some(plan) = &s.plan else { return no_plan(s) };
    let cost = &plan["cost"];
    let mut body = String::from(
        r#"<p class="lead">Monthly cost from the dated catalogue, as <code>hafen plan</code> computes it.</p>"#,
    );
    if cost.is_null() {
        body.push_str(&empty("This plan has no cost section."));
        return body;
    }
    body.push_str(&json_view(cost, 0));
    body
}

// ---------------------------------------------------------------------------------------------
// Sovereignty

/// `GET /sovereignty`.
pub(crate) fn sovereignty(s: &Snapshot) -> String {
    let Some(plan) = &s.plan else { return no_plan(s) };
    let sov = &plan["sovereignty"];
    let mut body = String::from(
        r#"<p class="lead">Who can legally reach the data, what the platform silently depends on, and how locked in it is.</p>"#,
    );
    if sov.is_null() {
        body.push_str(&empty("This plan has no sovereignty section."));
        return body;
    }
    body.push_str(&json_view(sov, 0));
    body
}
