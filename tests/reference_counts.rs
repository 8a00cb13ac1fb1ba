//! Count statistics, p.adjust and SRM against the R reference vectors in
//! `fixtures/reference/counts.json` (written by `fixtures/generate_counts.R`) and the SciPy
//! cross-checks in `fixtures/reference/counts_scipy.json` (`fixtures/generate_counts.py`).
//!
//! Tolerances:
//! - statistics, closed-form and exact-sum p-values, estimates, Clopper-Pearson limits:
//!   1e-9 relative, with an absolute floor of 1e-300 for values that underflow;
//!   (observed: at most 2e-13 relative, at p-values near 1e-260);
//! - R's `fisher.test` odds ratio and interval come from `uniroot` at its default tolerance
//!   (`.Machine$double.eps^0.25` ≈ 1.2e-4 on its search variable), so R's numbers are only that
//!   close to the roots they define. The crate computes the roots themselves; they are checked
//!   at 1e-9 relative against `fixtures/reference/fisher_roots.json` (SciPy `brentq` at
//!   xtol 1e-14 on the definition, `fixtures/generate_fisher_roots.py`; observed: below 1e-12),
//!   and against R within R's tolerance: `|ψ - ψ_R| ≤ 1.25e-4` where `ψ ≤ 1`, `|1/ψ - 1/ψ_R|`
//!   above (observed: at most 1.1e-4);
//! - the huge-count cases (`binom_huge_*`, `poisson_huge_*`: 1e6 to 2^52 trials, p in {0.5, 0.01,
//!   1e-6}, x near n p, a few and 30-35 standard deviations out) at the same 1e-9, with one
//!   exception: R rounds `λ = a - (a + b) p` in `pbeta` (TOMS 708 `bratio`), which at 2^52 trials
//!   and p = 0.01 makes its p-values wrong by up to 1.1e-8 relative (6 cases differ from the
//!   50-digit values of `fixtures/reference/counts_mpmath.json` by more than 1e-10). Where R is
//!   more than 1e-10 from the high-precision value, the p-value is checked against that value
//!   instead (`huge_counts_match_high_precision` checks all of them at 1e-12; observed at most
//!   2.7e-13, in tails near 1e-265). Interval ends: within 7.1e-15 relative of R's `qbeta` (141
//!   of 236 bit-equal, the rest up to 52 units in the last place apart; the crate's end is the
//!   double nearest the root of its tail, and in 81 of the 95 that differ it has the smaller
//!   residual in R's own `pbeta`, in 7 the same). One two-sided p-value is 2.9e-321 in R and 0
//!   here and in mpmath (740 standard deviations out: R's count of "as improbable" values stops
//!   where `dbinom` underflows); the 1e-300 floor covers it;
//! - SciPy is checked at the same 1e-9: it agrees with R only to about 2e-10 relative (Fisher
//!   p-values with 1e6 trials, Clopper-Pearson limits), so R is the oracle the crate follows.

use crate::common::*;
use canary_verdict::stats::*;
use canary_verdict::Arms;
use canary_verdict::*;
use proptest::prelude::*;
use serde_json::Value;

const REL: f64 = 1e-9;
const ABS: f64 = 1e-300;
/// R's `uniroot` default tolerance, `.Machine$double.eps^0.25` ≈ 1.22e-4, rounded up.
const UNIROOT_TOL: f64 = 1.25e-4;
/// Tolerance against the 50-digit mpmath p-values of the huge-count cases.
const HIGH_PRECISION_REL: f64 = 1e-12;
/// R's p-value is replaced by the mpmath one where they are further apart than this.
const R_INACCURATE: f64 = 1e-10;

/// The mpmath p-values of the huge-count cases (`fixtures/generate_counts_mpmath.py`), by id.
fn high_precision_p_values() -> std::collections::HashMap<String, f64> {
    load_cases("counts_mpmath")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_string(),
                num(&c["expected"]["p_value"]),
            )
        })
        .collect()
}

