//! Per-request values compared within their time blocks: van Elteren's stratified rank test,
//! with a variance robust to what the requests of one block share and corrected for serial
//! correlation between blocks.
//!
//! Requests of one minute share that minute's load, and each arm's requests share its host's
//! minute (a GC pause, a noisy neighbour). Pooling them into one rank-sum test counts them as
//! independent, and a load that moves both arms widens the pooled distributions. Within a
//! block both effects of the shared load cancel; what one arm's requests of a block share is
//! captured by treating the blocks, not the requests, as the independent units:
//!
//! - Per block `s` with `b_s` baseline and `c_s` canary values: the canary's Mann-Whitney
//!   `U_s` on the block's pooled mid-ranks, `E_s = b_s c_s / 2`, and its tie-corrected
//!   variance `V_s = b_s c_s / 12 · (N_s + 1 − Σ(t³ − t) / (N_s (N_s − 1)))`.
//! - `T = Σ w_s (U_s − E_s)` with van Elteren's weights `w_s = 1 / (N_s + 1)` (van Elteren,
//!   "On the combination of independent two-sample tests of Wilcoxon", *Bull. Inst. Int.
//!   Statist.* 37, 1960: locally most powerful against a common shift), and its variance under
//!   independence `V0 = Σ w_s² V_s`.
//! - From 16 blocks on, the cluster-robust variance `S/(S − 1) Σ_s (d_s − d̄)²` of the block
//!   terms `d_s = w_s (U_s − E_s)` (the sandwich estimator with blocks as clusters: Liang &
//!   Zeger, *Biometrika* 73, 1986) replaces `V0` when larger, and the serial correlation of the
//!   `d_s` in time order inflates it further (see `dependence`). The corrected statistic is
//!   referred to Student's t on `S/f − 1` degrees of freedom.
//!
//! The Hodges-Lehmann shift is estimated on the pooled values and its interval widened by the
//! same factor: an approximation (the pooled and stratified statistics differ in weights), stated
//! in the judgment.

use crate::stats::dependence::{inflation, mid_ranks, Dependence};

/// Fewer blocks than this are too few clusters for a robust variance or a correlation estimate.
const MIN_BLOCKS: usize = 16;

/// The stratified statistic and how its variance was corrected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stratified {
    /// `T / √V0`: positive when the canary ranks higher within blocks.
    pub z0: f64,
    /// The variance factor over `V0` (robust and serial) and the t reference.
    pub dependence: Dependence,
    /// Blocks compared.
    pub blocks: usize,
}

/// van Elteren's test on blocks matched by time (each with values in both arms).
pub(crate) fn van_elteren(baseline: &[Vec<f64>], canary: &[Vec<f64>]) -> Stratified {
    let mut terms = Vec::with_capacity(baseline.len());
    let mut v0 = 0.0;
    let mut pooled = Vec::new();
    for (b, c) in baseline.iter().zip(canary) {
        let (nb, nc) = (b.len() as f64, c.len() as f64);
        let n = nb + nc;
        pooled.clear();
        pooled.extend_from_slice(b);
        pooled.extend_from_slice(c);
        let ranks = mid_ranks(&pooled);
        let u = ranks[b.len()..].iter().sum::<f64>() - nc * (nc + 1.0) / 2.0;
        let mut sorted = pooled.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut ties = 0.0;
        let mut i = 0;
        while i < sorted.len() {
            let mut j = i + 1;
            while j < sorted.len() && sorted[j] == sorted[i] {
                j += 1;
            }
            let t = (j - i) as f64;
            ties += t * t * t - t;
            i = j;
        }
        let v = if n > 1.0 {
            nb * nc / 12.0 * (n + 1.0 - ties / (n * (n - 1.0)))
        } else {
            0.0
        };
        let w = 1.0 / (n + 1.0);
        terms.push(w * (u - nb * nc / 2.0));
        v0 += w * w * v;
    }
    let s = terms.len();
    let t: f64 = terms.iter().sum();
    let z0 = if v0 > 0.0 { t / v0.sqrt() } else { 0.0 };
    if s < MIN_BLOCKS || v0.is_nan() || v0 <= 0.0 {
        return Stratified {
            z0,
            dependence: Dependence::none(s as f64),
            blocks: s,
        };
    }
    let sf = s as f64;
    let mean = t / sf;
    let robust = sf / (sf - 1.0) * terms.iter().map(|d| (d - mean).powi(2)).sum::<f64>();
    let cluster = (robust / v0).max(1.0);
    let serial = inflation(&terms);
    let factor = cluster * serial;
    let effective = sf / serial;
    Stratified {
        z0,
        dependence: if factor > 1.0 {
            Dependence {
                inflation: factor,
                effective_n: effective,
                df: (effective - 1.0).max(1.0),
            }
        } else {
            Dependence::none(sf)
        },
        blocks: s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_block_is_the_rank_sum_statistic() {
        // One block: T/√V0 is the tie-corrected Mann-Whitney z without continuity correction.
        let b = vec![vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]];
        let c = vec![vec![4.0, 5.0, 6.0, 7.0, 8.0]];
        let st = van_elteren(&b, &c);
        // Pooled ranks: canary 4.5, 6.5, 8.5, 10, 11 -> sum 40.5; U = 40.5 - 15 = 25.5,
        // E = 15; ties: three pairs -> Σ(t³ - t) = 18; V = 30/12 (12 - 18/110).
        let v: f64 = 30.0 / 12.0 * (12.0 - 18.0 / 110.0);
        assert!((st.z0 - 10.5 / v.sqrt()).abs() < 1e-12, "{}", st.z0);
        assert!(!st.dependence.is_active());
        assert_eq!(st.blocks, 1);
    }

    #[test]
    fn a_shared_block_effect_cancels_and_an_arm_block_effect_widens() {
        // 40 blocks whose level moves a lot but equally in both arms: the stratified statistic
        // is unaffected by the level. With each canary block shifted by its own large amount,
        // the robust variance grows past V0.
        let level = |s: usize| 100.0 * (1.0 + (s % 7) as f64);
        let jitter = |s: usize, i: usize| ((s * 31 + i * 17) % 13) as f64 - 6.0;
        let b: Vec<Vec<f64>> = (0..40)
            .map(|s| (0..20).map(|i| level(s) + jitter(s, i)).collect())
            .collect();
        let c: Vec<Vec<f64>> = (0..40)
            .map(|s| (0..20).map(|i| level(s) + jitter(s, i + 3)).collect())
            .collect();
        let st = van_elteren(&b, &c);
        assert!(st.z0.abs() < 3.0, "{}", st.z0);
        let noisy: Vec<Vec<f64>> = c
            .iter()
            .enumerate()
            .map(|(s, v)| {
                let own = if s % 2 == 0 { 8.0 } else { -8.0 };
                v.iter().map(|x| x + own).collect()
            })
            .collect();
        let st = van_elteren(&b, &noisy);
        assert!(st.dependence.inflation > 4.0, "{:?}", st.dependence);
    }
}
