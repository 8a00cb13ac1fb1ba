//! Metric data as deploy tools hold it: raw samples, timestamped points, counters, or
//! histograms.
#![doc = include_str!("docs/series.md")]

use crate::arms::Arms;
use chrono::{DateTime, Utc};

pub use crate::stats::histogram::Histogram;

/// One timestamped measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Point {
    /// When the value was measured (the start of its interval).
    pub timestamp: DateTime<Utc>,
    /// The value; NaN marks a missing point.
    pub value: f64,
}

/// Events out of trials over one interval (errors out of requests), or over the whole window.
///
/// Counts are carried as f64 so that bad input (negative, fractional, NaN) reaches the judge and
/// gets an error that names it, instead of failing to parse.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CountPoint {
    /// When the interval started, if known.
    #[cfg_attr(feature = "serde", serde(default))]
    pub timestamp: Option<DateTime<Utc>>,
    /// Events counted (errors, crashes).
    pub events: f64,
    /// Trials they are out of (requests), or the exposure (seconds, instance-hours).
    pub trials: f64,
}

/// Per-request values of one time block (a minute), for [`Series::Blocks`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Block {
    /// The start of the block; blocks of the two arms with the same timestamp are compared
    /// with each other.
    pub timestamp: DateTime<Utc>,
    /// The values measured in the block (per-request latencies); NaN marks a missing one.
    pub values: Vec<f64>,
}

/// One arm's data for one metric.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Series {
    /// Values without time: per-request latencies, per-host figures.
    Samples(Vec<f64>),
    /// Timestamped values: one per interval.
    Points(Vec<Point>),
    /// Counters: events out of trials, per interval or one total.
    Counts(Vec<CountPoint>),
    /// A histogram of the window (Prometheus / OpenTelemetry buckets): JSON
    /// `{"histogram": {"lowest": 0, "upper_bounds": [0.1, 0.5, "inf"], "counts": [80, 15, 5]}}`.
    /// Judged by the grouped rank-sum test and the bucket-interpolated median (see
    /// [`histogram_mann_whitney`](crate::stats::histogram_mann_whitney)); both arms must be histograms
    /// with the same bounds. Deserialized histograms skip [`Histogram::from_buckets`]' checks:
    /// the judge re-checks them.
    Histogram(Histogram),
    /// Per-request values grouped in time blocks (one per minute): JSON
    /// `{"blocks": [{"timestamp": "...", "values": [0.12, 0.31]}]}`. When both arms are blocks,
    /// requests are compared within their block (van Elteren's stratified rank test with a
    /// variance robust to what requests of one block share, and corrected for serial
    /// correlation between blocks), so a load both arms share in a minute cancels and requests
    /// of one minute are not counted as independent. Against samples, blocks are their values.
    Blocks(Vec<Block>),
}

impl Series {
    /// Raw samples from anything iterable.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::Series;
    /// let s = Series::samples([1.0, 2.0, 3.0]);
    /// assert_eq!(s.len(), 3);
    /// ```
    pub fn samples(values: impl IntoIterator<Item = f64>) -> Series {
        Series::Samples(values.into_iter().collect())
    }

    /// Timestamped points from `(timestamp, value)` pairs.
    pub fn points(points: impl IntoIterator<Item = (DateTime<Utc>, f64)>) -> Series {
        Series::Points(
            points
                .into_iter()
                .map(|(timestamp, value)| Point { timestamp, value })
                .collect(),
        )
    }

    /// A single counter total: `events` out of `trials`.
    pub fn total(events: f64, trials: f64) -> Series {
        Series::Counts(vec![CountPoint {
            timestamp: None,
            events,
            trials,
        }])
    }

    /// Counters per interval, from `(events, trials)` pairs.
    pub fn counts(pairs: impl IntoIterator<Item = (f64, f64)>) -> Series {
        Series::Counts(
            pairs
                .into_iter()
                .map(|(events, trials)| CountPoint {
                    timestamp: None,
                    events,
                    trials,
                })
                .collect(),
        )
    }

    /// Per-request values in time blocks from `(timestamp, values)` pairs (see
    /// [`Series::Blocks`]).
    ///
    /// # Example
    /// ```
    /// use canary_verdict::Series;
    /// use chrono::{TimeZone, Utc};
    /// let t = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    /// let s = Series::blocks([(t, vec![0.12, 0.31, 0.18])]);
    /// assert_eq!(s.len(), 3);
    /// ```
    pub fn blocks(blocks: impl IntoIterator<Item = (DateTime<Utc>, Vec<f64>)>) -> Series {
        Series::Blocks(
            blocks
                .into_iter()
                .map(|(timestamp, values)| Block { timestamp, values })
                .collect(),
        )
    }

    /// A histogram of the window (see [`Series::Histogram`]).
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{Histogram, Series};
    /// let h = Histogram::from_buckets(0.0, vec![0.1, 0.5, f64::INFINITY], vec![80, 15, 5])?;
    /// assert_eq!(Series::histogram(h).len(), 100);
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn histogram(histogram: Histogram) -> Series {
        Series::Histogram(histogram)
    }

    /// Number of points (samples, timestamped points, counter intervals, or a histogram's total,
    /// saturating at `usize::MAX`).
    pub fn len(&self) -> usize {
        match self {
            Series::Samples(v) => v.len(),
            Series::Points(v) => v.len(),
            Series::Counts(v) => v.len(),
            Series::Histogram(h) => h.points(),
            Series::Blocks(b) => b
                .iter()
                .fold(0usize, |n, b| n.saturating_add(b.values.len())),
        }
    }

    /// Whether the series has no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Both arms' data for one metric, matched to the policy by name.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct MetricData {
    /// The metric's name, as in the policy.
    pub name: String,
    /// The baseline's series.
    pub baseline: Series,
    /// The canary's series.
    pub canary: Series,
}

impl MetricData {
    /// Both arms of a metric.
    pub fn new(name: impl Into<String>, arms: Arms<Series>) -> Self {
        let Arms { baseline, canary } = arms;
        MetricData {
            name: name.into(),
            baseline,
            canary,
        }
    }
}

#[cfg(feature = "ndarray")]
impl Series {
    /// Raw samples from a one-dimensional ndarray view.
    pub fn from_view(view: ndarray::ArrayView1<'_, f64>) -> Series {
        Series::Samples(view.iter().copied().collect())
    }
}
