//! The distribution chart, as an SVG string: the baseline's and the canary's empirical CDFs, the
//! Hodges-Lehmann shift drawn as an arrow at the baseline's median with its confidence interval
//! as a band, and the baseline's CDF moved by the shift (what the canary would look like if the
//! shift were all that changed). Deploy tools attach it to a rollback notice or a pull-request
//! comment. No I/O: the caller writes the string where it wants.
//!
//! Hand-written SVG 1.1 (no dependency). Each curve has at most [`MAX_STEPS`] steps, so the
//! string's size does not grow with the data: above that many points a curve steps at evenly
//! spaced ranks.

use std::fmt::Write as _;

use crate::arms::Arms;
use crate::error::{check_sample, Arm, Error, Result};
use crate::judge::compare::TestDetails;
use crate::judge::verdict::Judgment;
use crate::series::{MetricData, Series};
use crate::stats::hypothesis::{fmt_g, ConfidenceInterval};
use crate::stats::quantile::{quantile_sorted, QuantileType};
use crate::stats::sorted::sorted_copy_of_checked;

/// Most steps drawn per empirical CDF; a larger arm is drawn at evenly spaced ranks.
pub const MAX_STEPS: usize = 600;

/// What the chart shows: the metric, both arms and the shift with its interval.
///
/// # Example
/// ```
/// use canary_verdict::chart::CdfChart;
/// use canary_verdict::stats::{hodges_lehmann, MannWhitneyConfig};
/// use canary_verdict::Arms;
/// let baseline: Vec<f64> = (0..50).map(|i| 100.0 + i as f64).collect();
/// let canary: Vec<f64> = baseline.iter().map(|v| v + 12.0).collect();
/// let arms = Arms { baseline: &baseline[..], canary: &canary[..] };
/// let hl = hodges_lehmann(arms, &MannWhitneyConfig::default())?;
/// let svg = CdfChart { metric: "latency_ms", arms, shift: hl.estimate, interval: hl.interval, note: None }
///     .to_svg()?;
/// assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
/// assert!(svg.contains("latency_ms: canary against baseline"));
/// # Ok::<(), canary_verdict::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CdfChart<'a> {
    /// The metric's name, in the title and on the horizontal axis.
    pub metric: &'a str,
    /// Both arms' values, in any order; every one must be finite.
    pub arms: Arms<&'a [f64]>,
    /// The shift canary − baseline (the Hodges-Lehmann estimate).
    pub shift: f64,
    /// The shift's confidence interval; an infinite end (a one-sided interval) runs to the edge.
    pub interval: ConfidenceInterval,
    /// A finding appended to the subtitle, for example the judge's classification.
    pub note: Option<&'a str>,
}

impl CdfChart<'_> {
    /// The chart as a standalone SVG document.
    ///
    /// # Errors
    /// [`Error::EmptySample`] or [`Error::NonFinite`] for an arm that is empty or holds NaN or an
    /// infinity; [`Error::InvalidParameter`] for a non-finite shift, an interval whose ends are
    /// NaN or out of order, or a level outside (0, 1).
    pub fn to_svg(&self) -> Result<String> {
        check_sample(Arm::Baseline, self.arms.baseline)?;
        check_sample(Arm::Canary, self.arms.canary)?;
        if !self.shift.is_finite() {
            return Err(Error::InvalidParameter {
                field: "shift",
                value: self.shift,
                expected: "a finite number",
            });
        }
        let ci = self.interval;
        for (field, value) in [("interval.lower", ci.lower), ("interval.upper", ci.upper)] {
            if value.is_nan() {
                return Err(Error::InvalidParameter {
                    field,
                    value,
                    expected: "a number or an infinity",
                });
            }
        }
        if ci.lower > ci.upper {
            return Err(Error::InvalidParameter {
                field: "interval.lower",
                value: ci.lower,
                expected: "at most interval.upper",
            });
        }
        crate::error::check_level("interval.level", ci.level)?;
        let baseline = sorted_copy_of_checked(self.arms.baseline, 0);
        let canary = sorted_copy_of_checked(self.arms.canary, 0);
        Ok(render(self, &baseline, &canary))
    }
}

