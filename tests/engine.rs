//! The verdict engine end to end: the fixture canaries, every classification path, bad input,
//! determinism and serde round trips.

use crate::common::*;
use canary_verdict::Arms;
use canary_verdict::{
    judge,
    policy::{Bounds, Comparator, NanPolicy, RelativeBounds, Statistic},
    CanaryPolicy, Classification, CountPoint, Direction, Error, Judgment, MetricData, MetricPolicy,
    Point, Series, Tolerance, Verdict,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

fn load_request(path: &std::path::Path) -> (CanaryPolicy, Vec<MetricData>, Value) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let policy: CanaryPolicy = serde_json::from_value(doc["policy"].clone())
        .unwrap_or_else(|e| panic!("{}: policy: {e}", path.display()));
    let metrics: Vec<MetricData> = serde_json::from_value(doc["metrics"].clone())
        .unwrap_or_else(|e| panic!("{}: metrics: {e}", path.display()));
    (policy, metrics, doc)
}

fn verdict_of(name: &str) -> Verdict {
    serde_json::from_value(Value::String(name.into())).unwrap()
}

#[test]
fn every_fixture_canary_gets_its_expected_verdict() {
    // The canaries of the README, and the Argo Rollouts, Flagger and Keptn translations.
    assert!(judge_every_request_in("canaries") >= 8);
    assert!(judge_every_request_in("peers") >= 3);
}

/// Judges every request in a fixture directory, checks its expected verdict and the serde round
/// trips, and returns how many it judged.
fn judge_every_request_in(dir: &str) -> usize {
    let dir = fixture_path(dir);
    let (mut seen, mut effect_intervals) = (0, 0);
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let (policy, metrics, doc) = load_request(&path);
        let j = judge(&policy, &metrics).unwrap();
        let want = verdict_of(doc["expect"].as_str().unwrap());
        assert_eq!(j.verdict, want, "{}:\n{j}", path.display());
        // The interval on the effect's scale holds the effect, and the table shows it.
        for m in &j.metrics {
            if let (Some(e), Some(ci)) = (m.effect, m.effect_interval) {
                assert!(
                    ci.lower <= e && e <= ci.upper,
                    "{}: {}: {ci:?}",
                    path.display(),
                    m.name
                );
                assert_eq!(Some(ci.level), m.interval.map(|i| i.level), "{}", m.name);
                effect_intervals += 1;
            }
        }
        // Serde round trip: the judgment reads back into the same judgment (compared as JSON,
        // since NaN is not equal to itself).
        let text = serde_json::to_string(&j).unwrap();
        let back: Judgment = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        let ptext = serde_json::to_string(&policy).unwrap();
        let pback: CanaryPolicy = serde_json::from_str(&ptext).unwrap();
        assert_eq!(pback, policy);
        seen += 1;
    }
    assert!(
        effect_intervals > seen,
        "{effect_intervals} effect intervals in {seen} requests"
    );
    seen
}

fn t0() -> DateTime<Utc> {
    at(0)
}

