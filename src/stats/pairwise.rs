//! Order statistics of the n·m pairwise differences `canary_i − baseline_j` without building them.
//!
//! With the canary sorted ascending (rows) and the baseline sorted ascending (columns), the matrix
//! `d[i][j] = x_i − y_j` decreases along each row and increases down each column, so
//! `#{d ≤ v}` is one monotone staircase walk in O(n + m). Selection keeps, per row, the band of
//! columns whose differences may still be the answer, selects two pivots bracketing the target
//! in a stratified sample of that band (Floyd & Rivest, *CACM* 18(3), 1975; row bands as in
//! Monahan, *ACM TOMS* 10(3), 1984), counts them with two walks (the lower pivot's starting
//! from the upper one's columns), and narrows the band by a factor of about √S/6 per round. The
//! first round samples the whole matrix directly, with a larger sample. When the band holds at
//! most about n + m differences it is gathered and finished with `select_nth_unstable`.
//! Expected cost O((n + m) log(nm)) after sorting, O(n + m) memory; the result is the
//! floating-point value `x_i − y_j` itself, bit for bit what sorting all differences gives.
//!
//! Several ranks (the median and the interval's ends) first share rounds that bracket all of
//! them, then finish one by one (the first of those rounds from one shared sample).

use crate::stats::sorted::{key, unkey};

/// Largest sample per round: the band shrinks to about 6/√S of its size each round.
const SAMPLE: usize = 16384;
/// Largest sample of the first round, drawn directly from the whole matrix.
const SAMPLE_FIRST: usize = 65536;
/// Smallest sample per round.
const SAMPLE_MIN: usize = 256;
/// Below this many band elements (or n + m, if larger) the band is gathered and selected.
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
struct Band {
    hi: Vec<u32>,
    lo: Vec<u32>,
    c_hi: u64,
    c_lo: u64,
}

impl Band {
    /// Copies `other` into `self`, reusing its buffers.
    fn assign(&mut self, other: &Band) {
        self.hi.clone_from(&other.hi);
        self.lo.clone_from(&other.lo);
        self.c_hi = other.c_hi;
        self.c_lo = other.c_lo;
    }

    fn active(&self) -> u64 {
        self.c_hi - self.c_lo
    }
}

/// A small deterministic generator (wyrand: a Weyl sequence mixed by one 64×64→128-bit
/// multiplication, about 6 instructions a call): pivots need spread, not real randomness, and
/// the selected value does not depend on them.
struct WyRand(u64);

impl WyRand {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xA076_1D64_78BD_642F);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xE703_7ED1_A0B4_28DB);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// Uniform in [0, bound) by multiply-shift.
    fn below(&mut self, bound: u64) -> u64 {
        ((self.next() as u128 * bound as u128) >> 64) as u64
    }
}