impl Judgment {
    /// The distribution chart of one continuous metric of this judgment, drawn from the data it
    /// was judged on, with the judge's own shift and interval (paired when the judge paired the
    /// arms, or pooled over time blocks) and its classification in the subtitle. Non-finite values are left out, as the
    /// judge leaves them out.
    ///
    /// # Errors
    /// [`Error::DataMismatch`] when the judgment or the data has no such metric, or the metric
    /// has no shift to draw (no data, too few points, a count metric); [`Error::Unsupported`]
    /// for counters and histograms; as [`CdfChart::to_svg`] otherwise.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::{judge, Arms, CanaryPolicy, Direction, MetricData, MetricPolicy, Series};
    /// let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_ms", Direction::Increase)]);
    /// let baseline: Vec<f64> = (0..60).map(|i| 100.0 + (i % 7) as f64).collect();
    /// let canary: Vec<f64> = baseline.iter().map(|v| v * 1.3).collect();
    /// let data = [MetricData::new(
    ///     "latency_ms",
    ///     Arms { baseline: Series::samples(baseline), canary: Series::samples(canary) },
    /// )];
    /// let judgment = judge(&policy, &data)?;
    /// let svg = judgment.chart_svg(&data, "latency_ms")?;
    /// assert!(svg.contains("judge: HIGH"));
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn chart_svg(&self, data: &[MetricData], metric: &str) -> Result<String> {
        let missing = |problem: &str| Error::DataMismatch {
            metric: metric.to_string(),
            problem: problem.to_string(),
        };
        let judged = self
            .metrics
            .iter()
            .find(|m| m.name == metric)
            .ok_or_else(|| missing("the judgment has no such metric"))?;
        let series = data
            .iter()
            .find(|d| d.name == metric)
            .ok_or_else(|| missing("the data hold no such metric"))?;
        let (Some(shift), Some(interval)) = (judged.estimate, judged.interval) else {
            return Err(missing(&format!("no shift to draw: {}", judged.reason)));
        };
        let values = |s: &Series| -> Result<Vec<f64>> {
            let finite = |v: f64| v.is_finite().then_some(v);
            match s {
                Series::Samples(v) => Ok(v.iter().copied().filter_map(finite).collect()),
                Series::Points(p) => Ok(p.iter().map(|p| p.value).filter_map(finite).collect()),
                _ => Err(Error::Unsupported {
                    metric: metric.to_string(),
                    what: "the distribution chart".into(),
                    data: "counters or histograms",
                }),
            }
        };
        let (baseline, canary) = (values(&series.baseline)?, values(&series.canary)?);
        let how = match judged.details {
            Some(TestDetails::SignedRank { .. }) => ", paired by timestamp",
            Some(TestDetails::Blocked { .. }) => ", pooled over time blocks",
            _ => "",
        };
        let note = format!("judge: {}{how}", judged.classification);
        CdfChart {
            metric,
            arms: Arms {
                baseline: &baseline,
                canary: &canary,
            },
            shift,
            interval,
            note: Some(&note),
        }
        .to_svg()
    }
}

/// Escapes text for SVG character data and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // XML 1.0 admits no other control characters.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Round tick positions covering `[lo, hi]`: steps of 1, 2 or 5 times a power of ten, at most
/// about a dozen.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    if !(raw > 0.0 && raw.is_finite()) {
        return Vec::new();
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let (first, last) = ((lo / step).ceil(), (hi / step).floor());
    let count = last - first;
    if step <= 0.0 || count.is_nan() || count >= 20.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = first;
    while i <= last {
        out.push(i * step);
        i += 1.0;
    }
    out
}

/// A signed number: `+` before a positive one, four significant digits.
fn signed(v: f64) -> String {
    format!("{}{}", if v > 0.0 { "+" } else { "" }, fmt_g(v))
}

/// A ratio less one as a signed percentage; `n/a` when undefined.
fn percent(r: f64) -> String {
    if r.is_finite() {
        format!("{}{}%", if r > 0.0 { "+" } else { "" }, fmt_g(r * 100.0))
    } else {
        "n/a".into()
    }
}

