//! How the family-wise alpha is shared across a judgment's tests: weights that reserve a share
//! for critical metrics, and the weighted multiple-testing adjustments that honour them.
//!
//! With equal weights every method here gives exactly R's `p.adjust`.

use crate::error::Result;
use crate::stats::multiple_testing::{p_adjust, Adjustment};

/// The weight of each metric, by position among `critical` flags: the critical metrics share
/// `share` equally, the others `1 - share`; equal weights when all or none are critical. The
/// weights add up to 1 (an empty list gives no weights).
pub(crate) fn metric_weights(critical: &[bool], share: f64) -> Vec<f64> {
    let m = critical.len();
    let c = critical.iter().filter(|&&x| x).count();
    if c == 0 || c == m {
        return vec![1.0 / m.max(1) as f64; m];
    }
    critical
        .iter()
        .map(|&x| {
            if x {
                share / c as f64
            } else {
                (1.0 - share) / (m - c) as f64
            }
        })
        .collect()
}

/// Adjusts `p` for multiple testing with positive weights `w` (same length).
///
/// - Holm: the weighted step-down of Holm (*Scand. J. Statist.* 6, 1979, §4): tests ordered
///   by `p_i / w_i`; the `j`-th adjusted value is `max_{k<=j} min(1, p_(k) Σ_{l>=k} w_(l) /
///   w_(k))`. A test is rejected at level `alpha` exactly when Holm's weighted procedure
///   rejects it.
/// - Hommel (with unequal weights): weighted Holm, as above.
/// - Bonferroni: `min(1, p_i Σw / w_i)`.
/// - Hochberg, BH, BY: the method applied to `p_i / ŵ_i` with the weights scaled to mean 1
///   (the weighted p-values of Genovese, Roeder & Wasserman, *Biometrika* 93, 2006), capped
///   at 1.
/// - None: `p` unchanged.
///
/// With equal weights each gives R's `p.adjust(p, method)`.
pub(crate) fn adjust_weighted(p: &[f64], w: &[f64], method: Adjustment) -> Result<Vec<f64>> {
    let m = p.len();
    let total: f64 = w.iter().sum();
    let equal = w.windows(2).all(|x| x[0] == x[1]);
    if m == 0 || equal || !(total > 0.0 && total.is_finite()) {
        return p_adjust(p, method);
    }
    // Validates the p-values (NaN, outside [0, 1]) with the same errors as p_adjust.
    p_adjust(p, Adjustment::None)?;
    match method {
        Adjustment::None => Ok(p.to_vec()),
        Adjustment::Bonferroni => Ok(p
            .iter()
            .zip(w)
            .map(|(p, w)| (p * total / w).min(1.0))
            .collect()),
        // Hommel has no weighted form here: weighted Holm, which it improves on and whose
        // family-wise guarantee holds under any dependence, stands in for it.
        Adjustment::Holm | Adjustment::Hommel => {
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&a, &b| (p[a] / w[a]).total_cmp(&(p[b] / w[b])));
            let mut remaining = total;
            let mut running = 0.0f64;
            let mut out = vec![0.0; m];
            for &i in &order {
                let v = (p[i] * remaining / w[i]).min(1.0);
                running = running.max(v);
                out[i] = running;
                remaining -= w[i];
            }
            Ok(out)
        }
        _ => {
            let mean = total / m as f64;
            let scaled: Vec<f64> = p
                .iter()
                .zip(w)
                .map(|(p, w)| (p * mean / w).min(1.0))
                .collect();
            p_adjust(&scaled, method)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_weights_give_r_p_adjust() {
        let p = [0.01, 0.04, 0.03, 0.2, 0.001];
        for method in [
            Adjustment::Holm,
            Adjustment::Bonferroni,
            Adjustment::Hochberg,
            Adjustment::BenjaminiHochberg,
        ] {
            assert_eq!(
                adjust_weighted(&p, &[0.2; 5], method).unwrap(),
                p_adjust(&p, method).unwrap()
            );
        }
    }

    #[test]
    fn weighted_holm_gives_the_critical_metric_its_reserved_share() {
        // One critical metric (weight 0.5) among 31: it needs p <= alpha/2, not alpha/31.
        let mut critical = vec![false; 31];
        critical[0] = true;
        let w = metric_weights(&critical, 0.5);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(w[0], 0.5);
        let mut p = vec![0.5; 31];
        p[0] = 0.004;
        let adj = adjust_weighted(&p, &w, Adjustment::Holm).unwrap();
        assert!((adj[0] - 0.008).abs() < 1e-15, "{}", adj[0]);
        assert!(adj[0] < 0.01);
        // Plain Holm would need 0.01/31.
        assert!(p_adjust(&p, Adjustment::Holm).unwrap()[0] > 0.01);
        // Step-down: after the critical one is rejected, the rest share all of alpha.
        p[1] = 0.0003;
        let adj = adjust_weighted(&p, &w, Adjustment::Holm).unwrap();
        assert!(adj[1] < 0.01 && adj[0] < 0.01, "{adj:?}");
    }

    #[test]
    fn weighted_holm_steps_down_in_the_order_of_p_over_w() {
        // The order by p/w (0.008, 0.03, 0.075) is not the order by p (0.003 first): each step
        // multiplies by the weight still in play over the test's own weight.
        let (p, w) = ([0.004, 0.003, 0.03], [0.5, 0.1, 0.4]);
        let want = [0.004 / 0.5, 0.003 * 0.5 / 0.1, 0.03 * (0.5 - 0.1) / 0.4];
        // In the given order and reversed: the result follows the tests, not their positions.
        for reversed in [false, true] {
            let order: Vec<usize> = if reversed {
                vec![2, 1, 0]
            } else {
                vec![0, 1, 2]
            };
            let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let adj = adjust_weighted(&pick(&p), &pick(&w), Adjustment::Holm).unwrap();
            for (a, w) in adj.iter().zip(pick(&want)) {
                assert!((a - w).abs() <= 1e-15 * w, "{adj:?} against {want:?}");
            }
        }
    }

    #[test]
    fn unequal_weights_not_summing_to_one_and_no_adjustment() {
        // Bonferroni scales by the weights' total over the test's weight, whatever the total.
        let adj = adjust_weighted(&[0.01, 0.02], &[3.0, 1.0], Adjustment::Bonferroni).unwrap();
        assert!((adj[0] - 0.04 / 3.0).abs() < 1e-15 && (adj[1] - 0.08).abs() < 1e-15);
        // "none" leaves the p-values alone, weights or not.
        let p = [0.01, 0.3, 0.02];
        assert_eq!(
            adjust_weighted(&p, &[0.5, 0.25, 0.25], Adjustment::None).unwrap(),
            p.to_vec()
        );
        // Weighted Holm with a total of 4: the first step multiplies by 4/3.
        let adj = adjust_weighted(&[0.01, 0.02], &[3.0, 1.0], Adjustment::Holm).unwrap();
        assert!((adj[0] - 0.04 / 3.0).abs() < 1e-15, "{adj:?}");
        assert!((adj[1] - 0.02).abs() < 1e-15, "{adj:?}");
        // The order is by p / w: here the larger p comes first.
        let adj = adjust_weighted(&[0.04, 0.02], &[0.8, 0.2], Adjustment::Holm).unwrap();
        assert!(
            (adj[0] - 0.05).abs() < 1e-15 && (adj[1] - 0.05).abs() < 1e-15,
            "{adj:?}"
        );
        // Weighted BH: the weighted p-values p·mean(w)/w, then BH.
        let adj =
            adjust_weighted(&[0.01, 0.02], &[3.0, 1.0], Adjustment::BenjaminiHochberg).unwrap();
        assert!((adj[0] - 0.04 / 3.0).abs() < 1e-15, "{adj:?}");
        assert!((adj[1] - 0.04).abs() < 1e-15, "{adj:?}");
    }

    #[test]
    fn weights_split_between_critical_and_other_metrics() {
        let w = metric_weights(&[true, false, false, true], 0.6);
        assert_eq!(w, vec![0.3, 0.2, 0.2, 0.3]);
        assert_eq!(metric_weights(&[true, true], 0.6), vec![0.5, 0.5]);
        assert_eq!(metric_weights(&[false; 4], 0.6), vec![0.25; 4]);
        let adj = adjust_weighted(&[0.01, 0.02], &[0.75, 0.25], Adjustment::Bonferroni).unwrap();
        assert!((adj[0] - 0.01 / 0.75).abs() < 1e-15 && (adj[1] - 0.08).abs() < 1e-15);
    }
}
