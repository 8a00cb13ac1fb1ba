//! The Wilcoxon-Mann-Whitney rank-sum test of canary against baseline, as R's `wilcox.test`.

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_sample, Arm, Error, Result};
use crate::stats::dist::{norm_cdf, norm_sf};
use crate::stats::hypothesis::{fmt_g, Alternative, Method, MethodUsed};
use crate::stats::rank_sum_null::RankSumNull;
use crate::stats::ranks::{doubled_midrank_scores, rank_sums, RankSums};
use crate::stats::sorted::sorted_copy_of_checked;

/// Samples below this size (both arms) get the exact test under [`Method::Auto`], as in R.
pub const EXACT_BELOW: usize = 50;

/// Two samples, checked and sorted once, ready for every rank statistic.
///
/// Build it once per metric and ask it for the test, the Hodges-Lehmann estimate and the effect
/// sizes: each reuses the sorted data instead of sorting again.
///
/// # Example
/// ```
/// use canary_verdict::stats::{MannWhitneyConfig, TwoSample};
/// use canary_verdict::Arms;
/// let baseline = [10.1, 11.0, 9.8, 10.4, 10.0];
/// let canary = [12.2, 12.9, 11.7, 12.5, 13.0];
/// let pair = TwoSample::new(Arms {
///     baseline: &baseline,
///     canary: &canary,
/// })?;
/// let test = pair.mann_whitney(&MannWhitneyConfig::default())?;
/// assert_eq!(test.statistic, 25.0); // every canary point beats every baseline point
/// assert!((test.p_value - 2.0 / 252.0).abs() < 1e-15);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TwoSample {
    /// Sorted baseline followed by one `+inf` sentinel for the pairwise-difference walks.
    baseline: Vec<f64>,
    canary: Vec<f64>,
    /// Rank sums at μ = 0, shared by the test, the interval and the effect sizes.
    sums: RankSums,
}

impl TwoSample {
    /// Checks both samples (non-empty, finite) and sorts copies of them.
    ///
    /// # Errors
    /// [`Error::EmptySample`] or [`Error::NonFinite`], naming the arm.
    pub fn new(arms: Arms<&[f64]>) -> Result<Self> {
        let Arms { baseline, canary } = arms;
        check_sample(Arm::Baseline, baseline)?;
        check_sample(Arm::Canary, canary)?;
        if baseline.len() >= u32::MAX as usize || canary.len() >= u32::MAX as usize {
            return Err(Error::InvalidParameter {
                field: "sample length",
                value: baseline.len().max(canary.len()) as f64,
                expected: "fewer than 2^32 points per arm",
            });
        }
        // Checked above: sort once each, with room for the baseline's sentinel.
        let mut baseline = sorted_copy_of_checked(baseline, 1);
        let canary = sorted_copy_of_checked(canary, 0);
        baseline.push(f64::INFINITY);
        let sums = rank_sums(&canary, &baseline, 0.0);
        Ok(TwoSample {
            baseline,
            canary,
            sums,
        })
    }

    /// The baseline, sorted ascending.
    pub fn baseline(&self) -> &[f64] {
        &self.baseline[..self.baseline.len() - 1]
    }

    /// The sorted baseline with its trailing `+inf` sentinel.
    pub(crate) fn baseline_with_sentinel(&self) -> &[f64] {
        &self.baseline
    }

    /// Rank sums of the canary against the baseline at μ = 0.
    pub(crate) fn rank_sums(&self) -> RankSums {
        self.sums
    }

    /// Both arms, sorted ascending (baseline, canary), handed back without a copy.
    pub(crate) fn into_sorted(self) -> (Vec<f64>, Vec<f64>) {
        let mut baseline = self.baseline;
        baseline.pop();
        (baseline, self.canary)
    }

    /// The canary, sorted ascending.
    pub fn canary(&self) -> &[f64] {
        &self.canary
    }

    /// The canary's U, `#{canary_i > baseline_j} + ½ #{canary_i = baseline_j}`.
    pub fn u_statistic(&self) -> f64 {
        self.sums.two_u as f64 / 2.0
    }

    /// The Wilcoxon-Mann-Whitney test; see [`MannWhitney`] for the formulas.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite `mu`; [`Error::ExactTooLarge`] when
    /// [`Method::Exact`] is asked for past the caps.
    pub fn mann_whitney(&self, config: &MannWhitneyConfig) -> Result<MannWhitney> {
        // Checked before ranking: a NaN shift would make every comparison false.
        if !config.mu.is_finite() {
            return Err(Error::InvalidParameter {
                field: "mu",
                value: config.mu,
                expected: "a finite number",
            });
        }
        let sums = if config.mu == 0.0 {
            self.sums
        } else {
            rank_sums(&self.canary, &self.baseline, config.mu)
        };
        let (canary, baseline) = (&self.canary, self.baseline());
        mann_whitney_from_sums(canary.len(), baseline.len(), sums, config, || {
            Ok(doubled_midrank_scores(canary, baseline, config.mu))
        })
    }
}

