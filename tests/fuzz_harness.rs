//! What the fuzz targets run, shared with the regression test (`tests/fuzz_regressions.rs`) so
//! that every input the fuzzer kept in `fixtures/fuzz/<target>/` is replayed by `cargo test`
//! without the fuzzer. The targets in `fuzz/fuzz_targets/` include this file by path.
//!
//! Each function takes arbitrary bytes and must return without panicking, hanging or allocating
//! without bound; where a result comes back it also checks the invariants any input must keep
//! (p-values in [0, 1], intervals ordered, the same answer twice) and, for the judge, the
//! invariants of a verdict (see [`judge_json`]): a wrong verdict is worse than a crash, because
//! nobody sees it.

use canary_verdict::stats::CountTestConfig;
use canary_verdict::Arms;
use canary_verdict::{
    judge,
    kayenta::{data_from_kayenta, judge_kayenta, policy_from_kayenta, policy_from_kayenta_strict},
    policy::{EffectMeasure, NanPolicy, ScoreThresholds},
    sequential::{
        rollback_threshold, CountEProcess, CountEProcessConfig, EProcess, MeanShiftEProcess,
        MeanShiftEProcessConfig, SrmEProcess, SrmEProcessConfig, VaryingSplitEProcess,
        VaryingSplitEProcessConfig,
    },
    stats::{
        binom_test, fisher_exact, hodges_lehmann, mann_whitney, p_adjust, poisson_rate_test,
        prop_test, quantiles, srm_binomial, srm_chi_squared, Adjustment, Alternative,
        ConfidenceInterval, Exposure, Fences, MannWhitneyConfig, Method, PairedSample, Proportion,
        QuantileType, SignedRankConfig, Summary, TwoSample,
    },
    CanaryPolicy, Classification, Direction, Histogram, Judgment, MetricData, MetricPolicy, Point,
    Series, Verdict,
};
use serde::Deserialize;

/// The request `examples/judge.rs` reads: `{"policy": CanaryPolicy, "metrics": [MetricData]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The verdict the request expects (not checked here).
    #[serde(default)]
    pub expect: Option<Verdict>,
    /// The policy.
    pub policy: CanaryPolicy,
    /// Both arms of every metric.
    pub metrics: Vec<MetricData>,
}

/// Arbitrary bytes as a judge request: parse, judge twice, compare, print, serialize; then the
/// verdict invariants, each on a transformed request:
///
/// - **scale**: both arms (and everything stated in the metric's units: absolute bounds and
///   tolerances, NaN replacements, histogram bounds) times 4, a power of two, so every value
///   scales exactly: the same verdict and the same labels;
/// - **mirror**: both arms negated and every direction flipped (tolerances mirrored about their
///   neutral value): the same verdict;
/// - **identical**: the canary replaced by its baseline: never a rollback, unless a metric's
///   data are bad or missing (Error, NoDataFail);
/// - **swap**: a metric judged a regression (High for `increase`, Low for `decrease`) with its
///   arms swapped is not judged the same regression.
///
/// Where a transform would not keep the question the same (bounds and tails under the mirror,
/// bounds and the SRM check under identical and swapped arms), the invariant is skipped or the
/// feature dropped from both sides of the comparison, as each check says.
pub fn judge_json(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(request) = serde_json::from_str::<Request>(text) else {
        return;
    };
    let first = judge(&request.policy, &request.metrics);
    let again = judge(&request.policy, &request.metrics);
    // Debug, not PartialEq: a NaN inside an answer is still the same answer.
    assert_eq!(
        format!("{first:?}"),
        format!("{again:?}"),
        "the same request judged twice differs"
    );
    let Ok(j) = first else {
        return;
    };
    if let Some(s) = j.score {
        assert!((0.0..=100.0).contains(&s), "score {s} outside [0, 100]");
    }
    assert_eq!(j.metrics.len(), request.policy.metrics.len());
    let text = j.to_string();
    assert_eq!(
        text.lines().count(),
        3 + j.reasons.len() + j.metrics.len(),
        "a line of the text table was forged:\n{text}"
    );
    let _ = serde_json::to_string(&j).expect("a judgment always serializes");
    check_scale(&request, &j);
    check_mirror(&request, &j);
    check_identical(&request);
    check_swap(&request, &j);
}