/// The oracle for a p-value: R's, or the high-precision value where R is measurably off.
fn p_value_oracle(
    id: &str,
    r_value: f64,
    high_precision: &std::collections::HashMap<String, f64>,
) -> f64 {
    match high_precision.get(id) {
        Some(&hp) if hp > 1e-300 && ((r_value - hp) / hp).abs() > R_INACCURATE => hp,
        _ => r_value,
    }
}

fn alternative(v: &Value) -> Alternative {
    match v.as_str().expect("alternative") {
        "two_sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        other => panic!("unknown alternative {other}"),
    }
}

fn count(v: &Value) -> u64 {
    let x = num(v);
    assert!(x >= 0.0 && x.fract() == 0.0, "not a count: {v}");
    x as u64
}

fn proportion(v: &Value) -> Proportion {
    Proportion::new(count(&v["events"]), count(&v["trials"]))
}

fn exposure(v: &Value) -> Exposure {
    Exposure::new(count(&v["events"]), num(&v["exposure"]))
}

fn method(v: &Value) -> Adjustment {
    match v.as_str().expect("method") {
        "none" => Adjustment::None,
        "bonferroni" => Adjustment::Bonferroni,
        "holm" => Adjustment::Holm,
        "hochberg" => Adjustment::Hochberg,
        "bh" => Adjustment::BenjaminiHochberg,
        "by" => Adjustment::BenjaminiYekutieli,
        "hommel" => Adjustment::Hommel,
        other => panic!("unknown method {other}"),
    }
}

/// `binom_test` on a fixture's input (`successes`, `trials`, `p`, `alternative`, `conf_level`).
fn run_binom(input: &Value) -> Result<BinomialTest> {
    binom_test(
        count(&input["successes"]),
        count(&input["trials"]),
        num(&input["p"]),
        &CountTestConfig::default()
            .alternative(alternative(&input["alternative"]))
            .conf_level(num(&input["conf_level"])),
    )
}

/// `poisson_rate_test` on a fixture's input (`canary`, `baseline`, `r`, `alternative`,
/// `conf_level`).
fn run_poisson(input: &Value) -> Result<PoissonRateTest> {
    poisson_rate_test(
        Arms {
            baseline: exposure(&input["baseline"]),
            canary: exposure(&input["canary"]),
        },
        num(&input["r"]),
        &CountTestConfig::default()
            .alternative(alternative(&input["alternative"]))
            .conf_level(num(&input["conf_level"])),
    )
}

fn check_ci(r: &mut Report, id: &str, ci: &ConfidenceInterval, expected: &Value, rel: f64) {
    let e = nums(expected);
    r.check(id, "conf_int.lower", ci.lower, e[0], rel, ABS);
    r.check(id, "conf_int.upper", ci.upper, e[1], rel, ABS);
}

/// A root R found with `uniroot` at its default tolerance: within that tolerance of the crate's
/// exact root, on the odds ratio where it is at most 1 and on its reciprocal above.
fn check_within_uniroot(r: &mut Report, id: &str, field: &str, exact: f64, r_value: f64) {
    r.checked += 1;
    let same = exact == r_value || (exact.is_nan() && r_value.is_nan());
    let gap = if exact <= 1.0 {
        (exact - r_value).abs()
    } else {
        (1.0 / exact - 1.0 / r_value).abs()
    };
    if !same && (gap.is_nan() || gap > UNIROOT_TOL) {
        r.failures.push(format!(
            "{id}: {field} = {exact:e}, R {r_value:e}: further apart than uniroot's tolerance"
        ));
    }
}

/// Hommel's adjustment against R's `p.adjust(method = "hommel")` (`fixtures/reference/hommel.json`,
/// `fixtures/generate_hommel.R`: 34 vectors of 2 to 120 p-values, with ties, 0 and 1): 1e-12
/// relative (the two compute the same minima and maxima of `k p / j`, rounded in another order).
#[test]
fn hommel_matches_r() {
    let cases = load_cases("hommel");
    let mut r = Report::default();
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let p = nums(&case["input"]["p_values"]);
        let want = nums(&case["expected"]["adjusted"]);
        let got = p_adjust(&p, Adjustment::Hommel).unwrap_or_else(|err| panic!("{id}: {err}"));
        assert_eq!(got.len(), want.len(), "{id}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            r.check(id, &format!("adjusted[{i}]"), *g, *w, 1e-12, 0.0);
        }
    }
    r.finish("Hommel vs R", 500);
}

