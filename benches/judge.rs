//! A whole judgment: 50 continuous metrics × 10 000 points per arm (target: 20 ms on one core),
//! beside the floor of sorting the same data.
//!
//! `cargo bench --bench judge`

use canary_verdict::{judge, CanaryPolicy, Direction, MetricData, MetricPolicy, Series};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn data() -> (CanaryPolicy, Vec<MetricData>) {
    let mut s = 7u64;
    let mut uniform = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut metrics = Vec::new();
    let mut data = Vec::new();
    for i in 0..50 {
        let name = format!("metric_{i:02}");
        metrics.push(MetricPolicy::new(name.clone(), Direction::Increase));
        let mut arm = |scale: f64| -> Vec<f64> {
            (0..10_000)
                .map(|_| scale * (-(uniform().max(1e-300)).ln()).sqrt())
                .collect()
        };
        let (b, c) = (arm(100.0), arm(101.0));
        data.push(MetricData::new(
            name,
            Series::samples(b),
            Series::samples(c),
        ));
    }
    (CanaryPolicy::new(metrics), data)
}

fn bench(c: &mut Criterion) {
    let (policy, data) = data();
    let mut group = c.benchmark_group("judge");
    group.sample_size(10);
    group.bench_function("sort_floor_50x2x10k", |b| {
        b.iter(|| {
            for d in &data {
                for s in [&d.baseline, &d.canary] {
                    if let Series::Samples(v) = s {
                        let mut v = v.clone();
                        v.sort_unstable_by(f64::total_cmp);
                        black_box(v);
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
