//! The statistical tests and the special functions under them: rank tests with their
//! Hodges-Lehmann intervals, count tests, distribution tests, quantiles, multiple testing and the
//! serial-correlation correction. No policy types: every function here takes numbers and returns
//! numbers, and each names its formula and reference.

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
