//! One integration-test binary (one link step): reference vectors from R and SciPy, properties,
//! and end-to-end checks.

#![allow(dead_code)]

mod architecture;
mod bad_input;
mod bench_gate;
mod bounds;
#[cfg(feature = "svg")]
mod chart;
mod common;
mod decision;
mod descriptive;
mod determinism;
mod engine;
mod fuzz_harness;
mod fuzz_regressions;
mod histogram;
mod kayenta;
mod progressive;
mod progressive_sim;
mod prometheus;
mod properties_rank;
mod reference_counts;
mod reference_descriptive;
mod reference_effect;
mod reference_ks;
mod reference_rank;
mod reference_signed_rank;
mod report;
mod sequential;
mod simulation;
mod tail;
mod tail_engine;
