//! Count statistics for error rates: Fisher's exact test, the exact binomial test, the
//! conditional exact Poisson rate test and the two-proportion chi-squared test, each as R.
//!
//! Every function takes the canary first: an odds ratio, a rate ratio or a difference above its
//! null value means the canary has more events than the baseline, and [`Alternative::Greater`]
//! is the alternative "the canary is worse" when events are errors.

use std::fmt;

use crate::arms::Arms;
use crate::error::{check_level, Error, Result};
use crate::stats::discrete::{
    brent_zero, clopper_pearson_lower, clopper_pearson_upper, Binomial, Hypergeometric,
};
use crate::stats::dist::{norm_cdf, norm_quantile, norm_sf};
use crate::stats::hypothesis::{fmt_g, Alternative, ConfidenceInterval};

/// Settings of the count tests ([`fisher_exact`], [`prop_test`], [`poisson_rate_test`],
/// [`binom_test`], and [`exceedance_test`](crate::stats::exceedance_test)): the alternative and
/// the interval's level, with R's defaults (two-sided, 95%, continuity correction on). A call
/// that wants only a p-value passes `&CountTestConfig::default()`, or sets what it needs:
/// `&CountTestConfig::default().alternative(Alternative::Greater)`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CountTestConfig {
    /// The alternative, for the canary against the baseline (`Greater`: the canary's rate,
    /// proportion or odds is larger).
    pub alternative: Alternative,
    /// The interval's confidence level, strictly between 0 and 1 (R's `conf.level`).
    pub conf_level: f64,
    /// Yates' continuity correction, read by [`prop_test`] only (R's `correct`); the exact
    /// tests have none.
    pub correct: bool,
}

impl Default for CountTestConfig {
    fn default() -> Self {
        CountTestConfig {
            alternative: Alternative::TwoSided,
            conf_level: 0.95,
            correct: true,
        }
    }
}

impl CountTestConfig {
    /// The same settings with this alternative.
    pub fn alternative(self, alternative: Alternative) -> Self {
        CountTestConfig {
            alternative,
            ..self
        }
    }

    /// The same settings with this confidence level.
    pub fn conf_level(self, conf_level: f64) -> Self {
        CountTestConfig { conf_level, ..self }
    }

    /// The same settings with the continuity correction on or off.
    pub fn correct(self, correct: bool) -> Self {
        CountTestConfig { correct, ..self }
    }
}

/// R's relative tolerance for "as or less probable than the observed table" in two-sided exact
/// p-values (`relErr <- 1 + 1e-7` in `binom.test` and `fisher.test`).
const REL_ERR: f64 = 1.0 + 1e-7;

/// Events out of trials for one arm, for example 12 errors out of 48 000 requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Proportion {
    /// Number of events (errors, conversions, ...); at most `trials`.
    pub events: u64,
    /// Number of trials (requests, sessions, ...).
    pub trials: u64,
}

impl Proportion {
    /// A proportion of `events` out of `trials` (checked when a test uses it).
    pub fn new(events: u64, trials: u64) -> Proportion {
        Proportion { events, trials }
    }
}

/// Events observed over an exposure for one arm, for example 12 errors in 3.5 hours or per
/// 48 000 requests.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Exposure {
    /// Number of events.
    pub events: u64,
    /// The exposure (time base) the events were counted over; finite and > 0.
    pub exposure: f64,
}

impl Exposure {
    /// `events` observed over `exposure`.
    pub fn new(events: u64, exposure: f64) -> Exposure {
        Exposure { events, exposure }
    }
}

/// Largest count accepted, 2^53: every count and sum of two counts is then exact in an `f64`.
pub(crate) const MAX_COUNT: u64 = 1 << 53;

/// Checks `count <= 2^53`, naming the field.
pub(crate) fn check_count(count: u64, field: &'static str) -> Result<()> {
    if count > MAX_COUNT {
        Err(Error::InvalidCounts {
            field,
            reason: format!("{count} is above the supported maximum 2^53 = {MAX_COUNT}"),
        })
    } else {
        Ok(())
    }
}

/// Checks `events <= trials <= 2^53` and, when `need_trials`, `trials > 0`; names the field at
/// fault.
fn check_proportion(
    p: Proportion,
    events_field: &'static str,
    trials_field: &'static str,
    need_trials: bool,
) -> Result<()> {
    check_count(p.trials, trials_field)?;
    if need_trials && p.trials == 0 {
        return Err(Error::InvalidCounts {
            field: trials_field,
            reason: "0 trials: a proportion needs at least one trial".into(),
        });
    }
    if p.events > p.trials {
        return Err(Error::InvalidCounts {
            field: events_field,
            reason: format!("{} events out of {} trials", p.events, p.trials),
        });
    }
    Ok(())
}

/// Result of Fisher's exact test on the 2x2 table of canary and baseline events.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FisherExact {
    /// The alternative tested.
    pub alternative: Alternative,
    /// The p-value, as R's `fisher.test(...)$p.value`.
    pub p_value: f64,
    /// The conditional maximum-likelihood odds ratio (canary vs baseline), R's
    /// `fisher.test(...)$estimate` solved exactly (R's agrees within its `uniroot` tolerance):
    /// 0 when the canary count sits at the bottom of its support, +inf at the top.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub odds_ratio: f64,
    /// The confidence interval of the conditional odds ratio, R's `fisher.test(...)$conf.int`
    /// solved exactly (R's agrees within its `uniroot` tolerance).
    pub conf_int: ConfidenceInterval,
    /// The sample (unconditional) odds ratio (a·d)/(b·c), as SciPy's `fisher_exact(...)`
    /// statistic: +inf when b·c = 0 < a·d, NaN when both products are 0 (0/0).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub sample_odds_ratio: f64,
}

