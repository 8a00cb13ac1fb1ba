//! The decision layer's rules, each pinned by a test named after it: effect scales that keep
//! the direction of harm, critical breaches decided by the interval, alpha reserved for critical
//! metrics, must-have metrics, data sufficiency and dependence-aware inference.

use crate::common::{judge_one, Rng};
use canary_verdict::Arms;
use canary_verdict::{
    judge, policy::EffectMeasure, CanaryPolicy, Classification, Direction, MetricData, MetricKind,
    MetricPolicy, Series, Tolerance, Verdict,
};

fn noisy(rng: &mut Rng, n: usize, centre: f64, sd: f64) -> Vec<f64> {
    (0..n).map(|_| centre + sd * rng.normal()).collect()
}

/// One metric judged alone on raw samples.
fn one(policy: MetricPolicy, baseline: Vec<f64>, canary: Vec<f64>) -> canary_verdict::Judgment {
    judge_one(policy, Series::samples(baseline), Series::samples(canary))
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

fn minutes(n: usize) -> Vec<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    let t0 = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    (0..n)
        .map(|i| t0 + chrono::Duration::minutes(i as i64))
        .collect()
}

#[test]
fn critical_breach_is_decided_by_the_interval_not_the_estimate() {
    // A shift whose estimate is past +5% but whose interval reaches below it is not a breach;
    // the same shift with more data (a tighter interval) is.
    let mut rng = Rng(21);
    let policy = MetricPolicy::new("latency", Direction::Increase);
    let wide = one(
        policy.clone(),
        noisy(&mut rng, 40, 100.0, 6.0),
        noisy(&mut rng, 40, 107.0, 6.0),
    );
    let m = &wide.metrics[0];
    let ci = m.effect_interval.unwrap();
    assert!(m.effect.unwrap() > 1.05 && ci.lower < 1.05, "{wide}");
    assert!(!m.critical_breach, "{wide}");
    assert_ne!(wide.verdict, Verdict::Rollback, "{wide}");
    let tight = one(
        policy,
        noisy(&mut rng, 4000, 100.0, 6.0),
        noisy(&mut rng, 4000, 107.0, 6.0),
    );
    let m = &tight.metrics[0];
    assert!(m.effect_interval.unwrap().lower > 1.05, "{tight}");
    assert!(m.critical_breach);
    assert_eq!(tight.verdict, Verdict::Rollback);
}

#[test]
fn decrease_side_critical_breach_uses_the_upper_end() {
    let mut rng = Rng(22);
    let policy = MetricPolicy::new("throughput", Direction::Decrease);
    let j = one(
        policy.clone(),
        noisy(&mut rng, 2000, 100.0, 3.0),
        noisy(&mut rng, 2000, 90.0, 3.0),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Low, "{j}");
    assert!(m.effect_interval.unwrap().upper < 0.95 && m.critical_breach);
    assert_eq!(j.verdict, Verdict::Rollback);
    // An increase of a decrease-harm metric is never a failure.
    let j = one(
        policy,
        noisy(&mut rng, 2000, 100.0, 3.0),
        noisy(&mut rng, 2000, 110.0, 3.0),
    );
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
}

#[test]
fn critical_metrics_get_their_reserved_share_of_alpha() {
    // One critical metric among 30: its share is alpha/2 (0.005), not alpha/31.
    let mut metrics = vec![MetricPolicy {
        critical: true,
        ..MetricPolicy::new("m00", Direction::Increase)
    }];
    metrics.extend((1..31).map(|i| MetricPolicy::new(format!("m{i:02}"), Direction::Increase)));
    let mut rng = Rng(23);
    let data: Vec<MetricData> = (0..31)
        .map(|i| {
            MetricData::new(
                format!("m{i:02}"),
                Arms {
                    baseline: Series::samples(noisy(&mut rng, 60, 100.0, 5.0)),
                    canary: Series::samples(noisy(&mut rng, 60, 100.0, 5.0)),
                },
            )
        })
        .collect();
    let j = judge(&CanaryPolicy::new(metrics.clone()), &data).unwrap();
    let share = j.metrics[0].alpha_share.unwrap();
    assert!((share - 0.005).abs() < 1e-15, "{share}");
    let other = j.metrics[1].alpha_share.unwrap();
    assert!((other - 0.005 / 30.0).abs() < 1e-15, "{other}");
    // With the share at 0.9 the critical metric gets 0.009.
    let mut p = CanaryPolicy::new(metrics);
    p.critical_alpha_share = 0.9;
    let j = judge(&p, &data).unwrap();
    assert!((j.metrics[0].alpha_share.unwrap() - 0.009).abs() < 1e-15);
}

#[test]
fn missing_must_have_metric_rolls_back_or_fails_as_configured() {
    let mut rng = Rng(24);
    let metrics = vec![
        MetricPolicy::new("latency", Direction::Increase),
        MetricPolicy {
            must_have_data: true,
            ..MetricPolicy::new("cpu", Direction::Increase)
        },
    ];
    let data = [MetricData::new(
        "latency",
        Arms {
            baseline: Series::samples(noisy(&mut rng, 60, 100.0, 3.0)),
            canary: Series::samples(noisy(&mut rng, 60, 100.0, 3.0)),
        },
    )];
    let mut policy = CanaryPolicy::new(metrics);
    let j = judge(&policy, &data).unwrap();
    assert_eq!(j.metrics[1].classification, Classification::NoDataFail);
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    policy.missing_must_have = canary_verdict::policy::MustHaveAction::Fail;
    let j = judge(&policy, &data).unwrap();
    // A failure in the score (50: below marginal) rather than a rollback of its own.
    assert!(!j
        .reasons
        .iter()
        .any(|r| r.metric.as_deref() == Some("cpu")
            && r.severity == canary_verdict::Severity::Critical));
    assert_eq!(j.score, Some(50.0));
}

#[test]
fn an_inconclusive_metric_caps_the_verdict_at_marginal() {
    let mut rng = Rng(25);
    let metrics = vec![
        MetricPolicy::new("latency", Direction::Increase),
        MetricPolicy::counter("errors", Direction::Increase),
    ];
    let data = [
        MetricData::new(
            "latency",
            Arms {
                baseline: Series::samples(noisy(&mut rng, 60, 100.0, 3.0)),
                canary: Series::samples(noisy(&mut rng, 60, 100.0, 3.0)),
            },
        ),
        // 0 against 6 errors out of 10 000 each: 2^-6 > 0.005, no outcome could be significant.
        MetricData::new(
            "errors",
            Arms {
                baseline: Series::total(0.0, 10_000.0),
                canary: Series::total(6.0, 10_000.0),
            },
        ),
    ];
    let j = judge(&CanaryPolicy::new(metrics), &data).unwrap();
    assert_eq!(
        j.metrics[1].classification,
        Classification::Inconclusive,
        "{j}"
    );
    assert!(
        j.metrics[1]
            .reason
            .contains("smallest possible p = 0.01562"),
        "{j}"
    );
    assert_eq!(j.verdict, Verdict::Marginal, "{j}");
}

