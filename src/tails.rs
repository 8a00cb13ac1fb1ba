//! Tail and shape aspects of a metric's judgment (see [`TailAspect`]).

use std::fmt;

use crate::anderson_darling::ad_sorted;
use crate::classify::{Classification, MetricJudgment};
use crate::error::Result;
use crate::exceedance::exceedance_sorted;
use crate::hypothesis::{fmt_g, Alternative, Method};
use crate::ks::{ks_sorted, KolmogorovSmirnov};
use crate::policy::Direction;
use crate::quantile::{quantile_sorted, QuantileType};
use crate::quantile_compare::{
    check_config, pct, quantile_compare_sorted, QuantileCompareConfig, QuantileComparison,
};

/// A tail or shape test a metric's policy asks for, in addition to the location test.
/// # Method
///
/// Tail and shape aspects of a metric's judgment: which tests a policy asks for beyond the
/// location test, and their outcomes.
///
/// Each aspect is one more test in the canary's multiple-testing family (its p-value is adjusted
/// with the location tests of every metric), one-sided in the direction of harm where the test
/// has a direction:
///
/// | aspect | test | direction |
/// |---|---|---|
/// | `quantile { p, tolerance }` | [`quantile_compare`](crate::quantile_compare), `H0: ξ_c ≤ (1 + tolerance)·ξ_b` | one-sided |
/// | `exceedance { q }` | conditional form of [`exceedance_test`](crate::exceedance_test) (Fisher on the pooled `q`-quantile) | one-sided |
/// | `kolmogorov_smirnov` | [`ks_2samp`](crate::ks_2samp) | one-sided |
/// | `anderson_darling` | [`anderson_darling`](crate::anderson_darling) | omnibus; harmful when the canary's p95 is on the harmful side |
///
/// For a metric whose harm is a `decrease`, the samples are negated, so `quantile { p: 0.99 }`
/// looks at the p1 and `exceedance { q: 0.95 }` at the share below the baseline's p5; a
/// decreasing quantile is tested as `ξ_c ≥ (1 - tolerance)·ξ_b`. For `either`, tests are
/// two-sided (the quantile's at `r = 1 + tolerance`) and every significant aspect is harmful.
///
/// A tail aspect that regresses makes the metric `High` (`Low` for a decrease) with a reason
/// that names it; it is a failure of the metric, not a critical breach (a critical metric still
/// rolls back). An aspect the arms are too small for (a p99 interval with fewer than a few
/// hundred points) is reported as not judged with the number of points it needs, and does not
/// enter the family.
///
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TailAspect {
    /// Compare the `p`-quantile (0.99 for p99); a rise up to `tolerance` (0.1 = +10%) is allowed.
    Quantile {
        /// The quantile level, strictly inside (0, 1).
        p: f64,
        /// The allowed relative change, in [0, 1).
        #[cfg_attr(feature = "serde", serde(default))]
        tolerance: f64,
    },
    /// The share of canary points beyond the pooled `q`-quantile against the baseline's share.
    Exceedance {
        /// The quantile level, strictly inside (0, 1).
        q: f64,
    },
    /// Two-sample Kolmogorov-Smirnov on the whole distribution.
    KolmogorovSmirnov,
    /// Anderson-Darling two-sample test, most sensitive in the tails.
    AndersonDarling,
}

impl TailAspect {
    /// Checks the aspect's parameters; the error names the field.
    pub(crate) fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        match *self {
            TailAspect::Quantile { p, tolerance } => {
                if !(p > 0.0 && p < 1.0) {
                    return Err((
                        "tails.quantile.p",
                        format!("{p} is not strictly between 0 and 1"),
                    ));
                }
                if !(0.0..1.0).contains(&tolerance) {
                    return Err((
                        "tails.quantile.tolerance",
                        format!("{tolerance} is not in [0, 1)"),
                    ));
                }
            }
            TailAspect::Exceedance { q } if !(q > 0.0 && q < 1.0) => {
                return Err((
                    "tails.exceedance.q",
                    format!("{q} is not strictly between 0 and 1"),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for TailAspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TailAspect::Quantile { p, .. } => write!(f, "p{}", fmt_g(p * 100.0)),
            TailAspect::Exceedance { q } => write!(f, "exceedance of p{}", fmt_g(q * 100.0)),
            TailAspect::KolmogorovSmirnov => f.write_str("Kolmogorov-Smirnov"),
            TailAspect::AndersonDarling => f.write_str("Anderson-Darling"),
        }
    }
}

/// The outcome of one tail aspect for one metric.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TailResult {
    /// The aspect.
    pub aspect: TailAspect,
    /// The test's p-value (one-sided in the direction of harm where the test has one); `None`
    /// when the arms are too small to judge the aspect.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub p_value: Option<f64>,
    /// The p-value after the policy's multiple-testing adjustment.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub adjusted_p: Option<f64>,
    /// Whether the observed change points in the direction of harm.
    pub harmful: bool,
    /// Whether the aspect regressed: significant after adjustment and harmful.
    pub regressed: bool,
    /// One line with the numbers ("p99 +38% [+21%, +55%]").
    pub summary: String,
}

impl fmt::Display for TailResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)?;
        if let Some(p) = self.adjusted_p {
            write!(f, " (p_adj = {})", fmt_g(p))?;
        }
        Ok(())
    }
}

