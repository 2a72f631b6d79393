//! `hafen serve` and `hafen run --serve` as a user starts them: the address is printed, the
//! dashboard's JSON equals what `hafen check/plan --format json` print for the same spec, the
//! history lands in the database file, SIGTERM stops it cleanly, and bad flags fail early.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn example(name: &str) -> String {
    root().join("examples").join(name).join("platform.yaml").display().to_string()
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hafen-serve-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn hafen_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_hafen")).args(args).output().expect("run hafen");
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Starts the command, waits for the "open http://…/" line on stderr, returns the child and
/// the host:port.
fn spawn_server(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hafen"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hafen");
    let stderr = child.stderr.take().expect("stderr");
    // Drain stdout (`run` prints the whole plan before serving): a full pipe would block the
    // child before it ever listens.
    let mut stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("open http://").nth(1) {
                let _ = tx.send(rest.split('/').next().unwrap_or("").to_owned());
            }
        }
    });
    let host =
        rx.recv_timeout(Duration::from_secs(60)).expect("the server prints where to open it");
    (child, host)
}

fn get(host: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("write");
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// SIGTERM, then the exit status within a bound.
fn terminate(mut child: Child) -> Option<i32> {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_answers_with_the_clis_own_json_and_keeps_history() {
    let dir = tempdir("serve");
    let db = dir.join("state/history.db");
    let spec = example("two-stack-hetzner");
    let (child, host) = spawn_server(&[
        "serve",
        &spec,
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db.display().to_string(),
    ]);
    assert!(host.starts_with("127.0.0.1:"), "{host}");
    let (status, body) = get(&host, "/api/check");
    assert_eq!(status, 200);
    let served: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(served, hafen_json(&["check", &spec, "--format", "json"]), "same check document");
    let (_, body) = get(&host, "/api/plan");
    let served: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(served, hafen_json(&["plan", &spec, "--format", "json"]), "same plan document");
    let (status, page) = get(&host, "/");
    assert_eq!(status, 200);
    assert!(page.contains("beach"));
    assert_eq!(terminate(child), Some(0), "SIGTERM stops the server cleanly");
    assert!(db.is_file(), "the history database was created, folder included");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_with_serve_ends_with_the_dashboard_running() {
    let dir = tempdir("run-serve");
    let out = dir.join("out");
    let db = dir.join("history.db");
    let (child, host) = spawn_server(&[
        "run",
        &example("two-stack-hetzner"),
        "--out",
        &out.display().to_string(),
        "--serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &db.display().to_string(),
    ]);
    assert!(out.join("README.md").is_file() || out.is_dir(), "rendered before serving");
    let (status, body) = get(&host, "/api/history");
    assert_eq!(status, 200);
    assert!(body.contains("\"render\""), "{body}");
    assert_eq!(terminate(child), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_serve_flags_fail_early_with_a_sentence() {
    let dir = tempdir("bad-flags");
    let short = dir.join("token");
    std::fs::write(&short, "short\n").expect("write");
    let spec = example("two-stack-hetzner");
    let bad_db = dir.join("bad.db");
    std::fs::write(&bad_db, b"not a database at all, sorry ".repeat(300)).expect("write");
    for (args, needle) in [
        (vec!["serve", spec.as_str(), "--token-file", short.to_str().expect("utf8")], "too short"),
        (vec!["serve", spec.as_str(), "--token-file", "/nonexistent/token"], "cannot read"),
        (vec!["serve", "/nonexistent/platform.yaml"], "cannot read"),
        (
            vec![
                "serve",
                spec.as_str(),
                "--db",
                bad_db.to_str().expect("utf8"),
                "--listen",
                "127.0.0.1:0",
            ],
            "damaged",
        ),
        (vec!["serve", spec.as_str(), "--listen", "not-an-address"], "invalid"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hafen"))
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_with_serve_on_a_busy_port_renders_nothing() {
    let dir = tempdir("busy-port");
    let out = dir.join("out");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("addr").to_string();
    let result = Command::new(env!("CARGO_BIN_EXE_hafen"))
        .args(["run", &example("two-stack-hetzner"), "--out", &out.display().to_string()])
        .args(["--serve", "--listen", &addr, "--db", ":memory:"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(result.status.code(), Some(2));
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(err.contains("already in use") && err.contains("nothing was rendered"), "{err}");
    assert!(!out.exists(), "no repository was written");
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}