#[test]
fn classification_paths() {
    let mut rng = Rng(1);
    let b = lognormal(&mut rng, 80, 100.0, 0.05);
    let same = lognormal(&mut rng, 80, 100.0, 0.05);
    let up: Vec<f64> = lognormal(&mut rng, 80, 100.0, 0.05)
        .iter()
        .map(|v| v * 1.3)
        .collect();
    let up_small: Vec<f64> = lognormal(&mut rng, 80, 100.0, 0.05)
        .iter()
        .map(|v| v * 1.05)
        .collect();
    let down: Vec<f64> = lognormal(&mut rng, 80, 100.0, 0.05)
        .iter()
        .map(|v| v * 0.7)
        .collect();
    let s = |v: &Vec<f64>| Series::samples(v.clone());
    let latency = MetricPolicy::new("latency", Direction::Increase);

    let j = judge_one(latency.clone(), s(&b), s(&same));
    assert_eq!(j.metrics[0].classification, Classification::Pass);
    assert_eq!(j.verdict, Verdict::Promote);

    let j = judge_one(latency.clone(), s(&b), s(&up));
    assert_eq!(j.metrics[0].classification, Classification::High);
    assert!(j.metrics[0].critical_breach);
    assert_eq!(j.verdict, Verdict::Rollback);
    assert!(
        j.metrics[0]
            .reason
            .contains("exceeds the critical limit +5%"),
        "{}",
        j.metrics[0].reason
    );

    // A 5% increase sits on the default tolerance (±5%, decided on the interval's near end):
    // it is not shown beyond it, so it does not fail the metric.
    let j = judge_one(latency.clone(), s(&b), s(&up_small));
    assert_ne!(j.metrics[0].classification, Classification::High, "{j}");
    assert_ne!(j.verdict, Verdict::Rollback, "{j}");
    // With any significant increase allowed to fail and +10% critical, the same 5% increase
    // fails the metric without a critical breach; the only metric scores 0: rollback.
    let strict = MetricPolicy {
        tolerance: Tolerance {
            allowed_increase: 1.0,
            critical_increase: 1.1,
            ..Tolerance::default()
        },
        ..latency.clone()
    };
    let j = judge_one(strict, s(&b), s(&up_small));
    assert_eq!(j.metrics[0].classification, Classification::High, "{j}");
    assert!(!j.metrics[0].critical_breach, "{}", j.metrics[0].reason);
    assert_eq!(j.verdict, Verdict::Rollback); // the only metric: score 0

    // An improvement in the harmless direction passes.
    let j = judge_one(latency.clone(), s(&b), s(&down));
    assert_eq!(j.metrics[0].classification, Classification::Pass);

    let throughput = MetricPolicy::new("rps", Direction::Decrease);
    let j = judge_one(throughput, s(&b), s(&down));
    assert_eq!(j.metrics[0].classification, Classification::Low);

    let either = MetricPolicy::new("x", Direction::Either);
    assert_eq!(
        judge_one(either.clone(), s(&b), s(&down)).metrics[0].classification,
        Classification::Low
    );
    assert_eq!(
        judge_one(either, s(&b), s(&up)).metrics[0].classification,
        Classification::High
    );

    // No data, must-have data, too few points, bad data.
    let j = judge_one(latency.clone(), s(&b), Series::samples([]));
    assert_eq!(j.metrics[0].classification, Classification::NoData);
    assert_eq!(j.verdict, Verdict::Inconclusive);
    let must = MetricPolicy {
        must_have_data: true,
        ..latency.clone()
    };
    let j = judge_one(must, s(&b), Series::samples([]));
    assert_eq!(j.metrics[0].classification, Classification::NoDataFail);
    assert_eq!(j.verdict, Verdict::Rollback);
    let j = judge_one(latency.clone(), s(&b), Series::samples([1.0, 2.0]));
    assert_eq!(j.metrics[0].classification, Classification::Inconclusive);
    assert!(j.metrics[0].reason.contains("at least 5 points"));
    let reject = MetricPolicy {
        nan: NanPolicy::Reject,
        ..latency.clone()
    };
    let mut with_nan = same.clone();
    with_nan[3] = f64::NAN;
    let j = judge_one(reject, s(&b), s(&with_nan));
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert_eq!(
        j.metrics[0].reason,
        "metric latency: canary value: NaN at index 3 (nan policy: reject)"
    );
    // NaN removed by default: judged on the rest.
    let j = judge_one(latency.clone(), s(&b), s(&with_nan));
    assert_eq!(j.metrics[0].classification, Classification::Pass);
    assert_eq!(j.metrics[0].n_canary, 79);

    // Muted: computed and reported, never counted.
    let muted = MetricPolicy {
        muted: true,
        ..latency.clone()
    };
    let other = MetricPolicy::new("other", Direction::Increase);
    let data = [
        MetricData::new(
            "latency",
            Arms {
                baseline: s(&b),
                canary: s(&up),
            },
        ),
        MetricData::new(
            "other",
            Arms {
                baseline: s(&b),
                canary: s(&same),
            },
        ),
    ];
    let j = judge(&CanaryPolicy::new(vec![muted, other]), &data).unwrap();
    assert_eq!(j.metrics[0].classification, Classification::High);
    assert_eq!(j.verdict, Verdict::Promote);
    assert_eq!(j.score, Some(100.0));

    // Absolute and relative bounds are hard limits.
    let bounded = MetricPolicy {
        bounds: Some(Bounds {
            statistic: Statistic::Quantile(0.99),
            min: None,
            max: Some(50.0),
        }),
        ..latency.clone()
    };
    let j = judge_one(bounded, s(&b), s(&same));
    assert_eq!(j.metrics[0].classification, Classification::High);
    assert!(
        j.metrics[0].reason.starts_with("canary p99 "),
        "{}",
        j.metrics[0].reason
    );
    assert_eq!(j.verdict, Verdict::Rollback);
    let relative = MetricPolicy {
        comparator: Comparator::ThresholdsOnly,
        relative_bounds: Some(RelativeBounds {
            statistic: Statistic::Mean,
            max_increase: Some(0.2),
            max_decrease: None,
        }),
        ..latency.clone()
    };
    assert_eq!(
        judge_one(relative.clone(), s(&b), s(&up_small)).verdict,
        Verdict::Promote
    );
    assert_eq!(
        judge_one(relative, s(&b), s(&up)).verdict,
        Verdict::Rollback
    );
}

