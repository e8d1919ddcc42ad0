// Ceiling probes: streaming read, copy, mma.sync bf16 throughput, cuBLAS bf16 GEMM.
//
// read_kernel: every thread keeps 4 independent 16-byte loads in flight over a grid-stride loop
// and folds them into a value that is stored only if impossible (no dead-code elimination).
// mma_kernel: each warp runs 8 independent accumulator chains of mma.sync m16n8k16 (bf16 -> fp32)
// on register operands: the tensor-core rate the decode kernels' instruction can reach.
#include <cublas_v2.h>
#include <string>

#include "calibrate/ceilings.h"
#include "calibrate/gpu_timer.h"
#include "kernels/cuda_util/cuda_check.h"
#include "kernels/cuda_util/mma_primitives.cuh"

namespace attnroof::calibrate {

namespace {

#define CUBLAS_CHECK(expr)                                                                 \
  do {                                                                                     \
    const cublasStatus_t st_ = (expr);                                                     \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                                      \
      throw CudaError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + #expr + \
                      " failed: cublas status " + std::to_string(static_cast<int>(st_)));  \
  } while (0)

__global__ void read_kernel(const uint4* __restrict__ src, std::size_t n, unsigned* sink) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  unsigned acc = 0;
  for (; i + 3 * stride < n; i += 4 * stride) {
    const uint4 a = __ldcs(src + i), b = __ldcs(src + i + stride);
    const uint4 c = __ldcs(src + i + 2 * stride), d = __ldcs(src + i + 3 * stride);
    acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
  }
  for (; i < n; i += stride) {
    const uint4 a = __ldcs(src + i);
    acc ^= a.x ^ a.y ^ a.z ^ a.w;
  }
  if (acc == 0x9E3779B9u) *sink = acc;
}

__global__ void copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, std::size_t n) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    __stcs(dst + i, __ldcs(src + i));
}

constexpr int kMmaChains = 8;
__global__ void mma_kernel(int iters, float* sink) {
  using namespace attnroof::kernels::cuda;
  uint32_t a[4], b0 = threadIdx.x * 0x00010001u, b1 = b0 ^ 0x3f803f80u;
  for (int j = 0; j < 4; ++j) a[j] = (threadIdx.x + j) * 0x3c003c00u;
  float acc[kMmaChains][4] = {};
  for (int it = 0; it < iters; ++it)
#pragma unroll
    for (int c = 0; c < kMmaChains; ++c) mma_bf16_16816(acc[c], a, b0, b1);
  float s = 0;
#pragma unroll
  for (int c = 0; c < kMmaChains; ++c) s += acc[c][0] + acc[c][1] + acc[c][2] + acc[c][3];
  if (s == 1234.5f) *sink = s;
}

__global__ void fill_kernel(uint16_t* dst, std::size_t n, uint64_t seed, float scale) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    uint64_t z = seed + i * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = float(z >> 40) * (1.f / 16777216.f) * 2.f - 1.f;  // [-1, 1)
    const __nv_bfloat16 h = __float2bfloat16(u * scale);
    dst[i] = *reinterpret_cast<const uint16_t*>(&h);
  }
}

}  // namespace

void fill_random_bf16(void* dst, std::size_t n, uint64_t seed, float scale, cudaStream_t stream) {
  if (n == 0) return;
  fill_kernel<<<1024, 256, 0, stream>>>(static_cast<uint16_t*>(dst), n, seed, scale);
  ATTNROOF_CUDA_CHECK_LAUNCH();
}

nlohmann::json Ceilings::to_json() const {
  return nlohmann::json{{"gpu", gpu},
                        {"sm_count", sm_count},
                        {"l2_bytes", l2_bytes},
                        {"buffer_bytes", buffer_bytes},
                        {"read_GBps", read_gbps},
                        {"copy_kernel_GBps_read_plus_write", copy_kernel_gbps},
                        {"memcpy_d2d_GBps_read_plus_write", memcpy_gbps},
                        {"mma_sync_bf16_TFLOPs", mma_sync_tflops},
                        {"cublas_bf16_gemm_8192_TFLOPs", cublas_tflops}};
}

