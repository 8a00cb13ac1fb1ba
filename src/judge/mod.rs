//! The judge: policy and data in, judgment out. Data flow one way: cleaning → comparison →
//! multiple-testing adjustment → classification → scoring → verdict.

pub(crate) mod classify;
pub(crate) mod cleaning;
pub(crate) mod compare;
pub(crate) mod score;
pub(crate) mod tails;
pub(crate) mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::judge::classify::{apply_tails, classify, Classification, Family, MetricJudgment};
use crate::judge::cleaning::{clean, Cleaned};
use crate::judge::compare::compare;
use crate::judge::score::score;
use crate::judge::tails::{run_on_sorted, TailResult};
use crate::judge::verdict::{Judgment, Reason, Severity, Verdict};
use crate::policy::{
    CanaryPolicy, Comparator, Direction, EffectMeasure, MetricKind, MetricPolicy, MustHaveAction,
    SrmAction, TailAspect,
};
use crate::series::MetricData;
use crate::stats::alpha_share::{adjust_weighted, metric_weights};
use crate::stats::hypothesis::fmt_g;
use crate::stats::srm::srm_binomial;

/// Judges a canary: every metric of the policy against its data, then the score and the verdict.
///
/// The verdict rules, in order:
/// 1. **Rollback** when a critical metric fails (High, Low, NoDataFail or Error), when any
///    metric changes significantly past its *critical* tolerance or breaks an absolute or
///    relative bound, or when the score is below the marginal threshold. The second rule is what
///    keeps one clearly regressed metric from being diluted into a pass by many healthy ones: a
///    20% latency regression among 59 healthy metrics still scores 98, and still rolls back.
/// 2. **Inconclusive** when no metric could be counted (no data, too few points), or when the
///    sample-ratio check fails with `action: inconclusive`.
/// 3. **Marginal** when the score is below the pass threshold, when a critical metric could not
///    be judged, or when the sample-ratio check fails with `action: marginal`.
/// 4. **Promote** otherwise.
///
/// Significance is the multiple-testing-adjusted p-value (Holm by default) below the policy's
/// alpha, one-sided in the metric's direction of harm.
///
/// # Errors
/// [`Error::InvalidPolicy`] for an invalid policy, [`Error::DataMismatch`] for data given twice
/// or for a metric the policy does not list. Bad data for one metric does not fail the judgment:
/// that metric is classified `Error`, with the reason.
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::{
///     judge, CanaryPolicy, Direction, MetricData, MetricPolicy, Series, Verdict,
/// };
/// let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_ms", Direction::Increase)]);
/// let baseline: Vec<f64> = (0..60).map(|i| 100.0 + (i % 7) as f64).collect();
/// let canary: Vec<f64> = baseline.iter().map(|v| v * 1.3).collect();
/// let data = [MetricData::new(
///     "latency_ms",
///     Arms {
///         baseline: Series::samples(baseline),
///         canary: Series::samples(canary),
///     },
/// )];
/// let judgment = judge(&policy, &data)?;
/// assert_eq!(judgment.verdict, Verdict::Rollback);
/// println!("{judgment}");
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn judge(policy: &CanaryPolicy, data: &[MetricData]) -> Result<Judgment> {
    policy.validate()?;
    let policy = &*policy.resolved();
    let mut by_name: BTreeMap<&str, &MetricData> = BTreeMap::new();
    for d in data {
        if by_name.insert(d.name.as_str(), d).is_some() {
            return Err(Error::DataMismatch {
                metric: d.name.clone(),
                problem: "data are given twice".into(),
            });
        }
    }
    let listed: BTreeSet<&str> = policy.metrics.iter().map(|m| m.name.as_str()).collect();
    for d in data {
        if !listed.contains(d.name.as_str()) {
            return Err(Error::DataMismatch {
                metric: d.name.clone(),
                problem: "data are given for a metric the policy does not list".into(),
            });
        }
    }
    // Clean and compare every metric; collect p-values of the counted ones.
    let mut staged: Vec<Stage> = Vec::with_capacity(policy.metrics.len());
    for mp in &policy.metrics {
        staged.push(stage(mp, by_name.get(mp.name.as_str()).copied()));
    }
    // Every test counts: the location test and each tail aspect of every unmuted metric.
    // Key (metric, None) is the location test, (metric, Some(k)) the k-th tail aspect.
    let mut tested: Vec<(usize, Option<usize>)> = Vec::new();
    let mut raw: Vec<f64> = Vec::new();
    for (i, s) in staged.iter().enumerate() {
        if policy.metrics[i].muted {
            continue;
        }
        if let Some(p) = s.p_value() {
            tested.push((i, None));
            raw.push(p);
        }
        for (k, p) in s.tail_p_values() {
            tested.push((i, Some(k)));
            raw.push(p);
        }
    }
    // Weights: critical metrics share `critical_alpha_share` of alpha; a metric's weight is
    // split equally among its tests (location and tail aspects).
    let tested_metrics: Vec<usize> = {
        let mut v: Vec<usize> = tested.iter().map(|(i, _)| *i).collect();
        v.dedup();
        v
    };
    let metric_weight: BTreeMap<usize, f64> = tested_metrics
        .iter()
        .copied()
        .zip(metric_weights(
            &tested_metrics
                .iter()
                .map(|&i| policy.metrics[i].critical)
                .collect::<Vec<_>>(),
            policy.critical_alpha_share,
        ))
        .collect();
    let tests_of = |i: usize| tested.iter().filter(|(k, _)| *k == i).count().max(1) as f64;
    let weights: Vec<f64> = tested
        .iter()
        .map(|(i, _)| metric_weight[i] / tests_of(*i))
        .collect();
    let adjusted = adjust_weighted(&raw, &weights, policy.adjustment)?;
    // A metric's share of alpha for its location test: its weight over the tests' total
    // (the level it must reach on its own, as in the first step of the weighted procedure).
    let share_of = |i: usize| -> f64 {
        let w = metric_weight.get(&i).map_or(1.0, |w| w / tests_of(i));
        policy.alpha * w
    };
    let shares: Vec<f64> = (0..policy.metrics.len()).map(share_of).collect();
    let mut adjusted_of: BTreeMap<(usize, Option<usize>), f64> =
        tested.into_iter().zip(adjusted).collect();
    let metrics: Vec<MetricJudgment> = staged
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let mp = &policy.metrics[i];
            match s {
                Stage::Done(j) => *j,
                Stage::Compared {
                    cmp,
                    sorted,
                    sizes,
                    tails,
                    auto_tail,
                } => {
                    // A muted metric is adjusted as if alone: it is reported, never counted.
                    let adj = adjusted_of.remove(&(i, None)).or(cmp.p_value);
                    let family = Family {
                        alpha: policy.alpha,
                        share: shares[i],
                        sufficiency_multiple: policy.sufficiency_multiple,
                    };
                    let mut j = classify(mp, *cmp, adj, family, (&sorted.0, &sorted.1), sizes);
                    if !tails.is_empty() {
                        let tail_adj: Vec<Option<f64>> = (0..tails.len())
                            .map(|k| adjusted_of.remove(&(i, Some(k))).or(tails[k].p_value))
                            .collect();
                        apply_tails(&mut j, mp.direction, policy.alpha, tails, &tail_adj);
                        if auto_tail && j.tails.iter().any(|t| t.regressed) {
                            j.critical_breach = true;
                        }
                    }
                    j
                }
            }
        })
        .collect();
    let (groups, total) = score(policy, &metrics);
    let srm = srm_check(policy, &by_name);
    let (verdict, reasons) = decide(policy, &metrics, total, srm.as_ref());
    Ok(Judgment {
        verdict,
        score: total,
        thresholds: policy.thresholds,
        reasons,
        groups,
        metrics,
        srm_p_value: srm.as_ref().map(|o| o.p_value),
        srm: srm.map(|o| o.test),
    })
}

