//! Tail aspects through the judge: the reason names the aspect, policies without `tails` judge as
//! before, and seeded simulations of regressions a location test cannot see.
//!
//! Simulations: one latency metric (direction `increase`, per-request samples, 1000 and 2000 per arm),
//! baseline log-normal with median 100 ms and log-sd 0.3; the canary policy's defaults (alpha
//! 0.01, Holm over every test run). The canary's spread doubles (log-sd 0.6, same median) or 3%
//! of its requests take 4x longer. Each scenario runs 200 canaries from seed 0x7a11_5eed.
//! Rates are printed (`cargo test ... -- --nocapture`) and bounded by the assertions.

use crate::common::{judge_one, lognormal, Rng};
use canary_verdict::judgment::*;
use canary_verdict::policy::*;
use canary_verdict::stats::*;
use canary_verdict::Arms;
use canary_verdict::*;

const N: usize = 1000;
const RUNS: usize = 200;

fn tails() -> Vec<TailAspect> {
    vec![
        TailAspect::Quantile {
            p: 0.99,
            tolerance: 0.1,
        },
        TailAspect::Exceedance { q: 0.95 },
        TailAspect::KolmogorovSmirnov,
        TailAspect::AndersonDarling,
    ]
}

fn policy(with_tails: bool) -> CanaryPolicy {
    let mut latency = MetricPolicy::new("latency_ms", Direction::Increase);
    if with_tails {
        latency.tails = tails();
    } else {
        // The location test alone: no default p99 aspect either.
        latency.auto_tails = false;
    }
    CanaryPolicy::new(vec![latency])
}

#[derive(Clone, Copy, Debug)]
enum Scenario {
    Identical,
    SpreadDoubled,
    SlowPath3,
}

fn arm(rng: &mut Rng, scenario: Scenario, canary: bool) -> Vec<f64> {
    arm_n(rng, scenario, canary, N)
}

fn arm_n(rng: &mut Rng, scenario: Scenario, canary: bool, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let z = rng.normal();
            match (scenario, canary) {
                (Scenario::SpreadDoubled, true) => 100.0 * (0.6 * z).exp(),
                (Scenario::SlowPath3, true) => {
                    let base = 100.0 * (0.3 * z).exp();
                    if rng.uniform() < 0.03 {
                        base * 4.0
                    } else {
                        base
                    }
                }
                _ => 100.0 * (0.3 * z).exp(),
            }
        })
        .collect()
}

fn rollback_rate(scenario: Scenario, with_tails: bool) -> f64 {
    rollback_rate_n(scenario, with_tails, N)
}

fn rollback_rate_n(scenario: Scenario, with_tails: bool, n: usize) -> f64 {
    let mut rng = Rng(0x7a11_5eed);
    let policy = policy(with_tails);
    let mut rolled = 0;
    for _ in 0..RUNS {
        let b = arm_n(&mut rng, scenario, false, n);
        let c = arm_n(&mut rng, scenario, true, n);
        let data = [MetricData::new(
            "latency_ms",
            Arms {
                baseline: Series::samples(b),
                canary: Series::samples(c),
            },
        )];
        let j = judge(&policy, &data).expect("valid");
        rolled += usize::from(j.verdict == Verdict::Rollback);
    }
    rolled as f64 / RUNS as f64
}

#[test]
fn tail_regressions_are_rolled_back_and_identical_arms_are_not() {
    let spread = rollback_rate(Scenario::SpreadDoubled, true);
    let slow = rollback_rate(Scenario::SlowPath3, true);
    let aa = rollback_rate(Scenario::Identical, true);
    let spread_loc = rollback_rate(Scenario::SpreadDoubled, false);
    let slow_loc = rollback_rate(Scenario::SlowPath3, false);
    let aa_loc = rollback_rate(Scenario::Identical, false);
    let slow_2000 = rollback_rate_n(Scenario::SlowPath3, true, 2 * N);
    let aa_2000 = rollback_rate_n(Scenario::Identical, true, 2 * N);
    eprintln!(
        "rollback rates over {RUNS} runs, n = {N} per arm: spread doubled {spread} (location only {spread_loc}), \
         3% slow path {slow} (location only {slow_loc}), identical arms {aa} (location only {aa_loc}); \
         n = {}: 3% slow path {slow_2000}, identical arms {aa_2000}",
        2 * N
    );
    assert!(spread >= 0.95, "spread doubled: {spread}");
    // A 3% slow path (4x) moves the p99 and the share above the p95; at 1000 points per arm and
    // alpha = 0.01 it is caught in most runs, at 2000 in nearly all.
    assert!(slow >= 0.85, "3% slow path: {slow}");
    assert!(slow_2000 >= 0.95, "3% slow path, n = 2000: {slow_2000}");
    assert!(aa_2000 <= 0.03, "identical arms, n = 2000: {aa_2000}");
    // alpha = 0.01 family-wise; 200 runs give a binomial sd of 0.7%, so 3% is far above it.
    assert!(aa <= 0.03, "identical arms: {aa}");
    // The location test alone misses the spread change that the tails see.
    assert!(
        spread_loc < 0.5,
        "location only, spread doubled: {spread_loc}"
    );
}