#[test]
fn fisher_odds_ratio_and_interval_are_the_exact_roots() {
    let cases = load_cases("fisher_roots");
    let mut r = Report::default();
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let input = &case["input"];
        let e = &case["expected"];
        let t = fisher_exact(
            Arms {
                baseline: proportion(&input["baseline"]),
                canary: proportion(&input["canary"]),
            },
            &CountTestConfig::default()
                .alternative(alternative(&input["alternative"]))
                .conf_level(num(&input["conf_level"])),
        )
        .unwrap_or_else(|err| panic!("{id}: {err}"));
        r.check(
            id,
            "odds_ratio",
            t.odds_ratio,
            num(&e["odds_ratio"]),
            REL,
            ABS,
        );
        check_ci(&mut r, id, &t.conf_int, &e["conf_int"], REL);
    }
    r.finish("Fisher roots vs SciPy brentq", 3 * 60);
}

fn check_binom(r: &mut Report, id: &str, t: &BinomialTest, e: &Value, expected_p: f64) {
    r.check(id, "p_value", t.p_value, expected_p, REL, ABS);
    r.check(id, "estimate", t.estimate, num(&e["estimate"]), REL, ABS);
    check_ci(r, id, &t.conf_int, &e["conf_int"], REL);
}

#[test]
fn counts_match_r() {
    let cases = load_cases("counts");
    let high_precision = high_precision_p_values();
    let mut r = Report::default();
    let mut n_cases = 0;
    let mut replaced = 0;
    for case in &cases {
        n_cases += 1;
        let id = case["id"].as_str().expect("id");
        let input = &case["input"];
        let e = &case["expected"];
        match case["oracle"].as_str().expect("oracle") {
            "R fisher.test" => {
                let got = fisher_exact(
                    Arms {
                        baseline: proportion(&input["baseline"]),
                        canary: proportion(&input["canary"]),
                    },
                    &CountTestConfig::default()
                        .alternative(alternative(&input["alternative"]))
                        .conf_level(num(&input["conf_level"])),
                );
                let t = match got {
                    Ok(t) => t,
                    Err(err) => {
                        r.fail(id, format!("unexpected error {err}"));
                        continue;
                    }
                };
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
                check_within_uniroot(
                    &mut r,
                    id,
                    "odds_ratio",
                    t.odds_ratio,
                    num(&e["odds_ratio"]),
                );
                let ci = nums(&e["conf_int"]);
                check_within_uniroot(&mut r, id, "conf_int.lower", t.conf_int.lower, ci[0]);
                check_within_uniroot(&mut r, id, "conf_int.upper", t.conf_int.upper, ci[1]);
                r.check(
                    id,
                    "sample_odds_ratio",
                    t.sample_odds_ratio,
                    num(&e["sample_odds_ratio"]),
                    REL,
                    0.0,
                );
            }
            "R binom.test" if input.get("successes").is_some() => {
                let t = run_binom(input).unwrap_or_else(|err| panic!("{id}: {err}"));
                let want = p_value_oracle(id, num(&e["p_value"]), &high_precision);
                replaced += usize::from(want != num(&e["p_value"]));
                check_binom(&mut r, id, &t, e, want);
            }
            "R binom.test" => {
                let t = srm_binomial(
                    Arms {
                        baseline: count(&input["baseline"]),
                        canary: count(&input["canary"]),
                    },
                    num(&input["canary_share"]),
                )
                .unwrap_or_else(|err| panic!("{id}: {err}"));
                check_binom(&mut r, id, &t, e, num(&e["p_value"]));
            }
            "R poisson.test" => {
                let t = run_poisson(input).unwrap_or_else(|err| panic!("{id}: {err}"));
                let want = p_value_oracle(id, num(&e["p_value"]), &high_precision);
                replaced += usize::from(want != num(&e["p_value"]));
                r.check(id, "p_value", t.p_value, want, REL, ABS);
                r.check(id, "estimate", t.rate_ratio, num(&e["estimate"]), REL, ABS);
                r.check(
                    id,
                    "expected_count1",
                    t.expected_canary_events,
                    num(&e["expected_count1"]),
                    REL,
                    ABS,
                );
                check_ci(&mut r, id, &t.conf_int, &e["conf_int"], REL);
            }
            "R prop.test" => {
                let got = prop_test(
                    Arms {
                        baseline: proportion(&input["baseline"]),
                        canary: proportion(&input["canary"]),
                    },
                    &CountTestConfig::default()
                        .alternative(alternative(&input["alternative"]))
                        .conf_level(num(&input["conf_level"]))
                        .correct(input["correct"].as_bool().expect("correct")),
                );
                if e.get("error").is_some() {
                    // R stops, or returns a NaN statistic: the crate gives a typed error.
                    match got {
                        Err(Error::InvalidCounts { .. }) | Err(Error::Degenerate { .. }) => {
                            r.checked += 1
                        }
                        other => r.fail(id, format!("expected a typed error, got {other:?}")),
                    }
                    continue;
                }
                let t = got.unwrap_or_else(|err| panic!("{id}: {err}"));
                r.check(id, "statistic", t.statistic, num(&e["statistic"]), REL, ABS);
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
                let est = nums(&e["estimate"]);
                r.check(
                    id,
                    "estimate[canary]",
                    t.canary_proportion,
                    est[0],
                    REL,
                    ABS,
                );
                r.check(
                    id,
                    "estimate[baseline]",
                    t.baseline_proportion,
                    est[1],
                    REL,
                    ABS,
                );
                // The interval ends are differences near 0; 1e-15 absolute covers cancellation.
                let ci = nums(&e["conf_int"]);
                r.check(id, "conf_int.lower", t.conf_int.lower, ci[0], REL, 1e-15);
                r.check(id, "conf_int.upper", t.conf_int.upper, ci[1], REL, 1e-15);
            }
            "R p.adjust" => {
                let p = nums(&input["p_values"]);
                let got = p_adjust(&p, method(&input["method"]))
                    .unwrap_or_else(|err| panic!("{id}: {err}"));
                let want = nums(&e["adjusted"]);
                if got.len() != want.len() {
                    r.fail(id, format!("{} values, expected {}", got.len(), want.len()));
                    continue;
                }
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    r.check(id, &format!("adjusted[{i}]"), *g, *w, 1e-15, 0.0);
                }
            }
            "R chisq.test" => {
                let observed: Vec<u64> = input["observed"]
                    .as_array()
                    .expect("observed")
                    .iter()
                    .map(count)
                    .collect();
                let shares = nums(&input["shares"]);
                let t =
                    srm_chi_squared(&observed, &shares).unwrap_or_else(|err| panic!("{id}: {err}"));
                r.check(id, "statistic", t.statistic, num(&e["statistic"]), REL, ABS);
                r.check(id, "df", t.df as f64, num(&e["df"]), 0.0, 0.0);
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
                for (i, (g, w)) in t.expected.iter().zip(nums(&e["expected"])).enumerate() {
                    r.check(id, &format!("expected[{i}]"), *g, w, REL, 0.0);
                }
            }
            other => r.fail(id, format!("unknown oracle {other}")),
        }
    }
    assert!(n_cases >= 120, "only {n_cases} reference cases");
    eprintln!(
        "counts vs R: {n_cases} cases, {} checks ({replaced} p-values against mpmath where R is off)",
        r.checked
    );
    r.finish("counts vs R", 1500);
}

