//! Kayenta compatibility: import a Kayenta canary config and judge as Kayenta's
//! `NetflixACAJudge-v1.0` does, so a team migrating from Spinnaker gets the verdicts it knows.
//!
//! - [`policy_from_kayenta`] (feature `serde`) reads Kayenta's canary-config JSON into a
//!   [`CanaryPolicy`]; [`data_from_kayenta`] reads Kayenta's metric-set-pair list into
//!   [`MetricData`].
//! - [`judge_kayenta`] applies Kayenta's rules to a policy and data and returns a
//!   [`KayentaResult`], which serializes to Kayenta's `CanaryJudgeResult` JSON.
//! - [`judge`](crate::judge) stays the crate's own judge; the same imported policy works with
//!   it, with the differences listed below.
//!
//! # Kayenta's rules, as reproduced
//!
//! For each metric (control = baseline, experiment = canary):
//! 1. **NaN**: `nanStrategy: remove` (Kayenta's default, also for `"none"`) drops NaN points,
//!    `replace` sets them to 0.
//! 2. **Outliers** (`outliers.strategy: remove`, off by default): each arm loses the points
//!    outside [`Fences::widened`] with factor `outlierFactor` (default 3):
//!    `[min(P1, Q1 − k·IQR), max(P99, Q3 + k·IQR)]`, R-7 percentiles.
//! 3. **No data**: an empty arm gives `NodataFailMetric` for a non-critical metric with
//!    `mustHaveData`, `Nodata` otherwise (critical when the metric is, so a critical metric without
//!    data fails the canary), reason `"Missing data for <name>"`; with `replace`, `Pass`.
//! 4. **Identical samples** (same multiset), or **one distinct value** across both: `Pass`.
//! 5. **Comparison**: the two-sided 98% asymptotic Mann-Whitney interval for the shift
//!    canary − baseline with continuity and tie corrections
//!    ([`TwoSample::hodges_lehmann`] with [`Method::Asymptotic`]), its Hodges-Lehmann estimate
//!    `HL`, and the effect `mean(canary) / mean(baseline)` (NaN when either mean is 0) or, with
//!    `measure: cles`, `U / (n·m)` ([`TwoSample::cles`]).
//!    - **High** when the direction is `increase` or `either`, `lower > 0.25·|HL|`, and the
//!      effect is NaN or `≥ allowedIncrease`;
//!    - else **Low** when the direction is `decrease` or `either`, `upper < −0.25·|HL|`, and the
//!      effect is NaN or `≤ allowedDecrease`;
//!    - else **Pass**. The interval must clear ±25% of the estimate, not just 0: a shift that is
//!      significant but whose interval's near end is within `0.25·|HL|` of 0 passes.
//! 6. **Critical escalation** (critical metrics only): High with the effect NaN or
//!    `≥ criticalIncrease`, or Low with the effect NaN or `≤ criticalDecrease`, is marked
//!    `critical` and fails the canary on its own. Below the critical limit it is an ordinary
//!    failure.
//! 7. **Error**: data Kayenta's classifier would throw on (here: an infinity, or a counter series)
//!    give `Error`, reason `"Metric Classification Failed: …"`, never critical.
//!
//! Scoring ([`KayentaScore`]): muted metrics are dropped; each group scores
//! `100 · #Pass / (#Pass + #High + #Low + #NodataFailMetric)` (Nodata and Error not counted; an
//! empty count scores 0 and is flagged no-data); a critical non-Pass result sets the score to 0
//! ("Canary Failed: " + its reason); else `#Nodata / #results ≥ 50%` sets it to 0; else
//! `score = round_half_up(Σ_g s_g · w_g / 100, 2)` where `w_g` is the configured weight, or
//! `(100 − Σ configured weights) / #unweighted groups` for groups without one, and `s_g` is 100 for
//! a no-data group. Weights are not validated (they need not total 100). Metrics without groups
//! count only in the critical and no-data rules. The score is Pass at or above `pass`, Marginal at
//! or above `marginal`, Fail below.
//!
//! Two departures guard against a verdict no data could change: when no unmuted metric has a
//! group, all of them are scored in one group named [`DEFAULT_GROUP`] (`"default"`), where
//! Kayenta's weighted sum over no group is 0, a rollback whatever the data; and a group listed
//! twice in one metric counts it once.
//!
//! # Where this mode knowingly departs from Kayenta
//!
//! - **No jitter.** When each arm is constant but the two differ, Kayenta adds unseeded Gaussian
//!   noise (σ = 10⁻⁵ × value) so its interval code does not throw; the result varies from run to
//!   run. Here the comparison runs on the data as they are: every pairwise difference equals the
//!   gap, so the interval and the estimate are that gap, the limit of Kayenta's result as the
//!   noise vanishes. Same input, same output.
//! - **The interval in closed form.** Kayenta finds each end with a Brent search (R's `zeroin`,
//!   absolute tolerance 10⁻⁴) on the corrected normal statistic; the crate computes the order
//!   statistics those searches converge to, `[D_(k_L), D_(k_U)]` (see [`HodgesLehmann`](crate::stats::HodgesLehmann)). The two
//!   agree to Kayenta's tolerance, which is also how far Kayenta itself ties out with R; for
//!   metrics on a scale near 10⁻⁴ (error fractions, seconds) Kayenta's ends are quantized to
//!   about 5·10⁻⁵ and this mode is the more exact one.
//! - **The estimate.** Kayenta keeps the continuity correction when it solves for the estimate
//!   (current R drops it), so its root lies anywhere in the flat stretch where the corrected
//!   statistic is 0: within one or two order statistics of the median of the pairwise
//!   differences, wherever Brent stops. This mode uses the median itself (the Hodges-Lehmann
//!   estimate). The estimate only enters through the margin `0.25·|HL|`, so the labels differ
//!   only when the interval's near end lies within a quarter of that gap of the margin.
//! - **Errors.** Kayenta turns exceptions into `Error`; its most common one (all observations
//!   tied) cannot occur here, and the crate's statistics do not throw. Infinite values and counter
//!   series are the remaining `Error` cases.
//! - **One pair per metric.** Kayenta judges one metric-set pair per tag combination; here each
//!   metric has one pair (split by tag before calling, under distinct names). A policy metric
//!   without data is judged on empty arms (Nodata); Kayenta would have no pair and no result.
//!
//! # Where the crate's default judge departs from Kayenta, and why
//!
//! [`judge`](crate::judge) on the same policy differs deliberately:
//! - **p-values with multiple-testing control instead of interval-only rules.** A metric is
//!   significant when its one-sided p-value, Holm-adjusted across the counted metrics, is below
//!   the policy's alpha; Kayenta tests each metric at 98% with no correction across metrics, so
//!   its false-alarm rate grows with the number of metrics.
//! - **No self-referential 25% margin.** Practical significance comes from the tolerance limits
//!   alone. Kayenta's `0.25·|HL|` rule misses zero-inflated shifts (spinnaker#6278) and still
//!   flags tiny shifts in long canaries.
//! - **Exact tests for small samples** (R's rule, below 50 points per arm) and a minimum sample
//!   size (`min_samples`, Inconclusive below it); Kayenta is always asymptotic and has no minimum.
//! - **Errors count as failures**, and a critical metric that errors rolls back; Kayenta leaves
//!   `Error` out of every score and never lets it fail the canary.
//! - **Empty groups are not scored 100.** A group with nothing counted is left out and its
//!   weight shared by the others; Kayenta counts it as 100 and so can pass a canary on no data.
//!   Metrics without groups go to the group `"default"` instead of affecting no group score.
//! - **Weights are validated**: every scored group needs one, and they total 100 (or 1).
//! - **Critical breach rule.** Any metric (critical or not) whose significant change passes its
//!   `critical_*` limit rolls back, so one regression is not diluted by many healthy metrics;
//!   Kayenta only escalates metrics marked critical.
//! - **Deterministic ties handling**: no jitter, ever (as in this mode).
//! - **A fourth verdict**, Inconclusive, when nothing could be counted; Kayenta scores such a
//!   canary 0 (or 100) and fails (or passes) it.
//! - **Default tolerances** roll back at ±10% where Kayenta imposes no margin at all (its
//!   default limits are the neutral 1.0); imported policies keep Kayenta's limits.
//!
//! # Orchestration
//!
//! Kayenta's orchestrator runs the judge per interval on growing windows, aborts when an
//! interval's score is **≤** marginal (where the judge itself calls a score equal to marginal
//! "Marginal"), and decides on the last interval only. [`ProgressiveAnalysis`] with the
//! [`KayentaRule`] and `kayenta_judge: true` applies those rules to successive
//! [`KayentaResult`]s.
//!
//! [`ProgressiveAnalysis`]: crate::ProgressiveAnalysis
//! [`KayentaRule`]: crate::progressive::KayentaRule
#![doc = include_str!("docs/kayenta.md")]

