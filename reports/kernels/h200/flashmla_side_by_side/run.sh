#!/usr/bin/env bash
# FlashMLA (deepseek-ai/FlashMLA 9241ae3, SM90 dense decode, bf16, page 64) and our MLA kernels
# side by side in one device call, timed the same way (scripts/peers/flashmla_bench.cu). Carry
# build-gpu-bin/attnroof and build-gpu-bin/flashmla_bench (scripts/peers/build-flashmla-bench.sh)
# and .deps. FlashMLA's check against a float64 loop first, then ROUNDS rounds of: FlashMLA on
# every point, then ours on the same points.
#   OUT=$OUT bash reports/kernels/h200/flashmla_side_by_side/run.sh
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out" /tmp/attnroof-deps
for f in "$root"/.deps/*.deb; do dpkg -x "$f" /tmp/attnroof-deps; done
export LD_LIBRARY_PATH=/tmp/attnroof-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
cli=$root/build-gpu-bin/attnroof
fm=$root/build-gpu-bin/flashmla_bench
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/run.log"
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu \
  --format=csv -lms 100 >"$out/clocks.csv" 2>&1 &
smi=$!
"$fm" --check 2>&1 | tee -a "$out/run.log"
check_rc=${PIPESTATUS[0]}
echo "== flashmla check: exit $check_rc" | tee -a "$out/run.log"
grid=() long=() q2=()
for h in 64 128; do
  for b in 1 8 32 64 128; do for c in 1024 8192 16384; do grid+=("$h:$b:$c:1"); done; done
  for b in 1 16 64; do for c in 4096 65536; do q2+=("$h:$b:$c:2"); done; done
done
long=(64:1:1048576:1 64:1:2097152:1 64:8:1048576:1 128:1:1048576:1)
join() { local IFS=,; echo "$*"; }
if [[ $check_rc == 0 ]]; then
  for ((round = 1; round <= ${ROUNDS:-2}; ++round)); do
    echo "== round $round" | tee -a "$out/run.log"
    "$fm" --points "$(join "${grid[@]}" "${long[@]}" "${q2[@]}")" --runs 20 \
      --out "$out/flashmla_$round.csv" >>"$out/flashmla.log" 2>&1
    echo "flashmla: exit $?" | tee -a "$out/run.log"
    "$cli" bench-kernels --out-dir "$out/ours_grid_$round" --shapes mla,mla_h128 --batches 1,8,32,64,128 \
      --contexts 1024,8192,16384 --graph-only --runs 20 $([[ $round == 1 ]] || echo --skip-ceilings) \
      >>"$out/ours.log" 2>&1
    "$cli" bench-kernels --out-dir "$out/ours_long_$round" --shapes mla --batches 1,8 \
      --contexts 1048576,2097152 --max-cache-gb 40 --graph-only --runs 20 --skip-ceilings >>"$out/ours.log" 2>&1
    "$cli" bench-kernels --out-dir "$out/ours_h128long_$round" --shapes mla_h128 --batches 1 \
      --contexts 1048576 --graph-only --runs 20 --skip-ceilings >>"$out/ours.log" 2>&1
    "$cli" bench-kernels --out-dir "$out/ours_q2_$round" --shapes mla,mla_h128 --batches 1,16,64 \
      --contexts 4096,65536 --q-tokens 2 --max-cache-gb 40 --graph-only --runs 20 --skip-ceilings \
      >>"$out/ours.log" 2>&1
    echo "ours: exit $?" | tee -a "$out/run.log"
  done
fi
kill "$smi" 2>/dev/null
tar -C "$out" -czf /tmp/results.tgz . && find "$out" -mindepth 1 -delete && mv /tmp/results.tgz "$out/results.tgz"
