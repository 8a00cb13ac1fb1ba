//! The regularized incomplete beta function `I_x(a, b)` for large `a` and `b` near the mean, by
//! Temme's uniform asymptotic expansion, in constant time whatever the size of `a` and `b`.
//!
//! This is `basym` of ACM TOMS Algorithm 708 (A. R. Didonato and A. H. Morris, "Algorithm 708:
//! Significant digit computation of the incomplete beta function ratios", ACM Trans. Math.
//! Softw. 18(3), 1992, pp. 360-373, §4 and eq. (4.1)-(4.5), after N. M. Temme, "Incomplete
//! Laplace integrals: uniform asymptotic expansion with application to the incomplete beta
//! function", SIAM J. Math. Anal. 18, 1987), ported from the C translation R uses for `pbeta`
//! and so for `pbinom` (`src/nmath/toms708.c`: `basym`, with its helpers `erfc1`, `rlog1` and
//! `bcorr`), together with the choice `bratio` makes there: both parameters above 100 and
//! `λ = (a + b) y - b` (after the swap that makes it non-negative) at most `0.03 min(a, b)`.
//!
//! With `f = a φ(-λ/a) + b φ(λ/b)`, `φ(t) = t - ln(1 + t)`, `z = √f` and the series
//! `Σ d_n w_0^n J_n(z)` in `w_0 = 1/√(min(a,b) (1 + h))`, `h = min/max`:
//! `I_x(a, b) = (2/√π) e^{-f} e^{-Δ} Σ ...`, where `Δ = δ(a) + δ(b) - δ(a + b)` is the error of
//! Stirling's series (`bcorr`). The series is in powers of `1/√min(a, b)` and stops when a term
//! pair adds less than the tolerance relative to the sum (at most 20 terms).

/// Both parameters must be above this for the expansion (`bratio`: `a0, b0 > 100`).
const MIN_PARAMETER: f64 = 100.0;

/// `|λ|` must be at most this fraction of the smaller parameter (`bratio`: `λ ≤ 0.03 a0`).
const MAX_LAMBDA_FRACTION: f64 = 0.03;

/// Relative truncation tolerance of the series. R passes `100 * 1e-15`; the terms fall by a
/// factor of at least `1/√100` each, so asking for the last bit costs a few more terms and
/// leaves only the rounding of the rational approximations (about 1e-15 relative).
const SERIES_TOLERANCE: f64 = f64::EPSILON;

/// `(I_x(a, b), 1 - I_x(a, b))`, each computed without cancellation (the smaller one directly,
/// the other as its complement), when both `a, b > 100` and `x` is close enough to the mean
/// `a/(a+b)` for Temme's expansion (`|λ| ≤ 0.03 min(a, b)` with `λ = (a + b) y - b` for
/// `a > b`, `a - (a + b) x` otherwise); `None` elsewhere. `y = 1 - x` is passed separately, as
/// in `bratio`. With `log`, both values are natural logarithms (`ln I` and `ln(1 - I)`).
pub(crate) fn beta_ratio_near_mean(
    a: f64,
    b: f64,
    x: f64,
    y: f64,
    log: bool,
) -> Option<(f64, f64)> {
    if !(a > MIN_PARAMETER && b > MIN_PARAMETER && a.is_finite() && b.is_finite()) {
        return None;
    }
    if !(x > 0.0 && y > 0.0) {
        return None;
    }
    let lambda = if a > b {
        product_minus(a, b, y, b)
    } else {
        -product_minus(a, b, x, a)
    };
    let swap = lambda < 0.0;
    let lambda = lambda.abs();
    let (a0, b0) = if swap { (b, a) } else { (a, b) };
    if lambda.is_nan() || lambda > MAX_LAMBDA_FRACTION * a0.min(b0) {
        return None;
    }
    let w = basym(a0, b0, lambda, SERIES_TOLERANCE, log);
    let w1 = if log {
        ln_one_minus_exp(w)
    } else {
        0.5 - w + 0.5
    };
    Some(if swap { (w1, w) } else { (w, w1) })
}

