//! Exact discrete distributions (binomial, hypergeometric) in log space, their tails, the
//! Clopper-Pearson quantile and R's Brent root finder.
//!
//! Point probabilities follow R's `dbinom_raw` (Loader's saddle-point form with `stirlerr` and
//! `bd0`), so they stay accurate with a billion trials where `ln_choose` would lose six digits to
//! cancellation. Tails are summed outward from the observed value, away from the mode, with the
//! ratio recurrence; the tail that holds the mode is obtained as a complement (it is then at
//! least about one half, so nothing cancels). Near the mean of a wide binomial, where that sum
//! would take about nine standard deviations' worth of terms, the binomial tails are the
//! incomplete beta function `P(X ≥ x) = I_p(x, n - x + 1)` evaluated by Temme's expansion in
//! constant time (`crate::incomplete_beta`, as R's `pbinom` through TOMS 708 `bratio`); away
//! from the mean the summation is short (at most about 1300 terms, see
//! [`SUMMATION_MAX_VARIANCE`]), so no tail costs more than a bounded amount of work.

use crate::dist::{ln_choose, norm_quantile};
use crate::incomplete_beta::beta_ratio_near_mean;
use statrs::function::gamma::ln_gamma;

const LN_2PI: f64 = 1.837_877_066_409_345_3;
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// stirlerr(n) for n = 0..=15 (R's `sferr_halves` at the integers), to full precision.
const STIRLERR_INT: [f64; 16] = [
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

/// Error of Stirling's formula, ln n! - (n + 1/2) ln n + n - ln √(2π), as R's `stirlerr`.
pub(crate) fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 0.0 {
        return 0.0;
    }
    if n <= 15.0 {
        if n.fract() == 0.0 {
            return STIRLERR_INT[n as usize];
        }
        return ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - LN_SQRT_2PI;
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// Deviance term x ln(x/np) + np - x, computed without cancellation, as R's `bd0`.
pub(crate) fn bd0(x: f64, np: f64) -> f64 {
    if (x - np).abs() < 0.1 * (x + np) {
        let mut v = (x - np) / (x + np);
        let mut s = (x - np) * v;
        if s.abs() < f64::MIN_POSITIVE {
            return s;
        }
        let mut ej = 2.0 * x * v;
        v *= v;
        for j in 1..1000 {
            ej *= v;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                return s1;
            }
            s = s1;
        }
    }
    x * (x / np).ln() + np - x
}

/// ln P(X = x) for X ~ Binomial(n, p), q = 1 - p passed separately, as R's `dbinom_raw`.
pub(crate) fn ln_dbinom(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if x < 0.0 || x > n {
        return f64::NEG_INFINITY;
    }
    if p == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if q == 0.0 {
        return if x == n { 0.0 } else { f64::NEG_INFINITY };
    }
    if x == 0.0 {
        if n == 0.0 {
            return 0.0;
        }
        return if p < 0.1 {
            -bd0(n, n * q) - n * p
        } else {
            n * q.ln()
        };
    }
    if x == n {
        return if q < 0.1 {
            -bd0(n, n * p) - n * q
        } else {
            n * p.ln()
        };
    }
    let lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    let lf = LN_2PI + x.ln() + (-x / n).ln_1p();
    lc - 0.5 * lf
}

/// Binomial variance `n p q` from which the tails near the mean come from Temme's expansion
/// rather than from the summation.
///
/// The summation near the mean adds about `8.8 sd` terms (until a term falls below `1e-17` of
/// the sum, `√(2 · 39)` standard deviations out), about 3 ns each; the expansion costs about
/// 1 µs at the smallest parameters (more series terms) down to 0.6 µs at large ones. Measured
/// with `benches/counts.rs` (`tail_method`: a one-sided `binom_test`, about 35 tail
/// evaluations, one run): by summation 43 µs at `n p q = 500` and 64 µs at 990; by the
/// expansion 69 µs at 1010, 48 µs at 10^4 and 28 µs at 10^6 (an earlier run: summation 103 µs
/// at 9900). They cross near `n p q = 1000` (sd ≈ 32): the switch is there. It also
/// keeps both beta parameters far above R's minimum of 100 (near the mean they are at least
/// `min(n p, n q) ≥ n p q`). Where the expansion does not apply (`|x - n p| > 0.03 min(x,
/// n - x)`), the tail terms fall by a factor of at least `1 - 0.03 / max(p, q)` per step, so that
/// sum stops within about `39 / 0.03 ≈ 1300` terms whatever `n`.
pub(crate) const SUMMATION_MAX_VARIANCE: f64 = 1e3;

/// A binomial distribution with `n` trials and success probability `p`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binomial {
    pub n: u64,
    pub p: f64,
}

