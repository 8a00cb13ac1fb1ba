//! The Hodges-Lehmann estimate of the shift (canary minus baseline) and its distribution-free
//! confidence interval, as R's `wilcox.test(canary, baseline, conf.int = TRUE)`.

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_level, Result};
use crate::stats::dist::norm_quantile;
use crate::stats::hypothesis::{fmt_g, Alternative, ConfidenceInterval, Method, MethodUsed};
use crate::stats::pairwise::PairwiseDifferences;
use crate::stats::rank_sum::{MannWhitneyConfig, TwoSample, EXACT_BELOW};
use crate::stats::rank_sum_null::RankSumNull;
use crate::stats::ranks::within_tie_term;

/// The Hodges-Lehmann shift estimate and its confidence interval (Hodges & Lehmann, *Ann. Math.
/// Statist.* 34, 1963; Bauer, *JASA* 67, 1972).
///
/// With `D_(1) ≤ … ≤ D_(M)` the sorted `M = n·m` differences `canary_i − baseline_j`:
/// - estimate: `median(D)` (the mean of the two middle ones when M is even);
/// - exact interval (no ties): `[D_(q), D_(M−q+1)]` with `q = qwilcox(α/2, n, m)` (at least 1),
///   as R; its achieved level `1 − 2·P(U ≤ q−1)` is reported when it falls short by more than
///   half of α, as R's `conf.level` attribute does;
/// - asymptotic interval: `[D_(k_L), D_(k_U)]`, `k_L = ⌊M/2 − c − z·σ⌋ + 1`,
///   `k_U = ⌊M/2 + c + z·σ⌋ + 1` (clamped to [1, M]), `z = Φ⁻¹(1 − α/2)`, `c` the continuity
///   correction and `σ² = nm/12·[(N+1) − (T_canary + T_baseline)/(N(N−1))]` with the tie terms
///   of each sample alone. These are the ranks R's `uniroot` search converges to (within its
///   tolerance of 1e-4), computed in closed form;
/// - one-sided intervals use α in place of α/2 and keep one end.
///
/// The order statistics are selected in the implicit sorted matrix of differences in
/// O((n + m) log(n + m)) time and O(n + m) memory: the n·m differences are never built.
/// With ties the interval is the asymptotic one even when the p-value is exact (R ≤ 4.5 does the
/// same; its exact interval needs the tie-free distribution).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HodgesLehmann {
    /// The median of the pairwise differences canary − baseline.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub estimate: f64,
    /// The confidence interval for the shift.
    pub interval: ConfidenceInterval,
    /// How the interval's ranks were computed.
    pub method: MethodUsed,
    /// The 1-based ranks of the interval's ends among the M differences (0 for an infinite end).
    pub ranks: (u64, u64),
    /// Baseline sample size.
    pub n_baseline: usize,
    /// Canary sample size.
    pub n_canary: usize,
}

impl fmt::Display for HodgesLehmann {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Hodges-Lehmann shift {} {} ({})",
            fmt_g(self.estimate),
            self.interval,
            self.method
        )
    }
}

impl TwoSample {
    /// The k-th smallest (1-based, clamped to [1, n·m]) pairwise difference canary − baseline,
    /// without building the differences.
    pub fn pairwise_difference(&self, k: u64) -> f64 {
        PairwiseDifferences::new(self.canary(), self.baseline_with_sentinel()).kth(k)
    }

    /// The Hodges-Lehmann estimate of the shift, `median(canary_i − baseline_j)`.
    pub fn hodges_lehmann_estimate(&self) -> f64 {
        let d = PairwiseDifferences::new(self.canary(), self.baseline_with_sentinel());
        median_of_differences(&d, None)
    }

