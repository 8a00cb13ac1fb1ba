//! Sample-ratio mismatch: do the arms receive the traffic shares they were configured with?

use std::fmt;

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::stats::counts::CountTestConfig;
use crate::stats::counts::{binom_test, BinomialTest};
use crate::stats::hypothesis::{fmt_g, Alternative};

/// Result of the chi-squared goodness-of-fit test of arm sizes against configured shares.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SrmTest {
    /// Pearson's X-squared, `Σ (O_i - E_i)² / E_i`.
    pub statistic: f64,
    /// Degrees of freedom, the number of arms minus one.
    pub df: u64,
    /// `P(χ²_df > X²)`, as R's `chisq.test(observed, p = shares)$p.value`.
    pub p_value: f64,
    /// Expected sizes `E_i = N w_i`, in the order of the arms given.
    pub expected: Vec<f64>,
}

impl fmt::Display for SrmTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SRM chi-squared ({} arms): X-squared = {}, df = {}, p = {}",
            self.df + 1,
            fmt_g(self.statistic),
            self.df,
            fmt_g(self.p_value)
        )
    }
}

/// Upper tail `Q(df/2, x/2)` of the chi-squared distribution with `df` degrees of freedom, in
/// closed form (finite sums for integer df, plus erfc for odd df), accurate in the far tail.
pub(crate) fn chisq_sf(x: f64, df: u64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x == f64::INFINITY {
        // An infinite statistic (an expected count of ~1e-307 against an observed 47, found by
        // the fuzzer) has no mass beyond it; the series below would give NaN.
        return 0.0;
    }
    if df == 0 {
        return 0.0;
    }
    if df > 300 {
        let s = df as f64 / 2.0;
        return statrs::function::gamma::checked_gamma_ur(s, x / 2.0).unwrap_or(f64::NAN);
    }
    let h = x / 2.0;
    let mut sum = 0.0;
    let base = if df.is_multiple_of(2) {
        // e^{-h} Σ_{j=0}^{df/2-1} h^j / j!
        let mut term = 1.0;
        sum += term;
        for j in 1..df / 2 {
            term *= h / j as f64;
            sum += term;
        }
        0.0
    } else {
        // erfc(√h) + e^{-h} Σ_{j=1}^{(df-1)/2} h^{j-1/2} / Γ(j + 1/2)
        let mut term = 2.0 * (h / std::f64::consts::PI).sqrt();
        for j in 1..=(df - 1) / 2 {
            if j > 1 {
                term *= h / (j as f64 - 0.5);
            }
            sum += term;
        }
        libm::erfc(h.sqrt())
    };
    if sum == 0.0 {
        return base;
    }
    // Past h ≈ 1e154 with df ≥ 4 the terms overflow (found by the fuzzer: the p-value came out
    // +inf); their logarithms do not.
    let ln_sum = if sum.is_finite() {
        sum.ln()
    } else {
        ln_sum_of_terms(h, df)
    };
    base + (ln_sum - h).exp()
}

/// `ln` of the finite sum in [`chisq_sf`], from the logarithms of its terms (largest first, so
/// that nothing overflows): `ln(h^j / j!)` for `j = 0..df/2` (even `df`), or
/// `ln(h^{j-1/2} / Γ(j + 1/2))` for `j = 1..=(df-1)/2` (odd `df`).
fn ln_sum_of_terms(h: f64, df: u64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let ln_h = h.ln();
    let ln_terms: Vec<f64> = if df.is_multiple_of(2) {
        (0..df / 2)
            .map(|j| j as f64 * ln_h - ln_gamma(j as f64 + 1.0))
            .collect()
    } else {
        (1..=(df - 1) / 2)
            .map(|j| (j as f64 - 0.5) * ln_h - ln_gamma(j as f64 + 0.5))
            .collect()
    };
    let top = ln_terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + ln_terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

/// Chi-squared goodness-of-fit test of the observed arm sizes against the configured traffic
/// shares (any number of arms >= 2), as R's `chisq.test(observed, p = shares)`.
///
/// `E_i = N w_i`, `X² = Σ (O_i - E_i)² / E_i`, `p = P(χ²_{k-1} > X²)`. The shares must be finite,
/// positive and sum to 1 within 1e-9; they are used as given, not rescaled (R's default
/// `rescale.p = FALSE`, whose own check is the looser 1.5e-8).
///
/// # Errors
/// [`Error::InvalidCounts`] with field `observed` when fewer than two arms are given, their
/// lengths differ, or no unit was assigned at all; [`Error::InvalidCounts`] with field `shares`
/// when a share is not finite and positive or the shares do not sum to 1.
///
/// # Example
/// ```
/// use canary_verdict::stats::srm_chi_squared;
/// // Configured 10% canary, observed 950 of 10 000.
/// let t = srm_chi_squared(&[9050, 950], &[0.9, 0.1])?;
/// // R: chisq.test(c(9050, 950), p = c(0.9, 0.1)): X-squared = 2.7778, p = 0.09558
/// assert!((t.statistic - 2.7777777777777777).abs() < 1e-12);
/// assert!(t.p_value > 0.001); // no SRM at GrowthBook's threshold
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn srm_chi_squared(observed: &[u64], shares: &[f64]) -> Result<SrmTest> {
    if observed.len() < 2 {
        return Err(Error::InvalidCounts {
            field: "observed",
            reason: format!(
                "{} arm(s) given, an SRM check needs at least 2",
                observed.len()
            ),
        });
    }
    if shares.len() != observed.len() {
        return Err(Error::InvalidCounts {
            field: "shares",
            reason: format!("{} shares for {} arms", shares.len(), observed.len()),
        });
    }
    if let Some(i) = shares.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(Error::InvalidCounts {
            field: "shares",
            reason: format!("shares[{i}] = {} must be finite and > 0", shares[i]),
        });
    }
    let total_share: f64 = shares.iter().sum();
    if (total_share - 1.0).abs() > 1e-9 {
        return Err(Error::InvalidCounts {
            field: "shares",
            reason: format!("the shares sum to {total_share}, not 1 (tolerance 1e-9)"),
        });
    }
    let n: f64 = observed.iter().map(|&o| o as f64).sum();
    if n == 0.0 {
        return Err(Error::InvalidCounts {
            field: "observed",
            reason: "no unit was assigned to any arm".into(),
        });
    }
    let expected: Vec<f64> = shares.iter().map(|w| n * w).collect();
    // A subnormal share can give an expected count of 0 (found by the fuzzer: 0/0 made the
    // statistic and the p-value NaN).
    if let Some(i) = expected.iter().position(|&e| !(e > 0.0 && e.is_finite())) {
        return Err(Error::InvalidCounts {
            field: "shares",
            reason: format!(
                "shares[{i}] = {} gives an expected count of {} out of {n} units",
                shares[i], expected[i]
            ),
        });
    }
    let statistic: f64 = observed
        .iter()
        .zip(&expected)
        .map(|(&o, e)| (o as f64 - e).powi(2) / e)
        .sum();
    let df = observed.len() as u64 - 1;
    Ok(SrmTest {
        statistic,
        df,
        p_value: chisq_sf(statistic, df),
        expected,
    })
}

