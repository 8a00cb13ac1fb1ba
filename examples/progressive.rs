//! Replays a canary interval by interval through a progressive analysis and prints the decision
//! after each interval.
//!
//! ```text
//! cargo run --example progressive -- fixtures/progressive/error_spike.json
//! cat replay.json | cargo run --example progressive -- -
//! ```
//!
//! The replays in `fixtures/progressive/` use the recommended production configuration
//! (`ProgressivePolicy::recommended`: `"rule": {"sequential": {}}`), except the two that show the
//! Kayenta and Argo rules on the same data.
//!
//! The file is `{"policy": ProgressivePolicy, "intervals": [{"metrics": [MetricData, ...]} |
//! {"error": "message"}, ...]}` in the crate's serde form; each interval holds that interval's
//! data only. Optional `"description"`, and `"expect"` (a decision) with `"expect_by"` (the
//! interval it must come at or before): a different outcome prints a note and exits with 1.
//! With `--state` the analysis's serialised state is printed at the end (what a controller
//! would persist). A bad file exits with 2.

mod common;

use canary_verdict::{Decision, MetricData, ProgressiveAnalysis, ProgressivePolicy};
use common::read;
use serde::Deserialize;
use std::process::ExitCode;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Replay {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    expect: Option<Decision>,
    #[serde(default)]
    expect_by: Option<u64>,
    policy: ProgressivePolicy,
    intervals: Vec<Interval>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Interval {
    #[serde(default)]
    metrics: Vec<MetricData>,
    #[serde(default)]
    error: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let state = args.iter().any(|a| a == "--state");
    let Some(path) = args.iter().find(|a| *a == "-" || !a.starts_with("--")) else {
        eprintln!("usage: progressive [--state] <replay.json | ->");
        return ExitCode::from(2);
    };
    let replay: Replay = match read(path)
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{path}: {e}")))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut analysis = match ProgressiveAnalysis::new(replay.policy) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(d) = &replay.description {
        println!("{d}");
    }
    let mut decided_at = None;
    for (i, interval) in replay.intervals.iter().enumerate() {
        let result = match &interval.error {
            Some(message) => analysis.record_error(message),
            None => analysis.update(&interval.metrics),
        };
        let decision = match result {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: interval {}: {e}", i + 1);
                return ExitCode::from(2);
            }
        };
        if let Some(record) = analysis.history().last() {
            println!("{record}");
        }
        if decision.is_final() {
            decided_at = Some(analysis.intervals());
            break;
        }
    }
    println!("{analysis}");
    if state {
        match serde_json::to_string(&analysis) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let decision = analysis.decision();
    let mut ok = true;
    if let Some(expect) = replay.expect {
        if expect != decision {
            println!("note: the file expected {expect}, the analysis decided {decision}");
            ok = false;
        }
    }
    if let (Some(by), true) = (replay.expect_by, ok) {
        if decided_at.is_none_or(|t| t > by) {
            println!("note: the file expected a decision by interval {by}, got {decided_at:?}");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
