//! Sample quantiles by the nine definitions of Hyndman & Fan (1996), computed exactly as R's
//! `quantile(x, p, type = k)`.
//!
//! Every type is a weighted average of two consecutive order statistics,
//! `Q(p) = (1 - γ)·x[j] + γ·x[j+1]`, where `x[j]` is the `j`-th smallest point (1-based; indices
//! below 1 or above `n` clamp to the extremes), `j = floor(n·p + m)`, `g = n·p + m - j`, and `m`
//! and `γ` depend on the type.
//!
//! The index arithmetic follows R's `stats:::quantile.default` operation for operation (R 4.2.2,
//! the version the reference fixtures come from), including the fuzz `4 * .Machine$double.eps`
//! that R adds before flooring the index of types 4-9 and the interpolation written as
//! `(1 - h)·lo + h·hi`, so that results agree with R bit for bit.
//!
//! Without the fuzz, type 8's median of `[1, 2, 3]` would come out as `1.9999999999999998`
//! instead of R's `2`: its index `1/3 + 0.5·(3 + 1 - 2/3)` rounds to just below 2.
//!
//! R version note: R 4.2 applies the fuzz to types 4-9 only, and this module follows it. Later R
//! versions expose it as an argument, `quantile(..., fuzz = if (type == 7) 0 else 4 * .Machine$double.eps)`,
//! that also enters `j = floor(n·p + m + fuzz)` for types 1-3; there, types 2 and 3 can differ from
//! this module when `n·p + m` lies within `4ε` below an integer (possible only for small `n·p`).

use crate::error::{check_input, check_probability, Result};

/// R's `fuzz <- 4 * .Machine$double.eps`, added before flooring the index of types 4-9 so that an
/// index a few ulps below an integer is not rounded down a whole step.
const FUZZ: f64 = 4.0 * f64::EPSILON;

/// One of the nine sample-quantile definitions of Hyndman & Fan (1996), numbered as R's
/// `quantile(type = 1..9)`.
///
/// Each quantile is `Q(p) = (1 - γ)·x[j] + γ·x[j+1]` with `j = floor(n·p + m)` and
/// `g = n·p + m - j` (see R's `?quantile`). Types 1-3 are discontinuous in `p`; types 4-9 are
/// continuous and written with `p(k) = (k - α) / (n - α - β + 1)`, the probability assigned to the
/// `k`-th order statistic, so that `m = α + p·(1 - α - β)`.
///
/// The list is complete (R and Hyndman & Fan define exactly nine), so the enum is not
/// `#[non_exhaustive]`.
///
/// Reference: R. J. Hyndman and Y. Fan (1996), "Sample quantiles in statistical packages",
/// *The American Statistician* 50(4), 361-365.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum QuantileType {
    /// Inverse of the empirical distribution function: `m = 0`, `γ = 0` if `g = 0` and 1
    /// otherwise. R's `type = 1`, NumPy's `method = "inverted_cdf"`.
    Type1,
    /// Like type 1 but averaging at discontinuities: `m = 0`, `γ = 0.5` if `g = 0` and 1
    /// otherwise. R's `type = 2`, NumPy's `"averaged_inverted_cdf"`, SAS's default.
    Type2,
    /// Nearest even order statistic (SAS definition): `m = -0.5`, `γ = 0` if `g = 0` and `j` is
    /// even, 1 otherwise. R's `type = 3`, NumPy's `"closest_observation"`.
    Type3,
    /// Linear interpolation of the empirical CDF: `α = 0`, `β = 1`, `p(k) = k / n`, `m = 0`.
    /// R's `type = 4`, NumPy's `"interpolated_inverted_cdf"`.
    Type4,
    /// Piecewise linear through the midpoints of the steps of the empirical CDF (Hazen):
    /// `α = β = 1/2`, `p(k) = (k - 0.5) / n`, `m = 1/2`. R's `type = 5`, NumPy's `"hazen"`.
    Type5,
    /// `α = β = 0`, `p(k) = k / (n + 1)`, so `p(k) = E[F(x[k])]`; `m = p` (Weibull; Minitab and
    /// SPSS). R's `type = 6`, NumPy's `"weibull"`.
    Type6,
    /// `α = β = 1`, `p(k) = (k - 1) / (n - 1)`, so `p(k) = mode[F(x[k])]`; `m = 1 - p`. The
    /// default of R, NumPy (`"linear"`), Excel's `PERCENTILE.INC` and Apache Commons Math
    /// `EstimationType.R_7` (used by Kayenta). R's `type = 7`.
    #[default]
    Type7,
    /// `α = β = 1/3`, `p(k) = (k - 1/3) / (n + 1/3)`, so `p(k) ≈ median[F(x[k])]`: approximately
    /// median-unbiased whatever the distribution; `m = (p + 1) / 3`. R's `type = 8`, NumPy's
    /// `"median_unbiased"`; Hyndman & Fan's recommendation.
    Type8,
    /// `α = β = 3/8`, `p(k) = (k - 3/8) / (n + 1/4)`: approximately unbiased for the expected
    /// order statistics of normal data (Blom); `m = p/4 + 3/8`. R's `type = 9`, NumPy's
    /// `"normal_unbiased"`.
    Type9,
}