/// A rank-sum test on arms of n and m points cannot give a p below `1 / C(n + m, n)` (twice
/// that two-sided): where that floor is above the metric's alpha share, a harmless-looking
/// result is Inconclusive, and the reason states the floor.
#[test]
fn a_rank_tests_smallest_possible_p_is_stated_per_side() {
    // Judged at alpha 0.001, each side's floor is above the share: Inconclusive, the floor
    // stated.
    let floor_stated = |direction, baseline: Series, canary: Series, floor: &str| {
        let mut policy = CanaryPolicy::new(vec![MetricPolicy::new("latency", direction)]);
        policy.alpha = 0.001;
        let data = [MetricData::new("latency", Arms { baseline, canary })];
        let j = judge(&policy, &data).unwrap();
        let m = &j.metrics[0];
        assert_eq!(m.classification, Classification::Inconclusive, "{j}");
        assert!(
            m.reason.contains(&format!("smallest possible p = {floor}")),
            "{direction:?}: {j}"
        );
        j
    };
    let baseline: Vec<f64> = (1..=5).map(f64::from).collect();
    let canary: Vec<f64> = baseline.iter().map(|v| v + 0.5).collect();
    // C(10, 5) = 252: 1/252 one-sided, 2/252 two-sided.
    for (direction, floor) in [
        (Direction::Increase, "0.003968"),
        (Direction::Either, "0.007937"),
    ] {
        let (b, c) = (
            Series::samples(baseline.clone()),
            Series::samples(canary.clone()),
        );
        floor_stated(direction, b, c, floor);
    }
    // The signed-rank test on n pairs cannot go below 2^-n (twice that two-sided).
    let times = minutes(8);
    let base: Vec<f64> = (0..8).map(|i| 100.0 + f64::from(i % 3)).collect();
    let diffs = [0.5, -0.2, 0.3, 0.1, -0.4, 0.6, 0.2, -0.1];
    let points = |v: &mut dyn Iterator<Item = f64>| Series::points(times.iter().copied().zip(v));
    for (direction, floor) in [
        (Direction::Increase, "0.003906"),
        (Direction::Either, "0.007812"),
    ] {
        let b = points(&mut base.iter().copied());
        let c = points(&mut base.iter().zip(diffs).map(|(b, d)| b + d));
        let j = floor_stated(direction, b, c, floor);
        assert!(
            matches!(
                j.metrics[0].details,
                Some(canary_verdict::judgment::TestDetails::SignedRank { .. })
            ),
            "{j}"
        );
    }
}

/// A counter's summaries are its rates (events over trials, the Bernoulli sd), and a bound on a
/// counter bounds the canary's rate.
#[test]
fn counter_summaries_are_rates_and_bounds_bound_the_rate() {
    use canary_verdict::policy::{Bounds, Statistic};
    let policy = |max| MetricPolicy {
        bounds: Some(Bounds {
            statistic: Statistic::Mean,
            max: Some(max),
            ..Bounds::default()
        }),
        ..MetricPolicy::counter("errors", Direction::Increase)
    };
    let run = |max| {
        judge_one(
            policy(max),
            Series::total(58.0, 1000.0),
            Series::total(60.0, 1000.0),
        )
    };
    let j = run(0.05);
    let m = &j.metrics[0];
    for (s, rate) in [(m.baseline.as_ref(), 0.058), (m.canary.as_ref(), 0.06)] {
        let s = s.expect("a counter has summaries");
        assert_eq!(
            (s.count, s.mean, s.min, s.max),
            (1000, rate, 0.0, 1.0),
            "{j}"
        );
        assert_eq!(s.sd, (rate * (1.0 - rate)).sqrt(), "{j}");
    }
    assert!(m.critical_breach, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    assert!(!run(0.07).metrics[0].critical_breach);
}

/// The count test conditions on the events seen: all `E` of them in one arm has probability
/// `π^E` (the canary's share of trials `π`), the smallest p it can give on that side, twice
/// that two-sided. With no events at all nothing could have moved, and the metric passes.
#[test]
fn a_count_tests_smallest_possible_p_follows_the_direction() {
    let counter = |d| MetricPolicy::counter("successes", d);
    for (direction, canary_events, floor) in [
        (Direction::Increase, 6.0, "0.01562"),
        (Direction::Decrease, 0.0, "0.01562"),
        (Direction::Either, 0.0, "0.03125"),
    ] {
        let baseline_events = 6.0 - canary_events;
        let j = judge_one(
            counter(direction),
            Series::total(baseline_events, 10_000.0),
            Series::total(canary_events, 10_000.0),
        );
        let m = &j.metrics[0];
        assert_eq!(m.classification, Classification::Inconclusive, "{j}");
        assert!(
            m.reason.contains(&format!("smallest possible p = {floor}")),
            "{direction:?}: {j}"
        );
    }
    for direction in [Direction::Increase, Direction::Decrease, Direction::Either] {
        let j = judge_one(
            counter(direction),
            Series::total(0.0, 10_000.0),
            Series::total(0.0, 10_000.0),
        );
        let m = &j.metrics[0];
        assert_eq!(m.classification, Classification::Pass, "{direction:?}: {j}");
        let summary = m.canary.as_ref().expect("a counter has summaries");
        assert_eq!((summary.min, summary.max), (0.0, 0.0), "{j}");
    }
}

#[test]
fn min_samples_applies_to_counter_trials() {
    let m = MetricPolicy {
        min_samples: 100,
        ..MetricPolicy::counter("errors", Direction::Increase)
    };
    let j = judge(
        &CanaryPolicy::new(vec![m]),
        &[MetricData::new(
            "errors",
            Arms {
                baseline: Series::total(0.0, 6.0),
                canary: Series::total(6.0, 6.0),
            },
        )],
    )
    .unwrap();
    assert_eq!(j.metrics[0].classification, Classification::Inconclusive);
    assert_eq!(
        j.metrics[0].reason,
        "needs at least 100 trials per arm, has 6 baseline and 6 canary"
    );
    assert_ne!(j.verdict, Verdict::Promote);
}

#[test]
fn a_metric_that_could_not_detect_its_tolerance_is_inconclusive() {
    // 12 points per arm with 40% noise: the smallest detectable change is far above 20%.
    let mut rng = Rng(26);
    let j = one(
        MetricPolicy::new("latency", Direction::Increase),
        noisy(&mut rng, 12, 100.0, 40.0),
        noisy(&mut rng, 12, 100.0, 40.0),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Inconclusive, "{j}");
    assert!(m.detectable.unwrap() > 0.2, "{j}");
    assert!(m.reason.starts_with("could not tell"), "{}", m.reason);
    // With a looser sufficiency rule the same data pass.
    let mut p = CanaryPolicy::new(vec![MetricPolicy::new("latency", Direction::Increase)]);
    p.sufficiency_multiple = 1e6;
    let j = judge(
        &p,
        &[MetricData::new(
            "latency",
            Arms {
                baseline: Series::samples(noisy(&mut rng, 12, 100.0, 40.0)),
                canary: Series::samples(noisy(&mut rng, 12, 100.0, 40.0)),
            },
        )],
    )
    .unwrap();
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
}

#[test]
fn serially_correlated_points_are_corrected_and_stay_calibrated() {
    // Paired per-minute points with AR(1) 0.8 arm noise: the plain signed-rank test rejects
    // far too often; the corrected one stays near its level. 400 canaries, one-sided level
    // 0.01: at most 0.01·400 + 3 sd = 10.
    let mut rng = Rng(27);
    let times = minutes(60);
    let policy = CanaryPolicy::new(vec![MetricPolicy::new("gauge", Direction::Increase)]);
    let mut significant = 0;
    let mut inflated = 0;
    for _ in 0..400 {
        let arm = |rng: &mut Rng| -> Series {
            Series::points(
                times
                    .iter()
                    .zip(rng.ar1(0.8, 60))
                    .map(|(t, x)| (*t, 100.0 * (0.05 * x).exp())),
            )
        };
        let (b, c) = (arm(&mut rng), arm(&mut rng));
        let j = judge(
            &policy,
            &[MetricData::new(
                "gauge",
                Arms {
                    baseline: b,
                    canary: c,
                },
            )],
        )
        .unwrap();
        let m = &j.metrics[0];
        significant += usize::from(m.p_value.unwrap() < 0.01);
        inflated += usize::from(m.dependence.unwrap().inflation > 3.0);
    }
    assert!(
        significant <= 10,
        "{significant} of 400 significant at 0.01"
    );
    assert!(
        inflated >= 300,
        "the correlation was seen in {inflated} of 400"
    );
}

#[test]
fn default_p99_aspect_catches_a_doubled_spread_and_is_a_breach() {
    let mut rng = Rng(28);
    let lognormal = |rng: &mut Rng, n: usize, s: f64| -> Vec<f64> {
        (0..n).map(|_| 100.0 * (s * rng.normal()).exp()).collect()
    };
    let b = lognormal(&mut rng, 5000, 0.3);
    let c = lognormal(&mut rng, 5000, 0.6);
    let j = one(
        MetricPolicy::new("latency", Direction::Increase),
        b.clone(),
        c.clone(),
    );
    let m = &j.metrics[0];
    assert_eq!(m.tails.len(), 1, "{j}");
    assert!(m.tails[0].regressed && m.critical_breach, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback);
    // Off, the location test alone sees nothing.
    let off = MetricPolicy {
        auto_tails: false,
        ..MetricPolicy::new("latency", Direction::Increase)
    };
    let j = one(off, b, c);
    assert!(j.metrics[0].tails.is_empty());
    assert_ne!(j.verdict, Verdict::Rollback, "{j}");
}

#[test]
fn blocks_are_compared_within_their_minute() {
    // A load that moves both arms minute by minute cancels within blocks; a +20% canary is
    // found; blocks parse from JSON; duplicated timestamps and signed_rank are errors.
    let mut rng = Rng(29);
    let times = minutes(30);
    let arm = |rng: &mut Rng, scale: f64| -> Series {
        Series::blocks(
            times
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let load = 1.0 + 0.5 * ((i % 6) as f64);
                    let v = (0..40)
                        .map(|_| 100.0 * scale * load * (0.3 * rng.normal()).exp())
                        .collect();
                    (*t, v)
                })
                .collect::<Vec<_>>(),
        )
    };
    let policy = MetricPolicy::new("latency", Direction::Increase);
    let judge_blocks = |p: MetricPolicy, b: Series, c: Series| {
        judge(
            &CanaryPolicy::new(vec![p]),
            &[MetricData::new(
                "latency",
                Arms {
                    baseline: b,
                    canary: c,
                },
            )],
        )
        .unwrap()
    };
    let j = judge_blocks(policy.clone(), arm(&mut rng, 1.0), arm(&mut rng, 1.2));
    assert!(
        matches!(
            j.metrics[0].details,
            Some(canary_verdict::judgment::TestDetails::Blocked {
                blocks: 30,
                unmatched: 0,
                ..
            })
        ),
        "{j}"
    );
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    let j = judge_blocks(policy.clone(), arm(&mut rng, 1.0), arm(&mut rng, 1.0));
    assert_eq!(j.verdict, Verdict::Promote, "{j}");
    let json = r#"{"blocks": [{"timestamp": "2026-12-01T12:00:00Z", "values": [1.0, 2.0]},
                              {"timestamp": "2026-12-01T12:00:00Z", "values": [3.0]}]}"#;
    let dup: Series = serde_json::from_str(json).unwrap();
    let j = judge_blocks(policy.clone(), dup.clone(), arm(&mut rng, 1.0));
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert!(j.metrics[0].reason.contains("timestamp"), "{j}");
    let signed = MetricPolicy {
        comparator: canary_verdict::policy::Comparator::SignedRank,
        ..policy
    };
    let j = judge_blocks(signed, arm(&mut rng, 1.0), arm(&mut rng, 1.0));
    assert_eq!(j.metrics[0].classification, Classification::Error, "{j}");
}

