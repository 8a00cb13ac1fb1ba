//! Mann-Whitney + Hodges-Lehmann estimate + 98% interval on n = m points per arm, beside the
//! floor: sorting the same pooled data with the standard library's `sort_unstable_by(total_cmp)`.
//!
//! `cargo bench --bench rank` (add `-- 1e5` to run one size). Compare the two lines of one size
//! within one run: the machine is shared and noisy across runs.

use canary_verdict::{HodgesLehmannConfig, MannWhitneyConfig, TwoSample};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

/// Deterministic log-normal-ish latencies (SplitMix64 + Box-Muller), no RNG dependency.
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
            b.iter(|| {
                let mut v = p.clone();
                v.sort_unstable_by(f64::total_cmp);
                black_box(v)
            })
        });
        let hl = HodgesLehmannConfig {
            conf_level: 0.98,
            ..Default::default()
        };
        group.bench_function(BenchmarkId::new("mw_hl_ci98", label), |b| {
            b.iter(|| {
                let pair = TwoSample::new(black_box(&baseline), black_box(&canary)).unwrap();
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
