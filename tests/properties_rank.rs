//! Properties of the rank-sum test and the Hodges-Lehmann interval that must hold on any data.

use canary_verdict::stats::{Alternative, MannWhitneyConfig, Method, TwoSample};
use canary_verdict::Arms;
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
        let cfg = MannWhitneyConfig { alternative: alt, mu: 0.0, correct, method, ..Default::default() };
        let t = TwoSample::new(Arms { baseline: &b, canary: &c }).unwrap().mann_whitney(&cfg).unwrap();
        prop_assert_eq!(t.statistic + t.u_baseline, (b.len() * c.len()) as f64);
        prop_assert!((0.0..=1.0).contains(&t.p_value), "p = {}", t.p_value);
    }

    #[test]
    fn swapping_arms_mirrors_the_alternative(
        b in sample(), c in sample(), method in method(), alt in alternative(), correct: bool,
    ) {
        let cfg = MannWhitneyConfig { alternative: alt, mu: 0.0, correct, method, ..Default::default() };
        let swapped = MannWhitneyConfig { alternative: alt.mirrored(), ..cfg };
        let t = TwoSample::new(Arms { baseline: &b, canary: &c }).unwrap().mann_whitney(&cfg).unwrap();
        let s = TwoSample::new(Arms { baseline: &c, canary: &b }).unwrap().mann_whitney(&swapped).unwrap();
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
        let t0 = TwoSample::new(Arms { baseline: &b0, canary: &c0 }).unwrap().mann_whitney(&cfg).unwrap();
        let t1 = TwoSample::new(Arms { baseline: &b1, canary: &c1 }).unwrap().mann_whitney(&cfg).unwrap();
        prop_assert_eq!(t0.statistic, t1.statistic);
        prop_assert_eq!(t0.p_value.to_bits(), t1.p_value.to_bits());
    }

    #[test]
    fn selection_matches_brute_force_bit_for_bit(b in sample(), c in sample(), frac in 0.0f64..1.0) {
        let pair = TwoSample::new(Arms { baseline: &b, canary: &c }).unwrap();
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
        let pair = TwoSample::new(Arms { baseline: &b, canary: &c }).unwrap();
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
        let e0 = TwoSample::new(Arms { baseline: &b, canary: &c }).unwrap().hodges_lehmann_estimate();
        let e1 = TwoSample::new(Arms { baseline: &b, canary: &moved }).unwrap().hodges_lehmann_estimate();
        prop_assert_eq!(e1, e0 + f64::from(shift));
    }

    #[test]
    fn interval_contains_estimate_and_widens_with_level(
        b in sample(), c in sample(), method in method(), alt in alternative(),
        l1 in 0.5f64..0.99, dl in 0.001f64..0.0099,
    ) {
        let pair = TwoSample::new(Arms { baseline: &b, canary: &c }).unwrap();
        let narrow = MannWhitneyConfig { conf_level: l1, alternative: alt, correct: true, method, ..Default::default() };
        let wide = MannWhitneyConfig { conf_level: l1 + dl, ..narrow };
        let h1 = pair.hodges_lehmann(&narrow).unwrap();
        let h2 = pair.hodges_lehmann(&wide).unwrap();
        prop_assert!(h1.interval.contains(h1.estimate), "{h1}");
        prop_assert!(h2.interval.lower <= h1.interval.lower && h1.interval.upper <= h2.interval.upper,
            "{h1} vs {h2}");
    }
}

mod paired {
    use canary_verdict::stats::{Alternative, Method, MethodUsed, PairedSample, SignedRankConfig};
    use canary_verdict::Arms;
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
            let t = PairedSample::new(Arms { baseline: &base, canary: &can }).unwrap().signed_rank(&cfg).unwrap();
            let s = PairedSample::new(Arms { baseline: &can, canary: &base }).unwrap()
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
            let cfg = SignedRankConfig { conf_level: level, method: Method::Asymptotic, ..Default::default() };
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

/// Exact p-values against exact rational arithmetic on every small input of a grid: each
/// p-value is a ratio of integer counts below 2^53, so its correctly rounded value is one f64
/// division, and the crate's value is checked in units in the last place (ulps) of it.
mod exact_rationals {
    use canary_verdict::stats::{
        binom_test, fisher_exact, Alternative, CountTestConfig, MannWhitneyConfig, Method,
        PairedSample, Proportion, SignedRankConfig, TwoSample,
    };
    use canary_verdict::Arms;

    /// How many doubles lie between `a` and `b` (both finite and non-negative).
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// `num / den` correctly rounded (both below 2^53, so exact as doubles).
    fn rational(num: u128, den: u128) -> f64 {
        assert!(num < 1 << 53 && den < 1 << 53 && den > 0);
        num as f64 / den as f64
    }

    fn two_sided(lower: u128, upper: u128, upper_side: bool, den: u128) -> f64 {
        rational(if upper_side { upper } else { lower }, den) * 2.0
    }

