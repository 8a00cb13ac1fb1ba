//! The judge's policy: what each metric is, how it is compared, what change is tolerated, and how
//! the per-metric findings become a verdict. Every field has a sound default, so a policy that
//! lists only metric names and directions already judges well.
#![doc = include_str!("docs/policy.md")]

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::error::{Error, Result};
use crate::stats::hypothesis::fmt_g;
use crate::stats::multiple_testing::Adjustment;

/// Which way a metric gets worse.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Direction {
    /// Higher is worse (latency, errors, memory).
    #[default]
    Increase,
    /// Lower is worse (throughput, success rate, cache hits).
    Decrease,
    /// Any change is suspect.
    Either,
}

/// What a metric's data are.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MetricKind {
    /// Measurements: latencies, CPU, queue depths.
    #[default]
    Continuous,
    /// Events out of trials (errors out of requests), or events over an exposure.
    Counter,
}

/// How the two arms of a metric are compared.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Comparator {
    /// Continuous metrics: pair by timestamp when both arms are timestamped series with the
    /// same timestamps (signed-rank test), otherwise the rank-sum test; counters: the count
    /// test.
    #[default]
    Auto,
    /// Wilcoxon-Mann-Whitney rank-sum test with the Hodges-Lehmann shift.
    RankSum,
    /// Wilcoxon signed-rank test on per-timestamp differences, with the paired shift.
    SignedRank,
    /// Conditional exact Poisson rate test on events over trials (or exposure).
    Counts,
    /// No statistical test: only the absolute and relative bounds are checked.
    ThresholdsOnly,
}

/// The scale on which tolerances are stated.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum EffectMeasure {
    /// Hodges-Lehmann shift over the baseline median, as a ratio: 1.1 means +10%.
    #[default]
    RelativeShift,
    /// Ratio of means, canary over baseline (Kayenta's default): 1.1 means +10%.
    MeanRatio,
    /// Common-language effect size P(canary > baseline): 0.5 means no change.
    Cles,
    /// The Hodges-Lehmann shift in the metric's own units: 0 means no change.
    Absolute,
}

impl EffectMeasure {
    /// The value of the measure when nothing changed.
    pub fn neutral(self) -> f64 {
        match self {
            EffectMeasure::RelativeShift | EffectMeasure::MeanRatio => 1.0,
            EffectMeasure::Cles => 0.5,
            EffectMeasure::Absolute => 0.0,
        }
    }
}

impl fmt::Display for EffectMeasure {
    /// The measure's name as configurations spell it (`relative_shift`, `mean_ratio`, `cles`,
    /// `absolute`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            EffectMeasure::RelativeShift => "relative_shift",
            EffectMeasure::MeanRatio => "mean_ratio",
            EffectMeasure::Cles => "cles",
            EffectMeasure::Absolute => "absolute",
        })
    }
}

/// Practical-significance tolerances: how large a statistically significant change must be to
/// count. A significant change past `allowed_*` fails the metric; past `critical_*` it rolls the
/// canary back on its own, whatever the score. For counters the measure must be the rate ratio
/// ([`MetricPolicy::effective_tolerance`] gives a counter left at the default its own limits).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Tolerance {
    /// The scale of the four limits below.
    pub measure: EffectMeasure,
    /// An increase up to this is tolerated (neutral value: any significant increase fails).
    pub allowed_increase: f64,
    /// A decrease down to this is tolerated.
    pub allowed_decrease: f64,
    /// An increase past this rolls back.
    pub critical_increase: f64,
    /// A decrease past this rolls back.
    pub critical_decrease: f64,
}

impl Default for Tolerance {
    /// The relative Hodges-Lehmann shift: a change shown beyond ±5% fails the metric and rolls
    /// back (see [`Tolerance::for_measure`]).
    fn default() -> Self {
        Tolerance::for_measure(EffectMeasure::RelativeShift)
    }
}

