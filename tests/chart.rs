//! The distribution chart (feature `svg`): fixtures rendered and compared with the committed SVG
//! in `fixtures/charts/` (`CANARY_BLESS=1` rewrites them), every rendering parsed as XML by an
//! independent parser, and the inputs that could break a picture: markup in names, a million
//! points, constant data, values at the float limits, one-sided intervals and bad parameters.

use crate::common::fixture_path;
use canary_verdict::chart::{CdfChart, MAX_STEPS};
use canary_verdict::stats::{hodges_lehmann, ConfidenceInterval, MannWhitneyConfig};
use canary_verdict::{judge, Arms, CanaryPolicy, Error, MetricData};

#[derive(serde::Deserialize)]
struct Samples {
    metric: String,
    conf_level: f64,
    baseline: Vec<f64>,
    canary: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct Request {
    policy: CanaryPolicy,
    metrics: Vec<MetricData>,
}

/// Parses `svg` as XML and returns the root's element names with the number of path steps
/// (`H` commands) of each `path`, failing on any malformed document.
fn parse(svg: &str) -> (Vec<String>, Vec<usize>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let names = root
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .collect();
    let steps = root
        .descendants()
        .filter(|n| n.has_tag_name("path"))
        .filter_map(|n| n.attribute("d"))
        .map(|d| d.matches(" H").count())
        .collect();
    (names, steps)
}

/// Every text node of the document, joined: what a reader sees.
fn text_of(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("|")
}

fn compare_with_committed(name: &str, svg: &str) {
    let path = fixture_path(&format!("charts/{name}.svg"));
    if std::env::var_os("CANARY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, svg).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CANARY_BLESS=1 writes it)", path.display()));
    assert_eq!(svg, expected, "{name}: the chart changed");
}

#[test]
fn a_sample_file_renders_as_its_committed_chart() {
    let text = std::fs::read_to_string(fixture_path("samples/latency_regression.json")).unwrap();
    let s: Samples = serde_json::from_str(&text).unwrap();
    let arms = Arms {
        baseline: &s.baseline[..],
        canary: &s.canary[..],
    };
    let config = MannWhitneyConfig {
        conf_level: s.conf_level,
        ..Default::default()
    };
    let hl = hodges_lehmann(arms, &config).unwrap();
    let svg = CdfChart {
        metric: &s.metric,
        arms,
        shift: hl.estimate,
        interval: hl.interval,
        note: None,
    }
    .to_svg()
    .unwrap();
    compare_with_committed("latency_regression", &svg);
    let (elements, steps) = parse(&svg);
    assert_eq!(elements.first().map(String::as_str), Some("rect"));
    // Three curves (moved baseline, baseline, canary) and the arrow head, which has no steps.
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert_eq!(
        steps[..3],
        [
            s.baseline.len() + 1,
            s.baseline.len() + 1,
            s.canary.len() + 1
        ]
    );
    let text = text_of(&svg);
    assert!(
        text.contains(&format!("{}: canary against baseline", s.metric)),
        "{text}"
    );
    assert!(text.contains(&format!("baseline (n = {})", s.baseline.len())));
    assert!(text.contains(&format!("canary (n = {})", s.canary.len())));
}

#[test]
fn a_judged_metric_renders_with_the_judges_shift_and_label() {
    let text = std::fs::read_to_string(fixture_path("canaries/tail_regression.json")).unwrap();
    let r: Request = serde_json::from_str(&text).unwrap();
    let judgment = judge(&r.policy, &r.metrics).unwrap();
    let svg = judgment.chart_svg(&r.metrics, "latency_p99_ms").unwrap();
    compare_with_committed("tail_regression_p99", &svg);
    parse(&svg);
    let m = judgment
        .metrics
        .iter()
        .find(|m| m.name == "latency_p99_ms")
        .unwrap();
    let text = text_of(&svg);
    assert!(
        text.contains(&format!("judge: {}", m.classification)),
        "{text}"
    );
    // The counter has no picture, and a metric nobody judged is named in the error.
    assert!(matches!(
        judgment.chart_svg(&r.metrics, "errors"),
        Err(Error::DataMismatch { ref metric, .. }) | Err(Error::Unsupported { ref metric, .. })
            if metric == "errors"
    ));
    assert!(matches!(
        judgment.chart_svg(&r.metrics, "no_such_metric"),
        Err(Error::DataMismatch { ref metric, .. }) if metric == "no_such_metric"
    ));
}

fn interval(lower: f64, upper: f64) -> ConfidenceInterval {
    ConfidenceInterval {
        lower,
        upper,
        level: 0.95,
    }
}