impl QuantileType {
    /// All nine types, in R's order.
    pub const ALL: [QuantileType; 9] = [
        QuantileType::Type1,
        QuantileType::Type2,
        QuantileType::Type3,
        QuantileType::Type4,
        QuantileType::Type5,
        QuantileType::Type6,
        QuantileType::Type7,
        QuantileType::Type8,
        QuantileType::Type9,
    ];

    /// The type's number in R (`quantile(type = k)`), 1 to 9.
    pub fn r_type(self) -> u8 {
        match self {
            QuantileType::Type1 => 1,
            QuantileType::Type2 => 2,
            QuantileType::Type3 => 3,
            QuantileType::Type4 => 4,
            QuantileType::Type5 => 5,
            QuantileType::Type6 => 6,
            QuantileType::Type7 => 7,
            QuantileType::Type8 => 8,
            QuantileType::Type9 => 9,
        }
    }

    /// The type with R's number `k` (`quantile(type = k)`), or `None` outside 1 to 9.
    pub fn from_r_type(k: u8) -> Option<QuantileType> {
        QuantileType::ALL
            .get(usize::from(k).checked_sub(1)?)
            .copied()
    }

    /// The name of the same definition in NumPy's `np.quantile(x, p, method = ...)`.
    pub fn numpy_method(self) -> &'static str {
        match self {
            QuantileType::Type1 => "inverted_cdf",
            QuantileType::Type2 => "averaged_inverted_cdf",
            QuantileType::Type3 => "closest_observation",
            QuantileType::Type4 => "interpolated_inverted_cdf",
            QuantileType::Type5 => "hazen",
            QuantileType::Type6 => "weibull",
            QuantileType::Type7 => "linear",
            QuantileType::Type8 => "median_unbiased",
            QuantileType::Type9 => "normal_unbiased",
        }
    }
}

