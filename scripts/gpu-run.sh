#!/usr/bin/env bash
# gpu-run.sh MODE: the CUDA kernel checks and benchmarks on the device machine (issue 4).
#   MODE: validate | test | bench | sanitize | all | full (all + sanitize) | tp (issue 5: the TP
#         decode step and the collective sweep, kernels/tp/README.md); results under $OUT
#         (default ./gpu-out)
# Dependencies: the header-library .debs in .deps/ (git-ignored; fetch them once elsewhere with
#   mkdir -p .deps && cd .deps && apt-get download libeigen3-dev libfmt-dev libfmt9 libcli11-dev \
#     catch2 nlohmann-json3-dev
# and carry ".deps"). Binaries: build-gpu-bin/ when carried (built on the CPU machine by
# `scripts/gpu-run.sh prebuild`), else built here from the checkout.
# Environment: BENCH_ARGS (extra bench_kernels flags), VALIDATE_ARGS, STAGE_TIMEOUT (s, per stage),
#   TP_RANKS (tp: GPUs = NCCL ranks, default all visible), TP_ARGS, COLL_ARGS (extra flags).
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
  cmake --build "$build" -j "$(nproc)" --target validate_kernels bench_kernels attnroof_tests_kernels_gpu \
    tp_decode_step tp_collectives
  mkdir -p "$root/build-gpu-bin"
  cp "$build"/kernels/cuda/{validate_kernels,bench_kernels,attnroof_tests_kernels_gpu} "$root/build-gpu-bin/"
  cp "$build"/kernels/tp/{tp_decode_step,tp_collectives} "$root/build-gpu-bin/"
  exit 0
fi

mkdir -p "$deps"
for f in "$root"/.deps/*.deb; do dpkg -x "$f" "$deps"; done
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$out/run.log"

bin=$root/build-gpu-bin
tp_bin=$bin
if [[ ! -x $bin/validate_kernels ]]; then
  bin=/tmp/attnroof-build/kernels/cuda
  tp_bin=/tmp/attnroof-build/kernels/tp
  { cmake -S "$root" -B /tmp/attnroof-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$deps/usr" &&
    cmake --build /tmp/attnroof-build -j "$(nproc)" \
      --target validate_kernels bench_kernels attnroof_tests_kernels_gpu tp_decode_step \
      tp_collectives; } >>"$out/run.log" 2>&1 ||
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

if [[ $mode == validate || $mode == all || $mode == full ]]; then
  run_stage validate "$bin/validate_kernels" --out "$out/validate.json" ${VALIDATE_ARGS:-}
fi
if [[ $mode == test || $mode == all || $mode == full ]]; then
  run_stage test "$bin/attnroof_tests_kernels_gpu"
fi
if [[ $mode == bench || $mode == all || $mode == full ]]; then
  run_stage bench "$bin/bench_kernels" --out "$out" ${BENCH_ARGS:-}
fi
if [[ $mode == sanitize || $mode == full ]]; then
  run_stage memcheck compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$bin/validate_kernels" --reduced ${SANITIZE_ARGS:-}
  run_stage racecheck compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$bin/validate_kernels" --reduced ${SANITIZE_ARGS:-}
fi
if [[ $mode == tp ]]; then  # NCCL_NVLS_ENABLE=0: the binaries also set it before NCCL starts
  export NCCL_NVLS_ENABLE=0
  tp_ranks=${TP_RANKS:-$(nvidia-smi -L | wc -l)}
  run_stage tp_decode_step "$tp_bin/tp_decode_step" --ranks "$tp_ranks" --out "$out/tp" ${TP_ARGS:-}
  run_stage tp_collectives "$tp_bin/tp_collectives" --ranks "$tp_ranks" --out "$out/tp" ${COLL_ARGS:-}
fi
exit $status