#[test]
fn markup_in_a_name_stays_text() {
    let v = [1.0, 2.0, 3.0];
    let name = "p99 <script>alert(\"x\")</script> & </svg>";
    let svg = CdfChart {
        metric: name,
        arms: Arms {
            baseline: &v[..],
            canary: &v[..],
        },
        shift: 0.0,
        interval: interval(-1.0, 1.0),
        note: Some("judge: <b>HIGH</b>\u{7}"),
    }
    .to_svg()
    .unwrap();
    let (elements, _) = parse(&svg);
    assert!(
        !elements.iter().any(|e| e == "script" || e == "b"),
        "{elements:?}"
    );
    let text = text_of(&svg);
    assert!(text.contains(name), "{text}");
    assert!(text.contains("judge: <b>HIGH</b> "), "{text}");
}

#[test]
fn a_million_points_make_a_chart_of_bounded_size() {
    let baseline: Vec<f64> = (0..1_000_000).map(|i| (i % 9973) as f64).collect();
    let canary: Vec<f64> = baseline.iter().map(|v| v * 1.1).collect();
    let svg = CdfChart {
        metric: "big",
        arms: Arms {
            baseline: &baseline[..],
            canary: &canary[..],
        },
        shift: 500.0,
        interval: interval(450.0, 550.0),
        note: None,
    }
    .to_svg()
    .unwrap();
    let (_, steps) = parse(&svg);
    assert!(steps[..3].iter().all(|&s| s == MAX_STEPS + 1), "{steps:?}");
    assert!(svg.len() < 80_000, "{} bytes", svg.len());
}

#[test]
fn degenerate_data_and_infinite_ends_still_draw() {
    let cases: [(&[f64], &[f64], f64, ConfidenceInterval); 6] = [
        // Constant and equal arms.
        (&[5.0; 4], &[5.0; 4], 0.0, interval(0.0, 0.0)),
        // One point each, at zero.
        (&[0.0], &[0.0], 0.0, interval(-1.0, 1.0)),
        // One-sided intervals.
        (&[1.0, 2.0], &[3.0, 4.0], 2.0, interval(1.0, f64::INFINITY)),
        (
            &[1.0, 2.0],
            &[3.0, 4.0],
            2.0,
            interval(f64::NEG_INFINITY, 3.0),
        ),
        // The float limits, and a shift past them.
        (
            &[-f64::MAX, 0.0],
            &[f64::MAX],
            f64::MAX,
            interval(-f64::MAX, f64::MAX),
        ),
        // Subnormal spreads.
        (&[1e-310, 2e-310], &[3e-310], 1e-310, interval(0.0, 2e-310)),
    ];
    for (baseline, canary, shift, ci) in cases {
        let svg = CdfChart {
            metric: "m",
            arms: Arms { baseline, canary },
            shift,
            interval: ci,
            note: None,
        }
        .to_svg()
        .unwrap_or_else(|e| panic!("{baseline:?} {canary:?}: {e}"));
        parse(&svg);
        assert!(
            !svg.contains("NaN") && !svg.contains("inf\""),
            "{baseline:?} {canary:?}: a coordinate is not a number\n{svg}"
        );
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let chart = |baseline: &'static [f64], shift: f64, ci: ConfidenceInterval| {
        CdfChart {
            metric: "m",
            arms: Arms {
                baseline,
                canary: &[1.0, 2.0][..],
            },
            shift,
            interval: ci,
            note: None,
        }
        .to_svg()
    };
    assert!(matches!(
        chart(&[], 0.0, interval(-1.0, 1.0)),
        Err(Error::EmptySample { .. })
    ));
    assert!(matches!(
        chart(&[1.0, f64::NAN], 0.0, interval(-1.0, 1.0)),
        Err(Error::NonFinite { index: 1, .. })
    ));
    for (shift, ci, field) in [
        (f64::NAN, interval(-1.0, 1.0), "shift"),
        (f64::INFINITY, interval(-1.0, 1.0), "shift"),
        (0.0, interval(f64::NAN, 1.0), "interval.lower"),
        (0.0, interval(-1.0, f64::NAN), "interval.upper"),
        (0.0, interval(1.0, -1.0), "interval.lower"),
        (
            0.0,
            ConfidenceInterval {
                lower: -1.0,
                upper: 1.0,
                level: 1.5,
            },
            "interval.level",
        ),
    ] {
        match chart(&[1.0, 2.0], shift, ci) {
            Err(Error::InvalidParameter { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
