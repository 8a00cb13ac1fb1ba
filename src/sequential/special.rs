//! Special functions in log space for the e-processes: the log beta function, the log of the
//! regularized incomplete beta function (for truncated priors), and `z²/2 + ln Φ(z)`.

use statrs::function::gamma::ln_gamma;

use crate::stats::discrete::{bd0, SUMMATION_MAX_VARIANCE};
use crate::stats::dist::norm_cdf;
use crate::stats::incomplete_beta::beta_ratio_near_mean;
use crate::stats::stirling::{stirlerr, LN_SQRT_2PI};

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b)` for `a, b > 0`.
pub(crate) fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// `ln B(x, y) - x ln ρ - y ln(1 - ρ)` for `x, y > 0` and `0 < ρ < 1`, without the cancellation
/// of its terms: each is of order `s ln s` (`s = x + y`), so [`ln_beta`] alone has an absolute
/// error of about `s ln s · 2^-53` (0.5 at `s = 10^14`), while the difference is of order `ln s`
/// near `ρ = x / s`. With Stirling's series `ln Γ(x) = (x - 1/2) ln x - x + ln √(2π) + δ(x)`
/// (`δ` is R's `stirlerr`) it is
/// `ln √(2π) - ½ ln(x y / s) + bd0(x, s ρ) + bd0(y, s (1 - ρ)) + δ(x) + δ(y) - δ(s)`, where
/// `bd0(x, m) = x ln(x/m) + m - x` (R's `bd0`, Loader 2000, as in `dbinom`): the two `m - x`
/// cancel, and `bd0` is insensitive to the rounding of `m` near `x`.
pub(crate) fn ln_beta_tilted(x: f64, y: f64, rho: f64) -> f64 {
    let s = x + y;
    if !(x > 0.0 && y > 0.0 && s.is_finite() && rho > 0.0 && rho < 1.0) {
        return ln_beta(x, y) - x * rho.ln() - y * (-rho).ln_1p();
    }
    LN_SQRT_2PI - 0.5 * (x.ln() + y.ln() - s.ln())
        + bd0(x, s * rho)
        + bd0(y, s * (1.0 - rho))
        + stirlerr(x)
        + stirlerr(y)
        - stirlerr(s)
}

/// `ln I_x(a, b)`, the log of the regularized incomplete beta function, for `a, b > 0` and
/// `x + y = 1` (both given, so that `1 - x` is not rounded again near 1).
///
/// Below `x < (a+1)/(a+b+2)` it is `a ln x + b ln y - ln a - ln B(a, b) - ln F`, with `F` the
/// continued fraction of DLMF 8.17.22 (see [`ln_beta_reg_cf`]); above it,
/// `ln(1 - I_y(b, a))` through `ln_1p`. Either way nothing underflows: tails far below `1e-308`
/// keep their logarithm. The continued fraction needs `O(sqrt(max(a, b)))` terms near the mean,
/// so near the mean of wide betas (`a b / (a + b)` at least
/// [`SUMMATION_MAX_VARIANCE`](crate::stats::discrete::SUMMATION_MAX_VARIANCE)) Temme's expansion
/// (in log space, see `crate::incomplete_beta`) takes its place, in constant
/// time; away from the mean the continued fraction converges in few terms.
pub(crate) fn ln_beta_reg(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if y <= 0.0 {
        return 0.0;
    }
    if a * b / (a + b) >= SUMMATION_MAX_VARIANCE {
        if let Some((ln_w, _)) = beta_ratio_near_mean(a, b, x, y, true) {
            return ln_w;
        }
    }
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_beta_reg_cf(a, b, x, y)
    } else {
        let other = ln_beta_reg_cf(b, a, y, x).exp();
        if other >= 1.0 {
            f64::NEG_INFINITY
        } else {
            (-other).ln_1p()
        }
    }
}

/// Largest number of continued-fraction coefficients used before giving up on convergence
/// (the fraction needs `O(√max(a, b))` of them near the mean).
fn cf_max_terms(a: f64, b: f64) -> u64 {
    2000 + (20.0 * a.max(b).sqrt()) as u64
}

/// The continued-fraction branch of [`ln_beta_reg`], accurate for `x < (a+1)/(a+b+2)`.
///
/// DLMF 8.17.22: `I_x(a, b) = x^a y^b / (a B(a, b)) · 1/F`,
/// `F = 1 + d_1/(1 + d_2/(1 + d_3/(1 + ...)))` with
/// `d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m))` and
/// `d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))`. `F` is evaluated forward by the
/// modified Lentz method (W. J. Lentz, Appl. Opt. 15, 1976; I. J. Thompson and A. R. Barnett,
/// J. Comput. Phys. 64, 1986): with `C_0 = F_0 = 1`, `D_0 = 0`, each step sets
/// `D_j = 1/(1 + d_j D_{j-1})`, `C_j = 1 + d_j / C_{j-1}` (a zero replaced by a tiny number)
/// and `F_j = F_{j-1} C_j D_j`, until `C_j D_j` is 1 to within `1e-15`.
/// The prefactor is `-ln_beta_tilted(a, b, x) - ln a`, free of the cancellation of
/// `a ln x + b ln y - ln B(a, b)` for large parameters.
fn ln_beta_reg_cf(a: f64, b: f64, x: f64, y: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const CONVERGED: f64 = 1e-15;
    let coefficient = |j: u64| -> f64 {
        let m = (j / 2) as f64;
        if j.is_multiple_of(2) {
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
        } else {
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
        }
    };
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut fraction = 1.0f64;
    let mut ratio_c = 1.0f64;
    let mut ratio_d = 0.0f64;
    for j in 1..=cf_max_terms(a, b) {
        let d_j = coefficient(j);
        ratio_d = 1.0 / nonzero(1.0 + d_j * ratio_d);
        ratio_c = nonzero(1.0 + d_j / ratio_c);
        let change = ratio_c * ratio_d;
        fraction *= change;
        if (change - 1.0).abs() < CONVERGED {
            break;
        }
    }
    let front = if y > 0.0 && (x + y - 1.0).abs() <= f64::EPSILON {
        -ln_beta_tilted(a, b, x) - a.ln()
    } else {
        a * x.ln() + b * y.ln() - a.ln() - ln_beta(a, b)
    };
    (front - fraction.ln()).min(0.0)
}

/// `z²/2 + ln Φ(z)`, the log of the one-sided normal-mixture factor, without the cancellation
/// of the two terms for very negative `z` (asymptotic series of Mills' ratio below -30,
/// Abramowitz & Stegun 26.2.12).
pub(crate) fn half_sq_plus_ln_norm_cdf(z: f64) -> f64 {
    if z > 0.0 {
        0.5 * z * z + (-norm_cdf(-z)).ln_1p()
    } else if z > -30.0 {
        0.5 * z * z + norm_cdf(z).ln()
    } else {
        let w = 1.0 / (z * z);
        let series = 1.0 - w + 3.0 * w * w - 15.0 * w * w * w + 105.0 * w * w * w * w;
        -(-z).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() + series.ln()
    }
}

#[cfg(test)]
// Reference values are quoted with all the digits mpmath printed.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use statrs::function::beta::beta_reg;

    #[test]
    fn log_incomplete_beta_matches_statrs_where_it_is_accurate() {
        for &(a, b, x) in &[
            (0.5, 0.5, 0.5),
            (3.5, 0.5, 0.5),
            (0.1, 0.9, 0.1),
            (5.0, 50.0, 0.2),
            (30.0, 10.0, 0.5),
            (200.0, 300.0, 0.4),
        ] {
            let want = beta_reg(a, b, x).ln();
            let got = ln_beta_reg(a, b, x, 1.0 - x);
            assert!(
                (got - want).abs() < 1e-12 * want.abs().max(1.0),
                "{a} {b} {x}: {got} vs {want}"
            );
        }
        // Far tail: I_0.5(1000, 10) ≈ C(1009, 9) 0.5^1009 ... far below 1e-300, still finite.
        // mpmath (50 digits): ln I_0.5(1000, 10) = -649.96365451073711597...
        let far = ln_beta_reg(1000.0, 10.0, 0.5, 0.5);
        assert!(
            (far / -649.963_654_510_737_115_974_6 - 1.0).abs() < 1e-14,
            "{far}"
        );
        // Huge parameters near the mean: about one half.
        let mid = ln_beta_reg(5e11, 5e11, 0.5, 0.5);
        assert!((mid.exp() - 0.5).abs() < 1e-3, "{mid}");
    }

    #[test]
    fn mills_branch_is_continuous() {
        let a = half_sq_plus_ln_norm_cdf(-30.0 + 1e-9);
        let b = half_sq_plus_ln_norm_cdf(-30.0 - 1e-9);
        assert!((a - b).abs() < 1e-9, "{a} {b}");
        assert!(half_sq_plus_ln_norm_cdf(-1e200).is_finite());
        assert!((half_sq_plus_ln_norm_cdf(0.0) - 0.5f64.ln()).abs() < 1e-15);
    }
}
