//! Tail and shape tests on n points per arm, beside the floor: sorting the same pooled data with
//! the standard library's `sort_unstable_by(total_cmp)`. Each test copies and sorts both arms
//! itself, so the ratio to the floor is the price of the statistic beyond the sort.
//!
//! `cargo bench --bench tail` (add `-- 1e5` to run one size). Compare lines of one size within
//! one run: the machine is shared and noisy across runs.

use canary_verdict::stats::CountTestConfig;
use canary_verdict::stats::{
    anderson_darling, exceedance_test, ks_2samp, quantile_compare, Alternative, Method,
    QuantileCompareConfig,
};
use canary_verdict::Arms;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

/// Deterministic log-normal latencies (SplitMix64 + Box-Muller), no RNG dependency.
fn latencies(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u1, u2) = (next().max(1e-300), next());
            let g = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            scale * (0.5 * g).exp()
        })
        .collect()
}

fn tail_vs_sort(c: &mut Criterion) {
    let mut group = c.benchmark_group("tail");
    group.sample_size(10);
    for (label, n) in [("1e3", 1_000), ("1e4", 10_000), ("1e5", 100_000)] {
        let baseline = latencies(n, 1, 100.0);
        let canary = latencies(n, 2, 105.0);
        let pooled: Vec<f64> = baseline.iter().chain(&canary).copied().collect();
        group.bench_with_input(BenchmarkId::new("sort_pooled", label), &pooled, |b, p| {
            b.iter(|| {
                let mut v = p.clone();
                v.sort_unstable_by(f64::total_cmp);
                black_box(v)
            })
        });
        let cfg = QuantileCompareConfig {
            p: 0.99,
            alternative: Alternative::Greater,
            ..Default::default()
        };
        group.bench_function(BenchmarkId::new("quantile_p99", label), |b| {
            b.iter(|| {
                black_box(
                    quantile_compare(
                        Arms {
                            baseline: &baseline,
                            canary: black_box(&canary),
                        },
                        &cfg,
                    )
                    .unwrap(),
                )
            })
        });
        group.bench_function(BenchmarkId::new("exceedance_p95", label), |b| {
            b.iter(|| {
                black_box(
                    exceedance_test(
                        Arms {
                            baseline: &baseline,
                            canary: black_box(&canary),
                        },
                        0.95,
                        &CountTestConfig::default()
                            .alternative(Alternative::Greater)
                            .conf_level(0.95),
                    )
                    .unwrap(),
                )
            })
        });
        group.bench_function(BenchmarkId::new("ks", label), |b| {
            b.iter(|| {
                black_box(
                    ks_2samp(
                        Arms {
                            baseline: &baseline,
                            canary: black_box(&canary),
                        },
                        Alternative::Greater,
                        Method::Auto,
                    )
                    .unwrap(),
                )
            })
        });
        group.bench_function(BenchmarkId::new("anderson_darling", label), |b| {
            b.iter(|| {
                black_box(
                    anderson_darling(Arms {
                        baseline: &baseline,
                        canary: black_box(&canary),
                    })
                    .unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tail_vs_sort);
criterion_main!(benches);
