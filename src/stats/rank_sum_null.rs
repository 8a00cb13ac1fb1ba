//! Exact null distributions of the rank-sum statistic U: without ties from the Gaussian-binomial
//! generating function in exact multi-word integers, with ties from the Streitberg-Röhmel shift
//! algorithm. Both are bounded: past their caps the caller gets [`Error::ExactTooLarge`].

use crate::error::{Error, Result};

/// Largest ⌊nm/2⌋ for which the tie-free distribution is tabulated (16 MiB of counts).
pub(crate) const EXACT_MAX_HALF_RANGE: u64 = 1 << 20;
/// Largest work (subset size × pooled size × score range) for the conditional distribution.
pub(crate) const CONDITIONAL_MAX_WORK: u64 = 250_000_000;
/// Largest work (smaller arm × ⌊nm/2⌋ × 64-bit words per count) for the tie-free distribution:
/// 1.2e9 word additions, about 4 s in release on a loaded machine (500 points per arm is 1.0e9).
pub(crate) const EXACT_MAX_WORD_WORK: u64 = 1_200_000_000;

/// The null distribution of 2U (twice the canary's U), as counts of equally likely splits.
#[derive(Debug, Clone)]
pub(crate) enum RankSumNull {
    /// No ties: `lower[u]` = P(U ≤ u) for u ≤ ⌊mn/2⌋, each the ratio of two exact integer
    /// counts rounded once (within an ulp or so).
    NoTies {
        /// Cumulative probabilities of the lower half.
        lower: Vec<f64>,
        /// Point probabilities of the lower half (R's `dwilcox`), kept for `qwilcox`.
        point: Vec<f64>,
        /// n·m.
        mn: u64,
    },
    /// Ties: `counts[t]` = number of splits with 2U = t, in f64 (sums of positives only).
    Conditional {
        /// Point counts indexed by 2U.
        counts: Vec<f64>,
        /// Their sum, C(n+m, n).
        total: f64,
    },
}

impl RankSumNull {
    /// The exact distribution of U without ties, for `n` canary and `m` baseline points.
    ///
    /// Its generating function is the Gaussian binomial `[n+m choose n]_q =
    /// Π_{i=1..k} (1 − q^{K+i}) / (1 − q^i)` with k = min(n, m), K = max(n, m) (Andrews, *The
    /// Theory of Partitions*, 1976, §3.3). Dividing by `1 − q^i` is a strided prefix sum and
    /// multiplying by `1 − q^{K+i}` a strided difference; done in that order every intermediate
    /// coefficient is a non-negative integer of at most `C(n+m, k) (⌊nm/2⌋ + 1)`, so the counts
    /// are carried exactly in as many 64-bit words as that needs (7 at 200 points per arm, 16
    /// at 500) and each probability is one correctly rounded ratio at the end. Only the lower
    /// half is kept (U is symmetric about nm/2): O(k·nm·words) time, O(nm·words) memory.
    pub(crate) fn no_ties(n: usize, m: usize) -> Result<Self> {
        let too_large = |cap| Error::ExactTooLarge {
            what: "rank-sum distribution",
            n_baseline: m,
            n_canary: n,
            cap,
        };
        let mn = (n as u64)
            .checked_mul(m as u64)
            .ok_or(too_large("n·m must fit in 64 bits"))?;
        let half = mn / 2;
        if half > EXACT_MAX_HALF_RANGE {
            return Err(too_large("n·m/2 at most 1048576"));
        }
        let (k, big) = (n.min(m), n.max(m));
        let len = half as usize + 1;
        let bits = crate::stats::dist::ln_choose((n + m) as f64, k as f64) / std::f64::consts::LN_2
            + (len as f64).log2()
            + 2.0;
        let words = (bits / 64.0).ceil().max(1.0) as usize;
        let work = (k as u64)
            .saturating_mul(len as u64)
            .saturating_mul(words as u64);
        if work > EXACT_MAX_WORD_WORK {
            return Err(too_large(
                "smaller arm × n·m/2 × 64-bit words per count at most 1.2e9 (about 500 points per arm)",
            ));
        }
        // Fixed word counts let the compiler unroll the carries; a few spare zero words cost
        // little.
        let (lower, point) = match words {
            1 => gaussian_binomial::<1>(k, big, len, mn),
            2 => gaussian_binomial::<2>(k, big, len, mn),
            3 => gaussian_binomial::<3>(k, big, len, mn),
            4 => gaussian_binomial::<4>(k, big, len, mn),
            5 | 6 => gaussian_binomial::<6>(k, big, len, mn),
            7 | 8 => gaussian_binomial::<8>(k, big, len, mn),
            9..=12 => gaussian_binomial::<12>(k, big, len, mn),
            13..=16 => gaussian_binomial::<16>(k, big, len, mn),
            17..=24 => gaussian_binomial::<24>(k, big, len, mn),
            25..=32 => gaussian_binomial::<32>(k, big, len, mn),
            33..=48 => gaussian_binomial::<48>(k, big, len, mn),
            _ => gaussian_binomial::<64>(k, big, len, mn),
        };
        Ok(RankSumNull::NoTies { lower, point, mn })
    }

