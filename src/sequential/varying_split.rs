//! The count e-process for a traffic split that changes from interval to interval: a discrete
//! mixture over the log rate ratio on a fixed grid.

use std::fmt;

use super::EProcess;
use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::stats::counts::check_count;
use crate::stats::hypothesis::{fmt_g, Alternative};

/// Largest grid accepted per side.
const MAX_GRID: u64 = 1024;

/// Settings of a [`VaryingSplitEProcess`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VaryingSplitEProcessConfig {
    /// Which shifts count as evidence: [`Alternative::Greater`] (the default) "the canary's
    /// event rate per request is higher", `Less` lower, `TwoSided` either.
    pub alternative: Alternative,
    /// The largest rate ratio on the grid; finite and > 1. Default 10.
    pub max_rate_ratio: f64,
    /// `G`, the number of grid points per side, 1 to 1024. Default 32.
    pub grid_points: u64,
    /// `r₀`, the rate ratio of the null hypothesis; finite and > 0. Default 1 (equal event
    /// rates). With `r₀ = 1.1` and `Less` the process tests "the canary's rate is at least 10%
    /// above the baseline's", and rejecting it rules that regression out (early promotion).
    /// The grid is relative to it: the alternatives are `r₀ e^{δ_g}`.
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    pub null_rate_ratio: f64,
}

#[cfg(feature = "serde")]
fn one() -> f64 {
    1.0
}

impl Default for VaryingSplitEProcessConfig {
    fn default() -> VaryingSplitEProcessConfig {
        VaryingSplitEProcessConfig {
            alternative: Alternative::Greater,
            max_rate_ratio: 10.0,
            grid_points: 32,
            null_rate_ratio: 1.0,
        }
    }
}

impl VaryingSplitEProcessConfig {
    /// The defaults: one-sided `Greater`, rate ratios up to 10, 32 grid points.
    pub fn new() -> VaryingSplitEProcessConfig {
        VaryingSplitEProcessConfig::default()
    }

    /// Sets the alternative.
    pub fn alternative(mut self, alternative: Alternative) -> VaryingSplitEProcessConfig {
        self.alternative = alternative;
        self
    }

    /// Sets the largest rate ratio on the grid.
    pub fn max_rate_ratio(mut self, max_rate_ratio: f64) -> VaryingSplitEProcessConfig {
        self.max_rate_ratio = max_rate_ratio;
        self
    }

    /// Sets the number of grid points per side.
    pub fn grid_points(mut self, grid_points: u64) -> VaryingSplitEProcessConfig {
        self.grid_points = grid_points;
        self
    }

    /// Sets the rate ratio of the null hypothesis.
    pub fn null_rate_ratio(mut self, null_rate_ratio: f64) -> VaryingSplitEProcessConfig {
        self.null_rate_ratio = null_rate_ratio;
        self
    }

    fn validate(&self) -> Result<()> {
        if !(self.max_rate_ratio.is_finite() && self.max_rate_ratio > 1.0) {
            return Err(Error::InvalidParameter {
                field: "max_rate_ratio",
                value: self.max_rate_ratio,
                expected: "a finite number above 1",
            });
        }
        if !(self.null_rate_ratio.is_finite() && self.null_rate_ratio > 0.0) {
            return Err(Error::InvalidParameter {
                field: "null_rate_ratio",
                value: self.null_rate_ratio,
                expected: "a finite number above 0",
            });
        }
        if !(1..=MAX_GRID).contains(&self.grid_points) {
            return Err(Error::InvalidParameter {
                field: "grid_points",
                value: self.grid_points as f64,
                expected: "between 1 and 1024 grid points",
            });
        }
        Ok(())
    }

    /// The grid `δ_g` of log rate ratios: `g ln(RR_max) / G` for `g = 1..=G` on the side(s) of
    /// the alternative.
    fn grid(&self) -> Vec<f64> {
        let g = self.grid_points;
        let step = self.max_rate_ratio.ln() / g as f64;
        let up = (1..=g).map(|i| i as f64 * step);
        match self.alternative {
            Alternative::Greater => up.collect(),
            Alternative::Less => up.map(|d| -d).collect(),
            Alternative::TwoSided => up.flat_map(|d| [d, -d]).collect(),
        }
    }
}

