//! criterion baselines as a canary: reading `sample.json` and `benchmark.json` (a real pair
//! saved from this crate's `counts` bench, `fixtures/criterion/`), the gate's verdicts on
//! identical and slowed runs, and errors that name the field.

use crate::common::{fixture_path, Rng};
use canary_verdict::bench::{gate_data, gate_policy, read_benchmark_id, read_sample};
use canary_verdict::{judge, Classification, Error, Verdict};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(&format!("criterion/{name}"))).unwrap()
}

#[test]
fn a_saved_sample_gives_per_iteration_times_in_sample_order() {
    let text = fixture("binom_1e3_sample.json");
    let times = read_sample(&text).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let iters = doc["iters"].as_array().unwrap();
    let raw = doc["times"].as_array().unwrap();
    assert_eq!(times.len(), iters.len());
    for k in 0..times.len() {
        assert_eq!(
            times[k],
            raw[k].as_f64().unwrap() / iters[k].as_f64().unwrap()
        );
    }
    assert_eq!(
        read_benchmark_id(&fixture("binom_1e3_benchmark.json")).unwrap(),
        "binom_test/two_sided_p0.5/1e3"
    );
}

/// A run of `n` samples: per-iteration times around `centre` with 2% noise and a slow drift.
fn run(rng: &mut Rng, n: usize, centre: f64) -> Vec<f64> {
    (0..n)
        .map(|k| centre * (1.0 + 0.01 * (k as f64 / 10.0).sin()) * (1.0 + 0.02 * rng.normal()))
        .collect()
}

#[test]
fn identical_code_passes_and_a_slowdown_beyond_the_tolerance_fails() {
    let mut rng = Rng(91);
    let ids: Vec<String> = (0..10).map(|i| format!("bench/{i}")).collect();
    let policy = gate_policy(&ids, 0.05);
    // Ten benchmarks, two runs of the same code (100 samples each): no failure.
    let same: Vec<_> = ids
        .iter()
        .map(|id| gate_data(id, &run(&mut rng, 100, 1000.0), &run(&mut rng, 100, 1000.0)))
        .collect();
    let j = judge(&policy, &same).unwrap();
    assert_eq!(j.verdict, Verdict::Promote, "{j}");
    // One of them 20% slower: a confident regression, and only that one fails.
    let mut slowed = same.clone();
    slowed[3] = gate_data(
        &ids[3],
        &run(&mut rng, 100, 1000.0),
        &run(&mut rng, 100, 1200.0),
    );
    let j = judge(&policy, &slowed).unwrap();
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    let failed: Vec<&str> = j
        .metrics
        .iter()
        .filter(|m| m.classification.is_failure())
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(failed, ["bench/3"], "{j}");
    // 3% slower, inside the +5% tolerance: not a failure.
    let mut small = same;
    small[3] = gate_data(
        &ids[3],
        &run(&mut rng, 100, 1000.0),
        &run(&mut rng, 100, 1030.0),
    );
    let j = judge(&policy, &small).unwrap();
    assert_ne!(j.metrics[3].classification, Classification::High, "{j}");
    assert_ne!(j.verdict, Verdict::Rollback, "{j}");
}

