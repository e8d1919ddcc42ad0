// defines: TpStepOptions, TpCollectivesOptions, TpRun, check_tp_step_options,
//          run_tp_step_host_only, run_tp_decode_step, tp_collective_sizes, run_tp_collectives
//
// The library entry points behind `attnroof tp-step` and `attnroof tp-collectives` (
// kernels/tp/README.md): the TP decode step validated and timed (tp_decode_step.cpp) and the
// collective sweep (tp_collectives.cpp). They return the report and its CSV; the command line
// (studies/commands/tp.cpp) parses the options, picks the folder and writes the files.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/tp/tp_problem.h"

namespace attnroof::kernels::tp {

struct TpStepOptions {
  int32_t ranks = 1;  // GPUs = NCCL ranks; cases with tp == ranks run on NCCL
  std::vector<std::string> variants = {"gqa", "mla", "gla2", "mlra4"};
  std::vector<int32_t> tps;  // empty: TP 1 and the variant's decode-case degree (MLA: 1, 2, 4, 8)
  std::vector<std::string> out_projs = {"replicated", "sharded"};  // MLRA-4's W^O options
  TpCase base;                                                     // ctx, d_model, seed, ...
  int runs = 30;
  int warmup = 3;
  int cpu_threads = 8;
  bool no_simulate = false;  // skip the simulated cases (tp != ranks)
  std::string command;       // recorded in the report's environment
  std::function<void(const std::string&)> progress;  // one line per case (may be empty)
};

struct TpCollectivesOptions {
  int32_t ranks = 1;
  std::vector<std::string> ops = {"all_reduce", "reduce_scatter", "all_gather"};
  int64_t min_bytes = 1024;
  int64_t max_bytes = int64_t(64) << 20;
  int runs = 20;
  int warmup = 5;
  std::string dtype = "bf16";  // or fp32
  std::string command;
  std::function<void(const std::string&)> progress;  // one line per point (may be empty)
};

struct TpRun {
  nlohmann::json report;  // "tool", "environment" (with "gpu"), ...
  std::string csv;
  bool passed = true;  // tp-step: every case validated
};

// The variant and out_proj names (InputError naming the option); no device is touched.
void check_tp_step_options(const TpStepOptions& o);

// No device: every case's shards built from the float64 reference and the float64 TP finish
// checked (harness), plus a negative control per TP > 1 case. One line per check to `print`;
// true when all passed.
bool run_tp_step_host_only(const TpStepOptions& o, const std::function<void(const std::string&)>& print);

// Sets NCCL_NVLS_ENABLE=0, then runs every case on o.ranks visible GPUs (InputError when fewer).
TpRun run_tp_decode_step(const TpStepOptions& o);

// The buffer sizes of the sweep: doubling from min_bytes to max_bytes, each a multiple of
// ranks x the element size (InputError otherwise); no device is touched.
std::vector<int64_t> tp_collective_sizes(const TpCollectivesOptions& o);

// Sets NCCL_NVLS_ENABLE=0, then sweeps on o.ranks visible GPUs (InputError when fewer).
TpRun run_tp_collectives(const TpCollectivesOptions& o);

}  // namespace attnroof::kernels::tp