    /// The exact conditional distribution of U given the pooled tie pattern, by the shift
    /// algorithm of Streitberg & Röhmel (1986, *Statistical Software Newsletter* 12:10–17), as
    /// R ≥ 4.6 and the coin package compute it.
    ///
    /// `scores` are the doubled mid-ranks of the pooled sample (integers); the distribution of the
    /// sum over the canary's `n` positions is counted by `H[i][s] += H[i−1][s − score]` over the
    /// scores. Work is O(N·k·S) with k = min(n, m) and S the largest subset sum, capped at
    /// [`CONDITIONAL_MAX_WORK`].
    pub(crate) fn conditional(scores: &[u64], n_canary: usize) -> Result<Self> {
        let big_n = scores.len();
        let n_baseline = big_n - n_canary;
        // Count subsets of the smaller arm; the canary's sum is the total minus the other's.
        let k = n_canary.min(n_baseline);
        let mut sorted = scores.to_vec();
        sorted.sort_unstable();
        let s_max: u64 = sorted.iter().rev().take(k).sum();
        let work = (big_n as u64)
            .saturating_mul(k as u64)
            .saturating_mul(s_max + 1);
        if work > CONDITIONAL_MAX_WORK {
            return Err(Error::ExactTooLarge {
                what: "conditional rank-sum distribution",
                n_baseline,
                n_canary,
                cap: "pooled size × smaller arm × score range at most 2.5e8",
            });
        }
        let width = s_max as usize + 1;
        let mut h = vec![0.0f64; (k + 1) * width];
        h[0] = 1.0;
        let mut seen_sum = 0usize;
        for (idx, &sc) in sorted.iter().enumerate() {
            let sc = sc as usize;
            seen_sum += sc;
            let top = (idx + 1).min(k);
            for i in (1..=top).rev() {
                let (prev_rows, this_rows) = h.split_at_mut(i * width);
                let prev = &prev_rows[(i - 1) * width..];
                let row = &mut this_rows[..width];
                let hi = seen_sum.min(width - 1);
                for s in (sc..=hi).rev() {
                    row[s] += prev[s - sc];
                }
            }
        }
        let all_sum: u64 = scores.iter().sum();
        let nc = n_canary as u64;
        let mn = nc * n_baseline as u64;
        let mut counts = vec![0.0f64; 2 * mn as usize + 1];
        let row = &h[k * width..(k + 1) * width];
        for (s, &cnt) in row.iter().enumerate() {
            if cnt == 0.0 {
                continue;
            }
            let canary_sum = if k == n_canary {
                s as u64
            } else {
                all_sum - s as u64
            };
            // 2U = (sum of doubled canary mid-ranks) − n(n+1).
            let two_u = canary_sum - nc * (nc + 1);
            counts[two_u as usize] += cnt;
        }
        let total = counts.iter().sum();
        Ok(RankSumNull::Conditional { counts, total })
    }

    /// P(U ≤ two_u / 2), summed over the lower tail itself.
    pub(crate) fn cdf(&self, two_u: i128) -> f64 {
        match self {
            RankSumNull::NoTies { lower, mn, .. } => no_ties_cdf(lower, *mn, two_u),
            RankSumNull::Conditional { counts, total } => {
                if two_u < 0 {
                    return 0.0;
                }
                let hi = (two_u as usize).min(counts.len() - 1);
                counts[..=hi].iter().sum::<f64>() / total
            }
        }
    }

