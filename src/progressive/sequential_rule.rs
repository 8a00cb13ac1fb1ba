//! The anytime-valid rule: one e-process per metric for harm, one per harmful side for safety
//! (early promotion), and an optional sequential sample-ratio-mismatch check.

use std::collections::BTreeMap;
use std::fmt;

use super::{check_names, invalid, Decision, IntervalRecord};
use crate::cleaning::{clean, Cleaned};
use crate::error::{Arm, Error, Result};
use crate::histogram_compare::midpoint_mean;
use crate::hypothesis::{fmt_g, Alternative};
use crate::policy::{CanaryPolicy, Direction, MetricKind, MetricPolicy, SrmAction};
use crate::sequential::{
    CountEProcess, CountEProcessConfig, EProcess, MeanShiftEProcess, MeanShiftEProcessConfig,
    SrmEProcess, SrmEProcessConfig, VaryingSplitEProcess, VaryingSplitEProcessConfig,
};
use crate::series::MetricData;

/// The anytime-valid sequential rule.
///
/// Per counted (not muted) metric, among `K`:
///
/// - counters (errors out of requests): with a fixed `canary_share`, the Beta-Binomial mixture
///   [`CountEProcess`] on the arm labels of events; without one, the [`VaryingSplitEProcess`]
///   fed each interval's observed requests per arm, which stays valid when the split moves;
/// - continuous metrics: the normal-mixture [`MeanShiftEProcess`] on one log ratio per
///   interval, `d = ln(mean(canary)/mean(baseline))` (the arms' means over the interval's
///   points, after the metric's NaN and outlier rules; both means must be positive). When the
///   arms' values come from the same distribution, `ln mean(canary)` and `ln mean(baseline)`
///   are exchangeable, so `d` is symmetric about 0 exactly (a plain ratio `c/b - 1` would be
///   biased upwards by Jensen's inequality). Its assumptions: the `d`s are independent across
///   intervals and roughly Gaussian (true of means over many requests), and the plug-in
///   variance makes the guarantee asymptotic (see [`MeanShiftEProcess`]; a longer `burn_in`
///   keeps the noisy early variance estimates out). A metric given as one histogram per
///   interval ([`Series::Histogram`](crate::Series::Histogram)) uses the histograms'
///   bucket-midpoint means (the `+inf` bucket at its lower edge): bucketing is the same fixed
///   map for both arms, so the symmetry of `d` under no change holds as it does for raw means;
///   what `d` measures is the change of the bucketed mean, blind to moves inside a bucket.
///
/// The harmful side comes from the metric's direction (`Increase`: larger is worse, one-sided;
/// `Either`: two-sided). The canary rolls back as soon as any metric's e-value reaches
/// `K/alpha`: by Ville's inequality and Bonferroni on e-values the probability that a canary no
/// worse than its baseline is ever rolled back, over every look until the lifetime and beyond,
/// is at most `alpha`, whatever the dependence between metrics.
///
/// Early promotion: for each metric a second e-process tests "the canary is at least the
/// tolerated regression worse": rate ratio `>= 1 + margin` for counters (the count e-process
/// with the null share `ρ(1+m)/(ρ(1+m) + 1-ρ)`, or the varying-split one with
/// `null_rate_ratio = 1 + m`, against the `Less` alternative), relative mean difference `>=
/// margin` for continuous metrics, on the log scale (the mean-shift e-process with `null_shift
/// = ln(1 + margin)` against `Less`); mirrored for `Decrease`, both sides for `Either`. When it reaches `K/alpha` the
/// one-sided confidence sequence's bound has passed below the tolerated regression and the
/// metric is safe; when every counted metric is safe the canary is promoted. A canary whose
/// true regression is at least the margin is promoted early with probability at most `alpha`.
///
/// The SRM check runs when `canary.srm` is set: the Dirichlet-multinomial [`SrmEProcess`] on
/// the first counter metric's requests per arm, at `canary.srm.alpha`, with
/// `canary.srm.action` deciding what a mismatch does (Rollback, Inconclusive, or Marginal,
/// which blocks promotion and ends Inconclusive).
///
/// At the end of the lifetime, without a rollback: Promote when every metric is safe, otherwise
/// Promote when `promote_at_lifetime` (nothing showed harm) else Inconclusive.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct SequentialRule {
    /// Family-wise false-rollback rate across all metrics and all looks; default 0.05.
    pub alpha: f64,
    /// The canary's fixed share of traffic, strictly inside (0, 1), for the count e-process;
    /// none (the default) uses each interval's observed requests (varying split).
    pub canary_share: Option<f64>,
    /// Prior concentration `k` of the count e-process; default 10.
    pub concentration: f64,
    /// Promote as soon as every metric is safe; default true.
    pub early_promotion: bool,
    /// The tolerated regression, relative: 0.1 rules out a rate ratio of 1.1 or a 10% higher
    /// mean. Finite and > 0 (below 1 for metrics whose harmful side is a decrease); default 0.1.
    pub promotion_margin: f64,
    /// Per-metric margins, overriding `promotion_margin`.
    pub margins: BTreeMap<String, f64>,
    /// Intervals before the mean-shift e-process uses its plug-in variance (at least 2);
    /// default 10. In the crate's simulation (an error counter and a latency metric, identical
    /// arms, alpha 0.05, 20 looks) 4.4% of canaries rolled back with a burn-in of 5, 2.8% with
    /// 10 (1.3% with the counter alone): the plug-in variance's early estimates are noisy.
    pub burn_in: u64,
    /// Intervals at which the mean-shift boundary is tightest; default 10.
    pub target_intervals: f64,
    /// What the end of the lifetime gives when some metric is not yet shown safe: Promote
    /// (true, the default: no harm was detected) or Inconclusive (false).
    pub promote_at_lifetime: bool,
}

