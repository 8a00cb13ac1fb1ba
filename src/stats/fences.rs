//! Interquartile-range fences for outlier removal: Tukey's and Kayenta's widened variant.

use crate::error::{Error, Result};
use crate::stats::quantile::{quantile_sorted, sorted_copy, QuantileType};

/// A closed interval `[lower, upper]` outside which points count as outliers.
///
/// Built from a sample's quartiles by [`Fences::tukey`] or [`Fences::widened`]; applied with
/// [`Fences::contains`] or [`Fences::retain`]. A point equal to a fence is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Fences {
    /// Lower fence: points strictly below it are outliers.
    pub lower: f64,
    /// Upper fence: points strictly above it are outliers.
    pub upper: f64,
}

impl Fences {
    /// Tukey's fences `[Q1 - k·IQR, Q3 + k·IQR]` with `IQR = Q3 - Q1` and the quartiles of R's
    /// `quantile(x, c(0.25, 0.75), type = 7)`.
    ///
    /// `k = 1.5` gives Tukey's (1977) inner fences, `k = 3` his outer fences. `k = 0` gives the
    /// quartiles themselves.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `k` if `k` is negative or not finite;
    /// [`Error::EmptyInput`] if the sample is empty and [`Error::NonFiniteInput`] if it holds NaN
    /// or an infinity.
    ///
    /// # Example
    ///
    /// ```
    /// use canary_verdict::stats::Fences;
    ///
    /// let latency_ms = [10.0, 11.0, 12.0, 13.0, 14.0, 95.0];
    /// let fences = Fences::tukey(&latency_ms, 1.5)?;
    /// // Q1 = 11.25, Q3 = 13.75, IQR = 2.5
    /// assert_eq!(
    ///     fences,
    ///     Fences {
    ///         lower: 7.5,
    ///         upper: 17.5
    ///     }
    /// );
    /// assert!(!fences.contains(95.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tukey(sample: &[f64], k: f64) -> Result<Fences> {
        check_factor(k)?;
        let sorted = sorted_copy(sample)?;
        let (q1, q3, spread) = quartile_spread(&sorted, k);
        Ok(Fences {
            lower: q1 - spread,
            upper: q3 + spread,
        })
    }

    /// Kayenta's widened fences (`IQRDetector` with `reduceSensitivity = true`):
    /// `lower = min(P1, Q1 - k·IQR)` and `upper = max(P99, Q3 + k·IQR)`, every percentile by R's
    /// `quantile(type = 7)` (Kayenta uses Apache Commons Math's `EstimationType.R_7`).
    ///
    /// Nothing between the 1st and 99th percentiles is ever outside these fences, so a heavy tail
    /// is trimmed less than by [`Fences::tukey`]. Kayenta's judge passes `k = 3`.
    ///
    /// # Errors
    ///
    /// As [`Fences::tukey`].
    ///
    /// # Example
    ///
    /// ```
    /// use canary_verdict::stats::Fences;
    ///
    /// let latency_ms = [10.0, 11.0, 12.0, 13.0, 14.0, 95.0];
    /// let fences = Fences::widened(&latency_ms, 1.5)?;
    /// // P99 = 14 + 0.95 * (95 - 14) = 90.95 lies above Q3 + 1.5 IQR = 17.5
    /// assert!((fences.upper - 90.95).abs() < 1e-12);
    /// assert_eq!(fences.lower, 7.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn widened(sample: &[f64], k: f64) -> Result<Fences> {
        check_factor(k)?;
        let sorted = sorted_copy(sample)?;
        let (q1, q3, spread) = quartile_spread(&sorted, k);
        let p1 = quantile_sorted(&sorted, 0.01, QuantileType::Type7);
        let p99 = quantile_sorted(&sorted, 0.99, QuantileType::Type7);
        Ok(Fences {
            lower: p1.min(q1 - spread),
            upper: p99.max(q3 + spread),
        })
    }

    /// Whether `value` lies inside the closed fences, `lower <= value <= upper`. NaN never does.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }

    /// Keeps the points inside the closed fences, in their original order, and returns how many
    /// were removed (points strictly outside, and any NaN). Works in place: no allocation.
    ///
    /// # Example
    ///
    /// ```
    /// use canary_verdict::stats::Fences;
    ///
    /// let mut latency_ms = vec![10.0, 11.0, 12.0, 13.0, 14.0, 95.0];
    /// let fences = Fences::tukey(&latency_ms, 1.5)?;
    /// assert_eq!(fences.retain(&mut latency_ms), 1);
    /// assert_eq!(latency_ms, vec![10.0, 11.0, 12.0, 13.0, 14.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retain(&self, sample: &mut Vec<f64>) -> usize {
        let before = sample.len();
        sample.retain(|&v| self.contains(v));
        before - sample.len()
    }
}

/// Checks the fence factor `k`: finite and non-negative.
fn check_factor(k: f64) -> Result<()> {
    if k.is_finite() && k >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            field: "k",
            value: k,
            expected: "a finite number >= 0",
        })
    }
}

/// Q1, Q3 (type 7) and `k·IQR`, with `k = 0` giving a zero spread even if the IQR overflows.
fn quartile_spread(sorted: &[f64], k: f64) -> (f64, f64, f64) {
    let q1 = quantile_sorted(sorted, 0.25, QuantileType::Type7);
    let q3 = quantile_sorted(sorted, 0.75, QuantileType::Type7);
    let spread = if k == 0.0 { 0.0 } else { k * (q3 - q1) };
    (q1, q3, spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_factor_gives_quartiles_even_when_iqr_overflows() {
        let f = Fences::tukey(&[-f64::MAX, f64::MAX], 0.0).unwrap();
        assert!(f.lower.is_finite() && f.upper.is_finite(), "{f:?}");
        let f = Fences::tukey(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.0).unwrap();
        assert_eq!(
            f,
            Fences {
                lower: 2.0,
                upper: 4.0
            }
        );
    }

    #[test]
    fn constant_sample_keeps_everything() {
        let mut v = vec![3.0; 8];
        let f = Fences::widened(&v, 3.0).unwrap();
        assert_eq!(
            f,
            Fences {
                lower: 3.0,
                upper: 3.0
            }
        );
        assert_eq!(f.retain(&mut v), 0);
    }

    #[test]
    fn nan_is_removed() {
        let f = Fences {
            lower: 0.0,
            upper: 1.0,
        };
        let mut v = vec![0.0, f64::NAN, 1.0, 2.0];
        assert_eq!(f.retain(&mut v), 2);
        assert_eq!(v, vec![0.0, 1.0]);
    }
}