/// Labels of a judgment, for messages.
fn labels(j: &Judgment) -> Vec<(String, Classification)> {
    j.metrics
        .iter()
        .map(|m| (m.name.clone(), m.classification))
        .collect()
}

/// Applies `f` to every value of a continuous series and to a histogram's bounds; counters are
/// left as they are.
fn map_series(series: &Series, f: &dyn Fn(f64) -> f64) -> Series {
    match series {
        Series::Samples(v) => Series::Samples(v.iter().map(|&x| f(x)).collect()),
        Series::Points(p) => Series::Points(
            p.iter()
                .map(|p| Point {
                    timestamp: p.timestamp,
                    value: f(p.value),
                })
                .collect(),
        ),
        Series::Histogram(h) => Series::Histogram(Histogram {
            lowest: f(h.lowest),
            upper_bounds: h.upper_bounds.iter().map(|&b| f(b)).collect(),
            counts: h.counts.clone(),
        }),
        other => other.clone(),
    }
}

/// Every finite value of a series' values and bounds.
fn values_of(series: &Series) -> Vec<f64> {
    match series {
        Series::Samples(v) => v.clone(),
        Series::Points(p) => p.iter().map(|p| p.value).collect(),
        Series::Histogram(h) => {
            let mut v = h.upper_bounds.clone();
            v.push(h.lowest);
            v
        }
        _ => Vec::new(),
    }
}

/// Whether every finite number of the request stays exact and finite when scaled by 4, with room
/// for sums of 10^7 such numbers.
fn scalable(request: &Request) -> bool {
    let small = |v: f64| !v.is_finite() || v.abs() < 1e290;
    let data_ok = request.metrics.iter().all(|d| {
        values_of(&d.baseline)
            .into_iter()
            .chain(values_of(&d.canary))
            .all(small)
    });
    let policy_ok = request.policy.metrics.iter().all(|m| {
        let t = m.tolerance;
        let nan = match m.nan {
            NanPolicy::Replace(r) => r,
            _ => 0.0,
        };
        let b = m
            .bounds
            .map_or([0.0, 0.0], |b| [b.min.unwrap_or(0.0), b.max.unwrap_or(0.0)]);
        [
            t.allowed_increase,
            t.allowed_decrease,
            t.critical_increase,
            t.critical_decrease,
            nan,
            b[0],
            b[1],
        ]
        .into_iter()
        .all(small)
    });
    data_ok && policy_ok
}

/// Both arms and the metric's units times 4: the same verdict and labels.
fn check_scale(request: &Request, j: &Judgment) {
    if !scalable(request) {
        return;
    }
    const C: f64 = 4.0;
    let scale = |v: f64| v * C;
    let mut policy = request.policy.clone();
    for m in &mut policy.metrics {
        if let NanPolicy::Replace(r) = m.nan {
            m.nan = NanPolicy::Replace(r * C);
        }
        if let Some(b) = &mut m.bounds {
            b.min = b.min.map(scale);
            b.max = b.max.map(scale);
        }
        if m.tolerance.measure == EffectMeasure::Absolute {
            let t = &mut m.tolerance;
            t.allowed_increase *= C;
            t.allowed_decrease *= C;
            t.critical_increase *= C;
            t.critical_decrease *= C;
        }
    }
    let metrics: Vec<MetricData> = request
        .metrics
        .iter()
        .map(|d| {
            MetricData::new(
                d.name.clone(),
                Arms {
                    baseline: map_series(&d.baseline, &scale),
                    canary: map_series(&d.canary, &scale),
                },
            )
        })
        .collect();
    let Ok(scaled) = judge(&policy, &metrics) else {
        panic!("scaled by {C}, the request is refused");
    };
    assert_eq!(
        (scaled.verdict, labels(&scaled)),
        (j.verdict, labels(j)),
        "scaling both arms by {C} changed the verdict:\n{j}\n---\n{scaled}"
    );
}

