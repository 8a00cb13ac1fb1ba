//! Bounds: a judgment of 10^7 points per arm finishes (the README's "Bad input" table quotes
//! its time under the test profile), with the interval, the bounds and the summaries.

use crate::common::Rng;
use canary_verdict::Arms;
use canary_verdict::{
    judge,
    judgment::TestDetails,
    policy::{Bounds, Statistic},
    CanaryPolicy, Classification, Direction, MetricData, MetricPolicy, Point, Series, Verdict,
};

/// Latencies in milliseconds rounded to 0.1 ms, as exporters report them: many ties.
fn latencies(rng: &mut Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|_| (scale * 100.0 * (0.3 * rng.normal()).exp() * 10.0).round() / 10.0)
        .collect()
}

#[test]
fn ten_million_points_per_arm_are_judged() {
    const N: usize = 10_000_000;
    let mut rng = Rng(0x5eed_0001);
    let baseline = latencies(&mut rng, N, 1.0);
    let canary = latencies(&mut rng, N, 1.1);
    let metric = MetricPolicy {
        bounds: Some(Bounds {
            statistic: Statistic::Quantile(0.99),
            max: Some(1_000.0),
            ..Bounds::default()
        }),
        ..MetricPolicy::new("latency_ms", Direction::Increase)
    };
    let policy = CanaryPolicy::new(vec![metric]);
    let data = [MetricData::new(
        "latency_ms",
        Arms {
            baseline: Series::samples(baseline),
            canary: Series::samples(canary),
        },
    )];
    let j = judge(&policy, &data).unwrap();
    let m = &j.metrics[0];
    assert_eq!((m.n_baseline, m.n_canary), (N, N));
    // A 10% shift at 10^7 points is significant, and its interval lies past the default
    // tolerance (+5%).
    assert_eq!(m.classification, Classification::High, "{j}");
    let shift = m.estimate.unwrap();
    assert!((9.0..11.0).contains(&shift), "shift {shift}");
    let ci = m.interval.unwrap();
    assert!(ci.lower <= shift && shift <= ci.upper);
    assert_eq!(j.verdict, Verdict::Rollback);
}

#[test]
fn ten_million_paired_points_per_arm_are_judged() {
    // One point per second for 10^7 seconds in each arm, the canary 10% slower, given in time
    // order (as a metrics store returns them): paired by a merge of the two time orders, then
    // the signed-rank test on the differences.
    const N: usize = 10_000_000;
    let mut rng = Rng(0x5eed_0002);
    let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let points = |values: Vec<f64>| -> Series {
        Series::Points(
            values
                .into_iter()
                .enumerate()
                .map(|(i, value)| Point {
                    timestamp: start + chrono::TimeDelta::seconds(i as i64),
                    value,
                })
                .collect(),
        )
    };
    let baseline = points(latencies(&mut rng, N, 1.0));
    let canary = points(latencies(&mut rng, N, 1.1));
    let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_ms", Direction::Increase)]);
    let data = [MetricData::new("latency_ms", Arms { baseline, canary })];
    let j = judge(&policy, &data).unwrap();
    let m = &j.metrics[0];
    assert_eq!((m.n_baseline, m.n_canary), (N, N));
    assert!(
        matches!(m.details, Some(TestDetails::SignedRank { unpaired: 0, .. })),
        "{j}"
    );
    assert_eq!(m.classification, Classification::High, "{j}");
    // The paired shift of a 10% slowdown at a median of 100 ms: the pseudo-median of
    // 110·e^(0.3 Z') − 100·e^(0.3 Z), about 10 ms; its interval past the +5% tolerance.
    let shift = m.estimate.unwrap();
    assert!((8.0..13.0).contains(&shift), "shift {shift}");
    let ci = m.interval.unwrap();
    assert!(ci.lower <= shift && shift <= ci.upper);
    assert_eq!(j.verdict, Verdict::Rollback);
}
