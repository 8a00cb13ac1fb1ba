//! Alternatives and confidence intervals shared by every test in the crate.

use std::fmt;

/// The alternative hypothesis, always stated for the canary against the baseline.
///
/// `Greater` means "the canary is stochastically larger than the baseline (plus the null shift)",
/// as `alternative = "greater"` in R's `wilcox.test(canary, baseline)` or SciPy's
/// `mannwhitneyu(canary, baseline)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Alternative {
    /// The canary differs from the baseline in either direction.
    #[default]
    TwoSided,
    /// The canary is smaller than the baseline.
    Less,
    /// The canary is larger than the baseline.
    Greater,
}

impl Alternative {
    /// The alternative seen from the other arm: `Less` and `Greater` swap, `TwoSided` stays.
    pub fn mirrored(self) -> Alternative {
        match self {
            Alternative::TwoSided => Alternative::TwoSided,
            Alternative::Less => Alternative::Greater,
            Alternative::Greater => Alternative::Less,
        }
    }
}

impl fmt::Display for Alternative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Alternative::TwoSided => "two-sided",
            Alternative::Less => "less",
            Alternative::Greater => "greater",
        })
    }
}

/// A confidence interval; one-sided intervals have an infinite end.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfidenceInterval {
    /// Lower end (`-inf` for an upper one-sided interval).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub lower: f64,
    /// Upper end (`+inf` for a lower one-sided interval).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub upper: f64,
    /// The confidence level the interval achieves (it can differ from the one requested when the
    /// statistic is discrete).
    pub level: f64,
}

impl ConfidenceInterval {
    /// Whether `value` lies inside the closed interval.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

impl fmt::Display for ConfidenceInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}, {}] ({}%)",
            fmt_g(self.lower),
            fmt_g(self.upper),
            fmt_g(self.level * 100.0)
        )
    }
}

/// Formats a number compactly with about four significant digits, for CI logs.
pub(crate) fn fmt_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..1e6).contains(&a) {
        return format!("{v:.3e}");
    }
    let digits = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// How a rank test computes its p-value.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Method {
    /// R's rule: exact when both samples have fewer than 50 points, asymptotic otherwise.
    #[default]
    Auto,
    /// Always the exact null distribution (the conditional one when there are ties); a typed
    /// error past the documented size caps.
    Exact,
    /// Always the normal approximation with the tie-corrected variance.
    Asymptotic,
}

/// How a result was actually computed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MethodUsed {
    /// The exact null distribution without ties.
    Exact,
    /// The exact permutation distribution conditional on the observed ties.
    ExactConditional,
    /// The normal approximation.
    Asymptotic,
}

impl fmt::Display for MethodUsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            MethodUsed::Exact => "exact",
            MethodUsed::ExactConditional => "exact conditional",
            MethodUsed::Asymptotic => "asymptotic",
        })
    }
}
