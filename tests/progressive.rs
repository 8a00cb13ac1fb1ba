//! Progressive analysis: the sequential rule (its alpha per metric, its spending, its sides,
//! must-have metrics, silence, early promotion and the validity of its safety tests, seeded
//! simulations of its counters), each Kayenta / Argo / Flagger rule, warm-up and lifetime,
//! properties (identical arms never roll back, a resumed analysis decides as an uninterrupted
//! one), bad configurations and tampered saved state.
//!
//! The README's simulation table comes from `tests/progressive_sim.rs`.

use crate::common::{fixture_path, Rng};
use canary_verdict::Arms;
use canary_verdict::{
    kayenta::{data_from_kayenta, judge_kayenta, policy_from_kayenta},
    policy::{Comparator, MustHaveAction, ScoreThresholds, SrmAction, SrmPolicy},
    progressive::{
        ArgoRule, FlaggerRule, IntervalKind, KayentaRule, Measurement, NoDataAction,
        SequentialRule, Window,
    },
    sequential::{
        CountEProcess, CountEProcessConfig, EProcess, MeanShiftEProcess, MeanShiftEProcessConfig,
        VaryingSplitEProcess, VaryingSplitEProcessConfig,
    },
    stats::Alternative,
    CanaryPolicy, Decision, Direction, Error, MetricData, MetricPolicy, ProgressiveAnalysis,
    ProgressivePolicy, ProgressiveRule, Series, Tolerance,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Sequential rule: simulations

/// One interval of a counter: each arm gets Poisson(`traffic`) requests and Poisson(requests ×
/// rate) errors.
fn errors(rng: &mut Rng, traffic: f64, base_rate: f64, canary_rate: f64) -> MetricData {
    let (bt, ct) = (rng.poisson(traffic), rng.poisson(traffic));
    let be = rng.poisson(bt as f64 * base_rate);
    let ce = rng.poisson(ct as f64 * canary_rate);
    MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(be as f64, bt as f64),
            canary: Series::total(ce as f64, ct as f64),
        },
    )
}

/// One interval of a latency metric: 20 request latencies per arm around `median` × factor
/// (log-normal, sd 0.3), so the arms' interval means are noisy.
fn latency(rng: &mut Rng, factor: f64) -> MetricData {
    let mut arm = |f: f64| -> Vec<f64> {
        (0..20)
            .map(|_| 100.0 * f * (0.3 * rng.normal()).exp())
            .collect()
    };
    let b = arm(1.0);
    let c = arm(factor);
    MetricData::new(
        "latency",
        Arms {
            baseline: Series::samples(b),
            canary: Series::samples(c),
        },
    )
}

fn sequential(
    rule: SequentialRule,
    metrics: Vec<MetricPolicy>,
    lifetime: u64,
) -> ProgressivePolicy {
    ProgressivePolicy::new(
        CanaryPolicy::new(metrics),
        ProgressiveRule::Sequential(rule),
    )
    .lifetime(lifetime)
}

fn errors_policy() -> MetricPolicy {
    MetricPolicy::counter("errors", Direction::Increase)
}

fn latency_policy() -> MetricPolicy {
    MetricPolicy::new("latency", Direction::Increase)
}

/// Runs one canary to its final decision; returns it and the interval it came at.
fn run(
    policy: &ProgressivePolicy,
    rng: &mut Rng,
    mut interval: impl FnMut(&mut Rng, u64) -> Vec<MetricData>,
) -> (Decision, u64) {
    let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
    for t in 1..=policy.warmup_intervals + policy.lifetime {
        let d = a.update(&interval(rng, t)).unwrap();
        if d.is_final() {
            return (d, t);
        }
    }
    panic!("no final decision at the end of the lifetime");
}

fn three_sigma(p: f64, runs: usize) -> f64 {
    3.0 * (p * (1.0 - p) / runs as f64).sqrt()
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}

#[test]
fn sim_false_rollbacks_over_20_looks_stay_below_alpha() {
    // Identical arms, 10 000 requests per arm and interval, 0.1% errors; no early promotion so
    // every run is looked at 20 times. Counter only (exact validity), then counter + latency
    // (the mean-shift e-process's plug-in variance is valid asymptotically).
    let (runs, alpha) = (1000, 0.05);
    let rule = SequentialRule {
        alpha: Some(alpha),
        early_promotion: false,
        ..SequentialRule::default()
    };
    let mut rng = Rng(20261127);
    let policy = sequential(rule.clone(), vec![errors_policy()], 20);
    let mut rolled = 0;
    for _ in 0..runs {
        let (d, _) = run(&policy, &mut rng, |r, _| {
            vec![errors(r, 10_000.0, 0.001, 0.001)]
        });
        rolled += usize::from(d == Decision::Rollback);
    }
    let rate = rolled as f64 / runs as f64;
    println!("false rollbacks, errors only: {rolled}/{runs} = {rate} (alpha {alpha}, 20 looks, seed 20261127)");
    assert!(rate <= alpha, "{rate}");

    let policy = sequential(rule, vec![errors_policy(), latency_policy()], 20);
    let mut rolled = 0;
    for _ in 0..runs {
        let (d, _) = run(&policy, &mut rng, |r, _| {
            vec![errors(r, 10_000.0, 0.001, 0.001), latency(r, 1.0)]
        });
        rolled += usize::from(d == Decision::Rollback);
    }
    let rate = rolled as f64 / runs as f64;
    println!("false rollbacks, errors + latency (K = 2): {rolled}/{runs} = {rate}");
    assert!(rate <= alpha, "{rate}");
}

#[test]
fn sim_doubled_error_rate_rolls_back_within_a_few_intervals() {
    // 10 000 requests per arm and interval; the baseline errs on 0.1%, the canary on 0.2%
    // (about 10 vs 20 errors per interval).
    let runs = 500;
    let policy = sequential(SequentialRule::default(), vec![errors_policy()], 20);
    let mut rng = Rng(4);
    let mut firsts = Vec::new();
    for _ in 0..runs {
        let (d, t) = run(&policy, &mut rng, |r, _| {
            vec![errors(r, 10_000.0, 0.001, 0.002)]
        });
        firsts.push(if d == Decision::Rollback { t } else { u64::MAX });
    }
    let within_10 = firsts.iter().filter(|&&t| t <= 10).count();
    let med = median(firsts.clone());
    println!(
        "doubled error rate: median rollback interval {med}, {within_10}/{runs} rolled back by interval 10, {} never (seed 4)",
        firsts.iter().filter(|&&t| t == u64::MAX).count()
    );
    assert!(med <= 6, "median {med}");
    assert!(within_10 as f64 >= 0.95 * runs as f64, "{within_10}");
}

#[test]
fn sim_healthy_canary_is_promoted_early() {
    // 50 000 requests per arm and interval at 0.2% errors, and latency; margins 20%.
    let runs = 300;
    let rule = SequentialRule {
        promotion_margin: 0.2,
        ..SequentialRule::default()
    };
    let policy = sequential(rule.clone(), vec![errors_policy(), latency_policy()], 30);
    let mut rng = Rng(99);
    let (mut early, mut rolled, mut at) = (0, 0, Vec::new());
    for _ in 0..runs {
        let (d, t) = run(&policy, &mut rng, |r, _| {
            vec![errors(r, 50_000.0, 0.002, 0.002), latency(r, 1.0)]
        });
        rolled += usize::from(d == Decision::Rollback);
        if d == Decision::Promote && t < 30 {
            early += 1;
            at.push(t);
        }
    }
    let med = median(at);
    println!("healthy canary: {early}/{runs} promoted before the lifetime of 30, median interval {med}; {rolled} rolled back");
    assert!(early as f64 >= 0.9 * runs as f64, "{early}");
    assert!(rolled as f64 <= 0.05 * runs as f64);
    // Without early promotion the same canary runs its whole lifetime.
    let late = sequential(
        SequentialRule {
            early_promotion: false,
            ..rule
        },
        vec![errors_policy(), latency_policy()],
        30,
    );
    let (d, t) = run(&late, &mut rng, |r, _| {
        vec![errors(r, 50_000.0, 0.002, 0.002), latency(r, 1.0)]
    });
    assert_eq!((d, t), (Decision::Promote, 30));
}

#[test]
fn sim_fixed_share_count_process_rolls_back_and_promotes() {
    // The count e-process with a fixed 10% canary share: errors are counted only, the split is
    // given.
    let rule = SequentialRule {
        canary_share: Some(0.1),
        promotion_margin: 0.3,
        ..SequentialRule::default()
    };
    let policy = sequential(rule, vec![errors_policy()], 30);
    let mut rng = Rng(12);
    let split = |r: &mut Rng, canary_rate: f64| {
        let (bt, ct) = (r.poisson(90_000.0), r.poisson(10_000.0));
        let be = r.poisson(bt as f64 * 0.002);
        let ce = r.poisson(ct as f64 * canary_rate);
        vec![MetricData::new(
            "errors",
            Arms {
                baseline: Series::total(be as f64, bt as f64),
                canary: Series::total(ce as f64, ct as f64),
            },
        )]
    };
    let (mut bad, mut good) = (0, 0);
    for _ in 0..100 {
        bad += usize::from(run(&policy, &mut rng, |r, _| split(r, 0.006)).0 == Decision::Rollback);
        let (d, t) = run(&policy, &mut rng, |r, _| split(r, 0.002));
        good += usize::from(d == Decision::Promote && t < 30);
    }
    assert!(bad >= 95, "{bad}");
    assert!(good >= 80, "{good}");
}