/// Settings of the rank-sum test and of its Hodges-Lehmann estimate and interval, one config for
/// both as R's `wilcox.test` has one call. The default is R's: two-sided, μ = 0, continuity
/// correction on, exact below 50 points per arm, a 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MannWhitneyConfig {
    /// The alternative, for the canary against the baseline.
    pub alternative: Alternative,
    /// The null location shift μ: the test compares `canary − μ` with the baseline.
    pub mu: f64,
    /// Continuity correction of ±0.5 in the normal approximation (R's `correct`).
    pub correct: bool,
    /// Exact or asymptotic p-value, and the same for the interval's order-statistic ranks.
    pub method: Method,
    /// The interval's confidence level, strictly between 0 and 1 (R's `conf.level`); the test
    /// does not read it. The interval is one-sided with the alternative: `Greater` gives
    /// `[lower, +inf)`, `Less` `(-inf, upper]`.
    pub conf_level: f64,
}

impl Default for MannWhitneyConfig {
    fn default() -> Self {
        MannWhitneyConfig {
            alternative: Alternative::TwoSided,
            mu: 0.0,
            correct: true,
            method: Method::Auto,
            conf_level: 0.95,
        }
    }
}

/// The Wilcoxon-Mann-Whitney rank-sum test (Mann & Whitney, *Ann. Math. Statist.* 18, 1947), as
/// R's `wilcox.test(canary, baseline)` and SciPy's `mannwhitneyu(canary, baseline)`.
///
/// - Statistic: `U = Σ_i rank(x_i − μ) − n(n+1)/2 = #{x_i − μ > y_j} + ½ #{x_i − μ = y_j}` with
///   mid-ranks for ties, x the canary (n points) and y the baseline (m points). R calls it W, SciPy
///   U1.
/// - Exact, no ties: P(U ≤ u) from the Gaussian-binomial generating function of U.
/// - Exact with ties: the permutation distribution of U given the tie pattern (Streitberg-Röhmel
///   shift algorithm), as R ≥ 4.6 and `coin::wilcox_test(distribution = "exact")`.
/// - Asymptotic: `z = (U − nm/2 − c) / σ`, `σ² = nm/12 · [(N+1) − Σ(t³−t)/(N(N−1))]` over the
///   pooled tie groups, `c = ±½` toward the centre (two-sided), `+½` (greater), `−½` (less), or
///   0 without correction.
/// - Two-sided p-values double the smaller tail (capped at 1), as R. When every pooled value is
///   tied, σ = 0 and U = nm/2 for every permutation: p = 1 (R returns NaN).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MannWhitney {
    /// U of the canary (R's W, SciPy's U1).
    pub statistic: f64,
    /// U of the baseline, `n·m − statistic`.
    pub u_baseline: f64,
    /// Baseline sample size.
    pub n_baseline: usize,
    /// Canary sample size.
    pub n_canary: usize,
    /// The p-value for the configured alternative.
    pub p_value: f64,
    /// The standardised statistic of the normal approximation (asymptotic method only).
    pub z: Option<f64>,
    /// How the p-value was computed.
    pub method: MethodUsed,
    /// Whether any pooled values were tied.
    pub ties: bool,
    /// The alternative tested.
    pub alternative: Alternative,
    /// The null shift μ.
    pub mu: f64,
}

impl fmt::Display for MannWhitney {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mann-Whitney ({}, {}): U = {}, p = {}, n = {} vs {}",
            self.method,
            self.alternative,
            fmt_g(self.statistic),
            fmt_g(self.p_value),
            self.n_canary,
            self.n_baseline
        )?;
        if let Some(z) = self.z {
            write!(f, ", z = {}", fmt_g(z))?;
        }
        Ok(())
    }
}

/// The rank-sum test on raw samples; sorts them first. See [`MannWhitney`].
///
/// # Errors
/// As [`TwoSample::new`] and [`TwoSample::mann_whitney`].
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::stats::{mann_whitney, Alternative, MannWhitneyConfig};
/// let baseline = [1.0, 2.0, 3.0];
/// let canary = [4.0, 5.0, 6.0, 7.0, 8.0];
/// let cfg = MannWhitneyConfig { alternative: Alternative::Greater, ..Default::default() };
/// let test = mann_whitney(Arms { baseline: &baseline, canary: &canary }, &cfg)?;
/// assert!((test.p_value - 1.0 / 56.0).abs() < 1e-15); // R: wilcox.test(canary, baseline, "greater")
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn mann_whitney(arms: Arms<&[f64]>, config: &MannWhitneyConfig) -> Result<MannWhitney> {
    TwoSample::new(arms)?.mann_whitney(config)
}

