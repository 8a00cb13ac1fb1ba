//! Placeholder replaced by the rank-test bench.
use criterion::{criterion_group, criterion_main, Criterion};

fn sort_floor(c: &mut Criterion) {
    let data: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64).collect();
    c.bench_function("sort 1e3", |b| {
        b.iter(|| {
            let mut d = data.clone();
            d.sort_unstable_by(f64::total_cmp);
            d
        })
    });
}

criterion_group!(benches, sort_floor);
criterion_main!(benches);
