//! Prometheus `/metrics` in the text exposition format: request counts and latency per route
//! (route templates, never raw paths, so hostile URLs cannot grow the label set), run counts
//! from the history, and the last check's findings.

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, &'static str, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// Request metrics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        _ => "other",
    }
}

impl Metrics {
    pub(crate) fn observe(&self, route: &str, method: &Method, status: StatusCode, took: Duration) {
        let mut inner = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *inner
            .requests
            .entry((route.to_owned(), method_label(method), status.as_u16()))
            .or_insert(0) += 1;
        let h = inner.latency.entry(route.to_owned()).or_default();
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    fn render(&self, out: &mut String) {
        let inner = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        out.push_str("# HELP hafen_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE hafen_http_requests_total counter\n");
        for ((route, method, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "hafen_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str(
            "# HELP hafen_http_request_duration_seconds Time to answer, by route template.\n",
        );
        out.push_str("# TYPE hafen_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let route = label(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "hafen_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "hafen_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "hafen_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "hafen_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }
}

/// Escapes a label value per the exposition format.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `GET /metrics`.
pub(crate) async fn handler(State(state): State<Arc<AppState>>) -> Response {
    let mut out = String::new();
    state.metrics.render(&mut out);
    out.push_str("# HELP hafen_runs_total Check, plan and render runs recorded in the history.\n");
    out.push_str("# TYPE hafen_runs_total counter\n");
    let counts = state.history(hafen_store::Store::counts);
    match counts {
        Ok(counts) => {
            for ((kind, status), n) in counts {
                let _ = writeln!(
                    out,
                    "hafen_runs_total{{kind=\"{}\",status=\"{}\"}} {n}",
                    kind.as_str(),
                    status.as_str()
                );
            }
            out.push_str("# HELP hafen_history_up 1 when the history database answers.\n");
            out.push_str("# TYPE hafen_history_up gauge\nhafen_history_up 1\n");
        }
        Err(_) => {
            out.push_str("# HELP hafen_history_up 1 when the history database answers.\n");
            out.push_str("# TYPE hafen_history_up gauge\nhafen_history_up 0\n");
        }
    }
    let snapshot = state.snapshot();
    out.push_str("# HELP hafen_check_findings Findings of the last check, by severity.\n");
    out.push_str("# TYPE hafen_check_findings gauge\n");
    for key in ["errors", "warnings", "infos", "suppressed"] {
        let n = snapshot.check["summary"][key].as_u64().unwrap_or(0);
        let _ = writeln!(out, "hafen_check_findings{{severity=\"{key}\"}} {n}");
    }
    out.push_str(
        "# HELP hafen_last_run_timestamp_seconds When the current results were computed.\n",
    );
    out.push_str("# TYPE hafen_last_run_timestamp_seconds gauge\n");
    let _ = writeln!(out, "hafen_last_run_timestamp_seconds {}", snapshot.at_ms as f64 / 1000.0);
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
