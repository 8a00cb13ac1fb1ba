//! The Wilcoxon signed-rank test on paired differences (canary − baseline at the same timestamp)
//! and the Hodges-Lehmann pseudo-median with its interval, as R's
//! `wilcox.test(canary, baseline, paired = TRUE, conf.int = TRUE)`.
//!
//! Pairing matters for canaries: both arms run at the same time and share load drift, which an
//! unpaired rank test on per-minute points mistakes for a difference between the arms.

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_finite, check_level, Arm, Error, Result};
use crate::stats::dist::norm_quantile;
use crate::stats::hypothesis::{fmt_g, Alternative, ConfidenceInterval, Method, MethodUsed};
use crate::stats::pairwise::PairwiseDifferences;
use crate::stats::rank_sum::{continuity, normal_p, sign, EXACT_BELOW};
use crate::stats::rank_sum_null::CONDITIONAL_MAX_WORK;
use crate::stats::ranks::within_tie_term;
use crate::stats::sorted::sort_finite;

/// Paired samples: the per-pair differences `canary_i − baseline_i`, checked and sorted once.
///
/// # Example
/// ```
/// use canary_verdict::stats::{PairedSample, SignedRankConfig};
/// use canary_verdict::Arms;
/// let baseline = [10.0, 12.0, 11.0, 13.0, 12.5, 11.5];
/// let canary = [11.0, 13.5, 11.7, 14.2, 13.9, 12.0];
/// let paired = PairedSample::new(Arms {
///     baseline: &baseline,
///     canary: &canary,
/// })?;
/// let test = paired.signed_rank(&SignedRankConfig::default())?;
/// assert_eq!(test.statistic, 21.0); // every difference positive: V = 1 + ... + 6
/// assert!((test.p_value - 2.0 / 64.0).abs() < 1e-15);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PairedSample {
    /// The differences canary − baseline, sorted ascending.
    differences: Vec<f64>,
}

impl PairedSample {
    /// Pairs the two arms point by point (same length, same order: usually one point per
    /// timestamp) and keeps the differences `canary_i − baseline_i`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the arms differ in length, [`Error::EmptySample`] when
    /// they are empty, [`Error::NonFinite`] naming the arm of the first bad value.
    pub fn new(arms: Arms<&[f64]>) -> Result<Self> {
        let Arms { baseline, canary } = arms;
        if baseline.len() != canary.len() {
            return Err(Error::LengthMismatch {
                n_baseline: baseline.len(),
                n_canary: canary.len(),
            });
        }
        if baseline.is_empty() {
            return Err(Error::EmptySample { arm: Arm::Baseline });
        }
        check_finite(Arm::Baseline, baseline)?;
        check_finite(Arm::Canary, canary)?;
        let differences: Vec<f64> = canary.iter().zip(baseline).map(|(c, b)| c - b).collect();
        Self::from_differences(&differences)
    }

    /// Works on differences already formed (canary − baseline).
    ///
    /// # Errors
    /// [`Error::EmptySample`] or [`Error::NonFinite`] (reported for the canary arm).
    pub fn from_differences(differences: &[f64]) -> Result<Self> {
        if differences.is_empty() {
            return Err(Error::EmptySample { arm: Arm::Canary });
        }
        check_finite(Arm::Canary, differences)?;
        let mut d = differences.to_vec();
        sort_finite(&mut d);
        Ok(PairedSample { differences: d })
    }

    /// The differences canary − baseline, sorted ascending.
    pub fn differences(&self) -> &[f64] {
        &self.differences
    }

    /// The differences minus `mu`, without those equal to `mu` (R ≤ 4.5 and Wilcoxon's original
    /// test drop zero differences), sorted.
    fn shifted_nonzero(&self, mu: f64) -> Vec<f64> {
        self.differences
            .iter()
            .map(|&d| d - mu)
            .filter(|&d| d != 0.0)
            .collect()
    }

