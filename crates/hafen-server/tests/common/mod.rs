//! Shared by the server's test targets: start a server on a spec held in memory, and a tiny
//! HTTP/1.1 client over `std::net::TcpStream` (no client crate needed).

#![allow(dead_code, unreachable_pub)]

use hafen_engine::Workspace;
use hafen_server::{Config, Limits, Running};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// An example spec's text.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("examples").join(name).join("platform.yaml"))
        .expect("example exists")
}

/// Every example folder name.
pub fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("platform.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A fixed date so date-dependent rules do not change under the tests.
pub fn today() -> String {
    "2026-11-01".into()
}

/// Options of a test server.
pub struct Opts {
    pub token: Option<String>,
    pub db: PathBuf,
    pub limits: Limits,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            token: None,
            db: PathBuf::from(":memory:"),
            limits: Limits { reads_per_second: 1e6, read_burst: 1e6, ..Limits::default() },
        }
    }
}

/// Starts a server on 127.0.0.1 (free port) for the given spec files (name, text).
pub fn start(files: Vec<(String, String)>, opts: Opts) -> Result<Running, String> {
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        db: opts.db,
        token: opts.token,
        loader: Arc::new(move || {
            let mut w = Workspace::new();
            for (name, text) in &files {
                w.add_spec(name, text);
            }
            Ok(w)
        }),
        today,
        limits: opts.limits,
        allowed_hosts: Vec::new(),
    };
    hafen_server::start(config)
}

/// Starts a server on one spec text.
pub fn start_text(text: &str, opts: Opts) -> Running {
    start(vec![("platform.yaml".into(), text.to_owned())], opts).expect("server starts")
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one raw request (the caller writes the request line and headers) and reads the
/// answer: up to Content-Length when given, else to the end of the connection.
pub fn raw(addr: SocketAddr, request: &[u8]) -> Answer {
    try_raw(addr, request).unwrap_or_else(|e| panic!("request to {addr}: {e}"))
}

/// Like [`raw`], with connection errors as values (for cleanup paths that must not panic).
pub fn try_raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(request)?;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if bytes.is_empty() => return Err(e),
            Err(_) => break,
        };
        bytes.extend_from_slice(&buf[..n]);
        if let Some(split) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..split]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(length) = length
                && bytes.len() >= split + 4 + length
            {
                break;
            }
        }
    }
    Ok(parse(&bytes))
}

fn parse(bytes: &[u8]) -> Answer {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut body = bytes.get(split + 4..).unwrap_or(&[]).to_vec();
    let mut lines = head.split("\r\n");
    let status =
        lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..eol]).split(';').next().unwrap_or("0").trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = data.get(start + size + 2..).unwrap_or(&[]);
    }
    out
}

/// A request with extra headers and a body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut req = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes)
}

/// `GET target`.
pub fn get(addr: SocketAddr, target: &str) -> Answer {
    request(addr, "GET", target, &[], &[])
}

/// The HTML pages a person would open, for a server whose render succeeded.
pub const PAGES: &[&str] = &[
    "/",
    "/findings",
    "/findings?severity=warning",
    "/explain",
    "/scenarios",
    "/scenarios?outcome=failing",
    "/cost",
    "/sovereignty",
    "/repo",
    "/history",
];

/// The JSON endpoints.
pub const APIS: &[&str] = &[
    "/healthz",
    "/api/overview",
    "/api/check",
    "/api/check?severity=error",
    "/api/plan",
    "/api/scenarios",
    "/api/cost",
    "/api/sovereignty",
    "/api/repo",
    "/api/history",
    "/api/codes",
];
