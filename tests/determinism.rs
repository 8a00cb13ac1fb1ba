//! Determinism: the same request judged twice gives the same judgment bit for bit, and so do
//! requests that differ only in an order that must not matter (the order of raw samples within
//! an arm, of metrics in the policy, of metric data in the request).

use crate::common::Rng;
use canary_verdict::Arms;
use canary_verdict::{judge, CanaryPolicy, Direction, Judgment, MetricData, MetricPolicy, Series};
use serde_json::Value;

/// A mixed canary: continuous metrics with ties and a regression, counters, groups.
fn request(rng: &mut Rng) -> (CanaryPolicy, Vec<MetricData>) {
    let mut metrics = Vec::new();
    let mut data = Vec::new();
    for i in 0..12 {
        let name = format!("m{i:02}");
        let mut mp = MetricPolicy::new(&name, Direction::Increase);
        mp.groups = vec![if i % 2 == 0 { "latency" } else { "cpu" }.to_string()];
        metrics.push(mp);
        // Arms of different sizes, rounded (ties), one with a shift; a large one is asymptotic.
        let n = if i == 3 { 4_000 } else { 30 + 7 * i };
        let shift = if i == 5 { 1.5 } else { 1.0 };
        let arm = |rng: &mut Rng, f: f64, n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| (f * 50.0 * (0.2 * rng.normal()).exp()).round())
                .collect()
        };
        let b = arm(rng, 1.0, n);
        let c = arm(rng, shift, n + 3);
        data.push(MetricData::new(
            name,
            Arms {
                baseline: Series::samples(b),
                canary: Series::samples(c),
            },
        ));
    }
    for i in 0..4 {
        let name = format!("c{i}");
        let mut mp = MetricPolicy::counter(&name, Direction::Increase);
        mp.groups = vec!["errors".into()];
        metrics.push(mp);
        let tb = 50_000.0 + f64::from(i) * 1_000.0;
        data.push(MetricData::new(
            name,
            Arms {
                baseline: Series::counts([(20.0 + f64::from(i), tb), (7.0, 10_000.0)]),
                canary: Series::counts([(25.0 + f64::from(3 * i), tb), (9.0, 10_000.0)]),
            },
        ));
    }
    (CanaryPolicy::new(metrics), data)
}

/// Fisher-Yates with the test's generator.
fn shuffle<T>(rng: &mut Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

fn json(j: &Judgment) -> Value {
    serde_json::to_value(j).unwrap()
}

/// The judgment with its per-metric parts keyed by name and its reasons sorted, so that two
/// judgments of the same metrics in another order compare equal where they must.
fn order_free(j: &Judgment) -> Value {
    let mut v = json(j);
    let mut by_name = serde_json::Map::new();
    for m in v["metrics"].as_array().unwrap() {
        by_name.insert(m["name"].as_str().unwrap().to_string(), m.clone());
    }
    v["metrics"] = Value::Object(by_name);
    let mut reasons: Vec<String> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    reasons.sort();
    v["reasons"] = reasons.into();
    v
}

#[test]
fn the_same_request_twice_is_the_same_judgment_bit_for_bit() {
    let (policy, data) = request(&mut Rng(7));
    let a = judge(&policy, &data).unwrap();
    let b = judge(&policy, &data).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    // The floats themselves, bit for bit (JSON prints the shortest round-trip form, which
    // already pins the bits; compare them directly as well).
    assert_eq!(a.score.map(f64::to_bits), b.score.map(f64::to_bits));
    for (x, y) in a.metrics.iter().zip(&b.metrics) {
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        assert_eq!(bits(x.p_value), bits(y.p_value), "{}", x.name);
        assert_eq!(bits(x.adjusted_p), bits(y.adjusted_p), "{}", x.name);
        assert_eq!(bits(x.estimate), bits(y.estimate), "{}", x.name);
        assert_eq!(bits(x.effect), bits(y.effect), "{}", x.name);
    }
    // A request read back from its own JSON judges the same.
    let policy_back: CanaryPolicy =
        serde_json::from_str(&serde_json::to_string(&policy).unwrap()).unwrap();
    let data_back: Vec<MetricData> =
        serde_json::from_str(&serde_json::to_string(&data).unwrap()).unwrap();
    let c = judge(&policy_back, &data_back).unwrap();
    assert_eq!(json(&a), json(&c));
}

#[test]
fn permuted_samples_give_the_same_judgment_bit_for_bit() {
    let (policy, data) = request(&mut Rng(11));
    let reference = json(&judge(&policy, &data).unwrap());
    let mut rng = Rng(12);
    for _ in 0..5 {
        let mut permuted = data.clone();
        for d in &mut permuted {
            for s in [&mut d.baseline, &mut d.canary] {
                match s {
                    Series::Samples(v) => shuffle(&mut rng, v),
                    Series::Counts(v) => shuffle(&mut rng, v),
                    _ => unreachable!("the request has samples and counts only"),
                }
            }
        }
        assert_ne!(permuted, data, "the shuffle moved nothing");
        assert_eq!(json(&judge(&policy, &permuted).unwrap()), reference);
    }
}

#[test]
fn permuted_metrics_give_the_same_judgment() {
    let (policy, data) = request(&mut Rng(13));
    let first = judge(&policy, &data).unwrap();
    // The fixture must have something to lose: a failure and a pass.
    assert!(
        first.metrics.iter().any(|m| m.classification.is_failure()),
        "{first}"
    );
    let reference = order_free(&first);
    let mut rng = Rng(14);
    for _ in 0..5 {
        let mut p = policy.clone();
        let mut d = data.clone();
        shuffle(&mut rng, &mut p.metrics);
        shuffle(&mut rng, &mut d);
        let j = judge(&p, &d).unwrap();
        // Metrics are reported in the policy's order; everything else is the same, bit for bit.
        let names: Vec<&str> = j.metrics.iter().map(|m| m.name.as_str()).collect();
        let want: Vec<&str> = p.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, want);
        assert_eq!(order_free(&j), reference);
    }
}
