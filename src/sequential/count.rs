//! The Beta-Binomial mixture e-process on the arm labels of events (Lindon & Malek, NeurIPS 2022),
//! with its confidence sequence for the canary share of events and the rate ratio.

use std::fmt;

use super::special::{ln_beta, ln_beta_reg, ln_beta_tilted};
use super::{check_concentration, EProcess};
use crate::arms::Arms;
use crate::error::{check_level, Error, Result};
use crate::stats::counts::{check_count, MAX_COUNT};
use crate::stats::discrete::bd0;
use crate::stats::hypothesis::{fmt_g, Alternative, ConfidenceInterval};

/// Settings of a [`CountEProcess`].
///
/// The prior on `θ`, the probability that an event comes from the canary, is
/// `Beta(a, b)` with `a = k ρ`, `b = k (1 - ρ)`: centred on the null share `ρ`, with
/// concentration `k`.
///
/// Choosing `k` (the default is 10): a small `k` spreads the prior, so a handful of events all
/// from the canary is already strong evidence (at `ρ = 0.5`, 7 consecutive canary events reach
/// `E >= 20` with `k = 1`, 12 with `k = 10`, 29 with `k = 100`), but small relative shifts at
/// high volume cost more events. A large `k` (savvi's default 100) concentrates the prior near
/// `ρ` and is the better choice for high-volume counts where a 10-20% shift matters. Use `k` of
/// about 1-10 for rare, severe events (crashes), 100 for high-volume counts. The prior changes
/// only the power, never the validity. In the crate's simulation of a doubled error rate (5
/// vs 10 errors per interval, equal split, one-sided) the median rollback came at interval 5 /
/// 5 / 7 and the 95th percentile at 13 / 11 / 13 for `k` = 1 / 10 / 100, hence the default.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CountEProcessConfig {
    /// `ρ`, the canary's expected share of events under the null hypothesis: its share of traffic
    /// (canary requests / all requests). Strictly between 0 and 1.
    pub canary_share: f64,
    /// `k`, the prior concentration; finite and > 0. Default 10.
    pub concentration: f64,
    /// Which shifts count as evidence: [`Alternative::Greater`] (the default) only "the canary
    /// has more events than its share" (prior truncated to `θ > ρ`), [`Alternative::Less`] only
    /// fewer, [`Alternative::TwoSided`] either.
    pub alternative: Alternative,
    /// Level of the running confidence sequence: it covers the true `θ` at every interval at
    /// once with probability at least `1 - alpha`. Default 0.05.
    pub alpha: f64,
}

impl CountEProcessConfig {
    /// Defaults for a canary that receives `canary_share` of the traffic: `k = 10`, one-sided
    /// "canary worse" (`Greater`), `alpha = 0.05`.
    pub fn new(canary_share: f64) -> CountEProcessConfig {
        CountEProcessConfig {
            canary_share,
            concentration: 10.0,
            alternative: Alternative::Greater,
            alpha: 0.05,
        }
    }

    /// Sets the prior concentration `k`.
    pub fn concentration(mut self, k: f64) -> CountEProcessConfig {
        self.concentration = k;
        self
    }

    /// Sets the alternative.
    pub fn alternative(mut self, alternative: Alternative) -> CountEProcessConfig {
        self.alternative = alternative;
        self
    }

    /// Sets the level of the confidence sequence.
    pub fn alpha(mut self, alpha: f64) -> CountEProcessConfig {
        self.alpha = alpha;
        self
    }

    fn validate(&self) -> Result<()> {
        if !(self.canary_share > 0.0 && self.canary_share < 1.0) {
            return Err(Error::InvalidParameter {
                field: "canary_share",
                value: self.canary_share,
                expected: "a share strictly between 0 and 1",
            });
        }
        check_concentration(self.concentration)?;
        check_level("alpha", self.alpha)
    }

    /// `(a, b) = (k ρ, k (1 - ρ))`.
    fn prior(&self) -> (f64, f64) {
        let k = self.concentration;
        (k * self.canary_share, k * (1.0 - self.canary_share))
    }

