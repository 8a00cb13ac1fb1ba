//! Histograms as a series kind of the judge: their checks, the grouped rank-sum test (see
//! [`histogram_mann_whitney`]), the median comparison, the bucket summaries and the tail aspects.

use crate::cleaning::Cleaned;
use crate::compare::{alternative, relative, Comparison, TestDetails, SUMMARY_QUANTILES};
use crate::error::{Arm, Error, Result};
use crate::histogram::{histogram_ks, histogram_quantile_compare, Histogram};
use crate::hypothesis::{fmt_g, Alternative, Method};
use crate::policy::{Comparator, Direction, EffectMeasure, MetricKind, MetricPolicy, Statistic};
use crate::quantile::QuantileType;
use crate::quantile_compare::QuantileCompareConfig;
use crate::rank_sum::{mann_whitney_from_sums, MannWhitney, MannWhitneyConfig};
use crate::ranks::RankSums;
use crate::series::Series;
use crate::summary::Summary;
use crate::tails::{ks_line, not_judged, quantile_outcome, TailAspect, TailResult};

/// Pooled points past which the exact conditional distribution is not built from a histogram
/// (its scores are one per point; the distribution itself has a tighter cap of its own).
const EXACT_POOLED_CAP: u64 = 100_000;

/// The Wilcoxon-Mann-Whitney rank-sum test on two histograms with the same bounds, each bucket a
/// group of ties.
///
/// # Method
///
/// Bucketing maps every point of a bucket to one value, so the bucketed data are heavily tied
/// data, and the rank-sum test applies to them as to any tied sample. With the pooled count
/// `t_k = c_k + b_k` of bucket `k` (canary `c_k`, baseline `b_k`) and `T_k = t_1 + … + t_k`,
/// every point of bucket `k` has the mid-rank `r_k = T_{k−1} + (t_k + 1)/2`; the canary's rank
/// sum is `W = Σ c_k r_k` and `U = W − n(n+1)/2 = Σ c_k (B_{k−1} + b_k/2)` (n canary points,
/// `B_k` the baseline's cumulative count). The p-value is that of [`MannWhitney`] for these
/// ranks, with `Σ(t_k³ − t_k)` in the tie-corrected variance: under [`Method::Asymptotic`]
/// `z = (U − nm/2 − c)/σ`, `σ² = nm/12·((N+1) − Σ(t_k³ − t_k)/(N(N−1)))` with the continuity
/// correction `c`, exactly R's `wilcox.test(rep(x, counts_c), rep(x, counts_b), exact = FALSE,
/// correct = TRUE)` with any increasing value `x_k` per bucket (the upper bounds, say), and the
/// same bits as [`mann_whitney`](crate::mann_whitney) on the data so expanded. Cost O(buckets):
/// counts are never expanded for it. [`Method::Auto`] takes the exact conditional distribution
/// below 50 points per arm, as on samples; that path (and [`Method::Exact`]) lists one score per
/// point, so it is refused past 10^5 pooled points.
///
/// What bucketing costs: the test sees only which bucket each point fell in. It is a valid test
/// of the bucketed distributions (the same fixed map applied to both arms), but a change inside a
/// bucket is invisible, and power falls as the buckets coarsen.
///
/// # Errors
/// [`Error::InvalidCounts`] for an invalid histogram ([`Histogram::validate`]) or bounds that
/// differ between the arms (naming `lowest` or `upper_bounds`); [`Error::InvalidParameter`]
/// naming `mu` unless it is 0 (a shift would move points across buckets);
/// [`Error::ExactTooLarge`] for the exact distribution past its caps.
///
/// # Example
/// ```
/// use canary_verdict::{histogram_mann_whitney, Alternative, Histogram, MannWhitneyConfig, Method};
/// let bounds = vec![0.05, 0.1, 0.25, 0.5, 1.0, f64::INFINITY];
/// let baseline = Histogram::from_buckets(0.0, bounds.clone(), vec![400, 900, 500, 150, 40, 10])?;
/// let canary = Histogram::from_buckets(0.0, bounds, vec![300, 800, 650, 190, 50, 10])?;
/// let cfg = MannWhitneyConfig { alternative: Alternative::Greater, method: Method::Asymptotic, ..Default::default() };
/// let test = histogram_mann_whitney(&baseline, &canary, &cfg)?;
/// assert!(test.p_value < 1e-4 && test.ties);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn histogram_mann_whitney(
    baseline: &Histogram,
    canary: &Histogram,
    config: &MannWhitneyConfig,
) -> Result<MannWhitney> {
    baseline.validate()?;
    canary.validate()?;
    if let Some((field, reason)) = bounds_differ(baseline, canary) {
        return Err(Error::InvalidCounts { field, reason });
    }
    grouped(baseline, canary, config)
}

