//! Progressive analysis: a canary judged after every interval of its life, with the policies of
//! the tools users migrate from (Kayenta, Argo Rollouts, Flagger) and the sequential rule
//! (the recommended one, [`ProgressivePolicy::recommended`]) whose false-rollback rate over the
//! planned lifetime's looks is at most `alpha`.
//!
//! The analysis object, [`ProgressiveAnalysis`], is fed one interval of data at a time and
//! answers [`Decision::Continue`] until it can promote, roll back or must hand over to a person.
//! It is serde-serialisable as a whole, so a controller can persist it between intervals and
//! resume after a restart with the same decisions.
#![doc = include_str!("docs/progressive.md")]

mod judged;
mod sequential_rule;

pub use self::judged::{ArgoRule, FlaggerRule, KayentaRule, Measurement, Window};
pub use self::sequential_rule::{MetricEvidence, SequentialRule};

use std::fmt;

use self::judged::JudgedState;
use self::sequential_rule::SequentialState;
use crate::error::{Error, Result};
use crate::judge::verdict::{Judgment, Verdict};
use crate::kayenta::KayentaResult;
use crate::policy::CanaryPolicy;
use crate::series::{MetricData, Series};
use crate::stats::hypothesis::fmt_g;

/// What the deploy tool should do after an interval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Decision {
    /// Keep the canary running and look again after the next interval.
    Continue,
    /// The canary is healthy: promote it (the analysis is over).
    Promote,
    /// The canary regressed: roll it back (the analysis is over).
    Rollback,
    /// The analysis ended without a decision the data support: pause for a person.
    Inconclusive,
}

impl Decision {
    /// Whether the analysis is over (anything but `Continue`).
    pub fn is_final(self) -> bool {
        self != Decision::Continue
    }
}

impl fmt::Display for Decision {
    /// The decision in capitals; `pad` honours a width, so history lines align.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Decision::Continue => "CONTINUE",
            Decision::Promote => "PROMOTE",
            Decision::Rollback => "ROLLBACK",
            Decision::Inconclusive => "INCONCLUSIVE",
        })
    }
}

/// How the intervals are turned into a decision.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ProgressiveRule {
    /// Kayenta's canary analysis stage: judge the window every interval, abort when the score
    /// is at or below marginal, decide from the last interval's score.
    Kayenta(KayentaRule),
    /// Argo Rollouts' AnalysisRun limits over per-interval measurements.
    Argo(ArgoRule),
    /// Flagger's cumulative failed-check threshold.
    Flagger(FlaggerRule),
    /// Every metric tested at every interval from the first: e-processes for counters, an
    /// alpha-spending design on the judge's own test for continuous metrics; the false-rollback
    /// rate stays at `alpha` across every look of the lifetime.
    Sequential(SequentialRule),
}

/// What a canary that sent no data in any analysed interval (every fetch failed, or no metric
/// carried canary data) gets at the end of its lifetime, whatever the rule: no data is never
/// evidence of health, so it is never promoted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NoDataAction {
    /// Hand over to a person (the default), as a failing measurement does in Argo.
    #[default]
    Inconclusive,
    /// Roll the canary back.
    Rollback,
}