fn alternative(direction: Direction) -> Alternative {
    match direction {
        Direction::Either => Alternative::TwoSided,
        // Decreases are handled on negated samples.
        _ => Alternative::Greater,
    }
}

/// Runs the aspects on sorted, checked, non-empty samples (already negated for `Decrease`).
fn run_tails(
    aspects: &[TailAspect],
    direction: Direction,
    conf_level: f64,
    baseline: &[f64],
    canary: &[f64],
) -> Vec<TailResult> {
    let alt = alternative(direction);
    let flip = direction == Direction::Decrease;
    aspects
        .iter()
        .map(|&aspect| {
            one(aspect, alt, flip, conf_level, baseline, canary)
                .unwrap_or_else(|e| not_judged(aspect, e))
        })
        .collect()
}

/// An aspect that could not be run, with why.
pub(crate) fn not_judged(aspect: TailAspect, why: impl fmt::Display) -> TailResult {
    TailResult {
        aspect,
        p_value: None,
        adjusted_p: None,
        harmful: false,
        regressed: false,
        summary: format!("{aspect}: not judged: {why}"),
    }
}

fn one(
    aspect: TailAspect,
    alt: Alternative,
    flip: bool,
    conf_level: f64,
    baseline: &[f64],
    canary: &[f64],
) -> Result<TailResult> {
    let shown = |v: f64| if flip { -v } else { v };
    let (p_value, harmful, summary) = match aspect {
        TailAspect::Quantile { p, tolerance } => {
            let cfg = QuantileCompareConfig {
                p,
                conf_level,
                alternative: alt,
                // On negated samples, -ξ_c ≤ (1 - τ)·(-ξ_b) is ξ_c ≥ (1 - τ)·ξ_b.
                null_ratio: if flip {
                    1.0 - tolerance
                } else {
                    1.0 + tolerance
                },
                quantile_type: QuantileType::Type7,
            };
            check_config(&cfg)?;
            // The p-value at the policy's tolerance, the interval two-sided for the report.
            let test = quantile_compare_sorted(canary, baseline, &cfg);
            let report = quantile_compare_sorted(
                canary,
                baseline,
                &QuantileCompareConfig {
                    alternative: Alternative::TwoSided,
                    ..cfg
                },
            );
            let name = if flip {
                format!("p{}", fmt_g((1.0 - p) * 100.0))
            } else {
                format!("p{}", fmt_g(p * 100.0))
            };
            return Ok(quantile_outcome(
                aspect,
                &name,
                (&test, &report),
                test.difference > 0.0 || alt == Alternative::TwoSided,
                flip,
                (baseline.len(), canary.len()),
            ));
        }
        TailAspect::Exceedance { q } => {
            let t = exceedance_sorted(canary, baseline, q, alt, conf_level)?;
            let side = if flip { "below" } else { "above" };
            (
                t.conditional.p_value,
                t.canary_share() > t.baseline_share() || alt == Alternative::TwoSided,
                format!(
                    "{}% of canary vs {}% of baseline points {side} {} (pooled p{}), p = {}",
                    fmt_g(t.canary_share() * 100.0),
                    fmt_g(t.baseline_share() * 100.0),
                    fmt_g(shown(t.pooled_threshold)),
                    fmt_g(if flip { (1.0 - q) * 100.0 } else { q * 100.0 }),
                    fmt_g(t.conditional.p_value)
                ),
            )
        }
        TailAspect::KolmogorovSmirnov => {
            let t = ks_sorted(canary, baseline, alt, Method::Auto)?;
            (
                t.p_value,
                t.d_larger >= t.d_smaller || alt == Alternative::TwoSided,
                ks_line(&t),
            )
        }
        TailAspect::AndersonDarling => {
            let t = ad_sorted(&[baseline, canary])?;
            let up = quantile_sorted(canary, 0.95, QuantileType::Type7)
                > quantile_sorted(baseline, 0.95, QuantileType::Type7);
            (
                t.p_value,
                up || alt == Alternative::TwoSided,
                format!(
                    "Anderson-Darling T = {}, p {}{}",
                    fmt_g(t.statistic),
                    if t.p_capped {
                        if t.p_value >= 0.25 {
                            ">= "
                        } else {
                            "<= "
                        }
                    } else {
                        "= "
                    },
                    fmt_g(t.p_value)
                ),
            )
        }
    };
    Ok(TailResult {
        aspect,
        p_value: Some(p_value),
        adjusted_p: None,
        harmful,
        regressed: false,
        summary,
    })
}

