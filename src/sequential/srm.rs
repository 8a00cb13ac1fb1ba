//! The Dirichlet-multinomial e-process on assignment counts: a sequential sample-ratio-mismatch
//! check of the traffic split.

use std::fmt;

use statrs::function::gamma::ln_gamma;

use super::{check_concentration, EProcess};
use crate::error::{Error, Result};
use crate::stats::counts::MAX_COUNT;
use crate::stats::discrete::bd0;
use crate::stats::hypothesis::fmt_g;
use crate::stats::stirling::{stirlerr, LN_SQRT_2PI};

/// Settings of an [`SrmEProcess`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SrmEProcessConfig {
    /// `θ₀`, the configured traffic share of each arm (two or more arms, each finite and > 0,
    /// summing to 1 within 1e-9), in the order the counts will be given.
    pub shares: Vec<f64>,
    /// `k`, the concentration of the Dirichlet(`k θ₀`) prior; finite and > 0. Default 100
    /// (savvi's default): assignment counts are large and the mismatches worth catching are
    /// small, which favours a prior concentrated near the configured split.
    pub concentration: f64,
}

impl SrmEProcessConfig {
    /// The configured `shares`, with `k = 100`.
    pub fn new(shares: Vec<f64>) -> SrmEProcessConfig {
        SrmEProcessConfig {
            shares,
            concentration: 100.0,
        }
    }

    /// Sets the prior concentration `k`.
    pub fn concentration(mut self, k: f64) -> SrmEProcessConfig {
        self.concentration = k;
        self
    }

    /// `ln E` for cumulative counts `c`: `ln B(α + c) - ln B(α) - Σ c_i ln θ₀,i`. The log-gammas
    /// of `X_i = α_i + c_i` and `N = k + Σ c_i` run to 10^15 at 2^53 requests and would cancel
    /// to within a unit or so; written with Stirling's formula they leave the deviance terms
    /// `bd0(X_i, N θ₀,i) = X_i ln(X_i / (N θ₀,i)) + N θ₀,i - X_i` (R's `bd0`, no cancellation),
    /// the Stirling errors `stirlerr` and `½ ln(N / Π X_i)`, all small:
    /// `ln E = ln Γ(k) - Σ ln Γ(α_i) + Σ α_i ln θ₀,i + Σ bd0(X_i, N θ₀,i) + N (1 - Σ θ₀,i)
    ///  + ½ ln N - ½ Σ ln X_i + (d - 1) ln √(2π) + Σ stirlerr(X_i) - stirlerr(N)`.
    fn log_e(&self, counts: &[u64]) -> f64 {
        let k = self.concentration;
        let n: u128 = counts.iter().map(|&c| u128::from(c)).sum();
        let big_n = k + n as f64;
        let arms = self.shares.len() as f64;
        // 1 - Σ θ₀,i with the rounding of the sum kept (Neumaier): the shares as given may miss
        // 1 by an ulp, which N multiplies.
        let (mut sum, mut lost) = (0.0f64, 0.0f64);
        for &w in &self.shares {
            let t = sum + w;
            lost += if sum.abs() >= w.abs() {
                (sum - t) + w
            } else {
                (w - t) + sum
            };
            sum = t;
        }
        let missing = (1.0 - sum) - lost;
        let mut log_e = ln_gamma(k) + big_n * missing + 0.5 * big_n.ln() - stirlerr(big_n)
            + (arms - 1.0) * LN_SQRT_2PI;
        for (&w, &c) in self.shares.iter().zip(counts) {
            let a = k * w;
            let x = a + c as f64;
            log_e += bd0(x, big_n * w) - ln_gamma(a) + a * w.ln() - 0.5 * x.ln() + stirlerr(x);
        }
        log_e
    }

    fn validate(&self) -> Result<()> {
        if self.shares.len() < 2 {
            return Err(Error::InvalidCounts {
                field: "shares",
                reason: format!(
                    "{} arm(s) given, an SRM check needs at least 2",
                    self.shares.len()
                ),
            });
        }
        if let Some(i) = self
            .shares
            .iter()
            .position(|w| !(w.is_finite() && *w > 0.0))
        {
            return Err(Error::InvalidCounts {
                field: "shares",
                reason: format!(
                    "share {i} is {}, expected a finite number above 0",
                    self.shares[i]
                ),
            });
        }
        let total: f64 = self.shares.iter().sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(Error::InvalidCounts {
                field: "shares",
                reason: format!("the shares sum to {total}, expected 1"),
            });
        }
        check_concentration(self.concentration)
    }
}