/// A tolerance's limits mirrored: what was an increase past `x` is a decrease past `2n - x`
/// (n the measure's neutral value), and the other way round.
fn mirror_tolerance(m: &mut MetricPolicy) {
    let n2 = 2.0 * m.tolerance.measure.neutral();
    let t = m.tolerance;
    m.tolerance.allowed_increase = n2 - t.allowed_decrease;
    m.tolerance.allowed_decrease = n2 - t.allowed_increase;
    m.tolerance.critical_increase = n2 - t.critical_decrease;
    m.tolerance.critical_decrease = n2 - t.critical_increase;
}

/// Both arms negated and every direction flipped: the same verdict. Continuous samples and
/// points only, without bounds or tails (their statements do not mirror exactly).
fn check_mirror(request: &Request, j: &Judgment) {
    let continuous = request.metrics.iter().all(|d| {
        [&d.baseline, &d.canary]
            .iter()
            .all(|s| matches!(s, Series::Samples(_) | Series::Points(_)))
    });
    let plain = request.policy.metrics.iter().all(|m| {
        m.bounds.is_none()
            && m.relative_bounds.is_none()
            && m.tails.is_empty()
            && m.kind == canary_verdict::MetricKind::Continuous
    });
    if !(continuous && plain) {
        return;
    }
    let mut policy = request.policy.clone();
    for m in &mut policy.metrics {
        m.direction = match m.direction {
            Direction::Increase => Direction::Decrease,
            Direction::Decrease => Direction::Increase,
            other => other,
        };
        if let NanPolicy::Replace(r) = m.nan {
            m.nan = NanPolicy::Replace(-r);
        }
        mirror_tolerance(m);
    }
    let negate = |v: f64| -v;
    let metrics: Vec<MetricData> = request
        .metrics
        .iter()
        .map(|d| {
            MetricData::new(
                d.name.clone(),
                Arms {
                    baseline: map_series(&d.baseline, &negate),
                    canary: map_series(&d.canary, &negate),
                },
            )
        })
        .collect();
    let Ok(mirrored) = judge(&policy, &metrics) else {
        // A mirrored tolerance can fail validation only through rounding at its limits.
        return;
    };
    assert_eq!(
        mirrored.verdict, j.verdict,
        "mirroring both arms and the directions changed the verdict:\n{j}\n---\n{mirrored}"
    );
}

/// The policy without bounds and SRM check: the parts a canary can fail by its own values
/// (an absolute bound) or by its traffic share, whatever its baseline.
fn relative_only(request: &Request) -> canary_verdict::CanaryPolicy {
    let mut policy = request.policy.clone();
    policy.srm = None;
    for m in &mut policy.metrics {
        m.bounds = None;
    }
    policy
}

/// The canary replaced by its baseline: never a rollback, unless a metric's data are bad or
/// missing.
fn check_identical(request: &Request) {
    let policy = relative_only(request);
    let metrics: Vec<MetricData> = request
        .metrics
        .iter()
        .map(|d| {
            MetricData::new(
                d.name.clone(),
                Arms {
                    baseline: d.baseline.clone(),
                    canary: d.baseline.clone(),
                },
            )
        })
        .collect();
    let Ok(same) = judge(&policy, &metrics) else {
        return;
    };
    let bad_data = same.metrics.iter().any(|m| {
        matches!(
            m.classification,
            Classification::Error | Classification::NoDataFail
        )
    });
    // A must-have metric without data rolls back whatever the arms hold.
    let missing = policy
        .metrics
        .iter()
        .any(|m| !request.metrics.iter().any(|d| d.name == m.name));
    if !bad_data && !missing {
        assert_ne!(
            same.verdict,
            Verdict::Rollback,
            "a canary identical to its baseline is rolled back:\n{same}"
        );
    }
}