/// The `p`-quantile of a sample, as R's `quantile(sample, p, type = k)`.
///
/// Copies and sorts the sample (O(n log n) time, O(n) memory). To take several quantiles of one
/// sample use [`quantiles`], which sorts once.
///
/// # Errors
///
/// [`Error::EmptyInput`](crate::Error::EmptyInput) if the sample is empty,
/// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) if it holds NaN or an infinity, and
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) naming `p` if `p` is not in
/// `[0, 1]` (R also accepts, and clamps, a `p` up to `100ε` outside; this crate does not).
///
/// # Example
///
/// ```
/// use canary_verdict::stats::{quantile, QuantileType};
///
/// let latency_ms = [12.0, 15.0, 11.0, 30.0, 14.0];
/// // R: quantile(c(12, 15, 11, 30, 14), 0.75)  ->  15
/// assert_eq!(quantile(&latency_ms, 0.75, QuantileType::Type7)?, 15.0);
/// // R: sprintf("%.17g", quantile(c(12, 15, 11, 30, 14), 0.9))  ->  "23.999999999999993"
/// assert_eq!(
///     quantile(&latency_ms, 0.9, QuantileType::Type7)?,
///     23.999999999999993
/// );
/// // R: quantile(c(12, 15, 11, 30, 14), 0.9, type = 1)  ->  30
/// assert_eq!(quantile(&latency_ms, 0.9, QuantileType::Type1)?, 30.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn quantile(sample: &[f64], p: f64, ty: QuantileType) -> Result<f64> {
    check_probability("p", p)?;
    let sorted = sorted_copy(sample)?;
    Ok(quantile_sorted(&sorted, p, ty))
}

/// Several quantiles of one sample, as R's `quantile(sample, probs, type = k)`: sorts once and
/// returns one value per probability, in the order given.
///
/// # Errors
///
/// As [`quantile`]; every probability is checked before the sample is sorted.
///
/// # Example
///
/// ```
/// use canary_verdict::stats::{quantiles, QuantileType};
///
/// let sample = [1.0, 2.0, 3.0, 4.0];
/// // R: quantile(1:4, c(0.25, 0.5, 0.75))  ->  1.75 2.50 3.25
/// let q = quantiles(&sample, &[0.25, 0.5, 0.75], QuantileType::Type7)?;
/// assert_eq!(q, vec![1.75, 2.5, 3.25]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn quantiles(sample: &[f64], probs: &[f64], ty: QuantileType) -> Result<Vec<f64>> {
    for &p in probs {
        check_probability("p", p)?;
    }
    let sorted = sorted_copy(sample)?;
    Ok(probs
        .iter()
        .map(|&p| quantile_sorted(&sorted, p, ty))
        .collect())
}

/// The `p`-quantile of data that is already sorted ascending: the fast path behind [`quantile`],
/// O(1) time, no allocation.
///
/// **Precondition:** `sorted` is sorted ascending (for example with `f64::total_cmp`) and holds
/// only finite values. This is not checked: unsorted input gives a meaningless number (but never
/// a panic). Use [`sorted_sample`] to validate and sort a sample once, then call this function
/// as often as needed.
///
/// Returns NaN, instead of an error, when `sorted` is empty or `p` is not in `[0, 1]` (including
/// NaN).
///
/// # Example
///
/// ```
/// use canary_verdict::stats::{quantile_sorted, sorted_sample, QuantileType};
///
/// let sorted = sorted_sample(&[3.0, 1.0, 2.0])?;
/// assert_eq!(quantile_sorted(&sorted, 0.5, QuantileType::Type7), 2.0);
/// assert!(quantile_sorted(&[], 0.5, QuantileType::Type7).is_nan());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn quantile_sorted(sorted: &[f64], p: f64, ty: QuantileType) -> f64 {
    let n = sorted.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let nf = n as f64;
    // The j-th order statistic, 1-based, clamped to [1, n]: R pads the sorted vector as
    // c(x[1], x[1], x, x[n], x[n]) and reads x[j + 2].
    let order = |j: f64| -> f64 {
        let k = if j < 1.0 {
            0
        } else if j >= nf {
            n - 1
        } else {
            j as usize - 1
        };
        sorted[k]
    };

    let (j, h) = match ty {
        QuantileType::Type7 => {
            // R keeps a separate, back-compatible branch for type 7.
            let index = 1.0 + (n - 1) as f64 * p;
            let lo = index.floor();
            let q_lo = order(lo);
            if index > lo {
                let q_hi = order(index.ceil());
                if q_hi != q_lo {
                    let h = index - lo;
                    return (1.0 - h) * q_lo + h * q_hi;
                }
            }
            return q_lo;
        }
        QuantileType::Type1 | QuantileType::Type2 | QuantileType::Type3 => {
            let nppm = if ty == QuantileType::Type3 {
                nf * p - 0.5
            } else {
                nf * p
            };
            let j = nppm.floor();
            let h = match ty {
                QuantileType::Type1 => f64::from(u8::from(nppm > j)),
                QuantileType::Type2 => (f64::from(u8::from(nppm > j)) + 1.0) / 2.0,
                _ => f64::from(u8::from(nppm != j || j.rem_euclid(2.0) == 1.0)),
            };
            (j, h)
        }
        _ => {
            let (a, b) = match ty {
                QuantileType::Type4 => (0.0, 1.0),
                QuantileType::Type5 => (0.5, 0.5),
                QuantileType::Type6 => (0.0, 0.0),
                QuantileType::Type8 => (1.0 / 3.0, 1.0 / 3.0),
                _ => (3.0 / 8.0, 3.0 / 8.0),
            };
            let nppm = a + p * (nf + 1.0 - a - b);
            let j = (nppm + FUZZ).floor();
            let h = nppm - j;
            (j, if h.abs() < FUZZ { 0.0 } else { h })
        }
    };

    let q_lo = order(j);
    let q_hi = order(j + 1.0);
    if h == 1.0 {
        q_hi
    } else if h > 0.0 && h < 1.0 && q_lo != q_hi {
        (1.0 - h) * q_lo + h * q_hi
    } else {
        q_lo
    }
}

