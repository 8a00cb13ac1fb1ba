//! The sequential rule: counters by anytime-valid e-processes, continuous metrics by a
//! group-sequential alpha-spending design over the planned lifetime, both at the judge's
//! `alpha`, split across the metrics by weighted Bonferroni.

use std::collections::BTreeMap;
use std::fmt;

use super::judged::append;
use super::{check_names, invalid, Decision, IntervalRecord};
use crate::arms::Arms;
use crate::error::{Arm, Error, Result};
use crate::judge::cleaning::{clean, Cleaned};
use crate::judge::compare::{compare, TestDetails};
use crate::policy::{
    CanaryPolicy, Direction, EffectMeasure, MetricKind, MetricPolicy, MustHaveAction, SrmAction,
    MAX_ALPHA, MIN_ALPHA,
};
use crate::sequential::{
    CountEProcess, CountEProcessConfig, EProcess, SrmEProcess, SrmEProcessConfig,
    VaryingSplitEProcess, VaryingSplitEProcessConfig,
};
use crate::series::MetricData;
use crate::stats::hypothesis::{fmt_g, Alternative};

/// The sequential rule: every metric is tested at every interval from the first, and the
/// probability that a canary no worse than its baseline is ever rolled back during its planned
/// lifetime is at most `alpha` (the judge's [`CanaryPolicy::alpha`] unless set here).
///
/// **Alpha across metrics** (weighted Bonferroni): with `c` critical metrics among the `m`
/// counted (not muted) ones, each critical metric gets the weight `w = critical_alpha_share / c`
/// and each other one `(1 - critical_alpha_share) / (m - c)` (equal weights `1/m` when all or
/// none are critical), and metric `i` is tested at `alpha_i = alpha w_i`. As `Σ alpha_i =
/// alpha`, the family-wise false-rollback rate is at most `alpha` by the union bound, whatever
/// the dependence between metrics.
///
/// **Counters** (errors out of requests): anytime-valid e-processes, which may be looked at
/// after every interval forever. With a fixed `canary_share`, the Beta-Binomial mixture
/// [`CountEProcess`] on the arm labels of events; without one, the [`VaryingSplitEProcess`] fed
/// each interval's requests per arm. The metric rolls back once its e-value reaches
/// `1/alpha_i` (Ville's inequality: probability at most `alpha_i` under no change, over every
/// look).
///
/// **Continuous metrics** (per-minute points, per-request samples, histograms): a
/// group-sequential design with an alpha-spending function (Lan & DeMets, "Discrete sequential
/// boundaries for clinical trials", Biometrika 70, 1983) over the `lifetime` looks. At look `k`
/// (the `k`-th analysed interval, information fraction `t_k = k / lifetime`) the judge's own
/// test of the metric (its cleaning and comparison, the same p-value the judge reports, one-sided
/// in the direction of harm) is run on the *cumulative* window of every interval so far, and
/// the metric rolls back when that p-value is at most the increment of the Pocock-type spending
/// function `alpha_i(t) = alpha_i ln(1 + (e - 1) t)` (Lan & DeMets 1983, eq. (5)):
/// `alpha_i (ln(1 + (e-1) t_k) - ln(1 + (e-1) t_{k-1}))`. The levels of all looks add up to
/// `alpha_i`, so by the union bound the metric is falsely rolled back at some look with
/// probability at most `alpha_i`, under *any* dependence between the looks (conservative: the
/// exact Lan-DeMets boundaries use the joint normal law of the cumulative statistics, which rank
/// tests on serially correlated points do not have). The Pocock-type function spends
/// `ln(1 + (e-1)/L)` of `alpha_i` at the first of `L` looks (16% at `L = 10`), so a large
/// regression is caught at the first interval. A look whose window has fewer than the metric's
/// `min_samples` points per arm tests nothing (its increment is not spent); so does an interval
/// without new data for the metric. The guarantee covers the planned `lifetime` looks only.
///
/// **Early promotion** uses the same spending on the other side: a continuous metric is safe
/// once the harmful far end of its cumulative interval at the look's level (the two-sided
/// `1 - 2 increment` interval of the judge's comparison, on the relative-shift scale, so the
/// far end is a one-sided bound at the increment) lies inside the tolerated regression
/// `1 ± margin`; a counter is safe once its e-process for "rate ratio `>= 1 + margin`" (against
/// the `Less` alternative; mirrored for `Decrease`) reaches `1/alpha_i`. A canary whose true
/// regression is at least the margin is promoted early with probability at most `alpha`.
/// Metrics measured on other scales than the relative shift (mean ratio, CLES, absolute) are
/// never shown safe early.
///
/// **Must-have metrics** (`must_have_data`): one without canary data blocks early promotion,
/// and at the end of the lifetime it rolls the canary back ([`MustHaveAction::Rollback`], the
/// default) or ends the analysis Inconclusive ([`MustHaveAction::Fail`], the judge's Marginal).
///
/// **SRM**: when `canary.srm` is set, the Dirichlet-multinomial [`SrmEProcess`] on the first
/// counter metric's requests per arm, at `canary.srm.alpha`, with `canary.srm.action` deciding
/// what a mismatch does (Rollback, Inconclusive, or Marginal, which blocks promotion and ends
/// Inconclusive).
///
/// At the end of the lifetime, without a rollback: Promote when every metric is safe,
/// otherwise Promote when `promote_at_lifetime` (nothing showed harm) else Inconclusive. A
/// canary that sent no data in any interval is never promoted (see
/// [`ProgressivePolicy::no_data`](crate::ProgressivePolicy::no_data)).
///
/// The rule needs no warm-up of its own: every metric is tested from the first look.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct SequentialRule {
    /// Family-wise false-rollback rate across all metrics and all looks of the lifetime; none
    /// (the default) uses the judge's [`CanaryPolicy::alpha`] (0.01 by default). Within
    /// `[1e-6, 0.5]`.
    pub alpha: Option<f64>,
    /// The canary's fixed share of traffic, strictly inside (0, 1), for the count e-process;
    /// none (the default) uses each interval's observed requests (varying split).
    pub canary_share: Option<f64>,
    /// Prior concentration `k` of the count e-process; default 10.
    pub concentration: f64,
    /// Promote as soon as every metric is safe; default true.
    pub early_promotion: bool,
    /// The tolerated regression, relative: 0.1 rules out a rate ratio of 1.1 or a 10% larger
    /// shift. Finite and > 0 (below 1 for metrics whose harmful side is a decrease); default
    /// 0.1.
    pub promotion_margin: f64,
    /// Per-metric margins, overriding `promotion_margin`.
    pub margins: BTreeMap<String, f64>,
    /// What the end of the lifetime gives when some metric is not yet shown safe: Promote
    /// (true, the default: no harm was detected) or Inconclusive (false).
    pub promote_at_lifetime: bool,
}