#[test]
fn reason_names_the_regressed_aspect() {
    let mut rng = Rng(42);
    let b = arm(&mut rng, Scenario::Identical, false);
    let c = arm(&mut rng, Scenario::SpreadDoubled, true);
    let data = [MetricData::new(
        "latency_ms",
        Arms {
            baseline: Series::samples(b),
            canary: Series::samples(c),
        },
    )];
    let j = judge(&policy(true), &data).expect("valid");
    assert_eq!(j.verdict, Verdict::Rollback);
    let m = &j.metrics[0];
    eprintln!("{}", m.reason);
    assert_eq!(m.classification, Classification::High);
    assert!(
        m.reason.starts_with("tail regressed: p99 +"),
        "{}",
        m.reason
    );
    assert!(m.reason.contains("location: "), "{}", m.reason);
    assert_eq!(m.tails.len(), 4);
    assert!(m.tails[0].regressed);
    assert!(m.tails.iter().all(|t| t.adjusted_p.is_some()));
    // Serialises and reads back.
    let text = serde_json::to_string(&j).expect("serialise");
    let back: Judgment = serde_json::from_str(&text).expect("parse");
    assert_eq!(back.metrics[0].tails, m.tails);
}

#[test]
fn policies_without_tails_judge_as_before() {
    let mut rng = Rng(7);
    let b = arm(&mut rng, Scenario::Identical, false);
    let c = arm(&mut rng, Scenario::SpreadDoubled, true);
    let data = [MetricData::new(
        "latency_ms",
        Arms {
            baseline: Series::samples(b),
            canary: Series::samples(c),
        },
    )];
    let j = judge(&policy(false), &data).expect("valid");
    assert!(j.metrics[0].tails.is_empty());
    assert!(!j.metrics[0].reason.contains("tail"));
    // A policy written before `tails` existed still parses.
    let p: MetricPolicy =
        serde_json::from_str(r#"{"name": "latency_ms", "direction": "increase"}"#).expect("parse");
    assert!(p.tails.is_empty());
    let p: MetricPolicy = serde_json::from_str(
        r#"{"name": "latency_ms", "tails": [{"quantile": {"p": 0.99, "tolerance": 0.1}}, "kolmogorov_smirnov"]}"#,
    )
    .expect("parse");
    assert_eq!(p.tails.len(), 2);
}

#[test]
fn small_arms_leave_a_tail_quantile_unjudged_with_the_points_needed() {
    let mut rng = Rng(9);
    let b: Vec<f64> = (0..100)
        .map(|_| 100.0 * (0.3 * rng.normal()).exp())
        .collect();
    let c: Vec<f64> = (0..100)
        .map(|_| 100.0 * (0.3 * rng.normal()).exp())
        .collect();
    let data = [MetricData::new(
        "latency_ms",
        Arms {
            baseline: Series::samples(b),
            canary: Series::samples(c),
        },
    )];
    let j = judge(&policy(true), &data).expect("valid");
    let q = &j.metrics[0].tails[0];
    assert_eq!(q.p_value, None);
    assert!(q.summary.contains("needs at least"), "{}", q.summary);
}

#[test]
fn bad_tail_parameters_are_policy_errors() {
    // Probabilities strictly inside (0, 1), a quantile tolerance in [0, 1); each refused just
    // outside (and at NaN), naming its field, and accepted just inside.
    let refused = |aspect: TailAspect| {
        let mut latency = MetricPolicy::new("latency_ms", Direction::Increase);
        latency.tails = vec![aspect];
        match judge(&CanaryPolicy::new(vec![latency]), &[]).unwrap_err() {
            Error::InvalidPolicy { field, .. } => field,
            other => panic!("{aspect:?}: {other}"),
        }
    };
    for v in [0.0, 1.0, 1.5, -0.5, f64::NAN] {
        assert_eq!(
            refused(TailAspect::Exceedance { q: v }),
            "tails.exceedance.q"
        );
        let quantile = TailAspect::Quantile {
            p: v,
            tolerance: 0.1,
        };
        assert_eq!(refused(quantile), "tails.quantile.p");
    }
    for tolerance in [-0.01, 1.0, f64::NAN] {
        let quantile = TailAspect::Quantile { p: 0.99, tolerance };
        assert_eq!(refused(quantile), "tails.quantile.tolerance");
    }
    for aspect in [
        TailAspect::Exceedance { q: 1e-9 },
        TailAspect::Exceedance { q: 1.0 - 1e-9 },
        TailAspect::Quantile {
            p: 1e-9,
            tolerance: 0.0,
        },
        TailAspect::Quantile {
            p: 1.0 - 1e-9,
            tolerance: 0.999,
        },
    ] {
        let mut latency = MetricPolicy::new("latency_ms", Direction::Increase);
        latency.tails = vec![aspect];
        assert_eq!(
            CanaryPolicy::new(vec![latency]).validate(),
            Ok(()),
            "{aspect:?}"
        );
    }
}

#[test]
fn decrease_metrics_look_at_the_lower_tail() {
    let mut rng = Rng(11);
    // Throughput: the canary's slowest 5% collapse.
    let b: Vec<f64> = (0..N).map(|_| 500.0 * (0.1 * rng.normal()).exp()).collect();
    let c: Vec<f64> = (0..N)
        .map(|_| {
            let v = 500.0 * (0.1 * rng.normal()).exp();
            if rng.uniform() < 0.05 {
                v * 0.3
            } else {
                v
            }
        })
        .collect();
    let mut m = MetricPolicy::new("throughput", Direction::Decrease);
    m.tails = vec![TailAspect::Quantile {
        p: 0.99,
        tolerance: 0.1,
    }];
    let data = [MetricData::new(
        "throughput",
        Arms {
            baseline: Series::samples(b),
            canary: Series::samples(c),
        },
    )];
    let j = judge(&CanaryPolicy::new(vec![m]), &data).expect("valid");
    let t = &j.metrics[0].tails[0];
    assert!(t.regressed, "{t}");
    assert!(t.summary.starts_with("p1 -"), "{}", t.summary);
    assert_eq!(j.metrics[0].classification, Classification::Low);
}

/// Share of `runs` canaries drawn by `canary` against a fixed-law baseline whose directional
/// tail aspects (quantile, exceedance, Kolmogorov-Smirnov; Anderson-Darling is two-sided, with
/// a direction read from the p95s) regress, for a metric of the given direction.
fn tail_flag_rate(direction: Direction, runs: usize, canary: impl Fn(&mut Rng) -> f64) -> f64 {
    let mut rng = Rng(0xdec0_5eed);
    let mut m = MetricPolicy::new("throughput", direction);
    m.tails = tails()
        .into_iter()
        .filter(|a| *a != TailAspect::AndersonDarling)
        .collect();
    let policy = CanaryPolicy::new(vec![m]);
    let mut flagged = 0;
    for _ in 0..runs {
        let b: Vec<f64> = (0..500)
            .map(|_| 500.0 * (0.1 * rng.normal()).exp())
            .collect();
        let c: Vec<f64> = (0..500).map(|_| canary(&mut rng)).collect();
        let data = [MetricData::new(
            "throughput",
            Arms {
                baseline: Series::samples(b),
                canary: Series::samples(c),
            },
        )];
        let j = judge(&policy, &data).expect("valid");
        flagged += usize::from(j.metrics[0].tails.iter().any(|t| t.regressed));
    }
    let rate = flagged as f64 / runs as f64;
    eprintln!("{direction:?}: {flagged} of {runs} flagged");
    rate
}

#[test]
fn decrease_tails_are_judged_on_negated_samples() {
    // `decrease` tails run on the arms negated: identical laws are flagged at most at the
    // family's alpha (0.01; over 100 runs P(6 or more) < 1e-3 even at the full alpha, where
    // un-negated arms flagged 42 of 100), a heavier upper tail (harmless for throughput) is not
    // flagged, and the collapse of the lower tail is.
    let same = |rng: &mut Rng| 500.0 * (0.1 * rng.normal()).exp();
    let identical = tail_flag_rate(Direction::Decrease, 100, same);
    assert!(identical <= 0.05, "identical arms flagged: {identical}");
    let faster = |rng: &mut Rng| {
        let v = 500.0 * (0.1 * rng.normal()).exp();
        if rng.uniform() < 0.1 {
            v * 3.0
        } else {
            v
        }
    };
    let upper = tail_flag_rate(Direction::Decrease, 20, faster);
    assert_eq!(upper, 0.0, "a heavier upper tail flagged for decrease");
    let collapse = |rng: &mut Rng| {
        let v = 500.0 * (0.1 * rng.normal()).exp();
        if rng.uniform() < 0.1 {
            v * 0.3
        } else {
            v
        }
    };
    // 10% of the canary at 0.3x (or 3x) is seen in every run at 500 points per arm (20 of 20
    // for 20 seeds checked once; with a power of 0.99, P(fewer than 18 of 20) = 0.001).
    assert!(tail_flag_rate(Direction::Decrease, 20, collapse) >= 0.9);
    // `increase` is the other way round; `either` flags the upper one (its quantile aspects
    // look at the upper tail; a lower collapse is left to Kolmogorov-Smirnov).
    assert_eq!(tail_flag_rate(Direction::Increase, 20, collapse), 0.0);
    assert!(tail_flag_rate(Direction::Increase, 20, faster) >= 0.9);
    assert!(tail_flag_rate(Direction::Either, 20, faster) >= 0.9);
    assert!(tail_flag_rate(Direction::Either, 100, same) <= 0.05);
}

#[test]
fn tail_p_values_are_part_of_the_multiple_testing_family() {
    // Bonferroni over one metric with two tail aspects: three tests share the metric's alpha, so
    // each adjusted p-value is three times its raw one (at most 1). Without the tails in the
    // family the location test would keep its raw p-value.
    let mut rng = Rng(5);
    let b: Vec<f64> = (0..400)
        .map(|_| 100.0 * (0.3 * rng.normal()).exp())
        .collect();
    let c: Vec<f64> = (0..400)
        .map(|_| 103.0 * (0.3 * rng.normal()).exp())
        .collect();
    let mut m = MetricPolicy::new("latency_ms", Direction::Increase);
    m.tails = vec![
        TailAspect::Quantile {
            p: 0.9,
            tolerance: 0.0,
        },
        TailAspect::KolmogorovSmirnov,
    ];
    let policy = CanaryPolicy {
        adjustment: Adjustment::Bonferroni,
        ..CanaryPolicy::new(vec![m])
    };
    let data = [MetricData::new(
        "latency_ms",
        Arms {
            baseline: Series::samples(b),
            canary: Series::samples(c),
        },
    )];
    let j = judge(&policy, &data).unwrap();
    let mj = &j.metrics[0];
    let p = mj.p_value.unwrap();
    assert!(p < 1.0 / 3.0, "the check needs p < 1/3: {p}");
    let three = |p: f64| (3.0 * p).min(1.0);
    assert!(
        (mj.adjusted_p.unwrap() - three(p)).abs() <= 1e-15 * three(p),
        "location: p {p}, adjusted {:?}",
        mj.adjusted_p
    );
    assert_eq!(mj.tails.len(), 2);
    for t in &mj.tails {
        let raw = t.p_value.unwrap();
        let adj = t.adjusted_p.unwrap();
        assert!(
            (adj - three(raw)).abs() <= 1e-15 * three(raw),
            "{t}: {raw} -> {adj}"
        );
    }
}

/// The first tail aspect's result for one metric of `direction` with `aspects`, judged alone.
fn first_tail(
    direction: Direction,
    aspects: Vec<TailAspect>,
    baseline: &[f64],
    canary: &[f64],
) -> TailResult {
    let mut m = MetricPolicy::new("m", direction);
    m.tails = aspects;
    let j = judge_one(
        m,
        Series::samples(baseline.to_vec()),
        Series::samples(canary.to_vec()),
    );
    j.metrics[0].tails[0].clone()
}

/// The tails' alternative follows the direction: an `either` metric's Kolmogorov-Smirnov aspect
/// is the two-sided test and an `increase` one the one-sided "greater" test, each exactly the
/// `stats` function's p-value on the same arms (a canary shifted down, so the two differ).
#[test]
fn either_tails_are_two_sided_and_increase_tails_one_sided() {
    let mut rng = Rng(17);
    let b = lognormal(&mut rng, 300, 100.0, 0.2);
    let c = lognormal(&mut rng, 300, 93.0, 0.2);
    let mut seen = Vec::new();
    for (direction, alternative) in [
        (Direction::Either, Alternative::TwoSided),
        (Direction::Increase, Alternative::Greater),
    ] {
        let t = first_tail(direction, vec![TailAspect::KolmogorovSmirnov], &b, &c);
        let expected = ks_2samp(
            Arms {
                baseline: &b,
                canary: &c,
            },
            alternative,
            Method::Auto,
        )
        .unwrap()
        .p_value;
        assert_eq!(t.p_value, Some(expected), "{direction:?}");
        seen.push(expected);
    }
    // The lower canary is significant two-sided and nowhere near it one-sided.
    assert!(seen[0] < 1e-3 && seen[1] > 0.5, "{seen:?}");
}

/// A `decrease` metric's quantile tolerance is a drop: with a 10% tolerance on its p1, a canary
/// whose values are all 5% lower stays within it, and one 25% lower is beyond it; the report
/// names the lower quantile and shows the values in the metric's own (positive) units.
#[test]
fn decrease_quantile_tolerance_is_a_drop_of_the_lower_tail() {
    let mut rng = Rng(23);
    let b = lognormal(&mut rng, 4000, 500.0, 0.05);
    let judged = |scale: f64| {
        let c: Vec<f64> = b.iter().map(|v| v * scale).collect();
        let p1 = TailAspect::Quantile {
            p: 0.99,
            tolerance: 0.1,
        };
        first_tail(Direction::Decrease, vec![p1], &b, &c)
    };
    let within = judged(0.95);
    assert!(!within.regressed, "{within}");
    assert!(within.p_value.is_some_and(|p| p > 0.5), "{within}");
    let beyond = judged(0.75);
    assert!(beyond.regressed, "{beyond}");
    assert!(beyond.summary.starts_with("p1 -"), "{}", beyond.summary);
}

/// A `decrease` metric's exceedance aspect reports the share of points below the pooled lower
/// quantile, with that threshold in the metric's own units (the test runs on negated values).
#[test]
fn decrease_exceedance_reports_a_positive_threshold_below() {
    let mut rng = Rng(29);
    let b = lognormal(&mut rng, 1000, 500.0, 0.1);
    let c = lognormal(&mut rng, 1000, 500.0, 0.1);
    let t = first_tail(
        Direction::Decrease,
        vec![TailAspect::Exceedance { q: 0.95 }],
        &b,
        &c,
    );
    let summary = &t.summary;
    let after = summary
        .split("points below ")
        .nth(1)
        .unwrap_or_else(|| panic!("{summary}"));
    let threshold: f64 = after
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    // The pooled 5th percentile of values around 500 with a 10% spread: near 425, positive.
    assert!((380.0..470.0).contains(&threshold), "{summary}");
    assert!(summary.contains("(pooled p5)"), "{summary}");
}

/// A quantile aspect's p-value is one-sided, but the interval it reports is two-sided: both
/// ends finite and around the observed change.
#[test]
fn quantile_aspect_reports_a_two_sided_interval() {
    let mut rng = Rng(31);
    let b = lognormal(&mut rng, 2000, 100.0, 0.2);
    let c = lognormal(&mut rng, 2000, 120.0, 0.2);
    let p90 = TailAspect::Quantile {
        p: 0.9,
        tolerance: 0.05,
    };
    let t = first_tail(Direction::Increase, vec![p90], &b, &c);
    let summary = &t.summary;
    let inside = summary
        .split('[')
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or_else(|| panic!("{summary}"));
    let ends: Vec<f64> = inside
        .split(", ")
        .map(|e| e.trim_end_matches('%').parse().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(ends.len(), 2, "{summary}");
    assert!(
        ends.iter().all(|e| e.is_finite()) && ends[0] < 20.0 && 20.0 < ends[1] && ends[1] < 40.0,
        "{summary}"
    );
}

/// Whether a quantile aspect's change points towards harm: never for identical arms or for a
/// lower canary of an `increase` metric; always for `either`, whose lower canary regresses.
#[test]
fn quantile_aspect_harm_follows_the_direction() {
    let mut rng = Rng(37);
    let b = lognormal(&mut rng, 2000, 100.0, 0.2);
    let lower: Vec<f64> = b.iter().map(|v| v * 0.7).collect();
    let aspect = |direction: Direction, canary: &[f64]| {
        let p90 = TailAspect::Quantile {
            p: 0.9,
            tolerance: 0.05,
        };
        first_tail(direction, vec![p90], &b, canary)
    };
    let same = aspect(Direction::Increase, &b);
    assert!(!same.harmful && !same.regressed, "{same}");
    let better = aspect(Direction::Increase, &lower);
    assert!(!better.harmful && !better.regressed, "{better}");
    let either = aspect(Direction::Either, &lower);
    assert!(either.harmful && either.regressed, "{either}");
}