/// A sorted copy of a sample, checked to be non-empty and finite: the input that
/// [`quantile_sorted`] expects.
///
/// Sorts with `f64::total_cmp` (O(n log n) time, O(n) memory).
///
/// # Errors
///
/// [`Error::EmptyInput`](crate::Error::EmptyInput) if the sample is empty and
/// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) if it holds NaN or an infinity.
///
/// # Example
///
/// ```
/// use canary_verdict::stats::sorted_sample;
///
/// assert_eq!(sorted_sample(&[2.0, -1.0, 0.5])?, vec![-1.0, 0.5, 2.0]);
/// assert!(sorted_sample(&[1.0, f64::NAN]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sorted_sample(sample: &[f64]) -> Result<Vec<f64>> {
    sorted_copy(sample)
}

/// Validates and sorts a sample (shared by the crate's one-sample functions).
pub(crate) fn sorted_copy(sample: &[f64]) -> Result<Vec<f64>> {
    check_input(sample)?;
    let mut sorted = sample.to_vec();
    crate::stats::sorted::sort_finite(&mut sorted);
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_type_round_trip() {
        for ty in QuantileType::ALL {
            assert_eq!(QuantileType::from_r_type(ty.r_type()), Some(ty));
        }
        assert_eq!(QuantileType::from_r_type(0), None);
        assert_eq!(QuantileType::from_r_type(10), None);
        assert_eq!(QuantileType::default(), QuantileType::Type7);
    }

    #[test]
    fn single_point_is_every_quantile() {
        for ty in QuantileType::ALL {
            for p in [0.0, 0.01, 0.5, 1.0] {
                assert_eq!(quantile_sorted(&[4.5], p, ty), 4.5, "{ty:?} p={p}");
            }
        }
    }

    #[test]
    fn extremes_at_p_zero_and_one() {
        let sorted = [-3.0, 1.0, 2.0, 8.0];
        for ty in QuantileType::ALL {
            assert_eq!(quantile_sorted(&sorted, 0.0, ty), -3.0, "{ty:?}");
            assert_eq!(quantile_sorted(&sorted, 1.0, ty), 8.0, "{ty:?}");
        }
    }

    #[test]
    fn bad_p_in_fast_path_is_nan() {
        for p in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(quantile_sorted(&[1.0, 2.0], p, QuantileType::Type7).is_nan());
        }
    }
}
