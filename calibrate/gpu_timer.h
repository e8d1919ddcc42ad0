// defines: TimingStats, L2Flush, GpuTimer (CUDA-event timing: warm-up, L2 flush before every run,
//          median; the same through CUDA-graph replay)
//
// Host-clean: streams through the CUDA runtime's own typedef.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

struct CUstream_st;
typedef CUstream_st* cudaStream_t;  // NOLINT: the CUDA runtime's own spelling

namespace attnroof::calibrate {

struct TimingStats {
  double median_us = 0, min_us = 0, max_us = 0;
  int runs = 0;
};

// How the L2 is emptied of the inputs before every timed run (untimed):
//   clean: a read sweep over flush_bytes. Lines the previous run left dirty are written back
//          during the sweep, and the L2 ends full of clean lines the timed run can drop for free.
//   dirty: a memset over flush_bytes (the usual flush of nvbench and Triton's do_bench). The L2
//          ends full of dirty lines, and the timed run pays their write-back (up to one L2 of
//          DRAM writes: measured +1..13 us per decode step on an H100, 50 MB L2).
enum class L2Flush { clean, dirty };

// "clean" or "dirty": the names the command lines and reports use.
inline const char* to_string(L2Flush f) { return f == L2Flush::clean ? "clean" : "dirty"; }
inline std::optional<L2Flush> parse_l2_flush(std::string_view name) {
  if (name == "clean") return L2Flush::clean;
  if (name == "dirty") return L2Flush::dirty;
  return std::nullopt;
}

class GpuTimer {
 public:
  // flush_bytes: the flush buffer (>= 2x L2, so no input stays in L2).
  GpuTimer(std::size_t flush_bytes, L2Flush flush);
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
