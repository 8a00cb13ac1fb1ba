//! Kayenta compatibility: config import, the NetflixACAJudge rules and scoring, the result JSON.

use canary_verdict::Arms;
use canary_verdict::{
    judge,
    kayenta::{
        data_from_kayenta, judge_kayenta, policy_from_kayenta, policy_from_kayenta_strict,
        round_half_up_2, KayentaLabel, KayentaResult, KayentaScoreLabel,
    },
    policy::{EffectMeasure, NanPolicy, OutlierPolicy, ScoreThresholds},
    stats::{hodges_lehmann, Alternative, Fences, MannWhitneyConfig, Method, TwoSample},
    CanaryPolicy, Direction, Error, MetricData, MetricPolicy, Series, Verdict,
};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::common::fixture_path;

const T: ScoreThresholds = ScoreThresholds {
    pass: 75.0,
    marginal: 50.0,
};

fn base() -> Vec<f64> {
    (0..60).map(|i| 100.0 + (i % 12) as f64).collect()
}

fn scaled(f: f64) -> Vec<f64> {
    base().iter().map(|v| v * f).collect()
}

fn data(name: &str, baseline: Vec<f64>, canary: Vec<f64>) -> MetricData {
    MetricData::new(
        name,
        Arms {
            baseline: Series::samples(baseline),
            canary: Series::samples(canary),
        },
    )
}

fn metric(name: &str, direction: Direction, groups: &[&str]) -> MetricPolicy {
    let mut m = MetricPolicy::kayenta(name, direction);
    m.groups = groups.iter().map(|g| g.to_string()).collect();
    m
}

fn policy(metrics: Vec<MetricPolicy>) -> CanaryPolicy {
    let mut p = CanaryPolicy::new(metrics);
    p.thresholds = T;
    p
}

fn one(m: MetricPolicy, baseline: Vec<f64>, canary: Vec<f64>) -> KayentaResult {
    let name = m.name.clone();
    judge_kayenta(&policy(vec![m]), &[data(&name, baseline, canary)]).unwrap()
}

fn label(m: MetricPolicy, baseline: Vec<f64>, canary: Vec<f64>) -> KayentaLabel {
    one(m, baseline, canary).results[0].classification
}

/// Data that gets each label with a default metric in direction `either`.
fn pass_data() -> (Vec<f64>, Vec<f64>) {
    (base(), base())
}
fn high_data() -> (Vec<f64>, Vec<f64>) {
    (base(), scaled(1.3))
}
fn low_data() -> (Vec<f64>, Vec<f64>) {
    (base(), scaled(0.7))
}

fn import_err(json: &str) -> String {
    policy_from_kayenta(json, T).unwrap_err().to_string()
}

// ---------- labels ----------

#[test]
fn labels_high_low_pass() {
    let (b, c) = high_data();
    assert_eq!(
        label(metric("m", Direction::Either, &[]), b, c),
        KayentaLabel::High
    );
    let (b, c) = low_data();
    assert_eq!(
        label(metric("m", Direction::Either, &[]), b, c),
        KayentaLabel::Low
    );
    let (b, c) = pass_data();
    let r = one(metric("m", Direction::Either, &[]), b, c);
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
    assert_eq!(
        r.results[0].classification_reason,
        "The Canary and Baseline data are identical"
    );
    assert_eq!(r.results[0].result_metadata.ratio, 1.0);
}

#[test]
fn direction_gates_the_label() {
    let (b, c) = low_data();
    assert_eq!(
        label(metric("m", Direction::Increase, &[]), b, c),
        KayentaLabel::Pass
    );
    let (b, c) = high_data();
    assert_eq!(
        label(metric("m", Direction::Decrease, &[]), b, c),
        KayentaLabel::Pass
    );
    let (b, c) = high_data();
    assert_eq!(
        label(metric("m", Direction::Increase, &[]), b, c),
        KayentaLabel::High
    );
}

#[test]
fn label_names_serialize_as_kayenta_writes_them() {
    for (l, s) in [
        (KayentaLabel::Pass, "Pass"),
        (KayentaLabel::High, "High"),
        (KayentaLabel::Low, "Low"),
        (KayentaLabel::Nodata, "Nodata"),
        (KayentaLabel::NodataFailMetric, "NodataFailMetric"),
        (KayentaLabel::Error, "Error"),
    ] {
        assert_eq!(serde_json::to_value(l).unwrap(), Value::String(s.into()));
        assert_eq!(l.to_string(), s);
    }
}

// ---------- the 0.25 rule ----------

#[test]
fn significant_shift_inside_quarter_of_estimate_passes() {
    // A 9-unit shift of a sample spread over 60 units: the 98% interval excludes 0 (significant)
    // but its lower end does not clear 0.25 * |HL|.
    let b: Vec<f64> = (0..60).map(f64::from).collect();
    let c: Vec<f64> = b.iter().map(|v| v + 9.0).collect();
    let r = one(metric("m", Direction::Increase, &[]), b, c);
    let d = r.results[0].details.unwrap();
    assert!(d.interval.lower > 0.0, "{d:?}");
    assert!(d.interval.lower < d.margin, "{d:?}");
    assert_eq!(d.margin, 0.25 * d.estimate.abs());
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
    // A larger shift clears the margin.
    let b: Vec<f64> = (0..60).map(f64::from).collect();
    let c: Vec<f64> = b.iter().map(|v| v + 20.0).collect();
    let r = one(metric("m", Direction::Increase, &[]), b, c);
    let d = r.results[0].details.unwrap();
    assert!(d.interval.lower > d.margin, "{d:?}");
    assert_eq!(r.results[0].classification, KayentaLabel::High);
}

#[test]
fn kayenta_interval_is_the_98_percent_corrected_asymptotic_one() {
    // Kayenta's comparison is R's `wilcox.test(conf.level = 0.98, correct = TRUE, exact = FALSE)`
    // whatever the sample size: 20 points per arm would get the exact test by default, and a
    // 95% interval is narrower. Both change the interval here, so both are pinned (the
    // correction and the alternative are the defaults).
    let b: Vec<f64> = (0..20).map(|i| f64::from(i * 37 % 101)).collect();
    let c: Vec<f64> = (0..20).map(|i| f64::from(i * 53 % 97) + 20.5).collect();
    let d = one(metric("m", Direction::Either, &[]), b.clone(), c.clone()).results[0]
        .details
        .unwrap();
    let arms = Arms {
        baseline: &b[..],
        canary: &c[..],
    };
    let kayenta = MannWhitneyConfig {
        conf_level: 0.98,
        correct: true,
        method: Method::Asymptotic,
        alternative: Alternative::TwoSided,
        ..Default::default()
    };
    let hl = hodges_lehmann(arms, &kayenta).unwrap();
    assert_eq!(d.interval, hl.interval);
    assert_eq!(d.estimate, hl.estimate);
    for other in [
        MannWhitneyConfig {
            conf_level: 0.95,
            ..kayenta
        },
        MannWhitneyConfig {
            method: Method::Auto,
            ..kayenta
        },
    ] {
        let o = hodges_lehmann(arms, &other).unwrap();
        assert_ne!(o.interval, hl.interval, "{other:?} gives the same interval");
    }
}