/// `(a + b) t - c`, with the sum and the product carried exactly (two-sum and a fused
/// multiply-add for their rounding errors), so that `λ` is correct to its own last bit even
/// where it is a small difference of numbers near 10^15. R rounds `(a + b) x` first: one unit in
/// its last place of `(a + b) x` moves `λ²/(2 n p q)`, the exponent of the tail, by
/// `λ / (n p q)` units, about 1e-12 relative in a tail 30 standard deviations out at 10^9 trials.
/// `mul_add` is correctly rounded on every target, so the result stays bit for bit the same.
fn product_minus(a: f64, b: f64, t: f64, c: f64) -> f64 {
    let sum = a + b;
    let big = if a.abs() >= b.abs() { a } else { b };
    let small = if a.abs() >= b.abs() { b } else { a };
    let sum_err = small - (sum - big);
    let prod = sum * t;
    let prod_err = sum.mul_add(t, -prod);
    ((prod - c) + prod_err) + sum_err * t
}

/// `ln(1 - e^w)` for `w ≤ 0`, accurate at both ends (R's `R_Log1_Exp`).
fn ln_one_minus_exp(w: f64) -> f64 {
    if w > -std::f64::consts::LN_2 {
        (-w.exp_m1()).ln()
    } else {
        (-w.exp()).ln_1p()
    }
}

/// Temme's expansion of `I_x(a, b)` for `λ = (a + b) y - b ≥ 0` (TOMS 708 `basym`); `eps` is the
/// relative truncation tolerance. Returns `ln I_x(a, b)` when `log`.
fn basym(a: f64, b: f64, lambda: f64, eps: f64, log: bool) -> f64 {
    // NUM is the largest n of the series loop; it must be even. The arrays hold NUM + 1 terms.
    const NUM: usize = 20;
    // TOMS 708 writes these to 15 digits; here to full precision.
    const E0: f64 = std::f64::consts::FRAC_2_SQRT_PI; // 2/√π
    const E1: f64 = std::f64::consts::FRAC_1_SQRT_2 / 2.0; // 2^(-3/2)
    const LN_E0: f64 = 0.120_782_237_635_245_2; // ln(2/√π)
    let mut a0 = [0.0f64; NUM + 1];
    let mut b0 = [0.0f64; NUM + 1];
    let mut c = [0.0f64; NUM + 1];
    let mut d = [0.0f64; NUM + 1];

    let f = a * rlog1(-lambda / a) + b * rlog1(lambda / b);
    let t = if log {
        -f
    } else {
        let t = (-f).exp();
        if t == 0.0 {
            return 0.0;
        }
        t
    };
    let z0 = f.sqrt();
    let z = z0 / E1 * 0.5;
    let z2 = f + f;
    let (h, r0, r1, w0) = if a < b {
        let h = a / b;
        (
            h,
            1.0 / (h + 1.0),
            (b - a) / b,
            1.0 / (a * (h + 1.0)).sqrt(),
        )
    } else {
        let h = b / a;
        (
            h,
            1.0 / (h + 1.0),
            (b - a) / a,
            1.0 / (b * (h + 1.0)).sqrt(),
        )
    };

    a0[0] = r1 * 0.666_666_666_666_666_6;
    c[0] = a0[0] * -0.5;
    d[0] = -c[0];
    let mut j0 = 0.5 / E0 * erfc_scaled(z0);
    let mut j1 = E1;
    let mut sum = j0 + d[0] * w0 * j1;

    let mut s = 1.0;
    let h2 = h * h;
    let mut hn = 1.0;
    let mut w = w0;
    let mut znm1 = z;
    let mut zn = z2;
    let mut n = 2;
    while n <= NUM {
        hn *= h2;
        a0[n - 1] = r0 * 2.0 * (h * hn + 1.0) / (n as f64 + 2.0);
        let np1 = n + 1;
        s += hn;
        a0[np1 - 1] = r1 * 2.0 * s / (n as f64 + 3.0);

        for i in n..=np1 {
            let r = (i as f64 + 1.0) * -0.5;
            b0[0] = r * a0[0];
            for m in 2..=i {
                let mut bsum = 0.0;
                for j in 1..m {
                    let mmj = m - j;
                    bsum += (j as f64 * r - mmj as f64) * a0[j - 1] * b0[mmj - 1];
                }
                b0[m - 1] = r * a0[m - 1] + bsum / m as f64;
            }
            c[i - 1] = b0[i - 1] / (i as f64 + 1.0);
            let mut dsum = 0.0;
            for j in 1..i {
                dsum += d[i - j - 1] * c[j - 1];
            }
            d[i - 1] = -(dsum + c[i - 1]);
        }

        j0 = E1 * znm1 + (n as f64 - 1.0) * j0;
        j1 = E1 * zn + n as f64 * j1;
        znm1 *= z2;
        zn *= z2;
        w *= w0;
        let t0 = d[n - 1] * w * j0;
        w *= w0;
        let t1 = d[np1 - 1] * w * j1;
        sum += t0 + t1;
        if t0.abs() + t1.abs() <= eps * sum {
            break;
        }
        n += 2;
    }

    if log {
        LN_E0 + t - bcorr(a, b) + sum.ln()
    } else {
        E0 * t * (-bcorr(a, b)).exp() * sum
    }
}

