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

/// Planner prose marks names with backticks; show them as code (escaped like everything).
fn md(v: &Value) -> String {
    crate::markdown::inline(text(v))
}

fn no_plan(s: &Snapshot) -> String {
    let mut out = empty(s.plan_note.as_deref().unwrap_or("There is no plan."));
    if s.loaded.is_none() {
        out.push_str(r#"<p><a href="/findings">See the findings</a></p>"#);
    }
    out
}

/// The plan summary as cards: scenarios, how many survive and how many do not. The placement
/// gap to the lower bound is the solver's own quality figure, not a capacity gap: shown only
/// when it is not 0, under a name that says what it is.
fn summary_cards(sum: &Value) -> String {
    let Some(total) = sum["scenarios"].as_u64() else { return String::new() };
    let survivable = sum["survivable"].as_u64().unwrap_or(0).min(total);
    let card = |k: &str, v: String| {
        format!(
            r#"<div class="card"><div class="k">{}</div><div class="v">{v}</div></div>"#,
            esc(k)
        )
    };
    let mut out = String::from(r#"<div class="cards">"#);
    out.push_str(&card("scenarios", num(&sum["scenarios"])));
    out.push_str(&card("survivable", num(&sum["survivable"])));
    out.push_str(&card("not survivable", num(&Value::from(total - survivable))));
    if sum["maxGap"].as_u64().is_some_and(|g| g > 0) {
        out.push_str(&card("nodes above the packing bound (worst scenario)", num(&sum["maxGap"])));
    }
    out.push_str("</div>");
    out
}

/// The plan's headline on the overview page.
pub(crate) fn overview_health(s: &Snapshot) -> String {
    let Some(plan) = &s.plan else { return String::new() };
    let sum = &plan["summary"];
    let mut out = String::from("<h2>Last plan</h2>");
    out.push_str(&summary_cards(sum));
    let cost = &plan["cost"];
    if cost["totalMonthlyEUR"].is_number() {
        out.push_str(&format!(
            r#"<p id="plan-cost">Monthly cost: <strong>{}</strong> (infrastructure {}) — <a href="/cost">details and comparison</a></p>"#,
            eur(&cost["totalMonthlyEUR"]),
            eur(&cost["infrastructureMonthlyEUR"])
        ));
    }
    let sov = &plan["sovereignty"];
    if sov["platform"].is_object() {
        let f = &sov["platform"];
        let score = |v: &Value| format!("{} ({})", num(&v["score"]), text(&v["level"]));
        out.push_str(&format!(
            r#"<p id="plan-sovereignty">Sovereignty: <strong>{}</strong> · data protection {} · independence {} · lock-in {} — <a href="/sovereignty">derivation</a></p>"#,
            esc(text(&sov["seal"]["level"])),
            esc(&score(&f["dataProtection"])),
            esc(&score(&f["independence"])),
            esc(&score(&f["lockIn"])),
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
    body.push_str(&summary_cards(&plan["summary"]));
    body.push_str(&by_kind_chart(plan));
    body.push_str(&capacity_table(plan));
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
    if let Some(n) =
        plan["samples"]["count"].as_u64().filter(|_| plan["samples"]["worst"].is_object())
    {
        body.push_str(&format!(
            r#"<span class="muted">(the {n} sampled thirds are one row: the worst of them)</span>"#
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

    // Columns: the apps hurt in any selected scenario when they are few; else those hurt on
    // this page. Borrowed keys and an early stop keep this cheap on thousands of scenarios.
    const MAX_COLS: usize = 48;
    let mut columns: std::collections::BTreeSet<(&str, &str)> = std::collections::BTreeSet::new();
    let mut too_many = false;
    'all: for sc in &selected {
        for a in arr(&sc["apps"]) {
            columns.insert((text(&a["cluster"]), text(&a["app"])));
            if columns.len() > MAX_COLS {
                too_many = true;
                break 'all;
            }
        }
    }
    let mut note = String::new();
    if too_many {
        columns.clear();
        'page: for sc in &rows {
            for a in arr(&sc["apps"]) {
                if columns.len() >= MAX_COLS {
                    break 'page;
                }
                columns.insert((text(&a["cluster"]), text(&a["app"])));
            }
        }
        note = format!(
            "More than {MAX_COLS} apps lose replicas across these scenarios; the matrix shows {} of those hurt on this page. The buffer advice below and /api/scenarios list every app.",
            columns.len()
        );
    }
    body.push_str(r#"<div class="legend"><span class="none">not affected</span><span class="replaced">replicas re-placed</span><span class="budget">below its disruption budget</span><span class="unplaced">replicas left unplaced</span><span class="down">no replica running</span></div>"#);
    if rows.is_empty() {
        body.push_str(&empty("No scenario matches."));
    } else {
        body.push_str(r#"<div class="matrix-wrap"><table class="matrix"><thead><tr><th>Scenario</th><th>Outcome</th>"#);
        for (cluster, app) in &columns {
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
            // Scenarios that hurt have their details (buffer, quorum, data) further down this
            // very page; survivable ones have nothing more to show.
            let name = if survivable {
                md(&sc["description"])
            } else {
                format!(
                    r##"<a href="#{}">{}</a>"##,
                    esc(&anchor(text(&sc["id"]))),
                    md(&sc["description"])
                )
            };
            body.push_str(&format!(
                r#"<tr><td>{name} <span class="muted">{}</span></td><td>{pill}</td>"#,
                esc(text(&sc["kind"])),
            ));
            for (cluster, app) in &columns {
                match impacts.get(&(*cluster, *app)) {
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
            md(&sc["description"]),
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
                md(reason)
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
                md(&q["consequence"]),
                md(&q["fix"]),
            ));
        }
        for d in arr(&sc["dataAtRisk"]) {
            body.push_str(&format!(
                r#"<p><span class="pill warn">data</span> {} {} volume <code>{}</code>: {} — <em>Fix:</em> {}</p>"#,
                esc(text(&d["cluster"])),
                esc(text(&d["app"])),
                esc(text(&d["volume"])),
                esc(text(&d["outcome"])),
                md(&d["fix"]),
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

/// Survivable against hurting scenarios per kind, from the plan's summary.
fn by_kind_chart(plan: &Value) -> String {
    let kinds = arr(&plan["summary"]["byKind"]);
    if kinds.is_empty() {
        return String::new();
    }
    let groups: Vec<crate::svg::Group> = kinds
        .iter()
        .map(|k| {
            let total = k["total"].as_u64().unwrap_or(0);
            let ok = k["survivable"].as_u64().unwrap_or(0).min(total);
            crate::svg::Group {
                label: text(&k["kind"]).to_owned(),
                values: vec![ok as f64, (total - ok) as f64],
                texts: vec![format!("{ok} survivable"), format!("{} hurt", total - ok)],
            }
        })
        .collect();
    let totals: Vec<String> = kinds
        .iter()
        .map(|k| format!("{} of {} survive", num(&k["survivable"]), num(&k["total"])))
        .collect();
    format!(
        r#"<figure class="chart"><figcaption>Scenarios by kind: survivable or not</figcaption>{}</figure>"#,
        crate::svg::stacked_bars_colored(
            "Scenarios by kind",
            "scenarios",
            &[("survivable", "#1d7a4d"), ("hurts", "#b42318")],
            &groups,
            &totals
        )
    )
}

/// Allocatable against requests per cluster, from the plan's capacity section.
fn capacity_table(plan: &Value) -> String {
    let caps = arr(&plan["capacity"]);
    if caps.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        r#"<details><summary>Capacity with every node healthy</summary><table><thead><tr><th>Cluster</th><th class="num">Nodes</th><th class="num">App nodes</th><th class="num">CPU requested / allocatable</th><th class="num">Memory requested / allocatable</th><th class="num">Pods</th><th class="num">CPU %</th><th class="num">Memory %</th><th>Unplaced at baseline</th></tr></thead><tbody>"#,
    );
    for c in caps.iter().take(200) {
        let cpu = |v: &Value| num(&v["cpuMillis"]);
        let gib = |v: &Value| format!("{} MiB", num(&v["memoryMiB"]));
        let unplaced: Vec<String> = arr(&c["unplacedAtBaseline"])
            .iter()
            .map(|u| format!("{} ({})", text(&u["app"]), num(&u["replicas"])))
            .collect();
        out.push_str(&format!(
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{} m / {} m</td><td class="num">{} / {}</td><td class="num">{} / {}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            esc(text(&c["cluster"])),
            num(&c["nodes"]),
            num(&c["appNodes"]),
            cpu(&c["requests"]),
            cpu(&c["allocatable"]),
            gib(&c["requests"]),
            gib(&c["allocatable"]),
            num(&c["requests"]["pods"]),
            num(&c["allocatable"]["pods"]),
            num(&c["utilizationPercent"]["cpu"]),
            num(&c["utilizationPercent"]["memory"]),
            if unplaced.is_empty() { "none".to_string() } else { esc(&unplaced.join(", ")) },
        ));
    }
    out.push_str("</tbody></table></details>");
    out
}

fn anchor(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

// ---------------------------------------------------------------------------------------------
// Cost

/// `cluster → "provider · site"` from the overview's read-out of the spec.
fn cluster_places(s: &Snapshot) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in arr(&s.overview["providers"]) {
        for site in arr(&p["sites"]) {
            for c in arr(&site["clusters"]) {
                out.insert(
                    text(&c["name"]).to_owned(),
                    format!("{} · {}", text(&p["name"]), text(&site["name"])),
                );
            }
        }
    }
    out
}

fn card(key: &str, value: &str, note: &str) -> String {
    format!(
        r#"<div class="card"><div class="k">{}</div><div class="v">{}</div><div class="k">{}</div></div>"#,
        esc(key),
        esc(value),
        esc(note)
    )
}

/// `GET /cost`.
pub(crate) fn cost(s: &Snapshot) -> String {
    let Some(plan) = &s.plan else { return no_plan(s) };
    let cost = &plan["cost"];
    let mut body = String::from(
        r#"<p class="lead">Monthly cost from the dated catalogue, as <code>hafen plan</code> computes it: every line carries its price date and source.</p>"#,
    );
    if cost.is_null() {
        body.push_str(&empty("This plan has no cost section."));
        return body;
    }
    body.push_str(r#"<div class="cards">"#);
    body.push_str(&card(
        "Infrastructure / month",
        &eur(&cost["infrastructureMonthlyEUR"]),
        "servers, IPv4, volumes, load balancers, traffic",
    ));
    if cost["team"].is_object() {
        body.push_str(&card(
            "Team share / month",
            &eur(&cost["team"]["monthlyEUR"]),
            "people on the platform",
        ));
    }
    body.push_str(&card("Total / month", &eur(&cost["totalMonthlyEUR"]), text(&cost["currency"])));
    body.push_str("</div>");

    // per provider
    let providers = arr(&cost["providers"]);
    if !providers.is_empty() {
        body.push_str("<h2>Per provider</h2>");
        body.push_str(r#"<table><thead><tr><th>Provider</th><th>Type</th><th>Clusters</th><th class="num">Monthly</th><th class="num">Share</th></tr></thead><tbody>"#);
        for p in providers {
            let clusters: Vec<String> = arr(&p["clusters"])
                .iter()
                .map(|c| format!("<code>{}</code>", esc(text(c))))
                .collect();
            body.push_str(&format!(
                r#"<tr><td>{} <span class="muted">{}</span></td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{} %</td></tr>"#,
                esc(text(&p["displayName"])),
                esc(text(&p["provider"])),
                esc(text(&p["type"])),
                clusters.join(", "),
                eur(&p["monthlyEUR"]),
                num(&p["sharePercent"]),
            ));
        }
        body.push_str(&format!(
            r#"<tr><th>Platform</th><td></td><td></td><th class="num">{}</th><td class="num">100 %</td></tr></tbody></table>"#,
            eur(&cost["infrastructureMonthlyEUR"])
        ));
    }

    // per cluster
    let places = cluster_places(s);
    let clusters = arr(&cost["clusters"]);
    body.push_str("<h2>Per cluster</h2>");
    if clusters.is_empty() {
        body.push_str(&empty("No cluster is priced."));
    } else {
        let groups: Vec<crate::svg::Group> = clusters
            .iter()
            .map(|c| {
                let name = text(&c["cluster"]);
                let place = places.get(name).cloned().unwrap_or_default();
                crate::svg::Group {
                    label: if place.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{name} ({place})")
                    },
                    values: vec![c["monthlyEUR"].as_f64().unwrap_or(0.0)],
                    texts: vec![eur(&c["monthlyEUR"])],
                }
            })
            .take(40)
            .collect();
        body.push_str(&format!(
            r#"<figure class="chart"><figcaption>Monthly cost per cluster (provider · site)</figcaption>{}</figure>"#,
            crate::svg::bars("Monthly cost per cluster", "EUR per month", &["monthly"], &groups)
        ));
        for c in clusters.iter().take(100) {
            let name = text(&c["cluster"]);
            body.push_str(&format!(
                r#"<details class="provider"><summary><strong>{}</strong> <span class="muted">{}</span> — {}</summary>"#,
                esc(name),
                esc(places.get(name).map(String::as_str).unwrap_or("")),
                esc(&eur(&c["monthlyEUR"]))
            ));
            body.push_str(r#"<table><thead><tr><th>Item</th><th>Detail</th><th class="num">Quantity</th><th class="num">Unit price</th><th class="num">Monthly</th><th>Price date</th><th>Source</th></tr></thead><tbody>"#);
            for l in arr(&c["lines"]) {
                let unverified = if l["verified"] == Value::Bool(false) {
                    r#" <span class="pill warn" title="a recalled figure, not read from a dated source">unverified</span>"#
                } else {
                    ""
                };
                body.push_str(&format!(
                    r#"<tr><td>{}</td><td>{}</td><td class="num">{} {}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td><td class="muted">{}{unverified}</td></tr>"#,
                    esc(text(&l["item"])),
                    md(&l["detail"]),
                    num(&l["quantity"]),
                    esc(text(&l["unit"])),
                    eur(&l["unitEUR"]),
                    eur(&l["monthlyEUR"]),
                    esc(text(&l["priceDate"])),
                    esc(text(&l["source"])),
                ));
            }
            body.push_str("</tbody></table></details>");
        }
        if clusters.len() > 100 {
            body.push_str(&format!(
                r#"<p class="muted">{} more clusters in <a href="/api/cost">/api/cost</a>.</p>"#,
                clusters.len() - 100
            ));
        }
    }

    // comparison
    let offers = arr(&cost["comparison"]);
    if !offers.is_empty() {
        body.push_str("<h2>The same workload elsewhere</h2>");
        let groups: Vec<crate::svg::Group> = offers
            .iter()
            .map(|o| crate::svg::Group {
                label: text(&o["displayName"]).to_owned(),
                values: vec![
                    o["computeEUR"].as_f64().unwrap_or(0.0),
                    o["controlPlaneEUR"].as_f64().unwrap_or(0.0),
                    o["egressEUR"].as_f64().unwrap_or(0.0),
                    o["otherEUR"].as_f64().unwrap_or(0.0),
                ],
                texts: vec![
                    eur(&o["computeEUR"]),
                    eur(&o["controlPlaneEUR"]),
                    eur(&o["egressEUR"]),
                    eur(&o["otherEUR"]),
                ],
            })
            .collect();
        let totals: Vec<String> = offers.iter().map(|o| eur(&o["totalEUR"])).collect();
        body.push_str(&format!(
            r#"<figure class="chart"><figcaption>Monthly cost of the same workload: this platform against managed Kubernetes</figcaption>{}</figure>"#,
            crate::svg::stacked_bars("Monthly cost comparison", "EUR per month", &["compute", "control plane", "egress", "other"], &groups, &totals)
        ));
        body.push_str(r#"<table><thead><tr><th>Offer</th><th>Kind</th><th class="num">vCPUs</th><th class="num">Memory GiB</th><th class="num">Compute</th><th class="num">Control plane</th><th class="num">Egress</th><th class="num">Other</th><th class="num">Total</th></tr></thead><tbody>"#);
        for o in offers {
            body.push_str(&format!(
                r#"<tr><td><strong>{}</strong></td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{} <span class="muted">({} TB)</span></td><td class="num">{}</td><td class="num"><strong>{}</strong></td></tr>"#,
                esc(text(&o["displayName"])),
                esc(text(&o["kind"])),
                num(&o["vcpus"]),
                num(&o["memoryGiB"]),
                eur(&o["computeEUR"]),
                eur(&o["controlPlaneEUR"]),
                eur(&o["egressEUR"]),
                num(&o["egressTB"]),
                eur(&o["otherEUR"]),
                eur(&o["totalEUR"]),
            ));
        }
        body.push_str("</tbody></table><details><summary>Sources of the comparison</summary><ul>");
        for o in offers {
            for src in arr(&o["sources"]) {
                body.push_str(&format!(
                    "<li><strong>{}</strong>: {}</li>",
                    esc(text(&o["displayName"])),
                    esc(text(src))
                ));
            }
        }
        body.push_str("</ul></details>");
    }
    if cost["team"].is_object() {
        let t = &cost["team"];
        body.push_str(&format!(
            "<h2>Team</h2><p>{} people × {} × platform share {} = <strong>{}</strong> a month.</p>",
            num(&t["people"]),
            eur(&t["perPersonEUR"]),
            num(&t["platformShare"]),
            eur(&t["monthlyEUR"])
        ));
    }
    // egress priced alone, and the field reports' claims recomputed
    let egress = arr(&cost["egress"]);
    if !egress.is_empty() {
        body.push_str(r#"<h2>Egress, priced alone</h2><p class="muted">The declared outbound traffic of each cluster at each offer's tiers: billed after included traffic or free allowances, and at list price before them.</p>"#);
        for e in egress {
            body.push_str(&format!(
                r#"<h3><code>{}</code>: {} TB a month</h3><table><thead><tr><th>Offer</th><th class="num">Billed</th><th class="num">List</th><th>Derivation</th></tr></thead><tbody>"#,
                esc(text(&e["cluster"])),
                num(&e["egressTB"])
            ));
            for r in arr(&e["rows"]) {
                body.push_str(&format!(
                    r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="muted">{}</td></tr>"#,
                    md(&r["displayName"]),
                    eur(&r["billedEUR"]),
                    eur(&r["listEUR"]),
                    esc(text(&r["derivation"])),
                ));
            }
            body.push_str("</tbody></table>");
        }
    }
    let seeds = arr(&cost["seedFacts"]);
    if !seeds.is_empty() {
        body.push_str(r#"<h2>The field reports' figures, recomputed</h2><table><thead><tr><th>Claim</th><th>Verdict</th><th>Figures</th><th>Derivation</th></tr></thead><tbody>"#);
        for f in seeds {
            let figures: Vec<String> = arr(&f["figures"])
                .iter()
                .map(|x| {
                    format!(
                        "{}: {} {}",
                        esc(text(&x["name"])),
                        num(&x["value"]),
                        esc(text(&x["unit"]))
                    )
                })
                .collect();
            body.push_str(&format!(
                r#"<tr><td>{}<br><span class="muted">{}</span></td><td>{}</td><td>{}</td><td class="muted">{}</td></tr>"#,
                esc(text(&f["claim"])),
                esc(text(&f["source"])),
                esc(text(&f["verdict"])),
                figures.join("<br>"),
                esc(text(&f["derivation"])),
            ));
        }
        body.push_str("</tbody></table>");
    }

    let notes = arr(&cost["notes"]);
    if !notes.is_empty() {
        body.push_str("<h2>Notes</h2><ul>");
        for n in notes {
            body.push_str(&format!("<li>{}</li>", md(n)));
        }
        body.push_str("</ul>");
    }
    body
}

// ---------------------------------------------------------------------------------------------
// Sovereignty

fn level_pill(level: &str) -> &'static str {
    match level {
        "good" => "ok",
        "fair" => "warn",
        _ => "bad",
    }
}

fn fear_card(title: &str, question: &str, f: &Value) -> String {
    let score = f["score"].as_f64().unwrap_or(0.0).clamp(0.0, 100.0);
    let level = text(&f["level"]);
    let color = match level_pill(level) {
        "ok" => "#1d7a4d",
        "warn" => "#9a5b00",
        _ => "#b42318",
    };
    let mut s = format!(
        r##"<section class="card"><div class="k">{}</div><div class="v">{} <small>/ 100</small> <span class="pill {}">{}</span></div><p class="muted">{}</p><svg viewBox="0 0 300 10" role="img" aria-label="score {}"><rect x="0" y="0" width="300" height="10" rx="5" fill="#e9edf1"/><rect x="0" y="0" width="{:.1}" height="10" rx="5" fill="{color}"/></svg>"##,
        esc(title),
        num(&f["score"]),
        level_pill(level),
        esc(level),
        esc(question),
        num(&f["score"]),
        score * 3.0,
    );
    let parts = arr(&f["contributions"]);
    if parts.is_empty() {
        s.push_str(r#"<p class="muted">Nothing deducted from 100.</p>"#);
    } else {
        s.push_str(
            r#"<table><tbody><tr><td class="num">100</td><td class="muted">start</td></tr>"#,
        );
        for c in parts {
            s.push_str(&format!(
                r#"<tr><td class="num">{}</td><td>{}</td></tr>"#,
                num(&c["points"]),
                md(&c["fact"])
            ));
        }
        s.push_str(&format!(r#"<tr><td class="num"><strong>{}</strong></td><td><strong>score</strong></td></tr></tbody></table>"#, num(&f["score"])));
    }
    s.push_str("</section>");
    s
}

/// `GET /sovereignty?exit=&to=`.
pub(crate) fn sovereignty(
    s: &Snapshot,
    exit: Option<Result<&Value, String>>,
    params: (&str, &str),
) -> String {
    let Some(plan) = &s.plan else { return no_plan(s) };
    let sov = &plan["sovereignty"];
    let mut body = String::from(
        r#"<p class="lead">Who can legally reach the data, what the platform silently depends on, and how locked in it is — each score with its derivation.</p>"#,
    );
    if sov.is_null() {
        body.push_str(&empty("This plan has no sovereignty section."));
        return body;
    }
    let seal = &sov["seal"];
    if seal.is_object() {
        body.push_str(&format!(
            r#"<div class="cards"><div class="card"><div class="k">EU Cloud Sovereignty Framework</div><div class="v">{}</div><div class="k">as far as a spec can show</div></div></div><ul>"#,
            esc(text(&seal["level"]))
        ));
        for r in arr(&seal["reasons"]) {
            body.push_str(&format!("<li>{}</li>", md(r)));
        }
        body.push_str("</ul>");
    }
    let p = &sov["platform"];
    body.push_str(r#"<h2>The three fears</h2><div class="fears">"#);
    body.push_str(&fear_card(
        "Data protection",
        "Can a foreign authority legally reach the data?",
        &p["dataProtection"],
    ));
    body.push_str(&fear_card(
        "Independence",
        "Can someone else switch the platform off?",
        &p["independence"],
    ));
    body.push_str(&fear_card("Lock-in", "How hard is it to leave?", &p["lockIn"]));
    body.push_str("</div>");

    body.push_str(r#"<h2>Providers and their jurisdiction</h2><table><thead><tr><th>Provider</th><th>Type</th><th>Operator</th><th>Country</th><th>US parent</th><th>Sites</th><th>Source</th></tr></thead><tbody>"#);
    for pr in arr(&sov["providers"]) {
        body.push_str(&format!(
            r#"<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="muted">{}</td></tr>"#,
            esc(text(&pr["provider"])),
            esc(text(&pr["type"])),
            esc(text(&pr["operator"])),
            esc(&num(&pr["country"])),
            us_parent(&pr["usParent"]),
            esc(&list(&pr["sites"])),
            esc(text(&pr["source"])),
        ));
    }
    body.push_str("</tbody></table>");

    let deps = arr(&sov["dependencies"]);
    body.push_str(&format!(
        "<h2>Dependency bill of materials <small>{} endpoints</small></h2>",
        deps.len()
    ));
    body.push_str(r#"<p class="muted">Every external endpoint the rendered platform depends on, who runs it, and where it could move.</p><table><thead><tr><th>Purpose</th><th>Host</th><th>Used by</th><th>Operator</th><th>Country</th><th>US parent</th><th>Known from</th><th>EU or self-hosted substitutes</th></tr></thead><tbody>"#);
    for d in deps.iter().take(500) {
        let verified = if d["verified"] == Value::Bool(false) {
            r#" <span class="pill warn">unverified</span>"#
        } else {
            ""
        };
        body.push_str(&format!(
            r#"<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{verified}</td><td>{}</td></tr>"#,
            esc(text(&d["purpose"])),
            esc(text(&d["host"])),
            esc(&list(&d["usedBy"])),
            esc(text(&d["operator"])),
            esc(&num(&d["country"])),
            us_parent(&d["usParent"]),
            esc(text(&d["knownFrom"])),
            esc(&list(&d["substitutes"])),
        ));
    }
    body.push_str("</tbody></table>");

    let tenants = arr(&sov["tenants"]);
    if !tenants.is_empty() {
        body.push_str(r#"<h2>Per tenant</h2><table><thead><tr><th>Tenant</th><th>Personal data</th><th>Providers</th><th class="num">Data protection</th><th class="num">Independence</th><th class="num">Lock-in</th></tr></thead><tbody>"#);
        for t in tenants.iter().take(200) {
            let sc = &t["scores"];
            let cell = |f: &Value| {
                format!(
                    r#"<td class="num">{} <span class="pill {}">{}</span></td>"#,
                    num(&f["score"]),
                    level_pill(text(&f["level"])),
                    esc(text(&f["level"]))
                )
            };
            body.push_str(&format!(
                "<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td>{}{}{}</tr>",
                esc(text(&t["tenant"])),
                esc(&num(&t["personalData"])),
                esc(&list(&t["providers"])),
                cell(&sc["dataProtection"]),
                cell(&sc["independence"]),
                cell(&sc["lockIn"]),
            ));
        }
        body.push_str("</tbody></table>");
        if tenants.len() > 200 {
            body.push_str(&format!(r#"<p class="muted">{} more tenants in <a href="/api/sovereignty">/api/sovereignty</a>.</p>"#, tenants.len() - 200));
        }
    }
    let snc = arr(&sov["secNumCloud"]);
    if !snc.is_empty() {
        body.push_str(r#"<h2>SecNumCloud ownership</h2><table><thead><tr><th>Provider</th><th>Seat in the EU</th><th>Verdict</th><th>Why</th></tr></thead><tbody>"#);
        for x in snc {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(text(&x["provider"])),
                esc(&num(&x["seatInEu"])),
                esc(text(&x["verdict"])),
                md(&x["reason"])
            ));
        }
        body.push_str("</tbody></table>");
    }
    let nm = arr(&sov["notMechanical"]);
    if !nm.is_empty() {
        body.push_str("<h3>What a spec cannot show</h3><ul>");
        for n in nm {
            body.push_str(&format!("<li>{}</li>", md(n)));
        }
        body.push_str("</ul>");
    }
    body.push_str(&exit_section(s, exit, params));
    body
}

fn us_parent(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => r#"<span class="pill bad">yes</span>"#,
        Value::Bool(false) => r#"<span class="pill ok">no</span>"#,
        _ => r#"<span class="pill muted">unknown</span>"#,
    }
}

fn list(v: &Value) -> String {
    let items: Vec<&str> = arr(v).iter().filter_map(Value::as_str).collect();
    if items.is_empty() { "—".into() } else { items.join(", ") }
}

/// The exit form and, when asked, the plan (`hafen plan --exit SOURCE --to TARGET`).
fn exit_section(
    s: &Snapshot,
    exit: Option<Result<&Value, String>>,
    (source, target): (&str, &str),
) -> String {
    let mut out = String::from(
        r#"<h2 id="exit">Plan the exit</h2><p class="muted">What it takes to move a provider or a site elsewhere, step by step, with the data to move and its egress cost — as <code>hafen plan --exit SOURCE --to TARGET</code>.</p>"#,
    );
    let mut choices: Vec<String> = Vec::new();
    for p in arr(&s.overview["providers"]) {
        choices.push(text(&p["name"]).to_owned());
        for site in arr(&p["sites"]) {
            choices.push(text(&site["name"]).to_owned());
        }
    }
    out.push_str(r#"<form class="filters" method="get" action="/sovereignty#exit"><label>Leave (provider or site)<select name="exit">"#);
    for c in &choices {
        let sel = if c == source { " selected" } else { "" };
        out.push_str(&format!(r#"<option value="{c}"{sel}>{c}</option>"#, c = esc(c)));
    }
    out.push_str(&format!(
        r#"</select></label><label>For (provider, site or provider type)<input type="text" name="to" value="{}" list="exit-targets" required maxlength="64"></label><datalist id="exit-targets">"#,
        esc(target)
    ));
    for c in &choices {
        out.push_str(&format!(r#"<option value="{}">"#, esc(c)));
    }
    out.push_str(
        r#"</datalist><button type="submit" class="secondary">Plan the exit</button></form>"#,
    );
    match exit {
        None => {}
        Some(Err(message)) => {
            out.push_str(&format!(r#"<p class="pill bad">{}</p>"#, esc(&message)))
        }
        Some(Ok(x)) => {
            if let Some(err) = x["error"].as_str() {
                out.push_str(&format!(
                    r#"<p><span class="pill bad">cannot plan</span> {}</p>"#,
                    esc(err)
                ));
            }
            out.push_str(&format!(
                r#"<p>From <strong>{}</strong> ({}) to <strong>{}</strong> ({}): clusters {}; data to move <strong>{}</strong>; egress <strong>{}</strong> ({} TB at {} per TB, {} TB included).</p>"#,
                esc(text(&x["source"])),
                esc(text(&x["sourceKind"])),
                esc(text(&x["target"])),
                esc(text(&x["targetKind"])),
                esc(&list(&x["clusters"])),
                esc(&bytes_text(&x["totalBytes"])),
                eur(&x["egress"]["eur"]),
                num(&x["egress"]["tb"]),
                eur(&x["egress"]["eurPerTB"]),
                num(&x["egress"]["includedTB"]),
            ));
            let steps = arr(&x["steps"]);
            if !steps.is_empty() {
                out.push_str("<ol>");
                for st in steps {
                    out.push_str(&format!(
                        "<li><strong>{}</strong> — {}</li>",
                        md(&st["title"]),
                        md(&st["detail"])
                    ));
                }
                out.push_str("</ol>");
            }
            let data = arr(&x["data"]);
            if !data.is_empty() {
                out.push_str(r#"<table><thead><tr><th>Cluster</th><th>App</th><th>Volume</th><th class="num">Size</th><th>Method</th></tr></thead><tbody>"#);
                for d in data {
                    out.push_str(&format!(
                        r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                        esc(text(&d["cluster"])),
                        esc(text(&d["app"])),
                        esc(text(&d["volume"])),
                        esc(&bytes_text(&d["bytes"])),
                        esc(text(&d["method"]))
                    ));
                }
                out.push_str("</tbody></table>");
            }
            let findings = arr(&x["findings"]);
            if !findings.is_empty() {
                // What `hafen check` says of the spec after the move: new ones first, as the
                // move causes them; the others the spec raises today already.
                out.push_str(r#"<h3 id="exit-findings">Findings on the spec after the exit</h3>"#);
                let (new, old): (Vec<&Value>, Vec<&Value>) =
                    findings.iter().partition(|f| f["new"] != Value::Bool(false));
                for (group, title) in
                    [(new, "caused by the move"), (old, "raised by today's spec already")]
                {
                    if group.is_empty() {
                        continue;
                    }
                    out.push_str(&format!("<p><strong>{} {title}</strong></p>", group.len()));
                    for f in group {
                        out.push_str(&crate::pages::finding_card(f));
                    }
                }
            }
            if let Some(diff) = x["diff"].as_str().filter(|d| !d.is_empty()) {
                out.push_str(r#"<div class="diff"><h3>Spec diff</h3><pre>"#);
                for line in diff.lines().take(2000) {
                    let class = if line.starts_with("@@") {
                        "hunk"
                    } else if line.starts_with('+') {
                        "add"
                    } else if line.starts_with('-') {
                        "del"
                    } else {
                        "ctx"
                    };
                    out.push_str(&format!(r#"<span class="{class}">{}</span>"#, esc(line)));
                }
                out.push_str("</pre></div>");
            }
        }
    }
    out
}

/// Bytes exactly as the JSON has them, with GB (10^9, as the planner writes them) to read.
fn bytes_text(v: &Value) -> String {
    match v.as_f64() {
        Some(b) => format!("{} bytes (≈ {:.1} GB)", num(v), b / 1e9),
        None => "—".into(),
    }
}