#[test]
fn zero_inflated_shift_of_spinnaker_6278_passes_as_in_kayenta() {
    // exp = 7 x 100, 3 x 1; ctrl = 10 x 1: Kayenta reports CI [6.8e-05, 99], estimate 99, Pass.
    let ctrl = vec![1.0; 10];
    let mut exp = vec![100.0; 7];
    exp.extend([1.0; 3]);
    let r = one(metric("m", Direction::Increase, &[]), ctrl.clone(), exp);
    let d = r.results[0].details.unwrap();
    assert_eq!(d.estimate, 99.0);
    assert_eq!(d.interval.upper, 99.0);
    assert!(d.interval.lower.abs() < 1e-4, "{d:?}");
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
    assert!((r.results[0].result_metadata.ratio - 70.3).abs() < 1e-12);
    // One more point at 100 flips it to High.
    let mut exp = vec![100.0; 8];
    exp.extend([1.0; 2]);
    assert_eq!(
        label(metric("m", Direction::Increase, &[]), ctrl, exp),
        KayentaLabel::High
    );
}

#[test]
fn low_needs_the_upper_end_below_minus_a_quarter_of_the_estimate() {
    // The mirror of the High rule: Low when `upper < -0.25·|HL|`. A 9-unit drop is significant
    // (the interval's upper end is below 0) but does not clear the margin on the negative side.
    let b: Vec<f64> = (0..60).map(f64::from).collect();
    let c: Vec<f64> = b.iter().map(|v| v - 9.0).collect();
    let r = one(metric("m", Direction::Decrease, &[]), b.clone(), c);
    let d = r.results[0].details.unwrap();
    assert!(d.interval.upper < 0.0, "{d:?}");
    assert!(d.interval.upper > -d.margin, "{d:?}");
    assert_eq!(d.margin, 0.25 * d.estimate.abs());
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
    // A 20-unit drop clears it: Low, for `decrease` and for `either`, never for `increase`.
    let c: Vec<f64> = b.iter().map(|v| v - 20.0).collect();
    let r = one(metric("m", Direction::Decrease, &[]), b.clone(), c.clone());
    let d = r.results[0].details.unwrap();
    assert!(d.interval.upper < -d.margin, "{d:?}");
    assert_eq!(r.results[0].classification, KayentaLabel::Low);
    assert_eq!(
        label(metric("m", Direction::Either, &[]), b.clone(), c.clone()),
        KayentaLabel::Low
    );
    assert_eq!(
        label(metric("m", Direction::Increase, &[]), b, c),
        KayentaLabel::Pass
    );
}

// ---------- effect sizes ----------

#[test]
fn mean_ratio_limits_veto_high_and_low() {
    let (b, c) = high_data(); // mean ratio 1.3
    let mut m = metric("m", Direction::Either, &[]);
    m.tolerance.allowed_increase = 1.35;
    assert_eq!(label(m.clone(), b.clone(), c.clone()), KayentaLabel::Pass);
    m.tolerance.allowed_increase = 1.3;
    assert_eq!(label(m, b, c), KayentaLabel::High);
    let (b, c) = low_data(); // mean ratio 0.7
    let mut m = metric("m", Direction::Either, &[]);
    m.tolerance.allowed_decrease = 0.65;
    assert_eq!(label(m.clone(), b.clone(), c.clone()), KayentaLabel::Pass);
    m.tolerance.allowed_decrease = 0.7;
    assert_eq!(label(m, b, c), KayentaLabel::Low);
}

#[test]
fn undefined_mean_ratio_does_not_veto() {
    // Baseline mean 0: the ratio is NaN, the effect gate is skipped, and the ratio is "NaN".
    let b = vec![0.0; 30];
    let c: Vec<f64> = (0..30).map(|i| 1.0 + f64::from(i % 5)).collect();
    let mut m = metric("m", Direction::Increase, &[]);
    m.tolerance.allowed_increase = 100.0;
    let r = one(m, b, c);
    assert_eq!(r.results[0].classification, KayentaLabel::High);
    assert!(r.results[0].result_metadata.ratio.is_nan());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["results"][0]["resultMetadata"]["ratio"], "NaN");
}

#[test]
fn cles_measure_with_ratio_still_reported() {
    let b: Vec<f64> = (0..60).map(f64::from).collect();
    let c: Vec<f64> = b.iter().map(|v| v + 25.0).collect();
    let cles = TwoSample::new(Arms {
        baseline: &b,
        canary: &c,
    })
    .unwrap()
    .cles();
    assert!(cles > 0.7 && cles < 0.9, "{cles}");
    let mut m = metric("m", Direction::Increase, &[]);
    m.tolerance = canary_verdict::Tolerance::kayenta(EffectMeasure::Cles);
    let r = one(m.clone(), b.clone(), c.clone());
    assert_eq!(r.results[0].classification, KayentaLabel::High);
    assert_eq!(r.results[0].details.unwrap().effect, cles);
    assert!((r.results[0].result_metadata.ratio - 54.5 / 29.5).abs() < 1e-12);
    // The reason names the effect it printed: CLES here, the mean ratio by default.
    let reason = &r.results[0].classification_reason;
    assert!(reason.starts_with("High: 98% interval ["), "{reason}");
    assert!(
        reason.contains(", CLES 0.") && !reason.contains("mean ratio"),
        "{reason}"
    );
    let r = one(metric("m", Direction::Increase, &[]), b.clone(), c.clone());
    let reason = &r.results[0].classification_reason;
    assert!(
        reason.contains(", mean ratio 1.8") && !reason.contains("CLES"),
        "{reason}"
    );
    m.tolerance.allowed_increase = 0.95;
    assert_eq!(label(m, b, c), KayentaLabel::Pass);
}

// ---------- critical ----------

#[test]
fn critical_escalation_needs_the_critical_limit() {
    let (b, c) = high_data(); // ratio 1.3
    let mut m = metric("m", Direction::Increase, &["g"]);
    m.critical = true;
    m.tolerance.critical_increase = 1.5;
    let mut other = metric("ok", Direction::Increase, &["g"]);
    other.critical = false;
    let p = policy(vec![m.clone(), other.clone()]);
    let d = [data("m", b.clone(), c.clone()), data("ok", base(), base())];
    let r = judge_kayenta(&p, &d).unwrap();
    assert_eq!(r.results[0].classification, KayentaLabel::High);
    assert!(!r.results[0].critical);
    assert_eq!(r.score.score, 50.0);
    assert_eq!(r.score.classification, KayentaScoreLabel::Marginal);
    // Past the critical limit: critical, score 0, Kayenta's reason prefix.
    m.tolerance.critical_increase = 1.2;
    let r = judge_kayenta(&policy(vec![m, other]), &d).unwrap();
    assert!(r.results[0].critical);
    assert_eq!(r.score.score, 0.0);
    assert_eq!(r.score.classification, KayentaScoreLabel::Fail);
    assert!(r
        .score
        .classification_reason
        .starts_with("Canary Failed: High past the critical limit"));
    assert_eq!(r.verdict(), Verdict::Rollback);
}

