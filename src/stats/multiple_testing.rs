//! Multiple-testing adjustments of p-values across metrics, as R's `p.adjust`.

use std::fmt;

use crate::error::{Error, Result};

/// A p-value adjustment method, as the `method` argument of R's `p.adjust` (whose default,
/// Holm, is also the default here).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Adjustment {
    /// No adjustment (`"none"`): the p-values are returned as given.
    None,
    /// Bonferroni (`"bonferroni"`): `min(1, m p_i)`; controls the family-wise error rate.
    Bonferroni,
    /// Holm's step-down (`"holm"`): `min(1, cummax((m + 1 - i) p_(i)))` over increasing p;
    /// controls the family-wise error rate and is uniformly better than Bonferroni.
    #[default]
    Holm,
    /// Hochberg's step-up (`"hochberg"`): `min(1, cummin((m + 1 - i) p_(i)))` over decreasing p;
    /// valid under independence or positive dependence.
    Hochberg,
    /// Benjamini-Hochberg (`"BH"`, alias `"fdr"`): `min(1, cummin(m / i p_(i)))` over decreasing
    /// p; controls the false discovery rate under independence or positive dependence.
    BenjaminiHochberg,
    /// Benjamini-Yekutieli (`"BY"`): BH multiplied by `Σ_{j=1}^{m} 1/j`; controls the false
    /// discovery rate under any dependence.
    BenjaminiYekutieli,
    /// Hommel's closed Simes procedure (`"hommel"`): the largest Simes p-value over all sets of
    /// hypotheses that contain `i`; controls the family-wise error rate where Simes' test does
    /// (independence, positive dependence) and is uniformly more powerful than Hochberg.
    Hommel,
}

impl fmt::Display for Adjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Adjustment::None => "none",
            Adjustment::Bonferroni => "bonferroni",
            Adjustment::Holm => "holm",
            Adjustment::Hochberg => "hochberg",
            Adjustment::BenjaminiHochberg => "BH",
            Adjustment::BenjaminiYekutieli => "BY",
            Adjustment::Hommel => "hommel",
        })
    }
}

/// Adjusts p-values for multiple comparisons, exactly as R's `p.adjust(p_values, method)`.
///
/// With `m` p-values, `p_(i)` the i-th smallest: Bonferroni `min(1, m p)`; Holm
/// `min(1, cummax((m + 1 - i) p_(i)))`; Hochberg `min(1, cummin((m + 1 - i) p_(i)))` taken from
/// the largest p down; BH `min(1, cummin(m / i p_(i)))` from the largest down; BY as BH times
/// `Σ_{j=1}^{m} 1/j`; Hommel `max_{I ∋ i} min_j |I| p_(j:I) / j` over the sets `I` of hypotheses
/// containing `i` (the closed Simes test; Hommel 1988, Wright 1992), in closed form in O(m²).
/// Results come back in the input order. Ties get equal adjusted values. R
/// drops `NA`s and sets `m` to the number of the others: pass only the p-values you have.
///
/// # Errors
/// [`Error::InvalidPValue`] with the index of the first NaN or value outside [0, 1].
///
/// # Example
/// ```
/// use canary_verdict::stats::{p_adjust, Adjustment};
/// let adjusted = p_adjust(&[0.01, 0.04, 0.03, 0.2], Adjustment::BenjaminiHochberg)?;
/// // R: p.adjust(c(0.01, 0.04, 0.03, 0.2), "BH") = 0.04 0.05333333 0.05333333 0.2
/// assert!((adjusted[0] - 0.04).abs() < 1e-15);
/// assert!((adjusted[1] - 0.16 / 3.0).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn p_adjust(p_values: &[f64], method: Adjustment) -> Result<Vec<f64>> {
    if let Some(index) = p_values
        .iter()
        .position(|p| p.is_nan() || !(0.0..=1.0).contains(p))
    {
        return Err(Error::InvalidPValue {
            index,
            value: p_values[index],
        });
    }
    let m = p_values.len();
    if m <= 1 {
        return Ok(p_values.to_vec());
    }
    let mf = m as f64;
    // Stable orders, as R's `order`: increasing for Holm, decreasing for the step-up methods.
    let mut increasing: Vec<usize> = (0..m).collect();
    increasing.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut decreasing: Vec<usize> = (0..m).collect();
    decreasing.sort_by(|&a, &b| p_values[b].total_cmp(&p_values[a]));
    let mut out = vec![0.0; m];
    match method {
        Adjustment::None => out.copy_from_slice(p_values),
        Adjustment::Bonferroni => {
            for (o, p) in out.iter_mut().zip(p_values) {
                *o = (mf * p).min(1.0);
            }
        }
        Adjustment::Holm => {
            let mut running = f64::NEG_INFINITY;
            for (rank, &idx) in increasing.iter().enumerate() {
                // i = rank + 1, factor m + 1 - i = m - rank
                running = running.max((m - rank) as f64 * p_values[idx]);
                out[idx] = running.min(1.0);
            }
        }
        Adjustment::Hommel => {
            let sorted: Vec<f64> = increasing.iter().map(|&i| p_values[i]).collect();
            for (adjusted, &idx) in hommel(&sorted).into_iter().zip(&increasing) {
                out[idx] = adjusted;
            }
        }
        Adjustment::Hochberg | Adjustment::BenjaminiHochberg | Adjustment::BenjaminiYekutieli => {
            let q: f64 = if method == Adjustment::BenjaminiYekutieli {
                (1..=m).map(|j| 1.0 / j as f64).sum()
            } else {
                1.0
            };
            let mut running = f64::INFINITY;
            for (rank, &idx) in decreasing.iter().enumerate() {
                let i = m - rank; // R's i <- lp:1L
                let v = match method {
                    Adjustment::Hochberg => (m + 1 - i) as f64 * p_values[idx],
                    Adjustment::BenjaminiHochberg => mf / i as f64 * p_values[idx],
                    _ => q * mf / i as f64 * p_values[idx],
                };
                running = running.min(v);
                out[idx] = running.min(1.0);
            }
        }
    }
    Ok(out)
}

