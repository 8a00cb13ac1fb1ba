//! Properties of the rank-sum test and the Hodges-Lehmann interval that must hold on any data.

use canary_verdict::{Alternative, HodgesLehmannConfig, MannWhitneyConfig, Method, TwoSample};
use proptest::prelude::*;

/// Samples of small integers (many ties) or spread reals (few ties), 1 to 60 points.
fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec((-20i32..20).prop_map(f64::from), 1..60),
        prop::collection::vec(-1e3f64..1e3, 1..60),
    ]
}

/// Larger samples, so the selection runs its sampled-pivot rounds instead of gathering at once.
fn large_sample() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec((-30i32..30).prop_map(f64::from), 50..400),
        prop::collection::vec((0i32..2000).prop_map(|v| f64::from(v) * 0.25), 50..400),
        prop::collection::vec(-1e6f64..1e6, 50..400),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Auto),
        Just(Method::Exact),
        Just(Method::Asymptotic)
    ]
}

fn alternative() -> impl Strategy<Value = Alternative> {
    prop_oneof![
        Just(Alternative::TwoSided),
        Just(Alternative::Less),
        Just(Alternative::Greater)
    ]
}

fn brute(pair: &TwoSample) -> Vec<f64> {
    let mut d: Vec<f64> = pair
        .canary()
        .iter()
        .flat_map(|&x| pair.baseline().iter().map(move |&y| x - y))
        .collect();
    d.sort_unstable_by(f64::total_cmp);
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn u_statistics_add_up_and_p_is_a_probability(
        b in sample(), c in sample(), method in method(), alt in alternative(), correct: bool,
    ) {
        let cfg = MannWhitneyConfig { alternative: alt, mu: 0.0, correct, method };
        let t = TwoSample::new(&b, &c).unwrap().mann_whitney(&cfg).unwrap();
        prop_assert_eq!(t.statistic + t.u_baseline, (b.len() * c.len()) as f64);
        prop_assert!((0.0..=1.0).contains(&t.p_value), "p = {}", t.p_value);
    }

    #[test]
    fn swapping_arms_mirrors_the_alternative(
        b in sample(), c in sample(), method in method(), alt in alternative(), correct: bool,
    ) {
        let cfg = MannWhitneyConfig { alternative: alt, mu: 0.0, correct, method };
        let swapped = MannWhitneyConfig { alternative: alt.mirrored(), ..cfg };
        let t = TwoSample::new(&b, &c).unwrap().mann_whitney(&cfg).unwrap();
        let s = TwoSample::new(&c, &b).unwrap().mann_whitney(&swapped).unwrap();
        prop_assert_eq!(t.statistic, s.u_baseline);
        let tol = 1e-12 * t.p_value.max(1e-300);
        prop_assert!((t.p_value - s.p_value).abs() <= tol, "{} vs {}", t.p_value, s.p_value);
    }

    #[test]
    fn invariant_under_increasing_transforms(
        b in prop::collection::vec(-50i32..50, 1..40),
        c in prop::collection::vec(-50i32..50, 1..40),
        method in method(), alt in alternative(),
    ) {
        // t ↦ t³ + 2t + 7 is strictly increasing and exact on these integers.
        let f = |v: &i32| { let x = f64::from(*v); x * x * x + 2.0 * x + 7.0 };
        let (b0, c0): (Vec<f64>, Vec<f64>) =
            (b.iter().map(|&v| f64::from(v)).collect(), c.iter().map(|&v| f64::from(v)).collect());
        let (b1, c1): (Vec<f64>, Vec<f64>) = (b.iter().map(f).collect(), c.iter().map(f).collect());
        let cfg = MannWhitneyConfig { alternative: alt, method, ..Default::default() };
        let t0 = TwoSample::new(&b0, &c0).unwrap().mann_whitney(&cfg).unwrap();
        let t1 = TwoSample::new(&b1, &c1).unwrap().mann_whitney(&cfg).unwrap();
        prop_assert_eq!(t0.statistic, t1.statistic);
        prop_assert_eq!(t0.p_value.to_bits(), t1.p_value.to_bits());
    }

    #[test]
    fn selection_matches_brute_force_bit_for_bit(b in sample(), c in sample(), frac in 0.0f64..1.0) {
        let pair = TwoSample::new(&b, &c).unwrap();
        let d = brute(&pair);
        let k = ((frac * d.len() as f64) as usize).min(d.len() - 1);
        prop_assert_eq!(pair.pairwise_difference(k as u64 + 1).to_bits(), d[k].to_bits());
        let est = pair.hodges_lehmann_estimate();
        let n = d.len();
        let median = if n % 2 == 1 { d[n / 2] } else { (d[n / 2 - 1] + d[n / 2]) / 2.0 };
        prop_assert_eq!(est.to_bits(), median.to_bits());
    }

    #[test]
    fn large_selection_matches_brute_force(b in large_sample(), c in large_sample(), fracs in prop::collection::vec(0.0f64..1.0, 4)) {
        let pair = TwoSample::new(&b, &c).unwrap();
        let d = brute(&pair);
        for frac in fracs {
            let k = ((frac * d.len() as f64) as usize).min(d.len() - 1);
            prop_assert_eq!(pair.pairwise_difference(k as u64 + 1).to_bits(), d[k].to_bits(), "k = {}", k + 1);
        }
        let n = d.len();
        let median = if n % 2 == 1 { d[n / 2] } else { (d[n / 2 - 1] + d[n / 2]) / 2.0 };
        prop_assert_eq!(pair.hodges_lehmann_estimate().to_bits(), median.to_bits());
    }

    #[test]
    fn estimate_is_shift_equivariant(
        b in prop::collection::vec(-1000i32..1000, 1..50),
        c in prop::collection::vec(-1000i32..1000, 1..50),
        shift in -1000i32..1000,
    ) {
        let b: Vec<f64> = b.into_iter().map(f64::from).collect();
        let c: Vec<f64> = c.into_iter().map(f64::from).collect();
        let moved: Vec<f64> = c.iter().map(|v| v + f64::from(shift)).collect();
        let e0 = TwoSample::new(&b, &c).unwrap().hodges_lehmann_estimate();
        let e1 = TwoSample::new(&b, &moved).unwrap().hodges_lehmann_estimate();
        prop_assert_eq!(e1, e0 + f64::from(shift));
    }

    #[test]
    fn interval_contains_estimate_and_widens_with_level(
        b in sample(), c in sample(), method in method(), alt in alternative(),
        l1 in 0.5f64..0.99, dl in 0.001f64..0.0099,
    ) {
        let pair = TwoSample::new(&b, &c).unwrap();
        let narrow = HodgesLehmannConfig { conf_level: l1, alternative: alt, correct: true, method };
        let wide = HodgesLehmannConfig { conf_level: l1 + dl, ..narrow };
        let h1 = pair.hodges_lehmann(&narrow).unwrap();
        let h2 = pair.hodges_lehmann(&wide).unwrap();
        prop_assert!(h1.interval.contains(h1.estimate), "{h1}");
        prop_assert!(h2.interval.lower <= h1.interval.lower && h1.interval.upper <= h2.interval.upper,
            "{h1} vs {h2}");
    }
}