    /// The Hodges-Lehmann estimate and its confidence interval; see [`HodgesLehmann`].
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `conf_level` is not strictly inside (0, 1);
    /// [`crate::Error::ExactTooLarge`] when [`Method::Exact`] is asked for past the caps.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::stats::{MannWhitneyConfig, TwoSample};
    /// use canary_verdict::Arms;
    /// let baseline = [10.0, 11.0, 12.0, 13.0];
    /// let canary = [12.5, 13.5, 14.5, 15.5];
    /// let hl = TwoSample::new(Arms {
    ///     baseline: &baseline,
    ///     canary: &canary,
    /// })?
    /// .hodges_lehmann(&MannWhitneyConfig::default())?;
    /// assert_eq!(hl.estimate, 2.5);
    /// assert!(hl.interval.contains(hl.estimate));
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn hodges_lehmann(&self, config: &MannWhitneyConfig) -> Result<HodgesLehmann> {
        check_level("conf_level", config.conf_level)?;
        let (canary, baseline) = (self.canary(), self.baseline());
        let (n, m) = (canary.len(), baseline.len());
        let d = PairwiseDifferences::new(canary, self.baseline_with_sentinel());
        let total = d.len();
        let alpha = 1.0 - config.conf_level;
        let ties = self.rank_sums().ties;
        let exact = !ties
            && match config.method {
                Method::Auto => n < EXACT_BELOW && m < EXACT_BELOW,
                Method::Exact => true,
                Method::Asymptotic => false,
            };
        let (k_lo, k_hi, level, method) = if exact {
            let null = RankSumNull::no_ties(n, m)?;
            let one_sided = config.alternative != Alternative::TwoSided;
            let tail = if one_sided { alpha } else { alpha / 2.0 };
            let q = null.quantile(tail).unwrap_or(0).max(1);
            let below = null.cdf(2 * (q as i128 - 1));
            let achieved = if one_sided { below } else { 2.0 * below };
            let level = if achieved - alpha > alpha / 2.0 {
                1.0 - achieved
            } else {
                config.conf_level
            };
            (q, total - q + 1, level, MethodUsed::Exact)
        } else {
            let big_n = (n + m) as f64;
            let mn = total as f64;
            // Without pooled ties neither sample has any: skip the two passes.
            let ties = if ties {
                within_tie_term(canary) + within_tie_term(baseline)
            } else {
                0.0
            };
            let sigma = (mn / 12.0 * ((big_n + 1.0) - ties / (big_n * (big_n - 1.0))))
                .max(0.0)
                .sqrt();
            let c = if config.correct { 0.5 } else { 0.0 };
            let z = match config.alternative {
                Alternative::TwoSided => norm_quantile(1.0 - alpha / 2.0),
                _ => norm_quantile(1.0 - alpha),
            };
            let rank = |x: f64| -> u64 { (x.floor() + 1.0).clamp(1.0, mn) as u64 };
            (
                rank(mn / 2.0 - c - z * sigma),
                rank(mn / 2.0 + c + z * sigma),
                config.conf_level,
                MethodUsed::Asymptotic,
            )
        };
        // Select the interval's ends and the median's lower middle rank together.
        let mid = total.div_ceil(2);
        let (lower, upper, ranks, estimate) = match config.alternative {
            Alternative::TwoSided => {
                let v = d.kth_many(&[k_lo, mid, k_hi]);
                let est = median_of_differences(&d, Some(v[1]));
                (v[0].0, v[2].0, (k_lo, k_hi), est)
            }
            Alternative::Greater => {
                let v = d.kth_many(&[k_lo, mid]);
                let est = median_of_differences(&d, Some(v[1]));
                (v[0].0, f64::INFINITY, (k_lo, 0), est)
            }
            Alternative::Less => {
                let v = d.kth_many(&[mid, k_hi]);
                let est = median_of_differences(&d, Some(v[0]));
                (f64::NEG_INFINITY, v[1].0, (0, k_hi), est)
            }
        };
        Ok(HodgesLehmann {
            estimate,
            interval: ConfidenceInterval {
                lower,
                upper,
                level,
            },
            method,
            ranks,
            n_baseline: m,
            n_canary: n,
        })
    }
}

/// The median of the differences: the middle one, or the mean of the two middle ones.
/// `middle` holds the differences of ranks ⌈M/2⌉ and ⌈M/2⌉ + 1 when already selected; a missing
/// second one is found by one walk above the first.
fn median_of_differences(d: &PairwiseDifferences<'_>, middle: Option<(f64, Option<f64>)>) -> f64 {
    let total = d.len();
    let (a, next) = middle.unwrap_or_else(|| d.kth_many(&[total.div_ceil(2)])[0]);
    if total % 2 == 1 {
        return a;
    }
    let b = match next {
        Some(b) => b,
        None if d.count_le(a) > total / 2 => a,
        None => d.next_above(a).unwrap_or(a),
    };
    mean2(a, b)
}

/// (a + b) / 2 rounded once, as R's `median` computes it, without overflow.
fn mean2(a: f64, b: f64) -> f64 {
    let s = a + b;
    if s.is_finite() {
        s / 2.0
    } else {
        a / 2.0 + b / 2.0
    }
}

/// The Hodges-Lehmann estimate and interval on raw samples; sorts them first.
///
/// # Errors
/// As [`TwoSample::new`] and [`TwoSample::hodges_lehmann`].
pub fn hodges_lehmann(arms: Arms<&[f64]>, config: &MannWhitneyConfig) -> Result<HodgesLehmann> {
    TwoSample::new(arms)?.hodges_lehmann(config)
}
