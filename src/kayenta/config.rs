//! Reading Kayenta's JSON: the canary config (`CanaryConfig`) into a [`CanaryPolicy`], and the
//! metric-set-pair list (`MetricSetPair`) into [`MetricData`].
//!
//! The documents are walked as [`serde_json::Value`]s rather than derived structs so that every
//! error names the JSON path at fault and so that Kayenta's leniency (integers where doubles are
//! expected, unknown keys ignored, unknown strings falling back to defaults) is reproduced exactly.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::KAYENTA_JUDGE_NAME;
use crate::arms::Arms;
use crate::error::{Error, Result};
use crate::policy::{
    CanaryPolicy, Direction, EffectMeasure, MetricPolicy, NanPolicy, OutlierPolicy,
    ScoreThresholds, Tolerance,
};
use crate::series::{MetricData, Series};

/// Kayenta's default outlier factor when `outliers.outlierFactor` is absent.
const DEFAULT_OUTLIER_FACTOR: f64 = 3.0;

fn err(field: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::KayentaConfig {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Imports a Kayenta canary config (the JSON Kayenta stores and the Spinnaker UI edits) as a
/// policy for [`judge_kayenta`](crate::kayenta::judge_kayenta), with Kayenta's defaults and its silent
/// fallbacks for unknown strings.
///
/// Mapped, per metric (`metrics[i]`): `name`; `groups` (absent = none); from
/// `analysisConfigurations.canary`: `direction` (`increase`, `decrease`, `either`; default and
/// fallback `either`), `nanStrategy` (`remove`, `replace` → NaN set to 0; default `"none"` and
/// fallback: remove), `critical`, `mustHaveData`, `muted` (JSON booleans, default false),
/// `effectSize.measure` (`cles`; anything else is the mean ratio, as in Kayenta),
/// `effectSize.allowedIncrease`, `allowedDecrease`, `criticalIncrease`, `criticalDecrease`
/// (numbers; default 1.0 for the mean ratio, 0.5 for CLES), `outliers.strategy` (`remove` →
/// [`OutlierPolicy::RemoveIqrWidened`]; default `"none"` and fallback: keep) and
/// `outliers.outlierFactor` (default 3.0). From the config: `classifier.groupWeights`
/// (numbers, not validated: Kayenta does not check they total 100). The thresholds are passed
/// separately because Kayenta takes them from the execution request, not from the config
/// (`classifier.scoreThresholds` is ignored, as Kayenta's backend ignores it). `judge.name`, when
/// present, must be `"NetflixACAJudge-v1.0"`. Everything else (`query`, `templates`,
/// `scopeName`, timestamps, unknown keys) is ignored.
///
/// The policy also carries Kayenta's fixed 98% level, the rank-sum comparator and
/// `min_samples = 1`; it is meant for [`judge_kayenta`](crate::kayenta::judge_kayenta). The crate's
/// [`judge`](crate::judge) accepts it too when its stricter checks pass (see
/// [`CanaryPolicy::validate`]: weights on every group totalling 100, ordered limits).
///
/// # Errors
/// [`Error::KayentaConfig`] naming the JSON path, for: text that is not JSON or not an object;
/// `metrics` missing, not an array or empty; a metric that is not an object, without a
/// string `name`, or whose name repeats an earlier one; `groups` not an array of strings;
/// `critical`, `mustHaveData` or `muted` not a boolean (Kayenta fails with a
/// `ClassCastException`); a string option that is not a string; an effect limit or
/// `outlierFactor` that is not a number (or a factor below 0); a group weight that is not a
/// number; `judge.name` naming another judge; non-finite thresholds.
///
/// # Example
/// ```
/// use canary_verdict::{
///     kayenta::policy_from_kayenta,
///     policy::{EffectMeasure, OutlierPolicy, ScoreThresholds},
///     Direction,
/// };
/// let config = r#"{
///   "name": "my-canary-config",
///   "judge": { "name": "NetflixACAJudge-v1.0", "judgeConfigurations": {} },
///   "metrics": [
///     { "name": "latency_p50", "groups": ["latency"],
///       "query": { "type": "prometheus", "metricName": "http_latency" },
///       "analysisConfigurations": { "canary": {
///         "direction": "increase", "critical": true,
///         "effectSize": { "allowedIncrease": 1.1, "criticalIncrease": 1.5 },
///         "outliers": { "strategy": "remove" } } } },
///     { "name": "cpu", "groups": ["resources"] }
///   ],
///   "classifier": { "groupWeights": { "latency": 70, "resources": 30 } }
/// }"#;
/// let policy = policy_from_kayenta(
///     config,
///     ScoreThresholds {
///         pass: 75.0,
///         marginal: 50.0,
///     },
/// )?;
/// let latency = &policy.metrics[0];
/// assert_eq!(latency.direction, Direction::Increase);
/// assert_eq!(latency.tolerance.measure, EffectMeasure::MeanRatio);
/// assert_eq!(latency.tolerance.allowed_increase, 1.1);
/// assert_eq!(latency.tolerance.allowed_decrease, 1.0); // Kayenta's default
/// assert_eq!(
///     latency.outliers,
///     OutlierPolicy::RemoveIqrWidened { factor: 3.0 }
/// );
/// assert_eq!(policy.metrics[1].direction, Direction::Either);
/// assert_eq!(policy.group_weights["latency"], 70.0);
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn policy_from_kayenta(config_json: &str, thresholds: ScoreThresholds) -> Result<CanaryPolicy> {
    import(config_json, thresholds, false)
}

/// As [`policy_from_kayenta`], but a string option Kayenta does not know (`direction`,
/// `nanStrategy`, `effectSize.measure`, `outliers.strategy`) is an error instead of a silent
/// fallback: the notes on Kayenta call those fallbacks a usability trap (a misspelt
/// `"outlierStrategy"` or `"increse"` quietly changes the analysis).
///
/// # Errors
/// As [`policy_from_kayenta`], plus [`Error::KayentaConfig`] for an unknown string value.
///
/// # Example
/// ```
/// use canary_verdict::{Error, policy::ScoreThresholds, kayenta::policy_from_kayenta_strict};
/// let config = r#"{ "metrics": [ { "name": "cpu",
///     "analysisConfigurations": { "canary": { "direction": "increse" } } } ] }"#;
/// let err = policy_from_kayenta_strict(config, ScoreThresholds::default()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "kayenta config: metrics[0].analysisConfigurations.canary.direction: \"increse\" is not one of increase, decrease, either"
/// );
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn policy_from_kayenta_strict(
    config_json: &str,
    thresholds: ScoreThresholds,
) -> Result<CanaryPolicy> {
    import(config_json, thresholds, true)
}

fn import(config_json: &str, thresholds: ScoreThresholds, strict: bool) -> Result<CanaryPolicy> {
    let doc: Value =
        serde_json::from_str(config_json).map_err(|e| err("(document)", e.to_string()))?;
    let root = doc
        .as_object()
        .ok_or_else(|| err("(document)", "is not a JSON object"))?;
    if !(thresholds.pass.is_finite() && thresholds.marginal.is_finite()) {
        return Err(err(
            "thresholds",
            format!(
                "pass ({}) and marginal ({}) must be finite",
                thresholds.pass, thresholds.marginal
            ),
        ));
    }
    if let Some(judge) = root.get("judge").filter(|v| !v.is_null()) {
        let name = judge.get("name").filter(|v| !v.is_null());
        if let Some(name) = name {
            match name.as_str() {
                Some(KAYENTA_JUDGE_NAME) => {}
                Some(other) => {
                    return Err(err(
                        "judge.name",
                        format!(
                            "{other:?} is not {KAYENTA_JUDGE_NAME:?}, the only judge reproduced"
                        ),
                    ))
                }
                None => return Err(err("judge.name", "is not a string")),
            }
        }
    }
    let metrics = match root.get("metrics") {
        None | Some(Value::Null) => return Err(err("metrics", "is missing")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(err("metrics", "is not an array")),
    };
    if metrics.is_empty() {
        return Err(err("metrics", "lists no metric"));
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(metrics.len());
    for (i, m) in metrics.iter().enumerate() {
        let mp = metric(&format!("metrics[{i}]"), m, strict)?;
        if !names.insert(mp.name.clone()) {
            return Err(err(
                format!("metrics[{i}].name"),
                format!(
                    "{:?} repeats an earlier metric's name (Kayenta would judge both pairs with the first config)",
                    mp.name
                ),
            ));
        }
        out.push(mp);
    }
    let mut group_weights = BTreeMap::new();
    if let Some(classifier) = root.get("classifier").filter(|v| !v.is_null()) {
        let classifier = classifier
            .as_object()
            .ok_or_else(|| err("classifier", "is not an object"))?;
        match classifier.get("groupWeights") {
            None | Some(Value::Null) => {}
            Some(Value::Object(w)) => {
                for (g, v) in w {
                    let field = format!("classifier.groupWeights.{g}");
                    group_weights.insert(g.clone(), number(&field, v)?);
                }
            }
            Some(_) => return Err(err("classifier.groupWeights", "is not an object")),
        }
    }
    Ok(CanaryPolicy {
        metrics: out,
        group_weights,
        thresholds,
        // Kayenta's NodataFailMetric: a failure in the score, not a rollback of its own.
        missing_must_have: crate::policy::MustHaveAction::Fail,
        ..CanaryPolicy::default()
    })
}

/// A finite JSON number (integers accepted, as Kayenta's `MapUtils` does).
fn number(field: &str, v: &Value) -> Result<f64> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(err(field, format!("{v} is not a number"))),
    }
}

fn boolean(obj: &Map<String, Value>, at: &str, key: &str) -> Result<bool> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(err(
            format!("{at}.{key}"),
            format!("{v} is not a JSON boolean (Kayenta fails with a ClassCastException)"),
        )),
    }
}

