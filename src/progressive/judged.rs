//! The rules that re-run the one-shot judge on a window every interval: Kayenta's canary
//! analysis stage, Argo Rollouts' AnalysisRun limits and Flagger's failed-check threshold.
//! None of them controls the false-rollback rate across looks: every interval is another
//! chance for a healthy canary to fail.

use std::collections::VecDeque;
use std::fmt;

use super::{check_names, invalid, Decision, IntervalRecord, ProgressivePolicy, ProgressiveRule};
use crate::error::{Arm, Error, Result};
use crate::judge::judge;
use crate::judge::verdict::{Judgment, Verdict};
use crate::kayenta::{judge_kayenta, KayentaResult};
use crate::policy::CanaryPolicy;
use crate::series::{MetricData, Series};

/// Which intervals the judge sees each time.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Window {
    /// Every interval since the warm-up (Kayenta's default: judgement `i` re-analyses all the
    /// data so far).
    Growing,
    /// The last `lookback` intervals (Kayenta's `lookbackMins` divided by the interval);
    /// `lookback = 1` judges each interval alone, as Argo and Flagger measure.
    Sliding {
        /// Intervals in the window, at least 1.
        lookback: u64,
    },
}

impl Window {
    fn validate(self, field: &'static str) -> Result<()> {
        match self {
            Window::Sliding { lookback: 0 } => Err(invalid(
                field,
                "a sliding window needs a lookback of at least 1 interval".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Kayenta's canary analysis stage (orca / standalone canary analysis): each interval the
/// window is judged; a score at or below `canary.thresholds.marginal` aborts at once (rollback,
/// as the orchestrator fails the stage on `score <= marginal`, even though the judge itself
/// labels a score equal to marginal "Marginal"); a critical metric's failure also rolls back;
/// at the end of the lifetime the last interval's score alone decides: at or above `pass`
/// promotes, below rolls back. No score (nothing could be judged) at the end is Inconclusive.
///
/// Each window is judged by [`judge`](crate::judge) by default, or, with `kayenta_judge`, by
/// [`judge_kayenta`](crate::kayenta::judge_kayenta) (NetflixACAJudge's rules: its score is 0 after a
/// critical failure, which then aborts as any score at or below marginal does), so a stage
/// whose canary configuration came from Kayenta decides as it did there (the rules are
/// written from Kayenta's documented behaviour, not its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct KayentaRule {
    /// The window judged each interval; default [`Window::Growing`].
    pub window: Window,
    /// Judge each window by Kayenta's rules ([`judge_kayenta`](crate::kayenta::judge_kayenta)) instead
    /// of the default judge; default false.
    pub kayenta_judge: bool,
}

impl Default for KayentaRule {
    fn default() -> KayentaRule {
        KayentaRule {
            window: Window::Growing,
            kayenta_judge: false,
        }
    }
}

impl KayentaRule {
    pub(super) fn validate(&self) -> Result<()> {
        self.window.validate("rule.kayenta.window.lookback")
    }
}

/// Argo Rollouts' AnalysisRun semantics (`analysis/analysis.go`, `assessMetricStatus`), the
/// window's verdict standing for one measurement per interval: Promote is `Successful`,
/// Rollback `Failed`, Marginal and Inconclusive `Inconclusive`, and a failed fetch
/// ([`record_error`](super::ProgressiveAnalysis::record_error)) `Error`.
///
/// After each measurement: `failed > failure_limit` (when the limit is not -1) fails the run,
/// `inconclusive > inconclusive_limit` makes it Inconclusive and `consecutive errors >
/// consecutive_error_limit` errs (precedence Error > Inconclusive > Failed when several are
/// crossed at once); otherwise `consecutive_success_limit > 0` consecutive successes succeed
/// early. When the lifetime (Argo's `count`) is reached: with both a failure limit and a
/// success limit the run is Inconclusive (the success limit was not reached), with only the
/// success limit it fails, with only the failure limit it succeeds. Errors do not count towards
/// the lifetime (Argo retries them, and counts only completed measurements) and any other
/// measurement resets the consecutive errors, as in Argo; here an error also resets the
/// consecutive successes (the conservative reading: a streak interrupted by a failed fetch is
/// no longer a streak of observed successes). Failed and Error roll back; Inconclusive pauses for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct ArgoRule {
    /// The window judged for each measurement; default `Sliding { lookback: 1 }` (each
    /// interval alone).
    pub window: Window,
    /// Failed measurements tolerated; default 0 (the first failure fails). -1 disables the
    /// limit, allowed only with a `consecutive_success_limit`.
    pub failure_limit: i64,
    /// Inconclusive measurements tolerated; default 0.
    pub inconclusive_limit: u64,
    /// Consecutive errors tolerated; default 4 (the fifth in a row errs).
    pub consecutive_error_limit: u64,
    /// Consecutive successes that end the run successfully; default 0 (disabled).
    pub consecutive_success_limit: u64,
}

impl Default for ArgoRule {
    fn default() -> ArgoRule {
        ArgoRule {
            window: Window::Sliding { lookback: 1 },
            failure_limit: 0,
            inconclusive_limit: 0,
            consecutive_error_limit: 4,
            consecutive_success_limit: 0,
        }
    }
}

impl ArgoRule {
    pub(super) fn validate(&self) -> Result<()> {
        self.window.validate("rule.argo.window.lookback")?;
        if self.failure_limit < -1 {
            return Err(invalid(
                "rule.argo.failure_limit",
                format!("{} is below -1", self.failure_limit),
            ));
        }
        if self.failure_limit == -1 && self.consecutive_success_limit == 0 {
            return Err(invalid(
                "rule.argo.failure_limit",
                "-1 (no limit) needs a consecutive_success_limit above 0".into(),
            ));
        }
        Ok(())
    }
}

/// Flagger's canary analysis (`pkg/controller/scheduler.go`): each interval is one check, which
/// passes only when the window's verdict is Promote (a Marginal, Rollback or Inconclusive
/// verdict fails it, as Flagger fails a check on an out-of-range value or "no values found";
/// so does a failed fetch). Failed checks are cumulative: when they reach `threshold` the
/// canary rolls back (Flagger notices at the start of the next tick; here it is reported at
/// once). A failed check halts advancement, so with `iterations` set the canary is promoted
/// after that many passed checks (Flagger's `maxWeight / stepWeight`, or `iterations`), and the
/// lifetime acts as the progress deadline: reaching it first rolls back. Without `iterations`
/// the canary is promoted at the end of the lifetime if fewer than `threshold` checks failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct FlaggerRule {
    /// The window judged for each check; default `Sliding { lookback: 1 }`.
    pub window: Window,
    /// Failed checks that roll back; at least 1, default 1.
    pub threshold: u64,
    /// Passed checks that promote; at most the lifetime. Default none (see above).
    pub iterations: Option<u64>,
}

impl Default for FlaggerRule {
    fn default() -> FlaggerRule {
        FlaggerRule {
            window: Window::Sliding { lookback: 1 },
            threshold: 1,
            iterations: None,
        }
    }
}

impl FlaggerRule {
    pub(super) fn validate(&self, lifetime: u64) -> Result<()> {
        self.window.validate("rule.flagger.window.lookback")?;
        if self.threshold == 0 {
            return Err(invalid(
                "rule.flagger.threshold",
                "0 failed checks would roll back before any check; use at least 1".into(),
            ));
        }
        if let Some(n) = self.iterations {
            if n == 0 || n > lifetime {
                return Err(invalid(
                    "rule.flagger.iterations",
                    format!("{n} is not between 1 and the lifetime ({lifetime})"),
                ));
            }
        }
        Ok(())
    }
}

/// One interval's measurement, in Argo's terms (Flagger's checks are Successful or Failed).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Measurement {
    /// The window's verdict was Promote.
    Successful,
    /// Rollback (or, for Flagger, anything but Promote).
    Failed,
    /// Marginal or Inconclusive.
    Inconclusive,
    /// The data could not be fetched.
    Error,
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Measurement::Successful => "successful",
            Measurement::Failed => "failed",
            Measurement::Inconclusive => "inconclusive",
            Measurement::Error => "error",
        })
    }
}

