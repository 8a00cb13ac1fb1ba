//! Anderson-Darling k-sample test (see [`anderson_ksamp`]).

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_sample, Arm, Error, Result};
use crate::stats::hypothesis::fmt_g;
use crate::stats::sorted::sorted_copy_of_checked;

/// The significance levels of Scholz & Stephens' Table 2, as SciPy.
pub const AD_SIGNIFICANCE_LEVELS: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/// Result of the Anderson-Darling k-sample test.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AndersonDarling {
    /// The standardised statistic `(A²_akN - (k - 1)) / σ_N`, SciPy's `statistic`.
    pub statistic: f64,
    /// The raw midrank statistic `A²_akN` (kSamples' `ad[2, 1]`).
    pub a2akn: f64,
    /// The critical values at [`AD_SIGNIFICANCE_LEVELS`], SciPy's `critical_values`.
    pub critical_values: [f64; 7],
    /// The interpolated p-value in [0.001, 0.25], SciPy's `pvalue`.
    pub p_value: f64,
    /// Whether the p-value was capped at 0.25 or floored at 0.001 (outside the table).
    pub p_capped: bool,
    /// Sample sizes, in the order given.
    pub sizes: Vec<usize>,
}

impl fmt::Display for AndersonDarling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes.iter().map(|s| s.to_string()).collect();
        write!(
            f,
            "Anderson-Darling {}-sample: T = {}, p {} {}, n = {}",
            self.sizes.len(),
            fmt_g(self.statistic),
            if self.p_capped {
                if self.p_value >= 0.25 {
                    ">="
                } else {
                    "<="
                }
            } else {
                "="
            },
            fmt_g(self.p_value),
            sizes.join("/")
        )
    }
}

/// Anderson-Darling two-sample test of canary against baseline: [`anderson_ksamp`] on
/// `[baseline, canary]`.
///
/// # Errors
/// As [`anderson_ksamp`], naming the arm for empty or non-finite samples.
///
/// # Example
/// ```
/// use canary_verdict::stats::anderson_darling;
/// use canary_verdict::Arms;
/// let baseline = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let canary = [4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
/// let t = anderson_darling(Arms {
///     baseline: &baseline,
///     canary: &canary,
/// })?;
/// // SciPy: anderson_ksamp([[1,2,3,4,5,6],[4,5,6,7,8,9]], variant='midrank').statistic
/// assert!((t.statistic - 2.833_962_432_492_975).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn anderson_darling(arms: Arms<&[f64]>) -> Result<AndersonDarling> {
    let Arms { baseline, canary } = arms;
    check_sample(Arm::Baseline, baseline)?;
    check_sample(Arm::Canary, canary)?;
    let b = sorted_copy_of_checked(baseline, 0);
    let c = sorted_copy_of_checked(canary, 0);
    ad_sorted(&[&b, &c])
}

/// Anderson-Darling k-sample test of whether `samples` come from one distribution, as SciPy's
/// `anderson_ksamp(samples, variant='midrank')`.
///
/// # Method
///
/// Anderson-Darling k-sample test (Scholz & Stephens 1987), midrank version for data with ties,
/// as SciPy's `anderson_ksamp(samples, midrank=True)` (`variant="midrank"`), p-value included.
///
/// With `N` pooled points, `Z*_1 < ... < Z*_L` the distinct values, `l_j` the multiplicity of
/// `Z*_j`, `B_j = #{Z < Z*_j} + l_j/2` and `M_ij` the midrank count of sample `i` at `Z*_j`
/// (points below plus half the points equal), Scholz & Stephens' equation (7) is
///
/// `A²_akN = (N - 1)/N · Σ_i 1/n_i · Σ_j l_j/N · (N·M_ij - n_i·B_j)² / (B_j(N - B_j) - N·l_j/4)`.
///
/// It is standardised by its exact null mean `k - 1` and variance `σ²_N` (their eq. 4), and the
/// p-value interpolates `ln(significance)` quadratically in the table of critical values
/// `b0 + b1/√(k-1) + b2/(k-1)` at the levels 0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001 (their
/// Table 2), least-squares over the seven points, as SciPy. **The p-value is capped to
/// [0.001, 0.25]**: outside the table SciPy returns the end (and warns); so does this module,
/// and [`AndersonDarling::p_capped`] says so.
///
/// The statistic equals `kSamples::ad.test(...)$ad[2, 1]` ("version 2", midranks) in R; its
/// asymptotic p-value differs from SciPy's interpolation, and this module follows SciPy.
///
/// The test is omnibus (no direction): it weighs differences in the tails more than
/// Kolmogorov-Smirnov does, but says nothing about which arm is larger.
///
/// Reference: F. W. Scholz and M. A. Stephens (1987), "K-Sample Anderson-Darling Tests",
/// *Journal of the American Statistical Association* 82(399), 918-924.
///
/// # Errors
/// [`Error::InvalidParameter`] (`samples`) for fewer than two samples; [`Error::EmptyInput`] /
/// [`Error::NonFiniteInput`] for an empty or non-finite sample; [`Error::Degenerate`] when the
/// pooled data hold fewer than four points or a single distinct value.
pub fn anderson_ksamp(samples: &[&[f64]]) -> Result<AndersonDarling> {
    if samples.len() < 2 {
        return Err(Error::InvalidParameter {
            field: "samples",
            value: samples.len() as f64,
            expected: "at least two samples",
        });
    }
    let mut sorted = Vec::with_capacity(samples.len());
    for s in samples {
        crate::error::check_input(s)?;
        sorted.push(sorted_copy_of_checked(s, 0));
    }
    let views: Vec<&[f64]> = sorted.iter().map(|s| s.as_slice()).collect();
    ad_sorted(&views)
}