/// The anytime-valid sample-ratio-mismatch check: do the arms keep receiving the traffic shares
/// they were configured with?
///
/// With assignment counts `c_t` (cumulative, per arm), configured shares `θ₀` and the prior
/// `Dirichlet(α)`, `α = k θ₀`, the e-value is the Dirichlet-multinomial Bayes factor against the
/// configured split (Lindon & Malek, "Anytime-valid inference for multinomial count data",
/// NeurIPS 2022; savvi's `Multinomial`, which its docs call a sample ratio mismatch test):
///
/// `ln E_t = ln B(α + c_t) - ln B(α) - Σ_i c_t,i ln θ₀,i`, `B(α) = Π Γ(α_i) / Γ(Σ α_i)`.
///
/// It can run from the first request and be checked at every interval. Caveat (notes §6):
/// requests are not independent assignment units (connection reuse, sticky load balancing,
/// retries), so on request counts it fires more often than `α` on overdispersed healthy
/// canaries; count instances or connections where possible, or use a strict `alpha` such as
/// 1e-3. A real mismatch (the canary serving less than configured) is itself a failure signal.
///
/// Saved state (serde) is not trusted: loading checks the counts against the shares and
/// recomputes the e-value from them, so an edited e-value is refused. The running maximum
/// depends on the path, so it is only checked to be at least 0 and at least the e-value.
///
/// # Example
/// ```
/// use canary_verdict::sequential::{EProcess, SrmEProcess, SrmEProcessConfig};
/// let mut srm = SrmEProcess::new(SrmEProcessConfig::new(vec![0.9, 0.1]))?;
/// srm.update(&[9_020, 980])?; // baseline, canary requests in the first minute
/// assert!(!srm.rejects(0.001)?);
/// srm.update(&[9_100, 700])?; // the canary starts losing traffic
/// srm.update(&[9_150, 650])?;
/// assert!(srm.rejects(0.001)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SavedSrm"))]
pub struct SrmEProcess {
    config: SrmEProcessConfig,
    counts: Vec<u64>,
    intervals: u64,
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    log_e: f64,
    max_log_e: f64,
}

impl SrmEProcess {
    /// A fresh e-process (`E_0 = 1`).
    ///
    /// # Errors
    /// [`Error::InvalidCounts`] naming `shares` when fewer than two are given, one is not finite
    /// and > 0, or they do not sum to 1; [`Error::InvalidParameter`] naming `concentration`.
    pub fn new(config: SrmEProcessConfig) -> Result<SrmEProcess> {
        config.validate()?;
        let arms = config.shares.len();
        Ok(SrmEProcess {
            config,
            counts: vec![0; arms],
            intervals: 0,
            log_e: 0.0,
            max_log_e: 0.0,
        })
    }

    /// Adds one interval's assignment counts, one per arm in the order of the shares. The state
    /// is left unchanged when an error is returned.
    ///
    /// # Errors
    /// [`Error::InvalidCounts`] naming `counts` when their number differs from the number of
    /// shares, or an arm's running total would exceed 2^53; the configuration's errors when it
    /// was deserialized invalid.
    pub fn update(&mut self, counts: &[u64]) -> Result<()> {
        self.config.validate()?;
        // A loaded state holds one running count per share (checked on load).
        if counts.len() != self.config.shares.len() {
            return Err(Error::InvalidCounts {
                field: "counts",
                reason: format!(
                    "{} counts for {} configured arms",
                    counts.len(),
                    self.config.shares.len()
                ),
            });
        }
        let mut totals = Vec::with_capacity(counts.len());
        for (i, (&old, &new)) in self.counts.iter().zip(counts).enumerate() {
            match old.checked_add(new) {
                Some(t) if t <= MAX_COUNT => totals.push(t),
                _ => {
                    return Err(Error::InvalidCounts {
                        field: "counts",
                        reason: format!(
                        "arm {i}: running total {old} + {new} is above the supported maximum 2^53"
                    ),
                    })
                }
            }
        }
        let log_e = self.config.log_e(&totals);
        self.counts = totals;
        self.intervals += 1;
        self.log_e = log_e;
        self.max_log_e = self.max_log_e.max(log_e);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &SrmEProcessConfig {
        &self.config
    }

    /// The running assignment counts per arm.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Number of intervals added.
    pub fn intervals(&self) -> u64 {
        self.intervals
    }

    /// The observed share of each arm (NaN before any assignment).
    pub fn observed_shares(&self) -> Vec<f64> {
        let n: f64 = self.counts.iter().map(|&c| c as f64).sum();
        self.counts.iter().map(|&c| c as f64 / n).collect()
    }
}

/// The serialized form of an [`SrmEProcess`], checked on load: saved state is not trusted.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedSrm {
    config: SrmEProcessConfig,
    counts: Vec<u64>,
    intervals: u64,
    #[serde(with = "crate::serde_float")]
    log_e: f64,
    max_log_e: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<SavedSrm> for SrmEProcess {
    type Error = Error;

    /// The e-value is a function of the running counts alone (0 before any interval), so it is
    /// recomputed and must match the saved one bit for bit; the running maximum must be at
    /// least 0 and at least it.
    fn try_from(s: SavedSrm) -> Result<SrmEProcess> {
        s.config.validate()?;
        let counts = |reason: String| {
            Err(Error::InvalidCounts {
                field: "counts",
                reason,
            })
        };
        if s.counts.len() != s.config.shares.len() {
            return counts(format!(
                "{} running counts for {} configured arms",
                s.counts.len(),
                s.config.shares.len()
            ));
        }
        for &c in &s.counts {
            crate::stats::counts::check_count(c, "counts")?;
        }
        if s.intervals == 0 && s.counts.iter().any(|&c| c > 0) {
            return counts("counts before any interval".into());
        }
        // A fresh process holds ln E = 0 exactly (the formula at zero counts is only 0 to
        // rounding).
        let log_e = if s.intervals == 0 {
            0.0
        } else {
            s.config.log_e(&s.counts)
        };
        super::check_saved_log_e(
            log_e,
            s.log_e,
            s.max_log_e,
            "the log e-value of the saved counts",
        )?;
        Ok(SrmEProcess {
            config: s.config,
            counts: s.counts,
            intervals: s.intervals,
            log_e,
            max_log_e: s.max_log_e,
        })
    }
}

impl EProcess for SrmEProcess {
    fn log_e_value(&self) -> f64 {
        self.log_e
    }

