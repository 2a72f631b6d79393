//! Load, check (which renders in memory) and the whole pipeline of the large synthetic platform (brief target for check + plan + render
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
            // As `hafen run`: check renders in memory (its refusals are findings), and the
            // render step takes that repository.
            let outcome = hafen_engine::check(&ws, &hafen_engine::CheckRequest::default());
            let Some(loaded) = outcome.loaded else { panic!("the synthetic platform loads") };
            let report =
                hafen_engine::plan(&loaded, &hafen_engine::PlanOptions::default(), &mut |_, _| {});
            let repo = outcome.repo.map_or_else(|| hafen_engine::render(&loaded), Ok);
            black_box((report, repo))
        })
    });
    group.finish();
}

criterion_group!(benches, load_and_check);
criterion_main!(benches);