    /// The Wilcoxon signed-rank test; see [`SignedRank`].
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite `mu`; [`Error::ExactTooLarge`] when
    /// [`Method::Exact`] is asked for past the cap.
    pub fn signed_rank(&self, config: &SignedRankConfig) -> Result<SignedRank> {
        if !config.mu.is_finite() {
            return Err(Error::InvalidParameter {
                field: "mu",
                value: config.mu,
                expected: "a finite number",
            });
        }
        let x = self.shifted_nonzero(config.mu);
        let zeros = self.differences.len() - x.len();
        let n = x.len();
        let base = SignedRank {
            statistic: 0.0,
            n_pairs: self.differences.len(),
            n_nonzero: n,
            p_value: 1.0,
            z: None,
            method: MethodUsed::Exact,
            ties: false,
            zeros,
            alternative: config.alternative,
            mu: config.mu,
        };
        if n == 0 {
            // Every difference equals mu: no evidence either way (R returns NaN).
            return Ok(base);
        }
        let scores = doubled_abs_midranks(&x);
        let two_v: u64 = x
            .iter()
            .zip(&scores)
            .filter(|(v, _)| **v > 0.0)
            .map(|(_, s)| s)
            .sum();
        let statistic = two_v as f64 / 2.0;
        let ties = has_ties(&scores);
        let center = n as f64 * (n as f64 + 1.0) / 4.0;
        let exact = match config.method {
            Method::Auto => n < EXACT_BELOW,
            Method::Exact => true,
            Method::Asymptotic => false,
        };
        if exact {
            let null = SignedRankNull::new(&scores)?;
            let p = match config.alternative {
                Alternative::Less => null.cdf(two_v),
                Alternative::Greater => null.sf(two_v),
                Alternative::TwoSided => {
                    let tail = if statistic > center {
                        null.sf(two_v)
                    } else {
                        null.cdf(two_v)
                    };
                    (2.0 * tail).min(1.0)
                }
            };
            let method = if ties {
                MethodUsed::ExactConditional
            } else {
                MethodUsed::Exact
            };
            return Ok(SignedRank {
                statistic,
                p_value: p,
                method,
                ties,
                ..base
            });
        }
        let nf = n as f64;
        let tie_term = tie_term_of_scores(&scores);
        let sigma = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0).sqrt();
        let dz = statistic - center;
        let z = (dz - continuity(config.correct, config.alternative, dz)) / sigma;
        let p = normal_p(z, config.alternative);
        Ok(SignedRank {
            statistic,
            p_value: p,
            z: Some(z),
            method: MethodUsed::Asymptotic,
            ties,
            ..base
        })
    }

    /// The Hodges-Lehmann pseudo-median of the differences (the median of the Walsh averages
    /// `(d_i + d_j)/2`, i ≤ j) and its confidence interval; see [`PairedShift`].
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a level outside (0, 1) or a non-finite `mu`;
    /// [`Error::Degenerate`] when every difference equals `mu`; [`Error::ExactTooLarge`] past
    /// the cap of [`Method::Exact`].
    pub fn hodges_lehmann(&self, config: &SignedRankConfig) -> Result<PairedShift> {
        check_level("conf_level", config.conf_level)?;
        if !config.mu.is_finite() {
            return Err(Error::InvalidParameter {
                field: "mu",
                value: config.mu,
                expected: "a finite number",
            });
        }
        // As R ≤ 4.5: the interval is built on the differences other than those equal to mu.
        let x: Vec<f64> = self
            .differences
            .iter()
            .copied()
            .filter(|&d| d - config.mu != 0.0)
            .collect();
        let n = x.len();
        if n == 0 {
            return Err(Error::Degenerate {
                what: "paired Hodges-Lehmann interval",
                reason: "every difference equals mu",
            });
        }
        let mut negated: Vec<f64> = x.iter().rev().map(|v| -v).collect();
        negated.push(f64::INFINITY);
        let sums = PairwiseDifferences::walsh_sums(&x, &negated);
        let total = sums.len();
        let alpha = 1.0 - config.conf_level;
        let shifted: Vec<f64> = x.iter().map(|&d| d - config.mu).collect();
        let scores = doubled_abs_midranks(&shifted);
        let ties = has_ties(&scores);
        let zeros = n != self.differences.len();
        let exact = !ties
            && !zeros
            && match config.method {
                Method::Auto => n < EXACT_BELOW,
                Method::Exact => true,
                Method::Asymptotic => false,
            };
        let one_sided = config.alternative != Alternative::TwoSided;
        let (k_lo, k_hi, level, method) = if exact {
            let null = SignedRankNull::new(&scores)?;
            let tail = if one_sided { alpha } else { alpha / 2.0 };
            let q = null.quantile(tail).max(1);
            let below = null.cdf(2 * (q - 1));
            let achieved = if one_sided { below } else { 2.0 * below };
            let level = if achieved - alpha > alpha / 2.0 {
                1.0 - signif2(achieved)
            } else {
                config.conf_level
            };
            (q, total - q + 1, level, MethodUsed::Exact)
        } else {
            let ends = asymptotic_ranks(&x, config, total);
            let Some(ends) = ends else {
                // Every difference equal: a point interval (R returns NaN).
                let v = x[0];
                return Ok(PairedShift {
                    estimate: v,
                    interval: ConfidenceInterval {
                        lower: v,
                        upper: v,
                        level: config.conf_level,
                    },
                    method: MethodUsed::Asymptotic,
                    n_nonzero: n,
                });
            };
            match ends {
                AsymptoticEnds::Ranks(lo, hi, level) => (lo, hi, level, MethodUsed::Asymptotic),
                AsymptoticEnds::Median(level) => {
                    let median = crate::stats::quantile::quantile_sorted(
                        &x,
                        0.5,
                        crate::stats::quantile::QuantileType::Type7,
                    );
                    let walsh_mid = sums.kth_many(&[total.div_ceil(2)])[0];
                    let estimate = walsh_median(&sums, total, walsh_mid);
                    let (lower, upper) = match config.alternative {
                        Alternative::TwoSided => (median, median),
                        Alternative::Greater => (median, f64::INFINITY),
                        Alternative::Less => (f64::NEG_INFINITY, median),
                    };
                    return Ok(PairedShift {
                        estimate,
                        interval: ConfidenceInterval {
                            lower,
                            upper,
                            level,
                        },
                        method: MethodUsed::Asymptotic,
                        n_nonzero: n,
                    });
                }
            }
        };
        let mid = total.div_ceil(2);
        let picked = sums.kth_many(&[k_lo, mid, k_hi]);
        let half = |v: f64| v / 2.0;
        let estimate = walsh_median(&sums, total, picked[1]);
        let (lower, upper) = match config.alternative {
            Alternative::TwoSided => (half(picked[0].0), half(picked[2].0)),
            Alternative::Greater => (half(picked[0].0), f64::INFINITY),
            Alternative::Less => (f64::NEG_INFINITY, half(picked[2].0)),
        };
        Ok(PairedShift {
            estimate,
            interval: ConfidenceInterval {
                lower,
                upper,
                level,
            },
            method,
            n_nonzero: n,
        })
    }
}

