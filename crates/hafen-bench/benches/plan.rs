//! The planner against the brief's targets: every single-node, pool, site and provider
//! scenario plus 100 sampled thirds on 2,000 nodes and 60,000 replicas in under 2 s on two
//! cores, placement within 5 % of the lower bound, and the scaling from 200 to 20,000 nodes.
//! The packing-quality and scaling figures are printed once before the timed runs.

use criterion::{Criterion, criterion_group, criterion_main};
use hafen_bench::{Shape, workspace};
use std::hint::black_box;
use std::time::Instant;

fn loaded(shape: Shape) -> hafen_engine::LoadedPlatform {
    let ws = workspace(shape);
    let (loaded, diagnostics) = ws.load();
    match loaded {
        Some(l) => l,
        None => panic!("synthetic platform does not load: {} findings", diagnostics.len()),
    }
}

fn report_figures(l: &hafen_engine::LoadedPlatform, label: &str) {
    let start = Instant::now();
    let report = hafen_plan::plan(l, &hafen_plan::Options::default(), &mut |_, _| {});
    let elapsed = start.elapsed();
    let (ffd, lb) = report
        .capacity
        .iter()
        .filter_map(|c| c.consolidation.as_ref())
        .fold((0, 0), |(a, b), c| (a + c.packed_nodes, b + c.lower_bound));
    let gaps: u64 = report.scenarios.iter().map(|s| s.gap).sum();
    let unplaced: u64 = report.scenarios.iter().map(|s| s.unplaced_replicas).sum();
    let lbs: u64 = report.scenarios.iter().map(|s| s.unplaced_lower_bound).sum();
    let buffers: Vec<(u64, u64)> = report
        .scenarios
        .iter()
        .flat_map(|s| s.buffer.iter().map(|b| (b.count, b.lower_bound)))
        .collect();
    let nodes: u64 = report.capacity.iter().map(|c| c.nodes).sum();
    let replicas: u64 = report.capacity.iter().map(|c| c.requests.pods).sum();
    eprintln!(
        "[{label}] nodes {nodes}, replicas {replicas}, scenarios {} in {:.3} s; consolidation packed {ffd} vs lower bound {lb} nodes ({:.2} % above); re-placement unplaced {unplaced} vs bound {lbs} (Σ gap {gaps}); buffers (ffd, lb) {:?}",
        report.summary.scenarios,
        elapsed.as_secs_f64(),
        if lb > 0 { (ffd as f64 / lb as f64 - 1.0) * 100.0 } else { 0.0 },
        buffers.iter().take(5).collect::<Vec<_>>()
    );
}

fn plan_large(c: &mut Criterion) {
    let large = loaded(Shape::LARGE);
    report_figures(&large, "LARGE");
    for n in [200, 2_000, 20_000] {
        let l = loaded(Shape::scaled(n));
        report_figures(&l, &format!("scaled({n})"));
    }
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    group.bench_function("large: all scenarios + 100 sampled thirds", |b| {
        b.iter(|| {
            black_box(hafen_plan::plan(&large, &hafen_plan::Options::default(), &mut |_, _| {}))
        })
    });
    for n in [200, 2_000] {
        let l = loaded(Shape::scaled(n));
        group.bench_function(format!("scaled({n})"), |b| {
            b.iter(|| {
                black_box(hafen_plan::plan(&l, &hafen_plan::Options::default(), &mut |_, _| {}))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, plan_large);
criterion_main!(benches);
