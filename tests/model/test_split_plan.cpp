// The split planner (model/split_plan.h): the even split's layout, the one-wave and split-length
// limits, agreement with the H200 planner probe (reports/kernels/h200/planner_probe/), and the
// monotonicity a planner needs (a larger batch must not look cheaper): over the benchmark grid, the
// planned time never falls when the batch grows, and never exceeds the unsplit time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "model/calibration.h"
#include "model/decode_cases.h"
#include "model/split_plan.h"
#include "model/time_model.h"

using namespace attnroof::model;

namespace {

// The benchmark's cases (model/decode_cases.h), each with its per-device kernel shape.
struct GridShape {
  std::string_view name;
  AttentionKernelShape kernel;
};
std::vector<GridShape> grid_shapes() {
  std::vector<GridShape> out;
  for (const DecodeCase& c : decode_cases()) out.push_back({c.name, decode_case_kernel(c)});
  return out;
}
const std::vector<GridShape> kGrid = grid_shapes();

DecodeWork grid_work(const GridShape& s, int64_t batch, int64_t ctx) {
  DecodeWork w;
  w.family = s.kernel.family;
  w.d_qk = s.kernel.d_qk;
  w.d_v = s.kernel.d_v;
  w.q_heads = s.kernel.q_heads;
  w.kv_heads = s.kernel.kv_heads;
  w.ctx_lens.assign(std::size_t(batch), ctx);
  return w;
}

std::shared_ptr<const CalibrationProfile> profile(const char* id) {
  auto p = find_builtin_calibration(id);
  REQUIRE(p != nullptr);
  return p;
}

// The calibrated time of the work with the planner's split, and with one split.
struct Planned {
  KernelPlan plan;
  double t_s = 0, one_split_s = 0;
};
Planned planned(const CalibrationProfile& prof, DecodeWork w) {
  const std::optional<PlannedWork> pw = plan_for(prof, w);
  const std::optional<TimePrediction> t = predict_attention(prof, w);
  REQUIRE(pw.has_value());
  REQUIRE(t.has_value());
  Planned out{.plan = pw->plan, .t_s = t->t_s};
  // The same work with one split, priced as predict_attention prices the planned one.
  w.read_ceiling_Bps = prof.read_ceiling_Bps;
  w.sm_clock_mhz = prof.typical_sm_clock_mhz;
  w.plan = pw->plan;
  const SplitPlan one = split_evenly(w.ctx_len_max(), 1, w.plan.tile_n);
  w.plan.n_splits = one.n_splits;
  w.plan.split_len = one.split_len;
  out.one_split_s = predict_split_kv(work_features(w), pw->params).t_s;
  return out;
}

}  // namespace

TEST_CASE("split_evenly: covers the context in tile multiples, no split empty", "[model][split]") {
  for (int64_t ctx : {0, 1, 63, 64, 257, 1000, 4097, 65537, 2000003}) {
    for (int64_t n : {-3, 0, 1, 2, 7, 132, 5000}) {
      for (int64_t tile : {32, 64, 128}) {
        const SplitPlan p = split_evenly(ctx, n, tile);
        INFO("ctx " << ctx << " n " << n << " tile " << tile);
        CHECK(p.split_len % tile == 0);
        CHECK(p.split_len >= tile);
        CHECK(p.n_splits >= 1);
        CHECK(p.n_splits <= std::max<int64_t>(n, 1));
        CHECK(p.n_splits * p.split_len >= ctx);
        if (ctx > 0) CHECK((p.n_splits - 1) * p.split_len < ctx);  // the last split has keys
      }
    }
  }
  CHECK(split_evenly(1 << 20, 132, 64).split_len == 8000);  // ceil(7943.8 / 64) x 64
  CHECK(split_evenly(1 << 20, 132, 64).n_splits == 132);
}

TEST_CASE("plan_splits: short contexts run as one split, longer ones in one wave of long splits",
          "[model][split]") {
  const auto prof = profile("h200_sxm");
  for (const GridShape& s : kGrid) {
    for (int64_t ctx : {1, 63, 255, 256}) {
      const KernelPlan p = planned(*prof, grid_work(s, 3, ctx)).plan;
      CHECK(p.n_splits == 1);
      CHECK(p.split_len >= ctx);
    }
    for (int64_t batch : {1, 3, 17, 64, 300}) {
      for (int64_t ctx : {257, 1000, 4097, 65537, 1 << 20}) {
        const KernelPlan p = planned(*prof, grid_work(s, batch, ctx)).plan;
        INFO(s.name << " batch " << batch << " ctx " << ctx << ": " << p.n_splits << " splits of "
                    << p.split_len);
        const int64_t head_blocks = (s.kernel.q_heads / s.kernel.kv_heads + p.tile_m - 1) / p.tile_m;
        const int64_t ctas = batch * s.kernel.kv_heads * head_blocks * p.n_splits;
        if (p.n_splits > 1) {
          CHECK(ctas <= p.sm_count * p.ctas_per_sm);
          CHECK(p.split_len >= kMinSplitLen);
        }
        CHECK(p.n_splits * p.split_len >= ctx);
        CHECK((p.n_splits - 1) * p.split_len < ctx);
      }
    }
  }
}