/// A quantile aspect's result from its test (the p-value at the tolerance) and its two-sided
/// report; not judged, with the points it needs, when an arm is too small. `sizes` are
/// (baseline, canary).
pub(crate) fn quantile_outcome(
    aspect: TailAspect,
    name: &str,
    (test, report): (&QuantileComparison, &QuantileComparison),
    harmful: bool,
    flip: bool,
    sizes: (usize, usize),
) -> TailResult {
    let (p_value, summary) = if test.is_judgeable() {
        (Some(test.p_value), quantile_line(name, report, flip))
    } else {
        let need = test
            .needed_baseline
            .into_iter()
            .chain(test.needed_canary)
            .max()
            .unwrap_or(0);
        (
            None,
            format!(
                "{name}: not judged, needs at least {need} points per arm (has {} baseline, {} canary)",
                sizes.0, sizes.1
            ),
        )
    };
    TailResult {
        aspect,
        p_value,
        adjusted_p: None,
        harmful: harmful && p_value.is_some(),
        regressed: false,
        summary,
    }
}

/// "Kolmogorov-Smirnov D = 0.12 (exact), p = 0.003".
pub(crate) fn ks_line(t: &KolmogorovSmirnov) -> String {
    format!(
        "Kolmogorov-Smirnov D = {} ({}), p = {}",
        fmt_g(t.statistic),
        t.method,
        fmt_g(t.p_value)
    )
}

/// "p99 +38% [+21%, +55%]" (ratio of the quantiles) or the absolute difference when a ratio is
/// undefined; negated samples are shown in the metric's own units.
fn quantile_line(name: &str, c: &QuantileComparison, flip: bool) -> String {
    match (c.ratio, c.ratio_interval, flip) {
        (Some(r), Some(ci), false) => format!(
            "{name} {} [{}, {}] ({} -> {})",
            pct(r),
            pct(ci.lower),
            pct(ci.upper),
            fmt_g(c.baseline.estimate),
            fmt_g(c.canary.estimate)
        ),
        _ => {
            let s = if flip { -1.0 } else { 1.0 };
            let (lo, hi) = if flip {
                (-c.difference_interval.upper, -c.difference_interval.lower)
            } else {
                (c.difference_interval.lower, c.difference_interval.upper)
            };
            let d = s * c.difference;
            format!(
                "{name} {}{} [{}, {}] ({} -> {})",
                if d >= 0.0 { "+" } else { "" },
                fmt_g(d),
                fmt_g(lo),
                fmt_g(hi),
                fmt_g(s * c.baseline.estimate),
                fmt_g(s * c.canary.estimate)
            )
        }
    }
}

/// Runs the aspects on the arms sorted ascending: for a `Decrease` metric on the arms negated,
/// which reversed stay ascending (`+ 0.0` keeps zeros positive, as sorting the negated values
/// by their keys does); otherwise on the sorted arms themselves, without a copy.
pub(crate) fn run_on_sorted(
    aspects: &[TailAspect],
    direction: Direction,
    conf_level: f64,
    baseline: &[f64],
    canary: &[f64],
) -> Vec<TailResult> {
    if direction != Direction::Decrease {
        return run_tails(aspects, direction, conf_level, baseline, canary);
    }
    let negated = |s: &[f64]| -> Vec<f64> { s.iter().rev().map(|&x| -x + 0.0).collect() };
    run_tails(
        aspects,
        direction,
        conf_level,
        &negated(baseline),
        &negated(canary),
    )
}

/// Records the adjusted p-values and folds the regressed aspects into the metric's label and
/// reason: a metric whose location passed fails when a tail aspect regressed, and the reason
/// names the aspect first ("tail regressed: p99 +38% [+21%, +55%] (p_adj = 0.002); location: no
/// significant harmful change ...").
pub(crate) fn apply(
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
