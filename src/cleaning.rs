//! Cleaning: missing points and outliers are handled per the metric's policy, counters are
//! checked and totalled, and timestamped arms are paired when they can be.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::{all_finite, Arm, Error, Result};
use crate::fences::Fences;
use crate::histogram::Histogram;
use crate::policy::{Comparator, MetricKind, MetricPolicy, NanPolicy, OutlierPolicy};
use crate::series::{CountPoint, Series};

/// A metric's data after cleaning, ready for comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cleaned {
    /// Unpaired measurements.
    Unpaired {
        baseline: Vec<f64>,
        canary: Vec<f64>,
        /// Both arms are timestamped points, here in time order: their serial correlation is
        /// estimated and corrected for (see `dependence`). Raw samples carry no time.
        in_time_order: bool,
    },
    /// Measurements paired by timestamp (same length, same order).
    Paired {
        baseline: Vec<f64>,
        canary: Vec<f64>,
        /// Points without a partner, left out.
        unpaired: usize,
    },
    /// Counter totals.
    Counts { baseline: Totals, canary: Totals },
    /// Histograms with the same bounds, checked (see `histogram_compare::clean`).
    Histograms {
        baseline: Histogram,
        canary: Histogram,
    },
}

/// Events out of trials, totalled over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Totals {
    pub events: u64,
    pub trials: u64,
}

impl Cleaned {
    /// Sizes of the two arms (points, or trials for counters).
    pub(crate) fn sizes(&self) -> (usize, usize) {
        match self {
            Cleaned::Unpaired {
                baseline, canary, ..
            }
            | Cleaned::Paired {
                baseline, canary, ..
            } => (baseline.len(), canary.len()),
            Cleaned::Counts { baseline, canary } => {
                (baseline.trials as usize, canary.trials as usize)
            }
            Cleaned::Histograms { baseline, canary } => (baseline.points(), canary.points()),
        }
    }
}

fn bad(metric: &str, arm: Arm, field: &'static str, problem: String) -> Error {
    Error::InvalidData {
        metric: metric.to_string(),
        arm,
        field,
        problem,
    }
}

/// Applies the NaN policy to one value; `None` drops it.
fn nan_rule(policy: &MetricPolicy, arm: Arm, index: usize, v: f64) -> Result<Option<f64>> {
    if v.is_nan() {
        return match policy.nan {
            NanPolicy::Remove => Ok(None),
            NanPolicy::Replace(r) => Ok(Some(r)),
            NanPolicy::Reject => Err(bad(
                &policy.name,
                arm,
                "value",
                format!("NaN at index {index} (nan policy: reject)"),
            )),
        };
    }
    if v.is_infinite() {
        return Err(bad(
            &policy.name,
            arm,
            "value",
            format!("{v} at index {index} is not finite"),
        ));
    }
    Ok(Some(v))
}

/// The outlier fences of one arm, if the policy removes outliers and the arm has data.
fn fences(policy: &MetricPolicy, values: &[f64]) -> Result<Option<Fences>> {
    if values.is_empty() {
        return Ok(None);
    }
    Ok(match policy.outliers {
        OutlierPolicy::Keep => None,
        OutlierPolicy::RemoveIqr { factor } => Some(Fences::tukey(values, factor)?),
        OutlierPolicy::RemoveIqrWidened { factor } => Some(Fences::widened(values, factor)?),
    })
}

fn values(policy: &MetricPolicy, arm: Arm, series: &Series) -> Result<Vec<f64>> {
    // One pass over the caller's data, no intermediate copy: the cleaned vector is the only
    // allocation (10^7 points per arm are judged in tests/bounds.rs).
    let mut out = Vec::with_capacity(series.len());
    let mut keep = |i: usize, v: f64| -> Result<()> {
        if let Some(v) = nan_rule(policy, arm, i, v)? {
            out.push(v);
        }
        Ok(())
    };
    match series {
        // All finite (the common case): one check, then one copy; the NaN rule has nothing to do.
        Series::Samples(v) if all_finite(v.iter().copied()) => out.extend_from_slice(v),
        Series::Samples(v) => v.iter().enumerate().try_for_each(|(i, &v)| keep(i, v))?,
        // Points in time order, so that their serial correlation can be estimated.
        Series::Points(p) if p.windows(2).all(|w| w[0].timestamp <= w[1].timestamp) => {
            if all_finite(p.iter().map(|p| p.value)) {
                out.extend(p.iter().map(|p| p.value))
            } else {
                p.iter()
                    .enumerate()
                    .try_for_each(|(i, p)| keep(i, p.value))?
            }
        }
        Series::Points(p) => {
            let mut order: Vec<usize> = (0..p.len()).collect();
            order.sort_by_key(|&i| p[i].timestamp);
            order.into_iter().try_for_each(|i| keep(i, p[i].value))?
        }
        Series::Counts(_) => {
            return Err(bad(
                &policy.name,
                arm,
                "series",
                "counter data given for a continuous metric".into(),
            ))
        }
        // Histograms are cleaned before this point (histogram_compare::clean).
        Series::Histogram(_) => {
            return Err(bad(
                &policy.name,
                arm,
                "series",
                "a histogram is judged by its buckets, not as values".into(),
            ))
        }
    }
    if let Some(f) = fences(policy, &out)? {
        f.retain(&mut out);
    }
    Ok(out)
}

