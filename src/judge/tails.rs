//! The tail and shape aspects of a metric's comparison (see [`TailAspect`]): their tests and
//! outcomes, before the classification folds them into the metric's label.

use std::fmt;

use crate::arms::Arms;
use crate::error::Result;
use crate::judge::compare::alternative;
use crate::policy::{Direction, MetricPolicy, TailAspect};
use crate::stats::anderson_darling::ad_sorted;
use crate::stats::exceedance::exceedance_sorted;
use crate::stats::histogram::{histogram_ks, histogram_quantile_compare, Histogram};
use crate::stats::hypothesis::{fmt_g, Alternative, Method};
use crate::stats::ks::{ks_sorted, KolmogorovSmirnov};
use crate::stats::quantile::{quantile_sorted, QuantileType};
use crate::stats::quantile_compare::{
    check_config, pct, quantile_compare_sorted, QuantileCompareConfig, QuantileComparison,
};

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

fn alternative_on_sorted(direction: Direction) -> Alternative {
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
    let alt = alternative_on_sorted(direction);
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

/// The tail aspects on histograms: quantiles by [`histogram_quantile_compare`] (for a `decrease`
/// metric, `quantile { p }` looks at the `1 − p` quantile, as on samples), Kolmogorov-Smirnov by
/// [`histogram_ks`]; one-sided in the direction of harm, two-sided for `either`.
pub(crate) fn histogram_tails(
    policy: &MetricPolicy,
    baseline: &Histogram,
    canary: &Histogram,
) -> Vec<TailResult> {
    let dir = policy.direction;
    let alt = alternative(dir);
    let sizes = (baseline.points(), canary.points());
    policy
        .tails
        .iter()
        .map(|&aspect| match aspect {
            TailAspect::Quantile { p, tolerance } => {
                let (level, null_ratio) = match dir {
                    Direction::Decrease => (1.0 - p, 1.0 - tolerance),
                    _ => (p, 1.0 + tolerance),
                };
                let cfg = QuantileCompareConfig {
                    p: level,
                    conf_level: policy.conf_level,
                    alternative: alt,
                    null_ratio,
                    quantile_type: QuantileType::Type7,
                };
                let report_cfg = QuantileCompareConfig {
                    alternative: Alternative::TwoSided,
                    ..cfg
                };
                let runs =
                    histogram_quantile_compare(Arms { baseline, canary }, &cfg).and_then(|t| {
                        Ok((
                            t,
                            histogram_quantile_compare(Arms { baseline, canary }, &report_cfg)?,
                        ))
                    });
                match runs {
                    Ok((test, report)) => {
                        let harmful = match alt {
                            Alternative::Greater => test.difference > 0.0,
                            Alternative::Less => test.difference < 0.0,
                            Alternative::TwoSided => true,
                        };
                        let name = format!("p{}", fmt_g(level * 100.0));
                        quantile_outcome(aspect, &name, (&test, &report), harmful, false, sizes)
                    }
                    Err(e) => not_judged(aspect, e),
                }
            }
            TailAspect::KolmogorovSmirnov => {
                match histogram_ks(Arms { baseline, canary }, alt, Method::Auto) {
                    Ok(t) => TailResult {
                        aspect,
                        p_value: Some(t.p_value),
                        adjusted_p: None,
                        harmful: match alt {
                            Alternative::Greater => t.d_larger >= t.d_smaller,
                            Alternative::Less => t.d_smaller >= t.d_larger,
                            Alternative::TwoSided => true,
                        },
                        regressed: false,
                        summary: ks_line(&t),
                    },
                    Err(e) => not_judged(aspect, e),
                }
            }
            // Refused before the comparison (check_supported); kept out of the family here too.
            other => not_judged(other, "not defined on histograms"),
        })
        .collect()
}