/// The window and the counters of the judged rules.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(super) struct JudgedState {
    window: VecDeque<Vec<MetricData>>,
    failed: u64,
    inconclusive: u64,
    successful: u64,
    errors_in_a_row: u64,
    successes_in_a_row: u64,
    pub(super) last_judgment: Option<Judgment>,
    /// The last window's result under Kayenta's judge (`KayentaRule::kayenta_judge`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub(super) last_kayenta: Option<Box<KayentaResult>>,
}

/// One window's result, from whichever judge the rule uses.
enum WindowResult {
    Default(Judgment),
    Kayenta(KayentaResult),
}

impl WindowResult {
    fn verdict(&self) -> Verdict {
        match self {
            WindowResult::Default(j) => j.verdict,
            WindowResult::Kayenta(k) => k.verdict(),
        }
    }

    fn score(&self) -> Option<f64> {
        match self {
            WindowResult::Default(j) => j.score,
            WindowResult::Kayenta(k) => Some(k.score.score),
        }
    }
}

impl JudgedState {
    /// Judges the window with this interval added; on error the window is left as it was.
    fn judge(
        &mut self,
        policy: &CanaryPolicy,
        window: Window,
        kayenta_judge: bool,
        data: &[MetricData],
    ) -> Result<WindowResult> {
        check_names(policy, data)?;
        self.window.push_back(data.to_vec());
        let dropped = match window {
            Window::Sliding { lookback } if self.window.len() as u64 > lookback => {
                self.window.pop_front()
            }
            _ => None,
        };
        let result = merge(policy, &self.window).and_then(|merged| {
            if kayenta_judge {
                judge_kayenta(policy, &merged).map(WindowResult::Kayenta)
            } else {
                judge(policy, &merged).map(WindowResult::Default)
            }
        });
        if result.is_err() {
            self.window.pop_back();
            if let Some(d) = dropped {
                self.window.push_front(d);
            }
        }
        result
    }

