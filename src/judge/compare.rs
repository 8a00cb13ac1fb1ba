//! Comparison: the statistical test a metric's policy calls for, its estimate on the tolerance's
//! scale, and both arms' summaries.

use crate::arms::Arms;
use crate::error::Result;
use crate::judge::cleaning::{Cleaned, Totals};
use crate::policy::{Comparator, Direction, EffectMeasure, MetricPolicy, Statistic};
use crate::stats::counts::CountTestConfig;
use crate::stats::counts::{poisson_rate_test, Exposure, PoissonRateTest};
use crate::stats::dependence::Dependence;
use crate::stats::hodges_lehmann::HodgesLehmann;
use crate::stats::hypothesis::{Alternative, ConfidenceInterval};
use crate::stats::quantile::{quantile_sorted, sorted_copy, QuantileType};
use crate::stats::quantile_compare::QuantileComparison;
use crate::stats::rank_sum::{MannWhitney, MannWhitneyConfig, TwoSample};
use crate::stats::signed_rank::{PairedSample, PairedShift, SignedRank, SignedRankConfig};
use crate::stats::summary::Summary;

mod histogram;

/// The quantiles every continuous summary reports.
pub(crate) const SUMMARY_QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// The test behind a metric's finding, with all its numbers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TestDetails {
    /// Rank-sum test and Hodges-Lehmann shift.
    RankSum {
        /// The test.
        test: MannWhitney,
        /// The shift and its interval.
        shift: HodgesLehmann,
    },
    /// Signed-rank test and paired shift.
    SignedRank {
        /// The test.
        test: SignedRank,
        /// The paired shift and its interval.
        shift: PairedShift,
        /// Points left out for want of a partner at the same timestamp.
        unpaired: usize,
    },
    /// Per-request values in time blocks: van Elteren's stratified rank test (robust to what
    /// one block's requests share, corrected for serial correlation between blocks), and the
    /// Hodges-Lehmann shift of the pooled values.
    Blocked {
        /// The rank-sum test of the pooled values, for reference (not the one that decides).
        pooled: MannWhitney,
        /// The pooled shift and its interval (widened as the stratified variance was).
        shift: HodgesLehmann,
        /// The stratified statistic standardised under independence.
        z: f64,
        /// The stratified test's p-value, after its corrections: the one that decides.
        p_value: f64,
        /// Blocks compared.
        blocks: usize,
        /// Blocks left out for want of a partner at the same timestamp (or of values).
        unmatched: usize,
    },
    /// Conditional exact Poisson rate test on events over trials.
    Counts {
        /// The test (rate ratio canary / baseline; it holds the event counts).
        test: PoissonRateTest,
        /// Baseline trials.
        baseline_trials: u64,
        /// Canary trials.
        canary_trials: u64,
    },
    /// Histogram input: the rank-sum test on the buckets as tie groups, and the medians
    /// compared by bucket-widened order-statistic intervals.
    Histogram {
        /// The grouped rank-sum test ([`histogram_mann_whitney`](crate::stats::histogram_mann_whitney)).
        test: MannWhitney,
        /// The medians and their two-sided interval
        /// ([`histogram_quantile_compare`](crate::stats::histogram_quantile_compare) at p = 0.5).
        median: Box<QuantileComparison>,
    },
}

/// What comparing the two arms found, before tolerances are applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparison {
    /// One-sided p-value in the direction of harm (two-sided for `Either`).
    pub p_value: Option<f64>,
    /// The shift (continuous, in the metric's units) or the rate ratio (counters).
    pub estimate: Option<f64>,
    /// Its interval at the metric's confidence level.
    pub interval: Option<ConfidenceInterval>,
    /// The effect on the tolerance's scale (`None` when undefined, e.g. a zero baseline).
    pub effect: Option<f64>,
    /// The effect's interval on the tolerance's scale, where it maps.
    pub effect_interval: Option<(f64, f64)>,
    /// The scale of `effect`.
    pub measure: EffectMeasure,
    /// Summaries of the cleaned arms.
    pub baseline: Option<Summary>,
    /// Summaries of the cleaned arms.
    pub canary: Option<Summary>,
    /// Test details.
    pub details: Option<TestDetails>,
    /// The cleaned arms sorted ascending (baseline, canary), for bounds and tail aspects:
    /// continuous metrics only.
    pub sorted: Option<(Vec<f64>, Vec<f64>)>,
    /// The serial-correlation correction applied (continuous metrics compared by ranks).
    pub dependence: Option<Dependence>,
    /// The effect's standard error on its scale, read from its interval.
    pub se_effect: Option<f64>,
    /// The smallest p-value any outcome could give with these sizes, where it is not negligible.
    pub p_floor: Option<f64>,
}