    /// `ln` of the prior mass the truncation keeps, for the prior with parameters `(a, b)`:
    /// `ln(1 - I_ρ(a, b))` for `Greater`, `ln I_ρ(a, b)` for `Less`, 0 for `TwoSided`.
    fn ln_truncated_mass(&self, a: f64, b: f64) -> f64 {
        let rho = self.canary_share;
        match self.alternative {
            Alternative::TwoSided => 0.0,
            Alternative::Greater => ln_beta_reg(b, a, 1.0 - rho, rho),
            Alternative::Less => ln_beta_reg(a, b, rho, 1.0 - rho),
        }
    }

    /// `ln E` after `canary` and `baseline` events in total.
    ///
    /// Two-sided: `ln B(a + C, b + B) - ln B(a, b) - C ln ρ - B ln(1 - ρ)`. One-sided, the same
    /// plus `ln(1 - I_ρ(a + C, b + B)) - ln(1 - I_ρ(a, b))` (`Greater`) or
    /// `ln I_ρ(a + C, b + B) - ln I_ρ(a, b)` (`Less`).
    fn log_e(&self, canary: u64, baseline: u64) -> f64 {
        let (a, b) = self.prior();
        let rho = self.canary_share;
        let (c, n) = (canary as f64, baseline as f64);
        // The same, grouped as [ln B(a+C, b+B) - (a+C) ln ρ - (b+B) ln(1-ρ)] minus the prior's
        // bracket, each evaluated without cancellation (terms of order n ln n, result of ln n).
        let mut log_e = ln_beta_tilted(a + c, b + n, rho) - ln_beta_tilted(a, b, rho);
        if self.alternative != Alternative::TwoSided {
            log_e += self.ln_truncated_mass(a + c, b + n) - self.ln_truncated_mass(a, b);
        }
        log_e
    }
}

/// The anytime-valid test of "the canary's events are no more frequent than its traffic share
/// predicts", for errors out of requests or any event counter.
///
/// Model (Lindon & Malek, "Anytime-valid inference for multinomial count data", NeurIPS 2022;
/// Netflix tech blog "Sequential Testing Keeps the World Streaming, Part 2", 2024): each arm's
/// events form a Poisson process with intensity `ρ_arm e^{δ_arm} λ(t)`, where `λ(t)` is an
/// arbitrary common load profile. Given that an event happens, it comes from the canary with
/// probability `θ = ρ e^{δ_C} / (ρ e^{δ_C} + (1 - ρ) e^{δ_B})`, constant in time, so the arm
/// labels are iid Bernoulli(`θ`) whatever the load does. The null is `θ = ρ` (equal event rates
/// per unit of traffic), and the rate ratio is `RR = [θ/(1-θ)] / [ρ/(1-ρ)]`.
///
/// The e-value is the Bayes factor of the Beta(`kρ`, `k(1-ρ)`) mixture against the point null,
/// after `C` canary and `B` baseline events in total:
///
/// `ln E_t = ln B(a + C_t, b + B_t) - ln B(a, b) - C_t ln ρ - B_t ln(1 - ρ)`, `a = kρ`, `b = k(1-ρ)`.
///
/// The one-sided variant truncates the prior to `θ > ρ` (or `θ < ρ`), which multiplies `E` by
/// `(1 - I_ρ(a + C, b + B)) / (1 - I_ρ(a, b))`, computed in log space (`I` is the regularized
/// incomplete beta function). A mixture over the alternative only is still a test martingale
/// under the null, and it never accumulates evidence from an improvement.
///
/// The confidence sequence for `θ` is savvi's `{θ : C ln θ + B ln(1-θ) > ln B(a+C, b+B) -
/// ln B(a, b) + ln α}`, the null values whose two-sided e-value stays below `1/α`; each end is
/// found by bisection on its side of the MLE `C/(C+B)`, and the running interval is the
/// intersection over all intervals so far. The rate-ratio sequence maps its ends through the
/// monotone `RR(θ)`. Its coverage does not depend on the alternative chosen for the test.
///
/// State is O(1) (cumulative counts and the running CS), and [`update`](Self::update) costs
/// O(1) log-gamma calls (the one-sided variant adds one continued fraction whose length grows
/// as the square root of the counts).
///
/// Saved state (serde) is not trusted: loading recomputes the e-value and this interval's
/// confidence set from the totals, so an edited e-value is refused, and the running sequence
/// must lie inside that set. The running maximum and the narrowing of the sequence depend on
/// the path, so they are only checked to be consistent with the totals.
///
/// # Example
/// ```
/// use canary_verdict::sequential::{CountEProcess, CountEProcessConfig, EProcess};
/// use canary_verdict::Arms;
/// // A canary taking 10% of the traffic; errors per one-minute interval.
/// let mut errors = CountEProcess::new(CountEProcessConfig::new(0.1))?;
/// errors.update(Arms {
///     baseline: 9,
///     canary: 1,
/// })?; // canary, baseline
/// assert!(!errors.rejects(0.05)?);
/// for _ in 0..5 {
///     errors.update(Arms {
///         baseline: 9,
///         canary: 4,
///     })?; // the canary now errs four times as often per request
/// }
/// assert!(errors.rejects(0.05)?); // roll back
/// assert!(errors.rate_ratio_confidence_sequence().lower > 1.0);
/// println!("{errors}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SavedCount"))]
pub struct CountEProcess {
    config: CountEProcessConfig,
    canary_events: u64,
    baseline_events: u64,
    intervals: u64,
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_float"))]
    log_e: f64,
    max_log_e: f64,
    theta_lower: f64,
    theta_upper: f64,
}

