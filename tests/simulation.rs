//! Seeded simulations of whole canaries built to look like production metrics, judged with a
//! policy that sets only names, groups, kinds, directions, `critical` and `must_have_data`
//! (every other setting at the crate's default).
//!
//! The data-generating model (per canary, one hour, per-minute points with shared timestamps):
//! - latency-like gauges: `level · load_t · exp(cv · x_t) · effect`, with `x_t` a stationary
//!   AR(1) series of unit variance per arm (independent between arms, coefficient `phi`), a
//!   per-minute coefficient of variation `cv` drawn from 2%, 4% and 6%, and a load process
//!   `load_t` (a slow AR(0.97) drift of 10% scale plus a daily-cycle slope) that both arms share;
//! - counters: errors out of requests per minute, the request rate modulated by the same load,
//!   a base error rate of 0.5% (or 0 for "errors from zero");
//! - per-request samples (log-normal latencies, sigma 0.5) for the tail and spread scenarios and
//!   for thin data, clustered by minute with a per-minute factor shared by both arms.
//!
//! The suite runs reduced in `cargo test` (the counts below); the full run is
//! `CANARY_SIM_RUNS=2000 cargo test --release --all-features --test integration simulation --
//! --nocapture --test-threads 1`, which prints the README's table. Null scenarios assert a
//! false-rollback bound of `0.01 · runs + 3 binomial sd`; detection scenarios assert a fraction
//! with a margin of 3 binomial sd below the goal. The reduced run passed with every seed offset
//! `CANARY_SIM_SEED=1..20` (each offset moves every scenario's seed by 1000) as well as 0.

use crate::common::Rng;
use canary_verdict::Arms;
use canary_verdict::{
    judge, CanaryPolicy, Direction, MetricData, MetricPolicy, Point, Series, Verdict,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// Minutes per canary.
const MINUTES: usize = 60;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

/// The seed offset (`CANARY_SIM_SEED`, default 0) added to every scenario's seed: the
/// assertions' margins are checked across offsets, not tuned to one.
fn seed(base: u64) -> u64 {
    base + std::env::var("CANARY_SIM_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |k| k * 1000)
}

/// How many canaries a scenario judges: the reduced default, or `CANARY_SIM_RUNS`.
fn runs(default: usize) -> usize {
    std::env::var("CANARY_SIM_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What changed in the canary.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    /// Nothing: a healthy canary.
    None,
    /// Gauge 0 (latency, increase is harm) scaled by this factor.
    Latency(f64),
    /// Benign offsets of 1-3% on `k` of the gauges (either sign, direction of harm or not).
    Benign(usize),
    /// Counter 0's error rate multiplied.
    Errors(f64),
    /// Errors from zero: the baseline has none, the canary this many in the window.
    ErrorsFromZero(u64),
    /// A critical gauge (gauge 0, critical) scaled by this factor.
    Critical(f64),
    /// The must-have gauge 1 sends no canary data.
    MissingMustHave,
    /// Per-request samples: p99 up 30%, median unchanged.
    TailOnly,
    /// Per-request samples: spread doubled, median unchanged.
    Spread,
    /// Per-request latency scaled by this factor, with only `n` requests per arm.
    Thin(usize, f64),
    /// A throughput gauge (decrease is harm) scaled by this factor.
    Throughput(f64),
    /// An `either` gauge scaled by this factor.
    Either(f64),
    /// Per-request samples (10 000 per arm), identical arms, each arm with its own per-minute
    /// factor (host-level noise: a GC pause, a noisy neighbour) of this coefficient of variation.
    ArmMinutes(f64),
    /// The same as blocks of one minute ([`Series::Blocks`]), the canary's latency scaled by the
    /// second factor.
    ArmMinuteBlocks(f64, f64),
}

/// One simulated canary family.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    name: &'static str,
    gauges: usize,
    counters: usize,
    /// AR(1) coefficient of each arm's noise.
    phi: f64,
    /// Whether both arms share a drifting load process.
    drift: bool,
    /// Requests per arm over the window (counters).
    requests: f64,
    change: Change,
}

impl Scenario {
    fn null(name: &'static str, gauges: usize, counters: usize, phi: f64) -> Scenario {
        Scenario {
            name,
            gauges,
            counters,
            phi,
            drift: true,
            requests: 60_000.0,
            change: Change::None,
        }
    }

    fn with(self, name: &'static str, change: Change) -> Scenario {
        Scenario {
            name,
            change,
            ..self
        }
    }
}

/// Tally of verdicts.
#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    promote: usize,
    marginal: usize,
    rollback: usize,
    inconclusive: usize,
}

impl Tally {
    fn runs(&self) -> usize {
        self.promote + self.marginal + self.rollback + self.inconclusive
    }
    fn pct(&self, k: usize) -> f64 {
        100.0 * k as f64 / self.runs() as f64
    }
}

/// The shared load: a slow drift plus a slope, multiplicative, around 1.
fn load(rng: &mut Rng, drift: bool) -> Vec<f64> {
    if !drift {
        return vec![1.0; MINUTES];
    }
    let slope = 0.1 * rng.normal();
    rng.ar1(0.97, MINUTES)
        .iter()
        .enumerate()
        .map(|(t, x)| (0.1 * x + slope * t as f64 / MINUTES as f64).exp())
        .collect()
}

fn points(values: &[f64]) -> Series {
    Series::Points(
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Point {
                timestamp: t0() + Duration::minutes(i as i64),
                value,
            })
            .collect(),
    )
}