    const ALTERNATIVES: [Alternative; 3] = [
        Alternative::Less,
        Alternative::Greater,
        Alternative::TwoSided,
    ];

    /// Worst ulps seen, for the message.
    struct Worst(u64, String);

    impl Worst {
        fn see(&mut self, got: f64, want: f64, what: impl FnOnce() -> String) {
            let d = ulps(got, want.min(1.0));
            if d > self.0 {
                self.0 = d;
                self.1 = what();
            }
        }
    }

    #[test]
    fn rank_sum_exact_p_values_are_within_an_ulp() {
        let mut worst = Worst(0, String::new());
        for n in 1..=7usize {
            for m in 1..=7usize {
                // Count splits of the ranks 1..n+m by U (canary ranks above baseline ones).
                let total_pts = n + m;
                let mut counts = vec![0u128; n * m + 1];
                for mask in 0u32..(1 << total_pts) {
                    if mask.count_ones() as usize != n {
                        continue;
                    }
                    let rank_sum: usize = (0..total_pts)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| i + 1)
                        .sum();
                    counts[rank_sum - n * (n + 1) / 2] += 1;
                }
                let den: u128 = counts.iter().sum();
                // Canary = the ranks in `pick` (the first n of a spread), baseline the rest.
                for u_obs in 0..=n * m {
                    // A sample with this U: canary values at ranks chosen greedily.
                    let Some((canary, baseline)) = sample_with_u(n, m, u_obs) else {
                        continue;
                    };
                    let pair = TwoSample::new(Arms {
                        baseline: &baseline,
                        canary: &canary,
                    })
                    .unwrap();
                    let le: u128 = counts[..=u_obs].iter().sum();
                    let ge: u128 = counts[u_obs..].iter().sum();
                    for alt in ALTERNATIVES {
                        let cfg = MannWhitneyConfig {
                            alternative: alt,
                            mu: 0.0,
                            correct: true,
                            method: Method::Exact,
                            ..Default::default()
                        };
                        let got = pair.mann_whitney(&cfg).unwrap().p_value;
                        let want = match alt {
                            Alternative::Less => rational(le, den),
                            Alternative::Greater => rational(ge, den),
                            _ => two_sided(le, ge, 2 * u_obs > n * m, den),
                        };
                        worst.see(got, want, || {
                            format!("n={n} m={m} U={u_obs} {alt:?}: {got} vs {want}")
                        });
                    }
                }
            }
        }
        assert!(worst.0 <= 1, "rank-sum: {} ulps at {}", worst.0, worst.1);
    }

    /// Canary and baseline values (no ties) whose U (pairs with canary > baseline) is `u`.
    fn sample_with_u(n: usize, m: usize, u: usize) -> Option<(Vec<f64>, Vec<f64>)> {
        // Place canary point j (0-based) above c_j baseline points, c non-decreasing, Σ c_j = u.
        let mut above = vec![0usize; n];
        let mut left = u;
        for slot in above.iter_mut().rev() {
            let take = left.min(m);
            *slot = take;
            left -= take;
        }
        if left > 0 {
            return None;
        }
        let canary: Vec<f64> = above
            .iter()
            .enumerate()
            .map(|(j, &c)| c as f64 + 0.5 + j as f64 * 1e-3)
            .collect();
        let baseline: Vec<f64> = (0..m).map(|i| i as f64 + 1.0).collect();
        Some((canary, baseline))
    }

