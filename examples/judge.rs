//! Judges a canary from a JSON request (policy plus both arms' metrics) and prints the verdict
//! table, or the whole judgment as JSON with `--json`.
//!
//! ```text
//! cargo run --example judge -- fixtures/canaries/latency_regression.json
//! cargo run --example judge -- --json fixtures/canaries/healthy.json
//! cat request.json | cargo run --example judge -- -
//! ```
//!
//! The request is `{"policy": CanaryPolicy, "metrics": [MetricData, ...]}` in the crate's serde
//! form. With `--exit-code` the exit status carries the verdict (0 promote, 1 marginal,
//! 2 rollback, 3 inconclusive); a bad request always exits with 4.

mod common;

use canary_verdict::{judge, CanaryPolicy, MetricData, Verdict};
use common::read;
use serde::Deserialize;
use std::process::ExitCode;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    expect: Option<Verdict>,
    policy: CanaryPolicy,
    metrics: Vec<MetricData>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let markdown = args.iter().any(|a| a == "--markdown");
    let exit_code = args.iter().any(|a| a == "--exit-code");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: judge [--json | --markdown] [--exit-code] <request.json | ->");
        return ExitCode::from(4);
    };
    let request: Request = match read(path)
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{path}: {e}")))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(4);
        }
    };
    let judgment = match judge(&request.policy, &request.metrics) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(4);
        }
    };
    if json {
        match serde_json::to_string_pretty(&judgment) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(4);
            }
        }
    } else if markdown {
        // For a pull-request comment or $GITHUB_STEP_SUMMARY.
        print!("{}", judgment.to_markdown());
    } else {
        if let Some(d) = &request.description {
            println!("{d}");
        }
        println!("{judgment}");
    }
    if let Some(expect) = request.expect {
        if expect != judgment.verdict {
            eprintln!("note: the request expected {expect}");
        }
    }
    if !exit_code {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(match judgment.verdict {
        Verdict::Promote => 0,
        Verdict::Marginal => 1,
        Verdict::Rollback => 2,
        _ => 3,
    })
}
