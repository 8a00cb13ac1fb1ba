//! The benches' data, shared with `examples/instructions.rs` so that instruction counts under
//! callgrind measure exactly what the benches time.

use canary_verdict::Arms;
use canary_verdict::{CanaryPolicy, Direction, MetricData, MetricPolicy, Series};

/// SplitMix64 uniforms in [0, 1): deterministic, no RNG dependency.
fn uniforms(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Log-normal-ish latencies (Box-Muller) for the rank bench.
pub fn latencies(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut next = uniforms(seed);
    (0..n)
        .map(|_| {
            let (u1, u2) = (next().max(1e-300), next());
            let g = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            scale * (0.5 * g).exp()
        })
        .collect()
}

/// The judge bench's request: 50 continuous metrics × 10 000 points per arm.
pub fn judge_request() -> (CanaryPolicy, Vec<MetricData>) {
    judge_request_sized(50, 10_000)
}

/// A judge request of `metrics` continuous metrics × `points` per arm (Rayleigh-like values, the
/// canary 1% larger).
pub fn judge_request_sized(metrics_n: usize, points: usize) -> (CanaryPolicy, Vec<MetricData>) {
    let mut uniform = uniforms(7);
    let mut metrics = Vec::new();
    let mut data = Vec::new();
    for i in 0..metrics_n {
        let name = format!("metric_{i:03}");
        metrics.push(MetricPolicy::new(name.clone(), Direction::Increase));
        let mut arm = |scale: f64| -> Vec<f64> {
            (0..points)
                .map(|_| scale * (-(uniform().max(1e-300)).ln()).sqrt())
                .collect()
        };
        let (b, c) = (arm(100.0), arm(101.0));
        data.push(MetricData::new(
            name,
            Arms {
                baseline: Series::samples(b),
                canary: Series::samples(c),
            },
        ));
    }
    (CanaryPolicy::new(metrics), data)
}

/// The judge's floor: sorting a copy of every arm of every metric.
pub fn sort_every_arm(data: &[MetricData]) {
    for d in data {
        for s in [&d.baseline, &d.canary] {
            if let Series::Samples(v) = s {
                std::hint::black_box(sort_floor(v));
            }
        }
    }
}

/// The sort floor: sorting a copy of `values` with the standard library's unstable sort.
pub fn sort_floor(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// The wall-clock ratio of `work` to `floor`, each the minimum of `rounds` interleaved runs
/// (floor, work, floor, work, ...), so that both see the same machine. Returns
/// `(floor_seconds, work_seconds)`.
pub fn interleaved_min(
    rounds: usize,
    floor: &mut dyn FnMut(),
    work: &mut dyn FnMut(),
) -> (f64, f64) {
    let time = |f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    let (mut best_floor, mut best_work) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds.max(1) {
        best_floor = best_floor.min(time(floor));
        best_work = best_work.min(time(work));
    }
    (best_floor, best_work)
}

/// The machine's load averages (1, 5, 15 minutes) as Linux reports them, for the figures' record;
/// "unknown" elsewhere.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// True when the bench binary runs as a benchmark (`cargo bench`), not as a test
/// (`cargo test --benches`, which passes no `--bench`).
pub fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}
