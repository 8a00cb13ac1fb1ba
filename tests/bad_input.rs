//! Every row of the README's "Bad input" table: what each bad input gets, through the judge and
//! through the statistics entry points. The 10^7-point row is `tests/bounds.rs`.

use canary_verdict::stats::CountTestConfig;
use canary_verdict::Arms;
use canary_verdict::{
    judge,
    policy::{Bounds, Comparator, NanPolicy},
    sequential::{CountEProcess, CountEProcessConfig, EProcess},
    stats::{
        binom_test, hodges_lehmann, mann_whitney, poisson_rate_test, prop_test, quantile,
        Alternative, Exposure, MannWhitneyConfig, Proportion, QuantileType,
    },
    Arm, CanaryPolicy, Classification, CountPoint, Direction, Error, MetricData, MetricPolicy,
    Point, Series, Verdict,
};

use crate::common::{at, judge_one};

fn latency() -> MetricPolicy {
    MetricPolicy::new("latency_ms", Direction::Increase)
}

fn errors() -> MetricPolicy {
    MetricPolicy::counter("errors", Direction::Increase)
}

fn healthy() -> Vec<f64> {
    (0..40).map(|i| 100.0 + f64::from(i % 9)).collect()
}

fn policy_error(policy: CanaryPolicy) -> Error {
    let err = policy.validate().unwrap_err();
    assert!(matches!(err, Error::InvalidPolicy { .. }), "{err:?}");
    // The judge refuses the same policy with the same error.
    assert_eq!(judge(&policy, &[]).unwrap_err(), err);
    err
}

#[test]
fn bad_input_empty_series() {
    let j = judge_one(
        latency(),
        Series::samples(healthy()),
        Series::samples(Vec::new()),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::NoData);
    assert_eq!(m.reason, "the canary has no points after cleaning");
    assert_eq!(j.verdict, Verdict::Inconclusive);
    // must_have_data turns the same input into a failure.
    let strict = MetricPolicy {
        must_have_data: true,
        critical: true,
        ..latency()
    };
    let j = judge_one(
        strict,
        Series::samples(Vec::new()),
        Series::samples(healthy()),
    );
    assert_eq!(j.metrics[0].classification, Classification::NoDataFail);
    assert_eq!(j.verdict, Verdict::Rollback);
    // The statistics name the empty arm.
    let cfg = MannWhitneyConfig::default();
    assert_eq!(
        mann_whitney(
            Arms {
                baseline: &[],
                canary: &healthy()
            },
            &cfg
        )
        .unwrap_err(),
        Error::EmptySample { arm: Arm::Baseline }
    );
    assert_eq!(
        quantile(&[], 0.5, QuantileType::Type7).unwrap_err(),
        Error::EmptyInput
    );
}

#[test]
fn bad_input_one_point() {
    let j = judge_one(latency(), Series::samples([1.0]), Series::samples([2.0]));
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Inconclusive);
    assert_eq!(
        m.reason,
        "needs at least 5 points per arm, has 1 baseline and 1 canary"
    );
    assert_eq!(j.verdict, Verdict::Inconclusive);
    // The test itself is defined for one point each, as R: wilcox.test(2, 1) gives p = 1.
    let t = mann_whitney(
        Arms {
            baseline: &[1.0],
            canary: &[2.0],
        },
        &MannWhitneyConfig::default(),
    )
    .unwrap();
    assert_eq!(t.p_value, 1.0);
    assert_eq!(quantile(&[3.5], 0.9, QuantileType::Type7).unwrap(), 3.5);
}

