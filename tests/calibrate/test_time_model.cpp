// The split-KV and plan-free time models: the plan's structure (waves, busiest SM, merge) drives
// the terms, every parameter has the effect its meaning says, and bad work is an input error.
#include <catch2/catch.hpp>

#include <algorithm>

#include "model/error.h"
#include "model/split_plan.h"
#include "model/time_model.h"

using namespace attnroof::model;

namespace {

// The MLA bench shape on 132 SMs, split to fill one wave of CTAs (the planner before the cost
// model chose its splits: the features below are counted for this plan).
DecodeWork mla_work(int64_t batch, int64_t ctx, int64_t q_heads = 64) {
  DecodeWork w;
  w.family = KernelFamily::shared_latent;
  w.q_heads = q_heads;
  w.kv_heads = 1;
  w.d_qk = 576;
  w.d_v = 512;
  w.ctx_lens.assign(std::size_t(batch), ctx);
  w.read_ceiling_Bps = 4.5e12;
  const int64_t head_blocks = (q_heads + 63) / 64;
  const int64_t fill = std::clamp<int64_t>(132 / (batch * head_blocks), 1,
                                             std::max<int64_t>(ctx / kMinSplitLen, 1));
  const SplitPlan s = split_evenly(ctx, ctx <= kNoSplitBelow ? 1 : fill, 64);
  w.plan = {.tile_m = 64, .tile_n = 64, .stages = 2, .ctas_per_sm = 1, .sm_count = 132,
            .n_splits = s.n_splits, .split_len = s.split_len};
  return w;
}

}  // namespace

TEST_CASE("features follow the plan", "[calibrate][time_model]") {
  const WorkFeatures f = work_features(mla_work(1, 1048576));
  CHECK(f.waves == 1);
  CHECK(f.merged == 1);
  // 132 splits of 7944 keys (a multiple of 64 after rounding): 125 tiles on the busiest SM.
  CHECK(f.busiest_sm_tiles == 125);
  CHECK(f.bytes == Approx(1048576.0 * 1152 + 64 * (2.0 * (576 + 512) + 4)));
  CHECK(f.flops == Approx(2.0 * 1048576 * 64 * (576 + 512)));
  const WorkFeatures one = work_features(mla_work(1, 200));  // below kNoSplitBelow: one split
  CHECK(one.merged == 0);
  CHECK(one.merge_bytes == 0);
  // Batch 128 of 64 heads: one split each, 128 CTAs in one wave of 132 slots; with 128 heads
  // (two 64-row head blocks) 256 CTAs need two waves.
  CHECK(work_features(mla_work(128, 65536)).waves == 1);
  CHECK(work_features(mla_work(128, 65536, 128)).waves == 2);
}

TEST_CASE("a ragged batch is bounded by its longest sequence's CTAs", "[calibrate][time_model]") {
  DecodeWork w = mla_work(4, 262144);
  const double uniform = work_features(w).busiest_sm_tiles;
  w.ctx_lens = {262144, 1024, 1024, 1024};
  const WorkFeatures ragged = work_features(w);
  CHECK(ragged.busiest_sm_tiles == uniform);  // the long sequence's splits are as long as before
  CHECK(ragged.bytes < work_features(mla_work(4, 262144)).bytes / 3.5);
}

