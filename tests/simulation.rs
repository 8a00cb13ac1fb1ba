//! Seeded simulations of whole canaries with the default policy (names, directions and kinds
//! only): how often identical arms are rolled back, and how often real regressions are.
//!
//! Each canary has 60 metrics: 50 continuous (60 per-minute points per arm, log-normal noise
//! with a 10% coefficient of variation) and 10 counters (errors out of about 60 000 requests per
//! arm, base error rates from 0.1% to 1%).

use crate::common::Rng;
use canary_verdict::{judge, CanaryPolicy, Direction, MetricData, MetricPolicy, Series, Verdict};

const CONTINUOUS: usize = 50;
const COUNTERS: usize = 10;

fn policy() -> CanaryPolicy {
    let mut metrics = Vec::new();
    for i in 0..CONTINUOUS {
        metrics.push(MetricPolicy::new(format!("m{i:02}"), Direction::Increase));
    }
    for i in 0..COUNTERS {
        metrics.push(MetricPolicy::counter(
            format!("c{i:02}"),
            Direction::Increase,
        ));
    }
    CanaryPolicy::new(metrics)
}

/// One canary: `shift` multiplies metric m00 of the canary, `error_factor` the error rate of
/// counter c04 (a 0.5% base error rate: about 300 errors per arm).
fn canary(rng: &mut Rng, shift: f64, error_factor: f64) -> Vec<MetricData> {
    let mut data = Vec::with_capacity(CONTINUOUS + COUNTERS);
    for i in 0..CONTINUOUS {
        let median = 20.0 + 10.0 * i as f64;
        let arm = |rng: &mut Rng, f: f64| -> Vec<f64> {
            (0..60)
                .map(|_| median * f * (0.1 * rng.normal()).exp())
                .collect()
        };
        let b = arm(rng, 1.0);
        let c = arm(rng, if i == 0 { shift } else { 1.0 });
        data.push(MetricData::new(
            format!("m{i:02}"),
            Series::samples(b),
            Series::samples(c),
        ));
    }
    for i in 0..COUNTERS {
        let rate = 0.001 + 0.001 * i as f64;
        let trials = |rng: &mut Rng| 60_000.0 + (rng.normal() * 200.0).round();
        let (tb, tc) = (trials(rng), trials(rng));
        let eb = rng.poisson(rate * tb) as f64;
        let ec = rng.poisson(rate * tc * if i == 4 { error_factor } else { 1.0 }) as f64;
        data.push(MetricData::new(
            format!("c{i:02}"),
            Series::total(eb.min(tb), tb),
            Series::total(ec.min(tc), tc),
        ));
    }
    data
}

fn rollbacks(seed: u64, runs: usize, shift: f64, error_factor: f64) -> usize {
    let policy = policy();
    let mut rng = Rng(seed);
    (0..runs)
        .filter(|_| {
            let data = canary(&mut rng, shift, error_factor);
            judge(&policy, &data).unwrap().verdict == Verdict::Rollback
        })
        .count()
}

#[test]
fn identical_arms_are_rarely_rolled_back() {
    let runs = 1000;
    let n = rollbacks(11, runs, 1.0, 1.0);
    // The policy's alpha (0.01, Holm across the 60 metrics) bounds the chance that any metric
    // is significant; a rollback also needs a change past the critical tolerance. Bound:
    // alpha·runs plus three binomial standard deviations.
    let alpha = policy().alpha;
    let bound = alpha * runs as f64 + 3.0 * (alpha * (1.0 - alpha) * runs as f64).sqrt();
    eprintln!("identical arms: {n} rollbacks in {runs} canaries (bound {bound:.1})");
    assert!(
        (n as f64) <= bound,
        "{n} false rollbacks in {runs} (bound {bound:.1})"
    );
}

#[test]
fn a_twenty_percent_shift_is_rolled_back() {
    let runs = 200;
    let n = rollbacks(12, runs, 1.2, 1.0);
    eprintln!("20% shift: {n} rollbacks in {runs} canaries");
    assert!(n >= 196, "only {n} of {runs} rolled back");
}

#[test]
fn a_doubled_error_rate_is_rolled_back() {
    let runs = 200;
    let n = rollbacks(13, runs, 1.0, 2.0);
    eprintln!("doubled error rate: {n} rollbacks in {runs} canaries");
    assert!(n >= 196, "only {n} of {runs} rolled back");
}