    /// P(U ≥ two_u / 2), summed over the upper tail itself (never `1 − cdf`).
    pub(crate) fn sf(&self, two_u: i128) -> f64 {
        match self {
            RankSumNull::NoTies { lower, mn, .. } => {
                // U ≥ u  ⇔  mn − U ≤ mn − u, and mn − U has the same law.
                no_ties_cdf(lower, *mn, 2 * *mn as i128 - two_u)
            }
            RankSumNull::Conditional { counts, total } => {
                if two_u > counts.len() as i128 - 1 {
                    return 0.0;
                }
                let lo = two_u.max(0) as usize;
                counts[lo..].iter().sum::<f64>() / total
            }
        }
    }

    /// R's `qwilcox(p, n, m)` for the tie-free distribution: the smallest q with
    /// P(U ≤ q) ≥ p, with R's fuzz of 10·ε and its summation order, so discrete ranks agree.
    pub(crate) fn quantile(&self, p: f64) -> Option<u64> {
        let RankSumNull::NoTies { point, mn, .. } = self else {
            return None;
        };
        let mut acc = 0.0;
        if p <= 0.5 {
            let x = p - 10.0 * f64::EPSILON;
            for (q, &prob) in point.iter().enumerate() {
                acc += prob;
                if acc >= x {
                    return Some(q as u64);
                }
            }
            Some(point.len() as u64 - 1)
        } else {
            let x = 1.0 - p + 10.0 * f64::EPSILON;
            for (q, &prob) in point.iter().enumerate() {
                acc += prob;
                if acc > x {
                    return Some(mn - q as u64);
                }
            }
            Some(mn - (point.len() as u64 - 1))
        }
    }
}

/// P(2U ≤ two_u) from the lower-half cumulative probabilities, by symmetry for the upper half
/// (where it is at least one half, so `1 − P(U ≥ u + 1)` loses nothing).
fn no_ties_cdf(lower: &[f64], mn: u64, two_u: i128) -> f64 {
    if two_u < 0 {
        return 0.0;
    }
    // U is an integer without ties: U ≤ two_u/2 ⇔ U ≤ ⌊two_u/2⌋.
    let u = (two_u / 2) as u128;
    if u >= mn as u128 {
        return 1.0;
    }
    let half = (lower.len() - 1) as u128;
    if u <= half {
        lower[u as usize]
    } else {
        // P(U ≤ u) = 1 − P(U ≥ u+1) = 1 − P(U ≤ mn − u − 1).
        1.0 - lower[(mn as u128 - u - 1) as usize]
    }
}

/// The lower half (`len` coefficients) of `[K+k choose k]_q` as (cumulative, point)
/// probabilities, counting in integers of `W` 64-bit words (see [`RankSumNull::no_ties`]).
fn gaussian_binomial<const W: usize>(
    k: usize,
    big: usize,
    len: usize,
    mn: u64,
) -> (Vec<f64>, Vec<f64>) {
    let mut c = vec![[0u64; W]; len];
    c[0][0] = 1;
    for i in 1..=k {
        // Divide by 1 - q^i: c[u] += c[u - i], upward.
        for u in i..len {
            let from = c[u - i];
            add_fixed(&mut c[u], &from);
        }
        // Multiply by 1 - q^(K+i): c[u] -= c[u - K - i], downward.
        let s = big + i;
        for u in (s..len).rev() {
            let from = c[u - s];
            sub_words(&mut c[u], &from);
        }
    }
    // C(n+m, k) = 2 Σ_{u < mn/2} c_u (+ c_{mn/2} when mn is even), one word wider.
    let mut total = vec![0u64; W + 1];
    for (u, coefficient) in c.iter().enumerate() {
        let twice = if mn.is_multiple_of(2) && u as u64 == mn / 2 {
            1
        } else {
            2
        };
        for _ in 0..twice {
            add_words(&mut total, coefficient);
        }
    }
    let total = scaled_f64(&total);
    let point: Vec<f64> = c.iter().map(|v| ratio(scaled_f64(v), total)).collect();
    for u in 1..len {
        let from = c[u - 1];
        add_words(&mut c[u], &from);
    }
    let lower: Vec<f64> = c.iter().map(|v| ratio(scaled_f64(v), total)).collect();
    (lower, point)
}

/// `dst += src` for integers of `W` little-endian words (no overflow past `W` words).
#[inline]
fn add_fixed<const W: usize>(dst: &mut [u64; W], src: &[u64; W]) {
    let mut carry = false;
    for (d, &s) in dst.iter_mut().zip(src) {
        let (v, c1) = d.overflowing_add(s);
        let (v, c2) = v.overflowing_add(u64::from(carry));
        *d = v;
        carry = c1 || c2;
    }
    debug_assert!(!carry, "rank-sum counts overflowed their words");
}

