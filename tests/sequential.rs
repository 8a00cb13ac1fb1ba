//! Anytime-valid sequential tests: the notes' low-count numbers, seeded simulations of false
//! and true rollbacks over 20 looks, properties (identical arms, serde resume, huge counts) and
//! bad input.

use crate::common::Rng;
use canary_verdict::Arms;
use canary_verdict::{
    sequential::{
        rollback_threshold, CountEProcess, CountEProcessConfig, EProcess, MeanShiftEProcess,
        MeanShiftEProcessConfig, SrmEProcess, SrmEProcessConfig, VaryingSplitEProcess,
        VaryingSplitEProcessConfig,
    },
    stats::Alternative,
    Error,
};
use proptest::prelude::*;

fn counts(share: f64, k: f64, alternative: Alternative) -> CountEProcess {
    CountEProcess::new(
        CountEProcessConfig::new(share)
            .concentration(k)
            .alternative(alternative),
    )
    .unwrap()
}

/// Three standard errors of a proportion `p` estimated from `runs` runs.
fn three_sigma(p: f64, runs: usize) -> f64 {
    3.0 * (p * (1.0 - p) / runs as f64).sqrt()
}

/// Median and 95th percentile (nearest rank) of the first rollback interval; runs that never
/// roll back count as `u64::MAX`.
fn median_p95(mut firsts: Vec<u64>) -> (u64, u64) {
    firsts.sort_unstable();
    let n = firsts.len();
    (firsts[(n - 1) / 2], firsts[(95 * n).div_ceil(100) - 1])
}

#[test]
fn e_after_three_canary_errors_matches_the_notes() {
    // Notes §3.2: 3 canary errors, 0 baseline errors, two-sided Beta(kρ, k(1-ρ)) mixture.
    let cases = [
        (0.5, [(1.0, 2.5), (10.0, 1.27), (100.0, 1.03)]),
        (0.1, [(1.0, 38.5), (10.0, 4.55), (100.0, 1.28)]),
    ];
    for (share, row) in cases {
        for (k, want) in row {
            let mut e = counts(share, k, Alternative::TwoSided);
            e.update(Arms {
                baseline: 0,
                canary: 3,
            })
            .unwrap();
            let got = e.e_value();
            // The notes round to three significant digits.
            assert!(
                (got - want).abs() <= 0.006 * want,
                "ρ={share} k={k}: {got} vs {want}"
            );
        }
    }
    // Exact for ρ = 0.5, k = 1: B(3.5, 0.5) / B(0.5, 0.5) * 8 = 2.5.
    let mut e = counts(0.5, 1.0, Alternative::TwoSided);
    e.update(Arms {
        baseline: 0,
        canary: 3,
    })
    .unwrap();
    assert!((e.e_value() - 2.5).abs() < 1e-12, "{}", e.e_value());
}

/// Smallest number of consecutive canary-only events that reach `E >= 20`.
fn events_to_reject(share: f64, k: f64, alternative: Alternative) -> u64 {
    let mut e = counts(share, k, alternative);
    for n in 1..=1000 {
        e.update(Arms {
            baseline: 0,
            canary: 1,
        })
        .unwrap();
        if e.rejects(0.05).unwrap() {
            return n;
        }
    }
    u64::MAX
}

#[test]
fn events_to_reject_match_the_notes_table() {
    let table = [(0.5, [7, 12, 29]), (0.1, [3, 5, 10]), (0.05, [3, 4, 8])];
    for (share, row) in table {
        for (k, want) in [1.0, 10.0, 100.0].into_iter().zip(row) {
            let two = events_to_reject(share, k, Alternative::TwoSided);
            let one = events_to_reject(share, k, Alternative::Greater);
            eprintln!("ρ={share} k={k}: two-sided {two} (notes {want}), one-sided {one}");
            assert_eq!(two, want, "ρ={share} k={k}");
            // Truncating the prior to θ > ρ never needs more events.
            assert!(
                one <= two,
                "ρ={share} k={k}: one-sided {one} > two-sided {two}"
            );
        }
    }
}

/// Errors per interval for one arm: 0.5% of 1000 requests.
const BASE_ERRORS: f64 = 5.0;
const LOOKS: u64 = 20;
const RUNS: usize = 2000;

/// First interval (1-based) where the e-process crosses `1/alpha` within `looks`, if any.
fn first_rollback(rng: &mut Rng, config: CountEProcessConfig, factor: f64, looks: u64) -> u64 {
    let mut e = CountEProcess::new(config).unwrap();
    for t in 1..=looks {
        let canary = rng.poisson(BASE_ERRORS * factor);
        let baseline = rng.poisson(BASE_ERRORS);
        e.update(Arms { baseline, canary }).unwrap();
        if e.rejects(0.05).unwrap() {
            return t;
        }
    }
    u64::MAX
}

#[test]
fn identical_arms_rarely_roll_back_over_20_looks() {
    let bound = 0.05 + three_sigma(0.05, RUNS);
    for (seed, alternative) in [
        (11, Alternative::Greater),
        (12, Alternative::TwoSided),
        (13, Alternative::Less),
    ] {
        let mut rng = Rng(seed);
        let config = CountEProcessConfig::new(0.5).alternative(alternative);
        let crossed = (0..RUNS)
            .filter(|_| first_rollback(&mut rng, config, 1.0, LOOKS) != u64::MAX)
            .count();
        let rate = crossed as f64 / RUNS as f64;
        eprintln!("A/A counts ({alternative}, seed {seed}): {crossed}/{RUNS} = {rate}");
        assert!(rate <= bound, "{alternative}: {rate} > {bound}");
    }
}

#[test]
fn a_doubled_error_rate_is_rolled_back_within_a_few_intervals() {
    // The default (k = 10, one-sided) is asserted; k = 1 and k = 100 are printed for the
    // trade-off documented on `CountEProcessConfig`.
    for (seed, k) in [(21, 10.0), (23, 1.0), (24, 100.0)] {
        let mut rng = Rng(seed);
        let config = CountEProcessConfig::new(0.5).concentration(k);
        let firsts: Vec<u64> = (0..RUNS)
            .map(|_| first_rollback(&mut rng, config, 2.0, LOOKS))
            .collect();
        let (median, p95) = median_p95(firsts);
        eprintln!("doubled rate, k = {k} (seed {seed}, {RUNS} runs): median {median}, p95 {p95}");
        if k == 10.0 {
            assert!(median <= 6, "median {median}");
            assert!(p95 <= 12, "95th percentile {p95}");
        }
    }
}

#[test]
fn sequential_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<CountEProcess>();
    check::<CountEProcessConfig>();
    check::<MeanShiftEProcess>();
    check::<MeanShiftEProcessConfig>();
    check::<SrmEProcess>();
    check::<SrmEProcessConfig>();
    check::<VaryingSplitEProcess>();
    check::<VaryingSplitEProcessConfig>();
}

#[test]
fn a_healthy_canary_rules_out_a_20_percent_increase_early() {
    // 1% errors of 10 000 requests per arm and interval: about 100 errors per arm.
    let mut rng = Rng(31);
    let runs = 500;
    let mut firsts = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut e = CountEProcess::new(CountEProcessConfig::new(0.5)).unwrap();
        let mut first = u64::MAX;
        for t in 1..=LOOKS {
            e.update(Arms {
                baseline: rng.poisson(100.0),
                canary: rng.poisson(100.0),
            })
            .unwrap();
            if e.is_safe(0.2).unwrap() {
                first = t;
                break;
            }
        }
        firsts.push(first);
    }
    let safe = firsts.iter().filter(|&&t| t != u64::MAX).count();
    let (median, _) = median_p95(firsts);
    eprintln!(
        "healthy canary (seed 31, {runs} runs): safe within {LOOKS} in {safe}, median {median}"
    );
    assert!(safe as f64 >= 0.9 * runs as f64, "{safe} of {runs}");
    assert!(median <= 15, "median {median}");
}