/// The whole policy of a progressive analysis.
///
/// `canary` lists the metrics (name, kind, direction; for the judged rules also every judge
/// setting). The first `warmup_intervals` intervals are skipped (their data are discarded);
/// then `lifetime` intervals are analysed, and the last of them forces a final decision.
///
/// # Example
/// ```
/// use canary_verdict::{CanaryPolicy, Direction, MetricPolicy, ProgressivePolicy};
/// let canary = CanaryPolicy::new(vec![
///     MetricPolicy::counter("errors", Direction::Increase),
///     MetricPolicy::new("latency_ms", Direction::Increase),
/// ]);
/// // The recommended production configuration: the sequential rule over 10 looks.
/// let policy = ProgressivePolicy::recommended(canary, 10).warmup(1);
/// policy.validate()?;
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ProgressivePolicy {
    /// The metrics and the judge's settings.
    pub canary: CanaryPolicy,
    /// Intervals skipped at the start (Kayenta's `beginCanaryAnalysisAfterMins`, Argo's
    /// `initialDelay`). Default 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub warmup_intervals: u64,
    /// Intervals analysed after the warm-up; the last one forces a final decision. 1 to
    /// 100 000. Default 20.
    #[cfg_attr(feature = "serde", serde(default = "default_lifetime"))]
    pub lifetime: u64,
    /// The decision rule.
    pub rule: ProgressiveRule,
    /// What a canary that sent no data at all gets at the end of its lifetime; default
    /// [`NoDataAction::Inconclusive`]. Applies to every rule.
    #[cfg_attr(feature = "serde", serde(default))]
    pub no_data: NoDataAction,
    /// Keep only the latest this many interval records in the history (at least 1), so that
    /// saving, cloning and resuming a long analysis cost the same at every interval; `None`
    /// (the default) keeps one record per interval. The decisions do not depend on it: the
    /// rules keep their own state.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub history_limit: Option<u64>,
}

fn default_lifetime() -> u64 {
    20
}

/// Largest lifetime (and warm-up) accepted: the history grows by one record per interval.
const MAX_INTERVALS: u64 = 100_000;

impl ProgressivePolicy {
    /// A policy with no warm-up and a lifetime of 20 intervals.
    pub fn new(canary: CanaryPolicy, rule: ProgressiveRule) -> ProgressivePolicy {
        ProgressivePolicy {
            canary,
            warmup_intervals: 0,
            lifetime: default_lifetime(),
            rule,
            no_data: NoDataAction::Inconclusive,
            history_limit: None,
        }
    }

    /// The recommended production configuration: the [`SequentialRule`] with its defaults
    /// (the judge's `alpha`, split by weighted Bonferroni with the critical metrics' reserved
    /// share; counters by anytime-valid e-processes; continuous metrics by the judge's own test
    /// on the cumulative window with Lan-DeMets Pocock-type alpha spending over `lifetime`
    /// looks; early promotion once every metric rules out a 10% regression; promotion at the
    /// end of the lifetime when nothing showed harm; a silent canary ends Inconclusive), no
    /// warm-up. `lifetime` is the planned number of analysed intervals: alpha is spent over
    /// exactly these looks, so plan it (10 one-minute intervals is a common choice).
    pub fn recommended(canary: CanaryPolicy, lifetime: u64) -> ProgressivePolicy {
        ProgressivePolicy::new(
            canary,
            ProgressiveRule::Sequential(SequentialRule::default()),
        )
        .lifetime(lifetime)
    }

    /// Sets the warm-up.
    pub fn warmup(mut self, intervals: u64) -> ProgressivePolicy {
        self.warmup_intervals = intervals;
        self
    }

    /// Sets the lifetime.
    pub fn lifetime(mut self, intervals: u64) -> ProgressivePolicy {
        self.lifetime = intervals;
        self
    }

    /// Keeps only the latest `records` interval records; see
    /// [`history_limit`](Self::history_limit).
    pub fn history_limit(mut self, records: u64) -> ProgressivePolicy {
        self.history_limit = Some(records);
        self
    }

