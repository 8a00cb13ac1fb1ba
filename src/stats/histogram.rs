//! Histogram input for the tail and distribution tests (see [`Histogram`]).

use std::fmt;

use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::stats::discrete::Binomial;
use crate::stats::hypothesis::{fmt_g, Alternative, Method};
use crate::stats::ks::{ks_p_value, method_used, KolmogorovSmirnov};
use crate::stats::quantile_compare::{
    arm_interval, assemble, check_config, crossing_p_value, needs, QuantileCompareConfig,
    QuantileComparison,
};
use crate::stats::rank_sum::{mann_whitney_from_sums, MannWhitney, MannWhitneyConfig};
use crate::stats::ranks::RankSums;
use crate::stats::summary::Summary;

/// A histogram: buckets `(lowest, upper_bounds[0]]`, `(upper_bounds[i-1], upper_bounds[i]]`
/// with their counts.
/// # Method
///
/// Histogram input for the tail and distribution tests: bucket bounds and counts per arm, as
/// Prometheus and OpenTelemetry export latency.
///
/// A [`Histogram`] holds buckets `(lowest, b_1], (b_1, b_2], ..., (b_{k-1}, b_k]` with counts; the
/// last bound may be `+inf` (Prometheus' `le="+Inf"`). Build it from per-bucket counts
/// ([`Histogram::from_buckets`]) or from Prometheus' cumulative `le` counts
/// ([`Histogram::from_cumulative`]).
///
/// What bucketing does to the answers:
///
/// - **Quantile intervals** ([`histogram_quantile_compare`]): the ranks `l`, `u` of the
///   order-statistic interval depend only on the count, so they are those of the raw data; each
///   order statistic is only known to lie in its bucket, so the arm's interval is widened to the
///   lower bound of the bucket holding `X_(l)` and the upper bound of the bucket holding `X_(u)`.
///   Coverage stays at least the level (the widened interval contains the raw one), but it cannot
///   be narrower than a bucket: with Prometheus' default buckets (…, 0.25, 0.5, 1, 2.5 s) a p99
///   between 0.5 s and 1 s is known only to that factor of two, and a change inside one bucket
///   is invisible. An upper bucket of `+inf` leaves the interval open above. The point estimate
///   interpolates linearly inside the bucket, as Prometheus' `histogram_quantile`; it is a guess,
///   and the interval, not the estimate, carries the guarantee. The p-value certifies
///   `X_c(l) > r·X_b(u)` only from the bucket bounds (lower bound of the canary's bucket at least
///   `r` times the upper bound of the baseline's), so it is conservative.
/// - **Kolmogorov-Smirnov** ([`histogram_ks`]): both arms must share the bounds. The CDFs are
///   compared at the bucket bounds only, and the p-value is the tie-conditional one of
///   [`ks_2samp`](crate::stats::ks_2samp) with every bucket a group of ties: it is the exact test of the
///   bucketed data (valid: bucketing is a fixed map applied to both arms), and less powerful
///   than the test on raw data, since a difference inside a bucket cannot be seen.
///
/// Not provided from histograms: the exceedance test (its thresholds would have to be bucket
/// bounds) and Anderson-Darling.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Histogram {
    /// Lower edge of the first bucket (0 for latency, as Prometheus assumes).
    pub lowest: f64,
    /// Bucket upper bounds, strictly increasing; the last may be `+inf`.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float::vec"))]
    pub upper_bounds: Vec<f64>,
    /// Points per bucket (not cumulative).
    pub counts: Vec<u64>,
}

impl fmt::Display for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "histogram of {} points in {} buckets from {} to {}",
            self.total(),
            self.counts.len(),
            fmt_g(self.lowest),
            fmt_g(*self.upper_bounds.last().unwrap_or(&self.lowest))
        )
    }
}

/// The largest total a histogram may hold: the binomial tails behind the quantile intervals sum
/// O(√n) terms, about a second's work at this size.
const MAX_TOTAL: u64 = 1_000_000_000_000;

fn bad(field: &'static str, reason: String) -> Error {
    Error::InvalidCounts { field, reason }
}