/// [`histogram_mann_whitney`] on checked histograms with the same bounds.
fn grouped(
    baseline: &Histogram,
    canary: &Histogram,
    config: &MannWhitneyConfig,
) -> Result<MannWhitney> {
    if config.mu != 0.0 {
        return Err(Error::InvalidParameter {
            field: "mu",
            value: config.mu,
            expected: "0 on histograms (a shift would move points across buckets)",
        });
    }
    // The same accumulation, in the same order, as the tie-group walk on expanded samples.
    let (mut sums, mut below) = (RankSums::EMPTY, 0u64);
    for (&cx, &cy) in canary.counts.iter().zip(&baseline.counts) {
        sums.add_group(cx, cy, below);
        below += cy;
    }
    let (m, n) = (baseline.total(), canary.total());
    mann_whitney_from_sums(n as usize, m as usize, sums, config, || {
        if m + n > EXACT_POOLED_CAP {
            return Err(Error::ExactTooLarge {
                what: "conditional rank-sum distribution on histograms",
                n_baseline: m as usize,
                n_canary: n as usize,
                cap: "10^5 pooled points",
            });
        }
        // Doubled mid-ranks 2·T_{k-1} + t_k + 1, one per pooled point.
        let mut scores = Vec::with_capacity((m + n) as usize);
        let mut next_rank = 1u64;
        for (&cx, &cy) in canary.counts.iter().zip(&baseline.counts) {
            let t = cx + cy;
            scores.extend(std::iter::repeat_n(2 * next_rank + t - 1, t as usize));
            next_rank += t;
        }
        Ok(scores)
    })
}

