//! Histograms in the comparison stage: the grouped rank-sum test on the buckets, the median
//! comparison and the bucket summaries, for the policies histograms support.

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::judge::compare::{alternative, relative, Comparison, TestDetails, SUMMARY_QUANTILES};
use crate::policy::{Comparator, EffectMeasure, MetricPolicy, Statistic, TailAspect};
use crate::stats::histogram::{grouped, histogram_quantile_compare, summary_of, Histogram};
use crate::stats::hypothesis::Alternative;
use crate::stats::quantile::QuantileType;
use crate::stats::quantile_compare::QuantileCompareConfig;
use crate::stats::rank_sum::MannWhitneyConfig;

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
pub(crate) fn compare_histograms(
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
        Arms { baseline, canary },
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