/// A metric judged a regression in its direction, with its arms swapped, is not judged the same
/// regression. Metrics with bounds or tails are left out (a heavier tail and a lower median
/// are both regressions, of different aspects); the SRM check is dropped (its expected share
/// is not symmetric).
fn check_swap(request: &Request, j: &Judgment) {
    let policy = relative_only(request);
    let metrics: Vec<MetricData> = request
        .metrics
        .iter()
        .map(|d| {
            MetricData::new(
                d.name.clone(),
                Arms {
                    baseline: d.canary.clone(),
                    canary: d.baseline.clone(),
                },
            )
        })
        .collect();
    let Ok(swapped) = judge(&policy, &metrics) else {
        return;
    };
    let judged = request.policy.metrics.iter().zip(&j.metrics);
    for ((m, before), after) in judged.zip(&swapped.metrics) {
        if m.bounds.is_some() || m.relative_bounds.is_some() || !m.tails.is_empty() {
            continue;
        }
        let harm = match m.direction {
            Direction::Increase => Classification::High,
            Direction::Decrease => Classification::Low,
            _ => continue,
        };
        assert!(
            !(before.classification == harm && after.classification == harm),
            "metric {:?} is {harm:?} both ways round:\n{j}\n---\n{swapped}",
            m.name
        );
    }
}

/// Arbitrary bytes as a Kayenta canary config and a metric-set-pair list, separated by the
/// first NUL byte (without one, the same text is tried as both): import, then judge in
/// Kayenta's mode and with the default judge.
pub fn kayenta_json(bytes: &[u8]) {
    let (config, pairs) = match bytes.iter().position(|&b| b == 0) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, bytes),
    };
    let (Ok(config), Ok(pairs)) = (std::str::from_utf8(config), std::str::from_utf8(pairs)) else {
        return;
    };
    let thresholds = ScoreThresholds::default();
    let strict = policy_from_kayenta_strict(config, thresholds);
    let policy = policy_from_kayenta(config, thresholds);
    let data = data_from_kayenta(pairs);
    if let Ok(p) = &strict {
        assert!(
            policy.is_ok(),
            "the strict import accepts what the lax one rejects"
        );
        let _ = p;
    }
    let (Ok(policy), Ok(data)) = (policy, data) else {
        return;
    };
    if let Ok(r) = judge_kayenta(&policy, &data) {
        let _ = serde_json::to_string(&r).expect("a Kayenta result always serializes");
        let again = judge_kayenta(&policy, &data);
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", Ok::<_, ()>(r)),
            "judged twice differs"
        );
    }
    if let Ok(j) = judge(&policy, &data) {
        let _ = j.to_string();
    }
}

/// Reads bytes as a stream of values shaped to reach the corners of the statistics: raw f64
/// bit patterns (NaN payloads, infinities, subnormals, huge magnitudes), small integers (ties),
/// special values, and long runs of one value.
pub struct Values<'a> {
    bytes: &'a [u8],
}

const SPECIAL: [f64; 16] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    f64::MAX,
    f64::MIN,
    1e308,
    -1e308,
    f64::EPSILON,
    1.0,
    0.5,
    1e-300,
];

/// Longest sample one input builds: enough for the asymptotic paths and long tie runs, short
/// enough that one run takes milliseconds.
pub const MAX_VALUES: usize = 20_000;

impl<'a> Values<'a> {
    /// A reader over the bytes.
    pub fn new(bytes: &'a [u8]) -> Self {
        Values { bytes }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.bytes.len() < N {
            return None;
        }
        let (head, tail) = self.bytes.split_at(N);
        self.bytes = tail;
        head.try_into().ok()
    }

    /// One byte, or 0 when the input is used up.
    pub fn byte(&mut self) -> u8 {
        self.take::<1>().map_or(0, |[b]| b)
    }

    /// One value from a pick of the special table.
    pub fn special(&mut self) -> f64 {
        SPECIAL[usize::from(self.byte()) % SPECIAL.len()]
    }

