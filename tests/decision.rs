//! The decision layer's rules, each pinned by a test named after it: effect scales that keep
//! the direction of harm, critical breaches decided by the interval, alpha reserved for critical
//! metrics, must-have metrics, data sufficiency and dependence-aware inference.

use crate::common::Rng;
use canary_verdict::{
    judge, CanaryPolicy, Classification, Direction, EffectMeasure, MetricData, MetricPolicy,
    Series, Tolerance, Verdict,
};

fn noisy(rng: &mut Rng, n: usize, centre: f64, sd: f64) -> Vec<f64> {
    (0..n).map(|_| centre + sd * rng.normal()).collect()
}

fn one(policy: MetricPolicy, baseline: Vec<f64>, canary: Vec<f64>) -> canary_verdict::Judgment {
    let name = policy.name.clone();
    judge(
        &CanaryPolicy::new(vec![policy]),
        &[MetricData::new(
            name,
            Series::samples(baseline),
            Series::samples(canary),
        )],
    )
    .unwrap()
}

#[test]
fn negative_valued_metric_keeps_the_direction_of_harm() {
    // Baseline about -100, canary about -50: on the metric's own axis an increase of 50%.
    let mut rng = Rng(7);
    let b = noisy(&mut rng, 60, -100.0, 5.0);
    let c = noisy(&mut rng, 60, -50.0, 5.0);
    for measure in [EffectMeasure::RelativeShift, EffectMeasure::MeanRatio] {
        let m = MetricPolicy {
            tolerance: Tolerance::for_measure(measure),
            ..MetricPolicy::new("offset", Direction::Increase)
        };
        let j = one(m, b.clone(), c.clone());
        let mj = &j.metrics[0];
        assert_eq!(mj.classification, Classification::High, "{measure:?}: {j}");
        assert_eq!(j.verdict, Verdict::Rollback, "{measure:?}: {j}");
        let e = mj.effect.unwrap();
        assert!((e - 1.5).abs() < 0.05, "{measure:?}: effect {e}");
        if let Some(ci) = mj.effect_interval {
            assert!(ci.lower <= e && e <= ci.upper, "{ci:?} around {e}");
        }
        // The same data with `decrease` as the harm: a significant change the other way passes.
        let m = MetricPolicy {
            tolerance: Tolerance::for_measure(measure),
            ..MetricPolicy::new("offset", Direction::Decrease)
        };
        assert_eq!(one(m, b.clone(), c.clone()).verdict, Verdict::Promote);
    }
    // Mirrored about zero with the direction flipped: the same verdict.
    let mirror = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<_>>();
    let j = one(
        MetricPolicy::new("offset", Direction::Decrease),
        mirror(&b),
        mirror(&c),
    );
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
}

#[test]
fn zero_straddling_baseline_is_judged_on_the_absolute_scale() {
    // A clock offset centred on zero: no percentage change exists; the judgment says so and a
    // significant harmful shift still fails.
    let mut rng = Rng(8);
    let b = noisy(&mut rng, 80, 0.0, 1.0);
    let c = noisy(&mut rng, 80, 2.0, 1.0);
    let j = one(MetricPolicy::new("offset_ms", Direction::Increase), b, c);
    let mj = &j.metrics[0];
    assert_eq!(mj.measure, EffectMeasure::Absolute);
    assert_eq!(mj.classification, Classification::High, "{j}");
    assert!(mj.reason.contains("straddles zero"), "{}", mj.reason);
    assert_eq!(j.verdict, Verdict::Rollback);
}
