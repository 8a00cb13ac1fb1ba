//! Guarded wrappers around statrs' distributions: callers pass finite arguments, these never panic.

use statrs::function::erf::erfc_inv;
use statrs::function::gamma::ln_gamma;

/// Standard normal lower tail Φ(z) = erfc(-z/√2)/2, accurate in the far tail (no `1 - sf`).
pub(crate) fn norm_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    // libm's erfc (musl) is accurate to an ulp or two; statrs' is off by up to ~1e-10 relative.
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal upper tail 1 - Φ(z) = erfc(z/√2)/2, computed directly.
pub(crate) fn norm_sf(z: f64) -> f64 {
    norm_cdf(-z)
}

/// Standard normal quantile Φ⁻¹(p) for p strictly inside (0, 1); ±inf at the ends, NaN outside.
pub(crate) fn norm_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
}

/// ln C(n, k) through the log-gamma function; -inf when k is outside 0..=n.
pub(crate) fn ln_choose(n: f64, k: f64) -> f64 {
    if k < 0.0 || k > n {
        return f64::NEG_INFINITY;
    }
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tails_are_symmetric_and_accurate_far_out() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-16);
        // Φ(-37.5) ≈ 4.605353e-308 (R: pnorm(-37.5)).
        let far = norm_cdf(-37.5);
        assert!((far / 4.605353e-308 - 1.0).abs() < 1e-5, "{far}");
        assert_eq!(norm_sf(3.0), norm_cdf(-3.0));
        assert!((norm_quantile(0.975) - 1.959963984540054).abs() < 1e-13);
        assert!(norm_quantile(1.5).is_nan());
        assert_eq!(norm_quantile(0.0), f64::NEG_INFINITY);
    }
}
