//! Judge a saved Prometheus query result: the canary against the baseline, the arms told apart by
//! a label.
//!
//! ```sh
//! cargo run --example prometheus -- fixtures/prometheus/matrix_latency.json points
//! cargo run --example prometheus -- fixtures/prometheus/vector_buckets.json classic
//! cargo run --example prometheus -- fixtures/prometheus/vector_native.json native --label track=stable,canary
//! ```
//!
//! The second argument says what the result holds: `points` (one series per arm, per-minute
//! values), `classic` (`_bucket` series with `le` labels) or `native` (native histograms).
//! `--label NAME=BASELINE,CANARY` names the arm label (default `track=stable,canary`). The metric
//! is judged with the default policy for a metric whose increase is harm; the exit status is the
//! verdict (0 promote, 1 marginal, 2 rollback, 3 inconclusive, 4 bad input).

use std::process::ExitCode;

use canary_verdict::prometheus::{parse, ArmLabel};
use canary_verdict::{judge, CanaryPolicy, Direction, MetricData, MetricPolicy, Verdict};

fn run(args: &[String]) -> Result<Verdict, String> {
    let (path, kind) = match args {
        [p, k, ..] => (p, k.as_str()),
        _ => return Err("usage: prometheus <result.json> <points|classic|native> [--label NAME=BASELINE,CANARY]".into()),
    };
    let label = match args.iter().position(|a| a == "--label") {
        Some(i) => {
            let spec = args
                .get(i + 1)
                .ok_or("--label needs NAME=BASELINE,CANARY")?;
            let (name, values) = spec
                .split_once('=')
                .ok_or("--label needs NAME=BASELINE,CANARY")?;
            let (b, c) = values
                .split_once(',')
                .ok_or("--label needs NAME=BASELINE,CANARY")?;
            ArmLabel::new(name, b, c)
        }
        None => ArmLabel::new("track", "stable", "canary"),
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let series = parse(&text).map_err(|e| e.to_string())?;
    let arms = match kind {
        "points" => label.points(&series),
        "classic" => label.classic_histograms(&series, 0.0),
        "native" => label.native_histograms(&series),
        other => return Err(format!("{other:?} is not points, classic or native")),
    }
    .map_err(|e| e.to_string())?;
    let name = "metric";
    let policy = CanaryPolicy::new(vec![MetricPolicy::new(name, Direction::Increase)]);
    let judgment = judge(&policy, &[MetricData::new(name, arms)]).map_err(|e| e.to_string())?;
    println!("{path} ({kind}, {} series)", series.len());
    println!("{judgment}");
    Ok(judgment.verdict)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(v) => ExitCode::from(match v {
            Verdict::Promote => 0,
            Verdict::Marginal => 1,
            Verdict::Rollback => 2,
            _ => 3,
        }),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(4)
        }
    }
}