impl fmt::Display for FisherExact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Fisher exact ({}): p = {}, OR = {} {}",
            self.alternative,
            fmt_g(self.p_value),
            fmt_g(self.odds_ratio),
            self.conf_int
        )
    }
}

/// The 2x2 table seen through its margins, with the canary's event count `x`, for the
/// conditional inference on the odds ratio `ψ`.
///
/// Given all four margins, the canary's events follow Fisher's noncentral hypergeometric law
/// `P_ψ(X = i) = C(K, i) C(N - K, n_c - i) ψ^i / Σ_j C(K, j) C(N - K, n_c - j) ψ^j` over the
/// support `lo..=hi` (R. A. Fisher, "The logic of inductive inference", JRSS 98, 1935; N. L.
/// Johnson, A. W. Kemp and S. Kotz, *Univariate Discrete Distributions*, 3rd ed., Wiley 2005,
/// §6.11.1); `ψ = 1` is the central hypergeometric law of the test. Everything here works in
/// the log odds `θ = ln ψ`, in which the law is an exponential family: its mean and its upper
/// tails increase with `θ`, so each quantity below is the single root of a monotone function.
struct FisherTable {
    hyper: Hypergeometric,
    x: u64,
    /// `ln P_1(X = i)` over the whole support `lo..=hi`, kept when the support has at most
    /// `FISHER_FULL_SUPPORT` values; wider supports are evaluated window by window.
    ln_central: Option<Vec<f64>>,
}

/// Supports up to this many values are held whole.
const FISHER_FULL_SUPPORT: u64 = 1_000_000;

/// The widest conditional support [`fisher_exact`] accepts: past it the tilted window (about
/// ±38 standard deviations, the standard deviation growing as the square root of the support)
/// would no longer be small.
const FISHER_MAX_SUPPORT: u64 = 10_000_000;

/// Tilted log weights more than this below their maximum are below the smallest subnormal
/// relative to it (`e^-745`), so a window that drops them sums to the same doubles.
const FISHER_UNDERFLOW_LOG: f64 = 760.0;

/// Absolute tolerance on the log odds of the roots below (on top of Brent's `2 ε |θ|`): the
/// odds ratio and its limits are then exact to about `1e-13` relative, far below the spread of
/// the probability sums they are the root of.
const LOG_ODDS_TOLERANCE: f64 = 1e-13;

/// The log odds searched for a root: `|θ| ≤ 2^11`, beyond which `ψ^i` alone over- or
/// underflows for any support.
const LOG_ODDS_LIMIT: f64 = 2048.0;

impl FisherTable {
    /// The probabilities `P_ψ(X = i)` at `θ = ln ψ`, as the first support value they start at
    /// and the probabilities from there on: `exp(ln P_1(X = i) + θ i - max)`, normalised. Values
    /// left out of a window are below `e^-760` relative to the largest.
    fn tilted(&self, log_odds: f64) -> (u64, Vec<f64>) {
        let lo = self.hyper.lo();
        let (first, mut weights) = match &self.ln_central {
            Some(ln_central) => (
                lo,
                ln_central
                    .iter()
                    .zip(lo..)
                    .map(|(l, i)| l + log_odds * i as f64)
                    .collect::<Vec<f64>>(),
            ),
            None => self.tilted_window(log_odds),
        };
        let top = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for w in weights.iter_mut() {
            *w = (*w - top).exp();
        }
        let total = accurate_sum(weights.iter().copied());
        for w in weights.iter_mut() {
            *w /= total;
        }
        (first, weights)
    }

    /// The tilted log weights `ln P_1(X = i) + θ i` around their maximum, out to where they
    /// fall `FISHER_UNDERFLOW_LOG` below it. The tilted law is log-concave, so its mode is
    /// where the log ratio of successive weights turns negative.
    fn tilted_window(&self, log_odds: f64) -> (u64, Vec<f64>) {
        let h = &self.hyper;
        let (lo, hi) = (h.lo(), h.hi());
        let weight = |i: u64| h.ln_pmf(i) + log_odds * i as f64;
        let mode = if lo == hi {
            lo
        } else {
            first_true(lo, hi - 1, |i| weight(i + 1) < weight(i)).unwrap_or(hi)
        };
        let top = weight(mode);
        let mut below_mode = Vec::new();
        let mut i = mode;
        while i > lo {
            let w = weight(i - 1);
            if w < top - FISHER_UNDERFLOW_LOG {
                break;
            }
            below_mode.push(w);
            i -= 1;
        }
        let first = i;
        below_mode.reverse();
        below_mode.push(top);
        let mut j = mode;
        while j < hi {
            let w = weight(j + 1);
            if w < top - FISHER_UNDERFLOW_LOG {
                break;
            }
            below_mode.push(w);
            j += 1;
        }
        (first, below_mode)
    }

    /// `E_ψ[X]` at `θ = ln ψ`.
    fn tilted_mean(&self, log_odds: f64) -> f64 {
        let (first, probabilities) = self.tilted(log_odds);
        accurate_sum(probabilities.iter().zip(first..).map(|(p, i)| i as f64 * p))
    }

