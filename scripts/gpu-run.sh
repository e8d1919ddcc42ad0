#!/usr/bin/env bash
# gpu-run.sh MODE: the CUDA kernel checks and benchmarks on the device machine.
#   MODE: validate | test | bench | sanitize (memcheck, racecheck, synccheck) | all |
#         full (all + sanitize) | stress |
#         stress-sanitize | tp (the TP decode step and the collective sweep,
#         kernels/tp/README.md) | calibrate (below) | q-tokens (below) |
#         ncu (Nsight Compute sections at a few bench points, see the mode) |
#         durations (each decode and merge kernel's own time beside the step's, see the mode) |
#         bulk (the bulk-copy latent kernels checked, then timed against their cp.async
#         twins in the same call, see the mode) | checks (validate, [gpu] tests, memcheck,
#         racecheck and synccheck at once) | targets (checks, then the kernels' targets with the
#         shipped defaults, PyTorch SDPA beside GQA TP8, see the mode) | alt-ab (a KernelChoice
#         alternative checked, then timed against the defaults in turn) | ncu-source (Nsight
#         Compute's per-instruction warp sampling of the latent kernel) | flashmla (FlashMLA
#         beside our MLA kernels, scripts/peers/);
#         results under $OUT (default ./gpu-out)
#   calibrate: the measurement plan the time model is fitted to, into $OUT/calibrate/
#         (bench_kernels.json with "records" and "gemm_records", bench_kernels.csv,
#         measurements.csv, and clocks.csv: nvidia-smi's SM/memory clocks, power, temperature and
#         throttle reasons every 500 ms while it runs). Stage timeout 560 s (CAL_TIMEOUT);
#         CAL_ARGS adds `attnroof bench-kernels` flags; a repeated flag takes its last value, so
#         they override the plan's (CAL_ARGS="--passes 3 --contexts 1k:512k:x2").
#         Plan: 5 shapes x batch 1..128 (x2, 8 values) x ctx 1K..2M (x2, 12 values) x 2 layouts,
#         plus a ragged batch for each batch > 1, x 2 passes. --max-cache-gb 40 skips the points
#         whose cache exceeds 40 GB (batch x ctx >= 2^26 tokens for MLA/MLA-128 (1152 B/token) and
#         GLA-2 (640 B), >= 2^27 for GQA (512 B) and MLRA-4 (384 B)): 24 uniform + 24 ragged of
#         480 + 420 per layout, leaving 456 uniform + 396 ragged = 852 points per layout, 1704 per
#         pass, 3408 timed points in all, plus 72 projection GEMMs.
#         Device time (H200): the points read 4.5 TB per pass (ragged batches average ~0.56 x
#         ctx), 9 TB for 2 passes: 2.0 s per execution of every point at the read ceiling, but
#         the graph medians sum to 4.3 s (small points are launch-bound, MLA-128 compute-bound);
#         x 18 executions (3 warm-up + 15 timed, graph replay only) = 78 s, plus L2 flushes
#         (3408 x 15 x ~60 us = 3 s), per-point setup, ceilings and the GEMM probe. Measured on
#         an H200 (2026-12-01): the stage ran 86 s (SM clock 1455..1980 MHz: the board sat at its
#         700 W power cap, throttle reason 0x4, during the large points).
# Dependencies: the header-library .debs in .deps/ (git-ignored; fetch them once elsewhere with
#   mkdir -p .deps && cd .deps && apt-get download libeigen3-dev libfmt-dev libfmt9 libcli11-dev \
#     catch2 nlohmann-json3-dev
# and carry ".deps"). Binaries: build-gpu-bin/ when carried (built on the CPU machine by
# `scripts/gpu-run.sh prebuild`: the attnroof CLI, $BUILD_DIR/studies/attnroof, whose
# validate-kernels, bench-kernels, tp-step and tp-collectives every mode runs, and the [gpu]
# tests, attnroof_tests_kernels_gpu), else built here from the checkout.
# Environment: BENCH_ARGS (extra bench-kernels flags), VALIDATE_ARGS, STAGE_TIMEOUT (s, per stage),
#   TP_RANKS (tp: GPUs = NCCL ranks, default all visible), TP_ARGS, COLL_ARGS (extra flags),
#   CAL_ARGS, CAL_TIMEOUT (calibrate).
# q-tokens: the full validation grid (its q_tokens cases included), memcheck and
#   racecheck on the reduced grid's q_tokens cases, the [gpu] tests and STRESS_SECONDS (default
#   90) of stress rounds (about half of them q_tokens > 1), all at once; then bench-kernels --q-tokens
#   1,2,4,8 on MLA, MLA-128 and GQA TP8 at batch 1/16/64 x 4K/64K (QT_BENCH_ARGS adds flags) and
#   MLRA-4 vs MLA at q_tokens 1 and 2.
# Every mode ends by packing its results into one archive: with OUT set (the device machine),
# $OUT then holds results.tgz alone (the device tool returns 8 files).
# stress: `attnroof validate-kernels --stress` for STRESS_SECONDS (default 300) into
#   $OUT/stress.json, with clocks.csv beside it, then a few small rounds under compute-sanitizer
#   memcheck and initcheck (SANITIZE_STRESS_ROUNDS, default 4; 0.5 GB caches). STRESS_ARGS adds
#   flags (--seed N replays a run).
# stress-sanitize: memcheck, initcheck, racecheck and synccheck on single stress rounds
#   with caches past 2^31 elements (STRESS_SANITIZE_ROUNDS="GB:SEED ...", see the mode below).
set -uo pipefail
mode=${1:-all}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
deps=/tmp/attnroof-deps
stage_timeout=${STAGE_TIMEOUT:-280}