/// Per-request latencies of one arm, `n` in all, clustered by minute.
fn requests(rng: &mut Rng, minute_factor: &[f64], n: usize, scale: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let m = minute_factor[i * minute_factor.len() / n.max(1)];
            0.1 * scale * m * (sigma * rng.normal()).exp()
        })
        .collect()
}

fn policy(s: &Scenario) -> CanaryPolicy {
    let mut metrics = Vec::new();
    for j in 0..s.gauges {
        let direction = match (s.change, j) {
            (Change::Throughput(_), 0) => Direction::Decrease,
            (Change::Either(_), 0) => Direction::Either,
            _ if j % 5 == 4 => Direction::Decrease,
            _ => Direction::Increase,
        };
        let mut m = MetricPolicy::new(format!("g{j:02}"), direction);
        m.groups = vec![if j % 2 == 0 { "latency" } else { "saturation" }.into()];
        m.critical = matches!(s.change, Change::Critical(_)) && j == 0;
        m.must_have_data = j == 1;
        metrics.push(m);
    }
    for k in 0..s.counters {
        let mut m = MetricPolicy::counter(format!("c{k}"), Direction::Increase);
        m.groups = vec!["errors".into()];
        metrics.push(m);
    }
    if matches!(
        s.change,
        Change::TailOnly
            | Change::Spread
            | Change::Thin(..)
            | Change::ArmMinutes(_)
            | Change::ArmMinuteBlocks(..)
    ) {
        metrics.push(MetricPolicy::new("request_latency", Direction::Increase));
    }
    CanaryPolicy::new(metrics)
}

