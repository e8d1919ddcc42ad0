#include "model/time_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>

#include "model/checked_math.h"
#include "model/error.h"
#include "model/json_reader.h"

namespace attnroof::model {

namespace {

double soft_max(std::initializer_list<double> terms) {
  static_assert(kSoftMaxPower == 6, "the powers below are written out for p = 6");
  double largest = 0;
  for (double t : terms) largest = std::max(largest, t);
  if (largest <= 0) return 0;
  double sum = 0;  // scaled by the largest term: no overflow; x^6 by multiplication (the fit
                   // evaluates this millions of times, and std::pow dominated its run time)
  for (double t : terms) {
    const double x = t / largest, x3 = x * x * x;
    sum += x3 * x3;
  }
  return largest * std::cbrt(std::sqrt(sum));
}

struct SmLoad {
  int64_t tiles = 0;  // tiles of the busiest SM
  int64_t ctas = 0;   // non-empty CTAs it ran
  // Tiles of the busiest slot: the CTAs one slot runs follow each other, so this is the longest
  // chain of dependent tile loads in the launch (with ragged lengths the scheduler packs short
  // CTAs behind long ones, so it is less than waves x the longest CTA).
  int64_t slot_tiles = 0;
};

// The busiest SM when the CTAs (each with its tile count, in launch order) are handed to the
// first free slot, as the hardware's block scheduler does; slot s lives on SM s % sms. A CTA with
// no tiles (a split past its sequence's end) exits at once.
SmLoad busiest_sm(const std::vector<int64_t>& cta_tiles, int64_t sms, int64_t ctas_per_sm) {
  // Slots past the number of CTAs are never taken (the lowest free slot goes first).
  const int64_t slots =
      std::min<int64_t>(sms * ctas_per_sm, std::max<int64_t>(int64_t(cta_tiles.size()), 1));
  using Slot = std::pair<int64_t, int64_t>;  // (tiles so far, slot index)
  std::priority_queue<Slot, std::vector<Slot>, std::greater<>> free_at;
  for (int64_t s = 0; s < slots; ++s) free_at.push({0, s});
  std::vector<SmLoad> load(static_cast<std::size_t>(std::min(sms, slots)));
  for (int64_t tiles : cta_tiles) {
    if (tiles == 0) continue;
    auto [t, s] = free_at.top();
    free_at.pop();
    SmLoad& sm = load[std::size_t(s % sms)];
    sm.tiles += tiles;
    sm.ctas += 1;
    free_at.push({t + tiles, s});
  }
  SmLoad busiest = *std::max_element(load.begin(), load.end(), [](const SmLoad& a, const SmLoad& b) {
    return std::pair(a.tiles, a.ctas) < std::pair(b.tiles, b.ctas);
  });
  while (!free_at.empty()) {
    busiest.slot_tiles = std::max(busiest.slot_tiles, free_at.top().first);
    free_at.pop();
  }
  return busiest;
}

}  // namespace

std::string_view to_string(KernelFamily f) {
  return f == KernelFamily::separate_kv ? "separate_kv" : "shared_latent";
}

KernelFamily parse_kernel_family(std::string_view name, std::string_view field) {
  for (KernelFamily f : kAllKernelFamilies)
    if (to_string(f) == name) return f;
  throw InputError(fmt::format("{}: '{}' is not a kernel family; valid: separate_kv (K and V rows "
                               "per KV head: MHA, MQA, GQA), shared_latent (one latent row used "
                               "as K and V: MLA, GLA, MLRA, TPLA)",
                               field, excerpt(name)));
}

std::string_view to_string(TimeBound b) {
  switch (b) {
    case TimeBound::launch: return "launch";
    case TimeBound::memory: return "memory";
    case TimeBound::sm_compute: return "sm_compute";
    case TimeBound::sm_feed: return "sm_feed";
    case TimeBound::latency: return "latency";
    case TimeBound::merge: return "merge";
  }
  return "?";
}

int64_t DecodeWork::ctx_len_max() const {
  return ctx_lens.empty() ? 0 : *std::max_element(ctx_lens.begin(), ctx_lens.end());
}

double DecodeWork::ctx_len_sum() const {
  return std::accumulate(ctx_lens.begin(), ctx_lens.end(), 0.0,
                         [](double s, int64_t c) { return s + double(c); });
}

double DecodeWork::cache_row_bytes() const {
  const double per_head = double(d_qk) + (family == KernelFamily::separate_kv ? double(d_v) : 0.0);
  return double(kv_heads) * per_head * kv_elem_bytes;
}

double DecodeWork::min_bytes() const {
  const double rows = double(batch()) * double(q_tokens) * double(q_heads);
  return ctx_len_sum() * cache_row_bytes() + rows * (2.0 * (double(d_qk) + double(d_v)) + 4.0);
}

double DecodeWork::flops() const {
  // Query token j of a sequence of length L attends L - (q_tokens - 1 - j) keys.
  const double s = double(q_tokens);
  const double pairs = s * ctx_len_sum() - double(batch()) * s * (s - 1.0) / 2.0;
  return 2.0 * pairs * double(q_heads) * (double(d_qk) + double(d_v));
}

std::optional<int64_t> DecodeWork::launch_ctas() const {
  const auto rows = product_if_fits(q_heads / kv_heads, q_tokens);  // query rows per KV unit
  if (!rows) return std::nullopt;
  auto ctas = product_if_fits(kv_heads, ceil_div(*rows, plan.tile_m));
  if (ctas) ctas = product_if_fits(*ctas, plan.n_splits);
  if (ctas) ctas = product_if_fits(*ctas, batch());
  return ctas;
}

std::vector<std::string> DecodeWork::problems() const {
  std::vector<std::string> bad;
  if (ctx_lens.empty()) bad.push_back("no sequences (batch 0)");
  if (batch() > kMaxScheduledCtas) {
    bad.push_back(fmt::format("batch {} is past {} sequences: each runs at least one CTA, and at "
                              "most {} are scheduled",
                              batch(), kMaxScheduledCtas, kMaxScheduledCtas));
  }
  for (int64_t c : ctx_lens) {
    if (c < q_tokens) {
      bad.push_back(fmt::format("ctx_len {} < q_tokens {}", c, q_tokens));
      break;
    }
    if (c > kMaxKernelSize) {
      bad.push_back(
          fmt::format("ctx_len {} is past {}, the kernels' int32 range", c, kMaxKernelSize));
      break;
    }
  }
  const auto in_range = [](int64_t v) { return v >= 1 && v <= kMaxKernelSize; };
  if (!in_range(q_heads) || !in_range(kv_heads) || !in_range(d_qk) || !in_range(d_v) ||
      !in_range(q_tokens)) {
    bad.push_back(fmt::format("q_heads {}, kv_heads {}, d_qk {}, d_v {}, q_tokens {}: each must "
                              "be in [1, {}]",
                              q_heads, kv_heads, d_qk, d_v, q_tokens, kMaxKernelSize));
  } else if (q_heads % kv_heads != 0) {
    bad.push_back(fmt::format("q_heads {} is not a multiple of kv_heads {}", q_heads, kv_heads));
  }
  if (!(read_ceiling_Bps > 0)) bad.push_back("read ceiling unknown (must be > 0 B/s)");
  if (!bad.empty() || !plan.known()) return bad;
  const KernelPlan& p = plan;
  if (std::max({p.tile_m, p.tile_n, p.stages, p.ctas_per_sm, p.sm_count, p.n_splits, p.split_len}) >
      kMaxKernelSize) {
    bad.push_back(fmt::format("plan tile_m {}, tile_n {}, stages {}, ctas_per_sm {}, sm_count {}, "
                              "n_splits {}, split_len {}: each must be at most {}",
                              p.tile_m, p.tile_n, p.stages, p.ctas_per_sm, p.sm_count, p.n_splits,
                              p.split_len, kMaxKernelSize));
    return bad;
  }
  const auto ctas = launch_ctas();
  if (!ctas || *ctas > kMaxScheduledCtas) {
    bad.push_back(fmt::format("the launch has {} CTAs (batch {} x KV units {} x head blocks x "
                              "splits {}); at most {} are scheduled",
                              ctas ? std::to_string(*ctas) : "more than 2^63", batch(), kv_heads,
                              p.n_splits, kMaxScheduledCtas));
  }
  return bad;
}

WorkFeatures work_features(const DecodeWork& w) {
  throw_if_problems("time model: bad decode work", w.problems());

  WorkFeatures f;
  f.bytes = w.min_bytes();
  f.flops = w.flops();
  f.read_ceiling_Bps = w.read_ceiling_Bps;
  if (w.sm_clock_mhz > 0) f.clock_ratio = w.sm_clock_mhz / kReferenceSmClockMhz;
  f.batch = double(w.batch());
  const KernelPlan& p = w.plan;
  if (!p.known()) return f;
  const int64_t rows = w.q_heads / w.kv_heads * w.q_tokens;  // query rows per KV unit
  const int64_t head_blocks = ceil_div(rows, p.tile_m);
  const int64_t ctas = *w.launch_ctas();  // within kMaxScheduledCtas (problems())
  f.waves = double(ceil_div(ctas, p.sm_count * p.ctas_per_sm));
  // Tiles of a split of a sequence of ctx keys: a split past the sequence's end has none.
  const auto split_tiles = [&](int64_t ctx, int64_t split) {
    const int64_t begin = split * p.split_len;
    const int64_t keys = split + 1 == p.n_splits ? std::max<int64_t>(ctx - begin, 0)
                                                 : std::clamp<int64_t>(ctx - begin, 0, p.split_len);
    return ceil_div(keys, p.tile_n);
  };
  const bool uniform = std::all_of(w.ctx_lens.begin(), w.ctx_lens.end(),
                                   [&](int64_t c) { return c == w.ctx_lens.front(); });
  int64_t longest = 0;
  SmLoad busiest;
  if (uniform && ctas <= p.sm_count * p.ctas_per_sm) {
    // One wave of identical sequences (the sweeps' case; no split is empty): CTA i takes slot i,
    // which lives on SM i % sms, so SM j runs CTAs j, j + sms, ... The same answer as the
    // scheduler below, without building the CTA list for every sweep point.
    const int64_t ctx = w.ctx_lens.front();
    for (int64_t split = 0; split < p.n_splits; ++split) longest = std::max(longest, split_tiles(ctx, split));
    for (int64_t sm = 0; sm < std::min(p.sm_count, ctas); ++sm) {
      SmLoad load;
      for (int64_t i = sm; i < ctas; i += p.sm_count) {
        const int64_t tiles = split_tiles(ctx, (i / head_blocks) % p.n_splits);
        load.tiles += tiles;
        load.ctas += tiles > 0;
      }
      if (std::pair(load.tiles, load.ctas) > std::pair(busiest.tiles, busiest.ctas)) busiest = load;
    }
    busiest.slot_tiles = longest;  // one wave: each slot runs at most one CTA
  } else {
    // CTAs in launch order (grid x = head block, y = split, z = sequence x KV unit).
    std::vector<int64_t> cta_tiles;
    cta_tiles.reserve(std::size_t(ctas));
    for (int64_t ctx : w.ctx_lens)
      for (int64_t unit = 0; unit < w.kv_heads; ++unit)
        for (int64_t split = 0; split < p.n_splits; ++split) {
          const int64_t tiles = split_tiles(ctx, split);
          for (int64_t hb = 0; hb < head_blocks; ++hb) cta_tiles.push_back(tiles);
        }
    busiest = busiest_sm(cta_tiles, p.sm_count, p.ctas_per_sm);
  }
  f.busiest_sm_tiles = double(busiest.tiles);
  // Per KV unit: one row of the unit's K (and V) per key.
  const double unit_row_bytes = w.cache_row_bytes() / double(w.kv_heads);
  const double tile_bytes = double(p.tile_n) * unit_row_bytes;
  const double q_bytes = double(std::min(rows, p.tile_m)) * double(w.d_qk) * 2.0;
  f.busiest_sm_bytes = double(busiest.tiles) * tile_bytes + double(busiest.ctas) * (q_bytes + tile_bytes);
  f.tile_flops = 2.0 * double(p.tile_m) * double(p.tile_n) * double(w.d_qk + w.d_v);
  f.chain_tiles = double(busiest.slot_tiles) / double(std::max<int64_t>(p.stages - 1, 1));
  if (p.n_splits > 1) {
    const double out_rows = double(w.batch()) * double(w.q_tokens) * double(w.q_heads);
    f.merged = 1;
    // Few splits: a thread per 4 output columns walks the row's splits. Many: a CTA per 64
    // columns of a row, its 16 half-warps sharing the splits 4 at a time.
    const bool row_merge = p.n_splits <= kRowMergeMaxSplits;
    const double merge_ctas =
        row_merge ? std::ceil(out_rows * double(w.d_v) / 4.0 / double(kRowMergeThreads))
                  : out_rows * double(ceil_div(w.d_v, kMergeCols));
    const double steps_per_thread =
        row_merge ? double(p.n_splits) : double(ceil_div(p.n_splits, kMergeSplitsPerStep));
    f.merge_waves = std::ceil(merge_ctas / double(p.sm_count * kMergeCtasPerSm));
    f.merge_steps = f.merge_waves * steps_per_thread;
    f.merge_bytes = 2.0 * out_rows * double(p.n_splits) * double(w.d_v + 1) * 4.0;
  }
  return f;
}

std::array<double, SplitKvParams::kCount> SplitKvParams::to_array() const {
  return {launch_s,      cta_start_s,    bw_efficiency,  sm_bandwidth_Bps,
          mem_latency_s, sm_flops_per_s, merge_launch_s, merge_wave_s,
          merge_step_s};
}

SplitKvParams SplitKvParams::from_array(std::span<const double> a) {
  return SplitKvParams{.launch_s = a[0],
                       .cta_start_s = a[1],
                       .bw_efficiency = a[2],
                       .sm_bandwidth_Bps = a[3],
                       .mem_latency_s = a[4],
                       .sm_flops_per_s = a[5],
                       .merge_launch_s = a[6],
                       .merge_wave_s = a[7],
                       .merge_step_s = a[8]};
}

std::array<double, PlanFreeParams::kCount> PlanFreeParams::to_array() const {
  return {fixed_s, per_sequence_s, bw_efficiency, flops_per_s};
}

PlanFreeParams PlanFreeParams::from_array(std::span<const double> a) {
  return PlanFreeParams{
      .fixed_s = a[0], .per_sequence_s = a[1], .bw_efficiency = a[2], .flops_per_s = a[3]};
}

TimePrediction predict_split_kv(const WorkFeatures& f, const SplitKvParams& p) {
  const double bw = p.bw_efficiency * f.read_ceiling_Bps;
  const double t_mem = f.bytes / bw;
  const double t_sm = f.busiest_sm_tiles * f.tile_flops / (p.sm_flops_per_s * f.clock_ratio);
  const double t_chain = f.chain_tiles * p.mem_latency_s;
  const double t_feed = f.busiest_sm_bytes / (p.sm_bandwidth_Bps * f.clock_ratio);
  const double t_fixed = p.launch_s + f.waves * p.cta_start_s;
  const double t_merge =
      f.merged * (p.merge_launch_s + f.merge_waves * p.merge_wave_s +
                  f.merge_steps * p.merge_step_s + f.merge_bytes / bw);
  const double body = soft_max({t_mem, t_sm, t_feed, t_chain});
  TimePrediction out{.t_s = t_fixed + body + t_merge, .bound = TimeBound::memory};
  const double largest = std::max({t_fixed, t_mem, t_sm, t_feed, t_chain, t_merge});
  out.bound = largest == t_mem     ? TimeBound::memory
              : largest == t_sm    ? TimeBound::sm_compute
              : largest == t_feed  ? TimeBound::sm_feed
              : largest == t_chain ? TimeBound::latency
              : largest == t_merge ? TimeBound::merge
                                   : TimeBound::launch;
  return out;
}

TimePrediction predict_plan_free(const WorkFeatures& f, const PlanFreeParams& p) {
  const double t_mem = f.bytes / (p.bw_efficiency * f.read_ceiling_Bps);
  const double t_math = f.flops / p.flops_per_s;
  const double t_fixed = p.fixed_s + p.per_sequence_s * f.batch;
  TimePrediction out{.t_s = t_fixed + soft_max({t_mem, t_math}), .bound = TimeBound::memory};
  const double largest = std::max({t_fixed, t_mem, t_math});
  out.bound = largest == t_mem    ? TimeBound::memory
              : largest == t_math ? TimeBound::sm_compute
                                  : TimeBound::launch;
  return out;
}

}  // namespace attnroof::model