/// The median of the Walsh averages from the sum of rank ⌈M/2⌉ (and the next one, if known):
/// R's `median(sort(sums) / 2)`.
fn walsh_median(sums: &PairwiseDifferences<'_>, total: u64, middle: (f64, Option<f64>)) -> f64 {
    let (a, next) = middle;
    if total % 2 == 1 {
        return a / 2.0;
    }
    let b = next.unwrap_or_else(|| sums.next_above(a).unwrap_or(a));
    (a / 2.0 + b / 2.0) / 2.0
}

/// R's `signif(x, 2)`, used for the achieved level of the exact one-sample interval.
fn signif2(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = x.abs().log10().floor() as i32 - 1;
    let scale = 10f64.powi(-e);
    (x * scale).round_ties_even() / scale
}

/// The order-statistic ranks of R's asymptotic one-sample interval, in closed form, with R's
/// widening of α when the requested level cannot be reached; `None` when every value is equal.
fn asymptotic_ranks(x: &[f64], config: &SignedRankConfig, total: u64) -> Option<AsymptoticEnds> {
    let n = x.len() as f64;
    let c = if config.correct { 0.5 } else { 0.0 };
    let correction = |zd: f64| -> f64 {
        if !config.correct {
            return 0.0;
        }
        match config.alternative {
            Alternative::TwoSided => 0.5 * sign(zd),
            Alternative::Greater => 0.5,
            Alternative::Less => -0.5,
        }
    };
    // R's W(d) at the ends of its search range: at d = min(x) the lowest group drops out and
    // every other difference is positive; at d = max(x) the highest drops out and the rest are
    // negative.
    let w_at = |rest: &[f64], positive: bool| -> Option<f64> {
        let k = rest.len() as f64;
        if rest.is_empty() {
            return None;
        }
        let sd = (k * (k + 1.0) * (2.0 * k + 1.0) / 24.0 - within_tie_term(rest) / 48.0).sqrt();
        let zd = if positive { 1.0 } else { -1.0 } * k * (k + 1.0) / 4.0;
        Some((zd - correction(zd)) / sd)
    };
    let low = count_equal(x, x[0]);
    let high = count_equal(x, x[x.len() - 1]);
    let w_min = w_at(&x[low..], true)?;
    let w_max = w_at(&x[..x.len() - high], false)?;
    let mut alpha = 1.0 - config.conf_level;
    loop {
        let reachable = match config.alternative {
            Alternative::TwoSided => {
                w_min - norm_quantile(1.0 - alpha / 2.0) >= 0.0
                    && w_max - norm_quantile(alpha / 2.0) <= 0.0
            }
            Alternative::Greater => w_min - norm_quantile(1.0 - alpha) >= 0.0,
            // R's loop for "less" compares with qnorm(alpha/2); kept for identical intervals.
            Alternative::Less => w_max - norm_quantile(alpha / 2.0) <= 0.0,
        };
        if reachable || alpha >= 1.0 {
            break;
        }
        alpha *= 2.0;
    }
    let mut level = config.conf_level;
    if alpha >= 1.0 || 1.0 - config.conf_level < alpha * 0.75 {
        level = 1.0 - alpha.min(1.0);
    }
    let m = total as f64;
    if alpha >= 1.0 {
        // R gives the median of the differences themselves as the finite end(s).
        return Some(AsymptoticEnds::Median(level));
    }
    let tie = within_tie_term(x);
    let sigma = (n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - tie / 48.0)
        .max(0.0)
        .sqrt();
    let z = match config.alternative {
        Alternative::TwoSided => norm_quantile(1.0 - alpha / 2.0),
        _ => norm_quantile(1.0 - alpha),
    };
    let rank = |v: f64| -> u64 { (v.floor() + 1.0).clamp(1.0, m) as u64 };
    Some(AsymptoticEnds::Ranks(
        rank(m / 2.0 - c - z * sigma),
        rank(m / 2.0 + c + z * sigma),
        level,
    ))
}

