//! Mann-Whitney + Hodges-Lehmann estimate + 98% interval on n = m points per arm, beside the
//! floor: sorting the same pooled data with the standard library's `sort_unstable_by(total_cmp)`.
//!
//! `cargo bench --bench rank` (add `-- 1e5` to run one size). Compare the two lines of one size
//! within one run: the machine is shared and noisy across runs. After criterion's runs it prints
//! the ratio to the floor at 10^3..10^7, the minimum of interleaved runs, with the load.

use canary_verdict::stats::{MannWhitneyConfig, TwoSample};
use canary_verdict::Arms;
use criterion::{criterion_group, BenchmarkId, Criterion};
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

/// Prints the wall-clock ratio to the sort floor at each size: the minimum of interleaved runs,
/// with the machine's load beside it. A size given on the command line (`-- 1e5`) runs that size
/// only; `-- ratio1e5` (or `-- ratio`, every size) skips criterion's runs (its filter then matches
/// nothing).
fn ratios() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    println!(
        "\nratio to the sort floor (min of interleaved runs; load {})",
        common::load()
    );
    println!(
        "{:>6} {:>12} {:>12} {:>7}",
        "n", "floor s", "mw+hl+ci s", "ratio"
    );
    for (label, n, rounds) in [
        ("1e3", 1_000, 2000),
        ("1e4", 10_000, 300),
        ("1e5", 100_000, 40),
        ("1e6", 1_000_000, 8),
        ("1e7", 10_000_000, 3),
    ] {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == "ratio" || w.contains(label)) {
            continue;
        }
        let baseline = latencies(n, 1, 100.0);
        let canary = latencies(n, 2, 105.0);
        let pooled: Vec<f64> = baseline.iter().chain(&canary).copied().collect();
        let hl = MannWhitneyConfig {
            conf_level: 0.98,
            ..Default::default()
        };
        let (floor, work) = common::interleaved_min(
            rounds,
            &mut || {
                black_box(sort_floor(black_box(&pooled)));
            },
            &mut || {
                let pair = TwoSample::new(Arms {
                    baseline: black_box(&baseline),
                    canary: black_box(&canary),
                })
                .unwrap();
                let t = pair.mann_whitney(&MannWhitneyConfig::default()).unwrap();
                black_box((t, pair.hodges_lehmann(&hl).unwrap()));
            },
        );
        println!(
            "{label:>6} {floor:>12.6} {work:>12.6} {:>6.2}x",
            work / floor
        );
    }
    println!("load after: {}", common::load());
}

criterion_group!(benches, rank_vs_sort);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if common::benchmarking() {
        ratios();
    }
}