    /// `P_ψ(X ≥ x)` (`upper`) or `P_ψ(X ≤ x)` at `θ = ln ψ`.
    fn tilted_tail(&self, log_odds: f64, upper: bool) -> f64 {
        let (first, probabilities) = self.tilted(log_odds);
        let last = first + probabilities.len() as u64 - 1;
        let x = self.x;
        let range = if upper {
            x.max(first)..=last
        } else {
            first..=x.min(last)
        };
        if range.is_empty() {
            return 0.0;
        }
        let (from, to) = (*range.start() - first, *range.end() - first);
        accurate_sum(probabilities[from as usize..=to as usize].iter().copied())
    }

    /// The root in `θ` of the increasing function `g`, bracketed by doubling `[-1, 1]` until `g`
    /// changes sign, then found by Brent's method; `None` when no `|θ| ≤ 2^11` brackets it.
    fn log_odds_root(g: impl Fn(f64) -> f64) -> Option<f64> {
        let mut width = 1.0;
        while width <= LOG_ODDS_LIMIT {
            let (low, high) = (g(-width), g(width));
            if low <= 0.0 && high >= 0.0 {
                return brent_zero(&g, -width, width, LOG_ODDS_TOLERANCE, 1000);
            }
            width *= 2.0;
        }
        None
    }

    /// The conditional maximum-likelihood estimate of `ψ`: the `ψ` where `E_ψ[X] = x` (the
    /// likelihood equation of the exponential family), 0 at the bottom of the support and
    /// +inf at its top.
    fn conditional_mle(&self) -> f64 {
        let (lo, hi) = (self.hyper.lo(), self.hyper.hi());
        if self.x == lo {
            return 0.0;
        }
        if self.x == hi {
            return f64::INFINITY;
        }
        let x = self.x as f64;
        Self::log_odds_root(|t| self.tilted_mean(t) - x).map_or(f64::NAN, f64::exp)
    }

    /// The lower confidence limit at level `1 - alpha` (one-sided): the `ψ` where
    /// `P_ψ(X ≥ x) = alpha`; 0 at the bottom of the support. Solved on the log scale, with a
    /// tail that underflows counted as the smallest normal double so the function stays finite.
    fn lower_limit(&self, alpha: f64) -> f64 {
        if self.x == self.hyper.lo() {
            return 0.0;
        }
        let target = alpha.ln();
        Self::log_odds_root(|t| self.tilted_tail(t, true).max(f64::MIN_POSITIVE).ln() - target)
            .map_or(f64::NAN, f64::exp)
    }

    /// The upper confidence limit at level `1 - alpha` (one-sided): the `ψ` where
    /// `P_ψ(X ≤ x) = alpha`; +inf at the top of the support.
    fn upper_limit(&self, alpha: f64) -> f64 {
        if self.x == self.hyper.hi() {
            return f64::INFINITY;
        }
        let target = alpha.ln();
        Self::log_odds_root(|t| target - self.tilted_tail(t, false).max(f64::MIN_POSITIVE).ln())
            .map_or(f64::NAN, f64::exp)
    }

    fn two_sided(&self) -> f64 {
        let h = &self.hyper;
        let (lo, hi) = (h.lo(), h.hi());
        let thr = h.ln_pmf(self.x) + REL_ERR.ln();
        let mode = h.mode();
        let below = |i: u64| h.ln_pmf(i) <= thr;
        if below(mode) {
            return 1.0;
        }
        // Left of the mode the probabilities rise: the last i in lo..mode with p_i <= thr.
        let left = last_true(lo, mode, below);
        // Right of the mode they fall: the first i in mode..=hi with p_i <= thr.
        let right = first_true(mode, hi, below);
        let lower_tail = left.map_or(0.0, |a| h.cdf(a as i128));
        let upper_tail = right.map_or(0.0, |b| h.sf_ge(b as i128));
        (lower_tail + upper_tail).min(1.0)
    }
}

/// Neumaier-compensated sum: close to R's `sum`, which accumulates in long double.
fn accurate_sum(values: impl Iterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut comp = 0.0f64;
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            comp += (sum - t) + v;
        } else {
            comp += (v - t) + sum;
        }
        sum = t;
    }
    sum + comp
}

/// The first i in `from..=to` where the monotone (false, then true) predicate holds.
fn first_true(from: u64, to: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if from > to || !pred(to) {
        return None;
    }
    let (mut a, mut b) = (from, to); // pred(b) holds
    if pred(a) {
        return Some(a);
    }
    while b - a > 1 {
        let mid = a + (b - a) / 2;
        if pred(mid) {
            b = mid;
        } else {
            a = mid;
        }
    }
    Some(b)
}

/// The last i in `from..=to` where the monotone (true, then false) predicate holds.
fn last_true(from: u64, to: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if from > to || !pred(from) {
        return None;
    }
    let (mut a, mut b) = (from, to); // pred(a) holds
    if pred(b) {
        return Some(b);
    }
    while b - a > 1 {
        let mid = a + (b - a) / 2;
        if pred(mid) {
            a = mid;
        } else {
            b = mid;
        }
    }
    Some(a)
}

