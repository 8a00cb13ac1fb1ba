//! Compares a canary's sample with its baseline's: the rank-sum test and the Hodges-Lehmann shift
//! with its confidence interval.
//!
//! ```text
//! cargo run --example compare -- fixtures/samples/latency_regression.json
//! ```
//!
//! The file holds `{"metric": "...", "conf_level": 0.98, "baseline": [...], "canary": [...]}`.

use canary_verdict::stats::{MannWhitneyConfig, TwoSample};
use canary_verdict::Arms;
use serde::Deserialize;
use std::process::ExitCode;

#[derive(Deserialize)]
struct Request {
    metric: String,
    #[serde(default = "default_level")]
    conf_level: f64,
    baseline: Vec<f64>,
    canary: Vec<f64>,
}

fn default_level() -> f64 {
    0.95
}

fn run(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let req: Request = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let pair = TwoSample::new(Arms {
        baseline: &req.baseline,
        canary: &req.canary,
    })
    .map_err(|e| format!("metric {}: {e}", req.metric))?;
    let test = pair.mann_whitney(&MannWhitneyConfig::default())?;
    let shift = pair.hodges_lehmann(&MannWhitneyConfig {
        conf_level: req.conf_level,
        ..Default::default()
    })?;
    println!(
        "metric {}: {} baseline vs {} canary points",
        req.metric,
        req.baseline.len(),
        req.canary.len()
    );
    println!("  {test}");
    println!("  {shift}");
    let ci = shift.interval;
    let finding = if ci.lower > 0.0 {
        "canary is HIGHER than baseline"
    } else if ci.upper < 0.0 {
        "canary is LOWER than baseline"
    } else {
        "no shift detected"
    };
    println!(
        "  finding: {finding} (interval at {:.0}% {} 0)",
        ci.level * 100.0,
        if ci.contains(0.0) {
            "contains"
        } else {
            "excludes"
        }
    );
    Ok(())
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: compare <request.json>");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
