//! Draws the baseline's and the canary's empirical CDFs in one SVG, with the Hodges-Lehmann
//! shift and its confidence interval marked at the baseline's median, and the baseline's CDF
//! moved by the shift (what the canary would look like if the shift were all that changed).
//!
//! ```text
//! cargo run --example plot                                   # fixtures/samples/latency_regression.json -> target/canary.svg
//! cargo run --example plot -- fixtures/samples/latency_healthy.json /tmp/healthy.svg
//! cargo run --example plot -- --metric latency_p99_ms fixtures/canaries/tail_regression.json target/tail.svg
//! ```
//!
//! The input is a sample file as the `compare` example reads (`{"metric", "conf_level",
//! "baseline": [...], "canary": [...]}`; the shift is the unpaired Hodges-Lehmann estimate at
//! `conf_level`), or a judge request as the `judge` example reads, with `--metric` naming a
//! continuous metric (default: the first); the shift and interval are then the judge's own
//! (paired when the arms share timestamps) and its label is in the title. Hand-written SVG: no
//! plotting dependency.

use canary_verdict::Arms;
use canary_verdict::{
    judge,
    stats::{quantile_sorted, sorted_sample, MannWhitneyConfig, QuantileType, TwoSample},
    CanaryPolicy, MetricData, Series,
};
use serde::Deserialize;
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Deserialize)]
#[serde(untagged)]
enum Input {
    Request {
        policy: CanaryPolicy,
        metrics: Vec<MetricData>,
    },
    Samples {
        metric: String,
        #[serde(default = "default_level")]
        conf_level: f64,
        baseline: Vec<f64>,
        canary: Vec<f64>,
    },
}

fn default_level() -> f64 {
    0.95
}

/// What the picture shows.
struct Picture {
    metric: String,
    baseline: Vec<f64>,
    canary: Vec<f64>,
    shift: f64,
    lower: f64,
    upper: f64,
    level: f64,
    /// The judge's label and reason, for a request.
    finding: Option<String>,
}

fn values(series: &Series, metric: &str) -> Result<Vec<f64>, String> {
    match series {
        Series::Samples(v) => Ok(v.clone()),
        Series::Points(p) => Ok(p.iter().map(|p| p.value).collect()),
        _ => Err(format!(
            "metric {metric}: only samples and points can be drawn (not counters or histograms)"
        )),
    }
}

fn picture(input: Input, wanted: Option<&str>) -> Result<Picture, Box<dyn std::error::Error>> {
    let finite = |v: Vec<f64>| -> Vec<f64> { v.into_iter().filter(|x| x.is_finite()).collect() };
    match input {
        Input::Samples {
            metric,
            conf_level,
            baseline,
            canary,
        } => {
            let (baseline, canary) = (finite(baseline), finite(canary));
            let hl = TwoSample::new(Arms {
                baseline: &baseline,
                canary: &canary,
            })?
            .hodges_lehmann(&MannWhitneyConfig {
                conf_level,
                ..Default::default()
            })?;
            Ok(Picture {
                metric,
                baseline,
                canary,
                shift: hl.estimate,
                lower: hl.interval.lower,
                upper: hl.interval.upper,
                level: hl.interval.level,
                finding: None,
            })
        }
        Input::Request { policy, metrics } => {
            let judgment = judge(&policy, &metrics)?;
            let data = match wanted {
                Some(name) => metrics.iter().find(|d| d.name == name),
                None => metrics
                    .iter()
                    .find(|d| !matches!(d.baseline, Series::Counts(_) | Series::Histogram(_))),
            }
            .ok_or("no such continuous metric in the request")?;
            let m = judgment
                .metrics
                .iter()
                .find(|m| m.name == data.name)
                .ok_or("the metric is not in the policy")?;
            let (Some(shift), Some(ci)) = (m.estimate, m.interval) else {
                return Err(format!("metric {}: no shift to draw: {}", m.name, m.reason).into());
            };
            Ok(Picture {
                metric: data.name.clone(),
                baseline: finite(values(&data.baseline, &data.name)?),
                canary: finite(values(&data.canary, &data.name)?),
                shift,
                lower: ci.lower,
                upper: ci.upper,
                level: ci.level,
                finding: Some(format!("judge: {}", m.classification)),
            })
        }
    }
}

