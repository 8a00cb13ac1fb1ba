//! Kayenta's judge result, field for field: `CanaryJudgeResult` and the classes it holds
//! (`kayenta-core/.../canary/results/*.java`), serialized with Kayenta's camelCase names.

use std::collections::BTreeMap;
use std::fmt;

use crate::judge::verdict::{escape_text, write_table, Verdict};
use crate::stats::hypothesis::{fmt_g, ConfidenceInterval};

/// A metric's label in Kayenta's judge, serialized as Kayenta writes it (the Scala
/// `case object` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KayentaLabel {
    /// No significant change past the effect-size limits.
    Pass,
    /// A significant increase: the interval's lower end above `0.25·|estimate|` and the effect
    /// at or above `allowedIncrease` (or undefined).
    High,
    /// A significant decrease: the interval's upper end below `−0.25·|estimate|` and the effect
    /// at or below `allowedDecrease` (or undefined).
    Low,
    /// No data in one arm after cleaning: left out of the group scores. Fails the canary when
    /// the metric is critical, and half or more Nodata metrics fail it too.
    Nodata,
    /// No data for a non-critical metric with `mustHaveData`: counted as a failure in its groups.
    NodataFailMetric,
    /// The classification failed (for Kayenta an exception; here bad data such as an infinity or
    /// a counter series): left out of the group scores and never critical.
    Error,
}

impl fmt::Display for KayentaLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            KayentaLabel::Pass => "Pass",
            KayentaLabel::High => "High",
            KayentaLabel::Low => "Low",
            KayentaLabel::Nodata => "Nodata",
            KayentaLabel::NodataFailMetric => "NodataFailMetric",
            KayentaLabel::Error => "Error",
        })
    }
}

/// The summary label of a Kayenta judgment (`ThresholdScoreClassifier`): `score ≥ pass` is
/// Pass, `score ≥ marginal` Marginal, anything lower Fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum KayentaScoreLabel {
    /// At or above the pass threshold.
    Pass,
    /// Below pass, at or above marginal.
    Marginal,
    /// Below marginal, or forced to 0 by a critical failure or by too many Nodata metrics.
    Fail,
}

impl fmt::Display for KayentaScoreLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            KayentaScoreLabel::Pass => "Pass",
            KayentaScoreLabel::Marginal => "Marginal",
            KayentaScoreLabel::Fail => "Fail",
        })
    }
}

/// Kayenta's `stats` of one arm after cleaning: all five are 0 for an empty arm.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KayentaStats {
    /// Smallest point.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub min: f64,
    /// Largest point.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub max: f64,
    /// Mean, as R's `mean` ([`Summary::mean`](crate::stats::Summary)).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub mean: f64,
    /// Sample standard deviation (n − 1), 0 for one point.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub std: f64,
    /// Number of points.
    pub count: usize,
}

/// Kayenta's `experimentMetadata` / `controlMetadata`: a wrapper around the stats.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KayentaMetadata {
    /// The arm's descriptive statistics.
    pub stats: KayentaStats,
}

/// Kayenta's `resultMetadata`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KayentaResultMetadata {
    /// `mean(canary) / mean(baseline)` whatever the effect measure; NaN (written `"NaN"`, as
    /// Jackson quotes it) when either mean is 0; 1.0 for no-data and identical samples.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub ratio: f64,
}

/// What Kayenta computes but does not report (kayenta#521 asks for it): the interval, the
/// estimate and the effect. Not part of the JSON shape; skipped by serde.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KayentaDetails {
    /// The 98% asymptotic Mann-Whitney interval for the shift canary − baseline.
    pub interval: ConfidenceInterval,
    /// The Hodges-Lehmann estimate of the shift (median of the pairwise differences).
    pub estimate: f64,
    /// The margin `0.25·|estimate|` the interval's near end must clear.
    pub margin: f64,
    /// The effect on the metric's measure (mean ratio or CLES); NaN when undefined.
    pub effect: f64,
}

/// One metric's result, as Kayenta's `CanaryAnalysisResult`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct KayentaMetricResult {
    /// The metric's name.
    pub name: String,
    /// Tags of the metric-set pair; always empty here (one pair per metric).
    #[cfg_attr(feature = "serde", serde(default))]
    pub tags: BTreeMap<String, String>,
    /// The metric's groups, as configured (possibly none).
    pub groups: Vec<String>,
    /// The label.
    pub classification: KayentaLabel,
    /// Why; Kayenta's own wording where the notes quote it.
    pub classification_reason: String,
    /// Whether this result fails the whole canary on its own (a critical metric that is High or
    /// Low past its critical limit, or Nodata).
    pub critical: bool,
    /// Muted: reported, not scored.
    pub muted: bool,
    /// The canary's stats after cleaning.
    pub experiment_metadata: KayentaMetadata,
    /// The baseline's stats after cleaning.
    pub control_metadata: KayentaMetadata,
    /// The mean ratio.
    pub result_metadata: KayentaResultMetadata,
    /// The interval, estimate and effect behind the label, when the comparison ran.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub details: Option<KayentaDetails>,
}

/// One group's score, as Kayenta's `CanaryAnalysisResult` group entries.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct KayentaGroupScore {
    /// The group's name.
    pub name: String,
    /// `100 · #Pass / (#Pass + #High + #Low + #NodataFailMetric)`, 0 when that is empty.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub score: f64,
    /// Always `""`, as in Kayenta.
    pub classification: String,
    /// Always `""`, as in Kayenta.
    pub classification_reason: String,
    /// Whether nothing in the group was counted; such a group weighs in as 100 in the summary.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub no_data: bool,
}