use std::collections::{BTreeMap, BTreeSet};

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::policy::{
    CanaryPolicy, Comparator, Direction, EffectMeasure, MetricPolicy, NanPolicy, OutlierPolicy,
    Tolerance, DEFAULT_GROUP,
};
use crate::series::{MetricData, Series};
use crate::stats::fences::Fences;
use crate::stats::hypothesis::{fmt_g, Alternative, Method};
use crate::stats::rank_sum::{MannWhitneyConfig, TwoSample};
use crate::stats::summary::Summary;

#[cfg(feature = "serde")]
mod config;
mod result;

#[cfg(feature = "serde")]
pub use config::{data_from_kayenta, policy_from_kayenta, policy_from_kayenta_strict};
pub use result::{
    KayentaDetails, KayentaGroupScore, KayentaLabel, KayentaMetadata, KayentaMetricResult,
    KayentaResult, KayentaResultMetadata, KayentaScore, KayentaScoreLabel, KayentaStats,
};

/// The judge name Kayenta reports: `"NetflixACAJudge-v1.0"`.
pub const KAYENTA_JUDGE_NAME: &str = "NetflixACAJudge-v1.0";

/// Kayenta's confidence level for the Mann-Whitney interval, hard-coded in
/// `NetflixACAJudge.scala` (the Spring property `kayenta.netflix.judge.confLevel` is dead code).
pub const KAYENTA_CONF_LEVEL: f64 = 0.98;

