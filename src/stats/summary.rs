//! Descriptive summary of one sample: count, mean, standard deviation, extremes and quantiles.

use std::fmt;

use crate::error::{check_probability, Result};
use crate::stats::hypothesis::fmt_g;
use crate::stats::quantile::{quantile_sorted, sorted_copy, QuantileType};

/// Count, mean, standard deviation, extremes and chosen quantiles of one sample.
///
/// Built by [`Summary::of`]; each field matches the R function named in its doc. `Display`
/// prints one compact line for CI logs:
/// `n=5 mean=16.4 sd=7.765 min=11 p50=14 p90=24 max=30`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Summary {
    /// Number of points, `n` (R's `length(x)`).
    pub count: usize,
    /// Arithmetic mean `Σx / n`, computed as R's `mean(x)`: a compensated sum divided by `n`,
    /// then corrected by the mean of the residuals `Σ(x - mean) / n`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub mean: f64,
    /// Sample standard deviation `sqrt(Σ(x - mean)² / (n - 1))`, as R's `sd(x)`. Defined as `0`
    /// for a single point (where R returns `NA`), so that the field is never NaN. It is infinite
    /// only when the true value exceeds `f64::MAX`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub sd: f64,
    /// Smallest point (R's `min(x)`).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub min: f64,
    /// Largest point (R's `max(x)`).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub max: f64,
    /// `(p, quantile)` pairs in the order the probabilities were given, as R's
    /// `quantile(x, p, type = k)` (type 7 unless built with [`Summary::with_type`]). In JSON a
    /// non-finite value (a histogram's quantile beyond its last bucket) is `"inf"`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::pairs"))]
    pub quantiles: Vec<(f64, f64)>,
}

impl Summary {
    /// Summarizes a sample, with quantiles of R's default type 7 at the given probabilities.
    ///
    /// O(n log n) time (one sort), O(n) memory.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyInput`](crate::Error::EmptyInput) if the sample is empty,
    /// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) if it holds NaN or an infinity,
    /// and [`Error::InvalidParameter`](crate::Error::InvalidParameter) naming `p` if a probability
    /// is not in `[0, 1]`.
    ///
    /// # Example
    ///
    /// ```
    /// use canary_verdict::stats::Summary;
    ///
    /// let latency_ms = [12.0, 15.0, 11.0, 30.0, 14.0];
    /// let s = Summary::of(&latency_ms, &[0.5, 0.9])?;
    /// assert_eq!(s.count, 5);
    /// assert_eq!(s.mean, 16.4);
    /// assert_eq!(s.quantile(0.5), Some(14.0));
    /// assert_eq!(
    ///     s.to_string(),
    ///     "n=5 mean=16.4 sd=7.765 min=11 p50=14 p90=24 max=30"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of(sample: &[f64], probs: &[f64]) -> Result<Summary> {
        Summary::with_type(sample, probs, QuantileType::Type7)
    }

    /// Summarizes a sample, with quantiles of the given type.
    ///
    /// # Errors
    ///
    /// As [`Summary::of`].
    ///
    /// # Example
    ///
    /// ```
    /// use canary_verdict::stats::{QuantileType, Summary};
    ///
    /// let s = Summary::with_type(&[1.0, 2.0, 3.0, 4.0], &[0.5], QuantileType::Type1)?;
    /// assert_eq!(s.quantiles, vec![(0.5, 2.0)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_type(sample: &[f64], probs: &[f64], ty: QuantileType) -> Result<Summary> {
        for &p in probs {
            check_probability("p", p)?;
        }
        let sorted = sorted_copy(sample)?;
        Ok(Summary::of_sorted(&sorted, probs, ty))
    }

    /// Summarizes sorted, finite, non-empty data (the caller has checked; probabilities in
    /// [0, 1]). Sums run over the sorted order, so the result does not depend on the input's
    /// order.
    pub(crate) fn of_sorted(sorted: &[f64], probs: &[f64], ty: QuantileType) -> Summary {
        let mean = mean_of(sorted);
        Summary {
            count: sorted.len(),
            mean,
            sd: sd_of(sorted, mean),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            quantiles: probs
                .iter()
                .map(|&p| (p, quantile_sorted(sorted, p, ty)))
                .collect(),
        }
    }

    /// The stored quantile for probability `p` (compared exactly), if it was asked for.
    ///
    /// # Example
    ///
    /// ```
    /// use canary_verdict::stats::Summary;
    ///
    /// let s = Summary::of(&[1.0, 2.0, 3.0], &[0.5])?;
    /// assert_eq!(s.quantile(0.5), Some(2.0));
    /// assert_eq!(s.quantile(0.99), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn quantile(&self, p: f64) -> Option<f64> {
        self.quantiles
            .iter()
            .find(|(q, _)| *q == p)
            .map(|&(_, v)| v)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} mean={} sd={} min={}",
            self.count,
            fmt_g(self.mean),
            fmt_g(self.sd),
            fmt_g(self.min)
        )?;
        for &(p, v) in &self.quantiles {
            write!(f, " p{}={}", fmt_g(p * 100.0), fmt_g(v))?;
        }
        write!(f, " max={}", fmt_g(self.max))
    }
}

