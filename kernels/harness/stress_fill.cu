#include "kernels/harness/stress_fill.h"

#include "kernels/cuda_util/cuda_check.h"

namespace attnroof::kernels::cuda {

namespace {

constexpr int kFillThreads = 256;
constexpr uint64_t kNaN4 = 0x7FC07FC07FC07FC0ull;  // four bf16 quiet NaNs

// One 64-bit store per four elements: the pool is written at close to the write bandwidth.
__global__ void fill_values(uint64_t* cache4, int64_t groups, uint64_t seed,
                            stress::StressBuffer buffer) {
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups;
       g += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t bits = stress::stress_bits(seed, buffer, uint64_t(g));
    uint64_t packed = 0;
    for (int j = 0; j < 4; ++j)
      packed |= uint64_t(stress::stress_value_from(bits, uint64_t(j))) << (16 * j);
    cache4[g] = packed;
  }
}

// Block-stride over the ranges, thread-stride over each range's elements.
__global__ void poison_ranges(uint64_t* cache4, int64_t row_groups, const int64_t* ranges,
                              int64_t n_ranges) {
  for (int64_t r = blockIdx.x; r < n_ranges; r += gridDim.x) {
    const int64_t g0 = ranges[2 * r] * row_groups, g1 = ranges[2 * r + 1] * row_groups;
    for (int64_t g = g0 + threadIdx.x; g < g1; g += blockDim.x) cache4[g] = kNaN4;
  }
}

}  // namespace

void fill_stress_cache(uint16_t* cache, int64_t elems, int64_t row_elems, uint64_t seed,
                       stress::StressBuffer buffer, const int64_t* poison, int64_t n_ranges,
                       cudaStream_t stream) {
  if (elems == 0) return;
  if (elems % 4 != 0 || row_elems % 4 != 0)
    throw CudaError("fill_stress_cache: element counts must be multiples of 4");
  auto* cache4 = reinterpret_cast<uint64_t*>(cache);
  fill_values<<<4096, kFillThreads, 0, stream>>>(cache4, elems / 4, seed, buffer);
  ATTNROOF_CUDA_CHECK_LAUNCH();
  if (n_ranges == 0) return;
  poison_ranges<<<4096, kFillThreads, 0, stream>>>(cache4, row_elems / 4, poison, n_ranges);
  ATTNROOF_CUDA_CHECK_LAUNCH();
}

}  // namespace attnroof::kernels::cuda