/// The test on sorted, checked, non-empty samples.
pub(crate) fn ad_sorted(samples: &[&[f64]]) -> Result<AndersonDarling> {
    let k = samples.len();
    let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
    let total: usize = sizes.iter().sum();
    let nf = total as f64;
    let mut pooled: Vec<f64> = Vec::with_capacity(total);
    if let [a, b] = samples {
        // Two sorted arms: merge instead of sorting again.
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i] <= b[j]) {
                pooled.push(a[i]);
                i += 1;
            } else {
                pooled.push(b[j]);
                j += 1;
            }
        }
    } else {
        for s in samples {
            pooled.extend_from_slice(s);
        }
        crate::stats::sorted::sort_finite(&mut pooled);
    }
    if total < 4 {
        return Err(Error::Degenerate {
            what: "the Anderson-Darling k-sample statistic",
            reason: "its null variance needs at least four pooled points",
        });
    }
    if pooled[0] == pooled[total - 1] {
        return Err(Error::Degenerate {
            what: "the Anderson-Darling k-sample statistic",
            reason: "all pooled points are equal",
        });
    }
    // One pass over the distinct pooled values, a cursor per sample.
    let mut cursors = vec![0usize; k];
    let mut sums = vec![0.0f64; k];
    let mut below = 0usize;
    let mut idx = 0usize;
    while idx < total {
        let z = pooled[idx];
        let mut end = idx;
        while end < total && pooled[end] == z {
            end += 1;
        }
        let lj = (end - idx) as f64;
        let bj = below as f64 + lj / 2.0;
        let denom = bj * (nf - bj) - nf * lj / 4.0;
        for (i, s) in samples.iter().enumerate() {
            let lo = cursors[i];
            let mut hi = lo;
            while hi < s.len() && s[hi] == z {
                hi += 1;
            }
            cursors[i] = hi;
            let mij = lo as f64 + (hi - lo) as f64 / 2.0;
            let dev = nf * mij - bj * sizes[i] as f64;
            if denom > 0.0 {
                sums[i] += lj / nf * dev * dev / denom;
            }
        }
        below = end;
        idx = end;
    }
    let a2akn = sums
        .iter()
        .zip(&sizes)
        .map(|(s, &n)| s / n as f64)
        .sum::<f64>()
        * (nf - 1.0)
        / nf;
    let (statistic, critical_values, p_value, p_capped) = standardise(a2akn, k, &sizes);
    Ok(AndersonDarling {
        statistic,
        a2akn,
        critical_values,
        p_value,
        p_capped,
        sizes,
    })
}