#[test]
fn sim_safety_tests_rarely_declare_safe_at_the_margin() {
    // The early-promotion tests at their null boundary: a canary exactly `margin` worse must be
    // declared safe (ever, over 20 looks) in at most alpha of runs.
    let (runs, alpha, margin) = (1000, 0.05, 0.2);
    let mut rng = Rng(777);
    let mut safe_counts = 0;
    let mut safe_fixed = 0;
    let mut safe_means = 0;
    // The fixed-share variant: the canary takes 20% of the traffic, its null share of events at
    // a rate ratio of 1 + margin is 0.2 (1 + m) / (0.2 (1 + m) + 0.8).
    let rho = 0.2;
    let shifted = rho * (1.0 + margin) / (rho * (1.0 + margin) + 1.0 - rho);
    for _ in 0..runs {
        let mut fixed =
            CountEProcess::new(CountEProcessConfig::new(shifted).alternative(Alternative::Less))
                .unwrap();
        let mut f_ever = false;
        let mut counts = VaryingSplitEProcess::new(
            VaryingSplitEProcessConfig::new()
                .alternative(Alternative::Less)
                .null_rate_ratio(1.0 + margin),
        )
        .unwrap();
        let mut means = MeanShiftEProcess::new(
            MeanShiftEProcessConfig::new()
                .alternative(Alternative::Less)
                .null_shift(margin)
                .burn_in(10),
        )
        .unwrap();
        let (mut c_ever, mut m_ever) = (false, false);
        for k in 0..20 {
            // A ramp of the canary's share: 5%, 10%, 20%, then 50%.
            let share = [0.05, 0.1, 0.2, 0.5][(k / 5) as usize];
            let (ct, bt) = (
                rng.poisson(100_000.0 * share),
                rng.poisson(100_000.0 * (1.0 - share)),
            );
            let ce = rng.poisson(ct as f64 * 0.001 * (1.0 + margin));
            let be = rng.poisson(bt as f64 * 0.001);
            counts
                .update(
                    Arms {
                        baseline: be,
                        canary: ce,
                    },
                    Arms {
                        baseline: bt,
                        canary: ct,
                    },
                )
                .unwrap();
            c_ever |= counts.p_value() <= alpha;
            let ce = rng.poisson(20_000.0 * 0.001 * (1.0 + margin));
            let be = rng.poisson(80_000.0 * 0.001);
            fixed
                .update(Arms {
                    baseline: be,
                    canary: ce,
                })
                .unwrap();
            f_ever |= fixed.p_value() <= alpha;
            means
                .update(Arms {
                    baseline: 1.0,
                    canary: 1.0 + margin + 0.05 * rng.normal(),
                })
                .unwrap();
            m_ever |= means.p_value() <= alpha;
        }
        safe_counts += usize::from(c_ever);
        safe_fixed += usize::from(f_ever);
        safe_means += usize::from(m_ever);
    }
    let (pc, pm) = (
        safe_counts as f64 / runs as f64,
        safe_means as f64 / runs as f64,
    );
    let pf = safe_fixed as f64 / runs as f64;
    println!("declared safe at the margin: counts (varying split) {pc}, counts (fixed share) {pf}, means {pm} (alpha {alpha}, seed 777)");
    assert!(pc <= alpha, "{pc}");
    assert!(pf <= alpha, "{pf}");
    assert!(pm <= alpha + three_sigma(alpha, runs), "{pm}");
}

#[test]
fn sequential_rule_records_evidence_and_respects_warmup() {
    let policy = sequential(SequentialRule::default(), vec![errors_policy()], 10).warmup(2);
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    // A catastrophic warm-up is skipped: its data never reach the e-process.
    let awful = MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(0.0, 10_000.0),
            canary: Series::total(5_000.0, 10_000.0),
        },
    );
    for _ in 0..2 {
        assert_eq!(
            a.update(std::slice::from_ref(&awful)).unwrap(),
            Decision::Continue
        );
    }
    assert_eq!(a.history()[1].kind, IntervalKind::Warmup);
    assert_eq!(a.evidence()[0].intervals, 0);
    let fine = MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(10.0, 10_000.0),
            canary: Series::total(10.0, 10_000.0),
        },
    );
    assert_eq!(
        a.update(std::slice::from_ref(&fine)).unwrap(),
        Decision::Continue
    );
    let e = &a.history()[2].evidence[0];
    assert_eq!(e.intervals, 1);
    assert!((e.estimate - 1.0).abs() < 1e-12);
    assert_eq!(e.threshold(), 100.0);
    // A failed fetch counts towards the lifetime and is noted.
    a.record_error("prometheus timed out").unwrap();
    assert_eq!(a.analysed(), 2);
    assert!(a.history()[3].note.contains("prometheus timed out"));
    assert_eq!(
        a.update(std::slice::from_ref(&awful)).unwrap(),
        Decision::Rollback
    );
    // Final: later intervals are ignored.
    assert_eq!(
        a.update(std::slice::from_ref(&fine)).unwrap(),
        Decision::Rollback
    );
    assert_eq!(a.history().len(), 5);
    assert!(a.to_string().contains("ROLLBACK"));
}

#[test]
fn sequential_rule_ends_inconclusive_when_asked_and_not_shown_safe() {
    let rule = SequentialRule {
        promote_at_lifetime: false,
        ..SequentialRule::default()
    };
    let policy = sequential(rule, vec![errors_policy()], 3);
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    let d = MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(1.0, 100.0),
            canary: Series::total(1.0, 100.0),
        },
    );
    for _ in 0..2 {
        assert_eq!(
            a.update(std::slice::from_ref(&d)).unwrap(),
            Decision::Continue
        );
    }
    assert_eq!(
        a.update(std::slice::from_ref(&d)).unwrap(),
        Decision::Inconclusive
    );
}

#[test]
fn sequential_srm_rolls_back_a_starved_canary() {
    let mut canary = CanaryPolicy::new(vec![errors_policy()]);
    canary.srm = Some(SrmPolicy {
        canary_share: 0.5,
        alpha: 0.001,
        action: SrmAction::Rollback,
    });
    let policy = ProgressivePolicy::new(
        canary,
        ProgressiveRule::Sequential(SequentialRule::default()),
    );
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    let d = MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(10.0, 10_000.0),
            canary: Series::total(3.0, 3_000.0),
        },
    );
    assert_eq!(a.update(&[d]).unwrap(), Decision::Rollback);
    assert!(a.history()[0].note.contains("sample ratio mismatch"));
}

#[test]
fn sequential_bad_data_is_a_typed_error_and_leaves_the_state() {
    let policy = sequential(
        SequentialRule::default(),
        vec![errors_policy(), latency_policy()],
        5,
    );
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    let neg = MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(-1.0, 10.0),
            canary: Series::total(1.0, 10.0),
        },
    );
    assert!(matches!(a.update(&[neg]), Err(Error::InvalidData { .. })));
    let unknown = MetricData::new(
        "cpu",
        Arms {
            baseline: Series::samples([1.0]),
            canary: Series::samples([1.0]),
        },
    );
    assert!(matches!(
        a.update(&[unknown]),
        Err(Error::DataMismatch { .. })
    ));
    // Samples, then points, for the same metric: its window cannot hold both; the counter's
    // good data of that interval are not kept either.
    let samples = MetricData::new(
        "latency",
        Arms {
            baseline: Series::samples([1.0, 2.0]),
            canary: Series::samples([1.0]),
        },
    );
    a.update(&[samples]).unwrap();
    let before = a.clone();
    let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let points = MetricData::new(
        "latency",
        Arms {
            baseline: Series::points([(t, 1.0)]),
            canary: Series::points([(t, 1.0)]),
        },
    );
    let ok = MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(1.0, 10.0),
            canary: Series::total(1.0, 10.0),
        },
    );
    assert!(matches!(
        a.update(&[ok, points]),
        Err(Error::InvalidData {
            field: "series",
            ..
        })
    ));
    // (NaN fields before any test: compared as JSON.)
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&before).unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// Judged rules

/// Two metrics judged by the rank-sum test, 8 points per arm and interval, the baseline at 100:
/// a canary at 100 passes, at 110 (or above) is significantly higher and fails without reaching
/// the critical limit (set out of reach). Both pass → score 100 (Promote), one fails → 50
/// (Marginal with these thresholds), both fail → 0 (Rollback), too few points → Inconclusive.
fn judged(rule: ProgressiveRule, lifetime: u64) -> ProgressivePolicy {
    let metric = |name: &str| MetricPolicy {
        comparator: Comparator::RankSum,
        tolerance: Tolerance {
            allowed_increase: 1.0,
            critical_increase: 100.0,
            ..Tolerance::default()
        },
        min_samples: 3,
        ..MetricPolicy::new(name, Direction::Increase)
    };
    let mut canary = CanaryPolicy::new(vec![metric("a"), metric("b")]);
    canary.thresholds = ScoreThresholds {
        pass: 95.0,
        marginal: 40.0,
    };
    ProgressivePolicy::new(canary, rule).lifetime(lifetime)
}

/// `n` points at `a` and `b` in the canary (the baseline at 100).
fn at(a: f64, b: f64, n: usize) -> Vec<MetricData> {
    vec![
        MetricData::new(
            "a",
            Arms {
                baseline: Series::samples(vec![100.0; n]),
                canary: Series::samples(vec![a; n]),
            },
        ),
        MetricData::new(
            "b",
            Arms {
                baseline: Series::samples(vec![100.0; n]),
                canary: Series::samples(vec![b; n]),
            },
        ),
    ]
}

const PASS: (f64, f64) = (100.0, 100.0);
const HALF: (f64, f64) = (100.0, 110.0);
const FAIL: (f64, f64) = (110.0, 110.0);

fn feed(a: &mut ProgressiveAnalysis, seq: &[(f64, f64)]) -> Vec<Decision> {
    seq.iter()
        .map(|&(x, y)| a.update(&at(x, y, 8)).unwrap())
        .collect()
}

use Decision::{Continue as C, Inconclusive as I, Promote as P, Rollback as R};

#[test]
fn kayenta_rule_aborts_at_or_below_marginal_and_decides_from_the_last_interval() {
    let kayenta = |window| {
        ProgressiveRule::Kayenta(KayentaRule {
            window,
            ..KayentaRule::default()
        })
    };
    // Score 50 > marginal 40 keeps going; the last interval's score decides.
    let mut a =
        ProgressiveAnalysis::new(judged(kayenta(Window::Sliding { lookback: 1 }), 3)).unwrap();
    assert_eq!(feed(&mut a, &[HALF, HALF, PASS]), [C, C, P]);
    let mut a =
        ProgressiveAnalysis::new(judged(kayenta(Window::Sliding { lookback: 1 }), 3)).unwrap();
    assert_eq!(feed(&mut a, &[PASS, PASS, HALF]), [C, C, R]);
    assert!(a.history()[2].note.contains("< pass"));
    // At or below marginal aborts at once (a score equal to marginal too).
    let mut a = ProgressiveAnalysis::new(judged(kayenta(Window::Growing), 5)).unwrap();
    assert_eq!(feed(&mut a, &[PASS, FAIL]), [C, R]);
    let mut eq = judged(kayenta(Window::Growing), 5);
    eq.canary.thresholds.marginal = 50.0;
    let mut a = ProgressiveAnalysis::new(eq).unwrap();
    assert_eq!(feed(&mut a, &[HALF]), [R]);
    assert_eq!(a.history()[0].score, Some(50.0));
}