    /// Checks the whole policy; errors name the field (and the metric where relevant).
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] for the first problem found, for example field `lifetime`,
    /// `rule.argo.failure_limit` or `rule.sequential.alpha`.
    pub fn validate(&self) -> Result<()> {
        match &self.rule {
            // Judged by Kayenta's judge, the policy is checked by the rules that judge applies
            // (a group without a weight, for example, is Kayenta's weight 0), so the progressive
            // analysis accepts exactly the configs `judge_kayenta` accepts.
            ProgressiveRule::Kayenta(r) if r.kayenta_judge => {
                crate::kayenta::validate(&self.canary)?
            }
            _ => self.canary.validate()?,
        }
        if !(1..=MAX_INTERVALS).contains(&self.lifetime) {
            return Err(invalid(
                "lifetime",
                format!("{} is not between 1 and {MAX_INTERVALS}", self.lifetime),
            ));
        }
        if self.history_limit == Some(0) {
            return Err(invalid(
                "history_limit",
                "0 keeps no record: the last one carries the decision (at least 1)".into(),
            ));
        }
        if self.warmup_intervals > MAX_INTERVALS {
            return Err(invalid(
                "warmup_intervals",
                format!("{} is above {MAX_INTERVALS}", self.warmup_intervals),
            ));
        }
        match &self.rule {
            ProgressiveRule::Kayenta(r) => r.validate(),
            ProgressiveRule::Argo(r) => r.validate(),
            ProgressiveRule::Flagger(r) => r.validate(self.lifetime),
            ProgressiveRule::Sequential(r) => r.validate(&self.canary),
        }
    }
}

/// An [`Error::InvalidPolicy`] on a canary-level field.
pub(crate) fn invalid(field: &'static str, problem: String) -> Error {
    Error::InvalidPolicy {
        metric: String::new(),
        field,
        problem,
    }
}

/// What happened to one interval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum IntervalKind {
    /// Skipped: part of the warm-up.
    Warmup,
    /// Analysed.
    Analysed,
    /// The controller could not fetch the data (see [`ProgressiveAnalysis::record_error`]).
    Error,
}

/// The record of one interval, kept in the analysis's history.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct IntervalRecord {
    /// The interval's number, from 1, counting the warm-up.
    pub interval: u64,
    /// Whether it was skipped, analysed or an error.
    pub kind: IntervalKind,
    /// The decision after it.
    pub decision: Decision,
    /// The judge's verdict on the window (Kayenta, Argo and Flagger rules).
    pub verdict: Option<Verdict>,
    /// The judge's score on the window (Kayenta, Argo and Flagger rules).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub score: Option<f64>,
    /// The measurement it counted as (Argo and Flagger rules).
    pub measurement: Option<Measurement>,
    /// Per-metric evidence (sequential rule).
    pub evidence: Vec<MetricEvidence>,
    /// Why the decision is what it is, in words.
    pub note: String,
}

impl IntervalRecord {
    fn new(interval: u64, kind: IntervalKind) -> IntervalRecord {
        IntervalRecord {
            interval,
            kind,
            decision: Decision::Continue,
            verdict: None,
            score: None,
            measurement: None,
            evidence: Vec::new(),
            note: String::new(),
        }
    }
}

impl fmt::Display for IntervalRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interval {:>3}: {:<12}", self.interval, self.decision)?;
        if let Some(v) = self.verdict {
            write!(f, " verdict {v}")?;
        }
        if let Some(s) = self.score {
            write!(f, " score {s:.2}")?;
        }
        if let Some(m) = self.measurement {
            write!(f, " measurement {m}")?;
        }
        if !self.note.is_empty() {
            // The note quotes metric names and fetch errors: escaped, so neither forges a line.
            write!(f, " ({})", crate::judge::verdict::escape_text(&self.note))?;
        }
        for e in &self.evidence {
            write!(f, "\n    {e}")?;
        }
        Ok(())
    }
}

/// The per-rule state.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
enum RuleState {
    Judged(JudgedState),
    Sequential(SequentialState),
}