/// Round tick positions covering `[lo, hi]`: steps of 1, 2 or 5 times a power of ten.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn label(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svg(p: &Picture, baseline: &[f64], canary: &[f64]) -> String {
    let (w, h) = (820.0, 500.0);
    let (left, right, top, bottom) = (70.0, 30.0, 78.0, 56.0);
    let median_b = quantile_sorted(baseline, 0.5, QuantileType::Type7);
    let lo = baseline[0].min(canary[0]).min(median_b + p.lower);
    let hi = baseline[baseline.len() - 1]
        .max(canary[canary.len() - 1])
        .max(median_b + p.upper);
    let pad = (hi - lo).max(f64::MIN_POSITIVE) * 0.03;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + (v - lo) / (hi - lo) * (w - left - right);
    let y = |q: f64| h - bottom - q * (h - top - bottom);
    let (x0, x1, y0, y1) = (x(lo), x(hi), y(0.0), y(1.0));

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
"##
    );
    // The interval for the shift, placed at the baseline's median.
    let _ = writeln!(
        s,
        r##"<rect x="{:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="#f4a261" fill-opacity="0.25"/>"##,
        x(median_b + p.lower),
        (x(median_b + p.upper) - x(median_b + p.lower)).max(1.0),
        y0 - y1
    );
    // Grid and axes.
    for t in ticks(lo, hi) {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{y0:.1}" x2="{0:.1}" y2="{y1:.1}" stroke="#eee"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle">{2}</text>"##,
            x(t),
            y0 + 18.0,
            label(t)
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
        escape(&p.metric),
        (y0 + y1) / 2.0
    );
    // Empirical CDFs as step paths.
    let ecdf = |sorted: &[f64], offset: f64| -> String {
        let n = sorted.len() as f64;
        let mut d = format!("M{:.1},{y0:.1}", x0);
        for (i, v) in sorted.iter().enumerate() {
            let _ = write!(d, " H{:.1} V{:.1}", x(v + offset), y((i + 1) as f64 / n));
        }
        let _ = write!(d, " H{x1:.1}");
        d
    };
    let _ = writeln!(
        s,
        r##"<path d="{}" fill="none" stroke="#1d3557" stroke-width="1.2" stroke-dasharray="5 4" opacity="0.6"/>"##,
        ecdf(baseline, p.shift)
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
    let (xa, xb) = (x(median_b), x(median_b + p.shift));
    let dir = if xb >= xa { 1.0 } else { -1.0 };
    let _ = writeln!(
        s,
        r##"<line x1="{xa:.1}" y1="{ym:.1}" x2="{xb:.1}" y2="{ym:.1}" stroke="#000" stroke-width="2"/><path d="M{xb:.1},{ym:.1} l{:.1},-5 v10 z"/><circle cx="{xa:.1}" cy="{ym:.1}" r="3.5"/>"##,
        -8.0 * dir
    );
    // Title and legend.
    let finding = p.finding.as_deref().unwrap_or("");
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="24" font-size="16" font-weight="bold">{}: canary against baseline</text>
<text x="{left}" y="46">Hodges-Lehmann shift {} [{}, {}] at {}% ({} of baseline median {}){}{}</text>"##,
        escape(&p.metric),
        signed(p.shift),
        signed(p.lower),
        signed(p.upper),
        label((p.level * 1000.0).round() / 10.0),
        percent(p.shift / median_b),
        label(sig(median_b)),
        if finding.is_empty() { "" } else { ", " },
        escape(finding)
    );
    let legend = [
        (
            "#1d3557",
            "",
            &*format!("baseline (n = {})", baseline.len()),
        ),
        ("#e63946", "", &*format!("canary (n = {})", canary.len())),
        ("#1d3557", "5 4", "baseline moved by the shift"),
    ];
    // Bottom right: where two CDFs are least likely to be.
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
            r##"<line x1="{lx:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            lx + 28.0,
            lx + 36.0,
            yy + 4.0,
            escape(text)
        );
    }
    let yy = ly + 60.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#000" stroke-width="2"/><text x="{:.1}" y="{:.1}">shift at the baseline median</text>
<rect x="{lx:.1}" y="{:.1}" width="28" height="12" fill="#f4a261" fill-opacity="0.35"/><text x="{:.1}" y="{:.1}">its interval</text>
</svg>"##,
        lx + 28.0,
        lx + 36.0,
        yy + 4.0,
        yy + 14.0,
        lx + 36.0,
        yy + 24.0
    );
    s
}

/// Four significant digits.
fn sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(3 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

fn signed(v: f64) -> String {
    format!("{}{}", if v > 0.0 { "+" } else { "" }, label(sig(v)))
}

fn percent(r: f64) -> String {
    if r.is_finite() {
        format!(
            "{}{}%",
            if r > 0.0 { "+" } else { "" },
            label(sig(r * 100.0))
        )
    } else {
        "n/a".into()
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let metric = match args.iter().position(|a| a == "--metric") {
        Some(i) if i + 1 < args.len() => {
            let m = args.remove(i + 1);
            args.remove(i);
            Some(m)
        }
        Some(_) => return Err("--metric needs a name".into()),
        None => None,
    };
    let input_path = args
        .first()
        .map_or("fixtures/samples/latency_regression.json", String::as_str);
    let out_path = args.get(1).map_or("target/canary.svg", String::as_str);
    let text = std::fs::read_to_string(input_path).map_err(|e| format!("{input_path}: {e}"))?;
    let input: Input = serde_json::from_str(&text)
        .map_err(|e| format!("{input_path}: neither a sample file nor a judge request ({e})"))?;
    let p = picture(input, metric.as_deref())?;
    let baseline = sorted_sample(&p.baseline)?;
    let canary = sorted_sample(&p.canary)?;
    if let Some(dir) = std::path::Path::new(out_path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    std::fs::write(out_path, svg(&p, &baseline, &canary))
        .map_err(|e| format!("{out_path}: {e}"))?;
    println!(
        "wrote {out_path}: {} baseline and {} canary points, shift {} [{}, {}] at {}%",
        baseline.len(),
        canary.len(),
        signed(p.shift),
        signed(p.lower),
        signed(p.upper),
        label((p.level * 1000.0).round() / 10.0)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
