// The TP step's projection and simulated-collective kernels (tp_kernels.h). Deliberately simple
// (one thread per output column, fp32 accumulation): the step is validated and timed as a path;
// the projections are not tuned.
#include <cuda_bf16.h>

#include "kernels/cuda_util/cuda_check.h"
#include "kernels/tp/tp_kernels.h"

namespace attnroof::kernels::tp {

namespace {

constexpr int kThreads = 128;
constexpr int kRowsPerBlock = 256;

__global__ void uv_project_kernel(const __nv_bfloat16* z, const __nv_bfloat16* w, float* y,
                                  int d_att, int d_v, float scale) {
  const int head = static_cast<int>(blockIdx.x);
  const __nv_bfloat16* zh = z + static_cast<int64_t>(head) * d_att;
  for (int n = static_cast<int>(threadIdx.x); n < d_v; n += static_cast<int>(blockDim.x)) {
    float acc = 0.f;
    if (w == nullptr) {
      acc = __bfloat162float(zh[n]);
    } else {
      const __nv_bfloat16* wh = w + static_cast<int64_t>(head) * d_att * d_v + n;
      for (int k = 0; k < d_att; ++k)
        acc += __bfloat162float(zh[k]) * __bfloat162float(wh[static_cast<int64_t>(k) * d_v]);
    }
    y[static_cast<int64_t>(head) * d_v + n] += scale * acc;
  }
}

__global__ void out_project_kernel(const float* y, const __nv_bfloat16* wo, float* out, int rows,
                                   int d) {
  const int n = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (n >= d) return;
  const int r0 = static_cast<int>(blockIdx.y) * kRowsPerBlock;
  const int r1 = min(rows, r0 + kRowsPerBlock);
  float acc = 0.f;
  for (int m = r0; m < r1; ++m) acc += y[m] * __bfloat162float(wo[static_cast<int64_t>(m) * d + n]);
  atomicAdd(out + n, acc);
}

__global__ void sum_ranks_kernel(const float* parts, int ranks, int64_t n, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float acc = 0.f;
  for (int r = 0; r < ranks; ++r) acc += parts[r * n + i];
  out[i] = acc;
}

}  // namespace

void launch_uv_project(const void* z, const void* w, float* y, int32_t heads, int32_t d_att,
                       int32_t d_v, float scale, cudaStream_t stream) {
  if (heads <= 0) return;
  uv_project_kernel<<<static_cast<unsigned>(heads), kThreads, 0, stream>>>(
      static_cast<const __nv_bfloat16*>(z), static_cast<const __nv_bfloat16*>(w), y, d_att, d_v,
      scale);
  ATTNROOF_CUDA_CHECK_LAUNCH();
}

void launch_out_project(const float* y, const void* wo, float* out, int32_t rows, int32_t d,
                        cudaStream_t stream) {
  if (rows <= 0 || d <= 0) return;
  const dim3 grid(static_cast<unsigned>((d + kThreads - 1) / kThreads),
                  static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock));
  out_project_kernel<<<grid, kThreads, 0, stream>>>(y, static_cast<const __nv_bfloat16*>(wo), out,
                                                    rows, d);
  ATTNROOF_CUDA_CHECK_LAUNCH();
}

void launch_sum_ranks(const float* parts, int32_t ranks, int64_t n, float* out,
                      cudaStream_t stream) {
  if (n <= 0) return;
  const auto blocks = static_cast<unsigned>((n + 255) / 256);
  sum_ranks_kernel<<<blocks, 256, 0, stream>>>(parts, ranks, n, out);
  ATTNROOF_CUDA_CHECK_LAUNCH();
}

}  // namespace attnroof::kernels::tp
