//! The OpenAPI document (`docs/openapi.json`) against the real answers: every documented
//! endpoint is served, every answer's status is documented, and every JSON body validates
//! against the documented schema (a small in-repo validator for the subset the document
//! uses; it is itself tested to reject wrong documents).

mod common;

use common::{Opts, example, examples, get, request, start_text};
use serde_json::Value;
use std::net::SocketAddr;

const TOKEN: &str = "openapi-token-0123456789";

fn doc() -> Value {
    let text = std::fs::read_to_string(common::repo_root().join("docs/openapi.json")).expect("doc");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Validates `value` against `schema`; errors name the JSON path.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &root["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling $ref {r}");
        return validate(root, target, value, at, errors);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            // allOf members are validated without closing the object against siblings.
            let mut open = s.clone();
            if let Some(r) = s.get("$ref").and_then(Value::as_str) {
                let name = r.trim_start_matches("#/components/schemas/");
                open = root["components"]["schemas"][name].clone();
            }
            if let Some(o) = open.as_object_mut() {
                o.insert("additionalProperties".into(), Value::Bool(true));
            }
            validate(root, &open, value, at, errors);
        }
    }
    if value.is_null() {
        if schema.get("nullable") == Some(&Value::Bool(true)) || schema.get("type").is_none() {
            return;
        }
        errors.push(format!("{at}: null where {} is required", schema["type"]));
        return;
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let ok = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            other => panic!("unsupported type {other} at {at}"),
        };
        if !ok {
            errors.push(format!("{at}: expected {ty}, found {value}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in
            schema.get("required").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
        {
            let key = req.as_str().expect("required name");
            if !obj.contains_key(key) {
                errors.push(format!("{at}: missing required `{key}`"));
            }
        }
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(root, s, v, &format!("{at}.{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{at}: undocumented property `{k}`"))
                    }
                    Some(s @ Value::Object(_)) => {
                        validate(root, s, v, &format!("{at}.{k}"), errors)
                    }
                    _ => {}
                },
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            errors.push(format!("{at}: fewer than {min} items"));
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && (items.len() as u64) > max
        {
            errors.push(format!("{at}: more than {max} items"));
        }
        if let Some(s) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(root, s, item, &format!("{at}[{i}]"), errors);
            }
        }
    }
}

/// Checks one real answer against the document: status documented, body valid.
fn check_answer(root: &Value, path_key: &str, method: &str, status: u16, body: &str) {
    let op = &root["paths"][path_key][method];
    assert!(op.is_object(), "{method} {path_key} is not documented");
    let resp = &op["responses"][status.to_string()];
    assert!(
        resp.is_object(),
        "{method} {path_key} answered {status}, which is not documented: {body}"
    );
    let content = &resp["content"];
    if let Some(schema) = content.get("application/json").map(|c| &c["schema"]) {
        let value: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{path_key}: not JSON ({e})"));
        let mut errors = Vec::new();
        validate(root, schema, &value, "$", &mut errors);
        assert!(
            errors.is_empty(),
            "{method} {path_key} ({status}) disagrees with the OpenAPI document:\n{}",
            errors.join("\n")
        );
    }
}

fn get_check(root: &Value, addr: SocketAddr, path_key: &str, target: &str) -> Value {
    let a = get(addr, target);
    check_answer(root, path_key, "get", a.status, &a.body);
    if a.header("content-type") == Some("application/json") { a.json() } else { Value::Null }
}