/// Where the canary's bounds differ from the baseline's: the field and what differs.
pub(crate) fn bounds_differ(
    baseline: &Histogram,
    canary: &Histogram,
) -> Option<(&'static str, String)> {
    let (b, c) = (&baseline.upper_bounds, &canary.upper_bounds);
    if canary.lowest != baseline.lowest {
        return Some((
            "lowest",
            format!(
                "{} differs from the other's {}: both histograms need the same bucket bounds",
                fmt_g(canary.lowest),
                fmt_g(baseline.lowest)
            ),
        ));
    }
    if b.len() != c.len() {
        return Some((
            "upper_bounds",
            format!(
                "{} buckets against the other's {}: both histograms need the same bucket bounds",
                c.len(),
                b.len()
            ),
        ));
    }
    let i = b.iter().zip(c).position(|(x, y)| x != y)?;
    Some((
        "upper_bounds",
        format!(
            "bound {i} = {} differs from the other's {}: both histograms need the same bucket bounds",
            fmt_g(c[i]),
            fmt_g(b[i])
        ),
    ))
}

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
pub(crate) fn clean(
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

/// The value standing for bucket `k` in means: its midpoint, or its lower edge for a `+inf`
/// bucket.
fn midpoint(h: &Histogram, k: usize) -> f64 {
    let (lo, hi) = (h.lower_edge(k), h.upper_bounds[k]);
    if hi.is_infinite() {
        lo
    } else {
        // Halves first: no overflow for bounds near f64::MAX.
        lo / 2.0 + hi / 2.0
    }
}

/// The bucket-midpoint mean `Σ c_k x_k / N` (x_k the midpoint, the `+inf` bucket at its lower
/// edge), with one correction pass as R's `mean`. Non-empty histogram.
pub(crate) fn midpoint_mean(h: &Histogram) -> f64 {
    let n = h.total() as f64;
    let weighted = |f: &dyn Fn(f64) -> f64| -> f64 {
        (0..h.counts.len())
            .map(|k| h.counts[k] as f64 / n * f(midpoint(h, k)))
            .sum()
    };
    let mean = weighted(&|x| x);
    mean + weighted(&|x| x - mean)
}

/// The summary of a histogram, from its buckets (see [`histogram_summary`]); non-empty.
fn summary_of(h: &Histogram, probs: &[f64]) -> Summary {
    let n = h.total();
    let mean = midpoint_mean(h);
    let sd = if n < 2 {
        0.0
    } else {
        // Scaled by the largest deviation, so that squares do not overflow.
        let scale = (0..h.counts.len())
            .filter(|&k| h.counts[k] > 0)
            .map(|k| (midpoint(h, k) - mean).abs())
            .fold(0.0f64, f64::max);
        if scale == 0.0 {
            0.0
        } else {
            let nf = n as f64;
            let ss: f64 = (0..h.counts.len())
                .map(|k| h.counts[k] as f64 / nf * ((midpoint(h, k) - mean) / scale).powi(2))
                .sum();
            (ss * nf / (nf - 1.0)).sqrt() * scale
        }
    };
    let first = h.counts.iter().position(|&c| c > 0).unwrap_or(0);
    let last = h.counts.iter().rposition(|&c| c > 0).unwrap_or(0);
    let top = h.upper_bounds[last];
    Summary {
        count: h.points(),
        mean,
        sd,
        min: h.lower_edge(first),
        max: if top.is_infinite() {
            h.lower_edge(last)
        } else {
            top
        },
        // A quantile in the `+inf` bucket is only known to lie beyond the last finite bound:
        // +inf, so that a `max` bound on it fails (it could be breached), never the bound itself.
        quantiles: probs
            .iter()
            .map(|&p| {
                let q = if h.beyond_last_bucket(p) {
                    f64::INFINITY
                } else {
                    h.quantile(p)
                };
                (p, q)
            })
            .collect(),
    }
}

/// Summary of a histogram, approximated from its buckets: `count` the total, `mean` and `sd`
/// from the bucket midpoints with the counts as weights (the `+inf` bucket at its lower edge),
/// `min` the lower edge of the first non-empty bucket, `max` the upper bound of the last one
/// (its lower edge for the `+inf` bucket), and the quantiles interpolated inside their bucket as
/// [`Histogram::quantile`] (Prometheus' `histogram_quantile`). All are bucket approximations of
/// the raw data's figures, off by up to a bucket's width. A quantile that falls in the `+inf`
/// bucket is reported as `+inf` ("beyond the last bucket", [`Histogram::beyond_last_bucket`]):
/// the histogram bounds it only from below, so an upper bound on it can never be said to hold.
///
/// # Errors
/// [`Error::InvalidCounts`] for an invalid histogram ([`Histogram::validate`]);
/// [`Error::InvalidParameter`] naming `p` for a probability outside [0, 1].
///
/// # Example
/// ```
/// use canary_verdict::{histogram_summary, Histogram};
/// let h = Histogram::from_buckets(0.0, vec![1.0, 2.0, f64::INFINITY], vec![2, 1, 1])?;
/// let s = histogram_summary(&h, &[0.5])?;
/// // Midpoints 0.5 (×2) and 1.5; the +inf bucket at its lower edge 2: (1 + 1.5 + 2) / 4.
/// assert_eq!((s.count, s.mean, s.min, s.max), (4, 1.125, 0.0, 2.0));
/// assert_eq!(s.quantile(0.5), Some(1.0));
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn histogram_summary(histogram: &Histogram, probs: &[f64]) -> Result<Summary> {
    histogram.validate()?;
    for &p in probs {
        crate::error::check_probability("p", p)?;
    }
    Ok(summary_of(histogram, probs))
}

/// The summary's quantiles: the usual ones and those the metric's bounds are stated on, so that
/// bounds read the histogram's own quantiles.
fn summary_probs(policy: &MetricPolicy) -> Vec<f64> {
    let mut probs = SUMMARY_QUANTILES.to_vec();
    let stats = [
        policy.bounds.map(|b| b.statistic),
        policy.relative_bounds.map(|r| r.statistic),
    ];
    for st in stats.into_iter().flatten() {
        if let Statistic::Quantile(p) = st {
            if !probs.contains(&p) {
                probs.push(p);
            }
        }
    }
    probs
}

/// Refuses what a histogram cannot answer: a paired comparison, the exceedance and
/// Anderson-Darling aspects.
fn check_supported(policy: &MetricPolicy) -> Result<()> {
    let unsupported = |what: String| Error::Unsupported {
        metric: policy.name.clone(),
        what,
        data: "histograms",
    };
    if policy.comparator == Comparator::SignedRank {
        return Err(unsupported(
            "the signed-rank comparison (pairs by timestamp)".into(),
        ));
    }
    if policy.comparator == Comparator::ThresholdsOnly {
        return Ok(());
    }
    match policy.tails.iter().find(|a| {
        matches!(
            a,
            TailAspect::Exceedance { .. } | TailAspect::AndersonDarling
        )
    }) {
        Some(a) => Err(unsupported(format!("the tail aspect `{a}`"))),
        None => Ok(()),
    }
}

/// Compares two cleaned, non-empty histograms with the same bounds: the grouped rank-sum test in
/// the direction of harm, the medians (interpolated) with their bucket-widened two-sided
/// interval, and the effect on the policy's scale (`relative_shift`: the median ratio and its
/// interval; `absolute`: the median difference and its interval; `mean_ratio`: the ratio of
/// bucket-midpoint means; `cles`: `U/(nm)` from the grouped counts).
pub(crate) fn compare(
    policy: &MetricPolicy,
    baseline: &Histogram,
    canary: &Histogram,
) -> Result<Comparison> {
    check_supported(policy)?;
    let probs = summary_probs(policy);
    let (bs, cs) = (summary_of(baseline, &probs), summary_of(canary, &probs));
    let measure = policy.tolerance.measure;
    if policy.comparator == Comparator::ThresholdsOnly {
        return Ok(Comparison::summaries_only(measure, Some(bs), Some(cs)));
    }
    let test = grouped(
        baseline,
        canary,
        &MannWhitneyConfig {
            alternative: alternative(policy.direction),
            ..Default::default()
        },
    )?;
    let median = histogram_quantile_compare(
        canary,
        baseline,
        &QuantileCompareConfig {
            p: 0.5,
            conf_level: policy.conf_level,
            alternative: Alternative::TwoSided,
            null_ratio: 1.0,
            quantile_type: QuantileType::Type7,
        },
    )?;
    let (mb, ci) = (median.baseline.estimate, median.difference_interval);
    let (effect, effect_interval) = match measure {
        EffectMeasure::RelativeShift => (
            median.ratio.or_else(|| relative(median.difference, mb)),
            median
                .ratio_interval
                .map(|r| (r.lower, r.upper))
                .or_else(|| relative(ci.lower, mb).zip(relative(ci.upper, mb))),
        ),
        EffectMeasure::MeanRatio => ((bs.mean != 0.0).then(|| cs.mean / bs.mean), None),
        EffectMeasure::Cles => (
            Some(test.statistic / (test.n_canary as f64 * test.n_baseline as f64)),
            None,
        ),
        EffectMeasure::Absolute => (Some(median.difference), Some((ci.lower, ci.upper))),
    };
    Ok(Comparison {
        p_value: Some(test.p_value),
        estimate: Some(median.difference),
        interval: Some(ci),
        effect,
        effect_interval,
        measure,
        baseline: Some(bs),
        canary: Some(cs),
        details: Some(TestDetails::Histogram {
            test,
            median: Box::new(median),
        }),
        sorted: None,
        dependence: None,
        se_effect: None,
        p_floor: None,
    })
}

/// The tail aspects on histograms: quantiles by [`histogram_quantile_compare`] (for a `decrease`
/// metric, `quantile { p }` looks at the `1 − p` quantile, as on samples), Kolmogorov-Smirnov by
/// [`histogram_ks`]; one-sided in the direction of harm, two-sided for `either`.
pub(crate) fn tails(
    policy: &MetricPolicy,
    baseline: &Histogram,
    canary: &Histogram,
) -> Vec<TailResult> {
    let dir = policy.direction;
    let alt = alternative(dir);
    let sizes = (baseline.points(), canary.points());
    policy
        .tails
        .iter()
        .map(|&aspect| match aspect {
            TailAspect::Quantile { p, tolerance } => {
                let (level, null_ratio) = match dir {
                    Direction::Decrease => (1.0 - p, 1.0 - tolerance),
                    _ => (p, 1.0 + tolerance),
                };
                let cfg = QuantileCompareConfig {
                    p: level,
                    conf_level: policy.conf_level,
                    alternative: alt,
                    null_ratio,
                    quantile_type: QuantileType::Type7,
                };
                let report_cfg = QuantileCompareConfig {
                    alternative: Alternative::TwoSided,
                    ..cfg
                };
                let runs = histogram_quantile_compare(canary, baseline, &cfg).and_then(|t| {
                    Ok((
                        t,
                        histogram_quantile_compare(canary, baseline, &report_cfg)?,
                    ))
                });
                match runs {
                    Ok((test, report)) => {
                        let harmful = match alt {
                            Alternative::Greater => test.difference > 0.0,
                            Alternative::Less => test.difference < 0.0,
                            Alternative::TwoSided => true,
                        };
                        let name = format!("p{}", fmt_g(level * 100.0));
                        quantile_outcome(aspect, &name, (&test, &report), harmful, false, sizes)
                    }
                    Err(e) => not_judged(aspect, e),
                }
            }
            TailAspect::KolmogorovSmirnov => {
                match histogram_ks(canary, baseline, alt, Method::Auto) {
                    Ok(t) => TailResult {
                        aspect,
                        p_value: Some(t.p_value),
                        adjusted_p: None,
                        harmful: match alt {
                            Alternative::Greater => t.d_larger >= t.d_smaller,
                            Alternative::Less => t.d_smaller >= t.d_larger,
                            Alternative::TwoSided => true,
                        },
                        regressed: false,
                        summary: ks_line(&t),
                    },
                    Err(e) => not_judged(aspect, e),
                }
            }
            // Refused before the comparison (check_supported); kept out of the family here too.
            other => not_judged(other, "not defined on histograms"),
        })
        .collect()
}