    /// The rest of the input as a list of values.
    pub fn sample(&mut self) -> Vec<f64> {
        let mut out: Vec<f64> = Vec::new();
        while out.len() < MAX_VALUES {
            let Some([tag]) = self.take::<1>() else {
                break;
            };
            match tag >> 5 {
                0 => match self.take::<8>() {
                    Some(b) => out.push(f64::from_le_bytes(b)),
                    None => break,
                },
                1 => match self.take::<4>() {
                    Some(b) => out.push(f64::from(f32::from_le_bytes(b))),
                    None => break,
                },
                2 => out.push(self.special()),
                3 => {
                    // A run of ties: the last value (or the low bits) repeated up to 4096 times.
                    let v = out.last().copied().unwrap_or(f64::from(tag & 31));
                    let [a, b] = self.take::<2>().unwrap_or([0, 0]);
                    let run = usize::from(u16::from_le_bytes([a, b]) & 0x0fff) + 1;
                    let run = run.min(MAX_VALUES - out.len());
                    out.extend(std::iter::repeat_n(v, run));
                }
                4 => out.push(f64::from(tag & 31) * 1e300),
                5 => out.push(f64::from(tag & 31) * 1e-310),
                _ => out.push(f64::from(tag & 63) - 16.0),
            }
        }
        out
    }
}

fn alternative(b: u8) -> Alternative {
    match b % 3 {
        0 => Alternative::TwoSided,
        1 => Alternative::Greater,
        _ => Alternative::Less,
    }
}

fn method(b: u8) -> Method {
    match b % 3 {
        0 => Method::Auto,
        1 => Method::Exact,
        _ => Method::Asymptotic,
    }
}

/// A level: usually sound, sometimes at or past the edges of (0, 1).
fn level(v: &mut Values<'_>) -> f64 {
    match v.byte() % 8 {
        0 => 0.95,
        1 => 0.98,
        2 => 0.5,
        3 => 1e-12,
        4 => 1.0 - 1e-16,
        _ => v.special(),
    }
}

fn check_p(what: &str, p: f64) {
    assert!(
        (0.0..=1.0).contains(&p),
        "{what}: p-value {p} outside [0, 1]"
    );
}

fn check_interval(what: &str, ci: &ConfidenceInterval) {
    assert!(
        ci.lower.partial_cmp(&ci.upper) != Some(std::cmp::Ordering::Greater),
        "{what}: interval [{}, {}] is reversed",
        ci.lower,
        ci.upper
    );
}

/// A count from a value: whole, non-negative, at most about 2^60.
fn count(x: f64) -> u64 {
    if x.is_finite() {
        x.abs().min(1.0e18) as u64
    } else {
        u64::MAX
    }
}

