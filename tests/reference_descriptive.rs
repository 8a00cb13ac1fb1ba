//! Quantiles, summaries and IQR fences against reference vectors from R
//! (`fixtures/generate_descriptive.R`) and NumPy (`fixtures/generate_descriptive.py`).
//!
//! Tolerance: 1e-12 relative or 1e-300 absolute for every number, except means and standard
//! deviations against R, held to 1e-14 relative. Counts must match exactly. On top of the
//! tolerance check, quantiles against R are also counted as bit-identical or not, and every one
//! is required to be bit-identical.

use canary_verdict::stats::{quantile, quantile_sorted, quantiles, Fences, QuantileType, Summary};
use serde_json::Value;

use crate::common::*;

const REL: f64 = 1e-12;
const ABS: f64 = 1e-300;
const REL_MOMENTS: f64 = 1e-14;

fn quantile_type(case: &Value) -> QuantileType {
    let k = case["input"]["type"].as_u64().expect("type") as u8;
    QuantileType::from_r_type(k).expect("type 1-9")
}

fn count(v: &Value) -> usize {
    v.as_u64().expect("count") as usize
}

#[test]
fn r_reference_descriptive() {
    let cases = load_cases("descriptive");
    let mut report = Report::default();
    let (mut quantile_values, mut bit_identical) = (0, 0);
    let (mut n_quantile, mut n_summary, mut n_fences) = (0, 0, 0);
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let x = nums(&case["input"]["x"]);
        if id.starts_with("quantile/") {
            n_quantile += 1;
            let ty = quantile_type(case);
            let probs = nums(&case["input"]["probs"]);
            let expected = nums(&case["expected"]["quantiles"]);
            let batch = quantiles(&x, &probs, ty).unwrap_or_else(|e| panic!("{id}: {e}"));
            let mut sorted = x.clone();
            sorted.sort_by(f64::total_cmp);
            for ((&p, &want), &got_batch) in probs.iter().zip(&expected).zip(&batch) {
                let got = quantile(&x, p, ty).unwrap_or_else(|e| panic!("{id}: {e}"));
                report.check(id, &format!("quantile(p = {p})"), got, want, REL, ABS);
                quantile_values += 1;
                if got.to_bits() == want.to_bits() {
                    bit_identical += 1;
                } else {
                    report.fail(
                        id,
                        format!("p = {p}: {got:e} is not bit-identical to R's {want:e}"),
                    );
                }
                report.check(
                    id,
                    &format!("quantiles()[p = {p}]"),
                    got_batch,
                    want,
                    REL,
                    ABS,
                );
                let fast = quantile_sorted(&sorted, p, ty);
                report.check(
                    id,
                    &format!("quantile_sorted(p = {p})"),
                    fast,
                    want,
                    REL,
                    ABS,
                );
            }
        } else if id.starts_with("summary/") {
            n_summary += 1;
            let probs = nums(&case["input"]["probs"]);
            let want = &case["expected"];
            let s = Summary::of(&x, &probs).unwrap_or_else(|e| panic!("{id}: {e}"));
            if s.count != count(&want["count"]) {
                report.fail(
                    id,
                    format!("count = {}, expected {}", s.count, want["count"]),
                );
            }
            report.check(id, "mean", s.mean, num(&want["mean"]), REL_MOMENTS, ABS);
            // R's sd() of one point is NA; the crate defines it as 0.
            let sd_want = num(&want["sd"]);
            let sd_want = if sd_want.is_nan() && x.len() == 1 {
                0.0
            } else {
                sd_want
            };
            report.check(id, "sd", s.sd, sd_want, REL_MOMENTS, ABS);
            report.check(id, "min", s.min, num(&want["min"]), 0.0, 0.0);
            report.check(id, "max", s.max, num(&want["max"]), 0.0, 0.0);
            let qs = nums(&want["quantiles"]);
            for (&(p, got), &q) in s.quantiles.iter().zip(&qs) {
                report.check(id, &format!("quantiles[p = {p}]"), got, q, REL, ABS);
            }
            if s.quantiles.len() != qs.len() {
                report.fail(
                    id,
                    format!("{} quantiles, expected {}", s.quantiles.len(), qs.len()),
                );
            }
        } else if id.starts_with("fences/") {
            n_fences += 1;
            let k = num(&case["input"]["k"]);
            let want = &case["expected"];
            let tukey = Fences::tukey(&x, k).unwrap_or_else(|e| panic!("{id}: {e}"));
            let widened = Fences::widened(&x, k).unwrap_or_else(|e| panic!("{id}: {e}"));
            report.check(
                id,
                "tukey.lower",
                tukey.lower,
                num(&want["tukey_lower"]),
                REL,
                ABS,
            );
            report.check(
                id,
                "tukey.upper",
                tukey.upper,
                num(&want["tukey_upper"]),
                REL,
                ABS,
            );
            report.check(
                id,
                "widened.lower",
                widened.lower,
                num(&want["widened_lower"]),
                REL,
                ABS,
            );
            report.check(
                id,
                "widened.upper",
                widened.upper,
                num(&want["widened_upper"]),
                REL,
                ABS,
            );
            for (name, fences, key) in [
                ("tukey", tukey, "tukey_removed"),
                ("widened", widened, "widened_removed"),
            ] {
                let mut kept = x.clone();
                let removed = fences.retain(&mut kept);
                report.checked += 1;
                if removed != count(&want[key]) || kept.len() + removed != x.len() {
                    report.fail(
                        id,
                        format!("{name} removed {removed}, expected {}", want[key]),
                    );
                }
            }
        } else {
            report.fail(id, "unknown case kind".into());
        }
    }
    assert!(n_quantile >= 60, "only {n_quantile} quantile cases");
    assert!(
        n_summary >= 10 && n_fences >= 10,
        "{n_summary} summaries, {n_fences} fences"
    );
    println!(
        "R descriptive reference: {} checks, {bit_identical} of {quantile_values} quantiles bit-identical",
        report.checked
    );
    report.finish("R descriptive reference", 15_000);
    assert_eq!(
        bit_identical, quantile_values,
        "quantiles bit-identical to R"
    );
}