/// Exact two-arm SRM check: is the canary's share of units `canary_share`? As R's
/// `binom.test(canary, canary + baseline, p = canary_share)` (two-sided), see [`binom_test`].
///
/// The interval in the result is the 95% Clopper-Pearson interval of the canary's share.
/// Prefer this test to [`srm_chi_squared`] when an expected arm size is below about 5.
///
/// # Errors
/// [`Error::InvalidCounts`] when no unit was assigned or more than 2^53 were (field `trials`);
/// [`Error::InvalidParameter`] when `canary_share` is not strictly between 0 and 1.
///
/// # Example
/// ```
/// use canary_verdict::stats::srm_binomial;
/// use canary_verdict::Arms;
/// let t = srm_binomial(
///     Arms {
///         baseline: 9050,
///         canary: 950,
///     },
///     0.1,
/// )?;
/// assert!(t.p_value > 0.05 && t.p_value < 0.2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn srm_binomial(arms: Arms<u64>, canary_share: f64) -> Result<BinomialTest> {
    let Arms { baseline, canary } = arms;
    if !(canary_share > 0.0 && canary_share < 1.0) {
        return Err(Error::InvalidParameter {
            field: "canary_share",
            value: canary_share,
            expected: "a share strictly between 0 and 1",
        });
    }
    let trials = canary
        .checked_add(baseline)
        .ok_or_else(|| Error::InvalidCounts {
            field: "canary",
            reason: format!(
                "{canary} canary plus {baseline} baseline units overflow a 64-bit count"
            ),
        })?;
    binom_test(
        canary,
        trials,
        canary_share,
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chisq_sf_closed_forms() {
        assert!((chisq_sf(2.0, 2) - (-1.0f64).exp()).abs() < 1e-16);
        // R: pchisq(3, 3, lower.tail = FALSE) = 0.39162517627108911
        assert!((chisq_sf(3.0, 3) / 0.391_625_176_271_089_1 - 1.0).abs() < 1e-14);
        // R: pchisq(7.5, 4, lower.tail = FALSE) = 0.11170929281604328
        assert!((chisq_sf(7.5, 4) / 0.111_709_292_816_043_28 - 1.0).abs() < 1e-14);
    }

    #[test]
    fn chisq_sf_of_astronomical_statistics_is_zero() {
        // The terms h^j / j! overflow past h ≈ 1e154 (the p-value was +inf).
        for df in [4, 5, 9, 300] {
            assert_eq!(chisq_sf(1e300, df), 0.0, "df {df}");
        }
        // The log-space sum agrees with the direct one where both run: 1 + 3 + 4.5 (df 6), and
        // 2√(3/π)(1 + 2) (df 5: the terms h^{1/2}/Γ(3/2), h^{3/2}/Γ(5/2)).
        assert!((ln_sum_of_terms(3.0, 6) - 8.5f64.ln()).abs() < 1e-13);
        let odd = 2.0 * (3.0 / std::f64::consts::PI).sqrt() * 3.0;
        assert!((ln_sum_of_terms(3.0, 5) - f64::ln(odd)).abs() < 1e-13);
    }

    #[test]
    fn bad_shares_are_typed_errors() {
        let err = srm_chi_squared(&[10, 10], &[0.5, 0.6]).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCounts {
                field: "shares",
                ..
            }
        ));
        let err = srm_chi_squared(&[10], &[1.0]).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCounts {
                field: "observed",
                ..
            }
        ));
        let err = srm_chi_squared(&[0, 0], &[0.5, 0.5]).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCounts {
                field: "observed",
                ..
            }
        ));
        let err = srm_chi_squared(&[1, 2, 3], &[0.5, 0.5, 0.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shares: shares[2] = 0 must be finite and > 0"
        );
        assert!(srm_binomial(
            Arms {
                baseline: 0,
                canary: 0
            },
            0.5
        )
        .is_err());
        assert!(srm_binomial(
            Arms {
                baseline: 1,
                canary: 1
            },
            1.0
        )
        .is_err());
    }
}