/// Standardises `A²_akN` and interpolates the p-value (Scholz & Stephens eq. 4 and Table 2).
fn standardise(a2akn: f64, k: usize, sizes: &[usize]) -> (f64, [f64; 7], f64, bool) {
    let total: usize = sizes.iter().sum();
    let nf = total as f64;
    let kf = k as f64;
    let hh: f64 = sizes.iter().map(|&n| 1.0 / n as f64).sum();
    // hs_cs[i] = Σ_{j = N-1 down to N-1-i} 1/j, for j from N-1 down to 2.
    let mut cumulative = 0.0;
    let mut g = 0.0;
    for (i, j) in (2..total).rev().enumerate() {
        cumulative += 1.0 / j as f64;
        // SciPy divides the i-th partial sum by arange(2, N)[i] = i + 2.
        g += cumulative / (i + 2) as f64;
    }
    let h = cumulative + 1.0;
    let a = (4.0 * g - 6.0) * (kf - 1.0) + (10.0 - 6.0 * g) * hh;
    let b = (2.0 * g - 4.0) * kf * kf + 8.0 * h * kf + (2.0 * g - 14.0 * h - 4.0) * hh - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * kf * kf
        + (4.0 * h - 4.0 * g + 6.0) * kf
        + (2.0 * h - 6.0) * hh
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * kf * kf - 4.0 * h * kf;
    let sigmasq =
        (a * nf.powi(3) + b * nf * nf + c * nf + d) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0));
    let m = kf - 1.0;
    let statistic = (a2akn - m) / sigmasq.sqrt();
    let mut critical = [0.0; 7];
    for i in 0..7 {
        critical[i] = B0[i] + B1[i] / m.sqrt() + B2[i] / m;
    }
    let cmin = critical.iter().copied().fold(f64::INFINITY, f64::min);
    let cmax = critical.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if statistic < cmin {
        return (statistic, critical, 0.25, true);
    }
    if statistic > cmax {
        return (statistic, critical, 0.001, true);
    }
    let ln_sig = AD_SIGNIFICANCE_LEVELS.map(f64::ln);
    let coef = quadratic_fit(&critical, &ln_sig);
    let p = (coef[0] * statistic * statistic + coef[1] * statistic + coef[2]).exp();
    (statistic, critical, p, false)
}

/// Least-squares quadratic `y ≈ c0·x² + c1·x + c2` (NumPy's `polyfit(x, y, 2)`), solved on
/// centred, scaled abscissae for conditioning.
fn quadratic_fit(x: &[f64; 7], y: &[f64; 7]) -> [f64; 3] {
    let mean = x.iter().sum::<f64>() / 7.0;
    let scale = x.iter().map(|v| (v - mean).abs()).fold(0.0, f64::max);
    let t: Vec<f64> = x.iter().map(|v| (v - mean) / scale).collect();
    // Normal equations in t: [Σt⁴ Σt³ Σt²; Σt³ Σt² Σt; Σt² Σt n] · [a b c] = [Σt²y Σty Σy].
    let s = |p: i32| t.iter().map(|v| v.powi(p)).sum::<f64>();
    let r = |p: i32| t.iter().zip(y).map(|(v, w)| v.powi(p) * w).sum::<f64>();
    let mut mat = [
        [s(4), s(3), s(2), r(2)],
        [s(3), s(2), s(1), r(1)],
        [s(2), s(1), 7.0, r(0)],
    ];
    // Gaussian elimination with partial pivoting.
    for col in 0..3 {
        let piv = (col..3)
            .max_by(|&a, &b| mat[a][col].abs().total_cmp(&mat[b][col].abs()))
            .unwrap_or(col);
        mat.swap(col, piv);
        let pivot_row = mat[col];
        for row in mat.iter_mut().skip(col + 1) {
            let f = row[col] / pivot_row[col];
            for (x, p) in row.iter_mut().zip(pivot_row.iter()).skip(col) {
                *x -= f * p;
            }
        }
    }
    let mut sol = [0.0; 3];
    for row in (0..3).rev() {
        let mut acc = mat[row][3];
        for c in row + 1..3 {
            acc -= mat[row][c] * sol[c];
        }
        sol[row] = acc / mat[row][row];
    }
    // Back from t = (x - mean)/scale: a t² + b t + c in x.
    let (a, b, c) = (sol[0] / (scale * scale), sol[1] / scale, sol[2]);
    [a, b - 2.0 * a * mean, a * mean * mean - b * mean + c]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_fit_recovers_a_parabola() {
        let x = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0];
        let y = x.map(|v| 2.0 * v * v - 3.0 * v + 0.5);
        let c = quadratic_fit(&x, &y);
        assert!((c[0] - 2.0).abs() < 1e-12 && (c[1] + 3.0).abs() < 1e-12);
        assert!((c[2] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn rejects_degenerate_input() {
        assert!(anderson_ksamp(&[&[1.0, 2.0]]).is_err());
        assert!(anderson_darling(Arms {
            baseline: &[1.0, 1.0],
            canary: &[1.0, 1.0]
        })
        .is_err());
        assert!(anderson_darling(Arms {
            baseline: &[2.0],
            canary: &[1.0]
        })
        .is_err());
        assert!(anderson_darling(Arms {
            baseline: &[2.0],
            canary: &[]
        })
        .is_err());
    }
}
