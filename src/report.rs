//! A judgment rendered for people where they read it: Markdown for a pull-request comment or a CI
//! step summary, and expectations for tests whose failure message is the verdict table.

use std::fmt;

use crate::judge::classify::Classification;
use crate::judge::verdict::{group_summary, metric_row, Judgment, Verdict, METRIC_COLUMNS};
use crate::stats::hypothesis::fmt_g;

/// Escapes text for a GitHub-flavoured Markdown table cell or list item: the characters that
/// start emphasis, code, links or a cell boundary get a backslash (`<`, `>` and `&` become
/// entities), and line breaks become spaces, so a metric name cannot break the table or inject
/// markup.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Judgment {
    /// The judgment as GitHub-flavoured Markdown, for a pull-request comment or a CI step
    /// summary: the verdict and score first, the reasons as a list, one table row per metric
    /// (the columns of the text table), then the group scores and each metric's reason in a
    /// collapsed `<details>` block. Every name and message is escaped, so a metric name cannot
    /// break the table or inject markup.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{judge, Arms, CanaryPolicy, Direction, MetricData, MetricPolicy, Series};
    /// let policy = CanaryPolicy::new(vec![MetricPolicy::counter("errors", Direction::Increase)]);
    /// let data = [MetricData::new(
    ///     "errors",
    ///     Arms {
    ///         baseline: Series::total(10.0, 100_000.0),
    ///         canary: Series::total(90.0, 100_000.0),
    ///     },
    /// )];
    /// let markdown = judge(&policy, &data)?.to_markdown();
    /// assert!(markdown.starts_with("### Canary verdict: **ROLLBACK**"));
    /// assert!(markdown.contains("| errors | HIGH! |"));
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let score = self.score.map_or("n/a".to_string(), |s| format!("{s:.2}"));
        out.push_str(&format!(
            "### Canary verdict: **{}**\n\nScore {} (pass ≥ {}, marginal ≥ {}).\n\n",
            self.verdict,
            score,
            fmt_g(self.thresholds.pass),
            fmt_g(self.thresholds.marginal)
        ));
        if !self.reasons.is_empty() {
            out.push_str("**Reasons**\n\n");
            for r in &self.reasons {
                let message = escape_markdown(&r.message);
                match &r.metric {
                    Some(m) => out.push_str(&format!(
                        "- *{}* **{}**: {message}\n",
                        r.severity,
                        escape_markdown(m)
                    )),
                    None => out.push_str(&format!("- *{}* {message}\n", r.severity)),
                }
            }
            out.push('\n');
        }
        if !self.metrics.is_empty() {
            out.push_str(&format!("| {} |\n", METRIC_COLUMNS.join(" | ")));
            out.push_str(&format!("|{}\n", "---|".repeat(METRIC_COLUMNS.len())));
            for m in &self.metrics {
                let row = metric_row(m).map(|c| escape_markdown(&c));
                out.push_str(&format!("| {} |\n", row.join(" | ")));
            }
            out.push('\n');
        }
        out.push_str("<details><summary>Details</summary>\n\n");
        if !self.groups.is_empty() {
            let groups: Vec<String> = self
                .groups
                .iter()
                .map(|g| escape_markdown(&group_summary(g)))
                .collect();
            out.push_str(&format!("Groups: {}.\n\n", groups.join(", ")));
        }
        for m in &self.metrics {
            out.push_str(&format!(
                "- **{}** ({}): {}\n",
                escape_markdown(&m.name),
                m.classification,
                escape_markdown(&m.reason)
            ));
        }
        if let Some(srm) = &self.srm {
            // The deciding p-value (exact below 1 000 trials), as the reasons give it.
            let p = self.srm_p_value.unwrap_or(srm.p_value);
            out.push_str(&format!("\nSample-ratio check: p = {}.\n", fmt_g(p)));
        }
        out.push_str("\n</details>\n");
        out
    }

    /// `Ok` when the verdict is `verdict`; otherwise an [`Unexpected`] whose message is the whole
    /// verdict table with its reasons, so that `.unwrap()` or `?` in a test explains the failure.
    ///
    /// # Errors
    /// [`Unexpected`] when the verdict differs.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{judge, Arms, CanaryPolicy, Direction, MetricData, MetricPolicy, Series, Verdict};
    /// let policy = CanaryPolicy::new(vec![MetricPolicy::counter("errors", Direction::Increase)]);
    /// let data = [MetricData::new(
    ///     "errors",
    ///     Arms {
    ///         baseline: Series::total(10.0, 100_000.0),
    ///         canary: Series::total(90.0, 100_000.0),
    ///     },
    /// )];
    /// let judgment = judge(&policy, &data)?;
    /// judgment.expect_verdict(Verdict::Rollback)?;
    /// let failure = judgment.expect_promote().unwrap_err();
    /// assert!(failure.to_string().starts_with("expected PROMOTE, got ROLLBACK"));
    /// assert!(failure.to_string().contains("errors"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expect_verdict(&self, verdict: Verdict) -> Result<&Judgment, Unexpected> {
        if self.verdict == verdict {
            Ok(self)
        } else {
            Err(self.unexpected(format!("{verdict}, got {}", self.verdict)))
        }
    }

    /// `Ok` when the verdict is `Promote` (see [`expect_verdict`](Judgment::expect_verdict)).
    ///
    /// # Errors
    /// [`Unexpected`] otherwise.
    pub fn expect_promote(&self) -> Result<&Judgment, Unexpected> {
        self.expect_verdict(Verdict::Promote)
    }

    /// `Ok` when the verdict is `Rollback` (see [`expect_verdict`](Judgment::expect_verdict)).
    ///
    /// # Errors
    /// [`Unexpected`] otherwise.
    pub fn expect_rollback(&self) -> Result<&Judgment, Unexpected> {
        self.expect_verdict(Verdict::Rollback)
    }

    /// `Ok` unless the verdict is `Rollback`: for tests of changes that must not be rolled back
    /// but may be judged Marginal or Inconclusive.
    ///
    /// # Errors
    /// [`Unexpected`] when the verdict is `Rollback`.
    pub fn expect_not_rollback(&self) -> Result<&Judgment, Unexpected> {
        if self.verdict == Verdict::Rollback {
            Err(self.unexpected("no rollback, got ROLLBACK".to_string()))
        } else {
            Ok(self)
        }
    }

    /// `Ok` when the metric `name` is classified `classification`.
    ///
    /// # Errors
    /// [`Unexpected`] when it is classified otherwise or is not in the judgment.
    pub fn expect_metric(
        &self,
        name: &str,
        classification: Classification,
    ) -> Result<&Judgment, Unexpected> {
        match self.metrics.iter().find(|m| m.name == name) {
            Some(m) if m.classification == classification => Ok(self),
            Some(m) => Err(self.unexpected(format!(
                "{name:?} to be {classification}, got {}",
                m.classification
            ))),
            None => Err(self.unexpected(format!("{name:?} to be {classification}, not judged"))),
        }
    }

    fn unexpected(&self, expected: String) -> Unexpected {
        Unexpected {
            expected,
            table: self.to_string(),
        }
    }
}

/// A judgment that did not come out as a test expected. Its `Display` and `Debug` are the same:
/// what was expected, then the whole verdict table with its reasons, so that a failing test
/// that calls `.unwrap()` or returns it through `?` explains itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Unexpected {
    /// What the test expected, and what came out ("PROMOTE, got ROLLBACK").
    pub expected: String,
    /// The judgment's text table (its `Display`).
    pub table: String,
}

impl fmt::Display for Unexpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}\n{}", self.expected, self.table)
    }
}

impl fmt::Debug for Unexpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Unexpected {}