#[test]
fn one_regressed_metric_is_not_diluted_by_many_healthy_ones() {
    let mut rng = Rng(2);
    let mut metrics = Vec::new();
    let mut data = Vec::new();
    for i in 0..59 {
        let name = format!("m{i}");
        metrics.push(MetricPolicy::new(name.clone(), Direction::Increase));
        data.push(MetricData::new(
            name,
            Arms {
                baseline: Series::samples(lognormal(&mut rng, 60, 50.0, 0.1)),
                canary: Series::samples(lognormal(&mut rng, 60, 50.0, 0.1)),
            },
        ));
    }
    metrics.push(MetricPolicy::new("latency", Direction::Increase));
    data.push(MetricData::new(
        "latency",
        Arms {
            baseline: Series::samples(lognormal(&mut rng, 60, 100.0, 0.1)),
            canary: Series::samples(lognormal(&mut rng, 60, 120.0, 0.1)),
        },
    ));
    let j = judge(&CanaryPolicy::new(metrics), &data).unwrap();
    assert!(j.score.unwrap() > 95.0, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    assert_eq!(j.reasons[0].metric.as_deref(), Some("latency"));
}

#[test]
fn counters_and_pairing() {
    let errors = MetricPolicy::counter("errors", Direction::Increase);
    // Error spike from zero.
    let j = judge_one(
        errors.clone(),
        Series::total(0.0, 50_000.0),
        Series::total(40.0, 50_000.0),
    );
    assert_eq!(j.metrics[0].classification, Classification::High);
    assert_eq!(j.verdict, Verdict::Rollback);
    // Three errors against none at an even split is not evidence either way: no split of
    // three events could be significant (smallest p = 1/8), so the metric could not tell and
    // the canary is not promoted.
    let j = judge_one(
        errors.clone(),
        Series::total(0.0, 1_000.0),
        Series::total(3.0, 1_000.0),
    );
    assert_eq!(
        j.metrics[0].classification,
        Classification::Inconclusive,
        "{j}"
    );
    assert!(
        j.metrics[0].reason.contains("smallest possible p = 0.125"),
        "{j}"
    );
    // Its only metric could not be judged: the canary as a whole is Inconclusive.
    assert_eq!(j.verdict, Verdict::Inconclusive, "{j}");
    // Bad counts are errors that name the metric, arm and field.
    for (events, trials, want) in [
        (
            5.0,
            3.0,
            "metric errors: canary events: 5 events out of 3 trials at index 0",
        ),
        (
            -1.0,
            3.0,
            "metric errors: canary events: -1 at index 0 is not a whole number of at least 0",
        ),
        (
            1.5,
            3.0,
            "metric errors: canary events: 1.5 at index 0 is not a whole number of at least 0",
        ),
    ] {
        let j = judge_one(
            errors.clone(),
            Series::total(1.0, 10.0),
            Series::total(events, trials),
        );
        assert_eq!(j.metrics[0].classification, Classification::Error);
        assert_eq!(j.metrics[0].reason, want);
    }
    // Zero trials: no data.
    let j = judge_one(errors, Series::total(0.0, 0.0), Series::total(0.0, 0.0));
    assert_eq!(j.metrics[0].classification, Classification::NoData);

    // Timestamped arms with the same timestamps are paired: a shared drift cancels.
    let mut rng = Rng(3);
    let times: Vec<DateTime<Utc>> = (0..60).map(|i| t0() + Duration::minutes(i)).collect();
    let drift: Vec<f64> = (0..60)
        .map(|i| 100.0 + 30.0 * (i as f64 / 6.0).sin())
        .collect();
    let b: Vec<(DateTime<Utc>, f64)> = times
        .iter()
        .zip(&drift)
        .map(|(t, d)| (*t, d + rng.normal()))
        .collect();
    let c: Vec<(DateTime<Utc>, f64)> = times
        .iter()
        .zip(&drift)
        .map(|(t, d)| (*t, d * 1.1 + rng.normal()))
        .collect();
    let j = judge_one(
        MetricPolicy::new("cpu", Direction::Increase),
        Series::points(b.clone()),
        Series::points(c),
    );
    assert!(matches!(
        j.metrics[0].details,
        Some(canary_verdict::judgment::TestDetails::SignedRank { .. })
    ));
    assert_eq!(j.metrics[0].classification, Classification::High, "{j}");
    // Duplicate timestamps are an error naming the field.
    let mut dup = b.clone();
    dup[1].0 = dup[0].0;
    let j = judge_one(
        MetricPolicy::new("cpu", Direction::Increase),
        Series::points(dup),
        Series::points(b),
    );
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert!(
        j.metrics[0].reason.contains("baseline timestamp"),
        "{}",
        j.metrics[0].reason
    );
    // The constructors build the documented points.
    assert_eq!(
        Series::points([(t0(), 1.0)]),
        Series::Points(vec![Point {
            timestamp: t0(),
            value: 1.0,
        }])
    );
    assert_eq!(
        Series::counts([(1.0, 2.0)]),
        Series::Counts(vec![CountPoint {
            timestamp: None,
            events: 1.0,
            trials: 2.0,
        }])
    );
    assert_eq!(Series::total(1.0, 2.0), Series::counts([(1.0, 2.0)]));
}

#[test]
fn bad_policies_and_requests_get_errors_that_name_the_field() {
    let m = |name: &str| MetricPolicy::new(name, Direction::Increase);
    let check = |policy: CanaryPolicy, want: &str| {
        let err = policy.validate().unwrap_err();
        assert_eq!(err.to_string(), want);
        assert!(matches!(err, Error::InvalidPolicy { .. }));
    };
    check(
        CanaryPolicy::new(vec![]),
        "policy: metrics: the policy lists no metric",
    );
    check(
        CanaryPolicy::new(vec![m("a"), m("a")]),
        "policy: metric a: name: the name is listed twice",
    );
    check(
        CanaryPolicy::new(vec![MetricPolicy {
            conf_level: 1.5,
            ..m("a")
        }]),
        "policy: metric a: conf_level: 1.5 is not strictly between 0 and 1",
    );
    let mut p = CanaryPolicy::new(vec![m("a")]);
    p.thresholds.marginal = 96.0;
    check(
        p,
        "policy: thresholds: need 0 <= marginal (96) <= pass (95) <= 100",
    );
    let mut p = CanaryPolicy::new(vec![MetricPolicy {
        groups: vec!["g".into()],
        ..m("a")
    }]);
    p.group_weights.insert("g".into(), 60.0);
    check(
        p.clone(),
        "policy: group_weights: the weights add up to 60, not 100 (or 1)",
    );
    p.group_weights.clear();
    p.group_weights.insert("h".into(), 100.0);
    check(
        p,
        "policy: metric g: group_weights: the group has metrics but no weight",
    );
    let mut p = CanaryPolicy::new(vec![m("a")]);
    p.alpha = 0.0;
    check(p, "policy: alpha: 0 is outside [1e-6, 0.5]: a smaller alpha makes no change significant, a larger one rolls back on noise");

    // Unknown fields in a policy are rejected by serde, naming the field.
    let err = serde_json::from_str::<CanaryPolicy>(r#"{"metrics": [], "alpah": 0.05}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `alpah`"), "{err}");

    let policy = CanaryPolicy::new(vec![m("a")]);
    let d = MetricData::new(
        "a",
        Arms {
            baseline: Series::samples([1.0]),
            canary: Series::samples([1.0]),
        },
    );
    let err = judge(&policy, &[d.clone(), d]).unwrap_err();
    assert_eq!(err.to_string(), "metric a: data are given twice");
    let e = MetricData::new(
        "b",
        Arms {
            baseline: Series::samples([1.0]),
            canary: Series::samples([1.0]),
        },
    );
    let err = judge(&policy, &[e]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric b: data are given for a metric the policy does not list"
    );
}

#[test]
fn odd_data_never_panics_and_judges_the_same_twice() {
    let policy = CanaryPolicy::new(vec![
        MetricPolicy::new("a", Direction::Increase),
        MetricPolicy::new("b", Direction::Either),
        MetricPolicy::counter("c", Direction::Increase),
    ]);
    let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
        (vec![], vec![]),
        (vec![1.0], vec![2.0]),
        (vec![5.0; 40], vec![5.0; 40]),
        (vec![f64::NAN; 10], vec![1.0; 10]),
        (vec![f64::INFINITY, 1.0, 2.0, 3.0, 4.0, 5.0], vec![1.0; 6]),
        (vec![1e308; 8], vec![-1e308; 8]),
        (vec![0.0; 8], vec![1.0; 8]),
    ];
    for (b, c) in cases {
        let data = [
            MetricData::new(
                "a",
                Arms {
                    baseline: Series::samples(b.clone()),
                    canary: Series::samples(c.clone()),
                },
            ),
            MetricData::new(
                "b",
                Arms {
                    baseline: Series::samples(c.clone()),
                    canary: Series::samples(b.clone()),
                },
            ),
            MetricData::new(
                "c",
                Arms {
                    baseline: Series::total(1.0, 100.0),
                    canary: Series::total(0.0, 0.0),
                },
            ),
        ];
        let j1 = judge(&policy, &data).unwrap();
        let j2 = judge(&policy, &data).unwrap();
        assert_eq!(
            serde_json::to_string(&j1).unwrap(),
            serde_json::to_string(&j2).unwrap()
        );
        assert!(!j1.to_string().is_empty());
    }
}

#[test]
fn display_is_an_aligned_table() {
    let mut rng = Rng(4);
    let policy = CanaryPolicy::new(vec![
        MetricPolicy::new("latency_ms", Direction::Increase),
        MetricPolicy::counter("errors", Direction::Increase),
    ]);
    let data = [
        MetricData::new(
            "latency_ms",
            Arms {
                baseline: Series::samples(lognormal(&mut rng, 60, 100.0, 0.1)),
                canary: Series::samples(lognormal(&mut rng, 60, 130.0, 0.1)),
            },
        ),
        MetricData::new(
            "errors",
            Arms {
                baseline: Series::total(10.0, 10_000.0),
                canary: Series::total(11.0, 10_000.0),
            },
        ),
    ];
    let text = judge(&policy, &data).unwrap().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("verdict: ROLLBACK  score 50.00"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("  [critical] latency_ms: HIGH: increase +"),
        "{text}"
    );
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("metric"))
        .unwrap();
    let col = lines[header].find("class").unwrap();
    assert_eq!(&lines[header + 1][col..col + 5], "HIGH!");
    assert_eq!(&lines[header + 2][col..col + 4], "PASS");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("  groups: default 50.00 (1/2)"),
        "{text}"
    );
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_views_feed_the_judge() {
    use ndarray::array;
    let b = array![10.0, 11.0, 9.5, 10.2, 10.8, 9.9, 10.1];
    let c = array![13.0, 14.0, 12.5, 13.2, 13.8, 12.9, 13.1];
    let data = [MetricData::new(
        "x",
        Arms {
            baseline: Series::from_view(b.view()),
            canary: Series::from_view(c.view()),
        },
    )];
    let j = judge(
        &CanaryPolicy::new(vec![MetricPolicy::new("x", Direction::Increase)]),
        &data,
    )
    .unwrap();
    assert_eq!(j.metrics[0].classification, Classification::High);
    // A strided (non-contiguous) view is copied, not misread.
    let m = array![[1.0, 100.0], [2.0, 200.0], [3.0, 300.0]];
    let pairs = canary_verdict::stats::TwoSample::per_column(Arms {
        baseline: m.view(),
        canary: m.view(),
    })
    .unwrap();
    assert_eq!(pairs[1].baseline(), &[100.0, 200.0, 300.0]);
}

