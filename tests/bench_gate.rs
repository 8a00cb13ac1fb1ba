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