/// A string option: `Ok(None)` when absent or null.
fn string<'a>(obj: &'a Map<String, Value>, at: &str, key: &str) -> Result<Option<&'a str>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(v) => Err(err(format!("{at}.{key}"), format!("{v} is not a string"))),
    }
}

/// An optional nested object: `Ok(None)` when absent or null.
fn object<'a>(
    obj: &'a Map<String, Value>,
    at: &str,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(v) => Err(err(format!("{at}.{key}"), format!("{v} is not an object"))),
    }
}

/// Maps a string option through `known`; unknown values fall back (lenient) or fail (strict).
fn choice<T: Copy>(
    value: Option<&str>,
    field: String,
    known: &[(&str, T)],
    fallback: T,
    strict: bool,
) -> Result<T> {
    let Some(s) = value else {
        return Ok(fallback);
    };
    if let Some(&(_, t)) = known.iter().find(|(k, _)| *k == s) {
        return Ok(t);
    }
    if strict {
        let list: Vec<&str> = known
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "none")
            .collect();
        return Err(err(
            field,
            format!("{s:?} is not one of {}", list.join(", ")),
        ));
    }
    Ok(fallback)
}

fn metric(at: &str, m: &Value, strict: bool) -> Result<MetricPolicy> {
    let obj = m.as_object().ok_or_else(|| err(at, "is not an object"))?;
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(err(format!("{at}.name"), "is empty")),
        None | Some(Value::Null) => return Err(err(format!("{at}.name"), "is missing")),
        Some(v) => return Err(err(format!("{at}.name"), format!("{v} is not a string"))),
    };
    let groups = match obj.get("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(j, g)| {
                g.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(format!("{at}.groups[{j}]"), format!("{g} is not a string")))
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => {
            return Err(err(
                format!("{at}.groups"),
                format!("{v} is not an array of strings"),
            ))
        }
    };
    let mut mp = MetricPolicy::kayenta(name, Direction::Either);
    mp.groups = groups;
    let analysis = object(obj, at, "analysisConfigurations")?;
    let at_a = format!("{at}.analysisConfigurations");
    let Some(canary) = analysis
        .map(|a| object(a, &at_a, "canary"))
        .transpose()?
        .flatten()
    else {
        return Ok(mp);
    };
    let at = format!("{at_a}.canary");
    let at = at.as_str();
    mp.direction = choice(
        string(canary, at, "direction")?,
        format!("{at}.direction"),
        &[
            ("increase", Direction::Increase),
            ("decrease", Direction::Decrease),
            ("either", Direction::Either),
        ],
        Direction::Either,
        strict,
    )?;
    mp.nan = choice(
        string(canary, at, "nanStrategy")?,
        format!("{at}.nanStrategy"),
        &[
            ("remove", NanPolicy::Remove),
            ("replace", NanPolicy::Replace(0.0)),
            ("none", NanPolicy::Remove),
        ],
        NanPolicy::Remove,
        strict,
    )?;
    mp.critical = boolean(canary, at, "critical")?;
    mp.must_have_data = boolean(canary, at, "mustHaveData")?;
    mp.muted = boolean(canary, at, "muted")?;
    if let Some(effect) = object(canary, at, "effectSize")? {
        let at = format!("{at}.effectSize");
        let measure = choice(
            string(effect, &at, "measure")?,
            format!("{at}.measure"),
            &[
                ("meanRatio", EffectMeasure::MeanRatio),
                ("cles", EffectMeasure::Cles),
            ],
            EffectMeasure::MeanRatio,
            strict,
        )?;
        let mut t = Tolerance::kayenta(measure);
        for (key, slot) in [
            ("allowedIncrease", &mut t.allowed_increase),
            ("allowedDecrease", &mut t.allowed_decrease),
            ("criticalIncrease", &mut t.critical_increase),
            ("criticalDecrease", &mut t.critical_decrease),
        ] {
            match effect.get(key) {
                None | Some(Value::Null) => {}
                Some(v) => *slot = number(&format!("{at}.{key}"), v)?,
            }
        }
        mp.tolerance = t;
    }
    if let Some(outliers) = object(canary, at, "outliers")? {
        let at = format!("{at}.outliers");
        let remove = choice(
            string(outliers, &at, "strategy")?,
            format!("{at}.strategy"),
            &[("remove", true), ("keep", false), ("none", false)],
            false,
            strict,
        )?;
        let factor = match outliers.get("outlierFactor") {
            None | Some(Value::Null) => DEFAULT_OUTLIER_FACTOR,
            Some(v) => {
                let field = format!("{at}.outlierFactor");
                let f = number(&field, v)?;
                if f < 0.0 {
                    return Err(err(field, format!("{f} must be >= 0")));
                }
                f
            }
        };
        if remove {
            mp.outliers = OutlierPolicy::RemoveIqrWidened { factor };
        }
    }
    Ok(mp)
}

