//! Prometheus query results (fixtures written from the HTTP API's documented format by
//! `fixtures/generate_prometheus.py`): one test per result type, each judged end to end, and the
//! errors that name the series and the field.

use crate::common::fixture_path;
use canary_verdict::prometheus::{parse, ArmLabel, PromSeries};
use canary_verdict::{
    judge, CanaryPolicy, Classification, Direction, Error, MetricData, MetricPolicy, Series,
    Verdict,
};

fn read(name: &str) -> Vec<PromSeries> {
    parse(&std::fs::read_to_string(fixture_path(&format!("prometheus/{name}"))).unwrap()).unwrap()
}

fn track() -> ArmLabel {
    ArmLabel::new("track", "stable", "canary")
}

fn prometheus_error(e: Error) -> (String, String, String) {
    match e {
        Error::Prometheus {
            series,
            field,
            problem,
        } => (series, field, problem),
        other => panic!("not a Prometheus error: {other:?}"),
    }
}

#[test]
fn a_range_of_points_pairs_the_arms_by_timestamp() {
    let series = read("matrix_latency.json");
    assert_eq!(series.len(), 3);
    assert!(series.iter().all(|s| s.samples.len() == 30));
    // The NaN sample is kept; the metric's NaN policy decides.
    let canary = series
        .iter()
        .find(|s| s.labels["track"] == "canary")
        .unwrap();
    assert!(canary.samples[17].1.is_nan());
    assert_eq!(
        canary.samples[1].0.timestamp() - canary.samples[0].0.timestamp(),
        60
    );
    let arms = track().points(&series).unwrap();
    let (Series::Points(b), Series::Points(c)) = (&arms.baseline, &arms.canary) else {
        panic!("points expected: {arms:?}");
    };
    assert_eq!((b.len(), c.len()), (30, 30));
    assert!(b.iter().zip(c).all(|(x, y)| x.timestamp == y.timestamp));
    let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_ms", Direction::Increase)]);
    let j = judge(&policy, &[MetricData::new("latency_ms", arms)]).unwrap();
    let m = &j.metrics[0];
    // 29 minutes paired (the NaN minute dropped by the default NaN policy), +12% found.
    assert_eq!(m.n_canary, 29, "{j}");
    assert_eq!(m.classification, Classification::High, "{j}");
    assert!((m.effect.unwrap() - 1.12).abs() < 0.03, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback);
}

#[test]
fn an_instant_vector_of_bucket_counts_is_a_histogram_per_arm() {
    let series = read("vector_buckets.json");
    assert_eq!(series.len(), 24);
    let arms = track().classic_histograms(&series, 0.0).unwrap();
    let (Series::Histogram(b), Series::Histogram(c)) = (&arms.baseline, &arms.canary) else {
        panic!("histograms expected");
    };
    // 20 000 requests scaled by increase()'s extrapolation (x1.0125), rounded.
    assert_eq!(b.total(), 20_250);
    assert_eq!(c.total(), 20_250);
    assert_eq!(b.upper_bounds.len(), 12);
    assert_eq!(*b.upper_bounds.last().unwrap(), f64::INFINITY);
    let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_s", Direction::Increase)]);
    let j = judge(&policy, &[MetricData::new("latency_s", arms)]).unwrap();
    assert_eq!(j.metrics[0].classification, Classification::High, "{j}");
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
}

#[test]
fn a_range_of_bucket_counters_counts_the_window_across_a_reset() {
    let series = read("matrix_bucket_counters.json");
    let arms = track().classic_histograms(&series, 0.0).unwrap();
    let (Series::Histogram(b), Series::Histogram(c)) = (&arms.baseline, &arms.canary) else {
        panic!("histograms expected");
    };
    // 30 minutes of 600 requests each in both arms: the canary's counters reset at minute 12
    // (to zero, then one minute's 600), and the increase still counts every request.
    assert_eq!(b.total(), 18_000);
    assert_eq!(c.total(), 18_000);
    let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_s", Direction::Increase)]);
    let j = judge(&policy, &[MetricData::new("latency_s", arms)]).unwrap();
    assert_ne!(
        j.verdict,
        Verdict::Rollback,
        "the same distribution in both arms: {j}"
    );
}