#[test]
fn critical_escalation_of_a_low_needs_the_critical_decrease() {
    // The mirror of the High rule: a Low is critical when the effect is at or below
    // `critical_decrease`, or when there is no effect to compare (a zero mean makes the ratio NaN).
    let (b, c) = low_data(); // ratio 0.7
    let mut m = metric("m", Direction::Decrease, &[]);
    m.critical = true;
    m.tolerance.critical_decrease = 0.5;
    let r = one(m.clone(), b.clone(), c.clone());
    assert_eq!(r.results[0].classification, KayentaLabel::Low);
    assert!(!r.results[0].critical);
    assert!(r.results[0]
        .classification_reason
        .starts_with("Low: 98% interval"));
    for limit in [0.7, 0.8] {
        m.tolerance.critical_decrease = limit;
        let r = one(m.clone(), b.clone(), c.clone());
        assert!(r.results[0].critical, "limit {limit}");
        assert!(r.results[0]
            .classification_reason
            .starts_with("Low past the critical limit: 98% interval"));
        assert_eq!(r.verdict(), Verdict::Rollback);
    }
    // Baseline mean 0: no ratio, so a significant drop past the margin is critical.
    m.tolerance.critical_decrease = 0.5;
    let r = one(m, vec![0.0; 20], vec![-5.0; 20]);
    assert!(r.results[0].result_metadata.ratio.is_nan());
    assert_eq!(r.results[0].classification, KayentaLabel::Low);
    assert!(r.results[0].critical);
}

#[test]
fn an_interval_end_exactly_on_the_margin_does_not_clear_it() {
    // Against a baseline of zeros the differences are the canary's values: 40 at 1 and 60 at 4
    // (10 x 10 pairs) put the estimate at 4, so the margin is 0.25 * 4 = 1, and the 98%
    // interval's lower end at 1. Kayenta's rule is strict (`lower > margin`): Pass.
    let mut c = vec![1.0; 4];
    c.extend([4.0; 6]);
    let r = one(
        metric("m", Direction::Either, &[]),
        vec![0.0; 10],
        c.clone(),
    );
    let d = r.results[0].details.unwrap();
    assert_eq!((d.interval.lower, d.estimate, d.margin), (1.0, 4.0, 1.0));
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
    // Mirrored: the upper end exactly at minus the margin is not Low either.
    let neg: Vec<f64> = c.iter().map(|v| -v).collect();
    let r = one(metric("m", Direction::Either, &[]), vec![0.0; 10], neg);
    let d = r.results[0].details.unwrap();
    assert_eq!((d.interval.upper, d.estimate, d.margin), (-1.0, -4.0, 1.0));
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
    // A little more canary mass at 4 moves the end past it.
    let mut c = vec![1.0; 2];
    c.extend([4.0; 8]);
    assert_eq!(
        label(metric("m", Direction::Either, &[]), vec![0.0; 10], c),
        KayentaLabel::High
    );
}

#[test]
fn critical_error_does_not_fail_the_canary() {
    let mut m = metric("m", Direction::Increase, &["g"]);
    m.critical = true;
    let p = policy(vec![m, metric("ok", Direction::Increase, &["g"])]);
    let d = [
        data("m", vec![1.0, f64::INFINITY], vec![1.0, 2.0]),
        data("ok", base(), base()),
    ];
    let r = judge_kayenta(&p, &d).unwrap();
    assert_eq!(r.results[0].classification, KayentaLabel::Error);
    assert!(r.results[0]
        .classification_reason
        .starts_with("Metric Classification Failed"));
    assert!(!r.results[0].critical);
    // Error is not counted in the group: the group is 1/1 = 100.
    assert_eq!(r.score.score, 100.0);
}

// ---------- no data ----------

#[test]
fn no_data_rules() {
    let with_nan = vec![f64::NAN; 10];
    // Plain metric: Nodata, not critical.
    let r = one(
        metric("m", Direction::Increase, &[]),
        base(),
        with_nan.clone(),
    );
    assert_eq!(r.results[0].classification, KayentaLabel::Nodata);
    assert_eq!(r.results[0].classification_reason, "Missing data for m");
    assert!(!r.results[0].critical);
    assert_eq!(r.results[0].result_metadata.ratio, 1.0);
    assert_eq!(r.results[0].experiment_metadata.stats.count, 0);
    // mustHaveData, not critical: NodataFailMetric.
    let mut m = metric("m", Direction::Increase, &[]);
    m.must_have_data = true;
    let r = one(m.clone(), base(), with_nan.clone());
    assert_eq!(r.results[0].classification, KayentaLabel::NodataFailMetric);
    assert!(!r.results[0].critical);
    // mustHaveData and critical: Nodata, critical: the canary fails.
    m.critical = true;
    let r = one(m, base(), with_nan.clone());
    assert_eq!(r.results[0].classification, KayentaLabel::Nodata);
    assert!(r.results[0].critical);
    assert_eq!(r.score.score, 0.0);
    assert_eq!(
        r.score.classification_reason,
        "Canary Failed: Missing data for m"
    );
    // Critical without data given at all: the same.
    let mut m = metric("m", Direction::Increase, &[]);
    m.critical = true;
    let r = judge_kayenta(&policy(vec![m]), &[]).unwrap();
    assert_eq!(r.results[0].classification, KayentaLabel::Nodata);
    assert_eq!(r.score.score, 0.0);
}

#[test]
fn replace_strategy_passes_empty_arms_and_zeroes_nan() {
    let mut m = metric("m", Direction::Increase, &[]);
    m.nan = NanPolicy::Replace(0.0);
    m.must_have_data = true;
    assert_eq!(label(m.clone(), base(), Vec::new()), KayentaLabel::Pass);
    // All-NaN becomes all zeros: a real comparison (a drop to 0, direction increase: Pass;
    // direction either: Low).
    let r = one(m.clone(), base(), vec![f64::NAN; 60]);
    assert_eq!(r.results[0].experiment_metadata.stats.count, 60);
    assert!(r.results[0].details.is_some());
    m.direction = Direction::Either;
    assert_eq!(label(m, base(), vec![f64::NAN; 60]), KayentaLabel::Low);
}