mod paired {
    use canary_verdict::{
        Alternative, Method, MethodUsed, PairedSample, PairedShiftConfig, SignedRankConfig,
    };
    use proptest::prelude::*;

    /// The exact conditional p-value by enumerating all 2^n sign patterns of the doubled
    /// mid-ranks of |d| (zeros dropped).
    fn enumerate_p(diffs: &[f64], alt: Alternative) -> f64 {
        let x: Vec<f64> = diffs.iter().copied().filter(|&d| d != 0.0).collect();
        let n = x.len();
        let mut abs: Vec<f64> = x.iter().map(|v| v.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let score = |v: f64| -> u64 {
            let below = abs.iter().filter(|&&a| a < v.abs()).count() as u64;
            let equal = abs.iter().filter(|&&a| a == v.abs()).count() as u64;
            2 * below + equal + 1
        };
        let scores: Vec<u64> = x.iter().map(|&v| score(v)).collect();
        let observed: u64 = x
            .iter()
            .zip(&scores)
            .filter(|(v, _)| **v > 0.0)
            .map(|(_, s)| s)
            .sum();
        let total: u64 = scores.iter().sum();
        let (mut le, mut ge) = (0u64, 0u64);
        for mask in 0u64..(1 << n) {
            let s: u64 = (0..n)
                .filter(|i| mask >> i & 1 == 1)
                .map(|i| scores[i])
                .sum();
            le += (s <= observed) as u64;
            ge += (s >= observed) as u64;
        }
        let all = (1u64 << n) as f64;
        match alt {
            Alternative::Less => le as f64 / all,
            Alternative::Greater => ge as f64 / all,
            _ => {
                let tail = if 2 * observed > total { ge } else { le };
                (2.0 * tail as f64 / all).min(1.0)
            }
        }
    }

    fn alternative() -> impl Strategy<Value = Alternative> {
        prop_oneof![
            Just(Alternative::TwoSided),
            Just(Alternative::Less),
            Just(Alternative::Greater)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

        #[test]
        fn exact_conditional_matches_enumeration(
            d in prop::collection::vec((-6i32..7).prop_map(|v| f64::from(v) * 0.5), 1..14),
            alt in alternative(),
        ) {
            let paired = PairedSample::from_differences(&d).unwrap();
            let cfg = SignedRankConfig { alternative: alt, method: Method::Exact, ..Default::default() };
            let t = paired.signed_rank(&cfg).unwrap();
            if t.n_nonzero > 0 {
                let want = enumerate_p(&d, alt);
                prop_assert!((t.p_value - want).abs() <= 1e-12 * want.max(1e-300), "{} vs {}", t.p_value, want);
                if t.ties {
                    prop_assert_eq!(t.method, MethodUsed::ExactConditional);
                }
            }
        }

        #[test]
        fn swapping_arms_mirrors_the_paired_test(
            b in prop::collection::vec(-50i32..50, 1..80),
            shift in -20i32..20,
            alt in alternative(),
            method in prop_oneof![Just(Method::Auto), Just(Method::Asymptotic)],
        ) {
            let base: Vec<f64> = b.iter().map(|&v| f64::from(v)).collect();
            let can: Vec<f64> = b.iter().enumerate().map(|(i, &v)| f64::from(v + shift) + (i % 3) as f64).collect();
            let cfg = SignedRankConfig { alternative: alt, method, ..Default::default() };
            let t = PairedSample::new(&base, &can).unwrap().signed_rank(&cfg).unwrap();
            let s = PairedSample::new(&can, &base).unwrap()
                .signed_rank(&SignedRankConfig { alternative: alt.mirrored(), ..cfg }).unwrap();
            prop_assert!((0.0..=1.0).contains(&t.p_value));
            prop_assert!((t.p_value - s.p_value).abs() <= 1e-12 * t.p_value.max(1e-300));
        }

        #[test]
        fn walsh_interval_is_bit_exact_and_holds_the_estimate(
            d in prop_oneof![
                prop::collection::vec((-40i32..40).prop_map(f64::from), 60..500),
                prop::collection::vec(-1e4f64..1e4, 60..500),
            ],
            level in 0.5f64..0.999,
        ) {
            let paired = PairedSample::from_differences(&d).unwrap();
            let cfg = PairedShiftConfig { conf_level: level, method: Method::Asymptotic, ..Default::default() };
            let Ok(h) = paired.hodges_lehmann(&cfg) else { return Ok(()); };
            let x: Vec<f64> = paired.differences().iter().copied().filter(|&v| v != 0.0).collect();
            let mut a = Vec::new();
            for i in 0..x.len() { for j in i..x.len() { a.push((x[i] + x[j]) / 2.0); } }
            a.sort_by(f64::total_cmp);
            prop_assert!(a.contains(&h.interval.lower) && a.contains(&h.interval.upper), "{h}");
            let m = a.len();
            let median = if m % 2 == 1 { a[m / 2] } else { (a[m / 2 - 1] + a[m / 2]) / 2.0 };
            prop_assert_eq!(h.estimate.to_bits(), median.to_bits());
            prop_assert!(h.interval.contains(h.estimate));
        }
    }
}