impl Tolerance {
    /// The default limits on a given scale.
    ///
    /// - `relative_shift` (continuous metrics): a change whose interval lies beyond ±5% of the
    ///   baseline median fails the metric and rolls back; smaller changes, even significant
    ///   ones, are tolerated (a healthy release moves a few endpoints by 1-3%).
    /// - `mean_ratio` (counters' rate ratio): any significant harmful change fails the metric;
    ///   one whose interval lies beyond ±10% rolls back.
    /// - `cles`: fail at any significant change, roll back beyond 0.6 / 0.4.
    /// - `absolute`: fail at any significant change; never roll back on its own.
    pub fn for_measure(measure: EffectMeasure) -> Tolerance {
        let n = measure.neutral();
        let (ai, ad, ci, cd) = match measure {
            EffectMeasure::RelativeShift => (1.05, 0.95, 1.05, 0.95),
            EffectMeasure::MeanRatio => (n, n, 1.1, 0.9),
            EffectMeasure::Cles => (n, n, 0.6, 0.4),
            EffectMeasure::Absolute => (n, n, f64::INFINITY, f64::NEG_INFINITY),
        };
        Tolerance {
            measure,
            allowed_increase: ai,
            allowed_decrease: ad,
            critical_increase: ci,
            critical_decrease: cd,
        }
    }
}

/// A summary statistic of one arm, for bounds.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Statistic {
    /// The mean (for counters: events over trials).
    #[default]
    Mean,
    /// The median (R's type 7).
    Median,
    /// A quantile in [0, 1] (R's type 7), e.g. 0.99 for p99.
    Quantile(f64),
}

/// Absolute bounds on the canary's statistic, like Flagger's `thresholdRange`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct Bounds {
    /// The statistic bounded.
    pub statistic: Statistic,
    /// Fail when the canary's statistic is below this.
    pub min: Option<f64>,
    /// Fail when the canary's statistic is above this.
    pub max: Option<f64>,
}

/// Bounds relative to the baseline's statistic, like Keptn's `<=+10%`: fractions of the
/// baseline value (0.1 = 10%).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RelativeBounds {
    /// The statistic compared.
    pub statistic: Statistic,
    /// Fail when canary > baseline × (1 + max_increase).
    pub max_increase: Option<f64>,
    /// Fail when canary < baseline × (1 − max_decrease).
    pub max_decrease: Option<f64>,
}

/// What to do with NaN (missing) points.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NanPolicy {
    /// Drop them (and their partner point, when pairing).
    #[default]
    Remove,
    /// Replace them with a value (Kayenta's `replace` uses 0).
    Replace(f64),
    /// Treat the metric as erroneous.
    Reject,
}

/// What to do with outliers.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "snake_case", deny_unknown_fields)
)]
pub enum OutlierPolicy {
    /// Keep every point (rank tests are robust to outliers already).
    #[default]
    Keep,
    /// Drop points outside Tukey's fences `[Q1 − k·IQR, Q3 + k·IQR]`, each arm separately.
    RemoveIqr {
        /// The fence factor k (Tukey's 1.5; Kayenta uses 3).
        factor: f64,
    },
    /// Drop points outside the fences widened to the 1st and 99th percentiles (Kayenta).
    RemoveIqrWidened {
        /// The fence factor k.
        factor: f64,
    },
}

/// Everything the judge needs to know about one metric.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MetricPolicy {
    /// The metric's name; data are matched to it by name.
    pub name: String,
    /// Scoring groups; none puts the metric in the group `"default"`.
    pub groups: Vec<String>,
    /// Continuous or counter.
    pub kind: MetricKind,
    /// The direction of harm.
    pub direction: Direction,
    /// A failure of this metric rolls back, whatever the score.
    pub critical: bool,
    /// Missing data fails the metric instead of leaving it out.
    pub must_have_data: bool,
    /// Dry run: computed and reported, never counted.
    pub muted: bool,
    /// How the arms are compared.
    pub comparator: Comparator,
    /// Confidence level of the reported interval (the test's level is the policy's alpha).
    pub conf_level: f64,
    /// Practical-significance tolerances.
    pub tolerance: Tolerance,
    /// Absolute bounds on the canary.
    pub bounds: Option<Bounds>,
    /// Bounds relative to the baseline.
    pub relative_bounds: Option<RelativeBounds>,
    /// Fewer points than this in either arm (after cleaning) makes the metric Inconclusive.
    pub min_samples: usize,
    /// Missing points (not applied to histograms: they hold no values to drop).
    pub nan: NanPolicy,
    /// Outliers (not applied to histograms: a bucket's points cannot be told apart).
    pub outliers: OutlierPolicy,
    /// Tail and shape tests run in addition to the location test (continuous metrics, not
    /// `thresholds_only`); none by default. See [`TailAspect`].
    pub tails: Vec<TailAspect>,
    /// With no `tails` listed, raw samples of a metric whose harm is an increase get the p99
    /// tested against the critical tolerance (a slower tail, a wider spread); default true.
    pub auto_tails: bool,
}