#[test]
fn native_histograms_are_laid_on_the_union_of_their_buckets() {
    let series = read("vector_native.json");
    assert_eq!(series.len(), 2);
    assert!(series
        .iter()
        .all(|s| s.histograms.len() == 1 && s.samples.is_empty()));
    let arms = track().native_histograms(&series).unwrap();
    let (Series::Histogram(b), Series::Histogram(c)) = (&arms.baseline, &arms.canary) else {
        panic!("histograms expected");
    };
    assert_eq!(b.upper_bounds, c.upper_bounds);
    assert_eq!(b.lowest, c.lowest);
    // Powers of two: every bound is one.
    assert!(
        b.upper_bounds.iter().all(|x| x.log2().fract() == 0.0),
        "{b:?}"
    );
    assert!((b.total() as f64 - 20_000.0).abs() < 20.0, "{}", b.total());
    let policy = CanaryPolicy::new(vec![MetricPolicy::new("latency_s", Direction::Increase)]);
    let j = judge(&policy, &[MetricData::new("latency_s", arms)]).unwrap();
    assert_eq!(
        j.verdict,
        Verdict::Rollback,
        "the canary twice as slow: {j}"
    );
}

#[test]
fn errors_name_the_series_and_the_field() {
    let text = std::fs::read_to_string(fixture_path("prometheus/error.json")).unwrap();
    let (_, field, problem) = prometheus_error(parse(&text).unwrap_err());
    assert_eq!(field, "status");
    assert!(problem.contains("parse error"), "{problem}");
    let bad_value = r#"{"resultType":"matrix","result":[{"metric":{"track":"canary"},"values":[[1,"1"],[2,"fast"]]}]}"#;
    let (series, field, problem) = prometheus_error(parse(bad_value).unwrap_err());
    assert_eq!(
        (series.as_str(), field.as_str()),
        ("{track=\"canary\"}", "values[1]")
    );
    assert!(problem.contains("\"fast\""), "{problem}");
    let kind = r#"{"resultType":"streams","result":[]}"#;
    assert_eq!(
        prometheus_error(parse(kind).unwrap_err()).1,
        "data.resultType"
    );
    // Special values as the API writes them.
    let special = r#"{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]},{"metric":{},"value":[1,"-Inf"]}]}"#;
    let s = parse(special).unwrap();
    assert_eq!(
        (s[0].samples[0].1, s[1].samples[0].1),
        (f64::INFINITY, f64::NEG_INFINITY)
    );
    // Two series for one arm: aggregate first.
    let two = r#"{"resultType":"matrix","result":[
        {"metric":{"track":"canary","pod":"a"},"values":[[1,"1"]]},
        {"metric":{"track":"canary","pod":"b"},"values":[[1,"2"]]},
        {"metric":{"track":"stable"},"values":[[1,"1"]]}]}"#;
    let (series, _, problem) = prometheus_error(track().points(&parse(two).unwrap()).unwrap_err());
    assert_eq!(series, "{track=\"canary\"}");
    assert!(problem.contains("2 series"), "{problem}");
    // A missing arm, a bucket set without +Inf, and a NaN count.
    let (series, _, _) = prometheus_error(
        ArmLabel::new("track", "stable", "blue")
            .points(&read("matrix_latency.json"))
            .unwrap_err(),
    );
    assert_eq!(series, "{track=\"blue\"}");
    let no_inf = r#"{"resultType":"vector","result":[
        {"metric":{"track":"canary","le":"1"},"value":[1,"3"]},
        {"metric":{"track":"stable","le":"1"},"value":[1,"3"]}]}"#;
    let (_, field, problem) = prometheus_error(
        track()
            .classic_histograms(&parse(no_inf).unwrap(), 0.0)
            .unwrap_err(),
    );
    assert_eq!(
        (field.as_str(), problem.as_str()),
        ("le", "the last bucket is not +Inf")
    );
    let nan = r#"{"resultType":"vector","result":[
        {"metric":{"track":"canary","le":"+Inf"},"value":[1,"NaN"]},
        {"metric":{"track":"stable","le":"+Inf"},"value":[1,"3"]}]}"#;
    let (_, field, _) = prometheus_error(
        track()
            .classic_histograms(&parse(nan).unwrap(), 0.0)
            .unwrap_err(),
    );
    assert_eq!(field, "count");
    // Buckets of the two arms that overlap without sharing boundaries.
    let skew = r#"{"resultType":"vector","result":[
        {"metric":{"track":"stable"},"histogram":[1,{"count":"2","sum":"1","buckets":[[0,"0","1","2"]]}]},
        {"metric":{"track":"canary"},"histogram":[1,{"count":"2","sum":"1","buckets":[[0,"0.5","1.5","2"]]}]}]}"#;
    let (_, field, problem) = prometheus_error(
        track()
            .native_histograms(&parse(skew).unwrap())
            .unwrap_err(),
    );
    assert_eq!(field, "buckets[0]");
    assert!(problem.contains("overlaps"), "{problem}");
}
