//! Serial correlation of per-interval points: how much it inflates the variance of the rank
//! statistics, and the corrected p-value and interval.
//!
//! Minute aggregates of a live service are serially correlated: a slow minute is followed by
//! another. The rank tests assume independent points, so with positive correlation their
//! p-values and intervals are far too small (at a lag-one correlation of 0.8 the effective
//! sample size is about a ninth of the count). The correction here works on the rank scores in
//! time order, the quantity whose variance the test uses:
//!
//! - The variance-inflation factor of a stationary series' mean is `f = 1 + 2 Σ_k ρ_k`. For an
//!   AR(1) process it is `(1 + φ)/(1 − φ)` (Box, Jenkins & Reinsel, *Time Series Analysis*,
//!   §2.1.5; Bayley & Hammersley, JRSS-B 8, 1946). `φ` is estimated by the centred lag-one
//!   autocorrelation with Kendall's bias correction `φ̂ + (1 + 3φ̂)/n` (Kendall, *Biometrika*
//!   41, 1954). As a floor for series that are not AR(1), `f` is at least the truncated sum
//!   `1 + 2 Σ_{k=1}^{L} (1 − k/n) ρ̂_k`, stopped at the first non-positive `ρ̂_k`, with
//!   `L = ⌈n^{1/3}⌉` (the initial-positive-sequence idea of Geyer, *Statistical Science* 7,
//!   1992). `f` is never taken below 1: negative correlation only makes the plain test
//!   conservative.
//! - The standardised statistic is divided by `√f` and referred to Student's t on the effective
//!   degrees of freedom `n/f − 1` (Welch-Satterthwaite across the two arms of an unpaired
//!   comparison), as for a mean of correlated data (Zwiers & von Storch, *J. Climate* 8, 1995).
//! - Confidence intervals are widened by the same factor: their half-widths are multiplied by
//!   `√f · t_{df}(1 − a/2) / z(1 − a/2)`.
//!
//! With no detectable correlation (`f = 1`) nothing changes: the p-values and intervals are
//! those of R's `wilcox.test`. The corrected p-value is never smaller than the uncorrected one.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::dist::{norm_quantile, norm_sf};
use crate::stats::hypothesis::{Alternative, ConfidenceInterval};

/// The largest lag-one autocorrelation taken at face value: `f` stays at or below 19. Beyond
/// it a window of per-minute points holds only a handful of independent ones, and the estimate
/// of `φ` itself is too noisy to act on (its standard error at 60 points is about 0.06).
const MAX_PHI: f64 = 0.9;

/// Fewer points than this give no usable autocorrelation estimate (the lag-one coefficient's
/// standard error is about 0.25 at 16 points); the series is taken as independent. Such a
/// window's exact test cannot reach small p-values anyway (10 pairs: at best 2^-10), and the
/// sufficiency rule judges whether it could tell.
const MIN_POINTS: usize = 16;

/// How serial correlation changes a comparison: the variance-inflation factor and the
/// effective degrees of freedom of its statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Dependence {
    /// Variance-inflation factor `f >= 1` of the rank statistic (1: independent).
    pub inflation: f64,
    /// Effective number of independent points (`n / f`, summed over the arms when unpaired).
    pub effective_n: f64,
    /// Degrees of freedom of the t reference (infinite: the normal reference).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub df: f64,
}

impl Dependence {
    /// No correction.
    pub(crate) fn none(n: f64) -> Dependence {
        Dependence {
            inflation: 1.0,
            effective_n: n,
            df: f64::INFINITY,
        }
    }

    /// Whether the correction changes anything.
    pub(crate) fn is_active(&self) -> bool {
        self.inflation > 1.0
    }