/// The test from the rank sums of `n` canary and `m` baseline points; `scores` gives the pooled
/// doubled mid-rank scores when the exact conditional distribution needs them. Shared by raw
/// samples and histograms (whose buckets are the tie groups).
pub(crate) fn mann_whitney_from_sums(
    n: usize,
    m: usize,
    sums: RankSums,
    config: &MannWhitneyConfig,
    scores: impl FnOnce() -> Result<Vec<u64>>,
) -> Result<MannWhitney> {
    let mn = n as f64 * m as f64;
    let statistic = sums.two_u as f64 / 2.0;
    let exact = match config.method {
        Method::Auto => n < EXACT_BELOW && m < EXACT_BELOW,
        Method::Exact => true,
        Method::Asymptotic => false,
    };
    let mut z = None;
    let (p_value, method) = if exact {
        let (null, used) = if sums.ties {
            (
                RankSumNull::conditional(&scores()?, n)?,
                MethodUsed::ExactConditional,
            )
        } else {
            (RankSumNull::no_ties(n, m)?, MethodUsed::Exact)
        };
        let two_u = sums.two_u as i128;
        let p = match config.alternative {
            Alternative::Less => null.cdf(two_u),
            Alternative::Greater => null.sf(two_u),
            Alternative::TwoSided => {
                // At the centre a conditional null (ties) need not be symmetric: the smaller
                // tail there, so that swapping the arms gives the same p-value.
                let tail = if statistic > mn / 2.0 {
                    null.sf(two_u)
                } else if statistic < mn / 2.0 {
                    null.cdf(two_u)
                } else {
                    null.cdf(two_u).min(null.sf(two_u))
                };
                (2.0 * tail).min(1.0)
            }
        };
        (p, used)
    } else {
        let (p, zz) = asymptotic_p(n, m, statistic, sums.tie_term, config);
        z = zz;
        (p, MethodUsed::Asymptotic)
    };
    Ok(MannWhitney {
        statistic,
        u_baseline: mn - statistic,
        n_baseline: m,
        n_canary: n,
        p_value,
        z,
        method,
        ties: sums.ties,
        alternative: config.alternative,
        mu: config.mu,
    })
}

/// The normal approximation's p-value and `z` for the canary's `U = statistic` (n canary, m
/// baseline points, `tie_term = Σ(t³−t)` over the pooled tie groups); see [`MannWhitney`].
/// Shared by the test on samples and the grouped test on histograms, so both give the same bits.
pub(crate) fn asymptotic_p(
    n: usize,
    m: usize,
    statistic: f64,
    tie_term: f64,
    config: &MannWhitneyConfig,
) -> (f64, Option<f64>) {
    let mn = n as f64 * m as f64;
    let big_n = (n + m) as f64;
    let var = mn / 12.0 * ((big_n + 1.0) - tie_term / (big_n * (big_n - 1.0)));
    let dz = statistic - mn / 2.0;
    if var > 0.0 {
        let zz = (dz - continuity(config.correct, config.alternative, dz)) / var.sqrt();
        (normal_p(zz, config.alternative), Some(zz))
    } else {
        // Every pooled value tied: U = nm/2 under every permutation.
        (1.0, None)
    }
}

/// R's continuity correction of a normal approximation, for `dz` the statistic's distance from
/// its null mean: `±½` toward the centre (two-sided), `+½` (greater), `−½` (less), 0 without.
pub(crate) fn continuity(correct: bool, alternative: Alternative, dz: f64) -> f64 {
    if !correct {
        return 0.0;
    }
    match alternative {
        Alternative::TwoSided => 0.5 * sign(dz),
        Alternative::Greater => 0.5,
        Alternative::Less => -0.5,
    }
}

/// The normal p-value of `z` for the alternative; two-sided doubles the smaller tail (capped
/// at 1).
pub(crate) fn normal_p(z: f64, alternative: Alternative) -> f64 {
    match alternative {
        Alternative::Less => norm_cdf(z),
        Alternative::Greater => norm_sf(z),
        Alternative::TwoSided => (2.0 * norm_cdf(-z.abs())).min(1.0),
    }
}

/// R's `sign`: −1, 0 or 1.
pub(crate) fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}