#[test]
fn bad_input_all_nan() {
    let nan = vec![f64::NAN; 20];
    // Default: NaN marks a missing point and is removed, leaving no data.
    let j = judge_one(
        latency(),
        Series::samples(healthy()),
        Series::samples(nan.clone()),
    );
    assert_eq!(j.metrics[0].classification, Classification::NoData);
    assert_eq!(
        j.metrics[0].reason,
        "the canary has no points after cleaning"
    );
    // nan: reject makes it an error naming the metric, the arm and the field.
    let reject = MetricPolicy {
        nan: NanPolicy::Reject,
        ..latency()
    };
    let j = judge_one(
        reject,
        Series::samples(nan.clone()),
        Series::samples(healthy()),
    );
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert_eq!(
        j.metrics[0].reason,
        "metric latency_ms: baseline value: NaN at index 0 (nan policy: reject)"
    );
    // Counters: NaN events or trials are missing intervals too.
    let j = judge_one(
        errors(),
        Series::counts([(f64::NAN, f64::NAN)]),
        Series::total(1.0, 100.0),
    );
    assert_eq!(j.metrics[0].classification, Classification::NoData);
    // The statistics reject NaN with the arm and the index.
    let err = mann_whitney(
        Arms {
            baseline: &healthy(),
            canary: &nan,
        },
        &MannWhitneyConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            arm: Arm::Canary,
            index: 0,
            ..
        }
    ));
}

#[test]
fn a_counter_point_with_nan_in_either_field_follows_the_nan_policy() {
    // A NaN in the events or in the trials alone makes the point missing, as in both: removed,
    // replaced field by field, or an error naming that field.
    let points = [(f64::NAN, 100.0), (4.0, f64::NAN), (3.0, 100.0)];
    let canary = || Series::total(1.0, 100.0);
    let totals = |policy: MetricPolicy| {
        let j = judge_one(policy, Series::counts(points), canary());
        let m = &j.metrics[0];
        assert_ne!(m.classification, Classification::Error, "{j}");
        (m.n_baseline, m.baseline.as_ref().unwrap().mean)
    };
    // Removed: only (3, 100) is left.
    assert_eq!(totals(errors()), (100, 0.03));
    // Replaced by 5: (5, 100), (4, 5), (3, 100).
    let replace = MetricPolicy {
        nan: NanPolicy::Replace(5.0),
        ..errors()
    };
    assert_eq!(totals(replace), (205, 12.0 / 205.0));
    for (first, field) in [((f64::NAN, 100.0), "events"), ((4.0, f64::NAN), "trials")] {
        let reject = MetricPolicy {
            nan: NanPolicy::Reject,
            ..errors()
        };
        let j = judge_one(reject, Series::counts([(1.0, 10.0), first]), canary());
        assert_eq!(
            j.metrics[0].reason,
            format!("metric errors: baseline {field}: NaN at index 1 (nan policy: reject)")
        );
    }
}

#[test]
fn bad_input_infinities() {
    let mut canary = healthy();
    canary[3] = f64::INFINITY;
    let j = judge_one(
        latency(),
        Series::samples(healthy()),
        Series::samples(canary.clone()),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Error);
    assert_eq!(
        m.reason,
        "metric latency_ms: canary value: inf at index 3 is not finite"
    );
    // An Error metric counts as a failure: alone, it scores 0 and rolls back.
    assert_eq!(j.verdict, Verdict::Rollback);
    let j = judge_one(
        errors(),
        Series::total(1.0, f64::INFINITY),
        Series::total(1.0, 100.0),
    );
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert_eq!(
        j.metrics[0].reason,
        "metric errors: baseline trials: inf at index 0 is not a whole number of at least 0"
    );
    let err = hodges_lehmann(
        Arms {
            baseline: &canary,
            canary: &healthy(),
        },
        &MannWhitneyConfig::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the baseline sample holds a non-finite value (inf) at index 3"
    );
}

#[test]
fn bad_input_constant_data() {
    // Both arms one and the same constant: no change, p = 1 (R returns NaN).
    let j = judge_one(
        latency(),
        Series::samples(vec![5.0; 30]),
        Series::samples(vec![5.0; 30]),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Pass);
    assert_eq!(m.p_value, Some(1.0));
    assert_eq!(m.estimate, Some(0.0));
    assert_eq!(j.verdict, Verdict::Promote);
    // Each arm constant, the canary higher: a clear regression with the exact shift.
    let j = judge_one(
        latency(),
        Series::samples(vec![5.0; 30]),
        Series::samples(vec![6.0; 30]),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::High);
    assert_eq!(m.estimate, Some(1.0));
    assert!(m.p_value.unwrap() < 1e-10);
    assert_eq!(j.verdict, Verdict::Rollback);
}