    fn max_log_e_value(&self) -> f64 {
        self.max_log_e
    }
}

impl fmt::Display for SrmEProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shares: Vec<String> = self.config.shares.iter().map(|&w| fmt_g(w)).collect();
        let observed: Vec<String> = self.observed_shares().into_iter().map(fmt_g).collect();
        write!(
            f,
            "SRM e-process ({} arms, k = {}): configured [{}], observed [{}] of {} units in {} intervals, E = {}, p = {}",
            self.counts.len(),
            fmt_g(self.config.concentration),
            shares.join(", "),
            observed.join(", "),
            self.counts.iter().sum::<u64>(),
            self.intervals,
            fmt_g(self.e_value()),
            fmt_g(self.p_value())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_e(shares: &[f64], k: f64, counts: &[u64]) -> f64 {
        let mut e =
            SrmEProcess::new(SrmEProcessConfig::new(shares.to_vec()).concentration(k)).unwrap();
        e.update(counts).unwrap();
        e.log_e_value()
    }

    #[test]
    fn log_e_matches_high_precision_at_huge_counts() {
        // mpmath at 50 digits: lngamma(k) - lngamma(k + n) + Σ [lngamma(a_i + c_i) -
        // lngamma(a_i)] - Σ c_i ln w_i, with the shares as the doubles given here.
        let cases: [(&[f64], f64, &[u64], f64); 4] = [
            (
                &[0.5, 0.5],
                100.0,
                &[2_251_799_813_685_248, 2_251_799_843_685_248],
                -15.621_821_491_682_883,
            ),
            (
                &[0.9, 0.1],
                100.0,
                &[89_999_999_000_000, 10_000_001_000_000],
                -13.771_153_761_085_517,
            ),
            (
                &[0.5, 0.3, 0.2],
                50.0,
                &[
                    500_000_000_000_000,
                    300_000_020_000_000,
                    199_999_980_000_000,
                ],
                -28.975_638_493_955_513,
            ),
            (&[0.9, 0.1], 100.0, &[9_020, 980], -2.085_670_868_103_656_4),
        ];
        for (shares, k, counts, want) in cases {
            let got = log_e(shares, k, counts);
            // 1e-8: X_i = α_i + c_i is rounded to the doubles' grid (1/16 at 5e14), which moves
            // ln E by about the grid times the relative deviation (2e-9 in the third case).
            assert!((got - want).abs() < 1e-8, "{counts:?}: {got} vs {want}");
        }
    }

    #[test]
    fn log_e_matches_the_log_gamma_form_at_moderate_counts() {
        // Where the log-gammas are small, the direct form is accurate to ~1e-12.
        for (shares, counts) in [
            (vec![0.5, 0.5], vec![0u64, 0]),
            (vec![0.5, 0.5], vec![1, 0]),
            (vec![0.9, 0.1], vec![900, 100]),
            (vec![0.7, 0.2, 0.1], vec![6_000, 2_500, 1_000]),
            (vec![0.99, 0.01], vec![10, 30]),
            // Increasing shares: the compensated sum's other branch (a share above the sum).
            (vec![0.1, 0.2, 0.7], vec![1_000, 2_100, 6_900]),
        ] {
            let k = 100.0;
            let n: u64 = counts.iter().sum();
            let mut direct = ln_gamma(k) - ln_gamma(k + n as f64);
            for (&w, &c) in shares.iter().zip(&counts) {
                direct += ln_gamma(k * w + c as f64) - ln_gamma(k * w) - c as f64 * w.ln();
            }
            let got = log_e(&shares, k, &counts);
            assert!(
                (got - direct).abs() < 1e-10,
                "{counts:?}: {got} vs {direct}"
            );
        }
    }
}
