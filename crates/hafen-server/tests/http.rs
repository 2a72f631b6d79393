//! The server over real HTTP on loopback: every page and endpoint on every example, answers
//! equal to the engine's own JSON documents, hostile requests, the token and same-origin
//! rules, limits, secret redaction, the history across restarts, and the OpenAPI contract.

mod common;

use common::{APIS, Opts, PAGES, example, examples, get, request, start, start_text};
use hafen_engine::{CheckOptions, CheckRequest, Workspace};
use serde_json::Value;
use std::path::PathBuf;

const TOKEN: &str = "test-token-0123456789abcdef";
const SECRET: &str = "Zq9-hunter2-SECRET";

fn workspace(text: &str) -> Workspace {
    let mut w = Workspace::new();
    w.add_spec("platform.yaml", text);
    w
}

/// What `hafen check --format json` prints for the spec (the CLI makes exactly these calls).
fn cli_check_json(text: &str) -> Value {
    let w = workspace(text);
    let request = CheckRequest {
        options: CheckOptions { as_of: Some(common::today()) },
        ..Default::default()
    };
    let outcome = hafen_engine::check(&w, &request);
    hafen_engine::diagnostics_json(&outcome.diagnostics, &w.sources)
}

/// What `hafen plan --format json` prints for the spec.
fn cli_plan_json(text: &str) -> Value {
    let w = workspace(text);
    let (loaded, _) = w.load();
    let loaded = loaded.expect("example loads");
    let report = hafen_engine::plan(&loaded, &hafen_engine::PlanOptions::default(), &mut |_, _| {});
    serde_json::to_value(&report).expect("plan serializes")
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hafen-server-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn every_page_and_endpoint_answers_on_every_example() {
    for name in examples() {
        let server = start_text(&example(&name), Opts::default());
        let addr = server.addr;
        for page in PAGES {
            let a = get(addr, page);
            assert_eq!(a.status, 200, "{name} {page}: {}", a.body);
            assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"), "{page}");
            let csp = a.header("content-security-policy").expect("CSP");
            assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
            assert!(a.body.starts_with("<!doctype html>"), "{page}");
            assert!(!a.body.contains("<script"), "{page}: no JavaScript");
            assert!(
                !a.body.contains("http://") || !a.body.contains("src=\"http"),
                "no external assets"
            );
        }
        // An example the renderer refuses (its findings say why) has no repository to serve.
        let rendered = get(addr, "/api/history?kind=render").json()["runs"][0]["status"] == "ok";
        for api in APIS {
            let a = get(addr, api);
            if *api == "/api/repo" && !rendered {
                assert_eq!(a.status, 404, "{name}: no render, no files");
                assert!(a.json()["error"].is_string());
                let page = get(addr, "/repo").body;
                assert!(page.contains("rendering failed"), "{name}: the repository page says why");
                assert!(
                    page.contains(r#"<article class="finding"#),
                    "{name}: and shows the findings"
                );
                continue;
            }
            assert_eq!(a.status, 200, "{name} {api}: {}", a.body);
            assert_eq!(a.header("content-type"), Some("application/json"), "{api}");
            a.json();
        }
        // Explanations of every code render.
        for code in hafen_engine::all_codes() {
            let a = get(addr, &format!("/explain/{}", code.code));
            assert_eq!(a.status, 200, "{}", code.code);
            assert!(a.body.contains(code.code));
        }
        // Files of the render open, and the API has the same bytes.
        let files = get(addr, "/api/repo").json();
        for f in files["files"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().take(40) {
            let path = f["path"].as_str().expect("path");
            let page = get(addr, &format!("/repo/file?path={path}"));
            assert_eq!(page.status, 200, "{path}");
            let api = get(addr, &format!("/api/repo/file?path={path}")).json();
            assert_eq!(api["sha256"], f["sha256"]);
            assert_eq!(api["size"], f["size"]);
        }
        server.stop().expect("stops");
    }
}

#[test]
fn answers_are_the_clis_own_documents() {
    for name in examples() {
        let text = example(&name);
        let server = start_text(&text, Opts::default());
        let addr = server.addr;
        assert_eq!(get(addr, "/api/check").json(), cli_check_json(&text), "{name}: check");
        assert_eq!(get(addr, "/api/plan").json(), cli_plan_json(&text), "{name}: plan");
        // The overview's figures are the spec's, and agree with the plan's capacity.
        let ov = get(addr, "/api/overview").json();
        let plan = cli_plan_json(&text);
        for cap in plan["capacity"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let cluster = cap["cluster"].as_str().expect("cluster");
            let nodes = ov["inventory"]["providers"]
                .as_array()
                .expect("providers")
                .iter()
                .flat_map(|p| p["sites"].as_array().expect("sites").iter())
                .flat_map(|s| s["clusters"].as_array().expect("clusters").iter())
                .find(|c| c["name"] == cluster)
                .map(|c| c["nodes"].clone());
            assert_eq!(nodes, Some(cap["nodes"].clone()), "{name}: nodes of {cluster}");
        }
        // The page shows the same totals.
        let page = get(addr, "/").body;
        for key in ["providers", "sites", "clusters", "nodes", "tenants", "apps"] {
            let n = ov["inventory"]["totals"][key].as_u64().expect("total");
            let needle = format!(r#"id="total-{key}"><div class="k">"#);
            let at = page.find(&needle).unwrap_or_else(|| panic!("{key} card"));
            let value = &page[at..];
            let v_at =
                value.find(r#"<div class="v">"#).expect("value") + r#"<div class="v">"#.len();
            let shown: String = value[v_at..]
                .chars()
                .take_while(|c| *c != '<')
                .filter(char::is_ascii_digit)
                .collect();
            assert_eq!(shown, n.to_string(), "{name}: {key}");
        }
        // The findings page lists exactly the check's diagnostics.
        let check = cli_check_json(&text);
        let findings = get(addr, "/findings").body;
        let cards = findings.matches(r#"<article class="finding"#).count();
        let total = check["diagnostics"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(cards, total.min(100), "{name}: finding cards");
        server.stop().expect("stops");
    }
}

/// A figure as the pages print it, thousands separators removed.
fn figure(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if v.is_f64() => format!("{f}"),
        _ => v.to_string(),
    }
}

fn euro(v: &Value) -> String {
    let s = figure(v);
    match s.split_once('.') {
        Some((i, f)) if f.len() < 2 => format!("{i}.{f:0<2} €"),
        Some(_) => format!("{s} €"),
        None => format!("{s}.00 €"),
    }
}

#[test]
fn plan_figures_on_the_pages_equal_the_clis_json() {
    for name in examples() {
        let text = example(&name);
        let plan = cli_plan_json(&text);
        let server = start_text(&text, Opts::default());
        let cost_page = get(server.addr, "/cost").body.replace('\u{202f}', "");
        let cost = &plan["cost"];
        for key in ["infrastructureMonthlyEUR", "totalMonthlyEUR"] {
            assert!(cost_page.contains(&euro(&cost[key])), "{name}: {key} {}", euro(&cost[key]));
        }
        for e in cost["egress"].as_array().expect("egress") {
            for r in e["rows"].as_array().expect("rows") {
                assert!(cost_page.contains(&euro(&r["billedEUR"])), "{name}: egress billed");
                assert!(cost_page.contains(&euro(&r["listEUR"])), "{name}: egress list");
            }
        }
        for f in cost["seedFacts"].as_array().expect("seed facts") {
            assert!(cost_page.contains(f["verdict"].as_str().expect("verdict")), "{name}: verdict");
        }
        for p in cost["providers"].as_array().expect("providers") {
            assert!(cost_page.contains(&euro(&p["monthlyEUR"])), "{name}: provider cost");
            assert!(
                cost_page.contains(p["displayName"].as_str().expect("name")),
                "{name}: provider named"
            );
        }
        for c in cost["clusters"].as_array().expect("clusters") {
            assert!(cost_page.contains(&euro(&c["monthlyEUR"])), "{name}: cluster cost");
            for l in c["lines"].as_array().expect("lines") {
                for k in ["unitEUR", "monthlyEUR"] {
                    assert!(cost_page.contains(&euro(&l[k])), "{name}: line {k} {}", euro(&l[k]));
                }
                assert!(
                    cost_page.contains(&figure(&l["quantity"])),
                    "{name}: quantity {}",
                    l["quantity"]
                );
            }
        }
        for o in cost["comparison"].as_array().expect("offers") {
            for k in ["computeEUR", "controlPlaneEUR", "egressEUR", "otherEUR", "totalEUR"] {
                assert!(cost_page.contains(&euro(&o[k])), "{name}: offer {k}");
            }
        }
        let sov_page = get(server.addr, "/sovereignty").body.replace('\u{202f}', "");
        let sov = &plan["sovereignty"];
        for fear in ["dataProtection", "independence", "lockIn"] {
            let f = &sov["platform"][fear];
            assert!(
                sov_page.contains(&format!(">{} <small>", figure(&f["score"]))),
                "{name}: {fear}"
            );
            for c in f["contributions"].as_array().expect("contributions") {
                assert!(
                    sov_page.contains(&format!(">{}</td>", figure(&c["points"]))),
                    "{name}: {fear} points"
                );
            }
        }
        for d in sov["dependencies"].as_array().expect("deps") {
            assert!(sov_page.contains(d["host"].as_str().expect("host")), "{name}: BOM host");
        }
        let sc_page = get(server.addr, "/scenarios").body.replace('\u{202f}', "");
        let card =
            |k: &str, v: &str| format!(r#"<div class="k">{k}</div><div class="v">{v}</div>"#);
        let sum = &plan["summary"];
        let (total, ok) = (
            sum["scenarios"].as_u64().expect("scenarios"),
            sum["survivable"].as_u64().expect("survivable"),
        );
        assert!(sc_page.contains(&card("scenarios", &figure(&sum["scenarios"]))), "{name}");
        assert!(sc_page.contains(&card("survivable", &figure(&sum["survivable"]))), "{name}");
        assert!(
            sc_page
                .contains(&card("not survivable", &figure(&serde_json::Value::from(total - ok)))),
            "{name}: not survivable"
        );
        // The packing gap is shown only when it is not 0, never as a bare "max gap".
        assert!(!sc_page.contains("max gap"), "{name}");
        server.stop().expect("stops");
    }
}

#[test]
fn exit_plans_equal_the_clis() {
    let text = example("two-stack-hetzner");
    let server = start_text(&text, Opts::default());
    let w = workspace(&text);
    let (loaded, _) = w.load();
    let options = hafen_engine::PlanOptions {
        exit: Some(("hcloud".into(), "robot".into())),
        ..hafen_engine::PlanOptions::default()
    };
    let report = hafen_engine::plan(&loaded.expect("loads"), &options, &mut |_, _| {});
    let cli = serde_json::to_value(&report).expect("json");
    let api = get(server.addr, "/api/sovereignty?exit=hcloud&to=robot").json();
    assert_eq!(api["exit"], cli["exit"], "the exit plan is the CLI's");
    assert!(api["exit"].is_object());
    let page = get(server.addr, "/sovereignty?exit=hcloud&to=robot").body;
    for step in cli["exit"]["steps"].as_array().expect("steps") {
        let title = step["title"].as_str().expect("title");
        assert!(page.contains(title), "page shows step {title}");
    }
    // The target's findings are finding cards with their codes linked, never raw JSON.
    let findings = cli["exit"]["findings"].as_array().expect("findings");
    if !findings.is_empty() {
        assert!(page.contains(r#"id="exit-findings""#), "a findings heading");
        for f in findings {
            let code = f["code"].as_str().expect("code");
            assert!(page.contains(&format!("<code>{code}</code>")), "card for {code}");
        }
    }
    assert!(!page.contains("{&quot;code&quot;") && !page.contains(r#"{"code""#), "raw JSON");
    assert_eq!(get(server.addr, "/api/sovereignty?exit=hcloud").status, 400);
    assert_eq!(get(server.addr, "/api/sovereignty?exit=%3Cx%3E&to=robot").status, 400);
    let page = get(server.addr, "/sovereignty?exit=%3Cx%3E&to=robot");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<x>"));
}

#[test]
fn findings_filter_by_severity_and_code() {
    // An even control plane (TOP001) and a pod MTU above the vSwitch's (NET001): take
    // whatever the check says and filter by it.
    let text = example("two-stack-hetzner")
        .replace(
            "controlPlane: { replicas: 3, serverType: cpx32 }",
            "controlPlane: { replicas: 2, serverType: cpx32 }",
        )
        .replace("podCIDR: 10.245.0.0/16", "mtu: 1400\n        podCIDR: 10.245.0.0/16")
        .replacen("mtu: auto\n        podCIDR: 10.245.0.0/16", "podCIDR: 10.245.0.0/16", 1);
    let server = start_text(&text, Opts::default());
    let check = cli_check_json(&text);
    let diags = check["diagnostics"].as_array().expect("diagnostics").clone();
    assert!(!diags.is_empty(), "the altered spec has findings");
    let code = diags[0]["code"].as_str().expect("code");
    let sev = diags[0]["severity"].as_str().expect("severity");
    let page = get(server.addr, &format!("/findings?severity={sev}&code={code}")).body;
    let expected = diags.iter().filter(|d| d["code"] == code && d["severity"] == sev).count();
    assert_eq!(page.matches(r#"<article class="finding"#).count(), expected);
    assert!(page.contains(&format!(r#"href="/explain/{code}""#)), "links to the explanation");
    let api = get(server.addr, &format!("/api/check?code={code}")).json();
    assert!(api["diagnostics"].as_array().expect("list").iter().all(|d| d["code"] == code));
    assert_eq!(api["summary"], check["summary"], "the summary stays the whole run's");
    assert_eq!(get(server.addr, "/findings?severity=bogus").status, 400);
    assert_eq!(get(server.addr, "/findings?code=%3Cscript%3E").status, 400);
    assert_eq!(get(server.addr, "/api/check?severity=bogus").status, 400);
}

#[test]
fn repository_paths_cannot_escape() {
    let server = start_text(&example("two-stack-hetzner"), Opts::default());
    let addr = server.addr;
    let hostile = [
        "../../../../etc/passwd",
        "..%2f..%2f..%2fetc%2fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%252e%252e%252fetc%252fpasswd",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "..%5c..%5cwindows%5cwin.ini",
        "a\\..\\..\\etc\\passwd",
        "README.md%00.yaml",
        "./README.md",
        "clusters//x.yaml",
        "",
    ];
    for base in ["/repo/file?path=", "/api/repo/file?path=", "/repo?dir="] {
        for h in hostile.iter().filter(|h| !(h.is_empty() && base == "/repo?dir=")) {
            let target = format!("{base}{}", h.replace('\\', "%5C"));
            let a = get(addr, &target);
            assert!(
                matches!(a.status, 400 | 404),
                "{target}: {} {}",
                a.status,
                &a.body[..a.body.len().min(200)]
            );
            assert!(!a.body.contains("root:x:0:0"), "{target} leaked a system file");
        }
    }
    // Raw traversal in the request target never reaches a file either.
    for target in [
        "/../../etc/passwd",
        "/repo/../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
    ] {
        let a = request(addr, "GET", target, &[], &[]);
        assert!(matches!(a.status, 400 | 404), "{target}: {}", a.status);
        assert!(!a.body.contains("root:x:0:0"));
    }
    assert_eq!(get(addr, "/repo?run=abc").status, 400);
    assert_eq!(get(addr, "/repo?run=-1").status, 400);
    assert_eq!(get(addr, "/repo?run=999999").status, 404);
}

#[test]
fn hostile_requests_are_refused_cleanly() {
    let server = start_text(&example("two-stack-hetzner"), Opts::default());
    let addr = server.addr;
    // DNS rebinding: a loopback server answers only to loopback names.
    let a = request(addr, "GET", "/", &[("Host", "evil.example:8080")], &[]);
    assert_eq!(a.status, 421);
    let a = request(addr, "GET", "/", &[("Host", "localhost:1234")], &[]);
    assert_eq!(a.status, 200);
    // Odd methods.
    assert_eq!(request(addr, "DELETE", "/", &[], &[]).status, 405);
    assert_eq!(request(addr, "PUT", "/api/runs", &[], b"x").status, 405);
    // A very long URL is refused; huge headers are answered or refused, never a crash.
    let long = format!("/findings?code={}", "A".repeat(200_000));
    let a = get(addr, &long);
    assert!(a.status == 0 || a.status >= 400, "{}", a.status);
    let huge_header = "x".repeat(1_000_000);
    let a = request(addr, "GET", "/", &[("X-Junk", &huge_header)], &[]);
    assert!(a.status == 0 || a.status >= 400, "{}", a.status);
    // Garbage instead of HTTP.
    let a = common::raw(addr, b"\x00\x01\x02 not http at all\r\n\r\n");
    assert!(a.status == 0 || a.status == 400);
    // Unknown pages and endpoints.
    assert_eq!(get(addr, "/nope").status, 404);
    let a = get(addr, "/api/nope");
    assert_eq!(a.status, 404);
    assert!(a.json()["error"].is_string());
    // Reflected input is escaped.
    let a = get(addr, "/%3Cscript%3Ealert(1)%3C/script%3E");
    assert_eq!(a.status, 404);
    assert!(!a.body.contains("<script>"));
    let a = get(addr, "/explain/%3Cimg%20src=x%3E");
    assert_eq!(a.status, 400);
    assert!(!a.body.contains("<img"));
    let a = get(addr, "/scenarios?kind=%3Cb%3E");
    assert!(!a.body.contains("<b>"));
    // Bad parameters.
    assert_eq!(get(addr, "/history?kind=x").status, 400);
    assert_eq!(get(addr, "/api/history?limit=0").status, 400);
    assert_eq!(get(addr, "/api/history?limit=5000").status, 400);
    assert_eq!(get(addr, "/api/repo/diff").status, 400);
    assert_eq!(get(addr, "/history/abc").status, 400);
    assert_eq!(get(addr, "/api/runs/0").status, 400);
    assert_eq!(get(addr, "/api/runs/99999").status, 404);
    assert_eq!(get(addr, "/explain/NOPE999").status, 404);
    // Still healthy.
    assert_eq!(get(addr, "/healthz").status, 200);
}

#[test]
fn silent_connections_are_closed() {
    let limits = hafen_server::Limits {
        idle_timeout: std::time::Duration::from_millis(500),
        max_connections: 4,
        ..Opts::default().limits
    };
    let server = start_text(&example("two-stack-hetzner"), Opts { limits, ..Opts::default() });
    // Slowloris: more connections than allowed, each sending half a request line.
    let mut held = Vec::new();
    for _ in 0..6 {
        let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
        std::io::Write::write_all(&mut s, b"GET / HT").expect("write");
        held.push(s);
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // The silent ones were dropped; a real reader gets through.
    assert_eq!(get(server.addr, "/healthz").status, 200);
    let mut first = held.remove(0);
    first.set_read_timeout(Some(std::time::Duration::from_secs(5))).expect("timeout");
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut first, &mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the idle connection was closed by the server");
}

#[test]
fn a_read_only_server_refuses_mutations() {
    let server = start_text(&example("two-stack-hetzner"), Opts::default());
    let addr = server.addr;
    let same =
        [("Sec-Fetch-Site", "same-origin"), ("Authorization", "Bearer whatever-token-123456")];
    let a = request(addr, "POST", "/api/runs", &same, &[]);
    assert_eq!(a.status, 403);
    assert!(a.body.contains("read-only"));
    let a =
        request(addr, "POST", "/actions/rerun", &[("Sec-Fetch-Site", "same-origin")], b"token=x");
    assert_eq!(a.status, 403);
    let page = get(addr, "/").body;
    assert!(page.contains("read-only") && !page.contains(r#"name="token""#));
}

#[test]
fn mutations_need_the_token_and_the_same_origin() {
    let limits = hafen_server::Limits {
        reads_per_second: 1e6,
        read_burst: 1e6,
        writes_per_minute: 600.0,
        ..Default::default()
    };
    let opts = Opts { token: Some(TOKEN.into()), limits, ..Opts::default() };
    let server = start_text(&example("two-stack-hetzner"), opts);
    let addr = server.addr;
    let origin = format!("http://{addr}");
    let bearer = format!("Bearer {TOKEN}");
    let runs_before = get(addr, "/api/history").json()["runs"].as_array().expect("runs").len();

    let cases: Vec<(Vec<(&str, &str)>, u16)> = vec![
        (vec![("Sec-Fetch-Site", "same-origin")], 401),
        (
            vec![
                ("Sec-Fetch-Site", "same-origin"),
                ("Authorization", "Bearer wrong-token-0123456789"),
            ],
            401,
        ),
        (vec![("Sec-Fetch-Site", "same-origin"), ("Authorization", "Basic dGVzdA==")], 401),
        (vec![("Authorization", &bearer)], 403),
        (vec![("Sec-Fetch-Site", "cross-site"), ("Authorization", &bearer)], 403),
        (vec![("Sec-Fetch-Site", "same-site"), ("Authorization", &bearer)], 403),
        (vec![("Origin", "http://evil.example"), ("Authorization", &bearer)], 403),
        (vec![("Origin", "null"), ("Authorization", &bearer)], 403),
        (
            vec![
                ("Sec-Fetch-Site", "same-origin"),
                ("Origin", "http://evil.example"),
                ("Authorization", &bearer),
            ],
            403,
        ),
    ];
    for (headers, status) in &cases {
        let a = request(addr, "POST", "/api/runs", headers, &[]);
        assert_eq!(a.status, *status, "{headers:?}: {}", a.body);
        assert!(!a.body.contains(TOKEN), "never echo the token");
    }
    let after_refusals = get(addr, "/api/history").json()["runs"].as_array().expect("runs").len();
    assert_eq!(after_refusals, runs_before, "refused requests ran nothing");

    // The API with the token, from this origin.
    let a =
        request(addr, "POST", "/api/runs", &[("Origin", &origin), ("Authorization", &bearer)], &[]);
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(!a.body.contains(TOKEN));
    let after = get(addr, "/api/history").json()["runs"].as_array().expect("runs").len();
    assert_eq!(after, runs_before + 3, "check, plan and render recorded");

    // The HTML form as a browser sends it.
    let body = format!("token={TOKEN}");
    let a = request(
        addr,
        "POST",
        "/actions/rerun",
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", &origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location"), Some("/history"));
    // The same form from another site, or with a wrong token.
    let a = request(
        addr,
        "POST",
        "/actions/rerun",
        &[("Sec-Fetch-Site", "cross-site")],
        body.as_bytes(),
    );
    assert_eq!(a.status, 403);
    let a = request(
        addr,
        "POST",
        "/actions/rerun",
        &[("Sec-Fetch-Site", "same-origin")],
        b"token=nope",
    );
    assert_eq!(a.status, 401);
    assert!(!a.body.contains("nope") || !a.body.contains("token=nope"));
    // A body over the limit.
    let big = vec![b'a'; 64 * 1024];
    let a = request(addr, "POST", "/actions/rerun", &[("Sec-Fetch-Site", "same-origin")], &big);
    assert_eq!(a.status, 413);
    // The page never shows the token, even after it was posted.
    for page in PAGES.iter().chain(APIS) {
        assert!(!get(addr, page).body.contains(TOKEN), "{page}");
    }
    // Two renders in the history now: they can be compared (identical spec, no changes).
    let renders = get(addr, "/api/history?kind=render").json();
    let ids: Vec<i64> =
        renders["runs"].as_array().expect("runs").iter().filter_map(|r| r["id"].as_i64()).collect();
    assert!(ids.len() >= 2);
    let d = get(addr, &format!("/api/repo/diff?from={}&to={}", ids[1], ids[0])).json();
    assert_eq!(d["changedCount"], 0);
    let page = get(addr, &format!("/repo/diff?from={}&to={}", ids[1], ids[0]));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("identical"));
}

#[test]
fn the_token_is_short_refused() {
    let opts = Opts { token: Some("short".into()), ..Opts::default() };
    let err =
        start(vec![("p.yaml".into(), example("two-stack-hetzner"))], opts).err().expect("refused");
    assert!(err.contains("too short"), "{err}");
}

#[test]
fn rate_limits_apply_per_client() {
    let limits =
        hafen_server::Limits { reads_per_second: 0.5, read_burst: 5.0, ..Default::default() };
    let server = start_text(&example("two-stack-hetzner"), Opts { limits, ..Opts::default() });
    let statuses: Vec<u16> = (0..8).map(|_| get(server.addr, "/healthz").status).collect();
    assert_eq!(&statuses[..5], &[200; 5]);
    let refused = get(server.addr, "/healthz");
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    // Writes have their own, smaller budget (default 6 a minute), spent by refusals too, so
    // a token cannot be guessed quickly.
    let opts = Opts { token: Some(TOKEN.into()), ..Opts::default() };
    let server = start_text(&example("two-stack-hetzner"), opts);
    let statuses: Vec<u16> = (0..8)
        .map(|_| {
            request(
                server.addr,
                "POST",
                "/api/runs",
                &[
                    ("Sec-Fetch-Site", "same-origin"),
                    ("Authorization", "Bearer wrong-wrong-wrong-wrong"),
                ],
                &[],
            )
            .status
        })
        .collect();
    assert_eq!(&statuses[..6], &[401; 6]);
    assert_eq!(&statuses[6..], &[429; 2]);
    assert_eq!(get(server.addr, "/").status, 200, "reads are not affected");
}

#[test]
fn no_secret_value_reaches_any_answer() {
    // 1. A spec the loader rejects for its plain secrets: the finding quotes the value.
    let rejected = example("two-stack-hetzner").replace(
        "env: { FLOW_CONTEXT: Production }",
        &format!("env: {{ FLOW_CONTEXT: Production, DB_PASSWORD: \"{SECRET}\", SMTP_URL: \"smtp://u:{SECRET}@mail.example.eu\" }}"),
    );
    assert!(rejected.contains(SECRET));
    // 2. A spec that loads, with credentials in URLs.
    let loads = example("two-stack-hetzner")
        .replace(
            "repo: ssh://git@git.example.eu/platform/beach.git",
            &format!("repo: https://deploy:{SECRET}@git.example.eu/platform/beach.git"),
        )
        .replace(
            "endpoint: https://fsn1.your-objectstorage.com",
            &format!("endpoint: https://key:{SECRET}@fsn1.your-objectstorage.com"),
        );
    assert!(loads.contains(SECRET));
    for (what, text) in [("rejected", &rejected), ("loads", &loads)] {
        let opts = Opts { token: Some(TOKEN.into()), ..Opts::default() };
        let server = start_text(text, opts);
        let addr = server.addr;
        let check = get(addr, "/api/check").json();
        if what == "rejected" {
            assert!(
                check["diagnostics"]
                    .as_array()
                    .expect("list")
                    .iter()
                    .any(|d| d["code"] == "SPEC011"),
                "the loader flags it"
            );
        }
        let mut targets: Vec<String> = PAGES.iter().chain(APIS).map(|s| s.to_string()).collect();
        targets.extend(
            ["/metrics", "/findings?code=SPEC011", "/api/check?code=SPEC011", "/explain/SPEC011"]
                .map(String::from),
        );
        let history = get(addr, "/api/history").json();
        for r in history["runs"].as_array().expect("runs") {
            targets.push(format!("/api/runs/{}", r["id"]));
            targets.push(format!("/history/{}", r["id"]));
        }
        if let Some(files) = get(addr, "/api/repo").json()["files"].as_array() {
            for f in files {
                let p = f["path"].as_str().expect("path");
                targets.push(format!("/api/repo/file?path={p}"));
                targets.push(format!("/repo/file?path={p}"));
            }
        }
        for t in &targets {
            let a = get(addr, t);
            assert!(!a.body.contains(SECRET), "{what}: {t} leaks the secret");
            assert!(!a.body.contains("hunter2"), "{what}: {t} leaks part of the secret");
            assert!(!a.body.contains(TOKEN), "{what}: {t} leaks the token");
        }
    }
}

#[test]
fn history_survives_restarts_and_bad_databases_are_clear_errors() {
    let dir = temp_dir("restart");
    let db = dir.join("history.db");
    let text = example("two-stack-hetzner");
    let first = start_text(&text, Opts { db: db.clone(), ..Opts::default() });
    let runs1 = get(first.addr, "/api/history").json()["runs"].as_array().expect("runs").len();
    assert_eq!(runs1, 3);
    first.stop().expect("stops");
    let changed = text.replace("count: 6", "count: 7");
    let second = start_text(&changed, Opts { db: db.clone(), ..Opts::default() });
    let history = get(second.addr, "/api/history").json();
    let runs = history["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 6, "the first start's runs are still there");
    assert_ne!(runs[0]["specDigest"], runs[5]["specDigest"], "the spec changed");
    let page = get(second.addr, "/history").body;
    assert!(page.contains("6 runs"), "history page counts all runs");
    // The two renders can be compared from the history.
    let renders: Vec<i64> = runs
        .iter()
        .filter(|r| r["kind"] == "render" && r["status"] == "ok")
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(renders.len(), 2);
    let d = get(second.addr, &format!("/api/repo/diff?from={}&to={}", renders[1], renders[0]));
    assert_eq!(d.status, 200);
    let page = get(second.addr, &format!("/repo/diff?from={}&to={}", renders[1], renders[0]));
    assert_eq!(page.status, 200);
    // Old results can be shown again.
    let old_check = get(second.addr, &format!("/api/runs/{}", runs[5]["id"])).json();
    assert_eq!(old_check["kind"], "check");
    assert!(old_check["result"]["summary"].is_object());
    second.stop().expect("stops");

    // A corrupt database is a clear error at start, not a crash.
    let bad = dir.join("bad.db");
    std::fs::write(&bad, b"garbage garbage garbage ".repeat(500)).expect("write");
    let err = start(vec![("p.yaml".into(), text.clone())], Opts { db: bad, ..Opts::default() })
        .err()
        .expect("refused");
    assert!(err.contains("damaged or not a Hafen database"), "{err}");
    // A locked database too.
    let locked = dir.join("locked.db");
    drop(hafen_store::Store::open(&locked).expect("create"));
    let holder = rusqlite::Connection::open(&locked).expect("second connection");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let err = start(vec![("p.yaml".into(), text)], Opts { db: locked.clone(), ..Opts::default() })
        .err()
        .expect("refused");
    assert!(err.contains("locked by another process"), "{err}");
    holder.execute_batch("ROLLBACK").expect("unlock");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_count_requests_and_runs() {
    let server = start_text(&example("two-stack-hetzner"), Opts::default());
    for _ in 0..3 {
        get(server.addr, "/findings");
    }
    get(server.addr, "/definitely/not/here");
    let m = get(server.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").expect("ct").starts_with("text/plain; version=0.0.4"));
    let body = m.body;
    assert!(
        body.contains(
            r#"hafen_http_requests_total{route="/findings",method="GET",status="200"} 3"#
        ),
        "{body}"
    );
    assert!(body.contains(r#"route="other""#), "unmatched paths share one label");
    assert!(!body.contains("definitely"), "raw paths never become labels");
    assert!(
        body.contains(
            r#"hafen_http_request_duration_seconds_bucket{route="/findings",le="+Inf"} 3"#
        )
    );
    assert!(body.contains(r#"hafen_runs_total{kind="check",status="ok"} 1"#), "{body}");
    assert!(body.contains("hafen_check_findings{severity=\"errors\"} 0"));
    for line in body.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let value = line.rsplit(' ').next().expect("value");
        assert!(value.parse::<f64>().is_ok(), "bad sample line: {line}");
    }
}

#[test]
fn an_unreadable_or_broken_spec_still_serves_pages() {
    // Files that cannot be read: the loader's message is shown.
    let config = hafen_server::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        db: PathBuf::from(":memory:"),
        token: None,
        loader: std::sync::Arc::new(|| {
            Err("cannot read `gone.yaml`: no such file or folder".into())
        }),
        today: common::today,
        limits: Opts::default().limits,
        allowed_hosts: Vec::new(),
    };
    let server = hafen_server::start(config).expect("starts");
    for page in ["/", "/findings", "/scenarios", "/cost", "/sovereignty", "/repo", "/history"] {
        let a = get(server.addr, page);
        assert_eq!(a.status, 200, "{page}");
        assert!(a.body.contains("gone.yaml"), "{page} says why");
    }
    server.stop().expect("stops");
    // A spec with errors: findings shown, nothing rendered, the pages explain.
    // `kubernetes: "1.x.y"` becomes the number 1.30 (whatever version the example pins).
    let good = example("two-stack-hetzner");
    let broken = good.replacen("kubernetes: \"", "kubernetes: 1.30 # \"", 1);
    assert_ne!(broken, good, "the example pins a quoted Kubernetes version");
    let server = start_text(&broken, Opts::default());
    let f = get(server.addr, "/findings").body;
    assert!(f.contains("SPEC"), "{f}");
    let r = get(server.addr, "/repo").body;
    assert!(r.contains("not rendered") || r.contains("could not be loaded"), "{r}");
    assert_eq!(get(server.addr, "/api/repo").status, 404);
}

#[test]
fn a_locked_history_database_does_not_stall_other_pages() {
    let dir = std::env::temp_dir().join(format!("hafen-locked-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("history.db");
    let server =
        start_text(&example("two-stack-hetzner"), Opts { db: db.clone(), ..Opts::default() });
    let holder = rusqlite::Connection::open(&db).expect("second connection");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let addr = server.addr;
    let readers: Vec<_> =
        (0..8).map(|_| std::thread::spawn(move || get(addr, "/history"))).collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let cost = get(addr, "/cost");
    let took = started.elapsed();
    assert_eq!(cost.status, 200);
    assert!(took < std::time::Duration::from_millis(1000), "/cost waited {took:?} on the lock");
    let started = std::time::Instant::now();
    for r in readers {
        let a = r.join().expect("reader");
        assert_eq!(a.status, 503, "{}", a.body);
        assert!(a.body.contains("locked") || a.body.contains("busy"), "{}", a.body);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "history answers are bounded");
    holder.execute_batch("ROLLBACK").expect("unlock");
    assert_eq!(get(addr, "/history").status, 200, "recovers once the lock is gone");
    server.stop().expect("stops");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn oversized_bodies_are_refused_with_a_sentence() {
    let token = "body-limit-token-0123456789";
    let server = start_text(
        &example("two-stack-hetzner"),
        Opts { token: Some(token.into()), ..Opts::default() },
    );
    let addr = server.addr;
    let origin = format!("http://{addr}");
    let bearer = format!("Bearer {token}");
    let big = vec![b'x'; 64 * 1024];
    let a = request(
        addr,
        "POST",
        "/api/runs",
        &[("Origin", &origin), ("Authorization", &bearer)],
        &big,
    );
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body.contains("larger than"), "{}", a.body);
    assert!(a.json()["error"].is_string(), "JSON for the API");
    // Chunked, so no Content-Length to judge by: the body limit still applies.
    let mut raw = format!(
        "POST /api/runs HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nAuthorization: {bearer}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..8 {
        raw.extend_from_slice(format!("{:x}\r\n", 8192).as_bytes());
        raw.extend_from_slice(&[b'y'; 8192]);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let a = common::raw(addr, &raw);
    assert_eq!(a.status, 413, "{}", a.body);
    let form = request(addr, "POST", "/actions/rerun", &[("Origin", &origin)], &big);
    assert_eq!(form.status, 413);
    assert!(form.body.contains("larger than"), "{}", form.body);
    server.stop().expect("stops");
}

#[test]
fn in_page_links_of_the_scenario_matrix_lead_somewhere() {
    for name in examples() {
        let server = start_text(&example(&name), Opts::default());
        for page in [
            "/scenarios",
            "/scenarios?kind=node",
            "/scenarios?kind=pool",
            "/scenarios?outcome=failing",
        ] {
            let body = get(server.addr, page).body;
            for target in body.split("href=\"#").skip(1).filter_map(|s| s.split('"').next()) {
                assert!(
                    body.contains(&format!("id=\"{target}\"")),
                    "{name} {page}: #{target} has no target"
                );
            }
        }
    }
}