#[test]
fn bad_input_negative_or_fractional_counts() {
    for (events, trials, field) in [
        (-1.0, 100.0, "events"),
        (1.5, 100.0, "events"),
        (1.0, -100.0, "trials"),
        (1.0, 100.25, "trials"),
    ] {
        let j = judge_one(
            errors(),
            Series::total(events, trials),
            Series::total(1.0, 100.0),
        );
        let m = &j.metrics[0];
        assert_eq!(m.classification, Classification::Error, "{events}/{trials}");
        let bad = if field == "events" { events } else { trials };
        assert_eq!(
            m.reason,
            format!(
                "metric errors: baseline {field}: {bad} at index 0 is not a whole number of at least 0"
            )
        );
    }
}

#[test]
fn bad_input_events_above_trials() {
    let j = judge_one(
        errors(),
        Series::total(1.0, 100.0),
        Series::counts([(1.0, 10.0), (12.0, 10.0)]),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Error);
    assert_eq!(
        m.reason,
        "metric errors: canary events: 12 events out of 10 trials at index 1"
    );
    let err = prop_test(
        Arms {
            baseline: Proportion::new(1, 100),
            canary: Proportion::new(12, 10),
        },
        &CountTestConfig::default()
            .alternative(Alternative::Greater)
            .conf_level(0.95)
            .correct(true),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "canary.events: 12 events out of 10 trials");
}

#[test]
fn bad_input_zero_trials() {
    let j = judge_one(errors(), Series::total(1.0, 100.0), Series::total(0.0, 0.0));
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::NoData);
    assert_eq!(m.reason, "the canary has no trials after cleaning");
    assert_eq!(j.verdict, Verdict::Inconclusive);
    let err = prop_test(
        Arms {
            baseline: Proportion::new(1, 100),
            canary: Proportion::new(0, 0),
        },
        &CountTestConfig::default()
            .alternative(Alternative::Greater)
            .conf_level(0.95)
            .correct(true),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "canary.trials: 0 trials: a proportion needs at least one trial"
    );
}

#[test]
fn bad_input_duplicate_metric_names() {
    let err = policy_error(CanaryPolicy::new(vec![latency(), latency()]));
    assert_eq!(
        err.to_string(),
        "policy: metric latency_ms: name: the name is listed twice"
    );
    let d = MetricData::new(
        "latency_ms",
        Arms {
            baseline: Series::samples(healthy()),
            canary: Series::samples(healthy()),
        },
    );
    let err = judge(&CanaryPolicy::new(vec![latency()]), &[d.clone(), d]).unwrap_err();
    assert_eq!(
        err,
        Error::DataMismatch {
            metric: "latency_ms".into(),
            problem: "data are given twice".into()
        }
    );
    // Duplicate timestamps within one arm are an error too.
    let t = chrono::DateTime::UNIX_EPOCH;
    let points = Series::Points(vec![
        Point {
            timestamp: t,
            value: 1.0,
        },
        Point {
            timestamp: t,
            value: 2.0,
        },
    ]);
    let j = judge_one(latency(), points.clone(), points);
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert_eq!(
        j.metrics[0].reason,
        "metric latency_ms: baseline timestamp: 1970-01-01 00:00:00 UTC appears twice (second at index 1)"
    );
}