/// The asymptotic interval's ends: ranks among the Walsh averages, or, when no level can be
/// reached, the median of the differences (as R).
enum AsymptoticEnds {
    Ranks(u64, u64, f64),
    Median(f64),
}

/// Number of values equal to `v` in a sorted slice.
fn count_equal(x: &[f64], v: f64) -> usize {
    x.iter().filter(|&&t| t == v).count()
}

/// Doubled mid-ranks of |x| (integers), in the order of `x`.
fn doubled_abs_midranks(x: &[f64]) -> Vec<u64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].abs().total_cmp(&x[b].abs()));
    let mut scores = vec![0u64; x.len()];
    let mut start = 0;
    while start < order.len() {
        let v = x[order[start]].abs();
        let mut end = start + 1;
        while end < order.len() && x[order[end]].abs() == v {
            end += 1;
        }
        // Ranks start+1 ..= end share the mid-rank (start + 1 + end) / 2.
        let doubled = (start + 1 + end) as u64;
        for &idx in &order[start..end] {
            scores[idx] = doubled;
        }
        start = end;
    }
    scores
}

fn has_ties(scores: &[u64]) -> bool {
    let mut s = scores.to_vec();
    s.sort_unstable();
    s.windows(2).any(|w| w[0] == w[1])
}

/// Σ (t³ − t) over the groups of equal scores.
fn tie_term_of_scores(scores: &[u64]) -> f64 {
    let mut s = scores.to_vec();
    s.sort_unstable();
    let mut term = 0.0;
    let mut start = 0;
    for i in 1..=s.len() {
        if i == s.len() || s[i] != s[start] {
            let t = (i - start) as f64;
            term += t * t * t - t;
            start = i;
        }
    }
    term
}

