// defines: TimingStats, GpuTimer (CUDA-event timing: warm-up, L2 flush before every run, median;
//          the same through CUDA-graph replay)
//
// Host-clean: streams through the CUDA runtime's own typedef.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

struct CUstream_st;
typedef CUstream_st* cudaStream_t;  // NOLINT: the CUDA runtime's own spelling

namespace attnroof::calibrate {

struct TimingStats {
  double median_us = 0, min_us = 0, max_us = 0;
  int runs = 0;
};

class GpuTimer {
 public:
  // flush_bytes: a buffer written before every timed run so no input stays in L2 (>= 2x L2).
  explicit GpuTimer(std::size_t flush_bytes);
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;

  // Events around each run of fn(stream); warmup untimed runs first.
  TimingStats time(const std::function<void(cudaStream_t)>& fn, int warmup, int runs);
  // fn captured once into a CUDA graph; events around each replay.
  TimingStats time_graph(const std::function<void(cudaStream_t)>& fn, int warmup, int runs);
  cudaStream_t stream() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attnroof::calibrate
