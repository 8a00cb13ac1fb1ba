//! Signed-rank test and paired Hodges-Lehmann interval against R's
//! `wilcox.test(canary, baseline, paired = TRUE, conf.int = TRUE)`
//! (fixtures/reference/signed_rank.json, made by fixtures/generate_rank.R).
//!
//! Tolerances as in the rank-sum test: V exact; p-values 1e-9 relative; exact-branch interval
//! and estimate 1e-12 relative; asymptotic-branch interval within R's root tolerance (1e-4
//! absolute), and R's estimate between the two middle Walsh averages when their number is even.

use crate::common::*;
use canary_verdict::stats::{Alternative, Method, MethodUsed, PairedSample, SignedRankConfig};
use canary_verdict::Arms;
use serde_json::Value;

fn alternative(v: &Value) -> Alternative {
    match v.as_str().expect("alternative") {
        "two_sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        other => panic!("unknown alternative {other}"),
    }
}

/// Sorted Walsh averages of the differences other than mu, by brute force.
fn walsh(paired: &PairedSample, mu: f64) -> Vec<f64> {
    let x: Vec<f64> = paired
        .differences()
        .iter()
        .copied()
        .filter(|&d| d - mu != 0.0)
        .collect();
    let mut a = Vec::new();
    for i in 0..x.len() {
        for j in i..x.len() {
            a.push(x[i] + x[j]);
        }
    }
    a.sort_unstable_by(f64::total_cmp);
    a.into_iter().map(|s| s / 2.0).collect()
}

#[test]
fn signed_rank_matches_r() {
    let mut report = Report::default();
    for case in load_cases("signed_rank") {
        let id = case["id"].as_str().unwrap().to_string();
        let (input, expected) = (&case["input"], &case["expected"]);
        let paired = PairedSample::new(Arms {
            baseline: &nums(&input["baseline"]),
            canary: &nums(&input["canary"]),
        })
        .unwrap();
        let method = match input["method"].as_str().unwrap() {
            "exact" => Method::Exact,
            _ => Method::Asymptotic,
        };
        let alt = alternative(&input["alternative"]);
        let mu = num(&input["mu"]);
        let correct = input["correct"].as_bool().unwrap();
        let test = paired
            .signed_rank(&SignedRankConfig {
                alternative: alt,
                mu,
                correct,
                method,
                ..Default::default()
            })
            .unwrap();
        report.check(
            &id,
            "statistic",
            test.statistic,
            num(&expected["statistic"]),
            0.0,
            0.0,
        );
        let p = num(&expected["p_value"]);
        if p.is_nan() {
            report.check(&id, "p_value (all zero)", test.p_value, 1.0, 0.0, 0.0);
        } else {
            report.check(&id, "p_value", test.p_value, p, 1e-9, 1e-300);
        }
        let Some(level) = input.get("conf_level").and_then(Value::as_f64) else {
            continue;
        };
        let est = num(&expected["estimate"]);
        if est.is_nan() {
            continue;
        }
        let cfg = SignedRankConfig {
            conf_level: level,
            alternative: alt,
            correct,
            method,
            mu,
        };
        let shift = match paired.hodges_lehmann(&cfg) {
            Ok(s) => s,
            Err(e) => {
                report.fail(&id, format!("hodges_lehmann failed: {e}"));
                continue;
            }
        };
        if num(&expected["ci_lower"]).is_nan() {
            // Every difference equal: R gives NaN; the crate gives the point interval.
            report.checked += 1;
            let i = shift.interval;
            if !(i.lower == i.upper && i.lower == shift.estimate && est == shift.estimate) {
                report.fail(&id, format!("expected a point interval at {est}, got {i}"));
            }
            continue;
        }
        let exact = shift.method == MethodUsed::Exact;
        let (rel, abs) = if exact { (1e-12, 0.0) } else { (0.0, 1e-4) };
        report.check(
            &id,
            "ci_lower",
            shift.interval.lower,
            num(&expected["ci_lower"]),
            rel,
            abs,
        );
        report.check(
            &id,
            "ci_upper",
            shift.interval.upper,
            num(&expected["ci_upper"]),
            rel,
            abs,
        );
        report.check(
            &id,
            "level",
            shift.interval.level,
            num(&expected["achieved_level"]),
            1e-12,
            0.0,
        );
        let a = walsh(&paired, mu);
        let m = a.len();
        if exact || m % 2 == 1 {
            report.check(&id, "estimate", shift.estimate, est, rel, abs);
        } else {
            report.checked += 1;
            if !(a[m / 2 - 1] - 1e-4 <= est && est <= a[m / 2] + 1e-4) {
                report.fail(
                    &id,
                    format!("R's estimate {est} is outside the middle pair"),
                );
            }
            let mid = (a[m / 2 - 1] + a[m / 2]) / 2.0;
            report.check(
                &id,
                "estimate vs brute force",
                shift.estimate,
                mid,
                0.0,
                0.0,
            );
        }
    }
    report.finish("signed rank (R)", 350);
}
