//! Classification: a metric's comparison against its policy's tolerances and bounds gives one
//! label and a one-line reason with the numbers.

use std::fmt;

use crate::judge::compare::{statistic_of, Comparison, TestDetails};
use crate::judge::tails::TailResult;
use crate::policy::{Direction, EffectMeasure, MetricPolicy, Statistic};
use crate::stats::hypothesis::{fmt_g, ConfidenceInterval};
use crate::stats::summary::Summary;

/// The label of one metric.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Classification {
    /// No harmful change beyond the tolerance.
    Pass,
    /// A harmful increase (or a breached upper bound).
    High,
    /// A harmful decrease (or a breached lower bound).
    Low,
    /// No data, and the metric does not require data: left out of the score.
    NoData,
    /// No data for a metric that must have data: a failure.
    NoDataFail,
    /// Too few points to judge: left out of the score.
    Inconclusive,
    /// The data could not be judged (invalid input): a failure.
    Error,
}

impl Classification {
    /// Whether the label counts in its groups' scores.
    pub fn is_counted(self) -> bool {
        !matches!(self, Classification::NoData | Classification::Inconclusive)
    }

    /// Whether the label is a failure.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Classification::High
                | Classification::Low
                | Classification::NoDataFail
                | Classification::Error
        )
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Classification::Pass => "PASS",
            Classification::High => "HIGH",
            Classification::Low => "LOW",
            Classification::NoData => "NODATA",
            Classification::NoDataFail => "NODATA!",
            Classification::Inconclusive => "INCONCL",
            Classification::Error => "ERROR",
        })
    }
}

/// The judgment of one metric.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MetricJudgment {
    /// The metric's name.
    pub name: String,
    /// Its label.
    pub classification: Classification,
    /// A change past the critical tolerance, or a breached bound: rolls back on its own.
    pub critical_breach: bool,
    /// Whether the metric is critical in the policy.
    pub critical: bool,
    /// Whether the metric is muted (reported, never counted).
    pub muted: bool,
    /// One line with the numbers behind the label.
    pub reason: String,
    /// The test's p-value, one-sided in the direction of harm (two-sided for `either`).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub p_value: Option<f64>,
    /// The p-value after the multiple-testing adjustment.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub adjusted_p: Option<f64>,
    /// The shift in the metric's units, or the rate ratio for counters.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub estimate: Option<f64>,
    /// Its confidence interval.
    pub interval: Option<ConfidenceInterval>,
    /// The effect on the tolerance's scale.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub effect: Option<f64>,
    /// The interval mapped onto the effect's scale (the shift over the baseline median, the rate
    /// ratio, or the shift itself), when the measure has one: the mean ratio and CLES do not.
    #[cfg_attr(feature = "serde", serde(default))]
    pub effect_interval: Option<ConfidenceInterval>,
    /// The scale of `effect`.
    pub measure: EffectMeasure,
    /// Baseline size after cleaning (points, or trials for counters).
    pub n_baseline: usize,
    /// Canary size after cleaning.
    pub n_canary: usize,
    /// The baseline's summary statistics.
    pub baseline: Option<Summary>,
    /// The canary's summary statistics.
    pub canary: Option<Summary>,
    /// The test's full result.
    pub details: Option<TestDetails>,
    /// The tail and shape aspects the policy asked for, in its order (empty by default).
    #[cfg_attr(feature = "serde", serde(default))]
    pub tails: Vec<TailResult>,
    /// The metric's share of the family-wise alpha (its weight in the weighted adjustment):
    /// the level its test had to reach on its own.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub alpha_share: Option<f64>,
    /// The smallest change on the effect's scale that this metric's test, alone at the
    /// family alpha, would find significant half of the time (`q(1 - alpha) · se`): what the
    /// data could have detected. A metric that could not detect a multiple of its critical
    /// tolerance is Inconclusive.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub detectable: Option<f64>,
    /// The serial-correlation correction applied to the test and interval, if any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub dependence: Option<crate::stats::dependence::Dependence>,
}