impl Default for SequentialRule {
    fn default() -> SequentialRule {
        SequentialRule {
            alpha: None,
            canary_share: None,
            concentration: 10.0,
            early_promotion: true,
            promotion_margin: 0.1,
            margins: BTreeMap::new(),
            promote_at_lifetime: true,
        }
    }
}

impl SequentialRule {
    pub(super) fn validate(&self, canary: &CanaryPolicy) -> Result<()> {
        if let Some(a) = self.alpha {
            if !(MIN_ALPHA..=MAX_ALPHA).contains(&a) {
                return Err(invalid(
                    "rule.sequential.alpha",
                    format!("{a} is outside [{MIN_ALPHA:e}, {MAX_ALPHA}]"),
                ));
            }
        }
        if let Some(s) = self.canary_share {
            if !(s > 0.0 && s < 1.0) {
                return Err(invalid(
                    "rule.sequential.canary_share",
                    format!("{s} is not strictly between 0 and 1"),
                ));
            }
        }
        if !(self.concentration.is_finite() && self.concentration > 0.0) {
            return Err(invalid(
                "rule.sequential.concentration",
                format!("{} is not finite and > 0", self.concentration),
            ));
        }
        for name in self.margins.keys() {
            if !canary.metrics.iter().any(|m| &m.name == name) {
                return Err(Error::InvalidPolicy {
                    metric: name.clone(),
                    field: "rule.sequential.margins",
                    problem: "the policy does not list this metric".into(),
                });
            }
        }
        for m in &canary.metrics {
            let margin = self.margin(&m.name);
            let below_one = m.direction != Direction::Increase;
            if !(margin.is_finite() && margin > 0.0 && (!below_one || margin < 1.0)) {
                return Err(Error::InvalidPolicy {
                    metric: m.name.clone(),
                    field: if self.margins.contains_key(&m.name) {
                        "rule.sequential.margins"
                    } else {
                        "rule.sequential.promotion_margin"
                    },
                    problem: format!(
                        "{margin} is not finite and > 0{}",
                        if below_one {
                            " and below 1 (the harmful side is a decrease)"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
        if counted(canary) == 0 {
            return Err(invalid(
                "canary.metrics",
                "every metric is muted: the sequential rule has nothing to count".into(),
            ));
        }
        Ok(())
    }

    /// The family-wise alpha: this rule's, or the judge's.
    pub fn alpha_for(&self, canary: &CanaryPolicy) -> f64 {
        self.alpha.unwrap_or(canary.alpha)
    }

    fn margin(&self, metric: &str) -> f64 {
        self.margins
            .get(metric)
            .copied()
            .unwrap_or(self.promotion_margin)
    }
}

/// The metrics that count (not muted).
fn counted(canary: &CanaryPolicy) -> usize {
    canary.metrics.iter().filter(|m| !m.muted).count()
}

/// Each metric's share of alpha, in policy order (weighted Bonferroni; see [`SequentialRule`]).
/// Muted metrics get the share they would have as a non-critical metric, for display only.
pub(crate) fn alpha_weights(canary: &CanaryPolicy) -> Vec<f64> {
    let m = counted(canary).max(1);
    let c = canary
        .metrics
        .iter()
        .filter(|x| !x.muted && x.critical)
        .count();
    let share = canary.critical_alpha_share;
    canary
        .metrics
        .iter()
        .map(|x| {
            if c == 0 || c == m {
                1.0 / m as f64
            } else if x.critical && !x.muted {
                share / c as f64
            } else {
                (1.0 - share) / (m - c) as f64
            }
        })
        .collect()
}

/// The Pocock-type spending function of Lan & DeMets (1983): the share of a metric's alpha
/// spent by information fraction `t`, `ln(1 + (e - 1) t)` (0 at `t = 0`, 1 at `t = 1`).
fn spent(t: f64) -> f64 {
    (std::f64::consts::E - 1.0)
        .mul_add(t.clamp(0.0, 1.0), 1.0)
        .ln()
}

/// The level of look `look` (from 1) of `lifetime` for a metric with alpha `alpha_i`: the
/// spending function's increment.
fn look_level(alpha_i: f64, look: u64, lifetime: u64) -> f64 {
    let l = lifetime.max(1) as f64;
    let now = spent(look as f64 / l);
    let before = spent(look.saturating_sub(1) as f64 / l);
    (alpha_i * (now - before)).max(0.0)
}

/// One e-process of the sequential rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
enum Process {
    Count(CountEProcess),
    Split(VaryingSplitEProcess),
}

impl Process {
    /// The e-process inside, whichever kind it is.
    fn inner(&self) -> &dyn EProcess {
        match self {
            Process::Count(p) => p,
            Process::Split(p) => p,
        }
    }

    fn p_value(&self) -> f64 {
        self.inner().p_value()
    }

    fn e_value(&self) -> f64 {
        self.inner().e_value()
    }

    fn add_counts(&mut self, canary: Totals, baseline: Totals) -> Result<()> {
        match self {
            Process::Count(p) => p.update(Arms {
                baseline: baseline.events,
                canary: canary.events,
            }),
            Process::Split(p) => p.update(
                Arms {
                    baseline: baseline.events,
                    canary: canary.events,
                },
                Arms {
                    baseline: baseline.trials,
                    canary: canary.trials,
                },
            ),
        }
    }

    /// Whether two processes were built from the same settings (a loaded state's check).
    fn same_settings(&self, other: &Process) -> bool {
        match (self, other) {
            (Process::Count(a), Process::Count(b)) => a.config() == b.config(),
            (Process::Split(a), Process::Split(b)) => a.config() == b.config(),
            _ => false,
        }
    }
}

/// Events out of trials of one arm.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
struct Totals {
    events: u64,
    trials: u64,
}

/// How a metric is tracked.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "snake_case", deny_unknown_fields)
)]
enum Track {
    /// A counter: the harm e-process, the safety ones, and the cumulative totals.
    Counter {
        harm: Process,
        safety: Vec<Process>,
        canary: Totals,
        baseline: Totals,
    },
    /// A continuous metric: the cumulative window and the last look's test.
    Continuous {
        window: Option<MetricData>,
        /// The last test's p-value (NaN before any).
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
        p_value: f64,
        /// The last test's level, the spending increment (NaN before any).
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
        level: f64,
        /// The effect on the tolerance's scale at the last test (NaN before any).
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
        effect: f64,
        harmed: bool,
        safe: bool,
    },
}

/// What one look's test of a continuous metric found.
struct LookTest {
    p_value: f64,
    effect: f64,
    /// Significant at the look's level and shown beyond the critical tolerance.
    harm: bool,
    safe: bool,
}

/// The state of one metric.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
struct Monitor {
    name: String,
    muted: bool,
    /// Intervals that carried canary data for it.
    intervals: u64,
    track: Track,
}

impl Monitor {
    fn new(rule: &SequentialRule, m: &MetricPolicy, alpha_i: f64) -> Result<Monitor> {
        let track = match m.kind {
            MetricKind::Counter => {
                let harm_side = crate::judge::compare::alternative(m.direction);
                let margin = rule.margin(&m.name);
                // (rate ratio at the safety null, alternative of the safety test)
                let mut sides = Vec::new();
                if rule.early_promotion {
                    if m.direction != Direction::Decrease {
                        sides.push((1.0 + margin, Alternative::Less));
                    }
                    if m.direction != Direction::Increase {
                        sides.push((1.0 - margin, Alternative::Greater));
                    }
                }
                let count = |ratio: f64, side: Alternative| -> Result<Process> {
                    Ok(match rule.canary_share {
                        Some(rho) => {
                            let share = rho * ratio / (rho * ratio + 1.0 - rho);
                            Process::Count(CountEProcess::new(
                                CountEProcessConfig::new(share)
                                    .concentration(rule.concentration)
                                    .alternative(side)
                                    .alpha(alpha_i),
                            )?)
                        }
                        None => Process::Split(VaryingSplitEProcess::new(
                            VaryingSplitEProcessConfig::new()
                                .alternative(side)
                                .null_rate_ratio(ratio),
                        )?),
                    })
                };
                Track::Counter {
                    harm: count(1.0, harm_side)?,
                    safety: sides
                        .iter()
                        .map(|&(r, s)| count(r, s))
                        .collect::<Result<Vec<_>>>()?,
                    canary: Totals::default(),
                    baseline: Totals::default(),
                }
            }
            _ => Track::Continuous {
                window: None,
                p_value: f64::NAN,
                level: f64::NAN,
                effect: f64::NAN,
                harmed: false,
                safe: false,
            },
        };
        Ok(Monitor {
            name: m.name.clone(),
            muted: m.muted,
            intervals: 0,
            track,
        })
    }

    fn harmed(&self, alpha_i: f64) -> bool {
        match &self.track {
            Track::Counter { harm, .. } => harm.p_value() <= alpha_i,
            Track::Continuous { harmed, .. } => *harmed,
        }
    }

    fn safe(&self, alpha_i: f64) -> bool {
        match &self.track {
            Track::Counter { safety, .. } => {
                !safety.is_empty() && safety.iter().all(|p| p.p_value() <= alpha_i)
            }
            Track::Continuous { safe, .. } => *safe,
        }
    }

    /// Adds one interval's data of this metric (checked by the judge's cleaning first).
    fn add(&mut self, policy: &MetricPolicy, data: &MetricData) -> Result<Option<(u64, u64)>> {
        let cleaned = clean(policy, &data.baseline, &data.canary)?;
        let mut srm = None;
        let has_canary = match (&mut self.track, cleaned) {
            (
                Track::Counter {
                    harm,
                    safety,
                    canary,
                    baseline,
                },
                Cleaned::Counts {
                    baseline: b,
                    canary: c,
                },
            ) => {
                let (b, c) = (
                    Totals {
                        events: b.events,
                        trials: b.trials,
                    },
                    Totals {
                        events: c.events,
                        trials: c.trials,
                    },
                );
                harm.add_counts(c, b)?;
                for p in safety.iter_mut() {
                    p.add_counts(c, b)?;
                }
                let sum = |x: u64, y: u64, arm: Arm, field: &'static str| {
                    x.checked_add(y).ok_or_else(|| Error::InvalidData {
                        metric: policy.name.clone(),
                        arm,
                        field,
                        problem: "the cumulative total overflows a 64-bit count".into(),
                    })
                };
                *canary = Totals {
                    events: sum(canary.events, c.events, Arm::Canary, "events")?,
                    trials: sum(canary.trials, c.trials, Arm::Canary, "trials")?,
                };
                *baseline = Totals {
                    events: sum(baseline.events, b.events, Arm::Baseline, "events")?,
                    trials: sum(baseline.trials, b.trials, Arm::Baseline, "trials")?,
                };
                srm = Some((b.trials, c.trials));
                c.trials > 0
            }
            (Track::Continuous { window, .. }, cleaned) => {
                let has_canary = cleaned.sizes().1 > 0;
                match window {
                    None => *window = Some(data.clone()),
                    Some(acc) => {
                        append(
                            &mut acc.baseline,
                            &data.baseline,
                            &policy.name,
                            Arm::Baseline,
                        )?;
                        append(&mut acc.canary, &data.canary, &policy.name, Arm::Canary)?;
                    }
                }
                has_canary
            }
            (Track::Counter { .. }, _) => {
                return Err(Error::InvalidData {
                    metric: policy.name.clone(),
                    arm: Arm::Canary,
                    field: "series",
                    problem: "a counter metric needs counts (events out of trials)".into(),
                })
            }
        };
        if has_canary {
            self.intervals += 1;
        }
        Ok(srm)
    }

    /// Runs this look's spending test of a continuous metric on its cumulative window.
    fn look(&mut self, policy: &MetricPolicy, level: f64, margin: Option<f64>) {
        let Track::Continuous {
            window,
            p_value,
            level: last_level,
            effect,
            harmed,
            safe,
        } = &mut self.track
        else {
            return;
        };
        let Some(w) = window else { return };
        if let Some(t) = spending_test(policy, w, level, margin) {
            *p_value = t.p_value;
            *last_level = level;
            *effect = t.effect;
            *harmed |= t.harm;
            *safe |= t.safe;
        }
    }

    fn evidence(&self, policy: &MetricPolicy, alpha_i: f64) -> MetricEvidence {
        let (e_value, p_value, level, estimate, counter) = match &self.track {
            Track::Counter {
                harm,
                canary,
                baseline,
                ..
            } => {
                let rate = |t: &Totals| t.events as f64 / t.trials as f64;
                (
                    Some(harm.e_value()),
                    harm.p_value(),
                    alpha_i,
                    rate(canary) / rate(baseline),
                    true,
                )
            }
            Track::Continuous {
                p_value,
                level,
                effect,
                ..
            } => (None, *p_value, *level, *effect, false),
        };
        MetricEvidence {
            metric: self.name.clone(),
            muted: self.muted,
            critical: policy.critical,
            intervals: self.intervals,
            alpha: alpha_i,
            e_value,
            p_value,
            level,
            estimate,
            counter,
            harmed: self.harmed(alpha_i),
            safe: self.safe(alpha_i),
        }
    }
}

/// The judge's test of one continuous metric on its cumulative window, at one look.
///
/// `None` when nothing could be tested (an arm below `min_samples`, a `thresholds_only`
/// comparator, a comparison that fails on these data).
fn spending_test(
    policy: &MetricPolicy,
    window: &MetricData,
    level: f64,
    margin: Option<f64>,
) -> Option<LookTest> {
    let cleaned = clean(policy, &window.baseline, &window.canary).ok()?;
    let (nb, nc) = cleaned.sizes();
    let enough =
        |n: usize| n > 0 && (policy.kind != MetricKind::Continuous || n >= policy.min_samples);
    if !(enough(nb) && enough(nc)) {
        return None;
    }
    // The two-sided 1 - 2·level interval: each end is a one-sided bound at `level`. The
    // p-value does not depend on the interval's level.
    let at_level = MetricPolicy {
        conf_level: if level > 0.0 && level < 0.5 {
            1.0 - 2.0 * level
        } else {
            policy.conf_level
        },
        ..policy.clone()
    };
    let cmp = compare(&at_level, &cleaned).ok()?;
    let p_value = cmp.p_value?;
    let effect = cmp.effect.unwrap_or(f64::NAN);
    let interval = cmp
        .effect_interval
        .filter(|_| cmp.measure == policy.tolerance.measure);
    // Harm, as in the judge: significant, and the interval's near end beyond the critical
    // tolerance (a limit at the neutral value is the significance test itself; without an
    // interval on the tolerance's scale, significance decides).
    // Histograms' median interval is widened to whole buckets: as in the judge, their
    // interpolated estimate is tested against the tolerance.
    let near = if matches!(cmp.details, Some(TestDetails::Histogram { .. })) {
        cmp.effect.map(|e| (e, e))
    } else {
        interval
    };
    let tol = policy.tolerance;
    let neutral = tol.measure.neutral();
    let up =
        near.is_none_or(|(lo, _)| tol.critical_increase <= neutral || lo > tol.critical_increase);
    let down =
        near.is_none_or(|(_, hi)| tol.critical_decrease >= neutral || hi < tol.critical_decrease);
    let beyond = match policy.direction {
        Direction::Increase => up,
        Direction::Decrease => down,
        _ => up || down,
    };
    let harm = p_value <= level && beyond;
    // Equivalence: safe when the interval's harmful far end lies inside the tolerated
    // regression.
    let safe = match (margin, interval) {
        (Some(m), Some((lo, hi)))
            if policy.tolerance.measure == EffectMeasure::RelativeShift && level < 0.5 =>
        {
            let below = lo > 1.0 - m;
            let above = hi < 1.0 + m;
            match policy.direction {
                Direction::Increase => above,
                Direction::Decrease => below,
                _ => above && below,
            }
        }
        _ => false,
    };
    Some(LookTest {
        p_value,
        effect,
        harm,
        safe,
    })
}

/// One metric's standing in the sequential rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MetricEvidence {
    /// The metric.
    pub metric: String,
    /// Muted metrics are computed but never decide.
    pub muted: bool,
    /// Critical metrics get their reserved share of alpha.
    pub critical: bool,
    /// Intervals that carried canary data for it.
    pub intervals: u64,
    /// This metric's share of the family-wise alpha, `alpha_i = alpha w_i`.
    pub alpha: f64,
    /// Counters: the harm e-value now (rollback when it reaches `1/alpha_i`); none for
    /// continuous metrics.
    pub e_value: Option<f64>,
    /// Counters: the anytime-valid p-value `min 1/E`; continuous: the judge's one-sided p-value
    /// on the cumulative window at the last look (NaN before any test).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub p_value: f64,
    /// The level `p_value` is compared with: `alpha_i` for counters, the last look's spending
    /// increment for continuous metrics (NaN before any test).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub level: f64,
    /// Counters: the cumulative rate ratio (canary events per trial over the baseline's);
    /// continuous: the judge's effect on the tolerance's scale at the last look (1.5 is +50% on
    /// the relative scale). NaN before any data.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub estimate: f64,
    /// Whether `estimate` is a rate ratio (counter) or the judge's effect.
    pub counter: bool,
    /// Whether harm has been shown (a rollback unless the metric is muted).
    pub harmed: bool,
    /// Whether the tolerated regression has been ruled out.
    pub safe: bool,
}

impl MetricEvidence {
    /// `1/alpha_i`, the e-value at which a counter rolls back.
    pub fn threshold(&self) -> f64 {
        1.0 / self.alpha
    }
}

impl fmt::Display for MetricEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}: ",
            crate::judge::verdict::escape_text(&self.metric),
            if self.critical { " (critical)" } else { "" },
            if self.muted { " (muted)" } else { "" },
        )?;
        match self.e_value {
            Some(e) => write!(
                f,
                "E = {} (rollback at {}), rate ratio {}",
                fmt_g(e),
                fmt_g(self.threshold()),
                fmt_g(self.estimate)
            )?,
            None => write!(
                f,
                "p = {} at level {}, effect {}",
                fmt_g(self.p_value),
                fmt_g(self.level),
                fmt_g(self.estimate)
            )?,
        }
        if self.harmed {
            f.write_str(", harm shown")?;
        }
        if self.safe {
            f.write_str(", safe")?;
        }
        Ok(())
    }
}