    /// Checks a loaded state: a window no longer than the rule's, of listed metrics, and
    /// counters that account for the `analysed` intervals (Argo: one measurement each, errors
    /// aside; Flagger: one check each; Kayenta keeps none), with streaks no longer than their
    /// totals.
    pub(super) fn check(&self, policy: &ProgressivePolicy, analysed: u64) -> Result<()> {
        let (s, f, i) = (self.successful, self.failed, self.inconclusive);
        let (e, r) = (self.errors_in_a_row, self.successes_in_a_row);
        let sum = |counts: &[u64]| counts.iter().try_fold(0u64, |t, &n| t.checked_add(n));
        let (window, consistent) = match &policy.rule {
            ProgressiveRule::Kayenta(k) => (k.window, [s, f, i, e, r] == [0; 5]),
            ProgressiveRule::Argo(a) => (a.window, sum(&[s, f, i]) == Some(analysed) && r <= s),
            ProgressiveRule::Flagger(g) => (
                g.window,
                sum(&[s, f]) == Some(analysed) && [i, e, r] == [0; 3],
            ),
            ProgressiveRule::Sequential(_) => return Err(super::mismatched_state()),
        };
        if !consistent {
            return Err(super::invalid(
                "state.judged",
                format!(
                    "saved state: {s} successful, {f} failed, {i} inconclusive (streaks {r} \
                     successes, {e} errors) do not account for {analysed} analysed intervals \
                     under this rule"
                ),
            ));
        }
        if let Window::Sliding { lookback } = window {
            if self.window.len() as u64 > lookback {
                return Err(super::invalid(
                    "state.judged.window",
                    format!(
                        "saved state: {} intervals in a sliding window of {lookback}",
                        self.window.len()
                    ),
                ));
            }
        }
        for interval in &self.window {
            check_names(&policy.canary, interval)?;
        }
        Ok(())
    }