/// With a known variance the mixture e-process is exactly valid: at most alpha. With the plug-in
/// variance (the default) it is valid only asymptotically: over 20 looks at alpha 0.05 it rolled
/// back 5.48% of 20 000 identical-arm canaries (seeds 100..110, burn-in 5; the known-variance
/// version 1.39%), so that case is held to its measured rate plus 3 sigma, not to alpha.
#[test]
fn mean_shift_identical_arms_rarely_roll_back() {
    for (seed, known) in [(41, true), (42, false)] {
        let rate_bound = if known { 0.05 } else { 0.055 };
        let bound = rate_bound + three_sigma(rate_bound, RUNS);
        let mut rng = Rng(seed);
        let mut crossed = 0;
        for _ in 0..RUNS {
            let mut config = MeanShiftEProcessConfig::new();
            if known {
                config = config.variance(2.0);
            }
            let mut e = MeanShiftEProcess::new(config).unwrap();
            for _ in 0..LOOKS {
                e.update(Arms {
                    baseline: 100.0 + rng.normal(),
                    canary: 100.0 + rng.normal(),
                })
                .unwrap();
                if e.rejects(0.05).unwrap() {
                    crossed += 1;
                    break;
                }
            }
        }
        let rate = crossed as f64 / RUNS as f64;
        eprintln!(
            "A/A mean shift (known variance {known}, seed {seed}): {crossed}/{RUNS} = {rate}"
        );
        assert!(rate <= bound, "known {known}: {rate} > {bound}");
    }
}

#[test]
fn mean_shift_detects_a_one_sigma_regression() {
    let mut rng = Rng(43);
    let runs = 1000;
    let mut firsts = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut e = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
        let mut first = u64::MAX;
        for t in 1..=LOOKS {
            // The difference has sd √2; the canary is √2 slower on average.
            e.update(Arms {
                baseline: 100.0 + rng.normal(),
                canary: 100.0 + 2f64.sqrt() + rng.normal(),
            })
            .unwrap();
            if e.rejects(0.05).unwrap() {
                first = t;
                break;
            }
        }
        firsts.push(first);
    }
    let (median, p95) = median_p95(firsts);
    eprintln!("mean shift of one sd (seed 43, {runs} runs): median {median}, p95 {p95}");
    assert!(median <= 10, "median {median}");
    assert!(p95 <= LOOKS, "95th percentile {p95}");
}

#[test]
fn srm_identical_split_rarely_fires_and_a_real_mismatch_does() {
    let bound = 0.05 + three_sigma(0.05, RUNS);
    let mut rng = Rng(51);
    let config = SrmEProcessConfig::new(vec![0.9, 0.1]);
    let mut crossed = 0;
    for _ in 0..RUNS {
        let mut e = SrmEProcess::new(config.clone()).unwrap();
        for _ in 0..LOOKS {
            // Poisson arrivals per arm: given the total, the split is multinomial.
            e.update(&[rng.poisson(900.0), rng.poisson(100.0)]).unwrap();
            if e.rejects(0.05).unwrap() {
                crossed += 1;
                break;
            }
        }
    }
    let rate = crossed as f64 / RUNS as f64;
    eprintln!("A/A SRM (seed 51): {crossed}/{RUNS} = {rate}");
    assert!(rate <= bound, "{rate} > {bound}");
    // The canary gets 8% instead of 10%: found within 20 intervals of 1000 requests.
    let mut found = 0;
    for _ in 0..200 {
        let mut e = SrmEProcess::new(config.clone()).unwrap();
        for _ in 0..LOOKS {
            e.update(&[rng.poisson(920.0), rng.poisson(80.0)]).unwrap();
        }
        found += usize::from(e.p_value() <= 0.05);
    }
    assert!(found >= 190, "{found} of 200");
}

#[test]
fn an_improving_canary_is_not_rolled_back_by_the_one_sided_test() {
    let mut rng = Rng(22);
    let config = CountEProcessConfig::new(0.5);
    let crossed = (0..RUNS)
        .filter(|_| first_rollback(&mut rng, config, 0.5, LOOKS) != u64::MAX)
        .count();
    assert!(crossed as f64 / RUNS as f64 <= 0.01, "{crossed}/{RUNS}");
}

/// One ramped canary with a diurnal load: 20 intervals, the canary's share of traffic goes
/// 1% -> 5% -> 25% -> 50% every 5 intervals, the load swings by +-80% with a period of 20.
/// Returns the first interval where the varying-split e-process crosses 20.
fn ramped_canary(rng: &mut Rng, factor: f64) -> u64 {
    let mut e = VaryingSplitEProcess::new(VaryingSplitEProcessConfig::new()).unwrap();
    for t in 0..LOOKS {
        let share = [0.01, 0.05, 0.25, 0.5][(t / 5) as usize];
        let load = 1.0 + 0.8 * (std::f64::consts::TAU * t as f64 / 20.0).sin();
        let requests = 4_000.0 * load;
        let canary_requests = (requests * share).round() as u64;
        let baseline_requests = (requests * (1.0 - share)).round() as u64;
        let rate = 0.005;
        let canary = rng.poisson(rate * factor * canary_requests as f64);
        let baseline = rng.poisson(rate * baseline_requests as f64);
        e.update(
            Arms { baseline, canary },
            Arms {
                baseline: baseline_requests,
                canary: canary_requests,
            },
        )
        .unwrap();
        if e.rejects(0.05).unwrap() {
            return t + 1;
        }
    }
    u64::MAX
}

#[test]
fn varying_split_under_a_diurnal_load_keeps_its_level_and_finds_a_doubled_rate() {
    let bound = 0.05 + three_sigma(0.05, RUNS);
    let mut rng = Rng(61);
    let crossed = (0..RUNS)
        .filter(|_| ramped_canary(&mut rng, 1.0) != u64::MAX)
        .count();
    let rate = crossed as f64 / RUNS as f64;
    eprintln!("A/A varying split (seed 61): {crossed}/{RUNS} = {rate}");
    assert!(rate <= bound, "{rate} > {bound}");
    let mut rng = Rng(62);
    let firsts: Vec<u64> = (0..RUNS).map(|_| ramped_canary(&mut rng, 2.0)).collect();
    let (median, p95) = median_p95(firsts);
    eprintln!("doubled rate, varying split (seed 62): median {median}, p95 {p95}");
    assert!(median <= 15 && p95 <= LOOKS, "median {median}, p95 {p95}");
}