/// A canary analysed interval by interval.
///
/// Feed each interval's data (per metric, both arms' data of that interval only) to
/// [`update`](Self::update), or report a failed fetch with [`record_error`](Self::record_error);
/// each returns the decision after that interval. Once the decision is final, further intervals
/// are ignored and the final decision is returned again.
///
/// Memory: the sequential rule keeps O(1) per counter (a few e-processes and their counts) and
/// the cumulative window of each continuous metric (re-tested every interval), plus one record
/// per interval; the judged rules keep the data of their window (all intervals since
/// the warm-up for [`Window::Growing`], `lookback` intervals for [`Window::Sliding`]) and the last
/// judgment, and re-judge the window every interval.
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::{
///     progressive::SequentialRule, CanaryPolicy, Decision, Direction, MetricData, MetricPolicy,
///     ProgressiveAnalysis, ProgressivePolicy, ProgressiveRule, Series,
/// };
/// let canary = CanaryPolicy::new(vec![MetricPolicy::counter("errors", Direction::Increase)]);
/// let rule = ProgressiveRule::Sequential(SequentialRule::default());
/// let mut analysis = ProgressiveAnalysis::new(ProgressivePolicy::new(canary, rule))?;
/// let mut decision = Decision::Continue;
/// for _ in 0..10 {
///     // Errors out of requests in one minute: the canary errs five times as often.
///     let minute = MetricData::new(
///         "errors",
///         Arms {
///             baseline: Series::total(5.0, 10_000.0),
///             canary: Series::total(25.0, 10_000.0),
///         },
///     );
///     decision = analysis.update(&[minute])?;
///     if decision.is_final() {
///         break;
///     }
/// }
/// assert_eq!(decision, Decision::Rollback);
/// // Persist and resume: the state is plain data.
/// let saved = serde_json::to_string(&analysis)?;
/// let resumed: ProgressiveAnalysis = serde_json::from_str(&saved)?;
/// assert_eq!(resumed, analysis);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A deserialized analysis is checked on load (see [`ProgressiveAnalysis::check`]): saved state
/// is not trusted.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SavedAnalysis"))]
pub struct ProgressiveAnalysis {
    policy: ProgressivePolicy,
    /// Intervals fed (warm-up, analysed and errors that count).
    intervals: u64,
    /// Intervals analysed after the warm-up (for the Argo rule, errors excluded).
    analysed: u64,
    decision: Decision,
    history: Vec<IntervalRecord>,
    state: RuleState,
    /// Whether any analysed interval carried canary data of a counted metric.
    data_seen: bool,
}

/// The serialized form of a [`ProgressiveAnalysis`], checked before it becomes one.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedAnalysis {
    policy: ProgressivePolicy,
    intervals: u64,
    analysed: u64,
    decision: Decision,
    history: Vec<IntervalRecord>,
    state: RuleState,
    data_seen: bool,
}

#[cfg(feature = "serde")]
impl TryFrom<SavedAnalysis> for ProgressiveAnalysis {
    type Error = Error;

    fn try_from(s: SavedAnalysis) -> Result<ProgressiveAnalysis> {
        let a = ProgressiveAnalysis {
            policy: s.policy,
            intervals: s.intervals,
            analysed: s.analysed,
            decision: s.decision,
            history: s.history,
            state: s.state,
            data_seen: s.data_seen,
        };
        a.check()?;
        Ok(a)
    }
}

impl ProgressiveAnalysis {
    /// A fresh analysis.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] naming the field when the policy is invalid.
    pub fn new(policy: ProgressivePolicy) -> Result<ProgressiveAnalysis> {
        policy.validate()?;
        let state = match &policy.rule {
            ProgressiveRule::Sequential(r) => {
                RuleState::Sequential(SequentialState::new(r, &policy.canary)?)
            }
            _ => RuleState::Judged(JudgedState::default()),
        };
        Ok(ProgressiveAnalysis {
            policy,
            intervals: 0,
            analysed: 0,
            decision: Decision::Continue,
            history: Vec::new(),
            state,
            data_seen: false,
        })
    }

    /// Adds one interval's data and returns the decision after it. Each [`MetricData`] holds
    /// that interval's points (samples, timestamped points or counts) of one metric; a metric
    /// may be left out of an interval. The state is unchanged when an error is returned.
    ///
    /// # Errors
    /// [`Error::DataMismatch`] for a metric the policy does not list, or given twice;
    /// [`Error::InvalidData`] naming the metric, arm and field for bad values; any error of
    /// the judge (judged rules) or of an e-process (sequential rule).
    pub fn update(&mut self, interval: &[MetricData]) -> Result<Decision> {
        self.step(Some(interval), None)
    }

