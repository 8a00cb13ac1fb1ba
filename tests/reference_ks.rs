//! Exact two-sample Kolmogorov-Smirnov p-values against exact rationals
//! (`fixtures/reference/ks_exact.json`, `fixtures/generate_ks_exact.py`: path counts in
//! unbounded integers, one rounding): 99 cases from 3×4 to 300×250 points, continuous, tied
//! (seven distinct values) and shifted (p-values down to 1e-51), each alternative.
//!
//! Tolerance 1e-14 relative. Where `C(m + n, m) < 2^128` the crate counts paths in `u128`
//! (observed: 1.2e-16); beyond, it walks probabilities, whose error grows at most like
//! `(m + n) ε` (observed: 1.5e-15 at 300×250).

use crate::common::*;
use canary_verdict::stats::*;
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

/// `C(m + n, m) < 2^128`, i.e. the crate's integer path counts apply.
fn counts_fit(m: usize, n: usize) -> bool {
    let mut c: u128 = 1;
    for i in 1..=m as u128 {
        // c = C(n + i, i) = C(n + i - 1, i - 1) (n + i) / i, exact at each step.
        match c.checked_mul(n as u128 + i) {
            Some(v) => c = v / i,
            None => return false,
        }
    }
    true
}

#[test]
fn exact_ks_p_values_match_exact_rationals() {
    let cases = load_cases("ks_exact");
    let mut r = Report::default();
    let mut worst = [0.0f64; 2];
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let input = &case["input"];
        let canary = nums(&input["canary"]);
        let baseline = nums(&input["baseline"]);
        let alt = alternative(&input["alternative"]);
        let t = ks_2samp(
            Arms {
                baseline: &baseline,
                canary: &canary,
            },
            alt,
            Method::Exact,
        )
        .unwrap_or_else(|err| panic!("{id}: {err}"));
        let (m, n) = (canary.len(), baseline.len());
        let d_mn = num(&case["expected"]["statistic_times_mn"]);
        r.check(
            id,
            "statistic",
            t.statistic * (m * n) as f64,
            d_mn,
            1e-12,
            0.0,
        );
        let want = num(&case["expected"]["p_value"]);
        let fits = counts_fit(m, n);
        let rel = ((t.p_value - want) / want).abs();
        let slot = usize::from(!fits);
        worst[slot] = worst[slot].max(rel);
        r.check(id, "p_value", t.p_value, want, 1e-14, 0.0);
    }
    eprintln!(
        "KS exact: worst relative error {:.1e} (integer counts), {:.1e} (probability walk)",
        worst[0], worst[1]
    );
    r.finish("KS exact vs rationals", 2 * 99);
}
