//! Quantile comparison with order-statistic intervals (see [`quantile_compare`]).

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_level, check_sample, Arm, Error, Result};
use crate::stats::discrete::Binomial;
use crate::stats::hypothesis::{fmt_g, Alternative, ConfidenceInterval};
use crate::stats::quantile::{quantile_sorted, QuantileType};
use crate::stats::sorted::sorted_copy_of_checked;

/// Settings of [`quantile_compare`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct QuantileCompareConfig {
    /// The quantile level, strictly inside (0, 1): 0.99 for p99.
    pub p: f64,
    /// Confidence level of the difference and ratio intervals.
    pub conf_level: f64,
    /// `Greater`: the canary's quantile is larger (harm for latency).
    pub alternative: Alternative,
    /// The null ratio `r` of the p-value's hypothesis `ξ_c ≤ r·ξ_b` (1 = no change; 1.1 = the
    /// canary may be 10% above).
    pub null_ratio: f64,
    /// Definition of the point estimates.
    pub quantile_type: QuantileType,
}

impl Default for QuantileCompareConfig {
    fn default() -> Self {
        QuantileCompareConfig {
            p: 0.99,
            conf_level: 0.95,
            alternative: Alternative::TwoSided,
            null_ratio: 1.0,
            quantile_type: QuantileType::Type7,
        }
    }
}

/// One arm's quantile and its order-statistic interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ArmQuantile {
    /// The sample quantile.
    pub estimate: f64,
    /// The interval `[X_(l), X_(u)]`; an end is infinite when the sample is too small for it.
    pub interval: ConfidenceInterval,
    /// The lower rank `l` (1-based), if there is one.
    pub lower_rank: Option<usize>,
    /// The upper rank `u` (1-based), if there is one.
    pub upper_rank: Option<usize>,
    /// Sample size.
    pub n: usize,
}

/// Result of [`quantile_compare`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QuantileComparison {
    /// The quantile level.
    pub p: f64,
    /// The alternative of the intervals and the p-value.
    pub alternative: Alternative,
    /// Baseline quantile and interval (level `√conf_level` requested).
    pub baseline: ArmQuantile,
    /// Canary quantile and interval.
    pub canary: ArmQuantile,
    /// `canary.estimate - baseline.estimate`.
    pub difference: f64,
    /// Interval of the difference; `level` is the guaranteed coverage.
    pub difference_interval: ConfidenceInterval,
    /// `canary.estimate / baseline.estimate`, when the baseline quantile is positive.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub ratio: Option<f64>,
    /// Interval of the ratio, when both arms' lower ends are non-negative and the baseline's is
    /// positive (or one-sided ends allow it).
    pub ratio_interval: Option<ConfidenceInterval>,
    /// The p-value of `ξ_c ≤ r·ξ_b` (or its mirror) with `r = null_ratio`.
    pub p_value: f64,
    /// The null ratio tested.
    pub null_ratio: f64,
    /// Baseline points needed for a finite interval at this level, when there are too few.
    pub needed_baseline: Option<usize>,
    /// Canary points needed for a finite interval at this level, when there are too few.
    pub needed_canary: Option<usize>,
}

impl QuantileComparison {
    /// Whether both arms have enough points for the interval's finite ends.
    pub fn is_judgeable(&self) -> bool {
        self.needed_baseline.is_none() && self.needed_canary.is_none()
    }
}

impl fmt::Display for QuantileComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format!("p{}", fmt_g(self.p * 100.0));
        if let (Some(r), Some(ci)) = (self.ratio, self.ratio_interval) {
            write!(
                f,
                "{name} {} [{}, {}] ({} -> {}, p = {})",
                pct(r),
                pct(ci.lower),
                pct(ci.upper),
                fmt_g(self.baseline.estimate),
                fmt_g(self.canary.estimate),
                fmt_g(self.p_value)
            )
        } else {
            write!(
                f,
                "{name} {}{} {} (p = {})",
                if self.difference >= 0.0 { "+" } else { "" },
                fmt_g(self.difference),
                self.difference_interval,
                fmt_g(self.p_value)
            )
        }
    }
}

/// A ratio as a signed percentage change ("+38%", "-inf%").
pub(crate) fn pct(r: f64) -> String {
    if r.is_infinite() {
        return if r > 0.0 {
            "+inf%".into()
        } else {
            "-inf%".into()
        };
    }
    let v = (r - 1.0) * 100.0;
    format!("{}{}%", if v >= 0.0 { "+" } else { "" }, fmt_g(v))
}