#[test]
fn bad_samples_name_the_field() {
    let field_of = |json: &str| match read_sample(json).unwrap_err() {
        Error::CriterionSample { field, .. } => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field_of(r#"{"iters":[1,2],"times":[1]}"#), "times");
    assert_eq!(field_of(r#"{"iters":[1,0],"times":[1,2]}"#), "iters");
    assert_eq!(field_of(r#"{"iters":[1,2],"times":[1,-2]}"#), "times");
    assert_eq!(field_of(r#"{"times":[1,2]}"#), "iters");
    assert_eq!(field_of(r#"{"iters":[1],"times":[1]}"#), "iters");
    assert_eq!(field_of("not json"), "sample.json");
    assert!(matches!(
        read_benchmark_id("{}"),
        Err(Error::CriterionSample { field, .. }) if field == "full_id"
    ));
}

/// The run-to-run spread is the root mean square of the benchmarks' log ratios of medians, and
/// its margin is `exp(t_k(1 − rate) · s) − 1` with Student's t on k degrees of freedom (R's
/// `qt(0.99, 29)` = 2.462021).
#[test]
fn run_spread_is_the_rms_log_ratio_and_its_margin_a_t_quantile() {
    use canary_verdict::bench::RunSpread;
    use canary_verdict::Arms;
    // 29 benchmarks whose second run is slower or faster by known ratios (R's type 7 median of
    // an odd run is its middle value).
    let ratios: Vec<f64> = (0..29).map(|i| 1.0 + 0.01 * (i as f64 - 14.0)).collect();
    let firsts: Vec<Vec<f64>> = (0..29)
        .map(|i| vec![90.0 + i as f64, 100.0 + i as f64, 130.0 + i as f64])
        .collect();
    let seconds: Vec<Vec<f64>> = firsts
        .iter()
        .zip(&ratios)
        .map(|(f, r)| f.iter().map(|v| v * r).collect())
        .collect();
    let runs: Vec<(&str, Arms<&[f64]>)> = firsts
        .iter()
        .zip(&seconds)
        .map(|(f, s)| {
            (
                "b",
                Arms {
                    baseline: &f[..],
                    canary: &s[..],
                },
            )
        })
        .collect();
    let spread = RunSpread::measure(&runs).unwrap();
    let expected = (ratios.iter().map(|r| r.ln().powi(2)).sum::<f64>() / 29.0).sqrt();
    assert_eq!(spread.benchmarks, 29);
    assert!(
        (spread.rms_log_ratio - expected).abs() < 1e-15,
        "{spread:?}"
    );
    let margin = spread.margin(0.01).unwrap();
    assert!(
        ((1.0 + margin).ln() / expected - 2.462021).abs() < 1e-5,
        "{margin}"
    );
    // A lower rate asks for a wider margin; a rate outside (0, 1) is refused by name.
    assert!(spread.margin(0.001).unwrap() > margin);
    assert!(matches!(
        spread.margin(1.0),
        Err(Error::InvalidParameter {
            field: "false_failure_rate",
            ..
        })
    ));
}

#[test]
fn run_spread_refuses_what_it_cannot_measure() {
    use canary_verdict::bench::RunSpread;
    use canary_verdict::Arms;
    assert!(matches!(
        RunSpread::measure(&[]),
        Err(Error::CriterionSample { ref field, .. }) if field == "runs"
    ));
    let good = [1.0, 2.0, 3.0];
    for bad in [&[][..], &[0.0, 0.0, 0.0][..]] {
        for arms in [
            Arms {
                baseline: bad,
                canary: &good[..],
            },
            Arms {
                baseline: &good[..],
                canary: bad,
            },
        ] {
            match RunSpread::measure(&[("parse/small", arms)]) {
                Err(Error::CriterionSample { problem, .. }) => {
                    assert!(problem.contains("parse/small"), "{problem}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// A saved run and a second run of the same code that drifted by +8%: at +5% the drift alone
/// fails the gate; at the tolerance the A/A pair calibrates, the drift passes and a slowdown
/// well beyond the margin still fails.
#[test]
fn a_gate_calibrated_by_an_aa_pair_passes_drift_and_fails_beyond_it() {
    use canary_verdict::bench::RunSpread;
    use canary_verdict::Arms;
    let base = read_sample(&fixture(
        "target/binom_test/two_sided_p0.5/1e3/base/sample.json",
    ))
    .unwrap();
    let drifted: Vec<f64> = base.iter().map(|t| t * 1.08).collect();
    let spread = RunSpread::measure(&[(
        "binom",
        Arms {
            baseline: &base[..],
            canary: &drifted[..],
        },
    )])
    .unwrap();
    assert!(
        (spread.rms_log_ratio - 1.08f64.ln()).abs() < 1e-12,
        "{spread:?}"
    );
    let margin = spread.margin(0.01).unwrap();
    assert!(margin.is_finite() && margin > 0.08, "{margin}");
    let ids = vec!["binom".to_string()];
    let gate = |tolerance: f64, new: &[f64]| {
        judge(
            &gate_policy(&ids, tolerance),
            &[gate_data(&ids[0], &base, new)],
        )
        .unwrap()
    };
    assert_eq!(gate(0.05, &drifted).verdict, Verdict::Rollback);
    let calibrated = gate(margin.max(0.05), &drifted);
    assert_ne!(calibrated.verdict, Verdict::Rollback, "{calibrated}");
    let slowed: Vec<f64> = base.iter().map(|t| t * (1.0 + 3.0 * margin)).collect();
    let slow = gate(margin.max(0.05), &slowed);
    assert_eq!(slow.verdict, Verdict::Rollback, "{slow}");
}