    /// The corrected p-value for a statistic standardised under independence (`z0`), never
    /// below the uncorrected `p`.
    pub(crate) fn p_value(&self, p: f64, z0: f64, alternative: Alternative) -> f64 {
        if !self.is_active() || !z0.is_finite() {
            return p;
        }
        let t = z0 / self.inflation.sqrt();
        let corrected = match alternative {
            Alternative::Greater => t_sf(t, self.df),
            Alternative::Less => t_sf(-t, self.df),
            Alternative::TwoSided => (2.0 * t_sf(t.abs(), self.df)).min(1.0),
        };
        corrected.max(p)
    }

    /// The factor a two-sided interval's half-widths are multiplied by.
    pub(crate) fn widening(&self, level: f64) -> f64 {
        if !self.is_active() {
            return 1.0;
        }
        let q = 0.5 + level / 2.0;
        let z = norm_quantile(q);
        let t = t_quantile(q, self.df);
        if !(z.is_finite() && t.is_finite() && z > 0.0) {
            return self.inflation.sqrt();
        }
        self.inflation.sqrt() * t / z
    }

    /// The reference quantile at probability `q`: Student's t on the effective degrees of
    /// freedom when the correction is active, else the normal one.
    pub(crate) fn quantile(&self, q: f64) -> f64 {
        if self.is_active() {
            t_quantile(q, self.df)
        } else {
            norm_quantile(q)
        }
    }

    /// `interval` widened about `estimate` by [`widening`](Self::widening).
    pub(crate) fn widen(&self, estimate: f64, interval: ConfidenceInterval) -> ConfidenceInterval {
        let g = self.widening(interval.level);
        if g == 1.0 {
            return interval;
        }
        ConfidenceInterval {
            lower: estimate - (estimate - interval.lower) * g,
            upper: estimate + (interval.upper - estimate) * g,
            level: interval.level,
        }
    }
}

/// Student's t upper tail, guarded: the normal tail for huge or invalid degrees of freedom.
fn t_sf(t: f64, df: f64) -> f64 {
    if !(df.is_finite() && df > 0.0) || df > 1e7 {
        return norm_sf(t);
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => d.sf(t),
        Err(_) => norm_sf(t),
    }
}

/// Student's t quantile for `p` strictly inside (0, 1), guarded like [`t_sf`].
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    if !(df.is_finite() && df > 0.0) || df > 1e7 || !(p > 0.0 && p < 1.0) {
        return norm_quantile(p);
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => d.inverse_cdf(p),
        Err(_) => norm_quantile(p),
    }
}

