#!/usr/bin/env bash
# build.sh BUILD_DIR [extra cmake args...]: configure (once) and build attnroof.
# CUDA is used when nvcc is found (on PATH or in /usr/local/cuda/bin); kernels then compile even
# on machines without a GPU.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$1
shift
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
# The Python module (python/) is built for the interpreter whose packages scripts/setup.sh
# installs (Debian's python3-dev, pybind11-dev, python3-pytest), not whichever python3 is first
# on PATH; an explicit -DPython3_EXECUTABLE= among the arguments wins.
python_args=()
if [[ -x /usr/bin/python3 ]]; then python_args=(-DPython3_EXECUTABLE=/usr/bin/python3); fi
jobs=$(nproc)
cmake -S "$root" -B "$build_dir" -G Ninja "${python_args[@]}" "$@" >"$build_dir.configure.log" 2>&1 ||
  { cat "$build_dir.configure.log" >&2; exit 1; }
cmake --build "$build_dir" -j "$jobs"