    #[test]
    fn signed_rank_exact_p_values_are_within_an_ulp() {
        let mut worst = Worst(0, String::new());
        for n in 1..=12usize {
            let max_v = n * (n + 1) / 2;
            let mut counts = vec![0u128; max_v + 1];
            for mask in 0u32..(1 << n) {
                let v: usize = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).sum();
                counts[v] += 1;
            }
            let den: u128 = counts.iter().sum();
            for mask in (0u32..(1 << n)).step_by(if n > 8 { 37 } else { 1 }) {
                // Differences ±(i + 1): positive where the mask has a bit.
                let diffs: Vec<f64> = (0..n)
                    .map(|i| {
                        if mask & (1 << i) != 0 {
                            (i + 1) as f64
                        } else {
                            -((i + 1) as f64)
                        }
                    })
                    .collect();
                let v_obs: usize = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).sum();
                let sample = PairedSample::from_differences(&diffs).unwrap();
                let le: u128 = counts[..=v_obs].iter().sum();
                let ge: u128 = counts[v_obs..].iter().sum();
                for alt in ALTERNATIVES {
                    let cfg = SignedRankConfig {
                        alternative: alt,
                        mu: 0.0,
                        correct: true,
                        method: Method::Exact,
                        ..Default::default()
                    };
                    let got = sample.signed_rank(&cfg).unwrap().p_value;
                    let want = match alt {
                        Alternative::Less => rational(le, den),
                        Alternative::Greater => rational(ge, den),
                        _ => two_sided(le, ge, 4 * v_obs > n * (n + 1), den),
                    };
                    worst.see(got, want, || {
                        format!("n={n} V={v_obs} {alt:?}: {got} vs {want}")
                    });
                }
            }
        }
        assert!(worst.0 <= 1, "signed-rank: {} ulps at {}", worst.0, worst.1);
    }

    fn choose(n: u128, k: u128) -> u128 {
        if k > n {
            return 0;
        }
        (0..k).fold(1u128, |acc, i| acc * (n - i) / (i + 1))
    }

    /// Largest error allowed for the Fisher and binomial p-values, in ulps: their point
    /// probabilities are `exp` of Loader's saddle-point logarithm, whose absolute error of a few
    /// ulps of `|ln p|` becomes that many relative ulps of `p` (about 17 at p = 3e-8), and the
    /// tails add ratio recurrences; observed 19 (Fisher) and 54 (binomial) on these grids.
    /// Rank-sum and signed-rank p-values are ratios of exact counts: at most 1 ulp.
    const SADDLE_POINT_ULPS: u64 = 64;

    #[test]
    fn fisher_exact_p_values_match_rationals() {
        let mut worst = Worst(0, String::new());
        for n1 in 1..=12u64 {
            for n2 in 1..=12u64 {
                for a in 0..=n1 {
                    for c in 0..=n2 {
                        let (big_k, big_n) = ((a + c) as u128, (n1 + n2) as u128);
                        let lo = (n1 as u128).saturating_sub(big_n - big_k);
                        let hi = (n1 as u128).min(big_k);
                        let w = |i: u128| choose(big_k, i) * choose(big_n - big_k, n1 as u128 - i);
                        let den = choose(big_n, n1 as u128);
                        let x = a as u128;
                        let le: u128 = (lo..=x).map(w).sum();
                        let ge: u128 = (x..=hi).map(w).sum();
                        let wx = w(x);
                        let two: u128 = (lo..=hi)
                            .map(w)
                            .filter(|&wi| wi * 10_000_000 <= wx * 10_000_001)
                            .sum();
                        for alt in ALTERNATIVES {
                            let t = fisher_exact(
                                Arms {
                                    baseline: Proportion::new(c, n2),
                                    canary: Proportion::new(a, n1),
                                },
                                &CountTestConfig::default().alternative(alt).conf_level(0.95),
                            )
                            .unwrap();
                            let want = match alt {
                                Alternative::Less => rational(le, den),
                                Alternative::Greater => rational(ge, den),
                                _ => rational(two, den),
                            };
                            worst.see(t.p_value, want, || {
                                format!("{a}/{n1} vs {c}/{n2} {alt:?}: {} vs {want}", t.p_value)
                            });
                        }
                    }
                }
            }
        }
        assert!(
            worst.0 <= SADDLE_POINT_ULPS,
            "Fisher: {} ulps at {}",
            worst.0,
            worst.1
        );
        eprintln!("Fisher: worst {} ulps ({})", worst.0, worst.1);
    }

    #[test]
    fn binomial_exact_p_values_match_rationals() {
        let mut worst = Worst(0, String::new());
        // p = a/b exactly representable; n small enough that b^n < 2^53.
        for &(pa, pb, max_n) in &[(1u128, 2u128, 40u128), (1, 4, 24), (3, 8, 16), (1, 16, 12)] {
            let p = pa as f64 / pb as f64;
            for n in 1..=max_n {
                let w = |i: u128| choose(n, i) * pa.pow(i as u32) * (pb - pa).pow((n - i) as u32);
                let den = pb.pow(n as u32);
                for x in 0..=n {
                    let le: u128 = (0..=x).map(w).sum();
                    let ge: u128 = (x..=n).map(w).sum();
                    let wx = w(x);
                    let below = |i: u128| w(i) * 10_000_000 <= wx * 10_000_001;
                    // R's rule: the observed tail plus the counts on the other side of n p
                    // that are at most as probable.
                    let two = if x * pb == n * pa {
                        den
                    } else if x * pb < n * pa {
                        let from = (n * pa).div_ceil(pb);
                        le + (from..=n).filter(|&i| below(i)).map(w).sum::<u128>()
                    } else {
                        let to = n * pa / pb;
                        ge + (0..=to).filter(|&i| below(i)).map(w).sum::<u128>()
                    };
                    for alt in ALTERNATIVES {
                        let t = binom_test(
                            x as u64,
                            n as u64,
                            p,
                            &CountTestConfig::default().alternative(alt).conf_level(0.95),
                        )
                        .unwrap();
                        let want = match alt {
                            Alternative::Less => rational(le, den),
                            Alternative::Greater => rational(ge, den),
                            _ => rational(two.min(den), den),
                        };
                        worst.see(t.p_value, want, || {
                            format!("{x}/{n} p={p} {alt:?}: {} vs {want}", t.p_value)
                        });
                    }
                }
            }
        }
        assert!(
            worst.0 <= SADDLE_POINT_ULPS,
            "binomial: {} ulps at {}",
            worst.0,
            worst.1
        );
        eprintln!("binomial: worst {} ulps ({})", worst.0, worst.1);
    }
}
