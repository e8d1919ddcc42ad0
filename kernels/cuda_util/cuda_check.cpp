#include "kernels/cuda_util/cuda_check.h"

#include <fmt/format.h>

namespace attnroof {

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  throw CudaError(fmt::format("{}:{}: {} failed: {} ({})", file, line, expr,
                              cudaGetErrorName(err), cudaGetErrorString(err)));
}

bool cuda_device_available() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  (void)cudaGetLastError();  // clear the sticky "no device" error
  return err == cudaSuccess && n > 0;
}

}  // namespace attnroof