/// The permutation distribution of 2V: each doubled score counts toward the sum with
/// probability ½, independently (the signs are exchangeable under the null). Counted by
/// subset-sum dynamic programming in O(n·S); without ties it is R's `psignrank`.
struct SignedRankNull {
    counts: Vec<f64>,
    total: f64,
}

impl SignedRankNull {
    fn new(scores: &[u64]) -> Result<Self> {
        let sum: u64 = scores.iter().sum();
        let work = (scores.len() as u64).saturating_mul(sum + 1);
        if work > CONDITIONAL_MAX_WORK {
            return Err(Error::ExactTooLarge {
                what: "signed-rank distribution",
                n_baseline: scores.len(),
                n_canary: scores.len(),
                cap: "pairs × score range at most 2.5e8 (about 600 pairs)",
            });
        }
        let mut counts = vec![0.0f64; sum as usize + 1];
        counts[0] = 1.0;
        let mut reach = 0usize;
        for &s in scores {
            let s = s as usize;
            reach += s;
            for v in (s..=reach).rev() {
                counts[v] += counts[v - s];
            }
        }
        let total = counts.iter().sum();
        Ok(SignedRankNull { counts, total })
    }

    /// P(2V ≤ t).
    fn cdf(&self, t: u64) -> f64 {
        let hi = (t as usize).min(self.counts.len() - 1);
        self.counts[..=hi].iter().sum::<f64>() / self.total
    }

    /// P(2V ≥ t).
    fn sf(&self, t: u64) -> f64 {
        if t as usize >= self.counts.len() {
            return 0.0;
        }
        self.counts[t as usize..].iter().sum::<f64>() / self.total
    }

    /// R's `qsignrank(p, n)` (no ties: 2V is even): the smallest q with P(V ≤ q) ≥ p, with R's
    /// fuzz of 10·ε and its summation order.
    fn quantile(&self, p: f64) -> u64 {
        let top = (self.counts.len() - 1) / 2;
        let mut acc = 0.0;
        if p <= 0.5 {
            let x = p - 10.0 * f64::EPSILON;
            for q in 0..=top {
                acc += self.counts[2 * q] / self.total;
                if acc >= x {
                    return q as u64;
                }
            }
            top as u64
        } else {
            let x = 1.0 - p + 10.0 * f64::EPSILON;
            for q in 0..=top {
                acc += self.counts[2 * q] / self.total;
                if acc > x {
                    return (top - q) as u64;
                }
            }
            0
        }
    }
}