/// Every metric's state and the SRM check.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(super) struct SequentialState {
    monitors: Vec<Monitor>,
    srm: Option<SrmEProcess>,
}

impl SequentialState {
    pub(super) fn new(rule: &SequentialRule, canary: &CanaryPolicy) -> Result<SequentialState> {
        let alphas = Self::alphas(rule, canary);
        let monitors = canary
            .metrics
            .iter()
            .zip(&alphas)
            .map(|(m, &a)| Monitor::new(rule, m, a))
            .collect::<Result<Vec<_>>>()?;
        let has_counter = canary.metrics.iter().any(|m| m.kind == MetricKind::Counter);
        let srm = match &canary.srm {
            Some(s) if has_counter => Some(SrmEProcess::new(SrmEProcessConfig::new(vec![
                1.0 - s.canary_share,
                s.canary_share,
            ]))?),
            _ => None,
        };
        Ok(SequentialState { monitors, srm })
    }

    /// Each metric's `alpha_i`, in policy order.
    fn alphas(rule: &SequentialRule, canary: &CanaryPolicy) -> Vec<f64> {
        let alpha = rule.alpha_for(canary);
        alpha_weights(canary)
            .into_iter()
            .map(|w| alpha * w)
            .collect()
    }

    pub(super) fn evidence(
        &self,
        rule: &SequentialRule,
        canary: &CanaryPolicy,
    ) -> Vec<MetricEvidence> {
        let alphas = Self::alphas(rule, canary);
        self.monitors
            .iter()
            .zip(&canary.metrics)
            .zip(&alphas)
            .map(|((m, p), &a)| m.evidence(p, a))
            .collect()
    }

