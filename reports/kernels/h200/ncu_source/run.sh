#!/usr/bin/env bash
# Where the shipped seesaw MLA kernel's cycles go, per SASS instruction: Nsight Compute with its
# warp-state sampling (SourceCounters) and the tensor-pipe counters at three points (compute-bound
# MLA-128 b64 8K, MLA b16 64K at q_tokens 2, memory-bound MLA b1 1M), each exported as the
# details page and the per-instruction source page (SASS, CSV). Binaries of scripts/gpu-run.sh
# prebuild carried; clocks left alone (--clock-control none).
#   OUT=$OUT bash reports/kernels/h200/ncu_source/run.sh
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
out=${OUT:-$root/gpu-out}
work=/tmp/ncu-source
mkdir -p "$out" "$work" /tmp/attnroof-deps
for f in "$root"/.deps/*.deb; do dpkg -x "$f" /tmp/attnroof-deps; done
export LD_LIBRARY_PATH=/tmp/attnroof-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
cli=$root/build-gpu-bin/attnroof
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$work/run.log"
ncu --version | tee -a "$work/run.log"
# Metrics this ncu knows, among those wanted (an unknown name would fail the whole run).
ncu --query-metrics --chip gh100 >"$work/metrics_available.txt" 2>&1
wanted="sm__pipe_tensor_op_gmma_cycles_active sm__inst_executed_pipe_tensor_op_gmma \
  l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st \
  l1tex__data_pipe_lsu_wavefronts_mem_shared sm__cycles_active smsp__inst_executed"
metrics=""
for m in $wanted; do
  if grep -qE "^$m( |$)" "$work/metrics_available.txt"; then metrics+="${metrics:+,}$m.sum,$m.avg.pct_of_peak_sustained_active"; fi
done
metrics=${metrics//smsp__inst_executed.avg.pct_of_peak_sustained_active/smsp__inst_executed.avg.per_cycle_active}
echo "metrics: $metrics" | tee -a "$work/run.log"
for point in mla_h128:64:8192:1 mla:16:65536:2 mla:1:1048576:1; do
  IFS=: read -r shape batch ctx q <<<"$point"
  name=${shape}_b${batch}_ctx${ctx}_q${q}
  timeout 150 ncu --clock-control none --kernel-name regex:latent_wgmma --launch-count 1 \
    --section SpeedOfLight --section ComputeWorkloadAnalysis --section WarpStateStats \
    --section SourceCounters --section SchedulerStats --section MemoryWorkloadAnalysis \
    ${metrics:+--metrics "$metrics"} --import-source no -f -o "$work/$name" \
    "$cli" bench-kernels --shapes "$shape" --batches "$batch" --contexts "$ctx" --q-tokens "$q" \
    --runs 1 --warmup 0 --graph-only --skip-ceilings --out-dir /tmp/ncu-bench >"$work/$name.log" 2>&1
  echo "== $name: exit $?" | tee -a "$work/run.log"
  ncu --import "$work/$name.ncu-rep" --page details >"$work/$name.details.txt" 2>&1
  ncu --import "$work/$name.ncu-rep" --page raw --csv >"$work/$name.raw.csv" 2>&1
  ncu --import "$work/$name.ncu-rep" --page source --csv --print-source sass >"$work/$name.sass.csv" 2>&1
  rm -f "$work/$name.ncu-rep"
done
tar -C "$work" -czf "$out/results.tgz" .
