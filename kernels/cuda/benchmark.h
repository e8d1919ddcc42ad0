// defines: BenchOptions, run_kernel_benchmark, bench_csv, bench_shape_names
//
// The library entry point behind `bench_kernels` (and the CLI's `bench-kernels`): the device's
// measured ceilings (calibrate/ceilings.h), then each benchmark decode shape over batch and
// context, timed per call with CUDA events and through CUDA-graph replay (L2 flushed before every
// run, warm-up, median), and the issue-4 targets scored against the measured read ceiling.
// Host-clean header: no CUDA types.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibrate/gpu_timer.h"

namespace attnroof::kernels {

struct BenchOptions {
  std::vector<std::string> shapes;   // bench_shape_names() subset; empty: all
  std::vector<int64_t> batches = {1, 8, 64};
  std::vector<int64_t> contexts;     // explicit contexts; empty: ctx_min doubling to ctx_max
  int64_t ctx_min = 1024;
  int64_t ctx_max = 2097152;
  // reduced: the four per-device shapes at batch 1 x {16K, 128K, 1M} plus MLA-128 at batch 64 x
  // 8K (the decision grid); overrides shapes, batches and contexts.
  bool reduced = false;
  int runs = 20;                     // timed runs per point (median; >= 20 for reports)
  int warmup = 3;
  bool paged = true;                 // shuffled page table (else contiguous)
  double max_cache_gb = 40;          // skip points whose cache exceeds this
  bool ceilings = true;              // measure the ceilings (needed for the fractions)
  calibrate::L2Flush flush = calibrate::L2Flush::clean;  // gpu_timer.h says what each does
  // Keys per split instead of plan_decode's (rounded up to the kernel's tile; any split plan is
  // correct): for tuning the planner. 0: the planned split.
  int64_t split_len = 0;
  std::function<void(const std::string&)> progress;  // one line per point; may be empty
};

// Every shape name: gqa_tp8, mla, gla2_tp2, mlra4_tp4, mla_h128.
std::vector<std::string> bench_shape_names();

// Runs on the current CUDA device. Report: {"gpu", "ceilings", "timing", "points": [...],
// "targets": [...]}. Throws CudaError (no device, CUDA failure), InputError (bad options).
nlohmann::json run_kernel_benchmark(const BenchOptions& options);

// The report's points as CSV (header line first).
std::string bench_csv(const nlohmann::json& report);

}  // namespace attnroof::kernels