/// Arbitrary bytes as samples and configurations for every statistics entry point.
pub fn stats(bytes: &[u8]) {
    let mut v = Values::new(bytes);
    let flags = v.byte();
    let (alt, meth, correct) = (alternative(flags), method(flags >> 2), flags & 16 != 0);
    let split = v.byte();
    let mu = if flags & 32 != 0 { v.special() } else { 0.0 };
    let conf_level = level(&mut v);
    let all = v.sample();
    let cut = all.len() * usize::from(split) / 256;
    let (baseline, canary) = all.split_at(cut);
    // A forced exact distribution is capped at about 2.5e8 steps (0.4 s at opt-level 1 for 344
    // points, 343 of them tied: fixtures/fuzz/stats/slow-exact-*; over the fuzzer's 10 s limit
    // under its instrumentation): past 100 points the fuzzer asks for Auto instead. The cap's
    // error path has its own unit tests.
    let meth = if meth == Method::Exact && all.len() > 100 {
        Method::Auto
    } else {
        meth
    };

    let mw = MannWhitneyConfig {
        alternative: alt,
        mu,
        correct,
        method: meth,
        ..Default::default()
    };
    if let Ok(t) = mann_whitney(Arms { baseline, canary }, &mw) {
        check_p("mann_whitney", t.p_value);
        let _ = t.to_string();
    }
    let hl = MannWhitneyConfig {
        conf_level,
        alternative: alt,
        correct,
        method: meth,
        ..Default::default()
    };
    if let Ok(h) = hodges_lehmann(Arms { baseline, canary }, &hl) {
        check_interval("hodges_lehmann", &h.interval);
        assert!(!h.estimate.is_nan(), "hodges_lehmann: NaN estimate");
        let _ = h.to_string();
    }
    if let Ok(two) = TwoSample::new(Arms { baseline, canary }) {
        let e = two.effect_sizes();
        assert!(
            (0.0..=1.0).contains(&e.cles),
            "cles {} outside [0, 1]",
            e.cles
        );
        let _ = e.to_string();
    }

    // Paired: the shorter arm's length from each.
    let n = baseline.len().min(canary.len());
    let sr = SignedRankConfig {
        alternative: alt,
        mu,
        correct,
        method: meth,
        ..Default::default()
    };
    let ps = SignedRankConfig {
        conf_level,
        alternative: alt,
        correct,
        method: meth,
        mu,
    };
    for paired in [
        PairedSample::new(Arms {
            baseline: &baseline[..n],
            canary: &canary[..n],
        }),
        PairedSample::from_differences(&all),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(t) = paired.signed_rank(&sr) {
            check_p("signed_rank", t.p_value);
            let _ = t.to_string();
        }
        if let Ok(s) = paired.hodges_lehmann(&ps) {
            check_interval("paired shift", &s.interval);
            let _ = s.to_string();
        }
    }

    // One-sample descriptive statistics.
    let probs = [0.0, 0.01, 0.5, 0.9, 0.99, 1.0, conf_level];
    for ty in [
        QuantileType::Type1,
        QuantileType::Type2,
        QuantileType::Type3,
        QuantileType::Type4,
        QuantileType::Type5,
        QuantileType::Type6,
        QuantileType::Type7,
        QuantileType::Type8,
        QuantileType::Type9,
    ] {
        if let Ok(q) = quantiles(&all, &probs, ty) {
            assert_eq!(q.len(), probs.len());
        }
    }
    if let Ok(s) = Summary::of(&all, &probs) {
        assert!(s.min <= s.max, "summary: min {} above max {}", s.min, s.max);
        let _ = s.to_string();
    }
    let factor = f64::from(split) / 16.0;
    for fences in [Fences::tukey(&all, factor), Fences::widened(&all, factor)]
        .into_iter()
        .flatten()
    {
        let mut kept = all.clone();
        fences.retain(&mut kept);
        assert!(kept.len() <= all.len());
    }
    for adj in [
        Adjustment::None,
        Adjustment::Bonferroni,
        Adjustment::Holm,
        Adjustment::Hochberg,
        Adjustment::BenjaminiHochberg,
        Adjustment::BenjaminiYekutieli,
    ] {
        if let Ok(adjusted) = p_adjust(&all, adj) {
            for p in adjusted {
                check_p("p_adjust", p);
            }
        }
    }
    let _ = rollback_threshold(conf_level, usize::from(split));

    // Count tests on counts taken from the values.
    let c: Vec<u64> = all.iter().take(6).map(|&x| count(x)).collect();
    let get = |i: usize| c.get(i).copied().unwrap_or(0);
    let (ce, ct, be, bt) = (get(0), get(1), get(2), get(3));
    let exposure = |i: usize| all.get(i).copied().unwrap_or(1.0);
    if let Ok(t) = fisher_exact(
        Arms {
            baseline: Proportion::new(be, bt),
            canary: Proportion::new(ce, ct),
        },
        &CountTestConfig::default()
            .alternative(alt)
            .conf_level(conf_level),
    ) {
        check_p("fisher_exact", t.p_value);
        check_interval("fisher_exact", &t.conf_int);
    }
    if let Ok(t) = binom_test(
        ce,
        ct,
        mu,
        &CountTestConfig::default()
            .alternative(alt)
            .conf_level(conf_level),
    ) {
        check_p("binom_test", t.p_value);
        check_interval("binom_test", &t.conf_int);
    }
    if let Ok(t) = poisson_rate_test(
        Arms {
            baseline: Exposure::new(be, exposure(5)),
            canary: Exposure::new(ce, exposure(4)),
        },
        if mu == 0.0 { 1.0 } else { mu },
        &CountTestConfig::default()
            .alternative(alt)
            .conf_level(conf_level),
    ) {
        check_p("poisson_rate_test", t.p_value);
        check_interval("poisson_rate_test", &t.conf_int);
    }
    if let Ok(t) = prop_test(
        Arms {
            baseline: Proportion::new(be, bt),
            canary: Proportion::new(ce, ct),
        },
        &CountTestConfig::default()
            .alternative(alt)
            .conf_level(conf_level)
            .correct(correct),
    ) {
        check_p("prop_test", t.p_value);
        check_interval("prop_test", &t.conf_int);
    }
    let shares: Vec<f64> = all.iter().skip(6).take(c.len()).copied().collect();
    if let Ok(t) = srm_chi_squared(&c, &shares) {
        check_p("srm_chi_squared", t.p_value);
    }
    if let Ok(t) = srm_binomial(
        Arms {
            baseline: be,
            canary: ce,
        },
        conf_level,
    ) {
        check_p("srm_binomial", t.p_value);
    }

    // Sequential e-processes, fed the values pairwise.
    let steps = all.chunks_exact(2).take(2_000);
    if let Ok(mut e) = CountEProcess::new(
        CountEProcessConfig::new(conf_level)
            .concentration(factor)
            .alternative(alt)
            .alpha(conf_level),
    ) {
        for pair in steps.clone() {
            if e.update(Arms {
                baseline: count(pair[1]),
                canary: count(pair[0]),
            })
            .is_err()
            {
                break;
            }
            check_p("count e-process", e.p_value());
        }
        // The running intersection may be empty (lower > upper): documented, with probability
        // at most alpha under the model. Only NaN would be wrong.
        let cs = e.confidence_sequence();
        assert!(
            !cs.lower.is_nan() && !cs.upper.is_nan(),
            "count confidence sequence {cs:?}"
        );
    }
    let ms = MeanShiftEProcessConfig {
        alternative: alt,
        null_shift: mu,
        variance: (flags & 64 != 0).then_some(factor),
        target_intervals: f64::from(split),
        burn_in: u64::from(split % 8),
        alpha: conf_level,
    };
    if let Ok(mut e) = MeanShiftEProcess::new(ms) {
        for pair in steps.clone() {
            if e.update(Arms {
                baseline: pair[1],
                canary: pair[0],
            })
            .is_err()
            {
                continue;
            }
            check_p("mean-shift e-process", e.p_value());
        }
        let _ = e.confidence_sequence();
    }
    let vs = VaryingSplitEProcessConfig::new()
        .alternative(alt)
        .max_rate_ratio(factor)
        .grid_points(u64::from(split));
    if let Ok(mut e) = VaryingSplitEProcess::new(vs) {
        for quad in all.chunks_exact(4).take(1_000) {
            if e.update(
                Arms {
                    baseline: count(quad[1]),
                    canary: count(quad[0]),
                },
                Arms {
                    baseline: count(quad[3]),
                    canary: count(quad[2]),
                },
            )
            .is_err()
            {
                break;
            }
            check_p("varying-split e-process", e.p_value());
        }
    }
    if let Ok(mut e) =
        SrmEProcess::new(SrmEProcessConfig::new(shares.clone()).concentration(factor))
    {
        let k = shares.len().max(1);
        for chunk in all.chunks_exact(k).take(1_000) {
            let counts: Vec<u64> = chunk.iter().map(|&x| count(x)).collect();
            if e.update(&counts).is_err() {
                break;
            }
            check_p("srm e-process", e.p_value());
        }
    }
}