impl Comparison {
    /// No test (`thresholds_only`): the arms' summaries for the bounds, nothing else.
    pub(crate) fn summaries_only(
        measure: EffectMeasure,
        baseline: Option<Summary>,
        canary: Option<Summary>,
    ) -> Comparison {
        Comparison {
            p_value: None,
            estimate: None,
            interval: None,
            effect: None,
            effect_interval: None,
            measure,
            baseline,
            canary,
            details: None,
            sorted: None,
            dependence: None,
            se_effect: None,
            p_floor: None,
        }
    }
}

pub(crate) fn alternative(direction: Direction) -> Alternative {
    match direction {
        Direction::Increase => Alternative::Greater,
        Direction::Decrease => Alternative::Less,
        Direction::Either => Alternative::TwoSided,
    }
}

/// The value of a statistic on a sorted, non-empty sample.
pub(crate) fn statistic_of(sorted: &[f64], summary: &Summary, st: Statistic) -> f64 {
    match st {
        Statistic::Mean => summary.mean,
        Statistic::Median => quantile_sorted(sorted, 0.5, QuantileType::Type7),
        Statistic::Quantile(p) => quantile_sorted(sorted, p, QuantileType::Type7),
    }
}

fn summary_sorted(sorted: &[f64]) -> Option<Summary> {
    (!sorted.is_empty())
        .then(|| Summary::of_sorted(sorted, &SUMMARY_QUANTILES, QuantileType::Type7))
}

/// Relative form of a shift: `1 + shift / |baseline location|` (1.1 is +10%). Dividing by the
/// absolute value keeps the direction of harm for negative-valued metrics: a baseline at -100
/// and a canary at -50 is `+50%`, an increase, as it is on the metric's own axis.
pub(crate) fn relative(shift: f64, location: f64) -> Option<f64> {
    (location != 0.0 && location.is_finite()).then(|| 1.0 + shift / location.abs())
}

/// The location a relative effect is stated against, when the baseline is clearly away from
/// zero: its median, if its interquartile range does not contain 0. A baseline that straddles
/// zero (a clock offset, a balance, a delta) has no meaningful percentage change; such a metric
/// is judged on the absolute scale instead, and the judgment says so.
pub(crate) fn relative_location(sorted_baseline: &[f64]) -> Option<f64> {
    if sorted_baseline.is_empty() {
        return None;
    }
    let q = |p| quantile_sorted(sorted_baseline, p, QuantileType::Type7);
    let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
    (median != 0.0 && (q1 > 0.0 || q3 < 0.0)).then_some(median)
}

/// The effect and its interval on the policy's relative scales, or on the absolute scale when
/// the baseline straddles zero (see [`relative_location`]). Returns the measure actually used.
fn shift_effect(
    measure: EffectMeasure,
    sorted_baseline: &[f64],
    shift: f64,
    ci: ConfidenceInterval,
    means: Option<(f64, f64)>,
) -> (EffectMeasure, Option<f64>, Option<(f64, f64)>) {
    let location = relative_location(sorted_baseline);
    match (measure, location) {
        (EffectMeasure::RelativeShift, Some(m)) => (
            measure,
            relative(shift, m),
            relative(ci.lower, m).zip(relative(ci.upper, m)),
        ),
        (EffectMeasure::MeanRatio, Some(_)) => (
            measure,
            means.and_then(|(mb, mc)| relative(mc - mb, mb)),
            None,
        ),
        (EffectMeasure::RelativeShift | EffectMeasure::MeanRatio, None)
        | (EffectMeasure::Absolute, _) => (
            EffectMeasure::Absolute,
            Some(shift),
            Some((ci.lower, ci.upper)),
        ),
        (EffectMeasure::Cles, _) => (measure, None, None),
    }
}