#[test]
fn varying_split_e_value_is_the_grid_mixture_of_binomial_likelihood_ratios() {
    // E_t = (1/G) Σ_g Π_k (θ_kg/ρ_k)^C_k ((1-θ_kg)/(1-ρ_k))^B_k, with ρ_k the null share of
    // events (r₀ times the canary's traffic share, renormalised), θ_kg the share under the rate
    // ratio r₀ e^δ_g and δ_g = g ln(RR_max)/G on the alternative's side(s): computed here from
    // the binomial likelihoods, not the simplified step, after every interval of a ramp.
    let ramp: [((u64, u64), (u64, u64)); 6] = [
        ((3, 40), (1_000, 99_000)),
        ((0, 0), (0, 0)),
        ((9, 45), (5_000, 95_000)),
        ((0, 30), (5_000, 95_000)),
        ((40, 35), (25_000, 75_000)),
        ((12, 0), (50_000, 50_000)),
    ];
    for alternative in [
        Alternative::Greater,
        Alternative::Less,
        Alternative::TwoSided,
    ] {
        for null in [1.0, 1.1] {
            let (max_ratio, grid_points) = (5.0_f64, 4_u64);
            let config = VaryingSplitEProcessConfig::new()
                .alternative(alternative)
                .max_rate_ratio(max_ratio)
                .grid_points(grid_points)
                .null_rate_ratio(null);
            let mut e = VaryingSplitEProcess::new(config).unwrap();
            assert_eq!((e.log_e_value(), e.rate_ratio_estimate()), (0.0, null));
            let step = max_ratio.ln() / grid_points as f64;
            let grid: Vec<f64> = (1..=grid_points)
                .flat_map(|g| {
                    let d = g as f64 * step;
                    match alternative {
                        Alternative::Greater => vec![d],
                        Alternative::Less => vec![-d],
                        Alternative::TwoSided => vec![d, -d],
                    }
                })
                .collect();
            let mut ln_lr = vec![0.0_f64; grid.len()];
            for (k, &((c, b), (ct, bt))) in ramp.iter().enumerate() {
                e.update(
                    Arms {
                        baseline: b,
                        canary: c,
                    },
                    Arms {
                        baseline: bt,
                        canary: ct,
                    },
                )
                .unwrap();
                if c + b > 0 {
                    let rho = null * ct as f64 / (null * ct as f64 + bt as f64);
                    for (l, &d) in ln_lr.iter_mut().zip(&grid) {
                        let theta = rho * d.exp() / (rho * d.exp() + 1.0 - rho);
                        *l += c as f64 * (theta / rho).ln()
                            + b as f64 * ((1.0 - theta) / (1.0 - rho)).ln();
                    }
                }
                let mean: f64 = ln_lr.iter().map(|l| l.exp()).sum::<f64>() / grid.len() as f64;
                let case = format!("{alternative:?}, r0 {null}, interval {k}: {e}");
                assert!(
                    (e.log_e_value() - mean.ln()).abs() < 1e-10,
                    "{case}: ln E {}",
                    mean.ln()
                );
                assert_eq!(e.intervals(), k as u64 + 1);
                let (ct, bt) = ramp[..=k]
                    .iter()
                    .fold((0, 0), |(x, y), &((c, b), _)| (x + c, y + b));
                let totals = format!("{ct} canary vs {bt} baseline events in {} intervals", k + 1);
                assert!(e.to_string().contains(&totals), "{case}");
                // The estimate: the grid ratio with the largest likelihood, r₀ while none beats
                // the null.
                let (best, at) =
                    ln_lr
                        .iter()
                        .zip(&grid)
                        .fold((0.0, 0.0), |b, (&l, &d)| if l > b.0 { (l, d) } else { b });
                assert!(best >= 0.0);
                assert!(
                    (e.rate_ratio_estimate() - null * f64::exp(at)).abs() < 1e-12,
                    "{case}"
                );
            }
        }
    }
}

/// A saved varying-split e-process is checked on load: one finite accumulator per grid point
/// (all 0 before any event), totals 0 before any interval, ln E recomputed from the
/// accumulators bit for bit, and the running maximum at least 0 and ln E.
#[test]
fn varying_split_saved_state_is_checked_on_load() {
    let config = VaryingSplitEProcessConfig::new()
        .alternative(Alternative::TwoSided)
        .grid_points(8);
    let mut e = VaryingSplitEProcess::new(config).unwrap();
    let fresh = serde_json::to_value(&e).unwrap();
    assert_eq!(
        serde_json::from_value::<VaryingSplitEProcess>(fresh.clone()).unwrap(),
        e
    );
    for (canary, baseline, canary_traffic) in [(3, 40, 1_000), (12, 38, 5_000), (40, 30, 25_000)] {
        e.update(
            Arms { baseline, canary },
            Arms {
                baseline: 100_000 - canary_traffic,
                canary: canary_traffic,
            },
        )
        .unwrap();
    }
    let log_e = e.log_e_value();
    assert!(log_e > 1.0, "{e}");
    let saved = serde_json::to_value(&e).unwrap();
    assert_eq!(
        serde_json::from_value::<VaryingSplitEProcess>(saved.clone()).unwrap(),
        e
    );
    let refused = |base: &serde_json::Value, key: &str, value: serde_json::Value, what: &str| {
        let mut json = base.clone();
        json[key] = value.clone();
        let err = serde_json::from_value::<VaryingSplitEProcess>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(what), "{key} = {value}: {err}");
    };
    let nudged = f64::from_bits(log_e.to_bits() + 1);
    refused(&saved, "log_e", serde_json::json!(nudged), "log_e");
    refused(
        &saved,
        "max_log_e",
        serde_json::json!(log_e - 1e-9),
        "max_log_e",
    );
    refused(&saved, "max_log_e", serde_json::json!(-1.0), "max_log_e");
    // An edited accumulator moves the recomputed ln E away from the saved one.
    let mut lr = saved["log_lr"].clone();
    lr[0] = serde_json::json!(lr[0].as_f64().unwrap() + 1.0);
    refused(&saved, "log_lr", lr, "log_e");
    refused(
        &saved,
        "log_lr",
        serde_json::json!(vec![0.0; 15]),
        "15 accumulators for a grid of 16",
    );
    refused(
        &saved,
        "intervals",
        serde_json::json!(0),
        "before any interval",
    );
    refused(
        &saved,
        "canary_events",
        serde_json::json!((1_u64 << 53) + 1),
        "2^53",
    );
    refused(
        &fresh,
        "log_lr",
        serde_json::json!(vec![0.5; 16]),
        "all 0 before any event",
    );
    refused(&fresh, "log_e", serde_json::json!(0.1), "log_e");
    refused(&saved, "extra", serde_json::json!(1), "unknown field");
    // A raised running maximum depends on the path alone: it loads.
    let mut raised = saved.clone();
    raised["max_log_e"] = serde_json::json!(log_e + 3.0);
    let raised: VaryingSplitEProcess = serde_json::from_value(raised).unwrap();
    assert_eq!(raised.max_log_e_value(), log_e + 3.0);
}

#[test]
fn varying_split_with_a_constant_split_and_bad_input() {
    let mut e = VaryingSplitEProcess::new(VaryingSplitEProcessConfig::new()).unwrap();
    for _ in 0..10 {
        e.update(
            Arms {
                baseline: 5,
                canary: 5,
            },
            Arms {
                baseline: 1000,
                canary: 1000,
            },
        )
        .unwrap();
    }
    assert!(e.log_e_value() < 0.0, "{e}");
    e.update(
        Arms {
            baseline: 0,
            canary: 0,
        },
        Arms {
            baseline: 0,
            canary: 0,
        },
    )
    .unwrap(); // an empty interval carries no information
    assert_eq!(e.intervals(), 11);
    let before = e.clone();
    assert!(matches!(
        e.update(
            Arms {
                baseline: 0,
                canary: 1
            },
            Arms {
                baseline: 10,
                canary: 0
            }
        ),
        Err(Error::InvalidCounts {
            field: "canary_traffic",
            ..
        })
    ));
    assert!(matches!(
        e.update(
            Arms {
                baseline: 1 << 54,
                canary: 0
            },
            Arms {
                baseline: 1,
                canary: 1
            }
        ),
        Err(Error::InvalidCounts {
            field: "baseline_events",
            ..
        })
    ));
    assert_eq!(e, before);
    for config in [
        VaryingSplitEProcessConfig::new().max_rate_ratio(1.0),
        VaryingSplitEProcessConfig::new().grid_points(0),
        VaryingSplitEProcessConfig::new().grid_points(5000),
    ] {
        assert!(matches!(
            VaryingSplitEProcess::new(config),
            Err(Error::InvalidParameter { .. })
        ));
    }
    let mut big = VaryingSplitEProcess::new(
        VaryingSplitEProcessConfig::new().alternative(Alternative::TwoSided),
    )
    .unwrap();
    big.update(
        Arms {
            baseline: 0,
            canary: 1_000_000_000_000,
        },
        Arms {
            baseline: 1_000_000_000_000,
            canary: 1,
        },
    )
    .unwrap();
    assert!(big.e_value().is_finite() && big.e_value() > 1e300, "{big}");
    assert!(
        big.to_string().starts_with(
            "varying-split count e-process (two-sided, rate ratios up to 10, 64 grid points)"
        ),
        "{big}"
    );
}