#[test]
fn counts_match_scipy() {
    let cases = load_cases("counts_scipy");
    let mut r = Report::default();
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let input = &case["input"];
        let e = &case["expected"];
        match case["oracle"].as_str().expect("oracle") {
            "scipy.stats.fisher_exact" => {
                let t = fisher_exact(
                    Arms {
                        baseline: proportion(&input["baseline"]),
                        canary: proportion(&input["canary"]),
                    },
                    &CountTestConfig::default()
                        .alternative(alternative(&input["alternative"]))
                        .conf_level(0.95),
                )
                .unwrap_or_else(|err| panic!("{id}: {err}"));
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
                r.check(
                    id,
                    "statistic",
                    t.sample_odds_ratio,
                    num(&e["statistic"]),
                    REL,
                    0.0,
                );
            }
            "scipy.stats.binomtest" => {
                let t = binom_test(
                    count(&input["k"]),
                    count(&input["n"]),
                    num(&input["p"]),
                    &CountTestConfig::default()
                        .alternative(alternative(&input["alternative"]))
                        .conf_level(num(&input["confidence_level"])),
                )
                .unwrap_or_else(|err| panic!("{id}: {err}"));
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
                check_ci(&mut r, id, &t.conf_int, &e["conf_int"], REL);
            }
            "scipy.stats.chisquare" => {
                let observed: Vec<u64> = input["observed"]
                    .as_array()
                    .expect("observed")
                    .iter()
                    .map(count)
                    .collect();
                let t = srm_chi_squared(&observed, &nums(&input["shares"]))
                    .unwrap_or_else(|err| panic!("{id}: {err}"));
                r.check(id, "statistic", t.statistic, num(&e["statistic"]), REL, ABS);
                r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
            }
            "scipy.stats.false_discovery_control" => {
                let got = p_adjust(&nums(&input["p_values"]), method(&input["method"]))
                    .unwrap_or_else(|err| panic!("{id}: {err}"));
                for (i, (g, w)) in got.iter().zip(nums(&e["adjusted"])).enumerate() {
                    r.check(id, &format!("adjusted[{i}]"), *g, w, 1e-12, 0.0);
                }
            }
            other => r.fail(id, format!("unknown oracle {other}")),
        }
    }
    eprintln!(
        "counts vs SciPy: {} cases, {} checks",
        cases.len(),
        r.checked
    );
    r.finish("counts vs SciPy", 250);
}