/// Runs the policy's comparison on cleaned data. Arms must be non-empty (the caller checks the
/// minimum sample size first).
pub(crate) fn compare(policy: &MetricPolicy, data: &Cleaned) -> Result<Comparison> {
    let alt = alternative(policy.direction);
    let measure = policy.tolerance.measure;
    match data {
        Cleaned::Counts { baseline, canary } => compare_counts(policy, *baseline, *canary),
        Cleaned::Histograms { baseline, canary } => {
            histogram::compare_histograms(policy, baseline, canary)
        }
        // Cleaning keeps blocks only for a rank test: `thresholds_only` sees them pooled.
        Cleaned::Unpaired {
            baseline, canary, ..
        }
        | Cleaned::Paired {
            baseline, canary, ..
        } if policy.comparator == Comparator::ThresholdsOnly => {
            // Sorted once: for the summaries here and for the bounds later.
            let (b, c) = (sorted_copy(baseline).ok(), sorted_copy(canary).ok());
            let summary = |s: &Option<Vec<f64>>| s.as_deref().and_then(summary_sorted);
            let (sb, sc) = (summary(&b), summary(&c));
            Ok(Comparison {
                sorted: b.zip(c),
                ..Comparison::summaries_only(measure, sb, sc)
            })
        }
        Cleaned::Unpaired {
            baseline,
            canary,
            in_time_order,
        } => {
            let pair = TwoSample::new(Arms { baseline, canary })?;
            let test = pair.mann_whitney(&MannWhitneyConfig {
                alternative: alt,
                ..Default::default()
            })?;
            // Timestamped arms: serial correlation inflates the rank statistic's variance.
            let n = (baseline.len() + canary.len()) as f64;
            let (dependence, z0) = if *in_time_order {
                crate::stats::dependence::unpaired(baseline, canary, 0.0)
            } else {
                (Dependence::none(n), f64::NAN)
            };
            let p_value = dependence.p_value(test.p_value, z0, alt);
            rank_comparison(policy, pair, p_value, dependence, |shift| {
                TestDetails::RankSum { test, shift }
            })
        }
        Cleaned::Blocked {
            baseline,
            canary,
            unmatched,
        } => {
            // The pooled values give the shift and the summaries; the test is stratified.
            let pair = TwoSample::new(Arms {
                baseline: &baseline.concat(),
                canary: &canary.concat(),
            })?;
            let test = pair.mann_whitney(&MannWhitneyConfig {
                alternative: alt,
                ..Default::default()
            })?;
            let st = crate::stats::blocked::van_elteren(baseline, canary);
            let p_value =
                st.dependence
                    .p_value(crate::stats::rank_sum::normal_p(st.z0, alt), st.z0, alt);
            let (blocks, unmatched) = (st.blocks, *unmatched);
            rank_comparison(policy, pair, p_value, st.dependence, |shift| {
                TestDetails::Blocked {
                    pooled: test,
                    shift,
                    z: st.z0,
                    p_value,
                    blocks,
                    unmatched,
                }
            })
        }
        Cleaned::Paired {
            baseline,
            canary,
            unpaired,
        } => {
            let paired = PairedSample::new(Arms { baseline, canary })?;
            let test = paired.signed_rank(&SignedRankConfig {
                alternative: alt,
                ..Default::default()
            })?;
            let shift = paired.hodges_lehmann(&SignedRankConfig {
                conf_level: policy.conf_level,
                ..Default::default()
            });
            // The differences in time order: their serial correlation is what remains after the
            // pairing has cancelled the load both arms share.
            let differences: Vec<f64> = canary.iter().zip(baseline).map(|(c, b)| c - b).collect();
            let (dependence, z0) = crate::stats::dependence::paired(baseline, canary, 0.0);
            let p_value = dependence.p_value(test.p_value, z0, alt);
            let mut sorted_base = baseline.clone();
            crate::stats::sorted::sort_finite(&mut sorted_base);
            // Summaries from the sorted arms: each arm is sorted once.
            let base_summary = summary_sorted(&sorted_base);
            let mut sorted_canary = canary.clone();
            crate::stats::sorted::sort_finite(&mut sorted_canary);
            let canary_summary = summary_sorted(&sorted_canary);
            let means = base_summary
                .as_ref()
                .zip(canary_summary.as_ref())
                .map(|(b, c)| (b.mean, c.mean));
            let mut measure = measure;
            let (estimate, interval, effect, effect_interval, shift) = match shift {
                Ok(s) => {
                    let ci = dependence.widen(s.estimate, s.interval);
                    let (used, effect, effect_interval) =
                        shift_effect(measure, &sorted_base, s.estimate, ci, means);
                    measure = used;
                    let effect = if measure == EffectMeasure::Cles {
                        let wins = differences
                            .iter()
                            .map(|d| {
                                if *d > 0.0 {
                                    1.0
                                } else if *d == 0.0 {
                                    0.5
                                } else {
                                    0.0
                                }
                            })
                            .sum::<f64>();
                        Some(wins / canary.len() as f64)
                    } else {
                        effect
                    };
                    (Some(s.estimate), Some(ci), effect, effect_interval, s)
                }
                Err(_) => {
                    // Every difference is zero: no shift at all.
                    let s = PairedShift {
                        estimate: 0.0,
                        interval: ConfidenceInterval {
                            lower: 0.0,
                            upper: 0.0,
                            level: policy.conf_level,
                        },
                        method: crate::stats::hypothesis::MethodUsed::Exact,
                        n_nonzero: 0,
                    };
                    (
                        Some(0.0),
                        Some(s.interval),
                        Some(measure.neutral()),
                        None,
                        s,
                    )
                }
            };
            let p_floor = signed_rank_floor(test.n_nonzero, alt);
            Ok(Comparison {
                p_value: Some(p_value),
                estimate,
                interval,
                effect,
                effect_interval,
                measure,
                baseline: base_summary,
                canary: canary_summary,
                details: Some(TestDetails::SignedRank {
                    test,
                    shift,
                    unpaired: *unpaired,
                }),
                sorted: Some((sorted_base, sorted_canary)),
                dependence: Some(dependence),
                se_effect: effect_se(effect_interval, &dependence, policy.conf_level),
                p_floor,
            })
        }
    }
}