impl MetricJudgment {
    /// A judgment without a comparison (no data, too little data, an error).
    pub(crate) fn bare(policy: &MetricPolicy, label: Classification, reason: String) -> Self {
        MetricJudgment {
            name: policy.name.clone(),
            classification: label,
            critical_breach: false,
            critical: policy.critical,
            muted: policy.muted,
            reason,
            p_value: None,
            adjusted_p: None,
            estimate: None,
            interval: None,
            effect: None,
            effect_interval: None,
            measure: policy.tolerance.measure,
            n_baseline: 0,
            n_canary: 0,
            baseline: None,
            canary: None,
            details: None,
            tails: Vec::new(),
            alpha_share: None,
            detectable: None,
            dependence: None,
        }
    }

    /// Whether the metric takes part in the score.
    pub fn is_counted(&self) -> bool {
        !self.muted && self.classification.is_counted()
    }
}

/// How an effect reads in a CI log: ratios as signed percentages, CLES and shifts as numbers.
pub(crate) fn fmt_effect(measure: EffectMeasure, v: f64) -> String {
    match measure {
        EffectMeasure::RelativeShift | EffectMeasure::MeanRatio => {
            if v.is_infinite() {
                "+inf%".into()
            } else {
                let pct = (v - 1.0) * 100.0;
                format!("{}{}%", if pct >= 0.0 { "+" } else { "" }, fmt_g(pct))
            }
        }
        EffectMeasure::Cles => format!("CLES {}", fmt_g(v)),
        EffectMeasure::Absolute => format!("{}{}", if v >= 0.0 { "+" } else { "" }, fmt_g(v)),
    }
}

fn stat_name(st: Statistic) -> String {
    match st {
        Statistic::Mean => "mean".into(),
        Statistic::Median => "median".into(),
        Statistic::Quantile(p) => format!("p{}", fmt_g(p * 100.0)),
    }
}

/// The family-wise settings a metric is judged under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family {
    /// The policy's family-wise alpha: the adjusted p-value must be below it.
    pub alpha: f64,
    /// This metric's share of alpha (its weight in the weighted adjustment).
    pub share: f64,
    /// The multiple of the critical tolerance the metric must be able to detect.
    pub sufficiency_multiple: f64,
}