fn canary(rng: &mut Rng, s: &Scenario) -> Vec<MetricData> {
    let shared = load(rng, s.drift);
    let mut data = Vec::new();
    for j in 0..s.gauges {
        let level = 20.0 + 15.0 * j as f64;
        let cv = [0.02, 0.04, 0.06][j % 3];
        let mut effect = 1.0;
        match s.change {
            Change::Latency(f)
            | Change::Critical(f)
            | Change::Throughput(f)
            | Change::Either(f)
                if j == 0 =>
            {
                effect = f
            }
            Change::Benign(k) if j >= 2 && j < 2 + k => {
                let size = 0.01 + 0.02 * rng.uniform();
                effect = if rng.uniform() < 0.5 {
                    1.0 + size
                } else {
                    1.0 - size
                };
            }
            _ => {}
        }
        let arm = |rng: &mut Rng, f: f64| -> Vec<f64> {
            rng.ar1(s.phi, MINUTES)
                .iter()
                .zip(&shared)
                .map(|(x, l)| level * l * (cv * x).exp() * f)
                .collect()
        };
        let b = arm(rng, 1.0);
        let c = arm(rng, effect);
        if j == 1 && s.change == Change::MissingMustHave {
            data.push(MetricData::new(
                format!("g{j:02}"),
                Arms {
                    baseline: points(&b),
                    canary: points(&[]),
                },
            ));
            continue;
        }
        data.push(MetricData::new(
            format!("g{j:02}"),
            Arms {
                baseline: points(&b),
                canary: points(&c),
            },
        ));
    }
    for k in 0..s.counters {
        let (mut rate_b, mut rate_c) = (0.005, 0.005);
        if k == 0 {
            match s.change {
                Change::Errors(f) => rate_c *= f,
                Change::ErrorsFromZero(_) => {
                    rate_b = 0.0;
                    rate_c = 0.0;
                }
                _ => {}
            }
        }
        let per_minute = s.requests / MINUTES as f64;
        let total: f64 = shared.iter().sum();
        let arm = |rng: &mut Rng, rate: f64| -> Series {
            Series::counts(shared.iter().map(|l| {
                let n = (per_minute * l * MINUTES as f64 / total).round().max(1.0);
                let e = (rng.poisson(rate * n) as f64).min(n);
                (e, n)
            }))
        };
        let b = arm(rng, rate_b);
        let mut c = arm(rng, rate_c);
        if let (0, Change::ErrorsFromZero(extra), Series::Counts(cs)) = (k, s.change, &mut c) {
            for i in 0..extra as usize {
                let slot = &mut cs[i * MINUTES / extra.max(1) as usize];
                slot.events = (slot.events + 1.0).min(slot.trials);
            }
        }
        data.push(MetricData::new(
            format!("c{k}"),
            Arms {
                baseline: b,
                canary: c,
            },
        ));
    }
    let minute: Vec<f64> = shared
        .iter()
        .map(|l| l * (0.05 * rng.normal()).exp())
        .collect();
    match s.change {
        Change::TailOnly => {
            let b = requests(rng, &minute, 10_000, 1.0, 0.5);
            // The slowest 5% of canary requests stretched away from the p95: for a log-normal
            // with sigma 0.5, p99 = 1.406·p95, and stretching by 2.04 puts it at 1.3 times that
            // (p99 +30%), the median unchanged.
            let mut c = requests(rng, &minute, 10_000, 1.0, 0.5);
            let mut sorted = c.clone();
            sorted.sort_by(f64::total_cmp);
            let p95 = sorted[sorted.len() * 95 / 100];
            for v in &mut c {
                if *v > p95 {
                    *v = p95 + (*v - p95) * 2.04;
                }
            }
            data.push(MetricData::new(
                "request_latency",
                Arms {
                    baseline: Series::samples(b),
                    canary: Series::samples(c),
                },
            ));
        }
        Change::Spread => {
            let b = requests(rng, &minute, 10_000, 1.0, 0.3);
            let c = requests(rng, &minute, 10_000, 1.0, 0.6);
            data.push(MetricData::new(
                "request_latency",
                Arms {
                    baseline: Series::samples(b),
                    canary: Series::samples(c),
                },
            ));
        }
        Change::ArmMinutes(cv) => {
            let own = |rng: &mut Rng| -> Vec<f64> {
                minute
                    .iter()
                    .map(|m| m * (cv * rng.normal()).exp())
                    .collect()
            };
            let (mb, mc) = (own(rng), own(rng));
            let b = requests(rng, &mb, 10_000, 1.0, 0.5);
            let c = requests(rng, &mc, 10_000, 1.0, 0.5);
            data.push(MetricData::new(
                "request_latency",
                Arms {
                    baseline: Series::samples(b),
                    canary: Series::samples(c),
                },
            ));
        }
        Change::ArmMinuteBlocks(cv, f) => {
            let own = |rng: &mut Rng| -> Vec<f64> {
                minute
                    .iter()
                    .map(|m| m * (cv * rng.normal()).exp())
                    .collect()
            };
            let (mb, mc) = (own(rng), own(rng));
            let per = 10_000 / MINUTES;
            let arm = |rng: &mut Rng, m: &[f64], scale: f64| -> Series {
                Series::blocks(
                    m.iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let values = (0..per)
                                .map(|_| 0.1 * scale * f * (0.5 * rng.normal()).exp())
                                .collect();
                            (t0() + Duration::minutes(i as i64), values)
                        })
                        .collect::<Vec<_>>(),
                )
            };
            let b = arm(rng, &mb, 1.0);
            let c = arm(rng, &mc, f);
            data.push(MetricData::new(
                "request_latency",
                Arms {
                    baseline: b,
                    canary: c,
                },
            ));
        }
        Change::Thin(n, f) => {
            let b = requests(rng, &minute, n, 1.0, 0.5);
            let c = requests(rng, &minute, n, f, 0.5);
            data.push(MetricData::new(
                "request_latency",
                Arms {
                    baseline: Series::samples(b),
                    canary: Series::samples(c),
                },
            ));
        }
        _ => {}
    }
    data
}