/// Compares one quantile of the canary with the baseline's (see the `# Method` section).
///
/// # Method
///
/// Quantile comparison: the difference and ratio of one quantile (p50 ... p99.9) between canary
/// and baseline, with a distribution-free confidence interval from order statistics.
///
/// **Per-arm interval.** For a sample of `n` points and `B ~ Binomial(n, p)`, the order
/// statistics `[X_(l), X_(u)]` cover the population `p`-quantile `ξ_p` with probability at least
/// `P(l ≤ B ≤ u - 1)`, for every distribution (continuous or not; Hahn & Meeker 1991, §5.2).
/// The ranks are the tightest with `P(B ≤ l - 1) ≤ a` and `P(B ≥ u) ≤ a`, computed with the exact
/// binomial tails. When even `X_(1)` or `X_(n)` cannot reach the level (`(1 - p)^n > a` or
/// `p^n > a`), that end is infinite and the arm would need more points (see
/// [`QuantileComparison::needed_baseline`]).
///
/// **Combined interval.** The arms are independent, so if each arm's interval has level
/// `γ = √(conf_level)` both hold at once with probability at least `γ² = conf_level`, and then
/// `ξ_c - ξ_b ∈ [L_c - U_b, U_c - L_b]` and, for positive data, `ξ_c / ξ_b ∈ [L_c/U_b, U_c/L_b]`.
/// Coverage guarantee: **at least `conf_level`** for any distributions, and
/// [`QuantileComparison::difference_interval`]`.level` reports the product of the two arms'
/// attained binomial levels, which is the bound actually guaranteed. The interval is
/// conservative by construction (the rectangle of the two arm intervals is wider than an interval
/// for the difference needs to be): in the seeded simulation of `tests/tail.rs` a nominal 90%
/// interval covered in about 99% of runs.
/// Two-sided intervals put `a = (1 - γ)/2` in each tail of each arm; one-sided ones (`Greater`:
/// the canary's quantile is larger) use `a = 1 - γ` for the canary's lower and the baseline's
/// upper end only.
///
/// **P-value.** `H0: ξ_c ≤ r·ξ_b` (`Greater`, `r = null_ratio > 0`) is rejected at level `α`
/// when the one-sided interval at level `1 - α` lies above it, `X_c(l) > r·X_b(u)`. The p-value is
/// the smallest such `α`: over every baseline rank `u`, with `l` the smallest canary rank above
/// `r·X_b(u)`, `1 - (1 - max(P(B_c ≤ l - 1), P(B_b ≥ u)))²`. It is valid (`P(p ≤ α) ≤ α` under
/// `H0`) because every level-`α` decision is an interval test. `Less` negates both samples; the
/// two-sided p-value is twice the smaller one-sided one, capped at 1.
///
/// The point estimates are R's `quantile(x, p)` (type 7 by default).
///
/// What it sees: a change in the chosen quantile however the rest of the distribution moves (a
/// p99 that doubled with the median fixed). What it misses: changes at other quantiles; it also
/// needs many points for far tails (p99 two-sided at 95%: 435 points per arm).
///
/// Reference: G. J. Hahn and W. Q. Meeker (1991), *Statistical Intervals*, Wiley, ch. 5;
/// H. A. David and H. N. Nagaraja (2003), *Order Statistics*, §7.1.
///
/// # Errors
/// [`Error::EmptySample`] / [`Error::NonFinite`] naming the arm; [`Error::InvalidParameter`]
/// naming `p`, `conf_level` (strictly inside (0, 1)) or `null_ratio` (finite, positive).
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::stats::{quantile_compare, Alternative, QuantileCompareConfig};
/// let baseline: Vec<f64> = (0..1000).map(|i| 100.0 + f64::from(i % 100)).collect();
/// let canary: Vec<f64> = (0..1000).map(|i| if i % 100 >= 95 { 400.0 } else { 100.0 + f64::from(i % 100) }).collect();
/// let cfg = QuantileCompareConfig { p: 0.99, alternative: Alternative::Greater, ..Default::default() };
/// let t = quantile_compare(Arms { baseline: &baseline, canary: &canary }, &cfg)?;
/// assert!(t.difference_interval.lower > 0.0); // the canary's p99 is larger
/// // The baseline's p99 interval reaches its maximum, X_(1000): 1 - (1 - 0.99^1000)^2 ≈ 8.6e-5.
/// assert!(t.p_value < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn quantile_compare(
    arms: Arms<&[f64]>,
    config: &QuantileCompareConfig,
) -> Result<QuantileComparison> {
    let Arms { baseline, canary } = arms;
    check_sample(Arm::Baseline, baseline)?;
    check_sample(Arm::Canary, canary)?;
    check_config(config)?;
    let c = sorted_copy_of_checked(canary, 0);
    let b = sorted_copy_of_checked(baseline, 0);
    Ok(quantile_compare_sorted(&c, &b, config))
}

