//! Cleaning: missing points and outliers are handled per the metric's policy, counters are
//! checked and totalled, and timestamped arms are paired when they can be.

use std::collections::BTreeMap;

use crate::error::{all_finite, Arm, Error, Result};
use crate::policy::{Comparator, MetricKind, MetricPolicy, NanPolicy, OutlierPolicy};
use crate::series::{CountPoint, Point, Series};
use crate::stats::fences::Fences;
use crate::stats::histogram::Histogram;

mod histogram;
pub(crate) use histogram::merge_into as merge_histograms;

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
    /// Per-request values in time blocks matched by timestamp (same number of blocks, in time
    /// order; every block has values in both arms).
    Blocked {
        baseline: Vec<Vec<f64>>,
        canary: Vec<Vec<f64>>,
        /// Blocks without a partner (or emptied by the NaN rule), left out.
        unmatched: usize,
    },
    /// Counter totals.
    Counts { baseline: Totals, canary: Totals },
    /// Histograms with the same bounds, checked (see `histogram::clean_histograms`).
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
            Cleaned::Blocked {
                baseline, canary, ..
            } => (
                baseline.iter().map(Vec::len).sum(),
                canary.iter().map(Vec::len).sum(),
            ),
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
        // Blocks met with another kind of series: their values, as samples.
        Series::Blocks(b) => b
            .iter()
            .flat_map(|b| &b.values)
            .enumerate()
            .try_for_each(|(i, &v)| keep(i, v))?,
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
        // Histograms are cleaned before this point (histogram::clean_histograms).
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

/// The order of a Points series by timestamp: `None` when the points are already strictly
/// increasing in time (the common case: no allocation), else their indices sorted by timestamp.
/// A timestamp given twice is an error naming the index of its second appearance.
fn time_order(policy: &MetricPolicy, arm: Arm, points: &[Point]) -> Result<Option<Vec<usize>>> {
    if points.windows(2).all(|w| w[0].timestamp < w[1].timestamp) {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..points.len()).collect();
    // Stable: within one timestamp the indices stay increasing, so the second of a run is the
    // second appearance; the smallest such index is the first duplicate met reading the input.
    order.sort_by_key(|&i| points[i].timestamp);
    let second = order
        .windows(2)
        .filter(|w| points[w[0]].timestamp == points[w[1]].timestamp)
        .map(|w| w[1])
        .min();
    if let Some(i) = second {
        return Err(bad(
            &policy.name,
            arm,
            "timestamp",
            format!(
                "{} appears twice (second at index {i})",
                points[i].timestamp
            ),
        ));
    }
    Ok(Some(order))
}

/// The cleaned pairs of two Points series: values at the timestamps both arms hold, after the
/// NaN rule, in time order.
struct Pairs {
    baseline: Vec<f64>,
    canary: Vec<f64>,
    /// Points (after the NaN rule) of each arm.
    kept: (usize, usize),
}