#[test]
fn nodata_share_and_nodata_groups() {
    // 2 Pass in group A + 1 Nodata in group B: 33% Nodata, B counts as 100 -> 100.
    let p = policy(vec![
        metric("a1", Direction::Either, &["A"]),
        metric("a2", Direction::Either, &["A"]),
        metric("b", Direction::Either, &["B"]),
    ]);
    let d = [
        data("a1", base(), base()),
        data("a2", base(), base()),
        data("b", base(), Vec::new()),
    ];
    let r = judge_kayenta(&p, &d).unwrap();
    assert_eq!(r.score.score, 100.0);
    let b = r.group("B").unwrap();
    assert_eq!(b.score, 0.0);
    assert!(b.no_data);
    assert_eq!(b.classification, "");
    // Single group, only Nodata: the 50% rule gives 0.
    let p = policy(vec![metric("b", Direction::Either, &["B"])]);
    let r = judge_kayenta(&p, &[data("b", Vec::new(), base())]).unwrap();
    assert_eq!(r.score.score, 0.0);
    assert_eq!(
        r.score.classification_reason,
        "Canary Failed: 50% or more metrics returned NODATA"
    );
    // Exactly half Nodata fails too.
    let p = policy(vec![
        metric("a", Direction::Either, &["A"]),
        metric("b", Direction::Either, &["A"]),
    ]);
    let r = judge_kayenta(&p, &[data("a", base(), base())]).unwrap();
    assert_eq!(r.score.score, 0.0);
}

// ---------- scoring ----------

/// (metric, group, (baseline, canary)).
type Case<'a> = (&'a str, &'a str, (Vec<f64>, Vec<f64>));

fn scored(labels: &[Case<'_>], weights: &[(&str, f64)]) -> KayentaResult {
    let mut p = policy(
        labels
            .iter()
            .map(|(n, g, _)| metric(n, Direction::Either, &[g]))
            .collect(),
    );
    p.group_weights = weights.iter().map(|(g, w)| (g.to_string(), *w)).collect();
    let d: Vec<MetricData> = labels
        .iter()
        .map(|(n, _, (b, c))| data(n, b.clone(), c.clone()))
        .collect();
    judge_kayenta(&p, &d).unwrap()
}

#[test]
fn scorer_suite_examples() {
    let r = scored(&[("p", "g", pass_data()), ("h", "g", high_data())], &[]);
    assert_eq!(r.score.score, 50.0);
    let r = scored(
        &[
            ("p", "g", pass_data()),
            ("h", "g", high_data()),
            ("l", "g", low_data()),
        ],
        &[],
    );
    assert_eq!(r.score.score, 33.33);
    assert_eq!(r.group("g").unwrap().score, 100.0 / 3.0);
    let r = scored(
        &[("p", "g1", pass_data()), ("h", "g2", high_data())],
        &[("g1", 75.0), ("g2", 25.0)],
    );
    assert_eq!(r.score.score, 75.0);
    assert_eq!(r.score.classification, KayentaScoreLabel::Pass);
    let r = scored(
        &[
            ("p", "g", pass_data()),
            ("h1", "g", high_data()),
            ("h2", "g", high_data()),
        ],
        &[],
    );
    assert_eq!(r.score.score, 33.33);
    // 2 of 3 pass: 66.666... rounds half up to 66.67.
    let r = scored(
        &[
            ("p1", "g", pass_data()),
            ("p2", "g", pass_data()),
            ("h", "g", high_data()),
        ],
        &[],
    );
    assert_eq!(r.score.score, 66.67);
    assert_eq!(r.score.classification, KayentaScoreLabel::Marginal);
}

#[test]
fn rounding_is_half_up_on_the_decimal_representation() {
    assert_eq!(round_half_up_2(0.125), 0.13);
    assert_eq!(round_half_up_2(2.675), 2.68); // (2.675 * 100).round() / 100 gives 2.67
    assert_eq!(round_half_up_2(1.005), 1.01);
    assert_eq!(round_half_up_2(33.335), 33.34);
    assert_eq!(round_half_up_2(33.334999), 33.33);
    assert_eq!(round_half_up_2(-0.125), -0.13);
    assert_eq!(round_half_up_2(100.0), 100.0);
    assert_eq!(round_half_up_2(99.995), 100.0);
    assert_eq!(round_half_up_2(1e300), 1e300);
    assert_eq!(round_half_up_2(-1e300), -1e300);
    assert_eq!(
        round_half_up_2(4_503_599_627_370_497.0),
        4_503_599_627_370_497.0
    );
    assert_eq!(
        round_half_up_2(2_251_799_813_685_248.5),
        2_251_799_813_685_248.5
    );
    assert_eq!(round_half_up_2(1e-7), 0.0);
    assert!(round_half_up_2(f64::NAN).is_nan());
    assert_eq!(round_half_up_2(f64::INFINITY), f64::INFINITY);
}

#[test]
fn group_weights_follow_kayenta() {
    // Unweighted groups share 100 - sum(weights): b and c get 20 each.
    let r = scored(
        &[
            ("a", "a", pass_data()),
            ("b", "b", high_data()),
            ("c", "c", pass_data()),
        ],
        &[("a", 60.0)],
    );
    assert_eq!(r.score.score, 80.0);
    // A weight for a group without results is lost.
    let r = scored(&[("a", "a", pass_data())], &[("a", 50.0), ("z", 50.0)]);
    assert_eq!(r.score.score, 50.0);
    // Weights are not validated: totals above 100 give scores above 100.
    let r = scored(&[("a", "a", pass_data())], &[("a", 150.0)]);
    assert_eq!(r.score.score, 150.0);
}

#[test]
fn metric_in_two_groups_counts_in_each_and_ungrouped_in_none() {
    let mut p = policy(vec![
        metric("both", Direction::Either, &["x", "y"]),
        metric("x_only", Direction::Either, &["x"]),
        metric("loose", Direction::Either, &[]),
    ]);
    p.group_weights = BTreeMap::from([("x".to_string(), 50.0), ("y".to_string(), 50.0)]);
    let (hb, hc) = high_data();
    let d = [
        data("both", hb.clone(), hc.clone()),
        data("x_only", base(), base()),
        data("loose", hb, hc),
    ];
    let r = judge_kayenta(&p, &d).unwrap();
    assert_eq!(r.group("x").unwrap().score, 50.0);
    assert_eq!(r.group("y").unwrap().score, 0.0);
    assert_eq!(r.score.score, 25.0);
    assert_eq!(r.results[2].classification, KayentaLabel::High);
}

#[test]
fn muted_metrics_are_reported_not_scored() {
    let mut m = metric("m", Direction::Either, &["g"]);
    m.muted = true;
    m.critical = true;
    m.tolerance.critical_increase = 1.0;
    let p = policy(vec![m, metric("ok", Direction::Either, &["g"])]);
    let (b, c) = high_data();
    let r = judge_kayenta(&p, &[data("m", b, c), data("ok", base(), base())]).unwrap();
    assert_eq!(r.results[0].classification, KayentaLabel::High);
    assert!(r.results[0].critical && r.results[0].muted);
    assert_eq!(r.score.score, 100.0);
}

// ---------- outliers ----------

#[test]
fn outliers_removed_with_widened_fences() {
    let mut b = base();
    b[10] = 1e6;
    let mut c = base();
    c[3] = -1e6;
    let keep = one(metric("m", Direction::Either, &[]), b.clone(), c.clone());
    assert_eq!(keep.results[0].control_metadata.stats.count, 60);
    assert_eq!(keep.results[0].control_metadata.stats.max, 1e6);
    let mut m = metric("m", Direction::Either, &[]);
    m.outliers = OutlierPolicy::RemoveIqrWidened { factor: 3.0 };
    let r = one(m, b.clone(), c.clone());
    let (cs, es) = (
        r.results[0].control_metadata.stats,
        r.results[0].experiment_metadata.stats,
    );
    assert_eq!((cs.count, es.count), (59, 59));
    assert_eq!(cs.max, 111.0);
    assert_eq!(es.min, 100.0);
    // Exactly what Fences::widened keeps.
    let mut kept = b.clone();
    Fences::widened(&b, 3.0).unwrap().retain(&mut kept);
    assert_eq!(kept.len(), 59);
    // The widened fences never cut inside [P1, P99]: a sample with a mild tail keeps it.
    let tail: Vec<f64> = (0..100).map(|i| if i < 98 { 10.0 } else { 10.5 }).collect();
    let mut m = metric("m", Direction::Either, &[]);
    m.outliers = OutlierPolicy::RemoveIqrWidened { factor: 3.0 };
    let r = one(m, tail.clone(), tail);
    assert_eq!(r.results[0].control_metadata.stats.count, 100);
}

// ---------- determinism and errors ----------

#[test]
fn constant_arms_are_judged_without_jitter() {
    let m = metric("m", Direction::Either, &[]);
    let r1 = one(m.clone(), vec![0.0; 20], vec![5.0; 20]);
    let r2 = one(m, vec![0.0; 20], vec![5.0; 20]);
    assert_eq!(format!("{r1:?}"), format!("{r2:?}")); // NaN ratio: compare the debug text
    let d = r1.results[0].details.unwrap();
    assert_eq!(
        (d.interval.lower, d.estimate, d.interval.upper),
        (5.0, 5.0, 5.0)
    );
    assert_eq!(r1.results[0].classification, KayentaLabel::High);
    // One value across both arms (different lengths): Pass.
    let r = one(
        metric("m", Direction::Either, &[]),
        vec![3.0; 5],
        vec![3.0; 8],
    );
    assert_eq!(r.results[0].classification, KayentaLabel::Pass);
}

#[test]
fn counter_series_and_infinities_are_errors() {
    let p = policy(vec![metric("errors", Direction::Increase, &["g"])]);
    let d = [MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(3.0, 1000.0),
            canary: Series::total(9.0, 1000.0),
        },
    )];
    let r = judge_kayenta(&p, &d).unwrap();
    assert_eq!(r.results[0].classification, KayentaLabel::Error);
    assert_eq!(r.score.score, 100.0); // an all-Error group counts as no data: 100
}