impl Default for MetricPolicy {
    fn default() -> Self {
        MetricPolicy {
            name: String::new(),
            groups: Vec::new(),
            kind: MetricKind::Continuous,
            direction: Direction::Increase,
            critical: false,
            must_have_data: false,
            muted: false,
            comparator: Comparator::Auto,
            conf_level: 0.98,
            tolerance: Tolerance::default(),
            bounds: None,
            relative_bounds: None,
            min_samples: 5,
            nan: NanPolicy::Remove,
            outliers: OutlierPolicy::Keep,
            tails: Vec::new(),
            auto_tails: true,
        }
    }
}

impl MetricPolicy {
    /// A continuous metric with every other field at its default.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{Direction, MetricPolicy};
    /// let latency = MetricPolicy::new("latency_ms", Direction::Increase);
    /// assert_eq!(latency.conf_level, 0.98);
    /// ```
    pub fn new(name: impl Into<String>, direction: Direction) -> Self {
        MetricPolicy {
            name: name.into(),
            direction,
            ..Default::default()
        }
    }

    /// A counter metric (events out of trials) with every other field at its default.
    pub fn counter(name: impl Into<String>, direction: Direction) -> Self {
        MetricPolicy {
            name: name.into(),
            direction,
            kind: MetricKind::Counter,
            tolerance: Tolerance::for_measure(EffectMeasure::MeanRatio),
            ..Default::default()
        }
    }

    /// The tolerance the judge applies. A counter is judged on its rate ratio, so a counter whose
    /// `tolerance` is still [`Tolerance::default`] (the relative shift of continuous metrics, as
    /// when a configuration leaves the field out) takes the counter defaults of
    /// [`MetricPolicy::counter`]; every other tolerance applies as given.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{policy::EffectMeasure, Direction, MetricKind, MetricPolicy};
    /// let errors = MetricPolicy {
    ///     kind: MetricKind::Counter,
    ///     ..MetricPolicy::new("errors", Direction::Increase)
    /// };
    /// assert_eq!(errors.effective_tolerance().measure, EffectMeasure::MeanRatio);
    /// assert_eq!(errors.effective_tolerance().critical_increase, 1.1);
    /// ```
    pub fn effective_tolerance(&self) -> Tolerance {
        if self.kind == MetricKind::Counter && self.tolerance == Tolerance::default() {
            Tolerance::for_measure(EffectMeasure::MeanRatio)
        } else {
            self.tolerance
        }
    }

    /// The groups the metric is scored in.
    pub fn group_names(&self) -> Vec<String> {
        if self.groups.is_empty() {
            vec![DEFAULT_GROUP.to_string()]
        } else {
            self.groups.clone()
        }
    }
}

/// The smallest family-wise `alpha` a policy accepts. Below it no realistic data reach
/// significance, so every test passes silently and the critical-breach rule is switched off.
pub const MIN_ALPHA: f64 = 1e-6;

/// The largest family-wise `alpha` a policy accepts.
pub const MAX_ALPHA: f64 = 0.5;

/// The group of metrics that name none.
pub const DEFAULT_GROUP: &str = "default";

/// Score thresholds, as Kayenta's: a score at or above `pass` promotes, at or above `marginal`
/// is marginal, below rolls back.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct ScoreThresholds {
    /// Promote at or above this score (0–100).
    pub pass: f64,
    /// Marginal at or above this score, rollback below.
    pub marginal: f64,
}