#[test]
fn progressive_records_escape_names_and_notes() {
    use canary_verdict::{ProgressiveAnalysis, ProgressivePolicy};
    let name = "errors\n[critical] forged";
    let canary = CanaryPolicy::new(vec![MetricPolicy::counter(name, Direction::Increase)]);
    let mut a = ProgressiveAnalysis::new(ProgressivePolicy::recommended(canary, 5)).unwrap();
    a.update(&[MetricData::new(
        name,
        Arms {
            baseline: Series::total(1.0, 1000.0),
            canary: Series::total(1.0, 1000.0),
        },
    )])
    .unwrap();
    a.record_error("fetch failed\n[critical] forged too")
        .unwrap();
    for record in a.history() {
        let text = record.to_string();
        assert!(text.lines().all(|l| !l.starts_with("[critical]")), "{text}");
    }
}

/// A record reads as one line per interval: number, decision, what was measured, and the note
/// in brackets only when there is one.
#[test]
fn progressive_records_read_as_one_line_per_interval() {
    use canary_verdict::progressive::{IntervalKind, IntervalRecord};
    use canary_verdict::Decision;
    let mut record = IntervalRecord {
        interval: 7,
        kind: IntervalKind::Analysed,
        decision: Decision::Continue,
        verdict: Some(Verdict::Marginal),
        score: Some(87.5),
        measurement: None,
        evidence: Vec::new(),
        note: String::new(),
    };
    assert_eq!(
        record.to_string(),
        "interval   7: CONTINUE     verdict MARGINAL score 87.50"
    );
    // Every label honours a requested width, so callers can align their own tables.
    assert_eq!(format!("{:<9}|", Verdict::Promote), "PROMOTE  |");
    assert_eq!(format!("{:>6}|", Classification::High), "  HIGH|");
    assert_eq!(format!("{:^10}|", Decision::Rollback), " ROLLBACK |");
    record.note = "1 of 3 failures".into();
    assert_eq!(
        record.to_string(),
        "interval   7: CONTINUE     verdict MARGINAL score 87.50 (1 of 3 failures)"
    );
    // Argo's and Flagger's records name the measurement the window counted as.
    use canary_verdict::progressive::Measurement;
    for (m, name) in [
        (Measurement::Successful, "successful"),
        (Measurement::Failed, "failed"),
        (Measurement::Inconclusive, "inconclusive"),
        (Measurement::Error, "error"),
    ] {
        record.measurement = Some(m);
        assert_eq!(
            record.to_string(),
            format!("interval   7: CONTINUE     verdict MARGINAL score 87.50 measurement {name} (1 of 3 failures)")
        );
    }
    assert_eq!(format!("{:>8}|", Measurement::Failed), "  failed|");
}

#[test]
fn mirrored_correlated_points_give_the_same_verdict() {
    // Paired per-minute points with serial correlation, and the same arms negated with the
    // direction flipped: the dependence correction sees the same log ratios, so the judgments
    // agree.
    let mut rng = Rng(30);
    let times = minutes(60);
    for shift in [1.0, 1.08, 1.3] {
        let noise_b = rng.ar1(0.6, 60);
        let noise_c = rng.ar1(0.6, 60);
        let arm = |noise: &[f64], f: f64, sign: f64| -> Series {
            Series::points(
                times
                    .iter()
                    .zip(noise)
                    .map(|(t, x)| (*t, sign * f * 100.0 * (0.04 * x).exp())),
            )
        };
        let j = |direction, sign: f64| {
            judge(
                &CanaryPolicy::new(vec![MetricPolicy::new("gauge", direction)]),
                &[MetricData::new(
                    "gauge",
                    Arms {
                        baseline: arm(&noise_b, 1.0, sign),
                        canary: arm(&noise_c, shift, sign),
                    },
                )],
            )
            .unwrap()
        };
        let (up, down) = (j(Direction::Increase, 1.0), j(Direction::Decrease, -1.0));
        assert_eq!(up.verdict, down.verdict, "{up}\n{down}");
        assert_eq!(
            up.metrics[0].dependence.unwrap().inflation,
            down.metrics[0].dependence.unwrap().inflation
        );
    }
}