/// The summary score.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct KayentaScore {
    /// The weighted sum of the group scores, rounded half up to two decimals; 0 on a critical
    /// failure or when half or more results are Nodata.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub score: f64,
    /// The label of the score against the thresholds.
    pub classification: KayentaScoreLabel,
    /// `""`, or `"Canary Failed: …"` when an override set the score to 0.
    pub classification_reason: String,
}

/// A Kayenta judgment, as Kayenta's `CanaryJudgeResult`: serializes to the JSON that Kayenta's
/// API returns for one judgment (without the random `id` of each result).
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::{
///     kayenta::{judge_kayenta, KayentaLabel, KayentaScoreLabel},
///     policy::EffectMeasure,
///     CanaryPolicy, Direction, MetricData, MetricPolicy, Series, Tolerance,
/// };
/// let mut latency = MetricPolicy::new("latency", Direction::Increase);
/// latency.tolerance = Tolerance::kayenta(EffectMeasure::MeanRatio);
/// let policy = CanaryPolicy::new(vec![latency]);
/// let baseline: Vec<f64> = (0..50).map(|i| 100.0 + (i % 10) as f64).collect();
/// let canary: Vec<f64> = baseline.iter().map(|v| v + 20.0).collect();
/// let result = judge_kayenta(
///     &policy,
///     &[MetricData::new(
///         "latency",
///         Arms {
///             baseline: Series::samples(baseline),
///             canary: Series::samples(canary),
///         },
///     )],
/// )?;
/// assert_eq!(result.results[0].classification, KayentaLabel::High);
/// assert_eq!(result.score.score, 0.0);
/// assert_eq!(result.score.classification, KayentaScoreLabel::Fail);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct KayentaResult {
    /// `"NetflixACAJudge-v1.0"`.
    pub judge_name: String,
    /// Every metric's result, in policy order, muted ones included.
    pub results: Vec<KayentaMetricResult>,
    /// Group scores, by group name.
    pub group_scores: Vec<KayentaGroupScore>,
    /// The summary.
    pub score: KayentaScore,
}

impl KayentaResult {
    /// The verdict a deploy tool acts on: Pass → [`Verdict::Promote`], Marginal →
    /// [`Verdict::Marginal`], Fail → [`Verdict::Rollback`]. Kayenta never says "inconclusive".
    pub fn verdict(&self) -> Verdict {
        match self.score.classification {
            KayentaScoreLabel::Pass => Verdict::Promote,
            KayentaScoreLabel::Marginal => Verdict::Marginal,
            KayentaScoreLabel::Fail => Verdict::Rollback,
        }
    }

    /// The result of one metric, by name.
    pub fn metric(&self, name: &str) -> Option<&KayentaMetricResult> {
        self.results.iter().find(|r| r.name == name)
    }

    /// The score of one group, by name.
    pub fn group(&self, name: &str) -> Option<&KayentaGroupScore> {
        self.group_scores.iter().find(|g| g.name == name)
    }
}

impl fmt::Display for KayentaResult {
    /// A table for a CI log: the score and its label, why an override set it to 0, one row per
    /// metric (label with `!` when it fails the canary on its own and in parentheses when muted;
    /// groups; mean ratio; the 98% interval, estimate and margin when the comparison ran), the
    /// reason of every non-Pass metric, and the group scores.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: score {:.2}, {}",
            self.judge_name, self.score.score, self.score.classification
        )?;
        if !self.score.classification_reason.is_empty() {
            writeln!(f, "  {}", escape_text(&self.score.classification_reason))?;
        }
        let dash = || "-".to_string();
        let rows: Vec<[String; 7]> = self
            .results
            .iter()
            .map(|r| {
                let mut label = r.classification.to_string();
                if r.critical {
                    label.push('!');
                }
                if r.muted {
                    label = format!("({label})");
                }
                let d = r.details.as_ref();
                [
                    r.name.clone(),
                    label,
                    if r.groups.is_empty() {
                        dash()
                    } else {
                        r.groups.join(",")
                    },
                    fmt_g(r.result_metadata.ratio),
                    d.map_or_else(dash, |d| {
                        format!("[{}, {}]", fmt_g(d.interval.lower), fmt_g(d.interval.upper))
                    }),
                    d.map_or_else(dash, |d| fmt_g(d.estimate)),
                    d.map_or_else(dash, |d| fmt_g(d.margin)),
                ]
            })
            .collect();
        let header = [
            "metric", "label", "groups", "ratio", "interval", "estimate", "margin",
        ];
        write_table(f, &header, &rows)?;
        for r in self
            .results
            .iter()
            .filter(|r| r.classification != KayentaLabel::Pass)
        {
            writeln!(
                f,
                "  {}: {}",
                escape_text(&r.name),
                escape_text(&r.classification_reason)
            )?;
        }
        let groups: Vec<String> = self
            .group_scores
            .iter()
            .map(|g| {
                let no_data = if g.no_data { " (no data)" } else { "" };
                format!("{} {:.2}{no_data}", g.name, g.score)
            })
            .collect();
        write!(f, "  groups: {}", escape_text(&groups.join(", ")))
    }
}