/// Settings of the signed-rank test and of its paired Hodges-Lehmann estimate and interval, one
/// config for both as R's `wilcox.test(paired = TRUE)` has one call; the default is R's
/// (two-sided, μ = 0, continuity correction, exact below 50 non-zero differences, a 95% interval).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct SignedRankConfig {
    /// The alternative, for the canary against the baseline.
    pub alternative: Alternative,
    /// The null shift μ of the differences; differences equal to it are left out, by the test
    /// and by the interval, as R does.
    pub mu: f64,
    /// Continuity correction of ±0.5 in the normal approximation (and in the interval's
    /// asymptotic ranks).
    pub correct: bool,
    /// Exact or asymptotic p-value, and the same for the interval's ranks.
    pub method: Method,
    /// The interval's confidence level, strictly between 0 and 1; the test does not read it.
    pub conf_level: f64,
}

impl Default for SignedRankConfig {
    fn default() -> Self {
        SignedRankConfig {
            alternative: Alternative::TwoSided,
            mu: 0.0,
            correct: true,
            method: Method::Auto,
            conf_level: 0.95,
        }
    }
}

/// The Wilcoxon signed-rank test (Wilcoxon, *Biometrics Bulletin* 1, 1945), as R's
/// `wilcox.test(canary, baseline, paired = TRUE)`.
///
/// - Differences `d_i = canary_i − baseline_i − μ`; those equal to zero are dropped (R ≤ 4.5).
/// - Statistic `V = Σ_{d_i > 0} rank(|d_i|)`, mid-ranks for ties.
/// - Exact: the distribution of V over the 2^n sign patterns, by subset-sum counting (R's
///   `psignrank` without ties; conditional on the tied ranks with ties, as R ≥ 4.6).
/// - Asymptotic: `z = (V − n(n+1)/4 − c) / σ`, `σ² = n(n+1)(2n+1)/24 − Σ(t³ − t)/48`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SignedRank {
    /// V, the sum of the ranks of the positive differences.
    pub statistic: f64,
    /// Number of pairs.
    pub n_pairs: usize,
    /// Number of differences other than μ (the n of the test).
    pub n_nonzero: usize,
    /// The p-value (1 when every difference equals μ; R returns NaN).
    pub p_value: f64,
    /// The standardised statistic (asymptotic method only).
    pub z: Option<f64>,
    /// How the p-value was computed.
    pub method: MethodUsed,
    /// Whether any |differences| were tied.
    pub ties: bool,
    /// How many differences equalled μ and were dropped.
    pub zeros: usize,
    /// The alternative tested.
    pub alternative: Alternative,
    /// The null shift μ.
    pub mu: f64,
}

impl fmt::Display for SignedRank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "signed-rank ({}, {}): V = {}, p = {}, n = {} pairs ({} zero)",
            self.method,
            self.alternative,
            fmt_g(self.statistic),
            fmt_g(self.p_value),
            self.n_pairs,
            self.zeros
        )?;
        if let Some(z) = self.z {
            write!(f, ", z = {}", fmt_g(z))?;
        }
        Ok(())
    }
}

/// The Hodges-Lehmann estimate of the paired shift, the median of the Walsh averages
/// `(d_i + d_j)/2`, i ≤ j, and its interval `[A_(k_L), A_(k_U)]` at order-statistic ranks:
/// `qsignrank(α/2, n)` in the exact case, and in the asymptotic case
/// `k_L = ⌊M/2 − c − zσ⌋ + 1`, `k_U = ⌊M/2 + c + zσ⌋ + 1` with M = n(n+1)/2 and σ the signed-rank
/// standard deviation with the ties among the differences (the ranks R's `uniroot` converges to,
/// within its 1e-4 tolerance). The Walsh averages are selected in place: O(n) memory.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PairedShift {
    /// The pseudo-median of the differences.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub estimate: f64,
    /// Its confidence interval.
    pub interval: ConfidenceInterval,
    /// How the interval's ranks were computed.
    pub method: MethodUsed,
    /// Number of differences used (those other than μ).
    pub n_nonzero: usize,
}

impl fmt::Display for PairedShift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "paired shift {} {} ({})",
            fmt_g(self.estimate),
            self.interval,
            self.method
        )
    }
}