impl CountEProcess {
    /// A fresh e-process (`E_0 = 1`, the CS for `θ` is `[0, 1]`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `canary_share` (not strictly inside (0, 1)),
    /// `concentration` (not finite and > 0) or `alpha` (not strictly inside (0, 1)).
    pub fn new(config: CountEProcessConfig) -> Result<CountEProcess> {
        config.validate()?;
        Ok(CountEProcess {
            config,
            canary_events: 0,
            baseline_events: 0,
            intervals: 0,
            log_e: 0.0,
            max_log_e: 0.0,
            theta_lower: 0.0,
            theta_upper: 1.0,
        })
    }

    /// Adds one interval's events: `canary` from the canary, `baseline` from the baseline. The
    /// state is left unchanged when an error is returned.
    ///
    /// # Errors
    /// [`Error::InvalidCounts`] naming `canary` or `baseline` when an increment or a running
    /// total exceeds 2^53 (where counts stop being exact in an `f64`);
    /// [`Error::InvalidParameter`] when the (deserialized) configuration is invalid.
    pub fn update(&mut self, arms: Arms<u64>) -> Result<()> {
        let Arms { baseline, canary } = arms;
        self.config.validate()?;
        check_count(canary, "canary")?;
        check_count(baseline, "baseline")?;
        let total = |field: &'static str, old: u64, new: u64| -> Result<u64> {
            match old.checked_add(new) {
                Some(t) if t <= MAX_COUNT => Ok(t),
                _ => Err(Error::InvalidCounts {
                    field,
                    reason: format!(
                        "running total {old} + {new} is above the supported maximum 2^53"
                    ),
                }),
            }
        };
        let c = total("canary", self.canary_events, canary)?;
        let b = total("baseline", self.baseline_events, baseline)?;
        let log_e = self.config.log_e(c, b);
        let (lo, hi) = theta_cs(&self.config, c, b);
        self.canary_events = c;
        self.baseline_events = b;
        self.intervals += 1;
        self.log_e = log_e;
        self.max_log_e = self.max_log_e.max(log_e);
        self.theta_lower = self.theta_lower.max(lo);
        self.theta_upper = self.theta_upper.min(hi);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &CountEProcessConfig {
        &self.config
    }

    /// Canary events so far.
    pub fn canary_events(&self) -> u64 {
        self.canary_events
    }

    /// Baseline events so far.
    pub fn baseline_events(&self) -> u64 {
        self.baseline_events
    }

    /// Number of intervals added.
    pub fn intervals(&self) -> u64 {
        self.intervals
    }

    /// The MLE `C/(C+B)` of the canary's share of events (NaN before any event).
    pub fn share_estimate(&self) -> f64 {
        let n = self.canary_events as f64 + self.baseline_events as f64;
        self.canary_events as f64 / n
    }

    /// The MLE of the rate ratio, `RR(C/(C+B))` (NaN before any event).
    pub fn rate_ratio_estimate(&self) -> f64 {
        rate_ratio(self.share_estimate(), self.config.canary_share)
    }

    /// The running confidence sequence for `θ`, the canary's share of events, at level
    /// `1 - alpha` of the configuration. It is empty (`lower > upper`) only if the model is
    /// wrong or with probability at most `alpha`.
    pub fn confidence_sequence(&self) -> ConfidenceInterval {
        ConfidenceInterval {
            lower: self.theta_lower,
            upper: self.theta_upper,
            level: 1.0 - self.config.alpha,
        }
    }

