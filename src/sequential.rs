//! Anytime-valid sequential tests for progressive analysis: e-processes that may be checked after
//! every interval, as often as one likes, without inflating the false-rollback rate.
//!
//! An e-process `E_t >= 0` starts at `E_0 = 1` and has `E[E_τ] <= 1` under the null hypothesis
//! at any stopping time `τ`. Ville's inequality, `P_H0(∃t: E_t >= 1/α) <= α`, makes "roll back
//! at the first check where `E_t >= 1/α`" a level-α test however often it is checked. The
//! sequential p-value is `p_t = min_{s<=t} 1/E_s`, and a confidence sequence (CS) is the set of
//! null values whose e-process stays below `1/α`; its coverage holds simultaneously for all `t`,
//! so running CSs are intersected over time. Across `K` metrics, rolling back when any
//! `E_i >= K/α` (see [`rollback_threshold`]) keeps the family-wise error at `α` under any
//! dependence (Bonferroni on e-values; Vovk & Wang, "E-values: calibration, combination and
//! applications", Ann. Statist. 2021).
//!
//! Every e-process here depends on the data only through cumulative counts or sums, so updating
//! once per interval gives the same value as updating per event, and checks at interval
//! boundaries are valid.

mod count;
mod mean_shift;
mod special;
mod srm;
mod varying_split;

pub use self::count::{CountEProcess, CountEProcessConfig};
pub use self::mean_shift::{MeanShiftEProcess, MeanShiftEProcessConfig};
pub use self::srm::{SrmEProcess, SrmEProcessConfig};
pub use self::varying_split::{VaryingSplitEProcess, VaryingSplitEProcessConfig};

use crate::error::{check_level, Error, Result};

/// The e-value threshold for rolling back when `metrics` e-processes are watched together at
/// family-wise level `alpha`: `K/α` (Bonferroni on e-values, valid under any dependence between
/// the metrics, because each `E_i` crosses `K/α` with probability at most `α/K` by Ville's
/// inequality).
///
/// # Errors
/// [`Error::InvalidParameter`] when `alpha` is not strictly between 0 and 1 (field `alpha`) or
/// `metrics` is 0 (field `metrics`).
///
/// # Example
/// ```
/// use canary_verdict::rollback_threshold;
/// assert_eq!(rollback_threshold(0.05, 1)?, 20.0);
/// assert_eq!(rollback_threshold(0.05, 10)?, 200.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn rollback_threshold(alpha: f64, metrics: usize) -> Result<f64> {
    check_level("alpha", alpha)?;
    if metrics == 0 {
        return Err(Error::InvalidParameter {
            field: "metrics",
            value: 0.0,
            expected: "at least one metric",
        });
    }
    Ok(metrics as f64 / alpha)
}

/// `p_t = min_{s<=t} 1/E_s` from the running maximum of `ln E_s` (which starts at `ln E_0 = 0`).
pub(crate) fn p_from_max_log(max_log_e: f64) -> f64 {
    (-max_log_e.max(0.0)).exp()
}

/// Whether `ln E >= ln(1/α)`, after checking `alpha`.
pub(crate) fn crosses(log_e: f64, alpha: f64) -> Result<bool> {
    check_level("alpha", alpha)?;
    Ok(log_e >= -alpha.ln())
}

/// Checks a prior concentration: finite and > 0.
pub(crate) fn check_concentration(value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            field: "concentration",
            value,
            expected: "a finite number above 0",
        })
    }
}
