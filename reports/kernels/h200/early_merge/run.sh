#!/usr/bin/env bash
# The early merge launch on the device machine: the checks (validation grid, [gpu] tests, memcheck,
# racecheck), then an A/B in one call: the same binary with the early launch (default) and with
# ATTNROOF_NO_EARLY_MERGE=1, and the previous binary (build-gpu-bin/attnroof_before, if carried),
# in turn, two rounds. Results into $OUT/results.tgz. A record of the call made with the binaries
# of 89d1182: the early launch and ATTNROOF_NO_EARLY_MERGE were reverted after it (README.md).
#   OUT=$OUT bash reports/kernels/h200/early_merge/run.sh
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=${OUT:?}
work=/tmp/early-merge
mkdir -p "$work"
OUT=$work/checks bash "$root/scripts/gpu-run.sh" checks >"$work/checks.log" 2>&1
echo "checks: exit $?"; grep -E "^== " "$work/checks.log" | tail -8
export LD_LIBRARY_PATH=/tmp/attnroof-deps/usr/lib/x86_64-linux-gnu
points=(--shapes gqa_tp8,mla,gla2_tp2,mlra4_tp4 --batches 1,8,64 --contexts 16k,512k,1m,2m
        --max-cache-gb 40 --graph-only --runs 20)
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw --format=csv -lms 500 \
  >"$work/clocks.csv" 2>/dev/null &
smi=$!
for round in 1 2; do
  "$root/build-gpu-bin/attnroof" bench-kernels "${points[@]}" --out-dir "$work/r${round}_early" \
    >"$work/r${round}_early.log" 2>&1
  ATTNROOF_NO_EARLY_MERGE=1 "$root/build-gpu-bin/attnroof" bench-kernels "${points[@]}" \
    --out-dir "$work/r${round}_late" >"$work/r${round}_late.log" 2>&1
  if [[ -x $root/build-gpu-bin/attnroof_before ]]; then
    "$root/build-gpu-bin/attnroof_before" bench-kernels "${points[@]}" \
      --out-dir "$work/r${round}_before" >"$work/r${round}_before.log" 2>&1
  fi
  echo "round $round done"
done
kill "$smi"
tar -C "$work" -czf "$out/results.tgz" .