    /// The running confidence sequence for the rate ratio
    /// `RR = [θ/(1-θ)] / [ρ/(1-ρ)]` (canary event rate per unit of traffic over the baseline's).
    pub fn rate_ratio_confidence_sequence(&self) -> ConfidenceInterval {
        let rho = self.config.canary_share;
        ConfidenceInterval {
            lower: rate_ratio(self.theta_lower, rho),
            upper: rate_ratio(self.theta_upper, rho),
            level: 1.0 - self.config.alpha,
        }
    }

    /// Whether the canary is safe to promote early: the upper end of the rate-ratio confidence
    /// sequence is below `1 + margin`. A valid equivalence decision at level `alpha` of the
    /// configuration, at any time.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `margin` is not finite and >= 0.
    pub fn is_safe(&self, margin: f64) -> Result<bool> {
        if !(margin.is_finite() && margin >= 0.0) {
            return Err(Error::InvalidParameter {
                field: "margin",
                value: margin,
                expected: "a finite number >= 0",
            });
        }
        Ok(self.rate_ratio_confidence_sequence().upper < 1.0 + margin)
    }
}

/// The serialized form of a [`CountEProcess`], checked on load: saved state is not trusted.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedCount {
    config: CountEProcessConfig,
    canary_events: u64,
    baseline_events: u64,
    intervals: u64,
    #[serde(with = "crate::serde_float")]
    log_e: f64,
    max_log_e: f64,
    theta_lower: f64,
    theta_upper: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<SavedCount> for CountEProcess {
    type Error = Error;

    /// The e-value and this interval's confidence set are functions of the running totals, so
    /// ln E is recomputed and must match bit for bit, and the saved running confidence sequence
    /// must lie inside this interval's set (it is the intersection of every interval's). The
    /// running maximum of ln E must be at least 0 and at least ln E. Before any interval the
    /// state is the fresh one. What depends on the path alone (a raised maximum, a narrowed
    /// sequence inside the current set) cannot be checked.
    fn try_from(s: SavedCount) -> Result<CountEProcess> {
        s.config.validate()?;
        super::check_saved_totals(
            s.intervals,
            [("canary", s.canary_events), ("baseline", s.baseline_events)],
        )?;
        let invalid = |field, value, expected| {
            Err(Error::InvalidParameter {
                field,
                value,
                expected,
            })
        };
        let (c, b) = (s.canary_events, s.baseline_events);
        let (log_e, (lo, hi)) = if s.intervals == 0 {
            (0.0, (0.0, 1.0))
        } else {
            (s.config.log_e(c, b), theta_cs(&s.config, c, b))
        };
        super::check_saved_log_e(
            log_e,
            s.log_e,
            s.max_log_e,
            "the log e-value of the saved totals",
        )?;
        // The running sequence lies in this interval's set and in [0, 1]; fresh, it is [0, 1].
        let fresh = s.intervals == 0;
        if !(lo <= s.theta_lower && s.theta_lower <= if fresh { lo } else { 1.0 }) {
            return invalid(
                "theta_lower",
                s.theta_lower,
                "at least the lower end of the saved totals' confidence set, at most 1 (0 before any interval)",
            );
        }
        if !(s.theta_upper <= hi && s.theta_upper >= if fresh { hi } else { 0.0 }) {
            return invalid(
                "theta_upper",
                s.theta_upper,
                "at most the upper end of the saved totals' confidence set, at least 0 (1 before any interval)",
            );
        }
        Ok(CountEProcess {
            config: s.config,
            canary_events: c,
            baseline_events: b,
            intervals: s.intervals,
            log_e,
            max_log_e: s.max_log_e,
            theta_lower: s.theta_lower,
            theta_upper: s.theta_upper,
        })
    }
}

impl EProcess for CountEProcess {
    fn log_e_value(&self) -> f64 {
        self.log_e
    }

    fn max_log_e_value(&self) -> f64 {
        self.max_log_e
    }
}

impl fmt::Display for CountEProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "count e-process ({}, share {}, k = {}): {} canary vs {} baseline events in {} intervals, E = {}, p = {}, rate ratio {} {}",
            self.config.alternative,
            fmt_g(self.config.canary_share),
            fmt_g(self.config.concentration),
            self.canary_events,
            self.baseline_events,
            self.intervals,
            fmt_g(self.e_value()),
            fmt_g(self.p_value()),
            fmt_g(self.rate_ratio_estimate()),
            self.rate_ratio_confidence_sequence()
        )
    }
}

