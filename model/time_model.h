// defines: KernelFamily, KernelPlan, DecodeWork, SplitKvParams, PlanFreeParams, WorkFeatures,
//          work_features, predict_split_kv, predict_plan_free, kSplitKvParamNames,
//          kPlanFreeParamNames
//
// The fitted time model of a split-KV decode attention kernel (docs/time-model.md, "The
// split-KV kernel model" and "The fitted parameters"). A
// decode step on one device is one launch of the split kernel, waves of CTAs, and, when the keys
// are split, one launch of the merge:
//
//   t = launch + waves * cta_start + soft_max(t_mem, t_sm, t_feed, t_chain) + [splits > 1] t_merge
//   t_mem   = unique cache bytes / (bw_efficiency * read ceiling)          (the DRAM stream)
//   t_sm    = tiles on the busiest SM * tile FLOPs / sm_flops_per_s        (its tensor cores)
//   t_feed  = bytes into the busiest SM / sm_bandwidth: its tiles, plus each of its CTAs'
//             prologue (Q rows and the first tile before the pipeline runs)
//   t_chain = waves * tiles of the longest CTA * mem_latency / (stages - 1): Little's law for
//             one CTA, whose pipeline keeps stages - 1 tiles in flight; this is what bounds a
//             few long CTAs (short contexts, ragged batches) while DRAM has bandwidth to spare
//   t_merge = merge_launch + merge waves * (merge_wave + steps * merge_step)
//             + partial bytes / (bw_efficiency * ceiling)
//             steps: the dependent L2 round trips of one merge thread: n_splits when each thread
//             walks its row's splits (n_splits <= kRowMergeMaxSplits), ceil(n_splits /
//             kMergeSplitsPerStep) when 16 half-warps share them, 4 in flight per lane
//
// The plan (tile shape, stages, CTAs per SM, splits) is a fact of the kernel, from the same
// model::plan_splits the launcher uses; only the 9 SplitKvParams are fitted, per (GPU, family).
// Kernels whose plan is unknown (another project's) take the plan-free form instead:
//
//   t = fixed + per_sequence * batch + soft_max(bytes / (bw_efficiency * ceiling), FLOPs / flops)
//
// soft_max(a, b, ...) = (a^p + b^p + ...)^(1/p) with p = kSoftMaxPower: two limits that are close
// slow each other down a little, as measured, instead of meeting at a corner.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "model/kernel_family.h"

namespace attnroof::model {

inline constexpr std::array<KernelFamily, 2> kAllKernelFamilies = {KernelFamily::separate_kv,
                                                                   KernelFamily::shared_latent};
std::string_view to_string(KernelFamily f);
// "separate_kv" or "shared_latent"; throws InputError naming `field` and both names.
KernelFamily parse_kernel_family(std::string_view name, std::string_view field);

inline constexpr int kSoftMaxPower = 6;
// The SM clock the per-SM rates (sm_flops_per_s, sm_bandwidth_Bps) are quoted at: the H100 and
// H200 SXM maximum boost. A point measured at clock c runs them at c / kReferenceSmClockMhz (an
// H200 at its 700 W limit was measured between 1455 and 1980 MHz within one call).
inline constexpr double kReferenceSmClockMhz = 1980;
// Merge CTAs resident per SM (256 threads each: kernels/cuda/kernel_table.h kMergeThreads).
inline constexpr int64_t kMergeCtasPerSm = 8;
// Output columns per merge CTA (kernels/cuda/kernel_table.h kMergeCols).
inline constexpr int64_t kMergeCols = 64;
// Up to this many splits the merge runs one thread per 4 output columns, kRowMergeThreads per
// CTA (kernels/cuda/kernel_table.h).
inline constexpr int64_t kRowMergeMaxSplits = 32;
inline constexpr int64_t kRowMergeThreads = 256;
// Splits the many-splits merge reads per dependent round trip: 16 half-warps x 4 in flight
// (kernels/cuda/kernel_table.h kMergeThreads, kMergeUnroll).
inline constexpr int64_t kMergeSplitsPerStep = 64;

// What the time model prices. Our kernels index keys, heads and widths with int32
// (kernels/decode_params.h), so every size of a DecodeWork and of its plan stays within
// kMaxKernelSize. work_features places every CTA of the launch on an SM as the block scheduler
// does, so its time and memory grow with the CTA count (batch x KV units x head blocks x
// splits): at most kMaxScheduledCtas. Past either, work_features refuses the work and the model
// prices attention with the roofline instead (model/roofline.h).
inline constexpr int64_t kMaxKernelSize = std::numeric_limits<int32_t>::max();
inline constexpr int64_t kMaxScheduledCtas = int64_t(1) << 22;

// What a launcher chose for one decode step: facts, not fitted.
struct KernelPlan {
  int64_t tile_m = 0;       // query rows per CTA (MMA rows; a short group still computes them)
  int64_t tile_n = 0;       // keys per pipeline stage
  int64_t stages = 0;       // tiles in flight per CTA
  int64_t ctas_per_sm = 0;  // occupancy
  int64_t sm_count = 0;
  int64_t n_splits = 0;     // splits of the longest sequence
  int64_t split_len = 0;    // keys per split
  bool known() const { return tile_m > 0 && tile_n > 0 && stages > 0 && ctas_per_sm > 0 &&
                              sm_count > 0 && n_splits > 0 && split_len > 0; }
};

// One decode step of one attention kernel on one device.
struct DecodeWork {
  KernelFamily family = KernelFamily::separate_kv;
  int64_t q_heads = 0;   // query heads on the device
  int64_t kv_heads = 0;  // KV heads (separate_kv) or latent blocks (shared_latent) on the device
  int64_t d_qk = 0;      // score width per head
  int64_t d_v = 0;       // value width per head
  int64_t q_tokens = 1;  // query tokens per sequence
  double kv_elem_bytes = 2;
  std::vector<int64_t> ctx_lens;  // one per sequence (batch = size)
  double read_ceiling_Bps = 0;    // streaming read bandwidth measured on the GPU
  double sm_clock_mhz = 0;        // 0: unknown (taken as kReferenceSmClockMhz)
  KernelPlan plan;                // plan.known() false: only the plan-free form applies