impl Histogram {
    /// A histogram from per-bucket counts.
    ///
    /// # Errors
    /// [`Error::InvalidCounts`] naming `upper_bounds` (empty, NaN, not strictly increasing, not
    /// above `lowest`, `+inf` before the last) or `counts` (length differs, total 0 or above 10^12).
    ///
    /// # Example
    /// ```
    /// use canary_verdict::Histogram;
    /// let h = Histogram::from_buckets(
    ///     0.0,
    ///     vec![0.1, 0.25, 0.5, f64::INFINITY],
    ///     vec![50, 30, 15, 5],
    /// )?;
    /// assert_eq!(h.total(), 100);
    /// // Prometheus' histogram_quantile(0.9, ...): 0.25 + (0.5 - 0.25) * (90 - 80) / 15
    /// assert!((h.quantile(0.9) - 0.416_666_666_666_666_7).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_buckets(
        lowest: f64,
        upper_bounds: Vec<f64>,
        counts: Vec<u64>,
    ) -> Result<Histogram> {
        check_parts(lowest, &upper_bounds, &counts, false)?;
        Ok(Histogram {
            lowest,
            upper_bounds,
            counts,
        })
    }

    /// A histogram from cumulative counts (Prometheus' `le` buckets: points at or below each
    /// bound).
    ///
    /// # Errors
    /// As [`Histogram::from_buckets`], and [`Error::InvalidCounts`] naming `cumulative` when a
    /// count decreases.
    pub fn from_cumulative(
        lowest: f64,
        upper_bounds: Vec<f64>,
        cumulative: Vec<u64>,
    ) -> Result<Histogram> {
        let mut counts = Vec::with_capacity(cumulative.len());
        let mut prev = 0u64;
        for (i, &c) in cumulative.iter().enumerate() {
            if c < prev {
                return Err(bad(
                    "cumulative",
                    format!("count {i} = {c} is below the previous {prev}"),
                ));
            }
            counts.push(c - prev);
            prev = c;
        }
        Histogram::from_buckets(lowest, upper_bounds, counts)
    }

    /// Total number of points (saturating at `u64::MAX` for a histogram built by hand).
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// The total as a `usize`, saturating.
    pub(crate) fn points(&self) -> usize {
        usize::try_from(self.total()).unwrap_or(usize::MAX)
    }

    /// Runs [`Histogram::from_buckets`]' checks again, for a histogram built by hand or
    /// deserialized (the fields are public and serde does not check them).
    ///
    /// # Errors
    /// As [`Histogram::from_buckets`].
    pub fn validate(&self) -> Result<()> {
        check_parts(self.lowest, &self.upper_bounds, &self.counts, false)
    }

    /// [`Histogram::validate`], optionally accepting a total of 0 (an arm without traffic).
    pub(crate) fn check(&self, allow_empty: bool) -> Result<()> {
        check_parts(self.lowest, &self.upper_bounds, &self.counts, allow_empty)
    }

    pub(crate) fn lower_edge(&self, bucket: usize) -> f64 {
        if bucket == 0 {
            self.lowest
        } else {
            self.upper_bounds[bucket - 1]
        }
    }

    /// The bucket holding the `rank`-th smallest point (1-based).
    fn bucket_of_rank(&self, rank: u64) -> usize {
        let mut cum = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            cum += c;
            if cum >= rank {
                return i;
            }
        }
        self.counts.len() - 1
    }

    /// The `p`-quantile by linear interpolation inside its bucket, as Prometheus'
    /// `histogram_quantile` (rank `p·total`); in the `+inf` bucket, the last finite bound (a
    /// lower bound of the quantile: see [`Histogram::beyond_last_bucket`]).
    pub fn quantile(&self, p: f64) -> f64 {
        let total = self.total() as f64;
        let rank = p.clamp(0.0, 1.0) * total;
        let mut cum = 0.0;
        for (i, &c) in self.counts.iter().enumerate() {
            let next = cum + c as f64;
            if next >= rank && c > 0 {
                let (lo, hi) = (self.lower_edge(i), self.upper_bounds[i]);
                if hi.is_infinite() {
                    return lo;
                }
                return lo + (hi - lo) * (rank - cum) / c as f64;
            }
            cum = next;
        }
        self.lower_edge(self.counts.len() - 1)
    }
}