namespace {

// One probe file's graph medians, us, by (shape, batch, ctx), with the splits that ran.
struct ProbeTime {
  int64_t n_splits = 0;
  double us = 0;
};
std::map<std::tuple<std::string, int64_t, int64_t>, ProbeTime> read_probe(const std::string& file) {
  std::ifstream in(std::string(ATTNROOF_SOURCE_DIR) + "/reports/kernels/h200/planner_probe/" + file);
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  REQUIRE(line.rfind("shape,batch,ctx,layout,kernel,n_splits,time_us_events,time_us_graph,", 0) == 0);
  std::map<std::tuple<std::string, int64_t, int64_t>, ProbeTime> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; f.size() < 8 && std::getline(ss, cell, ',');) f.push_back(cell);
    REQUIRE(f.size() == 8);
    out[{f[0], std::stoll(f[1]), std::stoll(f[2])}] = {std::stoll(f[5]), std::stod(f[7])};
  }
  return out;
}

}  // namespace

TEST_CASE("plan_splits never loses to no planning on the measured H200 planner probe", "[model][split]") {
  // reports/kernels/h200/planner_probe/round6_merge/: MLA (64 heads) and MLA-128 at batch
  // 16..128 x ctx 1K..8K, measured on an H200 with the few-splits merge in three plans: the
  // one-wave fill plan (planned.csv), one split (one_split.csv) and 128-key splits
  // (split_len128.csv). Where the plan chosen from the calibrated profile is one of those, it
  // must run, as measured, within 10% of the fastest of the three (the repeat noise is ~2%), so
  // never lose to one split by more than that; the points it plans otherwise are counted.
  const auto prof = profile("h200_sxm");
  const auto fill = read_probe("round6_merge/planned.csv");
  const auto one = read_probe("round6_merge/one_split.csv");
  const auto split128 = read_probe("round6_merge/split_len128.csv");
  REQUIRE(fill.size() == 32);
  int splits_taken = 0, unmeasured = 0;
  for (const auto& [key, one_split] : one) {
    const auto& [shape, batch, ctx] = key;
    const GridShape& s = shape == "mla" ? kGrid[1] : kGrid[4];
    REQUIRE(std::string(s.name) == shape);
    const Planned p = planned(*prof, grid_work(s, batch, ctx));
    const ProbeTime& f = fill.at(key);
    INFO(shape << " b" << batch << " ctx " << ctx << ": plan " << p.plan.n_splits << " splits; measured "
                << f.n_splits << " splits " << f.us << " us, one split " << one_split.us << " us");
    REQUIRE(one_split.n_splits == 1);
    const ProbeTime& forced = split128.at(key);
    const double best = std::min({f.us, one_split.us, forced.us});
    const double chosen = p.plan.n_splits == 1               ? one_split.us
                          : p.plan.n_splits == f.n_splits      ? f.us
                          : p.plan.n_splits == forced.n_splits ? forced.us
                                                               : 0;
    if (chosen > 0) {
      CHECK(chosen <= 1.10 * best);
    } else {
      ++unmeasured;  // a split count the probe did not run: priced, not measured
      UNSCOPED_INFO("unmeasured plan: " << shape << " b" << batch << " ctx " << ctx << " "
                                        << p.plan.n_splits << " splits");
    }
    splits_taken += p.plan.n_splits > 1;
  }
  WARN(unmeasured << " of 32 probe points planned with a split count the probe did not run");
  CHECK(unmeasured <= 8);
  // The probe has both kinds of point: splits pay at small batches, one split at large ones.
  CHECK(splits_taken >= 8);
  CHECK(splits_taken <= 24);
  // And batch 1 keeps its many splits (the short-context lead over FlashMLA).
  CHECK(planned(*prof, grid_work(kGrid[1], 1, 65536)).plan.n_splits >= 64);
}

TEST_CASE("plan_splits: over the benchmark grid, planned time never falls as the batch grows",
          "[model][split]") {
  const int64_t batches[] = {1, 2, 4, 8, 16, 32, 64, 128};
  for (const char* id : {"h100_sxm", "h200_sxm"}) {
    const auto prof = profile(id);
    for (const GridShape& s : kGrid) {
      for (int64_t ctx = 1024; ctx <= (int64_t(1) << 21); ctx *= 2) {
        double previous = 0;
        int64_t previous_batch = 0;
        for (int64_t batch : batches) {
          const DecodeWork w = grid_work(s, batch, ctx);
          if (w.min_bytes() > 40e9) break;  // the benchmark's --max-cache-gb
          const Planned p = planned(*prof, w);
          INFO(id << " " << s.name << " ctx " << ctx << " batch " << batch << ": " << p.plan.n_splits
                  << " splits, " << p.t_s * 1e6 << " us; batch " << previous_batch << ": "
                  << previous * 1e6 << " us; one split " << p.one_split_s * 1e6 << " us");
          CHECK(p.t_s >= previous);
          CHECK(p.t_s <= p.one_split_s);
          previous = p.t_s;
          previous_batch = batch;
        }
      }
    }
  }
}
