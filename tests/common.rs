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
