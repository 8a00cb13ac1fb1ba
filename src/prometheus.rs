//! Prometheus query results as the crate's series: the JSON that the HTTP API's `query` and
//! `query_range` endpoints return, read from a string the caller fetched (no I/O here).
//!
//! - [`parse`] reads a response (or its `data` object) into [`PromSeries`]: one per label set,
//!   with its float samples and its native histograms, timestamps kept. Values arrive as strings
//!   (`"NaN"`, `"+Inf"` and `"-Inf"` included, as the API documents); a NaN sample is kept, and the
//!   metric's `nan` policy decides what it means. Staleness markers never reach a query result
//!   (the API leaves stale samples out), so a gap is simply a missing timestamp.
//! - [`ArmLabel`] names the label that tells the arms apart (for example `track` with values
//!   `stable` and `canary`); series with other values are left out.
//! - [`ArmLabel::points`] turns one series per arm into timestamped points, which the judge pairs
//!   by timestamp (a `query_range` with one `step` gives both arms the same timestamps).
//! - [`ArmLabel::classic_histograms`] builds a [`Histogram`] per arm from `_bucket` series with
//!   `le` labels: from an instant vector of counts per bucket (for example
//!   `sum by (le, track) (increase(http_request_duration_seconds_bucket[30m]))`), or from a range
//!   of raw cumulative counters, whose increase over the window is taken with counter resets
//!   handled as Prometheus' `increase` does (a drop starts a new count from zero).
//! - [`ArmLabel::native_histograms`] builds one from native histograms in an instant vector
//!   (for example `sum by (track) (increase(http_request_duration_seconds[30m]))`): the sparse
//!   buckets of both arms are laid on the union of their boundaries, empty buckets filled in.
//!
//! Counts computed by `increase` are extrapolated and need not be whole numbers: they are
//! rounded to the nearest integer, and cumulative bucket counts are made non-decreasing in `le`
//! (a running maximum), as `histogram_quantile` does for the same reason.
//!
//! Format: <https://prometheus.io/docs/prometheus/latest/querying/api/> (expression query
//! result formats; native histograms: `[boundary_rule, left, right, count]` buckets).
//!
//! # Example
//! ```
//! use canary_verdict::prometheus::{parse, ArmLabel};
//! use canary_verdict::{judge, CanaryPolicy, Direction, MetricData, MetricPolicy};
//! let response = r#"{"status":"success","data":{"resultType":"matrix","result":[
//!   {"metric":{"track":"stable"},"values":[[1700000000,"101"],[1700000060,"99"],[1700000120,"100"]]},
//!   {"metric":{"track":"canary"},"values":[[1700000000,"131"],[1700000060,"129"],[1700000120,"130"]]}
//! ]}}"#;
//! let series = parse(response)?;
//! let arms = ArmLabel::new("track", "stable", "canary").points(&series)?;
//! let data = [MetricData::new("latency_ms", arms)];
//! let mut metric = MetricPolicy::new("latency_ms", Direction::Increase);
//! metric.min_samples = 3;
//! let judgment = judge(&CanaryPolicy::new(vec![metric]), &data)?;
//! assert_eq!(judgment.metrics[0].n_canary, 3);
//! # Ok::<(), canary_verdict::Error>(())
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::series::Series;
use crate::stats::histogram::Histogram;

/// One native histogram of a query result: its count, sum and sparse buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogram {
    /// The number of observations.
    pub count: f64,
    /// The sum of the observations.
    pub sum: f64,
    /// The non-empty buckets as `(left, right, count)`, in the order given.
    pub buckets: Vec<(f64, f64, f64)>,
}

/// One series of a query result: its labels, its float samples and its native histograms, each
/// with its timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct PromSeries {
    /// The label set (`__name__` included when the result carries it).
    pub labels: BTreeMap<String, String>,
    /// The float samples, in the order given.
    pub samples: Vec<(DateTime<Utc>, f64)>,
    /// The native histograms, in the order given.
    pub histograms: Vec<(DateTime<Utc>, NativeHistogram)>,
}