/// Fisher's exact test of canary vs baseline event rates on the 2x2 table
/// `[[canary.events, canary non-events], [baseline.events, baseline non-events]]`.
///
/// Conditional on all margins, the canary's events follow the hypergeometric law
/// `P(X = x) = C(K, x) C(N - K, n_c - x) / C(N, n_c)` with `K` total events and `N` total trials.
/// `Less` uses `P(X <= x)`, `Greater` `P(X >= x)`, and the two-sided p-value sums the
/// probabilities of all tables with `P(X = i) <= P(X = x) * (1 + 1e-7)`, as R's
/// `fisher.test(matrix(c(canary.events, baseline.events, canary non-events, baseline non-events), 2),
/// alternative = ..., conf.level = ...)`.
///
/// The odds ratio is the conditional maximum-likelihood estimate and the interval inverts the
/// tails of Fisher's noncentral hypergeometric law (see `FisherTable`), each the exact root of
/// a monotone function of the log odds found by Brent's method to about 1e-13 relative. R
/// stops its root search at `uniroot`'s default tolerance (`.Machine$double.eps^0.25`, about
/// 1.2e-4 on its search variable), so R's estimate and interval agree with these to about four
/// or five digits, not more. They cost O(support) per root-finder step for supports of up to
/// a million values (held whole); wider supports are evaluated only where the tilted weights
/// are not negligible (about 40 standard deviations around their mode), which gives the same
/// sums. The p-value costs O(log support) probability
/// evaluations plus tail sums of O(standard deviation) terms.
///
/// # Errors
/// [`Error::InvalidCounts`] when events exceed trials in an arm or a count exceeds 2^53;
/// [`Error::InvalidParameter`] when `conf_level` is not strictly between 0 and 1;
/// [`Error::ExactTooLarge`] when the conditional support (the smallest of the events, the
/// non-events and the two arms' trials, roughly) holds more than 1e7 values.
///
/// # Example
/// ```
/// use canary_verdict::stats::{fisher_exact, CountTestConfig, Proportion};
/// use canary_verdict::Arms;
/// // 9 errors in 40 canary requests against 2 in 45 baseline requests.
/// let arms = Arms {
///     baseline: Proportion::new(2, 45),
///     canary: Proportion::new(9, 40),
/// };
/// let t = fisher_exact(arms, &CountTestConfig::default())?;
/// // R: fisher.test(matrix(c(9, 2, 31, 43), 2))
/// assert!((t.p_value - 0.021_041_241_839_477_6).abs() < 1e-12);
/// assert!(t.odds_ratio > 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fisher_exact(arms: Arms<Proportion>, config: &CountTestConfig) -> Result<FisherExact> {
    let CountTestConfig {
        alternative,
        conf_level,
        ..
    } = *config;
    let Arms { baseline, canary } = arms;
    check_proportion(canary, "canary.events", "canary.trials", false)?;
    check_proportion(baseline, "baseline.events", "baseline.trials", false)?;
    check_level("conf_level", conf_level)?;
    let a = canary.events;
    let b = canary.trials - canary.events;
    let c = baseline.events;
    let d = baseline.trials - baseline.events;
    let hyper = Hypergeometric {
        m: a + c,
        n: b + d,
        k: a + b,
    };
    let (lo, hi) = (hyper.lo(), hyper.hi());
    // Every probability evaluation of the conditional MLE and the interval walks (and holds) the
    // tilted weights over up to the whole support: bounded here so that time and memory stay
    // bounded whatever the counts (found by the fuzzer: 1.6e14 events both ways ran for hours).
    if hi - lo > FISHER_MAX_SUPPORT {
        return Err(Error::ExactTooLarge {
            what: "Fisher's exact test",
            n_baseline: usize::try_from(baseline.trials).unwrap_or(usize::MAX),
            n_canary: usize::try_from(canary.trials).unwrap_or(usize::MAX),
            cap: "a conditional support of at most 1e7 values (min of events, non-events and trials); use prop_test",
        });
    }
    let ln_central =
        (hi - lo <= FISHER_FULL_SUPPORT).then(|| (lo..=hi).map(|i| hyper.ln_pmf(i)).collect());
    let table = FisherTable {
        hyper,
        x: a,
        ln_central,
    };
    let p_value = match alternative {
        Alternative::Less => hyper.cdf(a as i128),
        Alternative::Greater => hyper.sf_ge(a as i128),
        Alternative::TwoSided => table.two_sided(),
    };
    let (lower, upper) = match alternative {
        Alternative::Less => (0.0, table.upper_limit(1.0 - conf_level)),
        Alternative::Greater => (table.lower_limit(1.0 - conf_level), f64::INFINITY),
        Alternative::TwoSided => {
            let alpha = (1.0 - conf_level) / 2.0;
            let (lower, upper) = (table.lower_limit(alpha), table.upper_limit(alpha));
            // Exact roots are ordered (P(X ≥ x) + P(X ≤ x) > 1); the guard keeps the order even
            // if rounding in the tail sums were to cross them at levels near 0.
            if lower > upper {
                (upper, lower)
            } else {
                (lower, upper)
            }
        }
    };
    let odds_ratio = table.conditional_mle();
    let ad = a as f64 * d as f64;
    let bc = b as f64 * c as f64;
    Ok(FisherExact {
        alternative,
        p_value,
        odds_ratio,
        conf_int: ConfidenceInterval {
            lower,
            upper,
            level: conf_level,
        },
        sample_odds_ratio: ad / bc,
    })
}

/// Result of an exact binomial test.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BinomialTest {
    /// The alternative tested (about the success probability against `null_probability`).
    pub alternative: Alternative,
    /// Number of successes.
    pub successes: u64,
    /// Number of trials.
    pub trials: u64,
    /// The success probability under the null hypothesis.
    pub null_probability: f64,
    /// The p-value, as R's `binom.test(...)$p.value`.
    pub p_value: f64,
    /// The observed proportion successes / trials.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub estimate: f64,
    /// The Clopper-Pearson interval of the success probability.
    pub conf_int: ConfidenceInterval,
}

