#!/usr/bin/env bash
# Issue 11 item 2, the seesaw over pairs with each stage's halves refilled by their last readers:
# one device call with the binaries of scripts/gpu-run.sh prebuild carried. Alternatives (576/512;
# 320/256): 2 (the 32-key plan; the seesaw), 3 (the seesaw; the seesaw, producers syncing), 4 (the
# seesaw, producers syncing; none: the default). Checks first (all at once, each its own log): the
# full grid with the defaults (and the reduced grid per alternative), the full grid on
# alternative 3, racecheck on the reduced grid with alternatives 3 and 4, memcheck with 2. Then,
# if alternative 3 validated, MLA / MLA-128 / GLA-2 timed with alternatives 0, 2, 3 and 4 in
# turn, two rounds.
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
check validate_alt3 env ATTNROOF_WGMMA_ALT=3 "$bin/validate_kernels" --out "$out/validate_alt3.json"
check memcheck_alt2 env ATTNROOF_WGMMA_ALT=2 compute-sanitizer --tool memcheck --error-exitcode 9 \
  "$bin/validate_kernels" --reduced --no-layer
for alt in 3 4; do
  check racecheck_alt$alt env ATTNROOF_WGMMA_ALT=$alt compute-sanitizer --tool racecheck \
    --error-exitcode 9 "$bin/validate_kernels" --reduced --no-layer
done
wait
for n in validate validate_alt3 memcheck_alt2 racecheck_alt3 racecheck_alt4; do
  echo "== $n: exit $(cat "$out/$n.rc"); $(tail -n 1 "$out/$n.log")" | tee -a "$out/run.log"
done
if [[ $(cat "$out/validate_alt3.rc") == 0 ]]; then
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu \
    --format=csv -lms 500 >"$out/clocks.csv" 2>&1 &
  smi=$!
  for round in 1 2; do
    for alt in 0 2 3 4; do
      ceilings=--skip-ceilings
      [[ $round == 1 && $alt == 0 ]] && ceilings=
      echo "== round $round alt $alt" | tee -a "$out/run.log"
      ATTNROOF_WGMMA_ALT=$alt timeout 200 "$bin/bench_kernels" --out "$out/b1_alt${alt}_$round" \
        --shapes mla,gla2_tp2 --batches 1,8 --contexts 131072,524288,1048576,2097152 --graph-only --runs 20 \
        $ceilings >>"$out/bench.log" 2>&1
      ATTNROOF_WGMMA_ALT=$alt timeout 200 "$bin/bench_kernels" --out "$out/flashmla_alt${alt}_$round" \
        --shapes mla,mla_h128 --batches 1,8,32,64,128 --contexts 1024,8192,16384 --graph-only \
        --runs 20 --skip-ceilings >>"$out/bench.log" 2>&1
      ATTNROOF_WGMMA_ALT=$alt timeout 200 "$bin/bench_kernels" --out "$out/q2_alt${alt}_$round" \
        --shapes mla,mla_h128 --batches 1,16,64 --contexts 4096,65536 --q-tokens 2 --graph-only \
        --runs 20 --skip-ceilings --max-cache-gb 40 >>"$out/bench.log" 2>&1
    done
  done
  kill "$smi" 2>/dev/null
fi
tar -C "$out" -czf /tmp/results.tgz . && find "$out" -mindepth 1 -delete && mv /tmp/results.tgz "$out/results.tgz"