/// Kayenta's "tolerance": the interval must clear `KAYENTA_TOLERANCE · |estimate|` for High or
/// Low. Hard-coded as the confidence level is.
pub const KAYENTA_TOLERANCE: f64 = 0.25;

/// The share of Nodata results (of all non-muted results) at or above which Kayenta fails the
/// canary with score 0 (`WeightedSumScorer.NODATA_THRESHOLD`, 50%).
pub const KAYENTA_NODATA_SHARE: f64 = 0.5;

impl Tolerance {
    /// Kayenta's effect-size defaults: every limit at 1.0 for the mean ratio and 0.5 for CLES,
    /// that is no practical-significance margin and no critical margin. Other measures get
    /// their neutral value.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{policy::EffectMeasure, Tolerance};
    /// let t = Tolerance::kayenta(EffectMeasure::Cles);
    /// assert_eq!((t.allowed_increase, t.critical_decrease), (0.5, 0.5));
    /// ```
    pub fn kayenta(measure: EffectMeasure) -> Tolerance {
        let n = measure.neutral();
        Tolerance {
            measure,
            allowed_increase: n,
            allowed_decrease: n,
            critical_increase: n,
            critical_decrease: n,
        }
    }
}

impl MetricPolicy {
    /// A metric with Kayenta's defaults apart from the direction: rank-sum comparison at 98%,
    /// mean-ratio effect limits of 1.0 ([`Tolerance::kayenta`]), NaN removed, outliers kept,
    /// no minimum sample size (`min_samples = 1`), no groups.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{policy::EffectMeasure, Direction, MetricPolicy};
    /// let m = MetricPolicy::kayenta("cpu", Direction::Either);
    /// assert_eq!(m.tolerance.measure, EffectMeasure::MeanRatio);
    /// assert!(m.groups.is_empty());
    /// ```
    pub fn kayenta(name: impl Into<String>, direction: Direction) -> MetricPolicy {
        MetricPolicy {
            name: name.into(),
            direction,
            comparator: Comparator::RankSum,
            conf_level: KAYENTA_CONF_LEVEL,
            tolerance: Tolerance::kayenta(EffectMeasure::MeanRatio),
            min_samples: 1,
            nan: NanPolicy::Remove,
            outliers: OutlierPolicy::Keep,
            ..MetricPolicy::default()
        }
    }
}