/// Reusable buffers of one selection.
struct Scratch {
    /// Each row's first column at or below the first pivot of a pass.
    first: Vec<u32>,
    /// The same for the second pivot.
    second: Vec<u32>,
    /// Sample keys, then the gathered band's keys.
    sample: Vec<u64>,
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
            hi: vec![0; n + 1],
            lo: (0..n).map(|i| self.limit(i) as u32).chain([0]).collect(),
            c_hi: self.len(),
            c_lo: 0,
        }
    }

    /// Sample size: large enough to shrink the band fast, small enough that drawing and
    /// selecting in it stays cheap next to one O(n + m) walk.
    fn sample_size(&self) -> usize {
        ((self.rows.len() + self.m()) / 4).clamp(SAMPLE_MIN, SAMPLE)
    }

    /// Sample size of a round from a band of `b` elements: when one round can bring it under
    /// the gather limit, the size that minimises sampling plus gathering (about 60 instructions
    /// a sampled element, 40 a gathered one, and the band shrinking to about 3b/√S: the
    /// minimum of 60·S + 40·3b/√S is at S = b^(2/3)), at least enough to land under the limit.
    fn round_sample(&self, b: u64) -> usize {
        let b = b as f64;
        let landing = (3.0 * b / self.gather_limit() as f64).powi(2);
        let best = b.powf(2.0 / 3.0).max(landing);
        let most = self.sample_size();
        if best > most as f64 {
            most
        } else {
            (best as usize).max(SAMPLE_MIN)
        }
    }

    fn gather_limit(&self) -> u64 {
        GATHER_MIN.max((self.rows.len() + self.m()) as u64)
    }

    /// The k-th smallest difference, 1-based (k is clamped into [1, n·m]).
    pub(crate) fn kth(&self, k: u64) -> f64 {
        self.kth_many(&[k])[0].0
    }

    /// The k-th smallest differences for several ranks (each clamped into [1, n·m]). Beside the
    /// lower middle rank n·m/2 of an even count, which a median needs, the (k+1)-th when it
    /// comes at no extra walk; `None` beside the other ranks (their gathered bands are not
    /// scanned for it).
    pub(crate) fn kth_many(&self, ks: &[u64]) -> Vec<(f64, Option<f64>)> {
        let total = self.len();
        let ks: Vec<u64> = ks.iter().map(|&k| k.clamp(1, total)).collect();
        let (Some(&k_min), Some(&k_max)) = (ks.iter().min(), ks.iter().max()) else {
            return Vec::new();
        };
        let n = self.rows.len();
        let mut rng = WyRand(0x5EED_CA4A_27D1_C7A1);
        let mut work = Scratch {
            first: vec![0u32; n + 1],
            second: vec![0u32; n + 1],
            sample: Vec::new(),
        };
        // Shared rounds: bracket every rank at once while that still narrows the band well.
        let mut band = self.full_band();
        while band.active() > self.gather_limit() && 4 * (k_max - k_min) < band.active() {
            let before = band.active();
            let size = if before == total {
                ((n + self.m()) / 2).clamp(SAMPLE_MIN, SAMPLE_FIRST)
            } else {
                self.sample_size()
            };
            self.draw_sample(&band, &mut rng, size, &mut work.sample);
            let (lo_pivot, hi_pivot) = self.pivots(&band, [k_min, k_max], &mut work.sample);
            let (Some(a), Some(b)) = (lo_pivot, hi_pivot) else {
                break;
            };
            let c = self.count_pair(&band, a, b, &mut work.first, &mut work.second);
            if c[0] < k_min {
                std::mem::swap(&mut band.lo, &mut work.first);
                band.c_lo = c[0];
            }
            if c[1] >= k_max && c[1] < band.c_hi {
                std::mem::swap(&mut band.hi, &mut work.second);
                band.c_hi = c[1];
            }
            if 2 * band.active() > before {
                break;
            }
        }
        // One sample of the shared band serves every rank's first round.
        let mut shared = Vec::new();
        if band.active() > self.gather_limit() {
            self.draw_sample(&band, &mut rng, self.sample_size(), &mut shared);
        }
        let mut rank_band = Band {
            hi: Vec::new(),
            lo: Vec::new(),
            c_hi: 0,
            c_lo: 0,
        };
        let last = ks.len() - 1;
        ks.iter()
            .enumerate()
            .map(|(idx, &k)| {
                let first = (!shared.is_empty()).then_some(&mut shared[..]);
                let want_next = total.is_multiple_of(2) && k == total / 2;
                if idx == last {
                    // No rank needs the shared band after this one.
                    return self.finish(&mut band, k, want_next, &mut rng, &mut work, first);
                }
                rank_band.assign(&band);
                self.finish(&mut rank_band, k, want_next, &mut rng, &mut work, first)
            })
            .collect()
    }

    /// Pivots just below rank `k_lo`'s and just above rank `k_hi`'s expected positions in the
    /// sample (one rank: `k_lo == k_hi`), found by selection (the sample is reordered, not
    /// sorted): the upper one is selected among the elements above the lower one only.
    fn pivots(
        &self,
        band: &Band,
        [k_lo, k_hi]: [u64; 2],
        sample: &mut [u64],
    ) -> (Option<f64>, Option<f64>) {
        let active = band.active() as f64;
        let s = sample.len() as f64;
        let position = |k: u64| -> (f64, f64) {
            let f = ((k - band.c_lo) as f64 / active).clamp(0.0, 1.0);
            (f * s, 3.0 * (f * (1.0 - f) * s).sqrt() + 1.0)
        };
        let ((at_lo, spread_lo), (at_hi, spread_hi)) = (position(k_lo), position(k_hi));
        let lo_idx = (at_lo - spread_lo).floor();
        let hi_idx = (at_hi + spread_hi).ceil();
        let (lo, rest, offset) = if lo_idx >= 0.0 {
            let (_, &mut v, above) = sample.select_nth_unstable(lo_idx as usize);
            // hi_idx > lo_idx: the upper pivot lies among the elements above this one.
            (Some(unkey(v)), above, lo_idx as usize + 1)
        } else {
            (None, sample, 0)
        };
        let hi = (hi_idx < s).then(|| unkey(*rest.select_nth_unstable(hi_idx as usize - offset).1));
        (lo, hi)
    }

    /// Narrows the band around rank k until it can be gathered; returns the k-th and, when it is
    /// at hand and `want_next`, the (k+1)-th difference. `first_sample` is a sample of the
    /// initial band.
    fn finish(
        &self,
        band: &mut Band,
        k: u64,
        want_next: bool,
        rng: &mut WyRand,
        work: &mut Scratch,
        mut first_sample: Option<&mut [u64]>,
    ) -> (f64, Option<f64>) {
        loop {
            if band.active() <= self.gather_limit() {
                // The sample's buffer is free once the band is gathered.
                return self.gather_select(band, k - band.c_lo, want_next, &mut work.sample);
            }
            let sample: &mut [u64] = match first_sample.take() {
                Some(s) => s,
                None => {
                    self.draw_sample(
                        band,
                        rng,
                        self.round_sample(band.active()),
                        &mut work.sample,
                    );
                    &mut work.sample
                }
            };
            let (lo, hi) = match self.pivots(band, [k, k], sample) {
                (None, None) => {
                    let mid = sample.len() / 2;
                    (Some(unkey(*sample.select_nth_unstable(mid).1)), None)
                }
                p => p,
            };
            // Count both pivots in one pass; the upper one's count is only used when the lower
            // one turned out to lie below the answer.
            let counted: [Option<(f64, u64)>; 2] = match (lo, hi) {
                (Some(a), Some(b)) if a < b => {
                    let c = self.count_pair(band, a, b, &mut work.first, &mut work.second);
                    [Some((a, c[0])), Some((b, c[1]))]
                }
                (Some(a), _) | (None, Some(a)) => [
                    Some((a, self.count_le_band(band, a, &mut work.first))),
                    None,
                ],
                (None, None) => unreachable!("a pivot is always chosen"),
            };
            for (idx, (v, c)) in counted.into_iter().flatten().enumerate() {
                let buf = if idx == 0 {
                    &mut work.first
                } else {
                    &mut work.second
                };
                if c < k {
                    // The answer is above v: v and everything below it leave the band.
                    std::mem::swap(&mut band.lo, buf);
                    band.c_lo = c;
                    continue;
                }
                if c < band.c_hi {
                    // The answer is at or below v: everything above v leaves the band.
                    std::mem::swap(&mut band.hi, buf);
                    band.c_hi = c;
                } else {
                    // v is the band's largest value: split its ties off with a strict count.
                    let c_lt = self.count_lt_band(band, v, buf);
                    if c_lt < k {
                        return (v, (c > k).then_some(v));
                    }
                    std::mem::swap(&mut band.hi, buf);
                    band.c_hi = c_lt;
                }
                break;
            }
        }
    }

    /// `#{d ≤ v}`, recording each row's first column with `d ≤ v`. Valid for a pivot `v` taken
    /// from the band: columns left of the band are above it and right of the band below it.
    fn count_le_band(&self, band: &Band, v: f64, first: &mut [u32]) -> u64 {
        self.count_band(&band.hi, &band.lo, v, first)
    }

    /// `#{d < v}`, recording each row's first column with `d < v`: `d < v` is `d ≤ v⁻` for the
    /// largest float `v⁻` below `v`, since every difference is a float.
    fn count_lt_band(&self, band: &Band, v: f64, first: &mut [u32]) -> u64 {
        if v == f64::NEG_INFINITY {
            first.copy_from_slice(&band.lo);
            return band.c_lo;
        }
        self.count_le_band(band, v.next_down(), first)
    }

    /// `#{d ≤ a}` and `#{d ≤ b}` for pivots a < b taken from the band, with each row's first
    /// column at or below each: the upper pivot's walk first, then the lower one's from the
    /// upper one's first columns (the columns left of them hold differences above b, so above
    /// a), which spares it the band's columns above b.
    fn count_pair(
        &self,
        band: &Band,
        a: f64,
        b: f64,
        first_a: &mut [u32],
        first_b: &mut [u32],
    ) -> [u64; 2] {
        let c_b = self.count_le_band(band, b, first_b);
        let c_a = self.count_band(first_b, &band.lo, a, first_a);
        [c_a, c_b]
    }

    /// `#{d ≤ v}` and each row's first column with `d ≤ v`, by a staircase walk in the band
    /// given by its per-row bounds (`hi` with n + 1 entries, the last one a spare): each step
    /// moves right along the row (`d > v`) or down to the next row, starting each row no left of
    /// its band, with no data-dependent branch, so the walk's speed is bounded by the latency of
    /// its load-subtract-compare chain. The rows are cut into two pieces, balanced on the walk's
    /// steps (rows plus columns, located by binary searches), each seeded by a binary search in
    /// its first row, that advance in lockstep so the processor overlaps their chains. Two
    /// pieces keep every pointer in a register; four spilled some to the stack, about 24
    /// instructions per step against 18, for no measurable gain in time (callgrind, criterion).
    fn count_band(&self, hi: &[u32], lo: &[u32], v: f64, first: &mut [u32]) -> u64 {
        const PIECES: usize = 2;
        let (rows, cols) = (self.rows, self.cols);
        let n = rows.len();
        let (hi, lo) = (&hi[..=n], &lo[..n]);
        // Each row's first column at or below v, by binary search in its band.
        let seed = |r: usize| -> usize {
            let (h, l) = (hi[r] as usize, lo[r] as usize);
            let x = rows[r];
            h + cols[h..l.max(h)].partition_point(|&y| x - y > v)
        };
        // Piece boundaries: equal shares of the walk's steps (rows plus columns).
        let weight = |i: usize| -> u64 { (i + seed(i.min(n - 1))) as u64 };
        let total = weight(n) - weight(0);
        let mut cuts = [n; PIECES + 1];
        cuts[0] = 0;
        for p in 1..PIECES {
            let target = weight(0) + total * p as u64 / PIECES as u64;
            // First row whose weight reaches the target, no earlier than the previous cut.
            let (mut a, mut b) = (cuts[p - 1], n);
            while a < b {
                let mid = (a + b) / 2;
                if weight(mid) < target {
                    a = mid + 1;
                } else {
                    b = mid;
                }
            }
            cuts[p] = a;
        }
        let start = |p: usize| -> (usize, usize) {
            let r = cuts[p];
            (r, if r < cuts[p + 1] { seed(r) } else { 0 })
        };
        let ((mut i0, mut j0), (mut i1, mut j1)) = (start(0), start(1));
        let [_, e0, e1] = cuts;
        // Equal-length views, so one index check covers them; `next[r]` is `hi[r + 1]`.
        let (rows, next, first) = (&rows[..n], &hi[1..=n], &mut first[..n]);
        macro_rules! step {
            ($i:ident, $j:ident) => {{
                let (r, j) = ($i, $j);
                // The sentinel +inf at cols[m] ends every row: x − inf = −inf is never above.
                let up = rows[r] - cols[j] > v;
                // The next row's band start, loaded off the critical path.
                let h = next[r] as usize;
                first[r] = j as u32;
                $j = if up { j + 1 } else { j.max(h) };
                $i = r + !up as usize;
            }};
        }
        // Lockstep: no piece can finish within `t` steps when each has at least `t` rows left.
        loop {
            let t = (e0 - i0).min(e1 - i1);
            if t < 8 {
                break;
            }
            for _ in 0..t {
                step!(i0, j0);
                step!(i1, j1);
            }
        }
        while i0 < e0 {
            step!(i0, j0);
        }
        while i1 < e1 {
            step!(i1, j1);
        }
        // Each row contributes its columns at or right of its first column at or below v. In
        // Walsh mode the walk may pass a row's last column: clamp to the band. Otherwise no
        // row's walk passes its band's end, whose difference is at or below v (the pivot lies
        // in the band, above everything right of it; the full band ends at the +inf sentinel),
        // so the count is n·m less the columns left of the first ones: one widening sum.
        if self.triangle {
            let mut count = 0u64;
            for (r, (f, &l)) in first.iter_mut().zip(lo).enumerate() {
                *f = (*f).min(l);
                count += (n - r - *f as usize) as u64;
            }
            return count;
        }
        debug_assert!(first.iter().zip(lo).all(|(f, l)| f <= l));
        let left: u64 = first.iter().map(|&f| u64::from(f)).sum();
        n as u64 * self.m() as u64 - left
    }

    /// Draws a stratified sample of `size` of the band's differences, as order-preserving keys,
    /// unordered: the band's elements, numbered row by row, are cut into `size` equal strata and
    /// one element is drawn uniformly from each (never worse than drawing with replacement for
    /// locating a rank, and the draws come out in row order, so one pass over the rows serves).
    /// From the whole matrix, each draw takes a stratified row and a uniform column instead.
    /// Integer arithmetic throughout (64.64 and 32.32 fixed point): one generator call and two
    /// or three multiplications per draw.
    fn draw_sample(&self, band: &Band, rng: &mut WyRand, size: usize, out: &mut Vec<u64>) {
        let active = band.active();
        let size = (size as u64).min(active).max(1);
        // Plain loops over a sized buffer, state in locals: an iterator adapter's closure kept
        // its captured state in memory (61 instructions a draw against 48).
        out.clear();
        out.resize(size as usize, 0);
        if active == self.len() && !self.triangle {
            // The whole matrix: a stratified row and a uniform column. The generator's high 32
            // bits place the row within its stratum, `(s + u)·n/size` in 32.32 fixed point; its
            // low 32 bits pick the column (n, m < 2^32).
            let (n, m) = (self.rows.len() as u64, self.m() as u64);
            let rows_per_draw = ((n as u128) << 32) / size as u128;
            for (s, slot) in (0u64..).zip(out.iter_mut()) {
                let z = rng.next();
                let at = (s << 32) | (z >> 32);
                let row = ((at as u128 * rows_per_draw) >> 64) as usize;
                let col = (((z & 0xFFFF_FFFF) * m) >> 32) as usize;
                *slot = key(self.rows[row] - self.cols[col]);
            }
            return;
        }
        // Stratum s is [⌊s·active/size⌋, ⌊(s+1)·active/size⌋), by 64.64 fixed point; each
        // stratum's end is the next one's start. Draw by draw, skip to the row holding the drawn
        // element (draws ascend, so one pass over the rows serves): the band's elements before
        // `row` number `start`, and before `row + 1` `end`.
        let step = ((active as u128) << 64) / size as u128;
        let (hi, lo) = (&band.hi[..], &band.lo[..]);
        let (mut row, mut start) = (0usize, 0u64);
        let mut end = u64::from(lo[0] - hi[0]);
        let (mut at, mut stratum_start) = (0u128, 0u64);
        for slot in out.iter_mut() {
            at += step;
            let stratum_end = (at >> 64) as u64;
            let next = stratum_start + rng.below(stratum_end - stratum_start);
            stratum_start = stratum_end;
            // Ends, since `next` < the band's size.
            while next >= end {
                row += 1;
                start = end;
                end += u64::from(lo[row] - hi[row]);
            }
            let col = hi[row] as usize + (next - start) as usize;
            *slot = key(self.rows[row] - self.cols[col]);
        }
    }

    /// Gathers the band and selects its `rank`-th (1-based) element and, if `want_next`, the
    /// next one, if the band holds it.
    fn gather_select(
        &self,
        band: &Band,
        rank: u64,
        want_next: bool,
        buf: &mut Vec<u64>,
    ) -> (f64, Option<f64>) {
        // Select on order-preserving integer keys: cheaper to compare than floats.
        // The band's size is known: reserve it once, then append row by row, to a vector
        // taken out of the scratch (a local one's length stays in a register as it grows).
        let mut keys = std::mem::take(buf);
        keys.clear();
        keys.reserve(band.active() as usize);
        // Near the end most rows' bands are empty or hold a few columns: skip the empty ones
        // with one test, and push the others' keys one by one (the capacity is reserved).
        for (r, (&h, &l)) in band.hi.iter().zip(&band.lo).enumerate() {
            if h < l {
                let x = self.rows[r];
                for &y in &self.cols[h as usize..l as usize] {
                    keys.push(key(x - y));
                }
            }
        }
        let selected = select_keys(&mut keys, rank, want_next);
        *buf = keys;
        selected
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
        let mut scratch = vec![0u32; self.rows.len() + 1];
        self.count_le_band(&self.full_band(), v, &mut scratch)
    }
}

/// The `rank`-th (1-based) smallest of the keys and, if `want_next`, the next one, if any, as
/// differences.
fn select_keys(buf: &mut [u64], rank: u64, want_next: bool) -> (f64, Option<f64>) {
    let (_, &mut kth, above) = buf.select_nth_unstable((rank - 1) as usize);
    let next = if want_next {
        above.iter().copied().min()
    } else {
        None
    };
    (unkey(kth), next.map(unkey))
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
        let mut rng = WyRand(11);
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
        let mut rng = WyRand(7);
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