fn run(s: &Scenario, seed: u64, n: usize) -> Tally {
    let policy = policy(s);
    let mut rng = Rng(self::seed(seed));
    let mut t = Tally::default();
    for _ in 0..n {
        let data = canary(&mut rng, s);
        match judge(&policy, &data).unwrap().verdict {
            Verdict::Promote => t.promote += 1,
            Verdict::Marginal => t.marginal += 1,
            Verdict::Rollback => t.rollback += 1,
            _ => t.inconclusive += 1,
        }
    }
    row(s.name, &t);
    t
}

/// Judges `n` canaries drawn in turn from `scenarios` (same policy shape) and prints one row.
fn run_mixed(name: &str, scenarios: &[Scenario], seed: u64, n: usize) -> Tally {
    let mut rng = Rng(self::seed(seed));
    let mut t = Tally::default();
    for i in 0..n {
        let s = &scenarios[i % scenarios.len()];
        let data = canary(&mut rng, s);
        match judge(&policy(s), &data).unwrap().verdict {
            Verdict::Promote => t.promote += 1,
            Verdict::Marginal => t.marginal += 1,
            Verdict::Rollback => t.rollback += 1,
            _ => t.inconclusive += 1,
        }
    }
    row(name, &t);
    t
}

fn row(name: &str, t: &Tally) {
    println!(
        "\n| {} | {} | {:.1}% | {:.1}% | {:.1}% | {:.1}% |",
        name,
        t.runs(),
        t.pct(t.rollback),
        t.pct(t.marginal),
        t.pct(t.promote),
        t.pct(t.inconclusive)
    );
}

/// At most `rate · runs + 3 sd` of the runs.
fn at_most(count: usize, rate: f64, runs: usize) -> bool {
    let n = runs as f64;
    count as f64 <= rate * n + 3.0 * (rate * (1.0 - rate) * n).sqrt() + 0.5
}

/// At least `rate · runs − 3 sd` of the runs.
fn at_least(count: usize, rate: f64, runs: usize) -> bool {
    let n = runs as f64;
    count as f64 >= rate * n - 3.0 * (rate * (1.0 - rate) * n).sqrt()
}

/// Failures collected across a test's scenarios, so that one run prints the whole table.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, ok: bool, what: String) {
        if !ok {
            self.0.push(what);
        }
    }
    fn finish(self) {
        assert!(self.0.is_empty(), "{}", self.0.join("\n"));
    }
}

fn base() -> Scenario {
    Scenario::null("", 16, 4, 0.0)
}

