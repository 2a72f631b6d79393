//! The request guard every answer passes, and the checks mutating endpoints make.
//!
//! Reads: a Host check (a server on loopback answers only to loopback names, so a DNS
//! rebinding page cannot read it), a per-client token-bucket rate limit, strict security
//! headers (CSP without scripts, no framing, no referrer), metrics, and a final redaction of
//! secrets and the token. Mutations additionally need the token (compared in constant time)
//! and a same-origin request (`Sec-Fetch-Site`/`Origin`), after the dashboard CVE classes in
//! the research notes (CVE-2018-18264: no "skip login"; CSRF on state-changing endpoints).

use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The Content-Security-Policy of every answer: no scripts at all, styles and images only
/// from this server, forms only to this server, never framed.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Largest answer body the redaction pass reads (pages are paginated far below this).
const MAX_SCRUB_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets per client address: one for reads, one for writes.
pub(crate) struct RateLimiter {
    reads: Mutex<HashMap<IpAddr, Bucket>>,
    writes: Mutex<HashMap<IpAddr, Bucket>>,
    read_rate: f64,
    read_burst: f64,
    write_rate: f64,
    write_burst: f64,
}

impl RateLimiter {
    pub(crate) fn new(limits: &crate::Limits) -> RateLimiter {
        RateLimiter {
            reads: Mutex::new(HashMap::new()),
            writes: Mutex::new(HashMap::new()),
            read_rate: limits.reads_per_second.max(0.001),
            read_burst: limits.read_burst.max(1.0),
            write_rate: (limits.writes_per_minute / 60.0).max(0.0001),
            write_burst: limits.writes_per_minute.clamp(1.0, 60.0),
        }
    }

    /// Takes one token; `Err(seconds to wait)` when the bucket is empty.
    fn take(&self, ip: IpAddr, write: bool) -> Result<(), u64> {
        let (map, rate, burst) = if write {
            (&self.writes, self.write_rate, self.write_burst)
        } else {
            (&self.reads, self.read_rate, self.read_burst)
        };
        let mut map = match map.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        if map.len() > 4096 {
            // Forget clients whose bucket has refilled: they lose nothing.
            map.retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = map.entry(ip).or_insert(Bucket { tokens: burst, last: now });
        let refill = now.duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// Splits a Host header into its name and port; `None` when it is not `name[:digits]` or
/// `[v6][:digits]` (anything else — userinfo, paths, spaces — is not a Host a browser sends).
fn host_name(host: &str) -> Option<String> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        if after.is_empty() { (name, None) } else { (name, Some(after.strip_prefix(':')?)) }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':');
    valid.then_some(name)
}

/// True when `host` (a Host header, maybe with a port) names this machine's loopback.
fn is_loopback_host(host: &str) -> bool {
    host_name(host).is_some_and(|name| {
        name == "localhost"
            || name.ends_with(".localhost")
            || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

/// The Host check. On loopback only loopback names pass. On another address an IP literal
/// passes (DNS rebinding needs a name the attacker controls, so an address is safe) and names
/// pass only when the operator allowed them (`hafen serve --allow-host`).
fn host_allowed(host: Option<&str>, loopback_bind: bool, allowed: &[String]) -> bool {
    let Some(host) = host else { return false };
    if is_loopback_host(host) {
        return true;
    }
    if loopback_bind {
        return false;
    }
    match host_name(host) {
        Some(name) => {
            name.parse::<IpAddr>().is_ok() || allowed.iter().any(|a| a.eq_ignore_ascii_case(&name))
        }
        None => false,
    }
}

/// The middleware around every route.
pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "other".to_owned());
    let method = request.method().clone();
    let ip = request
        .extensions()
        .get::<ConnectInfo<crate::listener::ClientAddr>>()
        .map(|c| c.0.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));

    let path = request.uri().path().to_owned();
    let response = match precheck(&state, &request, ip) {
        Some(rejection) => rejection,
        None => next.run(request).await,
    };
    // The body-limit rejection of the extractors is the framework's terse text; say it plainly.
    let response = if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(&state, &path)
    } else {
        response
    };
    let response = finish(&state, response).await;
    state.metrics.observe(&route, &method, response.status(), started.elapsed());
    response
}

fn precheck(state: &AppState, request: &Request, ip: IpAddr) -> Option<Response> {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let loopback_bind = state.listen.ip().is_loopback();
    if !host_allowed(host, loopback_bind, &state.allowed_hosts) {
        let why = if loopback_bind {
            "this server listens on loopback and answers only to localhost or 127.0.0.1"
        } else {
            "this server answers to IP addresses and to the names given with --allow-host only \
             (a defence against DNS rebinding)"
        };
        return Some(plain(StatusCode::MISDIRECTED_REQUEST, why));
    }
    if let Some(length) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > state.limits.max_body_bytes as u64
    {
        return Some(too_large(state, request.uri().path()));
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD | Method::POST) {
        return Some(plain(StatusCode::METHOD_NOT_ALLOWED, "only GET, HEAD and POST"));
    }
    let write = request.method() == Method::POST;
    if let Err(wait) = state.rate.take(ip, write) {
        let mut r = plain(StatusCode::TOO_MANY_REQUESTS, "too many requests; slow down");
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Some(r);
    }
    None
}

