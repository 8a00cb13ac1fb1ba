#!/usr/bin/env bash
# Measures the bench gate on repeated runs of identical code: every ordered pair of runs gated
# one run against one run, and every (base, A/A, new) triple gated with `--aa`, each with the
# injected slowdowns given. Not run in CI: it needs saved criterion runs, for example
#
#     for r in r1 r2 r3 r4; do cargo bench --bench counts --bench tail -- --save-baseline $r; done
#     scripts/bench_gate_runs.sh target/criterion "r1 r2 r3 r4" 0 0.3 0.5 1.0
#
# Prints, per slowdown, the benchmark comparisons classified HIGH and the gate runs that exit 2.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:?usage: bench_gate_runs.sh <criterion folder> "<run names>" [slowdowns...]}
read -r -a runs <<<"${2:?the run names, in one argument}"
shift 2
slowdowns=("${@:-0}")
cargo build -q --release --example bench_gate
gate=target/release/examples/bench_gate
# Rows of the verdict table classified HIGH, and the gate's exit status.
count() { grep -cE '^  [^ ]+ +HIGH' <<<"$1" || true; }
for slow in "${slowdowns[@]}"; do
  pairs=0 high=0 total=0 fails=0
  for b in "${runs[@]}"; do for n in "${runs[@]}"; do
    [ "$b" = "$n" ] && continue
    rc=0; out=$("$gate" "$root" "$b" "$n" --inject-slowdown "$slow") || rc=$?
    rows=$(grep -cE '^  [^ ]+ +(PASS|HIGH|LOW|INCONCL|NODATA)' <<<"$out" || true)
    pairs=$((pairs + 1)); high=$((high + $(count "$out"))); total=$((total + rows))
    [ "$rc" -eq 2 ] && fails=$((fails + 1))
  done; done
  echo "slowdown $slow, one run against one: HIGH $high of $total comparisons; $fails of $pairs pairs exit 2"
  triples=0 high=0 total=0 fails=0 margins=""
  for b in "${runs[@]}"; do for a in "${runs[@]}"; do for n in "${runs[@]}"; do
    { [ "$b" = "$a" ] || [ "$b" = "$n" ] || [ "$a" = "$n" ]; } && continue
    rc=0; out=$("$gate" "$root" "$b" "$n" --aa "$a" --inject-slowdown "$slow") || rc=$?
    rows=$(grep -cE '^  [^ ]+ +(PASS|HIGH|LOW|INCONCL|NODATA)' <<<"$out" || true)
    triples=$((triples + 1)); high=$((high + $(count "$out"))); total=$((total + rows))
    [ "$rc" -eq 2 ] && fails=$((fails + 1))
    margins+="$(grep -o 'exceeds +[0-9.]*%' <<<"$out" | head -1 | cut -d' ' -f2) "
  done; done; done
  echo "slowdown $slow, with --aa: HIGH $high of $total comparisons; $fails of $triples triples exit 2; margins $margins"
done
