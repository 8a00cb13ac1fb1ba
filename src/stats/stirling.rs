//! Stirling's series for `ln n!` and the logarithm difference `u - ln(1 + u)`: the two
//! cancellation-free pieces under the saddle-point binomial density (Loader 2000) and Temme's
//! incomplete-beta expansion, shared by both.

/// `ln √(2π)`.
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// `δ(n)` (see [`stirlerr`]) at `n = 0, 1, ..., 15`, computed at 60 digits by
/// `fixtures/generate_stirling_table.py` (mpmath) and rounded once; `δ(0) = 0` by convention.
const STIRLING_ERROR_SMALL: [f64; 16] = [
    0.0,
    0.08106146679532726,
    0.0413406959554093,
    0.02767792568499834,
    0.020790672103765093,
    0.016644691189821193,
    0.013876128823070748,
    0.01189670994589177,
    0.010411265261972096,
    0.009255462182712733,
    0.00833056343336287,
    0.007573675487951841,
    0.00694284010720953,
    0.006408994188004207,
    0.0059513701127588475,
    0.005554733551962801,
];

/// From here on the Stirling series is summed directly: its eighth omitted term,
/// `B₁₈ / (18 · 17 · n¹⁷)`, is below `2e-21` (a relative `4e-19` of `δ(15)`).
const STIRLING_SERIES_FROM: f64 = 15.0;

/// `B₂ₖ / (2k (2k - 1))` for `k = 1..=8`, the coefficients of the Stirling series
/// `δ(n) ~ Σ B₂ₖ / (2k (2k - 1) n^(2k-1))` (DLMF 5.11.1, Bernoulli numbers DLMF 24.2).
const STIRLING_SERIES: [f64; 8] = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360_360.0,
    1.0 / 156.0,
    -3617.0 / 122_400.0,
];

/// The error of Stirling's formula for `n!`,
/// `δ(n) = ln n! - (n + ½) ln n + n - ln √(2π)` (Loader 2000, eq. 3; `δ(0) = 0`).
///
/// From 15 up it is the Stirling series (DLMF 5.11.1) to eight terms; at the integers below,
/// a table computed with mpmath; between them, the exact step
/// `δ(n) = δ(n + 1) + (n + ½) ln(1 + 1/n) - 1` (from `Γ(n + 2) = (n + 1) Γ(n + 1)`), taken upward
/// until the series applies. Each step adds about one rounding of a number below one, so the
/// result is accurate to a few units of `2^-53` in absolute terms, which is what matters where
/// it enters a logarithm.
pub(crate) fn stirlerr(n: f64) -> f64 {
    if n.is_nan() {
        return f64::NAN;
    }
    if n <= 0.0 {
        return 0.0;
    }
    if n >= STIRLING_SERIES_FROM {
        let inv_sq = 1.0 / (n * n);
        let series = STIRLING_SERIES
            .iter()
            .rev()
            .fold(0.0, |acc, &coef| acc * inv_sq + coef);
        return series / n;
    }
    if n.fract() == 0.0 {
        return STIRLING_ERROR_SMALL[n as usize];
    }
    // Upward steps: δ(n) = Σ_{j < steps} ((n + j + ½) ln(1 + 1/(n + j)) - 1) + δ(n + steps).
    let mut z = n;
    let mut steps_sum = 0.0;
    while z < STIRLING_SERIES_FROM {
        steps_sum += (z + 0.5) * (1.0 / z).ln_1p() - 1.0;
        z += 1.0;
    }
    steps_sum + stirlerr(z)
}

/// `u - ln(1 + u)` for `u > -1`, accurate to a few ulps also near `u = 0`, where both terms
/// are close and the difference is about `u²/2`.
///
/// For `|u| ≤ 1/4`, with `r = u / (2 + u)` (so `1 + u = (1 + r)/(1 - r)` and
/// `ln(1 + u) = 2 artanh r = 2 Σ r^(2j+1)/(2j + 1)`, DLMF 4.6.1 and 4.37.24), and
/// `u - 2r = u r = u²/(2 + u)`: `u - ln(1 + u) = u²/(2 + u) - 2 r³ Σ_{j≥0} r^(2j)/(2j + 3)`, a sum of
/// terms falling by `r² ≤ 1/49` each, with no cancellation. Elsewhere the difference is at
/// least a tenth of `|u|` and is computed directly.
pub(crate) fn u_minus_ln_1p(u: f64) -> f64 {
    if u.is_nan() || u.abs() > 0.25 {
        return u - u.ln_1p();
    }
    let r = u / (2.0 + u);
    let r2 = r * r;
    let mut power = 1.0;
    let mut tail = 0.0;
    let mut j = 0u32;
    loop {
        let term = power / f64::from(2 * j + 3);
        tail += term;
        if term <= tail * 1e-17 || j >= 40 {
            break;
        }
        power *= r2;
        j += 1;
    }
    u * u / (2.0 + u) - 2.0 * r * r2 * tail
}