    /// One interval; returns whether it counts towards the lifetime.
    pub(super) fn step(
        &mut self,
        policy: &ProgressivePolicy,
        data: Option<&[MetricData]>,
        error: Option<&str>,
        analysed: u64,
        record: &mut IntervalRecord,
    ) -> Result<bool> {
        let canary = &policy.canary;
        let (window, kayenta_judge) = match &policy.rule {
            ProgressiveRule::Kayenta(r) => (r.window, r.kayenta_judge),
            ProgressiveRule::Argo(r) => (r.window, false),
            ProgressiveRule::Flagger(r) => (r.window, false),
            ProgressiveRule::Sequential(_) => return Err(super::mismatched_state()),
        };
        let judgment = match data {
            Some(d) => Some(self.judge(canary, window, kayenta_judge, d)?),
            None => None,
        };
        if let Some(j) = &judgment {
            record.verdict = Some(j.verdict());
            record.score = j.score();
        }
        let error_note = || format!("no data: {}", error.unwrap_or("fetch failed"));
        let counts = match &policy.rule {
            ProgressiveRule::Kayenta(_) => {
                let last = analysed + 1 == policy.lifetime;
                let t = canary.thresholds;
                let (decision, note) = match &judgment {
                    None if last => (Decision::Inconclusive, error_note()),
                    None => (Decision::Continue, error_note()),
                    Some(j) => match j.score() {
                        Some(s) if s <= t.marginal => (
                            Decision::Rollback,
                            match j {
                                WindowResult::Kayenta(k)
                                    if !k.score.classification_reason.is_empty() =>
                                {
                                    format!(
                                        "score {s:.2} <= marginal {}: abort ({})",
                                        t.marginal, k.score.classification_reason
                                    )
                                }
                                _ => format!("score {s:.2} <= marginal {}: abort", t.marginal),
                            },
                        ),
                        _ if j.verdict() == Verdict::Rollback => {
                            (Decision::Rollback, "a critical metric failed".into())
                        }
                        Some(s) if last && s >= t.pass => (
                            Decision::Promote,
                            format!("last score {s:.2} >= pass {}", t.pass),
                        ),
                        Some(s) if last => (
                            Decision::Rollback,
                            format!("last score {s:.2} < pass {}", t.pass),
                        ),
                        None if last => (Decision::Inconclusive, "no score".into()),
                        _ => (Decision::Continue, String::new()),
                    },
                };
                record.decision = decision;
                record.note = note;
                true
            }
            ProgressiveRule::Argo(r) => {
                let m = match &judgment {
                    None => Measurement::Error,
                    Some(j) => match j.verdict() {
                        Verdict::Promote => Measurement::Successful,
                        Verdict::Rollback => Measurement::Failed,
                        _ => Measurement::Inconclusive,
                    },
                };
                self.count_argo(m);
                record.measurement = Some(m);
                let counts = m != Measurement::Error;
                let last = counts && analysed + 1 == policy.lifetime;
                let (decision, note) = self.assess_argo(r, last);
                record.decision = decision;
                record.note = if m == Measurement::Error && note.is_empty() {
                    error_note()
                } else {
                    note
                };
                counts
            }
            ProgressiveRule::Flagger(r) => {
                let passed = judgment
                    .as_ref()
                    .is_some_and(|j| j.verdict() == Verdict::Promote);
                let m = if passed {
                    self.successful += 1;
                    Measurement::Successful
                } else {
                    self.failed += 1;
                    Measurement::Failed
                };
                record.measurement = Some(m);
                let last = analysed + 1 == policy.lifetime;
                let (decision, note) = if self.failed >= r.threshold {
                    (
                        Decision::Rollback,
                        format!("failed checks threshold reached {}", self.failed),
                    )
                } else if r.iterations.is_some_and(|n| self.successful >= n) {
                    (
                        Decision::Promote,
                        format!("{} checks passed", self.successful),
                    )
                } else if last && r.iterations.is_some() {
                    (
                        Decision::Rollback,
                        format!(
                            "progress deadline: {} of {} checks passed",
                            self.successful,
                            r.iterations.unwrap_or(0)
                        ),
                    )
                } else if last {
                    (
                        Decision::Promote,
                        format!("{} failed checks, below {}", self.failed, r.threshold),
                    )
                } else if judgment.is_none() {
                    (Decision::Continue, error_note())
                } else {
                    (Decision::Continue, String::new())
                };
                record.decision = decision;
                record.note = note;
                true
            }
            ProgressiveRule::Sequential(_) => return Err(super::mismatched_state()),
        };
        match judgment {
            Some(WindowResult::Default(j)) => self.last_judgment = Some(j),
            Some(WindowResult::Kayenta(k)) => self.last_kayenta = Some(Box::new(k)),
            None => {}
        }
        Ok(counts)
    }

