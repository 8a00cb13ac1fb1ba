//! A whole judgment: 50 continuous metrics × 10 000 points per arm (target: 20 ms on one core),
//! beside the floor of sorting the same data.
//!
//! `cargo bench --bench judge`

use canary_verdict::{judge, Series};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

#[allow(dead_code)]
mod common;

fn bench(c: &mut Criterion) {
    let (policy, data) = common::judge_request();
    let mut group = c.benchmark_group("judge");
    group.sample_size(10);
    group.bench_function("sort_floor_50x2x10k", |b| {
        b.iter(|| {
            for d in &data {
                for s in [&d.baseline, &d.canary] {
                    if let Series::Samples(v) = s {
                        black_box(common::sort_floor(v));
                    }
                }
            }
        })
    });
    group.bench_function("judge_50x10k", |b| {
        b.iter(|| black_box(judge(black_box(&policy), black_box(&data)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