impl fmt::Display for BinomialTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exact binomial ({}): {}/{} vs p0 = {}, p = {}, estimate = {} {}",
            self.alternative,
            self.successes,
            self.trials,
            fmt_g(self.null_probability),
            fmt_g(self.p_value),
            fmt_g(self.estimate),
            self.conf_int
        )
    }
}

/// Two-sided exact binomial p-value exactly as R's `binom.test`: the observed tail plus the
/// opposite tail of all counts with `P(X = i) <= P(X = x) * (1 + 1e-7)`.
fn binom_two_sided(x: u64, n: u64, p: f64) -> f64 {
    if p == 0.0 {
        return f64::from(u8::from(x == 0));
    }
    if p == 1.0 {
        return f64::from(u8::from(x == n));
    }
    let dist = Binomial { n, p };
    let m = n as f64 * p;
    let xf = x as f64;
    if xf == m {
        return 1.0;
    }
    let thr = dist.ln_pmf(x) + REL_ERR.ln();
    let below = |i: u64| dist.ln_pmf(i) <= thr;
    let pv = if xf < m {
        let start = (m.ceil() as u64).min(n);
        let first = first_true(start, n, below);
        dist.cdf(x as i128) + first.map_or(0.0, |b| dist.sf_ge(b as i128))
    } else {
        let end = (m.floor() as u64).min(n);
        let last = last_true(0, end, below);
        last.map_or(0.0, |a| dist.cdf(a as i128)) + dist.sf_ge(x as i128)
    };
    pv.min(1.0)
}

/// The binomial test and Clopper-Pearson interval without input checks (`trials` may be 0).
fn binom_core(
    successes: u64,
    trials: u64,
    p: f64,
    alternative: Alternative,
    conf_level: f64,
) -> BinomialTest {
    let dist = Binomial { n: trials, p };
    let p_value = match alternative {
        Alternative::Less => dist.cdf(successes as i128),
        Alternative::Greater => dist.sf_ge(successes as i128),
        Alternative::TwoSided => binom_two_sided(successes, trials, p),
    };
    let (lower, upper) = match alternative {
        Alternative::Less => (
            0.0,
            clopper_pearson_upper(successes, trials, 1.0 - conf_level),
        ),
        Alternative::Greater => (
            clopper_pearson_lower(successes, trials, 1.0 - conf_level),
            1.0,
        ),
        Alternative::TwoSided => {
            let alpha = (1.0 - conf_level) / 2.0;
            (
                clopper_pearson_lower(successes, trials, alpha),
                clopper_pearson_upper(successes, trials, alpha),
            )
        }
    };
    BinomialTest {
        alternative,
        successes,
        trials,
        null_probability: p,
        p_value,
        estimate: successes as f64 / trials as f64,
        conf_int: ConfidenceInterval {
            lower,
            upper,
            level: conf_level,
        },
    }
}

/// Exact binomial test of `successes` out of `trials` against success probability `p`, with the
/// Clopper-Pearson interval, as R's `binom.test(successes, trials, p, alternative, conf.level)`.
///
/// `Less` uses `P(X <= x)`, `Greater` `P(X >= x)`; the two-sided p-value adds to the observed
/// tail the opposite tail of all counts with `P(X = i) <= P(X = x) * (1 + 1e-7)` (R's rule). The
/// interval ends are `qbeta(alpha, x, n - x + 1)` and `qbeta(1 - alpha, x + 1, n - x)`, found
/// to the last representable digit by bisecting the binomial tails (no approximate inverse
/// beta). The cost does not grow with the counts: near the mean of a wide binomial
/// (`n p q ≥ 1000`) the tails are the incomplete beta function by Temme's uniform asymptotic
/// expansion (`crate::incomplete_beta`), elsewhere short sums; about 30 µs at 10^14
/// trials.
///
/// # Errors
/// [`Error::InvalidCounts`] when `trials` is 0 or above 2^53, or `successes > trials`;
/// [`Error::InvalidParameter`] when `p` is outside [0, 1] or `conf_level` outside (0, 1).
///
/// # Example
/// ```
/// use canary_verdict::stats::{binom_test, Alternative, CountTestConfig};
/// let config = CountTestConfig::default().alternative(Alternative::Greater);
/// let t = binom_test(7, 20, 0.1, &config)?;
/// // R: binom.test(7, 20, 0.1, "greater")
/// assert!((t.p_value - 0.002_386_089_408_966_13).abs() < 1e-12);
/// assert_eq!(t.conf_int.upper, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn binom_test(
    successes: u64,
    trials: u64,
    p: f64,
    config: &CountTestConfig,
) -> Result<BinomialTest> {
    let CountTestConfig {
        alternative,
        conf_level,
        ..
    } = *config;
    check_proportion(
        Proportion::new(successes, trials),
        "successes",
        "trials",
        true,
    )?;
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::InvalidParameter {
            field: "p",
            value: p,
            expected: "a probability in [0, 1]",
        });
    }
    check_level("conf_level", conf_level)?;
    Ok(binom_core(successes, trials, p, alternative, conf_level))
}