#[test]
fn a_change_from_zero_is_a_critical_breach_among_healthy_metrics() {
    // Errors appearing where the baseline had none: an undefined relative change, beyond every
    // tolerance, so it rolls back although 20 healthy metrics keep the score above pass.
    let mut rng = Rng(31);
    let mut metrics: Vec<MetricPolicy> = (0..20)
        .map(|i| MetricPolicy::new(format!("m{i:02}"), Direction::Increase))
        .collect();
    metrics.push(MetricPolicy::counter("errors", Direction::Increase));
    let mut data: Vec<MetricData> = (0..20)
        .map(|i| {
            MetricData::new(
                format!("m{i:02}"),
                Arms {
                    baseline: Series::samples(noisy(&mut rng, 60, 100.0, 2.0)),
                    canary: Series::samples(noisy(&mut rng, 60, 100.0, 2.0)),
                },
            )
        })
        .collect();
    data.push(MetricData::new(
        "errors",
        Arms {
            baseline: Series::total(0.0, 50_000.0),
            canary: Series::total(40.0, 50_000.0),
        },
    ));
    let j = judge(&CanaryPolicy::new(metrics), &data).unwrap();
    let e = j.metrics.iter().find(|m| m.name == "errors").unwrap();
    assert!(e.critical_breach, "{j}");
    assert!(j.score.unwrap() >= 95.0, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
}

/// Constant arms at exact values, so every statistic of the canary is known exactly.
fn flat(
    policy: MetricPolicy,
    baseline: f64,
    canary: f64,
) -> (canary_verdict::Judgment, canary_verdict::MetricJudgment) {
    let j = one(policy, vec![baseline; 40], vec![canary; 40]);
    let m = j.metrics[0].clone();
    (j, m)
}

#[test]
fn absolute_bounds_fail_strictly_beyond_the_bound() {
    use canary_verdict::policy::{Bounds, Statistic};
    let bounded = |min, max| MetricPolicy {
        bounds: Some(Bounds {
            statistic: Statistic::Median,
            min,
            max,
        }),
        ..MetricPolicy::new("latency_ms", Direction::Either)
    };
    // On the bound: not beyond it.
    let (_, m) = flat(bounded(None, Some(250.0)), 250.0, 250.0);
    assert!(!m.critical_breach, "{}", m.reason);
    assert_eq!(m.classification, Classification::Pass, "{}", m.reason);
    let (_, m) = flat(bounded(Some(250.0), None), 250.0, 250.0);
    assert!(!m.critical_breach, "{}", m.reason);
    // Beyond it, on either side: a critical breach with the value and the bound in the reason.
    let (j, m) = flat(bounded(None, Some(250.0)), 250.0, 251.0);
    assert_eq!(
        (m.classification, m.critical_breach),
        (Classification::High, true)
    );
    assert_eq!(m.reason, "canary median 251 above the bound 250");
    assert_eq!(j.verdict, Verdict::Rollback);
    let (_, m) = flat(bounded(Some(250.0), None), 250.0, 249.0);
    assert_eq!(
        (m.classification, m.critical_breach),
        (Classification::Low, true)
    );
    assert_eq!(m.reason, "canary median 249 below the bound 250");
}

#[test]
fn relative_bounds_fail_strictly_beyond_their_fraction_of_the_baseline() {
    use canary_verdict::policy::{RelativeBounds, Statistic};
    let bounded = |inc, dec| MetricPolicy {
        relative_bounds: Some(RelativeBounds {
            statistic: Statistic::Median,
            max_increase: inc,
            max_decrease: dec,
        }),
        ..MetricPolicy::new("latency_ms", Direction::Either)
    };
    // Exactly at baseline × (1 ± 0.5): allowed by the bound (the location test, on its own
    // tolerance, still sees the change; its reason is not the bound's).
    let (_, m) = flat(bounded(Some(0.5), None), 100.0, 150.0);
    assert!(!m.reason.contains("of baseline"), "{}", m.reason);
    let (_, m) = flat(bounded(None, Some(0.5)), 100.0, 50.0);
    assert!(!m.reason.contains("of baseline"), "{}", m.reason);
    // Within the fraction, on both sides: no breach from the bound.
    for canary in [80.0, 120.0] {
        let (_, m) = flat(bounded(Some(0.5), Some(0.5)), 100.0, canary);
        assert!(!m.reason.contains("of baseline"), "{}", m.reason);
    }
    // Beyond: High or Low, a critical breach, and the change as a percentage of the baseline.
    let (_, m) = flat(bounded(Some(0.5), Some(0.5)), 100.0, 160.0);
    assert_eq!(
        (m.classification, m.critical_breach),
        (Classification::High, true)
    );
    assert_eq!(
        m.reason,
        "canary median 160 is +60% of baseline 100 (allowed +50%)"
    );
    let (_, m) = flat(bounded(Some(0.5), Some(0.5)), 100.0, 40.0);
    assert_eq!(
        (m.classification, m.critical_breach),
        (Classification::Low, true)
    );
    assert_eq!(
        m.reason,
        "canary median 40 is -60% of baseline 100 (allowed -50%)"
    );
    // A negative baseline: the fraction is of its magnitude.
    let (_, m) = flat(bounded(Some(0.5), Some(0.5)), -100.0, -40.0);
    assert_eq!(m.classification, Classification::High, "{}", m.reason);
    assert!(m.reason.contains("+60%"), "{}", m.reason);
    let (_, m) = flat(bounded(Some(0.5), Some(0.5)), -100.0, -120.0);
    assert!(!m.reason.contains("of baseline"), "{}", m.reason);
}

#[test]
fn an_either_metric_is_labelled_by_the_side_it_moved_to() {
    let mut rng = Rng(41);
    let b = noisy(&mut rng, 60, 100.0, 3.0);
    let up = noisy(&mut rng, 60, 130.0, 3.0);
    let down = noisy(&mut rng, 60, 70.0, 3.0);
    let j = one(
        MetricPolicy::new("rps", Direction::Either),
        b.clone(),
        up.clone(),
    );
    assert_eq!(j.metrics[0].classification, Classification::High, "{j}");
    let j = one(
        MetricPolicy::new("rps", Direction::Either),
        b.clone(),
        down.clone(),
    );
    assert_eq!(j.metrics[0].classification, Classification::Low, "{j}");
    // One-sided metrics: only their own side is harm.
    let j = one(
        MetricPolicy::new("rps", Direction::Increase),
        b.clone(),
        down,
    );
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
    let j = one(MetricPolicy::new("rps", Direction::Decrease), b, up);
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
}

#[test]
fn an_undefined_ratio_takes_its_direction_from_the_estimate() {
    // A mean ratio over a baseline whose mean is exactly zero (59 points at 1 and one at -59:
    // the median and quartiles are 1, so the relative scale applies, but the mean is 0) is
    // undefined: beyond every tolerance, harmful only on the metric's side, which the shift
    // estimate tells.
    let mut base = vec![1.0; 59];
    base.push(-59.0);
    let shifted = |d: f64| base.iter().map(|x| x + d).collect::<Vec<_>>();
    let ratio = |direction| MetricPolicy {
        tolerance: Tolerance::for_measure(EffectMeasure::MeanRatio),
        auto_tails: false,
        ..MetricPolicy::new("offset", direction)
    };
    let j = one(ratio(Direction::Increase), base.clone(), shifted(0.5));
    let m = &j.metrics[0];
    assert_eq!(m.effect, None, "{j}");
    assert!(m.reason.contains("undefined relative change"), "{j}");
    assert_eq!(
        (m.classification, m.critical_breach),
        (Classification::High, true),
        "{j}"
    );
    let j = one(ratio(Direction::Increase), base.clone(), shifted(-0.5));
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
    let j = one(ratio(Direction::Decrease), base.clone(), shifted(-0.5));
    assert_eq!(j.metrics[0].classification, Classification::Low, "{j}");
}

#[test]
fn significance_is_strictly_below_alpha() {
    // Four points per arm, one canary point below one baseline point: the exact one-sided
    // rank-sum p-value is P(U >= 15) = 2/70, the same double as 1/35. At alpha = 1/35 the change
    // is not significant (p < alpha is required); just above it, it is.
    let baseline = vec![1.0, 2.0, 3.0, 5.0];
    let canary = vec![4.0, 6.0, 7.0, 8.0];
    let judged = |alpha: f64| {
        let m = MetricPolicy {
            tolerance: Tolerance::for_measure(EffectMeasure::Absolute),
            auto_tails: false,
            min_samples: 4,
            ..MetricPolicy::new("latency_ms", Direction::Increase)
        };
        let mut policy = CanaryPolicy::new(vec![m]);
        policy.alpha = alpha;
        judge(
            &policy,
            &[MetricData::new(
                "latency_ms",
                Arms {
                    baseline: Series::samples(baseline.clone()),
                    canary: Series::samples(canary.clone()),
                },
            )],
        )
        .unwrap()
    };
    let at = judged(1.0 / 35.0);
    let m = &at.metrics[0];
    assert_eq!(m.adjusted_p, Some(2.0 / 70.0), "{at}");
    assert_eq!(m.classification, Classification::Pass, "{at}");
    let above = judged(1.0 / 35.0 * (1.0 + 1e-9));
    assert_eq!(
        above.metrics[0].classification,
        Classification::High,
        "{above}"
    );
}

#[test]
fn a_few_missing_minutes_keep_the_arms_paired() {
    // A load drift both arms share, and a canary 10% slower; the canary misses three minutes
    // (one NaN, two absent). Paired by minute, the drift cancels and the regression shows; a
    // minority of shared minutes falls back to the unpaired rank-sum test.
    use canary_verdict::judgment::TestDetails;
    let mut rng = Rng(61);
    let t = minutes(60);
    let load: Vec<f64> = (0..60)
        .map(|i| 100.0 * (1.0 + 0.3 * (i as f64 / 7.0).sin()))
        .collect();
    let baseline: Vec<(chrono::DateTime<chrono::Utc>, f64)> = (0..60)
        .map(|i| (t[i], load[i] * (1.0 + 0.01 * rng.normal())))
        .collect();
    let mut canary: Vec<(chrono::DateTime<chrono::Utc>, f64)> = (0..60)
        .map(|i| (t[i], 1.1 * load[i] * (1.0 + 0.01 * rng.normal())))
        .collect();
    canary[20].1 = f64::NAN;
    canary.remove(41);
    canary.remove(7);
    let judged = |c: Vec<(chrono::DateTime<chrono::Utc>, f64)>| {
        judge(
            &CanaryPolicy::new(vec![MetricPolicy::new("latency_ms", Direction::Increase)]),
            &[MetricData::new(
                "latency_ms",
                Arms {
                    baseline: Series::points(baseline.clone()),
                    canary: Series::points(c),
                },
            )],
        )
        .unwrap()
    };
    let j = judged(canary.clone());
    let m = &j.metrics[0];
    match &m.details {
        // The three baseline minutes whose canary minute is missing or NaN.
        Some(TestDetails::SignedRank { unpaired, .. }) => assert_eq!(*unpaired, 3, "{j}"),
        other => panic!("paired expected: {other:?}"),
    }
    assert_eq!(m.classification, Classification::High, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    // Only 20 of the canary's minutes shared with the baseline: judged unpaired.
    let shifted: Vec<_> = canary
        .iter()
        .enumerate()
        .map(|(k, &(ts, v))| {
            let ts = if k < 20 {
                ts
            } else {
                ts + chrono::Duration::seconds(30)
            };
            (ts, v)
        })
        .collect();
    let j = judged(shifted);
    assert!(
        matches!(j.metrics[0].details, Some(TestDetails::RankSum { .. })),
        "{j}"
    );
}

#[test]
fn limits_at_no_change_label_by_the_side_of_the_change() {
    // Tolerances set at no change on one side: any significant change on that side fails, and
    // the label is the side the change went to, never the other one.
    let mut rng = Rng(71);
    let b = noisy(&mut rng, 60, 100.0, 3.0);
    let down = noisy(&mut rng, 60, 70.0, 3.0);
    let up = noisy(&mut rng, 60, 110.0, 3.0);
    let either = |allowed_increase: f64, allowed_decrease: f64| MetricPolicy {
        tolerance: Tolerance {
            allowed_increase,
            allowed_decrease,
            critical_increase: 10.0,
            critical_decrease: 0.0,
            ..Tolerance::default()
        },
        auto_tails: false,
        ..MetricPolicy::new("rps", Direction::Either)
    };
    // A decrease with the increase limit at no change: Low, not High.
    let j = one(either(1.0, 1.0), b.clone(), down);
    assert_eq!(j.metrics[0].classification, Classification::Low, "{j}");
    // An increase within a wide increase limit, the decrease limit at no change: Pass.
    let j = one(either(1.5, 1.0), b.clone(), up);
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
}

#[test]
fn a_significant_change_with_a_zero_shift_estimate_is_on_the_side_of_the_test() {
    // Two thirds of the baseline at 100 and a third at 110, the canary all at 100: most pairwise
    // differences are 0, so the shift estimate is exactly 0 (the effect exactly no change), yet
    // the one-sided test sees the canary lower. With the decrease limit at no change it is Low.
    let mut baseline = vec![100.0; 40];
    baseline.extend([110.0; 20]);
    let canary = vec![100.0; 60];
    let m = MetricPolicy {
        tolerance: Tolerance {
            allowed_decrease: 1.0,
            critical_decrease: 0.0,
            ..Tolerance::default()
        },
        auto_tails: false,
        ..MetricPolicy::new("rps", Direction::Decrease)
    };
    let j = one(m, baseline, canary);
    let mj = &j.metrics[0];
    assert_eq!(mj.effect, Some(1.0), "{j}");
    assert!(mj.adjusted_p.unwrap() < 0.01, "{j}");
    assert_eq!(mj.classification, Classification::Low, "{j}");
}

#[test]
fn a_change_exactly_at_the_tolerance_is_within_it() {
    // Constant arms make the shift and its interval exact: +5% and -5%, the default tolerance.
    // The near end of the interval must lie beyond the limit, not on it.
    let at = |direction, canary: f64| {
        let m = MetricPolicy {
            auto_tails: false,
            ..MetricPolicy::new("latency_ms", direction)
        };
        one(m, vec![100.0; 40], vec![canary; 40])
    };
    for (direction, canary, beyond) in [
        (Direction::Increase, 105.0, 106.0),
        (Direction::Decrease, 95.0, 94.0),
    ] {
        let j = at(direction, canary);
        let m = &j.metrics[0];
        assert!(m.adjusted_p.unwrap() < 1e-10, "{j}");
        assert_eq!(m.classification, Classification::Pass, "{j}");
        let j = at(direction, beyond);
        assert!(j.metrics[0].classification.is_failure(), "{j}");
        assert!(j.metrics[0].critical_breach, "{j}");
    }
}

#[test]
fn an_either_metric_states_what_it_can_detect_at_half_its_level_per_side() {
    // The same data judged as `increase` and as `either`: the two-sided metric splits its level
    // between the sides, so the change it can detect is z(1 - a/2)/z(1 - a) times larger.
    let mut rng = Rng(81);
    let b = noisy(&mut rng, 60, 100.0, 3.0);
    let c = noisy(&mut rng, 60, 100.0, 3.0);
    let detectable = |direction| {
        let m = MetricPolicy {
            auto_tails: false,
            ..MetricPolicy::new("latency_ms", direction)
        };
        one(m, b.clone(), c.clone()).metrics[0].detectable.unwrap()
    };
    let (one_sided, two_sided) = (
        detectable(Direction::Increase),
        detectable(Direction::Either),
    );
    // alpha 0.01: z(0.995) / z(0.99).
    let want = 2.575_829_303_548_901 / 2.326_347_874_040_841;
    assert!(
        (two_sided / one_sided - want).abs() < 1e-9,
        "{two_sided} / {one_sided} against {want}"
    );
}

#[test]
fn sufficiency_is_judged_against_the_critical_distance_on_the_side_of_harm() {
    // Twelve noisy points per arm (sd 40% of the level): nothing of the size of the +-5%
    // critical tolerance could be seen, for a decrease as for an increase.
    let mut rng = Rng(101);
    let b = noisy(&mut rng, 12, 100.0, 40.0);
    let c = noisy(&mut rng, 12, 100.0, 40.0);
    let m = |direction| MetricPolicy {
        auto_tails: false,
        min_samples: 5,
        ..MetricPolicy::new("rps", direction)
    };
    for direction in [Direction::Decrease, Direction::Increase] {
        let j = one(m(direction), b.clone(), c.clone());
        let mj = &j.metrics[0];
        assert_eq!(mj.classification, Classification::Inconclusive, "{j}");
        let d = mj.detectable.unwrap();
        assert!(d > 0.2 && d < 1.0, "{d}");
        let prefix = "could not tell: the smallest change it could detect at alpha is ±";
        let rest = mj
            .reason
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{}", mj.reason));
        let (shown, tail) = rest.split_once("% ").unwrap();
        let shown: f64 = shown.parse().unwrap();
        assert!(
            (shown - d * 100.0).abs() <= 1e-3 * d * 100.0,
            "{shown} against {d}"
        );
        assert!(tail.starts_with("(critical limit ±5%)"), "{}", mj.reason);
    }
    // With the critical limit at no change there is no distance to detect: the significance
    // test alone decides, and these data pass.
    let at_neutral = MetricPolicy {
        tolerance: Tolerance {
            critical_increase: 1.0,
            allowed_increase: 1.0,
            ..Tolerance::default()
        },
        ..m(Direction::Increase)
    };
    let j = one(at_neutral, b, c);
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
}

#[test]
fn a_location_reason_carries_its_numbers() {
    // The reason of a location test ends with the interval, the p-values and the sizes, as the
    // table shows them.
    let mut rng = Rng(111);
    let b = noisy(&mut rng, 50, 100.0, 3.0);
    let c = noisy(&mut rng, 40, 130.0, 3.0);
    let j = one(MetricPolicy::new("latency_ms", Direction::Increase), b, c);
    let m = &j.metrics[0];
    let ci = m.effect_interval.unwrap();
    let numbers = format!(
        "(interval [+{}%, +{}%], p = ",
        fmt_number((ci.lower - 1.0) * 100.0),
        fmt_number((ci.upper - 1.0) * 100.0)
    );
    assert!(m.reason.contains(&numbers), "{} lacks {numbers}", m.reason);
    assert!(m.reason.contains(", p_adj = "), "{}", m.reason);
    assert!(m.reason.ends_with(", n = 50/40)"), "{}", m.reason);
}

/// Four significant digits, as the judgment prints numbers of this size (tens of percent).
fn fmt_number(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A metric's alpha share is split equally among its tests: with one tail aspect beside the
/// location test, each gets half of the metric's alpha (0.005 of 0.01). Four points per arm
/// can reach p = 1/70 = 0.0143 at best, below the whole 0.01 share's double but not below
/// 0.005: the metric could not have shown harm, so it is Inconclusive, with its share named.
#[test]
fn a_metrics_alpha_share_is_split_among_its_tests() {
    let m = MetricPolicy {
        min_samples: 3,
        auto_tails: false,
        tails: vec![canary_verdict::policy::TailAspect::KolmogorovSmirnov],
        ..MetricPolicy::new("latency", Direction::Increase)
    };
    let j = one(
        m,
        vec![100.0, 101.0, 102.0, 103.0],
        vec![110.0, 111.0, 112.0, 113.0],
    );
    let metric = &j.metrics[0];
    assert_eq!(metric.classification, Classification::Inconclusive, "{j}");
    assert!(
        metric.reason.contains("could reach its alpha share 0.005")
            && metric.reason.contains("smallest possible p = 0.01429"),
        "{j}"
    );
}

/// Bounds are read from the sorted arms, so a quantile the summaries do not hold (p97) is
/// bounded by its own value, not by a stand-in: an absolute bound alone, and a relative bound
/// alone, each catch a p97 past them while the mean and the location stay within.
#[test]
fn bounds_on_any_quantile_are_read_from_the_sorted_arms() {
    use canary_verdict::policy::{Bounds, RelativeBounds, Statistic};
    let baseline: Vec<f64> = (1..=100).map(f64::from).collect();
    // The top 5% of the canary at 1.6 times the baseline's: p97 +56%, mean +2.7%.
    let canary: Vec<f64> = baseline
        .iter()
        .map(|&v| if v > 95.0 { v * 1.6 } else { v })
        .collect();
    let run = |m: MetricPolicy| one(m, baseline.clone(), canary.clone());
    let base = || MetricPolicy {
        auto_tails: false,
        ..MetricPolicy::new("latency", Direction::Increase)
    };
    let absolute = run(MetricPolicy {
        bounds: Some(Bounds {
            statistic: Statistic::Quantile(0.97),
            max: Some(120.0),
            ..Bounds::default()
        }),
        ..base()
    });
    let relative = run(MetricPolicy {
        relative_bounds: Some(RelativeBounds {
            statistic: Statistic::Quantile(0.97),
            max_increase: Some(0.2),
            ..RelativeBounds::default()
        }),
        ..base()
    });
    let unbounded = run(base());
    assert_ne!(unbounded.verdict, Verdict::Rollback, "{unbounded}");
    for j in [absolute, relative] {
        assert_eq!(j.verdict, Verdict::Rollback, "{j}");
        assert!(j.metrics[0].critical_breach, "{j}");
    }
}

/// A `thresholds_only` metric runs no test, tail aspects included: its listed tails are not
/// run and add nothing to the multiple-testing family.
#[test]
fn thresholds_only_metrics_run_no_tail_aspects() {
    let m = MetricPolicy {
        comparator: canary_verdict::policy::Comparator::ThresholdsOnly,
        tails: vec![canary_verdict::policy::TailAspect::KolmogorovSmirnov],
        ..MetricPolicy::new("latency", Direction::Increase)
    };
    let j = one(
        m,
        (1..=200).map(f64::from).collect(),
        (1..=200).map(|v| f64::from(v) * 3.0).collect(),
    );
    let metric = &j.metrics[0];
    assert!(metric.tails.is_empty(), "{j}");
    assert_eq!(metric.p_value, None, "{j}");
    assert_eq!(metric.classification, Classification::Pass, "{j}");
}

/// Raw samples are independent draws: the judgment reports no dependence correction, on all
/// the points of both arms. Blocks report the pooled rank-sum test in the metric's direction.
#[test]
fn independent_samples_report_no_correction_and_blocks_a_directional_pooled_test() {
    let mut rng = Rng(31);
    let j = one(
        MetricPolicy::new("latency", Direction::Increase),
        noisy(&mut rng, 50, 100.0, 5.0),
        noisy(&mut rng, 70, 100.0, 5.0),
    );
    let d = j.metrics[0]
        .dependence
        .expect("a rank comparison reports its dependence");
    assert_eq!(
        (d.inflation, d.effective_n, d.df),
        (1.0, 120.0, f64::INFINITY),
        "{j}"
    );

    let times = minutes(8);
    let arm = |rng: &mut Rng, centre: f64| {
        Series::blocks(times.iter().map(|t| (*t, noisy(rng, 10, centre, 5.0))))
    };
    for (direction, alt) in [
        (
            Direction::Increase,
            canary_verdict::stats::Alternative::Greater,
        ),
        (
            Direction::Decrease,
            canary_verdict::stats::Alternative::Less,
        ),
        (
            Direction::Either,
            canary_verdict::stats::Alternative::TwoSided,
        ),
    ] {
        let j = judge_one(
            MetricPolicy::new("latency", direction),
            arm(&mut rng, 100.0),
            arm(&mut rng, 101.0),
        );
        match &j.metrics[0].details {
            Some(canary_verdict::judgment::TestDetails::Blocked { pooled, .. }) => {
                assert_eq!(pooled.alternative, alt, "{j}")
            }
            other => panic!("{direction:?}: {other:?}"),
        }
    }
}

/// On paired points the common-language effect is the share of minutes the canary is above its
/// baseline partner, ties counting one half: P(canary > baseline) within a pair.
#[test]
fn paired_cles_is_the_share_of_minutes_the_canary_is_above() {
    let times = minutes(20);
    let baseline: Vec<f64> = (0..20).map(|i| 100.0 + f64::from(i % 7)).collect();
    // 12 minutes above, 3 tied, 5 below.
    let step = |i: usize| match i {
        0..12 => 2.0,
        12..15 => 0.0,
        _ => -1.0,
    };
    let canary: Vec<f64> = baseline
        .iter()
        .enumerate()
        .map(|(i, b)| b + step(i))
        .collect();
    let points = |v: &[f64]| Series::points(times.iter().copied().zip(v.iter().copied()));
    let policy = MetricPolicy {
        tolerance: Tolerance::for_measure(EffectMeasure::Cles),
        ..MetricPolicy::new("latency", Direction::Increase)
    };
    let j = judge_one(policy, points(&baseline), points(&canary));
    let m = &j.metrics[0];
    assert!(
        matches!(
            m.details,
            Some(canary_verdict::judgment::TestDetails::SignedRank { .. })
        ),
        "{j}"
    );
    assert_eq!(m.measure, EffectMeasure::Cles, "{j}");
    assert_eq!(m.effect, Some((12.0 + 1.5) / 20.0), "{j}");
}

/// Blocked data (requests grouped by minute) under `thresholds_only`: no test runs, and a bound
/// on a quantile is read from every request of the window.
#[test]
fn thresholds_only_blocks_run_no_test_and_bound_every_request() {
    use canary_verdict::policy::{Bounds, Statistic};
    let times = minutes(10);
    let arm = |scale_top: f64| {
        Series::blocks(times.iter().map(|t| {
            let v = (1..=20)
                .map(|i| f64::from(i) * if i > 18 { scale_top } else { 1.0 })
                .collect();
            (*t, v)
        }))
    };
    let policy = |max| MetricPolicy {
        comparator: canary_verdict::policy::Comparator::ThresholdsOnly,
        bounds: Some(Bounds {
            statistic: Statistic::Quantile(0.97),
            max: Some(max),
            ..Bounds::default()
        }),
        ..MetricPolicy::new("latency", Direction::Increase)
    };
    // The canary's p97 over all 200 requests is 40 (its mean 12.45); the baseline's 20.
    let breached = judge_one(policy(30.0), arm(1.0), arm(2.0));
    let m = &breached.metrics[0];
    assert_eq!(m.p_value, None, "{breached}");
    assert!(m.critical_breach, "{breached}");
    assert_eq!(breached.verdict, Verdict::Rollback, "{breached}");
    let within = judge_one(policy(45.0), arm(1.0), arm(2.0));
    assert_eq!(within.metrics[0].p_value, None, "{within}");
    assert_eq!(within.verdict, Verdict::Promote, "{within}");
}

#[test]
fn a_quartile_at_exactly_zero_counts_as_straddling() {
    // A third of the minutes at exactly 0 puts a quartile on zero: the interquartile range
    // [0, q3] (or [q1, 0]) contains zero, so there is no percentage change on either sign.
    let mut rng = Rng(9);
    for sign in [1.0, -1.0] {
        let arm = |rng: &mut Rng| -> Vec<f64> {
            (0..90)
                .map(|i| {
                    if i % 3 == 0 {
                        0.0
                    } else {
                        sign * (5.0 + rng.normal())
                    }
                })
                .collect()
        };
        let (b, c) = (arm(&mut rng), arm(&mut rng));
        let j = one(MetricPolicy::new("queue_depth", Direction::Increase), b, c);
        let mj = &j.metrics[0];
        assert_eq!(mj.measure, EffectMeasure::Absolute, "sign {sign}: {j}");
        assert!(mj.reason.contains("straddles zero"), "{}", mj.reason);
    }
}

#[test]
fn counter_defaults_fail_any_significant_harmful_change() {
    // A counter is judged on the rate ratio: a significant +4% error rate fails the metric (it
    // is below the +10% critical limit, so no breach), where the continuous default's ±5%
    // allowance would tolerate it. A counter whose tolerance was left at the default (a struct
    // literal, a configuration without the field) is judged the same way.
    let arm = |errors: f64| Series::counts((0..20).map(|_| (errors, 50_000.0)));
    let left_default = MetricPolicy {
        kind: MetricKind::Counter,
        ..MetricPolicy::new("errors", Direction::Increase)
    };
    for policy in [
        MetricPolicy::counter("errors", Direction::Increase),
        left_default,
    ] {
        assert_eq!(
            policy.effective_tolerance(),
            Tolerance::for_measure(EffectMeasure::MeanRatio)
        );
        let j = judge_one(policy, arm(500.0), arm(520.0));
        let mj = &j.metrics[0];
        assert_eq!(mj.measure, EffectMeasure::MeanRatio, "{j}");
        assert_eq!(mj.classification, Classification::High, "{j}");
        assert!(!mj.critical_breach, "{j}");
        assert!(!mj.reason.contains("straddles"), "{}", mj.reason);
    }
}

#[test]
fn a_counter_refuses_limits_stated_on_another_scale() {
    // Counts have a rate ratio and nothing else: limits on another scale would be read against
    // a measure they were not written for, so the policy is refused, naming the field.
    for measure in [
        EffectMeasure::RelativeShift,
        EffectMeasure::Cles,
        EffectMeasure::Absolute,
    ] {
        let mut tolerance = Tolerance::for_measure(measure);
        tolerance.critical_increase = f64::INFINITY;
        let policy = CanaryPolicy::new(vec![MetricPolicy {
            tolerance,
            ..MetricPolicy::counter("errors", Direction::Increase)
        }]);
        match policy.validate() {
            Err(canary_verdict::Error::InvalidPolicy {
                metric,
                field,
                problem,
            }) => {
                assert_eq!((metric.as_str(), field), ("errors", "tolerance.measure"));
                assert!(problem.contains(&measure.to_string()), "{problem}");
            }
            other => panic!("{measure}: {other:?}"),
        }
    }
}

#[test]
fn outliers_are_cut_at_each_arms_fences_and_a_paired_point_takes_its_partner_with_it() {
    use canary_verdict::policy::{Comparator, OutlierPolicy};
    use canary_verdict::stats::Fences;
    let mut rng = Rng(41);
    let mut b = noisy(&mut rng, 40, 100.0, 5.0);
    let mut c = noisy(&mut rng, 40, 100.0, 5.0);
    b[7] = 1e6;
    c[3] = -1e6;
    c[20] = 5e5;
    let keep = MetricPolicy::new("latency", Direction::Either);
    let iqr = MetricPolicy {
        outliers: OutlierPolicy::RemoveIqr { factor: 1.5 },
        ..keep.clone()
    };
    let fences = |v: &[f64]| Fences::tukey(v, 1.5).unwrap();
    let kept = |v: &[f64]| v.iter().filter(|&&x| fences(v).contains(x)).count();
    // Unpaired samples: each arm loses exactly what its own fences cut, and nothing when kept.
    let sizes = |j: &canary_verdict::Judgment| (j.metrics[0].n_baseline, j.metrics[0].n_canary);
    let j = one(keep.clone(), b.clone(), c.clone());
    assert_eq!(sizes(&j), (40, 40), "{j}");
    let j = one(iqr.clone(), b.clone(), c.clone());
    assert_eq!(sizes(&j), (kept(&b), kept(&c)), "{j}");
    assert!(kept(&b) <= 39 && kept(&c) <= 38);
    // Paired points: a pair goes when either point is outside its arm's fences.
    let t = minutes(40);
    let pts = |v: &[f64]| Series::points(t.iter().copied().zip(v.iter().copied()));
    let (fb, fc) = (fences(&b), fences(&c));
    let pairs = (0..40)
        .filter(|&i| fb.contains(b[i]) && fc.contains(c[i]))
        .count();
    // Minutes 3, 7 and 20 each have one point out: none of the three pairs is kept.
    assert!(pairs <= 37, "{pairs}");
    for comparator in [Comparator::SignedRank, Comparator::Auto] {
        let p = MetricPolicy {
            comparator,
            ..iqr.clone()
        };
        let j = judge_one(p, pts(&b), pts(&c));
        assert_eq!(sizes(&j), (pairs, pairs), "{comparator:?}: {j}");
        let p = MetricPolicy {
            comparator,
            ..keep.clone()
        };
        let j = judge_one(p, pts(&b), pts(&c));
        assert_eq!(sizes(&j), (40, 40), "{comparator:?}: {j}");
    }
}

#[test]
fn a_block_emptied_by_the_nan_rule_is_left_out_and_a_rejected_nan_is_named_by_its_index() {
    use canary_verdict::judgment::TestDetails;
    use canary_verdict::policy::NanPolicy;
    let t = minutes(12);
    let block = |i: usize, scale: f64| -> Vec<f64> {
        (0..5)
            .map(|k| scale * (100.0 + (i * 5 + k) as f64))
            .collect()
    };
    let arm = |scale: f64| -> Vec<(chrono::DateTime<chrono::Utc>, Vec<f64>)> {
        t.iter()
            .enumerate()
            .map(|(i, &t)| (t, block(i, scale)))
            .collect()
    };
    let mut c = arm(1.0);
    c[4].1 = vec![f64::NAN; 3]; // emptied by the NaN rule: the minute goes from both arms
    c[8].1[2] = f64::NAN; // one value of a minute: the rest of the minute stays
    let remove = MetricPolicy::new("latency", Direction::Increase);
    let j = judge_one(
        remove.clone(),
        Series::blocks(arm(1.0)),
        Series::blocks(c.clone()),
    );
    assert!(
        matches!(
            j.metrics[0].details,
            Some(TestDetails::Blocked {
                blocks: 11,
                unmatched: 2,
                ..
            })
        ),
        "{j}"
    );
    assert_eq!(
        (j.metrics[0].n_baseline, j.metrics[0].n_canary),
        (55, 54),
        "{j}"
    );
    // Reject: the NaN is named by its index among all the arm's values, counted across blocks.
    let reject = MetricPolicy {
        nan: NanPolicy::Reject,
        ..remove
    };
    let j = judge_one(reject, Series::blocks(arm(1.0)), Series::blocks(c));
    assert_eq!(j.metrics[0].classification, Classification::Error, "{j}");
    assert!(
        j.metrics[0].reason.contains("NaN at index 20 "),
        "{}",
        j.metrics[0].reason
    );
}

#[test]
fn unpaired_points_are_judged_in_time_order_whatever_their_input_order() {
    // The rank-sum path estimates the serial correlation of each arm along time: points given
    // out of order are sorted first, so a shuffled input gives the same judgment, bit for bit.
    use canary_verdict::policy::Comparator;
    let mut rng = Rng(43);
    let times = minutes(61);
    let policy = MetricPolicy {
        comparator: Comparator::RankSum,
        ..MetricPolicy::new("gauge", Direction::Increase)
    };
    for shift in [1.0, 1.05] {
        let noise_b = rng.ar1(0.8, 61);
        let noise_c = rng.ar1(0.8, 61);
        let points = |noise: &[f64], f: f64| -> Vec<(chrono::DateTime<chrono::Utc>, f64)> {
            times
                .iter()
                .zip(noise)
                .map(|(t, x)| (*t, f * 100.0 * (0.05 * x).exp()))
                .collect()
        };
        // i -> 7i mod 61 visits every index once and breaks every run of neighbours.
        let shuffled = |p: &[(chrono::DateTime<chrono::Utc>, f64)]| -> Series {
            Series::points((0..61).map(|i| p[(7 * i) % 61]))
        };
        let (b, c) = (points(&noise_b, 1.0), points(&noise_c, shift));
        let sorted = judge_one(
            policy.clone(),
            Series::points(b.clone()),
            Series::points(c.clone()),
        );
        let d = sorted.metrics[0].dependence.unwrap();
        assert!(d.inflation > 1.5, "{sorted}");
        for (bb, cc) in [
            (shuffled(&b), Series::points(c.clone())),
            (Series::points(b.clone()), shuffled(&c)),
            (
                Series::points(b.iter().rev().copied()),
                Series::points(c.iter().rev().copied()),
            ),
        ] {
            let j = judge_one(policy.clone(), bb, cc);
            assert_eq!(format!("{:?}", j.metrics), format!("{:?}", sorted.metrics));
        }
    }
}

#[test]
fn auto_pairs_points_when_more_than_half_of_each_arms_points_have_a_partner() {
    // Comparator::Auto pairs by timestamp when 2·pairs > kept points of each arm (strictly),
    // leaves the points without a partner out and counts them; otherwise it judges unpaired.
    use canary_verdict::judgment::TestDetails;
    let t = minutes(40);
    let mut rng = Rng(44);
    let arm = |rng: &mut Rng, from: usize, to: usize| -> Series {
        Series::points((from..to).map(|i| (t[i], 100.0 + rng.normal())))
    };
    let auto = MetricPolicy::new("gauge", Direction::Increase);
    let mut details = |b: (usize, usize), c: (usize, usize)| {
        let (bb, cc) = (arm(&mut rng, b.0, b.1), arm(&mut rng, c.0, c.1));
        judge_one(auto.clone(), bb, cc).metrics[0].details.clone()
    };
    // 11 of 20 minutes shared: paired, 9 + 9 left out.
    let d = details((0, 20), (9, 29));
    assert!(
        matches!(d, Some(TestDetails::SignedRank { unpaired: 18, .. })),
        "{d:?}"
    );
    // Exactly half of one arm's points shared (10 of 20), most of the other's: unpaired.
    for (b, c) in [
        ((0, 20), (10, 30)),
        ((0, 20), (10, 21)),
        ((10, 21), (0, 20)),
    ] {
        let d = details(b, c);
        assert!(
            matches!(d, Some(TestDetails::RankSum { .. })),
            "{b:?} {c:?}: {d:?}"
        );
    }
    // Every baseline minute shared but only a third of the canary's: unpaired.
    let d = details((0, 10), (0, 30));
    assert!(matches!(d, Some(TestDetails::RankSum { .. })), "{d:?}");
    let d = details((0, 30), (0, 10));
    assert!(matches!(d, Some(TestDetails::RankSum { .. })), "{d:?}");
    // The baseline runs on after the canary stops: its last 5 minutes are counted as left out,
    // and so are the canary's first 3 when it starts late.
    let d = details((0, 30), (0, 25));
    assert!(
        matches!(d, Some(TestDetails::SignedRank { unpaired: 5, .. })),
        "{d:?}"
    );
    let d = details((3, 30), (0, 30));
    assert!(
        matches!(d, Some(TestDetails::SignedRank { unpaired: 3, .. })),
        "{d:?}"
    );
}

#[test]
fn a_signed_rank_metric_with_an_empty_arm_names_that_arm_as_without_data() {
    // Nothing to pair: the judgment is NoData for the arm with no points (after the NaN rule),
    // and the other arm keeps its size.
    use canary_verdict::policy::Comparator;
    let t = minutes(10);
    let p = MetricPolicy {
        comparator: Comparator::SignedRank,
        ..MetricPolicy::new("gauge", Direction::Increase)
    };
    let pts = |v: Vec<f64>| Series::points(t.iter().copied().zip(v));
    let full = || (0..10).map(|i| 100.0 + i as f64).collect::<Vec<_>>();
    for (b, c, arm, sizes) in [
        (vec![], full(), "baseline", (0, 10)),
        (vec![f64::NAN; 10], full(), "baseline", (0, 10)),
        (full(), vec![], "canary", (10, 0)),
        (full(), vec![f64::NAN; 10], "canary", (10, 0)),
        (vec![], vec![], "baseline", (0, 0)),
    ] {
        let j = judge_one(p.clone(), pts(b), pts(c));
        let m = &j.metrics[0];
        assert_eq!(m.classification, Classification::NoData, "{j}");
        assert_eq!(m.reason, format!("the {arm} has no points after cleaning"));
        assert_eq!((m.n_baseline, m.n_canary), sizes, "{j}");
    }
}
