//! Load and check of the large synthetic platform (brief target for check + plan + render
//! together: under 1 s on 2 cores).

use criterion::{Criterion, criterion_group, criterion_main};
use hafen_bench::{Shape, workspace};
use std::hint::black_box;

fn load_and_check(c: &mut Criterion) {
    let ws = workspace(Shape::LARGE);
    let mut group = c.benchmark_group("large-platform");
    group.sample_size(10);
    group.bench_function("load", |b| b.iter(|| black_box(ws.load())));
    group.bench_function("check", |b| {
        b.iter(|| black_box(hafen_engine::check(&ws, &hafen_engine::CheckRequest::default())))
    });
    group.finish();
}

criterion_group!(benches, load_and_check);
criterion_main!(benches);