impl Histogram {
    /// Whether the `p`-quantile (rank `p·total`, as [`Histogram::quantile`]) lies in a `+inf`
    /// last bucket, where the histogram says only that it is above the last finite bound.
    ///
    /// # Example
    /// ```
    /// use canary_verdict::Histogram;
    /// // 10% of the points beyond 0.5: p90 is 0.5, p99 is only known to be above it.
    /// let h = Histogram::from_buckets(0.0, vec![0.25, 0.5, f64::INFINITY], vec![60, 30, 10])?;
    /// assert!(!h.beyond_last_bucket(0.9) && h.beyond_last_bucket(0.99));
    /// assert_eq!(h.quantile(0.99), 0.5); // Prometheus' answer: the last finite bound
    /// # Ok::<(), canary_verdict::Error>(())
    /// ```
    pub fn beyond_last_bucket(&self, p: f64) -> bool {
        let last = self.counts.len().saturating_sub(1);
        if !self.upper_bounds.get(last).is_some_and(|b| b.is_infinite()) || self.counts[last] == 0 {
            return false;
        }
        // The same walk as `quantile`: the first non-empty bucket whose cumulative count
        // reaches the rank.
        let total = self.total() as f64;
        let rank = p.clamp(0.0, 1.0) * total;
        let mut cum = 0.0;
        for (i, &c) in self.counts.iter().enumerate() {
            let next = cum + c as f64;
            if next >= rank && c > 0 {
                return i == last;
            }
            cum = next;
        }
        true
    }
}

/// The checks of [`Histogram::from_buckets`].
fn check_parts(lowest: f64, upper_bounds: &[f64], counts: &[u64], allow_empty: bool) -> Result<()> {
    if upper_bounds.is_empty() {
        return Err(bad("upper_bounds", "no bucket".into()));
    }
    if counts.len() != upper_bounds.len() {
        return Err(bad(
            "counts",
            format!("{} counts for {} buckets", counts.len(), upper_bounds.len()),
        ));
    }
    if !lowest.is_finite() {
        return Err(bad("lowest", format!("{lowest} is not finite")));
    }
    let mut prev = lowest;
    for (i, &b) in upper_bounds.iter().enumerate() {
        let last = i + 1 == upper_bounds.len();
        if b.is_nan() || (b.is_infinite() && !(last && b > 0.0)) || b <= prev {
            return Err(bad(
                "upper_bounds",
                format!("bound {i} = {b} must be finite (or +inf last) and above {prev}"),
            ));
        }
        prev = b;
    }
    let total = counts.iter().try_fold(0u64, |a, &c| a.checked_add(c));
    match total {
        Some(t) if (t > 0 || allow_empty) && t <= MAX_TOTAL => {}
        _ => {
            return Err(bad(
                "counts",
                format!("the total must be between 1 and {MAX_TOTAL}"),
            ))
        }
    }
    Ok(())
}

/// [`quantile_compare`](crate::stats::quantile_compare) on histograms: the same ranks, each arm's
/// interval widened to its buckets' bounds (see the `# Method` section).
///
/// The p-value is one-sided for `Greater` and `Less` and twice the smaller for `TwoSided`; it
/// certifies a rank pair only from the bucket bounds, so it is conservative.
///
/// # Errors
/// [`Error::InvalidParameter`] for the config, as [`quantile_compare`](crate::stats::quantile_compare).
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::{
///     stats::{histogram_quantile_compare, Alternative, QuantileCompareConfig},
///     Histogram,
/// };
/// let bounds = vec![50.0, 100.0, 200.0, 400.0, 800.0, f64::INFINITY];
/// let baseline =
///     Histogram::from_buckets(0.0, bounds.clone(), vec![2000, 6000, 1800, 150, 50, 0])?;
/// let canary = Histogram::from_buckets(0.0, bounds, vec![2000, 5800, 1700, 150, 200, 150])?;
/// let cfg = QuantileCompareConfig {
///     p: 0.99,
///     alternative: Alternative::Greater,
///     ..Default::default()
/// };
/// let t = histogram_quantile_compare(
///     Arms {
///         baseline: &baseline,
///         canary: &canary,
///     },
///     &cfg,
/// )?;
/// assert!(t.difference_interval.lower >= 0.0 && t.p_value < 0.01);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn histogram_quantile_compare(
    arms: Arms<&Histogram>,
    config: &QuantileCompareConfig,
) -> Result<QuantileComparison> {
    let Arms { baseline, canary } = arms;
    check_config(config)?;
    let arm = |h: &Histogram, need: (bool, bool)| {
        arm_interval(
            h.total() as usize,
            config,
            need,
            h.quantile(config.p),
            |l| h.lower_edge(h.bucket_of_rank(l as u64)),
            |u| h.upper_bounds[h.bucket_of_rank(u as u64)],
        )
    };
    let (need_c, need_b) = needs(config.alternative);
    let greater = || p_cells(canary, baseline, config.p, config.null_ratio, false);
    let less = || p_cells(canary, baseline, config.p, config.null_ratio, true);
    let p_value = match config.alternative {
        Alternative::Greater => greater(),
        Alternative::Less => less(),
        Alternative::TwoSided => (2.0 * greater().min(less())).min(1.0),
    };
    Ok(assemble(
        arm(canary, need_c),
        arm(baseline, need_b),
        config,
        p_value,
    ))
}