    fn count_argo(&mut self, m: Measurement) {
        match m {
            Measurement::Error => {
                self.errors_in_a_row += 1;
                self.successes_in_a_row = 0;
                return;
            }
            Measurement::Successful => {
                self.successful += 1;
                self.successes_in_a_row += 1;
            }
            Measurement::Failed => {
                self.failed += 1;
                self.successes_in_a_row = 0;
            }
            Measurement::Inconclusive => {
                self.inconclusive += 1;
                self.successes_in_a_row = 0;
            }
        }
        self.errors_in_a_row = 0;
    }

    fn assess_argo(&self, r: &ArgoRule, last: bool) -> (Decision, String) {
        // Later checks overwrite earlier ones: Error > Inconclusive > Failed.
        let mut out = None;
        if r.failure_limit >= 0 && self.failed > r.failure_limit as u64 {
            out = Some((
                Decision::Rollback,
                format!(
                    "failed: {} failed measurements > failure_limit {}",
                    self.failed, r.failure_limit
                ),
            ));
        }
        if self.inconclusive > r.inconclusive_limit {
            out = Some((
                Decision::Inconclusive,
                format!(
                    "inconclusive: {} inconclusive measurements > inconclusive_limit {}",
                    self.inconclusive, r.inconclusive_limit
                ),
            ));
        }
        if self.errors_in_a_row > r.consecutive_error_limit {
            out = Some((
                Decision::Rollback,
                format!(
                    "error: {} consecutive errors > consecutive_error_limit {}",
                    self.errors_in_a_row, r.consecutive_error_limit
                ),
            ));
        }
        if let Some(o) = out {
            return o;
        }
        let success_limit = r.consecutive_success_limit > 0;
        if success_limit && self.successes_in_a_row >= r.consecutive_success_limit {
            return (
                Decision::Promote,
                format!(
                    "successful: {} consecutive successes",
                    self.successes_in_a_row
                ),
            );
        }
        if !last {
            return (Decision::Continue, String::new());
        }
        match (r.failure_limit >= 0, success_limit) {
            (true, true) => (
                Decision::Inconclusive,
                "count reached before consecutive_success_limit".into(),
            ),
            (false, true) => (
                Decision::Rollback,
                "failed: count reached before consecutive_success_limit".into(),
            ),
            _ => (
                Decision::Promote,
                format!("successful: {} failed measurements tolerated", self.failed),
            ),
        }
    }
}

/// The window's intervals concatenated per metric, in policy order; metrics with no data in
/// the window are left out.
fn merge(policy: &CanaryPolicy, window: &VecDeque<Vec<MetricData>>) -> Result<Vec<MetricData>> {
    let mut out = Vec::new();
    for m in &policy.metrics {
        let mut merged: Option<MetricData> = None;
        for d in window.iter().flatten().filter(|d| d.name == m.name) {
            match &mut merged {
                None => merged = Some(d.clone()),
                Some(acc) => {
                    append(&mut acc.baseline, &d.baseline, &m.name, Arm::Baseline)?;
                    append(&mut acc.canary, &d.canary, &m.name, Arm::Canary)?;
                }
            }
        }
        out.extend(merged);
    }
    Ok(out)
}

/// Appends `more` to `acc`; both must be the same kind of series.
pub(super) fn append(acc: &mut Series, more: &Series, metric: &str, arm: Arm) -> Result<()> {
    match (acc, more) {
        (Series::Samples(a), Series::Samples(b)) => a.extend_from_slice(b),
        (Series::Points(a), Series::Points(b)) => a.extend_from_slice(b),
        (Series::Counts(a), Series::Counts(b)) => a.extend_from_slice(b),
        (Series::Blocks(a), Series::Blocks(b)) => a.extend_from_slice(b),
        (Series::Histogram(a), Series::Histogram(b)) => {
            crate::judge::cleaning::merge_histograms(a, b, metric, arm)?
        }
        _ => {
            return Err(Error::InvalidData {
                metric: metric.to_string(),
                arm,
                field: "series",
                problem:
                    "intervals of the window mix samples, points, blocks, counts and histograms"
                        .into(),
            })
        }
    }
    Ok(())
}