/// `x - ln(1 + x)` for `x > -1` without cancellation near 0 (TOMS 708 `rlog1`: a rational
/// approximation after argument reduction on `[-0.39, 0.57]`, direct evaluation outside).
fn rlog1(x: f64) -> f64 {
    const A: f64 = 0.056_674_943_938_732_4;
    const B: f64 = 0.045_651_260_881_552_4;
    const P0: f64 = 0.333_333_333_333_333;
    const P1: f64 = -0.224_696_413_112_536;
    const P2: f64 = 0.006_208_868_153_757_87;
    const Q1: f64 = -1.274_089_239_336_23;
    const Q2: f64 = 0.354_508_718_369_557;
    if !(-0.39..=0.57).contains(&x) {
        return x - (x + 0.5 + 0.5).ln();
    }
    let (h, w1) = if x < -0.18 {
        let h = (x + 0.3) / 0.7;
        (h, A - h * 0.3)
    } else if x > 0.18 {
        let h = x * 0.75 - 0.25;
        (h, B + h / 3.0)
    } else {
        (x, 0.0)
    };
    let r = h / (h + 2.0);
    let t = r * r;
    let w = ((P2 * t + P1) * t + P0) / ((Q2 * t + Q1) * t + 1.0);
    t * 2.0 * (1.0 / (1.0 - r) - r * w) + w1
}

/// The scaled complementary error function `e^{x²} erfc(x)` for `x ≥ 0` (TOMS 708
/// `erfc1(1, x)`: rational approximations on `[0, 0.5]`, `(0.5, 4]` and `(4, ∞)`, the last in
/// `1/x²`, so nothing overflows or cancels for large `x`).
fn erfc_scaled(x: f64) -> f64 {
    const C: f64 = 0.564_189_583_547_756;
    const A: [f64; 5] = [
        7.710_584_950_013_2e-5,
        -0.001_337_337_729_973_39,
        0.032_307_657_922_583_4,
        0.047_913_714_560_768_1,
        0.128_379_167_095_513,
    ];
    const B: [f64; 3] = [
        0.003_010_486_317_038_95,
        0.053_897_168_774_028_6,
        0.375_795_757_275_549,
    ];
    const P: [f64; 8] = [
        -1.368_648_573_827_17e-7,
        0.564_195_517_478_974,
        7.211_758_250_883_09,
        43.162_227_222_056_7,
        152.989_285_046_94,
        339.320_816_734_344,
        451.918_953_711_873,
        300.459_261_020_162,
    ];
    const Q: [f64; 8] = [
        1.0,
        12.782_727_319_629_4,
        77.000_152_935_229_5,
        277.585_444_743_988,
        638.980_264_465_631,
        931.354_094_850_61,
        790.950_925_327_898,
        300.459_260_956_983,
    ];
    const R: [f64; 5] = [
        2.101_441_264_790_64,
        26.237_014_167_516_9,
        21.368_820_055_508_7,
        4.658_078_287_184_7,
        0.282_094_791_773_523,
    ];
    const S: [f64; 4] = [
        94.153_775_055_546,
        187.114_811_799_59,
        99.019_181_462_391_4,
        18.012_457_594_874_7,
    ];
    let ax = x.abs();
    if ax <= 0.5 {
        let t = x * x;
        let top = (((A[0] * t + A[1]) * t + A[2]) * t + A[3]) * t + A[4] + 1.0;
        let bot = ((B[0] * t + B[1]) * t + B[2]) * t + 1.0;
        return t.exp() * (0.5 - x * (top / bot) + 0.5);
    }
    if ax <= 4.0 {
        let top = ((((((P[0] * ax + P[1]) * ax + P[2]) * ax + P[3]) * ax + P[4]) * ax + P[5]) * ax
            + P[6])
            * ax
            + P[7];
        let bot = ((((((Q[0] * ax + Q[1]) * ax + Q[2]) * ax + Q[3]) * ax + Q[4]) * ax + Q[5]) * ax
            + Q[6])
            * ax
            + Q[7];
        return top / bot;
    }
    let t = 1.0 / (x * x);
    let top = (((R[0] * t + R[1]) * t + R[2]) * t + R[3]) * t + R[4];
    let bot = (((S[0] * t + S[1]) * t + S[2]) * t + S[3]) * t + 1.0;
    (C - t * top / bot) / ax
}