/// Pairs two Points series by timestamp with a merge of their time orders: O(n log n) time for
/// unsorted input (O(n) when sorted), and memory for the pairs plus, for an unsorted arm, one
/// index per point.
fn pair_by_time(policy: &MetricPolicy, baseline: &[Point], canary: &[Point]) -> Result<Pairs> {
    let ob = time_order(policy, Arm::Baseline, baseline)?;
    let oc = time_order(policy, Arm::Canary, canary)?;
    let at = |order: &Option<Vec<usize>>, k: usize| order.as_ref().map_or(k, |o| o[k]);
    // The NaN rule on each point as the merge meets it (in time order); `reject` names the
    // point's index in the input.
    let clean_value = |arm, points: &[Point], i: usize| nan_rule(policy, arm, i, points[i].value);
    let mut kept = (0usize, 0usize);
    let cap = baseline.len().min(canary.len());
    let (mut pb, mut pc) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    let (mut j, mut k) = (0usize, 0usize);
    while j < baseline.len() || k < canary.len() {
        let ib = (j < baseline.len()).then(|| at(&ob, j));
        let ic = (k < canary.len()).then(|| at(&oc, k));
        let order = match (ib, ic) {
            (Some(b), Some(c)) => baseline[b].timestamp.cmp(&canary[c].timestamp),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let vb = match (order.is_le(), ib) {
            (true, Some(b)) => {
                j += 1;
                clean_value(Arm::Baseline, baseline, b)?
            }
            _ => None,
        };
        let vc = match (order.is_ge(), ic) {
            (true, Some(c)) => {
                k += 1;
                clean_value(Arm::Canary, canary, c)?
            }
            _ => None,
        };
        kept.0 += usize::from(vb.is_some());
        kept.1 += usize::from(vc.is_some());
        if let (Some(vb), Some(vc)) = (vb, vc) {
            pb.push(vb);
            pc.push(vc);
        }
    }
    Ok(Pairs {
        baseline: pb,
        canary: pc,
        kept,
    })
}

/// The largest count, per interval and in total, that a counter metric is judged with: 2^53,
/// where every whole number is still exact in an `f64` (the count tests take them as such).
const MAX_COUNT: u64 = 1 << 53;
const MAX_COUNT_F64: f64 = MAX_COUNT as f64;

/// Totals a counter series over the window: every point's events and trials whole, at least 0,
/// events at most trials, each count and each total at most 2^53.
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
            if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0) {
                return Err(bad(
                    &policy.name,
                    arm,
                    field,
                    format!("{v} at index {i} is not a whole number of at least 0"),
                ));
            }
            if v > MAX_COUNT_F64 {
                return Err(bad(
                    &policy.name,
                    arm,
                    field,
                    format!(
                        "{v} at index {i} is above the largest count judged, 2^53 = {MAX_COUNT}"
                    ),
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
        // Checked sums: a wrapped total would judge a different canary. Each term is at most
        // 2^53, so the u64 sums cannot wrap before the limit is passed; checked all the same.
        for (field, total, v) in [("events", &mut events, e), ("trials", &mut trials, t)] {
            *total = match total.checked_add(v as u64) {
                Some(sum) if sum <= MAX_COUNT => sum,
                _ => {
                    return Err(bad(
                        &policy.name,
                        arm,
                        field,
                        format!(
                            "the {field} add up to more than the largest total judged, \
                             2^53 = {MAX_COUNT}, at index {i}"
                        ),
                    ))
                }
            };
        }
    }
    Ok(Totals { events, trials })
}

/// Matches the blocks of the two arms by timestamp, after the NaN rule (duplicated timestamps
/// and infinities are errors). Outlier rules are not applied within blocks.
fn blocked(
    policy: &MetricPolicy,
    baseline: &[crate::series::Block],
    canary: &[crate::series::Block],
) -> Result<Cleaned> {
    let arm_map = |arm: Arm, blocks: &[crate::series::Block]| -> Result<BTreeMap<_, Vec<f64>>> {
        let mut map = BTreeMap::new();
        let mut index = 0usize;
        for (k, b) in blocks.iter().enumerate() {
            let mut values = Vec::with_capacity(b.values.len());
            for &v in &b.values {
                if let Some(v) = nan_rule(policy, arm, index, v)? {
                    values.push(v);
                }
                index += 1;
            }
            if map.insert(b.timestamp, values).is_some() {
                return Err(bad(
                    &policy.name,
                    arm,
                    "timestamp",
                    format!("{} appears twice (second at block {k})", b.timestamp),
                ));
            }
        }
        Ok(map)
    };
    let mut b = arm_map(Arm::Baseline, baseline)?;
    let c = arm_map(Arm::Canary, canary)?;
    let (mut pb, mut pc) = (Vec::new(), Vec::new());
    let total = b.len() + c.len();
    for (t, vc) in c {
        if let Some(vb) = b.remove(&t) {
            if !vb.is_empty() && !vc.is_empty() {
                pb.push(vb);
                pc.push(vc);
            }
        }
    }
    Ok(Cleaned::Blocked {
        unmatched: total - 2 * pb.len(),
        baseline: pb,
        canary: pc,
    })
}

/// Cleans one metric's data per its policy.
///
/// # Errors
/// [`Error::InvalidData`] naming the metric, the arm and the field.
pub(crate) fn clean(policy: &MetricPolicy, baseline: &Series, canary: &Series) -> Result<Cleaned> {
    if let Some(h) = histogram::clean_histograms(policy, baseline, canary)? {
        return Ok(h);
    }
    if policy.kind == MetricKind::Counter {
        return Ok(Cleaned::Counts {
            baseline: totals(policy, Arm::Baseline, baseline)?,
            canary: totals(policy, Arm::Canary, canary)?,
        });
    }
    if let (Comparator::Auto | Comparator::RankSum, Series::Blocks(b), Series::Blocks(c)) =
        (policy.comparator, baseline, canary)
    {
        return blocked(policy, b, c);
    }
    let signed_rank = policy.comparator == Comparator::SignedRank;
    if signed_rank {
        // The signed-rank test pairs points by timestamp: samples have none, and falling back
        // to the rank-sum test would judge by a test the policy did not ask for.
        for (arm, series) in [(Arm::Baseline, baseline), (Arm::Canary, canary)] {
            if matches!(series, Series::Samples(v) if !v.is_empty())
                || matches!(series, Series::Blocks(b) if !b.is_empty())
            {
                return Err(bad(
                    &policy.name,
                    arm,
                    "series",
                    "samples have no timestamps, and the comparator signed_rank pairs points by \
                     timestamp: give timestamped points, or use rank_sum"
                        .into(),
                ));
            }
        }
    }
    if let (Comparator::Auto | Comparator::SignedRank, Series::Points(b), Series::Points(c)) =
        (policy.comparator, baseline, canary)
    {
        let Pairs {
            baseline: mut pb,
            canary: mut pc,
            kept,
        } = pair_by_time(policy, b, c)?;
        // Auto pairs when most kept points of each arm have their partner (a few minutes
        // missing from one arm, a NaN minute dropped, do not undo the pairing and its
        // cancellation of the load both arms share); the points without a partner are left out
        // and counted. Otherwise the arms are judged unpaired below (the rank-sum test).
        let mostly_paired = 2 * pb.len() > kept.0 && 2 * pb.len() > kept.1;
        if signed_rank && (kept.0 == 0 || kept.1 == 0) {
            // An arm without points has nothing to pair: its points, as given, let the judge
            // name the empty arm (an empty pairing would have both arms empty).
            return Ok(Cleaned::Unpaired {
                baseline: values(policy, Arm::Baseline, baseline)?,
                canary: values(policy, Arm::Canary, canary)?,
                in_time_order: true,
            });
        }
        if signed_rank && pb.is_empty() {
            return Err(bad(
                &policy.name,
                Arm::Canary,
                "timestamp",
                format!(
                    "no timestamp is shared with the baseline ({} baseline and {} canary points), \
                     so the comparator signed_rank has no pairs",
                    kept.0, kept.1
                ),
            ));
        }
        if mostly_paired || signed_rank {
            let unpaired = kept.0 + kept.1 - 2 * pb.len();
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
    Ok(Cleaned::Unpaired {
        baseline: values(policy, Arm::Baseline, baseline)?,
        canary: values(policy, Arm::Canary, canary)?,
        in_time_order: matches!((baseline, canary), (Series::Points(_), Series::Points(_))),
    })
}
