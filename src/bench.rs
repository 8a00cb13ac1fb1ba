//! criterion's saved baselines as a canary: a benchmark run (`new`) judged against a saved one
//! (`base`), benchmark by benchmark, with the rank comparison, its shift and interval, a
//! tolerance, the serial-correlation correction and Holm across benchmarks, so that CI fails on
//! a confident regression and not on noise. The caller reads the files (no I/O here): criterion
//! writes `target/criterion/<id>/<baseline>/sample.json` and `benchmark.json` for each
//! benchmark and baseline (`--save-baseline NAME`).
//!
//! Each sample of a criterion run is one timing of `iters` iterations; the per-iteration time of
//! a sample is `time / iters`. The samples of a run are taken one after another, so they are
//! handed to the judge as points in sample order: the rank-sum test then corrects for the
//! serial correlation of each run (drift, a warming cache, the trend of criterion's linear
//! sampling), and the two runs are compared unpaired (sample `k` of one run has nothing to do
//! with sample `k` of the other beyond its iteration count).
//!
//! # Example
//! ```
//! use canary_verdict::bench::{gate_data, gate_policy, read_sample};
//! use canary_verdict::{judge, Verdict};
//! let base = read_sample(r#"{"sampling_mode":"Linear","iters":[10,20,30,40,50,60,70,80,90,100,110,120],
//!     "times":[1000,2010,2990,4000,5020,5990,7000,8010,8990,10000,11020,11990]}"#)?;
//! let new: Vec<f64> = base.iter().map(|t| t * 1.3).collect();
//! let ids = vec!["parse/small".to_string()];
//! let judgment = judge(&gate_policy(&ids, 0.05), &[gate_data(&ids[0], &base, &new)])?;
//! assert_eq!(judgment.verdict, Verdict::Rollback);
//! # Ok::<(), canary_verdict::Error>(())
//! ```

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::policy::{CanaryPolicy, Comparator, Direction, MetricPolicy, Tolerance};
use crate::series::{MetricData, Series};

fn bad(field: &str, problem: impl Into<String>) -> Error {
    Error::CriterionSample {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// The per-iteration times (in criterion's unit, nanoseconds) of one run's `sample.json`
/// (`{"sampling_mode": ..., "iters": [...], "times": [...]}`), in sample order: `times[k] /
/// iters[k]`.
///
/// # Errors
/// [`Error::CriterionSample`] naming `iters`, `times` or the file: not JSON, a missing array,
/// arrays of different lengths or fewer than two samples, an iteration count that is not
/// positive, a time that is negative or not finite.
pub fn read_sample(json: &str) -> Result<Vec<f64>> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| bad("sample.json", format!("not JSON: {e}")))?;
    let array = |key: &str| -> Result<Vec<f64>> {
        let list = doc
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| bad(key, "missing or not an array"))?;
        list.iter()
            .enumerate()
            .map(|(k, v)| {
                v.as_f64()
                    .ok_or_else(|| bad(key, format!("[{k}] = {v} is not a number")))
            })
            .collect()
    };
    let (iters, times) = (array("iters")?, array("times")?);
    if iters.len() != times.len() {
        return Err(bad(
            "times",
            format!("{} times for {} iteration counts", times.len(), iters.len()),
        ));
    }
    if iters.len() < 2 {
        return Err(bad(
            "iters",
            format!("{} samples: two at least", iters.len()),
        ));
    }
    iters
        .iter()
        .zip(&times)
        .enumerate()
        .map(|(k, (&n, &t))| {
            if !(n.is_finite() && n >= 1.0) {
                return Err(bad("iters", format!("[{k}] = {n} is not a positive count")));
            }
            if !(t.is_finite() && t >= 0.0) {
                return Err(bad("times", format!("[{k}] = {t} is not a duration")));
            }
            Ok(t / n)
        })
        .collect()
}

/// The benchmark's id (`full_id`, for example `binom_test/two_sided_p0.5/1e3`) from its
/// `benchmark.json`.
///
/// # Errors
/// [`Error::CriterionSample`] naming `full_id` when the file is not JSON or has no string id.
pub fn read_benchmark_id(json: &str) -> Result<String> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| bad("full_id", format!("not JSON: {e}")))?;
    doc.get("full_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad("full_id", "missing or not a string"))
}

/// The policy of the gate: one metric per benchmark id, harm an increase of the per-iteration
/// time, compared by the rank-sum test (the runs are not paired) with the Hodges-Lehmann shift,
/// failing when the interval's near end is beyond `tolerance` (0.05 = +5%, the default the
/// `bench_gate` example uses) and that failure a critical breach, so the verdict is Rollback;
/// Holm across the benchmarks (the judge's default). The default p99 aspect is off: a tail of a
/// hundred samples is not a tail. Every field stays the caller's to change per benchmark.
pub fn gate_policy(ids: &[String], tolerance: f64) -> CanaryPolicy {
    let limit = 1.0 + tolerance;
    let metrics = ids
        .iter()
        .map(|id| MetricPolicy {
            comparator: Comparator::RankSum,
            tolerance: Tolerance {
                allowed_increase: limit,
                critical_increase: limit,
                ..Tolerance::default()
            },
            auto_tails: false,
            min_samples: 10,
            ..MetricPolicy::new(id.clone(), Direction::Increase)
        })
        .collect();
    CanaryPolicy::new(metrics)
}

/// One benchmark's data for the gate: both runs' per-iteration times as points in sample order
/// (one second apart, from the Unix epoch: the times only order the samples).
pub fn gate_data(id: &str, base: &[f64], new: &[f64]) -> MetricData {
    let points = |v: &[f64]| {
        Series::points(v.iter().enumerate().map(|(k, &x)| {
            let t: DateTime<Utc> = DateTime::from_timestamp(k as i64, 0).unwrap_or_default();
            (t, x)
        }))
    };
    MetricData::new(
        id,
        Arms {
            baseline: points(base),
            canary: points(new),
        },
    )
}
