//! Error paths (exact messages) and properties of quantiles, summaries and IQR fences.

use canary_verdict::{
    stats::{quantile, quantile_sorted, quantiles, sorted_sample, Fences, QuantileType, Summary},
    Error,
};
use proptest::prelude::*;

fn err_string<T: std::fmt::Debug>(r: canary_verdict::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

const T7: QuantileType = QuantileType::Type7;

#[test]
fn empty_sample_errors() {
    assert_eq!(quantile(&[], 0.5, T7), Err(Error::EmptyInput));
    assert_eq!(err_string(quantile(&[], 0.5, T7)), "the sample is empty");
    assert_eq!(
        err_string(quantiles(&[], &[0.5], T7)),
        "the sample is empty"
    );
    assert_eq!(err_string(sorted_sample(&[])), "the sample is empty");
    assert_eq!(err_string(Summary::of(&[], &[0.5])), "the sample is empty");
    assert_eq!(err_string(Fences::tukey(&[], 1.5)), "the sample is empty");
    assert_eq!(err_string(Fences::widened(&[], 3.0)), "the sample is empty");
}

#[test]
fn non_finite_sample_errors() {
    assert!(matches!(
        quantile(&[1.0, f64::NAN], 0.5, T7),
        Err(Error::NonFiniteInput { index: 1, value }) if value.is_nan()
    ));
    assert_eq!(
        err_string(quantile(&[1.0, f64::NAN], 0.5, T7)),
        "the sample holds a non-finite value (NaN) at index 1"
    );
    assert_eq!(
        err_string(quantiles(&[f64::INFINITY], &[0.5], T7)),
        "the sample holds a non-finite value (inf) at index 0"
    );
    assert_eq!(
        err_string(Summary::of(&[0.0, 1.0, f64::NEG_INFINITY], &[])),
        "the sample holds a non-finite value (-inf) at index 2"
    );
    assert_eq!(
        err_string(Fences::tukey(&[f64::NAN], 1.5)),
        "the sample holds a non-finite value (NaN) at index 0"
    );
    assert_eq!(
        err_string(Fences::widened(&[2.0, f64::INFINITY], 3.0)),
        "the sample holds a non-finite value (inf) at index 1"
    );
    assert_eq!(
        sorted_sample(&[3.0, f64::INFINITY]),
        Err(Error::NonFiniteInput {
            index: 1,
            value: f64::INFINITY
        })
    );
}

#[test]
fn probability_errors() {
    let expected = "expected a probability between 0 and 1 inclusive";
    assert_eq!(
        err_string(quantile(&[1.0], 1.5, T7)),
        format!("p = 1.5 is invalid: {expected}")
    );
    assert_eq!(
        err_string(quantile(&[1.0], -0.01, T7)),
        format!("p = -0.01 is invalid: {expected}")
    );
    assert_eq!(
        err_string(quantile(&[1.0], f64::NAN, T7)),
        format!("p = NaN is invalid: {expected}")
    );
    // The probabilities are checked before the sample.
    assert_eq!(
        err_string(quantiles(&[], &[0.5, f64::INFINITY], T7)),
        format!("p = inf is invalid: {expected}")
    );
    assert_eq!(
        err_string(Summary::of(&[1.0], &[0.5, 2.0])),
        format!("p = 2 is invalid: {expected}")
    );
    assert!(matches!(
        quantile(&[1.0], 2.0, T7),
        Err(Error::InvalidParameter { field: "p", .. })
    ));
}

#[test]
fn fence_factor_errors() {
    let expected = "expected a finite number >= 0";
    for (k, shown) in [(-1.0, "-1"), (f64::NAN, "NaN"), (f64::INFINITY, "inf")] {
        assert_eq!(
            err_string(Fences::tukey(&[1.0, 2.0], k)),
            format!("k = {shown} is invalid: {expected}")
        );
        assert_eq!(
            err_string(Fences::widened(&[1.0, 2.0], k)),
            format!("k = {shown} is invalid: {expected}")
        );
    }
    // The factor is checked before the sample.
    assert!(matches!(
        Fences::tukey(&[], -1.0),
        Err(Error::InvalidParameter { field: "k", .. })
    ));
}

#[test]
fn no_panic_on_degenerate_input() {
    for ty in QuantileType::ALL {
        assert!(quantile_sorted(&[], 0.5, ty).is_nan());
        assert_eq!(quantile(&[2.0], 0.3, ty), Ok(2.0));
        assert_eq!(quantile(&[-1.0; 5], 0.99, ty), Ok(-1.0));
        let extreme = [f64::MAX, -f64::MAX, f64::MIN_POSITIVE, 0.0];
        // No overflow between the extremes: the ends are the extremes, every quantile finite
        // and non-decreasing in p.
        let qs: Vec<f64> = [0.0, 0.01, 0.5, 0.99, 1.0]
            .iter()
            .map(|&p| quantile(&extreme, p, ty).unwrap())
            .collect();
        assert_eq!((qs[0], qs[4]), (-f64::MAX, f64::MAX), "{ty:?}");
        assert!(qs.iter().all(|q| q.is_finite()), "{ty:?}: {qs:?}");
        assert!(qs.windows(2).all(|w| w[0] <= w[1]), "{ty:?}: {qs:?}");
    }
    let s = Summary::of(&[5.0], &[0.0, 1.0]).unwrap();
    assert_eq!(s.to_string(), "n=1 mean=5 sd=0 min=5 p0=5 p100=5 max=5");
    let f = Fences::widened(&[f64::MAX, -f64::MAX], 3.0).unwrap();
    assert!(f.contains(f64::MAX) && f.contains(-f64::MAX));
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let ty: QuantileType = serde_json::from_str("\"type8\"").unwrap();
    assert_eq!(ty, QuantileType::Type8);
    assert_eq!(
        serde_json::to_string(&QuantileType::default()).unwrap(),
        "\"type7\""
    );
    let s = Summary::of(&[1.0, 2.0, 4.0], &[0.5]).unwrap();
    let back: Summary = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    let f = Fences::tukey(&[1.0, 2.0, 4.0], 1.5).unwrap();
    let back: Fences = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
}

/// Samples mixing wide-ranging values with ties (small integers repeat often).
fn sample() -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        -1e6..1e6f64,
        (-5i32..5).prop_map(f64::from),
        (0.0..1.0f64).prop_map(|u| (u * 8.0).exp()),
    ];
    prop::collection::vec(value, 1..40)
}