/// Adds the security headers and scrubs the body.
async fn finish(state: &AppState, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let h = &mut parts.headers;
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: with no-referrer, browsers send `Origin: null` on the
    // dashboard's own form posts, and the same-origin check could not tell them apart.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if parts.extensions.get::<PreScrubbed>().is_some() {
        return Response::from_parts(parts, body);
    }
    let textual = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/") || ct.contains("json") || ct.contains("svg"));
    if !textual {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_SCRUB_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "the answer was too large to send");
        }
    };
    let snapshot = state.snapshot();
    let scrubbed = match std::str::from_utf8(&bytes) {
        Ok(text) => snapshot.redactor.scrub_output(text, state.token.as_deref()),
        Err(_) => None,
    };
    match scrubbed {
        Some(text) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(text))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// The answer to a body over the limit: JSON for the API, a sentence for pages.
pub(crate) fn too_large(state: &AppState, path: &str) -> Response {
    let text = format!(
        "the request body is larger than {} bytes; this server accepts small forms only",
        state.limits.max_body_bytes
    );
    if path.starts_with("/api/") {
        crate::api::json_error(StatusCode::PAYLOAD_TOO_LARGE, &text)
    } else {
        plain(StatusCode::PAYLOAD_TOO_LARGE, &text)
    }
}

/// Marks an answer whose body was scrubbed when it was built (see `snapshot::Served`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreScrubbed;

/// A plain-text answer.
pub(crate) fn plain(status: StatusCode, text: &str) -> Response {
    let mut r = (status, format!("{text}\n")).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// Why a mutation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    ReadOnly,
    CrossOrigin,
    BadToken,
}

impl Refusal {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Refusal::ReadOnly | Refusal::CrossOrigin => StatusCode::FORBIDDEN,
            Refusal::BadToken => StatusCode::UNAUTHORIZED,
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Refusal::ReadOnly => {
                "this dashboard is read-only; start `hafen serve` with --token-file to allow re-runs"
            }
            Refusal::CrossOrigin => {
                "refused: the request does not come from this dashboard's own pages (same-origin \
                 check on Sec-Fetch-Site and Origin)"
            }
            Refusal::BadToken => "refused: missing or wrong token",
        }
    }
}

/// Checks a mutating request: a token must be configured, the request must be same-origin,
/// and `provided` must equal the token.
pub(crate) fn authorize_mutation(
    state: &AppState,
    headers: &HeaderMap,
    provided: Option<&str>,
) -> Result<(), Refusal> {
    let Some(token) = state.token.as_deref() else { return Err(Refusal::ReadOnly) };
    if !same_origin(headers) {
        return Err(Refusal::CrossOrigin);
    }
    match provided {
        Some(p) if constant_time_eq(p.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(Refusal::BadToken),
    }
}

/// Same-origin proof: `Sec-Fetch-Site: same-origin` (browsers), and any `Origin` must be this
/// very host. Without either header (a script), `Origin` must be sent explicitly.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = get("host");
    let origin_ok = match (get("origin"), host) {
        (Some(origin), Some(host)) => {
            origin.eq_ignore_ascii_case(&format!("http://{host}"))
                || origin.eq_ignore_ascii_case(&format!("https://{host}"))
        }
        (Some(_), None) => false,
        (None, _) => true,
    };
    match get("sec-fetch-site") {
        Some(site) => site.eq_ignore_ascii_case("same-origin") && origin_ok,
        None => get("origin").is_some() && origin_ok,
    }
}

/// Compares in time independent of where the first difference is.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// The token from `Authorization: Bearer …`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&headers(&[host, ("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[host, ("origin", "http://127.0.0.1:8080")])));
        assert!(!same_origin(&headers(&[host])), "no proof at all");
        assert!(!same_origin(&headers(&[host, ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[host, ("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&headers(&[host, ("origin", "http://evil.example")])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:9999")
        ])));
        assert!(!same_origin(&headers(&[host, ("origin", "null")])));
    }

    #[test]
    fn loopback_hosts() {
        for ok in
            ["127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]:80", "127.1.2.3", "a.localhost:5"]
        {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:8080",
            "localhost.evil.example",
            "",
            "localhost:18182@evil",
            "localhost:80/x",
            "127.0.0.1:",
            "[::1]x",
            "local host",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn public_binds_answer_to_addresses_and_allowed_names_only() {
        let allowed = vec!["hafen.internal".to_owned()];
        for ok in ["10.0.0.5:8080", "[2001:db8::1]:8080", "hafen.internal", "HAFEN.internal:80"] {
            assert!(host_allowed(Some(ok), false, &allowed), "{ok}");
        }
        for bad in ["rebind.evil.example", "hafen.internal.evil", "x@hafen.internal"] {
            assert!(!host_allowed(Some(bad), false, &allowed), "{bad}");
        }
        assert!(!host_allowed(None, false, &allowed));
        assert!(!host_allowed(Some("10.0.0.5:8080"), true, &allowed), "loopback bind");
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn buckets_refill() {
        let limits =
            crate::Limits { reads_per_second: 1000.0, read_burst: 3.0, ..Default::default() };
        let r = RateLimiter::new(&limits);
        let ip = IpAddr::from([127, 0, 0, 1]);
        assert!(r.take(ip, false).is_ok());
        assert!(r.take(ip, false).is_ok());
        assert!(r.take(ip, false).is_ok());
        assert!(r.take(ip, false).is_err());
        assert!(r.take(IpAddr::from([127, 0, 0, 2]), false).is_ok(), "per client");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(r.take(ip, false).is_ok());
    }
}