impl Default for SequentialRule {
    fn default() -> SequentialRule {
        SequentialRule {
            alpha: 0.05,
            canary_share: None,
            concentration: 10.0,
            early_promotion: true,
            promotion_margin: 0.1,
            margins: BTreeMap::new(),
            burn_in: 10,
            target_intervals: 10.0,
            promote_at_lifetime: true,
        }
    }
}

impl SequentialRule {
    pub(super) fn validate(&self, canary: &CanaryPolicy) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(invalid(
                "rule.sequential.alpha",
                format!("{} is not strictly between 0 and 1", self.alpha),
            ));
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
        if self.burn_in < 2 {
            return Err(invalid(
                "rule.sequential.burn_in",
                format!("{} is below 2", self.burn_in),
            ));
        }
        if !(self.target_intervals.is_finite() && self.target_intervals > 0.0) {
            return Err(invalid(
                "rule.sequential.target_intervals",
                format!("{} is not finite and > 0", self.target_intervals),
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

    fn margin(&self, metric: &str) -> f64 {
        self.margins
            .get(metric)
            .copied()
            .unwrap_or(self.promotion_margin)
    }
}

/// `K`, the metrics that count (not muted).
fn counted(canary: &CanaryPolicy) -> usize {
    canary.metrics.iter().filter(|m| !m.muted).count()
}

/// One e-process of the sequential rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
enum Process {
    Count(CountEProcess),
    Split(VaryingSplitEProcess),
    Mean(MeanShiftEProcess),
}

impl Process {
    /// The e-process inside, whichever kind it is.
    fn inner(&self) -> &dyn EProcess {
        match self {
            Process::Count(p) => p,
            Process::Split(p) => p,
            Process::Mean(p) => p,
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
            Process::Count(p) => p.update(canary.events, baseline.events),
            Process::Split(p) => p.update(
                canary.events,
                baseline.events,
                canary.trials,
                baseline.trials,
            ),
            Process::Mean(_) => Ok(()),
        }
    }

    fn add_log_ratio(&mut self, log_ratio: f64) -> Result<()> {
        match self {
            Process::Mean(p) => p.update(log_ratio, 0.0),
            _ => Ok(()),
        }
    }
}

/// Events out of trials of one arm in one interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Totals {
    events: u64,
    trials: u64,
}

/// The e-processes of one metric.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct Monitor {
    name: String,
    muted: bool,
    harm: Process,
    safety: Vec<Process>,
    canary: Totals,
    baseline: Totals,
    intervals: u64,
}

impl Monitor {
    fn new(rule: &SequentialRule, m: &MetricPolicy, alpha: f64) -> Result<Monitor> {
        let harm_side = match m.direction {
            Direction::Increase => Alternative::Greater,
            Direction::Decrease => Alternative::Less,
            _ => Alternative::TwoSided,
        };
        let margin = rule.margin(&m.name);
        // (rate ratio or 1 + relative shift at the safety null, alternative of the safety test)
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
                            .alpha(alpha),
                    )?)
                }
                None => Process::Split(VaryingSplitEProcess::new(
                    VaryingSplitEProcessConfig::new()
                        .alternative(side)
                        .null_rate_ratio(ratio),
                )?),
            })
        };
        let mean = |shift: f64, side: Alternative| -> Result<Process> {
            Ok(Process::Mean(MeanShiftEProcess::new(
                MeanShiftEProcessConfig::new()
                    .alternative(side)
                    .null_shift(shift)
                    .burn_in(rule.burn_in)
                    .target_intervals(rule.target_intervals)
                    .alpha(alpha),
            )?))
        };
        let (harm, safety) = match m.kind {
            MetricKind::Counter => (
                count(1.0, harm_side)?,
                sides
                    .iter()
                    .map(|&(r, s)| count(r, s))
                    .collect::<Result<Vec<_>>>()?,
            ),
            _ => (
                mean(0.0, harm_side)?,
                sides
                    .iter()
                    .map(|&(r, s)| mean(r.ln(), s))
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(Monitor {
            name: m.name.clone(),
            muted: m.muted,
            harm,
            safety,
            canary: Totals::default(),
            baseline: Totals::default(),
            intervals: 0,
        })
    }

    fn harmed(&self, alpha: f64) -> bool {
        self.harm.p_value() <= alpha
    }

    fn safe(&self, alpha: f64) -> bool {
        !self.safety.is_empty() && self.safety.iter().all(|p| p.p_value() <= alpha)
    }

    fn evidence(&self, alpha: f64) -> MetricEvidence {
        let estimate = match &self.harm {
            Process::Mean(p) if p.intervals() > 0 => p.mean_difference().exp_m1(),
            Process::Mean(_) => f64::NAN,
            _ => {
                let rate = |t: Totals| t.events as f64 / t.trials as f64;
                rate(self.canary) / rate(self.baseline)
            }
        };
        MetricEvidence {
            metric: self.name.clone(),
            muted: self.muted,
            intervals: self.intervals,
            e_value: self.harm.e_value(),
            threshold: 1.0 / alpha,
            estimate,
            counter: !matches!(self.harm, Process::Mean(_)),
            safe: self.safe(alpha),
        }
    }
}

