//! A whole judgment, 50 continuous metrics × 10 000 points per arm and 500 × 1 000, beside the
//! floor of sorting every arm of the same data.
//!
//! `cargo bench --bench judge`: after criterion's runs it prints the ratio to the floor, the
//! minimum of interleaved runs, with the machine's load (`-- ratio` prints only that).

use canary_verdict::judge;
use criterion::{criterion_group, Criterion};
use std::hint::black_box;

#[allow(dead_code)]
mod common;

const SHAPES: [(&str, usize, usize, usize); 2] =
    [("50x10k", 50, 10_000, 30), ("500x1k", 500, 1_000, 30)];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("judge");
    group.sample_size(10);
    for (label, metrics, points, _) in SHAPES {
        let (policy, data) = common::judge_request_sized(metrics, points);
        group.bench_function(format!("sort_floor_{label}"), |b| {
            b.iter(|| common::sort_every_arm(black_box(&data)))
        });
        group.bench_function(format!("judge_{label}"), |b| {
            b.iter(|| black_box(judge(black_box(&policy), black_box(&data)).unwrap()))
        });
    }
    group.finish();
}

/// Prints the wall-clock ratio of a judgment to its sort floor, the minimum of interleaved runs.
fn ratios() {
    println!(
        "\nratio to the sort floor (min of interleaved runs; load {})",
        common::load()
    );
    println!(
        "{:>8} {:>10} {:>10} {:>7}",
        "shape", "floor s", "judge s", "ratio"
    );
    for (label, metrics, points, rounds) in SHAPES {
        let (policy, data) = common::judge_request_sized(metrics, points);
        let (floor, work) = common::interleaved_min(
            rounds,
            &mut || common::sort_every_arm(black_box(&data)),
            &mut || {
                black_box(judge(black_box(&policy), black_box(&data)).unwrap());
            },
        );
        println!(
            "{label:>8} {floor:>10.5} {work:>10.5} {:>6.2}x",
            work / floor
        );
    }
    println!("load after: {}", common::load());
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if common::benchmarking() {
        ratios();
    }
}