#[test]
fn invalid_counts_name_the_field() {
    let err = fisher_exact(
        Arms {
            baseline: Proportion::new(11, 10),
            canary: Proportion::new(1, 10),
        },
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "baseline.events: 11 events out of 10 trials"
    );
    let err = prop_test(
        Arms {
            baseline: Proportion::new(1, 10),
            canary: Proportion::new(0, 0),
        },
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95)
            .correct(false),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "canary.trials: 0 trials: a proportion needs at least one trial"
    );
    let err = poisson_rate_test(
        Arms {
            baseline: Exposure::new(1, -2.0),
            canary: Exposure::new(1, 1.0),
        },
        1.0,
        &CountTestConfig::default()
            .alternative(Alternative::Less)
            .conf_level(0.95),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "baseline.exposure: exposure -2 must be finite and > 0"
    );
    let err = binom_test(
        0,
        0,
        0.5,
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidCounts {
            field: "trials",
            ..
        }
    ));
    let err = p_adjust(&[0.5, -0.1], Adjustment::BenjaminiHochberg).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidPValue {
            index: 1,
            value: -0.1
        }
    );
}

#[test]
fn huge_counts_do_not_lose_precision() {
    // A billion requests per arm: R gives binom.test(600, 1e9, 5e-7, "greater")$p.value
    // (checked in the fixtures); here only that nothing is NaN or out of [0, 1].
    let t = prop_test(
        Arms {
            baseline: Proportion::new(100, 1_000_000_000),
            canary: Proportion::new(120, 1_000_000_000),
        },
        &CountTestConfig::default()
            .alternative(Alternative::Greater)
            .conf_level(0.95)
            .correct(true),
    )
    .unwrap();
    assert!(t.p_value > 0.0 && t.p_value < 1.0);
    let f = fisher_exact(
        Arms {
            baseline: Proportion::new(10, 500_000_000),
            canary: Proportion::new(30, 500_000_000),
        },
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
    .unwrap();
    assert!(f.p_value > 0.0 && f.p_value < 0.01, "{f}");
}

/// The inputs that once took 9 s each (tail sums of ~9 standard deviations' worth of terms at
/// 1.45e14 successes, 62 of them per interval end; fixtures/fuzz/stats/timeout-*) and a few like
/// them now return, with R's numbers from the fixtures. No timing: only that they complete and
/// agree.
#[test]
fn huge_counts_complete_and_match_r() {
    let cases = load_cases("counts");
    let mut r = Report::default();
    let ids = [
        "binom_huge_slow_two_sided",
        "binom_huge_slow_less",
        "binom_huge_slow_greater",
        "poisson_huge_05_two_sided",
        "poisson_huge_04_greater",
        "binom_huge_056_two_sided",
        "binom_huge_058_greater",
    ];
    for id in ids {
        let case = cases
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not in the fixtures"));
        let (input, e) = (&case["input"], &case["expected"]);
        if id.starts_with("binom") {
            let t = run_binom(input).unwrap_or_else(|err| panic!("{id}: {err}"));
            check_binom(&mut r, id, &t, e, num(&e["p_value"]));
        } else {
            let t = run_poisson(input).unwrap_or_else(|err| panic!("{id}: {err}"));
            r.check(id, "p_value", t.p_value, num(&e["p_value"]), REL, ABS);
            check_ci(&mut r, id, &t.conf_int, &e["conf_int"], REL);
        }
    }
    r.finish("huge counts vs R", 5 * 3 + 2 * 3);
}

/// Every huge-count p-value against its 50-digit value (`fixtures/generate_counts_mpmath.py`).
#[test]
fn huge_counts_match_high_precision() {
    let cases = load_cases("counts_mpmath");
    assert!(
        cases.len() >= 200,
        "only {} high-precision cases",
        cases.len()
    );
    let mut r = Report::default();
    let mut worst = 0.0f64;
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let (input, want) = (&case["input"], num(&case["expected"]["p_value"]));
        let got = if input.get("successes").is_some() {
            run_binom(input).map(|t| t.p_value)
        } else {
            run_poisson(input).map(|t| t.p_value)
        };
        match got {
            Ok(p) => {
                if want > 1e-300 {
                    worst = worst.max(((p - want) / want).abs());
                }
                r.check(id, "p_value", p, want, HIGH_PRECISION_REL, ABS)
            }
            Err(err) => r.fail(id, format!("unexpected error {err}")),
        }
    }
    eprintln!("huge counts vs mpmath: worst relative error {worst:.2e}");
    r.finish("huge counts vs mpmath", 200);
}