/// `δ(a) + δ(b) - δ(a + b)` for `a, b ≥ 8`, where `ln Γ(a) = (a - 1/2) ln a - a + ln √(2π) + δ(a)`
/// (TOMS 708 `bcorr`).
fn bcorr(a0: f64, b0: f64) -> f64 {
    const C0: f64 = 0.083_333_333_333_333_3;
    const C1: f64 = -0.002_777_777_777_609_91;
    const C2: f64 = 7.936_506_668_253_9e-4;
    const C3: f64 = -5.952_029_313_518_7e-4;
    const C4: f64 = 8.373_080_340_312_15e-4;
    const C5: f64 = -0.001_653_229_627_807_13;
    let a = a0.min(b0);
    let b = a0.max(b0);
    let h = a / b;
    let c = h / (h + 1.0);
    let x = 1.0 / (h + 1.0);
    let x2 = x * x;
    // s_n = (1 - x^n) / (1 - x)
    let s3 = x + x2 + 1.0;
    let s5 = x + x2 * s3 + 1.0;
    let s7 = x + x2 * s5 + 1.0;
    let s9 = x + x2 * s7 + 1.0;
    let s11 = x + x2 * s9 + 1.0;
    // w = δ(b) - δ(a + b)
    let t = (1.0 / b) * (1.0 / b);
    let w = ((((C5 * s11 * t + C4 * s9) * t + C3 * s7) * t + C2 * s5) * t + C1 * s3) * t + C0;
    let w = w * c / b;
    let t = (1.0 / a) * (1.0 / a);
    (((((C5 * t + C4) * t + C3) * t + C2) * t + C1) * t + C0) / a + w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn outside_the_region_there_is_no_answer() {
        assert!(beta_ratio_near_mean(50.0, 5000.0, 0.01, 0.99, false).is_none());
        // 5 standard deviations is far beyond 0.03 min(a, b) when min(a, b) = 1000.
        assert!(beta_ratio_near_mean(1000.0, 1000.0, 0.6, 0.4, false).is_none());
        assert!(beta_ratio_near_mean(f64::INFINITY, 1000.0, 0.5, 0.5, false).is_none());
    }

    #[test]
    fn matches_r_pbeta() {
        // R: pbeta(0.5, 1000, 1000) = 0.5 (symmetry); pbeta(0.49, 1000, 1010) =
        // 0.25030420419399607; pbeta(0.501, 5000, 5000, lower = FALSE) = 0.42074216754341975
        let (w, w1) = beta_ratio_near_mean(1000.0, 1000.0, 0.5, 0.5, false).unwrap();
        assert!(rel(w, 0.5) < 1e-15 && rel(w1, 0.5) < 1e-15, "{w} {w1}");
        let (w, _) = beta_ratio_near_mean(1000.0, 1010.0, 0.49, 0.51, false).unwrap();
        assert!(rel(w, 0.250_304_204_193_996_07) < 1e-13, "{w}");
        let (_, w1) = beta_ratio_near_mean(5000.0, 5000.0, 0.501, 0.499, false).unwrap();
        assert!(rel(w1, 0.420_742_167_543_419_75) < 1e-13, "{w1}");
        let (lw, lw1) = beta_ratio_near_mean(5000.0, 5000.0, 0.501, 0.499, true).unwrap();
        assert!(rel(lw1.exp(), 0.420_742_167_543_419_75) < 1e-13, "{lw1}");
        assert!((lw.exp() + lw1.exp() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn helpers_match_their_definitions() {
        for x in [-0.38, -0.2, -0.1, 1e-5, 0.1, 0.3, 0.5, 0.9] {
            let direct = x - f64::ln_1p(x);
            assert!(rel(rlog1(x), direct) < 1e-10, "rlog1({x})");
        }
        for x in [0.0f64, 0.3, 1.0, 3.0, 5.0] {
            let direct = (x * x).exp() * libm::erfc(x);
            assert!(rel(erfc_scaled(x), direct) < 1e-13, "erfc_scaled({x})");
        }
        // e^{x²} erfc(x) ~ 1/(x √π) for large x.
        assert!(rel(erfc_scaled(1e4), 1.0 / (1e4 * std::f64::consts::PI.sqrt())) < 1e-8);
    }
}