/// Judges a canary by Kayenta's `NetflixACAJudge-v1.0` rules (see the [module docs](crate::kayenta)) and
/// returns the result in Kayenta's shape.
///
/// Uses from the policy: each metric's `name`, `groups` (none means no group, as in Kayenta;
/// when no metric has one, all are scored in the group `"default"`),
/// `direction`, `critical`, `must_have_data`, `muted`, `tolerance` (measure
/// [`EffectMeasure::MeanRatio`] or [`EffectMeasure::Cles`]), `nan` and `outliers`; the
/// policy's `group_weights` (Kayenta's semantics, not validated) and `thresholds`. The
/// confidence level and the 0.25 margin are Kayenta's constants; `conf_level`, `comparator`,
/// `min_samples`, `bounds`, `alpha`, `adjustment` and `srm` are not used.
///
/// Data are the metric's values ([`Series::Samples`] or the values of [`Series::Points`]; NaN
/// marks a missing point). A metric without data is judged on empty arms. Counter and
/// histogram series have no Kayenta equivalent (Kayenta's judge takes raw values): such a metric
/// gets [`KayentaLabel::Error`] with the reason; [`judge`](crate::judge) judges histograms.
///
/// # Errors
/// [`Error::KayentaConfig`] naming the field when a metric's name is empty or listed twice, when a
/// measure is neither mean ratio nor CLES, when an effect limit, group weight, threshold or
/// outlier factor is not finite (or the factor is negative), or for a replacement value that is
/// not finite; [`Error::DataMismatch`] for data given twice or for a metric the policy does not
/// list (Kayenta throws there too). Bad data for one metric gives that metric the label
/// [`KayentaLabel::Error`] instead.
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::{
///     kayenta::{judge_kayenta, KayentaLabel, KayentaScoreLabel},
///     policy::ScoreThresholds,
///     CanaryPolicy, Direction, MetricData, MetricPolicy, Series, Verdict,
/// };
/// let mut policy = CanaryPolicy::new(vec![
///     MetricPolicy::kayenta("latency", Direction::Increase),
///     MetricPolicy::kayenta("cpu", Direction::Either),
/// ]);
/// policy.thresholds = ScoreThresholds {
///     pass: 75.0,
///     marginal: 50.0,
/// };
/// let baseline: Vec<f64> = (0..60).map(|i| 100.0 + (i % 12) as f64).collect();
/// let slower: Vec<f64> = baseline.iter().map(|v| v * 1.3).collect();
/// let data = [
///     MetricData::new(
///         "latency",
///         Arms {
///             baseline: Series::samples(baseline.clone()),
///             canary: Series::samples(slower),
///         },
///     ),
///     MetricData::new(
///         "cpu",
///         Arms {
///             baseline: Series::samples(baseline.clone()),
///             canary: Series::samples(baseline),
///         },
///     ),
/// ];
/// let result = judge_kayenta(&policy, &data)?;
/// assert_eq!(result.results[0].classification, KayentaLabel::High);
/// assert_eq!(result.results[1].classification, KayentaLabel::Pass);
/// // No groups configured: both metrics are scored in one implicit group, 1 of 2 passed.
/// assert_eq!(result.score.score, 50.0);
/// assert_eq!(result.score.classification, KayentaScoreLabel::Marginal);
/// assert_eq!(result.verdict(), Verdict::Marginal);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn judge_kayenta(policy: &CanaryPolicy, data: &[MetricData]) -> Result<KayentaResult> {
    validate(policy)?;
    let mut by_name: BTreeMap<&str, &MetricData> = BTreeMap::new();
    for d in data {
        if by_name.insert(d.name.as_str(), d).is_some() {
            return Err(Error::DataMismatch {
                metric: d.name.clone(),
                problem: "data are given twice".into(),
            });
        }
        if !policy.metrics.iter().any(|m| m.name == d.name) {
            return Err(Error::DataMismatch {
                metric: d.name.clone(),
                problem: "data are given for a metric the policy does not list".into(),
            });
        }
    }
    let results: Vec<KayentaMetricResult> = policy
        .metrics
        .iter()
        .map(|mp| classify_metric(mp, by_name.get(mp.name.as_str()).copied()))
        .collect();
    let (group_scores, score) = score_results(policy, &results);
    Ok(KayentaResult {
        judge_name: KAYENTA_JUDGE_NAME.to_string(),
        results,
        group_scores,
        score,
    })
}