fn probabilities() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![0.0..=1.0f64, Just(0.0), Just(1.0), Just(0.25), Just(0.75)],
        1..12,
    )
}

proptest! {
    #[test]
    fn quantiles_monotone_and_bounded(x in sample(), mut probs in probabilities()) {
        probs.sort_by(f64::total_cmp);
        let (min, max) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        for ty in QuantileType::ALL {
            let q = quantiles(&x, &probs, ty).unwrap();
            for w in q.windows(2) {
                prop_assert!(w[0] <= w[1], "{ty:?} not monotone: {q:?} at {probs:?}");
            }
            for &v in &q {
                prop_assert!(min <= v && v <= max, "{ty:?}: {v} outside [{min}, {max}]");
            }
        }
    }

    #[test]
    fn quantiles_invariant_to_order(
        (x, shuffled) in sample().prop_flat_map(|x| (Just(x.clone()), Just(x).prop_shuffle())),
        probs in probabilities(),
    ) {
        for ty in QuantileType::ALL {
            let a = quantiles(&x, &probs, ty).unwrap();
            let b = quantiles(&shuffled, &probs, ty).unwrap();
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(Fences::tukey(&x, 1.5).unwrap(), Fences::tukey(&shuffled, 1.5).unwrap());
    }

    #[test]
    fn fences_contain_quartiles(x in sample(), k in 0.0..5.0f64) {
        let q1 = quantile(&x, 0.25, T7).unwrap();
        let q3 = quantile(&x, 0.75, T7).unwrap();
        let tukey = Fences::tukey(&x, k).unwrap();
        let widened = Fences::widened(&x, k).unwrap();
        for f in [tukey, widened] {
            prop_assert!(f.contains(q1) && f.contains(q3), "{f:?} misses {q1} or {q3}");
        }
        prop_assert!(widened.lower <= tukey.lower && tukey.upper <= widened.upper);
        // Widened fences never remove a point between the 1st and 99th percentiles.
        let p1 = quantile(&x, 0.01, T7).unwrap();
        let p99 = quantile(&x, 0.99, T7).unwrap();
        prop_assert!(widened.contains(p1) && widened.contains(p99));
        let mut kept = x.clone();
        let removed = widened.retain(&mut kept);
        prop_assert_eq!(kept.len() + removed, x.len());
        prop_assert!(kept.iter().all(|&v| widened.contains(v)));
    }
}

#[test]
fn public_types_are_send_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<QuantileType>();
    assert_send_sync::<Summary>();
    assert_send_sync::<Fences>();
    assert_send_sync::<Error>();
}