/// One metric's standing in the sequential rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MetricEvidence {
    /// The metric.
    pub metric: String,
    /// Muted metrics are computed but never decide.
    pub muted: bool,
    /// Intervals that carried data for it.
    pub intervals: u64,
    /// The harm e-value now (rollback when it reaches `threshold`).
    pub e_value: f64,
    /// `K/alpha`.
    pub threshold: f64,
    /// Counters: the cumulative rate ratio (canary events per trial over the baseline's);
    /// continuous: the geometric-mean relative difference `exp(mean_k d_k) - 1` of the
    /// per-interval log ratios `d_k = ln(mean(canary)/mean(baseline))`. NaN before any data.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub estimate: f64,
    /// Whether `estimate` is a rate ratio (counter) or a relative difference.
    pub counter: bool,
    /// Whether the tolerated regression has been ruled out.
    pub safe: bool,
}

impl fmt::Display for MetricEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: E = {} (rollback at {}), {} {}{}",
            self.metric,
            if self.muted { " (muted)" } else { "" },
            fmt_g(self.e_value),
            fmt_g(self.threshold),
            if self.counter {
                "rate ratio"
            } else {
                "relative difference"
            },
            fmt_g(self.estimate),
            if self.safe { ", safe" } else { "" }
        )
    }
}

/// The e-processes of every metric and the SRM check.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(super) struct SequentialState {
    monitors: Vec<Monitor>,
    srm: Option<SrmEProcess>,
}