/// Every public type can cross threads: deploy controllers judge on worker pools.
#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<canary_verdict::Error>();
    check::<CanaryPolicy>();
    check::<MetricPolicy>();
    check::<MetricData>();
    check::<Series>();
    check::<Judgment>();
    check::<canary_verdict::MetricJudgment>();
    check::<canary_verdict::judgment::GroupScore>();
    check::<canary_verdict::Reason>();
    check::<canary_verdict::stats::TwoSample>();
    check::<canary_verdict::stats::PairedSample>();
    check::<canary_verdict::stats::MannWhitney>();
    check::<canary_verdict::stats::HodgesLehmann>();
    check::<canary_verdict::stats::SignedRank>();
    check::<canary_verdict::stats::PairedShift>();
    check::<canary_verdict::stats::EffectSizes>();
    check::<canary_verdict::stats::FisherExact>();
    check::<canary_verdict::stats::BinomialTest>();
    check::<canary_verdict::stats::PoissonRateTest>();
    check::<canary_verdict::stats::ProportionTest>();
    check::<canary_verdict::stats::SrmTest>();
    check::<canary_verdict::stats::Summary>();
    check::<canary_verdict::stats::Fences>();
    check::<canary_verdict::judgment::TestDetails>();
    // Configs, inputs, enums and the remaining results.
    check::<canary_verdict::Arm>();
    check::<canary_verdict::Classification>();
    check::<canary_verdict::Verdict>();
    check::<canary_verdict::Severity>();
    check::<canary_verdict::stats::Alternative>();
    check::<canary_verdict::stats::Method>();
    check::<canary_verdict::stats::MethodUsed>();
    check::<canary_verdict::stats::ConfidenceInterval>();
    check::<canary_verdict::stats::Adjustment>();
    check::<canary_verdict::stats::QuantileType>();
    check::<canary_verdict::Point>();
    check::<canary_verdict::CountPoint>();
    check::<canary_verdict::stats::Proportion>();
    check::<canary_verdict::stats::Exposure>();
    check::<canary_verdict::stats::MannWhitneyConfig>();
    check::<canary_verdict::stats::SignedRankConfig>();
    check::<canary_verdict::policy::Bounds>();
    check::<canary_verdict::policy::RelativeBounds>();
    check::<canary_verdict::policy::Comparator>();
    check::<canary_verdict::Direction>();
    check::<canary_verdict::policy::EffectMeasure>();
    check::<canary_verdict::MetricKind>();
    check::<canary_verdict::policy::NanPolicy>();
    check::<canary_verdict::policy::OutlierPolicy>();
    check::<canary_verdict::policy::ScoreThresholds>();
    check::<canary_verdict::policy::SrmAction>();
    check::<canary_verdict::policy::SrmPolicy>();
    check::<canary_verdict::policy::Statistic>();
    check::<canary_verdict::Tolerance>();
    // Sequential monitors and their configs.
    check::<canary_verdict::sequential::CountEProcess>();
    check::<canary_verdict::sequential::CountEProcessConfig>();
    check::<canary_verdict::sequential::MeanShiftEProcess>();
    check::<canary_verdict::sequential::MeanShiftEProcessConfig>();
    check::<canary_verdict::sequential::SrmEProcess>();
    check::<canary_verdict::sequential::SrmEProcessConfig>();
    check::<canary_verdict::sequential::VaryingSplitEProcess>();
    check::<canary_verdict::sequential::VaryingSplitEProcessConfig>();
    // Kayenta mode.
    check::<canary_verdict::kayenta::KayentaResult>();
    check::<canary_verdict::kayenta::KayentaMetricResult>();
    check::<canary_verdict::kayenta::KayentaGroupScore>();
    check::<canary_verdict::kayenta::KayentaScore>();
    check::<canary_verdict::kayenta::KayentaScoreLabel>();
    check::<canary_verdict::kayenta::KayentaLabel>();
    check::<canary_verdict::kayenta::KayentaDetails>();
    check::<canary_verdict::kayenta::KayentaStats>();
    check::<canary_verdict::kayenta::KayentaMetadata>();
    check::<canary_verdict::kayenta::KayentaResultMetadata>();
}

