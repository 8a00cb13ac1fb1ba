//! Exceedance test of the canary against a baseline quantile (see [`exceedance_test`]).

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_level, check_sample, Arm, Result};
use crate::stats::counts::{
    binom_test, fisher_exact, BinomialTest, CountTestConfig, FisherExact, Proportion,
};
use crate::stats::hypothesis::{fmt_g, Alternative};
use crate::stats::quantile::{quantile_sorted, QuantileType};
use crate::stats::sorted::sorted_copy_of_checked;

/// Result of the exceedance test of the canary against the baseline's `q`-quantile.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Exceedance {
    /// The quantile level `q`.
    pub q: f64,
    /// The baseline's `q`-quantile (type 7), the one-sample test's threshold.
    pub baseline_threshold: f64,
    /// Canary points strictly above `baseline_threshold`.
    pub canary_above_baseline_threshold: u64,
    /// The one-sample exact binomial test of that count against `1 - q`.
    pub binomial: BinomialTest,
    /// The pooled `q`-quantile (type 7), the conditional test's threshold.
    pub pooled_threshold: f64,
    /// Canary points strictly above `pooled_threshold`.
    pub canary_above: u64,
    /// Baseline points strictly above `pooled_threshold`.
    pub baseline_above: u64,
    /// Fisher's exact test on `[[canary_above, canary below], [baseline_above, baseline
    /// below]]`, the conditional two-sample form.
    pub conditional: FisherExact,
    /// Canary sample size.
    pub n_canary: usize,
    /// Baseline sample size.
    pub n_baseline: usize,
}

impl Exceedance {
    /// The canary's share above the pooled threshold.
    pub fn canary_share(&self) -> f64 {
        self.canary_above as f64 / self.n_canary as f64
    }

    /// The baseline's share above the pooled threshold.
    pub fn baseline_share(&self) -> f64 {
        self.baseline_above as f64 / self.n_baseline as f64
    }
}

impl fmt::Display for Exceedance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exceedance of p{}: canary {}% vs baseline {}% above {} (Fisher p = {}); {}/{} canary above baseline p{} {} (binomial p = {})",
            fmt_g(self.q * 100.0),
            fmt_g(self.canary_share() * 100.0),
            fmt_g(self.baseline_share() * 100.0),
            fmt_g(self.pooled_threshold),
            fmt_g(self.conditional.p_value),
            self.canary_above_baseline_threshold,
            self.n_canary,
            fmt_g(self.q * 100.0),
            fmt_g(self.baseline_threshold),
            fmt_g(self.binomial.p_value)
        )
    }
}

/// Exceedance test of the canary against the baseline's `q`-quantile, both forms (see the
/// `# Method` section).
///
/// `alternative` is about the canary's share above the threshold: `Greater` (the usual one for
/// latency) tests whether more canary points exceed it than expected.
///
/// # Method
///
/// Exceedance test: is the share of canary observations above a baseline quantile larger than it
/// should be?
///
/// Two forms, both exact:
///
/// - **One-sample binomial** (the baseline quantile treated as known): with `t = Q_b(q)` the
///   baseline's `q`-quantile (R's `quantile(baseline, q)`, type 7) and `x = #{canary > t}` out of
///   `n_c`, test `x ~ Binomial(n_c, 1 - q)`, as R's `binom.test(x, n_c, 1 - q, alternative)`.
///   It reads "6.1% of canary requests are slower than the old p95, against 5% expected", but it
///   ignores the baseline quantile's own sampling error, so its size exceeds the nominal level
///   when the baseline is small (with `n_b = 200` and `q = 0.99`, `t` falls on the second-largest
///   point and the canary's expected share above it is not 1% but about 1.5%).
/// - **Conditional two-sample form** (what the judge uses): with `t = Q(q)` the `q`-quantile of
///   the *pooled* sample, the 2x2 table of points above `t` in each arm is tested with Fisher's
///   exact test (one-sided: the canary's share is larger). Because `t` is a symmetric function of
///   the pooled data, under the null hypothesis (both arms from one distribution) every labelling
///   of the pooled points is equally likely given the pooled values, so the canary's count above
///   `t` given the total above is exactly hypergeometric: the test has its nominal size whatever
///   the sample sizes and the distribution (Mood's two-sample quantile test). Using the baseline's
///   own quantile as the cut would not be symmetric, and the hypergeometric law would not hold.
///
/// The test sees a tail that got heavier beyond the chosen quantile (a new slow path hit by a few
/// percent of requests) even when the median does not move; it does not see changes inside the
/// body of the distribution or beyond `t` that keep the share (the slow requests getting slower).
///
/// # Errors
/// [`Error::EmptySample`](crate::Error::EmptySample) / [`Error::NonFinite`](crate::Error::NonFinite) naming the arm; [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// naming `q` (strictly inside (0, 1)) or `conf_level`.
///
/// # Example
/// ```
/// use canary_verdict::stats::{exceedance_test, Alternative, CountTestConfig};
/// use canary_verdict::Arms;
/// let baseline: Vec<f64> = (1..=100).map(f64::from).collect();
/// let canary: Vec<f64> = (1..=100).map(|i| if i > 80 { 200.0 } else { f64::from(i) }).collect();
/// let arms: Arms<&[f64]> = Arms { baseline: &baseline, canary: &canary };
/// let config = CountTestConfig::default().alternative(Alternative::Greater);
/// let t = exceedance_test(arms, 0.9, &config)?;
/// assert_eq!(t.canary_above_baseline_threshold, 20); // baseline p90 = 90.1
/// // R: binom.test(20, 100, 0.1, "greater")$p.value
/// assert!((t.binomial.p_value - 0.001_978_560_865_771_242_3).abs() < 1e-12);
/// assert!(t.conditional.p_value < 0.05);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn exceedance_test(arms: Arms<&[f64]>, q: f64, config: &CountTestConfig) -> Result<Exceedance> {
    let CountTestConfig {
        alternative,
        conf_level,
        ..
    } = *config;
    let Arms { baseline, canary } = arms;
    check_sample(Arm::Baseline, baseline)?;
    check_sample(Arm::Canary, canary)?;
    check_level("q", q)?;
    check_level("conf_level", conf_level)?;
    let c = sorted_copy_of_checked(canary, 0);
    let b = sorted_copy_of_checked(baseline, 0);
    exceedance_sorted(&c, &b, q, alternative, conf_level)
}

