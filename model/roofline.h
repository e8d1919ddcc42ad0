// defines: Bound, StageEstimate, CommEstimate, Estimate, estimate, Capacity, capacity,
//          capacity_holding
//
// The estimator (docs/time-model.md "The estimator"): the attention stage of a variant our decode
// kernels implement is priced by the hardware's calibration profile when it has one
// (model/calibration.h: the fitted split-KV model of the kernel that would run, planned by the same
// plan_splits as the kernels; work past the sizes and CTA count that model schedules,
// kMaxKernelSize and kMaxScheduledCtas in model/time_model.h, is not calibrated); every other
// stage, and attention without a profile, costs
//   overhead + max(bytes / (bandwidth x eff_hbm), flops / (peak x eff_tensor))
// with the hardware profile's uncalibrated defaults, and reports which term bound it; collectives
// use an alpha-beta model per algorithm (ring for bandwidth, one-shot for latency-bound small
// messages; the faster is reported), uncalibrated.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "model/attention_variant.h"
#include "model/hardware.h"

namespace attnroof::model {

enum class Bound { memory, compute, overhead, communication };
std::string_view to_string(Bound b);

struct StageEstimate {
  Stage stage = Stage::projection;
  double flops = 0;
  double bytes = 0;
  double intensity = 0;  // FLOP per byte
  double t_mem_s = 0;
  double t_math_s = 0;
  double t_s = 0;        // overhead + max(t_mem, t_math), or the calibrated time
  Bound bound = Bound::memory;
  // The calibration profile that priced this stage (its source); empty: the roofline defaults.
  std::string_view calibration;
};

struct CommEstimate {
  Collective collective;
  std::string_view algorithm;  // "ring", "one_shot" or "direct" (all-to-all)
  double bytes = 0;            // message bytes (elems x act dtype)
  double t_s = 0;              // for all `count` collectives
};

struct Estimate {
  std::array<StageEstimate, 3> stages{};
  std::array<CommEstimate, Cost::kMaxCollectives> comm{};
  int n_comm = 0;
  double t_compute_s = 0;  // sum of stages
  double t_comm_s = 0;
  double t_layer_s = 0;    // per layer, per step
  Bound bound = Bound::memory;  // the bound of the largest term
};

// Throws InputError when the activation dtype has no tensor-core rate on `hw` (fp8 on A100).
Estimate estimate(const Cost& cost, const DecodePoint& point, const Hardware& hw);

// Alpha-beta time of `count` collectives of `bytes` each over `tp` devices; picks the faster of
// ring and one-shot and names it.
CommEstimate estimate_collective(const Collective& c, double bytes, int64_t tp, const Hardware& hw);

// Memory per device for a whole model: attention weights x layers + the rest of the model's
// weights split over tp + KV cache x layers + reserve.
struct Capacity {
  double weight_bytes = 0;
  double kv_bytes = 0;
  double reserved_bytes = 0;
  double total_bytes = 0;
  double capacity_bytes = 0;
  bool fits = false;
  int64_t max_batch = 0;    // at the point's ctx_len (0 when not even one sequence fits)
  int64_t max_ctx_len = 0;  // at the point's batch
};

Capacity capacity(const AttentionVariant& variant, int64_t n_layers, double other_params,
                  const DecodePoint& point, const Hardware& hw);
// The same with the parameters outside attention already placed: those one device holds.
Capacity capacity_holding(const AttentionVariant& variant, int64_t n_layers, double other_params_on_device,
                          const DecodePoint& point, const Hardware& hw);

}  // namespace attnroof::model