/// Result of the conditional exact test comparing two Poisson rates.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PoissonRateTest {
    /// The alternative tested (about the canary/baseline rate ratio against `null_ratio`).
    pub alternative: Alternative,
    /// Canary events.
    pub canary_events: u64,
    /// Baseline events.
    pub baseline_events: u64,
    /// The rate ratio under the null hypothesis.
    pub null_ratio: f64,
    /// R's `parameter` ("expected count1"), `K r T_c / (T_c + r T_b)`, reproduced as R computes
    /// it (this is the null expectation `K r T_c / (r T_c + T_b)` only when `r = 1`).
    pub expected_canary_events: f64,
    /// The p-value, as R's `poisson.test(...)$p.value`.
    pub p_value: f64,
    /// The rate ratio `(x_c / T_c) / (x_b / T_b)`: +inf when the baseline has no events, NaN
    /// when neither arm has any (0/0, as R).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub rate_ratio: f64,
    /// The interval of the rate ratio: the Clopper-Pearson interval of the canary share of
    /// events mapped through `p / (1 - p) * T_b / T_c`.
    pub conf_int: ConfidenceInterval,
}

impl fmt::Display for PoissonRateTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Poisson rate ratio ({}): {} canary vs {} baseline events, RR = {} {}, p = {}",
            self.alternative,
            self.canary_events,
            self.baseline_events,
            fmt_g(self.rate_ratio),
            self.conf_int,
            fmt_g(self.p_value)
        )
    }
}

fn check_exposure(e: Exposure, field: &'static str) -> Result<()> {
    if e.exposure.is_finite() && e.exposure > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidCounts {
            field,
            reason: format!("exposure {} must be finite and > 0", e.exposure),
        })
    }
}

/// Conditional exact test of the canary/baseline Poisson rate ratio with exposures.
///
/// Given `K = x_c + x_b` events in all, the canary's share is Binomial(K, ρ) with
/// `ρ = r T_c / (r T_c + T_b)` under H0: rate ratio = `r`, so this is
/// `binom.test(x_c, K, ρ)`, exactly as R's
/// `poisson.test(c(canary.events, baseline.events), c(canary.exposure, baseline.exposure), r = null_ratio)`.
/// The interval is the Clopper-Pearson interval `[p_L, p_U]` of ρ mapped to
/// `p / (1 - p) * T_b / T_c`. With no events at all the p-value is 1, the interval
/// `[0, +inf]` and the ratio NaN, as R.
///
/// # Errors
/// [`Error::InvalidCounts`] naming `canary.exposure` or `baseline.exposure` when an exposure is
/// not finite and positive, or when the events add up to more than 2^53;
/// [`Error::InvalidParameter`] when `null_ratio` is not finite and positive (or so extreme that
/// the null share `r T_c / (r T_c + T_b)` is not a number) or `conf_level` is outside (0, 1).
///
/// # Example
/// ```
/// use canary_verdict::stats::{poisson_rate_test, Alternative, CountTestConfig, Exposure};
/// use canary_verdict::Arms;
/// // 3 errors on 10% of traffic against none on 90%.
/// let arms = Arms {
///     baseline: Exposure::new(0, 9000.0),
///     canary: Exposure::new(3, 1000.0),
/// };
/// let config = CountTestConfig::default().alternative(Alternative::Greater);
/// let t = poisson_rate_test(arms, 1.0, &config)?;
/// // R: poisson.test(c(3, 0), c(1000, 9000), alternative = "greater")
/// assert!((t.p_value - 0.001).abs() < 1e-12);
/// assert_eq!(t.rate_ratio, f64::INFINITY);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn poisson_rate_test(
    arms: Arms<Exposure>,
    null_ratio: f64,
    config: &CountTestConfig,
) -> Result<PoissonRateTest> {
    let CountTestConfig {
        alternative,
        conf_level,
        ..
    } = *config;
    let Arms { baseline, canary } = arms;
    check_exposure(canary, "canary.exposure")?;
    check_exposure(baseline, "baseline.exposure")?;
    if !(null_ratio.is_finite() && null_ratio > 0.0) {
        return Err(Error::InvalidParameter {
            field: "null_ratio",
            value: null_ratio,
            expected: "a finite rate ratio > 0",
        });
    }
    check_level("conf_level", conf_level)?;
    let total = canary
        .events
        .checked_add(baseline.events)
        .ok_or_else(|| Error::InvalidCounts {
            field: "canary.events",
            reason: format!(
                "{} canary plus {} baseline events overflow a 64-bit count",
                canary.events, baseline.events
            ),
        })?;
    // Past 2^53 events the counts (and x - n p in the tails) are no longer exact in an f64.
    if total > MAX_COUNT {
        return Err(Error::InvalidCounts {
            field: "canary.events",
            reason: format!(
                "{} canary plus {} baseline events = {total} is above the supported maximum 2^53 = {MAX_COUNT}",
                canary.events, baseline.events
            ),
        });
    }
    let (tc, tb) = (canary.exposure, baseline.exposure);
    let rho = null_ratio * tc / (null_ratio * tc + tb);
    if rho.is_nan() {
        return Err(Error::InvalidParameter {
            field: "null_ratio",
            value: null_ratio,
            expected: "a rate ratio whose null share r·T_c / (r·T_c + T_b) is a number",
        });
    }
    let b = binom_core(canary.events, total, rho, alternative, conf_level);
    let map = |p: f64| p / (1.0 - p) * tb / tc;
    let rate_ratio = (canary.events as f64 / tc) / (baseline.events as f64 / tb);
    Ok(PoissonRateTest {
        alternative,
        canary_events: canary.events,
        baseline_events: baseline.events,
        null_ratio,
        expected_canary_events: total as f64 * null_ratio * tc / (tc + null_ratio * tb),
        p_value: b.p_value,
        rate_ratio,
        conf_int: ConfidenceInterval {
            lower: map(b.conf_int.lower),
            upper: map(b.conf_int.upper),
            level: conf_level,
        },
    })
}