/// The rank-sum family's comparison once the test is done: the Hodges-Lehmann shift with its
/// interval widened for dependence, the effect on the policy's scale, the summaries.
fn rank_comparison(
    policy: &MetricPolicy,
    pair: TwoSample,
    p_value: f64,
    dependence: Dependence,
    details: impl FnOnce(HodgesLehmann) -> TestDetails,
) -> Result<Comparison> {
    let alt = alternative(policy.direction);
    // The defaults otherwise: a two-sided interval whatever the direction, continuity-corrected,
    // exact for small arms without ties.
    let shift = pair.hodges_lehmann(&MannWhitneyConfig {
        conf_level: policy.conf_level,
        ..Default::default()
    })?;
    let ci = dependence.widen(shift.estimate, shift.interval);
    // The summaries' means are the mean ratio's: computed once.
    let (base_summary, canary_summary) = (
        summary_sorted(pair.baseline()),
        summary_sorted(pair.canary()),
    );
    let means = base_summary
        .as_ref()
        .zip(canary_summary.as_ref())
        .map(|(b, c)| (b.mean, c.mean));
    let (measure, mut effect, effect_interval) = shift_effect(
        policy.tolerance.measure,
        pair.baseline(),
        shift.estimate,
        ci,
        means,
    );
    if measure == EffectMeasure::Cles {
        effect = Some(pair.cles());
    }
    let p_floor = rank_sum_floor(pair.baseline().len(), pair.canary().len(), alt);
    Ok(Comparison {
        p_value: Some(p_value),
        estimate: Some(shift.estimate),
        interval: Some(ci),
        effect,
        effect_interval,
        measure,
        baseline: base_summary,
        canary: canary_summary,
        details: Some(details(shift)),
        sorted: Some(pair.into_sorted()),
        dependence: Some(dependence),
        se_effect: effect_se(effect_interval, &dependence, policy.conf_level),
        p_floor,
    })
}

/// The standard error of the effect read back from its two-sided interval: the half-width
/// over the reference quantile the interval was built with (normal, or Student's t on the
/// effective degrees of freedom when serial correlation widened it).
fn effect_se(interval: Option<(f64, f64)>, dep: &Dependence, level: f64) -> Option<f64> {
    let (lo, hi) = interval?;
    let q = dep.quantile(0.5 + level / 2.0);
    let se = (hi - lo) / (2.0 * q);
    (se.is_finite() && se >= 0.0).then_some(se)
}

