//! The statistical tests and the special functions under them: rank tests with their
//! Hodges-Lehmann intervals, count tests, distribution tests, quantiles, multiple testing and the
//! serial-correlation correction. No policy types: every function here takes numbers and returns
//! numbers, and each names its formula and reference.
#![doc = include_str!("../docs/stats.md")]

pub(crate) mod alpha_share;
pub(crate) mod anderson_darling;
#[cfg(feature = "ndarray")]
mod arrays;
pub(crate) mod blocked;
pub(crate) mod counts;
pub(crate) mod dependence;
pub(crate) mod discrete;
pub(crate) mod dist;
pub(crate) mod effect_size;
pub(crate) mod exceedance;
pub(crate) mod fences;
pub(crate) mod histogram;
pub(crate) mod hodges_lehmann;
pub(crate) mod hypothesis;
pub(crate) mod incomplete_beta;
pub(crate) mod ks;
pub(crate) mod multiple_testing;
pub(crate) mod pairwise;
pub(crate) mod quantile;
pub(crate) mod quantile_compare;
pub(crate) mod rank_sum;
pub(crate) mod rank_sum_null;
pub(crate) mod ranks;
pub(crate) mod signed_rank;
pub(crate) mod sorted;
pub(crate) mod srm;
pub(crate) mod stirling;
pub(crate) mod summary;

pub use self::anderson_darling::{
    anderson_darling, anderson_ksamp, AndersonDarling, AD_SIGNIFICANCE_LEVELS,
};
pub use self::counts::{
    binom_test, fisher_exact, poisson_rate_test, prop_test, BinomialTest, CountTestConfig,
    Exposure, FisherExact, PoissonRateTest, Proportion, ProportionTest,
};
pub use self::dependence::Dependence;
pub use self::effect_size::EffectSizes;
pub use self::exceedance::{exceedance_test, Exceedance};
pub use self::fences::Fences;
pub use self::histogram::{
    histogram_ks, histogram_mann_whitney, histogram_quantile_compare, histogram_summary, Histogram,
};
pub use self::hodges_lehmann::{hodges_lehmann, HodgesLehmann};
pub use self::hypothesis::{Alternative, ConfidenceInterval, Method, MethodUsed};
pub use self::ks::{ks_2samp, KolmogorovSmirnov, KS_EXACT_BELOW};
pub use self::multiple_testing::{p_adjust, Adjustment};
pub use self::quantile::{quantile, quantile_sorted, quantiles, sorted_sample, QuantileType};
pub use self::quantile_compare::{
    quantile_compare, quantile_min_samples, ArmQuantile, QuantileCompareConfig, QuantileComparison,
};
pub use self::rank_sum::{mann_whitney, MannWhitney, MannWhitneyConfig, TwoSample, EXACT_BELOW};
pub use self::signed_rank::{PairedSample, PairedShift, SignedRank, SignedRankConfig};
pub use self::srm::{srm_binomial, srm_chi_squared, SrmTest};
pub use self::summary::Summary;