#[test]
fn bad_input_unknown_json_fields() {
    // Every level of a request rejects a misspelt field, naming it.
    type Parse = fn(&str) -> Result<(), serde_json::Error>;
    let cases: [(&str, Parse); 10] = [
        (r#"{"metrics": [], "alpah": 0.05}"#, |s| {
            serde_json::from_str::<CanaryPolicy>(s).map(drop)
        }),
        (r#"{"name": "a", "directon": "increase"}"#, |s| {
            serde_json::from_str::<MetricPolicy>(s).map(drop)
        }),
        (
            r#"{"name": "a", "tolerance": {"allowed_increse": 1.1}}"#,
            |s| serde_json::from_str::<MetricPolicy>(s).map(drop),
        ),
        (r#"{"name": "a", "bounds": {"maxx": 1}}"#, |s| {
            serde_json::from_str::<MetricPolicy>(s).map(drop)
        }),
        (
            r#"{"name": "a", "relative_bounds": {"max_increace": 1}}"#,
            |s| serde_json::from_str::<MetricPolicy>(s).map(drop),
        ),
        (
            r#"{"name": "a", "outliers": {"remove_iqr": {"factor": 1.5, "facter": 3}}}"#,
            |s| serde_json::from_str::<MetricPolicy>(s).map(drop),
        ),
        (
            r#"{"metrics": [], "thresholds": {"pass": 90, "marginl": 50}}"#,
            |s| serde_json::from_str::<CanaryPolicy>(s).map(drop),
        ),
        (
            r#"{"name": "a", "baseline": {"samples": []}, "canary": {"samples": []}, "canry": 1}"#,
            |s| serde_json::from_str::<MetricData>(s).map(drop),
        ),
        (
            r#"{"timestamp": "2026-11-26T12:00:00Z", "value": 1, "vaule": 2}"#,
            |s| serde_json::from_str::<Point>(s).map(drop),
        ),
        (r#"{"events": 1, "trials": 10, "trails": 100}"#, |s| {
            serde_json::from_str::<CountPoint>(s).map(drop)
        }),
    ];
    for (json, parse) in cases {
        let err = parse(json).unwrap_err().to_string();
        assert!(err.starts_with("unknown field `"), "{json}: {err}");
        let field = err.split('`').nth(1).unwrap();
        assert!(json.contains(&format!("\"{field}\"")), "{json}: {err}");
    }
    // An unknown series kind or enum value is refused the same way.
    let err = serde_json::from_str::<Series>(r#"{"sampels": [1]}"#)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("unknown variant `sampels`"), "{err}");
}

#[test]
fn bad_input_weights_that_do_not_add_up() {
    let grouped = |name: &str, g: &str| MetricPolicy {
        groups: vec![g.into()],
        ..MetricPolicy::new(name, Direction::Increase)
    };
    let mut p = CanaryPolicy::new(vec![grouped("a", "latency"), grouped("b", "errors")]);
    p.group_weights = [("latency".to_string(), 60.0), ("errors".to_string(), 30.0)].into();
    assert_eq!(
        policy_error(p.clone()).to_string(),
        "policy: group_weights: the weights add up to 90, not 100 (or 1)"
    );
    p.group_weights = [
        ("latency".to_string(), 130.0),
        ("errors".to_string(), -30.0),
    ]
    .into();
    assert_eq!(
        policy_error(p.clone()).to_string(),
        "policy: metric errors: group_weights: weight -30 must be finite and > 0"
    );
    p.group_weights = [("latency".to_string(), 100.0)].into();
    assert_eq!(
        policy_error(p.clone()).to_string(),
        "policy: metric errors: group_weights: the group has metrics but no weight"
    );
    // A zero weight is no weight.
    p.group_weights = [("latency".to_string(), 100.0), ("errors".to_string(), 0.0)].into();
    assert_eq!(
        policy_error(p.clone()).to_string(),
        "policy: metric errors: group_weights: weight 0 must be finite and > 0"
    );
    // Either scale is accepted.
    p.group_weights = [("latency".to_string(), 0.75), ("errors".to_string(), 0.25)].into();
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn bad_input_thresholds_out_of_order() {
    let mut p = CanaryPolicy::new(vec![latency()]);
    p.thresholds.pass = 70.0;
    p.thresholds.marginal = 80.0;
    assert_eq!(
        policy_error(p.clone()).to_string(),
        "policy: thresholds: need 0 <= marginal (80) <= pass (70) <= 100"
    );
    p.thresholds.pass = f64::NAN;
    assert_eq!(
        policy_error(p.clone()).to_string(),
        "policy: thresholds: need 0 <= marginal (80) <= pass (NaN) <= 100"
    );
    // Tolerances and bounds out of order are refused the same way, naming the metric.
    let mut m = latency();
    m.tolerance.allowed_increase = 1.3;
    m.tolerance.critical_increase = 1.2;
    assert_eq!(
        policy_error(CanaryPolicy::new(vec![m])).to_string(),
        "policy: metric latency_ms: tolerance: need neutral (1) <= allowed_increase (1.3) <= critical_increase (1.2)"
    );
    let m = MetricPolicy {
        bounds: Some(Bounds {
            min: Some(10.0),
            max: Some(5.0),
            ..Bounds::default()
        }),
        ..latency()
    };
    assert_eq!(
        policy_error(CanaryPolicy::new(vec![m])).to_string(),
        "policy: metric latency_ms: bounds: min (10) is above max (5)"
    );
    // A NaN bound would never be breached: refused, even without the other side.
    let m = MetricPolicy {
        bounds: Some(Bounds {
            max: Some(f64::NAN),
            ..Bounds::default()
        }),
        ..latency()
    };
    assert_eq!(
        policy_error(CanaryPolicy::new(vec![m])).to_string(),
        "policy: metric latency_ms: bounds.max: NaN is not a number"
    );
}

#[test]
fn bad_input_policy_fractions_outside_their_range() {
    // critical_alpha_share is an open fraction; sufficiency_multiple lies in [1, 1e6]. Each
    // end is refused just outside and accepted on it.
    for share in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let mut p = CanaryPolicy::new(vec![latency()]);
        p.critical_alpha_share = share;
        assert_eq!(
            policy_error(p).to_string(),
            format!("policy: critical_alpha_share: {share} is not strictly between 0 and 1")
        );
    }
    for multiple in [
        0.5,
        1.0 - 1e-12,
        1e6 * (1.0 + 1e-12),
        f64::NAN,
        f64::INFINITY,
    ] {
        let mut p = CanaryPolicy::new(vec![latency()]);
        p.sufficiency_multiple = multiple;
        assert_eq!(
            policy_error(p).to_string(),
            format!("policy: sufficiency_multiple: {multiple} is outside [1, 1e6]")
        );
    }
    for v in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        for field in ["canary_share", "alpha"] {
            let mut srm = canary_verdict::policy::SrmPolicy::default();
            *(if field == "alpha" {
                &mut srm.alpha
            } else {
                &mut srm.canary_share
            }) = v;
            let mut p = CanaryPolicy::new(vec![latency()]);
            p.srm = Some(srm);
            assert_eq!(
                policy_error(p).to_string(),
                format!("policy: srm.{field}: {v} is not strictly between 0 and 1")
            );
        }
    }
    for (share, multiple) in [(1e-9, 1.0), (1.0 - 1e-9, 1e6)] {
        let mut p = CanaryPolicy::new(vec![latency()]);
        p.critical_alpha_share = share;
        p.sufficiency_multiple = multiple;
        p.srm = Some(canary_verdict::policy::SrmPolicy {
            canary_share: share,
            alpha: share,
            ..Default::default()
        });
        assert_eq!(p.validate(), Ok(()));
    }
}

