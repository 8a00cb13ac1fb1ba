//! Exact null distributions of the rank-sum statistic U: without ties from the Gaussian-binomial
//! generating function in exact integers, with ties from the Streitberg-Röhmel shift algorithm.
//! Both are bounded: past their caps the caller gets [`Error::ExactTooLarge`].

use crate::error::{Error, Result};

/// Largest ⌊nm/2⌋ for which the tie-free distribution is tabulated (16 MiB of counts).
pub(crate) const EXACT_MAX_HALF_RANGE: u64 = 1 << 20;
/// Largest work (subset size × pooled size × score range) for the conditional distribution.
pub(crate) const CONDITIONAL_MAX_WORK: u64 = 250_000_000;
/// The tie-free distribution counts in u128; C(n+m, n) must stay below 2^127.
const MAX_LN_TOTAL: f64 = 127.0 * std::f64::consts::LN_2;

/// The null distribution of 2U (twice the canary's U), as counts of equally likely splits.
#[derive(Debug, Clone)]
pub(crate) enum RankSumNull {
    /// No ties: `lower[u]` = #{splits with U ≤ u} for u ≤ ⌊mn/2⌋, exact integers.
    NoTies {
        /// Cumulative counts of the lower half.
        lower: Vec<u128>,
        /// Point counts of the lower half (R's `cwilcox`), kept for `qwilcox`.
        point: Vec<u128>,
        /// C(n+m, n).
        total: u128,
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
    /// coefficient is a non-negative integer, so u128 arithmetic is exact. Only the lower half is
    /// kept (U is symmetric about nm/2): O(k·nm) time, O(nm) memory.
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
        if crate::dist::ln_choose((n + m) as f64, k as f64) > MAX_LN_TOTAL {
            return Err(too_large("C(n+m, n) below 2^127"));
        }
        let len = half as usize + 1;
        let mut c = vec![0u128; len];
        c[0] = 1;
        for i in 1..=k {
            for u in i..len {
                c[u] += c[u - i];
            }
            let s = big + i;
            for u in (s..len).rev() {
                c[u] -= c[u - s];
            }
        }
        let total = binomial_u128(n + m, k);
        let point = c.clone();
        let mut acc = 0u128;
        for v in c.iter_mut() {
            acc += *v;
            *v = acc;
        }
        Ok(RankSumNull::NoTies {
            lower: c,
            point,
            total,
            mn,
        })
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
            RankSumNull::NoTies {
                lower, total, mn, ..
            } => {
                let count = no_ties_count_le(lower, *total, *mn, two_u);
                count as f64 / *total as f64
            }
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
            RankSumNull::NoTies {
                lower, total, mn, ..
            } => {
                // U ≥ u  ⇔  mn − U ≤ mn − u, and mn − U has the same law.
                let mirrored = 2 * *mn as i128 - two_u;
                no_ties_count_le(lower, *total, *mn, mirrored) as f64 / *total as f64
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
        let RankSumNull::NoTies {
            point, total, mn, ..
        } = self
        else {
            return None;
        };
        let c = *total as f64;
        let mut acc = 0.0;
        if p <= 0.5 {
            let x = p - 10.0 * f64::EPSILON;
            for (q, &cnt) in point.iter().enumerate() {
                acc += cnt as f64 / c;
                if acc >= x {
                    return Some(q as u64);
                }
            }
            Some(point.len() as u64 - 1)
        } else {
            let x = 1.0 - p + 10.0 * f64::EPSILON;
            for (q, &cnt) in point.iter().enumerate() {
                acc += cnt as f64 / c;
                if acc > x {
                    return Some(mn - q as u64);
                }
            }
            Some(mn - (point.len() as u64 - 1))
        }
    }
}

/// #{splits with 2U ≤ two_u} from the lower-half cumulative counts, by symmetry for the upper half.
fn no_ties_count_le(lower: &[u128], total: u128, mn: u64, two_u: i128) -> u128 {
    if two_u < 0 {
        return 0;
    }
    // U is an integer without ties: U ≤ two_u/2 ⇔ U ≤ ⌊two_u/2⌋.
    let u = (two_u / 2) as u128;
    if u >= mn as u128 {
        return total;
    }
    let half = (lower.len() - 1) as u128;
    if u <= half {
        lower[u as usize]
    } else {
        // #{U ≤ u} = total − #{U ≥ u+1} = total − #{U ≤ mn − u − 1}.
        total - lower[(mn as u128 - u - 1) as usize]
    }
}

/// C(n, k) in u128 (the caller has checked that it fits).
fn binomial_u128(n: usize, k: usize) -> u128 {
    let mut r: u128 = 1;
    for i in 0..k {
        // r·(n−i) is divisible by (i+1) at every step; divide first where possible to stay small.
        let num = (n - i) as u128;
        let den = (i + 1) as u128;
        let g = gcd(r, den);
        r = (r / g) * (num / (den / g));
    }
    r
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
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
        assert_eq!(binomial_u128(98, 49), 25477612258980856902730428600);
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
            RankSumNull::no_ties(100, 100),
            Err(Error::ExactTooLarge { .. })
        ));
        assert!(RankSumNull::no_ties(3, 100_000).is_ok());
    }
}
