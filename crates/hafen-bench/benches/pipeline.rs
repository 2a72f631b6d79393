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
    group.bench_function("check+plan+render", |b| {
        b.iter(|| {
            let outcome = hafen_engine::check(&ws, &hafen_engine::CheckRequest::default());
            let Some(loaded) = outcome.loaded else { panic!("the synthetic platform loads") };
            let report =
                hafen_engine::plan(&loaded, &hafen_engine::PlanOptions::default(), &mut |_, _| {});
            let repo = hafen_engine::render(&loaded);
            black_box((report, repo))
        })
    });
    group.finish();
}

criterion_group!(benches, load_and_check);
criterion_main!(benches);