/// `dst -= src` on little-endian words (the result is known to be non-negative).
#[inline]
fn sub_words(dst: &mut [u64], src: &[u64]) {
    let mut borrow = false;
    for (d, &s) in dst.iter_mut().zip(src) {
        let (v, b1) = d.overflowing_sub(s);
        let (v, b2) = v.overflowing_sub(u64::from(borrow));
        *d = v;
        borrow = b1 || b2;
    }
    debug_assert!(!borrow, "rank-sum counts went negative");
}

/// A little-endian multi-word integer as `(mantissa, exponent in words)`: the value is
/// `mantissa · 2^(64 exponent)`, the mantissa its top 128 bits correctly rounded (relative
/// error below 2^-53 + 2^-64).
fn scaled_f64(v: &[u64]) -> (f64, i32) {
    let Some(top) = v.iter().rposition(|&x| x != 0) else {
        return (0.0, 0);
    };
    if top == 0 {
        return (v[0] as f64, 0);
    }
    let high = (u128::from(v[top]) << 64) | u128::from(v[top - 1]);
    (high as f64, top as i32 - 1)
}

/// `dst += src` on little-endian words (`src` no longer than `dst`; no overflow past `dst`).
fn add_words(dst: &mut [u64], src: &[u64]) {
    let mut carry = false;
    for (i, d) in dst.iter_mut().enumerate() {
        let s = src.get(i).copied().unwrap_or(0);
        let (v, c1) = d.overflowing_add(s);
        let (v, c2) = v.overflowing_add(u64::from(carry));
        *d = v;
        carry = c1 || c2;
    }
    debug_assert!(!carry, "rank-sum counts overflowed their words");
}

/// `a / b` for two scaled values from [`scaled_f64`].
fn ratio(a: (f64, i32), b: (f64, i32)) -> f64 {
    if a.0 == 0.0 {
        return 0.0;
    }
    let shift = 64 * (a.1 - b.1);
    // Split the power of two so that neither factor overflows on the way.
    let q = a.0 / b.0;
    q * 2f64.powi(shift / 2) * 2f64.powi(shift - shift / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_no_ties_distribution_matches_enumeration() {
        // n = 2, m = 3: U takes 0..6 with counts 1,1,2,2,2,1,1 (C(5,2) = 10).
        let d = RankSumNull::no_ties(2, 3).unwrap();
        let probs: Vec<f64> = (0..=6).map(|u| d.cdf(2 * u)).collect();
        let expect = [1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0].map(|c| c / 10.0);
        assert_eq!(probs, expect);
        assert_eq!(d.sf(12), 0.1);
        assert_eq!(d.sf(0), 1.0);
    }

    #[test]
    fn conditional_without_ties_equals_no_ties() {
        let scores: Vec<u64> = (1..=9).map(|r| 2 * r).collect();
        let c = RankSumNull::conditional(&scores, 4).unwrap();
        let e = RankSumNull::no_ties(4, 5).unwrap();
        for two_u in -1..=41 {
            assert!((c.cdf(two_u) - e.cdf(two_u)).abs() < 1e-15, "{two_u}");
            assert!((c.sf(two_u) - e.sf(two_u)).abs() < 1e-15, "{two_u}");
        }
    }

    #[test]
    fn caps_are_errors_not_allocations() {
        assert!(matches!(
            RankSumNull::no_ties(2000, 2000),
            Err(Error::ExactTooLarge { .. })
        ));
        assert!(RankSumNull::no_ties(3, 100_000).is_ok());
    }

    #[test]
    fn wide_counts_agree_with_the_symmetric_total() {
        // 120 per arm: C(240, 120) ≈ 2^235 needs four words; the probabilities still sum to 1
        // and the two halves meet.
        let d = RankSumNull::no_ties(120, 120).unwrap();
        let mid = 120 * 120; // 2U at U = mn/2
        assert!((d.cdf(mid) + d.sf(mid + 2) - 1.0).abs() < 1e-15);
        assert!((d.cdf(mid - 2) - d.sf(mid + 2)).abs() < 1e-16);
        // The smallest U has one split: P(U = 0) = 1 / C(240, 120).
        let ln_p0 = -crate::stats::dist::ln_choose(240.0, 120.0);
        assert!((d.cdf(0).ln() - ln_p0).abs() < 1e-12 * ln_p0.abs());
    }
}
