//! One integration-test binary (one link step): reference vectors from R and SciPy, properties,
//! and end-to-end checks.

#![allow(dead_code)]

mod common;
mod reference_counts;