    /// Records an interval whose data could not be fetched (a provider error), with a
    /// message. Argo rule: an `Error` measurement (it does not count towards the lifetime, as
    /// Argo retries errors); Flagger rule: a failed check; Kayenta and sequential rules: an
    /// interval without data that still counts towards the lifetime.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] when a deserialised policy is invalid.
    pub fn record_error(&mut self, message: &str) -> Result<Decision> {
        self.step(None, Some(message))
    }

    fn step(&mut self, data: Option<&[MetricData]>, error: Option<&str>) -> Result<Decision> {
        if self.decision.is_final() {
            return Ok(self.decision);
        }
        self.policy.validate()?;
        let number = self.intervals + 1;
        if self.intervals < self.policy.warmup_intervals {
            if let Some(d) = data {
                check_names(&self.policy.canary, d)?;
            }
            let mut record = IntervalRecord::new(number, IntervalKind::Warmup);
            record.note = "warm-up: skipped".into();
            self.intervals = number;
            self.push(record);
            return Ok(Decision::Continue);
        }
        let kind = if data.is_some() {
            IntervalKind::Analysed
        } else {
            IntervalKind::Error
        };
        let mut record = IntervalRecord::new(number, kind);
        let counts_toward_lifetime = match &mut self.state {
            RuleState::Judged(state) => {
                state.step(&self.policy, data, error, self.analysed, &mut record)?
            }
            RuleState::Sequential(state) => {
                let rule = match &self.policy.rule {
                    ProgressiveRule::Sequential(r) => r,
                    _ => return Err(mismatched_state()),
                };
                state.step(
                    rule,
                    &self.policy.canary,
                    data,
                    error,
                    self.analysed + 1,
                    self.policy.lifetime,
                    &mut record,
                )?;
                true
            }
        };
        self.intervals = number;
        if counts_toward_lifetime {
            self.analysed += 1;
        }
        self.data_seen |= data.is_some_and(|d| carries_data(&self.policy.canary, d));
        let ends = record.decision.is_final() && record.decision != Decision::Rollback;
        if ends && !self.data_seen {
            // Silence is never promoted, whichever rule would: it ends as `no_data` says.
            record.decision = match self.policy.no_data {
                NoDataAction::Rollback => Decision::Rollback,
                _ => Decision::Inconclusive,
            };
            record.note = format!(
                "no canary data in any interval: {} by no_data, never promoted (the rule: {})",
                record.decision, record.note
            );
        }
        self.decision = record.decision;
        self.push(record);
        Ok(self.decision)
    }

    /// Appends a record, dropping the oldest past the policy's `history_limit`.
    fn push(&mut self, record: IntervalRecord) {
        self.history.push(record);
        let excess = self.history.len().saturating_sub(self.kept_records());
        self.history.drain(..excess);
    }