/// Reads Kayenta's metric-set-pair list (what its metrics service hands the judge, and what
/// Kayenta's `/metricSetPairList` endpoint returns) as the data of [`judge_kayenta`](crate::kayenta::judge_kayenta):
/// each element's `name`, `values.control` (the baseline) and `values.experiment` (the canary).
/// `null` and the strings `"NaN"` / `"nan"` are missing points (NaN), as Kayenta pads gaps.
/// `tags`, `scopes`, `attributes` and `id` are ignored; tag-split pairs of one metric share a
/// name and so are refused by the judge (give each split its own metric).
///
/// # Errors
/// [`Error::KayentaConfig`] naming the JSON path when the text is not a JSON array, an element
/// has no string `name` or no `values` object, an arm is not an array, or a value is neither a
/// number, `null` nor `"NaN"`.
///
/// # Example
/// ```
/// use canary_verdict::{kayenta::data_from_kayenta, Series};
/// let pairs = r#"[ { "name": "cpu", "tags": {},
///   "values": { "control": [0.5, 0.52, null], "experiment": [0.55, "NaN", 0.56] } } ]"#;
/// let data = data_from_kayenta(pairs)?;
/// assert_eq!(data[0].name, "cpu");
/// let Series::Samples(canary) = &data[0].canary else {
///     unreachable!()
/// };
/// assert!(canary[1].is_nan());
/// # Ok::<(), canary_verdict::Error>(())
/// ```
pub fn data_from_kayenta(pairs_json: &str) -> Result<Vec<MetricData>> {
    let doc: Value =
        serde_json::from_str(pairs_json).map_err(|e| err("(document)", e.to_string()))?;
    let pairs = doc
        .as_array()
        .ok_or_else(|| err("(document)", "is not a JSON array of metric-set pairs"))?;
    let mut out = Vec::with_capacity(pairs.len());
    for (i, p) in pairs.iter().enumerate() {
        let at = format!("[{i}]");
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| err(format!("{at}.name"), "is missing or not a string"))?;
        let values = p
            .get("values")
            .and_then(Value::as_object)
            .ok_or_else(|| err(format!("{at}.values"), "is missing or not an object"))?;
        let arm = |key: &str| -> Result<Vec<f64>> {
            let field = format!("{at}.values.{key}");
            let arr = match values.get(key) {
                None | Some(Value::Null) => return Ok(Vec::new()),
                Some(Value::Array(a)) => a,
                Some(v) => return Err(err(field, format!("{v} is not an array"))),
            };
            arr.iter()
                .enumerate()
                .map(|(j, v)| match v {
                    Value::Null => Ok(f64::NAN),
                    Value::String(s) if s == "NaN" || s == "nan" => Ok(f64::NAN),
                    Value::Number(n) => n.as_f64().ok_or_else(|| {
                        err(format!("{field}[{j}]"), format!("{v} is not a number"))
                    }),
                    _ => Err(err(format!("{field}[{j}]"), format!("{v} is not a number"))),
                })
                .collect()
        };
        out.push(MetricData::new(
            name,
            Arms {
                baseline: Series::Samples(arm("control")?),
                canary: Series::Samples(arm("experiment")?),
            },
        ));
    }
    Ok(out)
}