/// Applies bounds, significance, tolerances and the sufficiency rule to a comparison.
///
/// A change fails the metric when it is significant (adjusted p below alpha) and the near end
/// of its interval lies beyond the allowed tolerance; it is a critical breach when that end
/// lies beyond the critical tolerance. Deciding on the interval's near end (a test against the
/// tolerance) rather than the point estimate means a change sitting on the limit is not a coin
/// flip. Measures without an interval (mean ratio, CLES) use the point estimate. `sorted`
/// holds the arms' sorted values for bounds on quantiles (empty for counters).
pub(crate) fn classify(
    policy: &MetricPolicy,
    cmp: Comparison,
    adjusted_p: Option<f64>,
    family: Family,
    sorted: (&[f64], &[f64]),
    sizes: (usize, usize),
) -> MetricJudgment {
    let alpha = family.alpha;
    let mut j = MetricJudgment::bare(policy, Classification::Pass, String::new());
    j.p_value = cmp.p_value;
    j.adjusted_p = adjusted_p;
    j.estimate = cmp.estimate;
    j.interval = cmp.interval;
    j.effect = cmp.effect;
    j.effect_interval = cmp
        .effect_interval
        .zip(cmp.interval)
        .map(|((lower, upper), ci)| ConfidenceInterval {
            lower,
            upper,
            level: ci.level,
        });
    j.measure = cmp.measure;
    j.n_baseline = sizes.0;
    j.n_canary = sizes.1;
    let numbers = numbers_line(&cmp, adjusted_p, sizes);
    // Bounds first: they are hard limits.
    if let (Some(b), Some(cs)) = (policy.bounds, cmp.canary.as_ref()) {
        let v = statistic_value(sorted.1, cs, b.statistic);
        let name = stat_name(b.statistic);
        if let Some(max) = b.max.filter(|&max| v > max) {
            j.classification = Classification::High;
            j.critical_breach = true;
            j.reason = if v.is_infinite() {
                // A histogram's quantile in its `+inf` bucket: above every finite bound.
                format!(
                    "canary {name} beyond the last bucket, so possibly above the bound {}",
                    fmt_g(max)
                )
            } else {
                format!("canary {name} {} above the bound {}", fmt_g(v), fmt_g(max))
            };
        } else if let Some(min) = b.min.filter(|&min| v < min) {
            j.classification = Classification::Low;
            j.critical_breach = true;
            j.reason = format!("canary {name} {} below the bound {}", fmt_g(v), fmt_g(min));
        }
    }
    if j.reason.is_empty() {
        if let (Some(r), Some(bs), Some(cs)) = (
            policy.relative_bounds,
            cmp.baseline.as_ref(),
            cmp.canary.as_ref(),
        ) {
            let vb = statistic_value(sorted.0, bs, r.statistic);
            let vc = statistic_value(sorted.1, cs, r.statistic);
            let name = stat_name(r.statistic);
            let change = if vb != 0.0 {
                (vc - vb) / vb.abs()
            } else {
                f64::NAN
            };
            let over = r.max_increase.filter(|&m| vc > vb + m * vb.abs());
            let under = r.max_decrease.filter(|&m| vc < vb - m * vb.abs());
            if let Some(m) = over {
                j.classification = Classification::High;
                j.critical_breach = true;
                j.reason = format!(
                    "canary {name} {} is {} of baseline {} (allowed +{}%)",
                    fmt_g(vc),
                    fmt_pct(change),
                    fmt_g(vb),
                    fmt_g(m * 100.0)
                );
            } else if let Some(m) = under {
                j.classification = Classification::Low;
                j.critical_breach = true;
                j.reason = format!(
                    "canary {name} {} is {} of baseline {} (allowed -{}%)",
                    fmt_g(vc),
                    fmt_pct(change),
                    fmt_g(vb),
                    fmt_g(m * 100.0)
                );
            }
        }
    }
    if j.reason.is_empty() {
        let tol = policy.tolerance;
        let significant = adjusted_p.is_some_and(|p| p < alpha);
        // An undefined effect (a change from zero) is beyond every tolerance, as in Kayenta. So
        // is a relative tolerance on a metric whose baseline straddles zero: the comparison fell
        // back to the absolute scale, where the relative limits have no meaning.
        let rescaled = cmp.measure != policy.tolerance.measure;
        let effect = if rescaled { None } else { cmp.effect };
        let up = match (cmp.effect, cmp.estimate) {
            (Some(e), _) => e > cmp.measure.neutral(),
            (None, Some(est)) => est > 0.0,
            _ => false,
        };
        let harmful_up = matches!(policy.direction, Direction::Increase | Direction::Either) && up;
        let harmful_down =
            matches!(policy.direction, Direction::Decrease | Direction::Either) && !up;
        let effect_text = match (rescaled, cmp.effect, effect) {
            (true, Some(shift), _) => format!(
                "{} (absolute: the baseline straddles zero, so no relative change is defined)",
                fmt_effect(cmp.measure, shift)
            ),
            (_, _, Some(e)) => fmt_effect(cmp.measure, e),
            _ => "an undefined relative change".to_string(),
        };
        let limit_text = |critical: bool, limit: f64| {
            format!(
                "exceeds the {} limit {}",
                if critical { "critical" } else { "allowed" },
                fmt_effect(cmp.measure, limit)
            )
        };
        // The interval's end nearest to no change, on the harmful side; the point estimate
        // where the measure has no interval.
        // Histograms: the median's interval is widened to whole buckets, too coarse to test a
        // tolerance against; their interpolated median change is used as the estimate.
        let interval = match cmp.details {
            Some(TestDetails::Histogram { .. }) => None,
            _ => cmp.effect_interval,
        };
        let near_up = interval.map(|(lo, _)| lo).or(effect);
        let near_down = interval.map(|(_, hi)| hi).or(effect);
        // A limit at the neutral value is tested by the significance test itself.
        let neutral = cmp.measure.neutral();
        let beyond_up =
            |limit: f64| effect.is_none() || limit <= neutral || near_up.is_some_and(|e| e > limit);
        let beyond_down = |limit: f64| {
            effect.is_none() || limit >= neutral || near_down.is_some_and(|e| e < limit)
        };
        if significant && harmful_up && beyond_up(tol.allowed_increase) {
            j.classification = Classification::High;
            j.critical_breach = beyond_up(tol.critical_increase);
            let limit = if j.critical_breach {
                tol.critical_increase
            } else {
                tol.allowed_increase
            };
            j.reason = format!(
                "increase {effect_text} {}{numbers}",
                limit_text(j.critical_breach, limit)
            );
        } else if significant && harmful_down && beyond_down(tol.allowed_decrease) {
            j.classification = Classification::Low;
            j.critical_breach = beyond_down(tol.critical_decrease);
            let limit = if j.critical_breach {
                tol.critical_decrease
            } else {
                tol.allowed_decrease
            };
            j.reason = format!(
                "decrease {effect_text} {}{numbers}",
                limit_text(j.critical_breach, limit)
            );
        } else if cmp.p_value.is_none() {
            j.reason = "within bounds".into();
        } else if let Some(why) =
            insufficient(policy, &cmp, family, harmful_up || harmful_down, sizes)
        {
            j.classification = Classification::Inconclusive;
            j.reason = format!("could not tell: {why}; {effect_text}{numbers}");
        } else if significant {
            j.reason = format!("change {effect_text} within tolerance{numbers}");
        } else {
            j.reason = format!("no significant harmful change: {effect_text}{numbers}");
        }
    }
    j.alpha_share = cmp.p_value.map(|_| family.share);
    j.detectable = detectable(policy, &cmp, family.alpha);
    j.dependence = cmp.dependence;
    j.baseline = cmp.baseline;
    j.canary = cmp.canary;
    j.details = cmp.details;
    j
}