/// One-sided p-value from bucket bounds. `less = false`: `H0: ξ_c ≤ r·ξ_b`, a rank pair
/// `(l, u)` rejects when the lower edge of the canary's bucket of rank `l` is at least `r` times
/// the upper bound of the baseline's bucket of rank `u`. `less = true` mirrors it: the canary's
/// upper bound of rank `u'` at most `r` times the baseline's lower edge of rank `l'`.
fn p_cells(canary: &Histogram, baseline: &Histogram, p: f64, r: f64, less: bool) -> f64 {
    let (m, n) = (canary.total(), baseline.total());
    let dc = Binomial { n: m, p };
    let db = Binomial { n, p };
    // Greater: f(u) = P(B_b ≥ u) (baseline upper rank u), g(u) = P(B_c ≤ l(u) - 1) with l(u) the
    // smallest canary rank certified above r·ub(u). Less: the mirror with lower ranks of the
    // baseline and upper ranks of the canary; written with k = n + 1 - rank to reuse the shape.
    let f = |k: u64| -> f64 {
        if less {
            db.cdf(n as i128 - k as i128) // baseline lower rank l' = n + 1 - k: P(B ≤ l' - 1)
        } else {
            db.sf_ge(k as i128)
        }
    };
    let g = |k: u64| -> f64 {
        if less {
            let rank_b = n + 1 - k;
            let t = r * baseline.lower_edge(baseline.bucket_of_rank(rank_b));
            // Canary ranks certified below t: buckets whose upper bound is at most t.
            let below: u64 = canary
                .counts
                .iter()
                .zip(&canary.upper_bounds)
                .filter(|(_, &ub)| ub <= t)
                .map(|(c, _)| c)
                .sum();
            if below == 0 {
                1.0
            } else {
                // Upper rank u' = below: P(B_c ≥ u').
                dc.sf_ge(below as i128)
            }
        } else {
            let t = r * baseline.upper_bounds[baseline.bucket_of_rank(k)];
            // Canary ranks not certified above t: buckets whose lower edge is below t.
            let not_above: u64 = (0..canary.counts.len())
                .filter(|&i| canary.lower_edge(i) < t)
                .map(|i| canary.counts[i])
                .sum();
            if not_above >= m {
                1.0
            } else {
                dc.cdf(not_above as i128)
            }
        }
    };
    crossing_p_value(n, f, g)
}

