//! The Dirichlet-multinomial e-process on assignment counts: a sequential sample-ratio-mismatch
//! check of the traffic split.

use std::fmt;

use statrs::function::gamma::ln_gamma;

use super::{check_concentration, EProcess};
use crate::counts::MAX_COUNT;
use crate::error::{Error, Result};
use crate::hypothesis::fmt_g;

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
/// # Example
/// ```
/// use canary_verdict::{SrmEProcess, SrmEProcessConfig, EProcess};
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
        if counts.len() != self.config.shares.len() || self.counts.len() != counts.len() {
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
        let k = self.config.concentration;
        let mut log_e = ln_gamma(k);
        let mut n = 0.0;
        for (&w, &c) in self.config.shares.iter().zip(&totals) {
            let (a, c) = (k * w, c as f64);
            n += c;
            log_e += ln_gamma(a + c) - ln_gamma(a);
            if c > 0.0 {
                log_e -= c * w.ln();
            }
        }
        log_e -= ln_gamma(k + n);
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