pub(crate) fn check_config(config: &QuantileCompareConfig) -> Result<()> {
    check_level("p", config.p)?;
    check_level("conf_level", config.conf_level)?;
    if !(config.null_ratio.is_finite() && config.null_ratio > 0.0) {
        return Err(Error::InvalidParameter {
            field: "null_ratio",
            value: config.null_ratio,
            expected: "a finite positive ratio",
        });
    }
    Ok(())
}

/// Tail probabilities allowed below and above in each arm: (lower end, upper end), with zero
/// for an end that the alternative does not need.
pub(crate) fn tails(conf_level: f64, alternative: Alternative) -> (f64, f64, f64) {
    let gamma = conf_level.sqrt();
    let a = 1.0 - gamma;
    match alternative {
        Alternative::TwoSided => (a / 2.0, a / 2.0, gamma),
        _ => (a, a, gamma),
    }
}

/// The lower rank `l` (1-based): the largest with `P(B ≤ l - 1) ≤ a`, or `None`.
pub(crate) fn lower_rank(n: usize, p: f64, a: f64) -> Option<usize> {
    let d = Binomial { n: n as u64, p };
    // cdf(x) is increasing in x; the largest x in [0, n - 1] with cdf(x) ≤ a.
    if d.cdf(0) > a {
        return None;
    }
    let (mut lo, mut hi) = (0usize, n - 1);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if d.cdf(mid as i128) <= a {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo + 1)
}

