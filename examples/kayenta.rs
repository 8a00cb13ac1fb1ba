//! Judges a Kayenta canary config and its metric-set pairs twice: by Kayenta's own rules
//! (`judge_kayenta`, the verdict a Spinnaker user knows) and by the crate's default judge on the
//! same imported policy.
//!
//! ```text
//! cargo run --example kayenta -- fixtures/kayenta/config.json fixtures/kayenta/data.json
//! cargo run --example kayenta -- --json fixtures/kayenta/config.json fixtures/kayenta/data.json
//! cargo run --example kayenta -- --pass 95 --marginal 75 config.json data.json
//! ```
//!
//! The config is Kayenta's canary-config JSON; the data are Kayenta's metric-set-pair list
//! (`[{"name", "values": {"control": [...], "experiment": [...]}}]`). Kayenta takes the score
//! thresholds from the execution request, not the config, so they are flags here; the defaults
//! are Spinnaker's (pass 75, marginal 50). `--json` prints Kayenta's result JSON instead of the
//! two tables.

use canary_verdict::{
    judge,
    kayenta::{data_from_kayenta, judge_kayenta, policy_from_kayenta},
    policy::ScoreThresholds,
};
use std::process::ExitCode;

struct Args {
    json: bool,
    thresholds: ScoreThresholds,
    config: String,
    data: String,
}

fn parse_args() -> Result<Args, String> {
    let mut json = false;
    let mut thresholds = ScoreThresholds {
        pass: 75.0,
        marginal: 50.0,
    };
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |flag: &str| -> Result<f64, String> {
            let v = args.next().ok_or(format!("{flag} needs a number"))?;
            v.parse()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match a.as_str() {
            "--json" => json = true,
            "--pass" => thresholds.pass = number("--pass")?,
            "--marginal" => thresholds.marginal = number("--marginal")?,
            _ if a.starts_with("--") => return Err(format!("unknown flag {a}")),
            _ => paths.push(a),
        }
    }
    let [config, data] = <[String; 2]>::try_from(paths)
        .map_err(|_| "give the config and the data paths".to_string())?;
    Ok(Args {
        json,
        thresholds,
        config,
        data,
    })
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let policy = policy_from_kayenta(&read(&args.config)?, args.thresholds)?;
    let data = data_from_kayenta(&read(&args.data)?)?;
    let kayenta = judge_kayenta(&policy, &data)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&kayenta)?);
        return Ok(());
    }
    let t = args.thresholds;
    println!(
        "== Kayenta mode (pass >= {}, marginal >= {})",
        t.pass, t.marginal
    );
    println!("{kayenta}");
    println!("kayenta verdict: {}", kayenta.verdict());
    println!();
    println!("== the crate's default judge on the same policy");
    // The default judge validates more strictly (weights on every group, totalling 100).
    match judge(&policy, &data) {
        Ok(j) => {
            println!("{j}");
            println!("default verdict: {}", j.verdict);
        }
        Err(e) => println!("not judged: {e}"),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "usage: kayenta [--json] [--pass P] [--marginal M] <config.json> <data.json>"
            );
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