    /// Checks a loaded state against its policy: one monitor per metric, in order, built from
    /// the same settings, with consistent e-processes.
    pub(super) fn check(
        &self,
        rule: &SequentialRule,
        canary: &CanaryPolicy,
        analysed: u64,
    ) -> Result<()> {
        let fresh = SequentialState::new(rule, canary)?;
        let bad = |metric: &str, field: &'static str, problem: String| Error::InvalidPolicy {
            metric: metric.to_string(),
            field,
            problem: format!("saved state: {problem}"),
        };
        if self.monitors.len() != fresh.monitors.len() {
            return Err(bad(
                "",
                "state.sequential.monitors",
                format!(
                    "{} monitors for {} metrics",
                    self.monitors.len(),
                    fresh.monitors.len()
                ),
            ));
        }
        for (m, f) in self.monitors.iter().zip(&fresh.monitors) {
            if m.name != f.name {
                return Err(bad(
                    &f.name,
                    "state.sequential.monitors.name",
                    format!("the monitor of this metric is named {:?}", m.name),
                ));
            }
            if m.muted != f.muted {
                return Err(bad(
                    &f.name,
                    "state.sequential.monitors.muted",
                    "differs from the policy".into(),
                ));
            }
            if m.intervals > analysed {
                return Err(bad(
                    &f.name,
                    "state.sequential.monitors.intervals",
                    format!("{} above the {analysed} intervals analysed", m.intervals),
                ));
            }
            match (&m.track, &f.track) {
                (
                    Track::Counter {
                        harm,
                        safety,
                        canary,
                        baseline,
                    },
                    Track::Counter {
                        harm: h0,
                        safety: s0,
                        ..
                    },
                ) => {
                    let same = harm.same_settings(h0)
                        && safety.len() == s0.len()
                        && safety.iter().zip(s0).all(|(a, b)| a.same_settings(b));
                    if !same {
                        return Err(bad(
                            &f.name,
                            "state.sequential.monitors.track",
                            "e-process settings differ from the policy's".into(),
                        ));
                    }
                    if canary.events > canary.trials || baseline.events > baseline.trials {
                        return Err(bad(
                            &f.name,
                            "state.sequential.monitors.track.events",
                            "more events than trials".into(),
                        ));
                    }
                }
                (
                    Track::Continuous {
                        window,
                        p_value,
                        level,
                        ..
                    },
                    Track::Continuous { .. },
                ) => {
                    let p_ok = p_value.is_nan() || (0.0..=1.0).contains(p_value);
                    let level_ok = level.is_nan() || (0.0..=1.0).contains(level);
                    if !(p_ok && level_ok) {
                        return Err(bad(
                            &f.name,
                            "state.sequential.monitors.track.p_value",
                            "a p-value or level outside [0, 1]".into(),
                        ));
                    }
                    if window.as_ref().is_some_and(|w| w.name != f.name) {
                        return Err(bad(
                            &f.name,
                            "state.sequential.monitors.track.window",
                            "the window holds another metric's data".into(),
                        ));
                    }
                }
                _ => {
                    return Err(bad(
                        &f.name,
                        "state.sequential.monitors.track",
                        "the metric's kind differs from the policy's".into(),
                    ))
                }
            }
        }
        if self.srm.is_some() != fresh.srm.is_some() {
            return Err(bad(
                "",
                "state.sequential.srm",
                "present without an SRM policy, or missing with one".into(),
            ));
        }
        Ok(())
    }

    /// Whether any counted metric has received canary data.
    pub(super) fn any_canary_data(&self, canary: &CanaryPolicy) -> bool {
        self.monitors
            .iter()
            .zip(&canary.metrics)
            .any(|(m, p)| !p.muted && m.intervals > 0)
    }

    /// Adds one interval's data to a copy; the caller keeps it only on success.
    fn add(&mut self, canary: &CanaryPolicy, data: &[MetricData]) -> Result<()> {
        check_names(canary, data)?;
        let mut srm_fed = false;
        for (policy, monitor) in canary.metrics.iter().zip(&mut self.monitors) {
            let Some(d) = data.iter().find(|d| d.name == policy.name) else {
                continue;
            };
            if let Some((b, c)) = monitor.add(policy, d)? {
                if let (Some(srm), false) = (&mut self.srm, srm_fed) {
                    srm.update(&[b, c])?;
                    srm_fed = true;
                }
            }
        }
        Ok(())
    }

    /// One look: adds the data, runs the continuous metrics' spending tests, decides.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step(
        &mut self,
        rule: &SequentialRule,
        canary: &CanaryPolicy,
        data: Option<&[MetricData]>,
        error: Option<&str>,
        look: u64,
        lifetime: u64,
        record: &mut IntervalRecord,
    ) -> Result<()> {
        let alphas = Self::alphas(rule, canary);
        if let Some(d) = data {
            let mut next = self.clone();
            next.add(canary, d)?;
            for ((policy, monitor), &a) in
                canary.metrics.iter().zip(&mut next.monitors).zip(&alphas)
            {
                if d.iter().any(|x| x.name == policy.name) {
                    let margin = rule.early_promotion.then(|| rule.margin(&policy.name));
                    monitor.look(policy, look_level(a, look, lifetime), margin);
                }
            }
            *self = next;
        }
        let last = look >= lifetime;
        record.evidence = self.evidence(rule, canary);
        let counted: Vec<(&Monitor, &MetricPolicy, f64)> = self
            .monitors
            .iter()
            .zip(&canary.metrics)
            .zip(&alphas)
            .filter(|((m, _), _)| !m.muted)
            .map(|((m, p), &a)| (m, p, a))
            .collect();
        let missing: Vec<&str> = counted
            .iter()
            .filter(|(m, p, _)| p.must_have_data && m.intervals == 0)
            .map(|(m, _, _)| m.name.as_str())
            .collect();
        let (decision, mut note) =
            if let Some((m, _, a)) = counted.iter().find(|(m, _, a)| m.harmed(*a)) {
                (
                    Decision::Rollback,
                    match &m.track {
                        Track::Counter { harm, .. } => format!(
                            "{}: e-value {} reached 1/alpha_i = {}",
                            m.name,
                            fmt_g(harm.e_value()),
                            fmt_g(1.0 / a)
                        ),
                        Track::Continuous { p_value, level, .. } => format!(
                            "{}: p = {} at or below the look's level {} (alpha_i {})",
                            m.name,
                            fmt_g(*p_value),
                            fmt_g(*level),
                            fmt_g(*a)
                        ),
                    },
                )
            } else {
                let mismatch = match (&self.srm, &canary.srm) {
                    (Some(p), Some(s)) if p.p_value() <= s.alpha => Some(s.action),
                    _ => None,
                };
                let all_safe = missing.is_empty() && counted.iter().all(|(m, _, a)| m.safe(*a));
                let missing_note = || {
                    format!(
                        "must-have metric without canary data: {}",
                        missing.join(", ")
                    )
                };
                match mismatch {
                    Some(SrmAction::Rollback) => {
                        (Decision::Rollback, "sample ratio mismatch".to_string())
                    }
                    Some(SrmAction::Inconclusive) => {
                        (Decision::Inconclusive, "sample ratio mismatch".to_string())
                    }
                    Some(SrmAction::Warn) | None if all_safe => (
                        Decision::Promote,
                        "every metric rules out its tolerated regression".to_string(),
                    ),
                    _ if last && !missing.is_empty() => match canary.missing_must_have {
                        MustHaveAction::Rollback => (Decision::Rollback, missing_note()),
                        _ => (Decision::Inconclusive, missing_note()),
                    },
                    Some(SrmAction::Warn) | None if last && rule.promote_at_lifetime => (
                        Decision::Promote,
                        "lifetime reached without evidence of harm".to_string(),
                    ),
                    _ if last => (
                        Decision::Inconclusive,
                        if mismatch.is_some() {
                            "lifetime reached with a sample ratio mismatch".to_string()
                        } else {
                            "lifetime reached: not every metric shown safe".to_string()
                        },
                    ),
                    Some(SrmAction::Warn) => {
                        (Decision::Continue, "sample ratio mismatch (warning)".into())
                    }
                    Some(_) => (
                        Decision::Continue,
                        "sample ratio mismatch: promotion blocked".into(),
                    ),
                    None => (Decision::Continue, String::new()),
                }
            };
        if data.is_none() {
            let e = format!("no data: {}", error.unwrap_or("fetch failed"));
            note = if note.is_empty() {
                e
            } else {
                format!("{e}; {note}")
            };
        }
        record.decision = decision;
        record.note = note;
        Ok(())
    }
}
