//! Order statistics of the n·m pairwise differences `canary_i − baseline_j` without building them.
//!
//! With the canary sorted ascending (rows) and the baseline sorted ascending (columns), the matrix
//! `d[i][j] = x_i − y_j` decreases along each row and increases down each column, so
//! `#{d ≤ v}` is one monotone staircase walk in O(n + m). Selection keeps, per row, the band of
//! columns whose differences may still be the answer, draws pivots from a uniform sample of that
//! band (Floyd & Rivest, *CACM* 18(3), 1975; row bands as in Monahan, *ACM TOMS* 10(3), 1984),
//! and narrows the band by a factor of about √S/6 per round. When the band is small it is
//! gathered and finished with `select_nth_unstable`. Expected cost O((n + m) log(nm)) after
//! sorting, O(n + m) memory; the result is the floating-point value `x_i − y_j` itself, bit for
//! bit what sorting all differences gives.
//!
//! Several ranks (the median and the interval's ends) first share rounds that bracket all of
//! them, then finish one by one.

use crate::sorted::{key, unkey};

/// Largest sample per round: the band shrinks to about 6/√S of its size each round.
const SAMPLE: usize = 4096;
/// Smallest sample per round.
const SAMPLE_MIN: usize = 256;
/// Below this many band elements (or 2(n+m), if larger) the band is gathered and selected.
const GATHER_MIN: u64 = 16384;

/// Pairwise differences of two sorted samples, ready for order statistics.
pub(crate) struct PairwiseDifferences<'a> {
    /// Canary, sorted ascending: the rows.
    rows: &'a [f64],
    /// Baseline, sorted ascending, followed by one `+inf` sentinel: the columns.
    cols: &'a [f64],
    /// Walsh mode: the columns are the rows negated and reversed, and row i keeps only its
    /// first n − i columns, so the matrix holds each sum `x_i + x_j`, i ≤ j, once.
    triangle: bool,
}

/// Per-row column bands: columns `< hi[i]` hold differences above every band element, columns
/// `>= lo[i]` differences below; `c_hi`, `c_lo` count the pairs at or right of each boundary.
#[derive(Clone)]
struct Band {
    hi: Vec<u32>,
    lo: Vec<u32>,
    c_hi: u64,
    c_lo: u64,
}

/// A small deterministic generator (SplitMix64): pivots need spread, not real randomness, and the
/// selected value does not depend on them.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, bound) by multiply-shift.
    fn below(&mut self, bound: u64) -> u64 {
        ((self.next() as u128 * bound as u128) >> 64) as u64
    }
}

impl<'a> PairwiseDifferences<'a> {
    /// Wraps the sorted canary and the sorted baseline with its trailing `+inf` sentinel.
    pub(crate) fn new(canary_sorted: &'a [f64], baseline_with_sentinel: &'a [f64]) -> Self {
        debug_assert_eq!(baseline_with_sentinel.last(), Some(&f64::INFINITY));
        PairwiseDifferences {
            rows: canary_sorted,
            cols: baseline_with_sentinel,
            triangle: false,
        }
    }

    /// The pairwise sums `x_i + x_j` (i ≤ j) of one sorted sample, as differences
    /// `x_i − (−x_j)`; `negated` is the sample negated and reversed (so ascending), followed by a
    /// `+inf` sentinel.
    pub(crate) fn walsh_sums(sorted: &'a [f64], negated: &'a [f64]) -> Self {
        debug_assert_eq!(sorted.len() + 1, negated.len());
        PairwiseDifferences {
            rows: sorted,
            cols: negated,
            triangle: true,
        }
    }

    /// Number of columns row `i` holds.
    #[inline]
    fn limit(&self, i: usize) -> usize {
        if self.triangle {
            self.rows.len() - i
        } else {
            self.m()
        }
    }

    fn m(&self) -> usize {
        self.cols.len() - 1
    }

    /// Number of pairs n·m.
    pub(crate) fn len(&self) -> u64 {
        let n = self.rows.len() as u64;
        if self.triangle {
            n * (n + 1) / 2
        } else {
            n * self.m() as u64
        }
    }