/// The smallest p-value the rank-sum test can give with these sizes (no ties): one over the
/// number of ways to split the pooled ranks, `1 / C(n + m, n)`, doubled when two-sided. `None`
/// when it is negligible (both arms of 30 or more points).
fn rank_sum_floor(n: usize, m: usize, alt: Alternative) -> Option<f64> {
    if n.min(m) >= 30 {
        return None;
    }
    let (small, total) = (n.min(m) as f64, (n + m) as f64);
    let ln_ways = (1..=n.min(m))
        .map(|i| ((total - small + i as f64) / i as f64).ln())
        .sum::<f64>();
    let p = (-ln_ways).exp();
    Some(if alt == Alternative::TwoSided {
        (2.0 * p).min(1.0)
    } else {
        p
    })
}

/// The smallest p-value the signed-rank test can give with `n` non-zero differences (no ties):
/// `2^-n`, doubled when two-sided. `None` from 60 differences on.
fn signed_rank_floor(n: usize, alt: Alternative) -> Option<f64> {
    if n >= 60 {
        return None;
    }
    let p = 0.5f64.powi(n as i32);
    Some(if alt == Alternative::TwoSided {
        (2.0 * p).min(1.0)
    } else {
        p
    })
}

fn compare_counts(policy: &MetricPolicy, baseline: Totals, canary: Totals) -> Result<Comparison> {
    let rate = |t: Totals| -> Option<Summary> {
        (t.trials > 0).then(|| {
            let r = t.events as f64 / t.trials as f64;
            Summary {
                count: t.trials as usize,
                mean: r,
                sd: (r * (1.0 - r)).sqrt(),
                min: if t.events == t.trials { 1.0 } else { 0.0 },
                max: if t.events > 0 { 1.0 } else { 0.0 },
                quantiles: Vec::new(),
            }
        })
    };
    let summaries = (rate(baseline), rate(canary));
    if policy.comparator == Comparator::ThresholdsOnly {
        return Ok(Comparison::summaries_only(
            EffectMeasure::MeanRatio,
            summaries.0,
            summaries.1,
        ));
    }
    let test = poisson_rate_test(
        Arms {
            baseline: Exposure::new(baseline.events, baseline.trials as f64),
            canary: Exposure::new(canary.events, canary.trials as f64),
        },
        1.0,
        &CountTestConfig::default()
            .alternative(alternative(policy.direction))
            .conf_level(policy.conf_level),
    )?;
    // Two-sided interval for the report, whatever the test's direction.
    let interval_test = poisson_rate_test(
        Arms {
            baseline: Exposure::new(baseline.events, baseline.trials as f64),
            canary: Exposure::new(canary.events, canary.trials as f64),
        },
        1.0,
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(policy.conf_level),
    )?;
    let ratio = test.rate_ratio;
    let ci = interval_test.conf_int;
    Ok(Comparison {
        p_value: Some(test.p_value),
        estimate: Some(ratio),
        interval: Some(ci),
        // A rate ratio with no events at all is no change; with baseline events at zero it is
        // infinite, which exceeds every tolerance.
        effect: Some(if ratio.is_nan() { 1.0 } else { ratio }),
        effect_interval: Some((ci.lower, ci.upper)),
        measure: EffectMeasure::MeanRatio,
        baseline: summaries.0,
        canary: summaries.1,
        details: Some(TestDetails::Counts {
            test,
            baseline_trials: baseline.trials,
            canary_trials: canary.trials,
        }),
        sorted: None,
        dependence: None,
        se_effect: None,
        p_floor: count_floor(baseline, canary, alternative(policy.direction)),
    })
}

/// The smallest p-value the conditional count test can give with the events seen: all `E`
/// events in one arm, with probability `π^E` for the canary's share of trials `π` (the test
/// conditions on `E`; Przyborowski & Wilenski, *Biometrika* 31, 1940). `None` when it is
/// negligible (below 1e-12) or when there are no events.
fn count_floor(baseline: Totals, canary: Totals, alt: Alternative) -> Option<f64> {
    let events = (baseline.events + canary.events) as f64;
    let trials = baseline.trials as f64 + canary.trials as f64;
    if events == 0.0 || trials <= 0.0 {
        return None;
    }
    let share = canary.trials as f64 / trials;
    let (up, down) = (share.powf(events), (1.0 - share).powf(events));
    let p = match alt {
        Alternative::Greater => up,
        Alternative::Less => down,
        Alternative::TwoSided => (up + down).min(1.0),
    };
    (p >= 1e-12).then_some(p)
}
