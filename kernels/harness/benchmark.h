// defines: BenchOptions, check_bench_options, run_kernel_benchmark, bench_csv,
//          bench_measurements_csv
//
// The library entry point behind `attnroof bench-kernels`: the device's
// measured ceilings (calibrate/ceilings.h), then each decode case (model/decode_cases.h: its
// kernel shape and KV bytes are the model's) over layout, batch and
// context (and ragged batches), timed through CUDA-graph replay (and per call with CUDA events
// unless graph_only; L2 flushed before every run, warm-up, median), the kernels' targets
// (benchmark.cpp score_targets) scored against the measured read ceiling, and every timed point as
// a typed measurement record (calibrate/measurement.h) for the time model's fit. Host-clean header:
// no CUDA types.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibrate/gpu_timer.h"
#include "kernels/cuda/launch_decode.h"

namespace attnroof::kernels {

struct BenchOptions {
  std::vector<std::string> shapes;   // model::decode_case_names() subset; empty: all
  std::vector<int64_t> batches = {1, 8, 64};
  std::vector<int64_t> contexts;     // explicit contexts; empty: ctx_min doubling to ctx_max
  // New tokens per sequence (speculative decoding, causal among them), each measured at every
  // point; 1..kMaxQTokens. A ragged batch keeps every length >= q_tokens.
  std::vector<int64_t> q_tokens = {1};
  int64_t ctx_min = 1024;
  int64_t ctx_max = 2097152;
  // reduced: the four per-device shapes at batch 1 x {16K, 128K, 1M} plus MLA-128 at batch 64 x
  // 8K (the decision grid); overrides shapes, batches and contexts.
  bool reduced = false;
  int runs = 20;                     // timed runs per point (median; >= 20 for reports)
  int warmup = 3;
  // Cache layouts, each measured at every point: "paged" (shuffled page table) and/or
  // "contiguous" (batch x max context rows).
  std::vector<std::string> layouts = {"paged"};
  // For every batch > 1 and context also a ragged batch: lengths uniform in [max(1, ctx / 8),
  // ctx] (std::mt19937_64 seeded with seed, shape, batch and ctx: the same lengths in every pass
  // and layout), one of them exactly ctx.
  bool ragged = false;
  // Each pass measures every point once; within a shape the points run in an order shuffled with
  // seed and the pass, and the shape order rotates by one per pass, so a point is measured early
  // in the call in one pass and late in another (clock or thermal drift shows as a difference).
  int passes = 1;
  bool graph_only = false;           // skip the CUDA-event timing (about half the device time)
  uint64_t seed = 1;
  bool gemm_probe = false;           // also time the projection GEMMs (calibrate/gemm_probe.h)
  std::string commit;                // of the kernels, copied into every record ("": unknown)
  double max_cache_gb = 40;          // skip points whose cache exceeds this
  KernelChoice choice;               // which compiled plan of each shape (launch_decode.h)
  bool ceilings = true;              // measure the ceilings (needed for the fractions)
  calibrate::L2Flush flush = calibrate::L2Flush::clean;  // gpu_timer.h says what each does
  // Keys per split instead of plan_decode's (rounded up to the kernel's tile; any split plan is
  // correct): for tuning the planner. 0: the planned split.
  int64_t split_len = 0;
  std::function<void(const std::string&)> progress;  // one line per point; may be empty
};

// Throws InputError listing every bad option (unknown shape or layout, runs < 1, passes < 1, ...).
// Touches no GPU: callers check their options before the device is opened.
void check_bench_options(const BenchOptions& options);

// Runs on the current CUDA device. Report: {"gpu", "ceilings", "clocks", "timing", "points":
// [...], "targets": [...], "records": [...]} plus {"gemm_timing", "gemm_records"} with
// gemm_probe. "records" holds calibrate::measurement_to_json of each timed point. Throws
// CudaError (no device, CUDA failure), InputError (bad options).
nlohmann::json run_kernel_benchmark(const BenchOptions& options);

// The report's timed points as CSV (header line first; time_us_events is empty for graph-only
// points).
std::string bench_csv(const nlohmann::json& report);

// The report's "records" read back with calibrate::measurement_from_json (which checks each)
// and written with calibrate::measurements_csv. Throws InputError for a bad record.
std::string bench_measurements_csv(const nlohmann::json& report);

}  // namespace attnroof::kernels
