//! Reports for people: every canary fixture judged and rendered as Markdown, compared with the
//! committed rendering in `fixtures/reports/` (set `CANARY_BLESS=1` to rewrite them after a
//! deliberate change and review the diff); names that try to break the table; and the test
//! expectations whose failure message is the verdict table.

use std::path::PathBuf;

use crate::common::fixture_path;
use canary_verdict::judgment::Unexpected;
use canary_verdict::{
    judge, Arms, CanaryPolicy, Classification, Direction, MetricData, MetricPolicy, Series, Verdict,
};

#[derive(serde::Deserialize)]
struct Request {
    #[serde(default)]
    expect: Option<Verdict>,
    policy: CanaryPolicy,
    metrics: Vec<MetricData>,
}

fn canary_fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_path("canaries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_canary_fixture_renders_as_its_committed_markdown() {
    let bless = std::env::var_os("CANARY_BLESS").is_some();
    let files = canary_fixtures();
    assert!(files.len() >= 8, "{} canary fixtures", files.len());
    for file in files {
        let request: Request = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let judgment = judge(&request.policy, &request.metrics).unwrap();
        // The fixture's expected decision, checked by `cargo test` as well as by .ci/examples.
        if let Some(expect) = request.expect {
            judgment.expect_verdict(expect).unwrap();
        }
        let markdown = judgment.to_markdown();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let expected_path = fixture_path(&format!("reports/{stem}.md"));
        if bless {
            std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
            std::fs::write(&expected_path, &markdown).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (CANARY_BLESS=1 writes it)",
                expected_path.display()
            )
        });
        assert_eq!(markdown, expected, "{stem}: the rendering changed");
        // The shape a renderer relies on: the verdict first, one table row per metric.
        assert!(markdown.starts_with(&format!("### Canary verdict: **{}**", judgment.verdict)));
        let rows = markdown.lines().filter(|l| l.starts_with("| ")).count();
        assert_eq!(rows, judgment.metrics.len() + 1, "{stem}");
    }
}

fn judged(name: &str, canary_errors: f64) -> canary_verdict::Judgment {
    let policy = CanaryPolicy::new(vec![MetricPolicy::counter(name, Direction::Increase)]);
    let data = [MetricData::new(
        name,
        Arms {
            baseline: Series::total(10.0, 100_000.0),
            canary: Series::total(canary_errors, 100_000.0),
        },
    )];
    judge(&policy, &data).unwrap()
}

#[test]
fn a_metric_name_cannot_break_the_table_or_inject_markup() {
    let name = "err|ors <script>*x*\n| forged | row |";
    let markdown = judged(name, 90.0).to_markdown();
    let rows: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 2, "{markdown}");
    // Seven columns: eight unescaped pipes on the metric's row.
    let unescaped = |row: &str| {
        let b = row.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    assert_eq!(unescaped(rows[1]), 8, "{}", rows[1]);
    assert!(!markdown.contains("<script>"), "{markdown}");
    assert!(markdown.contains("&lt;script&gt;"), "{markdown}");
    assert!(rows[1].contains("err\\|ors"), "{}", rows[1]);
}

#[test]
fn expectations_pass_through_or_explain_themselves_with_the_table() {
    let rollback = judged("errors", 90.0);
    assert_eq!(rollback.verdict, Verdict::Rollback);
    assert!(rollback
        .expect_rollback()
        .is_ok_and(|j| j.verdict == Verdict::Rollback));
    assert!(rollback
        .expect_metric("errors", Classification::High)
        .is_ok_and(|j| j.metrics.len() == 1));
    let failure: Unexpected = rollback.expect_promote().unwrap_err();
    assert_eq!(failure.expected, "PROMOTE, got ROLLBACK");
    assert_eq!(failure.table, rollback.to_string());
    assert_eq!(
        failure.to_string(),
        format!("expected PROMOTE, got ROLLBACK\n{rollback}")
    );
    assert_eq!(format!("{failure:?}"), failure.to_string());
    assert_eq!(
        rollback.expect_not_rollback().unwrap_err().expected,
        "no rollback, got ROLLBACK"
    );
    assert_eq!(
        rollback
            .expect_metric("errors", Classification::Pass)
            .unwrap_err()
            .expected,
        "\"errors\" to be PASS, got HIGH"
    );
    assert_eq!(
        rollback
            .expect_metric("latency", Classification::Pass)
            .unwrap_err()
            .expected,
        "\"latency\" to be PASS, not judged"
    );
    let healthy = judged("errors", 10.0);
    assert_eq!(healthy.verdict, Verdict::Promote);
    assert!(healthy.expect_promote().is_ok());
    assert!(healthy.expect_not_rollback().is_ok());
    assert!(healthy.expect_rollback().is_err());
}