// ---------- the judge's sample-ratio check (src/judge.rs, srm_check) ----------

/// A healthy latency metric and a muted counter carrying the arms' trials: the SRM check is the
/// only thing that can move the verdict.
fn srm_request(
    srm: Option<canary_verdict::policy::SrmPolicy>,
    canary_trials: f64,
    baseline_trials: f64,
) -> Judgment {
    let mut rng = Rng(0x5a5a);
    let base = lognormal(&mut rng, 200, 100.0, 0.2);
    let requests = MetricPolicy {
        muted: true,
        ..MetricPolicy::counter("requests", Direction::Increase)
    };
    let policy = CanaryPolicy {
        srm,
        ..CanaryPolicy::new(vec![
            MetricPolicy::new("latency_ms", Direction::Increase),
            requests,
        ])
    };
    let data = [
        MetricData::new(
            "latency_ms",
            Arms {
                baseline: Series::samples(base.clone()),
                canary: Series::samples(base),
            },
        ),
        MetricData::new(
            "requests",
            Arms {
                baseline: Series::total(0.0, baseline_trials),
                canary: Series::total(0.0, canary_trials),
            },
        ),
    ];
    judge(&policy, &data).unwrap()
}

fn srm_reasons(j: &Judgment) -> Vec<&canary_verdict::Reason> {
    j.reasons
        .iter()
        .filter(|r| r.message.starts_with("sample ratio mismatch"))
        .collect()
}