#[test]
fn bad_input_limits_refused_past_their_edges_and_accepted_on_them() {
    use canary_verdict::policy::{Bounds, RelativeBounds};
    // The decrease side of a tolerance is ordered as the increase side is.
    let mut m = latency();
    m.tolerance.allowed_decrease = 1.2;
    assert_eq!(
        policy_error(CanaryPolicy::new(vec![m])).to_string(),
        "policy: metric latency_ms: tolerance: need critical_decrease (0.95) <= allowed_decrease (1.2) <= neutral (1)"
    );
    // A bound whose min equals its max is a valid (if strict) bound.
    let m = MetricPolicy {
        bounds: Some(Bounds {
            min: Some(5.0),
            max: Some(5.0),
            ..Bounds::default()
        }),
        ..latency()
    };
    assert_eq!(CanaryPolicy::new(vec![m]).validate(), Ok(()));
    // Relative bounds are fractions >= 0: a negative or NaN one is refused, zero accepted.
    for v in [-0.1, f64::NAN] {
        for increase in [true, false] {
            let bounds = if increase {
                RelativeBounds {
                    max_increase: Some(v),
                    ..RelativeBounds::default()
                }
            } else {
                RelativeBounds {
                    max_decrease: Some(v),
                    ..RelativeBounds::default()
                }
            };
            let m = MetricPolicy {
                relative_bounds: Some(bounds),
                ..latency()
            };
            let side = if increase { "increase" } else { "decrease" };
            assert_eq!(
                policy_error(CanaryPolicy::new(vec![m])).to_string(),
                format!("policy: metric latency_ms: relative_bounds.max_{side}: {v} must be a fraction >= 0")
            );
        }
    }
    let m = MetricPolicy {
        relative_bounds: Some(RelativeBounds {
            max_increase: Some(0.0),
            max_decrease: Some(0.0),
            ..RelativeBounds::default()
        }),
        ..latency()
    };
    assert_eq!(CanaryPolicy::new(vec![m]).validate(), Ok(()));
    // An outlier fence's factor is finite and >= 0, for either fence.
    use canary_verdict::policy::{Comparator, OutlierPolicy};
    for factor in [-0.5, f64::NAN, f64::INFINITY] {
        for outliers in [
            OutlierPolicy::RemoveIqr { factor },
            OutlierPolicy::RemoveIqrWidened { factor },
        ] {
            let m = MetricPolicy {
                outliers,
                ..latency()
            };
            assert_eq!(
                policy_error(CanaryPolicy::new(vec![m])).to_string(),
                format!(
                    "policy: metric latency_ms: outliers.factor: {factor} must be finite and >= 0"
                )
            );
        }
    }
    let m = MetricPolicy {
        outliers: OutlierPolicy::RemoveIqr { factor: 0.0 },
        ..latency()
    };
    assert_eq!(CanaryPolicy::new(vec![m]).validate(), Ok(()));
    // The count test is for counters, and a counter may ask for it by name.
    let m = MetricPolicy {
        comparator: Comparator::Counts,
        ..latency()
    };
    assert_eq!(
        policy_error(CanaryPolicy::new(vec![m])).to_string(),
        "policy: metric latency_ms: comparator: the count test needs a counter metric (kind = counter)"
    );
    let m = MetricPolicy {
        comparator: Comparator::Counts,
        ..errors()
    };
    assert_eq!(CanaryPolicy::new(vec![m]).validate(), Ok(()));
}