/// The smallest change the metric's test would find significant at `level` half of the time,
/// on the effect's scale: `z(1 - level) · se`, with `se` the effect's standard error (inflated
/// for serial correlation) and the level halved for `either`. The judge states it at the family alpha: what
/// the metric's data could detect if it were tested alone, whatever the number of metrics
/// sharing alpha.
fn detectable(policy: &MetricPolicy, cmp: &Comparison, share: f64) -> Option<f64> {
    let se = cmp.se_effect?;
    let level = match policy.direction {
        Direction::Either => share / 2.0,
        _ => share,
    };
    // The normal quantile: `se` already carries the serial-correlation inflation, and the
    // t reference's heavy tails at a handful of effective points would make this design
    // quantity swing with the noise of the estimated correlation.
    let v = crate::stats::dist::norm_quantile(1.0 - level) * se;
    v.is_finite().then_some(v)
}

/// Why a metric that showed no harmful change could not have shown one: no outcome of this
/// size could reach significance at its alpha share (counts and small rank tests), or the
/// smallest change it could detect is more than `sufficiency_multiple` times the distance to
/// its critical tolerance. `None` when the data were sufficient.
fn insufficient(
    policy: &MetricPolicy,
    cmp: &Comparison,
    family: Family,
    harm_seen: bool,
    sizes: (usize, usize),
) -> Option<String> {
    if let Some(floor) = cmp.p_floor.filter(|&f| harm_seen && f >= family.share) {
        return Some(format!(
            "no outcome with these data (n = {}/{}) could reach its alpha share {} (smallest possible p = {})",
            sizes.0,
            sizes.1,
            fmt_g(family.share),
            fmt_g(floor)
        ));
    }
    // Only a tolerance on the measure actually used is a distance on the effect's scale.
    if cmp.measure != policy.tolerance.measure {
        return None;
    }
    let tol = policy.tolerance;
    let neutral = cmp.measure.neutral();
    let up = tol.critical_increase - neutral;
    let down = neutral - tol.critical_decrease;
    let distance = match policy.direction {
        Direction::Increase => up,
        Direction::Decrease => down,
        Direction::Either => up.min(down),
    };
    if !(distance.is_finite() && distance > 0.0) {
        return None;
    }
    let d = detectable(policy, cmp, family.alpha)?;
    (d > family.sufficiency_multiple * distance).then(|| {
        format!(
            "the smallest change it could detect at alpha is {} (critical limit {})",
            fmt_pct_effect(cmp.measure, d),
            fmt_pct_effect(cmp.measure, distance)
        )
    })
}

