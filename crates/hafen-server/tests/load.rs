//! Load test: many concurrent readers against a local server, bounded in request count and
//! time, reporting latency percentiles per page. Target: p99 under 50 ms for every page of
//! the largest example on a 2-core machine (release build). Also a large synthetic platform
//! (`hafen-synth`, `Shape::LARGE`), to see that its pages stay usable.
//!
//! `cargo test --release -p hafen-server --features load-tests --test load -- --nocapture`
//! (CI runs exactly this). Traffic goes to 127.0.0.1 only.

mod common;

use common::{Opts, example, examples, get, start_text};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Concurrent readers.
const READERS: usize = 16;
/// Wall-clock cap for one load run.
const TIME_CAP: Duration = Duration::from_secs(60);

struct PageStats {
    page: String,
    samples: Vec<Duration>,
    errors: usize,
}

impl PageStats {
    fn pct(&self, p: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let idx = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[idx.min(self.samples.len() - 1)]
    }
}

/// Every reader requests every page `rounds` times (in a rotated order, so pages overlap).
fn load(addr: SocketAddr, pages: &[String], rounds: usize) -> Vec<PageStats> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..READERS)
        .map(|r| {
            let pages = pages.to_vec();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut out: Vec<Vec<(Duration, bool)>> = vec![Vec::new(); pages.len()];
                for round in 0..rounds {
                    for k in 0..pages.len() {
                        if stop.load(Ordering::Relaxed) || started.elapsed() > TIME_CAP {
                            stop.store(true, Ordering::Relaxed);
                            return out;
                        }
                        let i = (k + r + round) % pages.len();
                        let t = Instant::now();
                        let a = common::try_raw(
                            addr,
                            format!(
                                "GET {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
                                pages[i]
                            )
                            .as_bytes(),
                        );
                        let ok = a.is_ok_and(|a| a.status == 200);
                        out[i].push((t.elapsed(), ok));
                    }
                }
                out
            })
        })
        .collect();
    let mut stats: Vec<PageStats> = pages
        .iter()
        .map(|p| PageStats { page: p.clone(), samples: Vec::new(), errors: 0 })
        .collect();
    for h in handles {
        let per_page = h.join().expect("reader");
        for (i, samples) in per_page.into_iter().enumerate() {
            for (d, ok) in samples {
                if ok {
                    stats[i].samples.push(d);
                } else {
                    stats[i].errors += 1;
                }
            }
        }
    }
    for s in &mut stats {
        s.samples.sort_unstable();
    }
    stats
}

fn report(title: &str, stats: &[PageStats], took: Duration) {
    let total: usize = stats.iter().map(|s| s.samples.len() + s.errors).sum();
    eprintln!(
        "\n{title}: {total} requests by {READERS} readers in {:.1} s ({:.0} req/s)",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    eprintln!(
        "{:<34} {:>7} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "page", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"
    );
    for s in stats {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "{:<34} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>6}",
            s.page,
            s.samples.len(),
            ms(s.pct(0.5)),
            ms(s.pct(0.9)),
            ms(s.pct(0.99)),
            ms(s.pct(1.0)),
            s.errors
        );
    }
}