#[test]
fn numpy_reference_descriptive() {
    let path = fixture_path("reference/descriptive_numpy.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Places where NumPy and R disagree: the crate follows R (checked above), so skip them here.
    let skip: Vec<(String, f64)> = doc["disagreements"]
        .as_array()
        .expect("disagreements")
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), num(&d["p"])))
        .collect();
    let mut report = Report::default();
    for case in load_cases("descriptive_numpy") {
        let id = case["id"].as_str().expect("id");
        let x = nums(&case["input"]["x"]);
        if id.starts_with("numpy-quantile/") {
            let r_id = id.replacen("numpy-quantile/", "quantile/", 1);
            let ty = quantile_type(&case);
            let probs = nums(&case["input"]["probs"]);
            let expected = nums(&case["expected"]["quantiles"]);
            for (&p, &want) in probs.iter().zip(&expected) {
                if skip.iter().any(|(s, sp)| *s == r_id && *sp == p) {
                    continue;
                }
                let got = quantile(&x, p, ty).unwrap_or_else(|e| panic!("{id}: {e}"));
                report.check(id, &format!("quantile(p = {p})"), got, want, REL, ABS);
            }
        } else if id.starts_with("numpy-summary/") {
            let want = &case["expected"];
            let s = Summary::of(&x, &[]).unwrap_or_else(|e| panic!("{id}: {e}"));
            report.check(id, "mean", s.mean, num(&want["mean"]), REL, ABS);
            let sd_want = num(&want["sd"]);
            let sd_want = if sd_want.is_nan() && x.len() == 1 {
                0.0
            } else {
                sd_want
            };
            report.check(id, "sd", s.sd, sd_want, REL, ABS);
            report.check(id, "min", s.min, num(&want["min"]), 0.0, 0.0);
            report.check(id, "max", s.max, num(&want["max"]), 0.0, 0.0);
        } else {
            report.fail(id, "unknown case kind".into());
        }
    }
    println!("NumPy descriptive reference: {} checks", report.checked);
    report.finish("NumPy descriptive reference", 5_000);
}