impl PromSeries {
    /// The label set as PromQL writes it, `{le="0.5",track="canary"}`, for messages.
    pub fn selector(&self) -> String {
        let inner: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{{{}}}", inner.join(","))
    }
}

fn bad(series: impl Into<String>, field: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::Prometheus {
        series: series.into(),
        field: field.into(),
        problem: problem.into(),
    }
}

/// A sample value: a JSON string holding a float, `NaN`, `+Inf` or `-Inf` (a bare number is
/// accepted too).
fn value_of(v: &Value, series: &str, field: &str) -> Result<f64> {
    match v {
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "+Inf" | "Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            other => other
                .parse::<f64>()
                .map_err(|_| bad(series, field, format!("{other:?} is not a number"))),
        },
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| bad(series, field, format!("{n} is not a number"))),
        other => Err(bad(series, field, format!("{other} is not a sample value"))),
    }
}

/// A Unix time in seconds (a JSON number, possibly fractional) as a timestamp.
fn time_of(v: &Value, series: &str, field: &str) -> Result<DateTime<Utc>> {
    let t = v
        .as_f64()
        .ok_or_else(|| bad(series, field, format!("{v} is not a Unix time")))?;
    // chrono's range is about ±262 000 years; refuse what it cannot hold before converting.
    if !(t.is_finite() && t.abs() < 8.0e12) {
        return Err(bad(series, field, format!("{t} is not a Unix time")));
    }
    let secs = t.floor();
    let nanos = ((t - secs) * 1e9).round().min(999_999_999.0) as u32;
    DateTime::from_timestamp(secs as i64, nanos)
        .ok_or_else(|| bad(series, field, format!("{t} is out of range")))
}

fn pair<'a>(v: &'a Value, series: &str, field: &str) -> Result<(&'a Value, &'a Value)> {
    match v.as_array().map(Vec::as_slice) {
        Some([t, x]) => Ok((t, x)),
        _ => Err(bad(
            series,
            field,
            format!("{v} is not a [time, value] pair"),
        )),
    }
}

fn native(v: &Value, series: &str, field: &str) -> Result<NativeHistogram> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(series, field, "not a histogram object"))?;
    let num = |key: &str| -> Result<f64> {
        let f = format!("{field}.{key}");
        value_of(
            obj.get(key)
                .ok_or_else(|| bad(series, f.clone(), "missing"))?,
            series,
            &f,
        )
    };
    let (count, sum) = (num("count")?, num("sum")?);
    let mut buckets = Vec::new();
    if let Some(list) = obj.get("buckets") {
        let list = list
            .as_array()
            .ok_or_else(|| bad(series, format!("{field}.buckets"), "not an array"))?;
        for (i, b) in list.iter().enumerate() {
            let f = format!("{field}.buckets[{i}]");
            match b.as_array().map(Vec::as_slice) {
                Some([rule, left, right, c]) => {
                    if rule.as_u64().is_none_or(|r| r > 3) {
                        return Err(bad(series, f, format!("boundary rule {rule} is not 0..3")));
                    }
                    buckets.push((
                        value_of(left, series, &f)?,
                        value_of(right, series, &f)?,
                        value_of(c, series, &f)?,
                    ));
                }
                _ => {
                    return Err(bad(
                        series,
                        f,
                        "not a [boundary_rule, left, right, count] bucket",
                    ))
                }
            }
        }
    }
    Ok(NativeHistogram {
        count,
        sum,
        buckets,
    })
}

