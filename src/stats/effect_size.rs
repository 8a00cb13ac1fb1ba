//! Effect sizes of the canary against the baseline: how large a difference is, beside whether it
//! is significant.

use std::fmt;

use crate::error::{Error, Result};
use crate::stats::hypothesis::fmt_g;
use crate::stats::quantile::{quantile_sorted, QuantileType};
use crate::stats::rank_sum::TwoSample;
use crate::stats::summary::{mean_of, sd_of};

/// The four effect sizes of a comparison; a size that is undefined for the data is `None` (the
/// individual methods on [`TwoSample`] say why, as an [`Error::Degenerate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EffectSizes {
    /// `mean(canary) / mean(baseline)` (Kayenta's default measure).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub mean_ratio: Option<f64>,
    /// Common-language effect size `P(canary > baseline) + ½ P(canary = baseline) = U / (n·m)`.
    pub cles: f64,
    /// Cohen's d with the pooled standard deviation.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub cohens_d: Option<f64>,
    /// Hodges-Lehmann shift divided by the baseline's median.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub relative_shift: Option<f64>,
}

impl fmt::Display for EffectSizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), fmt_g);
        write!(
            f,
            "mean ratio {}, CLES {}, Cohen's d {}, relative shift {}",
            opt(self.mean_ratio),
            fmt_g(self.cles),
            opt(self.cohens_d),
            opt(self.relative_shift)
        )
    }
}

impl TwoSample {
    /// Ratio of means, `mean(canary) / mean(baseline)`, with R's two-pass mean.
    ///
    /// # Errors
    /// [`Error::Degenerate`] when the baseline mean is zero.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::stats::TwoSample;
    /// use canary_verdict::Arms;
    /// let pair = TwoSample::new(Arms {
    ///     baseline: &[10.0, 20.0],
    ///     canary: &[12.0, 24.0],
    /// })?;
    /// assert_eq!(pair.mean_ratio()?, 1.2);
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn mean_ratio(&self) -> Result<f64> {
        ratio_of_means(mean_of(self.baseline()), mean_of(self.canary()))
    }

    /// Common-language effect size (McGraw & Wong, *Psychological Bulletin* 111, 1992):
    /// `P(canary > baseline) + ½ P(canary = baseline) = U / (n·m)`, 0.5 when the arms do not
    /// differ. Also the AUC of the canary-versus-baseline classifier.
    pub fn cles(&self) -> f64 {
        let mn = self.canary().len() as f64 * self.baseline().len() as f64;
        self.u_statistic() / mn
    }

    /// Cohen's d, `(mean_c − mean_b) / s_p` with the pooled standard deviation
    /// `s_p² = ((n_c − 1) s_c² + (n_b − 1) s_b²) / (n_c + n_b − 2)` (Cohen, *Statistical Power
    /// Analysis for the Behavioral Sciences*, 1988, §2.2).
    ///
    /// # Errors
    /// [`Error::Degenerate`] with fewer than three points in all or a zero pooled deviation.
    pub fn cohens_d(&self) -> Result<f64> {
        let (c, b) = (self.canary(), self.baseline());
        let (nc, nb) = (c.len() as f64, b.len() as f64);
        if nc + nb < 3.0 {
            return Err(Error::Degenerate {
                what: "Cohen's d",
                reason: "the pooled standard deviation needs at least three points",
            });
        }
        let (mc, mb) = (mean_of(c), mean_of(b));
        let (sc, sb) = (sd_of(c, mc), sd_of(b, mb));
        let pooled = (((nc - 1.0) * sc * sc + (nb - 1.0) * sb * sb) / (nc + nb - 2.0)).sqrt();
        if pooled == 0.0 || !pooled.is_finite() {
            return Err(Error::Degenerate {
                what: "Cohen's d",
                reason: "the pooled standard deviation is zero or not finite",
            });
        }
        Ok((mc - mb) / pooled)
    }

    /// The Hodges-Lehmann shift relative to the baseline's median (R's `median`, quantile type
    /// 7): `median(canary_i − baseline_j) / median(baseline)`, a robust "percent change".
    ///
    /// # Errors
    /// [`Error::Degenerate`] when the baseline median is zero.
    pub fn relative_shift(&self) -> Result<f64> {
        self.relative_to_baseline_median(self.hodges_lehmann_estimate())
    }

    /// `shift / median(baseline)`, for a shift already estimated.
    pub(crate) fn relative_to_baseline_median(&self, shift: f64) -> Result<f64> {
        let median = quantile_sorted(self.baseline(), 0.5, QuantileType::Type7);
        if median == 0.0 {
            return Err(Error::Degenerate {
                what: "relative shift",
                reason: "the baseline median is zero",
            });
        }
        Ok(shift / median)
    }

    /// All four effect sizes; undefined ones are `None`.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::stats::TwoSample;
    /// use canary_verdict::Arms;
    /// let pair = TwoSample::new(Arms {
    ///     baseline: &[100.0, 110.0, 90.0, 105.0],
    ///     canary: &[120.0, 130.0, 110.0, 125.0],
    /// })?;
    /// let sizes = pair.effect_sizes();
    /// assert_eq!(sizes.relative_shift, Some(20.0 / 102.5));
    /// assert!(sizes.cles > 0.9);
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn effect_sizes(&self) -> EffectSizes {
        EffectSizes {
            mean_ratio: self.mean_ratio().ok(),
            cles: self.cles(),
            cohens_d: self.cohens_d().ok(),
            relative_shift: self.relative_shift().ok(),
        }
    }
}

/// `canary_mean / baseline_mean`, for means already computed (a summary holds them).
///
/// # Errors
/// [`Error::Degenerate`] when the baseline mean is zero.
pub(crate) fn ratio_of_means(baseline_mean: f64, canary_mean: f64) -> Result<f64> {
    if baseline_mean == 0.0 {
        return Err(Error::Degenerate {
            what: "mean ratio",
            reason: "the baseline mean is zero",
        });
    }
    Ok(canary_mean / baseline_mean)
}