impl Default for ScoreThresholds {
    fn default() -> Self {
        ScoreThresholds {
            pass: 95.0,
            marginal: 75.0,
        }
    }
}

/// What a sample-ratio mismatch does to the verdict.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SrmAction {
    /// Report it only.
    Warn,
    /// Cap the verdict at Marginal: the traffic split is not what was configured.
    #[default]
    Marginal,
    /// The data cannot be trusted: Inconclusive.
    Inconclusive,
    /// A broken split (crashing canary, failing health checks) rolls back.
    Rollback,
}

/// What a `must_have_data` metric without data does to the verdict.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MustHaveAction {
    /// Roll the canary back: a metric that must report and does not is a broken canary (a
    /// crashed exporter, a missing endpoint), and no data is never evidence of health.
    #[default]
    Rollback,
    /// Count the metric as a failure in its groups' scores only (Kayenta's
    /// `NodataFailMetric`), and cap the verdict at Marginal.
    Fail,
}

/// Sample-ratio-mismatch check of the traffic split, on the trial counts of counter metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct SrmPolicy {
    /// The canary's expected share of the trials of both arms, strictly inside (0, 1).
    pub canary_share: f64,
    /// Mismatch when the test's p-value is below this (industry practice: 0.001 or lower).
    pub alpha: f64,
    /// What a mismatch does.
    pub action: SrmAction,
}

impl Default for SrmPolicy {
    fn default() -> Self {
        SrmPolicy {
            canary_share: 0.5,
            alpha: 0.001,
            action: SrmAction::Marginal,
        }
    }
}

/// The whole policy of a canary judgment.
///
/// Defaults: family-wise alpha 0.01 with Holm's adjustment across the counted metrics, score
/// thresholds 95 / 75, no SRM check unless configured.
///
/// # Example
/// ```
/// use canary_verdict::{CanaryPolicy, Direction, MetricPolicy};
/// let policy = CanaryPolicy::new(vec![
///     MetricPolicy::new("latency_ms", Direction::Increase),
///     MetricPolicy::counter("errors", Direction::Increase),
/// ]);
/// policy.validate()?;
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CanaryPolicy {
    /// The metrics, in the order they are reported.
    pub metrics: Vec<MetricPolicy>,
    /// Group weights; empty gives every group the same weight. When given, every group used by
    /// a metric must have a weight, each weight must be positive, and they must add up to 100
    /// (as Kayenta's) or to 1.
    pub group_weights: BTreeMap<String, f64>,
    /// Score thresholds.
    pub thresholds: ScoreThresholds,
    /// The family-wise (or false-discovery, with BH/BY) error rate of the significance tests.
    pub alpha: f64,
    /// Multiple-testing control across the counted metrics.
    pub adjustment: Adjustment,
    /// Sample-ratio-mismatch check.
    pub srm: Option<SrmPolicy>,
    /// The share of `alpha` reserved for the critical metrics together (weighted Holm): with
    /// `c` critical metrics among `m`, each critical one gets weight `share / c` and each other
    /// one `(1 - share) / (m - c)`, so one critical metric is not diluted by many others. When
    /// every metric or none is critical, the weights are equal. Strictly inside (0, 1); default
    /// 0.5.
    pub critical_alpha_share: f64,
    /// What a `must_have_data` metric without data does; default [`MustHaveAction::Rollback`].
    pub missing_must_have: MustHaveAction,
    /// Data sufficiency: a metric whose test could not detect a change of this multiple of its
    /// critical tolerance (at half power, at its share of alpha) is Inconclusive, and so caps
    /// the verdict at Marginal. At least 1; default 4 (with the default ±5% tolerance: a
    /// metric that would miss a 20% change more often than not could not tell).
    pub sufficiency_multiple: f64,
}

impl Default for CanaryPolicy {
    fn default() -> Self {
        CanaryPolicy {
            metrics: Vec::new(),
            group_weights: BTreeMap::new(),
            thresholds: ScoreThresholds::default(),
            alpha: 0.01,
            adjustment: Adjustment::Holm,
            srm: None,
            critical_alpha_share: 0.5,
            missing_must_have: MustHaveAction::Rollback,
            sufficiency_multiple: 4.0,
        }
    }
}