#[test]
fn judge_errors_name_the_field() {
    let p = policy(vec![MetricPolicy::new("m", Direction::Increase)]);
    let e = judge_kayenta(&p, &[]).unwrap_err();
    assert!(
        matches!(e, Error::KayentaConfig { ref field, .. } if field == "metrics[0].tolerance.measure"),
        "{e}"
    );
    let p = policy(vec![metric("m", Direction::Increase, &[])]);
    let e = judge_kayenta(&p, &[data("other", base(), base())]).unwrap_err();
    assert!(matches!(e, Error::DataMismatch { .. }), "{e}");
    let e = judge_kayenta(&p, &[data("m", base(), base()), data("m", base(), base())]).unwrap_err();
    assert!(matches!(e, Error::DataMismatch { .. }), "{e}");
}

// ---------- config import ----------

#[test]
fn import_defaults_match_kayenta() {
    let p = policy_from_kayenta(r#"{"metrics":[{"name":"cpu"}]}"#, T).unwrap();
    let m = &p.metrics[0];
    assert_eq!(m.direction, Direction::Either);
    assert_eq!(m.nan, NanPolicy::Remove);
    assert_eq!(m.outliers, OutlierPolicy::Keep);
    assert_eq!(
        m.tolerance,
        canary_verdict::Tolerance::kayenta(EffectMeasure::MeanRatio)
    );
    assert_eq!(m.tolerance.allowed_increase, 1.0);
    assert!(!m.critical && !m.must_have_data && !m.muted);
    assert!(m.groups.is_empty());
    assert_eq!(m.conf_level, 0.98);
    assert_eq!(p.thresholds, T);
    // CLES defaults to 0.5 limits; "none" strategies are remove / keep; factor defaults to 3.
    let p = policy_from_kayenta(
        r#"{"metrics":[{"name":"cpu","analysisConfigurations":{"canary":{
            "nanStrategy":"none","effectSize":{"measure":"cles","allowedIncrease":0.6},
            "outliers":{"strategy":"remove"}}}}]}"#,
        T,
    )
    .unwrap();
    let m = &p.metrics[0];
    assert_eq!(m.tolerance.measure, EffectMeasure::Cles);
    assert_eq!(
        (
            m.tolerance.allowed_increase,
            m.tolerance.allowed_decrease,
            m.tolerance.critical_increase
        ),
        (0.6, 0.5, 0.5)
    );
    assert_eq!(m.outliers, OutlierPolicy::RemoveIqrWidened { factor: 3.0 });
    // Integers are accepted where numbers are expected; replace means 0.
    let p = policy_from_kayenta(
        r#"{"metrics":[{"name":"cpu","analysisConfigurations":{"canary":{
            "nanStrategy":"replace","outliers":{"strategy":"remove","outlierFactor":2}}}}],
            "classifier":{"groupWeights":{"g":100}}}"#,
        T,
    )
    .unwrap();
    assert_eq!(p.metrics[0].nan, NanPolicy::Replace(0.0));
    assert_eq!(
        p.metrics[0].outliers,
        OutlierPolicy::RemoveIqrWidened { factor: 2.0 }
    );
    assert_eq!(p.group_weights["g"], 100.0);
}

#[test]
fn unknown_strings_fall_back_as_kayenta_or_fail_when_strict() {
    let json = r#"{"metrics":[{"name":"cpu","analysisConfigurations":{"canary":{
        "direction":"up","nanStrategy":"drop","effectSize":{"measure":"cohensD"},
        "outliers":{"strategy":"trim"}}}}]}"#;
    let p = policy_from_kayenta(json, T).unwrap();
    let m = &p.metrics[0];
    assert_eq!(m.direction, Direction::Either);
    assert_eq!(m.nan, NanPolicy::Remove);
    assert_eq!(m.tolerance.measure, EffectMeasure::MeanRatio);
    assert_eq!(m.tolerance.allowed_increase, 1.0);
    assert_eq!(m.outliers, OutlierPolicy::Keep);
    assert_eq!(
        policy_from_kayenta_strict(json, T).unwrap_err().to_string(),
        "kayenta config: metrics[0].analysisConfigurations.canary.direction: \"up\" is not one of increase, decrease, either"
    );
    let measure_only = r#"{"metrics":[{"name":"cpu","analysisConfigurations":{"canary":{
        "effectSize":{"measure":"cohensD"}}}}]}"#;
    assert_eq!(
        policy_from_kayenta_strict(measure_only, T).unwrap_err().to_string(),
        "kayenta config: metrics[0].analysisConfigurations.canary.effectSize.measure: \"cohensD\" is not one of meanRatio, cles"
    );
}