impl Binomial {
    fn q(&self) -> f64 {
        1.0 - self.p
    }

    /// ln P(X = x).
    pub fn ln_pmf(&self, x: u64) -> f64 {
        ln_dbinom(x as f64, self.n as f64, self.p, self.q())
    }

    /// P(X ≤ x), as R's `pbinom(x, n, p)`.
    pub fn cdf(&self, x: i128) -> f64 {
        let n = self.n as i128;
        if x < 0 {
            return 0.0;
        }
        if x >= n {
            return 1.0;
        }
        if self.p == 0.0 {
            return 1.0;
        }
        if self.p == 1.0 {
            return 0.0;
        }
        let (xf, nf) = (x as f64, self.n as f64);
        // P(X ≤ x) = 1 - I_p(x + 1, n - x), R's pbeta(p, x + 1, n - x, lower.tail = FALSE).
        if let Some((_, upper)) = self.near_mean(xf + 1.0, nf - xf) {
            return upper;
        }
        if xf < nf * self.p {
            self.lower_sum(x as u64)
        } else {
            1.0 - self.upper_sum(x as u64 + 1)
        }
    }

    /// P(X ≥ x), as R's `pbinom(x - 1, n, p, lower.tail = FALSE)`.
    pub fn sf_ge(&self, x: i128) -> f64 {
        let n = self.n as i128;
        if x <= 0 {
            return 1.0;
        }
        if x > n {
            return 0.0;
        }
        if self.p == 0.0 {
            return 0.0;
        }
        if self.p == 1.0 {
            return 1.0;
        }
        let (xf, nf) = (x as f64, self.n as f64);
        // P(X ≥ x) = I_p(x, n - x + 1), R's pbeta(p, x, n - x + 1).
        if let Some((lower, _)) = self.near_mean(xf, nf - xf + 1.0) {
            return lower;
        }
        if xf > nf * self.p {
            self.upper_sum(x as u64)
        } else {
            1.0 - self.lower_sum(x as u64 - 1)
        }
    }

    /// `(I_p(a, b), 1 - I_p(a, b))` by Temme's expansion when the variance is at least
    /// [`SUMMATION_MAX_VARIANCE`] and `(a, b)` is in the expansion's region.
    fn near_mean(&self, a: f64, b: f64) -> Option<(f64, f64)> {
        let q = self.q();
        if (self.n as f64) * self.p * q < SUMMATION_MAX_VARIANCE {
            return None;
        }
        beta_ratio_near_mean(a, b, self.p, q, false)
    }

    /// Σ_{i ≤ x} P(X = i), summed downward from x (x below the mean, so the terms shrink).
    fn lower_sum(&self, x: u64) -> f64 {
        let (p, q) = (self.p, self.q());
        let n = self.n as f64;
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut i = x;
        while i > 0 {
            let fi = i as f64;
            term *= fi * q / ((n - fi + 1.0) * p);
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
            i -= 1;
        }
        (self.ln_pmf(x) + sum.ln()).exp()
    }

    /// Σ_{i ≥ x} P(X = i), summed upward from x (x above the mean, so the terms shrink).
    fn upper_sum(&self, x: u64) -> f64 {
        let (p, q) = (self.p, self.q());
        let n = self.n as f64;
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut i = x;
        while i < self.n {
            let fi = i as f64;
            term *= (n - fi) * p / ((fi + 1.0) * q);
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
            i += 1;
        }
        (self.ln_pmf(x) + sum.ln()).exp()
    }
}

