#!/usr/bin/env bash
# More rounds of run.sh's A/B (alternatives 0 and 4 in turn, same binaries, no checks: run.sh's
# call made them), ROUNDS rounds numbered from FIRST_ROUND. Results into $OUT/results.tgz.
#   OUT=$OUT FIRST_ROUND=3 ROUNDS=3 bash reports/kernels/h200/score_order/rounds.sh
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out" /tmp/attnroof-deps
for f in "$root"/.deps/*.deb; do dpkg -x "$f" /tmp/attnroof-deps; done
export LD_LIBRARY_PATH=/tmp/attnroof-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
cli=$root/build-gpu-bin/attnroof
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv -lms 500 >"$out/clocks_rounds.csv" 2>&1 &
smi=$!
first=${FIRST_ROUND:-3}
for ((round = first; round < first + ${ROUNDS:-3}; ++round)); do
  for alt in 0 4; do
    bench() {  # name, flags...
      local name=$1; shift
      ATTNROOF_WGMMA_ALT=$alt timeout 150 "$cli" bench-kernels --out-dir "$out/${name}_alt${alt}_$round" \
        --graph-only --runs 20 --skip-ceilings "$@" >>"$out/bench_rounds.log" 2>&1
    }
    bench b1 --shapes mla,gla2_tp2 --batches 1,8 --contexts 512k,1m,2m --max-cache-gb 40
    bench flashmla --shapes mla,mla_h128 --batches 1,8,32,64,128 --contexts 1024,8192,16384
    bench q2 --shapes mla,mla_h128 --batches 1,16,64 --contexts 4096,65536 --q-tokens 2 \
      --max-cache-gb 40
  done
done
kill "$smi" 2>/dev/null
tar -C "$out" -czf /tmp/results.tgz . && find "$out" -mindepth 1 -delete && mv /tmp/results.tgz "$out/results.tgz"