TEST_CASE("each parameter moves the time the way its meaning says", "[calibrate][time_model]") {
  const SplitKvParams p;
  const WorkFeatures long_ctx = work_features(mla_work(1, 2097152));
  const WorkFeatures short_ctx = work_features(mla_work(1, 1024));
  const double t = predict_split_kv(long_ctx, p).t_s;
  SplitKvParams faster_dram = p;
  faster_dram.bw_efficiency *= 1.2;
  CHECK(predict_split_kv(long_ctx, faster_dram).t_s < t);
  SplitKvParams slow_launch = p;
  slow_launch.launch_s += 10e-6;
  CHECK(predict_split_kv(short_ctx, slow_launch).t_s ==
        Approx(predict_split_kv(short_ctx, p).t_s + 10e-6));
  SplitKvParams slow_merge = p;
  slow_merge.merge_launch_s += 5e-6;
  CHECK(predict_split_kv(short_ctx, slow_merge).t_s ==
        Approx(predict_split_kv(short_ctx, p).t_s + 5e-6));
  // Time grows with the context; at 2M the SM's tensor work binds the default parameters (as on
  // an H200: MLA reached 77% of the read ceiling), and DRAM once the SMs are fast enough.
  CHECK(predict_split_kv(work_features(mla_work(1, 65536)), p).t_s < t);
  CHECK(predict_split_kv(long_ctx, p).bound == TimeBound::sm_compute);
  SplitKvParams fast_sm = p;
  fast_sm.sm_flops_per_s = 1e14;
  fast_sm.sm_bandwidth_Bps = 1e12;
  CHECK(predict_split_kv(long_ctx, fast_sm).bound == TimeBound::memory);
  // A lower SM clock slows the per-SM compute term (and only when the clock is known).
  DecodeWork slow = mla_work(64, 8192);
  SplitKvParams compute_bound = p;
  compute_bound.sm_flops_per_s = 1e12;
  const double at_boost = predict_split_kv(work_features(slow), compute_bound).t_s;
  slow.sm_clock_mhz = kReferenceSmClockMhz / 2;
  CHECK(predict_split_kv(work_features(slow), compute_bound).t_s > 1.8 * at_boost);
}

TEST_CASE("plan-free form: fixed + per sequence + soft max of memory and math", "[calibrate][time_model]") {
  DecodeWork w = mla_work(8, 4096);
  w.plan = {};
  const WorkFeatures f = work_features(w);
  const PlanFreeParams p{.fixed_s = 5e-6, .per_sequence_s = 1e-7, .bw_efficiency = 0.8, .flops_per_s = 1e20};
  const double t_mem = f.bytes / (0.8 * 4.5e12);
  CHECK(predict_plan_free(f, p).t_s == Approx(5e-6 + 8e-7 + t_mem));
}

TEST_CASE("malformed work is an input error", "[calibrate][time_model]") {
  DecodeWork w = mla_work(1, 4096);
  w.ctx_lens.clear();
  CHECK_THROWS_AS(work_features(w), attnroof::InputError);
  w = mla_work(1, 4096);
  w.read_ceiling_Bps = 0;
  CHECK_THROWS_WITH(work_features(w), Catch::Contains("read ceiling"));
  w = mla_work(1, 4096);
  w.q_tokens = 8;
  w.ctx_lens = {4};
  CHECK_THROWS_WITH(work_features(w), Catch::Contains("ctx_len 4 < q_tokens 8"));
}

TEST_CASE("the latency chain is the busiest slot's tiles, not waves x the longest CTA",
          "[calibrate][time_model]") {
  // 264 sequences, one split each, one CTA per SM: two waves of 132 CTAs. Uniform 64K keys: every
  // slot runs two 1024-tile CTAs one after the other.
  DecodeWork w = mla_work(264, 65536);
  REQUIRE(w.plan.n_splits == 1);
  const WorkFeatures uniform = work_features(w);
  CHECK(uniform.waves == 2);
  CHECK(uniform.chain_tiles == 2 * 1024);  // 2 stages: one tile in flight per CTA
  // The first 132 sequences 64K, the other 132 1K: the first wave is the long CTAs, and each
  // short one then takes a slot as it frees, so the chain is 1024 + 16 tiles, not 2 x 1024.
  for (std::size_t i = 132; i < w.ctx_lens.size(); ++i) w.ctx_lens[i] = 1024;
  const WorkFeatures ragged = work_features(w);
  CHECK(ragged.waves == 2);
  CHECK(ragged.chain_tiles == 1024 + 16);
  // One wave (132 sequences, one split each): the chain is the longest CTA.
  CHECK(work_features(mla_work(132, 65536)).chain_tiles == 1024);
}
