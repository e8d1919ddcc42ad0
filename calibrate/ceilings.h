// defines: Ceilings, measure_ceilings, fill_random_bf16
//
// The device's measured ceilings (docs/time-model.md "Ceilings"): streaming read and copy
// bandwidth, and bf16 tensor-core throughput, each the median of timed runs on random data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

struct CUstream_st;
typedef CUstream_st* cudaStream_t;  // NOLINT: the CUDA runtime's own spelling

namespace attnroof::calibrate {

class GpuTimer;

struct Ceilings {
  std::string gpu;
  int sm_count = 0;
  double l2_bytes = 0;
  double read_gbps = 0;      // streaming read kernel, 16 B loads, bytes read / time
  double copy_kernel_gbps = 0;  // copy kernel, (read + write) / time
  double memcpy_gbps = 0;    // cudaMemcpyAsync device to device, (read + write) / time
  double mma_sync_tflops = 0;   // mma.sync m16n8k16 bf16 -> fp32, register-resident loop
  double cublas_tflops = 0;  // cublasGemmEx bf16 8192^3, fp32 accumulation
  double buffer_bytes = 0;   // size streamed by the bandwidth probes
  nlohmann::json to_json() const;
};

Ceilings measure_ceilings(GpuTimer& timer, std::size_t buffer_bytes, int runs);

// Fills n bf16 values with a hash of (seed, index): uniform in [-scale, scale], never all zero.
void fill_random_bf16(void* dst, std::size_t n, uint64_t seed, float scale, cudaStream_t stream);

}  // namespace attnroof::calibrate