/// Neumaier's compensated sum: the error of each addition is carried along and added back at the
/// end, which gives nearly the accuracy of R's extended-precision (`long double`) accumulator.
fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let mut sum = 0.0_f64;
    let mut carry = 0.0_f64;
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            carry += (sum - t) + v;
        } else {
            carry += (v - t) + sum;
        }
        sum = t;
    }
    sum + carry
}

/// Mean of a non-empty, finite sample, as R's `mean(x)`: `s = Σx / n`, then `s + Σ(x - s) / n`.
///
/// If the plain sum overflows, the mean is taken as `Σ(x / n)` instead, which is finite.
pub(crate) fn mean_of(sample: &[f64]) -> f64 {
    let n = sample.len() as f64;
    let mut mean = compensated_sum(sample.iter().copied()) / n;
    if !mean.is_finite() {
        mean = compensated_sum(sample.iter().map(|&v| v / n));
    }
    let correction = compensated_sum(sample.iter().map(|&v| v - mean)) / n;
    if correction.is_finite() {
        mean += correction;
    }
    mean
}

/// Sample standard deviation `sqrt(Σ(x - mean)² / (n - 1))` of a non-empty, finite sample, as
/// R's `sd(x)`; `0` for one point.
///
/// If the squared deviations overflow, the sample is scaled by its largest magnitude first, so the
/// result is finite whenever the true standard deviation is representable (and infinite, as in R,
/// when it is not).
pub(crate) fn sd_of(sample: &[f64], mean: f64) -> f64 {
    let n = sample.len();
    if n < 2 {
        return 0.0;
    }
    let denom = (n - 1) as f64;
    let ss = compensated_sum(sample.iter().map(|&v| (v - mean) * (v - mean)));
    let sd = (ss / denom).sqrt();
    if sd.is_finite() {
        return sd;
    }
    let scale = sample.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let scaled: Vec<f64> = sample.iter().map(|&v| v / scale).collect();
    let scaled_mean = mean_of(&scaled);
    let ss = compensated_sum(
        scaled
            .iter()
            .map(|&v| (v - scaled_mean) * (v - scaled_mean)),
    );
    (ss / denom).sqrt() * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_has_zero_sd() {
        let s = Summary::of(&[7.0], &[0.5]).unwrap();
        assert_eq!(
            (s.count, s.mean, s.sd, s.min, s.max),
            (1, 7.0, 0.0, 7.0, 7.0)
        );
    }

    #[test]
    fn constant_sample() {
        let s = Summary::of(&[0.1; 10], &[0.25, 0.99]).unwrap();
        assert_eq!(s.mean, 0.1);
        assert_eq!(s.sd, 0.0);
        assert_eq!(s.quantiles, vec![(0.25, 0.1), (0.99, 0.1)]);
    }

    #[test]
    fn huge_values_stay_finite() {
        // The squared deviations overflow; the scaled fallback keeps the sd finite.
        let s = Summary::of(&[f64::MAX, f64::MAX / 2.0, f64::MAX], &[0.5]).unwrap();
        assert!(s.mean.is_finite() && s.sd.is_finite(), "{s:?}");
        assert!(
            (s.sd / (f64::MAX / 2.0 / 3f64.sqrt()) - 1.0).abs() < 1e-12,
            "{s:?}"
        );
        // Here the true sd (about 1.15 * f64::MAX) is not representable: infinity, as in R.
        let s = Summary::of(&[f64::MAX, -f64::MAX, f64::MAX], &[0.5]).unwrap();
        assert!(s.mean.is_finite() && s.sd == f64::INFINITY, "{s:?}");
        let s = Summary::of(&[f64::MAX, f64::MAX], &[]).unwrap();
        assert_eq!(s.mean, f64::MAX);
        assert_eq!(s.sd, 0.0);
    }

    #[test]
    fn display_labels() {
        let s = Summary::of(&[1.0, 2.0], &[0.0, 1.0 / 3.0, 0.999, 1.0]).unwrap();
        assert_eq!(
            s.to_string(),
            "n=2 mean=1.5 sd=0.7071 min=1 p0=1 p33.33=1.333 p99.9=1.999 p100=2 max=2"
        );
    }
}