/// Before the last interval, a window without a score (a failed fetch, too few points) goes on;
/// at the last it is Inconclusive. A critical breach rolls back even when the score is above
/// marginal.
#[test]
fn kayenta_rule_waits_for_a_score_and_rolls_back_a_critical_breach() {
    let rule = ProgressiveRule::Kayenta(KayentaRule {
        window: Window::Sliding { lookback: 1 },
        ..KayentaRule::default()
    });
    let mut a = ProgressiveAnalysis::new(judged(rule.clone(), 2)).unwrap();
    assert_eq!(a.record_error("timeout").unwrap(), C);
    assert!(a.history()[0].note.contains("no data: timeout"));
    assert_eq!(a.record_error("timeout").unwrap(), I);
    let mut a = ProgressiveAnalysis::new(judged(rule.clone(), 2)).unwrap();
    assert_eq!(a.update(&at(100.0, 100.0, 1)).unwrap(), C);
    assert_eq!(a.history()[0].score, None);
    assert_eq!(a.update(&at(100.0, 100.0, 1)).unwrap(), I);
    assert_eq!(a.history()[1].note, "no score");
    // Metric a may rise by at most 5%: at 110 it breaches; b passes, so the score is 50, above
    // marginal (40).
    let mut policy = judged(rule, 3);
    policy.canary.metrics[0].tolerance.critical_increase = 1.05;
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    assert_eq!(feed(&mut a, &[(110.0, 100.0)]), [R]);
    assert_eq!(a.history()[0].score, Some(50.0));
    assert_eq!(a.history()[0].note, "a critical metric failed");
}

/// A growing window joins each kind of series interval by interval (twice the points after
/// two intervals) and refuses to join different kinds.
#[test]
fn growing_windows_join_points_and_blocks() {
    use chrono::TimeZone;
    let t0 = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let minute = |i: i64| t0 + chrono::Duration::minutes(i);
    let value = |i: i64, j: i64| 100.0 + ((i * 7 + j * 3) % 11) as f64;
    let points = |from: i64| Series::points((from..from + 6).map(|i| (minute(i), value(i, 0))));
    let blocks = |from: i64| {
        Series::blocks((from..from + 6).map(|i| (minute(i), (0..3).map(|j| value(i, j)).collect())))
    };
    let rule = ProgressiveRule::Kayenta(KayentaRule {
        window: Window::Growing,
        ..KayentaRule::default()
    });
    let policy =
        ProgressivePolicy::new(CanaryPolicy::new(vec![latency_policy()]), rule).lifetime(5);
    let interval = |s: &dyn Fn(i64) -> Series, from: i64| {
        vec![MetricData::new(
            "latency",
            Arms {
                baseline: s(from),
                canary: s(from),
            },
        )]
    };
    for series in [&points as &dyn Fn(i64) -> Series, &blocks] {
        let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
        a.update(&interval(series, 0)).unwrap();
        let first = a.last_judgment().unwrap().metrics[0].n_canary;
        assert!(first >= 6, "{first}");
        a.update(&interval(series, 6)).unwrap();
        assert_eq!(a.last_judgment().unwrap().metrics[0].n_canary, 2 * first);
    }
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    a.update(&interval(&points, 0)).unwrap();
    let e = a.update(&interval(&blocks, 6)).unwrap_err().to_string();
    assert!(e.contains("mix samples, points, blocks"), "{e}");
}

#[test]
fn kayenta_windows_grow_or_slide() {
    // The growing window still holds the early bad interval: b stays significantly higher
    // (score 50, below pass at the end); the sliding window of one interval has forgotten it.
    let growing = ProgressiveRule::Kayenta(KayentaRule {
        window: Window::Growing,
        ..KayentaRule::default()
    });
    let mut a = ProgressiveAnalysis::new(judged(growing.clone(), 2)).unwrap();
    assert_eq!(feed(&mut a, &[(100.0, 400.0), PASS]), [C, R]);
    assert_eq!(a.last_judgment().unwrap().metrics[1].n_canary, 16);
    let sliding = ProgressiveRule::Kayenta(KayentaRule {
        window: Window::Sliding { lookback: 1 },
        ..KayentaRule::default()
    });
    let mut a = ProgressiveAnalysis::new(judged(sliding, 2)).unwrap();
    assert_eq!(feed(&mut a, &[(100.0, 400.0), PASS]), [C, P]);
    assert_eq!(a.last_judgment().unwrap().metrics[1].n_canary, 8);
    // No score at the end (too few points) is Inconclusive.
    let mut a = ProgressiveAnalysis::new(judged(growing, 1)).unwrap();
    assert_eq!(a.update(&at(100.0, 100.0, 1)).unwrap(), I);
}

#[test]
fn kayenta_rule_can_judge_by_kayentas_rules() {
    let read = |f: &str| std::fs::read_to_string(fixture_path(&format!("kayenta/{f}"))).unwrap();
    let thresholds = ScoreThresholds {
        pass: 75.0,
        marginal: 50.0,
    };
    let policy = policy_from_kayenta(&read("config.json"), thresholds).unwrap();
    let data = data_from_kayenta(&read("data.json")).unwrap();
    let one = judge_kayenta(&policy, &data).unwrap();
    let rule = |window| {
        ProgressiveRule::Kayenta(KayentaRule {
            window,
            kayenta_judge: true,
        })
    };
    // Each interval judged alone: every record carries Kayenta's score of that interval, and the
    // decision follows the stage's rules from it.
    let progressive = ProgressivePolicy::new(policy.clone(), rule(Window::Sliding { lookback: 1 }));
    let mut a = ProgressiveAnalysis::new(progressive.lifetime(3)).unwrap();
    let t = policy.thresholds;
    let s = one.score.score;
    let want: Vec<Decision> = if s <= t.marginal {
        vec![R]
    } else if s >= t.pass {
        vec![C, C, P]
    } else {
        vec![C, C, R]
    };
    let got: Vec<Decision> = want.iter().map(|_| a.update(&data).unwrap()).collect();
    assert_eq!(got, want, "score {s}");
    assert!(a.history().iter().all(|r| r.score == Some(s)));
    assert_eq!(a.last_kayenta_result(), Some(&one));
    assert!(a.last_judgment().is_none());
    // A growing window judges the intervals so far together, as one request of their data.
    let progressive = ProgressivePolicy::new(policy.clone(), rule(Window::Growing));
    let mut a = ProgressiveAnalysis::new(progressive.lifetime(5)).unwrap();
    // The fixture's data with every canary sample multiplied by `f`.
    let scaled = |f: f64| -> Vec<MetricData> {
        data.iter()
            .map(|d| {
                let canary = match &d.canary {
                    Series::Samples(v) => Series::samples(v.iter().map(|x| x * f)),
                    other => other.clone(),
                };
                MetricData::new(
                    d.name.clone(),
                    Arms {
                        baseline: d.baseline.clone(),
                        canary,
                    },
                )
            })
            .collect()
    };
    let second = scaled(1.5);
    a.update(&data).unwrap();
    a.update(&second).unwrap();
    let both: Vec<MetricData> = data
        .iter()
        .zip(&second)
        .map(|(x, y)| {
            let join = |p: &Series, q: &Series| match (p, q) {
                (Series::Samples(u), Series::Samples(v)) => {
                    Series::samples(u.iter().chain(v).copied())
                }
                _ => unreachable!("the fixture holds samples"),
            };
            MetricData::new(
                x.name.clone(),
                Arms {
                    baseline: join(&x.baseline, &y.baseline),
                    canary: join(&x.canary, &y.canary),
                },
            )
        })
        .collect();
    let merged = judge_kayenta(&policy, &both).unwrap();
    assert_eq!(a.last_kayenta_result(), Some(&merged));
    assert_eq!(a.history()[1].score, Some(merged.score.score));
    assert_ne!(
        merged.score.score, s,
        "the second interval should change the score"
    );
    // Every metric's canary three times higher: an abort. The note gives Kayenta's reason when
    // it has one (a critical metric failed) and no empty brackets when it has none.
    let tripled = scaled(3.0);
    let mut no_critical = policy.clone();
    for m in &mut no_critical.metrics {
        m.critical = false;
    }
    for (p, reason) in [(&policy, true), (&no_critical, false)] {
        let k = judge_kayenta(p, &tripled).unwrap();
        assert_eq!(k.score.classification_reason.is_empty(), !reason);
        let progressive = ProgressivePolicy::new(p.clone(), rule(Window::Growing));
        let mut a = ProgressiveAnalysis::new(progressive.lifetime(3)).unwrap();
        assert_eq!(a.update(&tripled).unwrap(), R);
        let abort = format!("score {:.2} <= marginal 50: abort", k.score.score);
        let want = if reason {
            format!("{abort} ({})", k.score.classification_reason)
        } else {
            abort
        };
        assert_eq!(a.history()[0].note, want);
    }
}

fn argo(rule: ArgoRule, lifetime: u64) -> ProgressiveAnalysis {
    ProgressiveAnalysis::new(judged(ProgressiveRule::Argo(rule), lifetime)).unwrap()
}

#[test]
fn argo_failure_limit_counts_failed_measurements() {
    let mut a = argo(ArgoRule::default(), 5);
    assert_eq!(feed(&mut a, &[PASS, FAIL]), [C, R]);
    assert_eq!(a.history()[1].measurement, Some(Measurement::Failed));
    let mut a = argo(
        ArgoRule {
            failure_limit: 2,
            ..ArgoRule::default()
        },
        6,
    );
    // Failures are total, not consecutive: the third one fails the run.
    assert_eq!(
        feed(&mut a, &[FAIL, PASS, FAIL, PASS, FAIL]),
        [C, C, C, C, R]
    );
    // Count reached with failures within the limit (no success limit): successful.
    let mut a = argo(
        ArgoRule {
            failure_limit: 2,
            ..ArgoRule::default()
        },
        3,
    );
    assert_eq!(feed(&mut a, &[FAIL, PASS, FAIL]), [C, C, P]);
}

#[test]
fn argo_inconclusive_limit_pauses() {
    let mut a = argo(
        ArgoRule {
            inconclusive_limit: 1,
            ..ArgoRule::default()
        },
        5,
    );
    assert_eq!(feed(&mut a, &[HALF, PASS, HALF]), [C, C, I]);
    assert_eq!(a.history()[0].measurement, Some(Measurement::Inconclusive));
}