#[test]
fn sim_null_families_are_rarely_rolled_back() {
    let mut c = Checks::default();
    let n = runs(300);
    let families = [
        Scenario {
            drift: false,
            ..Scenario::null("independent noise, 20 metrics", 16, 4, 0.0)
        },
        Scenario::null("AR(1) 0.3 + shared drift, 20 metrics", 16, 4, 0.3),
        Scenario::null("AR(1) 0.5 + shared drift, 20 metrics", 16, 4, 0.5),
        Scenario::null("AR(1) 0.8 + shared drift, 20 metrics", 16, 4, 0.8),
        Scenario::null("AR(1) 0.3, 5 metrics", 4, 1, 0.3),
        Scenario::null("AR(1) 0.3, 60 metrics", 50, 10, 0.3),
        base().with("benign 1-3% offsets on 4 of 20", Change::Benign(4)),
        base().with(
            "per-request samples clustered by minute (shared), 21 metrics",
            Change::Thin(10_000, 1.0),
        ),
    ];
    for (k, s) in families.iter().enumerate() {
        let t = run(s, 100 + k as u64, n);
        c.check(
            at_most(t.rollback, 0.01, n),
            format!("{}: {} of {n} rolled back", s.name, t.rollback),
        );
        let marginal_goal = if s.phi >= 0.8 { 0.05 } else { 0.02 };
        c.check(
            at_most(t.marginal + t.inconclusive, marginal_goal, n),
            format!(
                "{}: {} of {n} marginal or inconclusive",
                s.name,
                t.marginal + t.inconclusive
            ),
        );
    }
    c.finish();
}

#[test]
fn sim_latency_regressions_roll_back() {
    let mut c = Checks::default();
    let n = runs(100);
    for (k, (f, goal)) in [(1.05, 0.0), (1.1, 0.55), (1.2, 0.95), (1.5, 1.0)]
        .into_iter()
        .enumerate()
    {
        let name = [
            "latency +5%",
            "latency +10%",
            "latency +20%",
            "latency +50%",
        ][k];
        let t = run(&base().with(name, Change::Latency(f)), 200 + k as u64, n);
        c.check(
            at_least(t.rollback, goal, n),
            format!("{name}: {} of {n}", t.rollback),
        );
    }
    // Decrease and either: the same rules on the other side.
    let t = run(
        &base().with("throughput -20% (decrease)", Change::Throughput(0.8)),
        210,
        n,
    );
    c.check(
        at_least(t.rollback, 0.95, n),
        format!("throughput: {}", t.rollback),
    );
    let t = run(&base().with("either, -20%", Change::Either(0.8)), 211, n);
    c.check(
        at_least(t.rollback, 0.95, n),
        format!("either: {}", t.rollback),
    );
    // Improvements never roll back.
    let t = run(
        &base().with("latency -20% (improvement)", Change::Latency(0.8)),
        212,
        n,
    );
    // Improvements never roll back on their own: what remains is the other metrics' null rate.
    c.check(
        at_most(t.rollback, 0.01, n),
        format!("an improvement: {} of {n} rolled back", t.rollback),
    );
    c.finish();
}