if [[ $mode == prebuild ]]; then  # CPU machine: build the GPU binaries to carry
  build=${BUILD_DIR:-$root/build-cuda}
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j "$(nproc)" --target attnroof attnroof_tests_kernels_gpu
  mkdir -p "$root/build-gpu-bin"
  cp "$build"/kernels/harness/attnroof_tests_kernels_gpu "$build"/studies/attnroof "$root/build-gpu-bin/"
  exit 0
fi

mkdir -p "$deps"
for f in "$root"/.deps/*.deb; do dpkg -x "$f" "$deps"; done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/run.log"

# cli: the attnroof binary (every GPU tool is one of its commands); gpu_tests: the [gpu] tests.
cli=$root/build-gpu-bin/attnroof
gpu_tests=$root/build-gpu-bin/attnroof_tests_kernels_gpu
if [[ ! -x $cli || ! -x $gpu_tests ]]; then
  cli=/tmp/attnroof-build/studies/attnroof
  gpu_tests=/tmp/attnroof-build/kernels/harness/attnroof_tests_kernels_gpu
  { cmake -S "$root" -B /tmp/attnroof-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$deps/usr" &&
    cmake --build /tmp/attnroof-build -j "$(nproc)" \
      --target attnroof attnroof_tests_kernels_gpu; } >>"$out/run.log" 2>&1 ||
    { echo "build failed (see run.log)"; tail -40 "$out/run.log"; exit 1; }
fi

status=0
run_stage() {  # name, command...
  local name=$1; shift
  echo "== $name: $*" | tee -a "$out/run.log"
  local t0=$SECONDS
  timeout "$stage_timeout" "$@" 2>&1 | tee -a "$out/stages.log"
  local rc=${PIPESTATUS[0]}
  echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$out/run.log"
  [[ $rc -eq 0 ]] || status=1
}
# Checks that share the GPU, each in its own process and log: run_checks starts one in the
# background (log $out/NAME.log, exit status $out/NAME.rc); wait_checks NAME... waits for them all
# and reports each.
run_checks() {  # name, command...
  local name=$1; shift
  ( timeout "$stage_timeout" "$@" >"$out/$name.log" 2>&1; echo $? >"$out/$name.rc" ) &
}
# nvidia-smi's clock, power and temperature samples every INTERVAL ms into FILE while the stages
# run: start_clock_log FILE INTERVAL [more query fields]; stop_clock_log ends it.
start_clock_log() {
  nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu${3:+,$3} \
    --format=csv -lms "$2" >"$1" 2>&1 &
  smi_pid=$!
}
stop_clock_log() {
  kill "$smi_pid" 2>/dev/null
  wait "$smi_pid" 2>/dev/null
}
# The MLA points FlashMLA is compared at (reports/kernels/h200/flashmla_side_by_side/): 64 and 128
# heads at batch 1-128 x 1K-16K, and at q_tokens 2 at batch 1-64 x 4K and 64K, each benchmark into
# $out/NAME/: bench_mla_grid NAME [bench flags], bench_mla_q2 NAME [bench flags].
bench_mla_grid() {
  local name=$1; shift
  run_stage "$name" "$cli" bench-kernels --out-dir "$out/$name" \
    --shapes mla,mla_h128 --batches 1,8,32,64,128 --contexts 1024,8192,16384 --graph-only \
    --runs 20 "$@"
}
bench_mla_q2() {
  local name=$1; shift
  run_stage "$name" "$cli" bench-kernels --out-dir "$out/$name" \
    --shapes mla,mla_h128 --batches 1,16,64 --contexts 4096,65536 --q-tokens 2 \
    --max-cache-gb 40 --graph-only --runs 20 "$@"
}
wait_checks() {  # name...
  wait
  local name rc
  for name in "$@"; do
    rc=$(cat "$out/$name.rc" 2>/dev/null || echo missing)
    echo "== $name: exit $rc; $(tail -n 1 "$out/$name.log")" | tee -a "$out/run.log"
    [[ $rc == 0 ]] || status=1
  done
}

if [[ $mode == validate || $mode == all || $mode == full ]]; then
  run_stage validate "$cli" validate-kernels -o "$out/validate.json" ${VALIDATE_ARGS:-}
fi
if [[ $mode == test || $mode == all || $mode == full ]]; then
  run_stage test "$gpu_tests"
fi
if [[ $mode == bench || $mode == all || $mode == full ]]; then
  run_stage bench "$cli" bench-kernels --out-dir "$out" ${BENCH_ARGS:-}
fi
if [[ $mode == sanitize || $mode == full ]]; then
  run_stage memcheck compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced ${SANITIZE_ARGS:-}
  run_stage racecheck compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced ${SANITIZE_ARGS:-}
  run_stage synccheck compute-sanitizer --tool synccheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced ${SANITIZE_ARGS:-}
fi
if [[ $mode == stress ]]; then
  start_clock_log "$out/clocks.csv" 1000 memory.used
  saved_timeout=$stage_timeout
  stage_timeout=$(( ${STRESS_SECONDS:-300} + 120 ))  # a round started at the limit finishes
  run_stage stress "$cli" validate-kernels --stress 1000000 --stress-seconds "${STRESS_SECONDS:-300}" \
    -o "$out/stress.json" ${STRESS_ARGS:-}
  stage_timeout=$saved_timeout
  stop_clock_log
  for tool in memcheck initcheck; do
    run_stage "stress_$tool" compute-sanitizer --tool "$tool" --error-exitcode 9 \
      "$cli" validate-kernels --stress "${SANITIZE_STRESS_ROUNDS:-4}" --stress-max-cache-gb 0.5 \
      --stress-repeats 2 -o "$out/stress_$tool.json"
  done
fi
if [[ $mode == stress-sanitize ]]; then
  # Each listed round under all four compute-sanitizer tools. "GB:SEED" replays round SEED drawn
  # with --stress-max-cache-gb GB (the draw depends on the limit). The defaults are rounds whose
  # cache holds more than 2^31 elements, paged with tables of 2^25 entries or contiguous, both
  # kernel families (picked on the CPU with draw_stress_case; reports/kernels/h200/issue16/).
  for tool in memcheck initcheck racecheck synccheck; do
    for round in ${STRESS_SANITIZE_ROUNDS:-8:21416 8:5154 8:1057 12:1932 12:2619}; do
      run_stage "stress_${tool}_${round#*:}" compute-sanitizer --tool "$tool" --error-exitcode 9 \
        "$cli" validate-kernels --stress 1 --seed "${round#*:}" --stress-max-cache-gb "${round%%:*}" \
        --stress-repeats 1
    done
  done
fi
if [[ $mode == calibrate ]]; then
  mkdir -p "$out/calibrate"
  # The throttle-reason field's older name; drivers that dropped it know clocks_event_reasons.
  reasons=clocks_throttle_reasons.active
  nvidia-smi --query-gpu=$reasons --format=csv,noheader >/dev/null 2>&1 ||
    reasons=clocks_event_reasons.active
  start_clock_log "$out/calibrate/clocks.csv" 500 $reasons
  saved_timeout=$stage_timeout
  stage_timeout=${CAL_TIMEOUT:-560}
  run_stage calibrate "$cli" bench-kernels --out-dir "$out/calibrate" --batches 1:128:x2 \
    --contexts 1k:2m:x2 --layouts paged,contiguous --ragged --passes 2 --graph-only \
    --gemm-probe --runs 15 --max-cache-gb 40 ${CAL_ARGS:-}
  # The q_tokens axis: 2, 4 and 8 new tokens per sequence on a coarser grid.
  run_stage calibrate_q "$cli" bench-kernels --out-dir "$out/calibrate_q" --batches 1,4,16,64 \
    --contexts 1k:256k:x2 --layouts paged,contiguous --ragged --q-tokens 2,4,8 \
    --graph-only --runs 15 --max-cache-gb 40 ${CAL_Q_ARGS:-}
  stage_timeout=$saved_timeout
  stop_clock_log
fi
if [[ $mode == q-tokens ]]; then
  # The checks share the GPU, each in its own process and log (about 4 minutes together on an
  # H200 instead of 7 one after another); the benchmarks then run alone.
  run_checks validate "$cli" validate-kernels -o "$out/validate.json"
  run_checks gpu_tests "$gpu_tests"
  run_checks memcheck_q compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced --no-layer ${QT_SANITIZE_ARGS:---filter q_tokens}
  run_checks racecheck_q compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced --no-layer ${QT_SANITIZE_ARGS:---filter q_tokens}
  run_checks stress "$cli" validate-kernels --stress 1000000 --stress-seconds "${STRESS_SECONDS:-90}" \
    --stress-max-cache-gb 24 -o "$out/stress.json"
  wait_checks validate gpu_tests memcheck_q racecheck_q stress
  run_stage bench_q "$cli" bench-kernels --out-dir "$out/bench_q" --shapes mla,mla_h128,gqa_tp8 \
    --batches 1,16,64 --contexts 4096,65536 --q-tokens 1,2,4,8 --graph-only --runs 15 \
    ${QT_BENCH_ARGS:-}
  # The MLRA-4 vs MLA comparison's q_tokens = 2 row (reports/kernels/h200/README.md).
  run_stage bench_q_mlra4 "$cli" bench-kernels --out-dir "$out/bench_q_mlra4" --shapes mlra4_tp4,mla \
    --batches 1,16 --contexts 65536,1048576 --q-tokens 1,2 --graph-only --runs 15
fi
if [[ $mode == bulk ]]; then
  # The bulk-copy latent kernels: the checks at once, each in its own process and log
  # (the full grid with the defaults and again with ATTNROOF_WGMMA_ALT=1, the cp.async twins; the
  # [gpu] tests; memcheck and racecheck on the reduced grid), then the same benchmarks with the
  # bulk-copy defaults and with the cp.async twins, one after the other in one call: batch 1 at
  # 128K-2M, the FlashMLA points, and q_tokens = 2.
  run_checks validate "$cli" validate-kernels -o "$out/validate.json"
  run_checks validate_alt1 env ATTNROOF_WGMMA_ALT=1 "$cli" validate-kernels -o "$out/validate_alt1.json"
  run_checks gpu_tests "$gpu_tests"
  run_checks memcheck compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced --no-layer
  run_checks racecheck compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$cli" validate-kernels -o /dev/null --reduced --no-layer
  wait_checks validate validate_alt1 gpu_tests memcheck racecheck
  start_clock_log "$out/clocks.csv" 500
  for alt in 0 1; do
    export ATTNROOF_WGMMA_ALT=$alt
    run_stage "bench_b1_alt$alt" "$cli" bench-kernels --out-dir "$out/b1_alt$alt" \
      --shapes gqa_tp8,mla,gla2_tp2,mlra4_tp4 --batches 1,8 --contexts 131072,524288,1048576,2097152 \
      --graph-only --runs 20 ${BULK_BENCH_ARGS:-}
    run_stage "bench_flashmla_alt$alt" "$cli" bench-kernels --out-dir "$out/flashmla_alt$alt" \
      --shapes mla,mla_h128 --batches 1,8,32,64,128 --contexts 1024,8192,16384,1048576 \
      --max-cache-gb 40 --graph-only --runs 20 --skip-ceilings ${BULK_BENCH_ARGS:-}
    run_stage "bench_q2_alt$alt" "$cli" bench-kernels --out-dir "$out/q2_alt$alt" \
      --shapes mla,mla_h128 --batches 1,16,64 --contexts 4096,65536 --q-tokens 2 \
      --graph-only --runs 20 --skip-ceilings ${BULK_BENCH_ARGS:-}
  done
  # MLA's third plan (32-key bulk tiles, 4 stages).
  export ATTNROOF_WGMMA_ALT=2
  run_stage bench_b1_alt2 "$cli" bench-kernels --out-dir "$out/b1_alt2" --shapes mla --batches 1 \
    --contexts 131072,524288,1048576,2097152 --graph-only --runs 20 ${BULK_BENCH_ARGS:-}
  run_stage bench_flashmla_alt2 "$cli" bench-kernels --out-dir "$out/flashmla_alt2" \
    --shapes mla,mla_h128 --batches 1,8,32,64,128 --contexts 1024,8192,16384,1048576 \
    --max-cache-gb 40 --graph-only --runs 20 --skip-ceilings ${BULK_BENCH_ARGS:-}
  unset ATTNROOF_WGMMA_ALT
  stop_clock_log
fi
if [[ $mode == checks || $mode == targets ]]; then
  # The checks at once, each in its own process and log: the full grid (then the reduced grid
  # with every alternative plan), the [gpu] tests, memcheck, racecheck and synccheck on the
  # reduced grid (alternatives included).
  run_checks validate "$cli" validate-kernels -o "$out/validate.json"
  run_checks gpu_tests "$gpu_tests"
  for tool in memcheck racecheck synccheck; do
    run_checks $tool compute-sanitizer --tool $tool --error-exitcode 9 \
      "$cli" validate-kernels -o /dev/null --reduced --no-layer
  done
  wait_checks validate gpu_tests memcheck racecheck synccheck
fi
if [[ $mode == targets ]]; then
  # The kernels' targets with the shipped defaults, after the checks above: batch 1 and 8 at
  # 128K-2M on the four paper shapes (paged and contiguous), the FlashMLA points, and PyTorch SDPA
  # on the GQA TP8 shape (scripts/measure-sdpa.py, contiguous cache, batch 1, 16K-2M) right after
  # ours in the same call.
  start_clock_log "$out/clocks.csv" 500
  run_stage bench_b1 "$cli" bench-kernels --out-dir "$out/b1" --shapes gqa_tp8,mla,gla2_tp2,mlra4_tp4 \
    --batches 1,8 --contexts 131072,524288,1048576,2097152 --layouts paged,contiguous \
    --graph-only --runs 20 --passes 2
  run_stage bench_gqa "$cli" bench-kernels --out-dir "$out/gqa" --shapes gqa_tp8 --batches 1 \
    --contexts 16384,131072,524288,1048576,2097152 --layouts contiguous --graph-only --runs 20 \
    --passes 2
  run_stage sdpa python3 "$root/scripts/measure-sdpa.py" --out "$out/sdpa.csv" --shapes 8:1:128 \
    --batches 1 --contexts 16384,131072,524288,1048576,2097152 --read-ceiling-from "$out/gqa/bench_kernels.json"
  run_stage bench_flashmla "$cli" bench-kernels --out-dir "$out/flashmla" --shapes mla,mla_h128 \
    --batches 1,8,32,64,128 --contexts 1024,8192,16384,1048576 --max-cache-gb 40 --graph-only \
    --runs 20 --skip-ceilings
  stop_clock_log
fi
if [[ $mode == ncu ]]; then
  # Nsight Compute sections of the decode and merge kernels at a few bench points, one text
  # report each under $OUT/ncu/ (NCU_POINTS="shape:batch:ctx:q_tokens ..."). Clocks are left
  # alone (--clock-control none); ncu flushes the caches before each profiled kernel.
  # NCU_ARGS adds ncu flags (more sections: NCU_ARGS="--section ComputeWorkloadAnalysis").
  mkdir -p "$out/ncu"
  for point in ${NCU_POINTS:-mla:1:1048576:1 mlra4_tp4:1:1048576:1 gqa_tp8:1:1048576:1 \
                 mla_h128:64:8192:1 mla:16:65536:2}; do
    IFS=: read -r shape batch ctx q <<<"$point"
    run_stage "ncu_$shape" ncu --clock-control none --kernel-name regex:'latent_wgmma|split_kv_decode|merge' \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy \
      --section WarpStateStats --section SchedulerStats --section LaunchStats ${NCU_ARGS:-} \
      "$cli" bench-kernels --shapes "$shape" --batches "$batch" --contexts "$ctx" --q-tokens "$q" \
      --runs 1 --warmup 0 --graph-only --skip-ceilings --out-dir /tmp/attnroof-ncu-bench
    cp "$out/stages.log" "$out/ncu/${shape}_b${batch}_ctx${ctx}_q${q}.txt" && : >"$out/stages.log"
  done
fi
if [[ $mode == durations ]]; then
  # Where a split step's time goes: each decode and merge kernel's own duration (Nsight Compute,
  # gpu__time_duration with the caches left alone, so the merge reads the partials from L2 as in a
  # real step; clocks left alone) and, in a second process, the step timed as bench-kernels times
  # it, per shape, into $OUT/durations/ (ncu_SHAPE.csv, bench_SHAPE/). DURATION_ARGS: the points
  # (default the four paper shapes at batch 1, 512K-2M). The device machine has no Nsight Systems.
  mkdir -p "$out/durations"
  for shape in ${DURATION_SHAPES:-gqa_tp8 mla gla2_tp2 mlra4_tp4}; do
    points=(--shapes "$shape" ${DURATION_ARGS:---batches 1 --contexts 512k:2m:x2})
    run_stage "durations_$shape" ncu --cache-control none --clock-control none --csv \
      --kernel-name regex:'latent_wgmma|split_kv_decode|merge' \
      --metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,dram__bytes_read.sum \
      "$cli" bench-kernels "${points[@]}" --runs 5 --warmup 1 --graph-only --skip-ceilings \
      --out-dir /tmp/attnroof-durations
    cp "$out/stages.log" "$out/durations/ncu_$shape.csv" && : >"$out/stages.log"
    run_stage "bench_$shape" "$cli" bench-kernels "${points[@]}" --runs 20 --graph-only \
      --out-dir "$out/durations/bench_$shape"
  done
fi
if [[ $mode == alt-ab ]]; then
  # A KernelChoice alternative (ALT, default 4) against the defaults in one call. Unless
  # SKIP_CHECKS=1, the checks at once: the full grid with the defaults (which also runs the
  # reduced grid on every alternative), the full grid on ALT, memcheck and racecheck on the
  # reduced grid with ALT. Then, if ALT validated, ROUNDS rounds (default 2, numbered from
  # FIRST_ROUND, default 1) of the defaults and ALT in turn at the latent points of issues 11 and
  # 12: MLA and GLA-2 at batch 1 and 8 x 512K-2M, MLA and MLA-128 at batch 1-128 x 1K-16K, and at
  # q_tokens 2, into $out/{b1,flashmla,q2}_alt{0,ALT}_ROUND/; with AB_SET=separate instead GQA
  # TP8 at batch 1, 16, 64 x 4K, 64K x q_tokens 1, 2, 4, 8 and at batch 1 and 8 x 512K-2M, into
  # $out/{gqa,gqa_long}_alt{0,ALT}_ROUND/. scripts/alt-ab-summary.py pairs the rounds. (Where
  # ALT's warps wait: ATTNROOF_WGMMA_ALT=ALT with the ncu-source mode.)
  alt=${ALT:-4}
  alt_ok=1
  if [[ ${SKIP_CHECKS:-0} != 1 ]]; then
    run_checks validate "$cli" validate-kernels -o "$out/validate.json"
    run_checks "validate_alt$alt" env ATTNROOF_WGMMA_ALT=$alt "$cli" validate-kernels \
      -o "$out/validate_alt$alt.json"
    for tool in memcheck racecheck; do
      run_checks "${tool}_alt$alt" env ATTNROOF_WGMMA_ALT=$alt compute-sanitizer --tool $tool \
        --error-exitcode 9 "$cli" validate-kernels -o /dev/null --reduced --no-layer
    done
    wait_checks validate "validate_alt$alt" "memcheck_alt$alt" "racecheck_alt$alt"
    [[ $(cat "$out/validate_alt$alt.rc") == 0 ]] || alt_ok=0
  fi
  if (( alt_ok )); then
    start_clock_log "$out/clocks.csv" 500
    first=${FIRST_ROUND:-1}
    for ((round = first; round < first + ${ROUNDS:-2}; ++round)); do
      for a in 0 "$alt"; do
        ceilings=--skip-ceilings
        [[ $round == "$first" && $a == 0 ]] && ceilings=
        export ATTNROOF_WGMMA_ALT=$a
        if [[ ${AB_SET:-latent} == separate ]]; then
          run_stage "gqa_alt${a}_$round" "$cli" bench-kernels --out-dir "$out/gqa_alt${a}_$round" \
            --shapes gqa_tp8 --batches 1,16,64 --contexts 4096,65536 --q-tokens 1,2,4,8 \
            --graph-only --runs 20 $ceilings
          run_stage "gqa_long_alt${a}_$round" "$cli" bench-kernels --out-dir "$out/gqa_long_alt${a}_$round" \
            --shapes gqa_tp8 --batches 1,8 --contexts 512k,1m,2m --q-tokens 1,4 --max-cache-gb 40 \
            --graph-only --runs 20 --skip-ceilings
        else
          run_stage "b1_alt${a}_$round" "$cli" bench-kernels --out-dir "$out/b1_alt${a}_$round" \
            --shapes mla,gla2_tp2 --batches 1,8 --contexts 512k,1m,2m --max-cache-gb 40 \
            --graph-only --runs 20 $ceilings
          bench_mla_grid "flashmla_alt${a}_$round" --skip-ceilings
          bench_mla_q2 "q2_alt${a}_$round" --skip-ceilings
        fi
      done
    done
    unset ATTNROOF_WGMMA_ALT
    stop_clock_log
  fi
fi
if [[ $mode == ncu-source ]]; then
  # Where a latent kernel's warps wait, per SASS instruction: Nsight Compute (clocks left alone)
  # with its warp-state sampling (SourceCounters), the tensor-pipe and shared-memory counters this
  # ncu knows, at NCU_SOURCE_POINTS ("shape:batch:ctx:q_tokens ...", default MLA-128 b64 8K, MLA
  # b16 64K at q_tokens 2, MLA b1 1M), each exported under $out/ncu_source/ as the details page
  # (.details.txt), the raw page (.raw.csv) and the per-instruction source page (SASS, .source.csv).
  mkdir -p "$out/ncu_source"
  ncu --query-metrics --chip gh100 >/tmp/attnroof-ncu-metrics.txt 2>&1
  metrics=""
  for m in sm__inst_executed_pipe_tensor_op_gmma l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld \
           l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st l1tex__data_pipe_lsu_wavefronts_mem_shared \
           sm__cycles_active; do
    grep -qE "^$m( |$)" /tmp/attnroof-ncu-metrics.txt &&
      metrics+="${metrics:+,}$m.sum,$m.avg.pct_of_peak_sustained_active"
  done
  for point in ${NCU_SOURCE_POINTS:-mla_h128:64:8192:1 mla:16:65536:2 mla:1:1048576:1}; do
    IFS=: read -r shape batch ctx q <<<"$point"
    name=$out/ncu_source/${shape}_b${batch}_ctx${ctx}_q${q}
    run_stage "ncu_source_$shape" ncu --clock-control none --kernel-name regex:latent_wgmma --launch-count 1 \
      --section SpeedOfLight --section ComputeWorkloadAnalysis --section WarpStateStats \
      --section SourceCounters --section SchedulerStats --section MemoryWorkloadAnalysis \
      ${metrics:+--metrics "$metrics"} --import-source no -f -o /tmp/attnroof-ncu-source \
      "$cli" bench-kernels --shapes "$shape" --batches "$batch" --contexts "$ctx" --q-tokens "$q" \
      --runs 1 --warmup 0 --graph-only --skip-ceilings --out-dir /tmp/attnroof-ncu-bench
    report=/tmp/attnroof-ncu-source.ncu-rep
    ncu --import "$report" --page details >"$name.details.txt" 2>&1
    ncu --import "$report" --page raw --csv >"$name.raw.csv" 2>&1
    ncu --import "$report" --page source --csv --print-source sass >"$name.source.csv" 2>&1
  done
fi
if [[ $mode == flashmla ]]; then
  # FlashMLA beside our MLA kernels in one call (reports/kernels/h200/flashmla_side_by_side/):
  # carry build-gpu-bin/flashmla_bench (scripts/peers/build-flashmla-bench.sh) with the usual
  # binaries. FlashMLA against a float64 loop first; if it passes, ROUNDS rounds (default 2) of
  # FlashMLA on every point, then ours on the same points (batch 1-128 x 1K-16K at 64 and 128
  # heads, batch 1 and 8 at 1M-2M, q_tokens 2 at batch 1-64 x 4K and 64K).
  fm=$root/build-gpu-bin/flashmla_bench
  start_clock_log "$out/clocks.csv" 100
  run_stage flashmla_check "$fm" --check
  if [[ $status == 0 ]]; then
    points=()
    for h in 64 128; do
      for b in 1 8 32 64 128; do for c in 1024 8192 16384; do points+=("$h:$b:$c:1"); done; done
    done
    points+=(64:1:1048576:1 64:1:2097152:1 64:8:1048576:1 128:1:1048576:1)
    for h in 64 128; do for b in 1 16 64; do for c in 4096 65536; do points+=("$h:$b:$c:2"); done; done; done
    for ((round = 1; round <= ${ROUNDS:-2}; ++round)); do
      run_stage "flashmla_$round" "$fm" --points "$(IFS=,; echo "${points[*]}")" --runs 20 \
        --out "$out/flashmla_$round.csv"
      ceilings=--skip-ceilings
      [[ $round == 1 ]] && ceilings=
      bench_mla_grid "ours_grid_$round" $ceilings
      run_stage "ours_long_$round" "$cli" bench-kernels --out-dir "$out/ours_long_$round" --shapes mla \
        --batches 1,8 --contexts 1048576,2097152 --max-cache-gb 40 --graph-only --runs 20 --skip-ceilings
      run_stage "ours_h128long_$round" "$cli" bench-kernels --out-dir "$out/ours_h128long_$round" \
        --shapes mla_h128 --batches 1 --contexts 1048576 --graph-only --runs 20 --skip-ceilings
      bench_mla_q2 "ours_q2_$round" --skip-ceilings
    done
  fi
  stop_clock_log
fi
if [[ $mode == tp ]]; then  # NCCL_NVLS_ENABLE=0: the commands also set it before NCCL starts
  export NCCL_NVLS_ENABLE=0
  tp_ranks=${TP_RANKS:-$(nvidia-smi -L | wc -l)}
  run_stage tp_decode_step "$cli" tp-step --ranks "$tp_ranks" --out-dir "$out/tp" ${TP_ARGS:-}
  run_stage tp_collectives "$cli" tp-collectives --ranks "$tp_ranks" --out-dir "$out/tp" ${COLL_ARGS:-}
fi
# The device tool returns at most 8 files from $OUT: there, leave the one archive alone.
if tar -C "$out" --exclude results.tgz -czf /tmp/attnroof-results.tgz . && [[ -n ${OUT:-} ]]; then
  find "$out" -mindepth 1 -delete && mv /tmp/attnroof-results.tgz "$out/results.tgz"
fi
exit $status
