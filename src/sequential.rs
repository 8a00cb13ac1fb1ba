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
/// use canary_verdict::sequential::rollback_threshold;
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

/// What every e-process here reports: its evidence now, `ln E_t`, and the largest so far,
/// `max_{s<=t} ln E_s`, from which the e-value, the anytime-valid p-value and the rollback
/// check follow the same way for all of them.
///
/// # Example
/// ```
/// use canary_verdict::sequential::{CountEProcess, CountEProcessConfig, EProcess};
/// use canary_verdict::Arms;
/// let mut errors = CountEProcess::new(CountEProcessConfig::new(0.5))?; // an even split
/// errors.update(Arms {
///     baseline: 10,
///     canary: 30,
/// })?;
/// assert!(errors.e_value() > 1.0);
/// assert!(errors.p_value() <= 1.0 / errors.e_value());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait EProcess {
    /// `ln E_t`: the natural log of the current e-value (0 before any data).
    fn log_e_value(&self) -> f64;

    /// `max_{s<=t} ln E_s`, with `ln E_0 = 0`: the largest evidence seen so far.
    fn max_log_e_value(&self) -> f64;

    /// The current e-value `E_t`: never negative, and saturated at `f64::MAX` when it
    /// overflows (compare [`log_e_value`](Self::log_e_value) for e-values beyond 1e308).
    fn e_value(&self) -> f64 {
        self.log_e_value().exp().min(f64::MAX)
    }

    /// The anytime-valid p-value `p_t = min_{s<=t} 1/E_s` (1 before any evidence).
    fn p_value(&self) -> f64 {
        (-self.max_log_e_value().max(0.0)).exp()
    }

    /// Whether the e-value has reached `1/alpha` now (`ln E_t >= ln(1/alpha)`). Pass
    /// `alpha / K` when watching `K` metrics (see [`rollback_threshold`]). Once the p-value is
    /// at or below `alpha` the test has rejected for good: use `p_value() <= alpha` for "ever
    /// crossed".
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `alpha` is not strictly between 0 and 1.
    fn rejects(&self, alpha: f64) -> Result<bool> {
        check_level("alpha", alpha)?;
        Ok(self.log_e_value() >= -alpha.ln())
    }
}

/// Whether `max_log_e` can be the running maximum `max_{s<=t} ln E_s` (with `ln E_0 = 0`) of a
/// process whose current `ln E_t` is `log_e`: neither is NaN, and the maximum is at least 0 and
/// at least `log_e`. A loaded state's check; the path itself cannot be checked.
#[cfg(feature = "serde")]
pub(crate) fn running_max_fits(log_e: f64, max_log_e: f64) -> bool {
    !log_e.is_nan() && max_log_e >= 0.0 && max_log_e >= log_e
}

/// Checks a saved state's event totals: each at most 2^53, and none before any interval.
#[cfg(feature = "serde")]
pub(crate) fn check_saved_totals(intervals: u64, totals: [(&'static str, u64); 2]) -> Result<()> {
    for (field, v) in totals {
        crate::stats::counts::check_count(v, field)?;
        if intervals == 0 && v > 0 {
            return Err(Error::InvalidCounts {
                field,
                reason: format!("{v} events before any interval"),
            });
        }
    }
    Ok(())
}

/// Checks a saved `ln E` against `log_e`, recomputed from the saved state (`from` says from
/// what), bit for bit, and the saved running maximum against it ([`running_max_fits`]).
#[cfg(feature = "serde")]
pub(crate) fn check_saved_log_e(
    log_e: f64,
    saved: f64,
    max_log_e: f64,
    from: &'static str,
) -> Result<()> {
    if log_e.to_bits() != saved.to_bits() {
        return Err(Error::InvalidParameter {
            field: "log_e",
            value: saved,
            expected: from,
        });
    }
    if !running_max_fits(log_e, max_log_e) {
        return Err(Error::InvalidParameter {
            field: "max_log_e",
            value: max_log_e,
            expected: "the running maximum of ln E: at least 0 and at least log_e",
        });
    }
    Ok(())
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
