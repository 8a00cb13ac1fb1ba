//! Seeded simulations of the recommended progressive configuration
//! (`ProgressivePolicy::recommended`: the sequential rule at the judge's alpha 0.01), on canaries
//! built to look like production metrics: per-minute points (10 per interval, timestamped, so
//! the arms are paired by minute), per-request samples (20 per minute and arm), and an error
//! counter, all under a shared load process (AR(1) in the log, phi 0.9, plus a slow ramp) that
//! moves both arms together, with each arm's own per-minute noise AR(1) with a chosen phi.
//!
//! The reduced run (always, in `cargo test`) asserts the issue-12 goals with stated binomial
//! margins; `CANARY_SIM_FULL=1` runs every family with more canaries and prints the README's
//! table:
//!
//! ```text
//! CANARY_SIM_FULL=1 cargo test --release --all-features --test integration progressive_sim -- --nocapture
//! ```
//!
//! The assertions were checked once across 20 other seeds (`1000 s + k` for `s` in 1..=20, in
//! place of the fixed `1200 + k` here) at the reduced run sizes; every one held. Worst cases: 5
//! of 600 identical canaries rolled back (bound 13.3); 295 of 300 bursts caught (need 285), 3
//! rolled back before the burst (bound 8.2), mean delay 1.55 intervals; per-request regressions
//! 200 of 200 at a mean interval of at most 1.005; +50% at lifetime 3: 200 of 200 at interval 1;
//! improvements: none rolled back.

use canary_verdict::Arms;
use canary_verdict::{
    CanaryPolicy, Decision, Direction, MetricData, MetricPolicy, ProgressiveAnalysis,
    ProgressivePolicy, Series,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::common::Rng;

/// Minutes per interval.
const MINUTES: usize = 10;
/// Requests sampled per minute and arm (the per-request metric).
const REQUESTS: usize = 20;

/// What the canary does, interval by interval (intervals from 1).
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Phi of each arm's own per-minute noise (the shared load is separate).
    pub phi: f64,
    /// The canary's factor on the per-minute latency points, from `from` on.
    pub points: f64,
    /// The canary's factor on the per-request latencies.
    pub requests: f64,
    /// The canary's factor on the error rate.
    pub errors: f64,
    /// The interval the change starts at.
    pub from: u64,
}

impl Scenario {
    pub const NULL: Scenario = Scenario {
        phi: 0.0,
        points: 1.0,
        requests: 1.0,
        errors: 1.0,
        from: 1,
    };
}

/// The processes of one canary: the shared load and each arm's own noise, carried across
/// intervals.
struct World {
    load: f64,
    minute: i64,
    noise: [f64; 2],
}

/// The stationary sd of each arm's own per-minute noise (log scale).
const ARM_SD: f64 = 0.05;

impl World {
    fn new(rng: &mut Rng) -> World {
        World {
            load: 0.1 * rng.normal(),
            minute: 0,
            noise: [ARM_SD * rng.normal(), ARM_SD * rng.normal()],
        }
    }

    /// One interval's data of the three metrics.
    fn interval(&mut self, rng: &mut Rng, s: &Scenario, k: u64) -> Vec<MetricData> {
        let on = k >= s.from;
        let f = |x: f64| if on { x } else { 1.0 };
        let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (mut pb, mut pc) = (Vec::new(), Vec::new());
        let (mut rb, mut rc) = (Vec::new(), Vec::new());
        let innovation = ARM_SD * (1.0 - s.phi * s.phi).sqrt();
        let mut load_sum = 0.0;
        for _ in 0..MINUTES {
            // Shared load: AR(1) in the log with phi 0.9 and a ramp of 0.2% per minute.
            self.load = 0.9 * self.load + 0.1 * (1.0 - 0.81f64).sqrt() * rng.normal();
            let level = self.load + 0.002 * self.minute as f64;
            load_sum += level;
            for a in 0..2 {
                self.noise[a] = s.phi * self.noise[a] + innovation * rng.normal();
            }
            let ts = t0 + Duration::minutes(self.minute);
            pb.push((ts, 100.0 * (level + self.noise[0]).exp()));
            pc.push((ts, 100.0 * f(s.points) * (level + self.noise[1]).exp()));
            for _ in 0..REQUESTS {
                rb.push(80.0 * (level + 0.4 * rng.normal()).exp());
                rc.push(80.0 * f(s.requests) * (level + 0.4 * rng.normal()).exp());
            }
            self.minute += 1;
        }
        // Errors: 10 000 requests per arm and interval, 0.5% failing, more under load.
        let rate = 0.005 * (load_sum / MINUTES as f64).exp();
        let (tb, tc) = (rng.poisson(10_000.0), rng.poisson(10_000.0));
        let eb = rng.poisson(tb as f64 * rate);
        let ec = rng.poisson(tc as f64 * rate * f(s.errors));
        vec![
            MetricData::new(
                "errors",
                Arms {
                    baseline: Series::total(eb as f64, tb as f64),
                    canary: Series::total(ec as f64, tc as f64),
                },
            ),
            MetricData::new(
                "latency_p50",
                Arms {
                    baseline: Series::points(pb),
                    canary: Series::points(pc),
                },
            ),
            MetricData::new(
                "request_ms",
                Arms {
                    baseline: Series::samples(rb),
                    canary: Series::samples(rc),
                },
            ),
        ]
    }
}