    fn full_band(&self) -> Band {
        let n = self.rows.len();
        Band {
            hi: vec![0; n],
            lo: (0..n).map(|i| self.limit(i) as u32).collect(),
            c_hi: self.len(),
            c_lo: 0,
        }
    }

    /// Sample size: large enough to shrink the band fast, small enough that sorting it stays
    /// cheap next to one O(n + m) walk.
    fn sample_size(&self) -> usize {
        ((self.rows.len() + self.m()) / 4).clamp(SAMPLE_MIN, SAMPLE)
    }

    fn gather_limit(&self) -> u64 {
        GATHER_MIN.max(2 * (self.rows.len() + self.m()) as u64)
    }

    /// The k-th smallest difference, 1-based (k is clamped into [1, n·m]).
    pub(crate) fn kth(&self, k: u64) -> f64 {
        self.kth_many(&[k])[0].0
    }

    /// The k-th smallest differences for several ranks (each clamped into [1, n·m]), each with
    /// the (k+1)-th beside it (`None` past the end).
    pub(crate) fn kth_many(&self, ks: &[u64]) -> Vec<(f64, Option<f64>)> {
        let total = self.len();
        let ks: Vec<u64> = ks.iter().map(|&k| k.clamp(1, total)).collect();
        let (Some(&k_min), Some(&k_max)) = (ks.iter().min(), ks.iter().max()) else {
            return Vec::new();
        };
        let mut rng = SplitMix(0x5EED_CA4A_27D1_C7A1);
        let mut scratch = vec![0u32; self.rows.len()];
        let mut scratch2 = vec![0u32; self.rows.len()];
        let mut sample = Vec::with_capacity(SAMPLE);
        // Shared rounds: bracket every rank at once while that still narrows the band well.
        let mut band = self.full_band();
        while band.c_hi - band.c_lo > self.gather_limit()
            && 4 * (k_max - k_min) < band.c_hi - band.c_lo
        {
            let before = band.c_hi - band.c_lo;
            self.draw_sample(&band, &mut rng, &mut sample);
            let (lo_pivot, _) = self.pivots(&band, k_min, &sample);
            let (_, hi_pivot) = self.pivots(&band, k_max, &sample);
            let (Some(a), Some(b)) = (lo_pivot, hi_pivot) else {
                break;
            };
            let c = self.count_band([
                Walk {
                    band: &band,
                    v: a,
                    first: &mut scratch,
                },
                Walk {
                    band: &band,
                    v: b,
                    first: &mut scratch2,
                },
            ]);
            if c[0] < k_min {
                band.lo.copy_from_slice(&scratch);
                band.c_lo = c[0];
            }
            if c[1] >= k_max && c[1] < band.c_hi {
                band.hi.copy_from_slice(&scratch2);
                band.c_hi = c[1];
            }
            if 2 * (band.c_hi - band.c_lo) > before {
                break;
            }
        }
        // One sample of the shared band serves every rank's first round.
        let shared = if band.c_hi - band.c_lo > self.gather_limit() {
            self.draw_sample(&band, &mut rng, &mut sample);
            Some(sample.clone())
        } else {
            None
        };
        let mut gather = Vec::new();
        ks.iter()
            .map(|&k| {
                let mut work = Scratch {
                    first: &mut scratch,
                    second: &mut scratch2,
                    sample: &mut sample,
                    gather: &mut gather,
                };
                self.finish(band.clone(), k, &mut rng, &mut work, shared.as_deref())
            })
            .collect()
    }

    /// Pivots just below and just above the target's expected position in the sorted sample.
    fn pivots(&self, band: &Band, k: u64, sample: &[f64]) -> (Option<f64>, Option<f64>) {
        let active = (band.c_hi - band.c_lo) as f64;
        let s = sample.len() as f64;
        let f = ((k - band.c_lo) as f64 / active).clamp(0.0, 1.0);
        let spread = 3.0 * (f * (1.0 - f) * s).sqrt() + 1.0;
        let lo_idx = (f * s - spread).floor();
        let hi_idx = (f * s + spread).ceil();
        let lo = (lo_idx >= 0.0).then(|| sample[lo_idx as usize]);
        let hi = (hi_idx < s).then(|| sample[hi_idx as usize]);
        (lo, hi)
    }