#[test]
fn srm_check_outcome_for_every_action() {
    use canary_verdict::{
        policy::{SrmAction, SrmPolicy},
        Severity,
    };
    // Without the check the canary is promoted; 1 000 canary against 9 000 baseline trials on a
    // configured 50/50 split is a mismatch (chi-squared p ~ 0), whatever the metrics say.
    let healthy = srm_request(None, 1000.0, 9000.0);
    assert_eq!(healthy.verdict, Verdict::Promote, "{healthy}");
    assert!(healthy.srm.is_none());
    for (action, verdict, severity) in [
        (SrmAction::Warn, Verdict::Promote, Severity::Info),
        (SrmAction::Marginal, Verdict::Marginal, Severity::Warning),
        (
            SrmAction::Inconclusive,
            Verdict::Inconclusive,
            Severity::Warning,
        ),
        (SrmAction::Rollback, Verdict::Rollback, Severity::Critical),
    ] {
        let srm = SrmPolicy {
            action,
            ..SrmPolicy::default()
        };
        let j = srm_request(Some(srm), 1000.0, 9000.0);
        assert_eq!(j.verdict, verdict, "{action:?}:\n{j}");
        let reasons = srm_reasons(&j);
        assert_eq!(reasons.len(), 1, "{j}");
        assert_eq!(reasons[0].severity, severity);
        assert!(
            reasons[0]
                .message
                .starts_with("sample ratio mismatch: canary 1000 vs baseline 9000 trials"),
            "{}",
            reasons[0].message
        );
        let test = j.srm.as_ref().unwrap();
        assert!(test.p_value < 1e-100, "{test:?}");
        // The same split as configured: no reason, the metrics' verdict.
        let j = srm_request(Some(srm), 5000.0, 5000.0);
        assert!(srm_reasons(&j).is_empty(), "{j}");
        assert_eq!(j.verdict, Verdict::Promote, "{action:?}:\n{j}");
        assert_eq!(j.srm.as_ref().unwrap().p_value, 1.0);
    }
}