/// Two-sample Kolmogorov-Smirnov test on histograms with the same bounds: the CDFs compared at
/// the bucket bounds, the p-value conditional on the buckets as ties (see the
/// `# Method` section). `alternative` and `method` as [`ks_2samp`](crate::stats::ks_2samp).
///
/// # Errors
/// [`Error::InvalidCounts`] naming `upper_bounds` when the arms' bounds differ;
/// [`Error::ExactTooLarge`] for [`Method::Exact`] past `m·n = 2e8` or 10^7 pooled points.
pub fn histogram_ks(
    arms: Arms<&Histogram>,
    alternative: Alternative,
    method: Method,
) -> Result<KolmogorovSmirnov> {
    let Arms { baseline, canary } = arms;
    if canary.upper_bounds != baseline.upper_bounds || canary.lowest != baseline.lowest {
        return Err(bad(
            "upper_bounds",
            "the canary and baseline histograms must share their bucket bounds".into(),
        ));
    }
    let (m, n) = (canary.total(), baseline.total());
    let (mf, nf) = (m as f64, n as f64);
    let (mut cc, mut cb) = (0u64, 0u64);
    let (mut d_larger, mut d_smaller) = (0.0f64, 0.0f64);
    for (a, b) in canary.counts.iter().zip(&baseline.counts) {
        cc += a;
        cb += b;
        let diff = (cc as f64 * nf - cb as f64 * mf) / (mf * nf);
        d_smaller = d_smaller.max(diff);
        d_larger = d_larger.max(-diff);
    }
    let statistic = match alternative {
        Alternative::TwoSided => d_larger.max(d_smaller),
        Alternative::Greater => d_larger,
        Alternative::Less => d_smaller,
    };
    // The exact walk keeps one flag per pooled point: bounded here, since a histogram's counts
    // can be far larger than its size.
    if method == Method::Exact && m + n > 10_000_000 {
        return Err(Error::ExactTooLarge {
            what: "Kolmogorov-Smirnov distribution on histograms",
            n_baseline: n as usize,
            n_canary: m as usize,
            cap: "10^7 pooled points",
        });
    }
    let (p_value, exact) = ks_p_value(
        statistic,
        m as usize,
        n as usize,
        alternative,
        method,
        || {
            // A group of ties ends at each non-empty bucket's last pooled point.
            let mut ends = vec![false; (m + n) as usize + 1];
            let mut k = 0usize;
            for (a, b) in canary.counts.iter().zip(&baseline.counts) {
                k += (a + b) as usize;
                if a + b > 0 {
                    ends[k] = true;
                }
            }
            ends
        },
    )?;
    let ties = canary
        .counts
        .iter()
        .zip(&baseline.counts)
        .any(|(a, b)| a + b > 1);
    Ok(KolmogorovSmirnov {
        alternative,
        statistic,
        d_larger,
        d_smaller,
        p_value,
        method: method_used(exact, ties),
        n_baseline: n as usize,
        n_canary: m as usize,
    })
}

/// Pooled points past which the exact conditional distribution is not built from a histogram
/// (its scores are one per point; the distribution itself has a tighter cap of its own).
const EXACT_POOLED_CAP: u64 = 100_000;

/// The Wilcoxon-Mann-Whitney rank-sum test on two histograms with the same bounds, each bucket a
/// group of ties.
///
/// # Method
///
/// Bucketing maps every point of a bucket to one value, so the bucketed data are heavily tied
/// data, and the rank-sum test applies to them as to any tied sample. With the pooled count
/// `t_k = c_k + b_k` of bucket `k` (canary `c_k`, baseline `b_k`) and `T_k = t_1 + … + t_k`,
/// every point of bucket `k` has the mid-rank `r_k = T_{k−1} + (t_k + 1)/2`; the canary's rank
/// sum is `W = Σ c_k r_k` and `U = W − n(n+1)/2 = Σ c_k (B_{k−1} + b_k/2)` (n canary points,
/// `B_k` the baseline's cumulative count). The p-value is that of [`MannWhitney`] for these
/// ranks, with `Σ(t_k³ − t_k)` in the tie-corrected variance: under [`Method::Asymptotic`]
/// `z = (U − nm/2 − c)/σ`, `σ² = nm/12·((N+1) − Σ(t_k³ − t_k)/(N(N−1)))` with the continuity
/// correction `c`, exactly R's `wilcox.test(rep(x, counts_c), rep(x, counts_b), exact = FALSE,
/// correct = TRUE)` with any increasing value `x_k` per bucket (the upper bounds, say), and the
/// same bits as [`mann_whitney`](crate::stats::mann_whitney) on the data so expanded. Cost O(buckets):
/// counts are never expanded for it. [`Method::Auto`] takes the exact conditional distribution
/// below 50 points per arm, as on samples; that path (and [`Method::Exact`]) lists one score per
/// point, so it is refused past 10^5 pooled points.
///
/// What bucketing costs: the test sees only which bucket each point fell in. It is a valid test
/// of the bucketed distributions (the same fixed map applied to both arms), but a change inside a
/// bucket is invisible, and power falls as the buckets coarsen.
///
/// # Errors
/// [`Error::InvalidCounts`] for an invalid histogram ([`Histogram::validate`]) or bounds that
/// differ between the arms (naming `lowest` or `upper_bounds`); [`Error::InvalidParameter`]
/// naming `mu` unless it is 0 (a shift would move points across buckets);
/// [`Error::ExactTooLarge`] for the exact distribution past its caps.
///
/// # Example
/// ```
/// use canary_verdict::Arms;
/// use canary_verdict::{
///     stats::{histogram_mann_whitney, Alternative, MannWhitneyConfig, Method},
///     Histogram,
/// };
/// let bounds = vec![0.05, 0.1, 0.25, 0.5, 1.0, f64::INFINITY];
/// let baseline = Histogram::from_buckets(0.0, bounds.clone(), vec![400, 900, 500, 150, 40, 10])?;
/// let canary = Histogram::from_buckets(0.0, bounds, vec![300, 800, 650, 190, 50, 10])?;
/// let cfg = MannWhitneyConfig {
///     alternative: Alternative::Greater,
///     method: Method::Asymptotic,
///     ..Default::default()
/// };
/// let test = histogram_mann_whitney(
///     Arms {
///         baseline: &baseline,
///         canary: &canary,
///     },
///     &cfg,
/// )?;
/// assert!(test.p_value < 1e-4 && test.ties);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn histogram_mann_whitney(
    arms: Arms<&Histogram>,
    config: &MannWhitneyConfig,
) -> Result<MannWhitney> {
    let Arms { baseline, canary } = arms;
    baseline.validate()?;
    canary.validate()?;
    if let Some((field, reason)) = bounds_differ(baseline, canary) {
        return Err(Error::InvalidCounts { field, reason });
    }
    grouped(baseline, canary, config)
}