fn any_alternative() -> impl Strategy<Value = Alternative> {
    prop_oneof![
        Just(Alternative::TwoSided),
        Just(Alternative::Less),
        Just(Alternative::Greater)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn p_values_are_probabilities(
        a in 0u64..60, extra_c in 0u64..60, c in 0u64..60, extra_b in 0u64..60,
        alt in any_alternative(),
    ) {
        let canary = Proportion::new(a, a + extra_c);
        let baseline = Proportion::new(c, c + extra_b);
        let f = fisher_exact(Arms { baseline, canary }, &CountTestConfig::default().alternative(alt).conf_level(0.95)).unwrap();
        prop_assert!((0.0..=1.0).contains(&f.p_value), "{f}");
        prop_assert!(f.conf_int.lower <= f.conf_int.upper || f.conf_int.lower.is_nan());
        let p = poisson_rate_test(
            Arms { baseline: Exposure::new(c, 1.0 + extra_b as f64), canary: Exposure::new(a, 1.0 + extra_c as f64) },
            1.0, &CountTestConfig::default().alternative(alt).conf_level(0.9)).unwrap();
        prop_assert!((0.0..=1.0).contains(&p.p_value), "{p}");
        if a + extra_c > 0 && c + extra_b > 0 {
            if let Ok(t) = prop_test(Arms { baseline, canary }, &CountTestConfig::default().alternative(alt).conf_level(0.99).correct(true)) {
                prop_assert!((0.0..=1.0).contains(&t.p_value), "{t}");
            }
        }
    }

    #[test]
    fn swapping_arms_mirrors_the_alternative(
        a in 0u64..40, extra_c in 0u64..40, c in 0u64..40, extra_b in 0u64..40,
        alt in any_alternative(),
    ) {
        let canary = Proportion::new(a, a + extra_c);
        let baseline = Proportion::new(c, c + extra_b);
        let f1 = fisher_exact(Arms { baseline, canary }, &CountTestConfig::default().alternative(alt).conf_level(0.95)).unwrap();
        let f2 = fisher_exact(Arms { baseline: canary, canary: baseline }, &CountTestConfig::default().alternative(alt.mirrored()).conf_level(0.95)).unwrap();
        prop_assert!(close(f1.p_value, f2.p_value, 1e-12, 1e-300), "{f1} vs {f2}");
        let e1 = Exposure::new(a, 2.0);
        let e2 = Exposure::new(c, 3.0);
        let p1 = poisson_rate_test(Arms { baseline: e2, canary: e1 }, 1.0, &CountTestConfig::default().alternative(alt).conf_level(0.95)).unwrap();
        let p2 = poisson_rate_test(Arms { baseline: e1, canary: e2 }, 1.0, &CountTestConfig::default().alternative(alt.mirrored()).conf_level(0.95)).unwrap();
        prop_assert!(close(p1.p_value, p2.p_value, 1e-12, 1e-300), "{p1} vs {p2}");
    }

    #[test]
    fn clopper_pearson_holds_the_estimate(
        successes in 0u64..200, extra in 0u64..200, p0 in 0.0f64..=1.0,
        alt in any_alternative(), level in prop_oneof![Just(0.9), Just(0.95), Just(0.99)],
    ) {
        let trials = successes + extra;
        prop_assume!(trials > 0);
        let t = binom_test(successes, trials, p0, &CountTestConfig::default().alternative(alt).conf_level(level)).unwrap();
        prop_assert!((0.0..=1.0).contains(&t.p_value), "{t}");
        prop_assert!(t.conf_int.contains(t.estimate), "{t}");
    }

    #[test]
    fn p_adjust_is_monotone_and_never_below_raw(
        p in proptest::collection::vec(0.0f64..=1.0, 1..30),
    ) {
        for m in [Adjustment::Bonferroni, Adjustment::Holm, Adjustment::Hochberg,
                  Adjustment::BenjaminiHochberg, Adjustment::BenjaminiYekutieli,
                  Adjustment::Hommel] {
            let adj = p_adjust(&p, m).unwrap();
            for i in 0..p.len() {
                prop_assert!(adj[i] >= p[i] && adj[i] <= 1.0, "{m}: {} < {}", adj[i], p[i]);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        prop_assert!(adj[i] <= adj[j], "{m}: not monotone");
                    }
                }
            }
        }
    }
}