/// A distance on an effect's scale: percentage points for ratios, plain for the others.
fn fmt_pct_effect(measure: EffectMeasure, d: f64) -> String {
    match measure {
        EffectMeasure::RelativeShift | EffectMeasure::MeanRatio => {
            format!("±{}%", fmt_g(d * 100.0))
        }
        _ => format!("±{}", fmt_g(d)),
    }
}

fn fmt_pct(change: f64) -> String {
    if change.is_nan() {
        "a change".into()
    } else {
        format!(
            "{}{}%",
            if change >= 0.0 { "+" } else { "" },
            fmt_g(change * 100.0)
        )
    }
}

fn statistic_value(sorted: &[f64], summary: &Summary, st: Statistic) -> f64 {
    if sorted.is_empty() {
        // Histograms: the summary holds the interpolated quantiles the bounds are stated on.
        // Counters: no quantiles; the rate stands for every statistic.
        let p = match st {
            Statistic::Mean => None,
            Statistic::Median => Some(0.5),
            Statistic::Quantile(p) => Some(p),
        };
        p.and_then(|p| summary.quantile(p)).unwrap_or(summary.mean)
    } else {
        statistic_of(sorted, summary, st)
    }
}

fn numbers_line(cmp: &Comparison, adjusted_p: Option<f64>, sizes: (usize, usize)) -> String {
    let mut s = String::from(" (");
    if let Some((lo, hi)) = cmp.effect_interval {
        s.push_str(&format!(
            "interval [{}, {}], ",
            fmt_effect(cmp.measure, lo),
            fmt_effect(cmp.measure, hi)
        ));
    }
    if let Some(p) = cmp.p_value {
        s.push_str(&format!("p = {}, ", fmt_g(p)));
    }
    if let Some(p) = adjusted_p {
        s.push_str(&format!("p_adj = {}, ", fmt_g(p)));
    }
    s.push_str(&format!("n = {}/{})", sizes.0, sizes.1));
    s
}

/// Records the adjusted p-values and folds the regressed aspects into the metric's label and
/// reason: a metric whose location passed fails when a tail aspect regressed, and the reason
/// names the aspect first ("tail regressed: p99 +38% [+21%, +55%] (p_adj = 0.002); location: no
/// significant harmful change ...").
pub(crate) fn apply_tails(
    j: &mut MetricJudgment,
    direction: Direction,
    alpha: f64,
    mut tails: Vec<TailResult>,
    adjusted: &[Option<f64>],
) {
    for (t, adj) in tails.iter_mut().zip(adjusted) {
        t.adjusted_p = *adj;
        t.regressed = t.harmful && adj.is_some_and(|p| p < alpha);
    }
    let regressed: Vec<String> = tails
        .iter()
        .filter(|t| t.regressed)
        .map(|t| t.to_string())
        .collect();
    if !regressed.is_empty() && !j.classification.is_failure() {
        j.classification = if direction == Direction::Decrease {
            Classification::Low
        } else {
            Classification::High
        };
        j.reason = format!(
            "tail regressed: {}; location: {}",
            regressed.join("; "),
            j.reason
        );
    } else if !regressed.is_empty() {
        j.reason = format!("{}; tail regressed too: {}", j.reason, regressed.join("; "));
    }
    j.tails = tails;
}
