//! The one error type of the crate: every bad input gets a variant that says what is wrong and where.

use std::fmt;

/// Which side of the comparison a value belongs to.
///
/// Formulas in this crate write the canary as `x` and the baseline as `y`, so a positive shift
/// means the canary is larger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Arm {
    /// The running version the canary is compared against.
    Baseline,
    /// The new version under judgment.
    Canary,
}

impl fmt::Display for Arm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Arm::Baseline => "baseline",
            Arm::Canary => "canary",
        })
    }
}

/// Everything that can go wrong in this crate. Each variant names the field or the arm at fault.
#[doc = ""]
#[doc = include_str!("docs/bad_input.md")]
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A sample that a statistic needs has no points.
    #[error("the {arm} sample is empty")]
    EmptySample {
        /// The arm whose sample is empty.
        arm: Arm,
    },
    /// A sample holds NaN or an infinity; clean it before comparing.
    #[error("the {arm} sample holds a non-finite value ({value}) at index {index}")]
    NonFinite {
        /// The arm whose sample holds the value.
        arm: Arm,
        /// Position of the first offending value.
        index: usize,
        /// The value itself (NaN or an infinity).
        value: f64,
    },
    /// A numeric parameter lies outside its domain.
    #[error("{field} = {value} is invalid: expected {expected}")]
    InvalidParameter {
        /// The parameter's name, as spelled in the config struct.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The domain the value must lie in.
        expected: &'static str,
    },
    /// A count input is inconsistent (events above trials, zero exposure, ...).
    #[error("{field}: {reason}")]
    InvalidCounts {
        /// The field at fault, for example `canary.events`.
        field: &'static str,
        /// What is wrong with it, with the numbers.
        reason: String,
    },
    /// An exact distribution was requested for samples past the documented size cap.
    #[error(
        "exact {what} for {n_baseline} baseline and {n_canary} canary points exceeds the cap ({cap}); use the asymptotic method"
    )]
    ExactTooLarge {
        /// The distribution asked for.
        what: &'static str,
        /// Baseline sample size.
        n_baseline: usize,
        /// Canary sample size.
        n_canary: usize,
        /// The cap that was exceeded, in words.
        cap: &'static str,
    },
    /// The data cannot support the statistic, for example a zero variance where one is divided by.
    #[error("{what} is undefined: {reason}")]
    Degenerate {
        /// The statistic.
        what: &'static str,
        /// Why it is undefined for these data.
        reason: &'static str,
    },
    /// A sample given to a one-sample function ([`quantile`](crate::stats::quantile),
    /// [`Summary::of`](crate::stats::Summary::of), [`Fences::tukey`](crate::stats::Fences::tukey), ...) has no
    /// points. These functions do not know which arm the sample belongs to; comparison code that
    /// does reports [`Error::EmptySample`] instead.
    #[error("the sample is empty")]
    EmptyInput,
    /// A sample given to a one-sample function holds NaN or an infinity; clean it first.
    /// Comparison code that knows the arm reports [`Error::NonFinite`] instead.
    #[error("the sample holds a non-finite value ({value}) at index {index}")]
    NonFiniteInput {
        /// Position of the first offending value.
        index: usize,
        /// The value itself (NaN or an infinity).
        value: f64,
    },
    /// A policy field is invalid; names the metric (or group) and the field.
    #[error("policy: {}{field}: {problem}", if metric.is_empty() { String::new() } else { format!("metric {metric}: ") })]
    InvalidPolicy {
        /// The metric or group at fault (empty for canary-level fields).
        metric: String,
        /// The field, as spelled in the policy.
        field: &'static str,
        /// What is wrong, with the values.
        problem: String,
    },
    /// Input data for a metric is invalid; names the metric, the arm and the field.
    #[error("metric {metric}: {arm} {field}: {problem}")]
    InvalidData {
        /// The metric.
        metric: String,
        /// The arm.
        arm: Arm,
        /// The field at fault (`value`, `events`, `trials`, `timestamp`, ...).
        field: &'static str,
        /// What is wrong, with the values.
        problem: String,
    },
    /// The data handed to the judge do not match the policy (a metric given twice, or one the
    /// policy does not list).
    #[error("metric {metric}: {problem}")]
    DataMismatch {
        /// The metric.
        metric: String,
        /// What is wrong.
        problem: String,
    },
    /// Paired samples whose arms differ in length: each canary point needs its baseline point.
    #[error("paired samples differ in length: {n_baseline} baseline vs {n_canary} canary points")]
    LengthMismatch {
        /// Baseline length.
        n_baseline: usize,
        /// Canary length.
        n_canary: usize,
    },
    /// A p-value handed to a multiple-testing adjustment is NaN or outside [0, 1].
    #[error("p_values[{index}] = {value} is not a probability in [0, 1]")]
    InvalidPValue {
        /// Position of the first offending p-value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A metric's policy asks for a test that its kind of data does not support (an exceedance
    /// or Anderson-Darling aspect, or a paired comparison, on histogram input).
    #[error("metric {metric}: {what} is not defined on {data}")]
    Unsupported {
        /// The metric.
        metric: String,
        /// The test or aspect asked for, as the policy names it.
        what: String,
        /// The kind of data it was asked of (`histograms`).
        data: &'static str,
    },
    /// A Kayenta canary config (or Kayenta metric-set-pair list) cannot be imported, or a policy
    /// cannot be judged in Kayenta's mode; names the JSON field (a path such as
    /// `metrics[2].analysisConfigurations.canary.critical`) or the policy field at fault.
    #[error("kayenta config: {field}: {problem}")]
    KayentaConfig {
        /// The field at fault, as a path into the JSON document or the policy.
        field: String,
        /// What is wrong, with the value.
        problem: String,
    },
    /// A criterion `sample.json` or `benchmark.json` cannot be read; names the field.
    #[error("criterion sample: {field}: {problem}")]
    CriterionSample {
        /// The field at fault (`iters`, `times`, `full_id`).
        field: String,
        /// What is wrong, with the value.
        problem: String,
    },
    /// A Prometheus query result cannot be read or turned into series; names the series (its
    /// label set, or the arm's selector) and the field (`values[3]`, `le`, `buckets[2]`, ...).
    #[error("prometheus: {series} {field}: {problem}")]
    Prometheus {
        /// The series at fault, as PromQL writes a label set (empty for the response itself).
        series: String,
        /// The field at fault.
        field: String,
        /// What is wrong, with the value.
        problem: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that a sample is non-empty and finite, reporting the arm and the first bad index.
pub(crate) fn check_sample(arm: Arm, sample: &[f64]) -> Result<()> {
    if sample.is_empty() {
        return Err(Error::EmptySample { arm });
    }
    check_finite(arm, sample)
}

/// Whether every value is finite, without stopping early: a loop the compiler can vectorize,
/// for the common case; the first bad value is looked for only when there is one.
pub(crate) fn all_finite(values: impl Iterator<Item = f64>) -> bool {
    values.fold(true, |all, v| all & v.is_finite())
}

/// Checks that every value is finite, reporting the arm and the first bad index.
pub(crate) fn check_finite(arm: Arm, sample: &[f64]) -> Result<()> {
    if all_finite(sample.iter().copied()) {
        return Ok(());
    }
    match sample.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            arm,
            index,
            value: sample[index],
        }),
        None => Ok(()),
    }
}

/// Checks that a probability-like level lies strictly inside (0, 1).
pub(crate) fn check_level(field: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            field,
            value,
            expected: "a number strictly between 0 and 1",
        })
    }
}

/// Checks that a sample given without an arm is non-empty and finite, reporting the first bad
/// index.
pub(crate) fn check_input(sample: &[f64]) -> Result<()> {
    if sample.is_empty() {
        return Err(Error::EmptyInput);
    }
    match sample.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFiniteInput {
            index,
            value: sample[index],
        }),
        None => Ok(()),
    }
}

/// Checks that a probability lies in the closed interval [0, 1].
pub(crate) fn check_probability(field: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            field,
            value,
            expected: "a probability between 0 and 1 inclusive",
        })
    }
}