    /// How many records the history keeps at most.
    fn kept_records(&self) -> usize {
        self.policy
            .history_limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX))
    }

    /// The decision after the last interval.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// The policy.
    pub fn policy(&self) -> &ProgressivePolicy {
        &self.policy
    }

    /// Intervals fed so far, warm-up included.
    pub fn intervals(&self) -> u64 {
        self.intervals
    }

    /// Intervals analysed after the warm-up (for the Argo rule, errors excluded).
    pub fn analysed(&self) -> u64 {
        self.analysed
    }

    /// One record per interval, in order: every interval's, or the latest
    /// [`history_limit`](ProgressivePolicy::history_limit) ones.
    pub fn history(&self) -> &[IntervalRecord] {
        &self.history
    }

    /// The judgment of the last judged window (Kayenta, Argo and Flagger rules).
    pub fn last_judgment(&self) -> Option<&Judgment> {
        match &self.state {
            RuleState::Judged(s) => s.last_judgment.as_ref(),
            RuleState::Sequential(_) => None,
        }
    }

    /// The last window's result under Kayenta's judge (the Kayenta rule with
    /// `kayenta_judge`; `None` otherwise).
    pub fn last_kayenta_result(&self) -> Option<&KayentaResult> {
        match &self.state {
            RuleState::Judged(s) => s.last_kayenta.as_deref(),
            RuleState::Sequential(_) => None,
        }
    }

    /// The current per-metric evidence (sequential rule; empty for the others).
    pub fn evidence(&self) -> Vec<MetricEvidence> {
        match (&self.state, &self.policy.rule) {
            (RuleState::Sequential(s), ProgressiveRule::Sequential(r)) => {
                s.evidence(r, &self.policy.canary)
            }
            _ => Vec::new(),
        }
    }
}

impl ProgressiveAnalysis {
    /// Checks that the analysis is one that [`update`](Self::update) could have produced from
    /// its policy: a valid policy; a rule state of the policy's rule (for the sequential rule,
    /// one monitor per metric in policy order, built from the policy's settings; for a judged
    /// rule, a window no longer than its lookback and counters that account for the analysed
    /// intervals); a history of one record per interval numbered from 1, warm-up first (the
    /// latest `history_limit` of them when the policy sets one); `analysed` equal to the
    /// intervals that counted (for a limited history, up to the dropped records after the
    /// warm-up) and not past the lifetime; only the last record final, the analysis's
    /// `decision` equal to it, and final once the lifetime is over; no promotion without data.
    /// Run on every deserialization.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] naming the field (`history`, `analysed`, `decision`,
    /// `state.sequential.monitors`, `state.judged`, ...) and the metric where one is at fault.
    pub fn check(&self) -> Result<()> {
        self.policy.validate()?;
        let bad = |field: &'static str, problem: String| Error::InvalidPolicy {
            metric: String::new(),
            field,
            problem: format!("saved state: {problem}"),
        };
        match (&self.state, &self.policy.rule) {
            (RuleState::Sequential(s), ProgressiveRule::Sequential(r)) => {
                s.check(r, &self.policy.canary, self.analysed)?;
                if self.data_seen && !s.any_canary_data(&self.policy.canary) {
                    return Err(bad(
                        "data_seen",
                        "true, but no metric has received canary data".into(),
                    ));
                }
            }
            (
                RuleState::Judged(j),
                ProgressiveRule::Kayenta(_)
                | ProgressiveRule::Argo(_)
                | ProgressiveRule::Flagger(_),
            ) => j.check(&self.policy, self.analysed)?,
            _ => {
                return Err(bad(
                    "state",
                    "the rule state does not belong to the policy's rule".into(),
                ))
            }
        }
        // A limited history holds the latest records only.
        let kept = self.intervals.min(self.kept_records() as u64);
        if self.history.len() as u64 != kept {
            return Err(bad(
                "history",
                format!(
                    "{} records for {} intervals (keeping {kept})",
                    self.history.len(),
                    self.intervals
                ),
            ));
        }
        let dropped = self.intervals - kept;
        let argo = matches!(self.policy.rule, ProgressiveRule::Argo(_));
        let mut counted = 0u64;
        for (i, r) in self.history.iter().enumerate() {
            let number = dropped + i as u64 + 1;
            if r.interval != number {
                return Err(bad(
                    "history.interval",
                    format!("record {number} is numbered {} (out of order)", r.interval),
                ));
            }
            let warmup = number <= self.policy.warmup_intervals;
            if warmup != (r.kind == IntervalKind::Warmup) {
                return Err(bad(
                    "history.kind",
                    format!(
                        "interval {number} is {:?} against a warm-up of {}",
                        r.kind, self.policy.warmup_intervals
                    ),
                ));
            }
            if r.decision.is_final() && number != self.intervals {
                return Err(bad(
                    "history.decision",
                    format!(
                        "interval {number} is final ({}) but is not the last",
                        r.decision
                    ),
                ));
            }
            let retried = argo && r.kind == IntervalKind::Error;
            if !(warmup || retried) {
                counted += 1;
            }
        }
        // Each dropped record after the warm-up counted for at most one interval.
        let countable = dropped.saturating_sub(self.policy.warmup_intervals);
        if counted > self.analysed || self.analysed - counted > countable {
            return Err(bad(
                "analysed",
                format!("{} against {counted} intervals that counted", self.analysed),
            ));
        }
        if self.analysed > self.policy.lifetime {
            return Err(bad(
                "analysed",
                format!(
                    "{} is past the lifetime of {}",
                    self.analysed, self.policy.lifetime
                ),
            ));
        }
        let last = self
            .history
            .last()
            .map_or(Decision::Continue, |r| r.decision);
        if self.decision != last {
            return Err(bad(
                "decision",
                format!("{} but the last interval decided {last}", self.decision),
            ));
        }
        // The lifetime is at least 1, so this needs an analysed interval.
        if self.analysed == self.policy.lifetime && !self.decision.is_final() {
            return Err(bad(
                "decision",
                "the lifetime is over but the decision is not final".into(),
            ));
        }
        if self.decision == Decision::Promote && !self.data_seen {
            return Err(bad("decision", "promoted without any canary data".into()));
        }
        Ok(())
    }
}