/// ln P(X = x) for the hypergeometric X = white balls among `k` drawn from `m` white and `n`
/// black, as R's `dhyper(x, m, n, k, log = TRUE)`.
pub(crate) fn ln_dhyper(x: u64, m: u64, n: u64, k: u64) -> f64 {
    if x > k || x > m || k - x > n {
        return f64::NEG_INFINITY;
    }
    if k == 0 {
        return 0.0;
    }
    let total = (m + n) as f64;
    let kf = k as f64;
    let p = kf / total;
    let q = (total - kf) / total;
    let xf = x as f64;
    let p1 = ln_dbinom(xf, m as f64, p, q);
    let p2 = ln_dbinom(kf - xf, n as f64, p, q);
    let p3 = ln_dbinom(kf, total, p, q);
    let v = p1 + p2 - p3;
    if v.is_finite() {
        v
    } else {
        // Degenerate saddle point (cannot happen for valid tables); fall back to log-gamma.
        ln_choose(m as f64, xf) + ln_choose(n as f64, kf - xf) - ln_choose(total, kf)
    }
}

/// The hypergeometric distribution of the white balls among `k` drawn from `m` white and `n`
/// black (R's parameterisation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hypergeometric {
    pub m: u64,
    pub n: u64,
    pub k: u64,
}

impl Hypergeometric {
    /// Smallest value of the support, max(0, k - n).
    pub fn lo(&self) -> u64 {
        self.k.saturating_sub(self.n)
    }

    /// Largest value of the support, min(k, m).
    pub fn hi(&self) -> u64 {
        self.k.min(self.m)
    }

    fn mean(&self) -> f64 {
        let total = (self.m + self.n) as f64;
        if total == 0.0 {
            0.0
        } else {
            self.k as f64 * self.m as f64 / total
        }
    }

    /// ln P(X = x).
    pub fn ln_pmf(&self, x: u64) -> f64 {
        ln_dhyper(x, self.m, self.n, self.k)
    }

    /// A mode of the distribution (the index of a largest probability).
    pub fn mode(&self) -> u64 {
        let total = (self.m + self.n) as f64;
        let guess = ((self.k as f64 + 1.0) * (self.m as f64 + 1.0) / (total + 2.0)).floor();
        let c = (guess as u64).clamp(self.lo(), self.hi());
        let mut best = c;
        for cand in [c.saturating_sub(1), c + 1] {
            if cand >= self.lo() && cand <= self.hi() && self.ln_pmf(cand) > self.ln_pmf(best) {
                best = cand;
            }
        }
        best
    }

    /// P(X ≤ x), as R's `phyper(x, m, n, k)`.
    pub fn cdf(&self, x: i128) -> f64 {
        if x < self.lo() as i128 {
            return 0.0;
        }
        if x >= self.hi() as i128 {
            return 1.0;
        }
        let x = x as u64;
        if (x as f64) < self.mean() {
            self.lower_sum(x)
        } else {
            1.0 - self.upper_sum(x + 1)
        }
    }

    /// P(X ≥ x), as R's `phyper(x - 1, m, n, k, lower.tail = FALSE)`.
    pub fn sf_ge(&self, x: i128) -> f64 {
        if x <= self.lo() as i128 {
            return 1.0;
        }
        if x > self.hi() as i128 {
            return 0.0;
        }
        let x = x as u64;
        if (x as f64) > self.mean() {
            self.upper_sum(x)
        } else {
            1.0 - self.lower_sum(x - 1)
        }
    }

    fn lower_sum(&self, x: u64) -> f64 {
        let (m, n, k) = (self.m as f64, self.n as f64, self.k as f64);
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut i = x;
        while i > self.lo() {
            let fi = i as f64;
            // P(i - 1) / P(i) = i (n - k + i) / ((m - i + 1)(k - i + 1))
            term *= fi * (n - k + fi) / ((m - fi + 1.0) * (k - fi + 1.0));
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
            i -= 1;
        }
        (self.ln_pmf(x) + sum.ln()).exp()
    }

