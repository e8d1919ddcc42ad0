// defines: StressOptions, run_kernel_stress (`validate-kernels --stress N`)
//
// N rounds, round i drawn from seed + i alone (kernels/stress/stress_case.h), so one round
// replays with `--stress 1 --seed <its seed>`. Each round, on a non-blocking stream (the
// benchmark's situation, where a stream-ordering race once lived: reports/kernels/h200/issue16/):
//   1. allocates the round's K/V pool (up to tens of GB), fills it on the GPU with the round's
//      counter-based values and NaN over every row no valid position maps to; uploads q,
//      lengths and page table through the stream;
//   2. plans and launches the decode `repeats` times, each into outputs and split scratch
//      refilled with NaN; every repeat must be bitwise identical to the first (a race or a read
//      of unwritten memory shows as a difference);
//   3. checks every output row (finite where the sequence has keys; o = 0 and lse = -inf where
//      it has none), and the checked slice against ref::decode_reference (float64) with the
//      tolerance rule of decode_check.h.
// A CUDA error ends the run (the context is dead) with the round, its seed and the replay
// command in the message. Host-clean header.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kernels/cuda/launch_decode.h"

namespace attnroof::kernels {

struct StressOptions {
  int64_t rounds = 0;
  std::optional<uint64_t> seed;   // base seed (round i uses seed + i); empty: fresh
  double max_seconds = 0;         // stop starting rounds after this long; 0: no limit
  double max_cache_gb = 40;       // K + V pool per round (capped at 80% of free device memory)
  int repeats = 3;                // launches per round, compared bitwise
  KernelChoice choice;            // the plans every round runs (launch_decode.h)
  int max_q_tokens = kMaxQTokens; // new tokens per sequence, up to; 1 replays pre-q_tokens rounds
  int cpu_threads = 0;            // 0: all hardware threads
  std::function<void(const std::string&)> progress;
};

// {"mode": "stress", "gpu", "seed", "rounds", "launches", "passed", "failed", "seconds",
//  "max_cache_gb", "largest_cache_gb", "tolerance_rule", "round_results": [...]}.
// Throws InputError for bad options, CudaError (naming the round and seed) on a CUDA failure.
nlohmann::json run_kernel_stress(const StressOptions& options);

}  // namespace attnroof::kernels