    /// Narrows the band around rank k until it can be gathered; returns the k-th and, when it is
    /// at hand, the (k+1)-th difference. `first_sample` is a sample of the initial band.
    fn finish(
        &self,
        mut band: Band,
        k: u64,
        rng: &mut SplitMix,
        work: &mut Scratch<'_>,
        mut first_sample: Option<&[f64]>,
    ) -> (f64, Option<f64>) {
        loop {
            if band.c_hi - band.c_lo <= self.gather_limit() {
                return self.gather_select(&band, k - band.c_lo, work.gather);
            }
            let sample: &[f64] = match first_sample.take() {
                Some(s) => s,
                None => {
                    self.draw_sample(&band, rng, work.sample);
                    work.sample
                }
            };
            let (lo, hi) = match self.pivots(&band, k, sample) {
                (None, None) => (Some(sample[sample.len() / 2]), None),
                p => p,
            };
            // Count both pivots in one pass; the upper one's count is only used when the lower
            // one turned out to lie below the answer.
            let counted: [Option<(f64, u64)>; 2] = match (lo, hi) {
                (Some(a), Some(b)) if a < b => {
                    let c = self.count_band([
                        Walk {
                            band: &band,
                            v: a,
                            first: &mut *work.first,
                        },
                        Walk {
                            band: &band,
                            v: b,
                            first: &mut *work.second,
                        },
                    ]);
                    [Some((a, c[0])), Some((b, c[1]))]
                }
                (Some(a), _) | (None, Some(a)) => {
                    [Some((a, self.count_le_band(&band, a, work.first))), None]
                }
                (None, None) => unreachable!("a pivot is always chosen"),
            };
            for (idx, (v, c)) in counted.into_iter().flatten().enumerate() {
                if idx == 1 {
                    work.first.copy_from_slice(work.second);
                }
                if c < k {
                    // The answer is above v: v and everything below it leave the band.
                    band.lo.copy_from_slice(work.first);
                    band.c_lo = c;
                    continue;
                }
                if c < band.c_hi {
                    // The answer is at or below v: everything above v leaves the band.
                    band.hi.copy_from_slice(work.first);
                    band.c_hi = c;
                } else {
                    // v is the band's largest value: split its ties off with a strict count.
                    let c_lt = self.count_lt_band(&band, v, work.first);
                    if c_lt < k {
                        return (v, (c > k).then_some(v));
                    }
                    band.hi.copy_from_slice(work.first);
                    band.c_hi = c_lt;
                }
                break;
            }
        }
    }

    /// `#{d ≤ v}`, recording each row's first column with `d ≤ v`. Valid for a pivot `v` taken
    /// from the band: columns left of the band are above it and right of the band below it.
    fn count_le_band(&self, band: &Band, v: f64, first: &mut [u32]) -> u64 {
        self.count_band([Walk { band, v, first }])[0]
    }

    /// `#{d < v}`, recording each row's first column with `d < v`: `d < v` is `d ≤ v⁻` for the
    /// largest float `v⁻` below `v`, since every difference is a float.
    fn count_lt_band(&self, band: &Band, v: f64, first: &mut [u32]) -> u64 {
        if v == f64::NEG_INFINITY {
            first.copy_from_slice(&band.lo);
            return band.c_lo;
        }
        self.count_band([Walk {
            band,
            v: v.next_down(),
            first,
        }])[0]
    }