#[test]
fn import_errors_name_the_field() {
    assert_eq!(
        import_err(r#"{"metrics":[{"name":"cpu","analysisConfigurations":{"canary":{"critical":"true"}}}]}"#),
        "kayenta config: metrics[0].analysisConfigurations.canary.critical: \"true\" is not a JSON boolean (Kayenta fails with a ClassCastException)"
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"name":"a"},{"name":"b","analysisConfigurations":{"canary":{"effectSize":{"allowedIncrease":"1.1"}}}}]}"#),
        "kayenta config: metrics[1].analysisConfigurations.canary.effectSize.allowedIncrease: \"1.1\" is not a number"
    );
    assert_eq!(
        import_err(r#"{"name":"x"}"#),
        "kayenta config: metrics: is missing"
    );
    assert_eq!(
        import_err(r#"{"metrics":[]}"#),
        "kayenta config: metrics: lists no metric"
    );
    assert_eq!(
        import_err(r#"{"metrics":{}}"#),
        "kayenta config: metrics: is not an array"
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"groups":[]}]}"#),
        "kayenta config: metrics[0].name: is missing"
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"name":"a"},{"name":"a"}]}"#),
        "kayenta config: metrics[1].name: \"a\" repeats an earlier metric's name (Kayenta would judge both pairs with the first config)"
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"name":"a","groups":["g",3]}]}"#),
        "kayenta config: metrics[0].groups[1]: 3 is not a string"
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"name":"a"}],"classifier":{"groupWeights":{"g":"50"}}}"#),
        "kayenta config: classifier.groupWeights.g: \"50\" is not a number"
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"name":"a","analysisConfigurations":{"canary":{"outliers":{"strategy":"remove","outlierFactor":-1}}}}]}"#),
        "kayenta config: metrics[0].analysisConfigurations.canary.outliers.outlierFactor: -1 must be >= 0"
    );
    // An outlier factor of 0 is allowed (the quartiles themselves are the fences).
    let p = policy_from_kayenta(
        r#"{"metrics":[{"name":"a","analysisConfigurations":{"canary":{"outliers":{"strategy":"remove","outlierFactor":0}}}}]}"#,
        T,
    )
    .unwrap();
    assert_eq!(
        p.metrics[0].outliers,
        OutlierPolicy::RemoveIqrWidened { factor: 0.0 }
    );
    assert_eq!(
        import_err(r#"{"metrics":[{"name":""}]}"#),
        "kayenta config: metrics[0].name: is empty"
    );
    assert_eq!(
        import_err(r#"{"judge":{"name":"dredd-v1.0"},"metrics":[{"name":"a"}]}"#),
        "kayenta config: judge.name: \"dredd-v1.0\" is not \"NetflixACAJudge-v1.0\", the only judge reproduced"
    );
    assert_eq!(
        import_err(
            r#"{"metrics":[{"name":"a","analysisConfigurations":{"canary":{"direction":1}}}]}"#
        ),
        "kayenta config: metrics[0].analysisConfigurations.canary.direction: 1 is not a string"
    );
    assert!(import_err("{not json").starts_with("kayenta config: (document): "));
    assert_eq!(
        import_err("[1]"),
        "kayenta config: (document): is not a JSON object"
    );
    let nan = ScoreThresholds {
        pass: f64::NAN,
        marginal: 50.0,
    };
    let e = policy_from_kayenta(r#"{"metrics":[{"name":"a"}]}"#, nan).unwrap_err();
    assert!(matches!(e, Error::KayentaConfig { ref field, .. } if field == "thresholds"));
}

#[test]
fn metric_set_pairs_import() {
    let d = data_from_kayenta(
        r#"[{"name":"a","values":{"control":[1,null,"NaN"],"experiment":[2.5]}}]"#,
    )
    .unwrap();
    let Series::Samples(b) = &d[0].baseline else {
        panic!("samples")
    };
    assert_eq!(b.len(), 3);
    assert!(b[1].is_nan() && b[2].is_nan());
    assert_eq!(
        data_from_kayenta(r#"[{"name":"a","values":{"control":[1,"x"]}}]"#)
            .unwrap_err()
            .to_string(),
        "kayenta config: [0].values.control[1]: \"x\" is not a number"
    );
    assert_eq!(
        data_from_kayenta(r#"[{"values":{}}]"#)
            .unwrap_err()
            .to_string(),
        "kayenta config: [0].name: is missing or not a string"
    );
}

// ---------- the fixture ----------

fn fixture() -> (CanaryPolicy, Vec<MetricData>) {
    let read = |f: &str| std::fs::read_to_string(fixture_path(&format!("kayenta/{f}"))).unwrap();
    let policy = policy_from_kayenta(&read("config.json"), T).unwrap();
    let data = data_from_kayenta(&read("data.json")).unwrap();
    (policy, data)
}

#[test]
fn fixture_imports_and_judges() {
    let (policy, data) = fixture();
    assert_eq!(policy.metrics.len(), 6);
    let r = judge_kayenta(&policy, &data).unwrap();
    let labels: Vec<(&str, KayentaLabel)> = r
        .results
        .iter()
        .map(|m| (m.name.as_str(), m.classification))
        .collect();
    assert_eq!(
        labels,
        [
            ("latency_p50", KayentaLabel::High),
            ("latency_p99", KayentaLabel::Pass),
            ("error_rate", KayentaLabel::Pass),
            ("http_5xx", KayentaLabel::NodataFailMetric),
            ("cpu", KayentaLabel::Pass),
            ("memory", KayentaLabel::High),
        ]
    );
    assert!(r.results.iter().all(|m| !m.critical));
    // Outliers removed from latency_p99. The baseline has two spikes (4500, 8000) in 60 points:
    // its P99 (about 5935) lies above the lower spike, so the widened fence keeps it and only
    // 8000 goes; the canary's one spike lies above its P99 and goes.
    let p99 = r.metric("latency_p99").unwrap();
    assert_eq!(p99.control_metadata.stats.count, 59);
    assert_eq!(p99.control_metadata.stats.max, 4500.0);
    assert_eq!(p99.experiment_metadata.stats.count, 59);
    // Gaps in error_rate replaced by zeros.
    assert_eq!(
        r.metric("error_rate").unwrap().control_metadata.stats.count,
        60
    );
    let groups: Vec<(&str, f64)> = r
        .group_scores
        .iter()
        .map(|g| (g.name.as_str(), g.score))
        .collect();
    assert_eq!(
        groups,
        [("errors", 50.0), ("latency", 50.0), ("resources", 100.0)]
    );
    // 0.5 * 50 + 0.3 * 50 + 0.2 * 100
    assert_eq!(r.score.score, 60.0);
    assert_eq!(r.score.classification, KayentaScoreLabel::Marginal);
    assert_eq!(r.verdict(), Verdict::Marginal);
    // Kayenta's JSON shape.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["judgeName"], "NetflixACAJudge-v1.0");
    let first = &json["results"][0];
    for key in [
        "name",
        "tags",
        "groups",
        "classification",
        "classificationReason",
        "critical",
        "muted",
        "experimentMetadata",
        "controlMetadata",
        "resultMetadata",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert!(first.get("details").is_none());
    assert_eq!(first["classification"], "High");
    assert_eq!(first["groups"][0], "latency");
    for key in ["min", "max", "mean", "std", "count"] {
        assert!(
            first["controlMetadata"]["stats"].get(key).is_some(),
            "missing {key}"
        );
    }
    assert_eq!(json["results"][3]["classification"], "NodataFailMetric");
    assert_eq!(json["groupScores"][0]["name"], "errors");
    assert_eq!(json["groupScores"][0]["classification"], "");
    assert_eq!(json["score"]["score"], 60.0);
    assert_eq!(json["score"]["classification"], "Marginal");
    assert_eq!(json["score"]["classificationReason"], "");
    // Round trip (the skipped details come back empty).
    let back: KayentaResult = serde_json::from_value(json).unwrap();
    assert_eq!(back.score, r.score);
    assert_eq!(back.results[0].classification, KayentaLabel::High);
    // Deterministic.
    let again = judge_kayenta(&policy, &data).unwrap();
    assert_eq!(format!("{again:?}"), format!("{r:?}"));
}

#[test]
fn fixture_result_prints_a_table() {
    let (policy, data) = fixture();
    let text = judge_kayenta(&policy, &data).unwrap().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "NetflixACAJudge-v1.0: score 60.00, Marginal");
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        ["metric", "label", "groups", "ratio", "interval", "estimate", "margin"]
    );
    // Columns line up: every row starts its label where the header does.
    let at = lines[1].find("label").unwrap();
    for (row, label) in
        lines[2..8]
            .iter()
            .zip(["High", "Pass", "Pass", "NodataFailMetric", "Pass", "(High)"])
    {
        assert_eq!(&row[at..at + label.len()], label, "{row}");
    }
    assert!(lines[5].starts_with("  http_5xx"), "{}", lines[5]);
    assert!(lines[5].ends_with('-'), "no comparison ran: {}", lines[5]);
    assert!(text.contains("\n  http_5xx: Missing data for http_5xx\n"));
    assert!(
        !text.contains("latency_p99: "),
        "Pass reasons are not listed"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"  groups: errors 50.00, latency 50.00, resources 100.00"
    );
}

#[test]
fn critical_failure_prints_its_override() {
    let mut m = metric("m", Direction::Increase, &["g"]);
    m.critical = true;
    let (b, c) = high_data();
    let text = one(m, b, c).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "NetflixACAJudge-v1.0: score 0.00, Fail");
    assert!(lines[1].starts_with("  Canary Failed: High past the critical limit"));
    assert!(lines[3].contains(" High! "), "{}", lines[3]);
}

#[test]
fn fixture_policy_also_runs_in_the_default_judge() {
    let (policy, data) = fixture();
    policy.validate().unwrap();
    let j = judge(&policy, &data).unwrap();
    // The crate's judge fails latency_p50 (+25%, past its allowed +10%) and http_5xx (no data,
    // must have data) too, so the canary is not promoted there either: Marginal, the decision
    // `.ci/examples` expects of `examples/kayenta` on this fixture.
    assert_eq!(j.verdict, Verdict::Marginal, "{j}");
    assert_eq!(j.metrics.len(), 6);
}

// ---------- no panics, bounded scores ----------

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -5.0f64..5.0,
            2 => (0i32..4).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ]
    }

    fn arm() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(value(), 0..25)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn judge_never_panics_and_scores_stay_in_range(
            arms in prop::collection::vec((arm(), arm()), 1..5),
            flags in prop::collection::vec((0u8..3, any::<bool>(), any::<bool>(), any::<bool>(), 0u8..3), 5),
            groups in prop::collection::vec(0u8..3, 5),
        ) {
            let mut metrics = Vec::new();
            let mut data_sets = Vec::new();
            for (i, (b, c)) in arms.into_iter().enumerate() {
                let (dir, critical, must, muted, opt) = flags[i];
                let direction = [Direction::Increase, Direction::Decrease, Direction::Either][dir as usize];
                let g = format!("g{}", groups[i]);
                let mut m = metric(&format!("m{i}"), direction, &[g.as_str()]);
                m.critical = critical;
                m.must_have_data = must;
                m.muted = muted;
                match opt {
                    1 => m.nan = NanPolicy::Replace(0.0),
                    2 => m.outliers = OutlierPolicy::RemoveIqrWidened { factor: 3.0 },
                    _ => {}
                }
                metrics.push(m);
                data_sets.push(data(&format!("m{i}"), b, c));
            }
            let p = policy(metrics);
            let r = judge_kayenta(&p, &data_sets).unwrap();
            prop_assert!((0.0..=100.0).contains(&r.score.score), "{:?}", r.score);
            prop_assert_eq!(r.score.score, round_half_up_2(r.score.score));
            let again = judge_kayenta(&p, &data_sets).unwrap();
            prop_assert_eq!(format!("{again:?}"), format!("{r:?}"));
            // Kayenta's JSON round-trips the score and every label.
            let back: KayentaResult =
                serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            prop_assert_eq!(&back.score, &r.score);
            let labels = |r: &KayentaResult| -> Vec<KayentaLabel> {
                r.results.iter().map(|m| m.classification).collect()
            };
            prop_assert_eq!(labels(&back), labels(&r));
        }

        #[test]
        fn import_never_panics(text in ".{0,200}") {
            // Text that is not a config (or pair list) is refused with an error naming the
            // JSON field; a config that imports validates.
            match policy_from_kayenta(&text, T) {
                Ok(p) => prop_assert_eq!(p.validate(), Ok(())),
                Err(e) => prop_assert!(matches!(e, Error::KayentaConfig { .. }), "{e:?}"),
            }
            if let Err(e) = data_from_kayenta(&text) {
                prop_assert!(matches!(e, Error::KayentaConfig { .. }), "{e:?}");
            }
        }
    }
}