    fn upper_sum(&self, x: u64) -> f64 {
        let (m, n, k) = (self.m as f64, self.n as f64, self.k as f64);
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut i = x;
        while i < self.hi() {
            let fi = i as f64;
            // P(i + 1) / P(i) = (m - i)(k - i) / ((i + 1)(n - k + i + 1))
            term *= (m - fi) * (k - fi) / ((fi + 1.0) * (n - k + fi + 1.0));
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
            i += 1;
        }
        (self.ln_pmf(x) + sum.ln()).exp()
    }
}

/// Bisection over the bit patterns of non-negative doubles in `[lo, hi]`: returns the first
/// double at which `is_above(p)` is true. `is_above` must switch once, from false to true.
fn bisect_bits(lo: f64, hi: f64, mut is_above: impl FnMut(f64) -> bool) -> f64 {
    let mut a = lo.to_bits();
    let mut b = hi.to_bits();
    while b - a > 1 {
        let mid = a + (b - a) / 2;
        if is_above(f64::from_bits(mid)) {
            b = mid;
        } else {
            a = mid;
        }
    }
    f64::from_bits(b)
}

/// A bracket `[lo, hi]` of the first double in `[0, 1]` at which `is_above` turns true (it must
/// switch once, from false to true, and is taken as false at 0 and true at 1), found around
/// `guess`: `half_width` either side first, then steps growing eightfold away from the guess
/// until the switch is inside. With a good guess this takes two evaluations and leaves a
/// bracket a few dozen bits narrower than `[0, 1]`; with a poor one it ends at `[0, 1]`.
fn bracket(guess: f64, half_width: f64, mut is_above: impl FnMut(f64) -> bool) -> (f64, f64) {
    let mut lo = (guess - half_width).clamp(0.0, 1.0);
    let mut hi = (guess + half_width).clamp(0.0, 1.0);
    let mut step = half_width;
    let mut hi_checked = false;
    while lo > 0.0 && is_above(lo) {
        hi = lo;
        hi_checked = true;
        step *= 8.0;
        lo = (lo - step).max(0.0);
    }
    if !hi_checked {
        while hi < 1.0 && !is_above(hi) {
            lo = hi;
            step *= 8.0;
            hi = (hi + step).min(1.0);
        }
    }
    (lo, hi)
}

/// The Wilson score limit (lower when `z > 0`) of `x` successes in `n` trials, a close guess of
/// the Clopper-Pearson limit at `alpha = P(Z > z)`, and a half-width for [`bracket`] (a quarter
/// of the binomial standard error plus `1/n`, about the gap between the two limits). Falls back
/// to the whole of `[0, 1]` when the guess is not a number.
fn wilson_guess(x: u64, n: u64, alpha: f64, lower: bool) -> (f64, f64) {
    let z = norm_quantile(1.0 - alpha);
    let (xf, nf) = (x as f64, n as f64);
    let z2 = z * z;
    let centre = (xf + z2 / 2.0) / (nf + z2);
    let half = z / (nf + z2) * (xf * (nf - xf) / nf + z2 / 4.0).sqrt();
    let guess = if lower { centre - half } else { centre + half };
    if !guess.is_finite() {
        return (0.5, 0.5);
    }
    let guess = guess.clamp(0.0, 1.0);
    (guess, 0.25 * (guess * (1.0 - guess) / nf).sqrt() + 1.0 / nf)
}

/// Lower Clopper-Pearson limit: the p with P(Binomial(n, p) ≥ x) = alpha, i.e. R's
/// `qbeta(alpha, x, n - x + 1)`; 0 when x = 0.
///
/// Bisection over the bit patterns of the doubles between a bracket found around the Wilson
/// limit, then the neighbour with the smaller residual ([`refine`]): the same double as
/// bisecting all of `[0, 1]`, in about 30 tail evaluations instead of 62.
pub(crate) fn clopper_pearson_lower(x: u64, n: u64, alpha: f64) -> f64 {
    if x == 0 {
        return 0.0;
    }
    let is_above = |p: f64| Binomial { n, p }.sf_ge(x as i128) >= alpha;
    let (guess, half_width) = wilson_guess(x, n, alpha, true);
    let (lo, hi) = bracket(guess, half_width, is_above);
    let root = bisect_bits(lo, hi, is_above);
    refine(root, |p| Binomial { n, p }.sf_ge(x as i128) - alpha)
}

