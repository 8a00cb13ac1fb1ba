//! Rank-sum test and Hodges-Lehmann interval against R's `wilcox.test`, SciPy's `mannwhitneyu`
//! and coin's exact conditional test (fixtures/reference/rank_sum*.json, made by
//! fixtures/generate_rank.R, fixtures/generate_rank_large.R and fixtures/generate_rank.py).
//!
//! Tolerances:
//! - the statistic U: exact;
//! - p-values: 1e-9 relative (the oracles are exact or closed-form), with an absolute floor of
//!   1e-300 for underflowing tails;
//! - exact-branch estimate and interval: bit-exact against the brute-force order statistics, and
//!   1e-12 relative against R (R prints its sorted `outer` differences; both are `x - y` in f64);
//! - asymptotic-branch interval and estimate: within R's own root-finding tolerance
//!   (`tol.root = 1e-4`, absolute) of the order statistic the crate selects; for an even number
//!   of differences R's estimate may be any point between the two middle differences, so it is
//!   checked to lie there (within 1e-4) while the crate reports their midpoint.

use crate::common::*;
use canary_verdict::stats::{Alternative, MannWhitneyConfig, Method, MethodUsed, TwoSample};
use canary_verdict::Arms;
use serde_json::Value;

fn alternative(v: &Value) -> Alternative {
    match v.as_str().expect("alternative") {
        "two_sided" | "two.sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        other => panic!("unknown alternative {other}"),
    }
}

fn method(v: &Value) -> (Method, Option<MethodUsed>) {
    match v.as_str().expect("method") {
        "exact" => (Method::Exact, Some(MethodUsed::Exact)),
        "exact_conditional" => (Method::Exact, Some(MethodUsed::ExactConditional)),
        "asymptotic" => (Method::Asymptotic, Some(MethodUsed::Asymptotic)),
        other => panic!("unknown method {other}"),
    }
}

/// Sorted differences canary − baseline by brute force.
fn brute_differences(pair: &TwoSample) -> Vec<f64> {
    let mut d: Vec<f64> = pair
        .canary()
        .iter()
        .flat_map(|&x| pair.baseline().iter().map(move |&y| x - y))
        .collect();
    d.sort_unstable_by(f64::total_cmp);
    d
}

fn run_file(name: &str, report: &mut Report) {
    for case in load_cases(name) {
        let id = case["id"].as_str().unwrap_or("?").to_string();
        let input = &case["input"];
        let expected = &case["expected"];
        let baseline = nums(&input["baseline"]);
        let canary = nums(&input["canary"]);
        let alt = alternative(&input["alternative"]);
        let (method, used) = method(&input["method"]);
        let correct = input["correct"].as_bool().unwrap_or(true);
        let mu = input.get("mu").map(num).unwrap_or(0.0);
        let pair = match TwoSample::new(Arms {
            baseline: &baseline,
            canary: &canary,
        }) {
            Ok(p) => p,
            Err(e) => {
                report.fail(&id, format!("TwoSample::new failed: {e}"));
                continue;
            }
        };
        let cfg = MannWhitneyConfig {
            alternative: alt,
            mu,
            correct,
            method,
            ..Default::default()
        };
        match pair.mann_whitney(&cfg) {
            Ok(t) => {
                if let Some(s) = expected.get("statistic") {
                    report.check(&id, "statistic", t.statistic, num(s), 0.0, 0.0);
                }
                if let Some(p) = expected.get("p_value") {
                    let p = num(p);
                    if p.is_nan() {
                        // R gives NaN when every value is tied; the crate defines p = 1.
                        report.check(&id, "p_value (all tied)", t.p_value, 1.0, 0.0, 0.0);
                    } else {
                        report.check(&id, "p_value", t.p_value, p, 1e-9, 1e-300);
                    }
                }
                if let Some(u) = used {
                    // Without ties the conditional distribution is the plain exact one.
                    let same = t.method == u
                        || (u == MethodUsed::ExactConditional
                            && !t.ties
                            && t.method == MethodUsed::Exact);
                    if !same {
                        report.fail(&id, format!("method {:?}, expected {:?}", t.method, u));
                    }
                }
            }
            Err(e) => report.fail(&id, format!("mann_whitney failed: {e}")),
        }
        let Some(level) = input.get("conf_level").and_then(Value::as_f64) else {
            continue;
        };
        if expected.get("estimate").is_none() {
            continue;
        }
        let hl_cfg = MannWhitneyConfig {
            conf_level: level,
            alternative: alt,
            correct,
            method,
            ..Default::default()
        };
        let hl = match pair.hodges_lehmann(&hl_cfg) {
            Ok(h) => h,
            Err(e) => {
                report.fail(&id, format!("hodges_lehmann failed: {e}"));
                continue;
            }
        };
        let d = brute_differences(&pair);
        let total = d.len();
        // Bit-exact against brute force at the ranks the crate chose.
        let (k_lo, k_hi) = hl.ranks;
        if k_lo > 0 && hl.interval.lower.to_bits() != d[k_lo as usize - 1].to_bits() {
            report.fail(&id, "lower end differs from brute force".into());
        }
        if k_hi > 0 && hl.interval.upper.to_bits() != d[k_hi as usize - 1].to_bits() {
            report.fail(&id, "upper end differs from brute force".into());
        }
        let brute_median = if total % 2 == 1 {
            d[total / 2]
        } else {
            (d[total / 2 - 1] + d[total / 2]) / 2.0
        };
        report.check(
            &id,
            "estimate vs brute force",
            hl.estimate,
            brute_median,
            0.0,
            0.0,
        );
        let exact_branch = hl.method == MethodUsed::Exact;
        let (rel, abs) = if exact_branch {
            (1e-12, 0.0)
        } else {
            (0.0, 1e-4)
        };
        if let Some(v) = expected.get("ci_lower") {
            report.check(&id, "ci_lower", hl.interval.lower, num(v), rel, abs);
        }
        if let Some(v) = expected.get("ci_upper") {
            report.check(&id, "ci_upper", hl.interval.upper, num(v), rel, abs);
        }
        if let Some(v) = expected.get("achieved_level") {
            report.check(&id, "conf level", hl.interval.level, num(v), 1e-12, 0.0);
        }
        let r_est = num(&expected["estimate"]);
        if exact_branch || total % 2 == 1 {
            report.check(&id, "estimate", hl.estimate, r_est, rel, abs);
        } else {
            let (a, b) = (d[total / 2 - 1], d[total / 2]);
            report.checked += 1;
            if !(a - 1e-4 <= r_est && r_est <= b + 1e-4) {
                report.fail(
                    &id,
                    format!("R's estimate {r_est} is outside the middle pair [{a}, {b}]"),
                );
            }
        }
    }
}

#[test]
fn rank_sum_matches_r() {
    let mut report = Report::default();
    run_file("rank_sum", &mut report);
    report.finish("rank_sum (R, coin)", 300);
}

/// 100 to 250 points per arm, exact without ties (`fixtures/reference/rank_sum_large.json`,
/// `fixtures/generate_rank_large.R`), where the split counts pass 2^128: p-values at 1e-9 and
/// the exact Hodges-Lehmann interval bit-exact against brute force and 1e-12 against R.
#[test]
fn rank_sum_matches_r_at_200_points_per_arm() {
    let mut report = Report::default();
    run_file("rank_sum_large", &mut report);
    report.finish("rank_sum_large (R)", 45 * 6);
}

#[test]
fn rank_sum_matches_scipy() {
    let mut report = Report::default();
    run_file("rank_sum_scipy", &mut report);
    report.finish("rank_sum (SciPy)", 100);
}
