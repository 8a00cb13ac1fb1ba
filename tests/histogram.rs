//! Histograms as a series kind of the judge: the grouped rank-sum test against R and against the
//! test on expanded data, the judge end to end, tails, progressive merging, Kayenta mode, bad
//! input, serde, and seeded simulations with Prometheus' default buckets.

use crate::common::{alternative_of, close, load_cases, num, nums, Rng};
use canary_verdict::Arms;
use canary_verdict::{
    judge,
    judgment::TestDetails,
    kayenta::{judge_kayenta, KayentaLabel},
    policy::{Bounds, Comparator, EffectMeasure, Statistic, TailAspect},
    progressive::{KayentaRule, SequentialRule, Window},
    stats::{
        histogram_mann_whitney, histogram_summary, mann_whitney, Alternative, MannWhitneyConfig,
        Method, MethodUsed,
    },
    CanaryPolicy, Classification, Direction, Error, Histogram, MetricData, MetricPolicy,
    ProgressiveAnalysis, ProgressivePolicy, ProgressiveRule, Series, Verdict,
};
use proptest::prelude::*;

/// Prometheus' default buckets (seconds), with `+Inf`.
const PROMETHEUS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// Prometheus' `le` bucketing: each value in the first bucket whose bound it does not exceed.
fn bucketed(values: impl IntoIterator<Item = f64>, bounds: &[f64]) -> Histogram {
    let mut counts = vec![0u64; bounds.len()];
    for v in values {
        let k = bounds.partition_point(|&b| b < v).min(bounds.len() - 1);
        counts[k] += 1;
    }
    Histogram::from_buckets(0.0, bounds.to_vec(), counts).unwrap()
}

/// `n` log-normal latencies with the given median (seconds) and log-sd, bucketed.
fn latencies(rng: &mut Rng, n: usize, median: f64, sigma: f64) -> Histogram {
    let values: Vec<f64> = (0..n)
        .map(|_| median * (sigma * rng.normal()).exp())
        .collect();
    bucketed(values, &PROMETHEUS)
}

/// The points of a histogram at the given per-bucket values.
fn expand(h: &Histogram, values: &[f64]) -> Vec<f64> {
    h.counts
        .iter()
        .zip(values)
        .flat_map(|(&c, &v)| std::iter::repeat_n(v, c as usize))
        .collect()
}

fn hist(bounds: &[f64], counts: &[u64]) -> Histogram {
    Histogram::from_buckets(0.0, bounds.to_vec(), counts.to_vec()).unwrap()
}

fn latency_policy() -> MetricPolicy {
    MetricPolicy::new("latency_seconds", Direction::Increase)
}

fn one_metric(mp: MetricPolicy, baseline: Series, canary: Series) -> canary_verdict::Judgment {
    let name = mp.name.clone();
    judge(
        &CanaryPolicy::new(vec![mp]),
        &[MetricData::new(name, Arms { baseline, canary })],
    )
    .unwrap()
}

fn counts_of(v: &serde_json::Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect()
}

#[test]
fn grouped_rank_sum_matches_r_wilcox_test() {
    // fixtures/generate_histogram.R: wilcox.test(rep(values, counts_canary),
    // rep(values, counts_baseline), exact = FALSE, correct = TRUE, alternative = ...).
    let cases = load_cases("histogram");
    assert!(cases.len() >= 20);
    let mut worst = 0.0f64;
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let bounds = nums(&case["upper_bounds"]);
        let values = nums(&case["values"]);
        let baseline = hist(&bounds, &counts_of(&case["counts_baseline"]));
        let canary = hist(&bounds, &counts_of(&case["counts_canary"]));
        let cfg = MannWhitneyConfig {
            alternative: alternative_of(&case["alternative"]),
            method: Method::Asymptotic,
            ..Default::default()
        };
        let t = histogram_mann_whitney(
            Arms {
                baseline: &baseline,
                canary: &canary,
            },
            &cfg,
        )
        .unwrap();
        let (w, p) = (num(&case["statistic"]), num(&case["p_value"]));
        assert_eq!(t.statistic, w, "{name}: U");
        worst = worst.max((t.p_value - p).abs() / p.max(1e-300));
        assert!(
            close(t.p_value, p, 1e-9, 0.0),
            "{name}: p {} vs R {p}",
            t.p_value
        );
        assert_eq!(t.method, MethodUsed::Asymptotic);
        // The same bits as the test on the expanded data.
        let raw = mann_whitney(
            Arms {
                baseline: &expand(&baseline, &values),
                canary: &expand(&canary, &values),
            },
            &cfg,
        )
        .unwrap();
        assert_eq!(t, raw, "{name}");
    }
    println!(
        "histogram rank-sum vs R: {} cases, largest relative p-value difference {worst:.2e}",
        cases.len()
    );
}