/// Reads a query result: the whole response (`{"status": "success", "data": {...}}`) or its
/// `data` object. `matrix` and `vector` results give one [`PromSeries`] per label set; a
/// `scalar` gives one series without labels.
///
/// # Errors
/// [`Error::Prometheus`] naming the series and the field: a response whose status is not
/// `success` (with its error message), a result type that is neither `matrix`, `vector` nor
/// `scalar`, a malformed sample, time or histogram.
pub fn parse(json: &str) -> Result<Vec<PromSeries>> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| bad("", "response", format!("not JSON: {e}")))?;
    if let Some(status) = doc.get("status") {
        if status != "success" {
            let msg = doc
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(bad("", "status", format!("{status}: {msg}")));
        }
    }
    let data = doc.get("data").unwrap_or(&doc);
    let kind = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("", "data.resultType", "missing"))?;
    let result = data
        .get("result")
        .ok_or_else(|| bad("", "data.result", "missing"))?;
    if kind == "scalar" {
        let (t, v) = pair(result, "", "data.result")?;
        return Ok(vec![PromSeries {
            labels: BTreeMap::new(),
            samples: vec![(
                time_of(t, "", "data.result")?,
                value_of(v, "", "data.result")?,
            )],
            histograms: Vec::new(),
        }]);
    }
    if kind != "matrix" && kind != "vector" {
        return Err(bad(
            "",
            "data.resultType",
            format!("{kind:?} is not matrix, vector or scalar"),
        ));
    }
    let items = result
        .as_array()
        .ok_or_else(|| bad("", "data.result", "not an array"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut labels = BTreeMap::new();
        if let Some(m) = item.get("metric").and_then(Value::as_object) {
            for (k, v) in m {
                let v = v.as_str().ok_or_else(|| {
                    bad(
                        format!("result[{i}]"),
                        format!("metric.{k}"),
                        "not a string",
                    )
                })?;
                labels.insert(k.clone(), v.to_string());
            }
        }
        let mut s = PromSeries {
            labels,
            samples: Vec::new(),
            histograms: Vec::new(),
        };
        let name = s.selector();
        let list = |key: &str| -> Result<Vec<&Value>> {
            Ok(match item.get(key) {
                None => Vec::new(),
                Some(Value::Array(a)) if kind == "matrix" => a.iter().collect(),
                Some(v) if kind == "vector" => vec![v],
                Some(v) => return Err(bad(name.clone(), key, format!("{v} is not a list"))),
            })
        };
        let (values, histograms) = if kind == "matrix" {
            (list("values")?, list("histograms")?)
        } else {
            (list("value")?, list("histogram")?)
        };
        for (k, v) in values.into_iter().enumerate() {
            let field = format!("values[{k}]");
            let (t, x) = pair(v, &name, &field)?;
            s.samples
                .push((time_of(t, &name, &field)?, value_of(x, &name, &field)?));
        }
        for (k, v) in histograms.into_iter().enumerate() {
            let field = format!("histograms[{k}]");
            let (t, h) = pair(v, &name, &field)?;
            s.histograms
                .push((time_of(t, &name, &field)?, native(h, &name, &field)?));
        }
        out.push(s);
    }
    Ok(out)
}

/// Which label tells the arms apart, and its value for each (for example `track`: `stable` for
/// the baseline, `canary` for the canary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmLabel {
    /// The label's name.
    pub label: String,
    /// The label's values for the two arms.
    pub values: Arms<String>,
}

impl ArmLabel {
    /// The label `label`, whose value is `baseline` on the baseline's series and `canary` on the
    /// canary's.
    pub fn new(
        label: impl Into<String>,
        baseline: impl Into<String>,
        canary: impl Into<String>,
    ) -> ArmLabel {
        ArmLabel {
            label: label.into(),
            values: Arms {
                baseline: baseline.into(),
                canary: canary.into(),
            },
        }
    }