impl CanaryPolicy {
    /// The policy with every metric's tolerance replaced by the one the judge applies
    /// ([`MetricPolicy::effective_tolerance`]); borrowed when that changes nothing.
    pub(crate) fn resolved(&self) -> Cow<'_, CanaryPolicy> {
        if self
            .metrics
            .iter()
            .all(|m| m.effective_tolerance() == m.tolerance)
        {
            return Cow::Borrowed(self);
        }
        let mut policy = self.clone();
        for m in &mut policy.metrics {
            m.tolerance = m.effective_tolerance();
        }
        Cow::Owned(policy)
    }

    /// A policy over these metrics with every other field at its default.
    pub fn new(metrics: Vec<MetricPolicy>) -> Self {
        CanaryPolicy {
            metrics,
            ..Default::default()
        }
    }

    /// Checks the whole policy; errors name the metric and the field.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] for the first problem found.
    pub fn validate(&self) -> Result<()> {
        let fail = |metric: &str, field: &'static str, problem: String| {
            Err(Error::InvalidPolicy {
                metric: metric.to_string(),
                field,
                problem,
            })
        };
        if self.metrics.is_empty() {
            return fail("", "metrics", "the policy lists no metric".into());
        }
        if !(MIN_ALPHA..=MAX_ALPHA).contains(&self.alpha) {
            return fail(
                "",
                "alpha",
                format!(
                    "{} is outside [{MIN_ALPHA:e}, {MAX_ALPHA}]: a smaller alpha makes no change significant, a larger one rolls back on noise",
                    self.alpha
                ),
            );
        }
        if !(self.sufficiency_multiple >= 1.0 && self.sufficiency_multiple <= 1e6) {
            return fail(
                "",
                "sufficiency_multiple",
                format!("{} is outside [1, 1e6]", self.sufficiency_multiple),
            );
        }
        if !(self.critical_alpha_share > 0.0 && self.critical_alpha_share < 1.0) {
            return fail(
                "",
                "critical_alpha_share",
                format!(
                    "{} is not strictly between 0 and 1",
                    self.critical_alpha_share
                ),
            );
        }
        let t = self.thresholds;
        if !(0.0..=100.0).contains(&t.marginal)
            || !(0.0..=100.0).contains(&t.pass)
            || t.marginal > t.pass
        {
            return fail(
                "",
                "thresholds",
                format!(
                    "need 0 <= marginal ({}) <= pass ({}) <= 100",
                    t.marginal, t.pass
                ),
            );
        }
        if let Some(srm) = &self.srm {
            if !(srm.canary_share > 0.0 && srm.canary_share < 1.0) {
                return fail(
                    "",
                    "srm.canary_share",
                    format!("{} is not strictly between 0 and 1", srm.canary_share),
                );
            }
            if !(srm.alpha > 0.0 && srm.alpha < 1.0) {
                return fail(
                    "",
                    "srm.alpha",
                    format!("{} is not strictly between 0 and 1", srm.alpha),
                );
            }
        }
        let mut names = BTreeSet::new();
        let mut used_groups = BTreeSet::new();
        for m in &self.metrics {
            let name = m.name.as_str();
            if name.is_empty() {
                return fail(name, "name", "a metric has an empty name".into());
            }
            if !names.insert(name) {
                return fail(name, "name", "the name is listed twice".into());
            }
            if !(m.conf_level > 0.0 && m.conf_level < 1.0) {
                return fail(
                    name,
                    "conf_level",
                    format!("{} is not strictly between 0 and 1", m.conf_level),
                );
            }
            for aspect in &m.tails {
                if let Err((field, problem)) = aspect.check() {
                    return fail(name, field, problem);
                }
            }
            let tol = m.effective_tolerance();
            if m.kind == MetricKind::Counter && tol.measure != EffectMeasure::MeanRatio {
                return fail(
                    name,
                    "tolerance.measure",
                    format!(
                        "a counter is judged on its rate ratio, so its limits must be stated as mean_ratio, not {}",
                        tol.measure
                    ),
                );
            }
            for (field, v) in [
                ("tolerance.allowed_increase", tol.allowed_increase),
                ("tolerance.allowed_decrease", tol.allowed_decrease),
                ("tolerance.critical_increase", tol.critical_increase),
                ("tolerance.critical_decrease", tol.critical_decrease),
            ] {
                if v.is_nan() {
                    return fail(name, field, "is NaN".into());
                }
            }
            let neutral = tol.measure.neutral();
            if !(tol.allowed_increase >= neutral && tol.critical_increase >= tol.allowed_increase) {
                return fail(
                    name,
                    "tolerance",
                    format!(
                        "need neutral ({neutral}) <= allowed_increase ({}) <= critical_increase ({})",
                        tol.allowed_increase, tol.critical_increase
                    ),
                );
            }
            if !(tol.allowed_decrease <= neutral && tol.critical_decrease <= tol.allowed_decrease) {
                return fail(
                    name,
                    "tolerance",
                    format!(
                        "need critical_decrease ({}) <= allowed_decrease ({}) <= neutral ({neutral})",
                        tol.critical_decrease, tol.allowed_decrease
                    ),
                );
            }
            for (field, st) in [
                ("bounds.statistic", m.bounds.map(|b| b.statistic)),
                (
                    "relative_bounds.statistic",
                    m.relative_bounds.map(|b| b.statistic),
                ),
            ] {
                if let Some(Statistic::Quantile(p)) = st {
                    if !(0.0..=1.0).contains(&p) {
                        return fail(name, field, format!("quantile {p} is outside [0, 1]"));
                    }
                }
            }
            if let Some(b) = m.bounds {
                for (field, v) in [("bounds.min", b.min), ("bounds.max", b.max)] {
                    if v.is_some_and(f64::is_nan) {
                        return fail(name, field, "NaN is not a number".into());
                    }
                }
                if let (Some(lo), Some(hi)) = (b.min, b.max) {
                    if lo > hi {
                        return fail(name, "bounds", format!("min ({lo}) is above max ({hi})"));
                    }
                }
            }
            if let Some(r) = m.relative_bounds {
                for (field, v) in [
                    ("relative_bounds.max_increase", r.max_increase),
                    ("relative_bounds.max_decrease", r.max_decrease),
                ] {
                    if let Some(v) = v {
                        if v.is_nan() || v < 0.0 {
                            return fail(name, field, format!("{v} must be a fraction >= 0"));
                        }
                    }
                }
            }
            match m.outliers {
                OutlierPolicy::RemoveIqr { factor }
                | OutlierPolicy::RemoveIqrWidened { factor }
                    if !(factor.is_finite() && factor >= 0.0) =>
                {
                    return fail(
                        name,
                        "outliers.factor",
                        format!("{factor} must be finite and >= 0"),
                    );
                }
                _ => {}
            }
            if let NanPolicy::Replace(v) = m.nan {
                if !v.is_finite() {
                    return fail(name, "nan.replace", format!("{v} must be finite"));
                }
            }
            if m.kind == MetricKind::Counter
                && matches!(m.comparator, Comparator::RankSum | Comparator::SignedRank)
            {
                return fail(
                    name,
                    "comparator",
                    "a counter is compared with the count test or thresholds only".into(),
                );
            }
            if m.kind == MetricKind::Continuous && m.comparator == Comparator::Counts {
                return fail(
                    name,
                    "comparator",
                    "the count test needs a counter metric (kind = counter)".into(),
                );
            }
            used_groups.extend(m.group_names());
        }
        if !self.group_weights.is_empty() {
            let mut total = 0.0;
            for (g, &w) in &self.group_weights {
                if !(w.is_finite() && w > 0.0) {
                    return fail(
                        g,
                        "group_weights",
                        format!("weight {w} must be finite and > 0"),
                    );
                }
                total += w;
            }
            for g in &used_groups {
                if !self.group_weights.contains_key(g) {
                    return fail(
                        g,
                        "group_weights",
                        "the group has metrics but no weight".into(),
                    );
                }
            }
            if (total - 100.0).abs() > 1e-6 && (total - 1.0).abs() > 1e-9 {
                return fail(
                    "",
                    "group_weights",
                    format!("the weights add up to {total}, not 100 (or 1)"),
                );
            }
        }
        Ok(())
    }
}