#[test]
fn sim_counters_thin_data_and_must_haves() {
    let mut c = Checks::default();
    let n = runs(100);
    let mut pooled = [0usize; 2];
    for (k, (f, requests)) in [
        (2.0, 1_000.0),
        (2.0, 100_000.0),
        (5.0, 1_000.0),
        (5.0, 100_000.0),
    ]
    .into_iter()
    .enumerate()
    {
        let name = [
            "errors x2, 1k requests",
            "errors x2, 100k requests",
            "errors x5, 1k requests",
            "errors x5, 100k requests",
        ][k];
        let s = Scenario {
            requests,
            ..base().with(name, Change::Errors(f))
        };
        let t = run(&s, 300 + k as u64, n);
        pooled[k / 2] += t.rollback;
        if requests == 100_000.0 {
            c.check(
                at_least(t.rollback, 1.0, n),
                format!("{name}: {}", t.rollback),
            );
        }
    }
    c.check(
        at_least(pooled[0], 0.52, 2 * n),
        format!("x2 pooled {}", pooled[0]),
    );
    c.check(
        at_least(pooled[1], 0.72, 2 * n),
        format!("x5 pooled {}", pooled[1]),
    );
    // Errors from zero and thin data: each canary draws its count (3, 5 or 10 errors; 3, 5, 10
    // or 20 requests per arm) in turn. With 20 metrics an error counter's alpha share (0.01/20)
    // is below the smallest p-value of 10 events (2^-10), so it cannot roll back: the table
    // shows both sizes, the goals are asserted on the 5-metric policy.
    for (gauges, counters, label) in [(4, 1, "5 metrics"), (16, 4, "20 metrics")] {
        let from_zero: Vec<Scenario> = [3u64, 5, 10]
            .into_iter()
            .map(|extra| Scenario {
                requests: 10_000.0,
                ..Scenario::null("", gauges, counters, 0.0).with("", Change::ErrorsFromZero(extra))
            })
            .collect();
        let t = run_mixed(
            &format!("errors from zero (3-10), {label}"),
            &from_zero,
            310,
            n,
        );
        if gauges == 4 {
            c.check(at_least(t.rollback, 0.2, n), format!("from zero {t:?}"));
        }
        c.check(
            at_most(t.promote, 0.05, n),
            format!("from zero, {label}: {t:?}"),
        );
        let thin: Vec<Scenario> = [3usize, 5, 10, 20]
            .into_iter()
            .map(|m| Scenario::null("", gauges, counters, 0.0).with("", Change::Thin(m, 1.5)))
            .collect();
        // The goal of 38% rolled back is not met on this model (log-normal latencies
        // with sigma 0.5): 3 and 5 requests per arm cannot reach the alpha share at all, and
        // 10 or 20 reach it rarely. What holds, and is asserted: such a canary is not promoted.
        let t = run_mixed(
            &format!("3-20 requests per arm, latency +50%, {label}"),
            &thin,
            320,
            n,
        );
        c.check(at_most(t.promote, 0.05, n), format!("thin, {label}: {t:?}"));
    }
    let t = run(
        &Scenario::null("", 30, 0, 0.3).with("critical +15% among 30", Change::Critical(1.15)),
        330,
        n,
    );
    c.check(
        at_least(t.rollback, 0.92, n),
        format!("critical {}", t.rollback),
    );
    let t = run(
        &base().with("missing must-have metric", Change::MissingMustHave),
        331,
        n,
    );
    c.check(t.rollback == n, format!("missing must-have {t:?}"));
    c.finish();
}

#[test]
fn sim_requests_with_their_own_minute_noise() {
    // Raw samples carry no time, so requests that share an arm-specific minute effect are
    // counted as independent: reported, and bounded only where the tolerance absorbs it. The
    // same requests in blocks of one minute (`Series::Blocks`) are compared within their
    // minute, and the stratified test counts minutes, not requests, as independent.
    let n = runs(100);
    for (k, (cv, name)) in [
        (
            0.05,
            "per-request samples, each arm its own 5% minute noise (not corrected)",
        ),
        (
            0.15,
            "per-request samples, each arm its own 15% minute noise (not corrected)",
        ),
        (
            0.3,
            "per-request samples, each arm its own 30% minute noise (not corrected)",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let t = run(
            &base().with(name, Change::ArmMinutes(cv)),
            500 + k as u64,
            n,
        );
        // The ±5% tolerance absorbs a 5% minute noise; not asserted beyond that.
        if cv <= 0.05 {
            assert!(at_most(t.rollback, 0.01, n), "{name}: {t:?}");
        }
    }
    for (k, (cv, name)) in [
        (
            0.15,
            "per-request blocks by minute, each arm its own 15% minute noise",
        ),
        (
            0.3,
            "per-request blocks by minute, each arm its own 30% minute noise",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let t = run(
            &base().with(name, Change::ArmMinuteBlocks(cv, 1.0)),
            510 + k as u64,
            n,
        );
        assert!(at_most(t.rollback, 0.01, n), "{name}: {t:?}");
    }
    let t = run(
        &base().with(
            "per-request blocks by minute, 15% arm minute noise, latency +20%",
            Change::ArmMinuteBlocks(0.15, 1.2),
        ),
        520,
        n,
    );
    assert!(at_least(t.rollback, 0.9, n), "blocks +20%: {t:?}");
}

#[test]
fn sim_tails_and_spread() {
    let mut c = Checks::default();
    let n = runs(100);
    let t = run(
        &base().with("tail only: p99 +30%", Change::TailOnly),
        400,
        n,
    );
    c.check(at_least(t.rollback, 0.5, n), format!("tail {t:?}"));
    let t = run(&base().with("spread doubled", Change::Spread), 401, n);
    c.check(at_least(t.rollback, 0.75, n), format!("spread {t:?}"));
    c.finish();
}
