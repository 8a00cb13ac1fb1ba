//! The verdict and the judgment that explains it, with a table fit for a CI log.

use std::borrow::Cow;
use std::fmt;

use crate::judge::classify::{fmt_effect, Classification, MetricJudgment};
use crate::judge::score::GroupScore;
use crate::policy::ScoreThresholds;
use crate::stats::hypothesis::fmt_g;
use crate::stats::srm::SrmTest;

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
        f.pad(match self {
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
        f.pad(match self {
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
    /// One line: `[severity] metric: message`, with control characters in the metric name and
    /// the message escaped (`escape_text`), so that a name cannot forge a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = escape_text(&self.message);
        match &self.metric {
            Some(m) => write!(f, "[{}] {}: {message}", self.severity, escape_text(m)),
            None => write!(f, "[{}] {message}", self.severity),
        }
    }
}

/// Text from the caller (metric and group names, messages quoting them) made safe for one line
/// of a log: control characters (Unicode category Cc: newline, carriage return, escape, ...),
/// the line and paragraph separators U+2028/U+2029 and the bidirectional overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069) are written as Rust escapes (`\n`, `\u{1b}`), as
/// [`char::escape_debug`] writes them. Other text is returned as it is.
pub(crate) fn escape_text(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
    /// The sample-ratio-mismatch chi-squared test, when configured and trial counts were
    /// present.
    pub srm: Option<SrmTest>,
    /// The p-value that decided the sample-ratio check: the exact binomial test's below 1 000
    /// trials in all (where the chi-squared approximation is too rough), the chi-squared test's
    /// (`srm`) from there on. A mismatch is a p-value below the policy's `srm.alpha`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::option", default))]
    pub srm_p_value: Option<f64>,
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
        let rows: Vec<[String; 7]> = self.metrics.iter().map(metric_row).collect();
        let header = METRIC_COLUMNS;

        write_table(f, &header, &rows)?;
        let groups: Vec<String> = self.groups.iter().map(group_summary).collect();
        write!(f, "  groups: {}", escape_text(&groups.join(", ")))
    }
}

/// A group's score in a few words: `name score (passed/counted)`.
pub(crate) fn group_summary(g: &GroupScore) -> String {
    format!(
        "{} {} ({}/{})",
        g.name,
        g.score.map_or("n/a".to_string(), |s| format!("{s:.2}")),
        g.passed,
        g.counted
    )
}

/// The columns of the per-metric table.
pub(crate) const METRIC_COLUMNS: [&str; 7] = [
    "metric", "class", "effect", "interval", "p", "p_adj", "n b/c",
];

/// One metric's row of the table: name, label (`!` for a critical breach, in parentheses when
/// muted), effect, interval on the effect's scale, p, adjusted p and the arms' sizes.
pub(crate) fn metric_row(m: &MetricJudgment) -> [String; 7] {
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
}

/// Writes a header and rows as left-aligned columns, each line indented by two spaces and
/// ended by a newline; the cells' control characters escaped ([`escape_text`]).
pub(crate) fn write_table<const N: usize>(
    f: &mut fmt::Formatter<'_>,
    header: &[&str; N],
    rows: &[[String; N]],
) -> fmt::Result {
    // Cells come from the caller (metric names): escaped, so that none can forge a line.
    let rows: Vec<[Cow<'_, str>; N]> = rows
        .iter()
        .map(|r| std::array::from_fn(|k| escape_text(&r[k])))
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
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
    for r in &rows {
        writeln!(f, "{}", line(&mut r.iter().map(|c| c.as_ref())))?;
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
