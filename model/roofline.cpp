#include "model/roofline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/calibration.h"
#include "model/error.h"

namespace attnroof::model {

std::string_view to_string(Bound b) {
  switch (b) {
    case Bound::memory: return "memory";
    case Bound::compute: return "compute";
    case Bound::overhead: return "overhead";
    case Bound::communication: return "communication";
  }
  return "?";
}

CommEstimate estimate_collective(const Collective& c, double bytes, int64_t tp, const Hardware& hw) {
  CommEstimate out{.collective = c, .algorithm = "none", .bytes = bytes, .t_s = 0};
  if (tp <= 1 || c.count == 0) return out;
  const double t = double(tp);
  const double alpha = hw.efficiency.collective_latency_s;
  const double bw = hw.link_bytes_per_s * hw.efficiency.link;
  double ring = 0;
  switch (c.kind) {
    case CollectiveKind::all_reduce:
      // Ring: reduce-scatter then all-gather, 2(t-1) steps each moving bytes/t per device.
      ring = 2 * (t - 1) * alpha + 2 * (t - 1) / t * bytes / bw;
      break;
    case CollectiveKind::reduce_scatter:
    case CollectiveKind::all_gather:
      ring = (t - 1) * alpha + (t - 1) / t * bytes / bw;
      break;
    case CollectiveKind::all_to_all:
      // Each device sends (t-1)/t of its buffer, to every peer at once: one latency.
      ring = alpha + (t - 1) / t * bytes / bw;
      break;
  }
  out.algorithm = c.kind == CollectiveKind::all_to_all ? "direct" : "ring";
  double best = ring;
  if (c.kind == CollectiveKind::all_reduce) {
    // One-shot: every device reads the other t-1 buffers in full and reduces locally; one
    // latency instead of 2(t-1), so it wins for small (latency-bound) messages.
    const double one_shot = alpha + (t - 1) * bytes / bw;
    if (one_shot < ring) {
      best = one_shot;
      out.algorithm = "one_shot";
    }
  }
  out.t_s = best * double(c.count);
  return out;
}

namespace {

// The calibrated time of the attention stage, when the hardware has a profile with a fit of the
// kernel family that would run it. A ragged point is known by its sum, maximum and minimum only:
// it is priced as one sequence of the maximum and the rest sharing the remainder evenly. A batch
// past kMaxScheduledCtas (one sequence per entry here, at least one CTA each there) is left to
// the roofline without building it.
std::optional<TimePrediction> calibrated_attention(const Cost& cost, const DecodePoint& point,
                                                   const Hardware& hw) {
  const AttentionKernelShape& k = cost.attention_kernel;
  if (!hw.calibration || !k.present || k.kv_heads < 1 || k.q_heads % k.kv_heads != 0)
    return std::nullopt;
  if (point.dtypes.kv != Dtype::bf16 && point.dtypes.kv != Dtype::fp16) return std::nullopt;
  if (point.batch > kMaxScheduledCtas) return std::nullopt;
  DecodeWork w;
  w.family = k.family;
  w.q_heads = k.q_heads;
  w.kv_heads = k.kv_heads;
  w.d_qk = k.d_qk;
  w.d_v = k.d_v;
  w.q_tokens = point.q_tokens;
  w.kv_elem_bytes = bytes_of(point.dtypes.kv);
  w.ctx_lens.assign(std::size_t(point.batch), point.ctx_len_max);
  if (point.batch > 1 && point.ctx_len_min != point.ctx_len_max) {
    const int64_t rest = (point.ctx_len_sum - point.ctx_len_max) / (point.batch - 1);
    std::fill(w.ctx_lens.begin() + 1, w.ctx_lens.end(), std::max<int64_t>(rest, point.q_tokens));
  }
  return predict_attention(*hw.calibration, std::move(w));
}

// The calibrated time of a projection or output stage: the sum over its GEMMs of the profile's
// per-GEMM fit (cuBLAS bf16, M = the step's tokens). Only when every op of the stage is a GEMM
// (it reads weights) in the probed formats.
std::optional<TimePrediction> calibrated_gemms(const Cost& cost, Stage stage, const DecodePoint& point,
                                               const Hardware& hw) {
  if (!hw.calibration || !hw.calibration->projection.present) return std::nullopt;
  const auto probed = [](Dtype d) { return d == Dtype::bf16 || d == Dtype::fp16; };
  if (!probed(point.dtypes.weight) || !probed(point.dtypes.act)) return std::nullopt;
  TimePrediction total{.t_s = 0, .bound = TimeBound::launch};
  double largest = -1;
  int gemms = 0;
  for (int i = 0; i < cost.n_ops; ++i) {
    const Op& op = cost.ops[std::size_t(i)];
    if (op.stage != stage) continue;
    if (!(op.weight_bytes > 0)) return std::nullopt;
    const auto t = predict_gemm(*hw.calibration, point.tokens(), op.bytes(), op.flops);
    if (!t) return std::nullopt;
    total.t_s += t->t_s;
    if (t->t_s > largest) {
      largest = t->t_s;
      total.bound = t->bound;
    }
    ++gemms;
  }
  if (gemms == 0) return std::nullopt;
  return total;
}

// floor(x) as a count >= 0, saturated at the int64 range (a 1-byte cache on a huge part could
// pass it).
int64_t whole_count(double x) {
  if (!(x >= 0)) return 0;
  return x >= 0x1p63 ? std::numeric_limits<int64_t>::max() : int64_t(std::floor(x));
}

Bound bound_of(TimeBound b) {
  switch (b) {
    case TimeBound::memory:
    case TimeBound::sm_feed:
    case TimeBound::latency: return Bound::memory;
    case TimeBound::sm_compute: return Bound::compute;
    case TimeBound::launch:
    case TimeBound::merge: return Bound::overhead;
  }
  return Bound::memory;
}

}  // namespace

Estimate estimate(const Cost& cost, const DecodePoint& point, const Hardware& hw) {
  if (!hw.supports(point.dtypes.act)) {
    throw InputError(fmt::format(
        "act_dtype = {} is not supported on {}: the part has no {} tensor-core format "
        "(its profile lists 0 FLOP/s); use bf16 or fp16",
        to_string(point.dtypes.act), hw.id, to_string(point.dtypes.act)));
  }
  Estimate e;
  const double bw = hw.hbm_bytes_per_s * hw.efficiency.hbm;
  const double peak = hw.peak_flops_per_s(point.dtypes.act) * hw.efficiency.tensor;
  double t_mem_total = 0, t_math_total = 0, t_overhead_total = 0;
  for (std::size_t i = 0; i < kAllStages.size(); ++i) {
    StageEstimate& s = e.stages[i];
    s.stage = kAllStages[i];
    s.flops = cost.flops(s.stage);
    s.bytes = cost.bytes(s.stage);
    s.intensity = intensity(s.flops, s.bytes);
    s.t_mem_s = s.bytes / bw;
    s.t_math_s = s.flops / peak;
    const bool runs = s.flops > 0 || s.bytes > 0;
    if (runs) {
      const auto t = s.stage == Stage::attention ? calibrated_attention(cost, point, hw)
                                                 : calibrated_gemms(cost, s.stage, point, hw);
      if (t) {
        s.t_s = t->t_s;
        s.bound = bound_of(t->bound);
        s.calibration = hw.calibration->source;
        e.t_compute_s += s.t_s;
        (s.bound == Bound::overhead  ? t_overhead_total
         : s.bound == Bound::compute ? t_math_total
                                     : t_mem_total) += s.t_s;
        continue;
      }
    }
    const double overhead = runs ? hw.efficiency.kernel_overhead_s : 0;
    const double body = std::max(s.t_mem_s, s.t_math_s);
    s.t_s = overhead + body;
    s.bound = overhead > body ? Bound::overhead
                              : (s.t_mem_s >= s.t_math_s ? Bound::memory : Bound::compute);
    e.t_compute_s += s.t_s;
    t_overhead_total += overhead;
    (s.t_mem_s >= s.t_math_s ? t_mem_total : t_math_total) += body;
  }
  const double act_bytes = bytes_of(point.dtypes.act);
  for (int i = 0; i < cost.n_collectives; ++i) {
    const Collective& c = cost.collectives[std::size_t(i)];
    e.comm[std::size_t(e.n_comm)] =
        estimate_collective(c, c.elems * act_bytes, c.group > 0 ? c.group : point.tp, hw);
    e.t_comm_s += e.comm[std::size_t(e.n_comm)].t_s;
    ++e.n_comm;
  }
  e.t_layer_s = e.t_compute_s + e.t_comm_s;
  const double largest = std::max({t_mem_total, t_math_total, t_overhead_total, e.t_comm_s});
  e.bound = largest == t_mem_total      ? Bound::memory
            : largest == t_math_total   ? Bound::compute
            : largest == e.t_comm_s     ? Bound::communication
                                        : Bound::overhead;
  return e;
}

Capacity capacity(const AttentionVariant& variant, int64_t n_layers, double other_params,
                  const DecodePoint& point, const Hardware& hw) {
  return capacity_holding(variant, n_layers, other_params / double(point.tp), point, hw);
}

Capacity capacity_holding(const AttentionVariant& variant, int64_t n_layers, double other_params_on_device,
                          const DecodePoint& point, const Hardware& hw) {
  Capacity c;
  const double layers = double(n_layers);
  const double kv_per_token = double(variant.kv_elems_per_token(point.tp)) * layers *
                              bytes_of(point.dtypes.kv);
  c.weight_bytes = (variant.weight_params(point.tp) * layers + other_params_on_device) *
                   bytes_of(point.dtypes.weight);
  c.kv_bytes = kv_per_token * double(point.ctx_len_sum);
  c.reserved_bytes = hw.reserved_bytes;
  c.total_bytes = c.weight_bytes + c.kv_bytes + c.reserved_bytes;
  c.capacity_bytes = hw.hbm_capacity_bytes;
  c.fits = c.total_bytes <= c.capacity_bytes;
  const double free_bytes = std::max(0.0, c.capacity_bytes - c.weight_bytes - c.reserved_bytes);
  c.max_batch = whole_count(free_bytes / (kv_per_token * double(point.ctx_len_max)));
  c.max_ctx_len = whole_count(free_bytes / (kv_per_token * double(point.batch)));
  return c;
}

}  // namespace attnroof::model