#[test]
fn rollback_threshold_is_k_over_alpha() {
    assert_eq!(rollback_threshold(0.05, 4).unwrap(), 80.0);
    assert!(matches!(
        rollback_threshold(0.0, 4),
        Err(Error::InvalidParameter { field: "alpha", .. })
    ));
    assert!(matches!(
        rollback_threshold(0.05, 0),
        Err(Error::InvalidParameter {
            field: "metrics",
            ..
        })
    ));
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_the_state_alone() {
    let mut e = counts(0.5, 10.0, Alternative::Greater);
    e.update(Arms {
        baseline: 1,
        canary: 3,
    })
    .unwrap();
    let before = e.clone();
    let err = e
        .update(Arms {
            baseline: 0,
            canary: 1 << 54,
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "canary: 18014398509481984 is above the supported maximum 2^53 = 9007199254740992"
    );
    assert!(matches!(
        e.update(Arms {
            baseline: 1 << 53,
            canary: 0
        }),
        Err(Error::InvalidCounts {
            field: "baseline",
            ..
        })
    ));
    assert_eq!(e, before);
    for bad in [0.0, 1.0, f64::NAN, -0.1] {
        assert!(matches!(
            e.rejects(bad),
            Err(Error::InvalidParameter { field: "alpha", .. })
        ));
    }
    // The margin must be finite and at least 0: each half of the rule refuses on its own.
    for bad in [f64::NAN, f64::INFINITY, -0.01] {
        assert!(
            matches!(
                e.is_safe(bad),
                Err(Error::InvalidParameter {
                    field: "margin",
                    ..
                })
            ),
            "margin {bad}"
        );
    }
    assert!(e.is_safe(0.0).is_ok_and(|safe| !safe));
    assert!(matches!(
        CountEProcess::new(CountEProcessConfig::new(0.5).alpha(1.5)),
        Err(Error::InvalidParameter { field: "alpha", .. })
    ));

    let mut m = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    m.update(Arms {
        baseline: 2.0,
        canary: 1.0,
    })
    .unwrap();
    let before = m.clone();
    assert!(matches!(
        m.update(Arms {
            baseline: 2.0,
            canary: f64::NAN
        }),
        Err(Error::InvalidParameter {
            field: "canary",
            ..
        })
    ));
    assert!(matches!(
        m.update(Arms {
            baseline: f64::INFINITY,
            canary: 1.0
        }),
        Err(Error::InvalidParameter {
            field: "baseline",
            ..
        })
    ));
    assert!(matches!(
        m.update(Arms {
            baseline: -f64::MAX,
            canary: f64::MAX
        }),
        Err(Error::InvalidParameter {
            field: "canary - baseline",
            ..
        })
    ));
    assert_eq!(m, before);
    for config in [
        MeanShiftEProcessConfig::new().variance(0.0),
        MeanShiftEProcessConfig::new().variance(f64::NAN),
        MeanShiftEProcessConfig::new().target_intervals(-1.0),
        MeanShiftEProcessConfig::new().target_intervals(0.0),
        MeanShiftEProcessConfig::new().null_shift(f64::INFINITY),
    ] {
        assert!(matches!(
            MeanShiftEProcess::new(config),
            Err(Error::InvalidParameter { .. })
        ));
    }

    let mut s = SrmEProcess::new(SrmEProcessConfig::new(vec![0.5, 0.5])).unwrap();
    assert!(matches!(
        s.update(&[1, 2, 3]),
        Err(Error::InvalidCounts {
            field: "counts",
            ..
        })
    ));
    for shares in [
        vec![1.0],
        vec![0.5, 0.6],
        vec![1.0, 0.0],
        vec![f64::NAN, 0.5],
    ] {
        assert!(matches!(
            SrmEProcess::new(SrmEProcessConfig::new(shares)),
            Err(Error::InvalidCounts {
                field: "shares",
                ..
            })
        ));
    }
    assert!(matches!(
        SrmEProcess::new(SrmEProcessConfig::new(vec![0.5, 0.5]).concentration(0.0)),
        Err(Error::InvalidParameter {
            field: "concentration",
            ..
        })
    ));
}

#[test]
fn display_lines_for_ci_logs() {
    let mut e = counts(0.5, 1.0, Alternative::TwoSided);
    e.update(Arms {
        baseline: 0,
        canary: 3,
    })
    .unwrap();
    let line = e.to_string();
    assert!(
        line.starts_with(
            "count e-process (two-sided, share 0.5, k = 1): 3 canary vs 0 baseline events in 1 intervals, E = 2.5, p = 0.4, rate ratio inf ["
        ),
        "{line}"
    );
    let mut s = SrmEProcess::new(SrmEProcessConfig::new(vec![0.9, 0.1])).unwrap();
    s.update(&[900, 100]).unwrap();
    assert!(s.to_string().starts_with(
        "SRM e-process (2 arms, k = 100): configured [0.9, 0.1], observed [0.9, 0.1] of 1000 units in 1 intervals, E = "
    ), "{s}");
    let m = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    assert!(
        m.to_string()
            .starts_with("mean-shift e-process (greater, null shift 0, plug-in variance NaN)"),
        "{m}"
    );
}

#[test]
fn confidence_sequence_ends_are_where_the_mixture_reaches_one_over_alpha() {
    // The share's sequence is `{θ : BF(θ) < 1/alpha}` with the Beta(kρ, k(1-ρ)) mixture's Bayes
    // factor `BF(θ) = B(a+C, b+B) / (B(a, b) θ^C (1-θ)^B)` (savvi's set). Each finite end, found
    // by bisection on a rewritten form, must put ln BF at ln(1/alpha): checked here from the
    // definition with statrs' ln Γ.
    use statrs::function::gamma::ln_gamma;
    let ln_beta = |x: f64, y: f64| ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y);
    for (share, k, canary, baseline) in [
        (0.5, 10.0, 30_u64, 20_u64),
        (0.2, 10.0, 3, 80),
        (0.2, 50.0, 400, 1_000),
        (0.9, 5.0, 7, 0),
        (0.3, 10.0, 0, 12),
    ] {
        let config = CountEProcessConfig::new(share).concentration(k);
        let alpha = config.alpha;
        let mut e = CountEProcess::new(config).unwrap();
        e.update(Arms { baseline, canary }).unwrap();
        let (a, b) = (k * share, k * (1.0 - share));
        let (c, n) = (canary as f64, baseline as f64);
        let ln_bf =
            |t: f64| ln_beta(a + c, b + n) - ln_beta(a, b) - c * t.ln() - n * (1.0 - t).ln();
        let cs = e.confidence_sequence();
        let case = format!("{canary}/{baseline} at share {share}, k {k}: {cs}");
        assert!(cs.lower < cs.upper, "{case}");
        for (end, finite) in [(cs.lower, canary > 0), (cs.upper, baseline > 0)] {
            if finite {
                let gap = ln_bf(end) + alpha.ln();
                assert!(
                    gap.abs() < 1e-10,
                    "{case}: ln BF - ln(1/alpha) = {gap} at {end}"
                );
            }
        }
        assert_eq!(cs.lower == 0.0, canary == 0, "{case}");
        assert_eq!(cs.upper == 1.0, baseline == 0, "{case}");
        // Inside, the mixture has not reached 1/alpha.
        let mid = 0.5 * (cs.lower + cs.upper);
        assert!(ln_bf(mid) < -alpha.ln(), "{case}");
    }
}

#[test]
fn confidence_sequence_shrinks_with_events_of_one_arm_only() {
    // Before any event the share's sequence is all of [0, 1]; 200 baseline events and none in
    // the canary (half the traffic) leave only small shares: it is not [0, 1] until both arms
    // have events.
    let mut e = counts(0.5, 10.0, Alternative::Greater);
    let cs = e.confidence_sequence();
    assert_eq!((cs.lower, cs.upper), (0.0, 1.0));
    e.update(Arms {
        baseline: 200,
        canary: 0,
    })
    .unwrap();
    let cs = e.confidence_sequence();
    assert!(cs.lower == 0.0 && cs.upper < 0.1, "{cs}");
    assert!(e.is_safe(0.0).unwrap());
    // And the mirror: canary events only.
    let mut e = counts(0.5, 10.0, Alternative::Greater);
    e.update(Arms {
        baseline: 0,
        canary: 200,
    })
    .unwrap();
    let cs = e.confidence_sequence();
    assert!(cs.lower > 0.9 && cs.upper == 1.0, "{cs}");
}

#[test]
fn confidence_sequence_covers_and_shrinks() {
    let mut e = counts(0.2, 10.0, Alternative::Greater);
    let cs0 = e.rate_ratio_confidence_sequence();
    assert_eq!((cs0.lower, cs0.upper), (0.0, f64::INFINITY));
    for _ in 0..50 {
        e.update(Arms {
            baseline: 80,
            canary: 20,
        })
        .unwrap(); // exactly the configured share
    }
    let cs = e.rate_ratio_confidence_sequence();
    assert!(cs.contains(1.0), "{cs}");
    assert!(cs.upper < 1.15 && cs.lower > 0.85, "{cs}");
    assert!(e.is_safe(0.15).unwrap());
    // Safe means strictly below `1 + margin`: an upper end exactly on it is not (`upper - 1` is
    // exact for an upper end between 1 and 2).
    assert!(!e.is_safe(cs.upper - 1.0).unwrap(), "{cs}");
    assert!(e.is_safe((cs.upper - 1.0) * 1.001).unwrap(), "{cs}");
    assert!((cs.level - 0.95).abs() < 1e-15);
    let theta = e.confidence_sequence();
    assert_eq!(theta.level, cs.level);
    assert!(
        theta.contains(0.2) && theta.lower > 0.17 && theta.upper < 0.23,
        "{theta}"
    );
}

/// One interval's increments for the property tests.
fn increments() -> impl Strategy<Value = Vec<(u64, u64)>> {
    prop::collection::vec((0u64..50, 0u64..50), 1..30)
}

fn alternatives() -> impl Strategy<Value = Alternative> {
    prop_oneof![
        Just(Alternative::Greater),
        Just(Alternative::TwoSided),
        Just(Alternative::Less)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn identical_counts_never_cross(
        steps in prop::collection::vec(0u64..40, 1..40),
        k in 0.1f64..200.0,
        alternative in alternatives(),
    ) {
        let mut e = counts(0.5, k, alternative);
        for c in steps {
            e.update(Arms { baseline: c, canary: c }).unwrap();
            prop_assert!(!e.rejects(0.05).unwrap(), "{}", e);
            prop_assert!(e.log_e_value() <= 1e-9, "{}", e);
        }
    }

    #[test]
    fn serialised_state_resumes_bit_identically(
        steps in increments(),
        cut in 0usize..30,
        share in 0.01f64..0.99,
        alternative in alternatives(),
    ) {
        let config = CountEProcessConfig::new(share).alternative(alternative);
        let mut whole = CountEProcess::new(config).unwrap();
        let mut part = CountEProcess::new(config).unwrap();
        let mut mean_whole = MeanShiftEProcess::new(MeanShiftEProcessConfig::new().burn_in(2)).unwrap();
        let mut mean_part = mean_whole.clone();
        let mut srm_whole = SrmEProcess::new(SrmEProcessConfig::new(vec![share, 1.0 - share])).unwrap();
        let mut srm_part = srm_whole.clone();
        let mut split_whole = VaryingSplitEProcess::new(
            VaryingSplitEProcessConfig::new().alternative(alternative),
        )
        .unwrap();
        let mut split_part = split_whole.clone();
        for (i, &(c, b)) in steps.iter().enumerate() {
            if i == cut {
                part = serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap();
                mean_part = serde_json::from_str(&serde_json::to_string(&mean_part).unwrap()).unwrap();
                srm_part = serde_json::from_str(&serde_json::to_string(&srm_part).unwrap()).unwrap();
                split_part = serde_json::from_str(&serde_json::to_string(&split_part).unwrap()).unwrap();
            }
            whole.update(Arms { baseline: b, canary: c }).unwrap();
            part.update(Arms { baseline: b, canary: c }).unwrap();
            let (x, y) = (c as f64 * 0.37, b as f64 * 0.41);
            mean_whole.update(Arms { baseline: y, canary: x }).unwrap();
            mean_part.update(Arms { baseline: y, canary: x }).unwrap();
            srm_whole.update(&[c, b]).unwrap();
            srm_part.update(&[c, b]).unwrap();
            split_whole.update(Arms { baseline: b, canary: c }, Arms { baseline: 100 + c, canary: 100 + b }).unwrap();
            split_part.update(Arms { baseline: b, canary: c }, Arms { baseline: 100 + c, canary: 100 + b }).unwrap();
        }
        prop_assert_eq!(split_whole.log_e_value().to_bits(), split_part.log_e_value().to_bits());
        prop_assert_eq!(&split_whole, &split_part);
        prop_assert_eq!(whole.log_e_value().to_bits(), part.log_e_value().to_bits());
        prop_assert_eq!(&whole, &part);
        prop_assert_eq!(mean_whole.log_e_value().to_bits(), mean_part.log_e_value().to_bits());
        prop_assert_eq!(&mean_whole, &mean_part);
        prop_assert_eq!(srm_whole.log_e_value().to_bits(), srm_part.log_e_value().to_bits());
        prop_assert_eq!(&srm_whole, &srm_part);
    }

    #[test]
    fn e_values_are_finite_and_non_negative_up_to_1e12(
        canary in 0u64..=1_000_000_000_000,
        baseline in 0u64..=1_000_000_000_000,
        share in 0.001f64..0.999,
        k in 0.01f64..1000.0,
        alternative in alternatives(),
    ) {
        let mut e = counts(share, k, alternative);
        e.update(Arms { baseline, canary }).unwrap();
        e.update(Arms { baseline: baseline / 7, canary: canary / 3 }).unwrap();
        let v = e.e_value();
        prop_assert!(v.is_finite() && v >= 0.0, "{}", e);
        prop_assert!(!e.log_e_value().is_nan(), "{}", e);
        prop_assert!((0.0..=1.0).contains(&e.p_value()), "{}", e);
        let cs = e.confidence_sequence();
        prop_assert!(cs.lower >= 0.0 && cs.upper <= 1.0, "{}", e);
        let mut s = SrmEProcess::new(SrmEProcessConfig::new(vec![share, 1.0 - share]).concentration(k)).unwrap();
        s.update(&[canary, baseline]).unwrap();
        prop_assert!(s.e_value().is_finite() && s.e_value() >= 0.0, "{}", s);
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 11.3, 11.8 and 17: zero variance, loaded state, the anytime p-value

/// `ln ∫ exp(λ s - λ² v / 2) dF(λ)` for the normal mixing distribution `F = N(0, 1/ρ)` (two-sided)
/// or its half on the harmful side (one-sided), by Simpson's rule over ±14 posterior standard
/// deviations: the definition of the normal-mixture e-value, without its closed form.
fn ln_normal_mixture(s: f64, v: f64, rho: f64, alternative: Alternative) -> f64 {
    let w = v + rho;
    let (centre, sd) = (s / w, 1.0 / w.sqrt());
    let (mut lo, mut hi) = (centre - 14.0 * sd, centre + 14.0 * sd);
    match alternative {
        Alternative::Greater => lo = lo.max(0.0),
        Alternative::Less => hi = hi.min(0.0),
        Alternative::TwoSided => {}
    }
    let ln_density = 0.5 * (rho / (2.0 * std::f64::consts::PI)).ln()
        + if alternative == Alternative::TwoSided {
            0.0
        } else {
            std::f64::consts::LN_2
        };
    let f = |l: f64| l * s - 0.5 * l * l * w;
    if hi <= lo {
        return f64::NEG_INFINITY;
    }
    let n = 4_000; // even
    let h = (hi - lo) / n as f64;
    let peak = f(centre.clamp(lo, hi));
    let sum: f64 = (0..=n)
        .map(|i| {
            let weight = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            weight * (f(lo + h * i as f64) - peak).exp()
        })
        .sum();
    peak + (sum * h / 3.0).ln() + ln_density
}

#[test]
fn mean_shift_e_value_and_sequence_are_the_normal_mixture_integrals() {
    // Howard et al. (2021) §3.5: with S_t = Σ(d - θ₀), V_t = σ² t and the mixture precision
    // ρ = σ² t* / (2 ln(1/α) + ln(1 + 2 ln(1/α))), E_t is the integral above; the confidence
    // sequence is the running intersection of `{θ : two-sided E_t(θ) < 1/α}`. Checked after every
    // interval, for each alternative, a null shift, a known and a plug-in variance.
    let diffs = [1.3, -0.4, 2.2, 0.9, 3.1, -1.0, 1.7, 2.5, 0.2, 1.1, 2.9, 0.6];
    for (alternative, known, null_shift, alpha) in [
        (Alternative::Greater, Some(4.0), 0.5, 0.05_f64),
        (Alternative::Greater, None, 0.0, 0.01),
        (Alternative::Less, Some(4.0), 0.5, 0.01),
        (Alternative::Less, None, 0.0, 0.05),
        (Alternative::TwoSided, Some(4.0), 0.5, 0.05),
        (Alternative::TwoSided, None, 0.0, 0.01),
    ] {
        let l = -2.0 * alpha.ln();
        let r = 10.0 / (l + l.ln_1p());
        {
            let mut config = MeanShiftEProcessConfig::new()
                .alternative(alternative)
                .null_shift(null_shift)
                .alpha(alpha)
                .burn_in(3);
            config.variance = known;
            let mut e = MeanShiftEProcess::new(config).unwrap();
            let (mut lower, mut upper) = (f64::NEG_INFINITY, f64::INFINITY);
            for t in 1..=diffs.len() {
                e.update(Arms {
                    baseline: 10.0,
                    canary: 10.0 + diffs[t - 1],
                })
                .unwrap();
                assert_eq!(e.intervals(), t as u64);
                let seen = &diffs[..t];
                let tf = t as f64;
                let mean = seen.iter().sum::<f64>() / tf;
                assert!((e.mean_difference() - mean).abs() < 1e-12, "t {t}");
                let s2 = match known {
                    Some(v) => v,
                    None if t >= 3 => {
                        seen.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (tf - 1.0)
                    }
                    None => {
                        assert_eq!(e.log_e_value(), 0.0);
                        assert!(e.variance().is_nan());
                        continue;
                    }
                };
                assert!((e.variance() - s2).abs() <= 1e-12 * s2, "t {t}");
                let sum: f64 = seen.iter().sum();
                let want = ln_normal_mixture(sum - tf * null_shift, s2 * tf, s2 * r, alternative);
                let case = format!("{alternative:?}, variance {known:?}, alpha {alpha}, t {t}");
                assert!(
                    (e.log_e_value() - want).abs() < 1e-10 * want.abs().max(1.0),
                    "{case}: ln E {} against the integral {want}",
                    e.log_e_value()
                );
                // This interval's two-sided set, by bisection on the integral.
                let outside = |theta: f64| {
                    ln_normal_mixture(sum - tf * theta, s2 * tf, s2 * r, Alternative::TwoSided)
                        >= -alpha.ln()
                };
                let far = 100.0 * s2.sqrt();
                let end = |mut inside: f64, mut out: f64| {
                    for _ in 0..64 {
                        let m = 0.5 * (inside + out);
                        if outside(m) {
                            out = m
                        } else {
                            inside = m
                        }
                    }
                    inside
                };
                lower = lower.max(end(mean, mean - far));
                upper = upper.min(end(mean, mean + far));
                let cs = e.confidence_sequence();
                assert_eq!(cs.level, 1.0 - alpha);
                assert!(
                    (cs.lower - lower).abs() < 1e-10 && (cs.upper - upper).abs() < 1e-10,
                    "{case}: {cs} against [{lower}, {upper}]"
                );
            }
        }
    }
}

#[test]
fn mean_shift_rejects_a_constant_nonzero_difference_with_zero_variance() {
    // A gauge at exactly 100 in the baseline and 150 in the canary, every interval: no variance
    // at all, and the strongest evidence of a shift there is.
    let mut gauge = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    for _ in 0..5 {
        gauge
            .update(Arms {
                baseline: 100.0,
                canary: 150.0,
            })
            .unwrap();
    }
    assert!(gauge.rejects(1e-12).unwrap());
    assert_eq!(gauge.p_value(), 0.0);
    assert_eq!(gauge.variance(), 0.0);
    let cs = gauge.confidence_sequence();
    assert_eq!((cs.lower, cs.upper), (50.0, 50.0));
    // Before the burn-in nothing is decided yet.
    let mut early = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    for _ in 0..4 {
        early
            .update(Arms {
                baseline: 100.0,
                canary: 150.0,
            })
            .unwrap();
    }
    assert_eq!(early.p_value(), 1.0);
    // The same constant difference on the harmless side, and no difference at all, never
    // reject; the two-sided test rejects either sign.
    let mut better = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    let mut same = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    let mut either =
        MeanShiftEProcess::new(MeanShiftEProcessConfig::new().alternative(Alternative::TwoSided))
            .unwrap();
    for _ in 0..8 {
        better
            .update(Arms {
                baseline: 150.0,
                canary: 100.0,
            })
            .unwrap();
        same.update(Arms {
            baseline: 100.0,
            canary: 100.0,
        })
        .unwrap();
        either
            .update(Arms {
                baseline: 150.0,
                canary: 100.0,
            })
            .unwrap();
    }
    assert_eq!(better.p_value(), 1.0);
    assert_eq!(better.e_value(), 0.0);
    // `Less` mirrors it: a constant drop is the strongest evidence, a constant rise none.
    let less = MeanShiftEProcessConfig::new().alternative(Alternative::Less);
    for (canary, log_e, p_value) in [(100.0, f64::INFINITY, 0.0), (150.0, f64::NEG_INFINITY, 1.0)] {
        let mut p = MeanShiftEProcess::new(less).unwrap();
        for _ in 0..6 {
            p.update(Arms {
                baseline: 125.0,
                canary,
            })
            .unwrap();
        }
        assert_eq!((p.log_e_value(), p.p_value()), (log_e, p_value), "{p}");
    }
    assert_eq!(same.p_value(), 1.0);
    assert_eq!(either.p_value(), 0.0);
    // On the null boundary itself the limit is the mixture's shrink factor sqrt(r/(t+r)): for
    // no difference against a null shift of 0, and for a constant 50 against a null shift of 50.
    let l = -2.0 * 0.05_f64.ln();
    let r = 10.0 / (l + l.ln_1p());
    let shrink = 0.5 * (r / (8.0 + r)).ln();
    assert!((same.log_e_value() - shrink).abs() < 1e-15, "{same}");
    for alternative in [
        Alternative::Greater,
        Alternative::Less,
        Alternative::TwoSided,
    ] {
        let config = MeanShiftEProcessConfig::new()
            .alternative(alternative)
            .null_shift(50.0);
        let mut on_null = MeanShiftEProcess::new(config).unwrap();
        for _ in 0..8 {
            on_null
                .update(Arms {
                    baseline: 100.0,
                    canary: 150.0,
                })
                .unwrap();
        }
        assert!((on_null.log_e_value() - shrink).abs() < 1e-15, "{on_null}");
    }
    // The state with an infinite e-value survives a round trip.
    let json = serde_json::to_string(&gauge).unwrap();
    let back: MeanShiftEProcess = serde_json::from_str(&json).unwrap();
    assert_eq!(back, gauge);
}

#[test]
fn mean_shift_refuses_totals_that_overflow_to_a_nan_e_value() {
    // S_t = Σd - t θ₀ and V_t = σ² t: with θ₀ = σ² = 1e308 both overflow at the second
    // interval, and z = S_t / sqrt(V_t + ρ) would be NaN. The update is refused and the state
    // kept.
    let config = MeanShiftEProcessConfig::new()
        .variance(1e308)
        .null_shift(1e308);
    let mut e = MeanShiftEProcess::new(config).unwrap();
    let same = Arms {
        baseline: 1.0,
        canary: 1.0,
    };
    e.update(same).unwrap();
    assert!(!e.log_e_value().is_nan());
    let before = e.clone();
    assert!(matches!(e.update(same), Err(Error::Degenerate { .. })));
    assert_eq!(e, before);
    assert_eq!(e.config(), &config);
    // A finite sum with a second moment past f64 (differences of ±1e200) is refused too.
    let mut wide = MeanShiftEProcess::new(MeanShiftEProcessConfig::new().burn_in(2)).unwrap();
    wide.update(Arms {
        baseline: 0.0,
        canary: 1e200,
    })
    .unwrap();
    assert!(matches!(
        wide.update(Arms {
            baseline: 1e200,
            canary: 0.0,
        }),
        Err(Error::Degenerate { .. })
    ));
    assert_eq!(wide.intervals(), 1);
}

#[test]
fn mean_shift_state_is_checked_on_load() {
    let mut p = MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap();
    for k in 0..6 {
        p.update(Arms {
            baseline: 100.0,
            canary: 101.0 + f64::from(k % 3),
        })
        .unwrap();
    }
    let json: serde_json::Value = serde_json::to_value(&p).unwrap();
    let load = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json.clone();
        edit(&mut v);
        serde_json::from_value::<MeanShiftEProcess>(v)
            .unwrap_err()
            .to_string()
    };
    // A negative second moment, a running maximum below the current e-value, a crossed
    // confidence sequence, an unknown field: each refused, naming the field.
    assert!(load(&|v| v["m2"] = (-1.0).into()).contains("m2"));
    assert!(load(&|v| v["max_log_e"] = (-1.0).into()).contains("max_log_e"));
    assert!(load(&|v| {
        v["log_e"] = 2.0.into();
        v["max_log_e"] = 1.0.into();
    })
    .contains("max_log_e"));
    assert!(load(&|v| v["cs_lower"] = "NaN".into()).contains("cs_lower"));
    assert!(load(&|v| v["bias"] = 1.0.into()).contains("unknown field"));
    assert!(load(&|v| {
        v["intervals"] = 0.into();
    })
    .contains("intervals"));
    // Before any interval every sum must be 0: each one alone is refused.
    for key in ["sum", "mean", "m2"] {
        let fresh =
            serde_json::to_value(MeanShiftEProcess::new(MeanShiftEProcessConfig::new()).unwrap())
                .unwrap();
        let mut edited = fresh.clone();
        edited[key] = 1.0.into();
        let e = serde_json::from_value::<MeanShiftEProcess>(edited).unwrap_err();
        assert!(e.to_string().contains("intervals"), "{key}: {e}");
        assert!(
            serde_json::from_value::<MeanShiftEProcess>(fresh).is_ok_and(|f| f.intervals() == 0)
        );
    }
    // The untouched state loads.
    assert_eq!(
        serde_json::from_value::<MeanShiftEProcess>(json).unwrap(),
        p
    );
}

#[test]
fn anytime_p_value_is_the_running_minimum_of_one_over_e() {
    // Strong evidence first, then its reversal: the current e-value falls back, but the
    // anytime-valid p-value keeps the smallest 1/E seen (it rejected for good).
    let mut e = CountEProcess::new(CountEProcessConfig::new(0.5)).unwrap();
    e.update(Arms {
        baseline: 5,
        canary: 40,
    })
    .unwrap();
    let peak = e.e_value();
    assert!(peak > 100.0, "{peak}");
    e.update(Arms {
        baseline: 200,
        canary: 0,
    })
    .unwrap();
    assert!(e.e_value() < 1.0, "{}", e.e_value());
    assert!(
        (e.p_value() - 1.0 / peak).abs() <= 1e-12 / peak,
        "{}",
        e.p_value()
    );
    assert!(e.p_value() < 1.0 / e.e_value());
    let mut v = VaryingSplitEProcess::new(VaryingSplitEProcessConfig::new()).unwrap();
    v.update(
        Arms {
            baseline: 5,
            canary: 40,
        },
        Arms {
            baseline: 10_000,
            canary: 10_000,
        },
    )
    .unwrap();
    let peak = v.e_value();
    v.update(
        Arms {
            baseline: 300,
            canary: 0,
        },
        Arms {
            baseline: 10_000,
            canary: 10_000,
        },
    )
    .unwrap();
    assert!(v.e_value() < peak);
    assert!((v.p_value() - 1.0 / peak).abs() <= 1e-9 / peak);
}

/// The count e-process keeps each arm's events and the intervals added, and its share
/// estimate is the canary's share of them.
#[test]
fn srm_e_process_keeps_its_counts_and_refuses_what_it_cannot_hold() {
    let mut s = SrmEProcess::new(SrmEProcessConfig::new(vec![0.9, 0.1])).unwrap();
    assert_eq!((s.counts(), s.intervals()), (&[0, 0][..], 0));
    s.update(&[900, 100]).unwrap();
    s.update(&[880, 95]).unwrap();
    assert_eq!((s.counts(), s.intervals()), (&[1_780, 195][..], 2));
    let before = s.clone();
    // A running total past 2^53 (no u64 overflow needed) is refused, and nothing changes.
    let e = s.update(&[1 << 53, 0]).unwrap_err();
    assert!(
        e.to_string()
            .contains("arm 0: running total 1780 + 9007199254740992"),
        "{e}"
    );
    assert_eq!(s, before);
    // Exactly 2^53 is allowed.
    s.update(&[(1 << 53) - 1_780, 0]).unwrap();
    // Saved state is checked on load: the counts must fit the shares, and the e-value is
    // recomputed from them (an edited one would claim or hide a mismatch).
    let saved = serde_json::to_value(&before).unwrap();
    let back: SrmEProcess = serde_json::from_value(saved.clone()).unwrap();
    assert_eq!(back, before);
    let load = |key: &str, value: serde_json::Value| {
        let mut json = saved.clone();
        json[key] = value;
        serde_json::from_value::<SrmEProcess>(json)
            .unwrap_err()
            .to_string()
    };
    assert!(load("counts", serde_json::json!([1, 2, 3])).contains("3 running counts for 2"));
    assert!(load("counts", serde_json::json!([1_780, 196])).contains("log_e"));
    assert!(load("log_e", serde_json::json!(5.0)).contains("log_e"));
    assert!(load("max_log_e", serde_json::json!(-1.0)).contains("max_log_e"));
    assert!(load("intervals", serde_json::json!(0)).contains("before any interval"));
    assert!(load("counts", serde_json::json!([1_u64 << 54, 0])).contains("2^53"));
    assert!(load("counts", serde_json::json!([(1_u64 << 53) + 1, 0])).contains("2^53"));
    // A state that reached exactly 2^53 reloads as it was.
    let full: SrmEProcess = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
    assert_eq!((full.counts(), &full), (&[1_u64 << 53, 195][..], &s));
    // An update with another number of arms is refused.
    assert!(matches!(
        s.update(&[1, 1, 1]),
        Err(Error::InvalidCounts {
            field: "counts",
            ..
        })
    ));
}

#[test]
fn count_e_process_keeps_its_totals() {
    let mut e = CountEProcess::new(CountEProcessConfig::new(0.5)).unwrap();
    assert_eq!(
        (e.canary_events(), e.baseline_events(), e.intervals()),
        (0, 0, 0)
    );
    for (canary, baseline) in [(3, 5), (0, 4), (7, 2)] {
        e.update(Arms { baseline, canary }).unwrap();
    }
    assert_eq!(
        (e.canary_events(), e.baseline_events(), e.intervals()),
        (10, 11, 3)
    );
    assert_eq!(e.share_estimate(), 10.0 / 21.0);
}

/// A saved count e-process is checked on load: ln E is recomputed from the totals, the running
/// maximum and the running confidence sequence must fit them, and a fresh state is the fresh
/// one. An edited state would claim or hide a rollback, or claim safety.
#[test]
fn count_e_process_saved_state_is_checked_on_load() {
    for alternative in [Alternative::TwoSided, Alternative::Greater] {
        let mut e = counts(0.3, 10.0, alternative);
        let fresh = serde_json::to_value(&e).unwrap();
        for (canary, baseline) in [(9, 11), (14, 20), (30, 12)] {
            e.update(Arms { baseline, canary }).unwrap();
        }
        let saved = serde_json::to_value(&e).unwrap();
        let back: CountEProcess = serde_json::from_value(saved.clone()).unwrap();
        assert_eq!(back, e);
        let (log_e, cs) = (e.log_e_value(), e.confidence_sequence());
        assert!(cs.lower > 0.0 && cs.upper < 1.0, "{cs:?}");
        let load = |base: &serde_json::Value, key: &str, value: serde_json::Value| {
            let mut json = base.clone();
            json[key] = value;
            serde_json::from_value::<CountEProcess>(json).map_err(|e| e.to_string())
        };
        let refused =
            |base: &serde_json::Value, key: &str, value: serde_json::Value, what: &str| {
                let err = load(base, key, value.clone()).unwrap_err();
                assert!(err.contains(what), "{key} = {value}: {err}");
            };
        // The totals decide ln E, bit for bit.
        refused(&saved, "canary_events", serde_json::json!(54), "log_e");
        refused(&saved, "baseline_events", serde_json::json!(42), "log_e");
        let nudged = f64::from_bits(log_e.to_bits() + 1);
        refused(&saved, "log_e", serde_json::json!(nudged), "log_e");
        refused(
            &saved,
            "canary_events",
            serde_json::json!((1_u64 << 53) + 1),
            "2^53",
        );
        // The running maximum: at least 0 and at least ln E; a raised one depends on the path
        // and loads.
        refused(&saved, "max_log_e", serde_json::json!(-0.5), "max_log_e");
        let below = log_e - 1e-9;
        assert!(log_e > 1.0, "{log_e}");
        refused(&saved, "max_log_e", serde_json::json!(below), "max_log_e");
        let raised = load(&saved, "max_log_e", serde_json::json!(log_e.max(0.0) + 5.0)).unwrap();
        assert_eq!(raised.max_log_e_value(), log_e.max(0.0) + 5.0);
        // The running sequence: inside this interval's set and [0, 1]; narrowed inside it loads.
        refused(&saved, "theta_lower", serde_json::json!(0.0), "theta_lower");
        refused(&saved, "theta_lower", serde_json::json!(1.5), "theta_lower");
        refused(&saved, "theta_upper", serde_json::json!(1.0), "theta_upper");
        refused(
            &saved,
            "theta_upper",
            serde_json::json!(-0.5),
            "theta_upper",
        );
        let mid = 0.5 * (cs.lower + cs.upper);
        let narrowed = load(&saved, "theta_lower", serde_json::json!(mid)).unwrap();
        assert_eq!(narrowed.confidence_sequence().lower, mid);
        // An empty running sequence (lower > upper, chance at most alpha) loads.
        let mut empty = saved.clone();
        empty["theta_lower"] = serde_json::json!(cs.upper);
        empty["theta_upper"] = serde_json::json!(cs.lower);
        let empty: CountEProcess = serde_json::from_value(empty).unwrap();
        assert!(empty.confidence_sequence().lower > empty.confidence_sequence().upper);
        // Before any interval: no events, ln E = 0, the sequence [0, 1].
        refused(
            &saved,
            "intervals",
            serde_json::json!(0),
            "before any interval",
        );
        refused(&fresh, "log_e", serde_json::json!(1e-300), "log_e");
        refused(&fresh, "theta_lower", serde_json::json!(0.1), "theta_lower");
        refused(&fresh, "theta_upper", serde_json::json!(0.9), "theta_upper");
        let back: CountEProcess = serde_json::from_value(fresh.clone()).unwrap();
        assert_eq!(back, counts(0.3, 10.0, alternative));
        refused(&saved, "extra", serde_json::json!(1), "unknown field");
        let mut bad = saved.clone();
        bad["config"]["canary_share"] = serde_json::json!(1.0);
        let err = serde_json::from_value::<CountEProcess>(bad).unwrap_err();
        assert!(err.to_string().contains("canary_share"), "{err}");
    }
    // Totals of exactly 2^53 reload.
    let mut e = counts(0.5, 10.0, Alternative::TwoSided);
    e.update(Arms {
        baseline: 1 << 52,
        canary: 1 << 53,
    })
    .unwrap();
    let back: CountEProcess = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
    assert_eq!(back, e);
}