/// A metric after cleaning and comparison, before the adjustment across metrics.
enum Stage {
    Done(Box<MetricJudgment>),
    Compared {
        cmp: Box<crate::judge::compare::Comparison>,
        sorted: (Vec<f64>, Vec<f64>),
        sizes: (usize, usize),
        tails: Vec<TailResult>,
        /// The tails are the default p99 aspect: its regression is a critical breach.
        auto_tail: bool,
    },
}

impl Stage {
    fn p_value(&self) -> Option<f64> {
        match self {
            Stage::Done(_) => None,
            Stage::Compared { cmp, .. } => cmp.p_value,
        }
    }

    /// The tail aspects' p-values, by position, for those that were judged.
    fn tail_p_values(&self) -> Vec<(usize, f64)> {
        match self {
            Stage::Done(_) => Vec::new(),
            Stage::Compared { tails, .. } => tails
                .iter()
                .enumerate()
                .filter_map(|(k, t)| t.p_value.map(|p| (k, p)))
                .collect(),
        }
    }
}

fn stage(mp: &MetricPolicy, data: Option<&MetricData>) -> Stage {
    let no_data = |why: &str| {
        let label = if mp.must_have_data {
            Classification::NoDataFail
        } else {
            Classification::NoData
        };
        Stage::Done(Box::new(MetricJudgment::bare(mp, label, why.to_string())))
    };
    let Some(d) = data else {
        return no_data("no data given");
    };
    let cleaned = match clean(mp, &d.baseline, &d.canary) {
        Ok(c) => c,
        Err(e) => {
            return Stage::Done(Box::new(MetricJudgment::bare(
                mp,
                Classification::Error,
                e.to_string(),
            )))
        }
    };
    let sizes = cleaned.sizes();
    if sizes.0 == 0 || sizes.1 == 0 {
        let arm = if sizes.0 == 0 { "baseline" } else { "canary" };
        let what = if mp.kind == MetricKind::Counter {
            "trials"
        } else {
            "points"
        };
        let mut j = no_data(&format!("the {arm} has no {what} after cleaning"));
        if let Stage::Done(b) = &mut j {
            b.n_baseline = sizes.0;
            b.n_canary = sizes.1;
        }
        return j;
    }
    // Too little data to judge: points per arm, or trials per arm for counters.
    if sizes.0 < mp.min_samples || sizes.1 < mp.min_samples {
        let what = if mp.kind == MetricKind::Counter {
            "trials"
        } else {
            "points"
        };
        let mut j = MetricJudgment::bare(
            mp,
            Classification::Inconclusive,
            format!(
                "needs at least {} {what} per arm, has {} baseline and {} canary",
                mp.min_samples, sizes.0, sizes.1
            ),
        );
        j.n_baseline = sizes.0;
        j.n_canary = sizes.1;
        return Stage::Done(Box::new(j));
    }
    let mut cmp = match compare(mp, &cleaned) {
        Ok(c) => c,
        Err(e) => {
            return Stage::Done(Box::new(MetricJudgment::bare(
                mp,
                Classification::Error,
                e.to_string(),
            )))
        }
    };
    // The comparison sorted the arms once: the tail aspects and the bounds reuse them.
    let arms = cmp.sorted.take();
    let auto = auto_tail(mp, &cleaned);
    let aspects: &[TailAspect] = match &auto {
        Some(a) => std::slice::from_ref(a),
        None => &mp.tails,
    };
    let tails = if aspects.is_empty() || mp.comparator == Comparator::ThresholdsOnly {
        Vec::new()
    } else {
        match (&arms, &cleaned) {
            (Some((b, c)), _) => run_on_sorted(aspects, mp.direction, mp.conf_level, b, c),
            (None, Cleaned::Histograms { baseline, canary }) => {
                crate::judge::tails::histogram_tails(mp, baseline, canary)
            }
            _ => Vec::new(),
        }
    };
    let sorted = match arms {
        Some(arms) if mp.bounds.is_some() || mp.relative_bounds.is_some() => arms,
        _ => (Vec::new(), Vec::new()),
    };
    Stage::Compared {
        cmp: Box::new(cmp),
        sorted,
        sizes,
        tails,
        auto_tail: auto.is_some(),
    }
}