fn counts_strategy() -> impl Strategy<Value = (Vec<u64>, Vec<u64>)> {
    (1usize..12).prop_flat_map(|k| {
        (
            prop::collection::vec(prop_oneof![Just(0u64), 0u64..40, 0u64..400], k),
            prop::collection::vec(prop_oneof![Just(0u64), 0u64..40, 0u64..400], k),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The grouped test equals `mann_whitney` on the data expanded at the upper bounds, bit for
    /// bit: asymptotic, and under `Auto` (exact conditional below 50 points per arm).
    #[test]
    fn grouped_test_equals_the_test_on_expanded_data(
        (mut b, mut c) in counts_strategy(),
        alt in prop_oneof![Just(Alternative::TwoSided), Just(Alternative::Greater), Just(Alternative::Less)],
        correct in any::<bool>(),
        auto in any::<bool>(),
    ) {
        let k = b.len();
        b[0] += 1;
        c[k - 1] += 1;
        let bounds: Vec<f64> = (1..=k).map(|i| i as f64 * 0.5).collect();
        let (hb, hc) = (hist(&bounds, &b), hist(&bounds, &c));
        let cfg = MannWhitneyConfig {
            alternative: alt,
            correct,
            method: if auto { Method::Auto } else { Method::Asymptotic },
            ..Default::default()
        };
        let grouped = histogram_mann_whitney(Arms { baseline: &hb, canary: &hc }, &cfg);
        let raw = mann_whitney(Arms { baseline: &expand(&hb, &bounds), canary: &expand(&hc, &bounds) }, &cfg);
        match (grouped, raw) {
            (Ok(g), Ok(r)) => {
                prop_assert_eq!(g.statistic.to_bits(), r.statistic.to_bits());
                prop_assert_eq!(g.p_value.to_bits(), r.p_value.to_bits());
                prop_assert_eq!(g.z.map(f64::to_bits), r.z.map(f64::to_bits));
                prop_assert_eq!(g, r);
            }
            // The exact conditional distribution's own cap: both refuse alike.
            (Err(g), Err(r)) => prop_assert_eq!(g, r),
            (g, r) => prop_assert!(false, "{:?} vs {:?}", g, r),
        }
    }
}

#[test]
fn grouped_test_does_not_expand_counts() {
    // 10^12 points: the asymptotic test is O(buckets).
    let b = hist(
        &PROMETHEUS,
        &[
            0,
            0,
            0,
            0,
            400_000_000_000,
            600_000_000_000,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
    );
    let c = hist(
        &PROMETHEUS,
        &[
            0,
            0,
            0,
            0,
            390_000_000_000,
            610_000_000_000,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
    );
    let t = histogram_mann_whitney(
        Arms {
            baseline: &b,
            canary: &c,
        },
        &MannWhitneyConfig::default(),
    )
    .unwrap();
    assert!(t.p_value < 1e-100 && t.statistic > 0.5e24, "{t}");
    // Forcing the exact distribution is refused before any allocation.
    let exact = MannWhitneyConfig {
        method: Method::Exact,
        ..Default::default()
    };
    assert!(matches!(
        histogram_mann_whitney(
            Arms {
                baseline: &b,
                canary: &c
            },
            &exact
        ),
        Err(Error::ExactTooLarge { .. })
    ));
    let shifted = MannWhitneyConfig {
        mu: 0.1,
        ..Default::default()
    };
    assert!(matches!(
        histogram_mann_whitney(
            Arms {
                baseline: &b,
                canary: &c
            },
            &shifted
        ),
        Err(Error::InvalidParameter { field: "mu", .. })
    ));
}

#[test]
fn summary_is_the_bucket_approximation() {
    let h = hist(&[1.0, 2.0, 4.0, f64::INFINITY], &[0, 3, 1, 1]);
    let s = histogram_summary(&h, &[0.5, 0.9]).unwrap();
    // Midpoints 1.5 (×3), 3, and the +inf bucket at its lower edge 4.
    let mean = (3.0 * 1.5 + 3.0 + 4.0) / 5.0;
    let ss: f64 = 3.0 * (1.5f64 - mean).powi(2) + (3.0f64 - mean).powi(2) + (4.0f64 - mean).powi(2);
    assert!((s.mean - mean).abs() < 1e-15, "{s}");
    assert!((s.sd - (ss / 4.0).sqrt()).abs() < 1e-15, "{s}");
    assert_eq!((s.count, s.min, s.max), (5, 1.0, 4.0));
    // Prometheus interpolation: rank 2.5 of 3 in (1, 2]. Rank 4.5 lies in the +inf bucket:
    // Prometheus answers the last finite bound 4, the summary "beyond the last bucket" (+inf).
    assert_eq!(s.quantile(0.5), Some(1.0 + 2.5 / 3.0));
    assert_eq!(h.quantile(0.9), 4.0);
    assert!(h.beyond_last_bucket(0.9) && !h.beyond_last_bucket(0.8));
    assert_eq!(s.quantile(0.9), Some(f64::INFINITY));
    assert!(matches!(
        histogram_summary(&h, &[1.5]),
        Err(Error::InvalidParameter { field: "p", .. })
    ));
}

#[test]
fn judge_takes_histograms() {
    let mut rng = Rng(41);
    let b = latencies(&mut rng, 5000, 0.12, 0.5);
    let c = latencies(&mut rng, 5000, 0.12 * 1.3, 0.5);
    let j = one_metric(
        latency_policy(),
        Series::histogram(b.clone()),
        Series::histogram(c.clone()),
    );
    let m = &j.metrics[0];
    assert_eq!(j.verdict, Verdict::Rollback, "{j}");
    assert_eq!(m.classification, Classification::High);
    assert_eq!((m.n_baseline, m.n_canary), (5000, 5000));
    let Some(TestDetails::Histogram { test, median }) = &m.details else {
        panic!("{:?}", m.details)
    };
    assert_eq!(test.alternative, Alternative::Greater);
    assert_eq!(test.p_value, m.p_value.unwrap());
    // The effect is the ratio of the interpolated medians, inside its interval.
    let ratio = c.quantile(0.5) / b.quantile(0.5);
    assert_eq!(m.effect, Some(ratio));
    assert_eq!(median.ratio, Some(ratio));
    let ei = m.effect_interval.unwrap();
    // Both medians lie in the bucket (0.1, 0.25]: the interval cannot be narrower than it.
    assert!(ei.lower <= ratio && ratio <= ei.upper, "{ei:?}");
    assert_eq!((ei.lower, ei.upper), (0.1 / 0.25, 0.25 / 0.1));
    assert!(ratio > 1.15 && ratio < 1.45, "{ratio}");
    // Summaries are the histogram's.
    let bs = m.baseline.as_ref().unwrap();
    assert_eq!(bs.count, 5000);
    assert_eq!(bs.quantile(0.99), Some(b.quantile(0.99)));
    assert_eq!(bs.mean, histogram_summary(&b, &[]).unwrap().mean);
    // Identical histograms pass with p = 1 / effect 1.
    let j = one_metric(
        latency_policy(),
        Series::histogram(b.clone()),
        Series::histogram(b.clone()),
    );
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
    assert_eq!(j.metrics[0].effect, Some(1.0));
    // A decrease metric tests the other side.
    let mp = MetricPolicy::new("latency_seconds", Direction::Decrease);
    let j = one_metric(mp, Series::histogram(c), Series::histogram(b));
    assert_eq!(j.metrics[0].classification, Classification::Low, "{j}");
}

#[test]
fn effect_measures_on_histograms() {
    let bounds = [1.0, 2.0, 3.0, 4.0, f64::INFINITY];
    let b = hist(&bounds, &[100, 300, 400, 150, 50]);
    let c = hist(&bounds, &[50, 250, 400, 200, 100]);
    let judged = |measure| {
        let mut mp = latency_policy();
        mp.tolerance = canary_verdict::Tolerance::for_measure(measure);
        one_metric(
            mp,
            Series::histogram(b.clone()),
            Series::histogram(c.clone()),
        )
        .metrics[0]
            .clone()
    };
    let m = judged(EffectMeasure::Absolute);
    assert_eq!(m.effect, Some(c.quantile(0.5) - b.quantile(0.5)));
    let ei = m.effect_interval.unwrap();
    assert!(ei.lower <= m.effect.unwrap() && m.effect.unwrap() <= ei.upper);
    let m = judged(EffectMeasure::MeanRatio);
    let mean = |h: &Histogram| histogram_summary(h, &[]).unwrap().mean;
    assert_eq!(m.effect, Some(mean(&c) / mean(&b)));
    assert!(m.effect_interval.is_none());
    let m = judged(EffectMeasure::Cles);
    // P(C > B) + ½ P(C = B) from the grouped counts, by brute force over bucket pairs.
    let mut wins = 0.0;
    for (i, &ci) in c.counts.iter().enumerate() {
        for (k, &bk) in b.counts.iter().enumerate() {
            let w = if i > k {
                1.0
            } else if i == k {
                0.5
            } else {
                0.0
            };
            wins += w * ci as f64 * bk as f64;
        }
    }
    let cles = wins / (c.total() as f64 * b.total() as f64);
    assert!(
        (m.effect.unwrap() - cles).abs() < 1e-15,
        "{:?} vs {cles}",
        m.effect
    );
}

#[test]
fn bounds_read_the_histograms_quantiles() {
    let bounds = [0.1, 0.25, 0.5, 1.0, f64::INFINITY];
    let b = hist(&bounds, &[500, 300, 150, 40, 10]);
    let mut mp = latency_policy();
    mp.comparator = Comparator::ThresholdsOnly;
    let with_max = |p: f64, max: f64| {
        let mut mp = mp.clone();
        mp.bounds = Some(Bounds {
            statistic: Statistic::Quantile(p),
            min: None,
            max: Some(max),
        });
        one_metric(
            mp,
            Series::histogram(b.clone()),
            Series::histogram(b.clone()),
        )
    };
    let p99 = b.quantile(0.99); // 0.5 + 0.5 · (990 - 950) / 40 = 1.0
    let j = with_max(0.99, p99 * 0.99);
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::High, "{j}");
    assert!(m.reason.contains(&format!("p99 {p99}")), "{}", m.reason);
    let j = with_max(0.99, p99 * 1.01);
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
    // A quantile outside the usual summary's (p50, p90, p99) is read from the buckets too.
    let p97 = b.quantile(0.97); // 0.5 + 0.5 · (970 - 950) / 40 = 0.75
    let j = with_max(0.97, p97 * 0.99);
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::High, "{j}");
    assert!(m.reason.contains(&format!("p97 {p97}")), "{}", m.reason);
    // The mean bound reads the bucket-midpoint mean.
    let mean = histogram_summary(&b, &[]).unwrap().mean;
    mp.bounds = Some(Bounds {
        statistic: Statistic::Mean,
        min: Some(mean * 1.001),
        max: None,
    });
    let j = one_metric(mp, Series::histogram(b.clone()), Series::histogram(b));
    assert_eq!(j.metrics[0].classification, Classification::Low, "{j}");
}

#[test]
fn tails_on_histograms() {
    // The slowest 3% of the canary's requests 8 times slower: the median and the ranks barely
    // move (the location test passes), the p99 leaves its bucket (0.25, 0.5] for (1, 2.5].
    let mut rng = Rng(43);
    let b = latencies(&mut rng, 20_000, 0.1, 0.4);
    let mut values: Vec<f64> = (0..20_000)
        .map(|_| 0.1 * (0.4 * rng.normal()).exp())
        .collect();
    values.sort_by(f64::total_cmp);
    for v in values.iter_mut().skip(19_400) {
        *v *= 8.0;
    }
    let c = bucketed(values, &PROMETHEUS);
    let mut mp = latency_policy();
    mp.tails = vec![
        TailAspect::Quantile {
            p: 0.99,
            tolerance: 0.1,
        },
        TailAspect::KolmogorovSmirnov,
    ];
    let j = one_metric(
        mp.clone(),
        Series::histogram(b.clone()),
        Series::histogram(c),
    );
    let m = &j.metrics[0];
    assert_eq!(m.tails.len(), 2);
    assert!(m.tails[0].regressed, "{}", m.tails[0]);
    assert!(m.tails[0].summary.starts_with("p99 "), "{}", m.tails[0]);
    assert!(
        m.tails[1].summary.starts_with("Kolmogorov-Smirnov"),
        "{}",
        m.tails[1]
    );
    assert_eq!(m.classification, Classification::High, "{j}");
    assert!(m.reason.starts_with("tail regressed: p99"), "{}", m.reason);
    // Identical arms: nothing regresses.
    let j = one_metric(mp, Series::histogram(b.clone()), Series::histogram(b));
    assert!(j.metrics[0]
        .tails
        .iter()
        .all(|t| !t.regressed && t.p_value.is_some()));
}

#[test]
fn exceedance_and_anderson_darling_are_errors_on_histograms() {
    let b = hist(&[1.0, 2.0, f64::INFINITY], &[10, 20, 5]);
    for (aspect, name) in [
        (TailAspect::Exceedance { q: 0.95 }, "exceedance of p95"),
        (TailAspect::AndersonDarling, "Anderson-Darling"),
    ] {
        let mut mp = latency_policy();
        mp.tails = vec![TailAspect::KolmogorovSmirnov, aspect];
        let j = one_metric(
            mp,
            Series::histogram(b.clone()),
            Series::histogram(b.clone()),
        );
        let m = &j.metrics[0];
        assert_eq!(m.classification, Classification::Error, "{j}");
        assert_eq!(
            m.reason,
            format!(
                "metric latency_seconds: the tail aspect `{name}` is not defined on histograms"
            )
        );
    }
    let mut mp = latency_policy();
    mp.comparator = Comparator::SignedRank;
    let j = one_metric(mp, Series::histogram(b.clone()), Series::histogram(b));
    assert_eq!(j.metrics[0].classification, Classification::Error);
    assert!(j.metrics[0].reason.contains("signed-rank"), "{j}");
}

fn assert_error(j: &canary_verdict::Judgment, parts: &[&str]) {
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::Error, "{j}");
    for p in parts {
        assert!(m.reason.contains(p), "{:?} lacks {p:?}", m.reason);
    }
}

#[test]
fn bad_input_histogram_mismatched_bounds() {
    let b = hist(&[1.0, 2.0, f64::INFINITY], &[10, 20, 5]);
    let c = hist(&[1.0, 2.5, f64::INFINITY], &[10, 20, 5]);
    let j = one_metric(
        latency_policy(),
        Series::histogram(b.clone()),
        Series::histogram(c.clone()),
    );
    assert_error(
        &j,
        &["metric latency_seconds: canary upper_bounds: bound 1 = 2.5 differs"],
    );
    let c4 = hist(&[1.0, 2.0, 3.0, f64::INFINITY], &[10, 20, 5, 1]);
    let j = one_metric(
        latency_policy(),
        Series::histogram(b.clone()),
        Series::histogram(c4),
    );
    assert_error(
        &j,
        &["canary upper_bounds: 4 buckets against the other's 3"],
    );
    let mut low = c.clone();
    low.upper_bounds = b.upper_bounds.clone();
    low.lowest = -1.0;
    let j = one_metric(
        latency_policy(),
        Series::histogram(b.clone()),
        Series::histogram(low),
    );
    assert_error(&j, &["canary lowest: -1 differs"]);
    assert!(matches!(
        histogram_mann_whitney(
            Arms {
                baseline: &b,
                canary: &c
            },
            &MannWhitneyConfig::default()
        ),
        Err(Error::InvalidCounts {
            field: "upper_bounds",
            ..
        })
    ));
}

#[test]
fn bad_input_histogram_mixed_kinds() {
    let h = hist(&[1.0, 2.0, f64::INFINITY], &[10, 20, 5]);
    let j = one_metric(
        latency_policy(),
        Series::samples(vec![1.0; 10]),
        Series::histogram(h.clone()),
    );
    assert_error(
        &j,
        &["metric latency_seconds: baseline series: not a histogram"],
    );
    let j = one_metric(
        latency_policy(),
        Series::histogram(h.clone()),
        Series::total(1.0, 10.0),
    );
    assert_error(&j, &["canary series: not a histogram"]);
    let counter = MetricPolicy::counter("latency_seconds", Direction::Increase);
    let j = one_metric(counter, Series::histogram(h.clone()), Series::histogram(h));
    assert_error(
        &j,
        &["baseline series: a histogram given for a counter metric"],
    );
}

#[test]
fn bad_input_histogram_zero_total() {
    let bounds = [1.0, 2.0, f64::INFINITY];
    let b = hist(&bounds, &[10, 20, 5]);
    let empty = Histogram {
        lowest: 0.0,
        upper_bounds: bounds.to_vec(),
        counts: vec![0, 0, 0],
    };
    let j = one_metric(
        latency_policy(),
        Series::histogram(b.clone()),
        Series::histogram(empty.clone()),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::NoData, "{j}");
    assert_eq!(m.reason, "the canary has no points after cleaning");
    let mut mp = latency_policy();
    mp.must_have_data = true;
    let j = one_metric(mp, Series::histogram(empty.clone()), Series::histogram(b));
    assert_eq!(
        j.metrics[0].classification,
        Classification::NoDataFail,
        "{j}"
    );
    // The constructor and the functions refuse an empty histogram.
    assert!(matches!(
        Histogram::from_buckets(0.0, bounds.to_vec(), vec![0, 0, 0]),
        Err(Error::InvalidCounts {
            field: "counts",
            ..
        })
    ));
    assert!(matches!(
        empty.validate(),
        Err(Error::InvalidCounts {
            field: "counts",
            ..
        })
    ));
    assert!(histogram_summary(&empty, &[0.5]).is_err());
}

#[test]
fn bad_input_histogram_invalid_deserialized() {
    // serde does not run from_buckets' checks; the judge does, naming metric, arm and field.
    let good =
        r#"{"histogram": {"lowest": 0, "upper_bounds": [1, 2, "inf"], "counts": [3, 4, 5]}}"#;
    let cases = [
        (
            r#"{"lowest": 0, "upper_bounds": [1, 2, "inf"], "counts": [3, 4]}"#,
            "canary counts: 2 counts for 3 buckets",
        ),
        (
            r#"{"lowest": 0, "upper_bounds": [], "counts": []}"#,
            "canary upper_bounds: no bucket",
        ),
        (
            r#"{"lowest": 0, "upper_bounds": [2, 1, "inf"], "counts": [3, 4, 5]}"#,
            "canary upper_bounds: bound 1 = 1",
        ),
        (
            r#"{"lowest": 0, "upper_bounds": [1, "inf", 3], "counts": [3, 4, 5]}"#,
            "canary upper_bounds: bound 1 = inf",
        ),
        (
            r#"{"lowest": 0, "upper_bounds": [1, "NaN", "inf"], "counts": [3, 4, 5]}"#,
            "canary upper_bounds: bound 1 = NaN",
        ),
        (
            r#"{"lowest": 1, "upper_bounds": [1, 2, "inf"], "counts": [3, 4, 5]}"#,
            "canary upper_bounds: bound 0 = 1",
        ),
        (
            r#"{"lowest": 0, "upper_bounds": [1, 2, "inf"], "counts": [18446744073709551615, 4, 5]}"#,
            "canary counts: the total must be between",
        ),
    ];
    let baseline: Series = serde_json::from_str(good).unwrap();
    // Unknown fields are refused as everywhere else (Prometheus' `sum` and `count` too).
    let extra =
        r#"{"histogram": {"lowest": 0, "upper_bounds": [1, "inf"], "counts": [3, 4], "sum": 9}}"#;
    let err = serde_json::from_str::<Series>(extra)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `sum`"), "{err}");
    for (bad, want) in cases {
        let canary: Series = serde_json::from_str(&format!(r#"{{"histogram": {bad}}}"#)).unwrap();
        let j = one_metric(latency_policy(), baseline.clone(), canary);
        assert_error(&j, &["metric latency_seconds: ", want]);
    }
}

#[test]
fn histogram_serde_round_trip() {
    let h = hist(&PROMETHEUS, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let s = Series::histogram(h.clone());
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        json.starts_with(r#"{"histogram":{"lowest":0.0,"upper_bounds":[0.005,"#),
        "{json}"
    );
    assert!(
        json.ends_with(r#"10.0,"inf"],"counts":[1,2,3,4,5,6,7,8,9,10,11,12]}}"#),
        "{json}"
    );
    let back: Series = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.len(), 78);
    // A judgment with histogram details round-trips too.
    let mut rng = Rng(44);
    let b = latencies(&mut rng, 400, 0.1, 0.5);
    let c = latencies(&mut rng, 400, 0.11, 0.5);
    let j = one_metric(latency_policy(), Series::histogram(b), Series::histogram(c));
    let text = serde_json::to_string(&j).unwrap();
    assert!(text.contains(r#""histogram":{"test":"#), "{text}");
    let back: canary_verdict::Judgment = serde_json::from_str(&text).unwrap();
    assert_eq!(back, j);
}

#[test]
fn progressive_windows_add_histogram_counts() {
    let bounds = [1.0, 2.0, f64::INFINITY];
    let interval = |b: &[u64], c: &[u64]| {
        vec![MetricData::new(
            "latency_seconds",
            Arms {
                baseline: Series::histogram(hist(&bounds, b)),
                canary: Series::histogram(hist(&bounds, c)),
            },
        )]
    };
    let policy = ProgressivePolicy::new(
        CanaryPolicy::new(vec![latency_policy()]),
        ProgressiveRule::Kayenta(KayentaRule {
            window: Window::Growing,
            ..KayentaRule::default()
        }),
    )
    .lifetime(3);
    let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
    a.update(&interval(&[10, 20, 5], &[11, 19, 5])).unwrap();
    a.update(&interval(&[30, 20, 5], &[29, 21, 5])).unwrap();
    let j = a.last_judgment().unwrap();
    assert_eq!(
        (j.metrics[0].n_baseline, j.metrics[0].n_canary),
        (90, 90),
        "{j}"
    );
    let Some(TestDetails::Histogram { median, .. }) = &j.metrics[0].details else {
        panic!("{j}")
    };
    // The merged baseline is (40, 40, 10): its median is the upper bound of the first bucket.
    assert_eq!(median.baseline.estimate, 1.0 + (45.0 - 40.0) / 40.0);
    // Bounds that change between intervals: a typed error naming the field.
    let other = vec![MetricData::new(
        "latency_seconds",
        Arms {
            baseline: Series::histogram(hist(&[1.0, 3.0, f64::INFINITY], &[1, 1, 1])),
            canary: Series::histogram(hist(&bounds, &[1, 1, 1])),
        },
    )];
    let err = a.update(&other).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidData {
                arm: canary_verdict::Arm::Baseline,
                field: "upper_bounds",
                ..
            }
        ),
        "{err}"
    );
    // The refused interval left the window as it was; the third ends the lifetime and similar
    // arms are promoted: histograms carry data.
    let d = a.update(&interval(&[10, 20, 5], &[10, 20, 5])).unwrap();
    assert_eq!(d, canary_verdict::Decision::Promote, "{a}");
    // A canary histogram without observations (only a deserialised one can be empty) is
    // silence: never promoted.
    let mut empty = serde_json::to_value(interval(&[10, 20, 5], &[1, 1, 1])).unwrap();
    empty[0]["canary"]["histogram"]["counts"] = serde_json::json!([0, 0, 0]);
    let empty: Vec<MetricData> = serde_json::from_value(empty).unwrap();
    // (Flagger's rule would promote 3 failed checks under a threshold of 100.)
    let flagger = ProgressivePolicy {
        rule: ProgressiveRule::Flagger(canary_verdict::progressive::FlaggerRule {
            threshold: 100,
            ..Default::default()
        }),
        ..policy
    };
    let mut a = ProgressiveAnalysis::new(flagger).unwrap();
    let mut d = canary_verdict::Decision::Continue;
    for _ in 0..3 {
        d = a.update(&empty).unwrap();
    }
    assert_eq!(d, canary_verdict::Decision::Inconclusive, "{a}");
}

#[test]
fn sequential_rule_judges_per_interval_histograms() {
    // A 50% slower canary is rolled back by the sequential rule on per-interval histograms (the
    // judge's grouped rank test on the cumulative window); identical arms are not.
    let policy = ProgressivePolicy::new(
        CanaryPolicy::new(vec![latency_policy()]),
        ProgressiveRule::Sequential(SequentialRule::default()),
    )
    .lifetime(30);
    let mut rng = Rng(45);
    let mut decide = |factor: f64| {
        let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
        for _ in 0..30 {
            let data = vec![MetricData::new(
                "latency_seconds",
                Arms {
                    baseline: Series::histogram(latencies(&mut rng, 2000, 0.1, 0.5)),
                    canary: Series::histogram(latencies(&mut rng, 2000, 0.1 * factor, 0.5)),
                },
            )];
            let d = a.update(&data).unwrap();
            if d.is_final() {
                return d;
            }
        }
        a.decision()
    };
    assert_eq!(decide(1.5), canary_verdict::Decision::Rollback);
    assert_ne!(decide(1.0), canary_verdict::Decision::Rollback);
}

#[test]
fn kayenta_mode_labels_histograms_error() {
    let h = hist(&[1.0, 2.0, f64::INFINITY], &[10, 20, 5]);
    let mp = MetricPolicy::kayenta("latency_seconds", Direction::Increase);
    let r = judge_kayenta(
        &CanaryPolicy::new(vec![mp]),
        &[MetricData::new(
            "latency_seconds",
            Arms {
                baseline: Series::histogram(h.clone()),
                canary: Series::histogram(h),
            },
        )],
    )
    .unwrap();
    assert_eq!(r.results[0].classification, KayentaLabel::Error);
    assert!(
        r.results[0]
            .classification_reason
            .contains("histogram series have no Kayenta equivalent"),
        "{}",
        r.results[0].classification_reason
    );
}

/// Rollbacks among `runs` canaries of one latency metric given as Prometheus histograms,
/// `n` requests per arm, the canary's latencies scaled by `factor`.
fn rollbacks(seed: u64, runs: usize, n: usize, factor: f64) -> usize {
    let policy = CanaryPolicy::new(vec![latency_policy()]);
    let mut rng = Rng(seed);
    (0..runs)
        .filter(|_| {
            let b = latencies(&mut rng, n, 0.12, 0.6);
            let c = latencies(&mut rng, n, 0.12 * factor, 0.6);
            let data = [MetricData::new(
                "latency_seconds",
                Arms {
                    baseline: Series::histogram(b),
                    canary: Series::histogram(c),
                },
            )];
            judge(&policy, &data).unwrap().verdict == Verdict::Rollback
        })
        .count()
}

#[test]
fn sim_identical_histograms_are_rarely_rolled_back() {
    // One metric: any significant harmful change fails it and the score falls to 0, so the
    // false-rollback rate is the test's size, at most alpha = 0.01 (the bucketed arms are
    // identically distributed, so the grouped test is valid). Bound: alpha·runs + 3 sd.
    let runs = 500;
    let n = rollbacks(51, runs, 10_000, 1.0);
    let alpha = CanaryPolicy::new(vec![latency_policy()]).alpha;
    let bound = alpha * runs as f64 + 3.0 * (alpha * (1.0 - alpha) * runs as f64).sqrt();
    println!("histograms, identical arms (10 000 requests per arm, Prometheus buckets): {n} rollbacks in {runs} canaries (bound {bound:.1}, seed 51)");
    assert!((n as f64) <= bound, "{n} false rollbacks in {runs}");
}

#[test]
fn sim_thirty_percent_slower_is_caught_from_histograms() {
    let runs = 200;
    let n = rollbacks(52, runs, 10_000, 1.3);
    println!("histograms, +30% latency (10 000 requests per arm, Prometheus buckets): {n} rollbacks in {runs} canaries (seed 52)");
    assert!(n >= 196, "only {n} of {runs} rolled back");
}

#[test]
fn sim_bucketing_costs_power() {
    // The same requests judged raw and bucketed: a 5% slowdown at 2000 requests per arm. The
    // bucketed test sees less (it cannot tell points of one bucket apart), so it finds the
    // slowdown significant less often; identical arms stay near alpha either way (the first
    // sim). The tests' power is compared, not the verdicts: raw samples decide the tolerance on
    // the interval's near end, histograms on the interpolated estimate. The location tests
    // alone: raw samples would otherwise add the default p99 aspect to the family.
    let policy = CanaryPolicy::new(vec![MetricPolicy {
        auto_tails: false,
        ..latency_policy()
    }]);
    let mut rng = Rng(53);
    let (runs, n) = (200, 2000);
    let (mut raw, mut bucket) = (0, 0);
    for _ in 0..runs {
        let mut arm = |f: f64| -> Vec<f64> {
            (0..n)
                .map(|_| 0.12 * f * (0.6 * rng.normal()).exp())
                .collect()
        };
        let (b, c) = (arm(1.0), arm(1.05));
        let rolled = |d: MetricData| {
            let j = judge(&policy, &[d]).unwrap();
            j.metrics[0].adjusted_p.is_some_and(|p| p < policy.alpha)
        };
        raw += usize::from(rolled(MetricData::new(
            "latency_seconds",
            Arms {
                baseline: Series::samples(b.clone()),
                canary: Series::samples(c.clone()),
            },
        )));
        bucket += usize::from(rolled(MetricData::new(
            "latency_seconds",
            Arms {
                baseline: Series::histogram(bucketed(b, &PROMETHEUS)),
                canary: Series::histogram(bucketed(c, &PROMETHEUS)),
            },
        )));
    }
    println!("+5% latency, {n} requests per arm, {runs} canaries (seed 53): significant from raw samples {raw}, from Prometheus histograms {bucket}");
    assert!(bucket <= raw, "bucketed {bucket} > raw {raw}");
    assert!(raw >= runs / 4, "raw {raw}");
}

fn any_bounds() -> impl Strategy<Value = (f64, Vec<f64>)> {
    (
        prop_oneof![Just(0.0), -1e300f64..1e300, -5.0f64..5.0],
        prop::collection::vec(prop_oneof![1e-9f64..10.0, 1.0f64..1e300], 1..10),
        any::<bool>(),
    )
        .prop_map(|(lowest, steps, inf)| {
            let mut b = Vec::with_capacity(steps.len());
            let mut prev = lowest;
            for s in steps {
                let next = prev + s;
                if next.is_finite() && next > prev {
                    b.push(next);
                    prev = next;
                }
            }
            if inf || b.is_empty() {
                b.push(f64::INFINITY);
            }
            (lowest, b)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Any valid pair of histograms, any direction, measure and aspect: a judgment, no panic,
    /// p-values in [0, 1].
    #[test]
    fn judge_never_panics_on_histograms(
        (lowest, bounds) in any_bounds(),
        seed in any::<u64>(),
        big in any::<bool>(),
        dir in prop_oneof![Just(Direction::Increase), Just(Direction::Decrease), Just(Direction::Either)],
        measure in prop_oneof![
            Just(EffectMeasure::RelativeShift),
            Just(EffectMeasure::MeanRatio),
            Just(EffectMeasure::Cles),
            Just(EffectMeasure::Absolute)
        ],
    ) {
        let mut rng = Rng(seed);
        let top = if big { 1_000_000_000u64 } else { 30 };
        let mut counts = |_| -> Vec<u64> {
            bounds.iter().map(|_| rng.next_u64() % top).collect()
        };
        let (cb, cc) = (counts(0), counts(1));
        let h = |c: Vec<u64>| Histogram { lowest, upper_bounds: bounds.clone(), counts: c };
        let mut mp = MetricPolicy::new("m", dir);
        mp.tolerance = canary_verdict::Tolerance::for_measure(measure);
        mp.tails = vec![TailAspect::Quantile { p: 0.9, tolerance: 0.1 }, TailAspect::KolmogorovSmirnov];
        mp.bounds = Some(Bounds { statistic: Statistic::Quantile(0.75), min: None, max: Some(1.0) });
        let j = one_metric(mp, Series::histogram(h(cb)), Series::histogram(h(cc)));
        let m = &j.metrics[0];
        for p in m.p_value.into_iter().chain(m.tails.iter().filter_map(|t| t.p_value)) {
            prop_assert!((0.0..=1.0).contains(&p), "{}", j);
        }
    }
}

#[test]
fn a_quantile_beyond_the_last_bucket_fails_a_max_bound() {
    // 10% of the canary's requests lie beyond the last finite bound 0.5 s: its p99 is only known
    // to be above 0.5, so a bound of 1 s on it could be breached. It used to be read as 0.5 and
    // pass.
    let bounds = [0.1, 0.25, 0.5, f64::INFINITY];
    let baseline = hist(&bounds, &[600, 300, 100, 0]);
    let canary = hist(&bounds, &[550, 250, 100, 100]);
    let bounded = |p: f64| MetricPolicy {
        comparator: Comparator::ThresholdsOnly,
        bounds: Some(Bounds {
            statistic: Statistic::Quantile(p),
            max: Some(1.0),
            ..Bounds::default()
        }),
        ..latency_policy()
    };
    let j = one_metric(
        bounded(0.99),
        Series::histogram(baseline.clone()),
        Series::histogram(canary.clone()),
    );
    let m = &j.metrics[0];
    assert_eq!(m.classification, Classification::High, "{j}");
    assert!(m.critical_breach);
    assert_eq!(
        m.reason,
        "canary p99 beyond the last bucket, so possibly above the bound 1"
    );
    assert_eq!(j.verdict, Verdict::Rollback);
    let summary = m.canary.as_ref().unwrap();
    assert_eq!(summary.quantile(0.99), Some(f64::INFINITY));
    // The p90 (0.5, the end of the last finite bucket) is known to be within the bound.
    let j = one_metric(
        bounded(0.9),
        Series::histogram(baseline),
        Series::histogram(canary),
    );
    assert_eq!(j.metrics[0].classification, Classification::Pass, "{j}");
    // The judgment (and its summaries' +inf) survive JSON: `"inf"`, not null.
    let json = serde_json::to_string(&j.metrics[0]).unwrap();
    assert!(json.contains(r#"[0.99,"inf"]"#), "{json}");
    let back: canary_verdict::MetricJudgment = serde_json::from_str(&json).unwrap();
    assert_eq!(format!("{back:?}"), format!("{:?}", j.metrics[0]));
}
