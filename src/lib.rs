#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod alpha_share;
mod anderson_darling;
#[cfg(feature = "ndarray")]
mod arrays;
mod blocked;
mod classify;
mod cleaning;
mod compare;
mod counts;
mod dependence;
mod discrete;
mod dist;
mod effect_size;
mod error;
mod exceedance;
mod fences;
mod histogram;
mod histogram_compare;
mod hodges_lehmann;
mod hypothesis;
mod incomplete_beta;
mod judge;
pub mod kayenta;
mod ks;
mod multiple_testing;
mod pairwise;
mod policy;
mod progressive;
mod quantile;
mod quantile_compare;
mod rank_sum;
mod rank_sum_null;
mod ranks;
mod score;
mod sequential;
#[cfg(feature = "serde")]
mod serde_float;
mod series;
mod signed_rank;
mod sorted;
mod srm;
mod summary;
mod tails;
mod verdict;

pub use crate::anderson_darling::{
    anderson_darling, anderson_ksamp, AndersonDarling, AD_SIGNIFICANCE_LEVELS,
};
pub use crate::classify::{Classification, MetricJudgment};
pub use crate::compare::TestDetails;
pub use crate::counts::{
    binom_test, fisher_exact, poisson_rate_test, prop_test, BinomialTest, Exposure, FisherExact,
    PoissonRateTest, Proportion, ProportionTest,
};
pub use crate::dependence::Dependence;
pub use crate::effect_size::EffectSizes;
pub use crate::error::{Arm, Error, Result};
pub use crate::exceedance::{exceedance_test, Exceedance};
pub use crate::fences::Fences;
pub use crate::histogram::{histogram_ks, histogram_quantile_compare, Histogram};
pub use crate::histogram_compare::{histogram_mann_whitney, histogram_summary};
pub use crate::hodges_lehmann::{hodges_lehmann, HodgesLehmann, HodgesLehmannConfig};
pub use crate::hypothesis::{Alternative, ConfidenceInterval, Method, MethodUsed};
pub use crate::judge::judge;
#[cfg(feature = "serde")]
pub use crate::kayenta::{data_from_kayenta, policy_from_kayenta, policy_from_kayenta_strict};
pub use crate::kayenta::{
    judge_kayenta, round_half_up_2, KayentaDetails, KayentaGroupScore, KayentaLabel,
    KayentaMetadata, KayentaMetricResult, KayentaResult, KayentaResultMetadata, KayentaScore,
    KayentaScoreLabel, KayentaStats, KAYENTA_CONF_LEVEL, KAYENTA_JUDGE_NAME, KAYENTA_NODATA_SHARE,
    KAYENTA_TOLERANCE,
};
pub use crate::ks::{ks_2samp, KolmogorovSmirnov, KS_EXACT_BELOW};
pub use crate::multiple_testing::{p_adjust, Adjustment};
pub use crate::policy::{
    Bounds, CanaryPolicy, Comparator, Direction, EffectMeasure, MetricKind, MetricPolicy,
    MustHaveAction, NanPolicy, OutlierPolicy, RelativeBounds, ScoreThresholds, SrmAction,
    SrmPolicy, Statistic, Tolerance, DEFAULT_GROUP, MAX_ALPHA, MIN_ALPHA,
};
pub use crate::progressive::{
    ArgoRule, Decision, FlaggerRule, IntervalKind, IntervalRecord, KayentaRule, Measurement,
    MetricEvidence, NoDataAction, ProgressiveAnalysis, ProgressivePolicy, ProgressiveRule,
    SequentialRule, Window,
};
pub use crate::quantile::{quantile, quantile_sorted, quantiles, sorted_sample, QuantileType};
pub use crate::quantile_compare::{
    quantile_compare, quantile_min_samples, ArmQuantile, QuantileCompareConfig, QuantileComparison,
};
pub use crate::rank_sum::{mann_whitney, MannWhitney, MannWhitneyConfig, TwoSample, EXACT_BELOW};
pub use crate::score::GroupScore;
pub use crate::sequential::{
    rollback_threshold, CountEProcess, CountEProcessConfig, EProcess, MeanShiftEProcess,
    MeanShiftEProcessConfig, SrmEProcess, SrmEProcessConfig, VaryingSplitEProcess,
    VaryingSplitEProcessConfig,
};
pub use crate::series::{Block, CountPoint, MetricData, Point, Series};
pub use crate::signed_rank::{
    PairedSample, PairedShift, PairedShiftConfig, SignedRank, SignedRankConfig,
};
pub use crate::srm::{srm_binomial, srm_chi_squared, SrmTest};
pub use crate::summary::Summary;
pub use crate::tails::{TailAspect, TailResult};
pub use crate::verdict::{Judgment, Reason, Severity, Verdict};