/// Result of the two-sample test for equality of proportions.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProportionTest {
    /// The alternative tested (about the difference canary - baseline).
    pub alternative: Alternative,
    /// Whether Yates' continuity correction was requested.
    pub continuity_correction: bool,
    /// Pearson's X-squared statistic (1 degree of freedom), with the correction if requested.
    pub statistic: f64,
    /// The p-value, as R's `prop.test(...)$p.value`.
    pub p_value: f64,
    /// The canary proportion of events.
    pub canary_proportion: f64,
    /// The baseline proportion of events.
    pub baseline_proportion: f64,
    /// The difference canary - baseline.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    pub difference: f64,
    /// Wald interval of the difference (with the continuity correction if requested), clipped
    /// to [-1, 1], as R.
    pub conf_int: ConfidenceInterval,
}

impl fmt::Display for ProportionTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "2-sample proportions ({}{}): X-squared = {}, p = {}, difference = {} {}",
            self.alternative,
            if self.continuity_correction {
                ", continuity corrected"
            } else {
                ""
            },
            fmt_g(self.statistic),
            fmt_g(self.p_value),
            fmt_g(self.difference),
            self.conf_int
        )
    }
}

/// Upper tail of the chi-squared distribution with one degree of freedom, erfc(√(x/2)).
fn chisq1_sf(x: f64) -> f64 {
    libm::erfc((x / 2.0).sqrt())
}