/// The recommended configuration over the three metrics.
pub fn policy(lifetime: u64) -> ProgressivePolicy {
    ProgressivePolicy::recommended(
        CanaryPolicy::new(vec![
            MetricPolicy::counter("errors", Direction::Increase),
            MetricPolicy::new("latency_p50", Direction::Increase),
            MetricPolicy::new("request_ms", Direction::Increase),
        ]),
        lifetime,
    )
}

/// Runs one canary to its final decision; returns it and the interval it came at.
pub fn run(policy: &ProgressivePolicy, rng: &mut Rng, s: &Scenario) -> (Decision, u64) {
    let mut a = ProgressiveAnalysis::new(policy.clone()).unwrap();
    let mut world = World::new(rng);
    for k in 1..=policy.lifetime {
        let d = a.update(&world.interval(rng, s, k)).unwrap();
        if d.is_final() {
            return (d, k);
        }
    }
    panic!("no final decision at the end of the lifetime");
}

/// Tallies of one family.
pub struct Tally {
    pub runs: usize,
    pub rollbacks: usize,
    pub promotions: usize,
    /// Rollback intervals.
    pub at: Vec<u64>,
}

impl Tally {
    pub fn rate(&self) -> f64 {
        self.rollbacks as f64 / self.runs as f64
    }

    pub fn mean_at(&self) -> f64 {
        self.at.iter().sum::<u64>() as f64 / self.at.len().max(1) as f64
    }
}

pub fn family(runs: usize, seed: u64, lifetime: u64, s: Scenario) -> Tally {
    let p = policy(lifetime);
    let mut rng = Rng(seed);
    let mut t = Tally {
        runs,
        rollbacks: 0,
        promotions: 0,
        at: Vec::new(),
    };
    for _ in 0..runs {
        let (d, k) = run(&p, &mut rng, &s);
        match d {
            Decision::Rollback => {
                t.rollbacks += 1;
                t.at.push(k);
            }
            Decision::Promote => t.promotions += 1,
            _ => {}
        }
    }
    t
}

fn full() -> bool {
    std::env::var_os("CANARY_SIM_FULL").is_some()
}

/// `alpha runs + 3 sd` of a binomial at `alpha`, as a count.
fn null_bound(alpha: f64, runs: usize) -> f64 {
    let n = runs as f64;
    alpha * n + 3.0 * (n * alpha * (1.0 - alpha)).sqrt()
}

#[test]
fn sim_identical_arms_over_10_looks_roll_back_at_most_alpha() {
    // The recommended rule at alpha 0.01 over 10 looks: errors, per-minute points and
    // per-request samples, shared load with drift, independent arm noise.
    let runs = if full() { 2000 } else { 600 };
    let t = family(runs, 1201, 10, Scenario::NULL);
    println!(
        "null, 10 looks: {} of {runs} rolled back, {} promoted",
        t.rollbacks, t.promotions
    );
    assert!(
        (t.rollbacks as f64) <= null_bound(0.01, runs),
        "{} of {runs}",
        t.rollbacks
    );
}

#[test]
fn sim_latency_regression_rolls_back_at_once() {
    // Per-request latency +30% from the first interval, lifetime 10: every canary rolled back,
    // the mean decision interval at most 1.3.
    let runs = if full() { 1000 } else { 200 };
    let s = Scenario {
        requests: 1.3,
        ..Scenario::NULL
    };
    let t = family(runs, 1202, 10, s);
    println!(
        "latency +30% (requests), 10 looks: {} of {runs} rolled back, mean interval {:.2}",
        t.rollbacks,
        t.mean_at()
    );
    assert_eq!(t.rollbacks, runs);
    assert!(t.mean_at() <= 1.3, "{}", t.mean_at());
}

