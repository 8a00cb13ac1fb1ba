//! Mann-Whitney + Hodges-Lehmann estimate + 98% interval on n = m points per arm, beside the
//! floor: sorting the same pooled data with the standard library's `sort_unstable_by(total_cmp)`.
//!
//! `cargo bench --bench rank` (add `-- 1e5` to run one size). Compare the two lines of one size
//! within one run: the machine is shared and noisy across runs.

use canary_verdict::stats::{MannWhitneyConfig, TwoSample};
use canary_verdict::Arms;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

#[allow(dead_code)]
mod common;
use common::{latencies, sort_floor};

fn rank_vs_sort(c: &mut Criterion) {
    let mut group = c.benchmark_group("rank");
    group.sample_size(10);
    for (label, n) in [
        ("1e3", 1_000),
        ("1e4", 10_000),
        ("1e5", 100_000),
        ("1e6", 1_000_000),
    ] {
        let baseline = latencies(n, 1, 100.0);
        let canary = latencies(n, 2, 105.0);
        let pooled: Vec<f64> = baseline.iter().chain(&canary).copied().collect();
        group.bench_with_input(BenchmarkId::new("sort_pooled", label), &pooled, |b, p| {
            b.iter(|| black_box(sort_floor(p)))
        });
        let hl = MannWhitneyConfig {
            conf_level: 0.98,
            ..Default::default()
        };
        group.bench_function(BenchmarkId::new("mw_hl_ci98", label), |b| {
            b.iter(|| {
                let pair = TwoSample::new(Arms {
                    baseline: black_box(&baseline),
                    canary: black_box(&canary),
                })
                .unwrap();
                let t = pair.mann_whitney(&MannWhitneyConfig::default()).unwrap();
                let h = pair.hodges_lehmann(&hl).unwrap();
                black_box((t, h))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rank_vs_sort);
criterion_main!(benches);