/// Two-sample test for equality of proportions (canary vs baseline), as R's
/// `prop.test(c(canary.events, baseline.events), c(canary.trials, baseline.trials),
/// alternative = ..., conf.level = ..., correct = ...)`.
///
/// With `p̂ = (x_c + x_b)/(n_c + n_b)`, `Δ = x_c/n_c - x_b/n_b` and Yates' correction
/// `Y = min(0.5, |Δ| / (1/n_c + 1/n_b))` (0 without correction), the statistic is
/// `X² = Σ (|O - E| - Y)² / E` over the four cells. Two-sided p-values are `P(χ²₁ > X²)`;
/// one-sided ones use `z = sign(Δ) √X²`. The interval is
/// `Δ ± (z_q √(Σ p̂_i(1 - p̂_i)/n_i) + Y (1/n_c + 1/n_b))`, clipped to [-1, 1].
///
/// # Errors
/// [`Error::InvalidCounts`] when an arm has 0 trials, more events than trials, or more than
/// 2^53 trials;
/// [`Error::Degenerate`] when neither arm has an event, or every trial is an event (R returns
/// NaN there: an expected cell count is 0); [`Error::InvalidParameter`] for `conf_level`.
///
/// # Example
/// ```
/// use canary_verdict::stats::CountTestConfig;
/// use canary_verdict::stats::{prop_test, Alternative, Proportion};
/// use canary_verdict::Arms;
/// let t = prop_test(
///     Arms {
///         baseline: Proportion::new(18, 1000),
///         canary: Proportion::new(30, 1000),
///     },
///     &CountTestConfig::default()
///         .alternative(Alternative::TwoSided)
///         .conf_level(0.95)
///         .correct(true),
/// )?;
/// // R: prop.test(c(30, 18), c(1000, 1000))
/// assert!((t.statistic - 2.582_821_038_251_37).abs() < 1e-12);
/// assert!((t.difference - 0.012).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prop_test(arms: Arms<Proportion>, config: &CountTestConfig) -> Result<ProportionTest> {
    let CountTestConfig {
        alternative,
        conf_level,
        correct: continuity_correction,
    } = *config;
    let Arms { baseline, canary } = arms;
    check_proportion(canary, "canary.events", "canary.trials", true)?;
    check_proportion(baseline, "baseline.events", "baseline.trials", true)?;
    check_level("conf_level", conf_level)?;
    let (xc, nc) = (canary.events as f64, canary.trials as f64);
    let (xb, nb) = (baseline.events as f64, baseline.trials as f64);
    let pooled = (xc + xb) / (nc + nb);
    if pooled == 0.0 || pooled == 1.0 {
        return Err(Error::Degenerate {
            what: "the two-proportion chi-squared statistic",
            reason: if pooled == 0.0 {
                "neither arm has an event, so an expected cell count is 0"
            } else {
                "every trial in both arms is an event, so an expected cell count is 0"
            },
        });
    }
    let (ec, eb) = (xc / nc, xb / nb);
    let delta = ec - eb;
    let inv_sum = 1.0 / nc + 1.0 / nb;
    let yates = if continuity_correction { 0.5f64 } else { 0.0 }.min(delta.abs() / inv_sum);
    let z = match alternative {
        Alternative::TwoSided => norm_quantile((1.0 + conf_level) / 2.0),
        _ => norm_quantile(conf_level),
    };
    let width = z * (ec * (1.0 - ec) / nc + eb * (1.0 - eb) / nb).sqrt() + yates * inv_sum;
    // Clamped to [-1, 1] at both ends, as R clamps one: a one-sided level below 0.5 has a
    // negative z, and R's lower end could otherwise pass 1 (an interval [4.1, 1]).
    let (lower, upper) = match alternative {
        Alternative::TwoSided => (
            (delta - width).clamp(-1.0, 1.0),
            (delta + width).clamp(-1.0, 1.0),
        ),
        Alternative::Greater => ((delta - width).clamp(-1.0, 1.0), 1.0),
        Alternative::Less => (-1.0, (delta + width).clamp(-1.0, 1.0)),
    };
    // R's sum over cbind(x, n - x) against cbind(n p, n (1 - p)), column by column.
    let cells = [
        (xc, nc * pooled),
        (xb, nb * pooled),
        (nc - xc, nc * (1.0 - pooled)),
        (nb - xb, nb * (1.0 - pooled)),
    ];
    let statistic: f64 = cells
        .iter()
        .map(|(o, e)| ((o - e).abs() - yates).powi(2) / e)
        .sum();
    let p_value = match alternative {
        Alternative::TwoSided => chisq1_sf(statistic),
        _ => {
            let sign = if delta > 0.0 {
                1.0
            } else if delta < 0.0 {
                -1.0
            } else {
                0.0
            };
            let zs = sign * statistic.sqrt();
            if alternative == Alternative::Less {
                norm_cdf(zs)
            } else {
                norm_sf(zs)
            }
        }
    };
    Ok(ProportionTest {
        alternative,
        continuity_correction,
        statistic,
        p_value,
        canary_proportion: ec,
        baseline_proportion: eb,
        difference: delta,
        conf_int: ConfidenceInterval {
            lower,
            upper,
            level: conf_level,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_above_trials_name_the_field() {
        let err = fisher_exact(
            Arms {
                baseline: Proportion::new(1, 10),
                canary: Proportion::new(5, 3),
            },
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(0.95),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCounts {
                field: "canary.events",
                reason: "5 events out of 3 trials".into()
            }
        );
        assert_eq!(err.to_string(), "canary.events: 5 events out of 3 trials");
        let err = prop_test(
            Arms {
                baseline: Proportion::new(0, 0),
                canary: Proportion::new(1, 10),
            },
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(0.95)
                .correct(true),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCounts {
                field: "baseline.trials",
                ..
            }
        ));
        let err = binom_test(
            3,
            2,
            0.5,
            &CountTestConfig::default()
                .alternative(Alternative::Less)
                .conf_level(0.9),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCounts {
                field: "successes",
                ..
            }
        ));
    }

    #[test]
    fn zero_exposure_and_bad_parameters_are_typed_errors() {
        let err = poisson_rate_test(
            Arms {
                baseline: Exposure::new(1, 1.0),
                canary: Exposure::new(1, 0.0),
            },
            1.0,
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(0.95),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "canary.exposure: exposure 0 must be finite and > 0"
        );
        let err = poisson_rate_test(
            Arms {
                baseline: Exposure::new(1, f64::NAN),
                canary: Exposure::new(1, 1.0),
            },
            1.0,
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(0.95),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidCounts {
                field: "baseline.exposure",
                ..
            }
        ));
        assert!(binom_test(
            1,
            2,
            1.5,
            &CountTestConfig::default()
                .alternative(Alternative::Less)
                .conf_level(0.9)
        )
        .is_err());
        assert!(binom_test(
            1,
            2,
            0.5,
            &CountTestConfig::default()
                .alternative(Alternative::Less)
                .conf_level(1.0)
        )
        .is_err());
        assert!(poisson_rate_test(
            Arms {
                baseline: Exposure::new(1, 1.0),
                canary: Exposure::new(1, 1.0)
            },
            -1.0,
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(0.95)
        )
        .is_err());
    }

    #[test]
    fn fisher_interval_ends_stay_ordered_at_levels_near_zero() {
        // At a level near 0 both ends close in on the median-unbiased estimate, where
        // P(X ≥ x) = P(X ≤ x) = 1/2 nearly. R gives c(16384.0, 8192.0) here (crossed, and
        // both far from the roots: its `uniroot` tolerance is coarse on this scale).
        let t = fisher_exact(
            Arms {
                baseline: Proportion::new(5, 12_438_326),
                canary: Proportion::new(5, 15),
            },
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(1e-12),
        )
        .unwrap();
        let (lo, hi) = (t.conf_int.lower, t.conf_int.upper);
        assert!(lo <= hi, "{t}");
        assert!(lo < t.odds_ratio && t.odds_ratio < hi, "{t}");
        // The ends are where the noncentral tails are 1/2 - 5e-13: within a factor 2 of the
        // sample odds ratio, 5 · 12 438 321 / (10 · 5).
        assert!(hi / lo < 2.0 && lo > t.sample_odds_ratio / 2.0, "{t}");
    }

    #[test]
    fn prop_test_without_events_is_degenerate() {
        let err = prop_test(
            Arms {
                baseline: Proportion::new(0, 20),
                canary: Proportion::new(0, 10),
            },
            &CountTestConfig::default()
                .alternative(Alternative::TwoSided)
                .conf_level(0.95)
                .correct(true),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Degenerate { .. }));
    }

    #[test]
    fn display_is_one_line() {
        let t = fisher_exact(
            Arms {
                baseline: Proportion::new(1, 10),
                canary: Proportion::new(3, 10),
            },
            &CountTestConfig::default()
                .alternative(Alternative::Greater)
                .conf_level(0.95),
        )
        .unwrap();
        let s = t.to_string();
        assert!(s.starts_with("Fisher exact (greater): p = "), "{s}");
        assert!(!s.contains('\n'));
    }
}
