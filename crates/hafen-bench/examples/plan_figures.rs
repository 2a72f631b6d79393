//! Prints the planner's timing and packing figures for a synthetic platform of N worker
//! nodes (default 2,000): `cargo run --release -p hafen-bench --example plan_figures -- 2000`.

use hafen_bench::{Shape, workspace};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let ws = workspace(Shape::scaled(n));
    let t = Instant::now();
    let (loaded, _) = ws.load();
    let Some(loaded) = loaded else {
        eprintln!("synthetic platform does not load");
        return;
    };
    let load = t.elapsed();
    for threads in [1, 2] {
        let opts = hafen_plan::Options { threads, ..hafen_plan::Options::default() };
        let t = Instant::now();
        let report = hafen_plan::plan(&loaded, &opts, &mut |_, _| {});
        let el = t.elapsed();
        let (ffd, packed, lb) = report
            .capacity
            .iter()
            .filter_map(|c| c.consolidation.as_ref())
            .fold((0, 0, 0), |(a, p, b), c| {
                (a + c.ffd_nodes, p + c.packed_nodes, b + c.lower_bound)
            });
        let nodes: u64 = report.capacity.iter().map(|c| c.nodes).sum();
        let replicas: u64 = report.capacity.iter().map(|c| c.requests.pods).sum();
        println!(
            "workers {n}: nodes {nodes}, replicas {replicas}, threads {threads}: {} scenarios in {:.3} s (load {:.3} s); consolidation FFD {ffd} / packed {packed} / LB {lb} nodes; re-placement max gap {}; samples unplaced {:?}",
            report.summary.scenarios,
            el.as_secs_f64(),
            load.as_secs_f64(),
            report.summary.max_gap,
            report.samples.unplaced_per_sample.iter().take(5).collect::<Vec<_>>()
        );
        if threads == 2 {
            let t = Instant::now();
            let json = serde_json::to_string(&report).unwrap_or_default();
            let text = hafen_plan::to_text(&report);
            let md = hafen_plan::to_markdown(&report);
            println!(
                "  rendering: JSON {} KiB, text {} KiB, Markdown {} KiB in {:.3} s",
                json.len() / 1024,
                text.len() / 1024,
                md.len() / 1024,
                t.elapsed().as_secs_f64()
            );
        }
    }
}