// ---------- documented differences from the crate's default judge ----------

#[test]
fn default_judge_flags_what_kayenta_passes_and_counts_errors() {
    // spinnaker#6278: Kayenta passes a 70x zero-inflated increase; the default judge rolls back.
    let ctrl = vec![1.0; 10];
    let mut exp = vec![100.0; 7];
    exp.extend([1.0; 3]);
    let k = one(
        metric("m", Direction::Increase, &["g"]),
        ctrl.clone(),
        exp.clone(),
    );
    assert_eq!(k.results[0].classification, KayentaLabel::Pass);
    // The default judge finds the increase significant; with 10 points per arm the median
    // shift's interval reaches down to 0 (three canary points equal the baseline), so it cannot
    // show the shift beyond the 5% tolerance: "could not tell", never a promotion. With any
    // significant increase failing the metric (`allowed_increase` 1), it rolls back.
    let p = CanaryPolicy::new(vec![MetricPolicy::new("m", Direction::Increase)]);
    let j = judge(&p, &[data("m", ctrl.clone(), exp.clone())]).unwrap();
    assert!(j.metrics[0].adjusted_p.unwrap() < p.alpha, "{j}");
    assert_ne!(j.verdict, Verdict::Promote, "{j}");
    let strict = MetricPolicy {
        tolerance: canary_verdict::Tolerance {
            allowed_increase: 1.0,
            critical_increase: 1.0,
            ..Default::default()
        },
        ..MetricPolicy::new("m", Direction::Increase)
    };
    let j = judge(&CanaryPolicy::new(vec![strict]), &[data("m", ctrl, exp)]).unwrap();
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    // An unjudgeable metric: left out by Kayenta (score 100), a failure for the default judge.
    let d = [
        data("bad", vec![1.0, f64::INFINITY, 2.0, 3.0, 4.0], base()),
        data("ok", base(), base()),
    ];
    let k = judge_kayenta(
        &policy(vec![
            metric("bad", Direction::Increase, &["g"]),
            metric("ok", Direction::Increase, &["g"]),
        ]),
        &d,
    )
    .unwrap();
    assert_eq!(k.score.score, 100.0);
    let p = CanaryPolicy::new(vec![
        MetricPolicy::new("bad", Direction::Increase),
        MetricPolicy::new("ok", Direction::Increase),
    ]);
    let j = judge(&p, &d).unwrap();
    assert_eq!(j.score, Some(50.0));
}

