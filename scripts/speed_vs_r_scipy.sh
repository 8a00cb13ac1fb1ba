#!/usr/bin/env bash
# Times the rank-sum test with a Hodges-Lehmann shift and its 98% interval on the same seeded
# data in this crate, in R and in SciPy, and prints side-by-side ratios. Not run in CI: it needs
# R (`Rscript`) and Python with NumPy and SciPy. Run it on a quiet machine: the load averages
# before and after are printed with the table.
#
#     scripts/speed_vs_r_scipy.sh [sizes...]      # default: 1000 10000 100000 per arm
#     ROUNDS=5 scripts/speed_vs_r_scipy.sh        # rounds of the three tools (default 3)
#
# - R: `wilcox.test(canary, baseline, conf.int = TRUE, conf.level = 0.98)` (test, estimate and
#   interval in one call).
# - SciPy: `mannwhitneyu(canary, baseline)` (test only). SciPy has no Hodges-Lehmann estimator;
#   the script times the textbook one, `np.median(np.subtract.outer(canary, baseline))`, only
#   where its O(n·m) memory stays under ~1 GB, and prints n/a elsewhere.
# - This crate: examples/speed_vs_r.rs in release, `TwoSample::new` + `mann_whitney` +
#   `hodges_lehmann` (98% interval), sorting included.
# The tools run in interleaved rounds (crate, R, SciPy, crate, R, SciPy, ...), so that all three
# see the same machine; each time is the minimum over its rounds and in-process repetitions,
# data loading excluded. Data: log-normal latencies (seed 20261127), the canary 2% slower, no
# ties.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000 10000 100000}")
read -r -a sizes <<<"${sizes[*]}"
rounds=${ROUNDS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

python3 - "$dir" "${sizes[@]}" <<'PY'
import sys, numpy as np
d, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
rng = np.random.default_rng(20261127)
for n in sizes:
    b = 100 * np.exp(0.3 * rng.standard_normal(n))
    c = 102 * np.exp(0.3 * rng.standard_normal(n))
    b.astype('<f8').tofile(f"{d}/baseline_{n}.f64")
    c.astype('<f8').tofile(f"{d}/canary_{n}.f64")
PY

echo "building the crate's timer (release)..." >&2
cargo build -q --release --example speed_vs_r

run_rust() { target/release/examples/speed_vs_r "$dir" "${sizes[@]}"; }

run_r() {
  Rscript - "$dir" "${sizes[@]}" <<'R'
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]
for (n in as.integer(args[-1])) {
  rd <- function(f) readBin(f, "double", n = n, size = 8, endian = "little")
  b <- rd(sprintf("%s/baseline_%d.f64", d, n)); c <- rd(sprintf("%s/canary_%d.f64", d, n))
  reps <- if (n >= 100000) 1 else if (n >= 10000) 3 else 15
  t <- sapply(seq_len(reps), function(i) system.time(
    w <<- wilcox.test(c, b, conf.int = TRUE, conf.level = 0.98))[["elapsed"]])
  cat(n, min(t), sprintf("p=%.6e hl=%.6f", w$p.value, w$estimate), "\n")
}
R
}

run_py() {
  python3 - "$dir" "${sizes[@]}" <<'PY'
import sys, time, numpy as np
from scipy.stats import mannwhitneyu
d, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
def fastest(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t)
    return min(ts), r
for n in sizes:
    b = np.fromfile(f"{d}/baseline_{n}.f64", dtype='<f8')
    c = np.fromfile(f"{d}/canary_{n}.f64", dtype='<f8')
    reps = 5 if n >= 100000 else 15
    t, r = fastest(lambda: mannwhitneyu(c, b), reps)
    if n * n * 8 <= 1 << 30:
        th, hl = fastest(lambda: np.median(np.subtract.outer(c, b)), 3)
        print(n, t, th, f"p={r.pvalue:.6e} hl={hl:.6f}")
    else:
        print(n, t, "nan", f"p={r.pvalue:.6e} hl=n/a")
PY
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
rust="" r="" py=""
for ((k = 1; k <= rounds; k++)); do
  echo "round $k of $rounds..." >&2
  rust+=$(run_rust)$'\n'
  r+=$(run_r)$'\n'
  py+=$(run_py)$'\n'
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# The minimum of column `col` over the rounds' lines for size n.
fastest() { awk -v n="$1" -v col="$2" '$1 == n { v = $col + 0; if (!seen || v < m) m = v; seen = 1 } END { if (seen && m > 0) printf "%.9f", m; else print "nan" }'; }

echo
echo "R $(Rscript -e 'cat(paste(R.version$major, R.version$minor, sep = "."))'), SciPy $(python3 -c 'import scipy; print(scipy.__version__)'), canary-verdict $(grep -m1 '^version' Cargo.toml | cut -d'"' -f2); $rounds interleaved rounds; load before $load_before, after $load_after"
printf '%-8s %12s %14s %14s %16s %10s %10s\n' "n/arm" "crate (s)" "R wilcox (s)" "SciPy MWU (s)" "SciPy+HL (s)" "R/crate" "SciPy/crate"
for n in "${sizes[@]}"; do
  tc=$(fastest "$n" 2 <<<"$rust")
  tr=$(fastest "$n" 2 <<<"$r")
  tp=$(fastest "$n" 2 <<<"$py")
  th=$(fastest "$n" 3 <<<"$py")
  awk -v n="$n" -v c="$tc" -v r="$tr" -v p="$tp" -v h="$th" 'BEGIN {
    hl = (h == "nan") ? "n/a" : sprintf("%.6f", p + h);
    printf "%-8s %12.6f %14.6f %14.6f %16s %9.1fx %9.1fx\n", n, c, r, p, hl, r / c, p / c }'
done
echo
echo "answers (p-value, shift) for a sanity check, last round:"
paste -d'\n' <(tail -n "${#sizes[@]}" <<<"${rust%$'\n'}" | sed 's/^/crate /') \
  <(tail -n "${#sizes[@]}" <<<"${r%$'\n'}" | sed 's/^/R     /') \
  <(tail -n "${#sizes[@]}" <<<"${py%$'\n'}" | sed 's/^/SciPy /')