/// Timestamp → value for a Points series after the NaN rule; duplicates are an error.
fn by_time(
    policy: &MetricPolicy,
    arm: Arm,
    series: &Series,
) -> Result<Option<BTreeMap<DateTime<Utc>, f64>>> {
    let Series::Points(points) = series else {
        return Ok(None);
    };
    let mut map = BTreeMap::new();
    for (i, p) in points.iter().enumerate() {
        if map.insert(p.timestamp, p.value).is_some() {
            return Err(bad(
                &policy.name,
                arm,
                "timestamp",
                format!("{} appears twice (second at index {i})", p.timestamp),
            ));
        }
    }
    let mut clean = BTreeMap::new();
    for (i, (t, v)) in map.into_iter().enumerate() {
        if let Some(v) = nan_rule(policy, arm, i, v)? {
            clean.insert(t, v);
        }
    }
    Ok(Some(clean))
}

fn totals(policy: &MetricPolicy, arm: Arm, series: &Series) -> Result<Totals> {
    let Series::Counts(points) = series else {
        return Err(bad(
            &policy.name,
            arm,
            "series",
            "a counter metric needs counts (events out of trials)".into(),
        ));
    };
    let mut events = 0u64;
    let mut trials = 0u64;
    for (
        i,
        CountPoint {
            events: e,
            trials: t,
            ..
        },
    ) in points.iter().enumerate()
    {
        let (mut e, mut t) = (*e, *t);
        if e.is_nan() || t.is_nan() {
            match policy.nan {
                NanPolicy::Remove => continue,
                NanPolicy::Replace(r) => {
                    e = if e.is_nan() { r } else { e };
                    t = if t.is_nan() { r } else { t };
                }
                NanPolicy::Reject => {
                    return Err(bad(
                        &policy.name,
                        arm,
                        if e.is_nan() { "events" } else { "trials" },
                        format!("NaN at index {i} (nan policy: reject)"),
                    ))
                }
            }
        }
        for (field, v) in [("events", e), ("trials", t)] {
            if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9.0e15) {
                return Err(bad(
                    &policy.name,
                    arm,
                    field,
                    format!("{v} at index {i} is not a whole number of at least 0"),
                ));
            }
        }
        if e > t {
            return Err(bad(
                &policy.name,
                arm,
                "events",
                format!("{e} events out of {t} trials at index {i}"),
            ));
        }
        events += e as u64;
        trials += t as u64;
    }
    if trials > 9_000_000_000_000_000 {
        return Err(bad(
            &policy.name,
            arm,
            "trials",
            format!("{trials} in total is too large (at most 9e15)"),
        ));
    }
    Ok(Totals { events, trials })
}

/// Cleans one metric's data per its policy.
///
/// # Errors
/// [`Error::InvalidData`] naming the metric, the arm and the field.
pub(crate) fn clean(policy: &MetricPolicy, baseline: &Series, canary: &Series) -> Result<Cleaned> {
    if let Some(h) = crate::histogram_compare::clean(policy, baseline, canary)? {
        return Ok(h);
    }
    if policy.kind == MetricKind::Counter {
        return Ok(Cleaned::Counts {
            baseline: totals(policy, Arm::Baseline, baseline)?,
            canary: totals(policy, Arm::Canary, canary)?,
        });
    }
    let want_pairs = matches!(policy.comparator, Comparator::Auto | Comparator::SignedRank);
    if want_pairs {
        if let (Some(b), Some(c)) = (
            by_time(policy, Arm::Baseline, baseline)?,
            by_time(policy, Arm::Canary, canary)?,
        ) {
            let same_times = b.len() == c.len() && b.keys().eq(c.keys());
            if same_times || policy.comparator == Comparator::SignedRank {
                let mut pb = Vec::new();
                let mut pc = Vec::new();
                for (t, &vb) in &b {
                    if let Some(&vc) = c.get(t) {
                        pb.push(vb);
                        pc.push(vc);
                    }
                }
                let unpaired = b.len() + c.len() - 2 * pb.len();
                // Outliers: drop a pair when either point lies outside its arm's fences.
                if let (Some(fb), Some(fc)) = (fences(policy, &pb)?, fences(policy, &pc)?) {
                    let keep: Vec<bool> = pb
                        .iter()
                        .zip(&pc)
                        .map(|(&x, &y)| fb.contains(x) && fc.contains(y))
                        .collect();
                    let mut it = keep.iter();
                    pb.retain(|_| *it.next().unwrap_or(&true));
                    let mut it = keep.iter();
                    pc.retain(|_| *it.next().unwrap_or(&true));
                }
                return Ok(Cleaned::Paired {
                    baseline: pb,
                    canary: pc,
                    unpaired,
                });
            }
        }
    }
    Ok(Cleaned::Unpaired {
        baseline: values(policy, Arm::Baseline, baseline)?,
        canary: values(policy, Arm::Canary, canary)?,
        in_time_order: matches!((baseline, canary), (Series::Points(_), Series::Points(_))),
    })
}
