//! Tail and shape statistics against R (`fixtures/reference/tail.json`, written by
//! `fixtures/generate_tail.R`: `ks.test`, `quantile` + `binom.test` + `fisher.test`, `pbinom`
//! ranks, `kSamples::ad.test`) and SciPy (`fixtures/reference/tail_scipy.json`,
//! `fixtures/generate_tail.py`: `ks_2samp(method='exact')`, `anderson_ksamp`, `binomtest`).
//!
//! Tolerances:
//! - KS statistics: exact (they are ratios of integers; compared at 1e-15 absolute);
//! - KS exact p-values: 1e-12 absolute or 1e-9 relative (R and the crate both form `1 - P(D < d)`
//!   so tiny p-values carry the same cancellation; SciPy sums the other way, so against SciPy
//!   1e-10 absolute);
//! - KS asymptotic p-values: 1e-12 absolute (same series, same truncation as R's `C_pKS2`);
//! - binomial and Fisher p-values, thresholds: 1e-9 relative; counts and ranks: equal;
//! - Anderson-Darling: statistic 1e-9 relative (kSamples and SciPy), SciPy's interpolated
//!   p-value 1e-7 relative (a least-squares quadratic fit solved differently from NumPy's).
//!
//! Also properties (proptest) and the seeded coverage simulation of the quantile interval.

use crate::common::*;
use canary_verdict::stats::*;
use canary_verdict::Arms;
use canary_verdict::*;
use proptest::prelude::*;
use serde_json::Value;

fn method(v: &Value) -> Method {
    match v.as_str().expect("method") {
        "auto" => Method::Auto,
        "exact" => Method::Exact,
        "asymptotic" => Method::Asymptotic,
        other => panic!("unknown method {other}"),
    }
}

fn run_ks(r: &mut Report, case: &Value, p_abs: f64) {
    let id = case["id"].as_str().unwrap_or("?");
    let inp = &case["input"];
    let t = match ks_2samp(
        Arms {
            baseline: &nums(&inp["baseline"]),
            canary: &nums(&inp["canary"]),
        },
        alternative_of(&inp["alternative"]),
        method(&inp["method"]),
    ) {
        Ok(t) => t,
        Err(e) => return r.fail(id, format!("error {e}")),
    };
    let e = &case["expected"];
    r.check(
        id,
        "statistic",
        t.statistic,
        num(&e["statistic"]),
        0.0,
        1e-15,
    );
    r.check(id, "p_value", t.p_value, num(&e["p_value"]), 1e-9, p_abs);
}

#[test]
fn ks_matches_r() {
    let mut r = Report::default();
    for case in load_cases("tail").iter().filter(|c| c["kind"] == "ks") {
        run_ks(&mut r, case, 1e-12);
    }
    r.finish("ks vs R", 200);
}

#[test]
fn ks_exact_matches_scipy_without_ties() {
    let mut r = Report::default();
    for case in load_cases("tail_scipy")
        .iter()
        .filter(|c| c["kind"] == "ks")
    {
        run_ks(&mut r, case, 1e-10);
    }
    r.finish("ks vs SciPy", 30);
}

#[test]
fn anderson_darling_matches_ksamples_and_scipy() {
    let mut r = Report::default();
    for (file, with_p) in [("tail", false), ("tail_scipy", true)] {
        for case in load_cases(file).iter().filter(|c| c["kind"] == "ad") {
            let id = case["id"].as_str().unwrap_or("?");
            let samples: Vec<Vec<f64>> = case["input"]["samples"]
                .as_array()
                .expect("samples")
                .iter()
                .map(nums)
                .collect();
            let views: Vec<&[f64]> = samples.iter().map(|s| s.as_slice()).collect();
            let t = match anderson_ksamp(&views) {
                Ok(t) => t,
                Err(e) => {
                    r.fail(id, format!("error {e}"));
                    continue;
                }
            };
            let e = &case["expected"];
            r.check(
                id,
                "statistic",
                t.statistic,
                num(&e["statistic"]),
                1e-9,
                1e-12,
            );
            if let Some(a) = e.get("a2akn") {
                r.check(id, "a2akn", t.a2akn, num(a), 1e-9, 1e-12);
            }
            if with_p {
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), 1e-7, 0.0);
            }
            if let Some(cv) = e.get("critical_values") {
                for (i, v) in nums(cv).iter().enumerate() {
                    r.check(id, "critical", t.critical_values[i], *v, 1e-12, 0.0);
                }
            }
        }
    }
    r.finish("anderson-darling", 40);
}