fn kayenta_error(field: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::KayentaConfig {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The checks Kayenta's mode needs: far fewer than [`CanaryPolicy::validate`], since Kayenta
/// accepts unordered limits and weights that do not total 100.
pub(crate) fn validate(policy: &CanaryPolicy) -> Result<()> {
    let mut names = BTreeSet::new();
    for (i, m) in policy.metrics.iter().enumerate() {
        let at = |f: &str| format!("metrics[{i}].{f}");
        if m.name.is_empty() {
            return Err(kayenta_error(at("name"), "is empty"));
        }
        if !names.insert(m.name.as_str()) {
            return Err(kayenta_error(
                at("name"),
                format!("{:?} is listed twice", m.name),
            ));
        }
        let t = m.tolerance;
        if !matches!(t.measure, EffectMeasure::MeanRatio | EffectMeasure::Cles) {
            return Err(kayenta_error(
                at("tolerance.measure"),
                format!(
                    "{:?} has no Kayenta equivalent (meanRatio or cles)",
                    t.measure
                ),
            ));
        }
        for (f, v) in [
            ("allowed_increase", t.allowed_increase),
            ("allowed_decrease", t.allowed_decrease),
            ("critical_increase", t.critical_increase),
            ("critical_decrease", t.critical_decrease),
        ] {
            if !v.is_finite() {
                return Err(kayenta_error(
                    at(&format!("tolerance.{f}")),
                    format!("{v} is not finite"),
                ));
            }
        }
        match m.outliers {
            OutlierPolicy::RemoveIqr { factor } | OutlierPolicy::RemoveIqrWidened { factor }
                if !(factor.is_finite() && factor >= 0.0) =>
            {
                return Err(kayenta_error(
                    at("outliers.factor"),
                    format!("{factor} must be finite and >= 0"),
                ));
            }
            _ => {}
        }
        if let NanPolicy::Replace(v) = m.nan {
            if !v.is_finite() {
                return Err(kayenta_error(
                    at("nan.replace"),
                    format!("{v} must be finite"),
                ));
            }
        }
    }
    for (g, w) in &policy.group_weights {
        if !w.is_finite() {
            return Err(kayenta_error(
                format!("group_weights.{g}"),
                format!("{w} is not finite"),
            ));
        }
    }
    let t = policy.thresholds;
    if !(t.pass.is_finite() && t.marginal.is_finite()) {
        return Err(kayenta_error(
            "thresholds",
            format!(
                "pass ({}) and marginal ({}) must be finite",
                t.pass, t.marginal
            ),
        ));
    }
    Ok(())
}

/// The values of one arm, or why Kayenta's judge could not take them.
fn values_of(series: &Series) -> std::result::Result<Vec<f64>, &'static str> {
    match series {
        Series::Samples(v) => Ok(v.clone()),
        Series::Points(p) => Ok(p.iter().map(|p| p.value).collect()),
        Series::Blocks(b) => Ok(b.iter().flat_map(|b| b.values.iter().copied()).collect()),
        Series::Counts(_) => {
            Err("counter series have no Kayenta equivalent; give the values (e.g. rates)")
        }
        Series::Histogram(_) => Err(
            "histogram series have no Kayenta equivalent (Kayenta's judge takes raw values); judge them with judge()",
        ),
    }
}

/// Applies the NaN strategy; `Err` when `Reject` meets a NaN.
fn clean_nan(values: Vec<f64>, nan: NanPolicy) -> std::result::Result<Vec<f64>, String> {
    match nan {
        NanPolicy::Replace(r) => Ok(values
            .into_iter()
            .map(|v| if v.is_nan() { r } else { v })
            .collect()),
        NanPolicy::Reject => match values.iter().position(|v| v.is_nan()) {
            Some(i) => Err(format!("NaN at index {i} with nan = reject")),
            None => Ok(values),
        },
        _ => Ok(values.into_iter().filter(|v| !v.is_nan()).collect()),
    }
}

/// Removes outliers from one non-empty arm as the policy says.
fn remove_outliers(values: &mut Vec<f64>, outliers: OutlierPolicy) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let fences = match outliers {
        OutlierPolicy::RemoveIqrWidened { factor } => Fences::widened(values, factor)?,
        OutlierPolicy::RemoveIqr { factor } => Fences::tukey(values, factor)?,
        _ => return Ok(()),
    };
    fences.retain(values);
    Ok(())
}