#[test]
fn argo_consecutive_errors_roll_back_and_do_not_count() {
    let mut a = argo(
        ArgoRule {
            consecutive_error_limit: 2,
            ..ArgoRule::default()
        },
        2,
    );
    assert_eq!(a.record_error("timeout").unwrap(), C);
    assert_eq!(a.record_error("timeout").unwrap(), C);
    assert_eq!(a.history()[1].note, "no data: timeout");
    assert_eq!(a.history()[1].measurement, Some(Measurement::Error));
    // A good measurement resets the streak; errors do not use up the count of 2.
    assert_eq!(feed(&mut a, &[PASS]), [C]);
    assert_eq!(a.history()[2].note, "");
    assert_eq!(a.analysed(), 1);
    for _ in 0..2 {
        assert_eq!(a.record_error("timeout").unwrap(), C);
    }
    assert_eq!(a.record_error("timeout").unwrap(), R);
    assert!(a
        .history()
        .last()
        .unwrap()
        .note
        .contains("consecutive errors"));
}

#[test]
fn argo_consecutive_success_limit_succeeds_early_and_decides_at_count() {
    let rule = ArgoRule {
        consecutive_success_limit: 2,
        failure_limit: 3,
        ..ArgoRule::default()
    };
    let mut a = argo(rule, 10);
    assert_eq!(feed(&mut a, &[PASS, FAIL, PASS, PASS]), [C, C, C, P]);
    // Count reached before the success limit, with a failure limit too: inconclusive.
    let mut a = argo(rule, 3);
    assert_eq!(feed(&mut a, &[PASS, FAIL, PASS]), [C, C, I]);
    // Only a success limit (failure_limit -1): failed at the count.
    let only = ArgoRule {
        failure_limit: -1,
        ..rule
    };
    let mut a = argo(only, 3);
    assert_eq!(feed(&mut a, &[FAIL, PASS, FAIL]), [C, C, R]);
}

fn flagger(rule: FlaggerRule, lifetime: u64) -> ProgressiveAnalysis {
    ProgressiveAnalysis::new(judged(ProgressiveRule::Flagger(rule), lifetime)).unwrap()
}

#[test]
fn flagger_threshold_counts_cumulative_failed_checks() {
    let rule = FlaggerRule {
        threshold: 3,
        ..FlaggerRule::default()
    };
    // Marginal fails a check too; failures are cumulative, not reset by passing checks.
    let mut a = flagger(rule, 10);
    assert_eq!(
        feed(&mut a, &[HALF, PASS, FAIL, PASS, PASS, HALF]),
        [C, C, C, C, C, R]
    );
    assert!(a.history()[5].note.contains("threshold reached 3"));
    // A failed fetch is a failed check.
    let mut a = flagger(FlaggerRule::default(), 10);
    assert_eq!(a.record_error("no values found").unwrap(), R);
    // Fewer failures than the threshold at the end of the lifetime: promoted.
    let mut a = flagger(rule, 3);
    assert_eq!(feed(&mut a, &[FAIL, PASS, PASS]), [C, C, P]);
}

#[test]
fn flagger_iterations_promote_and_the_lifetime_is_the_deadline() {
    let rule = FlaggerRule {
        threshold: 5,
        iterations: Some(3),
        ..FlaggerRule::default()
    };
    let mut a = flagger(rule, 10);
    assert_eq!(feed(&mut a, &[PASS, FAIL, PASS, PASS]), [C, C, C, P]);
    // Failed checks halt advancement; the deadline arrives first.
    let mut a = flagger(rule, 4);
    assert_eq!(feed(&mut a, &[PASS, FAIL, FAIL, PASS]), [C, C, C, R]);
    assert!(a.history()[3].note.contains("progress deadline"));
    // As many iterations as the lifetime is the last count allowed: the final interval promotes.
    let rule = FlaggerRule {
        iterations: Some(4),
        ..rule
    };
    let mut a = flagger(rule, 4);
    assert_eq!(feed(&mut a, &[PASS, PASS, PASS, PASS]), [C, C, C, P]);
}

#[test]
fn warmup_is_skipped_by_judged_rules() {
    let mut a =
        ProgressiveAnalysis::new(judged(ProgressiveRule::Argo(ArgoRule::default()), 2).warmup(2))
            .unwrap();
    assert_eq!(feed(&mut a, &[FAIL, FAIL, PASS, PASS]), [C, C, C, P]);
    assert_eq!(a.intervals(), 4);
    assert_eq!(a.history()[0].kind, IntervalKind::Warmup);
    assert_eq!(a.history()[0].verdict, None);
}

#[test]
fn judged_bad_data_is_a_typed_error_and_leaves_the_window() {
    let mut a =
        ProgressiveAnalysis::new(judged(ProgressiveRule::Kayenta(KayentaRule::default()), 5))
            .unwrap();
    feed(&mut a, &[PASS]);
    let before = a.clone();
    let mixed = vec![MetricData::new(
        "a",
        Arms {
            baseline: Series::total(1.0, 2.0),
            canary: Series::total(1.0, 2.0),
        },
    )];
    assert!(a.update(&mixed).is_err());
    let twice = [at(1.0, 1.0, 3), at(1.0, 1.0, 3)].concat();
    assert!(matches!(a.update(&twice), Err(Error::DataMismatch { .. })));
    assert_eq!(a, before);
}

// ---------------------------------------------------------------------------------------------
// Bad configurations

/// "accepted", or the field a refused policy names.
fn outcome(policy: ProgressivePolicy) -> &'static str {
    match ProgressiveAnalysis::new(policy) {
        Ok(_) => "accepted",
        Err(e) => field_of(e),
    }
}

fn field_of(e: Error) -> &'static str {
    match e {
        Error::InvalidPolicy { field, .. } => field,
        other => panic!("expected InvalidPolicy, got {other}"),
    }
}

/// The sequential rule's numbers on their edges: each refused just outside its range (and at
/// NaN or infinity), naming its field, and accepted just inside.
#[test]
fn sequential_rule_settings_are_refused_past_their_edges() {
    let field =
        |rule: SequentialRule, metric: MetricPolicy| outcome(sequential(rule, vec![metric], 10));
    let rule = SequentialRule::default;
    let margin = |v: f64| SequentialRule {
        promotion_margin: v,
        ..rule()
    };
    let outside = [0.0, -1.0, f64::NAN, f64::INFINITY];
    // (the rule with the setting at v, the metric it applies to, values refused, the field)
    type Case<'a> = (
        &'a dyn Fn(f64) -> SequentialRule,
        fn() -> MetricPolicy,
        &'a [f64],
        &'a str,
    );
    let cases: [Case; 4] = [
        (
            &|v| SequentialRule {
                canary_share: Some(v),
                ..rule()
            },
            errors_policy,
            &[0.0, 1.0, -0.5, f64::NAN],
            "rule.sequential.canary_share",
        ),
        (
            &|v| SequentialRule {
                concentration: v,
                ..rule()
            },
            errors_policy,
            &outside,
            "rule.sequential.concentration",
        ),
        (
            &margin,
            latency_policy,
            &outside,
            "rule.sequential.promotion_margin",
        ),
        (
            &|v| SequentialRule {
                margins: [("latency".to_string(), v)].into(),
                ..rule()
            },
            latency_policy,
            &outside,
            "rule.sequential.margins",
        ),
    ];
    for (set, metric, values, name) in cases {
        for &v in values {
            assert_eq!(field(set(v), metric()), name, "{v}");
        }
    }
    // A margin on the decrease side stays below 1, for `decrease` and `either` alike; an
    // increase-side margin may exceed it.
    for direction in [Direction::Decrease, Direction::Either] {
        let m = MetricPolicy::new("latency", direction);
        assert_eq!(
            field(margin(1.0), m.clone()),
            "rule.sequential.promotion_margin",
            "{direction:?}"
        );
        assert_eq!(field(margin(0.999), m), "accepted", "{direction:?}");
    }
    assert_eq!(field(margin(1.5), latency_policy()), "accepted");
    for v in [1e-9, 1.0 - 1e-9] {
        let r = SequentialRule {
            canary_share: Some(v),
            concentration: v,
            ..rule()
        };
        assert_eq!(field(r, errors_policy()), "accepted", "{v}");
    }
}

/// A lifetime and a warm-up of at most 100 000 intervals: the limit itself is accepted.
#[test]
fn interval_counts_are_limited_at_100_000() {
    let at = |lifetime: u64, warmup: u64| {
        outcome(
            sequential(SequentialRule::default(), vec![errors_policy()], lifetime).warmup(warmup),
        )
    };
    assert_eq!(at(100_000, 100_000), "accepted");
    assert_eq!(at(100_001, 0), "lifetime");
    assert_eq!(at(0, 0), "lifetime");
    assert_eq!(at(10, 100_001), "warmup_intervals");
}

