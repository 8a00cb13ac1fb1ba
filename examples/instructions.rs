//! Runs one bench workload a fixed number of times, for instruction counts under callgrind
//! (repeatable on a noisy machine, where wall-clock is not). Same data as `benches/`.
//!
//! ```text
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instructions rank 100000 3
//! ```
//!
//! Workloads: `rank N REPS` (Mann-Whitney + Hodges-Lehmann estimate + 98% interval, N per arm),
//! `sort N REPS` (the floor: sorting the 2N pooled points), `judge REPS` (50 metrics × 10 000
//! points), `judge-sort REPS` (its floor). The cost of one repetition is the difference between
//! two counts with different REPS, divided by the difference in REPS (it removes the setup).

use canary_verdict::Arms;
use canary_verdict::{
    judge,
    stats::{MannWhitneyConfig, TwoSample},
};
use std::hint::black_box;

#[allow(dead_code)]
#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> usize { args.get(i).and_then(|a| a.parse().ok()).unwrap_or(1) };
    match args.first().map(String::as_str) {
        Some("rank") => {
            let (b, c) = (
                common::latencies(num(1), 1, 100.0),
                common::latencies(num(1), 2, 105.0),
            );
            let hl = MannWhitneyConfig {
                conf_level: 0.98,
                ..Default::default()
            };
            for _ in 0..num(2) {
                let pair = TwoSample::new(Arms {
                    baseline: black_box(&b),
                    canary: black_box(&c),
                })
                .expect("finite data");
                let t = pair.mann_whitney(&MannWhitneyConfig::default()).ok();
                black_box((t, pair.hodges_lehmann(&hl).ok()));
            }
        }
        Some("sort") => {
            let mut pooled = common::latencies(num(1), 1, 100.0);
            pooled.extend(common::latencies(num(1), 2, 105.0));
            for _ in 0..num(2) {
                black_box(common::sort_floor(black_box(&pooled)));
            }
        }
        Some("judge") => {
            let (policy, data) = common::judge_request();
            for _ in 0..num(1) {
                black_box(judge(black_box(&policy), black_box(&data)).ok());
            }
        }
        Some("judge-sort") => {
            let (_, data) = common::judge_request();
            for _ in 0..num(1) {
                common::sort_every_arm(black_box(&data));
            }
        }
        _ => eprintln!(
            "usage: instructions (rank N REPS | sort N REPS | judge REPS | judge-sort REPS)"
        ),
    }
}