/// Kayenta's five stats of one arm; zeros when empty. Non-finite data get NaN moments.
fn stats_of(values: &[f64]) -> KayentaStats {
    if values.is_empty() {
        return KayentaStats::default();
    }
    match Summary::of(values, &[]) {
        Ok(s) => KayentaStats {
            min: s.min,
            max: s.max,
            mean: s.mean,
            std: s.sd,
            count: s.count,
        },
        Err(_) => KayentaStats {
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean: f64::NAN,
            std: f64::NAN,
            count: values.len(),
        },
    }
}

/// Everything but the label of one result.
struct Partial<'a> {
    policy: &'a MetricPolicy,
    control: KayentaStats,
    experiment: KayentaStats,
}

impl Partial<'_> {
    fn finish(
        &self,
        label: KayentaLabel,
        reason: String,
        critical: bool,
        ratio: f64,
        details: Option<KayentaDetails>,
    ) -> KayentaMetricResult {
        KayentaMetricResult {
            name: self.policy.name.clone(),
            tags: BTreeMap::new(),
            groups: self.policy.groups.clone(),
            classification: label,
            classification_reason: reason,
            critical,
            muted: self.policy.muted,
            experiment_metadata: KayentaMetadata {
                stats: self.experiment,
            },
            control_metadata: KayentaMetadata {
                stats: self.control,
            },
            result_metadata: KayentaResultMetadata { ratio },
            details,
        }
    }
}

fn classification_failed(partial: &Partial<'_>, why: &str) -> KayentaMetricResult {
    partial.finish(
        KayentaLabel::Error,
        format!("Metric Classification Failed: {why}"),
        false,
        f64::NAN,
        None,
    )
}