/// Number of points strictly above `t` in a sorted sample.
pub(crate) fn count_above(sorted: &[f64], t: f64) -> u64 {
    (sorted.len() - sorted.partition_point(|&v| v <= t)) as u64
}

/// The test on sorted, checked, non-empty samples.
pub(crate) fn exceedance_sorted(
    canary: &[f64],
    baseline: &[f64],
    q: f64,
    alternative: Alternative,
    conf_level: f64,
) -> Result<Exceedance> {
    let (m, n) = (canary.len(), baseline.len());
    let baseline_threshold = quantile_sorted(baseline, q, QuantileType::Type7);
    let above_b_t = count_above(canary, baseline_threshold);
    let binomial = binom_test(
        above_b_t,
        m as u64,
        1.0 - q,
        &CountTestConfig::default()
            .alternative(alternative)
            .conf_level(conf_level),
    )?;
    let pooled_threshold = pooled_quantile(canary, baseline, q);
    let canary_above = count_above(canary, pooled_threshold);
    let baseline_above = count_above(baseline, pooled_threshold);
    let conditional = fisher_exact(
        Arms {
            baseline: Proportion::new(baseline_above, n as u64),
            canary: Proportion::new(canary_above, m as u64),
        },
        &CountTestConfig::default()
            .alternative(alternative)
            .conf_level(conf_level),
    )?;
    Ok(Exceedance {
        q,
        baseline_threshold,
        canary_above_baseline_threshold: above_b_t,
        binomial,
        pooled_threshold,
        canary_above,
        baseline_above,
        conditional,
        n_canary: m,
        n_baseline: n,
    })
}

/// The type-7 `q`-quantile of the union of two sorted samples, read from the two order
/// statistics it interpolates (no merged copy).
fn pooled_quantile(a: &[f64], b: &[f64], q: f64) -> f64 {
    let total = a.len() + b.len();
    let index = (total - 1) as f64 * q;
    let lo = index.floor() as usize;
    let x_lo = kth_of_two(a, b, lo);
    if index > lo as f64 && lo + 1 < total {
        let x_hi = kth_of_two(a, b, lo + 1);
        if x_hi != x_lo {
            let h = index - lo as f64;
            return (1.0 - h) * x_lo + h * x_hi;
        }
    }
    x_lo
}

/// The `k`-th smallest (0-based) of the union of two sorted slices, by bisection on how many
/// come from `a`.
pub(crate) fn kth_of_two(a: &[f64], b: &[f64], k: usize) -> f64 {
    // Take i from a and k + 1 - i from b; find the smallest i with a[i] >= b[k - i] or so.
    let need = k + 1;
    let (mut lo, mut hi) = (need.saturating_sub(b.len()), need.min(a.len()));
    while lo < hi {
        let i = (lo + hi) / 2;
        let j = need - i;
        // Too few from a if a[i] < b[j - 1].
        if a[i] < b[j - 1] {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let i = lo;
    let j = need - i;
    let from_a = if i > 0 { a[i - 1] } else { f64::NEG_INFINITY };
    let from_b = if j > 0 { b[j - 1] } else { f64::NEG_INFINITY };
    from_a.max(from_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kth_of_two_matches_a_merge() {
        let a = [1.0, 3.0, 3.0, 7.0, 9.0];
        let b = [2.0, 3.0, 4.0, 10.0];
        let mut all: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
        all.sort_by(f64::total_cmp);
        for (k, v) in all.iter().enumerate() {
            assert_eq!(kth_of_two(&a, &b, k), *v, "k = {k}");
            assert_eq!(kth_of_two(&b, &a, k), *v, "k = {k}");
        }
        assert_eq!(kth_of_two(&[], &b, 2), 4.0);
        assert_eq!(kth_of_two(&a, &[], 3), 7.0);
    }

    #[test]
    fn pooled_quantile_matches_r_type7() {
        let a = [1.0, 5.0, 9.0];
        let b = [2.0, 3.0];
        // R: quantile(c(1, 5, 9, 2, 3), 0.9)  ->  7.4
        assert!((pooled_quantile(&a, &b, 0.9) - 7.4).abs() < 1e-12);
        assert_eq!(count_above(&a, 5.0), 1);
    }
}
