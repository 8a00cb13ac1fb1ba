//! A CI gate on criterion's saved baselines: every benchmark's `new` run judged against its
//! `base` run, with Holm across benchmarks.
//!
//! ```sh
//! cargo bench -- --save-baseline base        # on the main branch
//! cargo bench -- --save-baseline new         # on the change
//! cargo run --example bench_gate -- target/criterion base new
//! ```
//!
//! Prints the verdict table and exits 0 (no confident regression), 1 (inconclusive: a benchmark
//! too noisy or too short to tell) or 2 (a confident regression beyond the tolerance), 4 on bad
//! input. `--tolerance 0.05` sets the allowed slowdown (default +5%); `--aa NAME` names a
//! second run of the base code (`cargo bench -- --save-baseline NAME` on the base branch
//! again): the gate then measures how much two runs of the same code differ on this machine
//! (`RunSpread`) and raises the tolerance to the slowdown that drift alone exceeds in 1% of
//! benchmarks; `--markdown` prints the report for a pull request; `--inject-slowdown 0.1`
//! multiplies every `new` time by 1.1, to measure what the gate catches at these sample sizes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use canary_verdict::bench::{gate_data, gate_policy, read_benchmark_id, read_sample, RunSpread};
use canary_verdict::{judge, Arms, Verdict};

/// The false-failure rate per benchmark that `--aa` calibrates the tolerance to.
const FALSE_FAILURE_RATE: f64 = 0.01;

/// Every folder under `root` that holds both baselines' `sample.json`.
fn benchmark_dirs(root: &Path, base: &str, new: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    if root.join(base).join("sample.json").is_file() && root.join(new).join("sample.json").is_file()
    {
        out.push(root.to_path_buf());
    }
    for d in dirs {
        benchmark_dirs(&d, base, new, out);
    }
}

fn run(args: &[String]) -> Result<Verdict, String> {
    let positional: Vec<&String> = {
        let mut v = Vec::new();
        let mut skip = false;
        for a in args {
            if skip {
                skip = false;
            } else if a == "--tolerance" || a == "--inject-slowdown" || a == "--aa" {
                skip = true;
            } else if !a.starts_with("--") {
                v.push(a);
            }
        }
        v
    };
    let [root, base, new] = positional.as_slice() else {
        return Err("usage: bench_gate <criterion folder> <base name> <new name> [--tolerance 0.05] [--aa <second base name>] [--markdown] [--inject-slowdown X]".into());
    };
    let flag = |name: &str, default: f64| -> Result<f64, String> {
        match args.iter().position(|a| a == name) {
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or(format!("{name} needs a number")),
            None => Ok(default),
        }
    };
    let mut tolerance = flag("--tolerance", 0.05)?;
    let slowdown = flag("--inject-slowdown", 0.0)?;
    let aa = match args.iter().position(|a| a == "--aa") {
        Some(i) => Some(
            args.get(i + 1)
                .ok_or("--aa needs a baseline name")?
                .as_str(),
        ),
        None => None,
    };
    let mut dirs = Vec::new();
    benchmark_dirs(Path::new(root.as_str()), base, new, &mut dirs);
    if dirs.is_empty() {
        return Err(format!(
            "no benchmark under {root} has both {base} and {new}"
        ));
    }
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
    let (mut ids, mut data, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
    for d in &dirs {
        let id =
            read_benchmark_id(&read(d.join(new).join("benchmark.json"))?).unwrap_or_else(|_| {
                d.strip_prefix(root.as_str())
                    .unwrap_or(d)
                    .display()
                    .to_string()
            });
        let b = read_sample(&read(d.join(base).join("sample.json"))?)
            .map_err(|e| format!("{id}: {e}"))?;
        let mut n = read_sample(&read(d.join(new).join("sample.json"))?)
            .map_err(|e| format!("{id}: {e}"))?;
        n.iter_mut().for_each(|t| *t *= 1.0 + slowdown);
        data.push(gate_data(&id, &b, &n));
        if let Some(aa) = aa {
            let again = read_sample(&read(d.join(aa).join("sample.json"))?)
                .map_err(|e| format!("{id}: {e}"))?;
            pairs.push((id.clone(), b, again));
        }
        ids.push(id);
    }
    let mut calibration = String::new();
    if let Some(aa) = aa {
        let runs: Vec<(&str, Arms<&[f64]>)> = pairs
            .iter()
            .map(|(id, b, again)| {
                (
                    id.as_str(),
                    Arms {
                        baseline: &b[..],
                        canary: &again[..],
                    },
                )
            })
            .collect();
        let spread = RunSpread::measure(&runs).map_err(|e| e.to_string())?;
        let margin = spread
            .margin(FALSE_FAILURE_RATE)
            .map_err(|e| e.to_string())?;
        calibration = format!(
            "run-to-run spread ({base} against {aa}, {} benchmarks): {:.1}% rms; drift alone exceeds +{:.1}% in {}% of benchmarks",
            spread.benchmarks,
            spread.rms_log_ratio * 100.0,
            margin * 100.0,
            FALSE_FAILURE_RATE * 100.0
        );
        tolerance = tolerance.max(margin);
    }
    let policy = gate_policy(&ids, tolerance);
    let judgment = judge(&policy, &data).map_err(|e| e.to_string())?;
    if args.iter().any(|a| a == "--markdown") {
        print!("{}", judgment.to_markdown());
        if !calibration.is_empty() {
            println!("\n{calibration}");
        }
    } else {
        if !calibration.is_empty() {
            println!("{calibration}");
        }
        println!(
            "{} benchmarks, {base} -> {new}, tolerance +{:.1}%",
            ids.len(),
            tolerance * 100.0
        );
        println!("{judgment}");
    }
    Ok(judgment.verdict)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(Verdict::Promote) => ExitCode::from(0),
        Ok(Verdict::Rollback) => ExitCode::from(2),
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(4)
        }
    }
}
