#!/usr/bin/env bash
# The seesaw for the 192/128 shards (MLRA-4, MLRA-2, TPLA), two CTAs per SM: alternative 2 of
# 192/128 (and of 576/512 and 320/256 the lockstep plans on bulk copies, the defaults before the
# seesaw). One device call with the binaries of scripts/gpu-run.sh prebuild carried: the full grid
# with the defaults (and the reduced grid per alternative), the full grid with alternative 2,
# memcheck and racecheck on the reduced grid with alternative 2; then MLRA-4 and MLA timed with
# alternatives 0 and 2 in turn (two rounds, paged and contiguous); then, if alternative 2
# validated, the calibration grid of scripts/gpu-run.sh calibrate for MLRA-4 alone with it.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out" /tmp/attnroof-deps
for f in "$root"/.deps/*.deb; do dpkg -x "$f" /tmp/attnroof-deps; done
export LD_LIBRARY_PATH=/tmp/attnroof-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
bin=$root/build-gpu-bin
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/run.log"
check() {  # name, command...
  local name=$1; shift
  ( timeout "${CHECK_TIMEOUT:-280}" "$@" >"$out/$name.log" 2>&1; echo $? >"$out/$name.rc" ) &
}
check validate "$bin/validate_kernels" --out "$out/validate.json"
check validate_alt2 env ATTNROOF_WGMMA_ALT=2 "$bin/validate_kernels" --out "$out/validate_alt2.json"
check memcheck_alt2 env ATTNROOF_WGMMA_ALT=2 compute-sanitizer --tool memcheck --error-exitcode 9 \
  "$bin/validate_kernels" --reduced --no-layer
check racecheck_alt2 env ATTNROOF_WGMMA_ALT=2 compute-sanitizer --tool racecheck --error-exitcode 9 \
  "$bin/validate_kernels" --reduced --no-layer
wait
for n in validate validate_alt2 memcheck_alt2 racecheck_alt2; do
  echo "== $n: exit $(cat "$out/$n.rc"); $(tail -n 1 "$out/$n.log")" | tee -a "$out/run.log"
done
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv -lms 500 >"$out/clocks.csv" 2>&1 &
smi=$!
for round in 1 2; do
  for alt in 0 2; do
    ceilings=--skip-ceilings
    [[ $round == 1 && $alt == 0 ]] && ceilings=
    echo "== round $round alt $alt" | tee -a "$out/run.log"
    ATTNROOF_WGMMA_ALT=$alt timeout 200 "$bin/bench_kernels" --out "$out/b1_alt${alt}_$round" \
      --shapes mlra4_tp4,mla --batches 1,8 --contexts 131072,524288,1048576,2097152 \
      --layouts paged,contiguous --graph-only --runs 20 $ceilings >>"$out/bench.log" 2>&1
  done
done
if [[ $(cat "$out/validate_alt2.rc") == 0 ]]; then
  echo "== calibration grid, MLRA-4, alternative 2" | tee -a "$out/run.log"
  ATTNROOF_WGMMA_ALT=2 timeout 200 "$bin/bench_kernels" --out "$out/calibrate_mlra4" --shapes mlra4_tp4 \
    --batches 1,2,4,8,16,32,64,128 --ctx-min 1024 --ctx-max 2097152 --layouts paged,contiguous \
    --ragged --passes 2 --graph-only --runs 15 --max-cache-gb 40 >>"$out/bench.log" 2>&1
  ATTNROOF_WGMMA_ALT=2 timeout 200 "$bin/bench_kernels" --out "$out/calibrate_q_mlra4" --shapes mlra4_tp4 \
    --batches 1,4,16,64 --ctx-min 1024 --ctx-max 262144 --layouts paged,contiguous --ragged \
    --q-tokens 2,4,8 --graph-only --runs 15 --max-cache-gb 40 >>"$out/bench.log" 2>&1
fi
kill "$smi" 2>/dev/null
tar -C "$out" -czf /tmp/results.tgz . && find "$out" -mindepth 1 -delete && mv /tmp/results.tgz "$out/results.tgz"
