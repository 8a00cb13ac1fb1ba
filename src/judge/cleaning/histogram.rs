//! Histograms in the cleaning stage: each arm checked, the arms' bounds matched, and histograms
//! of several windows merged (the progressive analysis accumulates them).

use crate::error::{Arm, Error, Result};
use crate::judge::cleaning::Cleaned;
use crate::policy::{MetricKind, MetricPolicy};
use crate::series::Series;
use crate::stats::histogram::{bounds_differ, Histogram};

/// A histogram check's error, told with the metric and the arm.
pub(crate) fn as_data_error(metric: &str, arm: Arm, e: Error) -> Error {
    match e {
        Error::InvalidCounts { field, reason } => Error::InvalidData {
            metric: metric.to_string(),
            arm,
            field,
            problem: reason,
        },
        other => other,
    }
}

/// Adds the counts of `more` to `acc` (successive intervals of one arm): both must be valid and
/// share their bounds.
///
/// # Errors
/// [`Error::InvalidData`] naming the metric, the arm and the field.
pub(crate) fn merge_into(
    acc: &mut Histogram,
    more: &Histogram,
    metric: &str,
    arm: Arm,
) -> Result<()> {
    for h in [&*acc, more] {
        h.check(true).map_err(|e| as_data_error(metric, arm, e))?;
    }
    let data_error = |field, problem| Error::InvalidData {
        metric: metric.to_string(),
        arm,
        field,
        problem,
    };
    if let Some((field, problem)) = bounds_differ(acc, more) {
        return Err(data_error(
            field,
            format!("intervals of the window: {problem}"),
        ));
    }
    for (a, &b) in acc.counts.iter_mut().zip(&more.counts) {
        *a = a
            .checked_add(b)
            .ok_or_else(|| data_error("counts", "the window's counts overflow".into()))?;
    }
    Ok(())
}

/// Cleans a metric whose data are histograms: `None` when neither arm is one.
///
/// Both arms must be histograms of a continuous metric, each valid (a total of 0 is allowed: the
/// judge reports the arm as without data), with the same bounds. The NaN and outlier policies do
/// not apply: a histogram holds no values to drop.
///
/// # Errors
/// [`Error::InvalidData`] naming the metric, the arm and the field (`series`, `lowest`,
/// `upper_bounds`, `counts`).
pub(crate) fn clean_histograms(
    policy: &MetricPolicy,
    baseline: &Series,
    canary: &Series,
) -> Result<Option<Cleaned>> {
    let data_error = |arm, field, problem: String| Error::InvalidData {
        metric: policy.name.clone(),
        arm,
        field,
        problem,
    };
    let mixed = |arm| {
        data_error(
            arm,
            "series",
            "not a histogram, while the other arm is one: both arms must be histograms".into(),
        )
    };
    let (b, c) = match (baseline, canary) {
        (Series::Histogram(b), Series::Histogram(c)) => (b, c),
        (Series::Histogram(_), _) => return Err(mixed(Arm::Canary)),
        (_, Series::Histogram(_)) => return Err(mixed(Arm::Baseline)),
        _ => return Ok(None),
    };
    if policy.kind == MetricKind::Counter {
        return Err(data_error(
            Arm::Baseline,
            "series",
            "a histogram given for a counter metric, which needs counts (events out of trials)"
                .into(),
        ));
    }
    for (arm, h) in [(Arm::Baseline, b), (Arm::Canary, c)] {
        h.check(true)
            .map_err(|e| as_data_error(&policy.name, arm, e))?;
    }
    if let Some((field, problem)) = bounds_differ(b, c) {
        return Err(data_error(Arm::Canary, field, problem));
    }
    Ok(Some(Cleaned::Histograms {
        baseline: b.clone(),
        canary: c.clone(),
    }))
}