/// The upper rank `u` (1-based): the smallest with `P(B ≥ u) ≤ a`, or `None`.
pub(crate) fn upper_rank(n: usize, p: f64, a: f64) -> Option<usize> {
    let d = Binomial { n: n as u64, p };
    if d.sf_ge(n as i128) > a {
        return None;
    }
    let (mut lo, mut hi) = (1usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if d.sf_ge(mid as i128) <= a {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo)
}

/// Points needed so that `X_(1)` (lower end, `(1 - p)^n ≤ a`) or `X_(n)` (upper end, `p^n ≤ a`)
/// reaches the level.
fn needed(prob_each: f64, a: f64) -> usize {
    (a.ln() / prob_each.ln()).ceil().max(1.0) as usize
}

/// Points per arm a quantile comparison needs for finite interval ends: `(baseline, canary)`.
///
/// Two-sided at level `conf_level`, each arm needs `n` with `p^n ≤ a` and `(1 - p)^n ≤ a` for
/// `a = (1 - √conf_level)/2`; one-sided (`Greater`) the baseline needs only the upper end and the
/// canary only the lower one, with `a = 1 - √conf_level`.
///
/// # Example
/// ```
/// use canary_verdict::stats::{quantile_min_samples, Alternative};
/// assert_eq!(
///     quantile_min_samples(0.99, 0.95, Alternative::TwoSided),
///     (435, 435)
/// );
/// assert_eq!(
///     quantile_min_samples(0.99, 0.95, Alternative::Greater),
///     (366, 1)
/// );
/// ```
pub fn quantile_min_samples(p: f64, conf_level: f64, alternative: Alternative) -> (usize, usize) {
    let (a, _, _) = tails(conf_level, alternative);
    let lo_end = needed(1.0 - p, a);
    let hi_end = needed(p, a);
    match alternative {
        Alternative::TwoSided => (lo_end.max(hi_end), lo_end.max(hi_end)),
        Alternative::Greater => (hi_end, lo_end),
        Alternative::Less => (lo_end, hi_end),
    }
}

/// Which interval ends each arm needs: ((canary lower, canary upper), (baseline lower, upper)).
pub(crate) fn needs(alternative: Alternative) -> ((bool, bool), (bool, bool)) {
    match alternative {
        Alternative::TwoSided => ((true, true), (true, true)),
        Alternative::Greater => ((true, false), (false, true)),
        Alternative::Less => ((false, true), (true, false)),
    }
}

/// One arm's interval from its size: the ranks, the bounds `lower_at(l)` / `upper_at(u)` of
/// those order statistics (the values themselves, or their buckets' bounds) and the attained
/// level.
pub(crate) fn arm_interval(
    n: usize,
    config: &QuantileCompareConfig,
    (need_lo, need_hi): (bool, bool),
    estimate: f64,
    lower_at: impl Fn(usize) -> f64,
    upper_at: impl Fn(usize) -> f64,
) -> ArmQuantile {
    let p = config.p;
    let (a_lo, a_hi, _) = tails(config.conf_level, config.alternative);
    let l = need_lo.then(|| lower_rank(n, p, a_lo)).flatten();
    let u = need_hi.then(|| upper_rank(n, p, a_hi)).flatten();
    let d = Binomial { n: n as u64, p };
    let miss_lo = if need_lo {
        l.map_or(1.0, |l| d.cdf(l as i128 - 1))
    } else {
        0.0
    };
    let miss_hi = if need_hi {
        u.map_or(1.0, |u| d.sf_ge(u as i128))
    } else {
        0.0
    };
    ArmQuantile {
        estimate,
        interval: ConfidenceInterval {
            lower: l.map_or(f64::NEG_INFINITY, &lower_at),
            upper: u.map_or(f64::INFINITY, &upper_at),
            level: (1.0 - miss_lo - miss_hi).max(0.0),
        },
        lower_rank: l,
        upper_rank: u,
        n,
    }
}

/// The comparison from the two arms' intervals and the p-value.
pub(crate) fn assemble(
    c: ArmQuantile,
    b: ArmQuantile,
    config: &QuantileCompareConfig,
    p_value: f64,
) -> QuantileComparison {
    let level = c.interval.level * b.interval.level;
    let difference_interval = ConfidenceInterval {
        lower: c.interval.lower - b.interval.upper,
        upper: c.interval.upper - b.interval.lower,
        level,
    };
    let ratio = (b.estimate > 0.0).then(|| c.estimate / b.estimate);
    let ratio_interval = ratio.and_then(|_| ratio_bounds(&c.interval, &b.interval, level));
    let (nb, nc) = quantile_min_samples(config.p, config.conf_level, config.alternative);
    QuantileComparison {
        p: config.p,
        alternative: config.alternative,
        difference: c.estimate - b.estimate,
        difference_interval,
        ratio,
        ratio_interval,
        p_value,
        null_ratio: config.null_ratio,
        needed_baseline: (b.n < nb).then_some(nb),
        needed_canary: (c.n < nc).then_some(nc),
        baseline: b,
        canary: c,
    }
}

/// The comparison on sorted, checked, non-empty samples with a checked config.
pub(crate) fn quantile_compare_sorted(
    canary: &[f64],
    baseline: &[f64],
    config: &QuantileCompareConfig,
) -> QuantileComparison {
    let arm = |s: &[f64], need: (bool, bool)| {
        arm_interval(
            s.len(),
            config,
            need,
            quantile_sorted(s, config.p, config.quantile_type),
            |l| s[l - 1],
            |u| s[u - 1],
        )
    };
    let (need_c, need_b) = needs(config.alternative);
    let p_value = match config.alternative {
        Alternative::Greater => p_greater(canary, baseline, config),
        Alternative::Less => p_less(canary, baseline, config),
        Alternative::TwoSided => (2.0
            * p_greater(canary, baseline, config).min(p_less(canary, baseline, config)))
        .min(1.0),
    };
    assemble(arm(canary, need_c), arm(baseline, need_b), config, p_value)
}

/// `[L_c/U_b, U_c/L_b]` when it is defined by positive baseline ends and non-negative canary
/// ends (an infinite baseline end gives 0 or +inf where it keeps the bound valid).
fn ratio_bounds(
    c: &ConfidenceInterval,
    b: &ConfidenceInterval,
    level: f64,
) -> Option<ConfidenceInterval> {
    let lower = if c.lower == f64::NEG_INFINITY {
        0.0
    } else if c.lower >= 0.0 && b.upper > 0.0 {
        c.lower / b.upper
    } else {
        return None;
    };
    let upper = if c.upper == f64::INFINITY || b.lower <= 0.0 {
        f64::INFINITY
    } else {
        c.upper / b.lower
    };
    if lower < 0.0 {
        return None;
    }
    Some(ConfidenceInterval {
        lower,
        upper,
        level,
    })
}

/// One-sided p-value of `ξ_c ≤ r·ξ_b` (see `quantile_compare`'s `# Method` section).
///
/// With `f(u) = P(B_b ≥ u)` (decreasing in `u`) and `g(u) = P(B_c ≤ l(u) - 1)` (non-decreasing,
/// 1 when no canary point lies above `r·X_b(u)`), the minimum over `u` of `max(f, g)` sits where
/// the two cross: a bisection finds the first `u` with `g ≥ f`, O(log n) binomial tails.
fn p_greater(canary: &[f64], baseline: &[f64], config: &QuantileCompareConfig) -> f64 {
    let (m, n) = (canary.len(), baseline.len());
    let dc = Binomial {
        n: m as u64,
        p: config.p,
    };
    let db = Binomial {
        n: n as u64,
        p: config.p,
    };
    let r = config.null_ratio;
    let f = |u: usize| db.sf_ge(u as i128);
    let g = |u: usize| {
        let t = r * baseline[u - 1];
        let count_le = canary.partition_point(|&v| v <= t);
        if count_le == m {
            1.0
        } else {
            dc.cdf(count_le as i128)
        }
    };
    crossing_p_value(n as u64, |u| f(u as usize), |u| g(u as usize))
}

/// `1 - (1 - min_u max(f(u), g(u)))²` over `u` in `1..=n`, for `f` non-increasing and `g`
/// non-decreasing: the minimum sits where the two cross, found by bisection for the first `u`
/// with `g ≥ f` (O(log n) evaluations). The square combines the two arms' independent misses.
/// Shared by the raw-sample and histogram quantile comparisons.
pub(crate) fn crossing_p_value(n: u64, f: impl Fn(u64) -> f64, g: impl Fn(u64) -> f64) -> f64 {
    let (mut lo, mut hi) = (1u64, n + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if g(mid) >= f(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    // At `lo`, g ≥ f so max = g; just below it, g < f so max = f.
    let mut miss = 1.0f64;
    if lo <= n {
        miss = miss.min(g(lo));
    }
    if lo > 1 {
        miss = miss.min(f(lo - 1));
    }
    (1.0 - (1.0 - miss) * (1.0 - miss)).clamp(0.0, 1.0)
}

/// One-sided p-value of `ξ_c ≥ r·ξ_b`: [`p_greater`] on negated samples.
fn p_less(canary: &[f64], baseline: &[f64], config: &QuantileCompareConfig) -> f64 {
    let neg = |s: &[f64]| -> Vec<f64> { s.iter().rev().map(|v| -v).collect() };
    p_greater(&neg(canary), &neg(baseline), config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_match_binomial_tails() {
        // n = 100, p = 0.5, a = 0.025: R: qbinom(0.025, 100, 0.5) = 40, so l = 40
        // (pbinom(39, 100, .5) = 0.0176 <= 0.025, pbinom(40, ...) = 0.0284 > 0.025).
        assert_eq!(lower_rank(100, 0.5, 0.025), Some(40));
        // 1 - pbinom(59, 100, .5) = 0.0284 > 0.025, 1 - pbinom(60, ...) = 0.0176: u = 61.
        assert_eq!(upper_rank(100, 0.5, 0.025), Some(61));
        // 0.99^10 = 0.904 > 0.01: X_(10) cannot bound the p99 from above. From below,
        // P(B <= 8) = 0.0043 <= 0.01 < P(B <= 9) = 0.096, so l = 9.
        assert_eq!(lower_rank(10, 0.99, 0.01), Some(9));
        assert_eq!(upper_rank(10, 0.99, 0.01), None);
    }

    #[test]
    fn min_samples_are_the_first_feasible_sizes() {
        let (nb, nc) = quantile_min_samples(0.99, 0.95, Alternative::TwoSided);
        let (a, _, _) = tails(0.95, Alternative::TwoSided);
        assert!(upper_rank(nb, 0.99, a).is_some());
        assert!(upper_rank(nb - 1, 0.99, a).is_none());
        assert_eq!(nb, nc);
    }
}
