#!/usr/bin/env bash
# The seesaw with warpgroup 1 scoring V_R and RoPE before V_L (KernelChoice alternative 4 of
# 576/512 and 320/256) on the device machine,
# with the binaries of scripts/gpu-run.sh prebuild carried: checks first, all at once, each in its
# own log (the full grid with the defaults, which also runs the reduced grid on every alternative;
# the full grid on alternative 4; memcheck and racecheck on the reduced grid with alternative 4),
# then, if alternative 4 validated, the shipped seesaw (alternative 0) and alternative 4 timed
# in turn, two rounds, at the points of issues 11 and 12 that the latent kernel serves.
#   OUT=$OUT bash reports/kernels/h200/score_order/run.sh
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out" /tmp/attnroof-deps
for f in "$root"/.deps/*.deb; do dpkg -x "$f" /tmp/attnroof-deps; done
export LD_LIBRARY_PATH=/tmp/attnroof-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
cli=$root/build-gpu-bin/attnroof
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/run.log"
check() {  # name, command...
  local name=$1; shift
  ( timeout "${CHECK_TIMEOUT:-270}" "$@" >"$out/$name.log" 2>&1; echo $? >"$out/$name.rc" ) &
}
check validate "$cli" validate-kernels --out "$out/validate.json"
check validate_alt4 env ATTNROOF_WGMMA_ALT=4 "$cli" validate-kernels --out "$out/validate_alt4.json"
check memcheck_alt4 env ATTNROOF_WGMMA_ALT=4 compute-sanitizer --tool memcheck --error-exitcode 9 \
  "$cli" validate-kernels --reduced --no-layer
check racecheck_alt4 env ATTNROOF_WGMMA_ALT=4 compute-sanitizer --tool racecheck --error-exitcode 9 \
  "$cli" validate-kernels --reduced --no-layer
wait
for n in validate validate_alt4 memcheck_alt4 racecheck_alt4; do
  echo "== $n: exit $(cat "$out/$n.rc"); $(tail -n 1 "$out/$n.log")" | tee -a "$out/run.log"
done
if [[ $(cat "$out/validate_alt4.rc") == 0 ]]; then
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu \
    --format=csv -lms 500 >"$out/clocks.csv" 2>&1 &
  smi=$!
  for round in 1 2; do
    for alt in 0 4; do
      ceilings=--skip-ceilings
      [[ $round == 1 && $alt == 0 ]] && ceilings=
      echo "== round $round alt $alt" | tee -a "$out/run.log"
      bench() {  # name, flags... (skipped once the call nears its 600 s limit)
        local name=$1; shift
        (( SECONDS < ${BENCH_UNTIL:-500} )) || { echo "skipped $name (time)" | tee -a "$out/run.log"; return; }
        ATTNROOF_WGMMA_ALT=$alt timeout 150 "$cli" bench-kernels --out-dir "$out/${name}_alt${alt}_$round" \
          --graph-only --runs 20 "$@" >>"$out/bench.log" 2>&1
      }
      bench b1 --shapes mla,gla2_tp2 --batches 1,8 --contexts 512k,1m,2m --max-cache-gb 40 $ceilings
      bench flashmla --shapes mla,mla_h128 --batches 1,8,32,64,128 --contexts 1024,8192,16384 \
        --skip-ceilings
      bench q2 --shapes mla,mla_h128 --batches 1,16,64 --contexts 4096,65536 --q-tokens 2 \
        --max-cache-gb 40 --skip-ceilings
    done
  done
  kill "$smi" 2>/dev/null
  # Where alternative 4's warps wait, per SASS instruction (as ../ncu_source/), at the
  # compute-bound point.
  ATTNROOF_WGMMA_ALT=4 timeout 60 ncu --clock-control none --kernel-name regex:latent_wgmma \
    --launch-count 1 --section SpeedOfLight --section ComputeWorkloadAnalysis \
    --section WarpStateStats --section SourceCounters --import-source no -f -o /tmp/alt4 \
    "$cli" bench-kernels --shapes mla_h128 --batches 64 --contexts 8192 --runs 1 --warmup 0 \
    --graph-only --skip-ceilings --out-dir /tmp/ncu-bench >"$out/ncu_alt4.log" 2>&1
  ncu --import /tmp/alt4.ncu-rep --page details >"$out/ncu_alt4.details.txt" 2>&1
  ncu --import /tmp/alt4.ncu-rep --page source --csv --print-source sass >"$out/ncu_alt4.sass.csv" 2>&1
fi
tar -C "$out" -czf /tmp/results.tgz . && find "$out" -mindepth 1 -delete && mv /tmp/results.tgz "$out/results.tgz"