    /// Runs counting walks, one per pivot; see [`Self::walk`].
    fn count_band<const W: usize>(&self, walks: [Walk<'_>; W]) -> [u64; W] {
        walks.map(|w| self.walk(w.band, w.v, w.first))
    }

    /// `#{d ≤ v}` and each row's first column with `d ≤ v`, by a staircase walk: each step
    /// moves right along the row (`d > v`) or down to the next row, with no data-dependent
    /// branch, so its speed is bounded by the latency of its load-subtract-compare chain. The
    /// rows are cut into four pieces, each seeded by a binary search in its first row, that
    /// advance in lockstep so the processor overlaps their chains.
    fn walk(&self, band: &Band, v: f64, first: &mut [u32]) -> u64 {
        let (rows, cols) = (self.rows, self.cols);
        let n = rows.len();
        let (hi, lo) = (&band.hi[..n], &band.lo[..n]);
        let first = &mut first[..n];
        let ends = [n / 4, n / 2, 3 * n / 4, n];
        let starts = [0, n / 4, n / 2, 3 * n / 4];
        let mut seeds = [0usize; 4];
        for (seed, &start) in seeds.iter_mut().zip(&starts) {
            if start < n {
                let (h, l) = (hi[start] as usize, lo[start] as usize);
                let x = rows[start];
                *seed = h + cols[h..l].partition_point(|&y| x - y > v);
            }
        }
        let [mut i0, mut i1, mut i2, mut i3] = starts;
        let [mut j0, mut j1, mut j2, mut j3] = seeds;
        macro_rules! step {
            ($i:ident, $j:ident) => {{
                let j = $j.max(hi[$i] as usize);
                // The sentinel +inf at cols[m] ends every row: x − inf = −inf is never above.
                let up = rows[$i] - cols[j] > v;
                first[$i] = j as u32;
                $j = j + up as usize;
                $i += !up as usize;
            }};
        }
        while i0 < ends[0] && i1 < ends[1] && i2 < ends[2] && i3 < ends[3] {
            step!(i0, j0);
            step!(i1, j1);
            step!(i2, j2);
            step!(i3, j3);
        }
        while i0 < ends[0] {
            step!(i0, j0);
        }
        while i1 < ends[1] {
            step!(i1, j1);
        }
        while i2 < ends[2] {
            step!(i2, j2);
        }
        while i3 < ends[3] {
            step!(i3, j3);
        }
        // Each row contributes its columns at or right of its first column at or below v (in
        // Walsh mode the walk may pass a row's last column: clamp to the band).
        let mut count = 0u64;
        for (i, (f, &l)) in first.iter_mut().zip(lo).enumerate() {
            *f = (*f).min(l);
            count += (self.limit(i) - *f as usize) as u64;
        }
        count
    }

    /// Draws a uniform sample (with replacement) of the band's differences, sorted.
    fn draw_sample(&self, band: &Band, rng: &mut SplitMix, out: &mut Vec<f64>) {
        let active = band.c_hi - band.c_lo;
        out.clear();
        let m = self.m() as u64;
        if active == self.len() && !self.triangle {
            // The whole matrix: draw cells directly.
            for _ in 0..self.sample_size() {
                let r = rng.below(active);
                out.push(self.rows[(r / m) as usize] - self.cols[(r % m) as usize]);
            }
        } else {
            let mut ranks: Vec<u64> = (0..self.sample_size()).map(|_| rng.below(active)).collect();
            ranks.sort_unstable();
            let (mut next, mut start) = (0usize, 0u64);
            for (i, &x) in self.rows.iter().enumerate() {
                let (h, l) = (band.hi[i] as u64, band.lo[i] as u64);
                let end = start + (l - h);
                while next < ranks.len() && ranks[next] < end {
                    out.push(x - self.cols[(h + ranks[next] - start) as usize]);
                    next += 1;
                }
                if next == ranks.len() {
                    break;
                }
                start = end;
            }
        }
        out.sort_unstable_by(f64::total_cmp);
    }

    /// Gathers the band and selects its `rank`-th (1-based) element.
    /// Gathers the band and selects its `rank`-th (1-based) element and the next one, if the
    /// band holds it.
    fn gather_select(&self, band: &Band, rank: u64, buf: &mut Vec<u64>) -> (f64, Option<f64>) {
        // Select on order-preserving integer keys: cheaper to compare than floats.
        buf.clear();
        for (i, &x) in self.rows.iter().enumerate() {
            let cols = &self.cols[band.hi[i] as usize..band.lo[i] as usize];
            buf.extend(cols.iter().map(|&y| key(x - y)));
        }
        let (_, &mut kth, above) = buf.select_nth_unstable((rank - 1) as usize);
        let next = above.iter().copied().min();
        (unkey(kth), next.map(unkey))
    }

    /// The smallest difference strictly greater than `v`, if any: one walk.
    pub(crate) fn next_above(&self, v: f64) -> Option<f64> {
        let mut best: Option<f64> = None;
        let mut j = 0usize;
        for (i, &x) in self.rows.iter().enumerate() {
            // Columns < j have x − y > v for this row (the pointer only moves right).
            while x - self.cols[j] > v {
                j += 1;
            }
            let last_above = j.min(self.limit(i));
            if last_above > 0 {
                let d = x - self.cols[last_above - 1];
                best = Some(best.map_or(d, |b| b.min(d)));
            }
        }
        best
    }

    /// `#{d ≤ v}` over all pairs: one walk.
    pub(crate) fn count_le(&self, v: f64) -> u64 {
        let mut scratch = vec![0u32; self.rows.len()];
        self.count_le_band(&self.full_band(), v, &mut scratch)
    }
}

/// Reusable buffers of one selection.
struct Scratch<'s> {
    first: &'s mut [u32],
    second: &'s mut [u32],
    sample: &'s mut Vec<f64>,
    gather: &'s mut Vec<u64>,
}

