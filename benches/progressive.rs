//! The per-interval update of a progressive analysis (sequential rule), beside baselines in the
//! same run: the one-shot judge on the same interval's data, and sorting it. A counter's update
//! is O(1); a continuous metric's re-runs the judge's test on its cumulative window (20
//! intervals here), so its cost grows with the intervals seen.
//!
//! `cargo bench --bench progressive`

use canary_verdict::Arms;
use canary_verdict::{
    judge, progressive::SequentialRule, CanaryPolicy, Direction, MetricData, MetricPolicy,
    ProgressiveAnalysis, ProgressivePolicy, ProgressiveRule, Series,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;

/// An analysis that has already seen `warm` intervals of `data` (identical arms, no early
/// promotion, a long lifetime: it never decides, so every update does the full work).
fn analysis(metric: MetricPolicy, data: &[MetricData], warm: usize) -> ProgressiveAnalysis {
    let rule = SequentialRule {
        early_promotion: false,
        ..SequentialRule::default()
    };
    let policy = ProgressivePolicy::new(
        CanaryPolicy::new(vec![metric]),
        ProgressiveRule::Sequential(rule),
    )
    .lifetime(100_000);
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    for _ in 0..warm {
        a.update(data).unwrap();
    }
    a
}

fn latencies(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
            100.0 * (-(u.max(1e-300)).ln()).sqrt()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("progressive");

    // A counter: 100 000 requests per arm in the interval.
    let errors = MetricPolicy::counter("errors", Direction::Increase);
    let count_data = vec![MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(120.0, 100_000.0),
            canary: Series::total(120.0, 100_000.0),
        },
    )];
    let warm = analysis(errors.clone(), &count_data, 20);
    group.bench_function("sequential_update_count", |b| {
        b.iter_batched_ref(
            || warm.clone(),
            |a| black_box(a.update(black_box(&count_data)).unwrap()),
            BatchSize::SmallInput,
        )
    });
    let one_shot = CanaryPolicy::new(vec![errors]);
    group.bench_function("judge_count_interval", |b| {
        b.iter(|| black_box(judge(black_box(&one_shot), black_box(&count_data)).unwrap()))
    });

    // A continuous metric: 1 000 request latencies per arm in the interval.
    let latency = MetricPolicy::new("latency", Direction::Increase);
    let lat_data = vec![MetricData::new(
        "latency",
        Arms {
            baseline: Series::samples(latencies(1, 1000)),
            canary: Series::samples(latencies(2, 1000)),
        },
    )];
    let warm = analysis(latency.clone(), &lat_data, 20);
    group.bench_function("sequential_update_latency_1k", |b| {
        b.iter_batched_ref(
            || warm.clone(),
            |a| black_box(a.update(black_box(&lat_data)).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("sort_latency_interval_2x1k", |b| {
        b.iter(|| {
            for s in [&lat_data[0].baseline, &lat_data[0].canary] {
                if let Series::Samples(v) = s {
                    let mut v = v.clone();
                    v.sort_unstable_by(f64::total_cmp);
                    black_box(v);
                }
            }
        })
    });
    let one_shot = CanaryPolicy::new(vec![latency]);
    group.bench_function("judge_latency_interval_1k", |b| {
        b.iter(|| black_box(judge(black_box(&one_shot), black_box(&lat_data)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