impl fmt::Display for ProgressiveAnalysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = match &self.policy.rule {
            ProgressiveRule::Kayenta(_) => "kayenta",
            ProgressiveRule::Argo(_) => "argo",
            ProgressiveRule::Flagger(_) => "flagger",
            ProgressiveRule::Sequential(r) => {
                return write!(
                    f,
                    "progressive analysis (sequential, alpha {}): {} after {} intervals ({} analysed of {})",
                    fmt_g(r.alpha_for(&self.policy.canary)),
                    self.decision,
                    self.intervals,
                    self.analysed,
                    self.policy.lifetime
                )
            }
        };
        write!(
            f,
            "progressive analysis ({rule}): {} after {} intervals ({} analysed of {})",
            self.decision, self.intervals, self.analysed, self.policy.lifetime
        )
    }
}

fn mismatched_state() -> Error {
    Error::Degenerate {
        what: "the progressive analysis",
        reason: "its state does not belong to its rule (edited state)",
    }
}

/// Every metric named once and listed in the policy.
pub(crate) fn check_names(policy: &CanaryPolicy, data: &[MetricData]) -> Result<()> {
    for (i, d) in data.iter().enumerate() {
        if !policy.metrics.iter().any(|m| m.name == d.name) {
            return Err(Error::DataMismatch {
                metric: d.name.clone(),
                problem: "the policy does not list this metric".into(),
            });
        }
        if data[..i].iter().any(|e| e.name == d.name) {
            return Err(Error::DataMismatch {
                metric: d.name.clone(),
                problem: "the metric is given twice in one interval".into(),
            });
        }
    }
    Ok(())
}

/// Whether an interval carried canary data for a counted metric: a non-empty canary series
/// (for counters, some trials; for histograms, some observations).
fn carries_data(policy: &CanaryPolicy, data: &[MetricData]) -> bool {
    data.iter().any(|d| {
        let counted = policy.metrics.iter().any(|m| m.name == d.name && !m.muted);
        counted
            && match &d.canary {
                Series::Samples(v) => v.iter().any(|x| x.is_finite()),
                Series::Points(p) => p.iter().any(|x| x.value.is_finite()),
                Series::Counts(c) => c.iter().any(|x| x.trials > 0.0),
                Series::Histogram(h) => h.total() > 0,
                Series::Blocks(b) => b.iter().flat_map(|b| &b.values).any(|x| x.is_finite()),
            }
    })
}
