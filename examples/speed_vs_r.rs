//! Times this crate's rank-sum test plus Hodges-Lehmann estimate and 98% interval on data files
//! written by `scripts/speed_vs_r_scipy.sh`, for the side-by-side table against R and SciPy.
//!
//! ```text
//! cargo run --release --example speed_vs_r -- <dir> 1000 10000 100000
//! ```
//!
//! Reads `<dir>/baseline_<n>.f64` and `<dir>/canary_<n>.f64` (little-endian f64) for each size,
//! then prints `n seconds` per size: the fastest of 15 timed runs from the raw slices
//! (sorting included), excluding the file reading. Not part of CI: without arguments it prints
//! its usage and exits.

use canary_verdict::stats::{Alternative, MannWhitneyConfig, Method, TwoSample};
use canary_verdict::Arms;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

fn read(path: &str) -> Result<Vec<f64>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect())
}

/// What R's `wilcox.test(canary, baseline, conf.int = TRUE, conf.level = 0.98)` computes.
fn run(baseline: &[f64], canary: &[f64]) -> Result<(f64, f64), canary_verdict::Error> {
    let two = TwoSample::new(Arms { baseline, canary })?;
    let test = two.mann_whitney(&MannWhitneyConfig::default())?;
    let shift = two.hodges_lehmann(&MannWhitneyConfig {
        conf_level: 0.98,
        alternative: Alternative::TwoSided,
        correct: true,
        method: Method::Auto,
        ..Default::default()
    })?;
    Ok((test.p_value, shift.estimate))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((dir, sizes)) = args.split_first() else {
        eprintln!("usage: speed_vs_r <dir> <n>...  (see scripts/speed_vs_r_scipy.sh)");
        return ExitCode::from(2);
    };
    for n in sizes {
        let (baseline, canary) = match (
            read(&format!("{dir}/baseline_{n}.f64")),
            read(&format!("{dir}/canary_{n}.f64")),
        ) {
            (Ok(b), Ok(c)) => (b, c),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let mut times = Vec::new();
        let mut last = (0.0, 0.0);
        while times.len() < 15 {
            let start = Instant::now();
            match run(black_box(&baseline), black_box(&canary)) {
                Ok(r) => last = black_box(r),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
            times.push(start.elapsed().as_secs_f64());
        }
        let fastest = times.iter().copied().fold(f64::INFINITY, f64::min);
        println!("{n} {fastest:.9} p={:.6e} hl={:.6}", last.0, last.1);
    }
    ExitCode::SUCCESS
}
