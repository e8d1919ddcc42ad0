// defines: no_cuda, no_nccl, print_line, on_gpu (what the GPU commands share: validate-kernels,
//          bench-kernels, tp-step, tp-collectives)
//
// Their pattern: every option is checked first, in CPU and CUDA builds alike (bad input: exit
// status 2, nothing touched); then a build without the kernels says how to get them (no_cuda,
// no_nccl, InputError: exit 2); a CUDA build on a machine without a usable GPU says so (CommandFailed:
// exit 1); a CUDA failure on a working GPU is GpuFailed (exit 3). Included by the command files
// alone (ATTNROOF_HAVE_CUDA is the command library's private definition).
#pragma once
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "model/error.h"
#include "studies/cli.h"

#ifdef ATTNROOF_HAVE_CUDA
#include "kernels/cuda_util/cuda_check.h"
#endif

namespace attnroof::cli {

// A build without the CUDA kernels (a CPU build): exit status 2 (InputError).
[[noreturn]] inline void no_cuda(const char* command) {
  throw InputError(fmt::format(
      "{} needs the CUDA kernels, and this build has none (`attnroof --version` says build: cpu); "
      "install the CUDA Toolkit (nvcc) and rebuild: scripts/build.sh finds nvcc on PATH or in "
      "/usr/local/cuda/bin",
      command));
}

// A CUDA build without NCCL (kernels/tp is left out): exit status 2 (InputError).
[[noreturn]] inline void no_nccl(const char* command) {
  throw InputError(fmt::format(
      "{} needs NCCL, and this build has none (CMake printed \"attnroof: NCCL not found\"); "
      "install NCCL (libnccl-dev, or NCCL_ROOT pointing at it) and rebuild",
      command));
}

// Progress: one line to stderr, flushed (stdout is the command's result).
inline void print_line(const std::string& line) {
  fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

#ifdef ATTNROOF_HAVE_CUDA
// A missing GPU or a failed CUDA call is not an attnroof bug: say what CUDA said. Only a missing
// device is blamed on the machine (exit status 1); a failure on a working GPU is GpuFailed (exit
// status 3), its message naming the point or round and the seed that replays it.
template <class F>
auto on_gpu(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const CudaError& e) {
    if (!cuda_device_available())
      throw CommandFailed(fmt::format("CUDA: {} (this command needs an NVIDIA GPU, and none is usable)",
                                      e.what()));
    throw GpuFailed(fmt::format("CUDA failed on the GPU: {}", e.what()));
  }
}
#endif

}  // namespace attnroof::cli