/// `MannWhitneyClassifier.classify` for one metric.
fn classify_metric(mp: &MetricPolicy, data: Option<&MetricData>) -> KayentaMetricResult {
    let mut partial = Partial {
        policy: mp,
        control: KayentaStats::default(),
        experiment: KayentaStats::default(),
    };
    let (control, experiment) = match data {
        None => (Vec::new(), Vec::new()),
        Some(d) => match (values_of(&d.baseline), values_of(&d.canary)) {
            (Ok(b), Ok(c)) => (b, c),
            (Err(e), _) | (_, Err(e)) => return classification_failed(&partial, e),
        },
    };
    let (mut control, mut experiment) =
        match (clean_nan(control, mp.nan), clean_nan(experiment, mp.nan)) {
            (Ok(b), Ok(c)) => (b, c),
            (Err(e), _) | (_, Err(e)) => return classification_failed(&partial, &e),
        };
    if let Err(e) = remove_outliers(&mut control, mp.outliers)
        .and_then(|()| remove_outliers(&mut experiment, mp.outliers))
    {
        partial.control = stats_of(&control);
        partial.experiment = stats_of(&experiment);
        return classification_failed(&partial, &e.to_string());
    }
    partial.control = stats_of(&control);
    partial.experiment = stats_of(&experiment);
    let (cm, em) = (partial.control.mean, partial.experiment.mean);

    // 1. No data.
    if control.is_empty() || experiment.is_empty() {
        if let NanPolicy::Replace(_) = mp.nan {
            return partial.finish(
                KayentaLabel::Pass,
                format!(
                    "Missing data for {}; passes with nanStrategy replace",
                    mp.name
                ),
                false,
                1.0,
                None,
            );
        }
        let reason = format!("Missing data for {}", mp.name);
        return if mp.must_have_data && !mp.critical {
            partial.finish(KayentaLabel::NodataFailMetric, reason, false, 1.0, None)
        } else {
            partial.finish(KayentaLabel::Nodata, reason, mp.critical, 1.0, None)
        };
    }
    // Kayenta's classifier would throw on these; the crate reports why.
    let pair = match TwoSample::new(Arms {
        baseline: &control,
        canary: &experiment,
    }) {
        Ok(p) => p,
        Err(e) => return classification_failed(&partial, &e.to_string()),
    };
    // 2. Identical samples (same multiset), 3. one distinct value across both.
    if pair.baseline() == pair.canary() {
        return partial.finish(
            KayentaLabel::Pass,
            "The Canary and Baseline data are identical".into(),
            false,
            1.0,
            None,
        );
    }
    let ratio = if cm == 0.0 || em == 0.0 {
        f64::NAN
    } else {
        pair.mean_ratio().unwrap_or(f64::NAN)
    };
    let (b, c) = (pair.baseline(), pair.canary());
    if b[0] == b[b.len() - 1] && c[0] == c[c.len() - 1] && b[0] == c[0] {
        return partial.finish(
            KayentaLabel::Pass,
            "The Canary and Baseline data hold one and the same value".into(),
            false,
            ratio,
            None,
        );
    }
    // 4. The comparison.
    let config = MannWhitneyConfig {
        conf_level: KAYENTA_CONF_LEVEL,
        alternative: Alternative::TwoSided,
        correct: true,
        method: Method::Asymptotic,
        ..Default::default()
    };
    let hl = match pair.hodges_lehmann(&config) {
        Ok(hl) => hl,
        Err(e) => return classification_failed(&partial, &e.to_string()),
    };
    let t = mp.tolerance;
    let effect = match t.measure {
        EffectMeasure::Cles => pair.cles(),
        _ => ratio,
    };
    let margin = KAYENTA_TOLERANCE * hl.estimate.abs();
    let (lower, upper) = (hl.interval.lower, hl.interval.upper);
    let up = matches!(mp.direction, Direction::Increase | Direction::Either);
    let down = matches!(mp.direction, Direction::Decrease | Direction::Either);
    let measure = match t.measure {
        EffectMeasure::Cles => "CLES",
        _ => "mean ratio",
    };
    let numbers = format!(
        "98% interval [{}, {}], estimate {}, margin ±{}, {measure} {}",
        fmt_g(lower),
        fmt_g(upper),
        fmt_g(hl.estimate),
        fmt_g(margin),
        fmt_g(effect)
    );
    let label = if up && lower > margin && (effect.is_nan() || effect >= t.allowed_increase) {
        KayentaLabel::High
    } else if down && upper < -margin && (effect.is_nan() || effect <= t.allowed_decrease) {
        KayentaLabel::Low
    } else {
        KayentaLabel::Pass
    };
    // 5. Critical escalation.
    let critical = mp.critical
        && match label {
            KayentaLabel::High => effect.is_nan() || effect >= t.critical_increase,
            KayentaLabel::Low => effect.is_nan() || effect <= t.critical_decrease,
            _ => false,
        };
    // A Pass is never critical: it reads "Pass: ...".
    let reason = if critical {
        format!("{label} past the critical limit: {numbers}")
    } else {
        format!("{label}: {numbers}")
    };
    let details = KayentaDetails {
        interval: hl.interval,
        estimate: hl.estimate,
        margin,
        effect,
    };
    partial.finish(label, reason, critical, ratio, Some(details))
}

