//! Writes the distribution chart of the `chart` module (feature `svg`) to a file: the baseline's
//! and the canary's empirical CDFs, with the Hodges-Lehmann shift and its confidence interval
//! marked at the baseline's median, and the baseline's CDF moved by the shift.
//!
//! ```text
//! cargo run --features svg --example plot                    # fixtures/samples/latency_regression.json -> target/canary.svg
//! cargo run --features svg --example plot -- fixtures/samples/latency_healthy.json /tmp/healthy.svg
//! cargo run --features svg --example plot -- --metric latency_p99_ms fixtures/canaries/tail_regression.json target/tail.svg
//! ```
//!
//! The input is a sample file as the `compare` example reads (`{"metric", "conf_level",
//! "baseline": [...], "canary": [...]}`; the shift is the unpaired Hodges-Lehmann estimate at
//! `conf_level`), or a judge request as the `judge` example reads, with `--metric` naming a
//! continuous metric (default: the first); the chart is then `Judgment::chart_svg`, with the
//! judge's own shift and interval (paired when the arms share timestamps) and its label.

use canary_verdict::chart::CdfChart;
use canary_verdict::stats::{hodges_lehmann, MannWhitneyConfig};
use canary_verdict::{judge, Arms, CanaryPolicy, MetricData, Series};
use serde::Deserialize;
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

/// The chart and a one-line summary of what it shows.
fn chart(input: Input, wanted: Option<&str>) -> Result<String, Box<dyn std::error::Error>> {
    match input {
        Input::Samples {
            metric,
            conf_level,
            baseline,
            canary,
        } => {
            let finite =
                |v: Vec<f64>| -> Vec<f64> { v.into_iter().filter(|x| x.is_finite()).collect() };
            let (baseline, canary) = (finite(baseline), finite(canary));
            let arms = Arms {
                baseline: &baseline[..],
                canary: &canary[..],
            };
            let hl = hodges_lehmann(
                arms,
                &MannWhitneyConfig {
                    conf_level,
                    ..Default::default()
                },
            )?;
            println!("{metric}: {hl}");
            Ok(CdfChart {
                metric: &metric,
                arms,
                shift: hl.estimate,
                interval: hl.interval,
                note: None,
            }
            .to_svg()?)
        }
        Input::Request { policy, metrics } => {
            let judgment = judge(&policy, &metrics)?;
            let name = match wanted {
                Some(name) => name.to_string(),
                None => metrics
                    .iter()
                    .find(|d| matches!(d.baseline, Series::Samples(_) | Series::Points(_)))
                    .map(|d| d.name.clone())
                    .ok_or("no continuous metric in the request")?,
            };
            if let Some(m) = judgment.metrics.iter().find(|m| m.name == name) {
                println!("{name}: {} ({})", m.classification, m.reason);
            }
            Ok(judgment.chart_svg(&metrics, &name)?)
        }
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
    let svg = chart(input, metric.as_deref())?;
    if let Some(dir) = std::path::Path::new(out_path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    std::fs::write(out_path, svg).map_err(|e| format!("{out_path}: {e}"))?;
    println!("wrote {out_path}");
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
