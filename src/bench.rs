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
//! # What one run against one run can and cannot tell
//!
//! The test sees the variation *within* each run. A change of the machine *between* runs (a
//! noisy neighbour arriving, the host's clock or cache state) shifts every sample of a run alike
//! and is, to the test, indistinguishable from a change of the code. Measured with the crate's
//! own benches (`cargo bench --bench counts --bench tail -- --save-baseline rK`, four runs of
//! identical code one after another on a shared 2-core machine, nothing else running, each
//! ordered pair of runs gated at the default +5%):
//!
//! - 42 of 348 benchmark comparisons (12%) failed, and 11 of the 12 pairs exited 2. The runs
//!   themselves differed: the same sort of 10 000 values took 520, 386, 302 and 265 µs in the
//!   four runs, each with an interval of a few percent.
//! - On a pair of runs taken on a quiet machine in an earlier session, none of 29 failed, and an
//!   injected slowdown was caught in 5 of 29 benchmarks at +5%, 15 at +10%, 25 at +20%, 28 at
//!   +30% and 29 at +50%.
//!
//! So a gate on one run per side is only as reliable as the machine is steady between runs.
//! [`RunSpread`] measures that steadiness: a second run of the base code (an A/A pair) gives,
//! over all benchmarks, the spread of the log ratio of a benchmark's median between two runs
//! of the same code, and [`RunSpread::margin`] turns it into the smallest slowdown that can be
//! told from the machine's drift at a stated false-failure rate. The gate's tolerance is then
//! the larger of the two. On the four runs above, every (base, A/A, new) triple of distinct
//! runs (24 triples, 696 benchmark comparisons; `bench_gate --aa`, tolerance the larger of +5%
//! and the margin at a 1% rate; `scripts/bench_gate_runs.sh target/criterion "r1 r2 r3 r4" 0 0.3
//! 0.5 1.0` gives both sets of figures):
//!
//! - 1 of 696 comparisons failed (0.14%), in 1 of the 24 triples; the margins were +53% to
//!   +69%, the spread of this machine (17% to 21% rms between runs);
//! - an injected slowdown failed 42 of 696 at +30%, 107 at +50% and 517 at +100%.
//!
//! The price of a noisy machine is power: nothing below its margin can be told from drift. On a
//! steady runner the spread, and with it the margin, shrinks towards the tolerance.
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
use crate::error::{check_level, Error, Result};
use crate::policy::{CanaryPolicy, Comparator, Direction, MetricPolicy, Tolerance};
use crate::series::{MetricData, Series};
use crate::stats::dependence::t_quantile;
use crate::stats::quantile::{quantile, QuantileType};

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

/// How much two runs of the same code differ on this machine: the root mean square, over the
/// benchmarks, of `a_i = ln(median of run 2 / median of run 1)` for benchmark `i` (an A/A
/// pair, for example `--save-baseline base` twice). With run effects that shift a whole run
/// (independent, normal, mean zero, of one spread across benchmarks), a new run of unchanged
/// code differs from the base run by a log ratio distributed as the `a_i`, so `d / s` follows
/// Student's t on `k` degrees of freedom (`s` the root mean square of `k` values of mean zero;
/// Student, *Biometrika* 6, 1908).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSpread {
    /// `s`: the root mean square of the benchmarks' log ratios between the two runs.
    pub rms_log_ratio: f64,
    /// `k`: the benchmarks measured (the degrees of freedom of `s`).
    pub benchmarks: usize,
}

impl RunSpread {
    /// The spread from each benchmark's two runs of the same code (`baseline` the first run,
    /// `canary` the second), per-iteration times as [`read_sample`] gives them; each run's
    /// median (R's default quantile) stands for it.
    ///
    /// # Errors
    /// [`Error::CriterionSample`] naming the benchmark when there is none, or when a run is
    /// empty or its median is not a positive finite time.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::bench::RunSpread;
    /// use canary_verdict::Arms;
    /// let (a1, a2) = ([100.0, 101.0, 99.0], [110.0, 111.0, 109.0]);
    /// let (b1, b2) = ([50.0, 51.0, 49.0], [45.0, 46.0, 44.0]);
    /// let spread = RunSpread::measure(&[
    ///     ("a", Arms { baseline: &a1[..], canary: &a2[..] }),
    ///     ("b", Arms { baseline: &b1[..], canary: &b2[..] }),
    /// ])?;
    /// assert_eq!(spread.benchmarks, 2);
    /// assert!((spread.rms_log_ratio - 0.1).abs() < 0.005);
    /// // Two benchmarks are little to go on: the margin at a 1% rate is wide.
    /// assert!(spread.margin(0.01)? > 1.0);
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn measure(runs: &[(&str, Arms<&[f64]>)]) -> Result<RunSpread> {
        if runs.is_empty() {
            return Err(bad("runs", "no benchmark has two runs to compare"));
        }
        let median = |id: &str, run: &[f64], which: &str| -> Result<f64> {
            if run.is_empty() {
                return Err(bad("runs", format!("{id}: the {which} run is empty")));
            }
            let m = quantile(run, 0.5, QuantileType::Type7).unwrap_or(f64::NAN);
            if m.is_finite() && m > 0.0 {
                Ok(m)
            } else {
                Err(bad(
                    "runs",
                    format!("{id}: the {which} run's median time {m} is not a positive time"),
                ))
            }
        };
        let mut sum = 0.0;
        for (id, arms) in runs {
            let first = median(id, arms.baseline, "first")?;
            let second = median(id, arms.canary, "second")?;
            let a = (second / first).ln();
            sum += a * a;
        }
        Ok(RunSpread {
            rms_log_ratio: (sum / runs.len() as f64).sqrt(),
            benchmarks: runs.len(),
        })
    }

    /// The smallest relative slowdown (0.3 = +30%) that unchanged code exceeds between two runs
    /// with probability `false_failure_rate` per benchmark: `exp(t_k(1 − rate) · s) − 1`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when the rate is not strictly inside (0, 1).
    pub fn margin(&self, false_failure_rate: f64) -> Result<f64> {
        check_level("false_failure_rate", false_failure_rate)?;
        let t = t_quantile(1.0 - false_failure_rate, self.benchmarks as f64);
        Ok((t * self.rms_log_ratio).exp_m1())
    }
}
