//! Exact count tests at growing counts, beside a floor measured in the same run: sorting 1000
//! doubles with `sort_unstable_by(total_cmp)`. Since the binomial tails near the mean of wide
//! binomials come from Temme's expansion (constant time) and the Clopper-Pearson bisection
//! starts from a Wilson bracket, the cost of `binom_test` and `poisson_rate_test` no longer
//! grows with the counts (at 1.45e14 of 2.9e14 it was 9 s before).
//!
//! `cargo bench --bench counts` (add `-- binom_test` to run one group). Compare lines within one
//! run: the machine is shared and noisy across runs.
//!
//! The `tail_method` group times one-sided tests of the same shape on either side of the
//! variance at which the tails switch from summation to the expansion (`n p q = 10^3`), the
//! crossover the switch is placed at.

use canary_verdict::stats::CountTestConfig;
use canary_verdict::stats::{binom_test, poisson_rate_test, Alternative, Exposure};
use canary_verdict::Arms;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

/// Counts from 1e3 to 1e14, with the observed count a little above the mean (0.7 standard
/// deviations), where the tail sums used to be longest.
const SIZES: [(&str, u64); 4] = [
    ("1e3", 1_000),
    ("1e6", 1_000_000),
    ("1e9", 1_000_000_000),
    ("1e14", 100_000_000_000_000),
];

fn above_mean(n: u64, p: f64) -> u64 {
    let nf = n as f64;
    (nf * p + 0.7 * (nf * p * (1.0 - p)).sqrt()).round() as u64
}

fn floor(c: &mut Criterion) {
    let mut s = 1u64;
    let data: Vec<f64> = (0..1000)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (s >> 11) as f64
        })
        .collect();
    c.bench_function("floor/sort_1000", |b| {
        b.iter(|| {
            let mut v = data.clone();
            v.sort_unstable_by(f64::total_cmp);
            black_box(v)
        })
    });
}

fn binom(c: &mut Criterion) {
    let mut group = c.benchmark_group("binom_test");
    for (label, n) in SIZES {
        let x = above_mean(n, 0.5);
        group.bench_function(BenchmarkId::new("two_sided_p0.5", label), |b| {
            b.iter(|| {
                black_box(
                    binom_test(
                        black_box(x),
                        n,
                        0.5,
                        &CountTestConfig::default()
                            .alternative(Alternative::TwoSided)
                            .conf_level(0.95),
                    )
                    .unwrap(),
                )
            })
        });
    }
    group.finish();
}

fn poisson(c: &mut Criterion) {
    let mut group = c.benchmark_group("poisson_rate_test");
    for (label, n) in SIZES {
        // n events in all, the canary on 10% of the traffic and 5% above its share.
        let canary = above_mean(n, 0.105);
        let (canary_exposure, baseline_exposure) = (0.1, 0.9);
        group.bench_function(BenchmarkId::new("two_sided", label), |b| {
            b.iter(|| {
                black_box(
                    poisson_rate_test(
                        Arms {
                            baseline: Exposure::new(n - canary, baseline_exposure),
                            canary: Exposure::new(black_box(canary), canary_exposure),
                        },
                        1.0,
                        &CountTestConfig::default()
                            .alternative(Alternative::TwoSided)
                            .conf_level(0.95),
                    )
                    .unwrap(),
                )
            })
        });
    }
    group.finish();
}

fn tail_method(c: &mut Criterion) {
    let mut group = c.benchmark_group("tail_method");
    // n p q below and above 10^3 (p = 1/2): summation, then the expansion.
    for (label, n) in [
        ("npq_500_sum", 2_000u64),
        ("npq_990_sum", 3_960),
        ("npq_1010_temme", 4_040),
        ("npq_1e4_temme", 40_000),
        ("npq_1e6_temme", 4_000_000),
    ] {
        let x = above_mean(n, 0.5);
        group.bench_function(label, |b| {
            b.iter(|| {
                black_box(
                    binom_test(
                        black_box(x),
                        n,
                        0.5,
                        &CountTestConfig::default()
                            .alternative(Alternative::Greater)
                            .conf_level(0.95),
                    )
                    .unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, floor, binom, poisson, tail_method);
criterion_main!(benches);
