//! Multiple-testing adjustments of p-values across metrics, as R's `p.adjust`.

use std::fmt;

use crate::error::{Error, Result};

/// A p-value adjustment method, as the `method` argument of R's `p.adjust` (whose default,
/// Holm, is also the default here). `"hommel"` is not implemented.
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
}

impl fmt::Display for Adjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Adjustment::None => "none",
            Adjustment::Bonferroni => "bonferroni",
            Adjustment::Holm => "holm",
            Adjustment::Hochberg => "hochberg",
            Adjustment::BenjaminiHochberg => "BH",
            Adjustment::BenjaminiYekutieli => "BY",
        })
    }
}

/// Adjusts p-values for multiple comparisons, exactly as R's `p.adjust(p_values, method)`.
///
/// With `m` p-values, `p_(i)` the i-th smallest: Bonferroni `min(1, m p)`; Holm
/// `min(1, cummax((m + 1 - i) p_(i)))`; Hochberg `min(1, cummin((m + 1 - i) p_(i)))` taken from
/// the largest p down; BH `min(1, cummin(m / i p_(i)))` from the largest down; BY as BH times
/// `Σ_{j=1}^{m} 1/j`. Results come back in the input order. Ties get equal adjusted values. R
/// drops `NA`s and sets `m` to the number of the others: pass only the p-values you have.
///
/// # Errors
/// [`Error::InvalidPValue`] with the index of the first NaN or value outside [0, 1].
///
/// # Example
/// ```
/// use canary_verdict::{p_adjust, Adjustment};
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
}