#[test]
fn no_groups_are_scored_as_one_group() {
    // Without any group, Kayenta's weighted sum is over nothing: 0, a rollback whatever the data.
    // Here every unmuted metric is scored in the group "default".
    let base: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 12)).collect();
    let worse: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
    let policy = |names: &[&str]| CanaryPolicy {
        thresholds: T,
        ..CanaryPolicy::new(
            names
                .iter()
                .map(|n| MetricPolicy::kayenta(*n, Direction::Increase))
                .collect(),
        )
    };
    let same = |n: &str| {
        MetricData::new(
            n,
            Arms {
                baseline: Series::samples(base.clone()),
                canary: Series::samples(base.clone()),
            },
        )
    };
    let r = judge_kayenta(&policy(&["a", "b"]), &[same("a"), same("b")]).unwrap();
    assert_eq!(r.score.score, 100.0);
    assert_eq!(r.score.classification, KayentaScoreLabel::Pass);
    assert_eq!(r.group_scores.len(), 1);
    assert_eq!(r.group_scores[0].name, "default");
    let slower = MetricData::new(
        "b",
        Arms {
            baseline: Series::samples(base.clone()),
            canary: Series::samples(worse),
        },
    );
    let r = judge_kayenta(&policy(&["a", "b"]), &[same("a"), slower]).unwrap();
    assert_eq!(r.score.score, 50.0);
    // One grouped metric: Kayenta's rule again (the ungrouped one affects no group score).
    let mut grouped = policy(&["a", "b"]);
    grouped.metrics[0].groups = vec!["g".into(), "g".into()];
    let slower = MetricData::new(
        "b",
        Arms {
            baseline: Series::samples(base.clone()),
            canary: Series::samples(base.iter().map(|v| v * 1.3).collect::<Vec<f64>>()),
        },
    );
    let r = judge_kayenta(&grouped, &[same("a"), slower]).unwrap();
    assert_eq!(r.score.score, 100.0, "{r}");
    assert_eq!(r.group_scores.len(), 1);
    assert_eq!(r.group_scores[0].name, "g");
}

#[test]
fn control_characters_in_names_are_escaped_in_the_table() {
    // A metric name with a newline could forge a line of Kayenta's table or its reasons.
    let name = "latency\n  forged: Pass\u{1b}[2J";
    let r = one(
        metric(name, Direction::Increase, &["g"]),
        base(),
        scaled(1.3),
    );
    assert_eq!(r.results[0].classification, KayentaLabel::High);
    let text = r.to_string();
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains(r"latency\n  forged: Pass\u{1b}[2J"), "{text}");
    // Score line, table header, one row, one reason (High), groups: five lines.
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(!text.lines().any(|l| l.starts_with("  forged")), "{text}");
    assert_eq!(r.results[0].name, name);
}

/// `MetricPolicy::kayenta` carries Kayenta's settings, so a policy built from them and judged by
/// the crate's own `judge` still runs Kayenta's comparison: the rank-sum test at 98%, no minimum
/// sample size, NaN removed, outliers kept, mean-ratio limits of 1.
#[test]
fn kayenta_metric_policy_carries_kayentas_comparison() {
    use canary_verdict::policy::Comparator;
    let m = MetricPolicy::kayenta("cpu", Direction::Either);
    assert_eq!(m.comparator, Comparator::RankSum);
    assert_eq!(m.conf_level, 0.98);
    assert_eq!(m.min_samples, 1);
    assert_eq!(m.nan, NanPolicy::Remove);
    assert_eq!(m.outliers, OutlierPolicy::Keep);
    assert_eq!(m.tolerance.measure, EffectMeasure::MeanRatio);
    assert_eq!(
        (m.tolerance.allowed_increase, m.tolerance.allowed_decrease),
        (1.0, 1.0)
    );
    assert!(m.groups.is_empty());
    assert_eq!(m.direction, Direction::Either);
}

/// Kayenta's mode refuses an outlier factor that is not a finite number >= 0 and thresholds
/// either of which is not finite, naming the field; a factor of 0 is accepted.
#[test]
fn judge_kayenta_refuses_non_finite_settings_naming_the_field() {
    let field_of = |p: &CanaryPolicy| match judge_kayenta(p, &[data("m", base(), base())]) {
        Err(Error::KayentaConfig { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    for factor in [f64::NAN, -1.0, f64::INFINITY] {
        for outliers in [
            OutlierPolicy::RemoveIqr { factor },
            OutlierPolicy::RemoveIqrWidened { factor },
        ] {
            let mut m = metric("m", Direction::Increase, &[]);
            m.outliers = outliers;
            let f = field_of(&policy(vec![m]));
            assert!(f.ends_with("outliers.factor"), "{factor}: {f}");
        }
    }
    let mut m = metric("m", Direction::Increase, &[]);
    m.outliers = OutlierPolicy::RemoveIqr { factor: 0.0 };
    assert!(judge_kayenta(&policy(vec![m]), &[data("m", base(), base())]).is_ok());
    for thresholds in [
        ScoreThresholds {
            pass: f64::NAN,
            marginal: 50.0,
        },
        ScoreThresholds {
            pass: 75.0,
            marginal: f64::INFINITY,
        },
    ] {
        let mut p = policy(vec![metric("m", Direction::Increase, &[])]);
        p.thresholds = thresholds;
        assert_eq!(field_of(&p), "thresholds");
    }
}