#[test]
fn exceedance_matches_r() {
    let mut r = Report::default();
    for case in load_cases("tail")
        .iter()
        .filter(|c| c["kind"] == "exceedance")
    {
        let id = case["id"].as_str().unwrap_or("?");
        let inp = &case["input"];
        let t = match exceedance_test(
            Arms {
                baseline: &nums(&inp["baseline"]),
                canary: &nums(&inp["canary"]),
            },
            num(&inp["q"]),
            &CountTestConfig::default()
                .alternative(Alternative::Greater)
                .conf_level(0.95),
        ) {
            Ok(t) => t,
            Err(e) => {
                r.fail(id, format!("error {e}"));
                continue;
            }
        };
        let e = &case["expected"];
        r.check(
            id,
            "threshold",
            t.baseline_threshold,
            num(&e["baseline_threshold"]),
            1e-15,
            0.0,
        );
        r.check(
            id,
            "count",
            t.canary_above_baseline_threshold as f64,
            num(&e["canary_above_baseline_threshold"]),
            0.0,
            0.0,
        );
        r.check(
            id,
            "binom_p",
            t.binomial.p_value,
            num(&e["binom_p"]),
            1e-9,
            1e-300,
        );
        r.check(
            id,
            "pooled",
            t.pooled_threshold,
            num(&e["pooled_threshold"]),
            1e-15,
            0.0,
        );
        r.check(
            id,
            "canary_above",
            t.canary_above as f64,
            num(&e["canary_above"]),
            0.0,
            0.0,
        );
        r.check(
            id,
            "baseline_above",
            t.baseline_above as f64,
            num(&e["baseline_above"]),
            0.0,
            0.0,
        );
        r.check(
            id,
            "fisher_p",
            t.conditional.p_value,
            num(&e["fisher_p"]),
            1e-9,
            1e-300,
        );
    }
    r.finish("exceedance vs R", 200);
}

#[test]
fn binomial_matches_scipy() {
    let mut r = Report::default();
    for case in load_cases("tail_scipy")
        .iter()
        .filter(|c| c["kind"] == "binom")
    {
        let id = case["id"].as_str().unwrap_or("?");
        let inp = &case["input"];
        let t = binom_test(
            num(&inp["successes"]) as u64,
            num(&inp["trials"]) as u64,
            num(&inp["p"]),
            &CountTestConfig::default()
                .alternative(Alternative::Greater)
                .conf_level(0.95),
        )
        .expect("valid");
        r.check(
            id,
            "p_value",
            t.p_value,
            num(&case["expected"]["p_value"]),
            1e-9,
            1e-300,
        );
    }
    r.finish("binomtest vs SciPy", 6);
}

#[test]
fn order_statistic_ranks_match_r_pbinom() {
    let mut r = Report::default();
    for case in load_cases("tail").iter().filter(|c| c["kind"] == "ranks") {
        let id = case["id"].as_str().unwrap_or("?");
        let inp = &case["input"];
        let n = num(&inp["n"]) as usize;
        let p = num(&inp["p"]);
        let a = num(&inp["a"]);
        let sample: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let cfg = QuantileCompareConfig {
            p,
            conf_level: (1.0 - 2.0 * a) * (1.0 - 2.0 * a),
            alternative: Alternative::TwoSided,
            ..Default::default()
        };
        let t = quantile_compare(
            Arms {
                baseline: &sample,
                canary: &sample,
            },
            &cfg,
        )
        .expect("valid");
        let e = &case["expected"];
        let want = |v: &Value| (!v.is_string()).then(|| num(v) as usize);
        if t.canary.lower_rank != want(&e["lower_rank"])
            || t.canary.upper_rank != want(&e["upper_rank"])
        {
            r.fail(
                id,
                format!(
                    "ranks {:?}/{:?}, R {}/{}",
                    t.canary.lower_rank, t.canary.upper_rank, e["lower_rank"], e["upper_rank"]
                ),
            );
        } else {
            r.checked += 1;
        }
        // The interval ends are the order statistics of those ranks.
        if let Some(l) = t.canary.lower_rank {
            r.check(id, "lower", t.canary.interval.lower, l as f64, 0.0, 0.0);
        }
    }
    r.finish("ranks vs R", 150);
}

