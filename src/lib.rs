#![doc = include_str!("../README.md")]
#![doc = include_str!("docs/architecture.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod arms;
#[cfg(feature = "serde")]
pub mod bench;
#[cfg(feature = "svg")]
pub mod chart;
mod error;
mod judge;
pub mod kayenta;
pub mod policy;
pub mod progressive;
#[cfg(feature = "serde")]
pub mod prometheus;
mod report;
pub mod sequential;
#[cfg(feature = "serde")]
mod serde_float;
pub mod series;
pub mod stats;

/// What a judgment holds: the verdict, its reasons, and each metric's classification with the
/// numbers behind it. Each type is made by the stage of the pipeline that fills it in
/// (comparison, tails, classification, scoring, verdict); the most used are also at the root.
pub mod judgment {
    #![doc = include_str!("docs/judgment.md")]
    pub use crate::judge::classify::{Classification, MetricJudgment};
    pub use crate::judge::compare::TestDetails;
    pub use crate::judge::score::GroupScore;
    pub use crate::judge::tails::TailResult;
    pub use crate::judge::verdict::{Judgment, Reason, Severity, Verdict};
    pub use crate::report::Unexpected;
}

pub use crate::arms::Arms;
pub use crate::error::{Arm, Error, Result};
pub use crate::judge::judge;
pub use crate::judgment::{Classification, Judgment, MetricJudgment, Reason, Severity, Verdict};
pub use crate::policy::{CanaryPolicy, Direction, MetricKind, MetricPolicy, Tolerance};
pub use crate::progressive::{Decision, ProgressiveAnalysis, ProgressivePolicy, ProgressiveRule};
pub use crate::series::{Block, CountPoint, Histogram, MetricData, Point, Series};