  int64_t batch() const { return int64_t(ctx_lens.size()); }
  int64_t ctx_len_max() const;
  double ctx_len_sum() const;
  // Cache bytes read per key of one sequence: every KV head's (or latent block's) row once.
  double cache_row_bytes() const;
  // Bytes every kernel must move: the cache once, q, o and lse.
  double min_bytes() const;
  // 2 * (query token, key) pairs * heads * (d_qk + d_v).
  double flops() const;
  // The split kernel's CTAs under `plan` (known); nullopt past the int64 range.
  std::optional<int64_t> launch_ctas() const;
  // Why the time model cannot price this work (sizes < 1 or past the limits above); empty: it can.
  std::vector<std::string> problems() const;
};

// Everything predict_split_kv needs that does not depend on the parameters (computed once per
// point, then reused by every evaluation of a fit).
struct WorkFeatures {
  double bytes = 0;          // unique cache bytes + q/o/lse
  double flops = 0;
  double read_ceiling_Bps = 0;
  double clock_ratio = 1;    // sm_clock_mhz / kReferenceSmClockMhz (1 when unknown)
  double batch = 0;
  // Split-KV form (plan known):
  double waves = 0;          // ceil(CTAs / (SMs * CTAs per SM))
  double busiest_sm_tiles = 0;
  double busiest_sm_bytes = 0;  // tiles and CTA prologues loaded into the busiest SM
  double chain_tiles = 0;    // tiles of the busiest slot (its CTAs in turn) / tiles in flight per CTA
  double tile_flops = 0;     // FLOPs of one tile of one CTA (tile_m rows)
  double merged = 0;         // 1 when the keys are split (a merge runs), else 0
  double merge_waves = 0;
  double merge_steps = 0;    // merge waves * dependent L2 round trips of one merge thread
  double merge_bytes = 0;    // fp32 partials written by the split kernel and read by the merge
};

// Throws InputError when the work has problems() (no sequences, sizes < 1 or past the limits).
WorkFeatures work_features(const DecodeWork& work);

// Physical meaning of each fitted parameter, in the order of the arrays below.
struct SplitKvParams {
  double launch_s = 5e-6;          // graph launch to the end of the split kernel, nothing to do
  double cta_start_s = 2e-6;       // per wave: a CTA's start-up chain (Q load, first tile)
  double bw_efficiency = 0.9;      // sustained fraction of the measured read ceiling
  double sm_bandwidth_Bps = 40e9;  // bytes per second one SM can pull in (its loads in flight)
  double mem_latency_s = 2e-6;     // loaded latency of one tile's loads, as one CTA sees it
  double sm_flops_per_s = 3e12;    // tensor rate one SM sustains inside the kernel's tile loop
  double merge_launch_s = 3e-6;    // the merge kernel's fixed cost
  double merge_wave_s = 2e-6;      // per wave of merge CTAs
  double merge_step_s = 0.5e-6;    // one dependent L2 round trip of a merge thread (per wave)
  static constexpr std::size_t kCount = 9;
  std::array<double, kCount> to_array() const;
  static SplitKvParams from_array(std::span<const double> a);
};
inline constexpr std::array<std::string_view, SplitKvParams::kCount> kSplitKvParamNames = {
    "launch_s",      "cta_start_s",    "bw_efficiency",  "sm_bandwidth_Bps",
    "mem_latency_s", "sm_flops_per_s", "merge_launch_s", "merge_wave_s",
    "merge_step_s"};

struct PlanFreeParams {
  double fixed_s = 10e-6;          // launches, start-up and tail of the whole call
  double per_sequence_s = 0.1e-6;  // per sequence in the batch (scheduling, Q load, epilogue)
  double bw_efficiency = 0.8;      // sustained fraction of the measured read ceiling
  double flops_per_s = 400e12;     // sustained tensor rate of the whole GPU in this kernel
  static constexpr std::size_t kCount = 4;
  std::array<double, kCount> to_array() const;
  static PlanFreeParams from_array(std::span<const double> a);
};
inline constexpr std::array<std::string_view, PlanFreeParams::kCount> kPlanFreeParamNames = {
    "fixed_s", "per_sequence_s", "bw_efficiency", "flops_per_s"};

// Which term bounds a prediction.
enum class TimeBound { launch, memory, sm_compute, sm_feed, latency, merge };
std::string_view to_string(TimeBound b);

struct TimePrediction {
  double t_s = 0;
  TimeBound bound = TimeBound::memory;
};

// Precondition: f from work_features of a work whose plan is known.
TimePrediction predict_split_kv(const WorkFeatures& f, const SplitKvParams& p);
TimePrediction predict_plan_free(const WorkFeatures& f, const PlanFreeParams& p);

}  // namespace attnroof::model