/// The anytime-valid count test when the canary's share of traffic changes per interval (a
/// ramp from 1% to 5% to 25%, or load-balancer drift): "the canary's events per request are no
/// more frequent than the baseline's".
///
/// Under the null, given the `e_k` events of interval `k`, the canary's count is
/// Binomial(`e_k`, `ρ_k`) with `ρ_k` = canary requests / all requests of that interval. Under a
/// rate ratio `e^δ` the canary's probability is `θ_k(δ) = ρ_k e^δ / (ρ_k e^δ + 1 - ρ_k)`. (With
/// a null rate ratio `r₀ ≠ 1`, `ρ_k` is replaced by the null share `θ_k(ln r₀)` throughout, so
/// the process tests `RR = r₀` and, one-sided, `RR >= r₀` against `Less` or `RR <= r₀`
/// against `Greater`: the likelihood ratio of a Bernoulli alternative below the null share is
/// a supermartingale under every share above it.) The
/// e-value is the uniform mixture over a fixed grid `{δ_g}` of the likelihood ratios (notes
/// §3.2, "time-varying split"; a fixed-weight mixture of likelihood ratios is a test
/// martingale, so it is exactly valid):
///
/// `E_t = (1/G) Σ_g Π_k (θ_k,g/ρ_k)^{C_k} ((1-θ_k,g)/(1-ρ_k))^{B_k}`, and each factor's log
/// simplifies to `C_k δ_g - (C_k + B_k) ln(1 + ρ_k (e^{δ_g} - 1))`.
///
/// The state holds one log-accumulator per grid point, combined with log-sum-exp: O(G) per
/// interval. The grid is linear in `δ` from `ln(RR_max)/G` to `ln(RR_max)` (and its mirror for
/// `Less` / `TwoSided`); rate ratios beyond `RR_max` are still detected, at the power of the
/// last grid point.
///
/// Saved state (serde) is not trusted: loading recomputes the e-value from the per-grid
/// accumulators, so an edited e-value is refused, and checks their shape and the totals. The
/// accumulators and the running maximum depend on the path (each interval's split), so they
/// are only checked to be consistent.
///
/// # Example
/// ```
/// use canary_verdict::sequential::{EProcess, VaryingSplitEProcess, VaryingSplitEProcessConfig};
/// use canary_verdict::Arms;
/// let mut errors = VaryingSplitEProcess::new(VaryingSplitEProcessConfig::new())?;
/// // (canary errors, baseline errors, canary requests, baseline requests) as the ramp proceeds.
/// // The baseline errs on 0.05% of requests, the canary on 0.15%.
/// errors.update(
///     Arms {
///         baseline: 50,
///         canary: 2,
///     },
///     Arms {
///         baseline: 99_000,
///         canary: 1_000,
///     },
/// )?;
/// errors.update(
///     Arms {
///         baseline: 47,
///         canary: 8,
///     },
///     Arms {
///         baseline: 95_000,
///         canary: 5_000,
///     },
/// )?;
/// errors.update(
///     Arms {
///         baseline: 38,
///         canary: 37,
///     },
///     Arms {
///         baseline: 75_000,
///         canary: 25_000,
///     },
/// )?;
/// assert!(errors.rejects(0.05)?);
/// assert!(errors.rate_ratio_estimate() > 2.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SavedSplit"))]
pub struct VaryingSplitEProcess {
    config: VaryingSplitEProcessConfig,
    log_lr: Vec<f64>,
    canary_events: u64,
    baseline_events: u64,
    intervals: u64,
    log_e: f64,
    max_log_e: f64,
}

impl VaryingSplitEProcess {
    /// A fresh e-process (`E_0 = 1`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `max_rate_ratio` or `grid_points`.
    pub fn new(config: VaryingSplitEProcessConfig) -> Result<VaryingSplitEProcess> {
        config.validate()?;
        let n = config.grid().len();
        Ok(VaryingSplitEProcess {
            config,
            log_lr: vec![0.0; n],
            canary_events: 0,
            baseline_events: 0,
            intervals: 0,
            log_e: 0.0,
            max_log_e: 0.0,
        })
    }