/// [`histogram_mann_whitney`] on checked histograms with the same bounds.
pub(crate) fn grouped(
    baseline: &Histogram,
    canary: &Histogram,
    config: &MannWhitneyConfig,
) -> Result<MannWhitney> {
    if config.mu != 0.0 {
        return Err(Error::InvalidParameter {
            field: "mu",
            value: config.mu,
            expected: "0 on histograms (a shift would move points across buckets)",
        });
    }
    // The same accumulation, in the same order, as the tie-group walk on expanded samples.
    let (mut sums, mut below) = (RankSums::EMPTY, 0u64);
    for (&cx, &cy) in canary.counts.iter().zip(&baseline.counts) {
        sums.add_group(cx, cy, below);
        below += cy;
    }
    let (m, n) = (baseline.total(), canary.total());
    mann_whitney_from_sums(n as usize, m as usize, sums, config, || {
        if m + n > EXACT_POOLED_CAP {
            return Err(Error::ExactTooLarge {
                what: "conditional rank-sum distribution on histograms",
                n_baseline: m as usize,
                n_canary: n as usize,
                cap: "10^5 pooled points",
            });
        }
        // Doubled mid-ranks 2·T_{k-1} + t_k + 1, one per pooled point.
        let mut scores = Vec::with_capacity((m + n) as usize);
        let mut next_rank = 1u64;
        for (&cx, &cy) in canary.counts.iter().zip(&baseline.counts) {
            let t = cx + cy;
            scores.extend(std::iter::repeat_n(2 * next_rank + t - 1, t as usize));
            next_rank += t;
        }
        Ok(scores)
    })
}

/// The value standing for bucket `k` in means: its midpoint, or its lower edge for a `+inf`
/// bucket.
fn midpoint(h: &Histogram, k: usize) -> f64 {
    let (lo, hi) = (h.lower_edge(k), h.upper_bounds[k]);
    if hi.is_infinite() {
        lo
    } else {
        // Halves first: no overflow for bounds near f64::MAX.
        lo / 2.0 + hi / 2.0
    }
}

/// The bucket-midpoint mean `Σ c_k x_k / N` (x_k the midpoint, the `+inf` bucket at its lower
/// edge), with one correction pass as R's `mean`. Non-empty histogram.
pub(crate) fn midpoint_mean(h: &Histogram) -> f64 {
    let n = h.total() as f64;
    let weighted = |f: &dyn Fn(f64) -> f64| -> f64 {
        (0..h.counts.len())
            .map(|k| h.counts[k] as f64 / n * f(midpoint(h, k)))
            .sum()
    };
    let mean = weighted(&|x| x);
    mean + weighted(&|x| x - mean)
}