/// The variance-inflation factor of the mean of a series in time order (see the module doc).
pub(crate) fn inflation(series: &[f64]) -> f64 {
    let n = series.len();
    if n < MIN_POINTS {
        return 1.0;
    }
    let nf = n as f64;
    let mean = series.iter().sum::<f64>() / nf;
    let gamma = |k: usize| -> f64 {
        series
            .iter()
            .zip(&series[k..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f64>()
            / nf
    };
    let g0 = gamma(0);
    if !(g0 > 0.0 && g0.is_finite()) {
        return 1.0;
    }
    let rho1 = gamma(1) / g0;
    let phi = (rho1 + (1.0 + 3.0 * rho1) / nf).clamp(0.0, MAX_PHI);
    let ar1 = (1.0 + phi) / (1.0 - phi);
    let lags = (nf.cbrt().ceil() as usize).min(n - 1);
    let mut sum = 0.0;
    for k in 1..=lags {
        let rho = gamma(k) / g0;
        if rho <= 0.0 {
            break;
        }
        sum += (1.0 - k as f64 / nf) * rho;
    }
    let truncated = 1.0 + 2.0 * sum;
    let f = ar1.max(truncated);
    if f.is_finite() {
        f.max(1.0)
    } else {
        1.0
    }
}

/// Signed-rank scores of `values` (mid-ranks of `|v|`, signed; zeros scored 0), in order.
fn signed_rank_scores(values: &[f64]) -> Vec<f64> {
    let magnitudes: Vec<f64> = values.iter().map(|d| d.abs()).collect();
    let ranks = mid_ranks(&magnitudes);
    values
        .iter()
        .zip(&ranks)
        .map(|(d, r)| if *d == 0.0 { 0.0 } else { d.signum() * r })
        .collect()
}

/// Paired arms in time order: the inflation of the signed-rank statistic, and the statistic
/// standardised under independence, `z0 = Σ s_t / √(Σ s_t²)` with `s_t` the signed-rank scores
/// of `canary_t − baseline_t − mu`.
///
/// The inflation is estimated on residuals that carry no shift: the per-timestamp log ratios
/// `ln(canary_t / baseline_t)` when every pair has one sign (a load that scales both arms, and a
/// change that scales the canary, both cancel in them), else the differences, each centred at
/// its median, then scored by signed ranks. Estimating it on the raw scores would read a
/// change that scales with a drifting load as serial correlation and hide it.
pub(crate) fn paired(baseline: &[f64], canary: &[f64], mu: f64) -> (Dependence, f64) {
    let n = baseline.len().min(canary.len()) as f64;
    if baseline.len().min(canary.len()) < MIN_POINTS {
        return (Dependence::none(n), f64::NAN);
    }
    // Log ratios where every pair has one sign (so negative-valued metrics mirror positive
    // ones exactly), differences otherwise.
    let ratios = baseline
        .iter()
        .zip(canary)
        .all(|(b, c)| *b != 0.0 && c / b > 0.0 && (c / b).is_finite());
    let mut residuals: Vec<f64> = canary
        .iter()
        .zip(baseline)
        .map(|(c, b)| if ratios { (c / b).ln() } else { c - b - mu })
        .collect();
    let median = median_of(&residuals);
    residuals.iter_mut().for_each(|r| *r -= median);
    let f = inflation(&signed_rank_scores(&residuals));
    if f <= 1.0 {
        // Nothing to correct: the statistic is not needed.
        return (Dependence::none(n), f64::NAN);
    }
    // The test's own scores: signed ranks of the differences, reusing the buffer.
    residuals
        .iter_mut()
        .zip(canary.iter().zip(baseline))
        .for_each(|(r, (c, b))| *r = c - b - mu);
    let scores = signed_rank_scores(&residuals);
    let sum: f64 = scores.iter().sum();
    let sq: f64 = scores.iter().map(|s| s * s).sum();
    let z0 = if sq > 0.0 { sum / sq.sqrt() } else { 0.0 };
    let dep = Dependence {
        inflation: f,
        effective_n: n / f,
        df: (n / f - 1.0).max(1.0),
    };
    (dep, z0)
}

/// The median of `values` (the mean of the middle two for an even count), by selection.
fn median_of(values: &[f64]) -> f64 {
    let k = values.len();
    if k == 0 {
        return 0.0;
    }
    let mut v = values.to_vec();
    let (_, &mut upper, _) = v.select_nth_unstable_by(k / 2, f64::total_cmp);
    if k % 2 == 1 {
        upper
    } else {
        // The lower middle is the largest of the part below the upper middle.
        let lower = v[..k / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// Two arms in time order, unpaired: each arm's pooled-rank series gives its own inflation;
/// the variance of the mean-rank difference is `σ²(f_b/n_b + f_c/n_c)`, and the t reference has
/// the Welch-Satterthwaite degrees of freedom of the two effective sizes. `z0` is the rank-sum
/// statistic standardised under independence (tie-corrected, no continuity correction),
/// positive when the canary ranks higher.
pub(crate) fn unpaired(baseline: &[f64], canary: &[f64], mu: f64) -> (Dependence, f64) {
    let (nb, nc) = (baseline.len(), canary.len());
    let pooled: Vec<f64> = baseline
        .iter()
        .copied()
        .chain(canary.iter().map(|c| c - mu))
        .collect();
    let ranks = mid_ranks(&pooled);
    let (rb, rc) = ranks.split_at(nb);
    let (nbf, ncf) = (nb as f64, nc as f64);
    let n = nbf + ncf;
    let mean_rank = (n + 1.0) / 2.0;
    let var = ranks.iter().map(|r| (r - mean_rank).powi(2)).sum::<f64>() / (n - 1.0);
    let mb = rb.iter().sum::<f64>() / nbf;
    let mc = rc.iter().sum::<f64>() / ncf;
    let se0 = (var * (1.0 / nbf + 1.0 / ncf)).sqrt();
    let z0 = if se0 > 0.0 { (mc - mb) / se0 } else { 0.0 };
    let (fb, fc) = (inflation(rb), inflation(rc));
    let (vb, vc) = (fb / nbf, fc / ncf);
    let f = (vb + vc) / (1.0 / nbf + 1.0 / ncf);
    let (eb, ec) = (nbf / fb, ncf / fc);
    let welch = (vb + vc).powi(2) / (vb * vb / (eb - 1.0).max(1.0) + vc * vc / (ec - 1.0).max(1.0));
    let dep = Dependence {
        inflation: f.max(1.0),
        effective_n: eb + ec,
        df: if welch.is_finite() {
            welch.max(1.0)
        } else {
            1.0
        },
    };
    (dep, z0)
}

/// Mid-ranks (1-based, ties averaged) of `values`, in their order.
pub(crate) fn mid_ranks(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    // Ties get their mean rank whatever their order, so an unstable sort gives the same ranks.
    idx.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && values[idx[j]] == values[idx[i]] {
            j += 1;
        }
        let r = (i + j + 1) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = r;
        }
        i = j;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar1(phi: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                let (u1, u2) = (next(), next());
                let e = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                x = phi * x + e;
                x
            })
            .collect()
    }

    #[test]
    fn inflation_tracks_the_ar1_factor() {
        // Averaged over seeds, the estimate is near (1 + φ)/(1 − φ): 1, 3 and 9.
        for (phi, lo, hi) in [(0.0, 1.0, 1.6), (0.5, 2.2, 4.0), (0.8, 6.0, 13.0)] {
            let mean = (0..200)
                .map(|s| inflation(&ar1(phi, 240, s + 1)))
                .sum::<f64>()
                / 200.0;
            assert!((lo..hi).contains(&mean), "phi {phi}: mean inflation {mean}");
        }
    }

    #[test]
    fn short_or_constant_series_are_not_inflated() {
        assert_eq!(inflation(&[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(inflation(&[5.0; 30]), 1.0);
    }

    #[test]
    fn corrected_p_is_never_below_the_plain_one() {
        let dep = Dependence {
            inflation: 4.0,
            effective_n: 15.0,
            df: 14.0,
        };
        // t = 4.8 / √4 = 2.4 on 14 df: R's pt(2.4, 14, lower.tail = FALSE) = 0.0154345 (to the digits shown).
        let p = dep.p_value(1e-6, 4.8, Alternative::Greater);
        assert!((p - 0.0154345).abs() < 1e-6, "{p}");
        let two = dep.p_value(1e-6, -4.8, Alternative::TwoSided);
        assert!((two - 2.0 * p).abs() < 1e-12, "{two}");
        // Never below the plain p-value, whichever way the statistic points.
        assert!(dep.p_value(0.3, 10.0, Alternative::Greater) >= 0.3);
        let none = Dependence::none(10.0);
        assert_eq!(none.p_value(0.01, 2.5, Alternative::Greater), 0.01);
    }

    #[test]
    fn widening_exceeds_the_square_root_of_the_inflation_for_finite_df() {
        let dep = Dependence {
            inflation: 4.0,
            effective_n: 10.0,
            df: 9.0,
        };
        let g = dep.widening(0.98);
        assert!(g > 2.0 && g < 2.6, "{g}");
        let ci = dep.widen(
            1.0,
            ConfidenceInterval {
                lower: 0.0,
                upper: 3.0,
                level: 0.98,
            },
        );
        assert!((ci.lower - (1.0 - g)).abs() < 1e-12 && (ci.upper - (1.0 + 2.0 * g)).abs() < 1e-12);
    }
}