/// The horizontal range: every point, the median plus the interval's finite ends, padded by 3%
/// (or by a unit of the values' magnitude when they are all equal).
fn range(baseline: &[f64], canary: &[f64], marks: &[f64]) -> (f64, f64) {
    let mut lo = baseline[0].min(canary[0]);
    let mut hi = baseline[baseline.len() - 1].max(canary[canary.len() - 1]);
    for &m in marks.iter().filter(|m| m.is_finite()) {
        lo = lo.min(m);
        hi = hi.max(m);
    }
    // Halved first, so that the span of two values of opposite sign near the float limit is
    // finite.
    let half_span = hi / 2.0 - lo / 2.0;
    let pad = if half_span > lo.abs().max(hi.abs()) * 1e-9 {
        half_span * 0.06
    } else {
        lo.abs().max(1.0) * 0.05
    };
    let (lo, hi) = (lo - pad, hi + pad);
    if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (lo.max(f64::MIN / 2.0), hi.min(f64::MAX / 2.0))
    }
}

fn render(chart: &CdfChart<'_>, baseline: &[f64], canary: &[f64]) -> String {
    let (w, h) = (820.0, 500.0);
    let (left, right, top, bottom) = (70.0, 30.0, 78.0, 56.0);
    let ci = chart.interval;
    let median = quantile_sorted(baseline, 0.5, QuantileType::Type7);
    let moved = |d: f64| median + d;
    let (lo, hi) = range(
        baseline,
        canary,
        &[moved(ci.lower), moved(ci.upper), moved(chart.shift)],
    );
    // Positions are computed from halves so that no difference overflows; every coordinate is
    // clamped into the plot, so an infinite interval end runs to the edge.
    let x = |v: f64| {
        let f = (v / 2.0 - lo / 2.0) / (hi / 2.0 - lo / 2.0);
        left + f.clamp(0.0, 1.0) * (w - left - right)
    };
    let y = |q: f64| h - bottom - q * (h - top - bottom);
    let (x0, x1, y0, y1) = (x(lo), x(hi), y(0.0), y(1.0));

    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="13">"##
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="white"/>"##);
    // The interval for the shift, placed at the baseline's median.
    let (band_lo, band_hi) = (x(moved(ci.lower)), x(moved(ci.upper)));
    let _ = writeln!(
        s,
        r##"<rect x="{band_lo:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="#f4a261" fill-opacity="0.25"/>"##,
        (band_hi - band_lo).max(1.0),
        y0 - y1
    );
    for t in ticks(lo, hi) {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{y0:.1}" x2="{0:.1}" y2="{y1:.1}" stroke="#eee"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle">{2}</text>"##,
            x(t),
            y0 + 18.0,
            fmt_g(t)
        );
    }
    for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = writeln!(
            s,
            r##"<line x1="{x0:.1}" y1="{0:.1}" x2="{x1:.1}" y2="{0:.1}" stroke="#eee"/><text x="{1:.1}" y="{2:.1}" text-anchor="end">{q}</text>"##,
            y(q),
            x0 - 6.0,
            y(q) + 4.0
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{x0:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#888"/>"##,
        x1 - x0,
        y0 - y1
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">share of points at or below</text>"##,
        (x0 + x1) / 2.0,
        h - 12.0,
        escape(chart.metric),
        (y0 + y1) / 2.0
    );
    // Empirical CDFs as step paths, at most MAX_STEPS steps each.
    let ecdf = |sorted: &[f64], offset: f64| -> String {
        let n = sorted.len();
        let steps = n.min(MAX_STEPS);
        let mut d = format!("M{x0:.1},{y0:.1}");
        for k in 1..=steps {
            // The step's rank: every point when there are few, evenly spaced ranks otherwise.
            let rank = ((k as u128 * n as u128).div_ceil(steps as u128)) as usize;
            let _ = write!(
                d,
                " H{:.1} V{:.1}",
                x(sorted[rank - 1] + offset),
                y(rank as f64 / n as f64)
            );
        }
        let _ = write!(d, " H{x1:.1}");
        d
    };
    let _ = writeln!(
        s,
        r##"<path d="{}" fill="none" stroke="#1d3557" stroke-width="1.2" stroke-dasharray="5 4" opacity="0.6"/>"##,
        ecdf(baseline, chart.shift)
    );
    let _ = writeln!(
        s,
        r##"<path d="{}" fill="none" stroke="#1d3557" stroke-width="2"/>"##,
        ecdf(baseline, 0.0)
    );
    let _ = writeln!(
        s,
        r##"<path d="{}" fill="none" stroke="#e63946" stroke-width="2"/>"##,
        ecdf(canary, 0.0)
    );
    // The shift as an arrow at the median, from the baseline's median to median + shift.
    let ym = y(0.5);
    let (xa, xb) = (x(median), x(moved(chart.shift)));
    let dir = if xb >= xa { 1.0 } else { -1.0 };
    let _ = writeln!(
        s,
        r##"<line x1="{xa:.1}" y1="{ym:.1}" x2="{xb:.1}" y2="{ym:.1}" stroke="#000" stroke-width="2"/><path d="M{xb:.1},{ym:.1} l{:.1},-5 v10 z"/><circle cx="{xa:.1}" cy="{ym:.1}" r="3.5"/>"##,
        -8.0 * dir
    );
    // Title and subtitle.
    let note = chart
        .note
        .map_or(String::new(), |n| format!(", {}", escape(n)));
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="24" font-size="16" font-weight="bold">{}: canary against baseline</text>"##,
        escape(chart.metric)
    );
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="46">Hodges-Lehmann shift {} [{}, {}] at {}% ({} of baseline median {}){note}</text>"##,
        signed(chart.shift),
        signed(ci.lower),
        signed(ci.upper),
        fmt_g(ci.level * 100.0),
        percent(chart.shift / median),
        fmt_g(median),
    );
    // Legend, bottom right: where two CDFs are least likely to be.
    let legend = [
        ("#1d3557", "", format!("baseline (n = {})", baseline.len())),
        ("#e63946", "", format!("canary (n = {})", canary.len())),
        ("#1d3557", "5 4", "baseline moved by the shift".to_string()),
    ];
    let (lx, ly) = (x1 - 262.0, y0 - 104.0);
    let _ = writeln!(
        s,
        r##"<rect x="{:.1}" y="{:.1}" width="262" height="104" fill="white" fill-opacity="0.9" stroke="#ccc"/>"##,
        lx - 8.0,
        ly - 12.0
    );
    for (i, (color, dash, text)) in legend.iter().enumerate() {
        let yy = ly + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r##"<line x1="{lx:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}">{text}</text>"##,
            lx + 28.0,
            lx + 36.0,
            yy + 4.0,
        );
    }
    let yy = ly + 60.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#000" stroke-width="2"/><text x="{:.1}" y="{:.1}">shift at the baseline median</text>"##,
        lx + 28.0,
        lx + 36.0,
        yy + 4.0,
    );
    let _ = writeln!(
        s,
        r##"<rect x="{lx:.1}" y="{:.1}" width="28" height="12" fill="#f4a261" fill-opacity="0.35"/><text x="{:.1}" y="{:.1}">its interval</text>"##,
        yy + 14.0,
        lx + 36.0,
        yy + 24.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_bounded() {
        assert_eq!(ticks(0.0, 12.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        assert!(ticks(1.0, 1.0).is_empty());
        assert!(ticks(f64::MIN / 2.0, f64::MAX / 2.0).len() <= 20);
    }

    #[test]
    fn numbers_are_signed_and_text_escaped() {
        assert_eq!(signed(2.5), "+2.5");
        assert_eq!(signed(-0.0), "0");
        assert_eq!(signed(f64::INFINITY), "+inf");
        assert_eq!(percent(0.123456), "+12.35%");
        assert_eq!(percent(f64::NAN), "n/a");
        assert_eq!(escape("a<b & \"c\"\u{7}"), "a&lt;b &amp; &quot;c&quot; ");
    }

    #[test]
    fn the_range_is_finite_and_non_empty() {
        for (b, c) in [
            (vec![5.0], vec![5.0]),
            (vec![0.0], vec![0.0]),
            (vec![-f64::MAX], vec![f64::MAX]),
            (vec![1e-300], vec![2e-300]),
        ] {
            let (lo, hi) = range(&b, &c, &[f64::INFINITY, f64::NAN]);
            assert!(
                lo.is_finite() && hi.is_finite() && lo < hi,
                "{b:?} {c:?}: {lo} {hi}"
            );
        }
    }
}
