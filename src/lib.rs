#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod judge;
pub mod kayenta;
mod policy;
mod progressive;
mod sequential;
#[cfg(feature = "serde")]
mod serde_float;
mod series;
mod stats;

pub use crate::error::{Arm, Error, Result};
pub use crate::judge::classify::{Classification, MetricJudgment};
pub use crate::judge::compare::TestDetails;
pub use crate::judge::judge;
pub use crate::judge::score::GroupScore;
pub use crate::judge::tails::TailResult;
pub use crate::judge::verdict::{Judgment, Reason, Severity, Verdict};
#[cfg(feature = "serde")]
pub use crate::kayenta::{data_from_kayenta, policy_from_kayenta, policy_from_kayenta_strict};
pub use crate::kayenta::{
    judge_kayenta, round_half_up_2, KayentaDetails, KayentaGroupScore, KayentaLabel,
    KayentaMetadata, KayentaMetricResult, KayentaResult, KayentaResultMetadata, KayentaScore,
    KayentaScoreLabel, KayentaStats, KAYENTA_CONF_LEVEL, KAYENTA_JUDGE_NAME, KAYENTA_NODATA_SHARE,
    KAYENTA_TOLERANCE,
};
pub use crate::policy::{
    Bounds, CanaryPolicy, Comparator, Direction, EffectMeasure, MetricKind, MetricPolicy,
    MustHaveAction, NanPolicy, OutlierPolicy, RelativeBounds, ScoreThresholds, SrmAction,
    SrmPolicy, Statistic, TailAspect, Tolerance, DEFAULT_GROUP, MAX_ALPHA, MIN_ALPHA,
};
pub use crate::progressive::{
    ArgoRule, Decision, FlaggerRule, IntervalKind, IntervalRecord, KayentaRule, Measurement,
    MetricEvidence, NoDataAction, ProgressiveAnalysis, ProgressivePolicy, ProgressiveRule,
    SequentialRule, Window,
};
pub use crate::sequential::{
    rollback_threshold, CountEProcess, CountEProcessConfig, EProcess, MeanShiftEProcess,
    MeanShiftEProcessConfig, SrmEProcess, SrmEProcessConfig, VaryingSplitEProcess,
    VaryingSplitEProcessConfig,
};
pub use crate::series::{Block, CountPoint, MetricData, Point, Series};
pub use crate::stats::anderson_darling::{
    anderson_darling, anderson_ksamp, AndersonDarling, AD_SIGNIFICANCE_LEVELS,
};
pub use crate::stats::counts::{
    binom_test, fisher_exact, poisson_rate_test, prop_test, BinomialTest, Exposure, FisherExact,
    PoissonRateTest, Proportion, ProportionTest,
};
pub use crate::stats::dependence::Dependence;
pub use crate::stats::effect_size::EffectSizes;
pub use crate::stats::exceedance::{exceedance_test, Exceedance};
pub use crate::stats::fences::Fences;
pub use crate::stats::histogram::{histogram_ks, histogram_quantile_compare, Histogram};
pub use crate::stats::histogram::{histogram_mann_whitney, histogram_summary};
pub use crate::stats::hodges_lehmann::{hodges_lehmann, HodgesLehmann, HodgesLehmannConfig};
pub use crate::stats::hypothesis::{Alternative, ConfidenceInterval, Method, MethodUsed};
pub use crate::stats::ks::{ks_2samp, KolmogorovSmirnov, KS_EXACT_BELOW};
pub use crate::stats::multiple_testing::{p_adjust, Adjustment};
pub use crate::stats::quantile::{
    quantile, quantile_sorted, quantiles, sorted_sample, QuantileType,
};
pub use crate::stats::quantile_compare::{
    quantile_compare, quantile_min_samples, ArmQuantile, QuantileCompareConfig, QuantileComparison,
};
pub use crate::stats::rank_sum::{
    mann_whitney, MannWhitney, MannWhitneyConfig, TwoSample, EXACT_BELOW,
};
pub use crate::stats::signed_rank::{
    PairedSample, PairedShift, PairedShiftConfig, SignedRank, SignedRankConfig,
};
pub use crate::stats::srm::{srm_binomial, srm_chi_squared, SrmTest};
pub use crate::stats::summary::Summary;