/// Hommel's adjusted p-values for `sorted`, the p-values in increasing order (returned in the
/// same order).
///
/// Hommel's procedure (G. Hommel, "A stagewise rejective multiple test procedure based on a
/// modified Bonferroni test", Biometrika 75, 1988) is the closed test (Marcus, Peritz & Gabriel
/// 1976) of Simes' test `p_S(I) = min_j |I| p_(j:I) / j` (Simes, Biometrika 73, 1986), so the
/// adjusted p-value of hypothesis `i` is `max_{I ∋ i} p_S(I)` (S. P. Wright, "Adjusted
/// p-values for simultaneous inference", Biometrics 48, 1992). Among the sets of size `k` that
/// contain `i`, the largest Simes p-value belongs to `i` together with the `k - 1` largest
/// other p-values (raising any member's p-value can only raise every order statistic). With
/// `r` the rank of `i`, that set is the top `k` when `k > m - r`, giving
/// `A_k = min_{1≤j≤k} k p_(m-k+j) / j`, and otherwise `i` below the top `k - 1`, giving
/// `min(k p_i, C_k)` with `C_k = min_{2≤j≤k} k p_(m-k+j) / j`. So
/// `p̃_i = max(max_{k > m-r} A_k, max_{k ≤ m-r} min(k p_i, C_k))`, in `O(m²)`. Every value is at
/// most `p_(m) ≤ 1`.
fn hommel(sorted: &[f64]) -> Vec<f64> {
    let m = sorted.len();
    // For each k: C_k (j from 2) and A_k = min(k p_(m-k+1), C_k).
    let mut c = vec![f64::INFINITY; m + 1];
    let mut a = vec![0.0; m + 1];
    for k in 1..=m {
        let kf = k as f64;
        let top = &sorted[m - k..];
        c[k] = (2..=k)
            .map(|j| kf * top[j - 1] / j as f64)
            .fold(f64::INFINITY, f64::min);
        a[k] = (kf * top[0]).min(c[k]);
    }
    // max_{k ≥ s} A_k for every s.
    let mut top_max = vec![0.0f64; m + 2];
    for k in (1..=m).rev() {
        top_max[k] = top_max[k + 1].max(a[k]);
    }
    (0..m)
        .map(|index| {
            let rank = index + 1;
            let p = sorted[index];
            let below = (1..=m - rank)
                .map(|k| (k as f64 * p).min(c[k]))
                .fold(p, f64::max);
            below.max(top_max[m - rank + 1]).min(1.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_nan_and_out_of_range_with_the_index() {
        let err = p_adjust(&[0.1, f64::NAN], Adjustment::Holm).unwrap_err();
        assert!(matches!(err, Error::InvalidPValue { index: 1, .. }));
        let err = p_adjust(&[0.1, 0.2, 1.5], Adjustment::Bonferroni).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p_values[2] = 1.5 is not a probability in [0, 1]"
        );
        assert_eq!(p_adjust(&[], Adjustment::Holm).unwrap(), Vec::<f64>::new());
        assert_eq!(p_adjust(&[0.3], Adjustment::Bonferroni).unwrap(), vec![0.3]);
    }

    /// The definition itself: the largest Simes p-value over every subset containing `i`.
    fn hommel_by_enumeration(p: &[f64]) -> Vec<f64> {
        let m = p.len();
        (0..m)
            .map(|i| {
                let mut worst = 0.0f64;
                for mask in 0u32..(1 << m) {
                    if mask & (1 << i) == 0 {
                        continue;
                    }
                    let mut members: Vec<f64> = (0..m)
                        .filter(|j| mask & (1 << j) != 0)
                        .map(|j| p[j])
                        .collect();
                    members.sort_by(f64::total_cmp);
                    let size = members.len() as f64;
                    let simes = members
                        .iter()
                        .enumerate()
                        .map(|(j, v)| size * v / (j + 1) as f64)
                        .fold(f64::INFINITY, f64::min);
                    worst = worst.max(simes);
                }
                worst.min(1.0)
            })
            .collect()
    }

    #[test]
    fn hommel_is_the_closed_simes_test() {
        let mut state = 7u64;
        for m in 1..=9 {
            for _ in 0..40 {
                let p: Vec<f64> = (0..m)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        // Coarse values so that ties occur.
                        ((state >> 40) % 50) as f64 / 49.0 * 0.2
                    })
                    .collect();
                let got = p_adjust(&p, Adjustment::Hommel).unwrap();
                let want = hommel_by_enumeration(&p);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-15 * w.max(1e-300),
                        "{p:?}: {got:?} vs {want:?}"
                    );
                }
            }
        }
    }
}