/// `RR(θ) = θ (1 - ρ) / ((1 - θ) ρ)`: 0 at `θ = 0`, `+inf` at `θ = 1`.
fn rate_ratio(theta: f64, rho: f64) -> f64 {
    if theta >= 1.0 {
        return f64::INFINITY;
    }
    theta * (1.0 - rho) / ((1.0 - theta) * rho)
}

/// This interval's CS for `θ` after `c` canary and `b` baseline events in total:
/// `{θ : n KL(θ̂ || θ) < D}`, where `D = C ln θ̂ + B ln(1-θ̂) - ln B(a+C, b+B) + ln B(a, b) + ln(1/α)`
/// (savvi's set rewritten around the MLE `θ̂`, so that the bisection compares numbers of order
/// one rather than of order `n`). Both sides are evaluated without cancellation: `D` as
/// `-T(a+C, b+B, θ̂) - a ln θ̂ - b ln(1-θ̂) + ln B(a, b) + ln(1/α)` with
/// `T(x, y, ρ) = ln B(x, y) - x ln ρ - y ln(1-ρ)` ([`ln_beta_tilted`]; tilted at the
/// posterior mean instead when `C` or `B` is 0), and `n KL(θ̂ || θ)` as
/// `bd0(C, n θ) + bd0(B, n (1-θ))`.
fn theta_cs(config: &CountEProcessConfig, c: u64, b: u64) -> (f64, f64) {
    if c == 0 && b == 0 {
        return (0.0, 1.0);
    }
    let (pa, pb) = config.prior();
    let (cf, bf) = (c as f64, b as f64);
    let n = cf + bf;
    let mle = cf / n;
    let (x, y) = (pa + cf, pb + bf);
    let fit = if c > 0 && b > 0 {
        // C ln θ̂ + B ln(1-θ̂) - ln B(x, y), with ln B(x, y) = T(x, y, θ̂) + x ln θ̂ + y ln(1-θ̂).
        -ln_beta_tilted(x, y, mle) - pa * mle.ln() - pb * (bf / n).ln()
    } else {
        // The log-likelihood at the MLE is 0; ln B(x, y) around the posterior mean.
        let rho = x / (x + y);
        -ln_beta_tilted(x, y, rho) - x * rho.ln() - y * (-rho).ln_1p()
    };
    let d = fit + ln_beta(pa, pb) - config.alpha.ln();
    // n KL(θ̂ || θ), the log-likelihood ratio of the MLE against θ: grows away from the MLE on
    // both sides. bd0(w, m) = w ln(w/m) + m - w; the m - w add up to 0 over the two arms.
    let deviance = |w: f64, m: f64| if w == 0.0 { m } else { bd0(w, m) };
    let excess =
        |theta: f64| -> f64 { deviance(cf, n * theta) + deviance(bf, n * (1.0 - theta)) - d };
    let lower = if c == 0 {
        0.0
    } else {
        bisect(0.0, mle, |t| excess(t) < 0.0).0
    };
    let upper = if b == 0 {
        1.0
    } else {
        // Inside: excess < 0 at the MLE; outside: >= 0 towards 1.
        bisect(mle, 1.0, |t| excess(t) >= 0.0).1
    };
    (lower, upper)
}

/// The boundary in `[lo, hi]` where `switched` turns from false to true, by bisection to
/// adjacent floating-point numbers. Returns the final bracket `(last false, first true)`, so the
/// caller can take the end outside the confidence set.
fn bisect(mut lo: f64, mut hi: f64, switched: impl Fn(f64) -> bool) -> (f64, f64) {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if switched(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_config_is_a_typed_error() {
        for share in [0.0, 1.0, f64::NAN, -0.5, 2.0] {
            let e = CountEProcess::new(CountEProcessConfig::new(share)).unwrap_err();
            assert!(matches!(
                e,
                Error::InvalidParameter {
                    field: "canary_share",
                    ..
                }
            ));
        }
        let e = CountEProcess::new(CountEProcessConfig::new(0.5).concentration(0.0)).unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidParameter {
                field: "concentration",
                ..
            }
        ));
    }
}