impl SequentialState {
    pub(super) fn new(rule: &SequentialRule, canary: &CanaryPolicy) -> Result<SequentialState> {
        let alpha = rule.alpha / counted(canary) as f64;
        let monitors = canary
            .metrics
            .iter()
            .map(|m| Monitor::new(rule, m, alpha))
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

    fn alpha(rule: &SequentialRule, canary: &CanaryPolicy) -> f64 {
        rule.alpha / counted(canary) as f64
    }

    pub(super) fn evidence(
        &self,
        rule: &SequentialRule,
        canary: &CanaryPolicy,
    ) -> Vec<MetricEvidence> {
        let alpha = Self::alpha(rule, canary);
        self.monitors.iter().map(|m| m.evidence(alpha)).collect()
    }

    /// Adds one interval's data to a copy; the caller keeps it only on success.
    fn add(&mut self, canary: &CanaryPolicy, data: &[MetricData]) -> Result<()> {
        check_names(canary, data)?;
        let mut srm_fed = false;
        for (policy, monitor) in canary.metrics.iter().zip(&mut self.monitors) {
            let Some(d) = data.iter().find(|d| d.name == policy.name) else {
                continue;
            };
            let means = match clean(policy, &d.baseline, &d.canary)? {
                Cleaned::Counts {
                    baseline,
                    canary: c,
                } => {
                    let (b, c) = (
                        Totals {
                            events: baseline.events,
                            trials: baseline.trials,
                        },
                        Totals {
                            events: c.events,
                            trials: c.trials,
                        },
                    );
                    monitor.harm.add_counts(c, b)?;
                    for p in &mut monitor.safety {
                        p.add_counts(c, b)?;
                    }
                    monitor.canary.events += c.events;
                    monitor.canary.trials += c.trials;
                    monitor.baseline.events += b.events;
                    monitor.baseline.trials += b.trials;
                    if let (Some(srm), false) = (&mut self.srm, srm_fed) {
                        srm.update(&[b.trials, c.trials])?;
                        srm_fed = true;
                    }
                    None
                }
                Cleaned::Unpaired {
                    baseline,
                    canary: c,
                    ..
                }
                | Cleaned::Paired {
                    baseline,
                    canary: c,
                    ..
                } => {
                    if baseline.is_empty() || c.is_empty() {
                        continue;
                    }
                    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
                    Some((mean(&baseline), mean(&c)))
                }
                // Histograms: the bucket-midpoint means of the interval (see `SequentialRule`).
                Cleaned::Histograms {
                    baseline,
                    canary: c,
                } => {
                    if baseline.total() == 0 || c.total() == 0 {
                        continue;
                    }
                    Some((midpoint_mean(&baseline), midpoint_mean(&c)))
                }
            };
            if let Some((mb, mc)) = means {
                if !(mb > 0.0 && mb.is_finite() && mc > 0.0 && mc.is_finite()) {
                    return Err(Error::InvalidData {
                        metric: policy.name.clone(),
                        arm: if mb > 0.0 { Arm::Canary } else { Arm::Baseline },
                        field: "value",
                        problem: format!(
                            "the sequential rule compares ln(mean(canary)/mean(baseline)): needs finite positive means, got baseline {} and canary {}",
                            fmt_g(mb),
                            fmt_g(mc)
                        ),
                    });
                }
                let log_ratio = (mc / mb).ln();
                monitor.harm.add_log_ratio(log_ratio)?;
                for p in &mut monitor.safety {
                    p.add_log_ratio(log_ratio)?;
                }
            }
            monitor.intervals += 1;
        }
        Ok(())
    }

    pub(super) fn step(
        &mut self,
        rule: &SequentialRule,
        canary: &CanaryPolicy,
        data: Option<&[MetricData]>,
        error: Option<&str>,
        last: bool,
        record: &mut IntervalRecord,
    ) -> Result<()> {
        if let Some(d) = data {
            let mut next = self.clone();
            next.add(canary, d)?;
            *self = next;
        }
        let alpha = Self::alpha(rule, canary);
        record.evidence = self.evidence(rule, canary);
        let counted: Vec<&Monitor> = self.monitors.iter().filter(|m| !m.muted).collect();
        let (decision, mut note) = if let Some(m) = counted.iter().find(|m| m.harmed(alpha)) {
            (
                Decision::Rollback,
                format!(
                    "{}: e-value {} reached K/alpha = {}",
                    m.name,
                    fmt_g(m.harm.e_value()),
                    fmt_g(1.0 / alpha)
                ),
            )
        } else {
            let mismatch = match (&self.srm, &canary.srm) {
                (Some(p), Some(s)) if p.p_value() <= s.alpha => Some(s.action),
                _ => None,
            };
            let all_safe = counted.iter().all(|m| m.safe(alpha));
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