Ceilings measure_ceilings(GpuTimer& timer, std::size_t buffer_bytes, int runs) {
  Ceilings c;
  int device = 0;
  ATTNROOF_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  ATTNROOF_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  c.gpu = prop.name;
  c.sm_count = prop.multiProcessorCount;
  c.l2_bytes = prop.l2CacheSize;
  c.buffer_bytes = double(buffer_bytes);
  const cudaStream_t s = timer.stream();

  const std::size_t n16 = buffer_bytes / 16;
  DeviceBuffer<uint4> src(n16), dst(n16);
  DeviceBuffer<unsigned> sink(1);
  fill_random_bf16(src.get(), n16 * 8, 1, 1.f, s);
  const unsigned blocks = static_cast<unsigned>(prop.multiProcessorCount * 4);
  double best = 0;
  for (const unsigned threads : {256u, 512u, 1024u}) {
    const TimingStats t = timer.time(
        [&](cudaStream_t st) {
          read_kernel<<<blocks * (1024 / threads), threads, 0, st>>>(src.get(), n16, sink.get());
          ATTNROOF_CUDA_CHECK_LAUNCH();
        },
        2, runs);
    best = std::max(best, double(buffer_bytes) / (t.median_us * 1e3));
  }
  c.read_gbps = best;
  {
    const TimingStats t = timer.time(
        [&](cudaStream_t st) {
          copy_kernel<<<blocks * 2, 512, 0, st>>>(src.get(), dst.get(), n16);
          ATTNROOF_CUDA_CHECK_LAUNCH();
        },
        2, runs);
    c.copy_kernel_gbps = 2.0 * double(buffer_bytes) / (t.median_us * 1e3);
  }
  {
    const TimingStats t = timer.time(
        [&](cudaStream_t st) {
          ATTNROOF_CUDA_CHECK(
              cudaMemcpyAsync(dst.get(), src.get(), buffer_bytes, cudaMemcpyDeviceToDevice, st));
        },
        2, runs);
    c.memcpy_gbps = 2.0 * double(buffer_bytes) / (t.median_us * 1e3);
  }
  {
    DeviceBuffer<float> fsink(1);
    const int iters = 4096;
    const unsigned mblocks = static_cast<unsigned>(prop.multiProcessorCount * 8);
    const unsigned mthreads = 256;
    const TimingStats t = timer.time(
        [&](cudaStream_t st) {
          mma_kernel<<<mblocks, mthreads, 0, st>>>(iters, fsink.get());
          ATTNROOF_CUDA_CHECK_LAUNCH();
        },
        2, runs);
    const double flops = double(mblocks) * (mthreads / 32) * iters * kMmaChains * 2.0 * 16 * 8 * 16;
    c.mma_sync_tflops = flops / (t.median_us * 1e-6) / 1e12;
  }
  {
    const int n = 8192;
    DeviceBuffer<uint16_t> a(std::size_t(n) * n), b(std::size_t(n) * n), out(std::size_t(n) * n);
    fill_random_bf16(a.get(), a.size(), 2, 1.f, s);
    fill_random_bf16(b.get(), b.size(), 3, 1.f, s);
    cublasHandle_t h = nullptr;
    CUBLAS_CHECK(cublasCreate(&h));
    CUBLAS_CHECK(cublasSetStream(h, s));
    const float one = 1.f, zero = 0.f;
    const TimingStats t = timer.time(
        [&](cudaStream_t) {
          CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.get(),
                                    CUDA_R_16BF, n, b.get(), CUDA_R_16BF, n, &zero, out.get(),
                                    CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        },
        2, std::max(5, runs / 2));
    c.cublas_tflops = 2.0 * n * double(n) * n / (t.median_us * 1e-6) / 1e12;
    (void)cublasDestroy(h);
  }
  ATTNROOF_CUDA_CHECK(cudaStreamSynchronize(s));
  return c;
}

}  // namespace attnroof::calibrate
