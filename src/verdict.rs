//! The verdict and the judgment that explains it, with a table fit for a CI log.

use std::fmt;

use crate::classify::{fmt_effect, Classification, MetricJudgment};
use crate::hypothesis::fmt_g;
use crate::policy::ScoreThresholds;
use crate::score::GroupScore;
use crate::srm::SrmTest;

/// What the deploy tool should do.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Verdict {
    /// The canary is healthy: promote it.
    Promote,
    /// Neither clearly healthy nor clearly broken: hold, extend or ask a person.
    Marginal,
    /// The canary regressed: roll it back.
    Rollback,
    /// The data cannot support a decision.
    Inconclusive,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Promote => "PROMOTE",
            Verdict::Marginal => "MARGINAL",
            Verdict::Rollback => "ROLLBACK",
            Verdict::Inconclusive => "INCONCLUSIVE",
        })
    }
}

/// How much a reason weighs in the verdict.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Severity {
    /// Forces a rollback on its own.
    Critical,
    /// A failed metric: lowers the score.
    Failure,
    /// Caps the verdict or questions the data.
    Warning,
    /// For the record.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Critical => "critical",
            Severity::Failure => "failure",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One reason behind the verdict.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Reason {
    /// Its weight.
    pub severity: Severity,
    /// The metric it concerns, if any.
    pub metric: Option<String>,
    /// What happened, with the numbers.
    pub message: String,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.metric {
            Some(m) => write!(f, "[{}] {}: {}", self.severity, m, self.message),
            None => write!(f, "[{}] {}", self.severity, self.message),
        }
    }
}

/// The full judgment of a canary: the verdict, the reasons ordered by severity, the scores and
/// every metric's finding.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Judgment {
    /// The verdict.
    pub verdict: Verdict,
    /// The overall score (0–100), `None` when nothing was counted.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub score: Option<f64>,
    /// The thresholds the score was held against.
    pub thresholds: ScoreThresholds,
    /// Reasons, most severe first.
    pub reasons: Vec<Reason>,
    /// Per-group scores, by group name.
    pub groups: Vec<GroupScore>,
    /// Per-metric judgments, in policy order.
    pub metrics: Vec<MetricJudgment>,
    /// The sample-ratio-mismatch test, when configured and trial counts were present.
    pub srm: Option<SrmTest>,
}

impl fmt::Display for Judgment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let score = self.score.map_or("n/a".to_string(), |s| format!("{s:.2}"));
        writeln!(
            f,
            "verdict: {}  score {}  (pass >= {}, marginal >= {})",
            self.verdict,
            score,
            fmt_g(self.thresholds.pass),
            fmt_g(self.thresholds.marginal)
        )?;
        for r in &self.reasons {
            writeln!(f, "  {r}")?;
        }
        let rows: Vec<[String; 7]> = self
            .metrics
            .iter()
            .map(|m| {
                let mut label = m.classification.to_string();
                if m.critical_breach {
                    label.push('!');
                }
                if m.muted {
                    label = format!("({label})");
                }
                let effect = m.effect.map_or("-".into(), |e| fmt_effect(m.measure, e));
                // On the effect's scale when it has one, so the column reads like `effect`.
                let interval = match (m.effect_interval, m.interval) {
                    (Some(e), _) => format!(
                        "[{}, {}]",
                        fmt_effect(m.measure, e.lower),
                        fmt_effect(m.measure, e.upper)
                    ),
                    (None, Some(i)) => format!("[{}, {}]", fmt_g(i.lower), fmt_g(i.upper)),
                    (None, None) => "-".into(),
                };
                let opt = |v: Option<f64>| v.map_or("-".to_string(), fmt_g);
                [
                    m.name.clone(),
                    label,
                    effect,
                    interval,
                    opt(m.p_value),
                    opt(m.adjusted_p),
                    format!("{}/{}", m.n_baseline, m.n_canary),
                ]
            })
            .collect();
        let header = [
            "metric", "class", "effect", "interval", "p", "p_adj", "n b/c",
        ];
        write_table(f, &header, &rows)?;
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                format!(
                    "{} {} ({}/{})",
                    g.name,
                    g.score.map_or("n/a".to_string(), |s| format!("{s:.2}")),
                    g.passed,
                    g.counted
                )
            })
            .collect();
        write!(f, "  groups: {}", groups.join(", "))
    }
}

/// Writes a header and rows as left-aligned columns, each line indented by two spaces and
/// ended by a newline.
pub(crate) fn write_table<const N: usize>(
    f: &mut fmt::Formatter<'_>,
    header: &[&str; N],
    rows: &[[String; N]],
) -> fmt::Result {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::from(" ");
        for (c, w) in cells.zip(widths) {
            s.push(' ');
            s.push_str(c);
            s.push_str(&" ".repeat(w - c.chars().count()));
        }
        s.trim_end().to_string()
    };
    writeln!(f, "{}", line(&mut header.iter().copied()))?;
    for r in rows {
        writeln!(f, "{}", line(&mut r.iter().map(String::as_str)))?;
    }
    Ok(())
}

impl Judgment {
    /// The metrics with a given label.
    pub fn with_label(&self, label: Classification) -> impl Iterator<Item = &MetricJudgment> {
        self.metrics
            .iter()
            .filter(move |m| m.classification == label)
    }
}