/// Upper Clopper-Pearson limit: the p with P(Binomial(n, p) ≤ x) = alpha, i.e. R's
/// `qbeta(1 - alpha, x + 1, n - x)`; 1 when x = n. Found as [`clopper_pearson_lower`].
pub(crate) fn clopper_pearson_upper(x: u64, n: u64, alpha: f64) -> f64 {
    if x >= n {
        return 1.0;
    }
    let is_above = |p: f64| Binomial { n, p }.cdf(x as i128) <= alpha;
    let (guess, half_width) = wilson_guess(x, n, alpha, false);
    let (lo, hi) = bracket(guess, half_width, is_above);
    let root = bisect_bits(lo, hi, is_above);
    refine(root, |p| alpha - Binomial { n, p }.cdf(x as i128))
}

/// Picks the neighbour double with the smallest |g| (g increasing), so the answer is the nearest
/// representable root rather than the first one past it.
fn refine(root: f64, g: impl Fn(f64) -> f64) -> f64 {
    let below = f64::from_bits(root.to_bits().saturating_sub(1));
    if below >= 0.0 && g(below).abs() < g(root).abs() {
        below
    } else {
        root
    }
}

/// R's `uniroot` (Brent's `R_zeroin2`, with `tol = .Machine$double.eps^0.25` and
/// `maxiter = 1000`), ported step for step so the root it returns is the one R returns, not just
/// one within R's tolerance. Returns `None` when the end points do not bracket a root.
pub(crate) fn uniroot(f: impl Fn(f64) -> f64, lower: f64, upper: f64) -> Option<f64> {
    let tol = f64::EPSILON.powf(0.25);
    let (mut a, mut b) = (lower, upper);
    let (mut fa, mut fb) = (f(a), f(b));
    if fa.is_nan() || fb.is_nan() || fa * fb > 0.0 {
        return None;
    }
    let (mut c, mut fc) = (a, fa);
    if fa == 0.0 {
        return Some(a);
    }
    if fb == 0.0 {
        return Some(b);
    }
    for _ in 0..=1000 {
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * f64::EPSILON * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return Some(b);
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                let qq = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * qq * (qq - t1) - (b - a) * (t1 - 1.0));
                q = (qq - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < (0.75 * cb * q - (tol_act * q).abs() / 2.0) && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn binomial_pmf_and_tails_match_r() {
        // R: dbinom(3, 10, 0.3) = 0.26682793200000005
        let b = Binomial { n: 10, p: 0.3 };
        assert!(rel(b.ln_pmf(3).exp(), 0.266_827_931_999_999_93) < 1e-14);
        // R: pbinom(3, 10, 0.3) = 0.6496107184
        assert!(rel(b.cdf(3), 0.649_610_718_400_000_2) < 1e-14);
        assert!(rel(b.sf_ge(4), 1.0 - 0.649_610_718_400_000_2) < 1e-13);
    }

    #[test]
    fn hypergeometric_sums_to_one() {
        let h = Hypergeometric { m: 7, n: 12, k: 9 };
        let total: f64 = (h.lo()..=h.hi()).map(|x| h.ln_pmf(x).exp()).sum();
        assert!((total - 1.0).abs() < 1e-14);
        assert!((h.cdf(3) + h.sf_ge(4) - 1.0).abs() < 1e-14);
        // R: phyper(3, 7, 12, 9) = 0.57001667063586581
        assert!(rel(h.cdf(3), 0.570_016_670_635_865_8) < 1e-14);
    }

    #[test]
    fn clopper_pearson_matches_qbeta() {
        // R: qbeta(0.025, 3, 8) = 0.06673951117773447; qbeta(0.975, 4, 7) = 0.6524528500599699
        assert!(
            rel(
                clopper_pearson_lower(3, 10, 0.025),
                0.066_739_511_177_734_47
            ) < 1e-12
        );
        assert!(rel(clopper_pearson_upper(3, 10, 0.025), 0.652_452_850_059_997_3) < 1e-12);
    }
}
