#!/usr/bin/env bash
# Runs one fuzz target for a while: fuzz/run.sh <judge_json|kayenta_json|stats> [seconds=600]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); libFuzzer needs nightly flags, which
# RUSTC_BOOTSTRAP=1 unlocks on the stable toolchain. One process, one job, no sanitizer (the
# crate forbids unsafe code, so AddressSanitizer would find nothing the panics do not), debug
# assertions on (integer overflow panics). A panic, a run over 10 s, an allocation over 512 MB
# or a resident set over 2 GB is a crash: the input lands in fuzz/artifacts/<target>/. Keep
# each one (and any input worth replaying) in fixtures/fuzz/<target>/, which
# tests/fuzz_regressions.rs replays on every `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh <judge_json|kayenta_json|stats> [seconds]}
seconds=${2:-600}
corpus=corpus/$target
mkdir -p "$corpus" "artifacts/$target"
# Seeds: the checked-in regression inputs, plus the fixtures the examples judge.
if [ -d "../fixtures/fuzz/$target" ]; then cp -n ../fixtures/fuzz/"$target"/* "$corpus"/ 2>/dev/null || true; fi
case $target in
  judge_json) cp -n ../fixtures/canaries/*.json "$corpus"/ ;;
  kayenta_json) { cat ../fixtures/kayenta/config.json; printf '\0'; cat ../fixtures/kayenta/data.json; } > "$corpus/fixtures" ;;
esac
# Requests of a few hundred kilobytes (thousands of points per arm) are admitted: 512 KiB.
max_len=524288
[ "$target" = stats ] && max_len=4096
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --debug-assertions "$target" "$corpus" -- \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -malloc_limit_mb=512 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="artifacts/$target/"
