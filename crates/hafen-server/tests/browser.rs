//! Home in a real browser: headless Chromium (Debian packages `chromium` and
//! `chromium-driver`) opens every page of every example as a person would, the test checks
//! what is visible, that the strict CSP blocked nothing, and saves screenshots to
//! `target/browser-screenshots/`. A WebDriver session then fills in the re-run form with the
//! token, and a page from another origin tries the same form (CSRF) and must be refused.
//!
//! Behind the `browser-tests` feature, because a fresh machine has no Chromium:
//! `cargo test -p hafen-server --features browser-tests --test browser`. Without Chromium the
//! tests fail and say how to install it; they never skip silently.

mod common;

use common::{Opts, example, examples, get, start_text};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "browser-token-0123456789";

fn find_binary(names: &[&str], env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "none of {names:?} found on PATH (or set {env}); install the Debian packages: \
         apt-get install -y chromium chromium-driver"
    );
}

fn chromium() -> PathBuf {
    find_binary(&["chromium", "chromium-browser", "google-chrome"], "HAFEN_CHROMIUM")
}

fn profile_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hafen-chromium-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("profile dir");
    dir
}

/// The machine notes' flags: no sandbox (root in a container), no network chatter.
fn base_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

fn screenshot_dir() -> PathBuf {
    let dir = common::repo_root().join("target/browser-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Text between `<h1>` and `</h1>`.
fn h1(dom: &str) -> String {
    let start = dom.find("<h1>").map(|i| i + 4).unwrap_or(0);
    let end = dom[start..].find("</h1>").map(|i| start + i).unwrap_or(start);
    dom[start..end].to_string()
}

/// Standard base64 (screenshots arrive so over WebDriver).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter_map(value) {
        acc = acc << 6 | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Opens a page in the browser, checks its title and the CSP log, saves a screenshot, and
/// returns the DOM.
fn visit(d: &Driver, url: &str, title: &str, shot: &Path) -> String {
    d.goto(url);
    let dom = d.source();
    assert_eq!(h1(&dom), title, "{url}");
    assert!(dom.contains(r#"href="/assets/hafen.css""#), "{url}");
    // The stylesheet really applied (the CSP allows it): the header is white, text is not
    // the browser's default serif.
    let font = d.css("body", "font-family");
    assert!(font.contains("system-ui"), "{url}: stylesheet not applied ({font})");
    for entry in d.browser_log() {
        let message = entry["message"].as_str().unwrap_or("");
        assert!(
            !(message.contains("Content Security Policy") || message.contains("Refused to")),
            "{url}: the browser blocked something: {message}"
        );
        assert!(entry["level"] != "SEVERE" || message.contains("favicon"), "{url}: {message}");
    }
    let png =
        base64_decode(d.call("GET", &d.s("/screenshot"), None)["value"].as_str().unwrap_or(""));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{url}: screenshot");
    std::fs::write(shot, png).expect("save screenshot");
    dom
}

#[test]
fn every_page_of_every_example_renders_in_chromium() {
    let shots = screenshot_dir();
    let d = Driver::start();
    for name in examples() {
        let server = start_text(&example(&name), Opts::default());
        let base = format!("http://{}", server.addr);
        let overview = get(server.addr, "/api/overview").json();
        let inv = &overview["inventory"];
        let pages: Vec<(&str, &str)> = vec![
            ("/", "Overview"),
            ("/findings", "Findings"),
            ("/explain", "Explanations"),
            ("/explain/NET001", "NET001"),
            ("/scenarios", "Failure scenarios"),
            ("/cost", "Cost"),
            ("/sovereignty", "Sovereignty"),
            ("/repo", "Repository"),
            ("/history", "History"),
        ];
        for (path, title) in pages {
            let url = format!("{base}{path}");
            let file = shots.join(format!("{name}{}.png", path.replace('/', "_")));
            let dom = visit(&d, &url, title, &file);
            match path {
                "/" => {
                    for cluster in inv["providers"]
                        .as_array()
                        .expect("providers")
                        .iter()
                        .flat_map(|p| p["sites"].as_array().expect("sites").iter())
                        .flat_map(|s| s["clusters"].as_array().expect("clusters").iter())
                    {
                        let cname = cluster["name"].as_str().expect("name");
                        assert!(dom.contains(cname), "{name}: overview names cluster {cname}");
                    }
                    let nodes = inv["totals"]["nodes"].as_u64().expect("nodes").to_string();
                    assert_eq!(d.text("#total-nodes .v"), nodes, "{name}: node total as seen");
                    assert!(dom.contains("<svg"), "{name}: the chart is inline SVG");
                }
                "/repo" => {
                    let files = get(server.addr, "/api/repo").json();
                    for f in
                        files["files"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().take(20)
                    {
                        let p = f["path"].as_str().expect("path");
                        let leaf = p.rsplit('/').next().expect("leaf");
                        assert!(dom.contains(leaf), "{name}: tree shows {p}");
                    }
                }
                _ => {}
            }
        }
        // A rendered file, opened by clicking it in the tree as a person would.
        if get(server.addr, "/api/repo").status == 200 {
            d.goto(&format!("{base}/repo"));
            d.click(".tree a");
            let dom = d.source();
            assert!(d.url().contains("/repo/file?path="), "clicked into a file");
            assert!(dom.contains(r#"<pre class="file">"#));
        }
        server.stop().expect("stops");
    }
}

// ---------------------------------------------------------------------------------------------
// WebDriver (chromedriver) for the interactive flows.

struct Driver {
    child: Child,
    addr: SocketAddr,
    session: String,
    profile: PathBuf,
}

impl Driver {
    fn start() -> Driver {
        let driver = find_binary(&["chromedriver", "chromium-driver"], "HAFEN_CHROMEDRIVER");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = profile_dir("driver");
        let mut d = Driver { child, addr, session: String::new(), profile };
        let args = base_args(&d.profile);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium().display().to_string(), "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let v = d.call("POST", "/session", Some(&caps));
        d.session = v["value"]["sessionId"].as_str().expect("session").to_owned();
        d
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let a = common::request(
            self.addr,
            method,
            path,
            &[("Content-Type", "application/json"), ("Host", &self.addr.to_string())],
            body.as_bytes(),
        );
        let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        assert!(a.status < 400, "webdriver {method} {path}: {} {}", a.status, a.body);
        v
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(&json!({"url": url})));
    }

    fn source(&self) -> String {
        self.call("GET", &self.s("/source"), None)["value"].as_str().unwrap_or("").to_owned()
    }

    fn css(&self, selector: &str, property: &str) -> String {
        let id = self.find(selector);
        self.call("GET", &self.s(&format!("/element/{id}/css/{property}")), None)["value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Console messages since the last call (CSP violations show up here).
    fn browser_log(&self) -> Vec<Value> {
        let v = self.call("POST", &self.s("/se/log"), Some(&json!({"type": "browser"})));
        v["value"].as_array().cloned().unwrap_or_default()
    }

    fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)["value"].as_str().unwrap_or("").to_owned()
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            &self.s("/element"),
            Some(&json!({"using": "css selector", "value": css})),
        );
        v["value"]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("element")
            .to_owned()
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &self.s(&format!("/element/{id}/text")), None)["value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &self.s(&format!("/element/{id}/value")), Some(&json!({"text": text})));
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &self.s(&format!("/element/{id}/click")), Some(&json!({})));
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let req = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.session, self.addr
            );
            let _ = common::try_raw(self.addr, req.as_bytes());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A one-page web site of another origin, answering every request with `page` (the test
/// ends with the process; the thread only ever serves loopback).
fn serve_once_page(page: String) -> SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_person_reruns_with_the_token_and_another_site_cannot() {
    let server = start_text(
        &example("two-stack-hetzner"),
        Opts { token: Some(TOKEN.into()), ..Opts::default() },
    );
    let base = format!("http://{}", server.addr);
    let runs_before =
        get(server.addr, "/api/history").json()["runs"].as_array().expect("runs").len();
    let d = Driver::start();

    // Another site (another origin: its own port) posts the form, even with the right token:
    // refused.
    let evil_page = format!(
        "<!doctype html><title>elsewhere</title><form method=post action={base}/actions/rerun><input name=token value={TOKEN}><button id=go>go</button></form>"
    );
    let evil = serve_once_page(evil_page);
    d.goto(&format!("http://{evil}/"));
    d.click("#go");
    std::thread::sleep(Duration::from_millis(500));
    let body = d.text("body");
    assert!(body.contains("does not come from this dashboard"), "cross-site form refused: {body}");
    let after_evil =
        get(server.addr, "/api/history").json()["runs"].as_array().expect("runs").len();
    assert_eq!(after_evil, runs_before, "nothing ran for the other site");

    // A wrong token from the dashboard itself: refused, token not echoed.
    d.goto(&format!("{base}/"));
    d.type_into("input[name=token]", "not-the-token-at-all");
    d.click("form[action='/actions/rerun'] button");
    std::thread::sleep(Duration::from_millis(300));
    let body = d.text("main");
    assert!(body.contains("wrong token"), "{body}");
    assert!(!body.contains("not-the-token-at-all"));

    // The right token: the history shows three new runs started from the dashboard.
    d.goto(&format!("{base}/"));
    d.type_into("input[name=token]", TOKEN);
    d.click("form[action='/actions/rerun'] button");
    let started = Instant::now();
    while !d.url().ends_with("/history") {
        assert!(started.elapsed() < Duration::from_secs(20), "no redirect to the history");
        std::thread::sleep(Duration::from_millis(100));
    }
    let table = d.text("table");
    assert!(table.contains("api"), "runs triggered from the dashboard are listed: {table}");
    let runs_after =
        get(server.addr, "/api/history").json()["runs"].as_array().expect("runs").len();
    assert_eq!(runs_after, runs_before + 3);
    assert!(!d.text("body").contains(TOKEN));
    let shots = screenshot_dir();
    // The refusals above were logged as failed loads (403, 401); that was the point.
    let refused = d.browser_log();
    assert!(refused.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("403"))));
    visit(&d, &format!("{base}/history"), "History", &shots.join("after-rerun_history.png"));
}

#[test]
fn a_large_synthetic_platform_stays_usable_in_the_browser() {
    let text = hafen_synth::platform_yaml(hafen_synth::Shape::scaled(400));
    let server = start_text(&text, Opts::default());
    let base = format!("http://{}", server.addr);
    let shots = screenshot_dir();
    let d = Driver::start();
    for (path, title) in [
        ("/", "Overview"),
        ("/findings", "Findings"),
        ("/scenarios", "Failure scenarios"),
        ("/cost", "Cost"),
        ("/sovereignty", "Sovereignty"),
        ("/repo", "Repository"),
        ("/history", "History"),
    ] {
        let url = format!("{base}{path}");
        let started = Instant::now();
        let dom =
            visit(&d, &url, title, &shots.join(format!("synthetic{}.png", path.replace('/', "_"))));
        assert!(dom.len() < 3_000_000, "{path} is paginated ({} bytes)", dom.len());
        assert!(started.elapsed() < Duration::from_secs(20), "{path} took {:?}", started.elapsed());
    }
}