/// The tail aspect judged by default: for raw samples (per-request values, no time, not in
/// blocks) of a
/// metric whose harm is an increase, on the relative scale, with no tails listed and
/// `auto_tails` on, the p99 tested against the critical tolerance (`H0: ξ_c ≤ (1 + t)·ξ_b`,
/// see [`quantile_compare`](crate::stats::quantile_compare)). It catches what a location test cannot:
/// a slower tail with an unchanged median, a doubled spread. Its regression is a critical
/// breach, as a location change past the critical tolerance is. Too few points for a p99
/// interval leave it unjudged.
fn auto_tail(mp: &MetricPolicy, cleaned: &Cleaned) -> Option<TailAspect> {
    // Not on blocks: the quantile test counts requests as independent, which is what blocks
    // say they are not (a few slow minutes of one arm would read as a slower tail).
    let raw = matches!(
        cleaned,
        Cleaned::Unpaired {
            in_time_order: false,
            ..
        }
    );
    let tol = mp.tolerance;
    let margin = tol.critical_increase - 1.0;
    (raw && mp.auto_tails
        && mp.tails.is_empty()
        && mp.direction == Direction::Increase
        && tol.measure == EffectMeasure::RelativeShift
        && margin.is_finite()
        && (0.0..1.0).contains(&margin))
    .then_some(TailAspect::Quantile {
        p: 0.99,
        tolerance: margin,
    })
}

