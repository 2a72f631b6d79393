//! Render of the large synthetic platform (20 clusters, 6 sites, 3 providers, 500 tenants,
//! 5,000 apps): the brief's target is under 1 s on 2 cores. Loading is measured separately
//! in `pipeline`; this is the renderer alone, from a loaded platform to the file map.

use criterion::{Criterion, criterion_group, criterion_main};
use hafen_bench::{Shape, workspace};
use std::hint::black_box;

fn render(c: &mut Criterion) {
    let ws = workspace(Shape::LARGE);
    let (loaded, _) = ws.load();
    let Some(loaded) = loaded else {
        eprintln!("the synthetic platform did not load");
        return;
    };
    let files = hafen_engine::render(&loaded).map(|r| r.files.len()).unwrap_or(0);
    eprintln!("large platform renders into {files} files");
    let mut group = c.benchmark_group("large-platform");
    group.sample_size(10);
    group.bench_function("render", |b| b.iter(|| black_box(hafen_engine::render(&loaded))));
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