/// Seeded coverage of the quantile-difference interval: log-normal arms with different shapes
/// whose true quantiles are known in closed form.
#[test]
fn quantile_difference_interval_covers_at_least_its_level() {
    let mut rng = Rng(0x7a11_c0de);
    let runs = 400;
    for (p, n) in [(0.5, 60), (0.9, 200), (0.99, 600)] {
        let z = match p {
            0.5 => 0.0,
            0.9 => 1.281_551_565_544_600_5,
            _ => 2.326_347_874_040_841,
        };
        // Baseline logN(4, 0.3), canary logN(4.1, 0.5): true quantiles exp(mu + sigma z).
        let truth = (4.1f64 + 0.5 * z).exp() - (4.0f64 + 0.3 * z).exp();
        let cfg = QuantileCompareConfig {
            p,
            conf_level: 0.9,
            ..Default::default()
        };
        let mut covered = 0;
        for _ in 0..runs {
            let b: Vec<f64> = (0..n).map(|_| (4.0 + 0.3 * rng.normal()).exp()).collect();
            let c: Vec<f64> = (0..n).map(|_| (4.1 + 0.5 * rng.normal()).exp()).collect();
            let t = quantile_compare(
                Arms {
                    baseline: &b,
                    canary: &c,
                },
                &cfg,
            )
            .expect("valid");
            assert!(t.difference_interval.level >= 0.9 - 1e-12);
            covered += usize::from(t.difference_interval.contains(truth));
        }
        let rate = covered as f64 / runs as f64;
        eprintln!("quantile-difference coverage, p = {p}, n = {n}, {runs} runs: {rate}");
        // Nominal 90%; the binomial sd of the rate at 400 runs is 1.5%, so 86% is ~2.7 sd below.
        assert!(rate >= 0.86, "p = {p}, n = {n}: coverage {rate}");
    }
}

