//! Fuzz target `kayenta_json`: see `tests/fuzz_harness.rs`, which the regression test shares.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::kayenta_json(data));