#[test]
fn the_validator_rejects_wrong_documents() {
    let root = doc();
    let error_schema = serde_json::json!({"$ref": "#/components/schemas/Error"});
    let cases = [
        serde_json::json!({"error": 1}),
        serde_json::json!({}),
        serde_json::json!({"error": "x", "extra": true}),
        serde_json::json!(null),
        serde_json::json!([]),
    ];
    for bad in cases {
        let mut errors = Vec::new();
        validate(&root, &error_schema, &bad, "$", &mut errors);
        assert!(!errors.is_empty(), "{bad} must not validate");
    }
    let mut errors = Vec::new();
    validate(&root, &error_schema, &serde_json::json!({"error": "x"}), "$", &mut errors);
    assert!(errors.is_empty());
    let run = serde_json::json!({"$ref": "#/components/schemas/Run"});
    let mut errors = Vec::new();
    let bad_run = serde_json::json!({"id": 1.5, "kind": "deploy", "status": "ok", "startedAt": "", "startedAtMs": 1, "durationMs": 1, "specDigest": "", "trigger": "", "summary": {}});
    validate(&root, &run, &bad_run, "$", &mut errors);
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn every_documented_endpoint_is_served_and_nothing_undocumented() {
    let root = doc();
    let documented: Vec<&str> =
        root["paths"].as_object().expect("paths").keys().map(String::as_str).collect();
    let served = [
        "/healthz",
        "/metrics",
        "/api/overview",
        "/api/check",
        "/api/plan",
        "/api/scenarios",
        "/api/cost",
        "/api/sovereignty",
        "/api/repo",
        "/api/repo/file",
        "/api/repo/diff",
        "/api/history",
        "/api/runs",
        "/api/runs/{id}",
        "/api/codes",
        "/api/explain/{code}",
    ];
    let mut a = documented.clone();
    a.sort_unstable();
    let mut b = served.to_vec();
    b.sort_unstable();
    assert_eq!(a, b, "the document and the router list the same endpoints");
    let server = start_text(&example("two-stack-hetzner"), Opts::default());
    for path in served {
        let target = path.replace("{id}", "1").replace("{code}", "NET001");
        let method = if path == "/api/runs" { "POST" } else { "GET" };
        let answer = request(server.addr, method, &target, &[], &[]);
        let fallback = answer.status == 404 && answer.body.contains("no such endpoint");
        assert!(!fallback, "{path} is documented but not served");
    }
}

#[test]
fn real_answers_match_the_document_on_every_example() {
    let root = doc();
    for name in examples() {
        let limits = hafen_server::Limits {
            reads_per_second: 1e6,
            read_burst: 1e6,
            writes_per_minute: 600.0,
            ..Default::default()
        };
        let server = start_text(
            &example(&name),
            Opts { token: Some(TOKEN.into()), limits, ..Opts::default() },
        );
        let addr = server.addr;
        for (key, target) in [
            ("/healthz", "/healthz"),
            ("/metrics", "/metrics"),
            ("/api/overview", "/api/overview"),
            ("/api/check", "/api/check"),
            ("/api/check", "/api/check?severity=warning&code=NET001"),
            ("/api/check", "/api/check?severity=nope"),
            ("/api/plan", "/api/plan"),
            ("/api/scenarios", "/api/scenarios"),
            ("/api/cost", "/api/cost"),
            ("/api/sovereignty", "/api/sovereignty"),
            ("/api/sovereignty", "/api/sovereignty?exit=nope"),
            ("/api/sovereignty", "/api/sovereignty?exit=a%20b&to=c"),
            ("/api/repo", "/api/repo"),
            ("/api/repo", "/api/repo?run=x"),
            ("/api/repo", "/api/repo?run=99999"),
            ("/api/repo/file", "/api/repo/file?path=../etc/passwd"),
            ("/api/repo/file", "/api/repo/file?path=no/such/file.yaml"),
            ("/api/repo/diff", "/api/repo/diff"),
            ("/api/repo/diff", "/api/repo/diff?from=99999"),
            ("/api/history", "/api/history"),
            ("/api/history", "/api/history?kind=render&limit=2"),
            ("/api/history", "/api/history?kind=nope"),
            ("/api/runs/{id}", "/api/runs/abc"),
            ("/api/runs/{id}", "/api/runs/99999"),
            ("/api/codes", "/api/codes"),
            ("/api/explain/{code}", "/api/explain/NET001"),
            ("/api/explain/{code}", "/api/explain/NOPE999"),
            ("/api/explain/{code}", "/api/explain/%3Cx%3E"),
        ] {
            get_check(&root, addr, key, target);
        }
        let files = get(addr, "/api/repo").json();
        if let Some(first) = files["files"].as_array().and_then(|f| f.first()) {
            let p = first["path"].as_str().expect("path");
            get_check(&root, addr, "/api/repo/file", &format!("/api/repo/file?path={p}"));
        }
        // Mutations: refused and accepted answers.
        let origin = format!("http://{addr}");
        let bearer = format!("Bearer {TOKEN}");
        for headers in [
            vec![("Origin", origin.as_str())],
            vec![("Sec-Fetch-Site", "cross-site"), ("Authorization", bearer.as_str())],
            vec![("Origin", origin.as_str()), ("Authorization", bearer.as_str())],
        ] {
            let a = request(addr, "POST", "/api/runs", &headers, &[]);
            check_answer(&root, "/api/runs", "post", a.status, &a.body);
        }
        // Every recorded run, and diffs between renders.
        let history = get(addr, "/api/history").json();
        for r in history["runs"].as_array().expect("runs") {
            get_check(&root, addr, "/api/runs/{id}", &format!("/api/runs/{}", r["id"]));
        }
        let renders: Vec<i64> = history["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .filter(|r| r["kind"] == "render" && r["status"] == "ok")
            .filter_map(|r| r["id"].as_i64())
            .collect();
        if renders.len() >= 2 {
            get_check(
                &root,
                addr,
                "/api/repo/diff",
                &format!("/api/repo/diff?from={}&to={}", renders[1], renders[0]),
            );
            get_check(
                &root,
                addr,
                "/api/repo/diff",
                &format!("/api/repo/diff?from={}", renders[1]),
            );
        }
    }
    // A spec that does not load: the plan endpoints' 404s.
    let broken = example("two-stack-hetzner").replace("kubernetes: \"1.36.3\"", "kubernetes: 1.30");
    let server = start_text(&broken, Opts::default());
    for (key, target) in [
        ("/api/plan", "/api/plan"),
        ("/api/cost", "/api/cost"),
        ("/api/repo", "/api/repo"),
        ("/api/overview", "/api/overview"),
        ("/api/check", "/api/check"),
    ] {
        get_check(&root, server.addr, key, target);
    }
}