/// The summary of a histogram, from its buckets (see [`histogram_summary`]); non-empty.
pub(crate) fn summary_of(h: &Histogram, probs: &[f64]) -> Summary {
    let n = h.total();
    let mean = midpoint_mean(h);
    let sd = if n < 2 {
        0.0
    } else {
        // Scaled by the largest deviation, so that squares do not overflow.
        let scale = (0..h.counts.len())
            .filter(|&k| h.counts[k] > 0)
            .map(|k| (midpoint(h, k) - mean).abs())
            .fold(0.0f64, f64::max);
        if scale == 0.0 {
            0.0
        } else {
            let nf = n as f64;
            let ss: f64 = (0..h.counts.len())
                .map(|k| h.counts[k] as f64 / nf * ((midpoint(h, k) - mean) / scale).powi(2))
                .sum();
            (ss * nf / (nf - 1.0)).sqrt() * scale
        }
    };
    let first = h.counts.iter().position(|&c| c > 0).unwrap_or(0);
    let last = h.counts.iter().rposition(|&c| c > 0).unwrap_or(0);
    let top = h.upper_bounds[last];
    Summary {
        count: h.points(),
        mean,
        sd,
        min: h.lower_edge(first),
        max: if top.is_infinite() {
            h.lower_edge(last)
        } else {
            top
        },
        // A quantile in the `+inf` bucket is only known to lie beyond the last finite bound:
        // +inf, so that a `max` bound on it fails (it could be breached), never the bound itself.
        quantiles: probs
            .iter()
            .map(|&p| {
                let q = if h.beyond_last_bucket(p) {
                    f64::INFINITY
                } else {
                    h.quantile(p)
                };
                (p, q)
            })
            .collect(),
    }
}

/// Summary of a histogram, approximated from its buckets: `count` the total, `mean` and `sd`
/// from the bucket midpoints with the counts as weights (the `+inf` bucket at its lower edge),
/// `min` the lower edge of the first non-empty bucket, `max` the upper bound of the last one
/// (its lower edge for the `+inf` bucket), and the quantiles interpolated inside their bucket as
/// [`Histogram::quantile`] (Prometheus' `histogram_quantile`). All are bucket approximations of
/// the raw data's figures, off by up to a bucket's width. A quantile that falls in the `+inf`
/// bucket is reported as `+inf` ("beyond the last bucket", [`Histogram::beyond_last_bucket`]):
/// the histogram bounds it only from below, so an upper bound on it can never be said to hold.
///
/// # Errors
/// [`Error::InvalidCounts`] for an invalid histogram ([`Histogram::validate`]);
/// [`Error::InvalidParameter`] naming `p` for a probability outside [0, 1].
///
/// # Example
/// ```
/// use canary_verdict::{stats::histogram_summary, Histogram};
/// let h = Histogram::from_buckets(0.0, vec![1.0, 2.0, f64::INFINITY], vec![2, 1, 1])?;
/// let s = histogram_summary(&h, &[0.5])?;
/// // Midpoints 0.5 (×2) and 1.5; the +inf bucket at its lower edge 2: (1 + 1.5 + 2) / 4.
/// assert_eq!((s.count, s.mean, s.min, s.max), (4, 1.125, 0.0, 2.0));
/// assert_eq!(s.quantile(0.5), Some(1.0));
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn histogram_summary(histogram: &Histogram, probs: &[f64]) -> Result<Summary> {
    histogram.validate()?;
    for &p in probs {
        crate::error::check_probability("p", p)?;
    }
    Ok(summary_of(histogram, probs))
}

/// Where the canary's bounds differ from the baseline's: the field and what differs.
pub(crate) fn bounds_differ(
    baseline: &Histogram,
    canary: &Histogram,
) -> Option<(&'static str, String)> {
    let (b, c) = (&baseline.upper_bounds, &canary.upper_bounds);
    if canary.lowest != baseline.lowest {
        return Some((
            "lowest",
            format!(
                "{} differs from the other's {}: both histograms need the same bucket bounds",
                fmt_g(canary.lowest),
                fmt_g(baseline.lowest)
            ),
        ));
    }
    if b.len() != c.len() {
        return Some((
            "upper_bounds",
            format!(
                "{} buckets against the other's {}: both histograms need the same bucket bounds",
                c.len(),
                b.len()
            ),
        ));
    }
    let i = b.iter().zip(c).position(|(x, y)| x != y)?;
    Some((
        "upper_bounds",
        format!(
            "bound {i} = {} differs from the other's {}: both histograms need the same bucket bounds",
            fmt_g(c[i]),
            fmt_g(b[i])
        ),
    ))
}