#[test]
fn too_few_points_for_a_tail_quantile_is_reported() {
    let sample: Vec<f64> = (1..=100).map(f64::from).collect();
    let t = quantile_compare(
        Arms {
            baseline: &sample,
            canary: &sample,
        },
        &QuantileCompareConfig::default(),
    )
    .expect("valid");
    assert!(!t.is_judgeable());
    assert_eq!(t.needed_baseline, Some(435));
    assert_eq!(t.difference_interval.upper, f64::INFINITY);
    assert!(quantile_compare(
        Arms {
            baseline: &[f64::NAN],
            canary: &sample
        },
        &QuantileCompareConfig::default()
    )
    .is_err());
    let bad = QuantileCompareConfig {
        p: 1.0,
        ..Default::default()
    };
    assert!(matches!(
        quantile_compare(
            Arms {
                baseline: &sample,
                canary: &sample
            },
            &bad
        ),
        Err(Error::InvalidParameter { field: "p", .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// KS is invariant under a strictly increasing transform of both samples.
    #[test]
    fn ks_invariant_to_monotone_transform(
        c in prop::collection::vec(-50i32..50, 1..25),
        b in prop::collection::vec(-50i32..50, 1..25),
    ) {
        let c: Vec<f64> = c.into_iter().map(f64::from).collect();
        let b: Vec<f64> = b.into_iter().map(f64::from).collect();
        let tc: Vec<f64> = c.iter().map(|v| (v / 10.0).exp() * 3.0 + 7.0).collect();
        let tb: Vec<f64> = b.iter().map(|v| (v / 10.0).exp() * 3.0 + 7.0).collect();
        for a in [Alternative::TwoSided, Alternative::Greater, Alternative::Less] {
            let x = ks_2samp(Arms { baseline: &b, canary: &c }, a, Method::Auto).unwrap();
            let y = ks_2samp(Arms { baseline: &tb, canary: &tc }, a, Method::Auto).unwrap();
            prop_assert_eq!(x.statistic, y.statistic);
            prop_assert_eq!(x.p_value, y.p_value);
        }
    }

    /// Swapping the arms swaps the one-sided alternatives.
    #[test]
    fn ks_one_sided_symmetry(
        c in prop::collection::vec(0i32..30, 1..20),
        b in prop::collection::vec(0i32..30, 1..20),
    ) {
        let c: Vec<f64> = c.into_iter().map(f64::from).collect();
        let b: Vec<f64> = b.into_iter().map(f64::from).collect();
        let x = ks_2samp(Arms { baseline: &b, canary: &c }, Alternative::Greater, Method::Exact).unwrap();
        let y = ks_2samp(Arms { baseline: &c, canary: &b }, Alternative::Less, Method::Exact).unwrap();
        prop_assert_eq!(x.statistic, y.statistic);
        prop_assert!((x.p_value - y.p_value).abs() < 1e-12);
        // P(max(D+, D-) >= d) >= P(D+ >= d) when the two-sided statistic is this side's.
        let s = ks_2samp(Arms { baseline: &b, canary: &c }, Alternative::TwoSided, Method::Exact).unwrap();
        if s.statistic == x.statistic {
            prop_assert!(s.p_value >= x.p_value - 1e-12);
        }
    }

    /// Exact and asymptotic p-values agree roughly at moderate n without ties.
    #[test]
    fn ks_exact_and_asymptotic_agree_at_moderate_n(seed in 0u64..1000) {
        let mut rng = Rng(seed);
        let c: Vec<f64> = (0..80).map(|_| rng.normal() + 0.2).collect();
        let b: Vec<f64> = (0..90).map(|_| rng.normal()).collect();
        let e = ks_2samp(Arms { baseline: &b, canary: &c }, Alternative::TwoSided, Method::Exact).unwrap();
        let a = ks_2samp(Arms { baseline: &b, canary: &c }, Alternative::TwoSided, Method::Asymptotic).unwrap();
        // Kolmogorov's limit is off by O(1/sqrt(n)) (it overstates p for small D).
        prop_assert!((e.p_value - a.p_value).abs() < 0.1, "{} vs {}", e.p_value, a.p_value);
    }

    /// The exceedance counts and p-values never panic and stay probabilities.
    #[test]
    fn exceedance_is_well_formed(
        c in prop::collection::vec(-5.0f64..5.0, 1..40),
        b in prop::collection::vec(-5.0f64..5.0, 1..40),
        q in 0.01f64..0.99,
    ) {
        let t = exceedance_test(Arms { baseline: &b, canary: &c }, q, &CountTestConfig::default().alternative(Alternative::Greater).conf_level(0.95)).unwrap();
        prop_assert!((0.0..=1.0).contains(&t.binomial.p_value));
        prop_assert!((0.0..=1.0).contains(&t.conditional.p_value));
        prop_assert!(t.canary_above as usize <= c.len());
    }

    /// The quantile p-value is below alpha exactly when the one-sided interval at 1 - alpha
    /// clears the null (test inversion), here at r = 1.
    #[test]
    fn quantile_p_value_inverts_the_interval(seed in 0u64..500, shift in 0.0f64..1.0) {
        let mut rng = Rng(seed);
        let b: Vec<f64> = (0..300).map(|_| rng.normal()).collect();
        let c: Vec<f64> = (0..300).map(|_| rng.normal() * (1.0 + shift)).collect();
        let cfg = QuantileCompareConfig { p: 0.9, conf_level: 0.95, alternative: Alternative::Greater, ..Default::default() };
        let t = quantile_compare(Arms { baseline: &b, canary: &c }, &cfg).unwrap();
        let clears = t.difference_interval.lower > 0.0;
        prop_assert_eq!(t.p_value <= 0.05, clears, "p = {}, lower = {}", t.p_value, t.difference_interval.lower);
    }
}

/// Bins a sample into per-bucket counts over `bounds` (last bound +inf).
fn bin(sample: &[f64], bounds: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; bounds.len()];
    for &v in sample {
        let i = bounds.partition_point(|&b| b < v);
        counts[i.min(bounds.len() - 1)] += 1;
    }
    counts
}

#[test]
fn histogram_ks_is_ks_on_bucketed_values() {
    let bounds = vec![50.0, 80.0, 100.0, 130.0, 200.0, 400.0, f64::INFINITY];
    let mut rng = Rng(0xb0c4e7);
    for (m, n, spread) in [(20, 30, 0.3), (60, 70, 0.5), (300, 400, 0.6)] {
        let b: Vec<f64> = (0..n).map(|_| 100.0 * (0.3 * rng.normal()).exp()).collect();
        let c: Vec<f64> = (0..m)
            .map(|_| 100.0 * (spread * rng.normal()).exp())
            .collect();
        let hb = Histogram::from_buckets(0.0, bounds.clone(), bin(&b, &bounds)).unwrap();
        let hc = Histogram::from_buckets(0.0, bounds.clone(), bin(&c, &bounds)).unwrap();
        // The same data with every point replaced by its bucket's index (ties per bucket).
        let idx = |s: &[f64]| -> Vec<f64> {
            s.iter()
                .map(|&v| bounds.partition_point(|&x| x < v) as f64)
                .collect()
        };
        for alt in [
            Alternative::TwoSided,
            Alternative::Greater,
            Alternative::Less,
        ] {
            let h = histogram_ks(
                Arms {
                    baseline: &hb,
                    canary: &hc,
                },
                alt,
                Method::Auto,
            )
            .unwrap();
            let s = ks_2samp(
                Arms {
                    baseline: &idx(&b),
                    canary: &idx(&c),
                },
                alt,
                Method::Auto,
            )
            .unwrap();
            assert_eq!(h.statistic, s.statistic, "{m}/{n} {alt}");
            assert!(
                (h.p_value - s.p_value).abs() < 1e-12,
                "{m}/{n} {alt}: {} vs {}",
                h.p_value,
                s.p_value
            );
            assert_eq!(h.method, s.method);
        }
    }
    let other = Histogram::from_buckets(0.0, vec![1.0, 2.0], vec![1, 1]).unwrap();
    let hb = Histogram::from_buckets(0.0, vec![1.0, 3.0], vec![1, 1]).unwrap();
    assert!(histogram_ks(
        Arms {
            baseline: &hb,
            canary: &other
        },
        Alternative::TwoSided,
        Method::Auto
    )
    .is_err());
}

#[test]
fn histogram_quantile_interval_contains_the_raw_one() {
    let bounds: Vec<f64> = (1..=40)
        .map(|i| 20.0 * 1.15f64.powi(i))
        .chain([f64::INFINITY])
        .collect();
    let mut rng = Rng(0x4157);
    for p in [0.5, 0.9, 0.99] {
        let b: Vec<f64> = (0..2000)
            .map(|_| 100.0 * (0.3 * rng.normal()).exp())
            .collect();
        let c: Vec<f64> = (0..2000)
            .map(|_| 100.0 * (0.6 * rng.normal()).exp())
            .collect();
        let cfg = QuantileCompareConfig {
            p,
            ..Default::default()
        };
        let raw = quantile_compare(
            Arms {
                baseline: &b,
                canary: &c,
            },
            &cfg,
        )
        .unwrap();
        let hb = Histogram::from_buckets(0.0, bounds.clone(), bin(&b, &bounds)).unwrap();
        let hc = Histogram::from_buckets(0.0, bounds.clone(), bin(&c, &bounds)).unwrap();
        let h = histogram_quantile_compare(
            Arms {
                baseline: &hb,
                canary: &hc,
            },
            &cfg,
        )
        .unwrap();
        assert_eq!(h.canary.lower_rank, raw.canary.lower_rank);
        assert_eq!(h.baseline.upper_rank, raw.baseline.upper_rank);
        assert!(
            h.difference_interval.lower <= raw.difference_interval.lower,
            "p = {p}"
        );
        assert!(
            h.difference_interval.upper >= raw.difference_interval.upper,
            "p = {p}"
        );
        // Bucketing never makes the test more significant.
        assert!(
            h.p_value >= raw.p_value - 1e-12,
            "p = {p}: {} < {}",
            h.p_value,
            raw.p_value
        );
        for alt in [Alternative::Greater, Alternative::Less] {
            let cfg = QuantileCompareConfig {
                p,
                alternative: alt,
                ..Default::default()
            };
            let r = quantile_compare(
                Arms {
                    baseline: &b,
                    canary: &c,
                },
                &cfg,
            )
            .unwrap();
            let hh = histogram_quantile_compare(
                Arms {
                    baseline: &hb,
                    canary: &hc,
                },
                &cfg,
            )
            .unwrap();
            assert!(
                hh.p_value >= r.p_value - 1e-12,
                "p = {p} {alt}: {} < {}",
                hh.p_value,
                r.p_value
            );
        }
    }
}

#[test]
fn histogram_inputs_are_checked() {
    assert!(matches!(
        Histogram::from_cumulative(0.0, vec![1.0, 2.0], vec![5, 3]),
        Err(Error::InvalidCounts {
            field: "cumulative",
            ..
        })
    ));
    assert!(Histogram::from_buckets(0.0, vec![1.0, 1.0], vec![1, 1]).is_err());
    assert!(Histogram::from_buckets(0.0, vec![f64::INFINITY, 2.0], vec![1, 1]).is_err());
    assert!(Histogram::from_buckets(0.0, vec![1.0], vec![0]).is_err());
    assert!(Histogram::from_buckets(0.0, vec![1.0, f64::NAN], vec![1, 1]).is_err());
    let h =
        Histogram::from_cumulative(0.0, vec![0.1, 0.5, f64::INFINITY], vec![10, 90, 100]).unwrap();
    assert_eq!(h.counts, vec![10, 80, 10]);
    // In the +inf bucket the estimate is the last finite bound, as Prometheus.
    assert_eq!(h.quantile(0.99), 0.5);
    let text = serde_json::to_string(&h).unwrap();
    assert!(text.contains("\"inf\"") || text.contains("Inf"), "{text}");
    let back: Histogram = serde_json::from_str(&text).unwrap();
    assert_eq!(back, h);
}

#[test]
fn huge_histograms_are_refused_or_answered_quickly() {
    let bounds = vec![10.0, 100.0, f64::INFINITY];
    assert!(
        Histogram::from_buckets(0.0, bounds.clone(), vec![u64::MAX / 2, u64::MAX / 2, 5]).is_err()
    );
    let big = Histogram::from_buckets(
        0.0,
        bounds.clone(),
        vec![400_000_000_000, 500_000_000_000, 1_000_000],
    )
    .unwrap();
    let t = histogram_quantile_compare(
        Arms {
            baseline: &big,
            canary: &big,
        },
        &QuantileCompareConfig {
            p: 0.5,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(t.is_judgeable());
    assert_eq!(t.difference_interval.lower, 10.0 - 100.0);
    assert!(matches!(
        histogram_ks(
            Arms {
                baseline: &big,
                canary: &big
            },
            Alternative::TwoSided,
            Method::Exact
        ),
        Err(Error::ExactTooLarge { .. })
    ));
    let ks = histogram_ks(
        Arms {
            baseline: &big,
            canary: &big,
        },
        Alternative::TwoSided,
        Method::Auto,
    )
    .unwrap();
    assert_eq!(ks.p_value, 1.0);
}