#[test]
fn bad_configs_name_the_field() {
    let seq = |r: SequentialRule| sequential(r, vec![errors_policy()], 10);
    let cases: Vec<(ProgressivePolicy, &str)> = vec![
        (seq(SequentialRule::default()).lifetime(0), "lifetime"),
        (
            seq(SequentialRule::default()).warmup(u64::MAX),
            "warmup_intervals",
        ),
        (
            seq(SequentialRule {
                alpha: Some(0.6),
                ..SequentialRule::default()
            }),
            "rule.sequential.alpha",
        ),
        (
            seq(SequentialRule {
                canary_share: Some(0.0),
                ..SequentialRule::default()
            }),
            "rule.sequential.canary_share",
        ),
        (
            seq(SequentialRule {
                promotion_margin: f64::NAN,
                ..SequentialRule::default()
            }),
            "rule.sequential.promotion_margin",
        ),
        (
            seq(SequentialRule {
                margins: [("nope".to_string(), 0.1)].into(),
                ..SequentialRule::default()
            }),
            "rule.sequential.margins",
        ),
        (
            judged(
                ProgressiveRule::Argo(ArgoRule {
                    failure_limit: -1,
                    ..ArgoRule::default()
                }),
                5,
            ),
            "rule.argo.failure_limit",
        ),
        (
            judged(
                ProgressiveRule::Argo(ArgoRule {
                    failure_limit: -3,
                    consecutive_success_limit: 2,
                    ..ArgoRule::default()
                }),
                5,
            ),
            "rule.argo.failure_limit",
        ),
        (
            judged(
                ProgressiveRule::Flagger(FlaggerRule {
                    threshold: 0,
                    ..FlaggerRule::default()
                }),
                5,
            ),
            "rule.flagger.threshold",
        ),
        (
            judged(
                ProgressiveRule::Flagger(FlaggerRule {
                    iterations: Some(6),
                    ..FlaggerRule::default()
                }),
                5,
            ),
            "rule.flagger.iterations",
        ),
        (
            judged(
                ProgressiveRule::Kayenta(KayentaRule {
                    window: Window::Sliding { lookback: 0 },
                    ..KayentaRule::default()
                }),
                5,
            ),
            "rule.kayenta.window.lookback",
        ),
    ];
    for (policy, field) in cases {
        assert_eq!(
            field_of(ProgressiveAnalysis::new(policy).unwrap_err()),
            field
        );
    }
    // A decrease-side margin must stay below 1.
    let p = sequential(
        SequentialRule {
            promotion_margin: 1.0,
            ..SequentialRule::default()
        },
        vec![MetricPolicy::counter("ok", Direction::Decrease)],
        5,
    );
    match ProgressiveAnalysis::new(p).unwrap_err() {
        Error::InvalidPolicy { metric, field, .. } => {
            assert_eq!(
                (metric.as_str(), field),
                ("ok", "rule.sequential.promotion_margin")
            )
        }
        e => panic!("{e}"),
    }
    // Every metric muted.
    let mut m = errors_policy();
    m.muted = true;
    let p = sequential(SequentialRule::default(), vec![m], 5);
    assert_eq!(
        field_of(ProgressiveAnalysis::new(p).unwrap_err()),
        "canary.metrics"
    );
    // The canary policy itself is checked.
    let p = sequential(SequentialRule::default(), vec![], 5);
    assert_eq!(
        field_of(ProgressiveAnalysis::new(p).unwrap_err()),
        "metrics"
    );
    // The varying-split e-process's null rate ratio is checked, and older states without it
    // still load (as a null of 1).
    for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            VaryingSplitEProcess::new(VaryingSplitEProcessConfig::new().null_rate_ratio(r)),
            Err(Error::InvalidParameter {
                field: "null_rate_ratio",
                ..
            })
        ));
    }
    let old: VaryingSplitEProcessConfig = serde_json::from_str(
        r#"{"alternative": "greater", "max_rate_ratio": 10.0, "grid_points": 32}"#,
    )
    .unwrap();
    assert_eq!(old, VaryingSplitEProcessConfig::new());
    // JSON with an unknown field is refused.
    let json = r#"{"canary": {"metrics": [{"name": "e", "kind": "counter"}]}, "rule": {"sequential": {"alpah": 0.1}}}"#;
    assert!(serde_json::from_str::<ProgressivePolicy>(json).is_err());
    let json = r#"{"canary": {"metrics": [{"name": "e", "kind": "counter"}]}, "lifetime": 5, "rule": {"argo": {"failure_limit": 1}}}"#;
    let p: ProgressivePolicy = serde_json::from_str(json).unwrap();
    assert!(ProgressiveAnalysis::new(p).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Properties

fn any_rule() -> impl Strategy<Value = ProgressiveRule> {
    prop_oneof![
        Just(ProgressiveRule::Sequential(SequentialRule::default())),
        Just(ProgressiveRule::Sequential(SequentialRule {
            canary_share: Some(0.3),
            ..SequentialRule::default()
        })),
        Just(ProgressiveRule::Kayenta(KayentaRule::default())),
        Just(ProgressiveRule::Argo(ArgoRule {
            failure_limit: 2,
            inconclusive_limit: 3,
            ..ArgoRule::default()
        })),
        Just(ProgressiveRule::Flagger(FlaggerRule {
            threshold: 3,
            ..FlaggerRule::default()
        })),
    ]
}

/// Interval data for both metrics from a few integers; `None` is a failed fetch.
fn interval_data(x: (u32, u32, u32, u32, u8)) -> Option<Vec<MetricData>> {
    let (e1, e2, t, lat, kind) = x;
    if kind == 0 {
        return None;
    }
    let t = f64::from(t) + f64::from(e1.max(e2));
    let l = 50.0 + f64::from(lat);
    Some(vec![
        MetricData::new(
            "errors",
            Arms {
                baseline: Series::total(f64::from(e1), t),
                canary: Series::total(f64::from(e2), t),
            },
        ),
        MetricData::new(
            "latency",
            Arms {
                baseline: Series::samples([l, l + 1.0, l + 3.0, l * 1.1, l]),
                canary: Series::samples([l, l + 2.0, l * 1.2 + f64::from(e2), l, l]),
            },
        ),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn identical_arms_never_roll_back(
        share in prop::option::of(Just(0.5)),
        steps in prop::collection::vec((0u32..10_000, 0u32..1_000_000, 1.0f64..1e4), 1..40),
    ) {
        // The same counts and the same latencies in both arms (with the fixed share at one
        // half, or the observed split): no e-value ever reaches K/alpha.
        let rule = SequentialRule { canary_share: share, ..SequentialRule::default() };
        let policy = sequential(rule, vec![errors_policy(), latency_policy()], 50);
        let mut a = ProgressiveAnalysis::new(policy).unwrap();
        for (e, extra, lat) in steps {
            let t = f64::from(e) + f64::from(extra);
            let d = vec![
                MetricData::new("errors", Arms { baseline: Series::total(f64::from(e), t), canary: Series::total(f64::from(e), t) }),
                MetricData::new("latency", Arms { baseline: Series::samples([lat, 2.0 * lat]), canary: Series::samples([lat, 2.0 * lat]) }),
            ];
            prop_assert_ne!(a.update(&d).unwrap(), Decision::Rollback);
            for ev in a.evidence() {
                prop_assert!(ev.e_value.is_none_or(|e| e <= 1.0 + 1e-9), "{}", ev);
                prop_assert!(!ev.harmed, "{}", ev);
            }
        }
    }

    #[test]
    fn resumed_analysis_decides_as_uninterrupted(
        rule in any_rule(),
        seq in prop::collection::vec((0u32..40, 0u32..40, 100u32..2000, 0u32..300, 0u8..6), 1..25),
        cut in 0usize..25,
        warmup in 0u64..3,
    ) {
        let canary = CanaryPolicy::new(vec![errors_policy(), latency_policy()]);
        let policy = ProgressivePolicy::new(canary, rule).lifetime(20).warmup(warmup);
        let mut whole = ProgressiveAnalysis::new(policy.clone()).unwrap();
        let mut part = ProgressiveAnalysis::new(policy).unwrap();
        for (i, x) in seq.iter().enumerate() {
            if i == cut {
                let saved = serde_json::to_string(&part).unwrap();
                part = serde_json::from_str(&saved).unwrap();
                prop_assert_eq!(serde_json::to_string(&part).unwrap(), serde_json::to_string(&whole).unwrap());
            }
            let step = |a: &mut ProgressiveAnalysis| match interval_data(*x) {
                Some(d) => a.update(&d),
                None => a.record_error("fetch failed"),
            };
            let (d1, d2) = (step(&mut whole), step(&mut part));
            prop_assert_eq!(d1, d2);
        }
        prop_assert_eq!(
            serde_json::to_string(whole.history()).unwrap(),
            serde_json::to_string(part.history()).unwrap()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A limited history changes what is kept, never what is decided: the limited analysis
    /// decides as the full one at every interval, keeps exactly the latest records of the full
    /// history, and survives a save and resume at every interval (its check accepts it).
    #[test]
    fn limited_history_decides_as_full_and_keeps_the_latest_records(
        rule in any_rule(),
        seq in prop::collection::vec((0u32..40, 0u32..40, 100u32..2000, 0u32..300, 0u8..6), 1..25),
        limit in 1u64..5,
        warmup in 0u64..3,
    ) {
        let canary = CanaryPolicy::new(vec![errors_policy(), latency_policy()]);
        let policy = ProgressivePolicy::new(canary, rule).lifetime(20).warmup(warmup);
        let mut full = ProgressiveAnalysis::new(policy.clone()).unwrap();
        let mut limited = ProgressiveAnalysis::new(policy.history_limit(limit)).unwrap();
        for x in &seq {
            let step = |a: &mut ProgressiveAnalysis| match interval_data(*x) {
                Some(d) => a.update(&d),
                None => a.record_error("fetch failed"),
            };
            prop_assert_eq!(step(&mut full), step(&mut limited));
            // Compared as JSON: records hold NaN where nothing was estimated.
            let json = |r: &[canary_verdict::progressive::IntervalRecord]| serde_json::to_string(r).unwrap();
            let kept = full.history().len().min(limit as usize);
            prop_assert_eq!(json(limited.history()), json(&full.history()[full.history().len() - kept..]));
            prop_assert_eq!(limited.analysed(), full.analysed());
            let saved = serde_json::to_string(&limited).unwrap();
            let resumed: ProgressiveAnalysis = serde_json::from_str(&saved)
                .map_err(|e| TestCaseError::fail(format!("{e}: {saved}")))?;
            prop_assert_eq!(json(resumed.history()), json(limited.history()));
            limited = resumed;
        }
    }
}

/// With a history limit, the saved state of a counter-only sequential analysis stops growing
/// with the number of intervals; without one it grows by a record per interval.
#[test]
fn a_limited_history_keeps_the_saved_state_from_growing() {
    let canary = CanaryPolicy::new(vec![errors_policy()]);
    let saved_size = |limit: Option<u64>, intervals: usize| -> usize {
        let rule = SequentialRule {
            early_promotion: false,
            ..SequentialRule::default()
        };
        let mut policy = ProgressivePolicy::new(canary.clone(), ProgressiveRule::Sequential(rule))
            .lifetime(1000);
        policy.history_limit = limit;
        let mut a = ProgressiveAnalysis::new(policy).unwrap();
        for _ in 0..intervals {
            let d = [MetricData::new(
                "errors",
                Arms {
                    baseline: Series::total(5.0, 1000.0),
                    canary: Series::total(5.0, 1000.0),
                },
            )];
            assert_eq!(a.update(&d).unwrap(), Decision::Continue);
        }
        serde_json::to_string(&a).unwrap().len()
    };
    let (short, long) = (saved_size(Some(4), 30), saved_size(Some(4), 300));
    assert!(
        long * 10 < short * 11,
        "{short} bytes after 30 intervals, {long} after 300"
    );
    let (short, long) = (saved_size(None, 30), saved_size(None, 300));
    assert!(
        long > 5 * short,
        "unlimited: {short} bytes after 30 intervals, {long} after 300"
    );
}

#[test]
fn a_limited_history_is_checked_on_resume() {
    let canary = CanaryPolicy::new(vec![errors_policy(), latency_policy()]);
    let policy = ProgressivePolicy::new(canary, ProgressiveRule::Argo(ArgoRule::default()))
        .lifetime(20)
        .history_limit(2);
    let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
    for _ in 0..5 {
        a.update(&interval_data((1, 1, 1000, 0, 1)).unwrap())
            .unwrap();
    }
    assert_eq!(a.intervals(), 5);
    let numbers: Vec<u64> = a.history().iter().map(|r| r.interval).collect();
    assert_eq!(numbers, [4, 5]);
    let saved: serde_json::Value = serde_json::to_value(&a).unwrap();
    let load = |v: &serde_json::Value| serde_json::from_value::<ProgressiveAnalysis>(v.clone());
    load(&saved).unwrap();
    // A record too many, a renumbered record and a count the dropped records cannot explain.
    let mut longer = saved.clone();
    let first = longer["history"][0].clone();
    longer["history"].as_array_mut().unwrap().insert(0, first);
    assert!(load(&longer).unwrap_err().to_string().contains("history"));
    let mut renumbered = saved.clone();
    renumbered["history"][0]["interval"] = 3.into();
    assert!(load(&renumbered)
        .unwrap_err()
        .to_string()
        .contains("history.interval"));
    let mut overcounted = saved.clone();
    overcounted["analysed"] = 9.into();
    assert!(load(&overcounted).is_err());
    // Dropped warm-up records counted for nothing: with a warm-up of 3 and the latest 2 of 5
    // records kept, `analysed` is exactly the 2 kept ones.
    let mut warm = ProgressiveAnalysis::new(policy.clone().warmup(3)).unwrap();
    for _ in 0..5 {
        warm.update(&interval_data((1, 1, 1000, 0, 1)).unwrap())
            .unwrap();
    }
    assert_eq!(warm.analysed(), 2);
    let mut saved_warm = serde_json::to_value(&warm).unwrap();
    load(&saved_warm).unwrap();
    saved_warm["analysed"] = 3.into();
    assert!(load(&saved_warm)
        .unwrap_err()
        .to_string()
        .contains("analysed"));
    // A limit of 0 would keep no decision.
    let zero = ProgressivePolicy {
        history_limit: Some(0),
        ..policy
    };
    assert!(matches!(
        ProgressiveAnalysis::new(zero),
        Err(Error::InvalidPolicy {
            field: "history_limit",
            ..
        })
    ));
}

#[test]
fn sim_judged_rules_inflate_false_rollbacks_across_looks() {
    // The same identical arms through Argo's default rule (the first failed measurement
    // fails the run), each interval judged alone by the default judge (alpha 0.01): the
    // per-look error compounds over 20 looks. Kayenta's growing window is printed beside it.
    let runs = 400;
    let canary = CanaryPolicy::new(vec![errors_policy()]);
    let argo = ProgressivePolicy::new(canary.clone(), ProgressiveRule::Argo(ArgoRule::default()));
    let kayenta = ProgressivePolicy::new(canary, ProgressiveRule::Kayenta(KayentaRule::default()));
    let mut rng = Rng(31);
    let (mut argo_rb, mut kayenta_rb) = (0, 0);
    for _ in 0..runs {
        argo_rb += usize::from(
            run(&argo, &mut rng, |r, _| {
                vec![errors(r, 10_000.0, 0.001, 0.001)]
            })
            .0 == Decision::Rollback,
        );
        kayenta_rb += usize::from(
            run(&kayenta, &mut rng, |r, _| {
                vec![errors(r, 10_000.0, 0.001, 0.001)]
            })
            .0 == Decision::Rollback,
        );
    }
    let (a, k) = (
        argo_rb as f64 / runs as f64,
        kayenta_rb as f64 / runs as f64,
    );
    println!("judged rules, identical arms, 20 looks: argo (failure_limit 0) {a}, kayenta (growing window) {k} (judge alpha 0.01, seed 31)");
    // One look of the judge errs with probability at most 0.01; twenty looks add up.
    assert!(a > 0.03, "{a}");
}

// ---------------------------------------------------------------------------------------------
// The sequential rule's alpha, sides, must-have metrics (issue 12.4) and silence (issue 11.6)

/// `n` counter metrics `e0..`; every one at 10 errors in 10 000 requests per arm, except `e0`
/// whose canary errs `canary_errors` times.
fn counters(n: usize, canary_errors: f64) -> Vec<MetricData> {
    (0..n)
        .map(|i| {
            let c = if i == 0 { canary_errors } else { 10.0 };
            MetricData::new(
                format!("e{i}"),
                Arms {
                    baseline: Series::total(10.0, 10_000.0),
                    canary: Series::total(c, 10_000.0),
                },
            )
        })
        .collect()
}

#[test]
fn sequential_rule_rolls_back_at_one_over_alpha_i_with_several_metrics() {
    // Four counters share alpha 0.01 equally: each rolls back at 1/alpha_i = 400, not at
    // 1/alpha = 100. The e-value of e0 climbs through (100, 400) without a rollback.
    let metrics = (0..4)
        .map(|i| MetricPolicy::counter(format!("e{i}"), Direction::Increase))
        .collect();
    let rule = SequentialRule {
        early_promotion: false,
        ..SequentialRule::default()
    };
    let mut a = ProgressiveAnalysis::new(sequential(rule, metrics, 200)).unwrap();
    let mut passed_between = false;
    for _ in 0..200 {
        let d = a.update(&counters(4, 16.0)).unwrap();
        let e = &a.evidence()[0];
        assert_eq!(e.threshold(), 400.0);
        let value = e.e_value.unwrap();
        if d == Decision::Rollback {
            assert!(value >= 400.0 || e.p_value <= 0.0025, "{e}");
            break;
        }
        assert!(e.p_value > 0.0025, "{e}");
        passed_between |= value > 100.0 && value < 400.0;
    }
    assert!(
        passed_between,
        "the e-value never sat between 1/alpha and K/alpha"
    );
    assert_eq!(a.decision(), Decision::Rollback);
}

#[test]
fn sequential_rule_harm_side_follows_the_direction_decrease() {
    // `Decrease`: fewer successes (a counter) or a lower throughput (continuous) in the canary
    // is harm and rolls back; more is never harm.
    let success = MetricPolicy::counter("successes", Direction::Decrease);
    let throughput = MetricPolicy::new("throughput", Direction::Decrease);
    let data = |canary_successes: f64, canary_factor: f64| {
        vec![
            MetricData::new(
                "successes",
                Arms {
                    baseline: Series::total(9_000.0, 10_000.0),
                    canary: Series::total(canary_successes, 10_000.0),
                },
            ),
            MetricData::new(
                "throughput",
                Arms {
                    baseline: Series::samples((0..30).map(|i| 100.0 + f64::from(i))),
                    canary: Series::samples(
                        (0..30).map(|i| canary_factor * (100.0 + f64::from(i))),
                    ),
                },
            ),
        ]
    };
    let run_with = |successes: f64, factor: f64, only: &str| {
        let metrics = vec![success.clone(), throughput.clone()]
            .into_iter()
            .filter(|m| m.name == only)
            .collect();
        let mut a =
            ProgressiveAnalysis::new(sequential(SequentialRule::default(), metrics, 5)).unwrap();
        let mut d = Decision::Continue;
        for _ in 0..5 {
            let interval: Vec<MetricData> = data(successes, factor)
                .into_iter()
                .filter(|m| m.name == only)
                .collect();
            d = a.update(&interval).unwrap();
            if d.is_final() {
                break;
            }
        }
        d
    };
    assert_eq!(run_with(8_000.0, 1.0, "successes"), Decision::Rollback);
    assert_ne!(run_with(9_900.0, 1.0, "successes"), Decision::Rollback);
    assert_eq!(run_with(9_000.0, 0.5, "throughput"), Decision::Rollback);
    assert_ne!(run_with(9_000.0, 2.0, "throughput"), Decision::Rollback);
}

#[test]
fn sequential_rule_spends_alpha_over_the_lifetime() {
    // One continuous metric at the judge's alpha 0.01, lifetime 10: look k is tested at
    // 0.01 (ln(1 + (e-1) k/10) - ln(1 + (e-1)(k-1)/10)), and the levels add up to 0.01.
    let rule = SequentialRule {
        early_promotion: false,
        ..SequentialRule::default()
    };
    let mut a = ProgressiveAnalysis::new(sequential(rule, vec![latency_policy()], 10)).unwrap();
    let spent = |t: f64| (1.0 + (std::f64::consts::E - 1.0) * t).ln();
    let mut total = 0.0;
    for k in 1..=10 {
        let same = MetricData::new(
            "latency",
            Arms {
                baseline: Series::samples((0..10).map(|i| 100.0 + f64::from(i))),
                canary: Series::samples((0..10).map(|i| 100.5 + f64::from(i))),
            },
        );
        a.update(&[same]).unwrap();
        let e = &a.evidence()[0];
        let want = 0.01 * (spent(f64::from(k) / 10.0) - spent(f64::from(k - 1) / 10.0));
        assert!(
            (e.level - want).abs() <= 1e-15,
            "look {k}: {} vs {want}",
            e.level
        );
        assert_eq!(e.alpha, 0.01);
        total += e.level;
    }
    assert!((total - 0.01).abs() < 1e-12, "{total}");
}

#[test]
fn sequential_rule_uses_the_judges_alpha_and_the_critical_share() {
    // Default alpha: the judge's. One critical metric among four gets critical_alpha_share of
    // it; the other three split the rest.
    let mut metrics: Vec<MetricPolicy> = (0..4)
        .map(|i| MetricPolicy::counter(format!("e{i}"), Direction::Increase))
        .collect();
    metrics[2].critical = true;
    let mut canary = CanaryPolicy::new(metrics);
    canary.alpha = 0.02;
    canary.critical_alpha_share = 0.4;
    let policy = ProgressivePolicy::new(
        canary,
        ProgressiveRule::Sequential(SequentialRule::default()),
    );
    let a = ProgressiveAnalysis::new(policy).unwrap();
    let alphas: Vec<f64> = a.evidence().iter().map(|e| e.alpha).collect();
    let want = [0.004, 0.004, 0.008, 0.004];
    for (got, want) in alphas.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{alphas:?}");
    }
    assert!(a.evidence()[2].critical);
    assert!(a.to_string().contains("alpha 0.02"));
    // Two critical metrics split the critical share; a muted one is left out of the count.
    let mut metrics: Vec<MetricPolicy> = (0..5)
        .map(|i| MetricPolicy::counter(format!("e{i}"), Direction::Increase))
        .collect();
    metrics[0].critical = true;
    metrics[3].critical = true;
    metrics[4].muted = true;
    let mut canary = CanaryPolicy::new(metrics);
    canary.alpha = 0.02;
    canary.critical_alpha_share = 0.4;
    let policy = ProgressivePolicy::new(
        canary,
        ProgressiveRule::Sequential(SequentialRule::default()),
    );
    let a = ProgressiveAnalysis::new(policy).unwrap();
    let alphas: Vec<f64> = a.evidence().iter().map(|e| e.alpha).collect();
    let want = [0.004, 0.006, 0.006, 0.004, 0.006];
    for (got, want) in alphas.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{alphas:?}");
    }
}

#[test]
fn sequential_rule_rolls_back_a_constant_gauge_offset() {
    // Issue 11.3 through the rule: a gauge exactly 100 in the baseline and 150 in the canary.
    let gauge = MetricPolicy::new("queue_depth", Direction::Increase);
    let mut a =
        ProgressiveAnalysis::new(sequential(SequentialRule::default(), vec![gauge], 5)).unwrap();
    let mut d = Decision::Continue;
    for _ in 0..5 {
        let interval = MetricData::new(
            "queue_depth",
            Arms {
                baseline: Series::samples(vec![100.0; 10]),
                canary: Series::samples(vec![150.0; 10]),
            },
        );
        d = a.update(&[interval]).unwrap();
        if d.is_final() {
            break;
        }
    }
    assert_eq!(d, Decision::Rollback);
}

#[test]
fn sequential_must_have_metric_without_canary_data_is_never_promoted() {
    let mut latency = latency_policy();
    latency.must_have_data = true;
    let healthy = || {
        vec![MetricData::new(
            "errors",
            Arms {
                baseline: Series::total(100.0, 100_000.0),
                canary: Series::total(100.0, 100_000.0),
            },
        )]
    };
    for (action, want) in [
        (MustHaveAction::Rollback, Decision::Rollback),
        (MustHaveAction::Fail, Decision::Inconclusive),
    ] {
        let mut canary = CanaryPolicy::new(vec![errors_policy(), latency.clone()]);
        canary.missing_must_have = action;
        let policy = ProgressivePolicy::new(
            canary,
            ProgressiveRule::Sequential(SequentialRule {
                promotion_margin: 0.5,
                ..SequentialRule::default()
            }),
        )
        .lifetime(4);
        let mut a = ProgressiveAnalysis::new(policy).unwrap();
        let got: Vec<Decision> = (0..4).map(|_| a.update(&healthy()).unwrap()).collect();
        assert_eq!(got, [C, C, C, want]);
        assert!(
            a.history()[3].note.contains("must-have"),
            "{}",
            a.history()[3].note
        );
        // The errors counter alone is shown safe by then: the must-have metric held the
        // promotion back.
        assert!(a.evidence()[0].safe);
    }
}

#[test]
fn silence_is_never_promoted_by_any_rule() {
    let rules = [
        ProgressiveRule::Sequential(SequentialRule::default()),
        ProgressiveRule::Kayenta(KayentaRule::default()),
        ProgressiveRule::Argo(ArgoRule {
            consecutive_error_limit: 100,
            ..ArgoRule::default()
        }),
        ProgressiveRule::Flagger(FlaggerRule {
            threshold: 100,
            ..FlaggerRule::default()
        }),
    ];
    for rule in rules {
        for action in [NoDataAction::Inconclusive, NoDataAction::Rollback] {
            let requests = MetricPolicy {
                muted: true,
                ..MetricPolicy::counter("requests", Direction::Increase)
            };
            let canary = CanaryPolicy::new(vec![errors_policy(), latency_policy(), requests]);
            let mut policy = ProgressivePolicy::new(canary, rule.clone()).lifetime(5);
            policy.no_data = action;
            let want = match action {
                NoDataAction::Rollback => Decision::Rollback,
                _ => Decision::Inconclusive,
            };
            // Every fetch failed.
            let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
            let mut d = Decision::Continue;
            for _ in 0..5 {
                d = a.record_error("timeout").unwrap();
            }
            if matches!(rule, ProgressiveRule::Argo(_)) {
                // Argo retries errors: they do not use up the lifetime; its error limit ends it.
                assert_eq!(d, Decision::Continue, "{rule:?}");
            } else {
                assert_eq!(d, want, "{rule:?} {action:?}: {}", a.history()[4].note);
            }
            // No metric sent anything, or only empty series; or only the muted metric sent
            // data (it is not counted, so it is not data).
            let empty = vec![MetricData::new(
                "errors",
                Arms {
                    baseline: Series::counts(Vec::<(f64, f64)>::new()),
                    canary: Series::counts(Vec::<(f64, f64)>::new()),
                },
            )];
            let muted_only = vec![MetricData::new(
                "requests",
                Arms {
                    baseline: Series::total(0.0, 1000.0),
                    canary: Series::total(0.0, 1000.0),
                },
            )];
            let no_trials = vec![MetricData::new(
                "errors",
                Arms {
                    baseline: Series::total(0.0, 1000.0),
                    canary: Series::total(0.0, 0.0),
                },
            )];
            for alternate in [&empty, &muted_only, &no_trials] {
                let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
                let mut d = Decision::Continue;
                for k in 0..5 {
                    let interval: &[MetricData] = if k % 2 == 0 { &[] } else { alternate };
                    d = a.update(interval).unwrap();
                    if d.is_final() {
                        break;
                    }
                }
                assert!(d.is_final(), "{rule:?}");
                assert_ne!(d, Decision::Promote, "{rule:?}");
                if action == NoDataAction::Rollback {
                    assert_eq!(d, Decision::Rollback, "{rule:?}");
                }
            }
        }
    }
}

#[test]
fn recommended_policy_is_the_sequential_rule_at_the_judges_alpha() {
    let canary = CanaryPolicy::new(vec![errors_policy(), latency_policy()]);
    let p = ProgressivePolicy::recommended(canary.clone(), 10);
    assert_eq!(p.lifetime, 10);
    assert_eq!(p.warmup_intervals, 0);
    assert_eq!(p.no_data, NoDataAction::Inconclusive);
    let ProgressiveRule::Sequential(r) = &p.rule else {
        panic!("{:?}", p.rule)
    };
    assert_eq!(r, &SequentialRule::default());
    assert_eq!(r.alpha_for(&canary), canary.alpha);
    assert!(ProgressiveAnalysis::new(p).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Saved state is checked on load (issue 11.8)

/// A sequential analysis after two intervals, as JSON.
fn saved() -> serde_json::Value {
    let policy = sequential(
        SequentialRule::default(),
        vec![errors_policy(), latency_policy()],
        5,
    );
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    for _ in 0..2 {
        a.update(&[
            MetricData::new(
                "errors",
                Arms {
                    baseline: Series::total(5.0, 1000.0),
                    canary: Series::total(5.0, 1000.0),
                },
            ),
            MetricData::new(
                "latency",
                Arms {
                    baseline: Series::samples([10.0, 11.0, 12.0]),
                    canary: Series::samples([10.5, 11.5, 12.5]),
                },
            ),
        ])
        .unwrap();
    }
    serde_json::to_value(&a).unwrap()
}

/// One tampering of a saved state.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

fn load_error(edit: impl Fn(&mut serde_json::Value)) -> String {
    let mut v = saved();
    edit(&mut v);
    match serde_json::from_value::<ProgressiveAnalysis>(v) {
        Ok(a) => panic!("tampered state loaded: {a}"),
        Err(e) => e.to_string(),
    }
}

/// Each metric's evidence counts the intervals that carried canary data for it (an interval
/// whose canary sent nothing does not count, for a counter or a continuous metric), and a
/// counter's estimate is the ratio of the cumulative rates, each arm's events over its own
/// trials.
#[test]
fn sequential_evidence_counts_canary_intervals_and_estimates_the_rate_ratio() {
    let policy = sequential(
        SequentialRule::default(),
        vec![errors_policy(), latency_policy()],
        10,
    );
    let mut a = ProgressiveAnalysis::new(policy).unwrap();
    let interval = |canary_errors: Series, canary_latency: Vec<f64>| {
        vec![
            MetricData::new(
                "errors",
                Arms {
                    baseline: Series::total(10.0, 10_000.0),
                    canary: canary_errors,
                },
            ),
            MetricData::new(
                "latency",
                Arms {
                    baseline: Series::samples([10.0, 11.0, 12.0]),
                    canary: Series::samples(canary_latency),
                },
            ),
        ]
    };
    a.update(&interval(
        Series::total(30.0, 15_000.0),
        vec![10.5, 11.5, 12.5],
    ))
    .unwrap();
    a.update(&interval(Series::total(0.0, 0.0), Vec::new()))
        .unwrap();
    let e = a.evidence();
    assert_eq!((e[0].intervals, e[1].intervals), (1, 1));
    // 30 / 15 000 over 20 / 20 000 (the baseline's two intervals).
    assert!((e[0].estimate - 2.0).abs() < 1e-12, "{}", e[0].estimate);
    a.update(&interval(Series::total(0.0, 10_000.0), vec![10.5]))
        .unwrap();
    let e = a.evidence();
    assert_eq!((e[0].intervals, e[1].intervals), (2, 2));
    // 30 / 25 000 over 30 / 30 000.
    assert!((e[0].estimate - 1.2).abs() < 1e-12, "{}", e[0].estimate);
}

/// A continuous metric is tested only once each arm's cumulative window holds `min_samples`
/// points: three points of a canary ten times slower are not tested at the first look.
#[test]
fn sequential_rule_waits_for_min_samples() {
    let mut latency = latency_policy();
    latency.min_samples = 5;
    let mut a =
        ProgressiveAnalysis::new(sequential(SequentialRule::default(), vec![latency], 10)).unwrap();
    let slow = vec![MetricData::new(
        "latency",
        Arms {
            baseline: Series::samples([10.0, 11.0, 12.0]),
            canary: Series::samples([100.0, 110.0, 120.0]),
        },
    )];
    assert_eq!(a.update(&slow).unwrap(), C);
    assert!(
        a.evidence()[0].p_value.is_nan(),
        "{}",
        a.evidence()[0].p_value
    );
    a.update(&slow).unwrap();
    assert!(
        a.evidence()[0].p_value < 0.01,
        "{}",
        a.evidence()[0].p_value
    );
}

/// A judged rule's saved window: no longer than its lookback, of the policy's metrics only;
/// its counters: as many measurements as analysed intervals.
#[test]
fn tampered_judged_state_is_refused() {
    let kayenta = ProgressiveRule::Kayenta(KayentaRule {
        window: Window::Sliding { lookback: 1 },
        ..KayentaRule::default()
    });
    let mut a = ProgressiveAnalysis::new(judged(kayenta, 5)).unwrap();
    feed(&mut a, &[PASS, PASS]);
    let v = serde_json::to_value(&a).unwrap();
    assert!(serde_json::from_value::<ProgressiveAnalysis>(v.clone()).is_ok());
    let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut t = v.clone();
        edit(&mut t);
        serde_json::from_value::<ProgressiveAnalysis>(t)
            .unwrap_err()
            .to_string()
    };
    let e = refused(&|t| {
        let w = t["state"]["judged"]["window"][0].clone();
        t["state"]["judged"]["window"] = serde_json::json!([w.clone(), w]);
    });
    assert!(e.contains("state.judged.window"), "{e}");
    assert!(e.contains("2 intervals in a sliding window of 1"), "{e}");
    let e = refused(&|t| t["state"]["judged"]["window"][0][1]["name"] = "c".into());
    assert!(e.contains("the policy does not list this metric"), "{e}");
    // The counters account for the analysed intervals: Kayenta keeps none; Argo one
    // measurement per interval (a failure cannot be erased to escape its limit); Flagger one
    // check per interval.
    let e = refused(&|t| t["state"]["judged"]["successful"] = 2.into());
    assert!(e.contains("state.judged"), "{e}");
    let e = refused(&|t| t["analysed"] = 1.into());
    assert!(e.contains("1 against 2 intervals that counted"), "{e}");
    // A finished lifetime has a final decision.
    let mut done =
        ProgressiveAnalysis::new(judged(ProgressiveRule::Argo(ArgoRule::default()), 2)).unwrap();
    assert_eq!(feed(&mut done, &[PASS, PASS]), [C, P]);
    let mut t = serde_json::to_value(&done).unwrap();
    t["decision"] = "continue".into();
    t["history"][1]["decision"] = "continue".into();
    let e = serde_json::from_value::<ProgressiveAnalysis>(t)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the lifetime is over but the decision is not final"),
        "{e}"
    );
    let argo_rule = ArgoRule {
        failure_limit: 2,
        ..ArgoRule::default()
    };
    for rule in [
        ProgressiveRule::Argo(argo_rule),
        ProgressiveRule::Flagger(FlaggerRule {
            threshold: 3,
            ..FlaggerRule::default()
        }),
    ] {
        let argo = matches!(rule, ProgressiveRule::Argo(_));
        let mut a = ProgressiveAnalysis::new(judged(rule, 5)).unwrap();
        feed(&mut a, &[PASS, FAIL, PASS]);
        let v = serde_json::to_value(&a).unwrap();
        assert!(serde_json::from_value::<ProgressiveAnalysis>(v.clone()).is_ok());
        let mut edits: Vec<(&str, u64)> = vec![
            ("failed", 0),
            ("successful", 1),
            ("successful", u64::MAX),
            ("successes_in_a_row", 3),
        ];
        if !argo {
            edits.extend([("inconclusive", 1), ("errors_in_a_row", 1)]);
        }
        for (field, value) in edits {
            let mut t = v.clone();
            t["state"]["judged"][field] = value.into();
            let e = serde_json::from_value::<ProgressiveAnalysis>(t)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("do not account for 3 analysed intervals"),
                "{field}: {e}"
            );
        }
    }
}

#[test]
fn tampered_state_is_refused_naming_the_field() {
    // The untouched state loads and equals itself.
    let ok: ProgressiveAnalysis = serde_json::from_value(saved()).unwrap();
    assert_eq!(serde_json::to_value(&ok).unwrap(), saved());
    let monitors = |v: &mut serde_json::Value| v["state"]["sequential"]["monitors"].clone();
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["state"]["sequential"]["monitors"] = serde_json::json!([])),
            "state.sequential.monitors",
        ),
        (
            Box::new(|v| v["state"]["sequential"]["monitors"][1]["name"] = "cpu".into()),
            "state.sequential.monitors.name",
        ),
        (
            Box::new(move |v| {
                let m = monitors(v);
                v["state"]["sequential"]["monitors"][1] = m[0].clone();
            }),
            "state.sequential.monitors",
        ),
        (
            Box::new(|v| {
                v["history"][0]["interval"] = 2.into();
                v["history"][1]["interval"] = 1.into();
            }),
            "history.interval",
        ),
        (Box::new(|v| v["analysed"] = 9.into()), "analysed"),
        // Two analysed records: no more intervals can have counted (fewer: below).
        (
            Box::new(|v| v["analysed"] = 3.into()),
            "3 against 2 intervals that counted",
        ),
        (
            Box::new(|v| {
                v["analysed"] = 9.into();
                v["intervals"] = 9.into();
            }),
            "history",
        ),
        (Box::new(|v| v["decision"] = "promote".into()), "decision"),
        (
            Box::new(|v| v["history"][0]["decision"] = "rollback".into()),
            "history.decision",
        ),
        (
            Box::new(|v| {
                v["state"]["sequential"]["monitors"][1]["track"]["continuous"]["p_value"] =
                    (-0.5).into()
            }),
            "p_value",
        ),
        (
            Box::new(|v| v["state"]["sequential"]["monitors"][0]["intervals"] = 7.into()),
            "state.sequential.monitors.intervals",
        ),
        // A counter's totals: more events than trials in either arm alone (10 of 2 000 each).
        (
            Box::new(|v| {
                v["state"]["sequential"]["monitors"][0]["track"]["counter"]["canary"]["events"] =
                    2001.into()
            }),
            "state.sequential.monitors.track.events",
        ),
        (
            Box::new(|v| {
                v["state"]["sequential"]["monitors"][0]["track"]["counter"]["baseline"]["events"] =
                    2001.into()
            }),
            "state.sequential.monitors.track.events",
        ),
        // A counter's e-processes: built from other settings, or a running maximum below 0.
        (
            Box::new(|v| {
                v["state"]["sequential"]["monitors"][0]["track"]["counter"]["harm"]["split"]
                    ["config"]["null_rate_ratio"] = 1.2.into()
            }),
            "e-process settings differ from the policy's",
        ),
        (
            Box::new(|v| {
                v["state"]["sequential"]["monitors"][0]["track"]["counter"]["safety"][0]["split"]
                    ["config"]["alternative"] = "greater".into()
            }),
            "e-process settings differ from the policy's",
        ),
        (
            Box::new(|v| {
                v["state"]["sequential"]["monitors"][0]["track"]["counter"]["harm"]["split"]
                    ["max_log_e"] = (-1.0).into()
            }),
            "max_log_e",
        ),
        (
            Box::new(|v| {
                v["state"] = serde_json::json!({"judged": {
                    "window": [], "failed": 0, "inconclusive": 0, "successful": 0,
                    "errors_in_a_row": 0, "successes_in_a_row": 0, "last_judgment": null
                }})
            }),
            "does not belong",
        ),
        (Box::new(|v| v["extra"] = 1.into()), "unknown field"),
        (
            Box::new(|v| v["state"]["sequential"]["monitors"][0]["weight"] = 1.into()),
            "unknown field",
        ),
        (
            Box::new(|v| v["history"][0]["verdikt"] = 1.into()),
            "unknown field",
        ),
    ];
    for (edit, field) in cases {
        let e = load_error(edit);
        assert!(e.contains(field), "expected {field:?} in {e:?}");
    }
    // A silent canary cannot be made to look as if it had sent data.
    let policy = sequential(SequentialRule::default(), vec![errors_policy()], 5);
    let mut silent = ProgressiveAnalysis::new(policy).unwrap();
    silent.record_error("timeout").unwrap();
    let mut v = serde_json::to_value(&silent).unwrap();
    assert!(serde_json::from_value::<ProgressiveAnalysis>(v.clone()).is_ok());
    v["data_seen"] = true.into();
    let e = serde_json::from_value::<ProgressiveAnalysis>(v)
        .unwrap_err()
        .to_string();
    assert!(e.contains("data_seen"), "{e}");
}