#[test]
fn bad_input_confidence_level_outside_unit_interval() {
    for level in [0.0, 1.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
        let m = MetricPolicy {
            conf_level: level,
            ..latency()
        };
        assert_eq!(
            policy_error(CanaryPolicy::new(vec![m])).to_string(),
            format!(
                "policy: metric latency_ms: conf_level: {level} is not strictly between 0 and 1"
            )
        );
        let mut p = CanaryPolicy::new(vec![latency()]);
        p.alpha = level;
        assert_eq!(
            policy_error(p).to_string(),
            format!(
                "policy: alpha: {level} is outside [1e-6, 0.5]: a smaller alpha makes no change significant, a larger one rolls back on noise"
            )
        );
        let cfg = MannWhitneyConfig {
            conf_level: level,
            ..Default::default()
        };
        let err = hodges_lehmann(
            Arms {
                baseline: &healthy(),
                canary: &healthy(),
            },
            &cfg,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    field: "conf_level",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn bad_input_huge_counts() {
    // 10^14 requests per arm (the exact tests' tails near the mean come from Temme's expansion,
    // so this is as quick as 10^3): 50% more errors is High, the same rate Pass.
    let worse = judge_one(
        errors(),
        Series::total(1e12, 1e14),
        Series::total(1.5e12, 1e14),
    );
    assert_eq!(worse.metrics[0].classification, Classification::High);
    let same = judge_one(
        errors(),
        Series::total(1e12, 1e14),
        Series::total(1e12, 1e14),
    );
    assert_eq!(same.metrics[0].classification, Classification::Pass);
    // Up to 2^53 trials: an answer (x = n p exactly, so p = 1, as R).
    let t = binom_test(
        1 << 52,
        1 << 53,
        0.5,
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
    .unwrap();
    assert_eq!(t.p_value, 1.0);
    assert!(t.conf_int.lower < 0.5 && 0.5 < t.conf_int.upper, "{t}");
    // Past 2^53 events: a typed error naming the field.
    let err = poisson_rate_test(
        Arms {
            baseline: Exposure::new((1 << 52) + 1, 1.0),
            canary: Exposure::new(1 << 52, 1.0),
        },
        1.0,
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidCounts {
                field: "canary.events",
                ..
            }
        ),
        "{err:?}"
    );
    // The count e-process at 2^51 events per arm keeps its precision: ln E is
    // ln B(5 + C, 5 + B) - ln B(5, 5) + (C + B) ln 2 = -16.895492967007835771 (mpmath, 50 digits).
    let mut e = CountEProcess::new(CountEProcessConfig::new(0.5)).unwrap();
    e.update(Arms {
        baseline: 1 << 51,
        canary: 1 << 51,
    })
    .unwrap();
    let want = -16.895_492_967_007_835;
    assert!(
        ((e.log_e_value() - want) / want).abs() < 1e-12,
        "{}",
        e.log_e_value()
    );
}

#[test]
fn bad_input_counter_totals_past_2_pow_53() {
    // 2 050 intervals of 9e15 trials add up to 1.8e19: past u64::MAX, the sum used to wrap to
    // 3.3e15 and a canary about 900 times worse was promoted as 84% better.
    let baseline = Series::counts(vec![(1e9, 9e15); 2050]);
    let canary = Series::total(9e14, 9e15);
    let j = judge_one(errors(), baseline, canary);
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Error, "{j}");
    assert_eq!(
        m.reason,
        "metric errors: baseline trials: the trials add up to more than the largest total \
         judged, 2^53 = 9007199254740992, at index 1"
    );
    assert_ne!(j.verdict, Verdict::Promote);
    // Events are summed with the same check: 1 026 intervals of 8.8e15 events out of as many
    // trials pass 2^53 by the second.
    let j = judge_one(
        errors(),
        Series::total(1.0, 1e6),
        Series::counts(vec![(8.8e15, 8.8e15); 1026]),
    );
    assert!(
        j.metrics[0]
            .reason
            .starts_with("metric errors: canary events: the events add up to more than"),
        "{j}"
    );
    // Exactly 2^53 in one interval is judged; one past it is refused with the limit named (it
    // used to read "not a whole number of at least 0").
    let max = 9_007_199_254_740_992.0;
    let j = judge_one(errors(), Series::total(1e3, max), Series::total(1e3, max));
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
    let j = judge_one(errors(), Series::total(1e3, 1e16), Series::total(1e3, max));
    assert_eq!(
        j.metrics[0].reason,
        "metric errors: baseline trials: 10000000000000000 at index 0 is above the largest \
         count judged, 2^53 = 9007199254740992"
    );
}

#[test]
fn bad_input_group_listed_twice_counts_once() {
    // A failing metric listed twice in group "g" beside a passing one: 1 of 2 passed (50), not
    // 1 of 3 (33.3).
    let baseline = healthy();
    let worse: Vec<f64> = baseline.iter().map(|v| v * 1.5).collect();
    let twice = MetricPolicy {
        groups: vec!["g".into(), "g".into()],
        ..MetricPolicy::new("latency_ms", Direction::Increase)
    };
    let once = MetricPolicy {
        groups: vec!["g".into()],
        ..MetricPolicy::new("cpu", Direction::Increase)
    };
    let j = judge(
        &CanaryPolicy::new(vec![twice, once]),
        &[
            MetricData::new(
                "latency_ms",
                Arms {
                    baseline: Series::samples(baseline.clone()),
                    canary: Series::samples(worse),
                },
            ),
            MetricData::new(
                "cpu",
                Arms {
                    baseline: Series::samples(baseline.clone()),
                    canary: Series::samples(baseline),
                },
            ),
        ],
    )
    .unwrap();
    assert_eq!(j.metrics[0].classification, Classification::High, "{j}");
    assert_eq!(j.groups.len(), 1);
    assert_eq!((j.groups[0].counted, j.groups[0].passed), (2, 1), "{j}");
    assert_eq!(j.score, Some(50.0));
}

#[test]
fn bad_input_signed_rank_without_pairs() {
    let signed_rank = MetricPolicy {
        comparator: Comparator::SignedRank,
        ..latency()
    };
    // Timestamped arms that share no timestamp: said so, not "no points after cleaning".
    let b = Series::points((0..40).map(|i| (at(60 * i), 100.0 + (i % 9) as f64)));
    let c = Series::points((0..40).map(|i| (at(60 * i + 30), 101.0 + (i % 9) as f64)));
    let j = judge_one(signed_rank.clone(), b.clone(), c);
    assert_eq!(j.metrics[0].classification, Classification::Error, "{j}");
    assert_eq!(
        j.metrics[0].reason,
        "metric latency_ms: canary timestamp: no timestamp is shared with the baseline (40 \
         baseline and 40 canary points), so the comparator signed_rank has no pairs"
    );
    // Samples have no timestamps: an error, not a silent rank-sum test.
    let j = judge_one(
        signed_rank.clone(),
        Series::samples(healthy()),
        Series::samples(healthy()),
    );
    assert_eq!(j.metrics[0].classification, Classification::Error, "{j}");
    assert!(j.metrics[0].details.is_none());
    assert!(
        j.metrics[0]
            .reason
            .starts_with("metric latency_ms: baseline series: samples have no timestamps"),
        "{j}"
    );
    // An empty arm is still "no data", and shared timestamps are still paired.
    let j = judge_one(signed_rank.clone(), b.clone(), Series::points([]));
    assert_eq!(j.metrics[0].classification, Classification::NoData, "{j}");
    let j = judge_one(signed_rank, b.clone(), b);
    assert!(
        matches!(
            j.metrics[0].details,
            Some(canary_verdict::judgment::TestDetails::SignedRank { unpaired: 0, .. })
        ),
        "{j}"
    );
}

#[test]
fn bad_input_paired_points_out_of_order_and_duplicated() {
    // Pairing sorts by timestamp: arms given in any order pair the same, and a timestamp given
    // twice is named with the index of its second appearance.
    let values: Vec<(i64, f64)> = (0..30).map(|i| (i, 100.0 + (i * 7 % 11) as f64)).collect();
    let arm = |shift: f64, order: &[(i64, f64)]| {
        Series::points(order.iter().map(|&(t, v)| (at(60 * t), v + shift)))
    };
    let mut reversed = values.clone();
    reversed.reverse();
    let sorted = judge_one(latency(), arm(0.0, &values), arm(5.0, &values));
    let shuffled = judge_one(latency(), arm(0.0, &reversed), arm(5.0, &values));
    assert!(matches!(
        sorted.metrics[0].details,
        Some(canary_verdict::judgment::TestDetails::SignedRank { unpaired: 0, .. })
    ));
    assert_eq!(
        format!("{:?}", sorted.metrics[0]),
        format!("{:?}", shuffled.metrics[0])
    );
    let mut twice = reversed.clone();
    twice[17].0 = twice[4].0;
    let j = judge_one(latency(), arm(0.0, &twice), arm(5.0, &values));
    assert_eq!(
        j.metrics[0].reason,
        format!(
            "metric latency_ms: baseline timestamp: {} appears twice (second at index 17)",
            at(60 * twice[4].0)
        )
    );
    // Partners missing in both arms under signed_rank: paired on the shared ones, the rest
    // counted as unpaired.
    let signed_rank = MetricPolicy {
        comparator: Comparator::SignedRank,
        ..latency()
    };
    let j = judge_one(
        signed_rank,
        arm(0.0, &values[..25]),
        arm(5.0, &reversed[..25]),
    );
    assert!(
        matches!(
            j.metrics[0].details,
            Some(canary_verdict::judgment::TestDetails::SignedRank { unpaired: 10, .. })
        ),
        "{j}"
    );
    assert_eq!((j.metrics[0].n_baseline, j.metrics[0].n_canary), (20, 20));
}

#[test]
fn bad_input_control_characters_in_names() {
    // A metric name with a newline could forge a line of the text table (or of a reason).
    let forged = "latency\n  [critical] forged: ROLLBACK\u{1b}[2J\u{2028}";
    let j = judge_one(
        MetricPolicy::new(forged, Direction::Increase),
        Series::samples(healthy()),
        Series::samples(vec![f64::INFINITY; 40]),
    );
    let text = j.to_string();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{2028}'),
        "{text}"
    );
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("[critical] forged"),
            "{text}"
        );
    }
    assert!(
        text.contains(r"latency\n  [critical] forged: ROLLBACK\u{1b}[2J\u{2028}"),
        "{text}"
    );
    // The verdict line, one per reason, the table's header and row, the groups.
    assert_eq!(text.lines().count(), 4 + j.reasons.len(), "{text}");
    assert!(j
        .reasons
        .iter()
        .any(|r| r.metric.as_deref() == Some(forged)));
    // The data keep the name as given.
    assert_eq!(j.metrics[0].name, forged);
}