#[test]
fn results_print_one_compact_line() {
    let f = fisher_exact(
        Arms {
            baseline: Proportion::new(2, 45),
            canary: Proportion::new(9, 40),
        },
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95),
    )
    .unwrap();
    assert_eq!(
        f.to_string(),
        "Fisher exact (two-sided): p = 0.02104, OR = 6.117 [1.152, 62.06] (95%)"
    );
    let p = poisson_rate_test(
        Arms {
            baseline: Exposure::new(3, 1.0),
            canary: Exposure::new(12, 1.0),
        },
        1.0,
        &CountTestConfig::default()
            .alternative(Alternative::Greater)
            .conf_level(0.9),
    )
    .unwrap();
    assert!(p
        .to_string()
        .starts_with("Poisson rate ratio (greater): 12 canary vs 3 baseline events, RR = 4 ["));
    let t = prop_test(
        Arms {
            baseline: Proportion::new(18, 1000),
            canary: Proportion::new(30, 1000),
        },
        &CountTestConfig::default()
            .alternative(Alternative::TwoSided)
            .conf_level(0.95)
            .correct(true),
    )
    .unwrap();
    assert!(t.to_string().starts_with(
        "2-sample proportions (two-sided, continuity corrected): X-squared = 2.583, p = "
    ));
    let s = srm_chi_squared(&[9050, 950], &[0.9, 0.1]).unwrap();
    assert_eq!(
        s.to_string(),
        "SRM chi-squared (2 arms): X-squared = 2.778, df = 1, p = 0.09558"
    );
    assert_eq!(Adjustment::BenjaminiHochberg.to_string(), "BH");
}