/// A tail or shape test a metric's policy asks for, in addition to the location test.
/// # Method
///
/// Tail and shape aspects of a metric's judgment: which tests a policy asks for beyond the
/// location test, and their outcomes.
///
/// Each aspect is one more test in the canary's multiple-testing family (its p-value is adjusted
/// with the location tests of every metric), one-sided in the direction of harm where the test
/// has a direction:
///
/// | aspect | test | direction |
/// |---|---|---|
/// | `quantile { p, tolerance }` | [`quantile_compare`](crate::stats::quantile_compare), `H0: ξ_c ≤ (1 + tolerance)·ξ_b` | one-sided |
/// | `exceedance { q }` | conditional form of [`exceedance_test`](crate::stats::exceedance_test) (Fisher on the pooled `q`-quantile) | one-sided |
/// | `kolmogorov_smirnov` | [`ks_2samp`](crate::stats::ks_2samp) | one-sided |
/// | `anderson_darling` | [`anderson_darling`](crate::stats::anderson_darling) | omnibus; harmful when the canary's p95 is on the harmful side |
///
/// For a metric whose harm is a `decrease`, the samples are negated, so `quantile { p: 0.99 }`
/// looks at the p1 and `exceedance { q: 0.95 }` at the share below the baseline's p5; a
/// decreasing quantile is tested as `ξ_c ≥ (1 - tolerance)·ξ_b`. For `either`, tests are
/// two-sided (the quantile's at `r = 1 + tolerance`) and every significant aspect is harmful.
///
/// A tail aspect that regresses makes the metric `High` (`Low` for a decrease) with a reason
/// that names it; it is a failure of the metric, not a critical breach (a critical metric still
/// rolls back). An aspect the arms are too small for (a p99 interval with fewer than a few
/// hundred points) is reported as not judged with the number of points it needs, and does not
/// enter the family.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TailAspect {
    /// Compare the `p`-quantile (0.99 for p99); a rise up to `tolerance` (0.1 = +10%) is allowed.
    Quantile {
        /// The quantile level, strictly inside (0, 1).
        p: f64,
        /// The allowed relative change, in [0, 1).
        #[cfg_attr(feature = "serde", serde(default))]
        tolerance: f64,
    },
    /// The share of canary points beyond the pooled `q`-quantile against the baseline's share.
    Exceedance {
        /// The quantile level, strictly inside (0, 1).
        q: f64,
    },
    /// Two-sample Kolmogorov-Smirnov on the whole distribution.
    KolmogorovSmirnov,
    /// Anderson-Darling two-sample test, most sensitive in the tails.
    AndersonDarling,
}

impl TailAspect {
    /// Checks the aspect's parameters; the error names the field.
    pub(crate) fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        match *self {
            TailAspect::Quantile { p, tolerance } => {
                if !(p > 0.0 && p < 1.0) {
                    return Err((
                        "tails.quantile.p",
                        format!("{p} is not strictly between 0 and 1"),
                    ));
                }
                if !(0.0..1.0).contains(&tolerance) {
                    return Err((
                        "tails.quantile.tolerance",
                        format!("{tolerance} is not in [0, 1)"),
                    ));
                }
            }
            TailAspect::Exceedance { q } if !(q > 0.0 && q < 1.0) => {
                return Err((
                    "tails.exceedance.q",
                    format!("{q} is not strictly between 0 and 1"),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for TailAspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TailAspect::Quantile { p, .. } => write!(f, "p{}", fmt_g(p * 100.0)),
            TailAspect::Exceedance { q } => write!(f, "exceedance of p{}", fmt_g(q * 100.0)),
            TailAspect::KolmogorovSmirnov => f.write_str("Kolmogorov-Smirnov"),
            TailAspect::AndersonDarling => f.write_str("Anderson-Darling"),
        }
    }
}