/// `x` rounded to two decimals, half up (away from zero on a tie), on its shortest decimal
/// representation: what Kayenta's `Precision.round(x, 2)` does through
/// `new BigDecimal(Double.toString(x)).setScale(2, HALF_UP)`. So 0.125 rounds to 0.13 and
/// 33.335 to 33.34, although neither is exactly representable.
///
/// # Example
/// ```
/// use canary_verdict::kayenta::round_half_up_2;
/// assert_eq!(round_half_up_2(100.0 / 3.0), 33.33);
/// assert_eq!(round_half_up_2(0.125), 0.13);
/// assert_eq!(round_half_up_2(-2.675), -2.68);
/// ```
pub fn round_half_up_2(x: f64) -> f64 {
    // Non-finite values pass through; so does every double from 2^52 up, an integer printed
    // without a fraction (below).
    if !x.is_finite() {
        return x;
    }
    let text = format!("{}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    if frac.len() <= 2 {
        return x;
    }
    let digit = |i: usize| -> i64 {
        frac.as_bytes()
            .get(i)
            .map_or(0, |b| i64::from(b.wrapping_sub(b'0')))
    };
    let Ok(int) = int.parse::<i64>() else {
        return x;
    };
    let mut cents = int * 100 + digit(0) * 10 + digit(1);
    if digit(2) >= 5 {
        cents += 1;
    }
    let text = format!("{}.{:02}", cents / 100, cents % 100);
    let rounded: f64 = text.parse().unwrap_or(x.abs());
    if x < 0.0 {
        -rounded
    } else {
        rounded
    }
}

/// `WeightedSumScorer` over the non-muted results.
fn score_results(
    policy: &CanaryPolicy,
    results: &[KayentaMetricResult],
) -> (Vec<KayentaGroupScore>, KayentaScore) {
    let counted: Vec<&KayentaMetricResult> = results.iter().filter(|r| !r.muted).collect();
    // (passed, denominator) per group.
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    // No group at all: one implicit group of every unmuted metric (Kayenta would score 0).
    let ungrouped = counted.iter().all(|r| r.groups.is_empty());
    for r in &counted {
        // A group listed twice counts the metric once, as in the crate's own scoring.
        let names: BTreeSet<&str> = if ungrouped {
            BTreeSet::from([DEFAULT_GROUP])
        } else {
            r.groups.iter().map(String::as_str).collect()
        };
        for g in names {
            let e = groups.entry(g).or_default();
            match r.classification {
                KayentaLabel::Pass => {
                    e.0 += 1;
                    e.1 += 1;
                }
                KayentaLabel::High | KayentaLabel::Low | KayentaLabel::NodataFailMetric => e.1 += 1,
                KayentaLabel::Nodata | KayentaLabel::Error => {}
            }
        }
    }
    let group_scores: Vec<KayentaGroupScore> = groups
        .iter()
        .map(|(&name, &(pass, denom))| KayentaGroupScore {
            name: name.to_string(),
            score: if denom > 0 {
                100.0 * pass as f64 / denom as f64
            } else {
                0.0
            },
            classification: String::new(),
            classification_reason: String::new(),
            no_data: denom == 0,
        })
        .collect();
    let t = policy.thresholds;
    let label_of = |s: f64| {
        if s >= t.pass {
            KayentaScoreLabel::Pass
        } else if s >= t.marginal {
            KayentaScoreLabel::Marginal
        } else {
            KayentaScoreLabel::Fail
        }
    };
    let fail = |reason: String| KayentaScore {
        score: 0.0,
        classification: label_of(0.0),
        classification_reason: format!("Canary Failed: {reason}"),
    };
    if let Some(r) = counted
        .iter()
        .find(|r| r.critical && r.classification != KayentaLabel::Pass)
    {
        return (group_scores, fail(r.classification_reason.clone()));
    }
    let nodata = counted
        .iter()
        .filter(|r| r.classification == KayentaLabel::Nodata)
        .count();
    if !counted.is_empty() && nodata as f64 >= KAYENTA_NODATA_SHARE * counted.len() as f64 {
        return (
            group_scores,
            fail("50% or more metrics returned NODATA".into()),
        );
    }
    let configured: f64 = policy.group_weights.values().sum();
    let unweighted = group_scores
        .iter()
        .filter(|g| !policy.group_weights.contains_key(&g.name))
        .count();
    let mut sum = 0.0;
    for g in &group_scores {
        let w = match policy.group_weights.get(&g.name) {
            Some(&w) => w,
            None => (100.0 - configured) / unweighted as f64,
        };
        let s = if g.no_data { 100.0 } else { g.score };
        sum += s * w / 100.0;
    }
    let score = round_half_up_2(sum);
    (
        group_scores,
        KayentaScore {
            score,
            classification: label_of(score),
            classification_reason: String::new(),
        },
    )
}