/// The Kayenta rule judged by Kayenta's judge accepts exactly the configs `judge_kayenta`
/// accepts: weights that do not total 100 and a group without a weight are Kayenta's (refused by
/// the crate's own rules), and a measure Kayenta has no equivalent for is refused by both.
#[test]
fn kayenta_rule_accepts_exactly_what_judge_kayenta_accepts() {
    let read = |f: &str| std::fs::read_to_string(fixture_path(&format!("kayenta/{f}"))).unwrap();
    let thresholds = ScoreThresholds {
        pass: 75.0,
        marginal: 50.0,
    };
    let mut policy = policy_from_kayenta(&read("config.json"), thresholds).unwrap();
    let data = data_from_kayenta(&read("data.json")).unwrap();
    // Only the first group keeps a weight, and it does not total 100.
    let first = policy.metrics[0].group_names()[0].clone();
    policy.group_weights = [(first, 30.0)].into_iter().collect();
    assert!(policy
        .metrics
        .iter()
        .any(|m| m.group_names()[0] != policy.metrics[0].group_names()[0]));
    assert!(
        policy.validate().is_err(),
        "the crate's own rules refuse it"
    );
    assert!(
        judge_kayenta(&policy, &data).is_ok(),
        "Kayenta's judge accepts it"
    );
    let rule = |kayenta_judge| {
        ProgressiveRule::Kayenta(KayentaRule {
            window: Window::Sliding { lookback: 1 },
            kayenta_judge,
        })
    };
    let mut a =
        ProgressiveAnalysis::new(ProgressivePolicy::new(policy.clone(), rule(true)).lifetime(3))
            .expect("accepted as judge_kayenta accepts it");
    assert!(a.update(&data).is_ok());
    match ProgressiveAnalysis::new(ProgressivePolicy::new(policy.clone(), rule(false)).lifetime(3))
    {
        Err(Error::InvalidPolicy { field, .. }) => assert_eq!(field, "group_weights"),
        other => panic!("the crate's judge refuses a group without a weight: {other:?}"),
    }
    // A measure Kayenta has no equivalent for: refused by both, with the same field.
    policy.metrics[0].tolerance.measure = canary_verdict::policy::EffectMeasure::RelativeShift;
    let direct = judge_kayenta(&policy, &data).unwrap_err();
    let progressive =
        ProgressiveAnalysis::new(ProgressivePolicy::new(policy, rule(true)).lifetime(3))
            .unwrap_err();
    assert_eq!(direct.to_string(), progressive.to_string());
}