#[test]
fn srm_check_tests_the_canary_share_not_the_baseline_share() {
    use canary_verdict::policy::{SrmAction, SrmPolicy};
    let srm = SrmPolicy {
        canary_share: 0.1,
        action: SrmAction::Rollback,
        ..SrmPolicy::default()
    };
    // A 10% canary with 10% of the trials: as configured.
    let j = srm_request(Some(srm), 1000.0, 9000.0);
    assert!(srm_reasons(&j).is_empty(), "{j}");
    assert_eq!(j.verdict, Verdict::Promote, "{j}");
    // The arms the other way round: 90% of the trials on a 10% canary.
    let j = srm_request(Some(srm), 9000.0, 1000.0);
    assert_eq!(srm_reasons(&j).len(), 1, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
}

#[test]
fn srm_check_takes_the_exact_binomial_test_below_1000_trials() {
    use canary_verdict::{
        policy::{SrmAction, SrmPolicy},
        stats::{srm_binomial, srm_chi_squared},
    };
    let srm = SrmPolicy {
        action: SrmAction::Rollback,
        ..SrmPolicy::default()
    };
    // 2 canary against 16 baseline trials on a 50/50 split: the chi-squared p-value (0.00097)
    // is below alpha = 0.001, the exact binomial one (2·172/2^18 = 0.00131) is not. The exact
    // test decides below 1 000 trials: no mismatch.
    let chi = srm_chi_squared(&[2, 16], &[0.5, 0.5]).unwrap().p_value;
    let exact = srm_binomial(
        Arms {
            baseline: 16,
            canary: 2,
        },
        0.5,
    )
    .unwrap()
    .p_value;
    assert!(chi < srm.alpha && exact >= srm.alpha, "{chi} {exact}");
    assert!((exact - 2.0 * 172.0 / 262_144.0).abs() < 1e-15, "{exact}");
    let j = srm_request(Some(srm), 2.0, 16.0);
    assert!(srm_reasons(&j).is_empty(), "{j}");
    assert_ne!(j.verdict, Verdict::Rollback, "{j}");
    // One trial fewer on the canary: the exact test finds the mismatch too, and its p-value is
    // the one reported (2·18/2^17 = 0.000275).
    let exact = srm_binomial(
        Arms {
            baseline: 16,
            canary: 1,
        },
        0.5,
    )
    .unwrap()
    .p_value;
    assert!((exact - 2.0 * 18.0 / 131_072.0).abs() < 1e-15, "{exact}");
    let j = srm_request(Some(srm), 1.0, 16.0);
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    let reasons = srm_reasons(&j);
    assert!(
        reasons[0].message.ends_with("(p = 0.0002747)"),
        "{}",
        reasons[0].message
    );
}

#[test]
fn method_auto_is_exact_only_when_both_arms_are_below_50() {
    // R's wilcox.test: exact when both samples have fewer than 50 points and there are no ties
    // (`exact <- (n.x < 50) && (n.y < 50)`, documented in ?wilcox.test). One small arm is not
    // enough.
    use canary_verdict::stats::{mann_whitney, MannWhitneyConfig, MethodUsed};
    let arm = |n: usize, offset: f64| -> Vec<f64> {
        (0..n)
            .map(|i| offset + i as f64 * 1.001 + 0.0001 * (i * i) as f64)
            .collect()
    };
    let method = |nb: usize, nc: usize| {
        mann_whitney(
            Arms {
                baseline: &arm(nb, 0.0),
                canary: &arm(nc, 0.5),
            },
            &MannWhitneyConfig::default(),
        )
        .unwrap()
        .method
    };
    assert_eq!(method(49, 49), MethodUsed::Exact);
    assert_eq!(method(10, 10), MethodUsed::Exact);
    for (nb, nc) in [(10, 50), (50, 10), (49, 50), (50, 49), (60, 60)] {
        assert_eq!(
            method(nb, nc),
            MethodUsed::Asymptotic,
            "{nb} baseline, {nc} canary"
        );
    }
}

/// The exact test decides up to 999 trials and the chi-squared one from 1 000 on (the reported
/// p-value is the deciding test's), and a p-value equal to alpha is not a mismatch.
#[test]
fn srm_check_switches_tests_at_1000_trials_and_needs_p_below_alpha() {
    use canary_verdict::{
        policy::{SrmAction, SrmPolicy},
        stats::{srm_binomial, srm_chi_squared},
    };
    let srm = SrmPolicy {
        action: SrmAction::Rollback,
        ..SrmPolicy::default()
    };
    let exact = |c: u64, b: u64| {
        srm_binomial(
            Arms {
                baseline: b,
                canary: c,
            },
            0.5,
        )
        .unwrap()
        .p_value
    };
    let chi = |c: u64, b: u64| srm_chi_squared(&[c, b], &[0.5, 0.5]).unwrap().p_value;
    for (c, b) in [(450, 549), (450, 550)] {
        let j = srm_request(Some(srm), c as f64, b as f64);
        assert_ne!(exact(c, b), chi(c, b));
        assert_eq!(j.srm.as_ref().unwrap().p_value, chi(c, b));
        let want = if c + b < 1000 { exact(c, b) } else { chi(c, b) };
        assert_eq!(j.srm_p_value, Some(want), "{c} + {b}");
        // The report shows the deciding p-value (to 4 significant digits).
        let md = j.to_markdown();
        let shown: f64 = md
            .split("Sample-ratio check: p = ")
            .nth(1)
            .and_then(|r| r.split(".\n").next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{md}"));
        assert!((shown - want).abs() < 1e-3 * want, "{shown} {want}");
    }
    // 450 against 550: p = 0.00157. At alpha = p no mismatch; just above it, one.
    let p = chi(450, 550);
    for (alpha, mismatch) in [(p, false), (f64::from_bits(p.to_bits() + 1), true)] {
        let j = srm_request(Some(SrmPolicy { alpha, ..srm }), 450.0, 550.0);
        assert_eq!(srm_reasons(&j).len(), usize::from(mismatch), "{alpha}: {j}");
        assert_eq!(j.verdict == Verdict::Rollback, mismatch, "{j}");
    }
}