/// The SRM test on the largest trial count of each arm among the counter metrics.
fn srm_check(policy: &CanaryPolicy, data: &BTreeMap<&str, &MetricData>) -> Option<SrmOutcome> {
    let srm = policy.srm?;
    let (mut b, mut c) = (0u64, 0u64);
    for mp in policy
        .metrics
        .iter()
        .filter(|m| m.kind == MetricKind::Counter)
    {
        let Some(d) = data.get(mp.name.as_str()) else {
            continue;
        };
        if let Ok(Cleaned::Counts { baseline, canary }) = clean(mp, &d.baseline, &d.canary) {
            b = b.max(baseline.trials);
            c = c.max(canary.trials);
        }
    }
    if b + c == 0 {
        return None;
    }
    let test =
        crate::stats::srm::srm_chi_squared(&[c, b], &[srm.canary_share, 1.0 - srm.canary_share])
            .ok()?;
    // Small totals: the exact binomial p-value decides; otherwise the chi-squared one. The exact
    // test is computed only when it decides: its interval costs tail sums of O(√trials) terms.
    let p = if b + c < 1000 {
        srm_binomial(
            Arms {
                baseline: b,
                canary: c,
            },
            srm.canary_share,
        )
        .map_or(test.p_value, |e| e.p_value)
    } else {
        test.p_value
    };
    Some(SrmOutcome {
        test,
        mismatch: p < srm.alpha,
        canary: c,
        baseline: b,
        p_value: p,
    })
}

/// The SRM test, whether it found a mismatch, and the trial counts it saw.
struct SrmOutcome {
    test: crate::stats::srm::SrmTest,
    mismatch: bool,
    canary: u64,
    baseline: u64,
    p_value: f64,
}

fn decide(
    policy: &CanaryPolicy,
    metrics: &[MetricJudgment],
    total: Option<f64>,
    srm: Option<&SrmOutcome>,
) -> (Verdict, Vec<Reason>) {
    let mut reasons = Vec::new();
    let mut cap_marginal = false;
    for m in metrics {
        let label = m.classification;
        let reason = |severity, message: String| Reason {
            severity,
            metric: Some(m.name.clone()),
            message,
        };
        if m.muted {
            if label.is_failure() {
                reasons.push(reason(
                    Severity::Info,
                    format!("muted, would be {label}: {}", m.reason),
                ));
            }
            continue;
        }
        if label.is_failure() {
            // A failure never promotes: at best the verdict is Marginal.
            cap_marginal = true;
            let missing_rolls_back = label == Classification::NoDataFail
                && policy.missing_must_have == MustHaveAction::Rollback;
            let severity = if m.critical || m.critical_breach || missing_rolls_back {
                Severity::Critical
            } else {
                Severity::Failure
            };
            let why = if m.critical && !m.critical_breach {
                format!("critical metric {label}: {}", m.reason)
            } else {
                format!("{label}: {}", m.reason)
            };
            reasons.push(reason(severity, why));
        } else if m.critical && !label.is_counted() {
            cap_marginal = true;
            reasons.push(reason(
                Severity::Warning,
                format!("critical metric not judged ({label}): {}", m.reason),
            ));
        } else if label == Classification::Inconclusive {
            // "Could not tell" is never a silent Promote.
            cap_marginal = true;
            reasons.push(reason(Severity::Warning, format!("{label}: {}", m.reason)));
        } else if !label.is_counted() {
            reasons.push(reason(Severity::Info, format!("{label}: {}", m.reason)));
        }
    }
    let t = policy.thresholds;
    if let Some(s) = total {
        if s < t.marginal {
            reasons.push(Reason {
                severity: Severity::Critical,
                metric: None,
                message: format!(
                    "score {s:.2} is below the marginal threshold {}",
                    fmt_g(t.marginal)
                ),
            });
        } else if s < t.pass {
            reasons.push(Reason {
                severity: Severity::Warning,
                metric: None,
                message: format!("score {s:.2} is below the pass threshold {}", fmt_g(t.pass)),
            });
        }
    }
    let mut srm_inconclusive = false;
    if let (Some(o), Some(sp)) = (srm.filter(|o| o.mismatch), policy.srm) {
        let severity = match sp.action {
            SrmAction::Rollback => Severity::Critical,
            SrmAction::Warn => Severity::Info,
            _ => Severity::Warning,
        };
        cap_marginal |= sp.action == SrmAction::Marginal;
        srm_inconclusive = sp.action == SrmAction::Inconclusive;
        reasons.push(Reason {
            severity,
            metric: None,
            message: format!(
                "sample ratio mismatch: canary {} vs baseline {} trials, expected canary share {} (p = {})",
                o.canary,
                o.baseline,
                fmt_g(sp.canary_share),
                fmt_g(o.p_value)
            ),
        });
    }
    reasons.sort_by_key(|r| r.severity);
    let verdict = if reasons.iter().any(|r| r.severity == Severity::Critical) {
        Verdict::Rollback
    } else if total.is_none() || srm_inconclusive {
        Verdict::Inconclusive
    } else if total.is_some_and(|s| s < t.pass) || cap_marginal {
        Verdict::Marginal
    } else {
        Verdict::Promote
    };
    (verdict, reasons)
}
