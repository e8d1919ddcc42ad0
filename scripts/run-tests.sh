#!/usr/bin/env bash
# The tests: set up, build (Release; CUDA kernels compile when nvcc is present), run ctest.
#   --sanitize   instead: a CPU-only Debug build under AddressSanitizer + UBSan, then ctest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
if [[ ${1:-} == --sanitize ]]; then
  build_dir=$root/build-asan
  # -g1: line tables only (no types or locals), enough for the file:line of the sanitizers'
  # stack traces, and a shorter compile than -g.
  bash "$root/scripts/build.sh" "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DATTNROOF_SANITIZE=ON \
    -DATTNROOF_ENABLE_CUDA=OFF -DCMAKE_CXX_FLAGS_DEBUG=-g1
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
else
  build_dir=$root/build
  bash "$root/scripts/build.sh" "$build_dir" -DCMAKE_BUILD_TYPE=Release
fi
# ctest's own summary ("100% tests passed, 0 tests failed out of N"; the Python module's pytest
# cases are ctest tests, python/CMakeLists.txt) closes the output, and goes to
# BUILD_DIR.ctest-summary for .ci/run's closing line.
set +e
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" 2>&1 | tee "$build_dir.ctest.log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$build_dir.ctest.log" | tail -n 1)
echo "${summary:-no ctest summary (ctest status $status)}" >"$build_dir.ctest-summary"
echo "run-tests: $(basename "$build_dir"): ${summary:-no ctest summary (ctest status $status)}"
exit "$status"
