//! A deploy tool that calls the judge directly, without JSON: it builds its policy in code, hands
//! in the per-minute series it fetched for both arms, and acts on the verdict.
//!
//! ```text
//! cargo run --example embed                # a healthy canary: promote (exit status 0)
//! cargo run --example embed -- slower      # median latency +15%: hold (exit status 1)
//! cargo run --example embed -- regression  # median latency +30%: roll back (exit status 2)
//! ```
//!
//! The "fetch" below makes up deterministic data; a real tool would query its metrics store for
//! the canary's window, once per arm, with the same step so the points pair up by timestamp.

use canary_verdict::Arms;
use canary_verdict::{
    judge,
    policy::{Bounds, ScoreThresholds, Statistic},
    CanaryPolicy, CountPoint, Direction, MetricData, MetricPolicy, Series, Tolerance, Verdict,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::process::ExitCode;

/// The policy, written once in the deploy tool's code.
fn policy() -> CanaryPolicy {
    let in_group = |mut m: MetricPolicy, group: &str| {
        m.groups = vec![group.to_string()];
        m
    };
    // Median latency: a significant rise past +5% fails the metric, past +20% rolls back.
    let mut p50 = in_group(
        MetricPolicy::new("latency_p50_ms", Direction::Increase),
        "latency",
    );
    p50.tolerance = Tolerance {
        allowed_increase: 1.05,
        critical_increase: 1.2,
        ..Tolerance::default()
    };
    // Tail latency: the canary's mean per-minute p99 must also stay under an absolute SLO.
    let mut p99 = in_group(
        MetricPolicy::new("latency_p99_ms", Direction::Increase),
        "latency",
    );
    p99.bounds = Some(Bounds {
        statistic: Statistic::Mean,
        min: None,
        max: Some(800.0),
    });
    // Errors out of requests: critical, and with no data the canary is not judged healthy.
    let mut errors = in_group(
        MetricPolicy::counter("http_5xx", Direction::Increase),
        "errors",
    );
    errors.critical = true;
    errors.must_have_data = true;
    let cpu = in_group(
        MetricPolicy::new("cpu_pct", Direction::Increase),
        "saturation",
    );
    let mut policy = CanaryPolicy::new(vec![p50, p99, errors, cpu]);
    policy.group_weights = [("latency", 50.0), ("errors", 30.0), ("saturation", 20.0)]
        .into_iter()
        .map(|(g, w)| (g.to_string(), w))
        .collect();
    policy.thresholds = ScoreThresholds {
        pass: 90.0,
        marginal: 70.0,
    };
    policy
}

/// A deterministic stand-in for noise: splitmix64 mapped to roughly N(0, 1).
fn noise(seed: u64) -> f64 {
    let uniform = |k: u64| {
        let mut z = seed
            .wrapping_mul(4)
            .wrapping_add(k)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    };
    // Irwin-Hall with four terms: mean 2, variance 1/3.
    ((0..4).map(uniform).sum::<f64>() - 2.0) * 3f64.sqrt()
}

/// What a metrics store would return for one arm: 30 one-minute points.
fn fetch(metric: &str, arm: u64, start: DateTime<Utc>, scale: f64) -> Series {
    let minutes = 0..30u64;
    let at = |i: u64| start + Duration::minutes(i as i64);
    // Load both arms share (the morning ramp): pairing by timestamp cancels it.
    let load = |i: u64| 1.0 + 0.01 * i as f64;
    let name = metric.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let seed = |i: u64| name ^ (arm << 32) ^ i;
    let (level, spread) = match metric {
        "latency_p50_ms" => (120.0, 0.04),
        "latency_p99_ms" => (480.0, 0.06),
        "cpu_pct" => (45.0, 0.05),
        _ => {
            // Counters: about 2 000 requests a minute with a 0.2% error rate.
            return Series::Counts(
                minutes
                    .map(|i| {
                        let trials = (2000.0 * load(i) + 40.0 * noise(seed(i))).round();
                        let events = (trials * 0.002 + 1.5 * noise(seed(i) + 7)).round().max(0.0);
                        CountPoint {
                            timestamp: Some(at(i)),
                            events,
                            trials,
                        }
                    })
                    .collect(),
            );
        }
    };
    Series::points(minutes.map(|i| {
        let v = level * scale * load(i) * (1.0 + spread * noise(seed(i)));
        (at(i), v)
    }))
}

fn main() -> ExitCode {
    let slowdown = match std::env::args().nth(1).as_deref() {
        None | Some("healthy") => 1.0,
        Some("slower") => 1.15,
        Some("regression") => 1.3,
        Some(other) => {
            eprintln!("usage: embed [healthy | slower | regression], not {other:?}");
            return ExitCode::from(4);
        }
    };
    let start = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
    let policy = policy();
    let data: Vec<MetricData> = policy
        .metrics
        .iter()
        .map(|m| {
            let scale = if m.name == "latency_p50_ms" {
                slowdown
            } else {
                1.0
            };
            MetricData::new(
                m.name.clone(),
                Arms {
                    baseline: fetch(&m.name, 1, start, 1.0),
                    canary: fetch(&m.name, 2, start, scale),
                },
            )
        })
        .collect();
    let judgment = match judge(&policy, &data) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("canary check failed to run: {e}");
            return ExitCode::from(4);
        }
    };
    println!("{judgment}");
    let (action, code) = match judgment.verdict {
        Verdict::Promote => ("promote: shift all traffic to the canary", 0),
        Verdict::Marginal => ("hold: keep the canary at 10% and ask the on-call", 1),
        Verdict::Rollback => ("roll back: send all traffic to the baseline", 2),
        Verdict::Inconclusive => ("extend: not enough data yet, judge again in 10 minutes", 3),
        _ => ("hold: unknown verdict", 1),
    };
    println!("action: {action}");
    ExitCode::from(code)
}