#[test]
fn sim_latency_plus_50_in_a_3_interval_canary_rolls_back_at_interval_1() {
    // The issue's case: one latency metric (per-minute points) +50%, lifetime 3.
    let runs = if full() { 1000 } else { 200 };
    let s = Scenario {
        points: 1.5,
        ..Scenario::NULL
    };
    let t = family(runs, 1203, 3, s);
    println!(
        "latency_p50 +50%, 3 looks: {} of {runs} rolled back, at interval 1: {}",
        t.rollbacks,
        t.at.iter().filter(|&&k| k == 1).count()
    );
    assert_eq!(t.rollbacks, runs);
    assert!(t.at.iter().all(|&k| k == 1), "{:?}", t.at);
}

#[test]
fn sim_error_burst_from_interval_6_is_caught_promptly() {
    // Errors x3 from interval 6 of 10, under the recommended configuration unchanged.
    let runs = if full() { 1000 } else { 300 };
    let s = Scenario {
        errors: 3.0,
        from: 6,
        ..Scenario::NULL
    };
    let t = family(runs, 1204, 10, s);
    let before = t.at.iter().filter(|&&k| k < 6).count();
    let caught: Vec<u64> = t.at.iter().copied().filter(|&k| k >= 6).collect();
    // Delay: intervals of the burst seen when rolled back (1 = at interval 6 itself).
    let mean_delay = caught.iter().map(|k| k - 5).sum::<u64>() as f64 / caught.len().max(1) as f64;
    println!(
        "error burst x3 from interval 6 of 10: {} of {runs} caught, {before} rolled back before it, mean delay {mean_delay:.2} intervals",
        caught.len()
    );
    // At least 95% caught (the 20-seed check found 295 to 300 of 300); rollbacks before the
    // burst are false rollbacks of a healthy canary, bounded as the null is.
    assert!(
        caught.len() as f64 >= 0.95 * runs as f64,
        "{}",
        caught.len()
    );
    assert!((before as f64) <= null_bound(0.01, runs), "{before}");
    assert!(mean_delay <= 2.0, "{mean_delay}");
}

#[test]
fn sim_table_and_improvements_never_roll_back() {
    // A canary 20% faster on both latency metrics with half the errors: never rolled back.
    // With CANARY_SIM_FULL set, also prints every family of the README's table.
    let runs = if full() { 1000 } else { 100 };
    let t = family(runs, 1205, 10, BETTER);
    assert_eq!(t.rollbacks, 0);
    if full() {
        table(runs);
    }
}

/// The canary with every metric better: latency -20%, errors halved.
const BETTER: Scenario = Scenario {
    phi: 0.0,
    points: 0.8,
    requests: 0.8,
    errors: 0.5,
    from: 1,
};

/// Prints the README's table, `runs` canaries per family.
pub fn table(runs: usize) {
    let better = BETTER;
    println!("| family (recommended policy, alpha 0.01) | lifetime | canaries | rolled back | promoted | mean rollback interval |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, lifetime: u64, seed: u64, s: Scenario| {
        let t = family(runs, seed, lifetime, s);
        println!(
            "| {name} | {lifetime} | {runs} | {} ({:.1}%) | {} | {} |",
            t.rollbacks,
            100.0 * t.rate(),
            t.promotions,
            if t.at.is_empty() {
                "-".to_string()
            } else {
                format!("{:.2}", t.mean_at())
            }
        );
    };
    row("improvement (latency -20%, errors x0.5)", 10, 1205, better);
    for (phi, seed) in [(0.0, 1301), (0.3, 1302), (0.5, 1303), (0.8, 1304)] {
        row(
            &format!("identical arms, arm noise AR(1) phi {phi}"),
            10,
            seed,
            Scenario {
                phi,
                ..Scenario::NULL
            },
        );
    }
    for (f, seed) in [(1.05, 1311), (1.1, 1312), (1.2, 1313), (1.5, 1314)] {
        row(
            &format!("per-minute latency x{f}"),
            10,
            seed,
            Scenario {
                points: f,
                ..Scenario::NULL
            },
        );
    }
    for (f, seed) in [(1.05, 1321), (1.1, 1322), (1.3, 1323)] {
        row(
            &format!("per-request latency x{f}"),
            10,
            seed,
            Scenario {
                requests: f,
                ..Scenario::NULL
            },
        );
    }
    row(
        "per-minute latency x1.5, lifetime 3",
        3,
        1331,
        Scenario {
            points: 1.5,
            ..Scenario::NULL
        },
    );
    for (f, seed) in [(1.5, 1341), (2.0, 1342), (3.0, 1343)] {
        row(
            &format!("errors x{f}"),
            10,
            seed,
            Scenario {
                errors: f,
                ..Scenario::NULL
            },
        );
    }
    row(
        "errors x3 from interval 6",
        10,
        1351,
        Scenario {
            errors: 3.0,
            from: 6,
            ..Scenario::NULL
        },
    );
}
