//! Shared helpers for the integration tests: fixture loading and tolerance checks.

use serde_json::Value;
use std::path::PathBuf;

/// Path of a file under `fixtures/`.
pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// Loads a reference file (`fixtures/reference/NAME.json`) and returns its `cases` array.
pub fn load_cases(name: &str) -> Vec<Value> {
    let path = fixture_path(&format!("reference/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    doc["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{} has no cases array", path.display()))
        .clone()
}

/// Reads a JSON number, accepting the strings "Inf", "-Inf" and "NaN" that the generators write
/// for non-finite values.
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("number"),
        Value::String(s) => match s.as_str() {
            "Inf" | "inf" | "Infinity" => f64::INFINITY,
            "-Inf" | "-inf" | "-Infinity" => f64::NEG_INFINITY,
            "NaN" | "nan" | "NA" => f64::NAN,
            other => panic!("not a number: {other}"),
        },
        other => panic!("not a number: {other}"),
    }
}

/// Reads a JSON array of numbers.
pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(num)
        .collect()
}

/// Whether `actual` is within `rel` relative or `abs` absolute of `expected` (infinities must
/// match exactly, NaN only matches NaN).
pub fn close(actual: f64, expected: f64, rel: f64, abs: f64) -> bool {
    if expected.is_nan() || actual.is_nan() {
        return expected.is_nan() && actual.is_nan();
    }
    if expected.is_infinite() || actual.is_infinite() {
        return actual == expected;
    }
    let diff = (actual - expected).abs();
    diff <= abs || diff <= rel * expected.abs()
}

/// Collects failures instead of stopping at the first, so one run reports every broken case.
#[derive(Default)]
pub struct Report {
    pub checked: usize,
    pub failures: Vec<String>,
}

impl Report {
    /// Records one comparison.
    pub fn check(&mut self, id: &str, field: &str, actual: f64, expected: f64, rel: f64, abs: f64) {
        self.checked += 1;
        if !close(actual, expected, rel, abs) {
            self.failures.push(format!(
                "{id}: {field} = {actual:e}, expected {expected:e} (rel {rel:e}, abs {abs:e})"
            ));
        }
    }

    /// Records a failure with a message.
    pub fn fail(&mut self, id: &str, msg: String) {
        self.checked += 1;
        self.failures.push(format!("{id}: {msg}"));
    }

    /// Panics with every failure if there were any; asserts that at least `min_checks` ran.
    pub fn finish(self, what: &str, min_checks: usize) {
        assert!(
            self.checked >= min_checks,
            "{what}: only {} checks ran, expected at least {min_checks}",
            self.checked
        );
        if !self.failures.is_empty() {
            panic!(
                "{what}: {} of {} checks failed:\n{}",
                self.failures.len(),
                self.checked,
                self.failures.join("\n")
            );
        }
    }
}

/// A small seeded generator for simulations (SplitMix64): no RNG dependency, same stream on
/// every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A stationary AR(1) series of unit variance: `x_t = phi x_{t-1} + sqrt(1 - phi²) e_t`,
    /// started from its stationary law.
    pub fn ar1(&mut self, phi: f64, n: usize) -> Vec<f64> {
        let mut x = self.normal();
        let s = (1.0 - phi * phi).sqrt();
        (0..n)
            .map(|_| {
                let v = x;
                x = phi * x + s * self.normal();
                v
            })
            .collect()
    }

    /// Poisson: arrivals of a unit-rate process before `mean` (exact; O(mean) draws), or a
    /// rounded normal above 500.
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean > 500.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let (mut k, mut t) = (0u64, 0.0f64);
        loop {
            t -= self.uniform().ln();
            if t > mean {
                return k;
            }
            k += 1;
        }
    }
}

/// Reads an alternative as the reference generators write it (`"two_sided"` or R's
/// `"two.sided"`, `"less"`, `"greater"`).
pub fn alternative_of(v: &Value) -> canary_verdict::stats::Alternative {
    use canary_verdict::stats::Alternative;
    match v.as_str().expect("alternative") {
        "two_sided" | "two.sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        other => panic!("unknown alternative {other}"),
    }
}

/// A timestamp `seconds` after 2026-11-26T12:00:00Z, for timestamped points.
pub fn at(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_795_694_400 + seconds, 0).expect("in range")
}

/// Judges one metric alone: `policy` as the whole canary policy, `baseline` and `canary` as its
/// data; panics on an invalid request (a test's own mistake).
pub fn judge_one(
    policy: canary_verdict::MetricPolicy,
    baseline: canary_verdict::Series,
    canary: canary_verdict::Series,
) -> canary_verdict::Judgment {
    let data = [canary_verdict::MetricData::new(
        policy.name.clone(),
        canary_verdict::Arms { baseline, canary },
    )];
    canary_verdict::judge(&canary_verdict::CanaryPolicy::new(vec![policy]), &data).unwrap()
}

/// `n` log-normal values `median · exp(sigma · Z)`, Z standard normal.
pub fn lognormal(rng: &mut Rng, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|_| median * (sigma * rng.normal()).exp())
        .collect()
}