    fn arm<'a>(&self, series: &'a [PromSeries], canary: bool) -> Vec<&'a PromSeries> {
        let want = if canary {
            &self.values.canary
        } else {
            &self.values.baseline
        };
        series
            .iter()
            .filter(|s| s.labels.get(&self.label) == Some(want))
            .collect()
    }

    fn arm_name(&self, canary: bool) -> String {
        let v = if canary {
            &self.values.canary
        } else {
            &self.values.baseline
        };
        format!("{{{}={v:?}}}", self.label)
    }

    /// The arm's one series: none, or several (a query not aggregated by the arm label), is an
    /// error naming the arm.
    fn only_series<'a>(&self, series: &'a [PromSeries], canary: bool) -> Result<&'a PromSeries> {
        match self.arm(series, canary).as_slice() {
            [s] => Ok(*s),
            [] => Err(bad(self.arm_name(canary), "result", "no series")),
            many => Err(bad(
                self.arm_name(canary),
                "result",
                format!(
                    "{} series where one was expected: aggregate the query by the arm label",
                    many.len()
                ),
            )),
        }
    }

    fn both<T>(&self, mut f: impl FnMut(bool) -> Result<T>) -> Result<Arms<T>> {
        Ok(Arms {
            baseline: f(false)?,
            canary: f(true)?,
        })
    }

    /// One series per arm as timestamped points ([`Series::points`]).
    ///
    /// # Errors
    /// [`Error::Prometheus`] when an arm has no series or more than one (aggregate the query,
    /// for example with `avg by (track)`), or when its series carries native histograms.
    pub fn points(&self, series: &[PromSeries]) -> Result<Arms<Series>> {
        self.both(|canary| {
            let s = self.only_series(series, canary)?;
            if !s.histograms.is_empty() {
                return Err(bad(
                    s.selector(),
                    "histograms",
                    "native histograms: use native_histograms",
                ));
            }
            Ok(Series::points(s.samples.iter().copied()))
        })
    }

    /// One [`Histogram`] per arm from classic `_bucket` series (one per `le` value): from an
    /// instant vector of bucket counts, or from a range of raw cumulative counters whose increase
    /// over the window is taken (counter resets handled). `lowest` is the lower edge of the
    /// first bucket (0 for durations and sizes).
    ///
    /// # Errors
    /// [`Error::Prometheus`] naming the series: an arm without buckets, a missing or unparsable
    /// `le`, two series for one `le`, a NaN, infinite or negative count, or a last bucket that is
    /// not `+Inf`; [`Error::InvalidCounts`] from [`Histogram::from_cumulative`] (no points, bounds
    /// not above `lowest`).
    pub fn classic_histograms(&self, series: &[PromSeries], lowest: f64) -> Result<Arms<Series>> {
        self.both(|canary| {
            let found = self.arm(series, canary);
            if found.is_empty() {
                return Err(bad(self.arm_name(canary), "result", "no bucket series"));
            }
            let mut by_le: Vec<(f64, f64)> = Vec::with_capacity(found.len());
            for s in &found {
                let name = s.selector();
                let le = s
                    .labels
                    .get("le")
                    .ok_or_else(|| bad(name.clone(), "le", "missing"))?;
                let bound = value_of(&Value::String(le.clone()), &name, "le")?;
                if bound.is_nan() {
                    return Err(bad(name, "le", "NaN"));
                }
                if by_le.iter().any(|&(b, _)| b == bound) {
                    return Err(bad(name, "le", "two series for this bucket"));
                }
                by_le.push((bound, window_count(s)?));
            }
            by_le.sort_by(|a, b| a.0.total_cmp(&b.0));
            let name = self.arm_name(canary);
            if by_le.last().is_some_and(|&(b, _)| b != f64::INFINITY) {
                return Err(bad(name, "le", "the last bucket is not +Inf"));
            }
            // Running maximum: extrapolated counts can dip between neighbouring buckets.
            let mut running = 0u64;
            let mut cumulative = Vec::with_capacity(by_le.len());
            for &(_, c) in &by_le {
                running = running.max(whole(c, &name, "count")?);
                cumulative.push(running);
            }
            let bounds = by_le.iter().map(|&(b, _)| b).collect();
            Histogram::from_cumulative(lowest, bounds, cumulative).map(Series::histogram)
        })
    }

    /// One [`Histogram`] per arm from native histograms of an instant vector (one series per
    /// arm): both arms' sparse buckets laid on the union of their boundaries.
    ///
    /// # Errors
    /// [`Error::Prometheus`] when an arm has no series or more than one, no histogram or more
    /// than one (a range: query `increase(...)` as an instant query), a bucket with
    /// `right <= left`, NaN or negative count, or buckets of the two arms that overlap without
    /// sharing boundaries (different schemas that do not nest).
    pub fn native_histograms(&self, series: &[PromSeries]) -> Result<Arms<Series>> {
        let arms = self.both(|canary| {
            let s = self.only_series(series, canary)?;
            match s.histograms.as_slice() {
                [(_, h)] => Ok((s.selector(), h.clone())),
                [] => Err(bad(s.selector(), "histograms", "no native histogram")),
                _ => Err(bad(
                    s.selector(),
                    "histograms",
                    "a range of histograms: query increase(...) as an instant vector",
                )),
            }
        })?;
        // The union of both arms' boundaries.
        let mut edges: Vec<f64> = Vec::new();
        for (name, h) in [&arms.baseline, &arms.canary] {
            for (i, &(l, r, _)) in h.buckets.iter().enumerate() {
                if l.is_nan() || r.is_nan() || l >= r {
                    return Err(bad(
                        name.clone(),
                        format!("buckets[{i}]"),
                        format!("[{l}, {r}] is not an interval"),
                    ));
                }
                edges.push(l);
                edges.push(r);
            }
        }
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        if edges.len() < 2 {
            return Err(bad(
                self.arm_name(false),
                "buckets",
                "no buckets in either arm",
            ));
        }
        let cell = |x: f64| edges.binary_search_by(|e| e.total_cmp(&x)).ok();
        self.both(|canary| {
            let (name, h) = if canary { &arms.canary } else { &arms.baseline };
            let mut counts = vec![0u64; edges.len() - 1];
            for (i, &(l, r, c)) in h.buckets.iter().enumerate() {
                let field = format!("buckets[{i}]");
                let (a, b) = (cell(l), cell(r));
                let (Some(a), Some(b)) = (a, b) else {
                    return Err(bad(name.clone(), field, "boundary not on the grid"));
                };
                if b != a + 1 {
                    return Err(bad(
                        name.clone(),
                        field,
                        format!("[{l}, {r}] overlaps the other arm's buckets without sharing their boundaries"),
                    ));
                }
                counts[a] = counts[a].saturating_add(whole(c, name, &field)?);
            }
            Histogram::from_buckets(edges[0], edges[1..].to_vec(), counts).map(Series::histogram)
        })
    }
}

/// The count a bucket series contributes: an instant vector's one value, or the increase of a
/// range of cumulative counter values (a drop is a counter reset: the count starts again from
/// zero, so the value after the drop is all new).
fn window_count(s: &PromSeries) -> Result<f64> {
    let name = s.selector();
    match s.samples.as_slice() {
        [] => Err(bad(name, "values", "no samples")),
        [(_, v)] => Ok(*v),
        many => {
            let mut total = 0.0;
            for w in many.windows(2) {
                let (a, b) = (w[0].1, w[1].1);
                if !(a.is_finite() && b.is_finite()) {
                    return Err(bad(name, "values", "a non-finite counter value"));
                }
                total += if b >= a { b - a } else { b };
            }
            Ok(total)
        }
    }
}

/// A count rounded to the nearest whole number; NaN, infinite, negative or past 2^53: an error.
fn whole(c: f64, series: &str, field: &str) -> Result<u64> {
    if !(0.0..9.007_199_254_740_992e15).contains(&c) {
        return Err(bad(series, field, format!("{c} is not a count")));
    }
    Ok(c.round() as u64)
}
