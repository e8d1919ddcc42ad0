#!/usr/bin/env bash
# build-flashmla-bench.sh FLASHMLA_DIR CUTLASS_DIR OUT: compiles flashmla_bench.cu against a
# checkout of deepseek-ai/FlashMLA (its csrc/, the issue's commit 9241ae3) and the CUTLASS it pins
# (147f567: include/ and tools/util/include/), SM90 dense decode only, with FlashMLA's own nvcc
# flags (its setup.py). Both checkouts stay outside the repository or in a git-ignored folder;
# OUT is the binary (build-gpu-bin/ is git-ignored and travels to the device machine).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fm=${1:?FlashMLA checkout}/csrc
cutlass=${2:?CUTLASS checkout}
out=${3:?output binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-O3 -std=c++20 -DNDEBUG -D_USE_MATH_DEFINES -Wno-deprecated-declarations
       -U__CUDA_NO_HALF_OPERATORS__ -U__CUDA_NO_HALF_CONVERSIONS__ -U__CUDA_NO_HALF2_OPERATORS__
       -U__CUDA_NO_BFLOAT16_CONVERSIONS__ --expt-relaxed-constexpr --expt-extended-lambda
       --use_fast_math -gencode arch=compute_90a,code=sm_90a
       -I"$fm" -I"$fm/kerutils/include" -I"$fm/sm90" -I"$cutlass/include" -I"$cutlass/tools/util/include")
srcs=("$fm/sm90/decode/dense/instantiations/bf16.cu" "$fm/smxx/decode/combine/combine.cu"
      "$fm/smxx/decode/get_decoding_sched_meta/get_decoding_sched_meta.cu" "$here/flashmla_bench.cu")
pids=()
for s in "${srcs[@]}"; do
  nvcc "${flags[@]}" -c "$s" -o "$work/$(basename "$s").o" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
nvcc -gencode arch=compute_90a,code=sm_90a "$work"/*.o -o "$out" -lcuda
echo "built $out"