/// One counting walk to run: a band, a pivot and where to record each row's first column at or
/// below the pivot.
struct Walk<'b> {
    band: &'b Band,
    v: f64,
    first: &'b mut [u32],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(rows: &[f64], cols: &[f64]) -> Vec<f64> {
        let mut d: Vec<f64> = rows
            .iter()
            .flat_map(|&x| cols.iter().map(move |&y| x - y))
            .collect();
        d.sort_unstable_by(f64::total_cmp);
        d
    }

    #[test]
    fn walsh_sums_match_brute_force() {
        let mut rng = SplitMix(11);
        for n in [1usize, 2, 3, 7, 40, 300] {
            let mut x: Vec<f64> = (0..n).map(|_| (rng.below(60) as f64) - 20.0).collect();
            x.sort_unstable_by(f64::total_cmp);
            let mut neg: Vec<f64> = x.iter().rev().map(|v| -v).collect();
            neg.push(f64::INFINITY);
            let mut sums = Vec::new();
            for i in 0..n {
                for j in i..n {
                    sums.push(x[i] + x[j]);
                }
            }
            sums.sort_unstable_by(f64::total_cmp);
            let w = PairwiseDifferences::walsh_sums(&x, &neg);
            assert_eq!(w.len() as usize, sums.len());
            for k in [1, sums.len() / 3 + 1, sums.len() / 2 + 1, sums.len()] {
                assert_eq!(w.kth(k as u64), sums[k - 1], "n={n} k={k}");
            }
            let v = sums[sums.len() / 2];
            assert_eq!(
                w.count_le(v),
                sums.iter().filter(|&&s| s <= v).count() as u64
            );
            assert_eq!(w.next_above(v), sums.iter().copied().find(|&s| s > v));
        }
    }

    #[test]
    fn matches_brute_force_on_large_tied_input() {
        let mut rng = SplitMix(7);
        let mut rows: Vec<f64> = (0..300).map(|_| (rng.below(50)) as f64).collect();
        let mut cols: Vec<f64> = (0..257).map(|_| (rng.below(1000) as f64) * 0.05).collect();
        rows.sort_unstable_by(f64::total_cmp);
        cols.sort_unstable_by(f64::total_cmp);
        let d = brute(&rows, &cols);
        cols.push(f64::INFINITY);
        let p = PairwiseDifferences::new(&rows, &cols);
        let ks = [1u64, 2, 77, 1000, 38550, 38551, 50000, 77099, 77100];
        let many = p.kth_many(&ks);
        for (&k, &(got, next)) in ks.iter().zip(&many) {
            assert_eq!(p.kth(k).to_bits(), d[k as usize - 1].to_bits(), "k={k}");
            assert_eq!(got.to_bits(), d[k as usize - 1].to_bits(), "k={k}");
            if let Some(next) = next {
                assert_eq!(next.to_bits(), d[k as usize].to_bits(), "k+1={}", k + 1);
            }
        }
        let v = d[38549];
        assert_eq!(p.count_le(v), d.iter().filter(|&&x| x <= v).count() as u64);
        let above = d.iter().copied().find(|&x| x > v);
        assert_eq!(p.next_above(v), above);
    }
}