fn pages_of(addr: SocketAddr) -> Vec<String> {
    let mut pages: Vec<String> = [
        "/",
        "/findings",
        "/explain",
        "/explain/NET001",
        "/scenarios",
        "/cost",
        "/sovereignty",
        "/repo",
        "/history",
        "/api/overview",
        "/api/check",
        "/api/plan",
        "/api/repo",
        "/api/history",
        "/healthz",
        "/metrics",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let files = get(addr, "/api/repo").json();
    if let Some(f) = files["files"].as_array().and_then(|f| f.first()) {
        pages.push(format!("/repo/file?path={}", f["path"].as_str().unwrap_or("")));
    }
    pages
}

fn fast_limits() -> Opts {
    // The per-client rate limit would (correctly) throttle 16 readers on one address.
    Opts::default()
}

/// The p99 target, in release; a debug build only reports (it is 10–50× slower) and checks a
/// loose bound so the test still means something there.
fn target() -> Duration {
    if cfg!(debug_assertions) { Duration::from_millis(1000) } else { Duration::from_millis(50) }
}

#[test]
fn every_page_of_the_largest_example_meets_the_latency_target() {
    // The largest example by node count.
    let mut best: Option<(u64, String)> = None;
    for name in examples() {
        let server = start_text(&example(&name), Opts::default());
        let nodes = get(server.addr, "/api/overview").json()["inventory"]["totals"]["nodes"]
            .as_u64()
            .unwrap_or(0);
        if best.as_ref().is_none_or(|(n, _)| nodes > *n) {
            best = Some((nodes, name));
        }
    }
    let (nodes, name) = best.expect("an example");
    let server = start_text(&example(&name), fast_limits());
    let pages = pages_of(server.addr);
    // Warm up.
    for p in &pages {
        assert_eq!(get(server.addr, p).status, 200, "{p}");
    }
    let started = Instant::now();
    let stats = load(server.addr, &pages, 25);
    report(&format!("example `{name}` ({nodes} nodes)"), &stats, started.elapsed());
    for s in &stats {
        assert_eq!(s.errors, 0, "{}: errors under load", s.page);
        assert!(s.samples.len() >= READERS * 5, "{}: too few samples", s.page);
        assert!(
            s.pct(0.99) < target(),
            "{}: p99 {:?} over the {:?} target",
            s.page,
            s.pct(0.99),
            target()
        );
    }
}

/// The synthetic platform with its error findings accepted by suppressions, so that it
/// renders (the server, like `hafen render`, does not render a spec with errors).
fn renderable_large() -> String {
    let text = hafen_synth::platform_yaml(hafen_synth::Shape::LARGE);
    let server = start_text(&text, Opts::default());
    let check = get(server.addr, "/api/check?severity=error").json();
    let mut codes: Vec<String> = check["diagnostics"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_owned))
        .collect();
    codes.sort();
    codes.dedup();
    server.stop().expect("stops");
    if codes.is_empty() {
        return text;
    }
    assert!(!text.contains("suppressions:"), "the synthetic spec grew suppressions; merge them");
    let mut out = text.trim_end().to_owned();
    out.push_str("\n  suppressions:\n");
    for code in &codes {
        out.push_str(&format!(
            "    - {{ code: {code}, reason: load test of the dashboard on a large platform }}\n"
        ));
    }
    out
}

#[test]
fn a_large_synthetic_platform_stays_usable_under_load() {
    let text = renderable_large();
    let t = Instant::now();
    let server = start_text(&text, fast_limits());
    eprintln!(
        "\nLARGE synthetic: started (check, plan, render, history) in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let ov = get(server.addr, "/api/overview").json();
    eprintln!("  totals: {}", ov["inventory"]["totals"]);
    eprintln!("  check: {} {}", ov["check"]["status"], ov["check"]["summary"]);
    let repo = get(server.addr, "/api/repo");
    if repo.status == 200 {
        eprintln!(
            "  rendered files: {}",
            repo.json()["files"].as_array().map(Vec::len).unwrap_or(0)
        );
    } else {
        // The renderer refuses this platform; the repository page then lists its findings,
        // and that is what gets measured.
        let runs = get(server.addr, "/api/history?kind=render").json();
        let id = runs["runs"][0]["id"].as_i64().expect("render run");
        let run = get(server.addr, &format!("/api/runs/{id}")).json();
        let codes: Vec<&str> = run["result"]["diagnostics"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        eprintln!(
            "  not rendered: the renderer reports {} findings ({:?}…)",
            codes.len(),
            &codes[..codes.len().min(3)]
        );
    }
    // The CLI's whole plan document is served as is (tens of MB here): timed alone.
    for doc in ["/api/plan", "/api/check"] {
        let t = Instant::now();
        let a = get(server.addr, doc);
        assert_eq!(a.status, 200);
        eprintln!(
            "  {doc}: {} bytes in {:.1} ms (one reader)",
            a.body.len(),
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    let mut pages = pages_of(server.addr);
    pages.retain(|p| p != "/api/plan" && (repo.status == 200 || p != "/api/repo"));
    pages.extend([
        "/findings?page=2".to_string(),
        "/scenarios?page=3".to_string(),
        "/history?kind=render".to_string(),
    ]);
    eprintln!("  one reader at a time (median of 5):");
    for p in &pages {
        let a = get(server.addr, p);
        assert_eq!(a.status, 200, "{p}");
        assert!(a.body.len() < 4_000_000, "{p} is {} bytes: paginate it", a.body.len());
        let mut times: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                get(server.addr, p);
                t.elapsed()
            })
            .collect();
        times.sort_unstable();
        eprintln!(
            "    {:<32} {:>8.2} ms {:>9} bytes",
            p,
            times[2].as_secs_f64() * 1000.0,
            a.body.len()
        );
    }
    let started = Instant::now();
    let stats = load(server.addr, &pages, 5);
    report("LARGE synthetic (Shape::LARGE)", &stats, started.elapsed());
    for s in &stats {
        assert_eq!(s.errors, 0, "{}: errors under load", s.page);
        // Usable: a person waits at most a moment, even with 16 readers on 2 cores.
        let bound = if cfg!(debug_assertions) {
            Duration::from_secs(10)
        } else {
            Duration::from_millis(500)
        };
        assert!(s.pct(0.99) < bound, "{}: p99 {:?}", s.page, s.pct(0.99));
    }
}
