//! Effect sizes against R's formulas (fixtures/reference/effect_size.json, made by
//! fixtures/generate_effect.R). Tolerance: 1e-12 relative (the same formulas in f64; R's `mean`
//! and `var` accumulate in long double), exact for CLES; an undefined size (R's NA) must be an
//! error in the crate.

use crate::common::*;
use canary_verdict::Arms;
use canary_verdict::{stats::TwoSample, Result};

fn check(report: &mut Report, id: &str, field: &str, got: Result<f64>, want: f64, rel: f64) {
    match got {
        Ok(v) if want.is_nan() => report.fail(id, format!("{field}: got {v}, R gives NA")),
        Ok(v) => report.check(id, field, v, want, rel, 1e-300),
        Err(_) if want.is_nan() => report.checked += 1,
        Err(e) => report.fail(id, format!("{field}: {e}")),
    }
}

#[test]
fn effect_sizes_match_r() {
    let mut report = Report::default();
    for case in load_cases("effect_size") {
        let id = case["id"].as_str().unwrap().to_string();
        let pair = TwoSample::new(Arms {
            baseline: &nums(&case["input"]["baseline"]),
            canary: &nums(&case["input"]["canary"]),
        })
        .unwrap();
        let e = &case["expected"];
        check(
            &mut report,
            &id,
            "mean_ratio",
            pair.mean_ratio(),
            num(&e["mean_ratio"]),
            1e-12,
        );
        report.check(&id, "cles", pair.cles(), num(&e["cles"]), 0.0, 0.0);
        check(
            &mut report,
            &id,
            "cohens_d",
            pair.cohens_d(),
            num(&e["cohens_d"]),
            1e-12,
        );
        check(
            &mut report,
            &id,
            "relative_shift",
            pair.relative_shift(),
            num(&e["relative_shift"]),
            1e-12,
        );
    }
    report.finish("effect sizes", 300);
}