    /// Adds one interval: each arm's events and its traffic (requests, or any exposure count)
    /// in that interval. An interval without events carries no information and only counts as
    /// an interval. The state is left unchanged when an error is returned.
    ///
    /// # Errors
    /// [`Error::InvalidCounts`] naming the field when a count exceeds 2^53, when events come
    /// from an arm that had no traffic, or when the running totals would exceed 2^53;
    /// [`Error::InvalidParameter`] when the (deserialized) configuration is invalid.
    pub fn update(&mut self, events: Arms<u64>, traffic: Arms<u64>) -> Result<()> {
        let Arms {
            baseline: baseline_events,
            canary: canary_events,
        } = events;
        let Arms {
            baseline: baseline_traffic,
            canary: canary_traffic,
        } = traffic;
        self.config.validate()?;
        let grid = self.config.grid();
        if grid.len() != self.log_lr.len() {
            return Err(Error::InvalidCounts {
                field: "grid_points",
                reason: format!(
                    "the state holds {} accumulators for a grid of {}",
                    self.log_lr.len(),
                    grid.len()
                ),
            });
        }
        check_count(canary_events, "canary_events")?;
        check_count(baseline_events, "baseline_events")?;
        check_count(canary_traffic, "canary_traffic")?;
        check_count(baseline_traffic, "baseline_traffic")?;
        for (field, events, traffic) in [
            ("canary_traffic", canary_events, canary_traffic),
            ("baseline_traffic", baseline_events, baseline_traffic),
        ] {
            if events > 0 && traffic == 0 {
                return Err(Error::InvalidCounts {
                    field,
                    reason: format!("{events} events from an arm with no traffic"),
                });
            }
        }
        let canary_total = self.canary_events + canary_events;
        let baseline_total = self.baseline_events + baseline_events;
        for (field, total) in [
            ("canary_events", canary_total),
            ("baseline_events", baseline_total),
        ] {
            check_count(total, field)?;
        }
        let mut log_lr = self.log_lr.clone();
        if canary_events + baseline_events > 0 {
            // The null share of events, `r₀ ρ_k / (r₀ ρ_k + 1 - ρ_k)` with `ρ_k` the traffic share.
            let canary_weight = self.config.null_rate_ratio * canary_traffic as f64;
            let rho = canary_weight / (canary_weight + baseline_traffic as f64);
            let (c, n) = (
                canary_events as f64,
                (canary_events + baseline_events) as f64,
            );
            for (l, &d) in log_lr.iter_mut().zip(&grid) {
                *l += c * d - n * (rho * d.exp_m1()).ln_1p();
            }
        }
        let log_e = log_mean_exp(&log_lr);
        self.log_lr = log_lr;
        self.canary_events = canary_total;
        self.baseline_events = baseline_total;
        self.intervals += 1;
        self.log_e = log_e;
        self.max_log_e = self.max_log_e.max(log_e);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &VaryingSplitEProcessConfig {
        &self.config
    }

    /// Number of intervals added.
    pub fn intervals(&self) -> u64 {
        self.intervals
    }

    /// The grid rate ratio `r₀ e^{δ_g}` with the largest likelihood so far (`r₀` before any
    /// event).
    pub fn rate_ratio_estimate(&self) -> f64 {
        let grid = self.config.grid();
        let mut best = (0.0, 0.0);
        for (&l, &d) in self.log_lr.iter().zip(&grid) {
            if l > best.0 {
                best = (l, d);
            }
        }
        self.config.null_rate_ratio * best.1.exp()
    }
}

/// `ln((1/G) Σ_g e^{l_g})`, by log-sum-exp.
fn log_mean_exp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    let sum: f64 = values.iter().map(|l| (l - max).exp()).sum();
    max + sum.ln() - (values.len() as f64).ln()
}

/// The serialized form of a [`VaryingSplitEProcess`], checked on load: saved state is not
/// trusted.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedSplit {
    config: VaryingSplitEProcessConfig,
    log_lr: Vec<f64>,
    canary_events: u64,
    baseline_events: u64,
    intervals: u64,
    log_e: f64,
    max_log_e: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<SavedSplit> for VaryingSplitEProcess {
    type Error = Error;

    /// One finite accumulator per grid point, all 0 before any event; totals within 2^53 and 0
    /// before any interval; ln E recomputed from the accumulators, bit for bit; the running
    /// maximum at least 0 and at least ln E. The accumulators themselves depend on the path
    /// (each interval's traffic split), so only their shape is checked.
    fn try_from(s: SavedSplit) -> Result<VaryingSplitEProcess> {
        s.config.validate()?;
        let grid = s.config.grid().len();
        if s.log_lr.len() != grid {
            return Err(Error::InvalidCounts {
                field: "log_lr",
                reason: format!("{} accumulators for a grid of {grid}", s.log_lr.len()),
            });
        }
        super::check_saved_totals(
            s.intervals,
            [
                ("canary_events", s.canary_events),
                ("baseline_events", s.baseline_events),
            ],
        )?;
        let no_events = s.canary_events == 0 && s.baseline_events == 0;
        if let Some(&l) = s
            .log_lr
            .iter()
            .find(|l| !l.is_finite() || (no_events && **l != 0.0))
        {
            return Err(Error::InvalidParameter {
                field: "log_lr",
                value: l,
                expected: "finite accumulators, all 0 before any event",
            });
        }
        let log_e = log_mean_exp(&s.log_lr);
        super::check_saved_log_e(
            log_e,
            s.log_e,
            s.max_log_e,
            "the log mean of the saved accumulators' e-values",
        )?;
        Ok(VaryingSplitEProcess {
            config: s.config,
            log_lr: s.log_lr,
            canary_events: s.canary_events,
            baseline_events: s.baseline_events,
            intervals: s.intervals,
            log_e,
            max_log_e: s.max_log_e,
        })
    }
}

impl EProcess for VaryingSplitEProcess {
    fn log_e_value(&self) -> f64 {
        self.log_e
    }

    fn max_log_e_value(&self) -> f64 {
        self.max_log_e
    }
}

impl fmt::Display for VaryingSplitEProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "varying-split count e-process ({}, rate ratios up to {}, {} grid points): {} canary vs {} baseline events in {} intervals, E = {}, p = {}, best grid rate ratio {}",
            self.config.alternative,
            fmt_g(self.config.max_rate_ratio),
            self.log_lr.len(),
            self.canary_events,
            self.baseline_events,
            self.intervals,
            fmt_g(self.e_value()),
            fmt_g(self.p_value()),
            fmt_g(self.rate_ratio_estimate())
        )
    }
}
